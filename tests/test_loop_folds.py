"""Loops that fold a value (sums, products, max/min, hand-written argmax, matvec and matmul by
accumulation) become array operations (frontend/vectorize.py, mlir_passes/contract.py).

Each kernel is written as a Julia user writes it and checked three ways on random inputs: against
a NumPy reference (dtype and shape exactly), against jlhlo's own sequential lowering of the same
loop (`vectorize=False`; integer, max/min and selection folds are exact and must agree bit for
bit), and by what the loop became (`Lowered.loop_notes`). Near misses — a value read
while it is folded, a recurrence, a body that may throw — must stay loops and still be right."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import assert_same, cli, write_jl

import jlhlo

# examples/loops.jl (the kernels bench/loops.py times) and more, each a pattern or a type case
EXAMPLE = (Path(__file__).resolve().parents[1] / "examples" / "loops.jl").read_text()
KERNELS = EXAMPLE + """
function find_largest(x)
    best = -Inf
    at = 0
    for i in eachindex(x)
        if x[i] > best
            best = x[i]
            at = i
        end
    end
    return best, at
end

function find_last_largest(x)
    best = -Inf
    at = 0
    for i in eachindex(x)
        if x[i] >= best
            best = x[i]
            at = i
        end
    end
    return best, at
end

function find_smallest_2d(A)
    best = Inf
    bi, bj = 0, 0
    for j in axes(A, 2), i in axes(A, 1)
        if best > A[i, j]
            best = A[i, j]
            bi = i
            bj = j
        end
    end
    return best, bi, bj
end

function all_positive(x)
    ok = true
    for i in eachindex(x)
        ok &= x[i] > 0
    end
    ok
end

function int_folds(v::Vector{Int64})
    s = 0
    p = 1
    b = 0
    for i in eachindex(v)
        s += v[i] * 3
        p *= v[i]
        b |= v[i]
    end
    return s, p, b
end

function int32_sum(v::Vector{Int32})
    s = Int32(0)
    for k in v
        s += k
    end
    s
end

function muladd_dot(x, y)
    s = 0.0
    for i in eachindex(x)
        s = muladd(x[i], y[i], s)
    end
    s
end

function widening(x::Vector{Float32})
    s = 0.0
    for v in x
        s += v
    end
    s
end

function int_start(x)
    s = 0
    for v in x
        s += 0.5v
    end
    s
end

function strided(x)
    s = 0.0
    for i in 1:3:length(x)
        s -= x[i]
    end
    s
end

function float_range()
    s = 0.0
    for t in 0.0:0.25:2.0
        s += t^2
    end
    s
end

function several(x, y)
    s = 0.0
    m = -Inf
    for i in eachindex(x)
        y[i] = 2x[i]
        s += y[i]
        m = max(m, x[i])
    end
    return s, m, y
end

function matvec_t(A, x)
    y = zeros(size(A, 2))
    for j in axes(A, 2)
        for i in axes(A, 1)
            y[j] += A[i, j] * x[i]
        end
    end
    y
end

function rowmax(A)
    r = fill(-Inf, size(A, 1))
    for j in axes(A, 2), i in axes(A, 1)
        r[i] = max(r[i], A[i, j])
    end
    r
end

function newton_each(a)
    r = similar(a)
    steps = zeros(Int, length(a))
    for i in eachindex(a)
        x = a[i]
        n = 0
        while abs(x * x - a[i]) > 1e-12 * a[i] && n < 60
            x = (x + a[i] / x) / 2
            n += 1
        end
        r[i] = x
        steps[i] = n
    end
    return r, steps
end

function weighted_bins(x, w)
    h = zeros(3, 2)
    for i in eachindex(x)
        h[mod(i, 3) + 1, x[i] > 0 ? 1 : 2] -= w[i]
    end
    h
end

function inner_break(x)
    s = 0.0
    for i in 1:5
        n = 0
        for j in 2:10
            x[j] > 0.5 && break
            n += 1
        end
        s += n * x[i]
    end
    s
end

function branchy(x)
    s = 0.0
    for i in eachindex(x)
        s += x[i] > 0 ? sqrt(x[i]) : -x[i]
    end
    s
end
"""

NEAR_MISSES = """
function prefix(x)
    y = similar(x)
    acc = 0.0
    for i in eachindex(x)
        acc += x[i]
        y[i] = acc
    end
    y
end

function recurrence(x)
    s = 0.0
    for i in eachindex(x)
        s = 0.5s + x[i]
    end
    s
end

function select_else(x)
    best = -Inf
    misses = 0
    for v in x
        if v > best
            best = v
        else
            misses += 1
        end
    end
    return best, misses
end

function capture_read(x)
    best = -Inf
    nxt = 0.0
    for i in 1:length(x)-1
        if x[i] > best
            best = x[i]
            nxt = x[i+1]
        end
    end
    return best, nxt
end

function stops(x)
    s = 0.0
    for v in x
        v < -1.5 && break
        s += v
    end
    s
end

function twice(x)
    s = 0.0
    for v in x
        s += v
        s *= 0.5
    end
    s
end

function read_back(A, x)
    y = zeros(size(A, 1))
    z = zeros(size(A, 1))
    for j in axes(A, 2), i in axes(A, 1)
        y[i] += A[i, j] * x[j]
        z[i] = y[i]
    end
    return y, z
end

function runtime_trips(x, n::Int64)
    s = 0.0
    for i in 1:n
        s += x[i]
    end
    s
end

function may_throw(x)
    s = 0.0
    for v in x
        v < -10 && error("too small")
        s += v
    end
    s
end

function seen_by_closure(x)
    s = 0.0
    f = () -> s
    y = similar(x)
    for i in eachindex(x)
        s += x[i]
        y[i] = f()
    end
    return s, y
end

function iterates_what_it_changes(h)
    for v in h
        h[mod(floor(Int, v), 3) + 1] += 1.0
    end
    h
end

function first_error_in_iteration_order(A)
    s = 0.0
    for i in axes(A, 1), j in axes(A, 2)
        s += A[i, j] > 0 ? sqrt(A[i, j] - 1.0) : log(A[i, j] + 10.0)
    end
    s
end

function prod_loop(x)
    p = 1.0
    for i in 1:length(x)
        p *= x[i]
    end
    p
end

function narrow_accumulator(A::Matrix{Float32})
    y = zeros(Float32, size(A, 1))
    for j in axes(A, 2), i in axes(A, 1)
        y[i] += A[i, j] * 0.1
    end
    y
end
"""


@pytest.fixture(scope="module")
def kernels():
    return jlhlo.load(KERNELS, filename="kernels.jl")


@pytest.fixture(scope="module")
def near():
    return jlhlo.load(NEAR_MISSES, filename="near.jl")


def _notes(program, name, *args, **options):
    return [text for _, text in program.function(name, **options).lower(*args, optimize_level=None).loop_notes]


def _line_of(source: str, text: str, after: str = "") -> int:
    """The line number of the first line containing `text` (after the line containing `after`)."""
    start = source.index(after) if after else 0
    return source.count("\n", 0, source.index(text, start)) + 1


def _seq(x0, f):
    """A left fold in float64, as the loop runs."""
    s = x0
    for v in f:
        s = s + v
    return s


def _case(rng):
    x = rng.standard_normal(37)
    y = rng.standard_normal(37)
    A = rng.standard_normal((6, 9))
    B = rng.standard_normal((9, 4))
    v = rng.integers(-2**40, 2**40, 23)
    small = rng.integers(-3, 4, 23)
    v32 = rng.integers(-2**30, 2**30, 40).astype(np.int32)
    x32 = rng.standard_normal(17).astype(np.float32)
    u = rng.uniform(0, 1, 200)
    first = int(np.argmax(x))
    last = len(x) - 1 - int(np.argmax(x[::-1]))
    bj, bi = divmod(int(np.argmin(A.T)), A.shape[0])          # column-major order: j outer, i inner
    i_mult = (small * 3).sum(), int(np.prod(small)), int(np.bitwise_or.reduce(small))
    with np.errstate(over="ignore"):
        big = ((v * 3).sum(), int(np.prod(v)), int(np.bitwise_or.reduce(v)))
    return [
        ("dot_loop", (x, y), np.float64(x @ y)),
        ("norm_loop", (x,), np.float64(np.sqrt((x ** 2).sum()))),
        ("absmax_loop", (x,), np.float64(np.abs(x).max())),
        ("find_largest", (x,), (np.float64(x.max()), np.int64(first + 1))),
        ("find_last_largest", (np.r_[x, x.max()],), (np.float64(x.max()), np.int64(len(x) + 1))),
        ("find_last_largest", (x,), (np.float64(x.max()), np.int64(last + 1))),
        ("find_smallest_2d", (A,), (np.float64(A.min()), np.int64(bi + 1), np.int64(bj + 1))),
        ("count_loop", (x,), np.int64((x > 0).sum())),
        ("all_positive", (x,), np.bool_((x > 0).all())),
        ("all_positive", (np.abs(x) + 0.1,), np.bool_(True)),
        ("int_folds", (small,), tuple(np.int64(k) for k in i_mult)),
        ("int_folds", (v,), tuple(np.int64(k) for k in big)),
        ("int32_sum", (v32,), v32.sum(dtype=np.int32)),
        ("inner_break", (x,), _inner_break(x)),
        ("muladd_dot", (x, y), np.float64(x @ y)),
        ("widening", (x32,), np.float64(x32.astype(np.float64).sum())),
        ("int_start", (x,), np.float64((0.5 * x).sum())),
        ("strided", (x,), np.float64(-x[::3].sum())),
        ("float_range", (), np.float64((np.arange(9) * 0.25) ** 2).sum()),
        ("several", (x, np.zeros(37)), (np.float64((2 * x).sum()), np.float64(x.max()), 2 * x)),
        ("matvec_loop", (A, B[:, 0]), A @ B[:, 0]),
        ("matvec_t", (A, y[:6]), A.T @ y[:6]),
        ("matmul_loop", (A, B), A @ B),
        ("rowmax", (A,), A.max(axis=1)),
        ("branchy", (x,), np.float64(np.where(x > 0, np.sqrt(np.abs(x)), -x).sum())),
        ("horner_loop", (B[:, 0], x), np.polyval(B[::-1, 0], x)),
        ("newton_each", (np.abs(x) + 0.5,), _newton(np.abs(x) + 0.5)),
        ("histogram_loop", (u, np.int64(7)), np.bincount(np.minimum((u * 7).astype(np.int64), 6), minlength=7)),
        ("weighted_bins", (x, y), _bins(x, y)),
    ]


def _inner_break(x):
    n = 0
    for j in range(1, 10):
        if x[j] > 0.5:
            break
        n += 1
    return np.float64(n * x[:5].sum())


def _newton(a):
    r, steps = a.copy(), np.zeros(len(a), np.int64)
    for i, ai in enumerate(a):
        x, n = ai, 0
        while abs(x * x - ai) > 1e-12 * ai and n < 60:
            x, n = (x + ai / x) / 2, n + 1
        r[i], steps[i] = x, n
    return r, steps


def _bins(x, w):
    h = np.zeros((3, 2))
    for i in range(len(x)):
        h[(i + 1) % 3, 0 if x[i] > 0 else 1] -= w[i]
    return h


def test_folding_loops_match_numpy_and_the_sequential_loop(kernels, rng):
    for name, args, want in _case(rng):
        got = kernels.function(name)(*args)
        assert_same(got, want, rtol=1e-12, atol=1e-12)
        sequential = kernels.function(name, vectorize=False)
        assert_same(got, sequential(*args), rtol=1e-12, atol=1e-12)
        assert all(n == "sequential: --no-vectorize" for n in _notes(kernels, name, *args, vectorize=False))
        notes = _notes(kernels, name, *args)
        assert notes and all(n.startswith("vectorized") for n in notes), (name, notes)


def test_exact_folds_agree_bit_for_bit_with_the_sequential_loop(kernels, rng):
    """max/min, selections and integer folds do not depend on the order: same bits, -O0 and -O2."""
    x = rng.standard_normal(50)
    x[[3, 17]] = np.nan
    A = rng.standard_normal((5, 8))
    for name, args in [("absmax_loop", (x,)), ("find_largest", (x,)), ("find_last_largest", (x,)),
                       ("find_smallest_2d", (A,)), ("rowmax", (A,)), ("count_loop", (x,)),
                       ("int_folds", (rng.integers(-2**62, 2**62, 31),))]:
        for level in (0, 2):
            fast = kernels.function(name).lower(*args, optimize_level=level).compile("cpu")
            want = kernels.function(name, vectorize=False)(*args)
            lowered = kernels.function(name).lower(*args, optimize_level=level)
            got = lowered.outputs(fast(*lowered.host_inputs(args)))
            assert_same(got, want, rtol=0, atol=0)


def test_nan_and_signed_zero_follow_the_comparison(kernels):
    # `max` propagates NaN; `x > best` is false for NaN, so a selection skips it
    x = np.array([1.0, np.nan, 3.0, 2.0])
    assert np.isnan(kernels.function("absmax_loop")(x))
    assert_same(kernels.function("find_largest")(x), (np.float64(3.0), np.int64(3)))
    assert_same(kernels.function("find_largest")(np.full(3, np.nan)), (np.float64(-np.inf), np.int64(0)))
    # 0.0 == -0.0: `>` keeps the first of them, `>=` takes the last, with its sign
    z = np.array([-1.0, 0.0, -0.0, -2.0])
    best, at = kernels.function("find_largest")(z)
    assert (at, np.signbit(best)) == (2, False)
    best, at = kernels.function("find_last_largest")(z)
    assert (at, np.signbit(best)) == (3, True)


def test_what_the_loops_became(kernels, rng):
    x, A, B = rng.standard_normal(8), rng.standard_normal((3, 4)), rng.standard_normal((4, 5))
    assert _notes(kernels, "dot_loop", x, x) == ["vectorized: 8 iterations at once; `s` sum reduction"]
    assert _notes(kernels, "find_smallest_2d", A) == [
        "vectorized: 4×3 iterations at once; `best`, `bi`, `bj` selected at the first smallest value"]
    assert _notes(kernels, "matmul_loop", A, B) == ["vectorized: 5×4×3 iterations at once; `C` accumulated over `k`"]
    # --strict-fp: the float sum keeps its order; the max stays a reduction (it is exact)
    assert _notes(kernels, "dot_loop", x, x, strict_fp=True) == [
        f"sequential: line {_line_of(KERNELS, 's += x[i] * y[i]')}: a floating-point `+` fold under --strict-fp"]
    assert _notes(kernels, "absmax_loop", x, strict_fp=True)[0].startswith("vectorized")


def test_golden_reductions_and_contractions(kernels, rng):
    x, A, B = rng.standard_normal(8), rng.standard_normal((3, 4)), rng.standard_normal((4, 5))
    for name, args in [("dot_loop", (x, x)), ("matvec_loop", (A, x[:4])), ("matvec_t", (A, x[:3])), ("matmul_loop", (A, B))]:
        o0 = kernels.function(name).lower(*args, optimize_level=0).as_text()
        assert "stablehlo.while" not in o0 and "stablehlo.reduce" in o0, name
        o2 = kernels.function(name).lower(*args).as_text()
        assert "stablehlo.dot_general" in o2 and "stablehlo.reduce" not in o2, (name, o2)
    hist = kernels.function("histogram_loop").lower(np.abs(x), np.int64(4), optimize_level=0).as_text()
    assert "stablehlo.scatter" in hist and "stablehlo.while" not in hist
    # the per-point loop is one loop over all points at once (-O2 unrolls its 7 steps)
    per_point = kernels.function("horner_loop").lower(x, x, optimize_level=0).as_text()
    assert per_point.count("stablehlo.while") == 1 and "tensor<8xf64>" in per_point
    sel = kernels.function("find_largest").lower(x).as_text()
    assert "stablehlo.while" not in sel and sel.count("stablehlo.reduce") == 1
    assert "stablehlo.while" in kernels.function("dot_loop", strict_fp=True).lower(x, x, optimize_level=0).as_text()


def test_broadcast_sums_of_products_become_dot_general(rng):
    src = """
rowdot(A, x) = sum(A .* x'; dims = 2)
coldot(A, y) = sum(y .* A; dims = 1)
"""
    p = jlhlo.load(src)
    A, x, y = rng.standard_normal((5, 3)), rng.standard_normal(3), rng.standard_normal(5)
    assert_same(p.function("rowdot")(A, x), (A @ x)[:, None], rtol=1e-12)
    assert_same(p.function("coldot")(A, y), (y @ A)[None, :], rtol=1e-12)
    assert "stablehlo.dot_general" in p.function("rowdot").lower(A, x).as_text()
    # -0.0 sums: a dims sum starts from +0.0 (Base's zero(T)), which the rewrite keeps
    z = -np.zeros((2, 3))
    assert not np.signbit(p.function("rowdot")(z, np.ones(3))).any()


def test_near_misses_stay_loops_and_stay_right(near, rng):
    x = rng.standard_normal(20)
    A = rng.standard_normal((4, 6)).astype(np.float32)
    Ad = rng.standard_normal((4, 6))
    best, nxt = -np.inf, 0.0
    for i in range(19):
        if x[i] > best:
            best, nxt = x[i], x[i + 1]
    stop = np.argmax(x < -1.5) if (x < -1.5).any() else len(x)
    twice = 0.0
    for v in x:
        twice = (twice + v) * 0.5
    rec = 0.0
    for v in x:
        rec = 0.5 * rec + v
    narrow = np.zeros(4, np.float32)
    for j in range(6):
        for i in range(4):
            narrow[i] = np.float32(np.float64(narrow[i]) + np.float64(A[i, j]) * 0.1)
    misses = sum(1 for k, v in enumerate(x) if not v > max([-np.inf, *x[:k]]))
    cases = [
        ("prefix", (x,), np.cumsum(x), "`acc` is read while it is being folded"),
        ("recurrence", (x,), np.float64(rec), "`s` carries a value"),
        ("select_else", (x,), (np.float64(x.max()), np.int64(misses)), "an `if` other than"),
        ("capture_read", (x,), (np.float64(best), np.float64(nxt)), "an `if` other than"),
        ("stops", (x,), np.float64(_seq(0.0, x[:stop])), "an `if` other than"),
        ("twice", (x,), np.float64(twice), "`s` carries a value"),
        ("read_back", (Ad, x[:6]), (Ad @ x[:6], Ad @ x[:6]), "iterations write the same element of `z`"),
        ("runtime_trips", (x, np.int64(7)), np.float64(_seq(0.0, x[:7])), "known only at run time"),
        ("may_throw", (x,), np.float64(_seq(0.0, x)), "the body may throw"),
        ("narrow_accumulator", (A,), narrow, "is not a Float32"),
        ("prod_loop", (x[:12],), np.float64(np.prod(x[:12])), "a floating-point product fold"),
    ]
    h = np.array([0.5, 1.5, 2.5])
    hist = h.copy()
    for k in range(3):
        hist[int(np.floor(hist[k])) % 3] += 1.0
    cases += [
        ("seen_by_closure", (x,), (np.float64(x.sum()), np.cumsum(x)), "the closure `f` sees"),
        ("iterates_what_it_changes", (h,), hist, "iterates over an array it changes"),
    ]
    for name, args, want, why in cases:
        assert_same(near.function(name)(*args), want, rtol=1e-12, atol=1e-12)
        notes = _notes(near, name, *args)
        assert any(n.startswith("sequential") and why in n for n in notes), (name, notes)


def test_the_first_failing_iteration_is_reported(near):
    """Iterations run at once, but the error is the one of the first iteration (i outer, j inner)
    that fails: sqrt's DomainError at (1, 1) here, not log's at (1, 2)."""
    A = np.array([[0.5, -20.0], [2.0, 3.0]])
    assert _notes(near, "first_error_in_iteration_order", A)[0].startswith("vectorized")
    with pytest.raises(jlhlo.frontend.diagnostics.JuliaError, match="sqrt"):
        near.function("first_error_in_iteration_order")(A)
    # (1, 2) fails in log before (2, 1) fails in sqrt: j runs fastest
    with pytest.raises(jlhlo.frontend.diagnostics.JuliaError, match="log"):
        near.function("first_error_in_iteration_order")(np.array([[2.0, -20.0], [0.5, 3.0]]))


def test_gradients_flow_through_folded_loops(rng):
    src = """
function loss(x)
    best = -Inf
    for i in eachindex(x)
        if x[i]^2 > best
            best = x[i]^2
        end
    end
    s = 0.0
    p = 1.0
    for v in x
        s += sin(v) * v
        p *= v
    end
    return best + s + p
end
g(x) = gradient(loss, x)[1]
"""
    x = rng.standard_normal(9)
    want = np.cos(x) * x + np.sin(x) + np.prod(x) / x
    k = int(np.argmax(x ** 2))
    want[k] += 2 * x[k]
    assert_same(jlhlo.load(src).function("g")(x), want, rtol=1e-12)


def test_explain_loops_on_the_command_line(tmp_path):
    path = write_jl(tmp_path, KERNELS + NEAR_MISSES, name="loops.jl")
    r = cli(path, "--entry", "find_largest", "--args", "Float64[5]", "--explain-loops")
    assert r.status == 0, r
    loop = _line_of(KERNELS, "for i in eachindex(x)", after="function find_largest(x)")
    assert f"loops.jl:{loop}:5: loop: vectorized: 5 iterations at once; `best`, `at` selected at the first largest" \
        in r.err
    r = cli(path, "--entry", "prefix", "--args", "Float64[5]", "--explain-loops")
    assert "loop: sequential: line" in r.err and "`acc` is read while it is being folded" in r.err
    r = cli(path, "--entry", "dot_loop", "--args", "Float64[5]", "Float64[5]", "--explain-loops", "--strict-fp")
    assert "a floating-point `+` fold under --strict-fp" in r.err
    r = cli(path, "--entry", "dot_loop", "--args", "Float64[5]", "Float64[5]", "--explain-loops", "--no-vectorize", "-O0")
    assert "loop: sequential: --no-vectorize" in r.err and "stablehlo.while" in r.out
