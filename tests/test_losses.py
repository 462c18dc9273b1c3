"""Flux.Losses (prelude/losses.jl) against NumPy references written from Flux's documented formulas
(Flux/src/losses/functions.jl), on random inputs, with exact dtypes and shapes; gradients against
jax.grad of the same formulas written in JAX."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import assert_same, function
from jax.scipy.special import xlogy as jxlogy
from jlhlo.frontend.diagnostics import JuliaError

F32 = np.float32
EPS = np.finfo(np.float32).eps        # Flux's default `eps = epseltype(ŷ)`

NAMES = ("mae", "mse", "msle", "huber_loss", "crossentropy", "logitcrossentropy", "binarycrossentropy",
         "logitbinarycrossentropy", "kldivergence", "hinge_loss", "squared_hinge_loss", "poisson_loss")


def _softmax(z, axis=0):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _xlogy(x, y):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x == 0, 0, x * np.log(y))


def _logsoftmax(z, axis=0):
    m = z.max(axis=axis, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=axis, keepdims=True))


def _logsigmoid(z):
    return -np.logaddexp(0, -z)


def references(p, z, y, s, delta=1.0):
    """Flux's formulas, unreduced: p probabilities, z logits, y one-hot labels, s labels in ±1."""
    e = np.abs(p - y)
    return {
        "mae": e,
        "mse": (p - y) ** 2,
        "msle": np.log((p + EPS) / (y + EPS)) ** 2,
        "huber_loss": np.where(e < delta, 0.5 * e ** 2, delta * (e - 0.5 * delta)),
        "crossentropy": -_xlogy(y, p + EPS).sum(axis=0, keepdims=True),
        "logitcrossentropy": -(y * _logsoftmax(z)).sum(axis=0, keepdims=True),
        "binarycrossentropy": -_xlogy(y, p + EPS) - _xlogy(1 - y, 1 - p + EPS),
        "logitbinarycrossentropy": (1 - y) * z - _logsigmoid(z),
        "kldivergence": None,            # a sum of two reductions, below
        "hinge_loss": np.maximum(0, 1 - z * s),
        "squared_hinge_loss": np.maximum(0, 1 - z * s) ** 2,
        "poisson_loss": p - _xlogy(y, p),
    }


def _inputs(rng, shape=(5, 7)):
    z = rng.standard_normal(shape).astype(F32) * 2
    p = _softmax(z).astype(F32)
    y = np.eye(shape[0], dtype=F32)[:, rng.integers(0, shape[0], shape[1])]
    s = np.where(rng.random(shape) < 0.5, -1, 1).astype(F32)
    return p, z, y, s


def _kl(p, y, agg):
    with np.errstate(divide="ignore", invalid="ignore"):
        ent = np.where(y == 0, 0, y * np.log(y)).sum(axis=0, keepdims=True)
    return agg(ent) + agg(-_xlogy(y, p + EPS).sum(axis=0, keepdims=True))


CALLS = """
    (mae(p, y{a}), mse(p, y{a}), msle(p, y{a}), huber_loss(p, y{a}), crossentropy(p, y{a}),
     logitcrossentropy(z, y{a}), binarycrossentropy(p, y{a}), logitbinarycrossentropy(z, y{a}),
     kldivergence(p, y{a}), hinge_loss(z, s{a}), squared_hinge_loss(z, s{a}), poisson_loss(p, y{a}))
"""


@pytest.mark.parametrize("agg,npagg", [("", np.mean), ("; agg=sum", np.sum), ("; agg=mean", np.mean)])
def test_losses_against_flux_formulas(rng, agg, npagg):
    p, z, y, s = _inputs(rng)
    out = function(f"main(p, z, y, s) = {CALLS.format(a=agg)}", "main")(p, z, y, s)
    refs = references(p.astype(np.float64), z.astype(np.float64), y, s)
    for name, got, ref in zip(NAMES, out, refs.values()):
        want = _kl(p.astype(np.float64), y, npagg) if name == "kldivergence" else npagg(ref)
        assert got.dtype == F32 and got.shape == (), name
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-6, err_msg=name)


def test_agg_identity_keeps_flux_shapes(rng):
    p, z, y, s = _inputs(rng, (4, 3))
    out = function("main(p, z, y) = (crossentropy(p, y; agg=identity), mse(p, y; agg=identity), "
                   "logitcrossentropy(z, y; dims=2, agg=identity), crossentropy(p, y; dims=2, agg=sum))",
                   "main")(p, z, y)
    refs = references(p.astype(np.float64), z.astype(np.float64), y, s)
    assert_same(out[0], refs["crossentropy"].astype(F32), rtol=1e-5, atol=1e-6)
    assert_same(out[1], refs["mse"].astype(F32), rtol=1e-5, atol=1e-7)
    assert_same(out[2], (-(y * _logsoftmax(z.astype(np.float64), 1)).sum(axis=1, keepdims=True)).astype(F32),
                rtol=1e-5, atol=1e-6)
    assert_same(out[3], F32(-_xlogy(y, p.astype(np.float64) + EPS).sum()), rtol=1e-5, atol=1e-6)


def test_keywords_delta_eps_and_float64(rng):
    p, y = _softmax(rng.standard_normal(6)).astype(F32), np.eye(6, dtype=F32)[2]
    p64, y64 = p.astype(np.float64), y.astype(np.float64)
    out = function("main(p, y, p64, y64) = (Flux.Losses.huber_loss(p, y; delta=0.1), crossentropy(p, y; eps=0), "
                   "msle(p64, y64), mse(p64, y64), huber_loss(p, y; delta=0.1, agg=sum))", "main")(p, y, p64, y64)
    e = np.abs(p64 - y64)
    huber = np.where(e < 0.1, 0.5 * e ** 2, 0.1 * (e - 0.05))
    assert_same(out[0], F32(huber.mean()), rtol=1e-5, atol=1e-7)
    assert_same(out[1], F32(-_xlogy(y64, p64).sum()), rtol=1e-5, atol=1e-7)
    eps64 = np.finfo(np.float64).eps
    assert_same(out[2], np.float64((np.log((p64 + eps64) / (y64 + eps64)) ** 2).mean()), rtol=1e-12)
    assert_same(out[3], np.float64(((p64 - y64) ** 2).mean()), rtol=1e-12)
    assert_same(out[4], F32(huber.sum()), rtol=1e-5, atol=1e-7)


def test_flux_doc_examples():
    """The values printed in Flux's docstrings."""
    src = """
    main() = (Flux.mae([1.1, 1.9, 3.1], [1.0, 2.0, 3.0]), Flux.mse([1.1, 1.9, 3.1], [1.0, 2.0, 3.0]),
              Flux.msle(Float32[1.1, 2.2, 3.3], Float32[1, 2, 3]), Flux.huber_loss([1.1, 2.1, 3.1], [1.0, 2.0, 3.0]),
              Flux.huber_loss([1.1, 2.1, 3.1], [1.0, 2.0, 3.0]; delta=0.05),
              Flux.hinge_loss([0.1, 0.3, 1, 1.5], [1.0, -1.0, 1.0, 1.0]),
              Flux.squared_hinge_loss([0.1, 0.3, 1, 1.5], [1.0, -1.0, 1.0, 1.0]),
              Flux.logitbinarycrossentropy(Float32[2, -1, pi], Float32[1, 0, 1]))
    """
    out = function(src, "main")()
    want = (0.10000000000000009, 0.010000000000000018, F32(0.009084041), 0.005000000000000009,
            0.003750000000000005, 0.55, 0.625, F32(0.160832))
    for got, w in zip(out, want):
        assert got.dtype == np.asarray(w).dtype
        np.testing.assert_allclose(got, w, rtol=1e-6)


def test_size_mismatch_is_a_compile_error(rng):
    with pytest.raises(JuliaError, match=r"DimensionMismatch: loss function expects size\(ŷ\) = \(3, 2\)"):
        function("main(a, b) = mse(a, b)", "main")(np.ones((3, 2), F32), np.ones((2, 3), F32))


# ---------------------------------------------------------------------------------- gradients
def _jax_losses(p, z, y, s):
    def xlogx(x):
        return jnp.where(x == 0, 0.0, x * jnp.log(jnp.where(x == 0, 1.0, x)))
    e = jnp.abs(p - y)
    ce = jnp.mean(-jxlogy(y, p + EPS).sum(axis=0))
    return (jnp.mean(e), jnp.mean((p - y) ** 2), jnp.mean(jnp.log((p + EPS) / (y + EPS)) ** 2),
            jnp.mean(jnp.where(e < 1, 0.5 * e ** 2, e - 0.5)), ce,
            jnp.mean(-(y * jax.nn.log_softmax(z, axis=0)).sum(axis=0)),
            jnp.mean(-jxlogy(y, p + EPS) - jxlogy(1 - y, 1 - p + EPS)),
            jnp.mean((1 - y) * z - jax.nn.log_sigmoid(z)),
            jnp.mean(xlogx(y).sum(axis=0)) + ce,
            jnp.mean(jnp.maximum(0, 1 - z * s)), jnp.mean(jnp.maximum(0, 1 - z * s) ** 2),
            jnp.mean(p - jxlogy(y, p)))


# the losses of logits (and of ±1 labels) are differentiated in z, the others in p
ON_LOGITS = ("logitcrossentropy", "logitbinarycrossentropy", "hinge_loss", "squared_hinge_loss")


def test_loss_gradients_against_jax(rng):
    p, z, y, s = _inputs(rng)
    y = (0.8 * y + 0.2 * _softmax(rng.standard_normal(y.shape))).astype(F32)   # soft labels: no zeros
    grads = []
    for name in NAMES:
        v, labels = ("z", "s" if "hinge" in name else "y") if name in ON_LOGITS else ("p", "y")
        grads.append(f"gradient({v} -> {name}({v}, {labels}), {v})[1]")
    out = function(f"main(p, z, y, s) = ({', '.join(grads)})", "main")(p, z, y, s)
    for i, name in enumerate(NAMES):
        want = jax.grad(lambda *a, i=i: _jax_losses(*a)[i], argnums=int(name in ON_LOGITS))(p, z, y, s)
        assert_same(out[i], np.asarray(want, F32), rtol=1e-4, atol=1e-6)
