# One VGG19 training step, compiled into one executable: forward pass, cross-entropy on the
# logits, backward pass (`gradient`), and the SGD update of all 38 parameter arrays.
#
# The model is that of examples/vgg19.jl (copied here, as there is no `include`) without the final
# softmax: the classifier's last Dense gives the logits, and the loss is `logitcrossentropy`
# against one-hot labels y (classes×N). Dropout is in inference mode (`active=false`, Flux's
# testmode!): inside `gradient` Flux would drop at random, and this step is checked against JAX.
#
# `m` is the named tuple (layers = ((W = ..., b = ...), ...),) of the 16 conv and 3 dense layers,
# `m.layers.i.W` / `m.layers.i.b` as the CLI and the Python API name them; `gradient` of it is a
# named tuple of the same shape, and so is the updated model that `train_step` returns.
#   python examples/make_weights.py vgg19 --size 32 --batch 2 -o vgg19.npz   (plus `y` and `lr`)

conv3(l) = Conv(l.W, l.b, relu; pad=1)

function vgg19_logits(m)
    L = m.layers
    return Chain(conv3(L[1]), conv3(L[2]), MaxPool((2, 2)),
                 conv3(L[3]), conv3(L[4]), MaxPool((2, 2)),
                 conv3(L[5]), conv3(L[6]), conv3(L[7]), conv3(L[8]), MaxPool((2, 2)),
                 conv3(L[9]), conv3(L[10]), conv3(L[11]), conv3(L[12]), MaxPool((2, 2)),
                 conv3(L[13]), conv3(L[14]), conv3(L[15]), conv3(L[16]), MaxPool((2, 2)),
                 flatten,
                 Dense(L[17].W, L[17].b, relu), Dropout(0.5; active=false),
                 Dense(L[18].W, L[18].b, relu), Dropout(0.5; active=false),
                 Dense(L[19].W, L[19].b))
end

loss(m, x, y) = logitcrossentropy(vgg19_logits(m)(x), y)

# plain SGD on one layer: its parameters less lr times their gradients
sgd(l, g, lr) = (W = l.W .- lr .* g.W, b = l.b .- lr .* g.b)

function train_step(m, x, y, lr)
    l, grads = withgradient(model -> loss(model, x, y), m)
    g = grads[1]
    return (l, (layers = map((layer, gl) -> sgd(layer, gl, lr), m.layers, g.layers),))
end

# the loss and the gradient alone (for checking against a reference)
loss_and_gradient(m, x, y) = withgradient(model -> loss(model, x, y), m)
