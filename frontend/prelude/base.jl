# Base: the part of Julia's standard library that jlhlo writes in the language itself.
# Primitives used here (`_reduce`, `_broadcast_map`, `_foldl`, arithmetic, `size`...) are
# implemented in frontend/primitives.py, each mapping onto StableHLO ops.

# ---- reductions: `dims=:` gives a number, `dims=d` keeps dimension d with size 1
sum(x::AbstractArray; dims=:) = _reduce(+, x, dims)
sum(f, x::AbstractArray; dims=:) = _reduce(+, _broadcast_map(f, x), dims)
sum(x::Tuple) = _foldl(+, x)
sum(x::Number) = x
prod(x::AbstractArray; dims=:) = _reduce(*, x, dims)
prod(f, x::AbstractArray; dims=:) = _reduce(*, _broadcast_map(f, x), dims)
prod(x::Tuple) = _foldl(*, x)
maximum(x::AbstractArray; dims=:) = _reduce(max, x, dims)
maximum(f, x::AbstractArray; dims=:) = _reduce(max, _broadcast_map(f, x), dims)
maximum(x::Tuple) = _foldl(max, x)
minimum(x::AbstractArray; dims=:) = _reduce(min, x, dims)
minimum(f, x::AbstractArray; dims=:) = _reduce(min, _broadcast_map(f, x), dims)
minimum(x::Tuple) = _foldl(min, x)
any(x::AbstractArray{Bool}; dims=:) = _reduce(|, x, dims)
any(f, x::AbstractArray; dims=:) = _reduce(|, _broadcast_map(f, x), dims)
all(x::AbstractArray{Bool}; dims=:) = _reduce(&, x, dims)
all(f, x::AbstractArray; dims=:) = _reduce(&, _broadcast_map(f, x), dims)
count(x::AbstractArray{Bool}; dims=:) = _reduce(+, x, dims)
count(f, x::AbstractArray; dims=:) = _reduce(+, _broadcast_map(f, x), dims)
extrema(x::AbstractArray) = (minimum(x), maximum(x))
mean(x::AbstractArray; dims=:) = sum(x; dims=dims) ./ _count_over(x, dims)
mean(f, x::AbstractArray) = sum(f, x) / length(x)
_count_over(x, ::Colon) = length(x)
_count_over(x, d::Integer) = size(x, d)
_count_over(x, ds::Tuple) = prod(map(d -> size(x, d), ds))
var(x::AbstractArray; dims=:, corrected=true) =
    sum(abs2.(x .- mean(x; dims=dims)); dims=dims) ./ (_count_over(x, dims) - (corrected ? 1 : 0))
std(x::AbstractArray; dims=:, corrected=true) = sqrt.(var(x; dims=dims, corrected=corrected))

# ---- higher-order functions
map(f, xs...) = _broadcast_map(f, xs...)
function reduce(op, x::AbstractArray; dims=:)
    return _reduce(op, x, dims)
end
reduce(op, x::Tuple) = _foldl(op, x)
foldl(op, x::Tuple) = _foldl(op, x)
mapreduce(f, op, x::AbstractArray; dims=:) = _reduce(op, _broadcast_map(f, x), dims)
mapreduce(f, op, x::Tuple) = _foldl(op, map(f, x))
broadcast(f, xs...) = f.(xs...)
identity(x) = x

# ---- elementwise helpers
abs2(x::Real) = x * x
abs2(z::Complex) = real(z)^2 + imag(z)^2
clamp(x::Real, lo::Real, hi::Real) = min(max(x, lo), hi)
square(x) = x * x
cube(x) = x * x * x
inv(x::Number) = one(x) / x
log2(x::Real) = log(x) / log(oftype(float(x), 2))
log10(x::Real) = log(x) / log(oftype(float(x), 10))
exp2(x::Real) = exp(x * log(oftype(float(x), 2)))
exp10(x::Real) = exp(x * log(oftype(float(x), 10)))
sinh(x::Real) = (exp(x) - exp(-x)) / 2
cosh(x::Real) = (exp(x) + exp(-x)) / 2
sigmoid_stable(x) = one(x) / (one(x) + exp(-x))
hypot(x::Real, y::Real) = sqrt(x * x + y * y)
oftype(x, y) = convert(typeof(x), y)
copysign(x::Real, y::Real) = signbit(y) ? -abs(x) : abs(x)
flipsign(x::Real, y::Real) = signbit(y) ? -x : x
iseven(n::Integer) = n % 2 == 0
isodd(n::Integer) = n % 2 != 0
fld(a::Integer, b::Integer) = div(a - mod(a, b), b)
cld(a::Integer, b::Integer) = -fld(-a, b)
divrem(a, b) = (div(a, b), rem(a, b))
fldmod(a, b) = (fld(a, b), mod(a, b))
isapprox(a::Number, b::Number; atol=0, rtol=sqrt(eps(float(typeof(a))))) =
    abs(a - b) <= max(atol, rtol * max(abs(a), abs(b)))
≈(a::Number, b::Number) = isapprox(a, b)
exp(z::Complex) = exp(real(z)) * complex(cos(imag(z)), sin(imag(z)))
abs(z::Complex) = sqrt(abs2(z))
min(x::Tuple) = _foldl(min, x)

# ---- linear algebra
dot(x::AbstractArray, y::AbstractArray) = sum(conj.(x) .* y)
⋅(x::AbstractArray, y::AbstractArray) = dot(x, y)
norm(x::AbstractArray) = sqrt(sum(abs2, x))
norm(x::AbstractArray, p::Real) = p == 2 ? norm(x) : (p == 1 ? sum(abs, x) : sum(abs.(x) .^ p)^(1 / p))
tr(A::AbstractMatrix) = sum(A[i, i] for i in 1:min(size(A, 1), size(A, 2)))
cumsum(x::AbstractVector) = _cumulative(+, x, zero(eltype(x)))
cumprod(x::AbstractVector) = _cumulative(*, x, one(eltype(x)))
function _cumulative(op, x::AbstractVector, acc)
    out = similar(x)
    for i in eachindex(x)
        acc = op(acc, x[i])
        out[i] = acc
    end
    return out
end
diff(x::AbstractVector) = x[2:end] .- x[1:end-1]

# ---- softmax family (NNlib semantics: `dims` defaults to 1)
function softmax(x::AbstractArray; dims=1)
    e = exp.(x .- maximum(x; dims=dims))
    return e ./ sum(e; dims=dims)
end
function logsoftmax(x::AbstractArray; dims=1)
    s = x .- maximum(x; dims=dims)
    return s .- log.(sum(exp.(s); dims=dims))
end
function logsumexp(x::AbstractArray; dims=:)
    m = maximum(x; dims=dims)
    return m .+ log.(sum(exp.(x .- m); dims=dims))
end

# ---- searching (first occurrence wins, as Julia; NaN counts as the largest, as findmax does)
function findmax(x::AbstractArray)
    m = maximum(x)
    hit = (x .== m) .| (isnan.(x) .& isnan(m))
    return (m, minimum(ifelse.(hit, _linear_indices(x), length(x) + 1)))
end
function findmin(x::AbstractArray)
    m = minimum(x)
    hit = (x .== m) .| (isnan.(x) .& isnan(m))
    return (m, minimum(ifelse.(hit, _linear_indices(x), length(x) + 1)))
end
argmax(x::AbstractArray) = findmax(x)[2]
argmin(x::AbstractArray) = findmin(x)[2]

# ---- rearranging
circshift(v::AbstractVector, k::Integer) = v[mod.(_linear_indices(v) .- 1 .- k, length(v)) .+ 1]
repeat(v::AbstractVector, n::Integer) = vcat(ntuple(_ -> v, n)...)
repeat(x::AbstractMatrix, m::Integer, n::Integer) = hcat(ntuple(_ -> vcat(ntuple(_ -> x, m)...), n)...)
kron(a::AbstractVector, b::AbstractVector) = vec(b .* transpose(a))
kron(A::AbstractMatrix, B::AbstractMatrix) =
    reshape(reshape(B, size(B, 1), 1, size(B, 2), 1) .* reshape(A, 1, size(A, 1), 1, size(A, 2)),
            size(A, 1) * size(B, 1), size(A, 2) * size(B, 2))

# ---- LinearAlgebra's identity `I` (a scaled identity of any square size; arithmetic in primitives.py)
struct UniformScaling{T<:Number}
    λ::T
end
const I = UniformScaling(true)

# ---- function composition
∘(f, g) = (xs...) -> f(g(xs...))
