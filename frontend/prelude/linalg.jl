# LinearAlgebra, written in the language. Loops have static trip counts (sizes are static) and work
# on whole rows and columns, so no slice has a length that changes inside a loop.

diag(A::AbstractMatrix) = [A[i, i] for i in 1:min(size(A, 1), size(A, 2))]
diagm(v::AbstractVector) = [i == j ? v[i] : zero(eltype(v)) for i in eachindex(v), j in eachindex(v)]
# diagm(k1 => v1, k2 => v2, ...): vector vi on diagonal ki (above the main one for ki > 0); the
# size is the largest length(vi) + abs(ki), the element type the promotion of the vectors'
function diagm(kv::Pair...)
    n = maximum(map(p -> length(p.second) + abs(p.first), kv))
    A = zeros(promote_type(map(p -> eltype(p.second), kv)...), n, n)
    for p in kv
        k, v = p.first, p.second
        for i in eachindex(v)
            A[i + max(-k, 0), i + max(k, 0)] += v[i]
        end
    end
    return A
end
norm(x::Number) = abs(x)
norm(x::Number, p::Real) = abs(x)
# A^p for an integer p: Base's power_by_squaring (the order of the products is Julia's)
function ^(A::AbstractMatrix, p::Integer)
    size(A, 1) == size(A, 2) || throw(DimensionMismatch("matrix is not square: dimensions are $(size(A))"))
    p < 0 && return _power_by_squaring(inv(A), -p)
    return _power_by_squaring(A, p)
end
function _power_by_squaring(x, p::Integer)
    p == 1 && return copy(x)
    p == 0 && return one(x)
    p == 2 && return x * x
    t = trailing_zeros(p) + 1
    p >>= t
    while (t -= 1) > 0
        x = x * x
    end
    y = x
    while p > 0
        t = trailing_zeros(p) + 1
        p >>= t
        while (t -= 1) >= 0
            x = x * x
        end
        y = y * x
    end
    return y
end
normalize(v::AbstractArray) = v ./ norm(v)
normalize(v::AbstractArray, p::Real) = v ./ norm(v, p)
×(a::AbstractVector, b::AbstractVector) = cross(a, b)
function cross(a::AbstractVector, b::AbstractVector)
    (length(a) == 3 && length(b) == 3) || throw(DimensionMismatch("cross product is only defined for vectors of length 3"))
    return [a[2] * b[3] - a[3] * b[2], a[3] * b[1] - a[1] * b[3], a[1] * b[2] - a[2] * b[1]]
end

# LU factorization with partial pivoting, as LAPACK's getrf: the pivot of column k is the entry of
# largest magnitude on or below the diagonal (the first such), rows are swapped whole. Returns the
# combined factors (L below the diagonal, unit diagonal implied; U on and above), the row
# permutation and the sign of the permutation. Each step is whole-matrix work (the multipliers of
# all rows below, then one outer-product update), so the loop has n steps, not n².
function _lu(A::AbstractMatrix)
    n = size(A, 1)
    size(A, 2) == n || throw(DimensionMismatch("matrix is not square: dimensions are $(size(A))"))
    F = float.(copy(A))
    T = eltype(F)
    perm = collect(1:n)
    sign = one(T)
    for k in 1:n
        p = argmax(ifelse.((1:n) .>= k, abs.(F[:, k]), -one(T)))
        if p != k
            row = F[k, :]
            F[k, :] = F[p, :]
            F[p, :] = row
            perm[k], perm[p] = perm[p], perm[k]
            sign = -sign
        end
        pivot = F[k, k]
        below = ((1:n) .> k) .& (pivot != 0)          # a zero pivot leaves the column as it is
        l = ifelse.(below, F[:, k] ./ ifelse(pivot != 0, pivot, one(T)), zero(T))
        F .-= l * ifelse.((1:n) .> k, F[k, :], zero(T))'
        F[:, k] = ifelse.(below, l, F[:, k])
    end
    return F, perm, sign
end

# Triangular solves of X (a matrix: the right-hand sides as columns), a whole row per step: row i
# less the solved rows times row i of the factor, masked to them (one loop of n steps, not n²).
# L lower (`unit`: its diagonal taken as ones), U upper; the diagonal is checked by the caller.
function _forward(L, X, unit)
    n = size(L, 1)
    T = eltype(X)
    for i in 1:n
        l = ifelse.((1:n) .< i, T.(L[i, :]), zero(T))
        r = X[i, :] .- vec(l' * X)
        X[i, :] = unit ? r : r ./ L[i, i]
    end
    return X
end
function _backward(U, X)
    n = size(U, 1)
    T = eltype(X)
    for i in n:-1:1
        u = ifelse.((1:n) .> i, T.(U[i, :]), zero(T))
        X[i, :] = (X[i, :] .- vec(u' * X)) ./ U[i, i]
    end
    return X
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
    X = T.(reshape(B, size(B, 1), size(B, 2))[perm, :])     # (B as n×1 when a vector: jlhlo gives v[p, :] one dimension)
    for i in 1:n                       # (its own loop: one that can throw has no fixed trip count)
        F[i, i] == 0 && throw(SingularException(i))
    end
    X = _backward(F, _forward(F, X, true))
    return B isa AbstractVector ? vec(X) : X
end
inv(A::AbstractMatrix) = A \ [i == j ? one(float(eltype(A))) : zero(float(eltype(A))) for i in axes(A, 1), j in axes(A, 2)]

# Statistics
middle(x::Number) = (x + zero(x)) / 1
middle(x::Number, y::Number) = x / 2 + y / 2
median(A::AbstractArray; dims=:) = dims isa Colon ? median(vec(A)) : mapslices(median, A; dims=dims)
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
    aleph = n * p + oftype(p, 1.0 + p * (1.0 - 1.0 - 1.0))     # Statistics' _quantile, alpha = beta = 1
    j = clamp(trunc(Int, aleph), 1, max(n - 1, 1))
    γ = clamp(aleph - j, 0, 1)
    a, b = s[j], s[min(j + 1, n)]
    (isfinite(a) && isfinite(b)) || return (1 - γ) * a + γ * b
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
quantile(v::AbstractVector, p::Union{AbstractVector,Tuple}) = map(q -> quantile(v, q), p)
diag(A::AbstractMatrix, k::Integer) = A[diagind(A, k)]
