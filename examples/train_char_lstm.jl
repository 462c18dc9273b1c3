# A character-level LSTM language model, as in the Flux model zoo's char-rnn: one-hot characters in,
# an LSTM over the sequence, a Dense layer to the next character's logits, trained with Adam in one
# XLA executable. The "text" is synthetic: each character is the sum of the two before it (mod the
# alphabet's size), which the network can only predict by remembering the previous step.
#   transpile examples/train_char_lstm.jl --run     # main(): loss before and after, next-character accuracy
# tests/test_optimisers.py checks `train` step by step against the same LSTM written in JAX.
using Flux, Optimisers, Random

char_model(alphabet, hidden) = Chain(LSTM(alphabet => hidden), Dense(hidden => alphabet))

# `batch` sequences of len + 1 characters 1:alphabet, each the sum of the two before it
function fibonacci_text(alphabet::Int64, len::Int64, batch::Int64)
    text = zeros(Int64, len + 1, batch)
    text[1, :] = rand(1:alphabet, batch)
    text[2, :] = rand(1:alphabet, batch)
    for k in 3:len+1
        text[k, :] = mod.(text[k-1, :] .+ text[k-2, :], alphabet) .+ 1
    end
    return text
end

# inputs: the characters one-hot, (alphabet, len, batch); targets: the next characters, one-hot
function next_character_data(text, alphabet)
    len = size(text, 1) - 1
    return (Float32.(Flux.onehotbatch(text[1:len, :], 1:alphabet)), Flux.onehotbatch(text[2:len+1, :], 1:alphabet))
end

# the loss of every step (before its update) and the trained model
function train(model, x, y, steps::Int64; eta=1.0f-2)
    state = Optimisers.setup(Optimisers.Adam(eta), model)
    losses = zeros(Float32, steps)
    for step in 1:steps
        loss, grads = Flux.withgradient(m -> Flux.logitcrossentropy(m(x), y), model)
        state, model = Optimisers.update(state, model, grads[1])
        losses[step] = loss
    end
    return (losses, model)
end

# from the third character on (the first two are random), how often the most likely next one is right
function accuracy(model, x, y)
    hits = onecold(model(x)) .== onecold(y)
    return sum(hits[2:end, :]) / length(hits[2:end, :])
end

function main()
    Random.seed!(1)     # the same synthetic data and initial weights on every run
    alphabet = 7
    x, y = next_character_data(fibonacci_text(alphabet, 12, 32), alphabet)
    losses, model = train(char_model(alphabet, 32), x, y, 150)
    return (first(losses), last(losses), accuracy(model, x, y))
end
