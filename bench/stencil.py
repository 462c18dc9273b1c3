"""2-D heat stencil, slice form and loop form, through jlhlo and through jax.jit in the same
process; prints times and ratios jlhlo/jax, and the cost of run-time bounds checks.

Usage: python bench/stencil.py [N] [STEPS] [--device gpu]
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import jax
import numpy as np

import jlhlo


def heat_slices_jax(u, steps):
    def step(_, u):
        c = u[1:-1, 1:-1]
        return u.at[1:-1, 1:-1].set(c + 0.1 * (u[:-2, 1:-1] + u[2:, 1:-1] + u[1:-1, :-2] + u[1:-1, 2:] - 4 * c))
    return jax.lax.fori_loop(0, steps, step, u)


def median_time(fn, repeats: int) -> float:
    fn()                                   # warm-up
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", nargs="?", type=int, default=512)
    ap.add_argument("steps", nargs="?", type=int, default=100)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    u0 = rng.standard_normal((a.n, a.n))
    dev = jax.devices(a.device)[0]
    u_dev = jax.device_put(u0, dev)
    steps_dev = jax.device_put(np.int64(a.steps), dev)
    prog = jlhlo.load(os.path.join(os.path.dirname(__file__), "..", "examples", "stencil.jl"))

    jax_fn = jax.jit(heat_slices_jax)
    want = np.asarray(jax_fn(u_dev, a.steps))
    t_jax = median_time(lambda: jax_fn(u_dev, a.steps).block_until_ready(), a.repeats)
    print(f"N={a.n} steps={a.steps} device={a.device}   jax.jit (slices): {t_jax * 1e3:8.2f} ms")
    print(f"{'form':<8} {'checks':<7} {'time ms':>9} {'ratio vs jax':>13}")
    results = {}
    for form in ("slices", "loops"):
        for checks in (True, False):
            f = prog.function(f"heat_{form}", check_bounds=checks)
            lowered = f.lower(u0, np.int64(a.steps))
            exe = lowered.compile(a.device)
            out = lowered.outputs([np.asarray(o) for o in exe.call_device(u_dev, steps_dev)])
            np.testing.assert_allclose(out, want, rtol=1e-9, atol=1e-9)
            t = median_time(lambda: [o.block_until_ready() for o in exe.call_device(u_dev, steps_dev)], a.repeats)
            results[form, checks] = t
            print(f"{form:<8} {'on' if checks else 'off':<7} {t * 1e3:9.2f} {t / t_jax:13.2f}")
    for form in ("slices", "loops"):
        cost = results[form, True] / results[form, False] - 1
        print(f"bounds-check cost, {form}: {cost * 100:+.1f}%")


if __name__ == "__main__":
    main()
