# A small ResNet (residual blocks of two 3×3 convolutions with BatchNorm, as in the Flux model zoo's
# ResNet: no bias in a convolution that a BatchNorm follows), trained with Adam in one XLA executable. Inside `withgradient` BatchNorm normalises with each
# batch's statistics and updates its running statistics, which the trained model then uses (Flux's
# train and test modes).
#   transpile examples/train_resnet.jl --run      # main(): synthetic images, loss before and after, accuracy
# tests/test_optimisers.py checks `train` step by step against the same network written in JAX.
using Flux, Optimisers, Random

residual(ch) = SkipConnection(Chain(Conv((3, 3), ch => ch; pad=1, bias=false), BatchNorm(ch, relu),
                                    Conv((3, 3), ch => ch; pad=1, bias=false), BatchNorm(ch)), +)

resnet(classes) = Chain(Conv((3, 3), 1 => 8; pad=1, bias=false), BatchNorm(8, relu),
                        residual(8), x -> relu.(x), MaxPool((2, 2)),
                        residual(8), x -> relu.(x), GlobalMeanPool(),
                        Flux.flatten, Dense(8 => classes))

# the loss of every step (before its update) and the trained model; labels are 1:classes
function train(model, x, labels, steps::Int64; eta=1.0f-2)
    y = Flux.onehotbatch(labels, 1:size(model.layers[end].W, 1))
    state = Optimisers.setup(Optimisers.Adam(eta), model)
    losses = zeros(Float32, steps)
    for step in 1:steps
        loss, grads = Flux.withgradient(m -> Flux.logitcrossentropy(m(x), y), model)
        state, model = Optimisers.update(state, model, grads[1])
        losses[step] = loss
    end
    return (losses, model)
end

# 16×16 images of noise with a bright square in one of four quadrants: the class
function quadrants(n::Int64)
    labels = rand(1:4, n)
    x = 0.5f0 .* randn(Float32, 16, 16, 1, n)
    for i in 1:n
        r, c = 8 * ((labels[i] - 1) % 2), 8 * ((labels[i] - 1) ÷ 2)
        x[r+2:r+7, c+2:c+7, 1, i] .+= 1.0f0
    end
    return (x, labels)
end

accuracy(model, x, labels) = sum(onecold(model(x)) .== labels) / length(labels)

function main()
    Random.seed!(1)     # the same synthetic data and initial weights on every run
    x, labels = quadrants(64)
    losses, model = train(resnet(4), x, labels, 30)
    return (first(losses), last(losses), accuracy(model, x, labels))
end
