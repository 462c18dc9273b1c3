"""Differential test: random well-defined Julia programs, compiled by jlhlo at -O0, -O1 and -O2,
against an independent NumPy reference of Julia's semantics (tests/difftest).

A fixed set of seeds, so a failure reproduces: `python bench/difftest.py --ci --seed <SEED>
--count <COUNT> --batch <BATCH> --shrink --save DIR` reruns this test's programs and minimizes the
failures. The test fails for every wrong answer (value, dtype, shape, or a run-time error Julia would not raise),
every internal compiler error and every rejection of a program inside the subset, except for the
categories `difftest.features.CI_OFF` switches off (each one a known, reported gap)."""
from __future__ import annotations

import numpy as np
import pytest
from difftest import jlref as R
from difftest import model as M
from difftest import report
from difftest.features import Features
from difftest.jtypes import F64, INT
from difftest.render import JuliaRenderer
from difftest.runner import run_campaign

SEED = 7
COUNT = 300
# programs per compiled module: fewer, larger modules cost XLA less in all (300 programs at three
# levels: 56 s against 61 s with 10); a failing batch is bisected down to its program either way
BATCH = 25


def test_random_programs_agree_with_reference() -> None:
    camp = run_campaign(SEED, COUNT, Features.ci(), batch_size=BATCH)
    assert not camp.gen.model_errors, "difftest's generator and reference disagree:\n" + "\n".join(camp.gen.model_errors)
    assert len(camp.results) == COUNT, f"only {len(camp.results)} of {COUNT} programs could be generated"
    failures = camp.failures()
    if failures or camp.combos:
        details = [report.describe(r) for r in failures] + [report.describe_group(g) for g in camp.combos]
        raise AssertionError(f"{report.summary(camp)}\n\nreproduce and shrink: python bench/difftest.py --ci "
                             f"--seed {SEED} --count {COUNT} --batch {BATCH} --shrink --save DIR\n\n"
                             + "\n\n".join(details))


# ----------------------------------------------------------------------------- the reference itself
# Julia facts the reference runtime must reproduce (from Julia's documentation); cheap, and they
# guard the oracle that the random programs are judged by.
def _reference_facts() -> list[tuple[str, object, object]]:
    nan = float("nan")
    A = np.asfortranarray(np.array([[1.0, 2.0], [3.0, 4.0]]))
    return [
        ("div truncates", R.idiv(R.i(-7), R.i(2)), R.i(-3)),
        ("rem takes the dividend's sign", R.rem(R.i(-7), R.i(2)), R.i(-1)),
        ("mod takes the divisor's sign", R.mod(R.i(-7), R.i(2)), R.i(1)),
        ("fld", R.fld(R.i(-7), R.i(2)), R.i(-4)),
        ("cld", R.cld(R.i(-7), R.i(2)), R.i(-3)),
        ("Int64 wraps", R.add(R.i(2**63 - 1), R.i(1)), R.i(-(2**63))),
        ("Float32 * Float64 is Float64", R.mul(R.f32(1.5), R.f(2.0)), R.f(3.0)),
        ("Float32 * Int64 is Float32", R.mul(R.f32(1.5), R.i(2)), R.f32(3.0)),
        ("Int / Int is Float64", R.fdiv(R.i(1), R.i(2)), R.f(0.5)),
        ("Bool + Bool is Int64", R.add(R.b(True), R.b(True)), R.i(2)),
        ("Bool * Bool is Bool", R.mul(R.b(True), R.b(True)), R.b(True)),
        ("false is a strong zero", R.mul(R.b(False), R.f(nan)), R.f(0.0)),
        ("false + -0.0 is -0.0", R.signbit(R.add(R.b(False), R.f(-0.0))), R.b(True)),
        ("NaN != NaN", R.eq(R.f(nan), R.f(nan)), R.b(False)),
        ("isequal(NaN, NaN)", R.isequal(R.f(nan), R.f(nan)), R.b(True)),
        ("-0.0 == 0.0", R.eq(R.f(-0.0), R.f(0.0)), R.b(True)),
        ("!isequal(-0.0, 0.0)", R.isequal(R.f(-0.0), R.f(0.0)), R.b(False)),
        ("-0.0 !== 0.0", R.egal(R.f(-0.0), R.f(0.0)), R.b(False)),
        ("-x^2 is -(x^2)", R.neg(R.literal_pow(R.f(3.0), 2)), R.f(-9.0)),
        ("(-x)^2", R.literal_pow(R.neg(R.f(3.0)), 2), R.f(9.0)),
        ("x^-1 is inv(x)", R.literal_pow(R.f(4.0), -1), R.f(0.25)),
        ("min propagates NaN", R.isnan(R.min_(R.f(nan), R.f(1.0))), R.b(True)),
        ("min(-0.0, 0.0) is -0.0", R.signbit(R.min_(R.f(0.0), R.f(-0.0))), R.b(True)),
        ("round ties to even", R.round_(R.f(2.5)), R.f(2.0)),
        ("linear indexing is column-major", R.getindex(A, R.i(2)), R.f(3.0)),
        ("5:-2:1", tuple(R.rng(R.i(5), R.i(-2), R.i(1))), (R.i(5), R.i(3), R.i(1))),
        ("3:2 is empty", len(R.rng(R.i(3), R.i(2))), 0),
        ("(2,2) .+ (2,) aligns the first dimension", tuple(R.bc(R.add, A, np.array([10.0, 20.0])).ravel()),
         (11.0, 12.0, 23.0, 24.0)),
        ("findfirst of nothing is nothing", R.findfirst(lambda v: R.gt(v, R.f(5.0)), np.array([1.0, 2.0])), None),
        ("findlast", R.findlast(np.array([True, True, False])), R.i(2)),
        ("something(nothing, d)", R.something(None, R.i(3)), R.i(3)),
        ("a filtered sum from init", R.sum_gen((v for v in (R.f(1.0), R.f(-2.0)) if v > 0), init=R.f32(0.5)),
         R.f(1.5)),
        ("2-D comprehension: first index fastest",
         tuple(R.comp(lambda i, j: R.sub(R.mul(R.i(10), i), j), R.rng(R.i(1), R.i(2)), R.rng(R.i(1), R.i(3)))
               .ravel(order="F")),
         (9, 19, 8, 18, 7, 17)),
        # forms of the later categories (if_expr, return_assign, splat, cartesian, pairs)
        ("max(v...) folds from the left", R.nary(R.max_, *R.splat(np.array([1.0, 3.0, 2.0]))), R.f(3.0)),
        ("max(x) of one argument is x", R.nary(R.max_, R.i(4)), R.i(4)),
        ("[A...] is column-major", tuple(R.vect(*R.splat(A))), (1.0, 3.0, 2.0, 4.0)),
        ("x[2] = 5 has the value 5, an Int", R.setindex_value(np.zeros(2), R.i(5), R.i(2)), R.i(5)),
        ("CartesianIndices: the first index fastest",
         tuple(tuple(int(k) for k in ix) for ix in R.CartesianIndices((R.i(2), R.i(2)))),
         ((1, 1), (2, 1), (1, 2), (2, 2))),
        ("A[I] with I = CartesianIndex(2, 1)", R.getindex(A, R.CartesianIndex((R.i(2), R.i(1)))), R.f(3.0)),
        ("LinearIndices(A)[1, 2]", R.getindex(R.LinearIndices(A), R.i(1), R.i(2)), R.i(3)),
        ("pairs(x): index and element", tuple((int(k), float(v)) for k, v in R.pairs(np.array([5.0, 6.0]))),
         ((1, 5.0), (2, 6.0))),
        # division rounded by a mode (the manual's examples for div, fld and cld)
        ("fld(6.0, 0.1) is 59.0 (the exact quotient)", R.fld(R.f(6.0), R.f(0.1)), R.f(59.0)),
        ("cld(3.0, 0.3) is 11.0", R.cld(R.f(3.0), R.f(0.3)), R.f(11.0)),
        ("fld(7.3, 5.5)", R.fld(R.f(7.3), R.f(5.5)), R.f(1.0)),
        ("div(5, 2, RoundNearest)", R.idiv(R.i(5), R.i(2), R.RoundNearest), R.i(2)),
        ("div(5, 2, RoundNearestTiesAway)", R.idiv(R.i(5), R.i(2), R.RoundNearestTiesAway), R.i(3)),
        ("div(-5, 2, RoundNearestTiesAway)", R.idiv(R.i(-5), R.i(2), R.RoundNearestTiesAway), R.i(-3)),
        ("div(-5, 2, RoundNearestTiesUp)", R.idiv(R.i(-5), R.i(2), R.RoundNearestTiesUp), R.i(-2)),
        ("div(-4, 3, RoundFromZero)", R.idiv(R.i(-4), R.i(3), R.RoundFromZero), R.i(-2)),
        ("rem(-7, 2, RoundDown) is mod", R.rem(R.i(-7), R.i(2), R.RoundDown), R.i(1)),
        ("fld(0.0, -1.0) is -0.0", R.signbit(R.fld(R.f(0.0), R.f(-1.0))), R.b(True)),
        ("cld(-0.0, -1.0) is 0.0", R.signbit(R.cld(R.f(-0.0), R.f(-1.0))), R.b(False)),
        ("mod(-2.0, 1.0) is 0.0", R.signbit(R.mod(R.f(-2.0), R.f(1.0))), R.b(False)),
        ("7.5 % -2 is 1.5", R.rem(R.f(7.5), R.i(-2)), R.f(1.5)),
        ("round(-2.5, RoundNearestTiesAway)", R.round_(R.f(-2.5), R.RoundNearestTiesAway), R.f(-3.0)),
        ("round(-2.5, RoundNearestTiesUp)", R.round_(R.f(-2.5), R.RoundNearestTiesUp), R.f(-2.0)),
        ("round(-0.3, RoundNearestTiesUp) is -0.0", R.signbit(R.round_(R.f(-0.3), R.RoundNearestTiesUp)), R.b(True)),
    ]


def test_reference_runtime_follows_julia() -> None:
    wrong = [f"{name}: got {got!r}, Julia gives {want!r}" for name, got, want in _reference_facts()
             if type(got) is not type(want) or not (got == want or (got != got and want != want))]
    assert not wrong, "\n".join(wrong)


def test_vec_aliases_like_julia() -> None:

    A = R.zeros(R.i(2), R.i(2))
    R.setindex(R.vec(A), R.f(5.0), R.i(2))           # vec shares memory: A[2, 1] changes
    assert A[1, 0] == 5.0 and isinstance(A, np.ndarray)


def test_julia_rendering_precedence() -> None:
    x = M.Var(t=F64, name="x")
    two = M.Lit(t=INT, value=2)
    r = JuliaRenderer(M.Program(abstracts=[], structs=[], functions=[], main=None, inputs={}))
    assert r.expr(M.Op(t=F64, op="-", args=[M.Op(t=F64, op="^", args=[x, two])])) == "-x ^ 2"
    assert r.expr(M.Op(t=F64, op="^", args=[M.Op(t=F64, op="-", args=[x]), two])) == "(-x) ^ 2"
    assert r.expr(M.Op(t=F64, op="^", args=[x, M.Lit(t=INT, value=-1)])) == "x ^ -1"
    assert r.expr(M.Juxt(t=F64, coef=two, e=M.Op(t=F64, op="^", args=[x, two]))) == "2x ^ 2"


def test_a_saved_combination_replays_with_its_inputs(tmp_path) -> None:
    # a failure seen only when programs share a file is useless without the inputs that showed it
    from conftest import cli
    from difftest.runner import GenStats, GroupFailure, LevelOutcome, make_cases
    cases = make_cases(7, 2, Features.ci(), GenStats())
    g = GroupFailure(cases, 2, LevelOutcome("internal", "boom", "Example"))
    path = report.save_group(g, str(tmp_path), "combination_1")
    inputs = np.load(tmp_path / "combination_1.inputs.npz")
    assert sorted(inputs.files) == sorted(f"a{k}_{p.name}" for k, c in enumerate(cases) for p in c.prog.main.params)
    r = cli(path, "--inputs", tmp_path / "combination_1.inputs.npz", "--run")
    assert r.status == 0, r


def test_an_exact_cancellation_is_tried_with_a_fused_multiply_adds_residue() -> None:
    # y - x*x*x with y = x*x*x is 0.0 in Julia; XLA's contraction into an FMA leaves the product's
    # rounding error, so a program whose answer hinges on that zero is fragile (seed 51020008760)
    x = R.f(1.211)
    cube = R.mul(R.mul(x, x), x)
    stats = R.reset()
    assert R.sub(cube, R.mul(R.mul(x, x), x)) == 0.0 and stats.cancellations == 1
    assert R.sub(R.f(3.0), R.f(3.0)) == 0.0 and stats.cancellations == 1    # integers cancel exactly anyway
    stats.perturb_cancellations = True
    assert 0.0 < R.sub(cube, cube) < 1e-15


def test_a_cancelled_sum_divided_by_zero_is_fragile() -> None:
    # seed 54030032400: sum(X3) after X3[2, k] -= sum(X3) is rounding noise, then divided by 0 gives
    # -Inf in the reference's order and NaN where XLA's order cancels to exactly 0.0
    R.reset()
    R.fdiv(R.f(1e3), R.f(0.0))           # a real value divided by zero is IEEE's Inf, no question
    with pytest.raises(R.Fragile):
        R.fdiv(R.f32(-2.4e-7), R.i(0))
    assert R.fdiv(R.f(0.0), R.f(0.0)) != R.fdiv(R.f(0.0), R.f(0.0))     # an exact 0 gives NaN


def test_a_gradient_at_a_branch_tie_is_not_checked_by_finite_differences() -> None:
    # seed 54030058441: `ifelse(cos(q) >= 1.0, a * q, -1 - a)` at q = 0.0 takes the first branch only
    # at q itself (reverse mode, Zygote too, differentiates it: 0 with a = 0); both finite-difference
    # steps take the other one (slope -1)
    from difftest.reference import finite_difference

    def loss(x):
        ones = R.ge(x, R.f(0.0)) and R.le(x, R.f(0.0))
        return R.mul(x, R.mul(R.f(0.0), x)) if ones else R.neg(x)
    stats = R.reset()
    f0 = loss(R.f(0.0))
    assert stats.ties == 2
    assert not finite_difference(loss, [R.f(0.0)], 0, float(f0), stats.ties).mask
    stats = R.reset()
    f0 = loss(R.f(0.5))                   # away from the tie the slope is checked
    checked = finite_difference(loss, [R.f(0.5)], 0, float(f0), stats.ties)
    assert checked.mask and abs(checked.value + 1.0) < 1e-6
