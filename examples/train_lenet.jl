# LeNet-5 trained the way the Flux model zoo trains it: Flux's layer constructors (`Conv((5, 5), 1 => 6,
# relu)`), logitcrossentropy, Zygote's withgradient over the model itself, and Adam through
# Optimisers.setup/update; the whole training loop is one XLA executable.
#   transpile examples/train_lenet.jl --run      # main(): synthetic digits, the loss before and after training
# tests/test_optimisers.py checks `train` step by step against the same network and Adam written in JAX.
using Flux, Optimisers, Random

lenet() = Chain(Conv((5, 5), 1 => 6, relu), MaxPool((2, 2)),
                Conv((5, 5), 6 => 16, relu), MaxPool((2, 2)),
                Flux.flatten,
                Dense(256 => 120, relu), Dense(120 => 84, relu), Dense(84 => 10))

# the loss of every step (before its update) and the trained model; labels are the digits 0:9
function train(model, x, labels, steps::Int64; eta=3.0f-3)
    y = Flux.onehotbatch(labels, 0:9)
    state = Optimisers.setup(Optimisers.Adam(eta), model)
    losses = zeros(Float32, steps)
    for step in 1:steps
        loss, grads = Flux.withgradient(m -> Flux.logitcrossentropy(m(x), y), model)
        state, model = Optimisers.update(state, model, grads[1])
        losses[step] = loss
    end
    return (losses, model)
end

# 28×28 images of noise with a bright horizontal bar whose height is the digit
function synthetic_digits(n::Int64)
    labels = rand(0:9, n)
    x = 0.3f0 .* randn(Float32, 28, 28, 1, n)
    for i in 1:n
        row = 2 * labels[i] + 4
        x[5:24, row:row+3, 1, i] .+= 1.0f0
    end
    return (x, labels)
end

accuracy(model, x, labels) = sum(onecold(model(x), 0:9) .== labels) / length(labels)

function main()
    Random.seed!(1)     # the same synthetic data and initial weights on every run
    x, labels = synthetic_digits(64)
    losses, model = train(lenet(), x, labels, 40)
    return (first(losses), last(losses), accuracy(model, x, labels))
end
