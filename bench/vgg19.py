"""VGG19 forward pass: jlhlo (examples/vgg19.jl) against jax.jit of the same model, same weights,
same process and device.

The Julia model works on WHCN images with (kW, kH, Cin, Cout) kernels; the JAX model is the usual
NHWC / HWIO one, so the weights are converted once (kernels reversed, as NNlib's `conv` is a true
convolution; the first dense layer's columns permuted to NHWC flatten order). Both get their
inputs as device-resident jax arrays (jlhlo through `Executable.call_device`); each time is the
median of ≥ 5 runs after warm-up, the two models' runs alternating. Prints time, TFLOP/s, the
ratio jlhlo/jax, and the transpile (lower → optimized StableHLO) and XLA compile times.

    python bench/vgg19.py                      # CPU, batch 1 and 10
    python bench/vgg19.py --device gpu         # GPU, batch 1, 10 and 100
    python bench/vgg19.py --batch 1 --runs 7
"""
from __future__ import annotations

import argparse
import functools
import importlib.util
import os
import statistics
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE = os.path.join(ROOT, "examples", "vgg19.jl")


def _make_weights():
    spec = importlib.util.spec_from_file_location("make_weights", os.path.join(ROOT, "examples", "make_weights.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


make_weights = _make_weights()


# ----------------------------------------------------------------------------- the JAX model
def jax_params(layers: list[dict[str, np.ndarray]], size: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Julia-layout layers → JAX (NHWC) layout: conv kernels (kW, kH, Cin, Cout) → HWIO, reversed
    spatially; dense W (out, in) → (in, out), the first one's inputs reordered from the
    column-major WHC flatten of Julia to the row-major HWC flatten of NHWC."""
    out, seen_dense = [], False
    for layer in layers:
        w, b = layer["W"], layer["b"]
        if w.ndim == 4:
            out.append((np.ascontiguousarray(w[::-1, ::-1].transpose(1, 0, 2, 3)), b))
        elif not seen_dense:
            seen_dense = True
            s = size // 32
            c = w.shape[1] // (s * s)
            # Julia feature j = w + W*h + W*H*c, i.e. W1.reshape(out, C, H, W)[o, c, h, w]
            w4 = w.reshape(w.shape[0], c, s, s)
            out.append((np.ascontiguousarray(w4.transpose(2, 3, 1, 0).reshape(s * s * c, w.shape[0])), b))
        else:
            out.append((np.ascontiguousarray(w.T), b))
    return out


def to_nhwc(x: np.ndarray) -> np.ndarray:
    """(W, H, C, N) → (N, H, W, C)."""
    return np.ascontiguousarray(x.transpose(3, 1, 0, 2))


def jax_vgg19(params, x, probabilities: bool = True, precision: str = "f32"):
    """VGG19 in JAX on NHWC images: the class probabilities as (N, classes), or the logits. With
    precision "bf16", convolutions and matrix products take bf16 operands and give f32 results
    (what `transpile --precision bf16` does)."""
    import jax
    import jax.numpy as jnp
    from jax import lax
    low = (lambda a: a.astype(jnp.bfloat16)) if precision == "bf16" else (lambda a: a)
    i = 0
    for c in make_weights.VGG19_CONFIG:
        if c == "M":
            x = lax.reduce_window(x, -jnp.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")
        else:
            w, b = params[i]
            i += 1
            x = lax.conv_general_dilated(low(x), low(w), (1, 1), ((1, 1), (1, 1)),
                                         dimension_numbers=("NHWC", "HWIO", "NHWC"), preferred_element_type=jnp.float32)
            x = jax.nn.relu(x + b)
    x = x.reshape(x.shape[0], -1)
    for j, (w, b) in enumerate(params[i:]):
        x = jnp.dot(low(x), low(w), preferred_element_type=jnp.float32) + b
        if j < len(params) - i - 1:
            x = jax.nn.relu(x)
    return jax.nn.softmax(x, axis=1) if probabilities else x


def vgg19_flops(size: int, batch: int, hidden: int = 4096, classes: int = 1000) -> float:
    """Multiply-adds ×2 of the convolutions and dense layers (bias, ReLU, pools, softmax left out)."""
    flops, cin, s = 0, 3, size
    for c in make_weights.VGG19_CONFIG:
        if c == "M":
            s //= 2
        else:
            flops += 2 * 9 * cin * c * s * s
            cin = c
    feats = cin * s * s
    flops += 2 * (feats * hidden + hidden * hidden + hidden * classes)
    return float(flops * batch)


# ----------------------------------------------------------------------------- measuring
def _median_times(fns: list, runs: int, warmup: int) -> list[float]:
    """Median time of each function; the runs alternate between them, so that a busy machine
    slows all of them alike."""
    for _ in range(warmup):
        for fn in fns:
            fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(runs):
        for fn, ts in zip(fns, times):
            t = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t)
    return [statistics.median(ts) for ts in times]


def bench(batches: list[int], platform: str, size: int, runs: int, warmup: int, seed: int,
          precision: str = "f32") -> list[dict]:
    import jax

    import jlhlo
    from jlhlo.api import flatten_host

    rng = np.random.default_rng(seed)
    layers = make_weights.vgg19_layers(rng, size)
    device = jax.devices(platform)[0]
    jparams = jax.device_put([(np.asarray(w, np.float32), np.asarray(b, np.float32))
                              for w, b in jax_params(layers, size)], device)
    model = make_weights.nested(layers)
    weights_dev = [jax.device_put(a, device) for a in flatten_host((model,))]
    prog = jlhlo.load(EXAMPLE)
    f = prog.function("main")
    jitted = jax.jit(functools.partial(jax_vgg19, precision=precision))
    rows = []
    for batch in batches:
        x = make_weights.example_input("vgg19", rng, batch, size)
        # jlhlo: transpile (parse is done once above; lower + optimize here) and XLA compile
        t = time.perf_counter()
        lowered = f.lower(model, x, precision=precision) if precision != "f32" else f.lower(model, x)
        t_transpile = time.perf_counter() - t
        t = time.perf_counter()
        exe = lowered.compile(platform)
        t_xla = time.perf_counter() - t
        x_dev = jax.device_put(x, device)
        args = weights_dev + [x_dev]

        def run_jlhlo(exe=exe, args=args):
            out = exe.call_device(*args)
            jax.block_until_ready(out)
            return out

        # JAX: jit compile of the same model
        xj = jax.device_put(to_nhwc(x), device)
        t = time.perf_counter()
        compiled = jitted.lower(jparams, xj).compile()
        t_jax_compile = time.perf_counter() - t

        def run_jax(compiled=compiled, xj=xj):
            return jax.block_until_ready(compiled(jparams, xj))

        ours = np.asarray(run_jlhlo()[0])
        ref = np.asarray(run_jax()).T
        rel = float(np.linalg.norm(ours - ref) / np.linalg.norm(ref))
        t_ours, t_jax = _median_times([run_jlhlo, run_jax], runs, warmup)
        flops = vgg19_flops(size, batch)
        rows.append({"batch": batch, "ours": t_ours, "jax": t_jax, "ratio": t_ours / t_jax,
                     "tf_ours": flops / t_ours / 1e12, "tf_jax": flops / t_jax / 1e12, "transpile": t_transpile,
                     "xla": t_xla, "jax_compile": t_jax_compile, "rel": rel})
        print_row(rows[-1])
        sys.stdout.flush()
    return rows


HEADER = (f"{'batch':>5} {'jlhlo ms':>10} {'jax ms':>10} {'ratio':>6} {'jlhlo TF/s':>10} {'jax TF/s':>9} "
          f"{'transpile s':>11} {'XLA s':>7} {'jax jit s':>9} {'rel err':>8}")


def print_row(r: dict) -> None:
    print(f"{r['batch']:>5} {r['ours'] * 1e3:10.1f} {r['jax'] * 1e3:10.1f} {r['ratio']:6.3f} {r['tf_ours']:10.3f} "
          f"{r['tf_jax']:9.3f} {r['transpile']:11.3f} {r['xla']:7.2f} {r['jax_compile']:9.2f} {r['rel']:8.1e}")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="VGG19 forward: jlhlo vs jax.jit")
    p.add_argument("--device", choices=("cpu", "gpu"), default="cpu")
    p.add_argument("--batch", type=int, nargs="+", default=None,
                   help="batch sizes (default: 1 10 on CPU, 1 10 100 on GPU)")
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--precision", choices=("f32", "bf16"), default="f32",
                   help="bf16: convolutions and matrix products on bf16 operands, f32 results (both sides)")
    args = p.parse_args(argv)
    batches = args.batch or ([1, 10] if args.device == "cpu" else [1, 10, 100])
    import jax
    print(f"VGG19 {args.size}×{args.size}, {args.device} ({jax.devices(args.device)[0].device_kind}), "
          f"{args.precision}, median of {max(args.runs, 5)} runs after {args.warmup} warm-up")
    print(HEADER)
    bench(batches, args.device, args.size, max(args.runs, 5), args.warmup, args.seed, args.precision)


if __name__ == "__main__":
    main()
