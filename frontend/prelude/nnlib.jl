# NNlib's activation functions, written in the language with NNlib's formulas (NNlib/src/activations.jl).
# Constants are converted to the argument's float type (NNlib's `oftf`), so Float32 stays Float32.
#
# Where NNlib picks one of two formulas by a comparison, both arms are computed and one is selected,
# so each arm is written to stay finite where it is not taken: reverse mode multiplies the arm not
# taken by a zero cotangent, and 0 * Inf would be NaN in the gradient. Where NNlib's derivative at a
# kink is one side's (relu'(0) = 0), the formula takes that side there.
_oftf(x, y) = oftype(float(x), y)
# -|x| with the derivative of -x at 0 (through `abs` it would be 0 there): the exponent of the
# overflow-free forms of σ and softplus
_negabs(x) = ifelse(x < zero(x), x, -x)
# min(x, 0) with the derivative of x at 0 (min splits a tie): the exponent of elu, celu and selu
_nonpos(x) = ifelse(x > zero(x), zero(x), x)

# relu(x) = max(0, x) with NNlib's derivative 0 at 0 (through `max` a tie would give ½); NaN stays NaN.
# One compare and one select, so that a conv net has no more ops than JAX's; the price: relu(-0.0) is
# +0.0 here, -0.0 in NNlib.
relu(x::Real) = ifelse(x <= zero(x), zero(x), x)
relu6(x::Real) = ifelse(x >= 6, oftype(x, 6), relu(x))
leakyrelu(x::Real, a=_oftf(x, 0.01)) = ifelse(x > zero(x), float(x), _oftf(x, a * x))
trelu(x::Real, theta=1) = ifelse(x <= theta, zero(x), x)
thresholdrelu(x::Real, theta=1) = trelu(x, theta)
elu(x::Real, α=1) = ifelse(x >= zero(x), float(x), _oftf(x, α) * (exp(_nonpos(x)) - 1))
function celu(x::Real, α=1)
    a = _oftf(x, α)
    return ifelse(x >= zero(x), float(x), a * (exp(_nonpos(x) / a) - 1))
end
function selu(x::Real)
    λ = _oftf(x, 1.0507009873554804934193349852946)
    α = _oftf(x, 1.6732632423543772848170429916717)
    return λ * ifelse(x > zero(x), float(x), α * (exp(_nonpos(x)) - 1))
end

σ(x::Real) = (t = exp(_negabs(x)); ifelse(x >= zero(x), inv(1 + t), t / (1 + t)))
sigmoid(x::Real) = σ(x)
# NNlib's sigmoid_fast is σ with its ends cut off (exactly 0 or 1 far out), for Float16 plain σ
sigmoid_fast(x::Real) = (y = σ(x); ifelse(x > 40, one(y), ifelse(x < -80, zero(y), y)))
sigmoid_fast(x::Float16) = σ(x)
hardσ(x::Real) = (y = (x + 3) / 6; ifelse(y >= 1, one(y), ifelse(y <= 0, zero(y), y)))
hardsigmoid(x::Real) = hardσ(x)
hardtanh(x::Real) = ifelse(x >= 1, oftype(x, 1), ifelse(x <= -1, oftype(x, -1), x))
softplus(x::Real) = ifelse(x < zero(x), zero(float(x)), float(x)) + log1p(exp(_negabs(x)))
logσ(x::Real) = -softplus(-x)
logsigmoid(x::Real) = logσ(x)
softsign(x::Real) = x / (1 + abs(x))
logcosh(x::Real) = x + softplus(-2x) - _oftf(x, log(2))
function softshrink(x::Real, λ=0.5)
    lo = x - _oftf(x, λ)
    hi = x + _oftf(x, λ)
    return ifelse(hi > 0, ifelse(lo < 0, zero(hi), lo), hi)
end

# NNlib's rational approximation of tanh for Float32 (within a few ulps; Flux's Dense, RNN and LSTM
# cells use it for tanh), and its exp-based form for Float64. The polynomials are evaluated at a
# clamped argument: they overflow far out, where the other arm is taken.
function tanh_fast(x::Float32)
    x2 = abs2(x)
    p = min(x2, 66.0f0)
    n = evalpoly(p, (1.0f0, 0.1346604f0, 0.0035974074f0, 2.2332108f-5, 1.587199f-8))
    d = evalpoly(p, (1.0f0, 0.4679937f0, 0.026262015f0, 0.0003453992f0, 8.7767893f-7))
    return ifelse(x2 < 66.0f0, x * (n / d), sign(x))
end
function tanh_fast(x::Float64)
    x2 = x * x
    exp2x = exp(2 * clamp(x, -30.0, 30.0))
    y = (exp2x - 1) / (exp2x + 1)
    ypoly = x * evalpoly(min(x2, 0.017), (1.0, -0.33333333333324583, 0.13333333325511604, -0.05396823125794372,
                                          0.02186660872609521, -0.008697141630499953))
    return ifelse(x2 > 900.0, sign(x), ifelse(x2 < 0.017, ypoly, y))
end
tanh_fast(x::Real) = tanh(x)
tanhshrink(x::Real) = x - tanh_fast(x)

# gelu is NNlib's tanh approximation (gelu_tanh)
function gelu_tanh(x::Real)
    α = _oftf(x, 0.044715)
    λ = _oftf(x, sqrt(2 / pi))
    return x / 2 * (1 + tanh_fast(λ * (x + α * x^3)))
end
gelu(x::Real) = gelu_tanh(x)
function gelu_sigmoid(x::Real)
    α = _oftf(x, 0.044715)
    λλ = _oftf(x, sqrt(8 / pi))
    return x * sigmoid_fast(λλ * x * muladd(x^2, α, one(x)))
end
swish(x::Real) = x * sigmoid_fast(x)
hardswish(x::Real) = x * hardσ(x)
lisht(x::Real) = x * tanh_fast(x)
mish(x::Real) = x * tanh(softplus(x))

# NNlib defines each activation on arrays too, as the broadcast
relu(x::AbstractArray, args...) = relu.(x, args...)
relu6(x::AbstractArray) = relu6.(x)
leakyrelu(x::AbstractArray, args...) = leakyrelu.(x, args...)
trelu(x::AbstractArray, args...) = trelu.(x, args...)
elu(x::AbstractArray, args...) = elu.(x, args...)
celu(x::AbstractArray, args...) = celu.(x, args...)
selu(x::AbstractArray) = selu.(x)
σ(x::AbstractArray) = σ.(x)
sigmoid_fast(x::AbstractArray) = sigmoid_fast.(x)
hardσ(x::AbstractArray) = hardσ.(x)
hardtanh(x::AbstractArray) = hardtanh.(x)
softplus(x::AbstractArray) = softplus.(x)
logσ(x::AbstractArray) = logσ.(x)
softsign(x::AbstractArray) = softsign.(x)
logcosh(x::AbstractArray) = logcosh.(x)
softshrink(x::AbstractArray, args...) = softshrink.(x, args...)
tanh_fast(x::AbstractArray) = tanh_fast.(x)
tanhshrink(x::AbstractArray) = tanhshrink.(x)
gelu_tanh(x::AbstractArray) = gelu_tanh.(x)
gelu(x::AbstractArray) = gelu.(x)
sigmoid(x::AbstractArray) = sigmoid.(x)
hardsigmoid(x::AbstractArray) = hardsigmoid.(x)
logsigmoid(x::AbstractArray) = logsigmoid.(x)
thresholdrelu(x::AbstractArray, args...) = thresholdrelu.(x, args...)
gelu_sigmoid(x::AbstractArray) = gelu_sigmoid.(x)
swish(x::AbstractArray) = swish.(x)
hardswish(x::AbstractArray) = hardswish.(x)
lisht(x::AbstractArray) = lisht.(x)
mish(x::AbstractArray) = mish.(x)

# ---- one-hot encoding (OneHotArrays, re-exported by Flux). A OneHotMatrix is an AbstractMatrix{Bool}
# in Julia; here it is a plain Bool matrix (nclasses, n) with the same values, so it multiplies and
# broadcasts the same way (`W * onehotbatch(...)`, `crossentropy(ŷ, onehotbatch(...))`).
function onehotbatch(data::AbstractVector, labels)
    hot = _labels_column(labels) .== permutedims(data)
    all(any(hot; dims=1)) || throw(ArgumentError("a value of data is not in labels"))
    return hot
end
# values not among the labels get the label `default`'s column
function onehotbatch(data::AbstractVector, labels, default)
    column = _labels_column(labels)
    hot = column .== permutedims(data)
    return hot .| ((column .== default) .& .!any(hot; dims=1))
end
# an array of values: a (length(labels), size(data)...) array, as Flux's OneHotArray
onehotbatch(data::AbstractArray, labels) = reshape(onehotbatch(vec(data), labels), :, size(data)...)
onehot(x, labels) = vec(onehotbatch([x], labels))
onehot(x, labels, default) = vec(onehotbatch([x], labels, default))
_labels_column(labels::AbstractVector) = labels
_labels_column(labels::AbstractRange) = collect(labels)
_labels_column(labels::Tuple) = collect(labels)

# the label of each column's largest entry (the first one on ties; NaN counts as the largest, as argmax)
onecold(y::AbstractVector, labels=1:length(y)) = labels[argmax(y)]
# more dimensions: an array of size(y)[2:end], as Flux's
onecold(y::AbstractArray, labels=1:size(y, 1)) = reshape(onecold(reshape(y, size(y, 1), :), labels), size(y)[2:end]...)
function onecold(y::AbstractMatrix, labels=1:size(y, 1))
    m = maximum(y; dims=1)
    hit = (y .== m) .| (isnan.(y) .& isnan.(m))
    rows = collect(1:size(y, 1))
    return labels[vec(minimum(ifelse.(hit, rows, size(y, 1) + 1); dims=1))]
end

# ---- batched matrices (m, n, batch): the transpose of every item (NNlib returns a lazy wrapper)
batched_transpose(A::AbstractArray{T,3}) where {T} = permutedims(A, (2, 1, 3))
batched_adjoint(A::AbstractArray{T,3}) where {T} = conj.(batched_transpose(A))

# MLUtils' flatten (Flux.flatten): every dimension but the last (the batch) into one
flatten(x::AbstractArray) = reshape(x, :, size(x, ndims(x)))

# ---- NNlib's dropout: each element (or each slice along `dims`) zeroed with probability p, the rest
# scaled by 1/(1-p); the random numbers are XLA's (see `rand`)
function dropout(x::AbstractArray, p::Real; dims=:)
    0 <= p <= 1 || throw(ArgumentError("dropout expects a probability 0 <= p <= 1"))
    T = float(eltype(x))
    keep = rand(T, _dropout_mask_size(x, dims)...) .> p
    return ifelse.(keep, x .* convert(T, 1 / (1 - p)), zero(T))
end
_dropout_mask_size(x, ::Colon) = size(x)
_dropout_mask_size(x, dims::Integer) = ntuple(d -> d == dims ? size(x, d) : 1, ndims(x))
_dropout_mask_size(x, dims::Tuple) = ntuple(d -> d in dims ? size(x, d) : 1, ndims(x))

# ---- NNlib's dot_product_attention: q (qk, q_len, batch), k (qk, kv_len, batch), v (v, kv_len, batch),
# each split into `nheads` heads along its first dimension; returns x (v, q_len, batch) and the
# attention weights α (kv_len, q_len, nheads, batch), softmax over the keys of q·k/√(qk ÷ nheads) plus
# `bias`, with `mask` (true: attend) applied first and `fdrop` (dropout) after
function dot_product_attention(q::AbstractArray{T,3}, k::AbstractArray{T,3}, v::AbstractArray{T,3}, bias=nothing;
                               fdrop=identity, mask=nothing, nheads::Int=1) where {T}
    size(q, 3) == size(k, 3) == size(v, 3) || throw(ArgumentError("Batch dimensions have to be the same."))
    size(q, 1) == size(k, 1) || throw(ArgumentError("First dimension in query and key has to be the same."))
    size(k, 2) == size(v, 2) || throw(ArgumentError("Second dimension in key and value has to be the same."))
    size(q, 1) % nheads == 0 && size(v, 1) % nheads == 0 ||
        throw(ArgumentError("qk_dim and v_dim must be divisible by the number of heads."))
    dh, dv, lq, lk, b = size(q, 1) ÷ nheads, size(v, 1) ÷ nheads, size(q, 2), size(k, 2), size(q, 3)
    # per head and batch item (the third dimension, heads first): keys' rows against queries' columns
    qh = reshape(permutedims(reshape(q, dh, nheads, lq, b), (1, 3, 2, 4)), dh, lq, :) ./ sqrt(T(dh))
    kh = reshape(permutedims(reshape(k, dh, nheads, lk, b), (3, 1, 2, 4)), lk, dh, :)
    logits = _attention_mask(_attention_bias(reshape(batched_mul(kh, qh), lk, lq, nheads, b), bias), mask)
    α = fdrop(softmax(logits; dims=1))
    vh = reshape(permutedims(reshape(v, dv, nheads, lk, b), (1, 3, 2, 4)), dv, lk, :)
    x = reshape(batched_mul(vh, reshape(α, lk, lq, :)), dv, lq, nheads, b)
    return (reshape(permutedims(x, (1, 3, 2, 4)), dv * nheads, lq, b), α)
end
# (qk, len) inputs: one batch item
function dot_product_attention(q::AbstractMatrix, k::AbstractMatrix, v::AbstractMatrix, bias=nothing;
                               fdrop=identity, mask=nothing, nheads::Int=1)
    x, α = dot_product_attention(reshape(q, size(q)..., 1), reshape(k, size(k)..., 1), reshape(v, size(v)..., 1),
                                 bias; fdrop=fdrop, mask=mask, nheads=nheads)
    return (reshape(x, size(x, 1), size(x, 2)), reshape(α, size(α, 1), size(α, 2), size(α, 3)))
end
_attention_bias(logits, ::Nothing) = logits
_attention_bias(logits, bias) = logits .+ bias
_attention_mask(logits, ::Nothing) = logits
_attention_mask(logits, mask) = ifelse.(mask, logits, typemin(eltype(logits)))
# a (len, len) mask that lets position j attend to positions i ≤ j (NNlib's, along dimension `dims` of x)
make_causal_mask(x::AbstractArray; dims::Int=2) = [i <= j for i in 1:size(x, dims), j in 1:size(x, dims)]
