"""Variables that Julia's inference gives a small numeric Union: an accumulator started as `0` and
updated with floats, a branch returning `1` on one path and `0.5` on the other.

A loop whose first iteration changes a variable's type runs that iteration before the loop
(peeled), which is exactly Julia's behaviour when the loop runs at least once. Where the type
really depends on run-time data (a loop that may run zero times, a branch), both values are
converted to their promotion, as the README documents, and `--emit typed` says so. Other Unions
(a number on one path, an array or tuple on the other) stay compile errors."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import assert_same
from jlhlo.frontend.diagnostics import JuliaError

import jlhlo

LEVELS = (0, 2)


def run_at(source: str, level: int, *args):
    f = jlhlo.load(source, filename="t.jl").function("main")
    lowered = f.lower(*args, optimize_level=level)
    return lowered.outputs(lowered.compile("cpu")(*lowered.host_inputs(args)))


def check(source: str, args: tuple, want) -> None:
    for level in LEVELS:
        try:
            assert_same(run_at(source, level, *args), want)
        except AssertionError as e:
            raise AssertionError(f"at -O{level}: {e}") from None


def typed(source: str, *args) -> str:
    return jlhlo.load(source, filename="t.jl").function("main").lower(*args, optimize_level=None).typed_text()


ACCUMULATORS = """
function main(x::Vector{Float64}, n::Int64, limit::Float64)
    s = 0
    for v in x
        s += v
    end
    t = 0
    for k in 1:n
        t += 0.5 * k
    end
    w = 1
    while w < limit
        w = w * 2.5
    end
    m = 0
    for i in eachindex(x)
        m = max(m, abs(x[i]))
    end
    return s, t, w, m
end"""


@pytest.mark.parametrize("n, limit", [(0, 0.5), (1, 1.0), (5, 100.0)])
def test_accumulators_started_as_integers(rng, n, limit):
    x = rng.standard_normal(4)
    w = 1.0
    if limit > 1:
        while w < limit:
            w *= 2.5
    # t and w may stay the integer from before the loop: promoted, so 0.0 and 1.0 where Julia has 0 and 1
    want = (np.float64(x.sum()), np.float64(0.5 * n * (n + 1) / 2), np.float64(w), np.float64(np.abs(x).max()))
    for level in LEVELS:
        got = run_at(ACCUMULATORS, level, x, n, limit)
        assert_same(got, want, rtol=1e-12)


def test_typed_output_names_the_promoted_variables(rng):
    text = typed(ACCUMULATORS, rng.standard_normal(4), 3, 2.0)
    lines = {ln.split("::")[0].strip(): ln for ln in text.splitlines() if "::" in ln}
    # the loop over x has a static length of 4: its first iteration makes s a Float64, as in Julia
    assert lines["s"].strip() == "s::Float64"
    assert lines["m"].strip() == "m::Float64"
    assert lines["t"].strip() == "t::Float64  (promoted from Union{Float64, Int64})"
    assert lines["w"].strip() == "w::Float64  (promoted from Union{Float64, Int64})"


def test_peeled_first_iteration_keeps_integer_semantics():
    # the first iteration runs with Julia's Int: 7 ÷ 2 is 3 and typemax wraps, before p becomes a float
    src = """
function main(x::Float64)
    p = 7
    for i in 1:3
        p = p ÷ 2 + x
    end
    q = typemax(Int64)
    for i in 1:2
        q = (q + 1) / 2
    end
    return p, q
end"""
    x = 0.25
    p = 7 // 2 + x
    for _ in range(2):
        p = np.floor(p / 2) + x
    q = (-(2.0**63)) / 2
    q = (q + 1) / 2
    check(src, (x,), (np.float64(p), np.float64(q)))


def test_peeled_iteration_with_break_local_variables_and_nesting(rng):
    src = """
function main(v::Vector{Float64})
    s = 0
    for x in v
        y = 2x
        s += y
        s > 3 && break
    end
    total = 0
    for j in 1:2
        inner = 0
        for x in v
            inner += x * j
        end
        total += inner
    end
    return s, total
end"""
    v = np.abs(rng.standard_normal(6)) + 0.5
    s = 0.0
    for x in v:
        s += 2 * x
        if s > 3:
            break
    check(src, (v,), (np.float64(s), np.float64(3 * v.sum())))


def test_a_variable_that_becomes_an_array_in_the_first_iteration(rng):
    src = """
function main(x::Vector{Float64})
    acc = 0
    for k in 1:3
        acc = acc .+ k .* x
    end
    return acc
end"""
    x = rng.standard_normal(3)
    check(src, (x,), 6 * x)


def test_a_one_iteration_loop_is_only_its_peeled_iteration(rng):
    # `for i in 1:1` whose iteration changes a type: nothing is left to loop over, in the value and
    # in its gradient (a zero-trip loop under withgradient once failed to build; difftest seed 3005)
    src = """
function scale(q::Float64)
    s = 0
    for i in 1:1
        s += 1.5f0
    end
    return q * s
end
loss(x) = scale(x[1]) + sum(x)
function main(x::Vector{Float64})
    r = withgradient(loss, x)
    return r.val, r.grad[1]
end"""
    x = rng.standard_normal(3)
    assert "stablehlo.while" not in jlhlo.load(src, filename="t.jl").function("main").lower(x, optimize_level=None).as_text()
    check(src, (x,), (np.float64(1.5 * x[0] + x.sum()), np.array([2.5, 1.0, 1.0])))


def test_branches_promote_to_the_common_number_type():
    src = """
f(a) = a > 0 ? 1 : 0.5
function g(a)
    if a > 1
        return 2
    end
    return 0.25f0
end
function firstbig(v)
    for i in eachindex(v)
        if v[i] > 2
            return i
        end
    end
    return 0.0
end
function main(a::Float64, v::Vector{Float64})
    k = a > 1 ? true : 3
    if a < 0
        r = 1
    else
        r = 2.5
    end
    return f(a) + 1, g(a), k, r, firstbig(v)
end"""
    v = np.array([1.0, 3.0, 5.0])
    check(src, (2.0, v), (np.float64(2.0), np.float32(2.0), np.int64(1), np.float64(2.5), np.float64(2.0)))
    check(src, (-1.0, v[:1]), (np.float64(1.5), np.float32(0.25), np.int64(3), np.float64(1.0), np.float64(0.0)))
    text = typed(src, 2.0, v)
    assert "r::Float64  (promoted from Union{Float64, Int64})" in text
    assert "return::Float32  (promoted from Union{Float32, Int64})" in text
    assert "(the value at 2:8)::Float64  (promoted from Union{Float64, Int64})" in text


@pytest.mark.parametrize("body, message", [
    ("v = 0\n    for i in 1:n\n        v = [1.0, x]\n    end\n    return v",
     "`v` is Int64 = 0 before the loop and 2-element Vector{Float64} after its first iteration, "
     "and the loop may run zero times"),
    ("r = x > 0 ? 1 : (1, 2)\n    return r",
     "the value of this expression is Int64 = 1 on one branch and Tuple{Int64, Int64} on the other"),
    ("v = 0\n    for i in 1:3\n        v = i == 1 ? [1.0] : 2\n    end\n    return v",
     "the value of this expression is 1-element Vector{Float64} on one branch and Int64 = 2 on the other"),
])
def test_other_unions_stay_errors(body, message):
    src = f"function main(x::Float64, n::Int64)\n    {body}\nend"
    with pytest.raises(JuliaError, match="type instability") as e:
        typed(src, 1.0, 2)
    assert message in str(e.value)


def test_a_loop_that_returns_in_its_first_iteration_after_changing_a_type():
    # the first iteration makes s a Float32 and then certainly returns: the loop is peeled, and the
    # code after it (which would see s as an Int) is never reached (difftest seed 31)
    src = """
function main(X::Matrix{Float32}, x::Vector{Int64})
    s = 0
    for i in 2:3
        s -= X[i] + -0.5f0
        if -2.0 <= sqrt(abs(0.2)) <= 1.5
            return ([7 for j in eachindex(x)], X[i, 3] + s)
        end
    end
    return (x, s)
end"""
    X = np.arange(9, dtype=np.float32).reshape(3, 3)
    x = np.array([1, 2])
    s = np.float32(0) - (X.flatten(order="F")[1] - np.float32(0.5))
    check(src, (X, x), (np.array([7, 7]), np.float32(X[1, 2] + s)))
