# A Transformer encoder block (multi-head self-attention and a feed-forward network, each with a
# residual connection and LayerNorm, as in "Attention Is All You Need" and Flux's model zoo), trained
# with Adam in one XLA executable on a synthetic sequence task: each output position predicts the
# token that is most frequent in the sequence, which needs attention over every position.
#   transpile examples/train_transformer.jl --run    # main(): loss before and after, accuracy
# tests/test_optimisers.py checks `train` step by step against the same block written in JAX.
using Flux, Optimisers, Random

struct EncoderBlock{A,N,F}
    attention::A
    norm1::N
    ffn::F
    norm2::N
end
Flux.@layer EncoderBlock
EncoderBlock(d::Int, heads::Int, hidden::Int) =
    EncoderBlock(MultiHeadAttention(d; nheads=heads), LayerNorm(d), Chain(Dense(d => hidden, gelu), Dense(hidden => d)),
                 LayerNorm(d))
function (b::EncoderBlock)(x)
    h = b.norm1(x .+ first(b.attention(x)))
    return b.norm2(h .+ b.ffn(h))
end

# tokens (len, batch) in 1:vocab → logits (vocab, len, batch)
transformer(vocab, d, heads, hidden) =
    Chain(Embedding(vocab => d), EncoderBlock(d, heads, hidden), Dense(d => vocab))

# the loss of every step (before its update) and the trained model
function train(model, tokens, targets, steps::Int64; eta=3.0f-3)
    y = Flux.onehotbatch(targets, 1:size(model.layers[end].W, 1))
    state = Optimisers.setup(Optimisers.Adam(eta), model)
    losses = zeros(Float32, steps)
    for step in 1:steps
        loss, grads = Flux.withgradient(m -> Flux.logitcrossentropy(m(tokens), y), model)
        state, model = Optimisers.update(state, model, grads[1])
        losses[step] = loss
    end
    return (losses, model)
end

# sequences of `len` tokens; the target at every position is the sequence's most frequent token
function majority_task(vocab::Int64, len::Int64, batch::Int64)
    tokens = rand(1:vocab, len, batch)
    counts = dropdims(sum(Flux.onehotbatch(tokens, 1:vocab); dims=2); dims=2)      # (vocab, batch)
    majority = [argmax(counts[:, b]) for b in 1:batch]
    return (tokens, repeat(reshape(majority, 1, :), len, 1))
end

accuracy(model, tokens, targets) = sum(onecold(model(tokens)) .== targets) / length(targets)

function main()
    Random.seed!(1)     # the same synthetic data and initial weights on every run
    tokens, targets = majority_task(4, 9, 64)
    losses, model = train(transformer(4, 16, 2, 32), tokens, targets, 120)
    return (first(losses), last(losses), accuracy(model, tokens, targets))
end
