"""The neural-network library: NNlib primitives (conv, pooling, batched_mul, activations, softmax
family, flatten, dropout, batchnorm), the Flux-style layers of prelude/layers.jl, the losses, the
examples, and VGG19 against a JAX model with the same weights.

Every result is checked against an independent NumPy or JAX reference on fresh random inputs, with
the exact dtype and shape. Arrays are WHCN: a Julia (W, H, C, N) array is a NumPy array of that shape.
"""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax
from jlhlo.frontend.diagnostics import JuliaError

import jlhlo

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
F32 = np.float32
HIGHEST = lax.Precision.HIGHEST


def _module(name: str, path: str):
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, path))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


make_weights = _module("make_weights", "examples/make_weights.py")


@pytest.fixture
def rng(request) -> np.random.Generator:
    return np.random.default_rng(abs(hash(request.node.name)) % 2**32)


def randn(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.standard_normal(shape, dtype=F32)


def call(src: str, *args, entry: str = "f"):
    return jlhlo.load(src).function(entry)(*args)


def check(out, ref, rtol: float = 1e-4, atol: float = 1e-5) -> None:
    ref = np.asarray(ref)
    assert out.dtype == ref.dtype and out.shape == ref.shape, (out.dtype, out.shape, ref.dtype, ref.shape)
    np.testing.assert_allclose(out, ref, rtol=rtol, atol=atol)


def jl(v) -> str:
    """A Python int or tuple as Julia source."""
    if isinstance(v, tuple):
        return "(" + ", ".join(map(str, v)) + ("," if len(v) == 1 else "") + ")"
    return str(v).lower() if isinstance(v, bool) else str(v)


# ============================================================================ conv
def ref_conv(x, w, stride=1, pad=0, dilation=1, groups=1, flipped=False) -> np.ndarray:
    """JAX reference in Julia's dimension order: spatial dims first, then channels, then batch."""
    n = x.ndim - 2
    stride = stride if isinstance(stride, tuple) else (stride,) * n
    dilation = dilation if isinstance(dilation, tuple) else (dilation,) * n
    if isinstance(pad, tuple) and len(pad) == 2 * n:
        pads = [(pad[2 * i], pad[2 * i + 1]) for i in range(n)]
    else:
        pads = [(p, p) for p in (pad if isinstance(pad, tuple) else (pad,) * n)]
    if not flipped:
        w = w[(slice(None, None, -1),) * n]
    spec = (n + 1, n) + tuple(range(n))
    dn = lax.ConvDimensionNumbers(lhs_spec=spec, rhs_spec=spec, out_spec=spec)
    y = lax.conv_general_dilated(jnp.asarray(x, jnp.float32), jnp.asarray(np.ascontiguousarray(w), jnp.float32),
                                 stride, pads, rhs_dilation=dilation, dimension_numbers=dn,
                                 feature_group_count=groups, precision=HIGHEST)
    return np.asarray(y)


def numpy_conv2d(x, w, pad=0, stride=1):
    """A direct loop reference (independent of JAX): NNlib's true convolution, 2-D."""
    w = w[::-1, ::-1]
    xp = np.pad(x, ((pad, pad), (pad, pad), (0, 0), (0, 0)))
    kw, kh = w.shape[:2]
    ow, oh = (xp.shape[0] - kw) // stride + 1, (xp.shape[1] - kh) // stride + 1
    y = np.zeros((ow, oh, w.shape[3], x.shape[3]))
    for a in range(kw):
        for b in range(kh):
            patch = xp[a:a + stride * (ow - 1) + 1:stride, b:b + stride * (oh - 1) + 1:stride]
            y += np.einsum("whcn,co->whon", patch.astype(np.float64), w[a, b].astype(np.float64))
    return y.astype(F32)


CONV_CASES = [  # (x shape, kernel shape, keyword arguments)
    ((8, 7, 3, 2), (3, 3, 3, 4), {}),
    ((8, 7, 3, 2), (3, 3, 3, 4), {"pad": 1}),
    ((9, 9, 2, 1), (3, 2, 2, 3), {"stride": 2}),
    ((9, 10, 2, 2), (3, 3, 2, 3), {"stride": 2, "pad": 1}),
    ((10, 9, 2, 2), (3, 3, 2, 3), {"stride": 3, "pad": 2}),
    ((11, 8, 3, 2), (3, 3, 3, 2), {"stride": (2, 1), "pad": (1, 0)}),
    ((10, 10, 2, 1), (3, 3, 2, 2), {"pad": (0, 2, 1, 0)}),
    ((12, 11, 2, 2), (3, 3, 2, 3), {"dilation": 2}),
    ((12, 11, 2, 2), (3, 2, 2, 3), {"dilation": (2, 3), "pad": 2, "stride": 2}),
    ((8, 8, 3, 2), (3, 3, 3, 4), {"flipped": True, "pad": 1}),
    ((9, 8, 3, 2), (2, 3, 3, 2), {"flipped": True, "stride": 2, "dilation": 2}),
    ((8, 8, 4, 2), (3, 3, 2, 6), {"groups": 2, "pad": 1}),
    ((8, 8, 4, 1), (3, 3, 1, 4), {"groups": 4, "stride": 2}),
    ((7, 6, 5, 3), (1, 1, 5, 4), {}),
    ((16, 3, 2), (5, 3, 4), {"pad": 2, "stride": 3}),                         # 1-D: (W, C, N)
    ((6, 5, 4, 2, 2), (3, 3, 2, 2, 3), {"pad": 1, "stride": (1, 2, 1)}),     # 3-D: (W, H, D, C, N)
]


@pytest.mark.parametrize("xs,ws,kw", CONV_CASES, ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in CONV_CASES])
def test_conv_against_jax(rng, xs, ws, kw):
    x, w = randn(rng, *xs), randn(rng, *ws)
    kwargs = "; " + ", ".join(f"{k}={jl(v)}" for k, v in kw.items()) if kw else ""
    out = call(f"f(x, w) = conv(x, w{kwargs})", x, w)
    check(out, ref_conv(x, w, **kw), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("pad,stride", [(0, 1), (1, 1), (1, 2), (2, 3), (0, 2)])
def test_conv_against_numpy_loops(rng, pad, stride):
    x, w = randn(rng, 9, 8, 3, 2), randn(rng, 3, 3, 3, 4)
    out = call(f"f(x, w) = conv(x, w; pad={pad}, stride={stride})", x, w)
    check(out, numpy_conv2d(x, w, pad, stride), rtol=1e-4, atol=1e-4)


def test_conv_emits_one_convolution_without_transposes(rng):
    x, w = randn(rng, 8, 8, 3, 2), randn(rng, 3, 3, 3, 4)
    text = jlhlo.load("f(x, w) = conv(x, w; pad=1)").function("f").lower(x, w).as_text()
    assert text.count("stablehlo.convolution") == 1
    assert "[0, 1, f, b]x[0, 1, i, o]->[0, 1, f, b]" in text
    assert "stablehlo.transpose" not in text
    text = jlhlo.load("f(x, w) = conv(x, w; flipped=true)").function("f").lower(x, w).as_text()
    assert "stablehlo.reverse" not in text and "stablehlo.transpose" not in text


@pytest.mark.parametrize("src,cin,message", [
    ("f(x, w) = conv(x, w)", 4, "channels"),
    ("f(x, w) = conv(x, w; pad=1, strides=2)", 3, "strides"),
    ("f(x, w) = conv(x, w; stride=0)", 3, "stride ≥ 1"),
    ("f(x, w) = conv(x, w; groups=2)", 3, "groups"),
    ("f(x, w) = conv(x, w; dilation=5)", 3, "does not fit"),
])
def test_conv_errors(rng, src, cin, message):
    x, w = randn(rng, 8, 8, 3, 2), randn(rng, 3, 3, cin, 4)
    with pytest.raises(JuliaError, match=message):
        call(src, x, w)


# ============================================================================ pooling
def ref_pool(x, k, stride=None, pad=0, kind="max") -> np.ndarray:
    n = x.ndim - 2
    stride = k if stride is None else (stride if isinstance(stride, tuple) else (stride,) * n)
    if isinstance(pad, tuple) and len(pad) == 2 * n:
        pads = [(pad[2 * i], pad[2 * i + 1]) for i in range(n)]
    else:
        pads = [(p, p) for p in (pad if isinstance(pad, tuple) else (pad,) * n)]
    xj = jnp.asarray(x, jnp.float32)
    if kind == "max":
        y = lax.reduce_window(xj, -jnp.inf, lax.max, k + (1, 1), stride + (1, 1), pads + [(0, 0), (0, 0)])
    else:
        y = lax.reduce_window(xj, 0.0, lax.add, k + (1, 1), stride + (1, 1), pads + [(0, 0), (0, 0)]) / np.prod(k)
    return np.asarray(y, F32)


POOL_CASES = [
    ((8, 8, 3, 2), (2, 2), {}),
    ((9, 7, 2, 2), (2, 2), {}),
    ((9, 9, 2, 1), (3, 3), {"stride": 2}),
    ((8, 9, 2, 2), (3, 2), {"stride": (2, 1), "pad": 1}),
    ((7, 7, 2, 2), (2, 2), {"pad": (1, 0, 0, 1)}),
    ((8, 8, 3, 2), (3, 3), {"stride": 1, "pad": 1}),
    ((12, 3, 2), (4,), {"stride": 2}),                        # 1-D
    ((6, 6, 4, 2, 1), (2, 2, 2), {}),                         # 3-D
]


@pytest.mark.parametrize("kind", ["max", "mean"])
@pytest.mark.parametrize("xs,k,kw", POOL_CASES, ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in POOL_CASES])
def test_pool_against_jax(rng, kind, xs, k, kw):
    x = randn(rng, *xs)
    kwargs = "; " + ", ".join(f"{n}={jl(v)}" for n, v in kw.items()) if kw else ""
    out = call(f"f(x) = {kind}pool(x, {jl(k)}{kwargs})", x)
    check(out, ref_pool(x, k, kw.get("stride"), kw.get("pad", 0), kind), rtol=1e-5, atol=1e-6)


def test_maxpool_is_one_reduce_window(rng):
    x = randn(rng, 8, 8, 3, 2)
    text = jlhlo.load("f(x) = maxpool(x, (2, 2))").function("f").lower(x).as_text()
    assert text.count("stablehlo.reduce_window") == 1 and "array<i64: 2, 2, 1, 1>" in text
    assert "stablehlo.transpose" not in text


def test_maxpool_window_too_large(rng):
    with pytest.raises(JuliaError, match="window"):
        call("f(x) = maxpool(x, (5, 5))", randn(rng, 4, 4, 1, 1))


# ============================================================================ batched_mul
@pytest.mark.parametrize("sa,sb", [((3, 4, 5), (4, 2, 5)), ((3, 4, 5), (4, 2)), ((3, 4), (4, 2, 5)),
                                   ((3, 4, 1), (4, 2, 5)), ((3, 4, 5), (4, 2, 1))])
def test_batched_mul(rng, sa, sb):
    a, b = randn(rng, *sa), randn(rng, *sb)
    a3 = a if a.ndim == 3 else a[:, :, None]
    b3 = b if b.ndim == 3 else b[:, :, None]
    ref = np.einsum("mkb,knb->mnb", np.broadcast_to(a3, a3.shape[:2] + (max(a3.shape[2], b3.shape[2]),)),
                    np.broadcast_to(b3, b3.shape[:2] + (max(a3.shape[2], b3.shape[2]),))).astype(F32)
    check(call("f(a, b) = batched_mul(a, b)", a, b), ref, rtol=1e-5, atol=1e-5)


def test_batched_mul_mismatch(rng):
    with pytest.raises(JuliaError, match="DimensionMismatch"):
        call("f(a, b) = batched_mul(a, b)", randn(rng, 3, 4, 5), randn(rng, 3, 2, 5))


# ============================================================================ activations, softmax family
def test_activations(rng):
    x = randn(rng, 5, 4) * 3
    src = """
    f(x) = (relu.(x), leakyrelu.(x), leakyrelu.(x, 0.2f0), sigmoid.(x), σ.(x), softplus.(x), gelu.(x),
            swish.(x), elu.(x), relu6.(x .* 3))
    """
    out = call(src, x)
    xj = jnp.asarray(x)
    refs = (jax.nn.relu(xj), jax.nn.leaky_relu(xj, 0.01), jax.nn.leaky_relu(xj, 0.2), jax.nn.sigmoid(xj),
            jax.nn.sigmoid(xj), jax.nn.softplus(xj), jax.nn.gelu(xj, approximate=True), jax.nn.silu(xj),
            jax.nn.elu(xj), jax.nn.relu6(xj * 3))
    for o, r in zip(out, refs):
        check(o, np.asarray(r, F32), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dims,axis", [("1", 0), ("2", 1), ("(1, 2)", (0, 1)), ("3", 2)])
def test_softmax_family(rng, dims, axis):
    x = randn(rng, 4, 5, 3) * 4
    out = call(f"f(x) = (softmax(x; dims={dims}), logsoftmax(x; dims={dims}), logsumexp(x; dims={dims}))", x)
    xj = jnp.asarray(x)
    check(out[0], np.asarray(jax.nn.softmax(xj, axis=axis)), rtol=1e-5, atol=1e-6)
    check(out[1], np.asarray(jax.nn.log_softmax(xj, axis=axis)), rtol=1e-5, atol=1e-5)
    check(out[2], np.asarray(jax.scipy.special.logsumexp(xj, axis=axis, keepdims=True)), rtol=1e-5, atol=1e-5)


def test_softmax_defaults_and_logsumexp_all(rng):
    x = randn(rng, 6, 3)
    s, lse = call("f(x) = (softmax(x), logsumexp(x))", x)
    check(s, np.asarray(jax.nn.softmax(jnp.asarray(x), axis=0)), rtol=1e-5, atol=1e-6)
    check(lse, np.asarray(jax.scipy.special.logsumexp(jnp.asarray(x))), rtol=1e-5, atol=1e-5)


# ============================================================================ flatten, dropout, batchnorm
def test_flatten_is_column_major(rng):
    x = randn(rng, 3, 4, 2, 5)
    check(call("f(x) = flatten(x)", x), x.reshape(-1, 5, order="F"), rtol=0, atol=0)


def test_dropout_draws_masks_and_the_layer_is_the_identity_outside_gradient(rng):
    """NNlib's dropout(x, p; dims) always drops: each element (or slice: the mask varies along `dims`
    only) zeroed with probability p, the rest scaled by 1/(1-p). Flux's Dropout layer is the identity
    outside `gradient` (test mode) unless active=true."""
    x = 1 + np.abs(randn(rng, 40, 500))
    out = call("f(x) = (dropout(x, 0.3), dropout(x, 0.5; dims=2), dropout(x, 0.0), dropout(x, 1.0), "
               "Dropout(0.3)(x), Chain(Dropout(0.5f0), x -> relu.(x))(x), Dropout(0.5; active=true)(x))", x)
    y, cols, none, every, layer, chain, forced = out
    kept = y != 0
    assert abs(1 - kept.mean() - 0.3) < 0.01
    check(y[kept], (x[kept] / np.float32(0.7)).astype(np.float32), rtol=1e-6, atol=0)
    dropped_cols = (cols == 0).all(axis=0)
    assert ((cols == 0) == dropped_cols[None, :]).all() and 0.4 < dropped_cols.mean() < 0.6
    check(none, x, rtol=0, atol=0)
    check(every, np.zeros_like(x), rtol=0, atol=0)
    check(layer, x, rtol=0, atol=0)
    check(chain, np.maximum(x, 0), rtol=0, atol=0)
    assert abs((forced == 0).mean() - 0.5) < 0.02
    with pytest.raises(JuliaError, match="probability"):
        call("f(x) = dropout(x, 1.5)", x)


@pytest.mark.parametrize("shape", [(5, 4, 3, 2), (6, 3, 2), (3, 4)])
def test_batchnorm_inference(rng, shape):
    x = randn(rng, *shape)
    c = shape[-2]
    g, b, mu = randn(rng, c), randn(rng, c), randn(rng, c)
    var = rng.random(c, dtype=F32) + 0.5
    bshape = [1] * len(shape)
    bshape[-2] = c

    def ref(eps):
        r = lambda v: v.reshape(bshape)
        return ((x - r(mu)) / np.sqrt(r(var) + eps) * r(g) + r(b)).astype(F32)
    out = call("f(x, g, b, mu, var) = (batchnorm(x, g, b, mu, var), batchnorm(x, g, b, mu, var, 1f-3), "
               "BatchNorm(b, g, mu, var, relu)(x))", x, g, b, mu, var)
    check(out[0], ref(1e-5), rtol=1e-5, atol=1e-5)
    check(out[1], ref(1e-3), rtol=1e-5, atol=1e-5)
    check(out[2], np.maximum(ref(1e-5), 0), rtol=1e-5, atol=1e-5)


# ============================================================================ layers
def test_dense_layer(rng):
    W, b, x, v = randn(rng, 5, 3), randn(rng, 5), randn(rng, 3, 4), randn(rng, 3)
    out = call("f(W, b, x, v) = (Dense(W, b, relu)(x), Dense(W, b)(x), Dense(W, b, tanh)(v), Dense(W, false)(x))",
               W, b, x, v)
    check(out[0], np.maximum(W @ x + b[:, None], 0), rtol=1e-5, atol=1e-5)
    check(out[1], W @ x + b[:, None], rtol=1e-5, atol=1e-5)
    check(out[2], np.tanh(W @ v + b), rtol=1e-5, atol=1e-5)
    check(out[3], W @ x, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kw", [{}, {"pad": 1}, {"stride": 2, "pad": 1}, {"pad": (1, 0), "dilation": 2}])
def test_conv_layers(rng, kw):
    x, W, b = randn(rng, 9, 8, 3, 2), randn(rng, 3, 3, 3, 4), randn(rng, 4)
    kwargs = "; " + ", ".join(f"{k}={jl(v)}" for k, v in kw.items()) if kw else ""
    src = f"f(W, b, x) = (Conv(W, b, relu{kwargs})(x), Conv(W, false{kwargs})(x), CrossCor(W, b{kwargs})(x))"
    out = call(src, W, b, x)
    bias = b[None, None, :, None]
    check(out[0], np.maximum(ref_conv(x, W, **kw) + bias, 0), rtol=1e-4, atol=1e-4)
    check(out[1], ref_conv(x, W, **kw), rtol=1e-4, atol=1e-4)
    check(out[2], ref_conv(x, W, flipped=True, **kw) + bias, rtol=1e-4, atol=1e-4)


def test_conv_layer_1d_and_groups(rng):
    x1, W1, b1 = randn(rng, 12, 2, 3), randn(rng, 3, 2, 4), randn(rng, 4)
    x2, W2, b2 = randn(rng, 8, 8, 4, 2), randn(rng, 3, 3, 2, 6), randn(rng, 6)
    out = call("f(W1, b1, x1, W2, b2, x2) = (Conv(W1, b1; pad=1)(x1), Conv(W2, b2, relu; groups=2)(x2))",
               W1, b1, x1, W2, b2, x2)
    check(out[0], ref_conv(x1, W1, pad=1) + b1[None, :, None], rtol=1e-4, atol=1e-4)
    check(out[1], np.maximum(ref_conv(x2, W2, groups=2) + b2[None, None, :, None], 0), rtol=1e-4, atol=1e-4)


def test_pool_layers(rng):
    x = randn(rng, 9, 8, 3, 2)
    out = call("f(x) = (MaxPool((2, 2))(x), MeanPool((3, 3); stride=2, pad=1)(x), MaxPool((3, 2); stride=1)(x))", x)
    check(out[0], ref_pool(x, (2, 2)), rtol=1e-6, atol=0)
    check(out[1], ref_pool(x, (3, 3), 2, 1, "mean"), rtol=1e-5, atol=1e-6)
    check(out[2], ref_pool(x, (3, 2), 1), rtol=1e-6, atol=0)


def test_chain_of_layers_and_functions(rng):
    x = randn(rng, 12, 12, 2, 3)
    W1, b1 = randn(rng, 3, 3, 2, 4), randn(rng, 4)
    W2, b2 = randn(rng, 10, 36), randn(rng, 10)
    src = """
    f(W1, b1, W2, b2, x) = Chain(Conv(W1, b1, relu; pad=1), MaxPool((2, 2)), MeanPool((2, 2)), flatten,
                                 Dense(W2, b2), softmax)(x)
    g(W1, b1, x) = Chain((Conv(W1, b1),))(x)
    h(x) = Chain(())(x)
    """
    y = np.maximum(ref_conv(x, W1, pad=1) + b1[None, None, :, None], 0)
    y = ref_pool(ref_pool(y, (2, 2)), (2, 2), kind="mean")
    y = W2 @ y.reshape(-1, 3, order="F") + b2[:, None]
    prog = jlhlo.load(src)
    check(prog.function("f")(W1, b1, W2, b2, x), np.asarray(jax.nn.softmax(jnp.asarray(y), axis=0)),
          rtol=1e-4, atol=1e-5)
    check(prog.function("g")(W1, b1, x), ref_conv(x, W1) + b1[None, None, :, None], rtol=1e-4, atol=1e-4)
    check(prog.function("h")(x), x, rtol=0, atol=0)


def test_user_struct_named_like_a_layer_keeps_its_own_constructor(rng):
    W, b, x = randn(rng, 4, 3), randn(rng, 4), randn(rng, 3, 2)
    src = """
    struct Dense{M,V}
        W::M
        b::V
    end
    (d::Dense)(x) = tanh.(d.W * x .+ d.b)
    f(W, b, x) = Dense(W, b)(x)
    """
    check(call(src, W, b, x), np.tanh(W @ x + b[:, None]), rtol=1e-5, atol=1e-6)


# ============================================================================ losses
def test_losses(rng):
    yhat_logits = randn(rng, 10, 6)
    p = np.asarray(jax.nn.softmax(jnp.asarray(yhat_logits), axis=0))
    y = np.eye(10, dtype=F32)[:, rng.integers(0, 10, 6)]
    out = call("f(p, z, y) = (mse(p, y), crossentropy(p, y), logitcrossentropy(z, y))", p, yhat_logits, y)
    check(out[0], np.asarray(np.mean((p - y) ** 2), F32), rtol=1e-5)
    check(out[1], np.asarray(-np.sum(y * np.log(p)) / 6, F32), rtol=1e-5)
    lsm = np.asarray(jax.nn.log_softmax(jnp.asarray(yhat_logits), axis=0))
    check(out[2], np.asarray(-np.sum(y * lsm) / 6, F32), rtol=1e-5)


# ============================================================================ examples
def _dense_ref(layers, x, acts):
    for layer, act in zip(layers, acts):
        x = act(layer["W"] @ x + layer["b"][:, None])
    return x


def test_mlp_example_python_api(rng):
    layers = make_weights.mlp_layers(rng)
    x = rng.random((784, 5), dtype=F32)
    y = np.eye(10, dtype=F32)[:, rng.integers(0, 10, 5)]
    prog = jlhlo.load(os.path.join(ROOT, "examples", "mlp.jl"))
    relu = lambda v: np.maximum(v, 0)
    logits = _dense_ref(layers, x, [relu, relu, lambda v: v])
    probs = np.asarray(jax.nn.softmax(jnp.asarray(logits), axis=0))
    check(prog.function("main")(make_weights.nested(layers), x), probs, rtol=1e-4, atol=1e-6)
    mse, ce, lce = prog.function("losses")(make_weights.nested(layers), x, y)
    check(mse, np.asarray(np.mean((probs - y) ** 2), F32), rtol=1e-4)
    check(ce, np.asarray(-np.sum(y * np.log(probs)) / 5, F32), rtol=1e-4)
    check(lce, np.asarray(-np.sum(y * np.asarray(jax.nn.log_softmax(jnp.asarray(logits), axis=0))) / 5, F32),
          rtol=1e-4)


def test_lenet_example_cli(rng, tmp_path):
    weights = tmp_path / "lenet.npz"
    subprocess.run([sys.executable, os.path.join(ROOT, "examples", "make_weights.py"), "lenet", "--batch", "3",
                    "-o", str(weights)], check=True, capture_output=True)
    out = tmp_path / "out.npz"
    proc = subprocess.run([sys.executable, "-m", "jlhlo.cli", os.path.join(ROOT, "examples", "lenet.jl"),
                           "--inputs", str(weights), "--run", "--outputs", str(out)], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    with np.load(weights) as z:
        a = {k: z[k] for k in z.files}
    L = [{"W": a[f"m.layers.{i}.W"], "b": a[f"m.layers.{i}.b"]} for i in range(1, 6)]
    y = np.maximum(ref_conv(a["x"], L[0]["W"]) + L[0]["b"][None, None, :, None], 0)
    y = ref_pool(y, (2, 2))
    y = np.maximum(ref_conv(y, L[1]["W"]) + L[1]["b"][None, None, :, None], 0)
    y = ref_pool(y, (2, 2)).reshape(-1, 3, order="F")
    relu = lambda v: np.maximum(v, 0)
    y = _dense_ref(L[2:], y, [relu, relu, lambda v: v])
    with np.load(out) as z:
        check(z["out"], np.asarray(jax.nn.softmax(jnp.asarray(y), axis=0)), rtol=1e-4, atol=1e-6)


def test_vgg19_against_jax_32x32_batch2():
    bench = _module("bench_vgg19", "bench/vgg19.py")
    rng = np.random.default_rng(19)
    layers = make_weights.vgg19_layers(rng, 32)
    x = make_weights.example_input("vgg19", rng, 2, 32)
    prog = jlhlo.load(os.path.join(ROOT, "examples", "vgg19.jl"))
    f = prog.function("main")
    model = make_weights.nested(layers)
    lowered = f.lower(model, x)
    text = lowered.as_text()
    assert text.count("func.func") == 1 and "func.call" not in text   # the whole forward pass is one function
    assert text.count("stablehlo.convolution") == 16 and text.count("stablehlo.reduce_window") == 5
    out = f(model, x)
    params = [tuple(jnp.asarray(a, jnp.float32) for a in p) for p in bench.jax_params(layers, 32)]
    ref = np.asarray(jax.jit(bench.jax_vgg19)(params, jnp.asarray(bench.to_nhwc(x), jnp.float32))).T
    assert out.dtype == F32 and out.shape == (1000, 2)
    rel = np.linalg.norm(out - ref) / np.linalg.norm(ref)
    assert rel <= 1e-4, rel
    # the logits before the softmax too (the probabilities of random weights are very peaked)
    np.testing.assert_allclose(out.sum(axis=0), 1, rtol=1e-5)
