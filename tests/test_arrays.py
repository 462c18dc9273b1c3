"""Arrays, mutation, vectorized control flow, complex numbers and bounds checking, each against an
independent NumPy reference on random inputs (dtype and shape checked exactly)."""
from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest
from conftest import cli
from jlhlo.frontend.diagnostics import JuliaError

import jlhlo

ARRAYS = """
rev(v::Vector{Float64}) = reverse(v)
rev2(X::Matrix{Float64}) = reverse(X; dims=2)
cs(v::Vector{Float64}) = (cumsum(v), cumprod(v))
am(v::Vector{Float64}) = (argmax(v), argmin(v), findmax(v), findmin(v))
am2(X::Matrix{Float64}) = (Tuple(argmax(X)), X[argmax(X)])   # a CartesianIndex, as Julia's keys(X)
srt(v::Vector{Float64}) = (sort(v), sort(v; rev=true))
cshift(v::Vector{Float64}, k::Int64) = circshift(v, k)
rep(v::Vector{Float64}, X::Matrix{Float64}) = (repeat(v, 3), repeat(X, 2, 3))
cat3(X::Matrix{Float64}, v::Vector{Float64}) = ([X X], [X; X], hcat(v, v), vcat(v, v), cat(X, X; dims=2))
kr(A::Matrix{Float64}, B::Matrix{Float64}, a::Vector{Float64}, b::Vector{Float64}) = (kron(A, B), kron(a, b))
dd(v::Vector{Float64}, w::Vector{Float64}) = (diff(v), dot(v, w), norm(v))
lin(X::Matrix{Float64}) = (X[5], X[end], X[:], X[2, :], X[:, end], X[end-1:end, 1:2:end], X[[3, 1], [4, 2]])
function dyn(X::Matrix{Float64}, i::Int64, j::Int64)
    return (X[i, j], X[i, :], X[i:i+1, j], X[:, j:j+2])
end
runtime_vec(v::Vector{Float64}, idx::Vector{Int64}) = v[idx]
shapes(X::Matrix{Float64}) = (reshape(X, 2, 6), vec(X), permutedims(X, (2, 1)), reshape(X, :, 3), transpose(X),
                              collect(1:2:9), X', size(X), length(X), ndims(X), axes(X, 1), eachindex(X))
function set_ops(v::Vector{Float64}, X::Matrix{Float64}, i::Int64)
    w = copy(v)
    w[1:2:end] .= 1.0
    w[[2, 4]] .= -1.0
    w[i] = 100.0
    Y = copy(X)
    Y[2, :] .= 0.0
    Y[:, end] .+= 10.0
    Y[i, i] = 7.0
    Z = copy(X)
    Z[Z .> 0] .= 0.0
    fill!(Z, 2.0)
    return (w, Y, Z)
end
function aliasing(v::Vector{Float64})
    a = copy(v)
    b = a
    b[1] = 42.0
    c = copy(a)
    c[2] = -1.0
    return (a, b, c)
end
function bump!(x)
    x .+= 1.0
    return nothing
end
function mutate_arg(v::Vector{Float64})
    y = copy(v)
    bump!(y)
    bump!(y)
    return y
end
function unalias(v::Vector{Float64})
    y = copy(v)
    @views y[2:end] .-= y[1:end-1]
    return y
end
function swap_loop(v::Vector{Float64}, n::Int64)
    a = copy(v)
    b = zeros(length(v))
    for k in 1:n
        b .= a .* 2
        a, b = b, a
    end
    return a
end
struct Buffer
    data::Vector{Float64}
end
function through_struct(v::Vector{Float64})
    buf = Buffer(copy(v))
    buf.data[1] = 9.0
    buf.data .*= 2
    return buf.data
end
function comps(x::Vector{Float64})
    M = [i * j for i in 1:3, j in 1:4]
    sq = [x[i]^2 for i in 1:length(x)]
    T = [a + b for a in x, b in (1.0, 2.0)]
    return (M, sq, T, sum(v^2 for v in x))
end
copyto_fn(v::Vector{Float64}) = copyto!(zeros(length(v)), v)
"""

rng = np.random.default_rng(7)


@pytest.fixture(scope="module")
def prog():
    return jlhlo.load(ARRAYS, filename="arrays.jl")


def same(got, want, rtol=1e-12):
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want)
        for g, w in zip(got, want):
            same(g, w, rtol)
        return
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    if want.dtype.kind in "biu":
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-12)


def test_reverse_sort_search(prog):
    v, X = rng.standard_normal(7), rng.standard_normal((3, 4))
    same(prog.function("rev")(v), v[::-1])
    same(prog.function("rev2")(X), X[:, ::-1])
    same(prog.function("cs")(v), (np.cumsum(v), np.cumprod(v)))
    i64 = np.int64
    same(prog.function("am")(v), (i64(v.argmax() + 1), i64(v.argmin() + 1), (v.max(), i64(v.argmax() + 1)),
                                  (v.min(), i64(v.argmin() + 1))))
    row, col = np.unravel_index(X.argmax(), X.shape)
    same(prog.function("am2")(X), ((i64(row + 1), i64(col + 1)), X.max()))
    same(prog.function("srt")(v), (np.sort(v), np.sort(v)[::-1]))


@pytest.mark.parametrize("k", [0, 2, -3, 9])
def test_circshift(prog, k):
    v = rng.standard_normal(7)
    same(prog.function("cshift")(v, np.int64(k)), np.roll(v, k))


def test_repeat_cat_kron(prog):
    v, X = rng.standard_normal(3), rng.standard_normal((2, 3))
    same(prog.function("rep")(v, X), (np.tile(v, 3), np.tile(X, (2, 3))))
    same(prog.function("cat3")(X, v), (np.hstack([X, X]), np.vstack([X, X]), np.stack([v, v], 1),
                                       np.concatenate([v, v]), np.hstack([X, X])))
    A, B, a, b = rng.standard_normal((2, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2), rng.standard_normal(3)
    same(prog.function("kr")(A, B, a, b), (np.kron(A, B), np.kron(a, b)))
    w = rng.standard_normal(3)
    same(prog.function("dd")(v, w), (np.diff(v), v @ w, np.linalg.norm(v)))


def test_indexing_forms(prog):
    X = rng.standard_normal((3, 4))
    F = X.flatten("F")
    same(prog.function("lin")(X), (F[4], F[-1], F, X[1, :], X[:, -1], X[1:3, 0::2], X[np.ix_([2, 0], [3, 1])]))
    got = prog.function("dyn")(X, np.int64(2), np.int64(1))
    same(got, (X[1, 0], X[1, :], X[1:3, 0], X[:, 0:3]))
    same(prog.function("runtime_vec")(X[0], np.array([4, 1, 1, 2])), X[0][[3, 0, 0, 1]])


def test_shapes_column_major(prog):
    X = rng.standard_normal((3, 4))
    got = prog.function("shapes")(X)
    i64 = np.int64
    want = (X.reshape((2, 6), order="F"), X.flatten("F"), X.T, X.reshape((4, 3), order="F"), X.T,
            np.arange(1, 10, 2, dtype=i64), X.T, (i64(3), i64(4)), i64(12), i64(2), np.arange(1, 4, dtype=i64),
            np.arange(1, 13, dtype=i64))
    got = got[:10] + (np.asarray(got[10]) if not isinstance(got[10], tuple) else got[10], got[11])
    same(got[:8], want[:8])
    same(got[8:10], want[8:10])


def test_set_forms(prog):
    v, X = rng.standard_normal(6), rng.standard_normal((3, 3))
    w = v.copy()
    w[0::2] = 1.0
    w[[1, 3]] = -1.0
    w[1] = 100.0
    Y = X.copy()
    Y[1, :] = 0.0
    Y[:, -1] += 10.0
    Y[1, 1] = 7.0
    same(prog.function("set_ops")(v, X, np.int64(2)), (w, Y, np.full((3, 3), 2.0)))


def test_aliasing_and_unaliasing(prog):
    v = rng.standard_normal(5)
    a = v.copy()
    a[0] = 42.0
    c = a.copy()
    c[1] = -1.0
    same(prog.function("aliasing")(v), (a, a, c))
    same(prog.function("mutate_arg")(v), v + 2.0)
    same(prog.function("unalias")(v), np.concatenate([[v[0]], v[1:] - v[:-1]]))
    same(prog.function("swap_loop")(v, np.int64(3)), v * 8)
    want = v.copy()
    want[0] = 9.0
    same(prog.function("through_struct")(v), want * 2)
    same(prog.function("copyto_fn")(v), v)


def test_comprehensions(prog):
    x = rng.standard_normal(4)
    same(prog.function("comps")(x), (np.outer(np.arange(1, 4), np.arange(1, 5)).astype(np.int64), x ** 2,
                                     x[:, None] + np.array([1.0, 2.0])[None, :], (x ** 2).sum()))


def test_data_dependent_sizes_are_compile_errors():
    src = "f(x::Vector{Float64}) = [v for v in x if v > 0]\ng(x::Vector{Float64}) = x[x .> 0]\n"
    p = jlhlo.load(src, filename="dd.jl")
    for name in ("f", "g"):
        with pytest.raises(JuliaError, match="size"):
            p.function(name).lower(np.zeros(3))


# ---------------------------------------------------------------------------- vectorized control flow
ESCAPE = """
function escape(cr::Float64, ci::Float64)
    zr = 0.0
    zi = 0.0
    for n in 1:80
        if zr * zr + zi * zi > 4.0
            return n - 1
        end
        zr, zi = zr * zr - zi * zi + cr, 2 * zr * zi + ci
    end
    return 80
end
escape_grid(cr::Matrix{Float64}, ci::Matrix{Float64}) = escape.(cr, ci)
function collatz(n::Int64)
    steps = 0
    while n != 1
        n = iseven(n) ? n ÷ 2 : 3n + 1
        steps += 1
        if steps > 500
            break
        end
    end
    return steps
end
collatz_all(ns::Vector{Int64}) = map(collatz, ns)
function skip_odd(x::Float64)
    s = 0.0
    for k in 1:10
        if k % 2 == 1
            continue
        end
        s += x * k
    end
    return s
end
skip_all(x::Vector{Float64}) = skip_odd.(x)
"""


def _escape(cr, ci):
    zr = zi = 0.0
    for n in range(1, 81):
        if zr * zr + zi * zi > 4.0:
            return n - 1
        zr, zi = zr * zr - zi * zi + cr, 2 * zr * zi + ci
    return 80


def _collatz(n):
    steps = 0
    while n != 1:
        n = n // 2 if n % 2 == 0 else 3 * n + 1
        steps += 1
        if steps > 500:
            break
    return steps


def test_broadcast_user_function_with_loops():
    p = jlhlo.load(ESCAPE, filename="escape.jl")
    cr, ci = rng.uniform(-2, 0.5, (9, 11)), rng.uniform(-1, 1, (9, 11))
    same(p.function("escape_grid")(cr, ci), np.vectorize(_escape, otypes=[np.int64])(cr, ci))
    ns = rng.integers(1, 200, 12).astype(np.int64)
    same(p.function("collatz_all")(ns), np.array([_collatz(int(n)) for n in ns], dtype=np.int64))
    x = rng.standard_normal(5)
    same(p.function("skip_all")(x), x * 30.0)


def test_broadcast_loop_is_one_while():
    """Golden: the lanes run in one batched stablehlo.while, not one loop per element."""
    p = jlhlo.load(ESCAPE, filename="escape.jl")
    text = p.function("escape_grid").lower(np.zeros((9, 11)), np.zeros((9, 11))).as_text()
    assert len(re.findall(r"stablehlo\.while", text)) == 1
    assert "tensor<9x11xf64>" in text       # the carried values are whole lanes


# ---------------------------------------------------------------------------- complex numbers
CPLX = """
function cx(z::Vector{ComplexF64}, w::ComplexF64)
    return (abs.(z), abs2.(z), angle.(z), conj.(z) .* w, exp.(z), z .^ 2, real.(z) .+ imag.(z), z[2] * w + 1,
            sum(z), complex(1.0, 2.0) * 2im, w^3)
end
cx32(z::Vector{ComplexF32}) = (z .* 2f0, abs.(z), z .+ im)
"""


def test_complex():
    p = jlhlo.load(CPLX, filename="cx.jl")
    z = rng.standard_normal(4) + 1j * rng.standard_normal(4)
    w = np.complex128(0.5 - 1.5j)
    same(p.function("cx")(z, w), (np.abs(z), np.abs(z) ** 2, np.angle(z), np.conj(z) * w, np.exp(z), z ** 2,
                                  z.real + z.imag, z[1] * w + 1, z.sum(), np.complex128((1 + 2j) * 2j), w ** 3))
    z32 = z.astype(np.complex64)
    same(p.function("cx32")(z32), (z32 * np.float32(2), np.abs(z32), z32 + np.complex64(1j)), rtol=1e-6)


def test_complex_npz_roundtrip(tmp_path):
    src = tmp_path / "c.jl"
    src.write_text("f(z::Vector{ComplexF64}) = z .* 2im\n")
    z = rng.standard_normal(3) + 1j * rng.standard_normal(3)
    np.savez(tmp_path / "in.npz", z=z)
    r = subprocess.run([sys.executable, "-m", "jlhlo.cli", str(src), "--entry", "f", "--inputs",
                        str(tmp_path / "in.npz"), "--run", "--outputs", str(tmp_path / "out.npz")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    with np.load(tmp_path / "out.npz") as out:
        same(out["out"], z * 2j)


# ---------------------------------------------------------------------------- bounds checking
BOUNDS = """
function window_sum(x::Vector{Float64}, i::Int64)
    s = 0.0
    for k in 0:2
        s += x[i + k]
    end
    return s
end
unchecked(x::Vector{Float64}, i::Int64) = @inbounds x[i]
constant_oob(x::Vector{Float64}) = x[7]
"""


def test_runtime_bounds_error_points_at_source():
    p = jlhlo.load(BOUNDS, filename="bounds.jl")
    x = rng.standard_normal(6)
    same(p.function("window_sum")(x, np.int64(2)), x[1:4].sum())
    with pytest.raises(JuliaError, match="BoundsError") as info:
        p.function("window_sum")(x, np.int64(5))
    assert info.value.span.line == 5
    p.function("unchecked")(x, np.int64(9))                        # @inbounds: no check, as Julia
    p.function("window_sum", check_bounds=False)(x, np.int64(5))   # --check-bounds=no
    with pytest.raises(JuliaError, match="BoundsError"):
        p.function("constant_oob").lower(x)


def test_runtime_bounds_error_cli(tmp_path):
    (tmp_path / "b.jl").write_text(BOUNDS)
    np.savez(tmp_path / "in.npz", x=np.zeros(6), i=np.int64(6))
    r = subprocess.run([sys.executable, "-m", "jlhlo.cli", str(tmp_path / "b.jl"), "--entry", "window_sum",
                        "--inputs", str(tmp_path / "in.npz"), "--run"], capture_output=True, text=True)
    assert r.returncode == 1
    assert re.search(r"b\.jl:5:\d+: error: BoundsError", r.stderr), r.stderr
    assert "Traceback" not in r.stderr
    r = cli(tmp_path / "b.jl", "--entry", "window_sum", "--inputs", tmp_path / "in.npz", "--run", "--check-bounds=no")
    assert r.status == 0, r


def test_provable_indices_need_no_check():
    """Indices built from a loop variable over a constant range are checked at compile time."""
    src = """
function smooth(x::Vector{Float64})
    y = copy(x)
    for i in 2:length(x)-1
        y[i] = (x[i-1] + x[i] + x[i+1]) / 3
    end
    return y
end
"""
    lowered = jlhlo.load(src, filename="s.jl").function("smooth").lower(np.zeros(8))
    assert not lowered.check_sites


# ---------------------------------------------------------------------------- independent loop nests
NESTS = """
function heat_loops(u0::Matrix{Float64}, steps::Int64)
    u = copy(u0)
    v = copy(u0)
    n, m = size(u)
    for s in 1:steps
        for j in 2:m-1
            for i in 2:n-1
                v[i, j] = u[i, j] + 0.1 * (u[i-1, j] + u[i+1, j] + u[i, j-1] + u[i, j+1] - 4 * u[i, j])
            end
        end
        u, v = v, u
    end
    return u
end
function transposed(A::Matrix{Float64})
    B = zeros(4, 3)
    for i in 1:3, j in 1:4
        t = A[i, j] * 2
        B[j, i] = t + j
    end
    return B
end
function prefix(x::Vector{Float64})
    y = copy(x)
    for i in 2:length(x)
        y[i] = y[i-1] + x[i]
    end
    return y
end
function aliased(x::Vector{Float64})
    y = copy(x)
    z = y
    for i in 2:length(x)
        y[i] = z[i-1] * 2
    end
    return y
end
"""


def _heat(u0, steps):
    u = u0.copy()
    for _ in range(steps):
        c = u[1:-1, 1:-1]
        u[1:-1, 1:-1] = c + 0.1 * (u[:-2, 1:-1] + u[2:, 1:-1] + u[1:-1, :-2] + u[1:-1, 2:] - 4 * c)
    return u


def test_independent_loop_nests_are_vectorized():
    p = jlhlo.load(NESTS, filename="nests.jl")
    u0 = rng.standard_normal((7, 6))
    same(p.function("heat_loops")(u0, np.int64(5)), _heat(u0, 5))
    # golden: only the time-step loop is left; the i/j nest became slices and one update
    text = p.function("heat_loops").lower(u0, np.int64(5)).as_text()
    assert text.count("stablehlo.while") == 1 and "dynamic_update_slice" in text
    A = rng.standard_normal((3, 4))
    same(p.function("transposed")(A), A.T * 2 + np.arange(1, 5)[:, None])
    assert "stablehlo.while" not in p.function("transposed").lower(A).as_text()


def test_dependent_loops_stay_loops():
    p = jlhlo.load(NESTS, filename="nests.jl")
    x = rng.standard_normal(6)
    same(p.function("prefix")(x), np.cumsum(x))
    want = x.copy()
    for i in range(1, 6):
        want[i] = want[i - 1] * 2
    same(p.function("aliased")(x), want)
    for name in ("prefix", "aliased"):      # at -O0: -O2 may unroll these short loops
        assert "stablehlo.while" in p.function(name).lower(x, optimize_level=0).as_text()


def test_break_leaves_a_multi_iterator_loop():
    """`for i in a, j in b` is one loop in Julia: `break` leaves both."""
    src = """
function pairs_until(n::Int64)
    total = 0
    for i in 1:n, j in 1:i
        if (i + j) % 3 == 0
            continue
        end
        total += i * j
        total > 1000 && break
    end
    return total
end
"""
    total, done = 0, False
    for i in range(1, 21):
        for j in range(1, i + 1):
            if (i + j) % 3 == 0:
                continue
            total += i * j
            if total > 1000:
                done = True
                break
        if done:
            break
    same(jlhlo.load(src, filename="mi.jl").function("pairs_until")(np.int64(20)), np.int64(total))


def test_uniform_scaling_identity():
    src = """
using LinearAlgebra
shifted(A::Matrix{Float64}, b::Vector{Float64}, λ::Float64) = ((A' * A + λ * I) * b, A - I, 3I * A, I * 2.0 * b)
"""
    A, b = rng.standard_normal((3, 3)), rng.standard_normal(3)
    got = jlhlo.load(src, filename="us.jl").function("shifted")(A, b, 0.5)
    same(got, ((A.T @ A + 0.5 * np.eye(3)) @ b, A - np.eye(3), 3 * A, 2.0 * b))


def test_inexact_conversion_is_reported():
    src = """
to_int(x::Float64) = Int(x)
function store(v::Vector{Float64})
    out = zeros(Int64, length(v))
    for i in eachindex(v)
        out[i] = v[i]
    end
    return out
end
"""
    p = jlhlo.load(src, filename="inexact.jl")
    same(p.function("to_int")(3.0), np.int64(3))
    same(p.function("store")(np.array([1.0, 3.0])), np.array([1, 3], dtype=np.int64))
    for name, arg, line in [("to_int", 2.5, 2), ("store", np.array([1.0, 2.5]), 6)]:
        with pytest.raises(JuliaError, match="InexactError") as info:
            p.function(name)(arg)
        assert info.value.span.line == line


def test_local_and_anonymous_functions_check_their_argument_types():
    src = """
function f(x::Float64)
    g(y::Int64) = y + 1
    h = (z::Float64) -> 2z
    return (h(x), g(3))
end
function bad(x::Float64)
    g(y::Int64) = y + 1
    return g(x)
end
"""
    p = jlhlo.load(src, filename="local.jl")
    same(p.function("f")(1.5), (np.float64(3.0), np.int64(4)))
    with pytest.raises(JuliaError, match=r"no method matching g\(::Float64\)") as info:
        p.function("bad").lower(1.5)
    assert info.value.span.line == 9


def test_complex_math_and_what_julia_does_not_define_for_complex():
    # exp/tanh/log1p of a complex number are XLA's complex ops (the real-only repairs, tanh's
    # formula and log1p's, must not apply); ordering, integer division, max/min, floor and cbrt of a
    # Complex are Julia's MethodErrors (they gave `true`, `1+0im`, an internal error or crashed the process)
    p = jlhlo.load("""
    f(z) = (exp.(z), tanh.(z), log1p.(z), sqrt.(z), expm1.(z), sin.(z))
    lt(z) = z[1] < 1
    mx(z) = max(z[1], 1)
    dv(z) = z[1] ÷ 2
    md(z) = mod(z[1], 3)
    fl(z) = floor(z[1])
    cb(z) = cbrt(z[1])
    il(z) = isless(z[1], 1.0)
    mz(z) = maximum(z)
    fm(z) = findmax(z)
    """, filename="cm.jl")
    z = rng.standard_normal(5) + 1j * rng.standard_normal(5)
    with np.errstate(all="ignore"):
        want = (np.exp(z), np.tanh(z), np.log1p(z), np.sqrt(z), np.expm1(z), np.sin(z))
    same(p.function("f")(z), want, rtol=1e-12)
    for name, shown in (("lt", "<"), ("mx", "max"), ("dv", "÷"), ("md", "mod"), ("fl", "floor"), ("cb", "cbrt"),
                        ("il", "isless"), ("mz", "isless"), ("fm", "isless")):
        with pytest.raises(JuliaError, match=f"MethodError: no method matching {re.escape(shown)}\\(::ComplexF64"):
            p.function(name)(z)


def test_an_index_clamped_between_constants_needs_no_bounds_check():
    # clamp's bounds reach the caller (the call's result keeps what the callee proved), so
    # `h[clamp(k, 1, n)] += 1` in a histogram checks nothing per element; Base's order when lo > hi
    p = jlhlo.load("""
    pick(x, k) = x[clamp(k, 1, 3)]
    function hist(x)
        h = zeros(Int, 4)
        for v in x
            h[clamp(floor(Int, v * 4) + 1, 1, 4)] += 1
        end
        return h
    end
    odd(k) = clamp(k, 5, 3)
    """, filename="cl.jl")
    x = np.array([1.5, 2.5, 3.5])
    assert [float(p.function("pick")(x, k)) for k in (-7, 2, 9)] == [1.5, 2.5, 3.5]
    assert not re.search(r"compare GE.*SIGNED", p.function("pick").lower(x, 2).as_text())
    u = rng.uniform(-0.5, 1.5, 50)
    same(p.function("hist")(u), np.bincount(np.clip(np.floor(u * 4).astype(int) + 1, 1, 4) - 1, minlength=4))
    assert not re.search(r"compare GE.*SIGNED", p.function("hist").lower(u).as_text())   # floor(Int, ⋅)'s stays
    assert [int(p.function("odd")(k)) for k in (1, 4, 9)] == [5, 3, 3]
