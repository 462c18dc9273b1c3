# VGG19 (Simonyan & Zisserman 2014) as Metalhead builds it, written as plain Julia over the
# Flux-style layers of jlhlo's prelude: sixteen 3×3 convolutions (pad 1, bias, ReLU) in five
# blocks, each block ended by a 2×2 max-pool, then the classifier 25088 → 4096 → 4096 → 1000 with
# ReLU (and inference-mode dropout), and a softmax over the classes.
#
# Images are WHCN: x[w, h, c, n] of size 224×224×3×N (any size divisible by 32 works with a
# matching first dense layer). The parameters `m` come as `m.layers.i.W`, `m.layers.i.b` for the
# 19 layers that have them:  python examples/make_weights.py vgg19 -o vgg19.npz
#                            transpile examples/vgg19.jl --inputs vgg19.npz --run

conv3(l) = Conv(l.W, l.b, relu; pad=1)

function vgg19(m)
    L = m.layers
    return Chain(conv3(L[1]), conv3(L[2]), MaxPool((2, 2)),
                 conv3(L[3]), conv3(L[4]), MaxPool((2, 2)),
                 conv3(L[5]), conv3(L[6]), conv3(L[7]), conv3(L[8]), MaxPool((2, 2)),
                 conv3(L[9]), conv3(L[10]), conv3(L[11]), conv3(L[12]), MaxPool((2, 2)),
                 conv3(L[13]), conv3(L[14]), conv3(L[15]), conv3(L[16]), MaxPool((2, 2)),
                 flatten,
                 Dense(L[17].W, L[17].b, relu), Dropout(0.5),
                 Dense(L[18].W, L[18].b, relu), Dropout(0.5),
                 Dense(L[19].W, L[19].b),
                 softmax)
end

main(m, x) = vgg19(m)(x)
