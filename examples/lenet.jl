# LeNet-5 for MNIST-sized images (28×28×1×N, WHCN), as in the Flux model zoo: two 5×5
# convolutions with ReLU and 2×2 max-pools, then 256 → 120 → 84 → 10.
#   python examples/make_weights.py lenet --batch 8 -o lenet.npz
#   transpile examples/lenet.jl --inputs lenet.npz --run

function lenet(m)
    L = m.layers
    return Chain(Conv(L[1].W, L[1].b, relu), MaxPool((2, 2)),
                 Conv(L[2].W, L[2].b, relu), MaxPool((2, 2)),
                 flatten,
                 Dense(L[3].W, L[3].b, relu),
                 Dense(L[4].W, L[4].b, relu),
                 Dense(L[5].W, L[5].b))
end

# class probabilities
main(m, x) = softmax(lenet(m)(x))

# the loss against one-hot labels y (10×N)
loss(m, x, y) = logitcrossentropy(lenet(m)(x), y)
