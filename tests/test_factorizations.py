"""LinearAlgebra's factorizations and structured matrices in the prelude (`frontend/prelude/factorizations.jl`):
cholesky, lu, qr, eigen/eigvals/eigvecs, svdvals, opnorm, rank, pinv, issymmetric/ishermitian/isposdef, and
Symmetric, Diagonal, LowerTriangular, UpperTriangular, against NumPy (LAPACK) on seeded random inputs in Float64
and Float32, with Julia's exceptions where Julia throws and gradients where reverse mode goes through.

Each program is loaded once (the module-scoped `prog`) and called with one shape per dtype, so each entry
compiles once per dtype and the inputs vary."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import assert_same
from jlhlo.frontend.diagnostics import JuliaError

import jlhlo

SRC = """
function chol(A, b, B)
    C = cholesky(A)
    return C.L, C.U, C \\ b, C \\ B, det(C), logdet(C), inv(C), Matrix(C), isposdef(A), issymmetric(A), ishermitian(A)
end
function predicates(A)
    return issymmetric(A), ishermitian(A), isposdef(A)
end
function lu_parts(A, b, B)
    F = lu(A)
    return F.L, F.U, F.p, F.P, F.factors, F \\ b, F \\ B, det(F), inv(F), Matrix(F)
end
function qr_parts(A, b)
    F = qr(A)
    return F.Q, F.R, F \\ b, Matrix(F)
end
function eig(A)
    E = eigen(A)
    return E.values, E.vectors, eigvals(A), eigvecs(A), eigvals(Symmetric(A))
end
function singular(A)
    return svdvals(A), opnorm(A), opnorm(A, 1), opnorm(A, Inf), rank(A), pinv(A)
end
function structured(A, b)
    S, D, L, U = Symmetric(A), Diagonal(b), LowerTriangular(A), UpperTriangular(A)
    return (Matrix(S), S * b, S \\ b, det(S), tr(S), size(S), getindex(S, 3, 1),
            Matrix(D), D * b, D * A, A * D, D \\ b, det(D), tr(D), size(D), getindex(D, 2, 2), getindex(D, 1, 2),
            Matrix(L), L * b, L \\ b, det(L), tr(L), getindex(L, 1, 3), Matrix(L'), Matrix(inv(L)),
            Matrix(U), U * A, U \\ b, det(U), tr(U), getindex(U, 1, 3), Matrix(inv(U)))
end

# programs written the way a Julia user writes them (one entry, so that they compile together)
function ridge(X, y, λ)
    C = cholesky(Symmetric(X' * X + λ * I))
    β = C \\ (X' * y)
    return β, logdet(C)
end
least_squares(X, y) = qr(X) \\ y
function whiten(Σ, x)
    L = cholesky(Σ).L
    return LowerTriangular(L) \\ x
end
users(X, y, λ, Σ, x) = (ridge(X, y, λ)..., least_squares(X, y), whiten(Σ, x))

# gradients
function grads(A, b)
    g1 = gradient(M -> logdet(cholesky(M)), A)
    g2 = gradient(M -> sum(cholesky(M) \\ b), A)
    g3 = gradient(M -> logdet(cholesky(Symmetric(M))), A)
    return g1[1], g2[1], g3[1]
end
"""

F64, F32 = np.float64, np.float32
TOL = {F64: 1e-9, F32: 2e-4}


@pytest.fixture(scope="module")
def prog():
    return jlhlo.load(SRC, filename="factorizations_test.jl")


def _spd(rng, n, dtype):
    X = rng.standard_normal((n, n))
    return (X.T @ X + n * np.eye(n)).astype(dtype)          # exactly symmetric, well conditioned


def _sym(rng, n, dtype):
    X = rng.standard_normal((n, n))
    return ((X + X.T) / 2).astype(dtype)


def _close(got, want, dtype, scale=1.0):
    """Same dtype and shape exactly, values to the dtype's tolerance relative to the result's size."""
    tol = TOL[dtype] * scale
    assert_same(got, want, rtol=tol, atol=tol * max(1.0, float(np.max(np.abs(want), initial=0.0))))


@pytest.mark.parametrize("dtype", [F64, F32])
def test_cholesky_against_numpy(prog, dtype):
    n = 5
    for seed in range(3):
        rng = np.random.default_rng(seed)
        A = _spd(rng, n, dtype)
        b = rng.standard_normal(n).astype(dtype)
        B = rng.standard_normal((n, 2)).astype(dtype)
        got = prog.function("chol")(A, b, B)
        A64 = A.astype(F64)
        L = np.linalg.cholesky(A64)
        logdet = np.linalg.slogdet(A64)[1]
        want = (L, L.T, np.linalg.solve(A64, b), np.linalg.solve(A64, B), np.linalg.det(A64), logdet,
                np.linalg.inv(A64), A64)
        for k, (g, w) in enumerate(zip(got[:8], want)):
            _close(g, w.astype(dtype) if isinstance(w, np.ndarray) else dtype(w), dtype, scale=10 if k >= 2 else 1)
        assert_same(got[8:], (np.bool_(True), np.bool_(True), np.bool_(True)))
        assert np.all(np.triu(got[0], 1) == 0) and np.all(np.tril(got[1], -1) == 0)


def test_cholesky_throws_pos_def_exception(prog):
    rng = np.random.default_rng(7)
    n = 5
    b, B = np.zeros(n), np.zeros((n, 2))
    A = _spd(rng, n, F64)
    A[0, 1] += 1e-12                                   # not exactly symmetric: Julia's PosDefException(-1)
    with pytest.raises(JuliaError, match=r"PosDefException: matrix is not Hermitian; Cholesky factorization failed") as info:
        prog.function("chol")(A, b, B)
    assert info.value.span.file == "factorizations_test.jl" and info.value.span.line == 3     # the user's call
    A = _sym(rng, n, F64) - 10 * np.eye(n)             # symmetric, negative definite
    with pytest.raises(JuliaError, match=r"PosDefException: matrix is not positive definite; Cholesky factorization failed"):
        prog.function("chol")(A, b, B)
    with pytest.raises(JuliaError, match="PosDefException"):
        prog.function("chol")(np.diag([1.0, 2.0, 0.0, 3.0, 4.0]), b, B)      # semidefinite fails too
    # the predicates say so without throwing
    for M, want in [(_spd(rng, n, F64), (True, True, True)), (_sym(rng, n, F64) - 10 * np.eye(n), (True, True, False)),
                    (rng.standard_normal((n, n)), (False, False, False))]:
        assert_same(prog.function("predicates")(M), tuple(np.bool_(w) for w in want))
    assert_same(prog.function("predicates")(rng.standard_normal((3, 4))), (np.bool_(False),) * 3)


@pytest.mark.parametrize("dtype", [F64, F32])
def test_lu_against_a_getrf_reference(prog, dtype):
    n = 5
    for seed in range(3):
        rng = np.random.default_rng(10 + seed)
        A = rng.standard_normal((n, n)).astype(dtype)
        A[0, 0] = 0                                   # the first column needs a row swap
        b = rng.standard_normal(n).astype(dtype)
        B = rng.standard_normal((n, 3)).astype(dtype)
        L, U, p, P, factors, x, X, d, Ainv, M = prog.function("lu_parts")(A, b, B)
        # partial pivoting as LAPACK's getrf: the same factors as a reference elimination in float64
        pr, Lr, Ur = _lu_reference(A.astype(F64))
        _close(L, Lr.astype(dtype), dtype, 10)
        _close(U, Ur.astype(dtype), dtype, 10)
        assert_same(p, pr + 1)                        # 1-based permutation vector, Int64
        assert_same(P, np.eye(n, dtype=dtype)[pr])
        _close(factors, (np.tril(Lr, -1) + Ur).astype(dtype), dtype, 10)
        A64 = A.astype(F64)
        _close(x, np.linalg.solve(A64, b).astype(dtype), dtype, 10)
        _close(X, np.linalg.solve(A64, B).astype(dtype), dtype, 10)
        _close(d, dtype(np.linalg.det(A64)), dtype, 10)
        _close(Ainv, np.linalg.inv(A64).astype(dtype), dtype, 10)
        _close(M, A, dtype)
        assert np.all(np.diag(L) == 1)


def _lu_reference(A):
    """getrf's partial pivoting (first row of largest magnitude), row swaps whole: p, L, U with A[p] = L U."""
    n = A.shape[0]
    F = A.copy()
    p = np.arange(n)
    for k in range(n):
        r = k + int(np.argmax(np.abs(F[k:, k])))
        F[[k, r]], p[[k, r]] = F[[r, k]], p[[r, k]]
        if F[k, k] != 0:
            F[k + 1:, k] /= F[k, k]
            F[k + 1:, k + 1:] -= np.outer(F[k + 1:, k], F[k, k + 1:])
    return p, np.tril(F, -1) + np.eye(n), np.triu(F)


def test_lu_of_a_singular_matrix_throws(prog):
    A = np.array([[1.0, 2.0, 3.0, 4.0, 5.0]] * 2 + [[0.0, 1.0, 0.0, 0.0, 1.0], [1.0, 0, 0, 1, 0], [0, 0, 1.0, 0, 0]])
    with pytest.raises(JuliaError, match=r"SingularException"):
        prog.function("lu_parts")(A, np.ones(5), np.ones((5, 3)))


@pytest.mark.parametrize("dtype, shape", [(F64, (7, 4)), (F32, (7, 4))])
def test_qr_matches_lapack_signs(prog, dtype, shape):
    m, n = shape
    for seed in range(3):
        rng = np.random.default_rng(20 + seed)
        A = rng.standard_normal(shape).astype(dtype)
        b = rng.standard_normal(m).astype(dtype)
        Q, R, x, M = prog.function("qr_parts")(A, b)
        Qw, Rw = np.linalg.qr(A.astype(F64))          # geqrf + orgqr: Q and R with LAPACK's signs
        _close(Q, Qw.astype(dtype), dtype, 10)
        _close(R, Rw.astype(dtype), dtype, 10)
        assert np.all(np.tril(R, -1) == 0)
        _close(x, np.linalg.lstsq(A.astype(F64), b, rcond=None)[0].astype(dtype), dtype, 10)
        _close(M, A, dtype, 10)


def test_qr_of_a_column_that_is_already_reduced():
    """Square matrices; and dlarfg's τ = 0 case: a column with zeros below the diagonal keeps its (negative) diagonal entry."""
    A = np.array([[-2.0, 1.0, 3.0], [0.0, 4.0, 1.0], [0.0, 0.0, -5.0]])
    f = jlhlo.load("main(A) = (F = qr(A); (F.Q, F.R))", filename="t.jl").function("main")
    Q, R = f(A)
    Qw, Rw = np.linalg.qr(A)
    assert_same((Q, R), (Qw, Rw), rtol=1e-14, atol=1e-14)
    for seed in range(3):                              # and square ones in general
        A = np.random.default_rng(25 + seed).standard_normal((3, 3))
        assert_same(f(A), tuple(np.linalg.qr(A)), rtol=1e-12, atol=1e-12)


def _eig_check(values, vectors, A, dtype):
    w, V = np.linalg.eigh(A.astype(F64))
    _close(values, w.astype(dtype), dtype, 10)
    assert vectors.dtype == dtype and vectors.shape == A.shape
    signs = np.sign(np.sum(vectors * V, axis=0)).astype(dtype)       # eigenvectors are unique up to sign
    _close(vectors * signs, V.astype(dtype), dtype, 100)
    _close(vectors.T @ vectors, np.eye(A.shape[0], dtype=dtype), dtype, 10)


@pytest.mark.parametrize("dtype", [F64, F32])
def test_symmetric_eigen_ascending_with_orthonormal_vectors(prog, dtype):
    n = 5
    for seed in range(3):
        rng = np.random.default_rng(30 + seed)
        A = _sym(rng, n, dtype)
        values, vectors, ev, evecs, evsym = prog.function("eig")(A)
        _eig_check(values, vectors, A, dtype)
        _eig_check(ev, evecs, A, dtype)
        assert_same(evsym, values)
        assert np.all(np.diff(values) >= 0)
    # repeated eigenvalues (a rotated diagonal with a double eigenvalue) and an already diagonal matrix
    Qr, _ = np.linalg.qr(np.random.default_rng(3).standard_normal((n, n)))
    A = (Qr @ np.diag([2.0, -1.0, 2.0, 0.5, 3.0]) @ Qr.T)
    A = ((A + A.T) / 2).astype(dtype)
    values = prog.function("eig")(A)[0]
    _close(values, np.array([-1.0, 0.5, 2.0, 2.0, 3.0], dtype=dtype), dtype, 10)
    D = np.diag([3.0, 1.0, 2.0, -4.0, 0.0]).astype(dtype)
    values, vectors = prog.function("eig")(D)[:2]
    assert_same(values, np.array([-4.0, 0.0, 1.0, 2.0, 3.0], dtype=dtype))
    assert_same(np.abs(vectors), np.eye(n, dtype=dtype)[:, [3, 4, 1, 2, 0]])


def test_eigen_of_a_non_symmetric_matrix_is_refused(prog):
    A = np.random.default_rng(4).standard_normal((5, 5))
    with pytest.raises(JuliaError, match="ArgumentError: .*only real symmetric matrices"):
        prog.function("eig")(A)


@pytest.mark.parametrize("dtype, shape", [(F64, (6, 4)), (F32, (3, 5))])
def test_singular_values_norms_rank_pinv(prog, dtype, shape):
    m, n = shape
    k = min(m, n)
    eps = np.finfo(dtype).eps
    for seed in range(3):
        rng = np.random.default_rng(40 + seed)
        A = rng.standard_normal(shape).astype(dtype)
        s, n2, n1, ninf, r, P = prog.function("singular")(A)
        A64 = A.astype(F64)
        sw = np.linalg.svd(A64, compute_uv=False)
        assert s.dtype == dtype and s.shape == (k,)
        np.testing.assert_allclose(s, sw, rtol=1e-8 if dtype == F64 else 1e-4)      # relative, each value
        _close(n2, dtype(sw[0]), dtype)
        assert_same(n1, dtype(np.abs(A).sum(axis=0).max()), rtol=TOL[dtype])
        assert_same(ninf, dtype(np.abs(A).sum(axis=1).max()), rtol=TOL[dtype])
        assert_same(r, np.int64(k))
        _close(P, np.linalg.pinv(A64, rcond=k * eps).astype(dtype), dtype, 100)
    # rank-deficient: a product through a smaller inner dimension, and a zero matrix
    A = (rng.standard_normal((m, 2)) @ rng.standard_normal((2, n))).astype(dtype)
    s, _, _, _, r, P = prog.function("singular")(A)
    assert_same(r, np.int64(np.linalg.matrix_rank(A.astype(F64), tol=k * eps * np.linalg.norm(A.astype(F64), 2))))
    assert r == 2
    _close(P, np.linalg.pinv(A.astype(F64), rcond=k * eps).astype(dtype), dtype, 1000)
    s, n2, _, _, r, P = prog.function("singular")(np.zeros(shape, dtype=dtype))
    assert_same((s, n2, r, P), (np.zeros(k, dtype=dtype), dtype(0), np.int64(0), np.zeros((n, m), dtype=dtype)))


def test_opnorm_rejects_other_p():
    f = jlhlo.load("main(A) = opnorm(A, 3)", filename="t.jl").function("main")
    with pytest.raises(JuliaError, match="ArgumentError: invalid p-norm p=3. Valid: 1, 2, Inf"):
        f(np.eye(2))


def test_structured_wrappers(prog):
    dtype = F64
    n = 4
    rng = np.random.default_rng(50)
    A = (rng.standard_normal((n, n)) + 3 * np.eye(n)).astype(dtype)
    b = (rng.standard_normal(n) + 2).astype(dtype)
    got = prog.function("structured")(A, b)
    A64, b64 = A.astype(F64), b.astype(F64)
    S = np.triu(A64) + np.triu(A64, 1).T               # Symmetric(A) reads the upper triangle (uplo = :U)
    L, U, D = np.tril(A64), np.triu(A64), np.diag(b64)
    want = (S, S @ b64, np.linalg.solve(S, b64), np.linalg.det(S), np.trace(S), (n, n), S[2, 0],
            D, D @ b64, D @ A64, A64 @ D, b64 / b64, np.prod(b64), np.sum(b64), (n, n), b64[1], 0.0,
            L, L @ b64, np.linalg.solve(L, b64), np.prod(np.diag(A64)), np.trace(A64), 0.0, L.T, np.linalg.inv(L),
            U, U @ A64, np.linalg.solve(U, b64), np.prod(np.diag(A64)), np.trace(A64), A64[0, 2], np.linalg.inv(U))
    assert len(got) == len(want)
    for k, (g, w) in enumerate(zip(got, want)):
        if isinstance(w, tuple):
            assert_same(g, tuple(np.int64(v) for v in w))
        else:
            _close(g, w.astype(dtype) if isinstance(w, np.ndarray) else dtype(w), dtype, 10)


def test_structured_solves_throw_where_julia_does():
    src = "main(d, A, b) = (Diagonal(d) \\ b, LowerTriangular(A) \\ b)"
    f = jlhlo.load(src, filename="t.jl").function("main")
    with pytest.raises(JuliaError, match="SingularException"):
        f(np.array([1.0, 0.0]), np.eye(2), np.ones(2))
    with pytest.raises(JuliaError, match="SingularException"):
        f(np.ones(2), np.array([[1.0, 0.0], [2.0, 0.0]]), np.ones(2))
    with pytest.raises(JuliaError, match="DimensionMismatch"):
        jlhlo.load("main(A) = Symmetric(A)", filename="t.jl").function("main")(np.ones((2, 3)))


@pytest.mark.parametrize("dtype", [F64, F32])
def test_programs_as_julia_users_write_them(prog, dtype):
    rng = np.random.default_rng(60)
    for _ in range(2):
        X = rng.standard_normal((12, 4)).astype(dtype)
        y = rng.standard_normal(12).astype(dtype)
        Σ = _spd(rng, 4, dtype)
        x = rng.standard_normal(4).astype(dtype)
        β, ld, β_ls, z = prog.function("users")(X, y, dtype(0.5), Σ, x)
        X64, y64 = X.astype(F64), y.astype(F64)
        A = X64.T @ X64 + 0.5 * np.eye(4)
        _close(β, np.linalg.solve(A, X64.T @ y64).astype(dtype), dtype, 10)
        _close(ld, dtype(np.linalg.slogdet(A)[1]), dtype, 10)
        _close(β_ls, np.linalg.lstsq(X64, y64, rcond=None)[0].astype(dtype), dtype, 10)
        _close(z, np.linalg.solve(np.linalg.cholesky(Σ.astype(F64)), x).astype(dtype), dtype, 10)


def test_gradients_through_cholesky(prog):
    """Reverse mode through the prelude's loops. cholesky reads the upper triangle only (LAPACK's potrf with
    uplo = 'U', as Julia), so the gradient with respect to all entries of A lives on the upper triangle:
    off-diagonal G[i, j] + G[j, i], diagonal G[i, i], for the symmetric analytic gradient G (inv(A) for logdet,
    -inv(A) b̄ xᵀ symmetrized for a solve); this is the UpperTriangular gradient ChainRules gives for a dense
    matrix. Through Symmetric(A) the same: Symmetric reads the upper triangle too."""
    n = 5
    for seed in range(2):
        rng = np.random.default_rng(70 + seed)
        A = _spd(rng, n, F64)
        b = rng.standard_normal(n)
        g1, g2, g3 = prog.function("grads")(A, b)
        Ainv = np.linalg.inv(A)

        def on_upper(G):
            return np.triu(G + G.T) - np.diag(np.diag(G))
        x = Ainv @ b
        lam = Ainv.T @ np.ones(n)
        assert_same(g1, on_upper(Ainv), rtol=1e-9, atol=1e-12)
        assert_same(g2, on_upper(-np.outer(lam, x)), rtol=1e-9, atol=1e-12)
        assert_same(g3, on_upper(Ainv), rtol=1e-9, atol=1e-12)
        # symmetrized, it is the analytic derivative of logdet: inv(A)ᵀ
        np.testing.assert_allclose((g1 + g1.T) / 2, Ainv.T, rtol=1e-9, atol=1e-12)
