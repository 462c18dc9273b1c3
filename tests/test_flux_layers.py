"""NNlib activations, one-hot encoding and the Flux layers of prelude/nnlib.jl and prelude/layers.jl
against jax.nn or NumPy references written from NNlib's and Flux's formulas, on random inputs, with
exact dtypes and shapes; gradients against jax.grad. Arrays are in Julia's dimension order (WHCN)."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import assert_same, function
from jlhlo.frontend.diagnostics import JuliaError

F32, F64 = np.float32, np.float64


def randn(rng, *shape, dtype=F32):
    return rng.standard_normal(shape).astype(dtype)


# ------------------------------------------------------------------------------------- activations
def _sigmoid(x):
    return jax.nn.sigmoid(x)


# name in Julia -> the same function in JAX (NNlib's formulas; tanh_fast and sigmoid_fast are within a
# few ulps of tanh and sigmoid)
ACTIVATIONS = {
    "relu": jax.nn.relu,
    "relu6": jax.nn.relu6,
    "leakyrelu": lambda x: jax.nn.leaky_relu(x, 0.01),
    "elu": jax.nn.elu,
    "celu": jax.nn.celu,
    "selu": jax.nn.selu,
    "σ": _sigmoid,
    "sigmoid": _sigmoid,
    "sigmoid_fast": _sigmoid,
    "hardσ": jax.nn.hard_sigmoid,
    "hardsigmoid": jax.nn.hard_sigmoid,
    "hardtanh": jax.nn.hard_tanh,
    "softplus": jax.nn.softplus,
    "logσ": jax.nn.log_sigmoid,
    "logsigmoid": jax.nn.log_sigmoid,
    "softsign": jax.nn.soft_sign,
    "gelu": lambda x: jax.nn.gelu(x, approximate=True),
    "gelu_sigmoid": lambda x: x * _sigmoid(np.sqrt(8 / np.pi) * x * (1 + 0.044715 * x * x)),
    "swish": jax.nn.silu,
    "hardswish": jax.nn.hard_swish,
    "mish": lambda x: x * jnp.tanh(jax.nn.softplus(x)),
    "lisht": lambda x: x * jnp.tanh(x),
    "tanh_fast": jnp.tanh,
    "tanhshrink": lambda x: x - jnp.tanh(x),
    "softshrink": lambda x: jnp.where(x > 0.5, x - 0.5, jnp.where(x < -0.5, x + 0.5, 0.0)),
    "trelu": lambda x: jnp.where(x > 1, x, 0.0),
    "logcosh": lambda x: jnp.logaddexp(x, -x) - jnp.log(2.0),
}


@pytest.mark.parametrize("dtype", [F32, F64])
def test_activations_against_jax(rng, dtype):
    x = randn(rng, 4, 5, dtype=dtype) * 3
    names = list(ACTIVATIONS)
    out = function(f"main(x) = ({', '.join(f'{n}.(x)' for n in names)},)", "main")(x)
    for name, got in zip(names, out):
        with jax.enable_x64(dtype == F64):
            want = np.asarray(ACTIVATIONS[name](jnp.asarray(x)))
        assert_same(got, want.astype(dtype), rtol=2e-6 if dtype == F32 else 1e-13, atol=1e-6 if dtype == F32 else 1e-13)


def test_activation_arguments_and_arrays(rng):
    x = randn(rng, 6) * 3
    out = function("main(x) = (leakyrelu.(x, 0.2f0), elu.(x, 2), celu.(x, 0.5), trelu.(x, 0.5f0), "
                   "softshrink.(x, 1), relu(x), gelu(x), σ(x), leakyrelu(x, 0.3f0), relu.(round.(Int, x)))",
                   "main")(x)
    xj = jnp.asarray(x)
    for got, want in zip(out[:5], (jax.nn.leaky_relu(xj, 0.2), jax.nn.elu(xj, 2.0), jax.nn.celu(xj, 0.5),
                                   jnp.where(xj > 0.5, xj, 0), jnp.where(xj > 1, xj - 1, jnp.where(xj < -1, xj + 1, 0)))):
        assert_same(got, np.asarray(want, F32), rtol=1e-6, atol=1e-7)
    assert_same(out[5], np.maximum(x, 0), rtol=0, atol=0)
    assert_same(out[6], np.asarray(jax.nn.gelu(xj, approximate=True)), rtol=2e-6, atol=1e-7)
    assert_same(out[7], np.asarray(jax.nn.sigmoid(xj)), rtol=1e-6, atol=1e-7)
    assert_same(out[8], np.asarray(jax.nn.leaky_relu(xj, 0.3)), rtol=1e-6, atol=1e-7)
    assert_same(out[9], np.maximum(np.round(x), 0).astype(np.int64), rtol=0, atol=0)


def test_activation_special_values():
    x = np.array([0.0, -0.0, np.nan, np.inf, -np.inf, 80.0, -80.0], F32)
    relu, sig, sp, lsig = function("main(x) = (relu.(x), σ.(x), softplus.(x), logσ.(x))", "main")(x)
    np.testing.assert_array_equal(relu, [0.0, 0.0, np.nan, np.inf, 0.0, 80.0, 0.0])
    tiny = np.exp(F64(-80))                       # e^-80: still a normal Float32
    np.testing.assert_allclose(sig, [0.5, 0.5, np.nan, 1.0, 0.0, 1.0, tiny], rtol=1e-6)
    np.testing.assert_allclose(sp, [np.log(2), np.log(2), np.nan, np.inf, 0.0, 80.0, tiny], rtol=1e-6)
    np.testing.assert_allclose(lsig, [-np.log(2), -np.log(2), np.nan, 0.0, -np.inf, -tiny, -80.0], rtol=1e-6)


GRADIENT_POINTS = np.array([0.0, 1e-3, -1e-3, 0.5, -2.0, 3.0, 50.0, -50.0, 100.0, -100.0, 7.0], F32)


@pytest.mark.parametrize("name", ["relu", "leakyrelu", "elu", "celu", "selu", "σ", "softplus", "logσ", "gelu",
                                  "swish", "mish", "lisht", "softsign", "tanh_fast", "sigmoid_fast",
                                  "hardtanh", "relu6", "hardσ"])
def test_activation_gradients_against_jax(name):
    """Including the kink at 0, where NNlib's derivative is one side's (jax.nn agrees), and far out,
    where an overflowing arm of a select must not leak NaN into the gradient."""
    x = GRADIENT_POINTS
    got = function(f"main(x) = gradient(v -> sum({name}.(v)), x)[1]", "main")(x)
    want = np.asarray(jax.grad(lambda v: jnp.sum(ACTIVATIONS[name](v)))(jnp.asarray(x)))
    # NNlib's derivatives where jax.nn takes the other side: 0 at the ends of the linear part, a at 0
    ends = {"relu6": [0.0, 6.0], "hardσ": [-3.0, 3.0], "hardtanh": [-1.0, 1.0]}.get(name, [])
    want = np.where(np.isin(x, ends), F32(0), want)
    if name == "leakyrelu":
        want = np.where(x == 0, F32(0.01), want)
    assert_same(got, want, rtol=2e-5, atol=1e-7)


@pytest.mark.parametrize("dims,axis", [("1", 0), ("2", 1), ("(1, 2)", (0, 1))])
def test_softmax_family_gradients_against_jax(rng, dims, axis):
    x, w = randn(rng, 4, 5) * 3, randn(rng, 4, 5)
    src = (f"main(x, w) = (gradient(v -> sum(NNlib.softmax(v; dims={dims}) .* w), x)[1], "
           f"gradient(v -> sum(logsoftmax(v; dims={dims}) .* w), x)[1])")
    got = function(src, "main")(x, w)
    want = (jax.grad(lambda v: jnp.sum(jax.nn.softmax(v, axis=axis) * w))(x),
            jax.grad(lambda v: jnp.sum(jax.nn.log_softmax(v, axis=axis) * w))(x))
    for g, wv in zip(got, want):
        assert_same(g, np.asarray(wv), rtol=1e-4, atol=1e-6)


# ------------------------------------------------------------------------------------- one-hot etc.
def test_onehotbatch_and_onecold(rng):
    labels = rng.integers(0, 10, 12)
    y = randn(rng, 10, 12)
    y[3, 4] = np.nan
    y[:, 7] = 1.0                                  # a tie: the first row wins
    src = """
    main(labels, y, v) = (onehotbatch(labels, 0:9), onecold(y), onecold(y, 0:9), onecold(v), onecold(v, 10:10:50),
                          onehot(3, 1:4), onehotbatch(labels, 0:4, 4), Float32.(onehotbatch(labels, 0:9)))
    """
    v = randn(rng, 5)
    out = function(src, "main")(labels, y, v)
    hot = np.arange(10)[:, None] == labels[None, :]
    assert_same(out[0], hot)
    cold = np.array([3 if j == 4 else (0 if j == 7 else int(np.argmax(y[:, j]))) for j in range(12)])
    assert_same(out[1], cold + 1)
    assert_same(out[2], cold)
    assert_same(out[3], np.int64(np.argmax(v) + 1))
    assert_same(out[4], np.int64(10 * (np.argmax(v) + 1)))
    assert_same(out[5], np.array([False, False, True, False]))
    assert_same(out[6], np.arange(5)[:, None] == np.minimum(labels, 4)[None, :])
    assert_same(out[7], hot.astype(F32))


def test_onehotbatch_value_not_in_labels_is_an_error():
    with pytest.raises(JuliaError, match="ArgumentError: a value of data is not in labels"):
        function("main(l) = onehotbatch(l, 1:3)", "main")(np.array([1, 2, 5]))


def test_batched_transpose_flatten_f32_f64_gpu(rng):
    a, x, W = randn(rng, 3, 4, 2), randn(rng, 2, 3, 4, 5), randn(rng, 3, 2, dtype=F64)
    src = """
    main(a, x, W) = (batched_transpose(a), batched_adjoint(a), batched_mul(batched_transpose(a), a),
                     Flux.flatten(x), MLUtils.flatten(x), f32(W), f64(a), f32(Dense(W, zeros(3))).W,
                     f64(Chain(Dense(Float32.(W)), x -> x)).layers[1].b, gpu(a), cpu(x))
    """
    out = function(src, "main")(a, x, W)
    at = np.transpose(a, (1, 0, 2))
    assert_same(out[0], at, rtol=0, atol=0)
    assert_same(out[1], at, rtol=0, atol=0)
    assert_same(out[2], np.einsum("ijb,jkb->ikb", at, a), rtol=1e-5, atol=1e-6)
    assert_same(out[3], x.reshape(-1, 5, order="F"), rtol=0, atol=0)
    assert_same(out[4], x.reshape(-1, 5, order="F"), rtol=0, atol=0)
    assert_same(out[5], W.astype(F32), rtol=0, atol=0)
    assert_same(out[6], a.astype(F64), rtol=0, atol=0)
    assert_same(out[7], W.astype(F32), rtol=0, atol=0)
    assert_same(out[8], np.zeros(3, F64), rtol=0, atol=0)
    assert_same(out[9], a, rtol=0, atol=0)
    assert_same(out[10], x, rtol=0, atol=0)


# ------------------------------------------------------------------------------------- layers
def test_global_and_adaptive_pooling(rng):
    x = randn(rng, 9, 8, 3, 2)
    out = function("main(x) = (GlobalMeanPool()(x), GlobalMaxPool()(x), AdaptiveMeanPool((3, 2))(x), "
                   "AdaptiveMaxPool((4, 4))(x), GlobalMeanPool()(x[:, 1, :, :]))", "main")(x)
    assert_same(out[0], x.mean(axis=(0, 1), keepdims=True), rtol=1e-5, atol=1e-6)
    assert_same(out[1], x.max(axis=(0, 1), keepdims=True), rtol=0, atol=0)

    def adaptive(x, size, reduce):
        stride = [i // o for i, o in zip(x.shape[:2], size)]
        k = [i - (o - 1) * s for i, o, s in zip(x.shape[:2], size, stride)]
        y = np.empty(tuple(size) + x.shape[2:], F32)
        for i in range(size[0]):
            for j in range(size[1]):
                y[i, j] = reduce(x[i * stride[0]:i * stride[0] + k[0], j * stride[1]:j * stride[1] + k[1]], axis=(0, 1))
        return y
    assert_same(out[2], adaptive(x, (3, 2), np.mean), rtol=1e-5, atol=1e-6)
    assert_same(out[3], adaptive(x, (4, 4), np.max), rtol=0, atol=0)
    assert_same(out[4], x[:, 0].mean(axis=0, keepdims=True), rtol=1e-5, atol=1e-6)


def _layernorm(x, nd, eps=1e-5):
    axes = tuple(range(nd))
    mu = x.mean(axis=axes, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=axes, keepdims=True)
    return (x - mu) / np.sqrt(var + eps)


def test_layernorm_and_scale(rng):
    x = randn(rng, 5, 3, 4) * 2 + 1
    s, b = randn(rng, 5), randn(rng, 5)
    src = """
    main(x, s, b) = (LayerNorm(5)(x), LayerNorm(5, relu)(x), LayerNorm((5, 3); affine=false)(x),
                     LayerNorm(5; eps=1f-2)(x), Scale(s, b, tanh)(x), Scale(5)(x),
                     normalise(x; dims=(1, 2)))
    """
    out = function(src, "main")(x, s, b)
    x64 = x.astype(F64)
    assert_same(out[0], _layernorm(x64, 1).astype(F32), rtol=1e-5, atol=1e-5)
    assert_same(out[1], np.maximum(_layernorm(x64, 1), 0).astype(F32), rtol=1e-5, atol=1e-5)
    assert_same(out[2], _layernorm(x64, 2).astype(F32), rtol=1e-5, atol=1e-5)
    assert_same(out[3], _layernorm(x64, 1, 1e-2).astype(F32), rtol=1e-5, atol=1e-5)
    assert_same(out[4], np.tanh(s[:, None, None] * x + b[:, None, None]), rtol=1e-5, atol=1e-6)
    assert_same(out[5], x, rtol=0, atol=0)
    assert_same(out[6], _layernorm(x64, 2).astype(F32), rtol=1e-5, atol=1e-5)


def test_embedding(rng):
    W = randn(rng, 4, 10)
    idx = np.array([3, 1, 10, 3], np.int64)
    idm = rng.integers(1, 11, (2, 3))
    hot = np.arange(1, 11)[:, None] == idx[None, :]
    src = """
    main(W, idx, idm, hot) = (Embedding(W)(idx), Embedding(W)(idm), Embedding(W)(7), Embedding(W)(hot),
                              Embedding(W; padding_idx=3)(idx), size(Embedding(10, 6)(idx)),
                              Embedding(10, 6; padding_idx=2)(2), Embedding(W)(reshape(hot, 10, 2, 2)))
    """
    out = function(src, "main")(W, idx, idm, hot)
    assert_same(out[0], W[:, idx - 1], rtol=0, atol=0)
    assert_same(out[1], W[:, idm.flatten("F") - 1].reshape(4, 2, 3, order="F"), rtol=0, atol=0)
    assert_same(out[2], W[:, 6], rtol=0, atol=0)
    assert_same(out[3], W[:, idx - 1], rtol=1e-6, atol=0)
    assert_same(out[4], W[:, idx - 1] * (idx != 3), rtol=0, atol=0)
    assert_same(out[5], (np.int64(6), np.int64(4)))
    assert_same(out[6], np.zeros(6, F32), rtol=0, atol=0)
    assert_same(out[7], W[:, idx - 1].reshape(4, 2, 2, order="F"), rtol=1e-6, atol=0)


def test_embedding_index_out_of_bounds_is_reported():
    with pytest.raises(Exception, match="BoundsError"):
        function("main(W, i) = Embedding(W)(i)", "main")(np.ones((2, 3), F32), np.array([1, 4]))


def test_skipconnection_and_parallel(rng):
    W, b, x, y = randn(rng, 4, 4), randn(rng, 4), randn(rng, 4, 3), randn(rng, 4, 3)
    src = """
    main(W, b, x, y) = (SkipConnection(Dense(W, b, tanh), +)(x), SkipConnection(Dense(W, b), (a, x) -> a .* x)(x),
                        Parallel(vcat, Dense(W, b), x -> x .* 2)(x), Parallel(+, Dense(W, b), Dense(W, false))(x, y),
                        Parallel(+, Dense(W, b))(x, y), Parallel(+, Dense(W, b), Dense(W, false))((x, y)))
    """
    out = function(src, "main")(W, b, x, y)
    d = lambda v: W @ v + b[:, None]
    assert_same(out[0], np.tanh(d(x)) + x, rtol=1e-5, atol=1e-6)
    assert_same(out[1], d(x) * x, rtol=1e-5, atol=1e-6)
    assert_same(out[2], np.vstack([d(x), x * 2]), rtol=1e-5, atol=1e-6)
    assert_same(out[3], d(x) + W @ y, rtol=1e-5, atol=1e-5)
    assert_same(out[4], d(x) + d(y), rtol=1e-5, atol=1e-5)
    assert_same(out[5], d(x) + W @ y, rtol=1e-5, atol=1e-5)
    with pytest.raises(JuliaError, match="Parallel with 2 > 1 sub-layers can take one input or 2 inputs, but got 3"):
        function("main(W, x) = Parallel(+, Dense(W), Dense(W))(x, x, x)", "main")(W, x)


def test_bilinear(rng):
    W, b = randn(rng, 3, 4, 5), randn(rng, 3)
    x, y, v, u = randn(rng, 4, 6), randn(rng, 5, 6), randn(rng, 4), randn(rng, 5)
    W2, x2 = randn(rng, 3, 4, 4), randn(rng, 4, 6)
    src = """
    main(W, b, x, y, v, u, W2, x2) = (Bilinear(W, b, relu)(x, y), Bilinear(W, false)((x, y)), Bilinear(W, b)(v, u),
                                      Bilinear(W2)(x2), size(Bilinear(4, 5, 3)(x, y)))
    """
    out = function(src, "main")(W, b, x, y, v, u, W2, x2)
    z = np.einsum("oij,is,js->os", W, x, y)
    assert_same(out[0], np.maximum(z + b[:, None], 0), rtol=1e-5, atol=1e-5)
    assert_same(out[1], z, rtol=1e-5, atol=1e-5)
    assert_same(out[2], np.einsum("oij,i,j->o", W, v, u) + b, rtol=1e-5, atol=1e-5)
    assert_same(out[3], np.einsum("oij,is,js->os", W2, x2, x2), rtol=1e-5, atol=1e-5)
    assert_same(out[4], (np.int64(3), np.int64(6)))


def _sig(v):
    return 1 / (1 + np.exp(-v))


def test_recurrent_cells_over_a_sequence(rng):
    n_in, n_out, batch, steps = 3, 4, 2, 5
    xs = randn(rng, n_in, batch, steps)
    Wi, Wh, b = randn(rng, n_out, n_in), randn(rng, n_out, n_out) * 0.5, randn(rng, n_out)
    Li, Lh, lb = randn(rng, 4 * n_out, n_in), randn(rng, 4 * n_out, n_out) * 0.5, randn(rng, 4 * n_out)
    Gi, Gh, gb = randn(rng, 3 * n_out, n_in), randn(rng, 3 * n_out, n_out) * 0.5, randn(rng, 3 * n_out)
    src = """
    function main(xs, Wi, Wh, b, Li, Lh, lb, Gi, Gh, gb)
        rnn, lstm, gru = RNNCell(tanh, Wi, Wh, b), LSTMCell(Li, Lh, lb), GRUCell(Gi, Gh, gb)
        h, s, g = initialstates(rnn), initialstates(lstm), initialstates(gru)
        hs = zeros(Float32, size(Wi, 1), size(xs, 2), size(xs, 3))
        for t in 1:size(xs, 3)
            y, h = rnn(xs[:, :, t], h)
            hs[:, :, t] = y
            _, s = lstm(xs[:, :, t], s)
            _, g = gru(xs[:, :, t], g)
        end
        return (hs, s[1], s[2], g, rnn(xs[:, 1, 1])[1], lstm(xs[:, 1, 1])[1], gru(xs[:, 1, 1])[1],
                RNNCell(relu, Wi, Wh, b)(xs[:, :, 1], h)[1], size(RNNCell(3, 4)(xs[:, :, 1])[1]))
    end
    """
    out = function(src, "main")(xs, Wi, Wh, b, Li, Lh, lb, Gi, Gh, gb)
    x64 = xs.astype(F64)
    h = np.zeros((n_out, batch))
    lh, lc, gh = np.zeros((n_out, batch)), np.zeros((n_out, batch)), np.zeros((n_out, batch))
    hs = np.zeros((n_out, batch, steps))
    k = n_out
    for t in range(steps):
        x = x64[:, :, t]
        h = np.tanh(Wi @ x + Wh @ h + b[:, None])
        hs[:, :, t] = h
        g = Li @ x + Lh @ lh + lb[:, None]
        i, f, c, o = g[:k], g[k:2 * k], g[2 * k:3 * k], g[3 * k:]
        lc = _sig(f) * lc + _sig(i) * np.tanh(c)
        lh = _sig(o) * np.tanh(lc)
        gx, ghh = Gi @ x, Gh @ gh
        r = _sig(gx[:k] + ghh[:k] + gb[:k, None])
        z = _sig(gx[k:2 * k] + ghh[k:2 * k] + gb[k:2 * k, None])
        cand = np.tanh(gx[2 * k:] + r * ghh[2 * k:] + gb[2 * k:, None])
        gh = (1 - z) * cand + z * gh
    for got, want in zip(out[:4], (hs, lh, lc, gh)):
        assert_same(got, want.astype(F32), rtol=2e-5, atol=2e-6)
    x1 = x64[:, 0, 0]
    assert_same(out[4], np.tanh(Wi @ x1 + b).astype(F32), rtol=2e-5, atol=2e-6)
    g = Li @ x1 + lb
    assert_same(out[5], (_sig(g[3 * k:]) * np.tanh(_sig(g[:k]) * np.tanh(g[2 * k:3 * k]))).astype(F32),
                rtol=2e-5, atol=2e-6)
    gx = Gi @ x1
    zz = _sig(gx[k:2 * k] + gb[k:2 * k])
    cand = np.tanh(gx[2 * k:] + gb[2 * k:])
    assert_same(out[6], ((1 - zz) * cand).astype(F32), rtol=2e-5, atol=2e-6)
    assert out[8] == (np.int64(4), np.int64(2))


def test_layer_gradients_against_jax(rng):
    """LayerNorm, Embedding, Bilinear and an LSTM step differentiated end to end."""
    x, s, b = randn(rng, 5, 3), randn(rng, 5), randn(rng, 5)
    E, idx = randn(rng, 4, 6), np.array([2, 6, 2, 1])
    W, bw, u, v = randn(rng, 3, 4, 5), randn(rng, 3), randn(rng, 4, 2), randn(rng, 5, 2)
    Li, Lh, lb, x3, h0, c0 = randn(rng, 8, 3), randn(rng, 8, 2), randn(rng, 8), randn(rng, 3, 4), randn(rng, 2, 4), \
        randn(rng, 2, 4)
    src = """
    main(x, s, b, E, idx, W, bw, u, v, Li, Lh, lb, x3, h0, c0) = (
        gradient((x, s, b) -> sum(abs2.(LayerNorm(identity, Scale(s, b), 1f-5, (5,), true)(x)) .* x), x, s, b),
        gradient(E -> sum(Embedding(E)(idx) .^ 3), E),
        gradient((W, bw, u) -> sum(tanh.(Bilinear(W, bw)(u, v))), W, bw, u),
        gradient((Li, Lh, lb, x3, h0, c0) -> sum(LSTMCell(Li, Lh, lb)(x3, (h0, c0))[2][2]), Li, Lh, lb, x3, h0, c0))
    """
    out = function(src, "main")(x, s, b, E, idx, W, bw, u, v, Li, Lh, lb, x3, h0, c0)

    def ln(x, s, b):
        mu = x.mean(axis=0, keepdims=True)
        var = ((x - mu) ** 2).mean(axis=0, keepdims=True)
        return jnp.sum((((x - mu) / jnp.sqrt(var + 1e-5)) * s[:, None] + b[:, None]) ** 2 * x)

    def lstm_c(Li, Lh, lb, x3, h0, c0):
        g = Li @ x3 + Lh @ h0 + lb[:, None]
        return jnp.sum(jax.nn.sigmoid(g[2:4]) * c0 + jax.nn.sigmoid(g[:2]) * jnp.tanh(g[4:6]))
    wants = (jax.grad(ln, argnums=(0, 1, 2))(x, s, b),
             (jax.grad(lambda E: jnp.sum(E[:, idx - 1] ** 3))(E),),
             jax.grad(lambda W, bw, u: jnp.sum(jnp.tanh(jnp.einsum("oij,is,js->os", W, u, v) + bw[:, None])),
                      argnums=(0, 1, 2))(W, bw, u),
             jax.grad(lstm_c, argnums=tuple(range(6)))(Li, Lh, lb, x3, h0, c0))
    for got, want in zip(out, wants):
        for g, w in zip(got, want):
            assert_same(g, np.asarray(w, F32), rtol=2e-4, atol=2e-5)


def test_bias_true_false_or_an_array_as_flux(rng):
    """Flux's create_bias: `true` is a zero bias of the weight's element type (not the number 1)."""
    W, W64, x = randn(rng, 3, 2), randn(rng, 3, 2, dtype=F64), randn(rng, 2, 4)
    src = """
    main(W, W64, x) = (Dense(W, true)(x), Dense(W64).b, Dense(W, false).b, Conv(ones(Float32, 1, 1, 2, 3)).b,
                       Scale(3; bias=false).bias, zeros32(2, 3), rand32(2), ones32(2), randn32(3))
    """
    out = function(src, "main")(W, W64, x)
    assert_same(out[0], W @ x, rtol=1e-6, atol=1e-7)
    assert_same(out[1], np.zeros(3, F64), rtol=0, atol=0)
    assert_same(out[2], np.bool_(False))
    assert_same(out[3], np.zeros(3, F32), rtol=0, atol=0)
    assert_same(out[4], np.bool_(False))
    assert_same(out[5], np.zeros((2, 3), F32), rtol=0, atol=0)
    assert_same(out[7], np.ones(2, F32), rtol=0, atol=0)
    assert out[6].dtype == out[8].dtype == F32 and out[6].shape == (2,) and out[8].shape == (3,)
    with pytest.raises(JuliaError, match=r"DimensionMismatch: expected bias of size \(3,\), got size \(2,\)"):
        function("main(W, b) = Dense(W, b)", "main")(W, randn(rng, 2))


def test_constructors_from_sizes_with_pairs(rng):
    """Flux's `Dense(in => out, σ)`, `Conv(k, in => out; pad=SamePad(), groups)`, `Embedding(in => out)`,
    `Bilinear((in1, in2) => out)`, `LSTMCell(in => out)`: the weight shapes Flux gives, a zero bias,
    and SamePad's padding (Flux's calc_padding: total k_eff - 1, the extra element after)."""
    x = randn(rng, 9, 7, 4, 2)
    src = """
    function main(x)
        c = Conv((3, 3), 4 => 6, relu; pad=SamePad())
        g = Conv((5, 4), 4 => 6; stride=2, pad=SamePad(), dilation=(1, 2), groups=2)
        d, e, b, l = Dense(4 => 3, tanh), Embedding(5 => 3), Bilinear((2, 3) => 4), LSTMCell(3 => 5)
        p = MaxPool((3, 3); pad=SamePad())
        return (size(c(x)), size(c.W), c.b, size(g(x)), size(g.W), g.pad, size(d.W), d.σ === tanh,
                size(e.weight), size(b.weight), size(l.Wi), size(l.Wh), size(p(x)), p.pad,
                size(Dense(2 => 3).W), CrossCor((2, 2), 4 => 1; pad=SamePad()).pad)
    end
    """
    out = function(src, "main")(x)
    # the output size at stride s with padding (lo, hi): (n + lo + hi - k_eff) ÷ s + 1
    assert out[0] == (9, 7, 6, 2) and out[1] == (3, 3, 4, 6)
    assert_same(out[2], np.zeros(6, F32), rtol=0, atol=0)
    # g: k_eff = (5, 4 + 3) → total (4, 6) → pads (2, 2, 3, 3); sizes (9+4-5)÷2+1, (7+6-7)÷2+1
    assert out[3] == (5, 4, 6, 2) and out[4] == (5, 4, 2, 6) and out[5] == (2, 2, 3, 3)
    assert out[6] == (3, 4) and bool(out[7])
    assert out[8] == (3, 5) and out[9] == (4, 2, 3) and out[10] == (20, 3) and out[11] == (20, 5)
    assert out[12] == (3, 3, 4, 2) and out[13] == (1, 1, 1, 1)     # stride = window 3: (9+2-3)÷3+1
    assert out[14] == (3, 2) and out[15] == (1, 0, 1, 0)
    with pytest.raises(JuliaError, match="divisible by groups"):
        function("main(x) = Conv((3, 3), 3 => 4; groups=2)(x)", "main")(x)


def test_batchnorm_trains_with_batch_statistics_inside_gradient(rng):
    """Flux's BatchNorm: outside `gradient` it normalises with the running statistics; inside (NNlib's
    within_gradient) with the batch's, over every dimension but the channels, and updates the running
    ones in place (momentum 0.1, the variance unbiased: m/(m-1)); `active=true/false` forces a mode.
    Against the same formulas in JAX, gradients with jax.grad."""
    x = randn(rng, 5, 4, 3, 6)
    g0, b0 = 1 + 0.1 * randn(rng, 3), 0.1 * randn(rng, 3)
    src = """
    function main(x, γ, β)
        bn = BatchNorm(3, relu)
        bn = BatchNorm(bn.λ, β, γ, bn.μ, bn.σ², bn.ϵ, bn.momentum, true, true, nothing, 3)
        before = bn(x)
        loss, grads = withgradient((m, x) -> sum(abs2, m(x)), bn, x)
        after = bn(x)
        forced = BatchNorm(β, γ, zeros(Float32, 3), ones(Float32, 3), relu; active=true)(x)
        return (before, loss, grads[1].γ, grads[1].β, grads[2], copy(bn.μ), copy(bn.σ²), after, forced)
    end
    """
    before, loss, dg, db, dx, mu, var, after, forced = function(src, "main")(x, g0, b0)
    axes = (0, 1, 3)

    def train_forward(g, b, x):
        m, v = x.mean(axes, keepdims=True), x.var(axes, keepdims=True)
        scale = g[None, None, :, None] / jnp.sqrt(v + 1e-5)
        return jax.nn.relu(scale * x + (b[None, None, :, None] - scale * m))
    want_loss, (wg, wb, wx) = jax.value_and_grad(lambda g, b, x: jnp.sum(train_forward(g, b, x) ** 2),
                                                 argnums=(0, 1, 2))(g0, b0, x)
    m = x.size // 3
    want_mu = 0.1 * x.mean(axes)
    want_var = 0.9 + 0.1 * m / (m - 1) * x.var(axes)
    test_mode = lambda mu, var: np.maximum(g0[None, None, :, None] / np.sqrt(var + 1e-5)[None, None, :, None] * x
                                           + (b0 - g0 / np.sqrt(var + 1e-5) * mu)[None, None, :, None], 0)
    assert_same(before, test_mode(np.zeros(3, F32), np.ones(3, F32)), rtol=1e-5, atol=1e-6)
    assert_same(loss, np.float32(want_loss), rtol=1e-5)
    for got, want in ((dg, wg), (db, wb), (dx, wx)):
        assert_same(got, np.asarray(want), rtol=1e-4, atol=1e-5)
    assert_same(mu, want_mu.astype(F32), rtol=1e-5, atol=1e-7)
    assert_same(var, want_var.astype(F32), rtol=1e-5)
    assert_same(after, test_mode(want_mu, want_var).astype(F32), rtol=1e-4, atol=1e-5)
    assert_same(forced, np.asarray(train_forward(g0, b0, x)), rtol=1e-4, atol=1e-5)


def test_dropout_inside_gradient_is_active(rng):
    """Flux's Dropout drops inside `gradient` (within_gradient), where its random mask would be drawn
    again by the backward pass: refused, pointing at the user's call; `active=false` (Flux's
    testmode!) is the identity there."""
    x, W = randn(rng, 4, 3), randn(rng, 2, 4)
    src = "main(x, W) = gradient(y -> sum(Chain(Dense(W, false), Dropout(0.5))(y)), x)"
    with pytest.raises(JuliaError, match="draws random numbers") as info:
        function(src, "main")(x, W)
    assert info.value.span.file == "t.jl" and info.value.span.line == 1
    g = function(src.replace("Dropout(0.5)", "Dropout(0.5; active=false)"), "main")(x, W)[0]
    assert_same(g, np.repeat(W.sum(axis=0)[:, None], 3, axis=1), rtol=1e-6, atol=1e-6)


def test_recurrent_layers_over_the_time_dimension(rng):
    """Flux's RNN/GRU/LSTM layers: the cell over dimension 2 of (in, len) or (in, len, batch), from zero
    states or a given one; Dense on a 3-array (its columns); onehotbatch/onecold of a matrix of values
    give (labels, size...) and size(y)[2:end] arrays. Against NumPy."""
    x3, x2 = randn(rng, 3, 5, 2), randn(rng, 3, 4)
    Wi, Wh, b = randn(rng, 4, 3), randn(rng, 4, 4) * 0.5, randn(rng, 4)
    W, c = randn(rng, 2, 4), randn(rng, 2)
    h0 = randn(rng, 4, 2)
    src = """
    function main(x3, x2, Wi, Wh, b, W, c, h0)
        rnn = RNN(RNNCell(tanh, Wi, Wh, b))
        model = Chain(rnn, Dense(W, c))
        labels = [1 3; 2 2; 3 1]
        return (rnn(x3), rnn(x2), rnn(x3, h0), model(x3), onehotbatch(labels, 1:3), onecold(model(x3)),
                size(LSTM(3 => 6)(x3)), size(GRU(3 => 6)(x2)))
    end
    """
    y3, y2, y3h, z, hot, cold, lstm_size, gru_size = function(src, "main")(x3, x2, Wi, Wh, b, W, c, h0)

    def rnn(x, h):
        out = []
        for t in range(x.shape[1]):
            h = np.tanh(Wi.astype(F64) @ x[:, t] + Wh @ h + (b[:, None] if x.ndim == 3 else b))
            out.append(h)
        return np.stack(out, axis=1).astype(F32)
    assert_same(y3, rnn(x3, np.zeros((4, 2))), rtol=2e-5, atol=2e-6)
    assert_same(y2, rnn(x2, np.zeros(4)), rtol=2e-5, atol=2e-6)
    assert_same(y3h, rnn(x3, h0), rtol=2e-5, atol=2e-6)
    want_z = np.einsum("oh,hlb->olb", W, rnn(x3, np.zeros((4, 2)))) + c[:, None, None]
    assert_same(z, want_z.astype(F32), rtol=2e-5, atol=2e-5)
    labels = np.array([[1, 3], [2, 2], [3, 1]])
    assert_same(hot, np.arange(1, 4)[:, None, None] == labels[None])
    assert_same(cold, np.argmax(want_z, axis=0) + 1)
    assert lstm_size == (6, 5, 2) and gru_size == (6, 4)


def test_dot_product_attention_and_multiheadattention(rng):
    """NNlib's dot_product_attention (heads split along the first dimension, softmax over the keys of
    q·k/√d_head, a causal mask) and Flux's MultiHeadAttention (`in => qkv => out`, bias) against
    jax.nn.dot_product_attention; dropdims."""
    q, k, v = randn(rng, 8, 5, 3), randn(rng, 8, 6, 3), randn(rng, 4, 6, 3)
    Wq, Wk, Wv, Wo = randn(rng, 12, 8), randn(rng, 12, 8), randn(rng, 12, 8), randn(rng, 6, 12)
    bq, bk, bv, bo = randn(rng, 12), randn(rng, 12), randn(rng, 12), randn(rng, 6)
    src = """
    function main(q, k, v, Wq, Wk, Wv, Wo, bq, bk, bv, bo)
        x, α = dot_product_attention(q, k, v; nheads=2)
        xc, _ = dot_product_attention(q, q, q; nheads=4, mask=make_causal_mask(q))
        mha = MultiHeadAttention(4, Dense(Wq, bq), Dense(Wk, bk), Dense(Wv, bv), identity, Dense(Wo, bo))
        y, β = mha(q, k)
        return (x, α, xc, y, size(β), size(MultiHeadAttention(8 => 12 => 6; nheads=3)(q)[1]),
                size(dropdims(sum(q; dims=2); dims=2)))
    end
    """
    x, alpha, xc, y, beta_size, mha_size, dd = function(src, "main")(q, k, v, Wq, Wk, Wv, Wo, bq, bk, bv, bo)

    def attention(q, k, v, nheads, causal=False):
        """NumPy, float64: Julia's (d, len, batch) split column-major into (d_head, heads, len, batch)."""
        def split(z):
            return z.astype(F64).reshape(z.shape[0] // nheads, nheads, *z.shape[1:], order="F")
        qh, kh, vh = split(q), split(k), split(v)
        logits = np.einsum("dhib,dhjb->jihb", qh, kh) / np.sqrt(qh.shape[0])
        if causal:                                       # query i attends keys j ≤ i
            logits = np.where(np.tril(np.ones((logits.shape[0],) * 2, bool))[..., None, None].transpose(1, 0, 2, 3),
                              logits, -np.inf)
        a = np.exp(logits - logits.max(axis=0))
        a /= a.sum(axis=0)
        out = np.einsum("jihb,dhjb->dhib", a, vh)
        return out.reshape(-1, *out.shape[2:], order="F").astype(F32)
    assert_same(x, attention(q, k, v, 2), rtol=1e-4, atol=1e-5)
    assert alpha.shape == (6, 5, 2, 3) and np.allclose(alpha.sum(axis=0), 1, atol=1e-5)
    assert_same(xc, attention(q, q, q, 4, causal=True), rtol=1e-4, atol=1e-5)
    proj = lambda W, b, z: np.einsum("od,dlb->olb", W, z) + b[:, None, None]
    want_y = proj(Wo, bo, attention(proj(Wq, bq, q), proj(Wk, bk, k), proj(Wv, bv, k), 4))
    assert_same(y, want_y.astype(F32), rtol=1e-4, atol=1e-4)
    assert beta_size == (6, 5, 4, 3) and mha_size == (6, 5, 3) and dd == (8, 3)
