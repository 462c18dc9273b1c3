# An MLP trained with SGD for `steps` steps, the whole loop compiled into one executable.
# Returns the loss before and after training (the second must be lower) and the trained weights.
struct MLP
    W1::Matrix{Float32}
    b1::Vector{Float32}
    W2::Matrix{Float32}
    b2::Vector{Float32}
end

(m::MLP)(x) = m.W2 * tanh.(m.W1 * x .+ m.b1) .+ m.b2

mse_loss(m::MLP, x, y) = sum(abs2, m(x) .- y) / size(x, 2)

sgd(m::MLP, g, lr) = MLP(m.W1 .- lr .* g.W1, m.b1 .- lr .* g.b1, m.W2 .- lr .* g.W2, m.b2 .- lr .* g.b2)

function train(m::MLP, x::Matrix{Float32}, y::Matrix{Float32}, lr::Float32, steps::Int64)
    before = mse_loss(m, x, y)
    for step in 1:steps
        g = gradient(model -> mse_loss(model, x, y), m)[1]
        m = sgd(m, g, lr)
    end
    return (before, mse_loss(m, x, y), m)
end
