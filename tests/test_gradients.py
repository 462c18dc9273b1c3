"""Zygote-style `gradient` / `withgradient` / `pullback` in the language, against jax.grad of the
same computation and central finite differences (Float64)."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jlhlo.frontend.diagnostics import JuliaError

import jlhlo

SRC = """
struct Lin
    W::Matrix{Float64}
    b::Vector{Float64}
end
(m::Lin)(x) = m.W * x .+ m.b
loss(m::Lin, x, y) = sum(abs2, m(x) .- y)
grad_struct(W::Matrix{Float64}, b::Vector{Float64}, x::Matrix{Float64}, y::Matrix{Float64}) =
    gradient(loss, Lin(W, b), x, y)

mlp_loss(W1, W2, x, y) = sum(abs2, W2 * tanh.(W1 * x) .- y) / size(x, 2)
grad_closure(W1::Matrix{Float64}, W2::Matrix{Float64}, x::Matrix{Float64}, y::Matrix{Float64}) =
    gradient((a, b) -> mlp_loss(a, b, x, y), W1, W2)
function with_grad(W1::Matrix{Float64}, W2::Matrix{Float64}, x::Matrix{Float64}, y::Matrix{Float64})
    r = withgradient(w -> mlp_loss(w, W2, x, y), W1)
    return (r.val, r.grad[1])
end

second(x::Float64) = gradient(t -> gradient(sin, t)[1], x)[1]
function hvp(w::Vector{Float64}, v::Vector{Float64})
    f(u) = sum(exp.(u) .* u .^ 2)
    return gradient(u -> sum(gradient(f, u)[1] .* v), w)[1]
end
function pull(x::Vector{Float64}, dy::Vector{Float64})
    y, back = pullback(v -> tanh.(v) .* 2, x)
    return (y, back(dy)[1])
end
grad_int(x::Float64, n::Int64) = gradient((a, k) -> a^3 * k, x, n)
struct Powered
    w::Float64
    n::Int64
end
grad_int_field(x::Float64, n::Int64) = gradient(p -> p.w^p.n, Powered(x, n))[1]
grad_tuple(p::Tuple{Float64, Float64}) = gradient(q -> q[1] * q[2]^2, p)[1]
function grad_branch(x::Float64)
    f = t -> t > 0 ? t^2 : -3t
    return gradient(f, x)[1]
end
function iterate_map(a::Float64, x::Float64)
    y = x
    for i in 1:5
        y = a * y + sin(y)
    end
    return y
end
grad_loop(a::Float64, x::Float64) = gradient(iterate_map, a, x)
function reductions(X::Matrix{Float64})
    f = A -> sum(maximum(A; dims=1)) + sum(softmax(A; dims=2) .^ 2) + sum(logsumexp(A; dims=1)) + minimum(A)
    return gradient(f, X)[1]
end
function slicing(x::Vector{Float64})
    f = v -> sum(v[2:end] .* v[1:end-1]) + v[3]^2 + sum(reshape(v, 2, 3)' * [1.0, 2.0])
    return gradient(f, x)[1]
end
function train(W::Matrix{Float64}, x::Matrix{Float64}, y::Matrix{Float64}, lr::Float64, steps::Int64)
    first_loss = sum(abs2, W * x .- y)
    for s in 1:steps
        g = gradient(w -> sum(abs2, w * x .- y) / size(x, 2), W)[1]
        W = W .- lr .* g
    end
    return (first_loss, sum(abs2, W * x .- y), W)
end
function newton_loss(a::Float64)
    x = a
    while abs(x * x - a) > 1e-12
        x = (x + a / x) / 2
    end
    return x
end
grad_while(a::Float64) = gradient(newton_loss, a)
grad2_while(a::Float64) = gradient(b -> gradient(newton_loss, b)[1], a)[1]
function damp(v, c)
    k = 0
    while sum(abs2, v) > c
        v = v .* 0.5 .+ 0.01 .* v .^ 2
        k += 1
    end
    return sum(v) + k
end
grad_damp(v::Vector{Float64}) = gradient(u -> damp(u, 0.1), v)[1]
"""

rng = np.random.default_rng(11)


@pytest.fixture(scope="module")
def prog():
    return jlhlo.load(SRC, filename="grads.jl")


def close(got, want, rtol=1e-9):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype, (got.shape, want.shape, got.dtype, want.dtype)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-12)


def test_struct_argument_gives_named_tuple(prog):
    W, b, x, y = rng.standard_normal((2, 3)), rng.standard_normal(2), rng.standard_normal((3, 4)), \
        rng.standard_normal((2, 4))
    gm, gx, gy = prog.function("grad_struct")(W, b, x, y)

    def loss(W, b, x, y):
        return jnp.sum((W @ x + b[:, None] - y) ** 2)
    want = jax.grad(loss, argnums=(0, 1, 2, 3))(W, b, x, y)
    assert list(gm) == ["W", "b"]
    close(gm["W"], want[0])
    close(gm["b"], want[1])
    close(gx, want[2])
    close(gy, want[3])


def test_closure_and_withgradient_match_jax(prog):
    W1, W2, x, y = (rng.standard_normal(s) for s in [(5, 3), (2, 5), (3, 7), (2, 7)])

    def loss(W1, W2):
        return jnp.sum((W2 @ jnp.tanh(W1 @ x) - y) ** 2) / x.shape[1]
    g1, g2 = prog.function("grad_closure")(W1, W2, x, y)
    w1, w2 = jax.grad(loss, argnums=(0, 1))(W1, W2)
    close(g1, w1)
    close(g2, w2)
    val, g = prog.function("with_grad")(W1, W2, x, y)
    close(val, np.float64(loss(W1, W2)))
    close(g, w1)


def test_second_derivative_and_hvp(prog):
    close(prog.function("second")(0.7), np.float64(-np.sin(0.7)))
    w, v = rng.standard_normal(4), rng.standard_normal(4)

    def f(u):
        return jnp.sum(jnp.exp(u) * u ** 2)
    want = jax.jvp(jax.grad(f), (w,), (v,))[1]
    close(prog.function("hvp")(w, v), np.asarray(want))


def test_pullback(prog):
    x, dy = rng.standard_normal(3), rng.standard_normal(3)
    y, g = prog.function("pull")(x, dy)
    close(y, 2 * np.tanh(x))
    close(g, dy * 2 * (1 - np.tanh(x) ** 2))


def test_nondifferentiable_and_tuple_arguments(prog):
    # Zygote treats an integer argument as a real number (its gradient here is 1.5^3 = 3.375): refused
    with pytest.raises(JuliaError, match="integer argument"):
        prog.function("grad_int").lower(1.5, np.int64(3))
    # an integer field (a layer's size or stride) gets `nothing`, and stays a compile-time constant
    g = prog.function("grad_int_field")(1.5, np.int64(3))
    close(g["w"], np.float64(3 * 1.5 ** 2))
    assert g["n"] is None
    ga, gb = prog.function("grad_tuple")((2.0, 3.0))
    close(ga, np.float64(9.0))
    close(gb, np.float64(12.0))


@pytest.mark.parametrize("x", [1.5, -1.5])
def test_branch(prog, x):
    close(prog.function("grad_branch")(x), np.float64(2 * x if x > 0 else -3.0))


def test_loop_against_finite_differences(prog):
    a, x = 0.9, 0.3
    ga, gx = prog.function("grad_loop")(a, x)
    f = prog.function("iterate_map")
    h = 1e-6
    fd_a = (f(a + h, x) - f(a - h, x)) / (2 * h)
    fd_x = (f(a, x + h) - f(a, x - h)) / (2 * h)
    np.testing.assert_allclose([ga, gx], [fd_a, fd_x], rtol=1e-7)


def test_reductions_and_slicing_match_jax(prog):
    X = rng.standard_normal((3, 4))

    def f(A):
        sm = jax.nn.softmax(A, axis=1)
        return (jnp.sum(jnp.max(A, axis=0)) + jnp.sum(sm ** 2) + jnp.sum(jax.scipy.special.logsumexp(A, axis=0))
                + jnp.min(A))
    close(prog.function("reductions")(X), np.asarray(jax.grad(f)(X)))
    v = rng.standard_normal(6)

    def g(v):
        return jnp.sum(v[1:] * v[:-1]) + v[2] ** 2 + jnp.sum(v.reshape((2, 3), order="F").T @ jnp.array([1.0, 2.0]))
    close(prog.function("slicing")(v), np.asarray(jax.grad(g)(v)))


def test_training_loop_in_one_executable(prog):
    W, x, y = rng.standard_normal((3, 4)), rng.standard_normal((4, 6)), rng.standard_normal((3, 6))
    first, last, W_end = prog.function("train")(W, x, y, 0.05, np.int64(40))
    assert last < first
    Wn = W.copy()
    for _ in range(40):
        Wn = Wn - 0.05 * (2.0 / 6) * (Wn @ x - y) @ x.T
    close(W_end, Wn)


def test_gradients_survive_optimization(prog):
    W1, W2, x, y = (rng.standard_normal(s) for s in [(5, 3), (2, 5), (3, 7), (2, 7)])
    f = prog.function("grad_closure")
    lowered0 = f.lower(W1, W2, x, y, optimize_level=0)
    lowered2 = f.lower(W1, W2, x, y, optimize_level=2)
    out0 = lowered0.outputs(lowered0.compile()(W1, W2, x, y))
    out2 = lowered2.outputs(lowered2.compile()(W1, W2, x, y))
    for a, b in zip(out0, out2):
        np.testing.assert_allclose(a, b, rtol=1e-12)


@pytest.mark.parametrize("a", [2.0, 0.3, 50.0])
def test_gradient_through_a_loop_whose_trip_count_depends_on_data(prog, a):
    """Newton's iteration for sqrt(a) until convergence: the VJP recomputes each iteration's state
    from the loop's entry (no tape of unknown length). d/da sqrt(a) = 1/(2 sqrt(a)), the second
    derivative -a^(-3/2)/4 (the VJP's own loops are differentiated the same way)."""
    close(prog.function("grad_while")(a)[0], np.float64(0.5 / np.sqrt(a)), rtol=1e-9)
    close(prog.function("grad2_while")(a), np.float64(-0.25 * a ** -1.5), rtol=1e-7)


def test_gradient_through_a_data_dependent_loop_over_arrays(prog):
    """A `while` on a norm shrinking a vector, whose iteration count also enters the result, against
    central differences (the count is piecewise constant: no gradient)."""
    v = np.array([1.0, 2.0, -0.5])

    def damp(v):
        k = 0
        while (v ** 2).sum() > 0.1:
            v = v * 0.5 + 0.01 * v ** 2
            k += 1
        return v.sum() + k
    eps = 1e-6
    want = np.array([(damp(v + eps * e) - damp(v - eps * e)) / (2 * eps) for e in np.eye(3)])
    close(prog.function("grad_damp")(v), want, rtol=1e-6)


UNTAKEN = """
safe_log(x) = x > 0 ? log(x) : zero(x)
function nested(x)
    if x > 0
        return x > 1 ? sqrt(x - 1) : log(x)
    end
    return 0.0
end
function log_before(x)
    y = log(abs(x))             # -Inf at 0, but only the branch that does not run reads it
    return x > 0 ? y : 0.0
end
function shrink(x)
    while x > 1.0
        x = log(x - 1.0) + 1.5  # on a lane already done at 1.0: log(0), never run in Julia
    end
    return x
end
branches(v::Vector{Float64}) = (gradient(u -> sum(asinh.(u)), v)[1], gradient(u -> sum(safe_log.(u)), v)[1],
                                gradient(u -> sum(nested.(u)), v)[1], gradient(u -> sum(log_before.(u)), v)[1])
scalar_log_before(x::Float64) = gradient(log_before, x)[1]
lanes_while(v::Vector{Float64}) = gradient(u -> sum(shrink.(u)), v)[1]
"""


def test_a_branch_not_taken_gives_no_gradient():
    """Julia runs one arm of a branch: what the other arm (or a value only it reads) would compute
    has no gradient (Zygote's `nothing`), even where its derivative is infinite. A function
    broadcast over arrays runs both arms on every lane, so reverse mode must not give those lanes
    zero times that derivative (NaN): asinh's own branches at 0, `x > 0 ? log(x) : 0` at 0, and a
    per-lane `while` whose done lanes would take log(0)."""
    prog = jlhlo.load(UNTAKEN, filename="untaken.jl")
    v = np.concatenate([[0.0, 1.0, -1.0, 2.0, 0.5], rng.uniform(-3, 3, 6)])
    with np.errstate(divide="ignore", invalid="ignore"):
        want = (1 / np.sqrt(1 + v * v), np.where(v > 0, 1 / v, 0.0),
                np.where(v > 1, 0.5 / np.sqrt(v - 1), np.where(v > 0, 1 / v, 0.0)), np.where(v > 0, 1 / v, 0.0))
    for got, w in zip(prog.function("branches")(v), want):
        close(got, w)
    close(prog.function("scalar_log_before")(0.0), np.float64(0.0))
    close(prog.function("scalar_log_before")(2.0), np.float64(0.5))

    def shrink(x):
        d = 1.0
        while x > 1.0:
            d, x = d / (x - 1.0), np.log(x - 1.0) + 1.5
        return d
    u = np.concatenate([[1.0, 2.0, 1.2, 0.3], rng.uniform(1.05, 4, 4)])
    close(prog.function("lanes_while")(u), np.array([shrink(x) for x in u]))
