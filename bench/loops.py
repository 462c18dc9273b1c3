"""Loops as Julia users write them (examples/loops.jl) against the same computation written
vectorized in jax.jit, in the same process, on the same inputs; prints each kernel's time, the ratio
jlhlo/jax, and what jlhlo made of the loop (--explain-loops).

Usage: python bench/loops.py [--n 100000] [--m 300] [--device cpu|gpu] [--repeats 50] [--only dot,matvec]
"""
from __future__ import annotations

import argparse
import os
import time

import jax
import jax.numpy as jnp
import numpy as np

import jlhlo

jax.config.update("jax_enable_x64", True)


def _recurrence(a, b):
    """y[i] = a[i] * y[i-1] + b[i], y[1] = b[1]: an associative scan over affine maps."""
    def compose(left, right):
        a1, b1 = left
        a2, b2 = right
        return a1 * a2, a2 * b1 + b2
    return jax.lax.associative_scan(compose, (a.at[0].set(0.0), b))[1]


def _horner(c, xs):
    p = jnp.full_like(xs, c[-1])
    for k in range(c.shape[0] - 2, -1, -1):    # unrolled: the coefficient count is static
        p = p * xs + c[k]
    return p


def _histogram(x, nbins):
    k = jnp.clip(jnp.floor(x * nbins).astype(jnp.int64) + 1, 1, nbins)
    return jnp.zeros(nbins, jnp.int64).at[k - 1].add(1)


def kernels(n: int, m: int, rng: np.random.Generator):
    """name -> (jlhlo entry, arguments, jax vectorized function)."""
    x, y = rng.standard_normal(n), rng.standard_normal(n)
    A, B, v = rng.standard_normal((m, m)), rng.standard_normal((m, m)), rng.standard_normal(m)
    a = rng.uniform(-0.9, 0.9, n)
    c = rng.standard_normal(16)
    return {
        "dot": ("dot_loop", (x, y), lambda x, y: jnp.dot(x, y)),
        "norm": ("norm_loop", (x,), lambda x: jnp.sqrt(jnp.sum(x * x))),
        "absmax": ("absmax_loop", (x,), lambda x: jnp.max(jnp.abs(x))),
        "argmax": ("argmax_loop", (x,), lambda x: (jnp.max(x), jnp.argmax(x) + 1)),
        "count": ("count_loop", (x,), lambda x: jnp.sum(x > 0)),
        "matvec": ("matvec_loop", (A, v), lambda A, v: A @ v),
        "matmul": ("matmul_loop", (A, B), lambda A, B: A @ B),
        "histogram": ("histogram_loop", (rng.uniform(0, 1, n), np.int64(64)), None),
        "running_sum": ("running_sum_loop", (x,), lambda x: jnp.cumsum(x)),
        "recurrence": ("recurrence_loop", (a, y), _recurrence),
        "stencil": ("stencil_loop", (x,), lambda x: jnp.zeros_like(x).at[1:-1].set(x[:-2] - 2 * x[1:-1] + x[2:])),
        "horner": ("horner_loop", (c, x), _horner),
    }


def best_times(fns, repeats: int) -> list[float]:
    """The fastest of `repeats` runs of each function, run in turn (so load on the machine hits
    both alike): sub-millisecond kernels on a shared CPU are too noisy for a median of a few."""
    for fn in fns:
        fn()                               # warm-up
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for fn, ts in zip(fns, times):
            t = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t)
    return [min(ts) for ts in times]


def _ready(out):
    return [o.block_until_ready() for o in (out if isinstance(out, (list, tuple)) else [out])]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--m", type=int, default=300)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--repeats", type=int, default=50)
    ap.add_argument("--only", default="", help="comma-separated kernel names")
    ap.add_argument("--strict-fp", action="store_true", help="jlhlo keeps float folds in source order")
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    dev = jax.devices(a.device)[0]
    prog = jlhlo.load(os.path.join(os.path.dirname(__file__), "..", "examples", "loops.jl"))
    table = kernels(a.n, a.m, rng)
    table["histogram"] = (table["histogram"][0], table["histogram"][1],
                          lambda x: _histogram(x, int(table["histogram"][1][1])))
    print(f"n={a.n} m={a.m} device={a.device} ({dev.device_kind})")
    print(f"{'kernel':<12} {'jax ms':>9} {'jlhlo ms':>9} {'ratio':>7}  what the loop became")
    for name, (entry, args, ref) in table.items():
        if a.only and name not in a.only.split(","):
            continue
        f = prog.function(entry, strict_fp=a.strict_fp)
        lowered = f.lower(*args)
        notes = [text for span, text in lowered.loop_notes]
        exe = lowered.compile(a.device)
        inputs = [jax.device_put(x, dev) for x in lowered.host_inputs(args)]
        got = lowered.outputs([np.asarray(o) for o in exe.call_device(*inputs)])
        jax_args = [jax.device_put(x, dev) for x in (args if name != "histogram" else args[:1])]
        jitted = jax.jit(ref)
        want = jax.tree_util.tree_map(np.asarray, jitted(*jax_args))
        for g, w in zip(got if isinstance(got, tuple) else (got,), want if isinstance(want, tuple) else (want,)):
            np.testing.assert_allclose(np.asarray(g, np.float64), np.asarray(w, np.float64), rtol=1e-8, atol=1e-8)
        t_jax, t_jl = best_times([lambda: _ready(jitted(*jax_args)), lambda: _ready(exe.call_device(*inputs))],
                                 a.repeats)
        print(f"{name:<12} {t_jax * 1e3:9.3f} {t_jl * 1e3:9.3f} {t_jl / t_jax:7.2f}  {'; '.join(notes)}")


if __name__ == "__main__":
    main()
