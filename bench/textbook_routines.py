"""Textbook numerical routines written as a user would (slices of run-time length, guards,
`\\`, run-time `n`), each with a NumPy reference: prints per routine whether it compiles and runs
correctly with the jlhlo installed here (`python bench/textbook_routines.py`). Not a test: the
count is what the issue on run-time sizes measures, before and after."""
from __future__ import annotations

import numpy as np

import jlhlo

R = {}
R["forward_substitution"] = ("""
function main(L::Matrix{Float64}, b::Vector{Float64})
    n = length(b)
    x = zeros(n)
    for i in 1:n
        x[i] = (b[i] - dot(L[i, 1:i-1], x[1:i-1])) / L[i, i]
    end
    return x
end""", lambda r: (np.tril(r.standard_normal((5, 5))) + 5 * np.eye(5), r.standard_normal(5)),
    lambda L, b: np.linalg.solve(L, b))
R["back_substitution"] = ("""
function main(U::Matrix{Float64}, b::Vector{Float64})
    n = length(b)
    x = zeros(n)
    for i in n:-1:1
        x[i] = (b[i] - sum(U[i, i+1:n] .* x[i+1:n])) / U[i, i]
    end
    return x
end""", lambda r: (np.triu(r.standard_normal((5, 5))) + 5 * np.eye(5), r.standard_normal(5)),
    lambda U, b: np.linalg.solve(U, b))
R["lu_no_pivoting"] = ("""
function main(A::Matrix{Float64})
    n = size(A, 1)
    L = Matrix{Float64}(I, n, n)
    U = copy(A)
    for k in 1:n-1
        for i in k+1:n
            L[i, k] = U[i, k] / U[k, k]
            U[i, k:n] .-= L[i, k] .* U[k, k:n]
        end
    end
    return L * U
end""", lambda r: (r.standard_normal((4, 4)) + 4 * np.eye(4),), lambda A: A)
R["cholesky_with_slices"] = ("""
function main(A::Matrix{Float64})
    n = size(A, 1)
    L = zeros(n, n)
    for j in 1:n
        L[j, j] = sqrt(A[j, j] - sum(L[j, 1:j-1] .^ 2))
        for i in j+1:n
            L[i, j] = (A[i, j] - dot(L[i, 1:j-1], L[j, 1:j-1])) / L[j, j]
        end
    end
    return L
end""", lambda r: ((lambda M: M @ M.T + 4 * np.eye(4))(r.standard_normal((4, 4))),), lambda A: np.linalg.cholesky(A))
R["horner"] = ("""
function main(c::Vector{Float64}, x::Float64)
    s = zero(x)
    for k in length(c):-1:1
        s = s * x + c[k]
    end
    return s
end""", lambda r: (r.standard_normal(6), 0.7), lambda c, x: np.polyval(c[::-1], x))
R["newton_interpolation"] = ("""
function divided_differences(x, y)
    n = length(x)
    c = copy(y)
    for j in 2:n
        for i in n:-1:j
            c[i] = (c[i] - c[i-1]) / (x[i] - x[i-j+1])
        end
    end
    return c
end
function main(x::Vector{Float64}, y::Vector{Float64}, t::Float64)
    c = divided_differences(x, y)
    p = c[end]
    for k in length(c)-1:-1:1
        p = p * (t - x[k]) + c[k]
    end
    return p
end""", lambda r: (np.array([0.0, 0.5, 1.0, 1.7, 2.0]), np.sin(np.array([0.0, 0.5, 1.0, 1.7, 2.0])), 1.3),
    lambda x, y, t: np.polyval(np.polyfit(x, y, 4), t))
def _trapezoid(a: float, b: float, n: int) -> float:
    h = (b - a) / n
    xs = np.linspace(a, b, n + 1)
    return h * ((np.exp(-a * a) + np.exp(-b * b)) / 2 + np.exp(-xs[1:-1] ** 2).sum())


def _simpson(a: float, b: float, n: int) -> float:
    h = (b - a) / n
    odd, even = np.sin(a + h * np.arange(1, n, 2)).sum(), np.sin(a + h * np.arange(2, n - 1, 2)).sum()
    return h / 3 * (np.sin(a) + np.sin(b) + 4 * odd + 2 * even)


R["trapezoid_runtime_n"] = ("""
function trapezoid(f, a, b, n)
    h = (b - a) / n
    return h * ((f(a) + f(b)) / 2 + sum(f(a + k * h) for k in 1:n-1))
end
main(a::Float64, b::Float64, n::Int64) = trapezoid(x -> exp(-x^2), a, b, n)
""", lambda r: (0.0, 1.0, 50), _trapezoid)
R["simpson_runtime_n"] = ("""
function simpson(f, a, b, n)
    iseven(n) || throw(ArgumentError("n must be even"))
    h = (b - a) / n
    s = f(a) + f(b)
    s += 4 * sum(f(a + k * h) for k in 1:2:n-1)
    s += 2 * sum(f(a + k * h) for k in 2:2:n-2)
    return s * h / 3
end
main(a::Float64, b::Float64, n::Int64) = simpson(sin, a, b, n)
""", lambda r: (0.0, np.pi, 40), _simpson)
R["power_series_runtime_terms"] = ("""
main(x::Float64, N::Int64) = sum(x^k / factorial(k) for k in 0:N)
""", lambda r: (0.8, 15), lambda x, N: sum(x ** k / np.prod(np.arange(1, k + 1, dtype=float)) for k in range(N + 1)))
R["gauss_seidel"] = ("""
function main(A::Matrix{Float64}, b::Vector{Float64})
    n = length(b)
    x = zeros(n)
    for sweep in 1:50
        for i in 1:n
            x[i] = (b[i] - dot(A[i, 1:i-1], x[1:i-1]) - dot(A[i, i+1:n], x[i+1:n])) / A[i, i]
        end
    end
    return x
end""", lambda r: (r.standard_normal((4, 4)) + 6 * np.eye(4), r.standard_normal(4)), lambda A, b: np.linalg.solve(A, b))
R["solve_with_backslash"] = ("""
main(A::Matrix{Float64}, b::Vector{Float64}) = A \\ b
""", lambda r: (r.standard_normal((4, 4)) + 2 * np.eye(4), r.standard_normal(4)), lambda A, b: np.linalg.solve(A, b))
R["bisection_with_guards"] = ("""
function bisect(f, lo, hi; tol = 1e-12)
    @assert lo < hi "empty interval"
    f(lo) * f(hi) <= 0 || error("no sign change")
    while hi - lo > tol
        mid = (lo + hi) / 2
        if f(lo) * f(mid) <= 0
            hi = mid
        else
            lo = mid
        end
    end
    return (lo + hi) / 2
end
main(c::Float64) = bisect(x -> x^3 - c, 0.0, 3.0)
""", lambda r: (2.0,), lambda c: c ** (1 / 3))



def main() -> None:
    ok = compiled = 0
    rng = np.random.default_rng(0)
    for name, (src, make, ref) in R.items():
        args = make(rng)
        try:
            lowered = jlhlo.load(src, filename=name + ".jl").function("main").lower(*args)
            compiled += 1
            got = lowered.outputs(lowered.compile()(*lowered.host_inputs(args)))
            good = bool(np.allclose(got, ref(*args), rtol=1e-6, atol=1e-8))
            ok += good
            print(f"{name:30s} compiles, {'correct' if good else 'WRONG'}")
        except Exception as e:        # noqa: BLE001 - reported per routine
            print(f"{name:30s} refused: {type(e).__name__}: {str(e).splitlines()[0][:90]}")
    print(f"{compiled}/{len(R)} compile, {ok}/{len(R)} correct")


if __name__ == "__main__":
    main()
