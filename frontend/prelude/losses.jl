# Flux.Losses with Flux's formulas and keywords (Flux/src/losses/functions.jl). Each loss reduces
# with `agg` (default `mean`; `agg=sum`, or `identity` for the unreduced array); the `eps` keywords
# default to `epseltype(ŷ)`, the machine epsilon of ŷ's float type, as Flux's.
epseltype(x) = eps(float(eltype(x)))
ofeltype(x, y) = convert(float(eltype(x)), y)

# x * log(x) and x * log(y), zero where x == 0. Gradients: ∂/∂y = x / y as Flux's adjoint; the
# derivative in x where x == 0 is 0 here (Flux's adjoint gives log(y)): only a loss differentiated
# with respect to its labels y, at labels that are exactly 0, sees the difference.
xlogx(x) = (r = x * log(x); ifelse(iszero(x), zero(r), r))
xlogy(x, y) = (r = x * log(y); ifelse(iszero(x), zero(r), r))

# sizes are static, so a mismatch is reported when the program is compiled
function _check_sizes(ŷ::AbstractArray, y::AbstractArray)
    reduce(&, ntuple(d -> size(ŷ, d) == size(y, d), max(ndims(ŷ), ndims(y)))) ||
        throw(DimensionMismatch("loss function expects size(ŷ) = $(size(ŷ)) to match size(y) = $(size(y))"))
    return nothing
end
_check_sizes(ŷ, y) = nothing

mae(ŷ, y; agg=mean) = (_check_sizes(ŷ, y); agg(abs.(ŷ .- y)))
mse(ŷ, y; agg=mean) = (_check_sizes(ŷ, y); agg(abs2.(ŷ .- y)))
msle(ŷ, y; agg=mean, eps::Real=epseltype(ŷ)) =
    (_check_sizes(ŷ, y); agg((log.((ŷ .+ eps) ./ (y .+ eps))) .^ 2))

function huber_loss(ŷ, y; agg=mean, delta::Real=1)
    δ = ofeltype(ŷ, delta)
    _check_sizes(ŷ, y)
    return agg(_huber_metric.(abs.(ŷ .- y), δ))
end
function _huber_metric(abs_error, δ)
    small = abs_error < δ
    x = ofeltype(abs_error, 0.5)
    return ((abs_error * abs_error) * small) * x + δ * (abs_error - x * δ) * (1 - small)
end

crossentropy(ŷ, y; dims=1, agg=mean, eps::Real=epseltype(ŷ)) =
    (_check_sizes(ŷ, y); agg(.-sum(xlogy.(y, ŷ .+ eps); dims=dims)))
logitcrossentropy(ŷ, y; dims=1, agg=mean) =
    (_check_sizes(ŷ, y); agg(.-sum(y .* logsoftmax(ŷ; dims=dims); dims=dims)))
binarycrossentropy(ŷ, y; agg=mean, eps::Real=epseltype(ŷ)) =
    (_check_sizes(ŷ, y); agg(@.(-xlogy(y, ŷ + eps) - xlogy(1 - y, 1 - ŷ + eps))))
logitbinarycrossentropy(ŷ, y; agg=mean) = (_check_sizes(ŷ, y); agg(@.((1 - y) * ŷ - logσ(ŷ))))
function kldivergence(ŷ, y; dims=1, agg=mean, eps::Real=epseltype(ŷ))
    _check_sizes(ŷ, y)
    entropy = agg(sum(xlogx.(y); dims=dims))
    return entropy + crossentropy(ŷ, y; dims=dims, agg=agg, eps=eps)
end
poisson_loss(ŷ, y; agg=mean) = (_check_sizes(ŷ, y); agg(ŷ .- xlogy.(y, ŷ)))
hinge_loss(ŷ, y; agg=mean) = (_check_sizes(ŷ, y); agg(max.(0, 1 .- ŷ .* y)))
squared_hinge_loss(ŷ, y; agg=mean) = (_check_sizes(ŷ, y); agg((max.(0, 1 .- ŷ .* y)) .^ 2))
