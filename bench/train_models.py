"""Whole training loops in one executable: the Flux-style MLP classifier of examples/train_flux_mlp.jl,
the LeNet-5 of examples/train_lenet.jl, the ResNet with BatchNorm of examples/train_resnet.jl, the
character-level LSTM of examples/train_char_lstm.jl and the Transformer encoder block of
examples/train_transformer.jl (`train`: a Chain, logitcrossentropy,
withgradient, Adam through Optimisers.update, for `steps` steps) against jax.jit of the same loop
written in JAX (lax.scan over the steps, Optimisers.jl's Adam by hand), same initial weights and
data, same process and device.

Both take device-resident inputs and return the loss of every step and the trained weights; each time
is the median of ≥ 5 runs after warm-up, the two alternating. Prints the time per loop and per step,
the ratio jlhlo/jax, the transpile (lower → optimized StableHLO), XLA and jax.jit compile times, and
the largest relative difference of the losses and of the trained weights.

    python bench/train_models.py                        # CPU, both models, 100 steps
    python bench/train_models.py --model mlp --batch 1024 --hidden 256 --steps 200
    python bench/train_models.py --device gpu
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE = os.path.join(ROOT, "examples", "train_flux_mlp.jl")


def _load(name: str, path: str):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def mlp_problem(rng: np.random.Generator, n_in: int = 4, hidden: int = 16, classes: int = 3, batch: int = 32):
    """He-initialised weights (Julia's (out, in) layout), inputs (n_in, batch) and 1-based labels: the
    class is the largest of the first `classes` inputs."""
    W1 = (rng.standard_normal((hidden, n_in)) * np.sqrt(2 / n_in)).astype(np.float32)
    W2 = (rng.standard_normal((classes, hidden)) * np.sqrt(1 / hidden)).astype(np.float32)
    b1, b2 = np.zeros(hidden, np.float32), np.zeros(classes, np.float32)
    x = rng.standard_normal((n_in, batch)).astype(np.float32)
    labels = (np.argmax(x[:classes], axis=0) + 1).astype(np.int64)
    return W1, b1, W2, b2, x, labels


def jax_adam_train(loss, params, steps: int, eta, beta=(0.9, 0.999), eps=1e-8, state=None):
    """`steps` steps of Optimisers.jl's Adam on `loss` over the parameter tree `params`, one lax.scan:
    (the loss of every step before its update, the trained parameters). βt starts at β and is
    multiplied by β after each step, as in Optimisers.jl. With `state` (BatchNorm's running
    statistics), `loss(p, state)` returns (loss, new state) and the result gains the final state."""
    import jax
    import jax.numpy as jnp
    b1_, b2_ = beta

    def step(carry, _):
        p, m, v, bt, s = carry
        if state is None:
            val, g = jax.value_and_grad(loss)(p)
        else:
            (val, s), g = jax.value_and_grad(loss, has_aux=True)(p, s)
        m = jax.tree.map(lambda m, g: b1_ * m + (1 - b1_) * g, m, g)
        v = jax.tree.map(lambda v, g: b2_ * v + (1 - b2_) * g * g, v, g)
        p = jax.tree.map(lambda p, m, v: p - m / (1 - bt[0]) / (jnp.sqrt(v / (1 - bt[1])) + eps) * eta, p, m, v)
        return (p, m, v, (bt[0] * b1_, bt[1] * b2_), s), val

    zeros = jax.tree.map(jnp.zeros_like, params)
    bt = (jnp.float32(b1_), jnp.float32(b2_))
    (params, _, _, _, state_out), losses = jax.lax.scan(step, (params, zeros, zeros, bt, state), None, length=steps)
    return (losses, params) if state is None else (losses, params, state_out)


def _logitcrossentropy(z, y):
    import jax
    import jax.numpy as jnp
    return jnp.mean(-(y * jax.nn.log_softmax(z, axis=0)).sum(axis=0))


def jax_mlp_train(W1, b1, W2, b2, x, labels, steps: int, eta=1e-2):
    """examples/train_flux_mlp.jl's `train` in JAX: (losses, ((W1, b1), (W2, b2)))."""
    import jax
    import jax.numpy as jnp
    y = jax.nn.one_hot(labels - 1, W2.shape[0], dtype=jnp.float32, axis=0)   # f32 also under jax_enable_x64

    def loss(p):
        (W1, b1), (W2, b2) = p
        return _logitcrossentropy(W2 @ jax.nn.relu(W1 @ x + b1[:, None]) + b2[:, None], y)
    return jax_adam_train(loss, ((W1, b1), (W2, b2)), steps, eta)


LENET_SHAPES = [(5, 5, 1, 6), (6,), (5, 5, 6, 16), (16,), (120, 256), (120,), (84, 120), (84,), (10, 84), (10,)]


def lenet_problem(rng: np.random.Generator, batch: int = 8):
    """He-initialised LeNet weights (Flux's layouts: (k, k, in, out) kernels, (out, in) matrices), zero
    biases, 28×28×1×batch images and digit labels 0:9."""
    params = tuple((rng.standard_normal(s) * np.sqrt(2 / np.prod(s[:-1] if len(s) == 4 else s[1:]))).astype(np.float32)
                   if len(s) > 1 else np.zeros(s, np.float32) for s in LENET_SHAPES)
    x = rng.standard_normal((28, 28, 1, batch)).astype(np.float32)
    return params, x, rng.integers(0, 10, batch)


def jax_lenet(p, x):
    """examples/train_lenet.jl's `lenet()` in JAX, in Julia's (W, H, C, N) layout: Flux's Conv is a true
    convolution (the kernel flipped), Flux.flatten stacks W, H, C (column-major)."""
    import jax
    import jax.numpy as jnp

    def conv_relu_pool(h, k, c):
        h = jax.lax.conv_general_dilated(jnp.transpose(h, (3, 2, 1, 0)), jnp.transpose(k[::-1, ::-1], (3, 2, 1, 0)),
                                         (1, 1), "VALID", precision=jax.lax.Precision.HIGHEST)
        h = jnp.transpose(jax.nn.relu(h + c[None, :, None, None]), (3, 2, 1, 0))
        return jax.lax.reduce_window(h, -jnp.inf, jax.lax.max, (2, 2, 1, 1), (2, 2, 1, 1), "VALID")
    h = conv_relu_pool(conv_relu_pool(x, p[0], p[1]), p[2], p[3])
    h = jnp.transpose(h, (3, 2, 1, 0)).reshape(x.shape[3], -1).T
    h = jax.nn.relu(p[4] @ h + p[5][:, None])
    h = jax.nn.relu(p[6] @ h + p[7][:, None])
    return p[8] @ h + p[9][:, None]


def jax_lenet_train(params, x, labels, steps: int, eta=3e-3):
    """examples/train_lenet.jl's `train` in JAX: (losses, trained parameters)."""
    import jax
    import jax.numpy as jnp
    y = jax.nn.one_hot(labels, 10, dtype=jnp.float32, axis=0)
    return jax_adam_train(lambda p: _logitcrossentropy(jax_lenet(p, x), y), params, steps, eta)


# the test's and the benchmark's entry: examples/train_lenet.jl's `train` on given weights
LENET_FROM_WEIGHTS = """
lenet(p) = Chain(Conv(p[1], p[2], relu), MaxPool((2, 2)), Conv(p[3], p[4], relu), MaxPool((2, 2)),
                 Flux.flatten, Dense(p[5], p[6], relu), Dense(p[7], p[8], relu), Dense(p[9], p[10]))
train_from(p, x, labels, steps) = train(lenet(p), x, labels, steps)
"""


def lenet_program():
    import jlhlo
    with open(os.path.join(ROOT, "examples", "train_lenet.jl")) as f:
        return jlhlo.load(f.read() + LENET_FROM_WEIGHTS, filename="train_lenet.jl")


def lenet_params(model) -> list:
    """The trained parameters in LENET_SHAPES order, from the model `train` returns."""
    L = model["layers"]
    return [L[i][k] for i in (0, 2, 5, 6, 7) for k in ("W", "b")]


def rel_diff(a, b) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-30))


# examples/train_resnet.jl's resnet(4) on 16×16×1 images: per Conv (no bias) its kernel, then its BatchNorm's (β, γ)
RESNET_CONVS = [(1, 8), (8, 8), (8, 8), (8, 8), (8, 8)]


def resnet_problem(rng: np.random.Generator, batch: int = 8, classes: int = 4):
    """He-initialised kernels, BatchNorm β = 0, γ = 1 (as Flux's), running statistics (0, 1), a
    (classes, 8) Dense; images 16×16×1×batch and labels 1:classes. Parameters in the order of
    RESNET_FROM_WEIGHTS: per Conv its kernel and its BatchNorm's (β, γ), then the Dense (W, b)."""
    params = []
    for cin, cout in RESNET_CONVS:
        params += [(rng.standard_normal((3, 3, cin, cout)) * np.sqrt(2 / (9 * cin))).astype(np.float32),
                   np.zeros(cout, np.float32), np.ones(cout, np.float32)]
    params += [(rng.standard_normal((classes, 8)) * np.sqrt(1 / 8)).astype(np.float32), np.zeros(classes, np.float32)]
    stats = tuple(a for _ in RESNET_CONVS for a in (np.zeros(8, np.float32), np.ones(8, np.float32)))
    x = rng.standard_normal((16, 16, 1, batch)).astype(np.float32)
    return tuple(params), stats, x, rng.integers(1, classes + 1, batch)


def jax_resnet(p, stats, x):
    """resnet(4) in training mode in JAX, (W, H, C, N) layout: (logits, updated running statistics).
    BatchNorm as Flux's: batch mean and biased variance over W, H, N; running statistics updated with
    momentum 0.1 and the unbiased variance."""
    import jax
    import jax.numpy as jnp
    new_stats = []

    def conv_bn(h, i, act):
        W, beta, gamma = p[3 * i: 3 * i + 3]
        h = jax.lax.conv_general_dilated(jnp.transpose(h, (3, 2, 1, 0)), jnp.transpose(W[::-1, ::-1], (3, 2, 1, 0)),
                                         (1, 1), [(1, 1), (1, 1)], precision=jax.lax.Precision.HIGHEST)
        h = jnp.transpose(h, (3, 2, 1, 0))
        mu, var = h.mean((0, 1, 3)), h.var((0, 1, 3))
        m = h.size // h.shape[2]
        new_stats.extend([0.9 * stats[2 * i] + 0.1 * jax.lax.stop_gradient(mu),
                          0.9 * stats[2 * i + 1] + 0.1 * (m / (m - 1)) * jax.lax.stop_gradient(var)])
        scale = gamma / jnp.sqrt(var + 1e-5)
        h = scale[None, None, :, None] * h + (beta - scale * mu)[None, None, :, None]
        return jax.nn.relu(h) if act else h

    def block(h, i):
        return jax.nn.relu(conv_bn(conv_bn(h, i, True), i + 1, False) + h)
    h = block(conv_bn(x, 0, True), 1)
    h = jax.lax.reduce_window(h, -jnp.inf, jax.lax.max, (2, 2, 1, 1), (2, 2, 1, 1), "VALID")
    h = block(h, 3).mean((0, 1))                                         # GlobalMeanPool + flatten: (8, N)
    return p[15] @ h + p[16][:, None], tuple(new_stats)


def jax_resnet_train(params, stats, x, labels, steps: int, eta=1e-2):
    """examples/train_resnet.jl's `train` in JAX: (losses, trained parameters, running statistics)."""
    import jax
    import jax.numpy as jnp
    y = jax.nn.one_hot(labels - 1, params[-1].shape[0], dtype=jnp.float32, axis=0)

    def loss(p, s):
        z, s = jax_resnet(p, s, x)
        return _logitcrossentropy(z, y), s
    return jax_adam_train(loss, params, steps, eta, state=stats)


RESNET_FROM_WEIGHTS = """
conv_bn(p, s, i, σ) = (Conv(p[3i-2], false; pad=1), BatchNorm(p[3i-1], p[3i], s[2i-1], s[2i], σ))
block(p, s, i) = SkipConnection(Chain(conv_bn(p, s, i, relu)..., conv_bn(p, s, i + 1, identity)...), +)
resnet(p, s) = Chain(conv_bn(p, s, 1, relu)..., block(p, s, 2), x -> relu.(x), MaxPool((2, 2)),
                     block(p, s, 4), x -> relu.(x), GlobalMeanPool(), Flux.flatten, Dense(p[16], p[17]))
train_from(p, s, x, labels, steps) = train(resnet(p, s), x, labels, steps)
"""


def resnet_program():
    import jlhlo
    with open(os.path.join(ROOT, "examples", "train_resnet.jl")) as f:
        return jlhlo.load(f.read() + RESNET_FROM_WEIGHTS, filename="train_resnet.jl")


def resnet_params(model) -> tuple[list, list]:
    """(the trained parameters in resnet_problem's order, the running statistics) of `train`'s model."""
    L = model["layers"]
    pairs = [(L[0], L[1])]
    for block in (L[2], L[5]):
        inner = block["layers"]["layers"]
        pairs += [(inner[0], inner[1]), (inner[2], inner[3])]
    params = [a for conv, bn in pairs for a in (conv["W"], bn["β"], bn["γ"])] + [L[9]["W"], L[9]["b"]]
    return params, [a for _, bn in pairs for a in (bn["μ"], bn["σ²"])]


def char_lstm_problem(rng: np.random.Generator, batch: int = 8, alphabet: int = 7, hidden: int = 32, len_: int = 12):
    """Glorot-uniform LSTM and Dense weights (Flux's layouts: gates input, forget, cell, output stacked
    in the rows), zero biases; one-hot inputs (alphabet, len, batch) and next-character targets of
    examples/train_char_lstm.jl's fibonacci_text."""
    def glorot(out, inp):
        return ((rng.random((out, inp)) - 0.5) * np.sqrt(24 / (out + inp))).astype(np.float32)
    params = (glorot(4 * hidden, alphabet), glorot(4 * hidden, hidden), np.zeros(4 * hidden, np.float32),
              glorot(alphabet, hidden), np.zeros(alphabet, np.float32))
    text = np.zeros((len_ + 1, batch), np.int64)
    text[:2] = rng.integers(1, alphabet + 1, (2, batch))
    for k in range(2, len_ + 1):
        text[k] = (text[k - 1] + text[k - 2]) % alphabet + 1
    onehot = np.eye(alphabet, dtype=bool)[:, text - 1]                  # (alphabet, len + 1, batch)
    return params, onehot[:, :-1].astype(np.float32), onehot[:, 1:]


def jax_char_lstm(p, x):
    """Chain(LSTM(alphabet => hidden), Dense(hidden => alphabet)) in JAX on (alphabet, len, batch)."""
    import jax
    import jax.numpy as jnp
    Wi, Wh, b, W, c = p
    k = Wh.shape[1]
    h = cell = jnp.zeros((k, x.shape[2]), jnp.float32)       # Flux's zero vectors, broadcast over the batch
    hs = []
    for t in range(x.shape[1]):
        g = Wi @ x[:, t] + Wh @ h + b[:, None]
        cell = jax.nn.sigmoid(g[k:2 * k]) * cell + jax.nn.sigmoid(g[:k]) * jnp.tanh(g[2 * k:3 * k])
        h = jax.nn.sigmoid(g[3 * k:]) * jnp.tanh(cell)
        hs.append(h)
    return jnp.einsum("oh,hlb->olb", W, jnp.stack(hs, axis=1)) + c[:, None, None]


def jax_char_lstm_train(params, x, y, steps: int, eta=1e-2):
    """examples/train_char_lstm.jl's `train` in JAX: (losses, trained parameters)."""
    return jax_adam_train(lambda p: _logitcrossentropy(jax_char_lstm(p, x), y), params, steps, eta)


CHAR_LSTM_FROM_WEIGHTS = """
train_from(p, x, y, steps) = train(Chain(LSTM(LSTMCell(p[1], p[2], p[3])), Dense(p[4], p[5])), x, y, steps)
"""


def char_lstm_program():
    import jlhlo
    with open(os.path.join(ROOT, "examples", "train_char_lstm.jl")) as f:
        return jlhlo.load(f.read() + CHAR_LSTM_FROM_WEIGHTS, filename="train_char_lstm.jl")


def char_lstm_params(model) -> list:
    L = model["layers"]
    cell = L[0]["cell"]
    return [cell["Wi"], cell["Wh"], cell["bias"], L[1]["W"], L[1]["b"]]


def transformer_problem(rng: np.random.Generator, batch: int = 8, vocab: int = 4, d: int = 16, hidden: int = 32,
                        len_: int = 9):
    """Weights of examples/train_transformer.jl's transformer(vocab, d, 2, hidden) in the order of
    TRANSFORMER_FROM_WEIGHTS (embedding; q, k, v, out projections; LayerNorm scale and bias; the
    feed-forward Dense pair; LayerNorm; the output Dense), and the majority task's tokens/targets."""
    def glorot(out, inp):
        return ((rng.random((out, inp)) - 0.5) * np.sqrt(24 / (out + inp))).astype(np.float32)
    ones, zeros = (lambda n: np.ones(n, np.float32)), (lambda n: np.zeros(n, np.float32))
    params = (rng.standard_normal((d, vocab)).astype(np.float32), glorot(d, d), glorot(d, d), glorot(d, d),
              glorot(d, d), ones(d), zeros(d), glorot(hidden, d), zeros(hidden), glorot(d, hidden), zeros(d),
              ones(d), zeros(d), glorot(vocab, d), zeros(vocab))
    tokens = rng.integers(1, vocab + 1, (len_, batch))
    counts = (tokens[None, :, :] == np.arange(1, vocab + 1)[:, None, None]).sum(axis=1)      # (vocab, batch)
    targets = np.repeat((np.argmax(counts, axis=0) + 1)[None, :], len_, axis=0)
    return params, tokens, targets


def jax_transformer(p, tokens, nheads: int = 2):
    """transformer(vocab, d, 2, hidden) in JAX, arrays in Julia's dimension order (reshapes column-major)."""
    import jax
    import jax.numpy as jnp
    E, Wq, Wk, Wv, Wo, s1, c1, W1, b1, W2, b2, s2, c2, Wout, bout = p

    def dense(W, x, b=None):
        y = jnp.einsum("od,dlb->olb", W, x)
        return y if b is None else y + b[:, None, None]

    def layernorm(x, s, c):
        mu, var = x.mean(0, keepdims=True), x.var(0, keepdims=True)
        return (x - mu) / jnp.sqrt(var + 1e-5) * s[:, None, None] + c[:, None, None]

    def heads(z):
        return z.reshape(z.shape[0] // nheads, nheads, *z.shape[1:], order="F")
    x = E[:, tokens - 1]                                                     # (d, len, batch)
    q, k, v = heads(dense(Wq, x)), heads(dense(Wk, x)), heads(dense(Wv, x))
    logits = jnp.einsum("dhib,dhjb->jihb", q / jnp.sqrt(jnp.float32(q.shape[0])), k)
    alpha = jax.nn.softmax(logits, axis=0)
    att = jnp.einsum("jihb,dhjb->dhib", alpha, v)
    att = att.reshape(-1, *att.shape[2:], order="F")
    h = layernorm(x + dense(Wo, att), s1, c1)
    h = layernorm(h + dense(W2, jax.nn.gelu(dense(W1, h, b1), approximate=True), b2), s2, c2)
    return dense(Wout, h, bout)


def jax_transformer_train(params, tokens, targets, steps: int, eta=3e-3):
    """examples/train_transformer.jl's `train` in JAX: (losses, trained parameters)."""
    import jax
    import jax.numpy as jnp
    y = jax.nn.one_hot(targets - 1, params[-1].shape[0], dtype=jnp.float32, axis=0)
    return jax_adam_train(lambda p: _logitcrossentropy(jax_transformer(p, tokens), y), params, steps, eta)


TRANSFORMER_FROM_WEIGHTS = """
function transformer_from(p)
    attention = MultiHeadAttention(2, Dense(p[2], false), Dense(p[3], false), Dense(p[4], false), identity,
                                   Dense(p[5], false))
    norm(s, c) = LayerNorm(identity, Scale(s, c), 1.0f-5, (length(s),), true)
    block = EncoderBlock(attention, norm(p[6], p[7]), Chain(Dense(p[8], p[9], gelu), Dense(p[10], p[11])),
                         norm(p[12], p[13]))
    return Chain(Embedding(p[1]), block, Dense(p[14], p[15]))
end
train_from(p, tokens, targets, steps) = train(transformer_from(p), tokens, targets, steps)
"""


def transformer_program():
    import jlhlo
    with open(os.path.join(ROOT, "examples", "train_transformer.jl")) as f:
        return jlhlo.load(f.read() + TRANSFORMER_FROM_WEIGHTS, filename="train_transformer.jl")


def transformer_params(model) -> list:
    L = model["layers"]
    blk = L[1]
    att, ffn = blk["attention"], blk["ffn"]["layers"]
    return [L[0]["weight"], *(att[k]["W"] for k in ("q_proj", "k_proj", "v_proj", "out_proj")),
            blk["norm1"]["diag"]["scale"], blk["norm1"]["diag"]["bias"], ffn[0]["W"], ffn[0]["b"], ffn[1]["W"],
            ffn[1]["b"], blk["norm2"]["diag"]["scale"], blk["norm2"]["diag"]["bias"], L[2]["W"], L[2]["b"]]


def _cases(model: str, rng: np.random.Generator, batch: int, hidden: int):
    """(title, jlhlo function, its arguments but `steps`, the JAX training loop, the jlhlo model's trained
    parameters as a list, the JAX result's)."""
    import jax

    import jlhlo
    if model == "mlp":
        args = mlp_problem(rng, n_in=16, hidden=hidden, classes=10, batch=batch)
        return (f"MLP 16 → {hidden} → 10 (relu), batch {batch}", jlhlo.load(EXAMPLE).function("train"), args,
                jax_mlp_train,
                lambda m: [m["layers"][0]["W"], m["layers"][0]["b"], m["layers"][1]["W"], m["layers"][1]["b"]],
                lambda p: jax.tree.leaves(p))
    if model == "char_lstm":
        params, x, y = char_lstm_problem(rng, batch)
        return (f"char LSTM 7 → 32, len 12, batch {batch}", char_lstm_program().function("train_from"),
                (params, x, y), jax_char_lstm_train, char_lstm_params, list)
    if model == "transformer":
        params, tokens, targets = transformer_problem(rng, batch)
        return (f"Transformer block d16 h2, len 9, batch {batch}", transformer_program().function("train_from"),
                (params, tokens, targets), jax_transformer_train, transformer_params, list)
    if model == "lenet":
        params, x, labels = lenet_problem(rng, batch)
        return (f"LeNet-5 28×28×1, batch {batch}", lenet_program().function("train_from"), (params, x, labels),
                jax_lenet_train, lenet_params, list)
    params, stats, x, labels = resnet_problem(rng, batch)
    return (f"ResNet+BatchNorm 16×16×1, batch {batch}", resnet_program().function("train_from"),
            (params, stats, x, labels), jax_resnet_train, lambda m: sum(resnet_params(m), []),
            lambda r: list(r[0]) + list(r[1]))


def bench(model: str, platform: str, batch: int, hidden: int, steps: int, runs: int, warmup: int, seed: int) -> dict:
    import jax
    _median_times = _load("bench_vgg19", os.path.join(ROOT, "bench", "vgg19.py"))._median_times

    title, f, args, jax_train, ours_of, theirs_of = _cases(model, np.random.default_rng(seed), batch, hidden)
    device = jax.devices(platform)[0]
    t = time.perf_counter()
    lowered = f.lower(*args, steps)
    t_transpile = time.perf_counter() - t
    t = time.perf_counter()
    exe = lowered.compile(platform)
    t_xla = time.perf_counter() - t
    inputs = [jax.device_put(a, device) for a in lowered.host_inputs(args + (steps,))]

    def run_jlhlo():
        return jax.block_until_ready(exe.call_device(*inputs))

    jargs = jax.device_put(args, device)
    jitted = jax.jit(jax_train, static_argnums=len(args))
    t = time.perf_counter()
    compiled = jitted.lower(*jargs, steps).compile()
    t_jax_compile = time.perf_counter() - t

    def run_jax():
        return jax.block_until_ready(compiled(*jargs))

    losses, trained = lowered.outputs([np.asarray(a) for a in run_jlhlo()])
    jlosses, *jtrained = run_jax()
    jtrained = jtrained[0] if len(jtrained) == 1 else jtrained
    t_ours, t_jax = _median_times([run_jlhlo, run_jax], runs, warmup)
    return {"title": title, "ours": t_ours, "jax": t_jax, "ratio": t_ours / t_jax, "transpile": t_transpile,
            "xla": t_xla, "jax_compile": t_jax_compile, "loss_rel": rel_diff(losses, jlosses),
            "param_rel": max(rel_diff(a, b) for a, b in zip(ours_of(trained), theirs_of(jtrained))),
            "first": float(losses[0]), "last": float(losses[-1])}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="whole training loops: jlhlo vs jax.jit")
    p.add_argument("--model", choices=("mlp", "lenet", "resnet", "char_lstm", "transformer", "all"), default="all")
    p.add_argument("--device", choices=("cpu", "gpu"), default="cpu")
    p.add_argument("--batch", type=int, default=None, help="default: 256 for the MLP, 32 for the others")
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    import jax
    try:
        jax.devices(args.device)
    except RuntimeError:
        sys.exit(f"no {args.device} device here: nothing to measure")
    runs = max(args.runs, 5)
    print(f"{args.steps} Adam steps in one executable, f32, {args.device} ({jax.devices(args.device)[0].device_kind}), "
          f"median of {runs} runs after {args.warmup} warm-up")
    print(f"{'model':<34} {'jlhlo ms':>10} {'jax ms':>10} {'ratio':>6} {'µs/step':>8} {'transpile s':>11} "
          f"{'XLA s':>7} {'jax jit s':>9} {'loss rel':>9} {'params rel':>10} {'loss first→last':>16}")
    for model in (("mlp", "lenet", "resnet", "char_lstm", "transformer") if args.model == "all" else (args.model,)):
        batch = args.batch or (256 if model == "mlp" else 32)
        r = bench(model, args.device, batch, args.hidden, args.steps, runs, args.warmup, args.seed)
        print(f"{r['title']:<34} {r['ours'] * 1e3:10.2f} {r['jax'] * 1e3:10.2f} {r['ratio']:6.3f} "
              f"{r['ours'] / args.steps * 1e6:8.1f} {r['transpile']:11.3f} {r['xla']:7.2f} {r['jax_compile']:9.2f} "
              f"{r['loss_rel']:9.1e} {r['param_rel']:10.1e} {r['first']:7.3f}→{r['last']:.3f}", flush=True)


if __name__ == "__main__":
    main()
