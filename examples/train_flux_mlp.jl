# An MLP classifier trained with Adam the way Flux programs do it (Flux layers and losses,
# Optimisers.setup/update, Zygote's withgradient), the whole training loop one XLA executable.
#   transpile examples/train_flux_mlp.jl --run      # main(): synthetic data, prints the loss before and after
# `train` takes the initial weights and the data from the caller (tests/test_optimisers.py checks it
# step by step against Adam written in JAX).
using Flux, Optimisers, Random

# the loss of every step (before its update) and the trained model
function train(W1, b1, W2, b2, x, labels, steps::Int64)
    model = Chain(Dense(W1, b1, relu), Dense(W2, b2))
    y = onehotbatch(labels, 1:size(W2, 1))
    state = Optimisers.setup(Adam(1.0f-2), model)
    losses = zeros(Float32, steps)
    for step in 1:steps
        loss, grads = withgradient(m -> Flux.logitcrossentropy(m(x), y), model)
        state, model = Optimisers.update(state, model, grads[1])
        losses[step] = loss
    end
    return (losses, model)
end

accuracy(model, x, labels) = sum(onecold(model(x)) .== labels) / length(labels)

# two classes of points in the plane: the quadrants where x1 * x2 > 0, and the others
function main()
    Random.seed!(1)     # the same synthetic data and initial weights on every run
    x = randn(Float32, 2, 256)
    labels = ifelse.(x[1, :] .* x[2, :] .> 0, 1, 2)
    model = Chain(Dense(2, 32, relu), Dense(32, 2))
    losses, trained = train(model.layers[1].W, model.layers[1].b, model.layers[2].W, model.layers[2].b,
                            x, labels, 300)
    return (first(losses), last(losses), accuracy(trained, x, labels))
end
