# Optimisers.jl as Julia programs call it (Optimisers/src/rules.jl and interface.jl):
#   state = Optimisers.setup(Adam(1f-3), model)
#   for step in 1:n
#       loss, grads = withgradient(m -> lossfn(m(x), y), model)
#       state, model = Optimisers.update(state, model, grads[1])
#   end
# `setup` gives a state tree mirroring the model (functors.jl says how to see inside it): a `Leaf`
# (rule, state) for each array of non-integer numbers, `()` for every other leaf. `update` returns
# the new state tree and model and leaves its arguments as they were, as Optimisers.update does
# (it updates copies). A model that holds one array in two places (tied weights) is refused:
# Optimisers.jl gives it one state and one update from the sum of its gradients.
abstract type AbstractRule end

struct Leaf{R,S}
    rule::R
    state::S
end

setup(rule::AbstractRule, model) = (_refuse_tied(_params(model)); _setup(rule, model))
_setup(rule, x::AbstractArray{<:Number}) = Leaf(rule, init(rule, x))
_setup(rule, x::AbstractArray{<:Integer}) = ()
_setup(rule, x::Union{Number,Function,Nothing}) = ()
_setup(rule, x::Tuple) = map(c -> _setup(rule, c), x)
_setup(rule, x) = _setup_node(rule, x, _functor(x))
_setup_node(rule, x, ::Nothing) = ()
_setup_node(rule, x, f::Tuple) = f[3](map(c -> _setup(rule, c), f[1](x))...)

# the trainable arrays of a model, in a flat tuple; two of them the same array (`===`, known when
# the program is compiled) are a tie
_params(x::AbstractArray{<:Number}) = (x,)
_params(x::AbstractArray{<:Integer}) = ()
_params(x::Union{Number,Function,Nothing}) = ()
_params(x::Tuple) = _concat(map(_params, x)...)
_params(x) = _params_node(x, _functor(x))
_params_node(x, ::Nothing) = ()
_params_node(x, f::Tuple) = _params(f[1](x))
_concat() = ()
_concat(t::Tuple, rest...) = (t..., _concat(rest...)...)
_refuse_tied(::Tuple{}) = nothing
function _refuse_tied(ps::Tuple)
    _holds(Base.tail(ps), first(ps)) && throw(ArgumentError(
        "the model holds one array in two places (tied weights); Optimisers.jl would update it once with the sum " *
        "of its gradients, which jlhlo does not do: keep one copy per place, or tie them in the forward pass"))
    return _refuse_tied(Base.tail(ps))
end
_holds(::Tuple{}, a) = false
_holds(t::Tuple, a) = (first(t) === a) | _holds(Base.tail(t), a)

update(tree, model, grad) = _update(tree, model, grad)
# Optimisers.update! writes the new parameters into the model's arrays and the new state into the
# (mutable) leaves; jlhlo's leaves are immutable, so the state could not follow
# Flux.train!(loss, model, data, state) runs update! per batch: the same, with the loop to write instead
train!(loss, model, data, state) = throw(ArgumentError(
    "Flux.train! updates the model in place, which jlhlo's immutable layers cannot; write its loop: " *
    "`for (x, y) in data; grads = gradient(m -> loss(m, x, y), model); state, model = " *
    "Optimisers.update(state, model, grads[1]); end`"))
update!(tree, model, grad) = throw(ArgumentError(
    "Optimisers.update! (in place) is not supported by jlhlo: use `state, model = Optimisers.update(state, model, grad)`"))

# a part of the model without a gradient (`nothing`) is left as it is, with its state
_update(t, x, dx) = _step(t, x, dx)
_update(t, x, ::Nothing) = (t, x)
function _step(ℓ::Leaf, x, dx)
    s, dx′ = apply!(ℓ.rule, _copy_state(ℓ.state), x, dx)
    return (Leaf(ℓ.rule, s), _subtract(x, dx′))
end
_step(::Tuple{}, x, dx) = ((), x)
_step(t::Tuple, x, dx) = _unzip(map(_update, t, x, dx))
_step(t::NamedTuple, x, dx) = _step_node(t, x, dx, _functor(x))
function _step_node(t, x, dx, f::Tuple)
    children, rebuild, name = f
    r = map(_update, children(t), children(x), children(dx))
    return (name(map(first, r)...), rebuild(map(last, r)...))
end
_unzip(r) = (map(first, r), map(last, r))
# Optimisers.jl's subtract!: the step is written into (a copy of) x, so x keeps its element type
_subtract(x, dx) = (y = copy(x); y .= x .- dx; y)
# a rule may update its state arrays in place (Optimisers' `@..`); the caller's tree must not change
_copy_state(s::AbstractArray) = copy(s)
_copy_state(s::Tuple) = map(_copy_state, s)
_copy_state(s) = s

# hyperparameters are converted to the parameters' float type (`ofeltype`, losses.jl), as
# Optimisers' `T(o.eta)`; Optimisers' `_eps` raises ϵ for Float16, where 1e-8 would round to 0
_eps(x::AbstractArray, e) = ofeltype(x, e)
_eps(x::AbstractArray{Float16}, e) = e == 0 ? Float16(0) : max(Float16(1e-7), Float16(e))
_nonneg(η) = (η < 0 && throw(DomainError(η, "the learning rate cannot be negative")); η)

# ---- rules: `init(rule, x)` is the state of one parameter array, `apply!(rule, state, x, dx)` returns
# the new state and the step that `update` subtracts from x (new arrays: nothing is written in place)
struct Descent{T} <: AbstractRule
    eta::T
end
Descent(; eta=1.0f-1) = Descent(eta)
init(o::Descent, x::AbstractArray) = nothing
apply!(o::Descent, state, x, dx) = (state, dx .* ofeltype(x, o.eta))

struct Momentum{Teta,Trho} <: AbstractRule
    eta::Teta
    rho::Trho
    Momentum(eta, rho=0.9) = new(_nonneg(float(eta)), float(rho))
end
Momentum(; eta=0.01, rho=0.9) = Momentum(eta, rho)
init(o::Momentum, x::AbstractArray) = zero(x)
function apply!(o::Momentum, mvel, x::AbstractArray, dx)
    η, ρ = ofeltype(x, o.eta), ofeltype(x, o.rho)
    mvel = ρ .* mvel .+ η .* dx
    return (mvel, mvel)
end

struct Nesterov{Teta,Trho} <: AbstractRule
    eta::Teta
    rho::Trho
    Nesterov(eta, rho=0.9) = new(_nonneg(float(eta)), float(rho))
end
Nesterov(; eta=0.001, rho=0.9) = Nesterov(eta, rho)
init(o::Nesterov, x::AbstractArray) = zero(x)
function apply!(o::Nesterov, vel, x::AbstractArray, dx)
    η, ρ = ofeltype(x, o.eta), ofeltype(x, o.rho)
    newdx = -ρ^2 .* vel .+ (1 + ρ) .* η .* dx
    return (ρ .* vel .- η .* dx, newdx)
end

struct RMSProp{Teta,Trho,Teps} <: AbstractRule
    eta::Teta
    rho::Trho
    epsilon::Teps
    centred::Bool
end
RMSProp(η, ρ=0.9, ϵ=1e-8; centred::Bool=false, centered::Bool=false) =
    RMSProp(float(_nonneg(η)), float(ρ), float(ϵ), centred | centered)
RMSProp(; eta=0.001, rho=0.9, epsilon=1e-8, centred::Bool=false, centered::Bool=false) =
    RMSProp(eta, rho, epsilon; centred=centred, centered=centered)
init(o::RMSProp, x::AbstractArray) = (zero(x), o.centred ? zero(x) : false)
function apply!(o::RMSProp, state, x::AbstractArray, dx)
    η, ρ, ϵ = ofeltype(x, o.eta), ofeltype(x, o.rho), _eps(x, o.epsilon)
    quad, lin = state
    quad = ρ .* quad .+ (1 - ρ) .* abs2.(dx)
    lin = _centred_mean(ρ, lin, dx)
    return ((quad, lin), dx .* η ./ (sqrt.(quad .- abs2.(lin)) .+ ϵ))
end
# the running mean of dx when centred; the state says which (`false` when not), as the rule's own
# field may be a run-time value here (a loop carries the state tree with its rules)
_centred_mean(ρ, lin::Bool, dx) = lin
_centred_mean(ρ, lin::AbstractArray, dx) = ρ .* lin .+ (1 - ρ) .* dx

struct Adam{Teta,Tbeta,Teps} <: AbstractRule
    eta::Teta
    beta::Tbeta
    epsilon::Teps
    Adam(eta, beta=(0.9, 0.999), epsilon=1e-8) = new(_nonneg(float(eta)), map(float, beta), float(epsilon))
end
Adam(; eta=0.001, beta=(0.9, 0.999), epsilon=1e-8) = Adam(eta, beta, epsilon)
init(o::Adam, x::AbstractArray) = (zero(x), zero(x), map(b -> ofeltype(x, b), o.beta))
function apply!(o::Adam, state, x::AbstractArray, dx)
    η, β, ϵ = ofeltype(x, o.eta), map(b -> ofeltype(x, b), o.beta), _eps(x, o.epsilon)
    mt, vt, βt = state
    mt = β[1] .* mt .+ (1 - β[1]) .* dx
    vt = β[2] .* vt .+ (1 - β[2]) .* abs2.(dx)
    dx′ = mt ./ (1 - βt[1]) ./ (sqrt.(vt ./ (1 - βt[2])) .+ ϵ) .* η
    return ((mt, vt, βt .* β), dx′)
end

# AdamW: Adam with learning rate 1, then the weight decay λ, coupled with η by default as PyTorch's
# (x -= η (dx + λ x)) or decoupled with `couple=false` (x -= η dx + λ x)
struct AdamW{Teta,Tbeta<:Tuple,Tlambda,Teps} <: AbstractRule
    eta::Teta
    beta::Tbeta
    lambda::Tlambda
    epsilon::Teps
    couple::Bool
end
AdamW(η, β=(0.9, 0.999), λ=0.0, ϵ=1e-8; couple::Bool=true) =
    AdamW(float(_nonneg(η)), β, float(λ), float(ϵ), couple)
AdamW(; eta=0.001, beta=(0.9, 0.999), lambda=0.0, epsilon=1e-8, couple::Bool=true) =
    AdamW(eta, beta, lambda, epsilon; couple=couple)
init(o::AdamW, x::AbstractArray) = (zero(x), zero(x), map(b -> ofeltype(x, b), o.beta))
function apply!(o::AdamW, state, x::AbstractArray, dx)
    η, β = ofeltype(x, o.eta), map(b -> ofeltype(x, b), o.beta)
    ϵ, λ = ofeltype(x, o.epsilon), ofeltype(x, o.lambda)
    mt, vt, βt = state
    mt = β[1] .* mt .+ (1 - β[1]) .* dx
    vt = β[2] .* vt .+ (1 - β[2]) .* abs2.(dx)
    dx′ = mt ./ (1 - βt[1]) ./ (sqrt.(vt ./ (1 - βt[2])) .+ ϵ)
    step = o.couple ? η .* (dx′ .+ λ .* x) : η .* dx′ .+ λ .* x
    return ((mt, vt, βt .* β), step)
end

# the L2 penalty λ/2 |x|² added to the loss: its gradient λ x added to dx
struct WeightDecay{Tlambda} <: AbstractRule
    lambda::Tlambda
    WeightDecay(lambda) = new(float(lambda))
end
WeightDecay(; lambda=5e-4) = WeightDecay(lambda)
init(o::WeightDecay, x::AbstractArray) = nothing
apply!(o::WeightDecay, state, x::AbstractArray, dx) = (state, dx .+ ofeltype(x, o.lambda) .* x)

struct ClipGrad{Tdelta} <: AbstractRule
    delta::Tdelta
    ClipGrad(delta) = new(float(delta))
end
ClipGrad(; delta=10.0) = ClipGrad(delta)
init(o::ClipGrad, x::AbstractArray) = nothing
function apply!(o::ClipGrad, state, x::AbstractArray, dx)
    δ = ofeltype(x, o.delta)
    return (state, clamp.(dx, -δ, δ))
end

# each rule transforms the step the previous one gave, in order
struct OptimiserChain{O<:Tuple} <: AbstractRule
    opts::O
end
OptimiserChain(opts...) = OptimiserChain(opts)
init(o::OptimiserChain, x::AbstractArray) = map(opt -> init(opt, x), o.opts)
apply!(o::OptimiserChain, states, x, dx) = _chain_apply(o.opts, states, x, dx)
_chain_apply(::Tuple{}, ::Tuple{}, x, dx) = ((), dx)
function _chain_apply(opts::Tuple, states::Tuple, x, dx)
    s, dx′ = apply!(first(opts), first(states), x, dx)
    rest, dx″ = _chain_apply(Base.tail(opts), Base.tail(states), x, dx′)
    return ((s, rest...), dx″)
end
