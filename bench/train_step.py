"""One VGG19 training step (forward, cross-entropy on the logits, backward, SGD update of all 38
parameter arrays): jlhlo (examples/vgg19_train.jl, `train_step`, one executable) against
jax.jit(value_and_grad + SGD update) of the same model, same weights, same process and device.

The JAX model is bench/vgg19.py's (NHWC images, HWIO kernels, weights converted from the Julia
layout with its `jax_params`) without the final softmax. Both get device-resident inputs (jlhlo
through `Executable.call_device`) and return the loss and the new parameters (nothing donated);
each time is the median of ≥ 5 runs after warm-up, the two steps' runs alternating. Prints time,
the ratio jlhlo/jax, the transpile (lower → optimized StableHLO) and XLA compile times, jax.jit's
compile time, and the relative difference of the loss and of the updated parameters.

    python bench/train_step.py                         # CPU, 32×32, batch 2 and 8
    python bench/train_step.py --size 64 --batch 4
    python bench/train_step.py --device gpu            # GPU, 224×224, batch 100
    python bench/train_step.py --extra-passes conv_reverse_fold   # kernel instead of activation reversal
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE = os.path.join(ROOT, "examples", "vgg19_train.jl")


def _load(name: str, path: str):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


vgg19_bench = _load("bench_vgg19", os.path.join(ROOT, "bench", "vgg19.py"))
make_weights = vgg19_bench.make_weights


# ----------------------------------------------------------------------------- the JAX model
def jax_vgg19_logits(params, x):
    """VGG19 in JAX on NHWC images, without the softmax: the logits as (N, classes)."""
    return vgg19_bench.jax_vgg19(params, x, probabilities=False)


def jax_loss(params, x, y):
    """logitcrossentropy with one-hot labels y as (N, classes): mean over the batch."""
    import jax
    import jax.numpy as jnp
    return -jnp.sum(y * jax.nn.log_softmax(jax_vgg19_logits(params, x), axis=1)) / x.shape[0]


def jax_train_step(params, x, y, lr):
    """(loss, params - lr * grad)."""
    import jax
    loss, grads = jax.value_and_grad(jax_loss)(params, x, y)
    return loss, jax.tree_util.tree_map(lambda p, g: p - lr * g, params, grads)


def julia_layers(params, size: int) -> list[dict[str, np.ndarray]]:
    """The inverse of bench/vgg19.py's `jax_params`: JAX-layout (w, b) pairs (parameters, or their
    gradients, since the conversion only moves elements) → Julia-layout {"W", "b"} layers."""
    out, seen_dense = [], False
    for w, b in params:
        w, b = np.asarray(w), np.asarray(b)
        if w.ndim == 4:        # HWIO, spatially reversed → (kW, kH, Cin, Cout)
            out.append({"W": np.ascontiguousarray(w.transpose(1, 0, 2, 3)[::-1, ::-1]), "b": b})
        elif not seen_dense:   # (H·W·C, out) in NHWC flatten order → (out, C·H·W) in Julia's WHC order
            seen_dense = True
            s = size // 32
            c = w.shape[0] // (s * s)
            w4 = w.reshape(s, s, c, w.shape[1]).transpose(3, 2, 0, 1)
            out.append({"W": np.ascontiguousarray(w4.reshape(w.shape[1], c * s * s)), "b": b})
        else:
            out.append({"W": np.ascontiguousarray(w.T), "b": b})
    return out


def one_hot(rng: np.random.Generator, classes: int, batch: int) -> np.ndarray:
    """Random one-hot labels as classes×batch (the Julia layout)."""
    y = np.zeros((classes, batch), np.float32)
    y[rng.integers(0, classes, batch), np.arange(batch)] = 1
    return y


def rel_diff(a, b) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30))


# ----------------------------------------------------------------------------- measuring
def bench(batches: list[int], platform: str, size: int, hidden: int, classes: int, runs: int, warmup: int,
          seed: int, lr: float = 0.01, extra_passes: tuple[str, ...] = ()) -> list[dict]:
    import jax

    import jlhlo
    from jlhlo.api import flatten_host

    rng = np.random.default_rng(seed)
    layers = make_weights.vgg19_layers(rng, size, hidden=hidden, classes=classes)
    device = jax.devices(platform)[0]
    jparams = jax.device_put([(np.asarray(w, np.float32), np.asarray(b, np.float32))
                              for w, b in vgg19_bench.jax_params(layers, size)], device)
    model = make_weights.nested(layers)
    weights_dev = [jax.device_put(a, device) for a in flatten_host((model,))]
    lr32 = np.float32(lr)
    lr_dev = jax.device_put(lr32, device)
    f = jlhlo.load(EXAMPLE).function("train_step")
    jitted = jax.jit(jax_train_step)
    rows = []
    for batch in batches:
        x = make_weights.example_input("vgg19", rng, batch, size)
        y = one_hot(rng, classes, batch)
        t = time.perf_counter()
        if extra_passes:   # -O2, then these
            from jlhlo.mlir_passes.pipeline import LEVELS
            lowered = f.lower(model, x, y, lr32, optimize_level=None)
            lowered.optimize(passes=LEVELS[2] + list(extra_passes))
        else:
            lowered = f.lower(model, x, y, lr32)
        t_transpile = time.perf_counter() - t
        t = time.perf_counter()
        exe = lowered.compile(platform)
        t_xla = time.perf_counter() - t
        args = weights_dev + [jax.device_put(x, device), jax.device_put(y, device), lr_dev]

        def run_jlhlo(exe=exe, args=args):
            return jax.block_until_ready(exe.call_device(*args))

        xj = jax.device_put(vgg19_bench.to_nhwc(x), device)
        yj = jax.device_put(np.ascontiguousarray(y.T), device)
        t = time.perf_counter()
        compiled = jitted.lower(jparams, xj, yj, lr_dev).compile()
        t_jax_compile = time.perf_counter() - t

        def run_jax(compiled=compiled, xj=xj, yj=yj):
            return jax.block_until_ready(compiled(jparams, xj, yj, lr_dev))

        loss, new_model = lowered.outputs([np.asarray(a) for a in run_jlhlo()])
        jloss, jnew = run_jax()
        ref = julia_layers(jnew, size)
        ours = [a for layer in new_model["layers"] for a in (layer["W"], layer["b"])]
        theirs = [a for layer in ref for a in (layer["W"], layer["b"])]
        t_ours, t_jax = vgg19_bench._median_times([run_jlhlo, run_jax], runs, warmup)
        rows.append({"batch": batch, "ours": t_ours, "jax": t_jax, "ratio": t_ours / t_jax,
                     "transpile": t_transpile, "xla": t_xla, "jax_compile": t_jax_compile,
                     "loss_rel": rel_diff(loss, jloss),
                     "param_rel": max(rel_diff(a, b) for a, b in zip(ours, theirs))})
        print_row(rows[-1])
        sys.stdout.flush()
    return rows


HEADER = (f"{'batch':>5} {'jlhlo ms':>10} {'jax ms':>10} {'ratio':>6} {'transpile s':>11} {'XLA s':>7} "
          f"{'jax jit s':>9} {'loss rel':>9} {'params rel':>10}")


def print_row(r: dict) -> None:
    print(f"{r['batch']:>5} {r['ours'] * 1e3:10.1f} {r['jax'] * 1e3:10.1f} {r['ratio']:6.3f} {r['transpile']:11.3f} "
          f"{r['xla']:7.2f} {r['jax_compile']:9.2f} {r['loss_rel']:9.1e} {r['param_rel']:10.1e}")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="VGG19 training step: jlhlo vs jax.jit(value_and_grad + SGD)")
    p.add_argument("--device", choices=("cpu", "gpu"), default="cpu")
    p.add_argument("--batch", type=int, nargs="+", default=None, help="batch sizes (default: 2 8 on CPU, 100 on GPU)")
    p.add_argument("--size", type=int, default=None,
                   help="image size, a multiple of 32 (default: 32 on CPU, 224 on GPU)")
    p.add_argument("--hidden", type=int, default=4096, help="width of the two hidden dense layers")
    p.add_argument("--classes", type=int, default=1000)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--extra-passes", default="", metavar="A,B",
                   help="jlhlo passes to run after -O2 (e.g. conv_reverse_fold)")
    args = p.parse_args(argv)
    gpu = args.device == "gpu"
    batches = args.batch or ([100] if gpu else [2, 8])
    size = args.size or (224 if gpu else 32)
    import jax
    try:
        jax.devices(args.device)
    except RuntimeError:
        sys.exit(f"no {args.device} device here: nothing to measure")
    print(f"VGG19 training step (SGD), {size}×{size}, dense {args.hidden}, {args.classes} classes, f32, "
          f"{args.device} ({jax.devices(args.device)[0].device_kind}), median of {max(args.runs, 5)} runs "
          f"after {args.warmup} warm-up")
    extra = tuple(name for name in args.extra_passes.split(",") if name)
    if extra:
        print(f"jlhlo: -O2 then {', '.join(extra)}")
    print(HEADER)
    bench(batches, args.device, size, args.hidden, args.classes, max(args.runs, 5), args.warmup, args.seed,
          extra_passes=extra)


if __name__ == "__main__":
    main()
