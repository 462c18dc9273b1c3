"""Textbook numerical routines written as a Julia user writes them (loops with run-time bounds,
generators, `Matrix{T}(I, n, n)`, `muladd`, `factorial`), each against a NumPy reference on random
inputs at -O0 and -O2. Sizes of arrays come from the arguments; lengths of loops and reductions
may be run-time values."""
from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import assert_same
from jlhlo.frontend.diagnostics import JuliaError

import jlhlo
from jlhlo.api import flatten_host


def _triangular(rng, n, lower):
    m = rng.standard_normal((n, n)) + n * np.eye(n)
    return np.tril(m) if lower else np.triu(m)


ROUTINES = {
    "forward_substitution": ("""
function main(L::Matrix{Float64}, b::Vector{Float64})
    n = length(b)
    x = zeros(n)
    for i in 1:n
        s = b[i]
        for j in 1:i-1
            s -= L[i, j] * x[j]
        end
        x[i] = s / L[i, i]
    end
    return x
end""", lambda L, b: np.linalg.solve(L, b), lambda r: (_triangular(r, 5, True), r.standard_normal(5))),
    "back_substitution": ("""
function main(U::Matrix{Float64}, b::Vector{Float64})
    n = length(b)
    x = similar(b)
    for i in n:-1:1
        x[i] = (b[i] - sum(U[i, j] * x[j] for j in i+1:n; init=0.0)) / U[i, i]
    end
    return x
end""", lambda U, b: np.linalg.solve(U, b), lambda r: (_triangular(r, 5, False), r.standard_normal(5))),
    "lu_without_pivoting": ("""
function lu_nopivot(A::Matrix{T}) where {T}
    n = size(A, 1)
    L = Matrix{T}(I, n, n)
    U = copy(A)
    for k in 1:n-1
        for i in k+1:n
            L[i, k] = U[i, k] / U[k, k]
            for j in k:n
                U[i, j] -= L[i, k] * U[k, j]
            end
        end
    end
    return L, U
end
function main(A::Matrix{Float64})
    L, U = lu_nopivot(A)
    return L * U, istril(L)
end""", lambda A: (A, True), lambda r: (r.standard_normal((4, 4)) + 4 * np.eye(4),)),
    "horner": ("""
function horner(c, x)
    y = c[end]
    for k in length(c)-1:-1:1
        y = muladd(y, x, c[k])
    end
    return y
end
main(c::Vector{Float64}, x::Float64) = horner(c, x)""",
              lambda c, x: np.polynomial.polynomial.polyval(x, c), lambda r: (r.standard_normal(6), float(r.uniform(-1, 1)))),
    "lagrange_interpolation": ("""
function main(xs::Vector{Float64}, ys::Vector{Float64}, x::Float64)
    n = length(xs)
    p = 0.0
    for i in 1:n
        w = 1.0
        for j in 1:n
            if j != i
                w *= (x - xs[j]) / (xs[i] - xs[j])
            end
        end
        p += w * ys[i]
    end
    return p
end""", lambda xs, ys, x: np.polyval(np.polyfit(xs, ys, len(xs) - 1), x),
        lambda r: (np.array([0.0, 0.5, 1.1, 1.7, 2.0]), r.standard_normal(5), float(r.uniform(0, 2)))),
    "trapezoid_runtime_n": ("""
function main(a::Float64, b::Float64, n::Int64)
    h = (b - a) / n
    s = (exp(a) + exp(b)) / 2
    for k in 1:n-1
        s += exp(a + k * h)
    end
    return s * h
end""", lambda a, b, n: (b - a) / n * ((math.exp(a) + math.exp(b)) / 2 +
                                       sum(math.exp(a + k * ((b - a) / n)) for k in range(1, n))),
        lambda r: (0.0, float(r.uniform(1, 2)), int(r.integers(5, 60)))),
    "simpson_runtime_n": ("""
f(x) = sin(x)^2
function main(a::Float64, b::Float64, n::Int64)
    h = (b - a) / n
    return h / 3 * (f(a) + f(b) + 4 * sum(f(a + (2k - 1) * h) for k in 1:n÷2) + 2 * sum(f(a + 2k * h) for k in 1:n÷2-1))
end""", lambda a, b, n: (b - a) / n / 3 * (
        math.sin(a) ** 2 + math.sin(b) ** 2 + 4 * sum(math.sin(a + (2 * k - 1) * ((b - a) / n)) ** 2 for k in range(1, n // 2 + 1))
        + 2 * sum(math.sin(a + 2 * k * ((b - a) / n)) ** 2 for k in range(1, n // 2))),
        lambda r: (0.0, float(r.uniform(1, 3)), 2 * int(r.integers(2, 30)))),
    "power_series_runtime_terms": ("""
main(x::Float64, terms::Int64) = sum(x^k / factorial(k) for k in 0:terms)""",
        lambda x, t: sum(x ** k / math.factorial(k) for k in range(0, t + 1)),
        lambda r: (float(r.uniform(-1, 1)), int(r.integers(1, 20)))),
}


@pytest.mark.parametrize("name", sorted(ROUTINES))
def test_textbook_routine(name, rng):
    src, reference, make = ROUTINES[name]
    fn = jlhlo.load(src, filename=f"{name}.jl").function("main")
    for trial in range(2):                 # the second with other run-time lengths, same executable
        args = make(rng)
        for level in (0, 2):
            low = fn.lower(*args, optimize_level=level)
            got = low.outputs(low.compile("cpu")(*low.host_inputs(args)))
            assert_same(got, reference(*args), rtol=1e-9)


def test_factorial_follows_base():
    fn = jlhlo.load("main(n) = (factorial(n), factorial(5))", filename="t.jl").function("main")
    low = fn.lower(3, optimize_level=0)
    run = low.compile("cpu")
    assert_same(tuple(low.outputs(run(*flatten_host((20,))))), (math.factorial(20), 120))
    with pytest.raises(JuliaError, match="OverflowError"):
        low.outputs(run(*flatten_host((21,))))
    with pytest.raises(JuliaError, match="DomainError"):
        low.outputs(run(*flatten_host((-1,))))


def test_triangular_parts(rng):
    A = rng.standard_normal((3, 4))
    src = "main(A) = (tril(A), triu(A, 1), tril(A, -1), istril(tril(A)), istriu(A), istriu(triu(A, -1), -1))"
    low = jlhlo.load(src, filename="t.jl").function("main").lower(A, optimize_level=0)
    got = low.outputs(low.compile("cpu")(*flatten_host((A,))))
    assert_same(tuple(got), (np.tril(A), np.triu(A, 1), np.tril(A, -1), True, False, True))
