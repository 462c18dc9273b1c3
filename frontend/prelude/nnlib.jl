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

# ---- NNlib's upsampling (NNlib/src/upsample.jl), on the first dimensions (WHCN: the spatial ones)
# upsample_nearest: element i of dimension d ≤ length(scales) repeated scales[d] times; `size` the output's
# leading sizes instead (each a multiple of the input's)
function upsample_nearest(x::AbstractArray, scales::NTuple{S,Integer}) where {S}
    N, k = ndims(x), length(scales)
    1 <= k <= N || throw(ArgumentError("can't upsample ndims(x)=$N with scale=$scales"))
    outsize = ntuple(d -> d <= k ? scales[d] * size(x, d) : size(x, d), N)
    # x read as (1, W, 1, H, ..., rest), broadcast to (sW, W, sH, H, ..., rest): NNlib's writesize/readsize
    readsize = ntuple(d -> d > 2k ? size(x, d - k) : (isodd(d) ? 1 : size(x, cld(d, 2))), N + k)
    writesize = ntuple(d -> d > 2k ? size(x, d - k) : (isodd(d) ? scales[cld(d, 2)] : size(x, cld(d, 2))), N + k)
    return reshape(broadcast((v, _) -> v, reshape(x, readsize), trues(writesize...)), outsize)
end
upsample_nearest(x::AbstractArray; size) = _upsample_nearest_to(x, size)
function _upsample_nearest_to(x, outsize)
    xsize = size(x)[1:length(outsize)]
    _all_true(outsize .% xsize .== 0) || throw(ArgumentError("expected output size divisible by input size"))
    return upsample_nearest(x, outsize .÷ xsize)
end

# upsample_linear: linear interpolation along each of the first ndims(x) - 2 dimensions to the output size
# `size` (or floor(scale * input size)); bilinear and trilinear are the same function. As NNlib's kernels, one
# dimension after the other (W, then H, then D): y = w0 x[i0] + w1 x[i1] with NNlib's source_idx_and_λ,
# align_corners=true mapping output index o (0-based) to o (in - 1) / (out - 1), false to
# max(0, (o + ½) in / out - ½), the ratio rounded to the element type first. An output of the input's size
# is the input itself.
function upsample_linear(x::AbstractArray, scale::Tuple; align_corners::Bool=true)
    N = ndims(x)
    length(scale) == N - 2 ||
        error("The scale argument should be an NTuple with length $(N - 2), but it has length $(length(scale)).")
    outsize = ntuple(i -> floor(Int, scale[i] * size(x, i)), N - 2)
    return upsample_linear(x; size=outsize, align_corners=align_corners)
end
upsample_linear(x::AbstractArray, scale::Real; align_corners::Bool=true) =
    upsample_linear(x, ntuple(_ -> scale, ndims(x) - 2); align_corners=align_corners)
upsample_linear(x::AbstractArray; size, align_corners::Bool=true) = _upsample_linear_to(x, _size_tuple(size), align_corners)
function _upsample_linear_to(x, outsize, align_corners)
    N = ndims(x)
    length(outsize) == N - 2 ||
        error("The scale argument should be an NTuple with length $(N - 2), but it has length $(length(outsize)).")
    size(x)[1:N-2] == outsize && return x
    _all_true(outsize .>= 1) || throw(ArgumentError("upsample_linear to size $(outsize): every output size must be ≥ 1"))
    # NNlib divides by out - 1: an output of size 1 from a larger input has no defined source index
    !align_corners || _all_true(ntuple(i -> outsize[i] > 1 || size(x, i) == 1, N - 2)) || throw(ArgumentError(
        "upsample_linear with align_corners=true to size $(outsize): an output size of 1 from a larger input " *
        "divides by zero in NNlib (its source index is undefined)"))
    return _upsample_linear_dims(x, outsize, align_corners, 1)
end
# NNlib: integers are interpolated as floats, then rounded back
upsample_linear(x::AbstractArray{<:Integer}; size, align_corners::Bool=true) =
    round.(eltype(x), upsample_linear(float.(x); size=size, align_corners=align_corners))
upsample_bilinear(x::AbstractArray, scale; align_corners::Bool=true) = upsample_linear(x, scale; align_corners=align_corners)
upsample_bilinear(x::AbstractArray; size, align_corners::Bool=true) = upsample_linear(x; size=size, align_corners=align_corners)
upsample_trilinear(x::AbstractArray, scale; align_corners::Bool=true) = upsample_linear(x, scale; align_corners=align_corners)
upsample_trilinear(x::AbstractArray; size, align_corners::Bool=true) = upsample_linear(x; size=size, align_corners=align_corners)
# all of a tuple of Bools (compile-time constants here)
_all_true(t::Tuple{}) = true
_all_true(t::Tuple) = first(t) && _all_true(Base.tail(t))
_size_tuple(s::Integer) = (s,)
_size_tuple(s::Tuple) = s
_upsample_linear_dims(x, outsize, align, d) =
    d > length(outsize) ? x : _upsample_linear_dims(_upsample_linear_dim(x, d, outsize[d], align), outsize, align, d + 1)
function _upsample_linear_dim(x::AbstractArray, d, nout, align)
    T = eltype(x)
    nin = size(x, d)
    ratio = align ? T((nin - 1) / (nout - 1)) : T(nin / nout)
    src = ntuple(o -> _source_idx_and_λ(ratio, o - 1, align, nin), nout)     # compile-time constants
    shape = ntuple(j -> j == d ? nout : 1, ndims(x))
    w0 = reshape(collect(map(s -> s[3], src)), shape)
    w1 = reshape(collect(map(s -> s[4], src)), shape)
    return w0 .* _take(x, d, collect(map(s -> s[1], src))) .+ w1 .* _take(x, d, collect(map(s -> s[2], src)))
end
function _source_idx_and_λ(ratio::T, o::Int, align::Bool, nin::Int) where {T}
    r = align ? ratio * o : max(zero(T), ratio * (o + T(0.5)) - T(0.5))
    i0 = floor(Int, r)
    i1 = i0 + ifelse(i0 < nin - 1, 1, 0) + 1
    w1 = r - i0
    return (i0 + 1, i1, one(T) - w1, w1)
end
# x[:, ..., idx, ..., :] with idx in dimension d
_take(x::AbstractArray, d, idx) = getindex(x, ntuple(j -> j == d ? idx : (1:size(x, j)), ndims(x))...)

# ---- NNlib's pixel_shuffle: (W, H, r^d C, N) -> (rW, rH, C, N), channel block (i, j) of each output channel
# to the sub-pixel (i, j) of each r×r cell
function pixel_shuffle(x::AbstractArray, r::Integer)
    ndims(x) > 2 || throw(ArgumentError("expected x with at least 3 dimensions"))
    d = ndims(x) - 2
    sizein = size(x)[1:d]
    cin, n = size(x, d + 1), size(x, d + 2)
    cin % r^d == 0 || throw(ArgumentError("expected channel dimension to be divisible by r^d = $(r^d), where " *
                                          "d=$d is the number of spatial dimensions. Given r=$r, input size(x) = $(size(x))"))
    cout = cin ÷ r^d
    y = reshape(x, sizein..., ntuple(_ -> r, d)..., cout, n)
    perm = ntuple(i -> isodd(i) ? d + (i + 1) ÷ 2 : i ÷ 2, 2d)     # (d+1, 1, d+2, 2, ..., 2d, d)
    y = permutedims(y, (perm..., 2d + 1, 2d + 2))
    return reshape(y, map(s -> s * r, sizein)..., cout, n)
end

# ---- NNlib's padding (NNlib/src/padding.jl). pad_constant/pad_zeros: `pad` an Int (both sides of every
# dimension in `dims`, default all of them), a tuple of length(dims) (symmetric) or 2length(dims)
# (l1, r1, l2, r2, ...), or one (lo, hi) pair per dimension of x; the value is converted to eltype(x)
pad_zeros(x::AbstractArray, pad; dims=:) = pad_constant(x, pad, 0; dims=dims)
pad_constant(x::AbstractArray, pad::Int, val=0; dims=:) = _pad_constant(x, _gen_pad(pad, _pad_dims(dims), ndims(x)), val)
pad_constant(x::AbstractArray, pad::Tuple, val=0; dims=:) = _pad_constant(x, _gen_pad(pad, _pad_dims(dims), ndims(x)), val)
pad_constant(x::AbstractArray, pad::NTuple{N,Tuple{Int,Int}}, val=0) where {N} = _pad_constant(x, pad, val)
_pad_dims(c::Colon) = c
_pad_dims(dims::Integer) = (dims,)
_pad_dims(dims::Tuple) = dims
_pad_dims(dims) = ntuple(i -> dims[i], length(dims))
_gen_pad(pad::Int, ::Colon, N) = ntuple(_ -> (pad, pad), N)
_gen_pad(pad::Int, dims::Tuple, N) = _gen_pad(ntuple(_ -> pad, length(dims)), dims, N)
_gen_pad(pad::Tuple, ::Colon, N) = _gen_pad(pad, ntuple(identity, N), N)
function _gen_pad(pad::Tuple, dims::Tuple, N)
    L, D = length(pad), length(dims)
    L == D || L == 2D || throw(ArgumentError("Could not parse padding $pad and dims $dims"))
    return ntuple(d -> _pad_of(pad, dims, d, L == D), N)
end
function _pad_of(pad, dims, d, symmetric)
    ix = _findpos(d, dims, 1)
    ix == 0 && return (0, 0)
    return symmetric ? (pad[ix], pad[ix]) : (pad[2ix - 1], pad[2ix])
end
_findpos(d, dims::Tuple{}, i) = 0
_findpos(d, dims::Tuple, i) = first(dims) == d ? i : _findpos(d, Base.tail(dims), i + 1)
function _pad_constant(x::AbstractArray, pad::Tuple, val)
    length(pad) == ndims(x) ||
        throw(ArgumentError("pad_constant: $(length(pad)) (lo, hi) pairs for an array of $(ndims(x)) dimensions"))
    _all_true(map(p -> p[1] >= 0 && p[2] >= 0, pad)) || throw(ArgumentError("pad_constant: negative padding $pad"))
    return _pad_constant_dims(x, pad, convert(eltype(x), val), 1)
end
_pad_constant_dims(x, pad, v, d) = d > ndims(x) ? x : _pad_constant_dims(_pad_dim(x, d, pad[d], v), pad, v, d + 1)
function _pad_dim(x, d, p, v)
    lo, hi = p
    lo == 0 && hi == 0 && return x
    lo == 0 && return cat(x, fill(v, ntuple(j -> j == d ? hi : size(x, j), ndims(x))...); dims=d)
    hi == 0 && return cat(fill(v, ntuple(j -> j == d ? lo : size(x, j), ndims(x))...), x; dims=d)
    return cat(fill(v, ntuple(j -> j == d ? lo : size(x, j), ndims(x))...), x,
               fill(v, ntuple(j -> j == d ? hi : size(x, j), ndims(x))...); dims=d)
end

# pad_repeat / pad_reflect / pad_symmetric / pad_circular: `pad` (l1, r1, ..., ln, rn) for the dimensions
# `dims` (default 1:n), or an Int for both sides of dimensions 1:ndims(x)-2; one dimension after the other
pad_repeat(x::AbstractArray, pad; dims=_pad_default_dims(x, pad)) = _pad_each(:repeat, x, pad, dims)
pad_reflect(x::AbstractArray, pad; dims=_pad_default_dims(x, pad)) = _pad_each(:reflect, x, pad, dims)
pad_symmetric(x::AbstractArray, pad; dims=_pad_default_dims(x, pad)) = _pad_each(:symmetric, x, pad, dims)
pad_circular(x::AbstractArray, pad; dims=_pad_default_dims(x, pad)) = _pad_each(:circular, x, pad, dims)
_pad_default_dims(x, pad::Int) = 1:ndims(x)-2
_pad_default_dims(x, pad::Tuple) = length(pad) == 2 ? 1 : 1:length(pad)÷2
_pad_each(kind, x, pad::Int, dims) = _pad_each(kind, x, ntuple(_ -> pad, 2length(dims)), dims)
function _pad_each(kind, x, pad::Tuple, dims)
    # NNlib: a 2-tuple goes to the method for one dimension, whose keyword `dims` is an Int
    length(pad) == 2 && !(dims isa Integer) && throw(ArgumentError(
        "padding with the 2-tuple pad $pad takes an Int `dims` (NNlib's method for one dimension; Julia " *
        "throws a TypeError for any other `dims`)"))
    length(dims) == length(pad) ÷ 2 ||
        throw(ArgumentError("The number of dims should be equal to the number of padding dimensions"))
    return _pad_each_dim(kind, x, pad, _pad_dims(dims), 1)
end
_pad_each_dim(kind, x, pad, dims::Tuple{}, i) = x
_pad_each_dim(kind, x, pad, dims::Tuple, i) =
    _pad_each_dim(kind, _pad_one(kind, x, first(dims), pad[2i - 1], pad[2i]), pad, Base.tail(dims), i + 1)
function _pad_one(kind, x, d, lo, hi)
    n = size(x, d)
    lo >= 0 && hi >= 0 || throw(ArgumentError("negative padding ($lo, $hi) in dimension $d"))
    if kind === :repeat
        left, right = _repeat_slice(x, d, ntuple(_ -> 1, lo)), _repeat_slice(x, d, ntuple(_ -> n, hi))
    elseif kind === :reflect
        lo <= n - 1 && hi <= n - 1 || throw(BoundsError(x, (lo, hi)))
        left, right = _repeat_slice(x, d, ntuple(i -> lo + 2 - i, lo)), _repeat_slice(x, d, ntuple(i -> n - i, hi))
    elseif kind === :symmetric
        lo <= n && hi <= n || throw(BoundsError(x, (lo, hi)))
        left, right = _repeat_slice(x, d, ntuple(i -> lo + 1 - i, lo)), _repeat_slice(x, d, ntuple(i -> n + 1 - i, hi))
    else
        lo <= n && hi <= n || throw(BoundsError(x, (lo, hi)))
        left, right = _repeat_slice(x, d, ntuple(i -> n - lo + i, lo)), _repeat_slice(x, d, ntuple(i -> i, hi))
    end
    lo == 0 && hi == 0 && return x
    lo == 0 && return cat(x, right; dims=d)
    hi == 0 && return cat(left, x; dims=d)
    return cat(left, x, right; dims=d)
end
# the slices idx (compile-time indices) of x along dimension d; nothing for none
_repeat_slice(x, d, idx::Tuple{}) = nothing
_repeat_slice(x, d, idx::Tuple) = _take(x, d, collect(idx))
