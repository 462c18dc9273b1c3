# Flux-style layers, written in the language. Arrays are WHCN (width, height, channels, batch), as
# in Flux and NNlib. Each layer is a struct whose parameters come in as arrays (from an .npz file
# or the Python API) and a callable-struct method for its forward pass.
#
# Constructors take Flux's defaults and keywords, e.g. `Dense(W, b, relu)`, `Dense(W, b)`,
# `Conv(W, b, relu; pad=1, stride=1)`, `MaxPool((2, 2))`, `Chain(l1, l2, l3)`: outer constructors
# below, next to each struct's default constructor. A bias may be `false` (no bias).

# ---- Dense: y = σ.(W * x .+ b), W is (out, in), x is (in,) or (in, batch)
struct Dense{M<:AbstractMatrix,V,F}
    W::M
    b::V
    σ::F
end
Dense(W, b) = Dense(W, b, identity)
# Flux's `Dense(in, out, σ)`: a random (out, in) Float32 weight and a zero bias (or none)
Dense(nin::Integer, nout::Integer, σ=identity; init=glorot_uniform, bias=true) =
    Dense(init(nout, nin), _create_bias(bias, nout), σ)
(d::Dense)(x) = d.σ.(d.W * x .+ d.b)

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
Conv(W, b, σ=identity; stride=1, pad=0, dilation=1, groups=1) = Conv(W, b, σ, stride, pad, dilation, groups)
(c::Conv)(x) =
    c.σ.(conv(x, c.W; stride=c.stride, pad=c.pad, dilation=c.dilation, groups=c.groups) .+ _channel_bias(c.b, x))

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
CrossCor(W, b, σ=identity; stride=1, pad=0, dilation=1, groups=1) =
    CrossCor(W, b, σ, stride, pad, dilation, groups)
(c::CrossCor)(x) =
    c.σ.(conv(x, c.W; stride=c.stride, pad=c.pad, dilation=c.dilation, groups=c.groups, flipped=true) .+
         _channel_bias(c.b, x))

# Flux's initializers and default bias: Float32, the weight's (out, in) or (k..., in, out) shape
glorot_uniform(dims::Integer...) = (rand(Float32, dims...) .- 0.5f0) .* sqrt(24.0f0 / _fan_sum(dims...))
glorot_normal(dims::Integer...) = randn(Float32, dims...) .* sqrt(2.0f0 / _fan_sum(dims...))
_fan_sum(n) = 1 + n
_fan_sum(nout, nin) = nin + nout
_fan_sum(dims...) = prod(dims[1:end-2]) * (dims[end-1] + dims[end])
_create_bias(bias::Bool, n) = bias ? zeros(Float32, n) : false
_create_bias(bias::AbstractArray, n) = bias

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
MaxPool(k::Tuple; pad=0, stride=k) = MaxPool(k, pad, stride)
(m::MaxPool)(x) = maxpool(x, m.k; pad=m.pad, stride=m.stride)

struct MeanPool{K,P,S}
    k::K
    pad::P
    stride::S
end
MeanPool(k::Tuple; pad=0, stride=k) = MeanPool(k, pad, stride)
(m::MeanPool)(x) = meanpool(x, m.k; pad=m.pad, stride=m.stride)

# ---- Dropout and BatchNorm, in inference mode (Flux's `testmode!`)
struct Dropout{P}
    p::P
end
(d::Dropout)(x) = dropout(x, d.p)

struct BatchNorm{F,V,E}
    λ::F
    β::V
    γ::V
    μ::V
    σ²::V
    ϵ::E
end
BatchNorm(β, γ, μ, σ², λ=identity; ϵ=1f-5) = BatchNorm(λ, β, γ, μ, σ², ϵ)
(bn::BatchNorm)(x) = bn.λ.(batchnorm(x, bn.γ, bn.β, bn.μ, bn.σ², bn.ϵ))

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
