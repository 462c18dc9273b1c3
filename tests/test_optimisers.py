"""Optimisers.jl (prelude/optimisers.jl, prelude/functors.jl): each rule over several steps against a
NumPy reference written from Optimisers.jl's update formulas; state trees mirroring Flux models;
training loops compiled into one executable against the same loop written in JAX (Adam by hand,
jax.grad for the gradients; bench/train_models.py times the MLP one); the errors for what jlhlo cannot traverse."""
from __future__ import annotations

import importlib.util
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import assert_same, cli, function
from jlhlo.frontend.diagnostics import JuliaError

import jlhlo

F32 = np.float32
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _module(name: str, path: str):
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, path))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# the MLP problem and its training loop in JAX (Optimisers.jl's Adam by hand), shared with the benchmark
train_models = _module("train_models", "bench/train_models.py")


def randn(rng, *shape):
    return rng.standard_normal(shape).astype(F32)


# ------------------------------------------------------------------------- rules, against NumPy
def _adam_dir(m, v, bt1, bt2, eps):
    return m / (1 - bt1) / (np.sqrt(v / (1 - bt2)) + eps)


def reference(rule, x, gs):
    """x after one update per gradient in gs, by Optimisers.jl's formulas (float64)."""
    x = x.astype(np.float64)
    kind, p = rule
    m = v = np.zeros_like(x)
    bt = None
    for g in gs:
        g = g.astype(np.float64)
        if kind == "Descent":
            step = p["eta"] * g
        elif kind == "Momentum":
            m = p["rho"] * m + p["eta"] * g
            step = m
        elif kind == "Nesterov":
            step = -p["rho"] ** 2 * m + (1 + p["rho"]) * p["eta"] * g
            m = p["rho"] * m - p["eta"] * g
        elif kind == "RMSProp":
            m = p["rho"] * m + (1 - p["rho"]) * g ** 2
            if p["centred"]:
                v = p["rho"] * v + (1 - p["rho"]) * g
            step = g * p["eta"] / (np.sqrt(m - v ** 2) + p["eps"])
        elif kind in ("Adam", "AdamW"):
            b1, b2 = p["beta"]
            bt = (b1, b2) if bt is None else (bt[0] * b1, bt[1] * b2)
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g ** 2
            d = _adam_dir(m, v, *bt, p["eps"])
            if kind == "Adam":
                step = d * p["eta"]
            elif p["couple"]:
                step = p["eta"] * (d + p["lambda"] * x)
            else:
                step = p["eta"] * d + p["lambda"] * x
        elif kind == "Chain":                        # ClipGrad(0.5), WeightDecay(0.01), Adam(0.1)
            g = np.clip(g, -0.5, 0.5) + 0.01 * x
            bt = (0.9, 0.999) if bt is None else (bt[0] * 0.9, bt[1] * 0.999)
            m = 0.9 * m + 0.1 * g
            v = 0.999 * v + 0.001 * g ** 2
            step = _adam_dir(m, v, *bt, 1e-8) * 0.1
        x = x - step
    return x


RULES = [
    ("Descent(0.1)", ("Descent", {"eta": 0.1})),
    ("Optimisers.Descent()", ("Descent", {"eta": 0.1})),
    ("Momentum(0.05, 0.8)", ("Momentum", {"eta": 0.05, "rho": 0.8})),
    ("Momentum()", ("Momentum", {"eta": 0.01, "rho": 0.9})),
    ("Nesterov(0.05)", ("Nesterov", {"eta": 0.05, "rho": 0.9})),
    ("RMSProp(0.01)", ("RMSProp", {"eta": 0.01, "rho": 0.9, "eps": 1e-8, "centred": False})),
    ("RMSProp(0.01, 0.8; centred=true)", ("RMSProp", {"eta": 0.01, "rho": 0.8, "eps": 1e-8, "centred": True})),
    ("Adam()", ("Adam", {"eta": 0.001, "beta": (0.9, 0.999), "eps": 1e-8})),
    ("Adam(0.1, (0.8, 0.99), 1e-3)", ("Adam", {"eta": 0.1, "beta": (0.8, 0.99), "eps": 1e-3})),
    ("Adam(; eta=0.05)", ("Adam", {"eta": 0.05, "beta": (0.9, 0.999), "eps": 1e-8})),
    ("AdamW(0.05, (0.9, 0.999), 0.1)", ("AdamW", {"eta": 0.05, "beta": (0.9, 0.999), "lambda": 0.1, "eps": 1e-8,
                                                   "couple": True})),
    ("AdamW(0.05, (0.9, 0.999), 0.1; couple=false)", ("AdamW", {"eta": 0.05, "beta": (0.9, 0.999), "lambda": 0.1,
                                                                 "eps": 1e-8, "couple": False})),
    ("OptimiserChain(WeightDecay(0.5), Descent(0.1))", ("Descent", None)),
    ("OptimiserChain(ClipGrad(0.5), WeightDecay(0.01), Adam(0.1))", ("Chain", {})),
    ("ClipGrad(0.5)", ("Descent", None)),
]

RUN = """
function run(rule, x, gs)
    state = Optimisers.setup(rule, x)
    for t in 1:size(gs, 3)
        state, x = Optimisers.update(state, x, gs[:, :, t])
    end
    return x
end
"""


def test_rules_against_optimisers_formulas(rng):
    x, gs = randn(rng, 3, 4), randn(rng, 3, 4, 5)
    src = RUN + f"main(x, gs) = ({', '.join(f'run({r}, x, gs)' for r, _ in RULES)},)"
    out = function(src, "main")(x, gs)
    steps = [gs[:, :, t] for t in range(5)]
    for (julia, rule), got in zip(RULES, out):
        if julia.startswith("OptimiserChain(WeightDecay"):
            want = x.astype(np.float64)
            for g in steps:
                want = want - 0.1 * (g + 0.5 * want)
        elif julia.startswith("ClipGrad"):
            want = x.astype(np.float64)
            for g in steps:
                want = want - np.clip(g, -0.5, 0.5)
        else:
            want = reference(rule, x, steps)
        assert_same(got, want.astype(F32), rtol=2e-5, atol=2e-6)


def test_float64_parameters_and_rule_values(rng):
    x, g = rng.standard_normal(4), rng.standard_normal(4)
    out = function("main(x, g) = (Optimisers.update(Optimisers.setup(Adam(0.1), x), x, g)[2], Adam(), "
                   "Momentum(1), Descent(1), Adam(1f-3).eta)", "main")(x, g)
    want = reference(("Adam", {"eta": 0.1, "beta": (0.9, 0.999), "eps": 1e-8}), x, [g])
    assert_same(out[0], want, rtol=1e-12)
    assert_same(out[1], {"eta": 0.001, "beta": (0.9, 0.999), "epsilon": 1e-8})
    assert_same(out[2], {"eta": 1.0, "rho": 0.9})
    assert_same(out[3], {"eta": np.int64(1)})
    assert_same(out[4], F32(1e-3))


def test_float16_parameters_get_optimisers_larger_epsilon():
    """Optimisers' `_eps`: ϵ = 1e-8 would round to 0 in Float16; it becomes Float16(1e-7) (0 stays 0)."""
    out = function("main(h, s) = (_eps(h, 1e-8), _eps(h, 0.0), _eps(h, 0.01), _eps(s, 1e-8))", "main")(
        np.ones(2, np.float16), np.ones(2, F32))
    assert_same(out, (np.float16(1e-7), np.float16(0), np.float16(0.01), F32(1e-8)), rtol=0, atol=0)


def test_negative_learning_rate_is_refused():
    with pytest.raises(JuliaError, match="(?s)DomainError.*the learning rate cannot be negative"):
        function("main(x) = Optimisers.setup(Adam(-0.1), x)", "main")(np.ones(2, F32))


# ------------------------------------------------------------------------- state trees
def test_setup_mirrors_a_flux_model(rng):
    W1, b1, W2 = randn(rng, 4, 3), randn(rng, 4), randn(rng, 2, 4)
    k, c = randn(rng, 3, 3, 1, 2), randn(rng, 2)
    src = """
    main(W1, b1, W2, k, c) = Optimisers.setup(Momentum(),
        Chain(Dense(W1, b1, relu), Dense(W2, false), Conv(k, c; pad=1), BatchNorm(copy(c), copy(c), c, c),
              MaxPool((2, 2)), (copy(W1), 3, [1, 2])))
    """
    tree = function(src, "main")(W1, b1, W2, k, c)
    zero_leaf = lambda a: {"rule": {"eta": 0.01, "rho": 0.9}, "state": np.zeros_like(a)}
    layers = tree["layers"]
    assert_same(layers[0], {"W": zero_leaf(W1), "b": zero_leaf(b1), "σ": ()})
    assert_same(layers[1], {"W": zero_leaf(W2), "b": (), "σ": ()})
    assert_same(layers[2], {"W": zero_leaf(k), "b": zero_leaf(c), "σ": (), "stride": (), "pad": (), "dilation": (),
                            "groups": ()})
    assert_same(layers[3], {"β": zero_leaf(c), "γ": zero_leaf(c)})      # BatchNorm's trainable fields only
    assert_same(layers[4], ())
    assert_same(layers[5], (zero_leaf(W1), (), ()))


def test_update_leaves_its_arguments_alone_and_skips_nothing(rng):
    W, b, x = randn(rng, 3, 2), randn(rng, 3), randn(rng, 2, 5)
    src = """
    function main(W, b, x)
        model = Dense(W, b, tanh)
        state = Optimisers.setup(Descent(0.5), model)
        g = gradient(m -> sum(m(x)), model)[1]
        state2, model2 = Optimisers.update(state, model, g)
        state3, model3 = Optimisers.update(state2, model2, (W=nothing, b=g.b, σ=nothing))
        state4, model4 = Optimisers.update(state3, model3, nothing)
        return (model.W, model.b, model2.W, model2.b, model4.W, model4.b)
    end
    """
    out = function(src, "main")(W, b, x)
    h = np.tanh(W @ x + b[:, None])
    gW, gb = (1 - h ** 2) @ x.T, (1 - h ** 2).sum(axis=1)
    assert_same(out[0], W, rtol=0, atol=0)
    assert_same(out[1], b, rtol=0, atol=0)
    assert_same(out[2], W - 0.5 * gW, rtol=1e-5, atol=1e-6)
    assert_same(out[3], b - 0.5 * gb, rtol=1e-5, atol=1e-6)
    assert_same(out[4], W - 0.5 * gW, rtol=1e-5, atol=1e-6)
    assert_same(out[5], b - gb, rtol=1e-5, atol=1e-6)


def test_a_program_struct_with_its_functor(rng):
    W, b, x, y = randn(rng, 2, 3), randn(rng, 2), randn(rng, 3, 4), randn(rng, 2, 4)
    src = """
    struct Affine{M,V}
        W::M
        b::V
    end
    (a::Affine)(x) = a.W * x .+ a.b
    _functor(::Affine) = (a -> (a.W, a.b), Affine, (W, b) -> (W=W, b=b))
    function main(W, b, x, y)
        model = (Affine(W, b), Affine(copy(W), copy(b)))
        state = Optimisers.setup(Descent(0.1), model)
        g = gradient(m -> mse(m[2](m[1].W' * m[1](x)), y), model)[1]
        return Optimisers.update(state, model, g)[2]
    end
    """
    got = function(src, "main")(W, b, x, y)

    def loss(params):
        (W1, b1), (W2, b2) = params
        return jnp.mean((W2 @ (W1.T @ (W1 @ x + b1[:, None])) + b2[:, None] - y) ** 2)
    g = jax.grad(loss)(((W, b), (W, b)))
    for (Wg, bg), item in zip(g, got):
        assert_same(item, {"W": W - 0.1 * np.asarray(Wg), "b": b - 0.1 * np.asarray(bg)}, rtol=1e-5, atol=1e-6)


def test_every_layer_is_traversed_and_rebuilt(rng):
    """Descent(0.1) on a model of every layer with parameters: each parameter moves by -0.1 × its gradient
    (the gradients themselves are checked in test_flux_layers.py), and the state tree has the fields."""
    E, W, b, W2, B = randn(rng, 4, 10), randn(rng, 4, 4), randn(rng, 4), randn(rng, 3, 4), randn(rng, 2, 4, 4)
    Ri, Rh, Li, Lh, Gi, Gh = (randn(rng, 2, 4), randn(rng, 2, 2), randn(rng, 8, 4), randn(rng, 8, 2),
                              randn(rng, 6, 4), randn(rng, 6, 2))
    idx = np.array([3, 1, 7])
    src = """
    function main(E, W, b, W2, B, Ri, Rh, Li, Lh, Gi, Gh, idx, x, h)
        model = (Chain(Embedding(E), LayerNorm(4), SkipConnection(Dense(W, b, tanh), +),
                       Parallel(vcat, Dense(W2), x -> x .* 2), x -> x[1:4, :], Bilinear(B)),
                 RNNCell(tanh, Ri, Rh, zeros(Float32, 2)), LSTMCell(Li, Lh, zeros(Float32, 8)),
                 GRUCell(Gi, Gh, zeros(Float32, 6)))
        loss(m) = sum(abs2, m[1](idx)) + sum(m[2](x, h)[1]) + sum(m[3](x, (h, h))[2][2]) + sum(m[4](x, h)[1])
        g = gradient(loss, model)[1]
        state = Optimisers.setup(Descent(0.1), model)
        state, new = Optimisers.update(state, model, g)
        return (new, g, state)
    end
    """
    new, g, state = function(src, "main")(E, W, b, W2, B, Ri, Rh, Li, Lh, Gi, Gh, idx, randn(rng, 4, 3),
                                          randn(rng, 2, 3))
    chain, gchain = new[0]["layers"], g[0]["layers"]
    pairs = [(chain[0]["weight"], E, gchain[0]["weight"]),
             (chain[1]["diag"]["scale"], np.ones(4, F32), gchain[1]["diag"]["scale"]),
             (chain[1]["diag"]["bias"], np.zeros(4, F32), gchain[1]["diag"]["bias"]),
             (chain[2]["layers"]["W"], W, gchain[2]["layers"]["W"]),
             (chain[2]["layers"]["b"], b, gchain[2]["layers"]["b"]),
             (chain[3]["layers"][0]["W"], W2, gchain[3]["layers"][0]["W"]),
             (chain[5]["weight"], B, gchain[5]["weight"])]
    for cell, gcell, (Wi, Wh) in zip(new[1:], g[1:], ((Ri, Rh), (Li, Lh), (Gi, Gh))):
        bias = "b" if "b" in cell else "bias"
        pairs += [(cell["Wi"], Wi, gcell["Wi"]), (cell["Wh"], Wh, gcell["Wh"]),
                  (cell[bias], np.zeros(Wi.shape[0], F32), gcell[bias])]
    for got, old, grad in pairs:
        assert np.abs(grad).max() > 0
        assert_same(got, old - F32(0.1) * grad, rtol=1e-6, atol=1e-7)
    assert set(state[0]["layers"][1]) == {"diag"} and set(state[0]["layers"][1]["diag"]) == {"scale", "bias", "σ"}
    assert set(state[0]["layers"][0]) == {"weight"}                    # Embedding: its weight only
    assert state[0]["layers"][4] == () and state[1]["σ"] == ()


def test_any_struct_or_named_tuple_is_a_model(rng):
    """As Functors.jl (0.5+) sees every struct: a program's own layer (with or without `Flux.@layer`)
    and a named tuple of parameters are set up, differentiated and updated field by field; number
    fields stay as they are (Optimisers updates arrays); f32 converts the float arrays inside."""
    x, W, V, A, c = randn(rng, 3, 5), randn(rng, 4, 3), randn(rng, 2, 4), randn(rng, 2, 3), randn(rng, 2)
    src = """
    struct Block{D,E}
        d::D
        e::E
        scale::Float32
    end
    Flux.@layer Block
    (b::Block)(x) = b.e(relu.(b.d(x))) .* b.scale
    function main(x, W, V, A, c)
        model = (Block(Dense(W, false), Dense(V, false), 2.0f0), (A = A, c = c))
        state = Optimisers.setup(Descent(0.1f0), model)
        loss(m) = sum(abs2, m[1](x) .+ m[2].A * x .+ m[2].c)
        g = gradient(loss, model)[1]
        state, model = Optimisers.update(state, model, g)
        return (model, g, f64(model[2]))
    end
    """
    new, g, m64 = function(src, "main")(x, W, V, A, c)

    def loss(p):
        Wj, Vj, Aj, cj = p
        return jnp.sum((2 * (Vj @ jax.nn.relu(Wj @ x)) + Aj @ x + cj[:, None]) ** 2)
    want = jax.grad(loss)((W, V, A, c))
    got_grads = (g[0]["d"]["W"], g[0]["e"]["W"], g[1]["A"], g[1]["c"])
    for got, w in zip(got_grads, want):
        assert_same(got, np.asarray(w), rtol=1e-5, atol=1e-5)
    assert_same(g[0]["scale"], np.float32(np.sum(2 * (2 * (V @ np.maximum(W @ x, 0)) + A @ x + c[:, None])
                                                 * (V @ np.maximum(W @ x, 0)))), rtol=1e-4)
    updated = (new[0]["d"]["W"], new[0]["e"]["W"], new[1]["A"], new[1]["c"])
    for got, old, w in zip(updated, (W, V, A, c), want):
        assert_same(got, old - F32(0.1) * np.asarray(w), rtol=1e-5, atol=1e-5)
    assert_same(new[0]["scale"], np.float32(2.0))
    assert_same(m64, {"A": new[1]["A"].astype(np.float64), "c": new[1]["c"].astype(np.float64)}, rtol=0, atol=0)


@pytest.mark.parametrize("src,message", [
    ("main(x) = Optimisers.setup(Adam(), (W=x, b=x))", "holds one array in two places"),
    ("main(x) = (W = reshape(x, 1, 2); Optimisers.setup(Adam(), Chain(Dense(W, false), x -> x, Dense(W, false))))",
     "holds one array in two places"),
    ("main(x) = (s = Optimisers.setup(Adam(), x); Optimisers.update!(s, x, x))", "update! .* is not supported"),
    ("main(x) = (m = Dense(2 => 1); Flux.train!((m, a) -> sum(m(a)), m, ((x,),), Flux.setup(Adam(), m)))",
     r"Flux.train! updates the model in place, .* write its loop: `for \(x, y\) in data"),
])
def test_what_cannot_be_traversed_is_refused(src, message):
    with pytest.raises(JuliaError, match=message):
        function(src, "main")(np.ones(2, F32))


# ------------------------------------------------------------------------- training loops vs JAX
def test_train_flux_mlp_example_matches_jax_step_for_step(rng):
    W1, b1, W2, b2, x, labels = train_models.mlp_problem(rng)
    steps = 30
    prog = jlhlo.load(os.path.join(ROOT, "examples", "train_flux_mlp.jl"))
    losses, model = prog.function("train")(W1, b1, W2, b2, x, labels, steps)
    want_losses, ((W1j, b1j), (W2j, b2j)) = train_models.jax_mlp_train(W1, b1, W2, b2, x, labels, steps)
    assert losses[-1] < 0.5 * losses[0]
    assert_same(losses, want_losses, rtol=1e-4, atol=1e-6)
    layers = model["layers"]
    for got, want in ((layers[0]["W"], W1j), (layers[0]["b"], b1j), (layers[1]["W"], W2j), (layers[1]["b"], b2j)):
        assert_same(got, np.asarray(want), rtol=1e-4, atol=1e-5)


def test_train_flux_mlp_example_cli():
    r = cli(os.path.join(ROOT, "examples", "train_flux_mlp.jl"), "--run")
    assert r.status == 0, r
    first, last, acc = (float(v.rstrip("f0")) for v in r.out.strip().strip("()").split(", "))
    assert last < 0.25 * first and acc > 0.9


# (the example's problem, its program with a `train_from` entry, the same training in JAX, the trained
# parameters of the model `train` returns), all in bench/train_models.py
EXAMPLES_VS_JAX = {
    # Flux's Conv/MaxPool/Dense, withgradient over the Chain itself, Adam
    "lenet": (lambda rng: train_models.lenet_problem(rng, batch=8), "lenet_program", "jax_lenet_train",
              "lenet_params"),
    # Flux's LSTM layer (the cell in a loop over the time steps), a Dense on the 3-d output
    "char_lstm": (lambda rng: train_models.char_lstm_problem(rng, batch=4), "char_lstm_program",
                  "jax_char_lstm_train", "char_lstm_params"),
    # Embedding, an encoder block of the program's own (a struct with MultiHeadAttention, LayerNorm and a
    # feed-forward Chain, trained field by field), a Dense on the 3-d output
    "transformer": (lambda rng: train_models.transformer_problem(rng, batch=4), "transformer_program",
                    "jax_transformer_train", "transformer_params"),
}


@pytest.mark.parametrize("example", sorted(EXAMPLES_VS_JAX))
def test_training_example_matches_jax_step_for_step(example, rng):
    """examples/train_<example>.jl's `train` on given weights, 4 steps, against the same network and
    Optimisers' Adam in JAX: every loss and every trained parameter."""
    problem, program, jax_train, params_of = EXAMPLES_VS_JAX[example]
    args = problem(rng)
    steps = 4
    losses, model = getattr(train_models, program)().function("train_from")(*args, steps)
    want_losses, want = getattr(train_models, jax_train)(*args, steps)
    assert losses[-1] < losses[0]
    assert_same(losses, np.asarray(want_losses), rtol=1e-4, atol=1e-6)
    for got, w in zip(getattr(train_models, params_of)(model), want):
        assert_same(got, np.asarray(w), rtol=1e-4, atol=1e-5)


def test_train_resnet_example_with_batchnorm_matches_jax_step_for_step(rng):
    """examples/train_resnet.jl's `train`: residual blocks with BatchNorm, which inside withgradient
    normalises with each batch's statistics and updates its running statistics (carried through the
    training loop), against the same network and Adam in JAX: losses, parameters and statistics."""
    params, stats, x, labels = train_models.resnet_problem(rng, batch=8)
    steps = 4
    losses, model = train_models.resnet_program().function("train_from")(params, stats, x, labels, steps)
    want_losses, want, want_stats = train_models.jax_resnet_train(params, stats, x, labels, steps)
    assert losses[-1] < losses[0]
    assert_same(losses, np.asarray(want_losses), rtol=1e-4, atol=1e-6)
    got, got_stats = train_models.resnet_params(model)
    for g, w in zip(got + got_stats, list(want) + list(want_stats)):
        assert_same(g, np.asarray(w), rtol=1e-4, atol=1e-5)


# one through the command line (the API tests above train every example step for step)
@pytest.mark.parametrize("example, drop, accuracy", [("train_lenet.jl", 0.1, 0.9)])
def test_training_examples_cli(example, drop, accuracy):
    """main(): synthetic data, a model from Flux's constructors with random weights, trained; the
    accuracy of the trained model (the ResNet's BatchNorm then uses the running statistics)."""
    r = cli(os.path.join(ROOT, "examples", example), "--run")
    assert r.status == 0, r
    first, last, acc = (float(v.replace("f", "e")) for v in r.out.strip().strip("()").split(", "))   # 2.3f0
    assert last < drop * first and acc > accuracy


def test_training_a_conv_net_with_adamw_and_a_chain_rule(rng):
    """A conv net (Conv, pooling, flatten, Dense) with OptimiserChain(ClipGrad, AdamW), four steps in one
    executable, differentiating and updating the Chain itself (the Conv layer's integer padding stays a
    compile-time constant through the loop), against the same steps in JAX."""
    x = randn(rng, 6, 6, 1, 4)
    k, c = randn(rng, 3, 3, 1, 2) * 0.5, np.zeros(2, F32)
    W, b = randn(rng, 3, 8) * 0.3, np.zeros(3, F32)
    y = np.eye(3, dtype=F32)[:, rng.integers(0, 3, 4)]
    src = """
    function main(k, c, W, b, x, y)
        model = Chain(Conv(k, c, relu; pad=1), MaxPool((3, 3)), Flux.flatten, Dense(W, b))
        state = Optimisers.setup(OptimiserChain(ClipGrad(1.0), AdamW(0.01, (0.9, 0.999), 0.1)), model)
        losses = zeros(Float32, 4)
        for step in 1:4
            loss, grads = withgradient(m -> Flux.logitcrossentropy(m(x), y), model)
            state, model = Optimisers.update(state, model, grads[1])
            losses[step] = loss
        end
        return (losses, model.layers[1].W, model.layers[4].W)
    end
    """
    losses, k_new, W_new = function(src, "main")(k, c, W, b, x, y)

    def forward(p):
        (kk, cc), (WW, bb) = p
        h = jax.lax.conv_general_dilated(jnp.transpose(x, (3, 2, 1, 0)), jnp.transpose(kk[::-1, ::-1], (3, 2, 1, 0)),
                                         (1, 1), [(1, 1), (1, 1)], precision=jax.lax.Precision.HIGHEST)
        h = jax.nn.relu(h + cc[None, :, None, None])                    # (N, C, H, W)
        h = jax.lax.reduce_window(h, -jnp.inf, jax.lax.max, (1, 1, 3, 3), (1, 1, 3, 3), "VALID")
        h = jnp.transpose(h, (3, 2, 1, 0)).reshape(-1, 4, order="F")  # Julia's flatten of (W, H, C, N)
        return WW @ h + bb[:, None]
    loss = lambda z: jnp.mean(-(y * jax.nn.log_softmax(z, axis=0)).sum(axis=0))
    params = ((k, c), (W, b))
    m = jax.tree.map(jnp.zeros_like, params)
    v = jax.tree.map(jnp.zeros_like, params)
    bt = (0.9, 0.999)
    want = []
    for _ in range(4):
        val, g = jax.value_and_grad(lambda p: loss(forward(p)))(params)
        want.append(val)
        g = jax.tree.map(lambda g: jnp.clip(g, -1, 1), g)
        m = jax.tree.map(lambda m, g: 0.9 * m + 0.1 * g, m, g)
        v = jax.tree.map(lambda v, g: 0.999 * v + 0.001 * g * g, v, g)
        params = jax.tree.map(lambda p, m, v: p - 0.01 * (m / (1 - bt[0]) / (jnp.sqrt(v / (1 - bt[1])) + 1e-8)
                                                          + 0.1 * p), params, m, v)
        bt = (bt[0] * 0.9, bt[1] * 0.999)
    assert_same(losses, np.asarray(want, F32), rtol=1e-4, atol=1e-6)
    assert_same(k_new, np.asarray(params[0][0]), rtol=1e-4, atol=1e-5)
    assert_same(W_new, np.asarray(params[1][0]), rtol=1e-4, atol=1e-5)
