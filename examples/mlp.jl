# A multi-layer perceptron for MNIST-sized inputs: x is 784×N (flattened 28×28 images),
# 784 → 128 → 64 → 10 with ReLU, softmax over the classes.
#   python examples/make_weights.py mlp --batch 32 -o mlp.npz
#   transpile examples/mlp.jl --inputs mlp.npz --run

mlp(m) = Chain(Dense(m.layers[1].W, m.layers[1].b, relu),
               Dense(m.layers[2].W, m.layers[2].b, relu),
               Dense(m.layers[3].W, m.layers[3].b))

main(m, x) = softmax(mlp(m)(x))

# mean squared error and cross-entropy against one-hot labels y (10×N)
losses(m, x, y) = (mse(main(m, x), y), crossentropy(main(m, x), y), logitcrossentropy(mlp(m)(x), y))
