# LinearAlgebra's factorizations (cholesky, lu, qr, eigen, svdvals) and structured matrices
# (Symmetric, Diagonal, LowerTriangular, UpperTriangular), for real matrices, written in the language.
#
# As in linalg.jl, loops have static trip counts and each step works on whole rows, columns or the
# whole matrix (masked with `ifelse.` against an index range), so that no slice has a length that
# changes inside a loop, a loop has n steps rather than n² (XLA compiles the unrolled steps), and
# reverse mode goes through; a check that can throw is recorded in the loop (`info`) and thrown
# after it, as LAPACK returns `info`. The iterative ones (Jacobi sweeps for eigen and svdvals) are
# `while` loops, whose inner loop over index pairs is one loop of n² trips, not two nested ones.
# Real matrices only (Float64, Float32; integers are converted to floats as Julia does).
#
# What differs from Julia, because the language has no `getproperty` overloading: the properties a
# user reads (`C.L`, `C.U`, `F.p`, `F.P`, `F.Q`, `F.R`, `E.values`, `E.vectors`) are real fields,
# computed when the factorization is, and each is a plain `Matrix` (Julia gives `LowerTriangular`,
# `UpperTriangular`, a Q operator...). `M[i, j]` on a wrapper is not indexing syntax here (indexing
# a struct is tuple-like in the compiler); `getindex(M, i, j)` is defined and can be called.
# `Symmetric(A)` takes the upper triangle (Julia's default); `Symmetric(A, :L)` is not provided.

# ---- predicates (real matrices: Hermitian is symmetric; exact equality, as Julia's)
issymmetric(A::AbstractMatrix) = size(A, 1) == size(A, 2) && A == transpose(A)
issymmetric(x::Number) = x == x
ishermitian(A::AbstractMatrix) = size(A, 1) == size(A, 2) && A == adjoint(A)
ishermitian(x::Number) = x == conj(x)
isposdef(A::AbstractMatrix) = ishermitian(A) && _cholesky_upper(A)[2] == 0
isposdef(x::Number) = imag(x) == 0 && real(x) > 0

_checksquare(A) = size(A, 1) == size(A, 2) ||
    throw(DimensionMismatch("matrix is not square: dimensions are $(size(A))"))
_eye(T, n) = [i == j ? one(T) : zero(T) for i in 1:n, j in 1:n]

# (the triangular solves `_forward` and `_backward` are in linalg.jl, next to `\` for a matrix)
# b as the matrix of its columns, in the element type of the solution
_rhs(T, b::AbstractVector) = T.(reshape(b, length(b), 1))
_rhs(T, B::AbstractMatrix) = T.(copy(B))
_shaped(b::AbstractVector, X) = vec(X)
_shaped(B::AbstractMatrix, X) = X
function _check_rows(n, b)
    size(b, 1) == n || throw(DimensionMismatch("arguments must have the same number of rows"))
end
# Julia's SingularException at the first zero on the diagonal (its own loop: it may throw)
function _check_diagonal(A)
    for i in 1:min(size(A, 1), size(A, 2))
        A[i, i] == 0 && throw(SingularException(i))
    end
end
# a product by a loop: reverse mode has no rule for a product reduction
function _prod_diag(A, d)
    for i in 1:min(size(A, 1), size(A, 2))
        d *= A[i, i]
    end
    return d
end

# ---- Cholesky: A = U'U = LL' (LAPACK's potrf with uplo = 'U', as Julia's `cholesky(A)`).
# Julia's PosDefException: -1 for a matrix that is not Hermitian (exact test), else the order of
# the first leading minor that is not positive definite.
struct Cholesky{M<:AbstractMatrix}
    factors::M          # U (Julia's uplo is 'U')
    L::M
    U::M
    info::Int
end
# the upper factor, right-looking, and LAPACK's info (0, or the first failing column)
function _cholesky_upper(A::AbstractMatrix)
    _checksquare(A)
    n = size(A, 1)
    S = float.(copy(A))
    T = eltype(S)
    U = zeros(T, n, n)
    info = 0
    for k in 1:n
        d = S[k, k]
        info = ifelse((info == 0) & !(d > 0), k, info)        # (NaN fails too)
        r = sqrt(ifelse(d > 0, d, one(T)))
        u = ifelse.((1:n) .>= k, S[k, :] ./ r, zero(T))
        U[k, :] = u
        S .-= u * u'
    end
    return U, info
end
function cholesky(A::AbstractMatrix)
    _checksquare(A)
    ishermitian(A) || throw(PosDefException(-1))
    U, info = _cholesky_upper(A)
    info == 0 || throw(PosDefException(info))
    return Cholesky(U, copy(U'), U, info)
end
cholesky(S::Symmetric) = cholesky(Matrix(S))
size(C::Cholesky) = size(C.U)
size(C::Cholesky, d::Integer) = size(C.U, d)
Matrix(C::Cholesky) = C.L * C.U
issuccess(C::Cholesky) = C.info == 0
isposdef(C::Cholesky) = C.info == 0
function \(C::Cholesky, b::AbstractVecOrMat)
    _check_rows(size(C.U, 1), b)
    X = _rhs(promote_type(eltype(C.U), eltype(b)), b)
    return _shaped(b, _backward(C.U, _forward(C.L, X, false)))
end
det(C::Cholesky) = (d = _prod_diag(C.U, one(eltype(C.U))); d * d)
logdet(C::Cholesky) = 2 * sum(log.(diag(C.U)))
logabsdet(C::Cholesky) = (logdet(C), one(eltype(C.U)))
inv(C::Cholesky) = C \ _eye(eltype(C.U), size(C.U, 1))

# ---- LU with partial pivoting (linalg.jl's `_lu`, as LAPACK's getrf): A[p, :] = L * U, P * A = L * U.
# As Julia's `lu(A)` (check = true), a zero pivot throws SingularException at its column.
struct LU{M<:AbstractMatrix,V<:AbstractVector}
    factors::M          # L below the diagonal (unit diagonal implied), U on and above
    L::M
    U::M
    p::V
    P::M
    sign::Int           # of the permutation (not a field of Julia's LU)
end
function lu(A::AbstractMatrix)
    F, perm, s = _lu(A)
    _check_diagonal(F)
    T = eltype(F)
    n = size(F, 1)
    L = tril(F, -1) .+ _eye(T, n)
    U = triu(F)
    P = T.(perm .== transpose(collect(1:n)))           # P[i, p[i]] = 1
    return LU(F, L, U, perm, P, s > 0 ? 1 : -1)
end
size(F::LU) = size(F.factors)
size(F::LU, d::Integer) = size(F.factors, d)
Matrix(F::LU) = F.P' * (F.L * F.U)
issuccess(F::LU) = true
function \(F::LU, b::AbstractVecOrMat)
    _check_rows(size(F.U, 1), b)
    X = _rhs(promote_type(eltype(F.U), eltype(b)), b)[F.p, :]
    return _shaped(b, _backward(F.U, _forward(F.L, X, true)))
end
det(F::LU) = _prod_diag(F.U, F.sign * one(eltype(F.U)))
logdet(F::LU) = log(det(F))
inv(F::LU) = F \ _eye(eltype(F.U), size(F.U, 1))

# ---- QR by Householder reflections, as LAPACK's geqrf (dlarfg's convention: β = -sign(α)‖x‖,
# τ = (β - α)/β, v = [1; x[2:end] / (α - β)], and τ = 0 where x[2:end] is zero), so R's diagonal
# has LAPACK's (and NumPy's) signs. In Julia `F.Q` is an operator (QRCompactWYQ, m×m when applied)
# and `Matrix(F.Q)` the thin m×k Q; here the field `Q` is that thin Matrix, k = min(m, n), and `R`
# is k×n.
struct QRCompactWY{M<:AbstractMatrix,V<:AbstractVector}
    Q::M
    R::M
    τ::V
end
function qr(A::AbstractMatrix)
    m, n = size(A)
    k = min(m, n)
    R = float.(copy(A))
    T = eltype(R)
    Vs = zeros(T, m, k)             # the reflectors, column by column
    τs = zeros(T, k)
    for c in 1:k
        α = R[c, c]
        x = ifelse.((1:m) .> c, R[:, c], zero(T))
        xnorm = norm(x)
        β = -copysign(hypot(α, xnorm), α)
        nonzero = xnorm != 0
        τ = ifelse(nonzero, (β - α) / β, zero(T))
        s = ifelse(nonzero, one(T) / (α - β), zero(T))
        v = ifelse.((1:m) .== c, one(T), x .* s)
        w = vec(v' * R)                                 # vᵀR, for the columns right of c
        R .-= (τ .* v) * ifelse.((1:n) .> c, w, zero(T))'
        R[:, c] = ifelse.((1:m) .< c, R[:, c], ifelse.((1:m) .== c, ifelse(nonzero, β, α), zero(T)))
        Vs[:, c] = v
        τs[c] = τ
    end
    Q = _eye_rect(T, m, k)                               # H₁H₂⋯Hₖ applied to I[:, 1:k], as orgqr
    for c in k:-1:1
        v = Vs[:, c]
        Q .-= (τs[c] .* v) * vec(v' * Q)'
    end
    return QRCompactWY(Q, R[1:k, :], τs)
end
_eye_rect(T, m, n) = [i == j ? one(T) : zero(T) for i in 1:m, j in 1:n]
size(F::QRCompactWY) = (size(F.Q, 1), size(F.R, 2))
size(F::QRCompactWY, d::Integer) = size(F)[d]
Matrix(F::QRCompactWY) = F.Q * F.R
# least squares for m ≥ n: R \ (Qᵀb) (a zero on R's diagonal is SingularException, as trtrs)
function \(F::QRCompactWY, b::AbstractVecOrMat)
    m, n = size(F)
    m >= n || throw(ArgumentError("jlhlo's QR solves only square and tall systems (m ≥ n), got $(m)×$(n)"))
    _check_rows(m, b)
    _check_diagonal(F.R)
    X = _rhs(promote_type(eltype(F.R), eltype(b)), b)
    return _shaped(b, _backward(F.R, F.Q' * X))
end

# ---- symmetric eigenproblem: cyclic Jacobi rotations until the off-diagonal part is below
# eps·‖A‖, eigenvalues ascending (as LAPACK's syevr in Julia), eigenvectors as orthonormal columns
# (their signs are arbitrary, as in Julia). Only real symmetric input: Julia would compute the
# complex eigensystem of a general matrix, which jlhlo does not, so that is an ArgumentError.
struct Eigen{V<:AbstractVector,M<:AbstractMatrix}
    values::V
    vectors::M
end
function _symmetric_eigen(A::AbstractMatrix)
    _checksquare(A)
    issymmetric(A) || throw(ArgumentError("jlhlo's eigen, eigvals and eigvecs support only real symmetric matrices"))
    n = size(A, 1)
    S = float.(copy(A))
    T = eltype(S)
    V = _eye(T, n)
    tol = eps(T) * norm(S)
    sweeps = 0
    while sweeps < 50 && _offdiag_norm(S) > tol
        for k in 1:n * n                # the pairs p < q, row by row (one loop: it is not unrolled)
            p, q = divrem(k - 1, n) .+ 1
            if q > p
                apq = S[p, q]
                θ = (S[q, q] - S[p, p]) / (2 * apq)
                t = copysign(one(T), θ) / (abs(θ) + hypot(one(T), θ))
                c = ifelse(apq != 0, one(T) / hypot(one(T), t), one(T))
                s = ifelse(apq != 0, t * c, zero(T))
                sp, sq = S[:, p], S[:, q]
                S[:, p] = c .* sp .- s .* sq
                S[:, q] = s .* sp .+ c .* sq
                rp, rq = S[p, :], S[q, :]
                S[p, :] = c .* rp .- s .* rq
                S[q, :] = s .* rp .+ c .* rq
                vp, vq = V[:, p], V[:, q]
                V[:, p] = c .* vp .- s .* vq
                V[:, q] = s .* vp .+ c .* vq
            end
        end
        sweeps += 1
    end
    w = diag(S)
    perm = _sortperm(w)
    return w[perm], V[:, perm]
end
_offdiag_norm(S) = norm(ifelse.(_on_or_below(S, -1) .| _on_or_above(S, 1), S, zero(eltype(S))))
# the stable ascending order of v (ties by position), as sortperm: the rank of each element (how
# many come before it), then the element of each rank, all by broadcasting
function _sortperm(v::AbstractVector)
    n = length(v)
    idx = collect(1:n)
    before = (transpose(v) .< v) .| ((transpose(v) .== v) .& (transpose(idx) .< idx))   # [i, j]: j before i
    rank = vec(sum(before; dims=2)) .+ 1
    return vec(sum((rank .== transpose(idx)) .* idx; dims=1))
end
eigen(A::AbstractMatrix) = Eigen(_symmetric_eigen(A)...)
eigvals(A::AbstractMatrix) = _symmetric_eigen(A)[1]
eigvecs(A::AbstractMatrix) = _symmetric_eigen(A)[2]
eigen(S::Symmetric) = eigen(Matrix(S))
eigvals(S::Symmetric) = eigvals(Matrix(S))
eigvecs(S::Symmetric) = eigvecs(Matrix(S))
eigvals(E::Eigen) = E.values
eigvecs(E::Eigen) = E.vectors
det(E::Eigen) = _prod_vec(E.values)
function _prod_vec(v)
    d = one(eltype(v))
    for i in 1:length(v)
        d *= v[i]
    end
    return d
end

# ---- singular values: one-sided Jacobi (Hestenes) on the columns of A (of Aᵀ when it is wide),
# rotating pairs until every pair is orthogonal to eps; σ are the column norms, descending. Also
# gives V (the rotations) and AV = UΣ, from which pinv follows.
function _one_sided_jacobi(A::AbstractMatrix)
    W = float.(copy(A))
    T = eltype(W)
    n = size(W, 2)
    V = _eye(T, n)
    sweeps = 0
    rotated = true
    while sweeps < 60 && rotated
        rotated = false
        for k in 1:n * n                # the pairs p < q, row by row (one loop: it is not unrolled)
            p, q = divrem(k - 1, n) .+ 1
            if q > p
                wp, wq = W[:, p], W[:, q]
                α = sum(abs2, wp)
                β = sum(abs2, wq)
                γ = sum(wp .* wq)
                if abs(γ) > eps(T) * sqrt(α * β)
                    rotated = true
                    ζ = (β - α) / (2 * γ)
                    t = copysign(one(T), ζ) / (abs(ζ) + hypot(one(T), ζ))
                    c = one(T) / hypot(one(T), t)
                    s = t * c
                    W[:, p] = c .* wp .- s .* wq
                    W[:, q] = s .* wp .+ c .* wq
                    vp, vq = V[:, p], V[:, q]
                    V[:, p] = c .* vp .- s .* vq
                    V[:, q] = s .* vp .+ c .* vq
                end
            end
        end
        sweeps += 1
    end
    σ = [norm(W[:, j]) for j in 1:n]
    perm = _sortperm(-σ)
    return σ[perm], W[:, perm], V[:, perm]
end
svdvals(A::AbstractMatrix) = size(A, 1) >= size(A, 2) ? _one_sided_jacobi(A)[1] : _one_sided_jacobi(transpose(A))[1]

# opnorm: p = 2 the largest singular value, 1 the largest column sum, Inf the largest row sum
function opnorm(A::AbstractMatrix, p::Real=2)
    T = typeof(float(real(zero(eltype(A)))))
    if p == 2
        return isempty(A) ? zero(T) : svdvals(A)[1]
    elseif p == 1
        return convert(T, maximum(sum(abs.(A); dims=1)))
    elseif p == Inf
        return convert(T, maximum(sum(abs.(A); dims=2)))
    end
    throw(ArgumentError("invalid p-norm p=$(p). Valid: 1, 2, Inf"))
end

# rank: Julia's default rtol is min(m, n)·eps(T) (when atol is 0)
function rank(A::AbstractMatrix; atol::Real=0.0, rtol::Real=(min(size(A)...) * eps(float(real(one(eltype(A)))))) * iszero(atol))
    isempty(A) && return 0
    s = svdvals(A)
    tol = max(atol, rtol * s[1])
    return count(x -> x > tol, s)
end
rank(x::Number) = x == 0 ? 0 : 1

# pinv: V Σ⁺ Uᵀ, with σ ≤ max(atol, rtol·σ₁) dropped (Julia's default rtol: eps(T)·min(m, n))
function pinv(A::AbstractMatrix; atol::Real=0.0, rtol::Real=(eps(float(real(one(eltype(A))))) * min(size(A)...)) * iszero(atol))
    return size(A, 1) >= size(A, 2) ? _pinv_tall(A, atol, rtol) : transpose(_pinv_tall(transpose(A), atol, rtol))
end
function _pinv_tall(A, atol, rtol)
    σ, W, V = _one_sided_jacobi(A)         # W = AV = UΣ
    tol = max(atol, rtol * σ[1])
    scale = [s > tol ? one(s) / (s * s) : zero(s) for s in σ]
    return (V .* scale') * W'
end
pinv(x::Number) = iszero(x) ? zero(float(x)) : inv(float(x))

# ---- structured matrices: wrappers with Julia's field names. (Julia's are AbstractMatrix
# subtypes; here they share the abstract type `_Structured`, so that generic AbstractMatrix methods
# never see one.)
abstract type _Structured end
struct Symmetric{M<:AbstractMatrix} <: _Structured
    data::M                 # only its upper triangle is used (Julia's default uplo = :U)
    Symmetric(A::AbstractMatrix) = (_checksquare(A); new(A))
end
struct Diagonal{V<:AbstractVector} <: _Structured
    diag::V
end
struct LowerTriangular{M<:AbstractMatrix} <: _Structured
    data::M                 # only the lower triangle is used
    LowerTriangular(A::AbstractMatrix) = (_checksquare(A); new(A))
end
struct UpperTriangular{M<:AbstractMatrix} <: _Structured
    data::M                 # only the upper triangle is used
    UpperTriangular(A::AbstractMatrix) = (_checksquare(A); new(A))
end
Diagonal(A::AbstractMatrix) = Diagonal(diag(A))

Matrix(S::Symmetric) = (U = triu(S.data); U .+ transpose(triu(S.data, 1)))
Matrix(D::Diagonal) = diagm(D.diag)
Matrix(L::LowerTriangular) = tril(L.data)
Matrix(U::UpperTriangular) = triu(U.data)
# (defining `Matrix` methods makes `Matrix(...)` a function call: the array constructors it also
# names, `Matrix(A)` and `Matrix(I, m, n)`, are passed on to the typed form, which stays a constructor)
Matrix(A::AbstractMatrix{T}) where {T} = Matrix{T}(A)
Matrix(J::UniformScaling{T}, m::Integer, n::Integer) where {T} = Matrix{T}(J, m, n)
Matrix(J::UniformScaling{T}, dims::Tuple) where {T} = Matrix{T}(J, dims...)

getindex(S::Symmetric, i::Integer, j::Integer) = i <= j ? S.data[i, j] : S.data[j, i]
getindex(D::Diagonal, i::Integer, j::Integer) = i == j ? D.diag[i] : zero(eltype(D.diag))
getindex(L::LowerTriangular, i::Integer, j::Integer) = i >= j ? L.data[i, j] : zero(eltype(L.data))
getindex(U::UpperTriangular, i::Integer, j::Integer) = i <= j ? U.data[i, j] : zero(eltype(U.data))

size(S::Symmetric) = size(S.data)
size(L::LowerTriangular) = size(L.data)
size(U::UpperTriangular) = size(U.data)
size(D::Diagonal) = (length(D.diag), length(D.diag))
size(M::_Structured, d::Integer) = size(M)[d]
eltype(S::Symmetric) = eltype(S.data)
eltype(L::LowerTriangular) = eltype(L.data)
eltype(U::UpperTriangular) = eltype(U.data)
eltype(D::Diagonal) = eltype(D.diag)
diag(S::Symmetric) = diag(S.data)
diag(L::LowerTriangular) = diag(L.data)
diag(U::UpperTriangular) = diag(U.data)
diag(D::Diagonal) = copy(D.diag)
tr(S::Symmetric) = tr(S.data)
tr(L::LowerTriangular) = tr(L.data)
tr(U::UpperTriangular) = tr(U.data)
tr(D::Diagonal) = sum(D.diag)
issymmetric(S::Symmetric) = true
ishermitian(S::Symmetric) = true
isposdef(S::Symmetric) = _cholesky_upper(Matrix(S))[2] == 0
transpose(S::Symmetric) = S
adjoint(S::Symmetric) = S
transpose(D::Diagonal) = D
adjoint(D::Diagonal) = D
transpose(L::LowerTriangular) = UpperTriangular(copy(transpose(L.data)))
adjoint(L::LowerTriangular) = UpperTriangular(copy(transpose(L.data)))
transpose(U::UpperTriangular) = LowerTriangular(copy(transpose(U.data)))
adjoint(U::UpperTriangular) = LowerTriangular(copy(transpose(U.data)))

*(M::_Structured, B::AbstractVecOrMat) = Matrix(M) * B
*(A::AbstractMatrix, M::_Structured) = A * Matrix(M)
*(D::Diagonal, b::AbstractVector) = D.diag .* b
*(D::Diagonal, B::AbstractMatrix) = D.diag .* B
*(A::AbstractMatrix, D::Diagonal) = A .* transpose(D.diag)
*(D::Diagonal, E::Diagonal) = Diagonal(D.diag .* E.diag)

# D \ b: division row by row (a zero on the diagonal is SingularException, as Julia's)
function \(D::Diagonal, b::AbstractVecOrMat)
    _check_rows(length(D.diag), b)
    for i in 1:length(D.diag)
        D.diag[i] == 0 && throw(SingularException(i))
    end
    return b ./ D.diag
end
# triangular: substitution on the stored triangle
function \(L::LowerTriangular, b::AbstractVecOrMat)
    _check_rows(size(L.data, 1), b)
    _check_diagonal(L.data)
    return _shaped(b, _forward(L.data, _rhs(promote_type(float(eltype(L.data)), eltype(b)), b), false))
end
function \(U::UpperTriangular, b::AbstractVecOrMat)
    _check_rows(size(U.data, 1), b)
    _check_diagonal(U.data)
    return _shaped(b, _backward(U.data, _rhs(promote_type(float(eltype(U.data)), eltype(b)), b)))
end
# Symmetric: Cholesky when positive definite, else LU with partial pivoting (Julia factorizes
# with Bunch-Kaufman; the solution is the same up to rounding)
function \(S::Symmetric, b::AbstractVecOrMat)
    A = Matrix(S)
    U, info = _cholesky_upper(A)
    return info == 0 ? Cholesky(U, copy(U'), U, info) \ b : A \ b
end

det(S::Symmetric) = det(Matrix(S))
det(D::Diagonal) = _prod_vec(D.diag)
det(L::LowerTriangular) = _prod_diag(L.data, one(eltype(L.data)))
det(U::UpperTriangular) = _prod_diag(U.data, one(eltype(U.data)))
logdet(M::_Structured) = log(det(M))
inv(D::Diagonal) = Diagonal(one(float(eltype(D.diag))) ./ D.diag)
inv(L::LowerTriangular) = LowerTriangular(L \ _eye(float(eltype(L.data)), size(L.data, 1)))
inv(U::UpperTriangular) = UpperTriangular(U \ _eye(float(eltype(U.data)), size(U.data, 1)))
inv(S::Symmetric) = Symmetric(inv(Matrix(S)))
