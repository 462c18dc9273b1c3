"""LinearAlgebra in the prelude (`frontend/prelude/linalg.jl`): solves, determinants, inverses,
diagonals, cross products, against NumPy on random, pivoting-prone and integer inputs, and Julia's
SingularException and DimensionMismatch where it throws them."""
from __future__ import annotations

import numpy as np
import pytest
from jlhlo.frontend.diagnostics import JuliaError

import jlhlo

SRC = """
function main(A, b, B)
    return A \\ b, A \\ B, det(A), inv(A), diag(A), diagm(b), normalize(b), logdet(A * A')
end"""


def run(src: str, *args, level: int = 2):
    f = jlhlo.load(src, filename="t.jl").function("main")
    lowered = f.lower(*args, optimize_level=level)
    return lowered.outputs(lowered.compile()(*lowered.host_inputs(args)))


def _want(A, b, B):
    Af = A.astype(np.float64) if A.dtype.kind in "iu" else A
    return (np.linalg.solve(Af, b), np.linalg.solve(Af, B), np.linalg.det(Af), np.linalg.inv(Af), np.diag(A),
            np.diag(b), b / np.linalg.norm(b), np.log(np.linalg.det(Af @ Af.T)))


@pytest.mark.parametrize("n, dtype", [(1, np.float64), (4, np.float64), (7, np.float64), (5, np.float32)])
def test_solve_det_inv_against_numpy(rng, n, dtype):
    A = rng.standard_normal((n, n)).astype(dtype)
    if n > 1:
        A[0, 0] = 0.0                  # the first column needs a row swap
    b = rng.standard_normal(n).astype(dtype)
    B = rng.standard_normal((n, 3)).astype(dtype)
    got = run(SRC, A, b, B)
    tol = 1e-9 if dtype == np.float64 else 2e-3
    for k, (g, w) in enumerate(zip(got, _want(A, b, B))):
        g = np.asarray(g)
        assert g.shape == np.shape(w) and g.dtype == dtype, k
        np.testing.assert_allclose(g, w, rtol=tol, atol=tol * max(1.0, np.abs(w).max()), err_msg=f"result {k + 1}")


def test_integer_matrices_solve_in_floats(rng):
    A = np.array([[2, 1, 0], [1, 3, 1], [0, 1, 4]])
    b = np.array([1, 2, 3])
    B = np.eye(3, dtype=np.int64)
    got = run(SRC, A, b, B)
    assert got[0].dtype == np.float64 and got[4].dtype == np.int64
    np.testing.assert_allclose(got[0], np.linalg.solve(A, b), rtol=1e-12)
    np.testing.assert_allclose(got[2], 18.0, rtol=1e-12)


def test_cross_product_and_its_dimension_check(rng):
    a, b = rng.standard_normal(3), rng.standard_normal(3)
    np.testing.assert_allclose(run("main(a, b) = cross(a, b)", a, b), np.cross(a, b), rtol=1e-12)
    with pytest.raises(JuliaError, match="DimensionMismatch: cross product"):
        run("main(a, b) = cross(a, b)", rng.standard_normal(2), rng.standard_normal(2))


def test_a_singular_matrix_throws_singular_exception():
    A = np.array([[1.0, 2.0], [2.0, 4.0]])
    # Julia says SingularException(2); the index is a run-time value, shown as its source text
    with pytest.raises(JuliaError, match=r"LinearAlgebra.SingularException\(\$\(i\)\)") as info:
        run("main(A, b) = A \\ b", A, np.ones(2))
    assert info.value.span.line == 1 and info.value.span.file == "t.jl"
    np.testing.assert_allclose(run("main(A) = det(A)", A), 0.0, atol=1e-15)


def test_gradients_of_solve_and_det(rng):
    src = """
function main(A::Matrix{Float64}, b::Vector{Float64})
    gs = gradient((M, v) -> sum(M \\ v), A, b)
    gd = gradient(M -> det(M), A)
    return gs[1], gs[2], gd[1]
end"""
    A = rng.standard_normal((4, 4)) + 4 * np.eye(4)
    A[0, 0] = 0.0
    b = rng.standard_normal(4)
    got = run(src, A, b)
    x = np.linalg.solve(A, b)
    lam = np.linalg.solve(A.T, np.ones(4))
    want = (-np.outer(lam, x), lam, np.linalg.det(A) * np.linalg.inv(A).T)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-9)


def test_statistics_against_numpy(rng):
    src = """
main(v::Vector{Float64}, w::Vector{Int64}, X::Matrix{Float64}) = (median(v), median(w), quantile(v, 0.3),
    quantile(w, 0.5), cov(v, v .^ 2), cor(v, v .^ 3), cov(X), cor(X), cov(X; dims=2), median([1.0, NaN]))"""
    for n in (5, 6):
        v = rng.standard_normal(n)
        w = rng.integers(-5, 5, n)
        X = rng.standard_normal((n, 3))
        got = run(src, v, w, X)
        want = (np.median(v), np.median(w).astype(np.float64), np.quantile(v, 0.3), np.quantile(w, 0.5),
                np.cov(v, v ** 2)[0, 1], np.corrcoef(v, v ** 3)[0, 1], np.cov(X, rowvar=False),
                np.corrcoef(X, rowvar=False), np.cov(X))
        for k, (g, wv) in enumerate(zip(got, want)):
            assert np.asarray(g).dtype == np.float64 and np.shape(g) == np.shape(wv), k
            np.testing.assert_allclose(g, wv, rtol=1e-12, atol=1e-14, err_msg=f"result {k + 1}")
        assert np.isnan(got[-1])
    with pytest.raises(JuliaError, match="out of \\[0,1\\] range"):
        run("main(v) = quantile(v, 1.5)", rng.standard_normal(3))


def test_quantiles_at_several_probabilities_and_at_the_ends(rng):
    """Statistics' type-7 quantile (its own arithmetic: `a + γ*(b - a)` between the order statistics
    j = trunc(n*p + 1 - p) and j + 1, `(1 - γ)*a + γ*b` next to an infinity), at a vector or tuple of
    probabilities; `diag(A, k)`."""
    src = """
    main(v::Vector{Float64}, p::Vector{Float64}, A::Matrix{Float64}) =
        (quantile(v, p), quantile(v, (0.0, 1.0)), quantile([2.5], 0.7), quantile([1.0, Inf], 0.5), diag(A, 1),
         diag(A, -2), diag(A, 5))"""
    v, p, A = rng.standard_normal(7), np.array([0.0, 0.1, 0.25, 0.5, 0.9, 1.0]), rng.standard_normal((4, 5))
    got = run(src, v, p, A)
    s = np.sort(v)
    assert got[0].dtype == np.float64 and got[0].shape == (6,)
    np.testing.assert_allclose(got[0], np.quantile(v, p), rtol=1e-14, atol=1e-15)
    assert got[0][0] == s[0] and got[1][0] == s[0]       # the ends are order statistics (γ = 0 or b - a added)
    np.testing.assert_allclose(got[1][1], s[-1], rtol=1e-15)
    assert got[2] == 2.5 and got[3] == np.inf
    assert [list(d) for d in got[4:]] == [list(np.diag(A, 1)), list(np.diag(A, -2)), []]
