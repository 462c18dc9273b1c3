# Flux-style layers, written in the language. Arrays are WHCN (width, height, channels, batch), as
# in Flux and NNlib. Each layer is a struct whose parameters come in as arrays (from an .npz file
# or the Python API) and a callable-struct method for its forward pass.
#
# Constructors take Flux's defaults and keywords, e.g. `Dense(W, b, relu)`, `Dense(W, b)`,
# `Conv(W, b, relu; pad=1, stride=1)`, `MaxPool((2, 2))`, `Chain(l1, l2, l3)`: outer constructors
# below, next to each struct's default constructor. A bias may be `true` (zeros), `false` (no bias) or an
# array. Each layer's `_functor` method (functors.jl) tells Optimisers and f32/f64 its trainable children.

# ---- Dense: y = σ.(W * x .+ b), W is (out, in), x is (in,) or (in, batch)
struct Dense{M<:AbstractMatrix,V,F}
    W::M
    b::V
    σ::F
    Dense(W::AbstractMatrix, b=true, σ=identity) = new(W, _create_bias(W, b, size(W, 1)), σ)
end
# Flux's `Dense(in => out, σ)` (and its older spelling `Dense(in, out, σ)`): a random (out, in) Float32
# weight and a zero bias (or none)
Dense(ch::Pair{<:Integer,<:Integer}, σ=identity; init=glorot_uniform, bias=true) =
    Dense(init(ch.second, ch.first), bias, σ)
Dense(nin::Integer, nout::Integer, σ=identity; init=glorot_uniform, bias=true) = Dense(init(nout, nin), bias, σ)
(d::Dense)(x::AbstractVecOrMat) = d.σ.(d.W * x .+ d.b)
# more dimensions: the columns of the first one, as Flux's
(d::Dense)(x::AbstractArray) = reshape(d(reshape(x, size(x, 1), :)), :, ntuple(i -> size(x, i + 1), ndims(x) - 1)...)
_functor(::Dense) = (d -> (d.W, d.b, d.σ), Dense, (W, b, σ) -> (W=W, b=b, σ=σ))

# ---- Conv: W is (kW, kH, Cin ÷ groups, Cout), a true convolution as NNlib's `conv`
struct Conv{M<:AbstractArray,V,F,S,P,D}
    W::M
    b::V
    σ::F
    stride::S
    pad::P
    dilation::D
    groups::Int
end
Conv(W::AbstractArray, b=true, σ=identity; stride=1, pad=0, dilation=1, groups=1) =
    Conv(W, _create_bias(W, b, size(W, ndims(W))), σ, stride, pad, dilation, groups)
# Flux's `Conv((k1, k2), in => out, σ; stride, pad, dilation, groups, bias, init)`: a random
# (k..., in ÷ groups, out) weight
Conv(k::Tuple, ch::Pair{<:Integer,<:Integer}, σ=identity; init=glorot_uniform, stride=1, pad=0, dilation=1,
     groups=1, bias=true) =
    Conv(_conv_weight(init, k, ch, groups), bias, σ; stride=stride, pad=_conv_pad(pad, k, dilation),
         dilation=dilation, groups=groups)
(c::Conv)(x) =
    c.σ.(conv(x, c.W; stride=c.stride, pad=c.pad, dilation=c.dilation, groups=c.groups) .+ _channel_bias(c.b, x))
_functor(::Conv) = (c -> (c.W, c.b, c.σ, c.stride, c.pad, c.dilation, c.groups), Conv,
                    (W, b, σ, stride, pad, dilation, groups) ->
                        (W=W, b=b, σ=σ, stride=stride, pad=pad, dilation=dilation, groups=groups))

# ---- CrossCor: the same without flipping the kernel
struct CrossCor{M<:AbstractArray,V,F,S,P,D}
    W::M
    b::V
    σ::F
    stride::S
    pad::P
    dilation::D
    groups::Int
end
CrossCor(W::AbstractArray, b=true, σ=identity; stride=1, pad=0, dilation=1, groups=1) =
    CrossCor(W, _create_bias(W, b, size(W, ndims(W))), σ, stride, pad, dilation, groups)
CrossCor(k::Tuple, ch::Pair{<:Integer,<:Integer}, σ=identity; init=glorot_uniform, stride=1, pad=0,
         dilation=1, groups=1, bias=true) =
    CrossCor(_conv_weight(init, k, ch, groups), bias, σ; stride=stride, pad=_conv_pad(pad, k, dilation),
             dilation=dilation, groups=groups)

function _conv_weight(init, k, ch, groups)
    ch.first % groups == 0 || throw(ArgumentError("Input channel dimension must be divisible by groups."))
    ch.second % groups == 0 || throw(ArgumentError("output channel dimension must be divisible by groups."))
    return init(k..., ch.first ÷ groups, ch.second)
end
# Flux's `pad=SamePad()`: the output keeps the input's size at stride 1; an odd total padding puts
# the extra element after (lo = cld, hi = fld of k_eff - 1), as Flux's calc_padding
struct SamePad end
_conv_pad(pad, k, dilation) = pad
function _conv_pad(::SamePad, k::Tuple, dilation)
    total = (k .+ (k .- 1) .* (dilation .- 1)) .- 1
    return _interleave(cld.(total, 2), fld.(total, 2))
end
_interleave(lo::Tuple{}, hi::Tuple{}) = ()
_interleave(lo::Tuple, hi::Tuple) = (first(lo), first(hi), _interleave(Base.tail(lo), Base.tail(hi))...)
(c::CrossCor)(x) =
    c.σ.(conv(x, c.W; stride=c.stride, pad=c.pad, dilation=c.dilation, groups=c.groups, flipped=true) .+
         _channel_bias(c.b, x))
_functor(::CrossCor) = (c -> (c.W, c.b, c.σ, c.stride, c.pad, c.dilation, c.groups), CrossCor,
                        (W, b, σ, stride, pad, dilation, groups) ->
                            (W=W, b=b, σ=σ, stride=stride, pad=pad, dilation=dilation, groups=groups))

# ---- DepthwiseConv, as Flux's: a Conv with groups = in. From a weight (k..., in, multiplier): reshaped to
# (k..., 1, in * multiplier), so output channel i + in (m - 1) is input channel i's m-th filter (Flux's reshape)
DepthwiseConv(k::Tuple, ch::Pair{<:Integer,<:Integer}, σ=identity; stride=1, pad=0, dilation=1, bias=true,
              init=glorot_uniform) =
    Conv(k, ch, σ; groups=ch.first, stride=stride, pad=pad, dilation=dilation, bias=bias, init=init)
DepthwiseConv(W::AbstractArray, bias=true, σ=identity; stride=1, pad=0, dilation=1) =
    Conv(reshape(W, size(W)[1:ndims(W)-2]..., 1, :), bias, σ; groups=size(W, ndims(W) - 1), stride=stride,
         pad=_conv_pad(pad, size(W)[1:ndims(W)-2], dilation), dilation=dilation)

# ---- ConvTranspose, as Flux's: NNlib's ∇conv_data, the transpose of the true convolution `conv(·, W; stride,
# pad, dilation, groups)` of an input of the output's size. W is (k..., out ÷ groups, in); the output's spatial
# size is (x - 1) stride + 1 + (k - 1) dilation - (lo + hi) + outpad (Flux's conv_transpose_dims).
struct ConvTranspose{M<:AbstractArray,V,F,S,P,O,D}
    W::M
    b::V
    σ::F
    stride::S
    pad::P
    outpad::O
    dilation::D
    groups::Int
end
ConvTranspose(W::AbstractArray, b=true, σ=identity; stride=1, pad=0, outpad=0, dilation=1, groups=1) =
    ConvTranspose(W, _create_bias(W, b, size(W, ndims(W) - 1) * groups), σ, stride,
                  _convtranspose_pad(pad, size(W)[1:ndims(W)-2], dilation, stride), outpad, dilation, groups)
# Flux's `ConvTranspose((k1, k2), in => out, σ; stride, pad, outpad, dilation, groups, bias, init)`: a random
# (k..., out ÷ groups, in) weight (Flux's convfilter of the reversed pair)
ConvTranspose(k::Tuple, ch::Pair{<:Integer,<:Integer}, σ=identity; init=glorot_uniform, stride=1, pad=0, outpad=0,
              dilation=1, groups=1, bias=true) =
    ConvTranspose(_conv_weight(init, k, ch.second => ch.first, groups), bias, σ; stride=stride, pad=pad,
                  outpad=outpad, dilation=dilation, groups=groups)
# Flux: SamePad gives size(output, d) == size(x, d) * stride, the padding of a Conv with window k - stride + 1
_convtranspose_pad(pad, k, dilation, stride) = pad
_convtranspose_pad(pad::SamePad, k, dilation, stride) = _conv_pad(pad, k .- stride .+ 1, dilation)
function (c::ConvTranspose)(x::AbstractArray)
    N = ndims(c.W)
    ndims(x) == N || throw(DimensionMismatch("layer ConvTranspose expects ndims(input) == $N, but got $(ndims(x))"))
    size(x, N - 1) == size(c.W, N) ||
        throw(DimensionMismatch("layer ConvTranspose expects size(input, $(N - 1)) == $(size(c.W, N)), but got $(size(x, N - 1))"))
    n = N - 2
    stride, dilation, outpad = _expand(n, c.stride), _expand(n, c.dilation), _expand(n, c.outpad)
    pad = _combined_pad(n, c.pad)
    outsize = ntuple(i -> (size(x, i) - 1) * stride[i] + 1 + (size(c.W, i) - 1) * dilation[i] - pad[i] + outpad[i], n)
    y = _conv_transpose(_match_eltype(c.W, x), c.W, outsize; stride=c.stride, pad=c.pad, dilation=c.dilation,
                        groups=c.groups)
    return c.σ.(y .+ _channel_bias(c.b, y))
end
_expand(n, i::Integer) = ntuple(_ -> i, n)
_expand(n, i::Tuple) = i
_combined_pad(n, p::Integer) = ntuple(_ -> 2p, n)
_combined_pad(n, p::Tuple) = length(p) == n ? 2 .* p : ntuple(i -> p[2i - 1] + p[2i], n)
_functor(::ConvTranspose) = (c -> (c.W, c.b, c.σ, c.stride, c.pad, c.outpad, c.dilation, c.groups), ConvTranspose,
                             (W, b, σ, stride, pad, outpad, dilation, groups) ->
                                 (W=W, b=b, σ=σ, stride=stride, pad=pad, outpad=outpad, dilation=dilation, groups=groups))
# Flux's _match_eltype: a layer converts its input to the weight's element type (Flux also warns for Float64
# data in a Float32 layer)
_match_eltype(W::AbstractArray{T}, x::AbstractArray{T}) where {T} = x
_match_eltype(W::AbstractArray{<:AbstractFloat}, x::AbstractArray{<:Union{AbstractFloat,Integer}}) = convert.(eltype(W), x)
_match_eltype(W, x) = x

# Flux's initializers and default bias: Float32, the weight's (out, in) or (k..., in, out) shape
glorot_uniform(dims::Integer...) = (rand(Float32, dims...) .- 0.5f0) .* sqrt(24.0f0 / _fan_sum(dims...))
glorot_normal(dims::Integer...) = randn(Float32, dims...) .* sqrt(2.0f0 / _fan_sum(dims...))
_fan_sum(n) = 1 + n
_fan_sum(nout, nin) = nin + nout
_fan_sum(dims...) = prod(ntuple(i -> dims[i], length(dims) - 2)) * (dims[end-1] + dims[end])
ones32(dims::Integer...) = ones(Float32, dims...)
zeros32(dims::Integer...) = zeros(Float32, dims...)
rand32(dims::Integer...) = rand(Float32, dims...)
randn32(dims::Integer...) = randn(Float32, dims...)
# Flux's create_bias: `true` is zeros of the weight's element type, `false` no bias, an array itself
_create_bias(W, bias::Bool, dims::Integer...) = bias ? zeros(eltype(W), dims...) : false
function _create_bias(W, bias::AbstractArray, dims::Integer...)
    size(bias) == dims || throw(DimensionMismatch("expected bias of size $(dims), got size $(size(bias))"))
    return bias
end

# the bias of the channel dimension (the one before the batch), shaped to broadcast against x
_channel_bias(b::Bool, x) = b
_channel_bias(b::AbstractVector, x::AbstractMatrix) = b
_channel_bias(b::AbstractVector, x::AbstractArray{T,3}) where {T} = reshape(b, 1, :, 1)
_channel_bias(b::AbstractVector, x::AbstractArray{T,4}) where {T} = reshape(b, 1, 1, :, 1)
_channel_bias(b::AbstractVector, x::AbstractArray{T,5}) where {T} = reshape(b, 1, 1, 1, :, 1)

# ---- pooling layers: window k (a tuple), padding, stride (default: the window)
struct MaxPool{K,P,S}
    k::K
    pad::P
    stride::S
end
MaxPool(k::Tuple; pad=0, stride=k) = MaxPool(k, _conv_pad(pad, k, 1), stride)
(m::MaxPool)(x) = maxpool(x, m.k; pad=m.pad, stride=m.stride)
_functor(::MaxPool) = nothing

struct MeanPool{K,P,S}
    k::K
    pad::P
    stride::S
end
MeanPool(k::Tuple; pad=0, stride=k) = MeanPool(k, _conv_pad(pad, k, 1), stride)
(m::MeanPool)(x) = meanpool(x, m.k; pad=m.pad, stride=m.stride)
_functor(::MeanPool) = nothing

# ---- Dropout, as Flux's: `active` nothing (the default) drops inside `gradient` (NNlib's within_gradient)
# and is the identity outside (Flux's test mode); true or false forces one (`active=false` is testmode!)
struct Dropout{P,D,A}
    p::P
    dims::D
    active::A
end
function Dropout(p::Real; dims=:, active=nothing)
    0 <= p <= 1 || throw(ArgumentError("Dropout expects 0 <= p <= 1"))
    return Dropout(p, dims, active)
end
_isactive(d::Dropout{P,D,Nothing}, x) where {P,D} = within_gradient(x)
_isactive(d::Dropout, x) = d.active
(d::Dropout)(x) = _isactive(d, x) ? dropout(x, d.p; dims=d.dims) : x
_functor(::Dropout) = nothing

# ---- BatchNorm, as Flux's: `active` nothing (the default) normalises with the batch's statistics inside
# `gradient` (NNlib's within_gradient) and with the running ones outside; true or false forces one.
# Training mode updates the running statistics in place, μ ← (1 - momentum) μ + momentum μ_batch and
# σ² ← (1 - momentum) σ² + momentum m/(m-1) σ²_batch (m values per channel), as Flux's _track_stats!
struct BatchNorm{F,V,W,N,A}
    λ::F
    β::V
    γ::V
    μ::W
    σ²::W
    ϵ::N
    momentum::N
    affine::Bool
    track_stats::Bool
    active::A
    chs::Int
end
function BatchNorm(chs::Integer, λ=identity; initβ=zeros32, initγ=ones32, affine::Bool=true,
                   track_stats::Bool=true, active=nothing, eps::Real=1.0f-5, momentum::Real=0.1f0)
    β = affine ? initβ(chs) : nothing
    γ = affine ? initγ(chs) : nothing
    μ = track_stats ? zeros32(chs) : nothing
    σ² = track_stats ? ones32(chs) : nothing
    return BatchNorm(λ, β, γ, μ, σ², Float32(eps), Float32(momentum), affine, track_stats, active, Int(chs))
end
# jlhlo's: a BatchNorm from its arrays (β, γ, running mean and variance)
BatchNorm(β::AbstractVector, γ::AbstractVector, μ::AbstractVector, σ²::AbstractVector, λ=identity;
          ϵ=1.0f-5, momentum=0.1f0, active=nothing) =
    BatchNorm(λ, β, γ, μ, σ², ϵ, oftype(ϵ, momentum), true, true, active, length(β))
_isactive(bn::BatchNorm{F,V,W,N,Nothing}, x) where {F,V,W,N} = within_gradient(x)
_isactive(bn::BatchNorm, x) = bn.active
function (bn::BatchNorm)(x::AbstractArray)
    N = ndims(x)
    size(x, N - 1) == bn.chs ||
        throw(DimensionMismatch("layer BatchNorm($(bn.chs)) expects size(input, $(N - 1)) == $(bn.chs), but got $(size(x, N - 1))"))
    if !_isactive(bn, x) && bn.track_stats
        return bn.λ.(_batchnorm_affine(bn, x, reshape(bn.μ, _channel_shape(x)), reshape(bn.σ², _channel_shape(x))))
    end
    dims = (ntuple(identity, N - 2)..., N)
    μ = mean(x; dims=dims)
    σ² = var(x; dims=dims, corrected=false)
    bn.track_stats && _track_stats!(bn, x, μ, σ²)
    return bn.λ.(_batchnorm_affine(bn, x, μ, σ²))
end
_channel_shape(x) = ntuple(i -> i == ndims(x) - 1 ? size(x, i) : 1, ndims(x))
# Flux's _norm_layer_forward: scale .* x .+ bias with scale = γ / sqrt(σ² + ϵ), bias = β - scale μ
function _batchnorm_affine(bn::BatchNorm, x, μ, σ²)
    ϵ = convert(float(eltype(x)), bn.ϵ)
    bn.affine || return (x .- μ) ./ sqrt.(σ² .+ ϵ)
    scale = reshape(bn.γ, _channel_shape(x)) ./ sqrt.(σ² .+ ϵ)
    return scale .* x .+ (reshape(bn.β, _channel_shape(x)) .- scale .* μ)
end
function _track_stats!(bn::BatchNorm, x, μ, σ²)
    m = length(x) ÷ size(x, ndims(x) - 1)
    mtm = convert(eltype(bn.σ²), bn.momentum)
    bn.μ .= (1 - mtm) .* bn.μ .+ mtm .* vec(μ)
    bn.σ² .= (1 - mtm) .* bn.σ² .+ mtm .* (m / (m - one(mtm))) .* vec(σ²)
    return nothing
end
# trainable: β and γ (Flux's `trainable`); the running statistics are not
_functor(bn::BatchNorm) = (m -> (m.β, m.γ),
                           (β, γ) -> BatchNorm(bn.λ, β, γ, bn.μ, bn.σ², bn.ϵ, bn.momentum, bn.affine, bn.track_stats,
                                               bn.active, bn.chs),
                           (β, γ) -> (β=β, γ=γ))

# ---- InstanceNorm, as Flux's: each (sample, channel) slice normalised over the spatial dimensions 1:N-2.
# With track_stats (default false) the running statistics (the batch mean of the instance statistics) are
# updated in training mode and used in test mode, as BatchNorm's; without, both modes use the instance's.
struct InstanceNorm{F,V,W,N,A}
    λ::F
    β::V
    γ::V
    μ::W
    σ²::W
    ϵ::N
    momentum::N
    affine::Bool
    track_stats::Bool
    active::A
    chs::Int
end
function InstanceNorm(chs::Integer, λ=identity; initβ=zeros32, initγ=ones32, affine::Bool=false,
                      track_stats::Bool=false, active=nothing, eps::Real=1.0f-5, momentum::Real=0.1f0)
    β = affine ? initβ(chs) : nothing
    γ = affine ? initγ(chs) : nothing
    μ = track_stats ? zeros32(chs) : nothing
    σ² = track_stats ? ones32(chs) : nothing
    return InstanceNorm(λ, β, γ, μ, σ², Float32(eps), Float32(momentum), affine, track_stats, active, Int(chs))
end
_isactive(l::InstanceNorm{F,V,W,N,Nothing}, x) where {F,V,W,N} = within_gradient(x)
_isactive(l::InstanceNorm, x) = l.active
function (l::InstanceNorm)(x::AbstractArray)
    N = ndims(x)
    # Flux would normalise a matrix over no dimension at all (every output 0): refused
    N > 2 || throw(ArgumentError("InstanceNorm needs an input with spatial dimensions (ndims ≥ 3), got ndims = $N"))
    size(x, N - 1) == l.chs ||
        throw(DimensionMismatch("layer InstanceNorm($(l.chs)) expects size(input, $(N - 1)) == $(l.chs), but got $(size(x, N - 1))"))
    if !_isactive(l, x) && l.track_stats
        return l.λ.(_norm_affine(l, x, reshape(l.μ, _channel_shape(x)), reshape(l.σ², _channel_shape(x)), _channel_shape(x)))
    end
    dims = ntuple(identity, N - 2)
    μ = mean(x; dims=dims)
    σ² = var(x; dims=dims, corrected=false)
    if l.track_stats
        m = prod(ntuple(i -> size(x, i), N - 2))
        _track_running!(l, vec(mean(μ; dims=N)), vec(mean(σ²; dims=N)), m)
    end
    return l.λ.(_norm_affine(l, x, μ, σ², _channel_shape(x)))
end
_functor(l::InstanceNorm) = (m -> (m.β, m.γ),
                             (β, γ) -> InstanceNorm(l.λ, β, γ, l.μ, l.σ², l.ϵ, l.momentum, l.affine, l.track_stats,
                                                    l.active, l.chs),
                             (β, γ) -> (β=β, γ=γ))

# ---- GroupNorm, as Flux's: the channels split into G groups of chs ÷ G consecutive ones, each (sample, group)
# normalised over the spatial dimensions and its channels; no running statistics, so training and test mode agree
struct GroupNorm{F,V,N,A}
    G::Int
    λ::F
    β::V
    γ::V
    ϵ::N
    momentum::N
    affine::Bool
    active::A
    chs::Int
end
function GroupNorm(chs::Integer, G::Integer, λ=identity; initβ=zeros32, initγ=ones32, affine::Bool=true,
                   active=nothing, eps::Real=1.0f-5, momentum::Real=0.1f0)
    chs % G == 0 || error("The number of groups ($(G)) must divide the number of channels ($chs)")
    β = affine ? initβ(chs) : nothing
    γ = affine ? initγ(chs) : nothing
    return GroupNorm(Int(G), λ, β, γ, Float32(eps), Float32(momentum), affine, active, Int(chs))
end
function (gn::GroupNorm)(x::AbstractArray)
    N = ndims(x)
    N > 1 && size(x, N - 1) == gn.chs ||
        throw(DimensionMismatch("layer GroupNorm($(gn.chs), $(gn.G)) expects size(input, $(N - 1)) == $(gn.chs), but got $(size(x, N - 1))"))
    sz = size(x)
    x2 = reshape(x, sz[1:N-2]..., sz[N-1] ÷ gn.G, gn.G, sz[N])
    dims = ntuple(identity, N - 1)
    μ = mean(x2; dims=dims)
    σ² = var(x2; dims=dims, corrected=false)
    affine_shape = ntuple(i -> i == N - 1 || i == N ? size(x2, i) : 1, N + 1)
    return reshape(gn.λ.(_norm_affine(gn, x2, μ, σ², affine_shape)), sz)
end
_functor(g::GroupNorm) = (m -> (m.β, m.γ),
                          (β, γ) -> GroupNorm(g.G, g.λ, β, γ, g.ϵ, g.momentum, g.affine, g.active, g.chs),
                          (β, γ) -> (β=β, γ=γ))

# Flux's _norm_layer_forward after the statistics: (x - μ) / sqrt(σ² + ϵ), or with the affine parameters
# (shaped `affine_shape`) scale .* x .+ (β - scale μ), scale = γ / sqrt(σ² + ϵ)
function _norm_affine(l, x, μ, σ², affine_shape)
    ϵ = convert(float(eltype(x)), l.ϵ)
    l.affine || return (x .- μ) ./ sqrt.(σ² .+ ϵ)
    scale = reshape(l.γ, affine_shape) ./ sqrt.(σ² .+ ϵ)
    return scale .* x .+ (reshape(l.β, affine_shape) .- scale .* μ)
end
# Flux's _track_stats!: μ ← (1 - momentum) μ + momentum μnew, σ² ← (1 - momentum) σ² + momentum m/(m-1) σ²new
function _track_running!(l, μnew, σ²new, m)
    mtm = convert(eltype(l.σ²), l.momentum)
    l.μ .= (1 - mtm) .* l.μ .+ mtm .* μnew
    l.σ² .= (1 - mtm) .* l.σ² .+ mtm .* (m / (m - one(mtm))) .* σ²new
    return nothing
end

# batch normalisation with running statistics: γ .* (x .- μ) ./ sqrt.(σ² .+ ϵ) .+ β over the channels
batchnorm(x::AbstractArray, γ::AbstractVector, β::AbstractVector, μ::AbstractVector, σ²::AbstractVector) =
    batchnorm(x, γ, β, μ, σ², 1f-5)
function batchnorm(x::AbstractArray, γ::AbstractVector, β::AbstractVector, μ::AbstractVector,
                   σ²::AbstractVector, ϵ::Real)
    scale = γ ./ sqrt.(σ² .+ ϵ)
    shift = β .- μ .* scale
    return x .* _channel_bias(scale, x) .+ _channel_bias(shift, x)
end

# ---- Chain: layers applied in order; the recursion ends on the tuple's type, at compile time
struct Chain{T<:Tuple}
    layers::T
end
Chain(layers...) = Chain(layers)
(c::Chain)(x) = applychain(c.layers, x)
applychain(::Tuple{}, x) = x
applychain(fs::Tuple, x) = applychain(Base.tail(fs), first(fs)(x))
_functor(::Chain) = (c -> (c.layers,), Chain, layers -> (layers=layers,))
# Flux: a Chain indexes like its layers (`m[1]`, `m[end]`, `m[1:2]` a Chain of those)
getindex(c::Chain, i::Integer) = c.layers[i]
getindex(c::Chain, r::AbstractRange) = Chain(c.layers[r])
length(c::Chain) = length(c.layers)
lastindex(c::Chain) = length(c.layers)
firstindex(c::Chain) = 1

# ---- global and adaptive pooling: the window covers the whole input (Global), or is chosen so that
# the output has the spatial size `out` (Adaptive, Flux's stride = in ÷ out, window = in - (out - 1) * stride)
struct GlobalMaxPool end
struct GlobalMeanPool end
(g::GlobalMaxPool)(x::AbstractArray) = maxpool(x, _spatial_size(x))
(g::GlobalMeanPool)(x::AbstractArray) = meanpool(x, _spatial_size(x))
_functor(::GlobalMaxPool) = nothing
_functor(::GlobalMeanPool) = nothing
_spatial_size(x) = ntuple(i -> size(x, i), ndims(x) - 2)

struct AdaptiveMaxPool{T<:Tuple}
    out::T
end
struct AdaptiveMeanPool{T<:Tuple}
    out::T
end
(a::AdaptiveMaxPool)(x::AbstractArray) = ((k, s) = _adaptive_window(x, a.out); maxpool(x, k; pad=0, stride=s))
(a::AdaptiveMeanPool)(x::AbstractArray) = ((k, s) = _adaptive_window(x, a.out); meanpool(x, k; pad=0, stride=s))
_functor(::AdaptiveMaxPool) = nothing
_functor(::AdaptiveMeanPool) = nothing
# (window, stride)
function _adaptive_window(x, out)
    ndims(x) == length(out) + 2 ||
        throw(DimensionMismatch("adaptive pooling to $(out) expects an input of $(length(out) + 2) dimensions"))
    insize = _spatial_size(x)
    stride = insize .÷ out
    return (insize .- (out .- 1) .* stride, stride)
end

# ---- Upsample, as Flux's: `Upsample(mode; scale)` or `Upsample(mode; size)` (mode :nearest, :bilinear or
# :trilinear), `Upsample(scale, mode=:nearest)`; an Int scale for :nearest applies to every spatial dimension
struct Upsample{M,S,T}
    mode::M
    scale::S
    size::T
end
Upsample(a=:nearest; scale=nothing, size=nothing) = _upsample_layer(a, scale, size)
Upsample(scale::Union{Real,Tuple}, mode) = _upsample_layer(mode, scale, nothing)
# one positional argument: the mode, or (a number or tuple) the scale, Flux's `Upsample(scale, mode=:nearest)`,
# which takes no keywords
function _upsample_layer(scale::Union{Real,Tuple}, kwscale, kwsize)
    kwscale === nothing && kwsize === nothing ||
        throw(ArgumentError("Upsample(scale, mode) takes no keywords (Flux: MethodError)"))
    return _upsample_layer(:nearest, scale, nothing)
end
function _upsample_layer(mode, scale, size)
    mode in (:nearest, :bilinear, :trilinear) || throw(ArgumentError("mode=:$mode is not supported."))
    (scale === nothing) != (size === nothing) ||
        throw(ArgumentError("Either scale or size should be specified (but not both)."))
    return Upsample(mode, scale, size)
end
function (m::Upsample)(x::AbstractArray)
    if m.mode === :nearest
        return m.scale === nothing ? upsample_nearest(x; size=m.size) : upsample_nearest(x, _nearest_scales(m.scale, x))
    elseif m.mode === :bilinear
        return m.scale === nothing ? upsample_bilinear(x; size=m.size) : upsample_bilinear(x, m.scale)
    else
        return m.scale === nothing ? upsample_trilinear(x; size=m.size) : upsample_trilinear(x, m.scale)
    end
end
_nearest_scales(s::Int, x) = ntuple(_ -> s, ndims(x) - 2)
_nearest_scales(s, x) = s
_functor(::Upsample) = nothing

# ---- PixelShuffle, as Flux's: NNlib's pixel_shuffle with upscale factor r
struct PixelShuffle
    r::Int
end
(m::PixelShuffle)(x) = pixel_shuffle(x, m.r)
_functor(::PixelShuffle) = nothing

# ---- Scale: σ.(scale .* x .+ bias), elementwise; LayerNorm's affine part
struct Scale{F,A<:AbstractArray,B}
    scale::A
    bias::B
    σ::F
    Scale(scale::AbstractArray, bias=true, σ=identity) = new(scale, _create_bias(scale, bias, size(scale)...), σ)
end
Scale(s1::Integer, s23::Integer...; bias=true, init=ones32, _act=identity) = Scale(init(s1, s23...), bias, _act)
(a::Scale)(x::AbstractArray) = a.σ.(a.scale .* x .+ a.bias)
_functor(::Scale) = (a -> (a.scale, a.bias, a.σ), Scale, (scale, bias, σ) -> (scale=scale, bias=bias, σ=σ))

# ---- LayerNorm: each sample normalised over its first length(size) dimensions, then `diag`: a Scale
# (with the activation) when affine, else the activation alone. Flux's current `normalise` adds ϵ to the
# variance, (x - μ) / sqrt(σ² + ϵ); Flux releases before #2701 added ϵ².
struct LayerNorm{F,D,T,S}
    λ::F
    diag::D
    ϵ::T
    size::S
    affine::Bool
end
LayerNorm(size::Tuple, λ=identity; affine::Bool=true, eps::Real=1.0f-5) =
    LayerNorm(λ, affine ? Scale(size..., _act=λ) : (x -> λ.(x)), eps, size, affine)
LayerNorm(size::Integer...; affine::Bool=true, eps::Real=1.0f-5) = LayerNorm(size; affine=affine, eps=eps)
LayerNorm(n::Integer, λ::Function; affine::Bool=true, eps::Real=1.0f-5) = LayerNorm((n,), λ; affine=affine, eps=eps)
function (a::LayerNorm)(x::AbstractArray)
    for d in 1:length(a.size)
        size(x, d) == a.size[d] || throw(DimensionMismatch("LayerNorm($(a.size)) expects size(x, $d) == $(a.size[d])"))
    end
    return a.diag(normalise(x; dims=ntuple(identity, length(a.size)), eps=a.ϵ))
end
_functor(a::LayerNorm) = (m -> (m.diag,), diag -> LayerNorm(a.λ, diag, a.ϵ, a.size, a.affine), diag -> (diag=diag,))
function normalise(x::AbstractArray; dims=ndims(x), eps=1.0f-5)
    μ = mean(x; dims=dims)
    σ² = mean(abs2.(x .- μ); dims=dims)
    return (x .- μ) ./ sqrt.(σ² .+ ofeltype(x, eps))
end

# ---- Embedding: column x of the (out, in) weight for an index x; for a one-hot (Bool) input, weight * x.
# Flux's `Embedding(in => out)` (or `Embedding(in, out)`). Outputs at `padding_idx` are zero.
struct Embedding{W<:AbstractMatrix,I}
    weight::W
    padding_idx::I
end
function Embedding(nin::Integer, out::Integer; init=randn32, padding_idx=nothing)
    weight = init(out, nin)
    if padding_idx !== nothing
        1 <= padding_idx <= nin || throw(ArgumentError("padding_idx=$(padding_idx) must be in 1:$(nin)"))
        weight[:, padding_idx] .= 0
    end
    return Embedding(weight, padding_idx)
end
Embedding(ch::Pair{<:Integer,<:Integer}; init=randn32, padding_idx=nothing) =
    Embedding(ch.first, ch.second; init=init, padding_idx=padding_idx)
Embedding(weight::AbstractMatrix; padding_idx=nothing) = Embedding(weight, padding_idx)
(m::Embedding)(x::Integer) = _mask_padding(m.weight[:, x], x, m.padding_idx)
(m::Embedding)(x::AbstractVector) = _mask_padding(m.weight[:, x], x, m.padding_idx)
(m::Embedding)(x::AbstractArray) = reshape(m(vec(x)), :, size(x)...)
(m::Embedding)(x::AbstractVector{Bool}) = _mask_padding(m.weight * x, x, m.padding_idx)
(m::Embedding)(x::AbstractMatrix{Bool}) = _mask_padding(m.weight * x, x, m.padding_idx)
(m::Embedding)(x::AbstractArray{Bool}) =
    reshape(m(reshape(x, size(x, 1), :)), :, ntuple(i -> size(x, i + 1), ndims(x) - 1)...)
_mask_padding(y, x, ::Nothing) = y
_mask_padding(y::AbstractVector, x::Integer, padding_idx::Integer) = y .* (x != padding_idx)
_mask_padding(y::AbstractMatrix, x::AbstractVector, padding_idx::Integer) = y .* reshape(x .!= padding_idx, 1, :)
_mask_padding(y::AbstractVector, x::AbstractVector{Bool}, padding_idx::Integer) = y .* !x[padding_idx]
_mask_padding(y::AbstractMatrix, x::AbstractMatrix{Bool}, padding_idx::Integer) =
    y .* reshape(.!(x[padding_idx, :]), 1, :)
_functor(e::Embedding) = (m -> (m.weight,), weight -> Embedding(weight, e.padding_idx), weight -> (weight=weight,))

# ---- SkipConnection: connection(layers(x), x); Parallel: connection(layer_1(x), layer_2(x), ...), or
# with one input per layer connection(layer_1(x_1), layer_2(x_2), ...)
struct SkipConnection{T,F}
    layers::T
    connection::F
end
(skip::SkipConnection)(input) = skip.connection(skip.layers(input), input)
_functor(::SkipConnection) =
    (s -> (s.layers, s.connection), SkipConnection, (layers, connection) -> (layers=layers, connection=connection))

struct Parallel{F,T<:Tuple}
    connection::F
    layers::T
end
Parallel(connection, layers...) = Parallel(connection, layers)
(m::Parallel)(x) = m.connection(map(f -> f(x), m.layers)...)
function (m::Parallel)(x, ys...)
    xs = (x, ys...)
    length(m.layers) == 1 && return m.connection(map(z -> first(m.layers)(z), xs)...)
    length(m.layers) == length(xs) || throw(ArgumentError(
        "Parallel with $(length(m.layers)) > 1 sub-layers can take one input or $(length(m.layers)) inputs, " *
        "but got $(length(xs)) inputs"))
    return m.connection(map((z, f) -> f(z), xs, m.layers)...)
end
(m::Parallel)(xs::Tuple) = m(xs...)
_functor(::Parallel) = (p -> (p.connection, p.layers), Parallel, (connection, layers) -> (connection=connection, layers=layers))

# ---- Bilinear: z[o, s] = σ(Σ_ij W[o, i, j] x[i, s] y[j, s] + b[o]); Flux's `Bilinear((in1, in2) => out, σ)`,
# `Bilinear(in => out, σ)` for in1 = in2 = in, or `Bilinear(in1, in2, out, σ)`
struct Bilinear{F,A,B}
    weight::A
    bias::B
    σ::F
    function Bilinear(W::AbstractArray, bias=true, σ=identity)
        ndims(W) == 3 || throw(ArgumentError("expected a 3-array of weights"))
        return new(W, _create_bias(W, bias, size(W, 1)), σ)
    end
end
Bilinear(in1::Integer, in2::Integer, out::Integer, σ=identity; bias=true, init=glorot_uniform) =
    Bilinear(init(out, in1, in2), bias, σ)
Bilinear(ch::Pair{<:Tuple{Integer,Integer},<:Integer}, σ=identity; bias=true, init=glorot_uniform) =
    Bilinear(ch.first[1], ch.first[2], ch.second, σ; bias=bias, init=init)
Bilinear(ch::Pair{<:Integer,<:Integer}, σ=identity; bias=true, init=glorot_uniform) =
    Bilinear(ch.first, ch.first, ch.second, σ; bias=bias, init=init)
function (a::Bilinear)(x::AbstractMatrix, y::AbstractMatrix)
    W, b, σ = a.weight, a.bias, a.σ
    d_z, d_x, d_y = size(W)
    d_x == size(x, 1) && d_y == size(y, 1) || throw(DimensionMismatch("number of rows in data must match W"))
    size(x, 2) == size(y, 2) || throw(DimensionMismatch(
        "Data inputs must agree on number of columns, got $(size(x, 2)) and $(size(y, 2))"))
    Wy = reshape(reshape(W, :, d_y) * y, d_z, d_x, :)
    Z = reshape(batched_mul(Wy, reshape(x, d_x, 1, :)), d_z, :)
    return σ.(Z .+ b)
end
(a::Bilinear)(x::AbstractVecOrMat) = a(x, x)
(a::Bilinear)(x::AbstractVector, y::AbstractVector) = vec(a(reshape(x, :, 1), reshape(y, :, 1)))
(a::Bilinear)(xy::Tuple) = a(xy[1], xy[2])
_functor(::Bilinear) = (a -> (a.weight, a.bias, a.σ), Bilinear, (weight, bias, σ) -> (weight=weight, bias=bias, σ=σ))

# ---- recurrent cells, one time step: `cell(x, state)` returns (output, new state), as Flux's (0.15+).
# Flux's `RNNCell(in => out, σ)` (or `RNNCell(in, out, σ)`). As in Flux, tanh and sigmoid are
# NNlib's tanh_fast and sigmoid_fast here (NNlib's `fast_act`).
_fast_act(f) = f === tanh ? tanh_fast : f === sigmoid || f === σ ? sigmoid_fast : f
# rows (i-1)k+1 : ik of x, k = size(x, 1) ÷ n (MLUtils' chunk along the first dimension)
_chunk(x::AbstractVector, n, i) = (k = size(x, 1) ÷ n; x[(i - 1) * k + 1:i * k])
_chunk(x::AbstractMatrix, n, i) = (k = size(x, 1) ÷ n; x[(i - 1) * k + 1:i * k, :])
_chunk(x::Bool, n, i) = x
function _check_input(layer, x, n)
    size(x, 1) == n || throw(DimensionMismatch("layer $(typeof(layer)) expects size(input, 1) == $n, but got $(size(x, 1))"))
    return nothing
end

struct RNNCell{F,I,H,V}
    σ::F
    Wi::I
    Wh::H
    bias::V
end
RNNCell(nin::Integer, out::Integer, σ=tanh; init_kernel=glorot_uniform, init_recurrent_kernel=glorot_uniform,
        bias=true) = (Wi = init_kernel(out, nin); RNNCell(σ, Wi, init_recurrent_kernel(out, out), _create_bias(Wi, bias, out)))
RNNCell(ch::Pair{<:Integer,<:Integer}, σ=tanh; init_kernel=glorot_uniform, init_recurrent_kernel=glorot_uniform,
        bias=true) = RNNCell(ch.first, ch.second, σ; init_kernel=init_kernel,
                             init_recurrent_kernel=init_recurrent_kernel, bias=bias)
initialstates(rnn::RNNCell) = zeros(eltype(rnn.Wh), size(rnn.Wh, 2))
(rnn::RNNCell)(x::AbstractVecOrMat) = rnn(x, initialstates(rnn))
function (m::RNNCell)(x::AbstractVecOrMat, h::AbstractVecOrMat)
    _check_input(m, x, size(m.Wi, 2))
    h = _fast_act(m.σ).(m.Wi * x .+ m.Wh * h .+ m.bias)
    return (h, h)
end
_functor(::RNNCell) = (c -> (c.σ, c.Wi, c.Wh, c.bias), RNNCell, (σ, Wi, Wh, bias) -> (σ=σ, Wi=Wi, Wh=Wh, bias=bias))

# gates stacked in the rows of Wi (4out, in), Wh (4out, out) and bias: input, forget, cell, output
struct LSTMCell{I,H,V}
    Wi::I
    Wh::H
    bias::V
end
LSTMCell(nin::Integer, out::Integer; init_kernel=glorot_uniform, init_recurrent_kernel=glorot_uniform, bias=true) =
    (Wi = init_kernel(out * 4, nin); LSTMCell(Wi, init_recurrent_kernel(out * 4, out), _create_bias(Wi, bias, out * 4)))
LSTMCell(ch::Pair{<:Integer,<:Integer}; init_kernel=glorot_uniform, init_recurrent_kernel=glorot_uniform,
         bias=true) = LSTMCell(ch.first, ch.second; init_kernel=init_kernel,
                               init_recurrent_kernel=init_recurrent_kernel, bias=bias)
initialstates(lstm::LSTMCell) = (zeros(eltype(lstm.Wh), size(lstm.Wh, 2)), zeros(eltype(lstm.Wh), size(lstm.Wh, 2)))
(lstm::LSTMCell)(x::AbstractVecOrMat) = lstm(x, initialstates(lstm))
function (m::LSTMCell)(x::AbstractVecOrMat, state::Tuple)
    _check_input(m, x, size(m.Wi, 2))
    h, c = state
    g = m.Wi * x .+ m.Wh * h .+ m.bias
    input, forget, cell, output = _chunk(g, 4, 1), _chunk(g, 4, 2), _chunk(g, 4, 3), _chunk(g, 4, 4)
    c = sigmoid_fast.(forget) .* c .+ sigmoid_fast.(input) .* tanh_fast.(cell)
    h = sigmoid_fast.(output) .* tanh_fast.(c)
    return (h, (h, c))
end
_functor(::LSTMCell) = (c -> (c.Wi, c.Wh, c.bias), LSTMCell, (Wi, Wh, bias) -> (Wi=Wi, Wh=Wh, bias=bias))

# gates stacked in the rows of Wi (3out, in), Wh (3out, out) and b: reset, update, candidate (v1 of the paper)
struct GRUCell{I,H,V}
    Wi::I
    Wh::H
    b::V
end
GRUCell(nin::Integer, out::Integer; init_kernel=glorot_uniform, init_recurrent_kernel=glorot_uniform, bias=true) =
    (Wi = init_kernel(out * 3, nin); GRUCell(Wi, init_recurrent_kernel(out * 3, out), _create_bias(Wi, bias, out * 3)))
GRUCell(ch::Pair{<:Integer,<:Integer}; init_kernel=glorot_uniform, init_recurrent_kernel=glorot_uniform,
        bias=true) = GRUCell(ch.first, ch.second; init_kernel=init_kernel,
                             init_recurrent_kernel=init_recurrent_kernel, bias=bias)
initialstates(gru::GRUCell) = zeros(eltype(gru.Wh), size(gru.Wh, 2))
(gru::GRUCell)(x::AbstractVecOrMat) = gru(x, initialstates(gru))
function (m::GRUCell)(x::AbstractVecOrMat, h)
    _check_input(m, x, size(m.Wi, 2))
    gx, gh = m.Wi * x, m.Wh * h
    r = sigmoid_fast.(_chunk(gx, 3, 1) .+ _chunk(gh, 3, 1) .+ _chunk(m.b, 3, 1))
    z = sigmoid_fast.(_chunk(gx, 3, 2) .+ _chunk(gh, 3, 2) .+ _chunk(m.b, 3, 2))
    h̃ = tanh_fast.(_chunk(gx, 3, 3) .+ r .* _chunk(gh, 3, 3) .+ _chunk(m.b, 3, 3))
    h = (1 .- z) .* h̃ .+ z .* h
    return (h, h)
end
_functor(::GRUCell) = (c -> (c.Wi, c.Wh, c.b), GRUCell, (Wi, Wh, b) -> (Wi=Wi, Wh=Wh, b=b))

# ---- RNN, LSTM, GRU: a cell run over the time steps of x, the second dimension of (in, len) or
# (in, len, batch), giving (out, len) or (out, len, batch); from `initialstates` or a given state
abstract type _Recurrent end
struct RNN{M} <: _Recurrent
    cell::M
end
struct LSTM{M} <: _Recurrent
    cell::M
end
struct GRU{M} <: _Recurrent
    cell::M
end
RNN(ch::Pair{<:Integer,<:Integer}, σ=tanh; init_kernel=glorot_uniform, init_recurrent_kernel=glorot_uniform,
    bias=true) = RNN(RNNCell(ch, σ; init_kernel=init_kernel, init_recurrent_kernel=init_recurrent_kernel, bias=bias))
LSTM(ch::Pair{<:Integer,<:Integer}; init_kernel=glorot_uniform, init_recurrent_kernel=glorot_uniform, bias=true) =
    LSTM(LSTMCell(ch; init_kernel=init_kernel, init_recurrent_kernel=init_recurrent_kernel, bias=bias))
GRU(ch::Pair{<:Integer,<:Integer}; init_kernel=glorot_uniform, init_recurrent_kernel=glorot_uniform, bias=true) =
    GRU(GRUCell(ch; init_kernel=init_kernel, init_recurrent_kernel=init_recurrent_kernel, bias=bias))
initialstates(m::_Recurrent) = initialstates(m.cell)
(m::_Recurrent)(x::AbstractArray) = m(x, initialstates(m))
function (m::_Recurrent)(x::AbstractArray, state)
    2 <= ndims(x) <= 3 || throw(ArgumentError("$(typeof(m)) takes (in, len) or (in, len, batch) input"))
    y, state = m.cell(_timestep(x, 1), state)      # the first step gives the output's size and type
    out = zeros(eltype(y), size(y, 1), size(x)[2:end]...)
    _set_timestep!(out, y, 1)
    for t in 2:size(x, 2)
        yt, state = m.cell(_timestep(x, t), state)
        _set_timestep!(out, yt, t)
    end
    return out
end
_timestep(x::AbstractMatrix, t) = x[:, t]
_timestep(x::AbstractArray{T,3}, t) where {T} = x[:, t, :]
_set_timestep!(out::AbstractMatrix, y, t) = (out[:, t] = y; nothing)
_set_timestep!(out::AbstractArray{T,3}, y, t) where {T} = (out[:, t, :] = y; nothing)
_functor(::RNN) = (m -> (m.cell,), RNN, cell -> (cell=cell,))
_functor(::LSTM) = (m -> (m.cell,), LSTM, cell -> (cell=cell,))
_functor(::GRU) = (m -> (m.cell,), GRU, cell -> (cell=cell,))

# ---- MultiHeadAttention, as Flux's: Dense projections of queries, keys and values (no bias by default),
# NNlib's dot_product_attention over `nheads` heads, an output projection; returns (output, attention
# weights). `dims` is the embedding size, or `in => qkv => out`.
struct MultiHeadAttention{P1,D,P2}
    nheads::Int
    q_proj::P1
    k_proj::P1
    v_proj::P1
    attn_drop::D
    out_proj::P2
end
function MultiHeadAttention(dims; nheads::Int=8, bias::Bool=false, init=glorot_uniform, dropout_prob=0.0)
    d_in, d_qkv, d_out = _mha_dims(dims)
    d_qkv % nheads == 0 || throw(ArgumentError("qkv_dim = $(d_qkv) should be divisible by nheads = $(nheads)"))
    # no dropout: the identity (Flux's Dropout(0.0) is one, but inside `gradient` its probability, a
    # float field, would be a run-time value and the layer would draw)
    drop = dropout_prob > 0 ? Dropout(dropout_prob) : identity
    return MultiHeadAttention(nheads, Dense(d_in => d_qkv; bias=bias, init=init), Dense(d_in => d_qkv; bias=bias, init=init),
                              Dense(d_in => d_qkv; bias=bias, init=init), drop, Dense(d_qkv => d_out; bias=bias, init=init))
end
_mha_dims(d::Integer) = (d, d, d)
_mha_dims(p::Pair{<:Integer,<:Pair{<:Integer,<:Integer}}) = (p.first, p.second.first, p.second.second)
(mha::MultiHeadAttention)(q_in::AbstractArray, bias=nothing; mask=nothing) = mha(q_in, q_in, q_in, bias; mask=mask)
(mha::MultiHeadAttention)(q_in::AbstractArray, kv_in::AbstractArray, bias=nothing; mask=nothing) =
    mha(q_in, kv_in, kv_in, bias; mask=mask)
function (mha::MultiHeadAttention)(q_in::AbstractArray, k_in::AbstractArray, v_in::AbstractArray, bias=nothing;
                                   mask=nothing)
    x, α = dot_product_attention(mha.q_proj(q_in), mha.k_proj(k_in), mha.v_proj(v_in), bias;
                                 nheads=mha.nheads, mask=mask, fdrop=mha.attn_drop)
    return (mha.out_proj(x), α)
end
_functor(m::MultiHeadAttention) = (a -> (a.q_proj, a.k_proj, a.v_proj, a.out_proj),
                                   (q, k, v, o) -> MultiHeadAttention(m.nheads, q, k, v, m.attn_drop, o),
                                   (q, k, v, o) -> (q_proj=q, k_proj=k, v_proj=v, out_proj=o))
