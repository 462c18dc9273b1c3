"""examples/vgg19_train.jl: one VGG19 training step (forward, logit cross-entropy, backward, SGD
update of all 38 parameter arrays) in one executable, against jax.grad of the same JAX model
(bench/train_step.py, on bench/vgg19.py's weight conversion) on the same weights.

VGG19's sixteen convolutions at 32×32 (so the first dense layer is 512 → hidden), batch 2, float32;
the classifier is narrowed (hidden 256, 10 classes) to keep the test fast on a small CPU."""
from __future__ import annotations

import importlib.util
import os

import numpy as np
import pytest

import jlhlo
from jlhlo.api import flatten_host

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE = os.path.join(ROOT, "examples", "vgg19_train.jl")
SIZE, BATCH, HIDDEN, CLASSES, LR = 32, 2, 256, 10, np.float32(0.1)
RTOL = 1e-3   # norm-wise: ||g - g_ref|| / ||g_ref||


def _load(name: str, path: str):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


ts = _load("bench_train_step", os.path.join(ROOT, "bench", "train_step.py"))


def rel(a, b) -> float:
    return ts.rel_diff(a, b)


def arrays(model) -> list[tuple[str, np.ndarray]]:
    """(name, array) of each parameter in the CLI's `m.layers.i.W` order."""
    return [(f"m.layers.{i}.{k}", layer[k]) for i, layer in enumerate(model["layers"], start=1) for k in ("W", "b")]


@pytest.fixture(scope="module")
def case():
    import jax
    rng = np.random.default_rng(19)
    layers = ts.make_weights.vgg19_layers(rng, SIZE, hidden=HIDDEN, classes=CLASSES)
    model = ts.make_weights.nested(layers)
    x = ts.make_weights.example_input("vgg19", rng, BATCH, SIZE)
    y = ts.one_hot(rng, CLASSES, BATCH)
    prog = jlhlo.load(EXAMPLE)
    lowered = prog.function("train_step").lower(model, x, y, LR)
    exe = lowered.compile("cpu")
    loss, new_model = lowered.outputs(exe(*flatten_host((model, x, y, LR))))
    r = prog.function("loss_and_gradient")(model, x, y)
    # the JAX reference, converted back to the Julia layout
    jparams = [(np.asarray(w), np.asarray(b)) for w, b in ts.vgg19_bench.jax_params(layers, SIZE)]
    xj, yj = ts.vgg19_bench.to_nhwc(x), np.ascontiguousarray(y.T)
    jloss, jgrads = jax.jit(jax.value_and_grad(ts.jax_loss))(jparams, xj, yj)
    return {"model": model, "text": lowered.as_text(), "loss": loss, "new": new_model, "gloss": r["val"],
            "grad": r["grad"][0], "jloss": float(jloss), "jgrad": ts.make_weights.nested(ts.julia_layers(jgrads, SIZE))}


def test_layout_conversion_round_trips():
    rng = np.random.default_rng(0)
    for size in (32, 64):
        layers = ts.make_weights.vgg19_layers(rng, size, hidden=8, classes=3)
        back = ts.julia_layers(ts.vgg19_bench.jax_params(layers, size), size)
        assert all(np.array_equal(a[k], b[k]) for a, b in zip(layers, back) for k in ("W", "b"))


def test_training_step_against_jax(case):
    """One test for the four checks, so that one xdist worker builds the (costly) case, not each."""
    check_one_executable(case)
    check_loss(case)
    check_every_weight_gradient(case)
    check_sgd_update_of_all_parameters(case)


def check_one_executable(case):
    text = case["text"]
    assert text.count("func.func") == 1, text.count("func.func")
    assert "func.func public @main(" in text or "func.func @main(" in text


def check_loss(case):
    assert rel(case["loss"], case["jloss"]) < 1e-5
    assert rel(case["gloss"], case["jloss"]) < 1e-5


def check_every_weight_gradient(case):
    g, want = case["grad"], case["jgrad"]
    assert list(g) == ["layers"] and len(g["layers"]) == 19
    assert all(list(layer) == ["W", "b"] for layer in g["layers"])
    got, ref = arrays(g), arrays(want)
    assert len(got) == 38
    bad = []
    for (name, a), (_, b) in zip(got, ref):
        assert a.shape == b.shape and a.dtype == np.float32, (name, a.shape, b.shape, a.dtype)
        if not rel(a, b) <= RTOL:
            bad.append((name, rel(a, b)))
    assert not bad, bad


def check_sgd_update_of_all_parameters(case):
    model, new = case["model"], case["new"]
    # the same structure as the model: (layers = ((W = ..., b = ...), ...),)
    assert list(new) == ["layers"] and len(new["layers"]) == 19
    assert all(list(layer) == ["W", "b"] for layer in new["layers"])
    for (name, p), (_, q), (_, g) in zip(arrays(model), arrays(new), arrays(case["jgrad"])):
        assert q.shape == p.shape and q.dtype == np.float32, name
        want = p - LR * g
        assert rel(q, want) < 1e-5, (name, rel(q, want))
        # the step taken is lr times the gradient (up to the rounding of p - lr*g in float32)
        step = (p.astype(np.float64) - q) / LR
        tol = RTOL + 4 * np.finfo(np.float32).eps * np.linalg.norm(p) / (LR * np.linalg.norm(g))
        assert rel(step, g) < tol, (name, rel(step, g), tol)
