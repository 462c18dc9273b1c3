"""What the optimization passes do, per workload: StableHLO op counts after the frontend, after each
-O2 pass and at the end; XLA's optimized HLO instruction count (from the compiled executable, fused
computations included, as the paper's instruction-count figure counts them); seconds per pass;
CPU runtime at -O0, -O1 and -O2; and the same counts for jax.jit(...).lower(...) of the equivalent
JAX model where there is one (VGG19 forward and training step, the MLP).

Workloads: VGG19 forward and training step (examples/vgg19.jl, when it exists; bench/vgg19.py
builds the JAX peer), and the examples mlp.jl, lenet.jl, train_mlp.jl, stencil.jl, newton.jl.

    python bench/passes.py                    # all workloads, VGG19 at 64×64, batch 2
    python bench/passes.py --size 224 --batch 1
    python bench/passes.py vgg19 mlp --runs 5 --print-ir
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")


def _load_module(name: str, path: str):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@dataclass
class Workload:
    name: str
    source: str                                   # Julia source text
    entry: str
    args: Callable[[], tuple]                     # the entry's arguments (Python API values)
    jax: Callable[[], tuple[Callable, tuple]] | None = None   # (function, args) of the JAX peer
    notes: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------- workloads
def _read(name: str) -> str:
    with open(os.path.join(EXAMPLES, name)) as f:
        return f.read()


VGG_TRAIN = """
vgg_loss(m, x, y) = crossentropy(main(m, x), y)
train_step(m, x, y) = (vgg_loss(m, x, y), gradient(model -> vgg_loss(model, x, y), m)[1])
"""


def vgg19_workloads(size: int, batch: int, hidden: int, classes: int) -> list[Workload]:
    if not os.path.exists(os.path.join(EXAMPLES, "vgg19.jl")):
        return []
    bench = _load_module("bench_vgg19", os.path.join(ROOT, "bench", "vgg19.py"))
    mw = bench.make_weights
    rng = np.random.default_rng(0)
    layers = mw.vgg19_layers(rng, size, hidden=hidden, classes=classes)
    model = mw.nested(layers)
    x = mw.example_input("vgg19", rng, batch, size)
    labels = rng.integers(0, classes, batch)
    y = np.zeros((classes, batch), np.float32)
    y[labels, np.arange(batch)] = 1
    jparams = [(np.asarray(w, np.float32), np.asarray(b, np.float32)) for w, b in bench.jax_params(layers, size)]
    xj = bench.to_nhwc(x)

    def jax_train():
        import jax
        import jax.numpy as jnp

        def loss(params, x, y):
            return -jnp.sum(y * jnp.log(bench.jax_vgg19(params, x))) / x.shape[0]

        return jax.value_and_grad(loss), (jparams, xj, y.T)

    src = _read("vgg19.jl")
    note = f"{size}×{size}, batch {batch}, dense {hidden}, {classes} classes"
    return [Workload("vgg19", src, "main", lambda: (model, x), lambda: (bench.jax_vgg19, (jparams, xj)), [note]),
            Workload("vgg19_train", src + VGG_TRAIN, "train_step", lambda: (model, x, y), jax_train, [note])]


def example_workloads() -> list[Workload]:
    mw = _load_module("make_weights", os.path.join(EXAMPLES, "make_weights.py"))
    rng = np.random.default_rng(1)
    out = []
    mlp_layers = mw.mlp_layers(rng)
    mlp_x = mw.example_input("mlp", rng, 32)

    def jax_mlp():
        import jax

        def f(layers, x):
            for i, layer in enumerate(layers):
                x = layer["W"] @ x + layer["b"][:, None]
                if i < len(layers) - 1:
                    x = jax.nn.relu(x)
            return jax.nn.softmax(x, axis=0)

        return f, (mlp_layers, mlp_x)

    out.append(Workload("mlp", _read("mlp.jl"), "main", lambda: (mw.nested(mlp_layers), mlp_x), jax_mlp))
    lenet_layers = mw.lenet_layers(rng)
    lenet_x = mw.example_input("lenet", rng, 8)
    out.append(Workload("lenet", _read("lenet.jl"), "main", lambda: (mw.nested(lenet_layers), lenet_x)))
    n_in, n_hidden, n_out, n = 4, 16, 2, 64
    x = rng.standard_normal((n_in, n)).astype(np.float32)
    y = np.stack([np.sin(x[0]) + x[1], x[2] * x[3]]).astype(np.float32)
    model = {"W1": (rng.standard_normal((n_hidden, n_in)) * 0.5).astype(np.float32),
             "b1": np.zeros(n_hidden, np.float32),
             "W2": (rng.standard_normal((n_out, n_hidden)) * 0.5).astype(np.float32),
             "b2": np.zeros(n_out, np.float32)}
    out.append(Workload("train_mlp", _read("train_mlp.jl"), "train",
                        lambda: (model, x, y, np.float32(0.05), np.int64(200))))
    u0 = rng.random((64, 64))
    out.append(Workload("heat_slices", _read("stencil.jl"), "heat_slices", lambda: (u0, np.int64(50))))
    out.append(Workload("heat_loops", _read("stencil.jl"), "heat_loops", lambda: (u0, np.int64(5))))
    out.append(Workload("newton", _read("newton.jl"), "newton_sqrt", lambda: (2.0,)))
    return out


# ----------------------------------------------------------------------------- measuring
def _total(counts) -> int:
    return sum(counts.values())


def _median_time(fn: Callable[[], object], runs: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def measure(w: Workload, runs: int, print_ir: bool) -> dict:
    import jax
    from jlhlo.mlir_passes import op_counts, optimize
    from jlhlo.runtime.xla_bridge import hlo_instruction_count

    import jlhlo
    from jlhlo.api import flatten_host

    f = jlhlo.load(w.source).function(w.entry)
    args = w.args()
    flat = flatten_host(args)
    row: dict = {"name": w.name, "notes": w.notes}
    lowered = f.lower(*args, optimize_level=None)
    frontend = op_counts(lowered.module)
    row["frontend"] = _total(frontend)
    row["frontend_transposes"] = frontend["stablehlo.transpose"]
    steps: list[tuple[str, int, float]] = []
    timings: dict[str, float] = {}
    seen: dict[str, float] = {}

    def after(name: str, text: str) -> None:
        if print_ir:
            print(f"// ----- {w.name} after {name}\n{text}")
        # Timings accumulate per name (canonicalize runs twice): this run is the increase.
        steps.append((name, _total(op_counts(lowered.module)), timings[name] - seen.get(name, 0.0)))
        seen[name] = timings[name]

    t = time.perf_counter()
    optimize(lowered.module, 2, print_after_each=after, timings=timings)
    row["opt_seconds"] = time.perf_counter() - t
    row["steps"] = steps
    final = op_counts(lowered.module)
    row["final"] = _total(final)
    row["final_transposes"] = final["stablehlo.transpose"]

    device = jax.devices("cpu")[0]
    on_device = [jax.device_put(np.asarray(a), device) for a in flat]
    for level in (0, 1, 2):
        lo = f.lower(*args, optimize_level=level)
        t = time.perf_counter()
        exe = lo.compile()
        row[f"xla_compile_O{level}"] = time.perf_counter() - t
        row[f"hlo_O{level}"] = hlo_instruction_count(exe.loaded)
        row[f"ops_O{level}"] = _total(op_counts(lo.module))
        row[f"run_O{level}"] = _median_time(lambda exe=exe: jax.block_until_ready(exe.call_device(*on_device)), runs)

    if w.jax is not None:
        fn, jargs = w.jax()
        jargs = jax.device_put(jargs, device)
        jlow = jax.jit(fn).lower(*jargs)
        row["jax_ops"] = _total(op_counts(jlow.compiler_ir("stablehlo")))
        compiled = jlow.compile()
        import re
        text = compiled.as_text()
        row["jax_hlo"] = len(re.findall(r"^\s*(ROOT\s+)?%\S+\s*=", text, re.MULTILINE))
        row["jax_run"] = _median_time(lambda: jax.block_until_ready(compiled(*jargs)), runs)
    return row


# ----------------------------------------------------------------------------- tables
def print_passes(row: dict) -> None:
    print(f"\n{row['name']}" + (f"  ({'; '.join(row['notes'])})" if row["notes"] else ""))
    print(f"  {'after':<16}{'ops':>7}{'Δ':>7}{'pass ms':>10}")
    print(f"  {'frontend':<16}{row['frontend']:>7}{'':>7}{'':>10}")
    prev = row["frontend"]
    for name, n, seconds in row["steps"]:
        print(f"  {name:<16}{n:>7}{n - prev:>+7}{seconds * 1e3:>10.1f}")
        prev = n
    print(f"  transposes: {row['frontend_transposes']} after the frontend, {row['final_transposes']} at -O2; "
          f"optimize took {row['opt_seconds'] * 1e3:.0f} ms")


def _opt(row: dict, key: str, fmt: str) -> str:
    return format(row.get(key, "-"), fmt)


def print_summary(rows: list[dict]) -> None:
    print("\nStableHLO ops (whole module, nested regions included) and XLA optimized-HLO instructions")
    print(f"{'workload':<14}{'frontend':>9}{'-O1':>7}{'-O2':>7}{'jax':>7}   "
          f"{'HLO -O0':>8}{'-O1':>7}{'-O2':>7}{'jax':>7}")
    for r in rows:
        print(f"{r['name']:<14}{r['frontend']:>9}{r['ops_O1']:>7}{r['ops_O2']:>7}{_opt(r, 'jax_ops', '>7')}   "
              f"{r['hlo_O0']:>8}{r['hlo_O1']:>7}{r['hlo_O2']:>7}{_opt(r, 'jax_hlo', '>7')}")
    print("\nCPU runtime, ms (median), and XLA compile seconds")
    print(f"{'workload':<14}{'-O0':>9}{'-O1':>9}{'-O2':>9}{'jax':>9}   {'XLA -O0':>8}{'-O1':>7}{'-O2':>7}")
    for r in rows:
        jax_ms = f"{r['jax_run'] * 1e3:>9.2f}" if "jax_run" in r else f"{'-':>9}"
        print(f"{r['name']:<14}{r['run_O0'] * 1e3:>9.2f}{r['run_O1'] * 1e3:>9.2f}{r['run_O2'] * 1e3:>9.2f}{jax_ms}   "
              f"{r['xla_compile_O0']:>8.2f}{r['xla_compile_O1']:>7.2f}{r['xla_compile_O2']:>7.2f}")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="op counts, pass timings and runtimes per optimization level")
    p.add_argument("only", nargs="*", help="workload names (default: all)")
    p.add_argument("--size", type=int, default=64, help="VGG19 image size (a multiple of 32)")
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--hidden", type=int, default=4096, help="VGG19 dense layer width")
    p.add_argument("--classes", type=int, default=1000)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--print-ir", action="store_true", help="dump the IR after each pass")
    args = p.parse_args(argv)
    workloads = vgg19_workloads(args.size, args.batch, args.hidden, args.classes) + example_workloads()
    if args.only:
        workloads = [w for w in workloads if w.name in args.only]
    rows = []
    for w in workloads:
        try:
            rows.append(measure(w, args.runs, args.print_ir))
        except Exception as e:  # noqa: BLE001 -- one failing workload must not hide the others' numbers
            print(f"\n{w.name}: failed: {type(e).__name__}: {e}".splitlines()[0] + "\n", file=sys.stderr)
            continue
        print_passes(rows[-1])
        sys.stdout.flush()
    print_summary(rows)


if __name__ == "__main__":
    main()
