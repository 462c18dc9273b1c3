"""The VGG19 training step (examples/vgg19_train.jl, `train_step`, 32×32 images) data-parallel over
1, 2, 4 and 8 devices: the batch split over a mesh axis `data`, the parameters replicated, XLA's
SPMD partitioner inserting the all-reduce of the gradients (jlhlo's `mesh=`/`shardings=`).

The entry is lowered once; each mesh compiles it again. The first row is the one-device executable
without a mesh, the peer every other row is measured against (same process, same inputs). Each time
is the median of ≥ 5 runs after warm-up, inputs already on the devices. Also printed: the XLA
compile time, and how far the loss and the updated parameters are from the one-device step.

On the CPU the devices are forced host devices (XLA_FLAGS=--xla_force_host_platform_device_count,
set here before jax starts) sharing the same cores, so the table shows the cost of partitioning
(collectives, smaller per-device kernels), not a speed-up; on a machine with several GPUs it
shows the speed-up.

    python bench/scaling.py                       # CPU, batch 8, 1 2 4 8 devices
    python bench/scaling.py --devices 1 2 --batch 4 --hidden 512
    python bench/scaling.py --device gpu --batch 64
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


def _bench_module(name: str):
    """A sibling script of bench/ (they are scripts, not a package), for its helpers."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", os.path.join(ROOT, "bench", f"{name}.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


HEADER = (f"{'devices':>10} {'batch/dev':>9} {'step ms':>9} {'vs 1 dev':>8} {'XLA s':>7} {'loss rel':>9} "
          f"{'params rel':>10}")


def bench(devices: list[int], platform: str, batch: int, size: int, hidden: int, classes: int, runs: int,
          warmup: int, seed: int) -> list[dict]:
    import jax

    import jlhlo

    vgg19, train_step = _bench_module("vgg19"), _bench_module("train_step")
    make_weights, rel_diff = vgg19._make_weights(), train_step.rel_diff
    rng = np.random.default_rng(seed)
    model = make_weights.nested(make_weights.vgg19_layers(rng, size, hidden=hidden, classes=classes))
    x = make_weights.example_input("vgg19", rng, batch, size)          # WHCN: the batch is dimension 4
    y = np.zeros((classes, batch), np.float32)
    y[rng.integers(0, classes, batch), np.arange(batch)] = 1
    args = (model, x, y, np.float32(0.01))
    lowered = jlhlo.load(EXAMPLE).function("train_step").lower(*args)
    host = lowered.host_inputs(args)
    rows, reference = [], None
    for n in [None, *devices]:         # None: one device, no mesh
        mesh = None if n is None else {"data": n}
        shardings = None if n is None else {"x": (None, None, None, "data"), "y": (None, "data")}
        t = time.perf_counter()
        exe = lowered.compile(platform, cache=False, mesh=mesh, shardings=shardings)
        t_xla = time.perf_counter() - t
        on_device = exe.put(*host)

        def step(exe=exe, on_device=on_device):
            return jax.block_until_ready(exe.call_device(*on_device))

        loss, new_model = lowered.outputs(exe(*on_device))
        params = [a for layer in new_model["layers"] for a in (layer["W"], layer["b"])]
        if reference is None:
            reference = (loss, params)
        seconds = vgg19._median_times([step], runs, warmup)[0]
        row = {"devices": "1, no mesh" if n is None else str(n), "per_device": batch // (n or 1),
               "ms": seconds * 1e3, "xla": t_xla, "loss_rel": rel_diff(loss, reference[0]),
               "param_rel": max(rel_diff(a, b) for a, b in zip(params, reference[1]))}
        row["ratio"] = row["ms"] / (rows[0]["ms"] if rows else row["ms"])
        rows.append(row)
        print(f"{row['devices']:>10} {row['per_device']:>9} {row['ms']:9.1f} {row['ratio']:8.2f} {row['xla']:7.1f} "
              f"{row['loss_rel']:9.1e} {row['param_rel']:10.1e}", flush=True)
        del exe, on_device
    return rows


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="VGG19 training step, data-parallel over several devices")
    p.add_argument("--device", choices=("cpu", "gpu"), default="cpu")
    p.add_argument("--devices", type=int, nargs="+", default=[1, 2, 4, 8], help="mesh sizes (default 1 2 4 8)")
    p.add_argument("--batch", type=int, default=8, help="the global batch; every mesh size must divide it")
    p.add_argument("--size", type=int, default=32, help="image size, a multiple of 32")
    p.add_argument("--hidden", type=int, default=4096, help="width of the two hidden dense layers")
    p.add_argument("--classes", type=int, default=1000)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if any(args.batch % n for n in args.devices):
        sys.exit(f"every mesh size must divide the batch {args.batch}: {args.devices}")
    if args.device == "cpu" and "xla_force_host_platform_device_count" not in os.environ.get("XLA_FLAGS", ""):
        # the number of host devices is fixed when jax starts, so before the first import of it
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                                   f" --xla_force_host_platform_device_count={max(args.devices)}").strip()
    import jax
    try:
        available = len(jax.devices(args.device))
    except RuntimeError:
        sys.exit(f"no {args.device} device here: nothing to measure")
    if max(args.devices) > available:
        sys.exit(f"{max(args.devices)} {args.device} devices wanted, {available} here")
    print(f"VGG19 training step (SGD), {args.size}×{args.size}, dense {args.hidden}, {args.classes} classes, "
          f"f32, batch {args.batch} split over `data`, {args.device} ({jax.devices(args.device)[0].device_kind}, "
          f"{os.cpu_count()} cores), median of {max(args.runs, 5)} runs after {args.warmup} warm-up")
    print(HEADER)
    bench(args.devices, args.device, args.batch, args.size, args.hidden, args.classes, max(args.runs, 5),
          args.warmup, args.seed)


if __name__ == "__main__":
    main()
