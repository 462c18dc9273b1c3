# LinearAlgebra, written in the language. Loops have static trip counts (sizes are static) and work
# on whole rows and columns, so no slice has a length that changes inside a loop.

diag(A::AbstractMatrix) = [A[i, i] for i in 1:min(size(A, 1), size(A, 2))]
diagm(v::AbstractVector) = [i == j ? v[i] : zero(eltype(v)) for i in eachindex(v), j in eachindex(v)]
normalize(v::AbstractArray) = v ./ norm(v)
normalize(v::AbstractArray, p::Real) = v ./ norm(v, p)
function cross(a::AbstractVector, b::AbstractVector)
    (length(a) == 3 && length(b) == 3) || throw(DimensionMismatch("cross product is only defined for vectors of length 3"))
    return [a[2] * b[3] - a[3] * b[2], a[3] * b[1] - a[1] * b[3], a[1] * b[2] - a[2] * b[1]]
end

# LU factorization with partial pivoting, as LAPACK's getrf: the pivot of column k is the entry of
# largest magnitude on or below the diagonal (the first such), rows are swapped whole. Returns the
# combined factors (L below the diagonal, unit diagonal implied; U on and above), the row
# permutation and the sign of the permutation.
function _lu(A::AbstractMatrix)
    n = size(A, 1)
    size(A, 2) == n || throw(DimensionMismatch("matrix is not square: dimensions are $(size(A))"))
    F = float.(copy(A))
    perm = collect(1:n)
    sign = one(eltype(F))
    for k in 1:n
        p = argmax([i >= k ? abs(F[i, k]) : -one(eltype(F)) for i in 1:n])
        if p != k
            row = F[k, :]
            F[k, :] = F[p, :]
            F[p, :] = row
            perm[k], perm[p] = perm[p], perm[k]
            sign = -sign
        end
        pivot = F[k, k]
        for i in 1:n
            if i > k && pivot != 0
                l = F[i, k] / pivot
                F[i, :] .-= l .* [j > k ? F[k, j] : zero(l) for j in 1:n]
                F[i, k] = l
            end
        end
    end
    return F, perm, sign
end

function det(A::AbstractMatrix)
    F, perm, d = _lu(A)
    for i in 1:size(F, 1)              # a loop, not prod: reverse mode has no rule for a product reduction
        d *= F[i, i]
    end
    return d
end
logdet(A::AbstractMatrix) = log(det(A))

# `A \ B` for a square A: the LU factors, then forward and back substitution on whole rows of B.
# A zero pivot is Julia's SingularException.
function \(A::AbstractMatrix, B::AbstractVecOrMat)
    F, perm, sign = _lu(A)
    n = size(F, 1)
    size(B, 1) == n || throw(DimensionMismatch("arguments must have the same number of rows"))
    T = promote_type(eltype(F), eltype(B))
    X = T.(B[perm, :])
    for i in 1:n                       # (its own loop: one that can throw has no fixed trip count)
        F[i, i] == 0 && throw(SingularException(i))
    end
    for i in 1:n
        for j in 1:n
            j < i && (X[i, :] .-= F[i, j] .* X[j, :])
        end
    end
    for i in n:-1:1
        for j in 1:n
            j > i && (X[i, :] .-= F[i, j] .* X[j, :])
        end
        X[i, :] ./= F[i, i]
    end
    return B isa AbstractVector ? vec(X) : X
end
inv(A::AbstractMatrix) = A \ [i == j ? one(float(eltype(A))) : zero(float(eltype(A))) for i in axes(A, 1), j in axes(A, 2)]

# Statistics
middle(x::Number) = (x + zero(x)) / 1
middle(x::Number, y::Number) = x / 2 + y / 2
function median(v::AbstractVector)
    isempty(v) && throw(ArgumentError("median of an empty array is undefined"))
    s = sort(v)
    n = length(s)
    m = isodd(n) ? middle(s[n ÷ 2 + 1]) : middle(s[n ÷ 2], s[n ÷ 2 + 1])
    return any(isnan, v) ? oftype(m, NaN) : m
end
# Julia's default (type 7): linear interpolation between the order statistics around (n - 1)p + 1
function quantile(v::AbstractVector, p::Real)
    (0 <= p <= 1) || throw(ArgumentError("input probability out of [0,1] range"))
    isempty(v) && throw(ArgumentError("empty data vector"))
    any(isnan, v) && throw(ArgumentError("quantiles are undefined in presence of NaNs or missing values"))
    s = sort(v)
    n = length(s)
    h = (n - 1) * p + 1
    lo = floor(Int, h)
    hi = min(lo + 1, n)
    a, b = s[lo], s[hi]
    γ = h - lo
    return a + γ * (b - a)
end
function cov(x::AbstractVector, y::AbstractVector; corrected::Bool=true)
    length(x) == length(y) || throw(DimensionMismatch("inconsistent lengths"))
    return sum((x .- mean(x)) .* (y .- mean(y))) / (length(x) - corrected)
end
cov(x::AbstractVector; corrected::Bool=true) = cov(x, x; corrected=corrected)
function cov(X::AbstractMatrix; dims::Integer=1, corrected::Bool=true)
    Z = dims == 1 ? X .- mean(X; dims=1) : permutedims(X .- mean(X; dims=2))
    return (Z' * Z) ./ (size(Z, 1) - corrected)
end
function cor(x::AbstractVector, y::AbstractVector)
    length(x) == length(y) || throw(DimensionMismatch("inconsistent lengths"))
    dx, dy = x .- mean(x), y .- mean(y)
    return clamp(sum(dx .* dy) / (sqrt(sum(abs2, dx)) * sqrt(sum(abs2, dy))), -1, 1)
end
function cor(X::AbstractMatrix; dims::Integer=1)
    C = cov(X; dims=dims)
    d = sqrt.(diag(C))
    return clamp.(C ./ (d .* d'), -1, 1)
end
