"""Whole training loops in one executable: the Flux-style MLP classifier of examples/train_flux_mlp.jl
(`train`: Chain of Dense layers, logitcrossentropy, withgradient, Adam through Optimisers.update, for
`steps` steps) against jax.jit of the same loop written in JAX (lax.scan over the steps, Optimisers.jl's
Adam by hand), same initial weights and data, same process and device.

Both take device-resident inputs and return the loss of every step and the trained weights; each time
is the median of ≥ 5 runs after warm-up, the two alternating. Prints the time per loop and per step,
the ratio jlhlo/jax, the transpile (lower → optimized StableHLO), XLA and jax.jit compile times, and
the largest relative difference of the losses and of the trained weights.

    python bench/train_models.py                        # CPU, batch 256, hidden 64, 100 steps
    python bench/train_models.py --batch 1024 --hidden 256 --steps 200
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


def jax_mlp_train(W1, b1, W2, b2, x, labels, steps: int, eta=1e-2, beta=(0.9, 0.999), eps=1e-8):
    """examples/train_flux_mlp.jl's `train` in JAX: (losses, ((W1, b1), (W2, b2))). Adam as
    Optimisers.jl's: βt starts at β and is multiplied by β after each step."""
    import jax
    import jax.numpy as jnp

    y = jax.nn.one_hot(labels - 1, W2.shape[0], dtype=jnp.float32, axis=0)   # f32 also under jax_enable_x64
    b1_, b2_ = beta

    def loss(p):
        (W1, b1), (W2, b2) = p
        z = W2 @ jax.nn.relu(W1 @ x + b1[:, None]) + b2[:, None]
        return jnp.mean(-(y * jax.nn.log_softmax(z, axis=0)).sum(axis=0))

    def step(carry, _):
        p, m, v, bt = carry
        val, g = jax.value_and_grad(loss)(p)
        m = jax.tree.map(lambda m, g: b1_ * m + (1 - b1_) * g, m, g)
        v = jax.tree.map(lambda v, g: b2_ * v + (1 - b2_) * g * g, v, g)
        p = jax.tree.map(lambda p, m, v: p - m / (1 - bt[0]) / (jnp.sqrt(v / (1 - bt[1])) + eps) * eta, p, m, v)
        return (p, m, v, (bt[0] * b1_, bt[1] * b2_)), val

    params = ((W1, b1), (W2, b2))
    zeros = jax.tree.map(jnp.zeros_like, params)
    bt = (jnp.float32(b1_), jnp.float32(b2_))
    (params, _, _, _), losses = jax.lax.scan(step, (params, zeros, zeros, bt), None, length=steps)
    return losses, params


def rel_diff(a, b) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-30))


def bench(platform: str, batch: int, hidden: int, steps: int, runs: int, warmup: int, seed: int) -> dict:
    import jax

    import jlhlo
    _median_times = _load("bench_vgg19", os.path.join(ROOT, "bench", "vgg19.py"))._median_times

    rng = np.random.default_rng(seed)
    args = mlp_problem(rng, n_in=16, hidden=hidden, classes=10, batch=batch)
    device = jax.devices(platform)[0]
    f = jlhlo.load(EXAMPLE).function("train")
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
    jitted = jax.jit(jax_mlp_train, static_argnums=6)
    t = time.perf_counter()
    compiled = jitted.lower(*jargs, steps).compile()
    t_jax_compile = time.perf_counter() - t

    def run_jax():
        return jax.block_until_ready(compiled(*jargs))

    losses, model = lowered.outputs([np.asarray(a) for a in run_jlhlo()])
    jlosses, ((W1, b1), (W2, b2)) = run_jax()
    ours = [model["layers"][0]["W"], model["layers"][0]["b"], model["layers"][1]["W"], model["layers"][1]["b"]]
    t_ours, t_jax = _median_times([run_jlhlo, run_jax], runs, warmup)
    return {"ours": t_ours, "jax": t_jax, "ratio": t_ours / t_jax, "transpile": t_transpile, "xla": t_xla,
            "jax_compile": t_jax_compile, "loss_rel": rel_diff(losses, jlosses),
            "param_rel": max(rel_diff(a, b) for a, b in zip(ours, (W1, b1, W2, b2))),
            "first": float(losses[0]), "last": float(losses[-1])}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="a whole MLP training loop: jlhlo vs jax.jit")
    p.add_argument("--device", choices=("cpu", "gpu"), default="cpu")
    p.add_argument("--batch", type=int, default=256)
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
    print(f"MLP 16 → {args.hidden} → 10 (relu), batch {args.batch}, {args.steps} Adam steps in one executable, f32, "
          f"{args.device} ({jax.devices(args.device)[0].device_kind}), median of {max(args.runs, 5)} runs after "
          f"{args.warmup} warm-up")
    r = bench(args.device, args.batch, args.hidden, args.steps, max(args.runs, 5), args.warmup, args.seed)
    print(f"{'jlhlo ms':>10} {'jax ms':>10} {'ratio':>6} {'µs/step':>8} {'transpile s':>11} {'XLA s':>7} "
          f"{'jax jit s':>9} {'loss rel':>9} {'params rel':>10} {'loss first→last':>16}")
    print(f"{r['ours'] * 1e3:10.2f} {r['jax'] * 1e3:10.2f} {r['ratio']:6.3f} {r['ours'] / args.steps * 1e6:8.1f} "
          f"{r['transpile']:11.3f} {r['xla']:7.2f} {r['jax_compile']:9.2f} {r['loss_rel']:9.1e} "
          f"{r['param_rel']:10.1e} {r['first']:7.3f}→{r['last']:.3f}")


if __name__ == "__main__":
    main()
