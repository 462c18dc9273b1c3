"""Reductions over ranges whose length is known only at run time (`sum(f(k) for k in 1:n)`,
`sum(f, 1:n)`, `prod(1:n)`, `count`, `any`, `all`, `mapreduce`, `foldl`): loops in Julia's order,
with Julia's results for empty ranges, against NumPy references for several run-time lengths."""
from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import assert_same
from jlhlo.frontend.diagnostics import JuliaError

import jlhlo
from jlhlo.api import flatten_host

SOURCE = """
function main(x::Vector{Float64}, n::Int64)
    a = sum(k^2 for k in 1:n)
    b = sum(x[k] * k for k in 1:n)
    c = count(iseven(k) for k in 1:n)
    d = any(x[k] > 0.5 for k in 1:n)
    e = all(k > 0 for k in 1:n)
    f = sum(1:n) + sum(3:2:n)
    g = prod(1:n)
    h = count(iseven, 1:n)
    i = foldl(-, 0:n)
    j = mapreduce(k -> 1 / k, +, 1:n + 1)
    k = sum(Int32(k) for k in 1:n + 1)
    return a, b, c, d, e, f, g, h, i, j, k
end"""


def reference(x: np.ndarray, n: int) -> tuple:
    ks = range(1, n + 1)
    folded = 0
    for v in range(1, n + 1):
        folded -= v
    return (sum(k * k for k in ks), float(sum(x[k - 1] * k for k in ks)) if n else None,
            sum(1 for k in ks if k % 2 == 0), any(x[k - 1] > 0.5 for k in ks), True,
            n * (n + 1) // 2 + sum(range(3, n + 1, 2)), math.prod(ks), sum(1 for k in ks if k % 2 == 0), folded,
            sum(1.0 / k for k in range(1, n + 2)), sum(range(1, n + 2)))


@pytest.fixture(scope="module")
def lowered():
    fn = jlhlo.load(SOURCE, filename="t.jl").function("main")
    return {level: fn.lower(np.zeros(6), 1, optimize_level=level) for level in (0, 2)}


@pytest.mark.parametrize("n", [1, 2, 5, 6])
def test_runtime_length_reductions(lowered, rng, n):
    x = rng.standard_normal(6)
    for low in lowered.values():
        got = low.outputs(low.compile("cpu")(*flatten_host((x, n))))
        assert_same(tuple(got), reference(x, n), rtol=1e-12)


def test_one_executable_serves_every_length(lowered):
    # the length is a run-time value: the same compiled program, not one per n
    text = str(lowered[0].module)
    assert "stablehlo.while" in text


def test_empty_range_reductions_follow_julia(rng):
    src = """
function main(n)
    return sum(1:n), prod(1:n), count(iseven(k) for k in 1:n), any(k > 3 for k in 1:n),
           all(k > 3 for k in 1:n), sum(1.0:2.0), sum(2:1)
end"""
    fn = jlhlo.load(src, filename="t.jl").function("main")
    low = fn.lower(0, optimize_level=0)
    assert_same(tuple(low.outputs(low.compile("cpu")(*flatten_host((0,))))), (0, 1, 0, False, True, 3.0, 0))
    # Julia: reducing an empty generator (its element type unknown) or `f` over an empty range is an error
    for body in ("sum(k^2 for k in 1:n)", "maximum(k -> k, 1:n)", "foldl(+, 1:n)"):
        low = jlhlo.load(f"main(n) = {body}", filename="t.jl").function("main").lower(0, optimize_level=0)
        with pytest.raises(JuliaError, match="reducing over an empty collection"):
            low.outputs(low.compile("cpu")(*flatten_host((0,))))


def test_range_element_type_takes_part_in_dispatch():
    # AbstractRange{<:Integer} is not AbstractRange{Float64}: the element type of a range pattern
    # was ignored, so the later of two such methods replaced the other
    src = """
f(r::AbstractRange{<:Integer}) = 1
f(r::AbstractRange) = 2
g(r::AbstractRange{Float64}) = 3
g(r::AbstractVector) = 4
main(n) = (f(1:n), f(1.0:n), g(1:n), g(1.0:n), g([1.0]))"""
    low = jlhlo.load(src, filename="t.jl").function("main").lower(3, optimize_level=0)
    assert_same(tuple(low.outputs(low.compile("cpu")(*flatten_host((3,))))), (1, 2, 4, 3, 4))


TRIANGULAR = """
function forward_sub(L, b)
    n = length(b)
    x = zeros(n)
    for i in 1:n
        x[i] = (b[i] - dot(L[i, 1:i-1], x[1:i-1])) / L[i, i]
    end
    return x
end
function back_sub(U, b)
    n = length(b)
    x = zeros(n)
    for i in n:-1:1
        x[i] = (b[i] - sum(U[i, i+1:n] .* x[i+1:n])) / U[i, i]
    end
    return x
end
function lu_nopivot(A)
    n = size(A, 1)
    L = zeros(n, n)
    U = zeros(n, n)
    for i in 1:n
        for k in i:n
            U[i, k] = A[i, k] - sum(L[i, j] * U[j, k] for j in 1:i-1; init=0.0)
        end
        L[i, i] = 1.0
        for k in i+1:n
            L[k, i] = (A[k, i] - sum(L[k, 1:i-1] .* U[1:i-1, i])) / U[i, i]
        end
    end
    return L, U
end
function main(A::Matrix{Float64}, b::Vector{Float64}, k::Int64)
    L, U = lu_nopivot(A)
    y = forward_sub(L, b)
    return back_sub(U, y), maximum(abs, b[k:end]), sum(abs2, b[1:k]), prod(b[k:k+1])
end"""


def test_slices_of_run_time_length_inside_reductions(rng):
    # textbook triangular solves and LU, written with A[i, 1:i-1]: each reduction loops over the slice
    A = rng.standard_normal((5, 5)) + 5 * np.eye(5)
    b = rng.standard_normal(5)
    f = jlhlo.load(TRIANGULAR, filename="t.jl").function("main")
    for k in (1, 3, 4):
        lowered = f.lower(A, b, k)
        got = lowered.outputs(lowered.compile()(*lowered.host_inputs((A, b, k))))
        want = (np.linalg.solve(A, b), np.abs(b[k - 1:]).max(), np.float64((b[:k] ** 2).sum()),
                np.float64(b[k - 1] * b[k]))
        assert_same(got, want, rtol=1e-10)


def test_slices_of_different_run_time_lengths_are_a_dimension_mismatch(rng):
    src = "main(x::Vector{Float64}, k::Int64) = dot(x[1:k], x[2:k+2])"
    f = jlhlo.load(src, filename="t.jl").function("main")
    x = rng.standard_normal(6)
    lowered = f.lower(x, 2)
    with pytest.raises(JuliaError, match="DimensionMismatch"):
        lowered.outputs(lowered.compile()(*lowered.host_inputs((x, 2))))


def test_only_elementwise_uses_of_the_slices_are_rewritten(rng):
    # `x[1:i]' * v[1:i]` is a product of arrays, not elementwise: left to the static-size error
    # rather than computed per element (which would be another answer)
    src = """
function main(x::Vector{Float64}, v::Vector{Float64})
    s = 0.0
    for i in 1:3
        s += sum(x[1:i]' * v[1:i])
    end
    return s
end"""
    with pytest.raises(JuliaError, match="length known at compile time"):
        jlhlo.load(src, filename="t.jl").function("main").lower(rng.standard_normal(3), rng.standard_normal(3))


def test_slice_updates_of_run_time_length(rng):
    # Gaussian elimination's row update, a shift that reads what it writes (Julia computes the right
    # side first), and a scalar fill, each with the slice bounds known only at run time
    src = """
function main(A::Matrix{Float64}, x::Vector{Float64}, k::Int64)
    U = copy(A)
    n = size(U, 1)
    for j in 1:n-1
        for i in j+1:n
            U[i, j:n] .-= (U[i, j] / U[j, j]) .* U[j, j:n]
        end
    end
    y = copy(x)
    y[2:k] .= y[1:k-1]
    z = copy(x)
    z[k:end] .= 0.0
    return U, y, z
end"""
    A = rng.standard_normal((4, 4)) + 4 * np.eye(4)
    x = rng.standard_normal(5)
    f = jlhlo.load(src, filename="t.jl").function("main")
    for k in (1, 3, 5):
        U = A.copy()
        for j in range(3):
            for i in range(j + 1, 4):
                U[i, j:] -= U[i, j] / U[j, j] * U[j, j:]
        y = x.copy()
        y[1:k] = x[0:k - 1]
        z = x.copy()
        z[k - 1:] = 0.0
        lowered = f.lower(A, x, k)
        got = lowered.outputs(lowered.compile()(*lowered.host_inputs((A, x, k))))
        assert_same(got, (U, y, z), rtol=1e-12)
    src_bad = "function main(x::Vector{Float64}, k::Int64)\n    y = copy(x)\n    y[1:k] .= x[2:k+2]\n    return y\nend"
    lowered = jlhlo.load(src_bad, filename="t.jl").function("main").lower(x, 2)
    with pytest.raises(JuliaError, match="DimensionMismatch"):
        lowered.outputs(lowered.compile()(*lowered.host_inputs((x, 2))))
