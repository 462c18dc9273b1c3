"""One program partitioned over several devices (and processes) by XLA's SPMD partitioner: `--mesh`
and `--shard` on the command line, `mesh=` and `shardings=` in the API (runtime/sharding.py).

The number of host devices is fixed when jax starts (`XLA_FLAGS=--xla_force_host_platform_device_count`),
so the partitioned runs are in subprocesses: one with 8 devices that checks training data-parallel
and tensor-parallel against the one-device run of the same process, and a distributed run of two
processes of 2 devices each (gloo on 127.0.0.1). The errors, which all arise before anything runs
on a mesh (or from having too few devices), are checked in this process.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import cli, load_npz, save_npz, write_jl
from jlhlo.runtime import flatten_outputs

import jlhlo

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRAIN_MLP = os.path.join(ROOT, "examples", "train_mlp.jl")
MLP = os.path.join(ROOT, "examples", "mlp.jl")
RTOL = 1e-5        # normwise, per result leaf: max |got - want| / max |want|

SMALL = """
struct Layer
    W::Matrix{Float64}
    b::Vector{Float64}
end
affine(l::Layer, x::Matrix{Float64}) = l.W * x .+ l.b
scaled(p, x::Matrix{Float64}) = p[1] .* x .+ p[2]
shout(x::Matrix{Float64}) = (println("total: ", sum(x)); x .* 2)
"""
AFFINE_CALL = "affine((W = [1.0 2.0; 3.0 4.0], b = [0.5, -0.5]), [1.0 2.0 3.0 4.0; 5.0 6.0 7.0 8.0])"


def train_mlp_inputs(steps: int = 5) -> tuple:
    """The model, data and hyperparameters of examples/run_train_mlp.py, for a few steps."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 64)).astype(np.float32)
    y = np.stack([np.sin(x[0]) + x[1], x[2] * x[3]]).astype(np.float32)
    model = {"W1": (rng.standard_normal((16, 4)) * 0.5).astype(np.float32), "b1": np.zeros(16, np.float32),
             "W2": (rng.standard_normal((2, 16)) * 0.5).astype(np.float32), "b2": np.zeros(2, np.float32)}
    return model, x, y, np.float32(0.05), np.int64(steps)


def mismatches(got: dict[str, np.ndarray], want: dict[str, np.ndarray]) -> list[str]:
    """Flat results (`flatten_outputs`) that differ from the reference in keys, dtype, shape or value."""
    if list(got) != list(want):
        return [f"keys {list(got)} != {list(want)}"]
    out = []
    for key, w in want.items():
        g = got[key]
        if g.dtype != w.dtype or g.shape != w.shape:
            out.append(f"{key}: {g.dtype}{list(g.shape)} != {w.dtype}{list(w.shape)}")
        elif np.max(np.abs(g - w), initial=0) > RTOL * max(np.max(np.abs(w), initial=0), 1e-30):
            out.append(f"{key}: max abs difference {np.max(np.abs(g - w))} (max |want| {np.max(np.abs(w))})")
    return out


# ----------------------------------------------------------------------------- 8 devices, one process
# Runs with 8 forced host devices; prints one JSON object: per check, what the test asserts on.
EIGHT_DEVICES = r'''
import json, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
import jlhlo, jlhlo.cli
from jlhlo.frontend.diagnostics import JuliaError
from jlhlo.runtime import flatten_outputs
from test_sharding import MLP, TRAIN_MLP, mismatches, train_mlp_inputs

report = {}
def check(name, fn, args, mesh, shardings):
    """The partitioned run against the one-device run; the collectives XLA inserted."""
    want = flatten_outputs(fn(*args))
    sharded = fn.loaded.function(fn.name, mesh=mesh, shardings=shardings)
    report[name] = mismatches(flatten_outputs(sharded(*args)), want)
    lowered = sharded.lower(*args)
    exe = lowered.compile("cpu", mesh=mesh, shardings=shardings)
    hlo = exe.xla_hlo_text()
    report[name + " collectives"] = sorted(c for c in ("all-reduce", "all-gather", "all-to-all", "reduce-scatter")
                                           if c in hlo)
    return exe, lowered

train = jlhlo.load(TRAIN_MLP).function("train")
args = train_mlp_inputs()
exe, lowered = check("data-parallel training", train, args, {"data": 8}, {"x": (None, "data"), "y": (None, "data")})
results = exe.call_device(*lowered.host_inputs(args))
report["global results"] = sorted({f"{type(r).__name__}: whole on each of {len(r.sharding.device_set)} devices "
                                   f"{r.is_fully_replicated}" for r in results})
check("tensor-parallel training", train, args, {"model": 4},
      {"m.W1": ("model", None), "m.b1": ("model",), "m.W2": (None, "model")})

rng = np.random.default_rng(1)
layers = [{"W": rng.standard_normal((o, i)).astype(np.float32) / np.sqrt(i), "b": np.zeros(o, np.float32)}
          for i, o in ((784, 128), (128, 64), (64, 10))]
x = rng.random((784, 8), dtype=np.float32)
y = np.eye(10, 8, dtype=np.float32)
check("tensor-parallel Dense layers", jlhlo.load(MLP).function("losses"), ({"layers": tuple(layers)}, x, y),
      {"data": 2, "model": 4}, {"m.layers.1.W": ("model", None), "m.layers.2.W": (None, "model"),
                                "x": (None, "data"), "y": (None, "data")})

program = jlhlo.load("""
using Random
function noisy(x::Matrix{Float32}, k::Int64)
    Random.seed!(k)
    return x .* rand(Float32, size(x, 1), size(x, 2)) .+ randn(Float32, size(x, 1), size(x, 2))
end
at(x::Vector{Float64}, i::Int64) = sum(x) * x[i]
""")
check("random numbers", program.function("noisy"), (np.ones((4, 64), np.float32), 5), {"data": 8},
      {"x": (None, "data")})
at = program.function("at", mesh={"data": 8}, shardings={"x": ("data",)})
report["checked index"] = float(at(np.arange(1.0, 17.0), 3))
try:
    at(np.arange(1.0, 17.0), 17)
    report["index out of bounds"] = "no error"
except JuliaError as e:
    report["index out of bounds"] = e.message.partition(":")[0]

# with_sharding_constraint inside the program: equal to the one-device run (where it is dropped),
# forward and gradient, and an sdy.sharding_constraint in what the partitioner gets
hinted = jlhlo.load("""
function mlp(W1, W2, x)
    h = relu.(W1 * x)
    h = with_sharding_constraint(h, (nothing, :data))
    return sum(abs2, W2 * h)
end
grad(W1, W2, x) = gradient(mlp, W1, W2, x)
""")
W1, W2, xh = rng.standard_normal((8, 4)), rng.standard_normal((2, 8)), rng.standard_normal((4, 16))
for entry in ("mlp", "grad"):
    check(f"sharding hint {entry}", hinted.function(entry), (W1, W2, xh), {"data": 8}, {})
from jlhlo.runtime.sharding import Mesh, annotated
lowered = hinted.function("mlp").lower(W1, W2, xh)
text = str(annotated(lowered.module, lowered.sharding_plan(Mesh.of({"data": 8}), {})))
report["sharding hint in the module"] = text.count("sdy.sharding_constraint")

# the command line, in this process: the same keys and values as the API's one-device results
model, x, y, lr, steps = args
inputs = {f"m.{k}": v for k, v in model.items()} | {"x": x, "y": y, "lr": lr, "steps": steps}
np.savez(sys.argv[2] + "/in.npz", **inputs)
status = jlhlo.cli.main([TRAIN_MLP, "--entry", "train", "--inputs", sys.argv[2] + "/in.npz", "--run",
                         "--outputs", sys.argv[2] + "/out.npz", "--mesh", "data=4,model=2",
                         "--shard", "x=_,data", "--shard", "y=_,data", "--shard", "m.W1=model,_"])
with np.load(sys.argv[2] + "/out.npz") as z:
    report["command line"] = [status] + mismatches({k: z[k] for k in z.files}, flatten_outputs(train(*args)))
print("REPORT " + json.dumps(report))
'''


def test_eight_devices_give_the_one_device_results(tmp_path) -> None:
    """One subprocess (a jax start costs seconds) for every check on 8 devices; each check is listed
    when it fails."""
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=8", "PYTHONWARNINGS": "ignore"}
    p = subprocess.run([sys.executable, "-c", EIGHT_DEVICES, os.path.dirname(__file__), str(tmp_path)],
                       capture_output=True, text=True, env=env, timeout=300, check=False)
    lines = [line for line in p.stdout.splitlines() if line.startswith("REPORT ")]
    assert p.returncode == 0 and lines, f"exit {p.returncode}\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}"
    report = json.loads(lines[-1][len("REPORT "):])
    expected = {
        # partitioned runs equal to the one-device run (no mismatching result leaf)
        "data-parallel training": [], "tensor-parallel training": [], "tensor-parallel Dense layers": [],
        "random numbers": [], "sharding hint mlp": [], "sharding hint grad": [], "sharding hint in the module": 1,
        # the gradient summed over a split batch, and products contracting a split dimension
        "data-parallel training collectives": ["all-reduce"],
        "global results": ["ArrayImpl: whole on each of 8 devices True"],
        "checked index": sum(range(1, 17)) * 3.0,
        "index out of bounds": "BoundsError",
        "command line": [0],
    }
    problems = [f"{name}: {report.get(name)!r}, want {want!r}" for name, want in expected.items()
                if report.get(name) != want]
    if "all-reduce" not in report["tensor-parallel Dense layers collectives"]:
        problems.append(f"tensor-parallel Dense layers: no all-reduce in {report['tensor-parallel Dense layers collectives']}")
    assert not problems, "\n".join(problems)


# ----------------------------------------------------------------------------- 2 processes × 2 devices
def test_two_processes_with_gloo_give_the_one_device_results(tmp_path) -> None:
    args = train_mlp_inputs()
    model, x, y, lr, steps = args
    inputs = save_npz(tmp_path / "in.npz", **{f"m.{k}": v for k, v in model.items()}, x=x, y=y, lr=lr, steps=steps)
    want = flatten_outputs(jlhlo.load(TRAIN_MLP).function("train")(*args))
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2", "PYTHONWARNINGS": "ignore"}
    start = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "jlhlo.cli", TRAIN_MLP, "--entry", "train", "--inputs", inputs,
                        "--run", "--outputs", tmp_path / "out.npz", "--mesh", "data=4", "--shard", "x=_,data",
                        "--shard", "y=_,data", "--local-processes", "2"],
                       capture_output=True, text=True, env=env, timeout=120, check=False)
    elapsed = time.perf_counter() - start
    assert p.returncode == 0, f"{p.stdout[-2000:]}\n{p.stderr[-2000:]}"
    assert elapsed < 60, elapsed
    assert p.stdout.count("MLP(") == 1, p.stdout         # printed once, by process 0
    assert mismatches(load_npz(tmp_path / "out.npz"), want) == []


# ----------------------------------------------------------------------------- errors (in this process)
@pytest.mark.parametrize("options, message", [
    (["--mesh", "data=4", "--shard", "x=_,data", "--shard", "l.W=data,_"],
     "sharding of `l.W`: dimension 1 has size 2, which the 4 devices of axis `data` do not divide"),
    (["--mesh", "data=2", "--shard", "x=_,model"], "sharding of `x`: the mesh data=2 has no axis `model`"),
    (["--mesh", "data=2", "--shard", "l.V=data,_"], "the entry has no parameter or leaf `l.V`; its arrays are "
                                                    "l.W, l.b, x"),
    (["--mesh", "data=2", "--shard", "l=data"], "sharding of `l`: it is a tuple or struct; shard its arrays one "
                                                "by one (l.W, l.b)"),
    (["--mesh", "data=2", "--shard", "x=data"], "sharding of `x`: it is an array of size 2×4 with 2 dimension(s); "
                                                "the sharding gives 1 (data)"),
    (["--mesh", "data=2", "--shard", "x=data,data"], "sharding of `x`: axis `data` splits two dimensions"),
    (["--shard", "x=_,data"], "--shard needs --mesh"),
    (["--mesh", "data"], "--mesh: mesh 'data': expected AXIS=SIZE"),
    (["--mesh", "data=0"], "mesh axis `data` has size 0"),
    (["--mesh", "data=2", "--shard", "x=_,data", "--shard", "x=_,_"], "--shard: `x` is given twice"),
    (["--mesh", "data=2", "--emit", "portable", "-o", "a.bin"], "--mesh applies to --run, --emit optimized"),
    (["--mesh", "data=2", "--run", "--num-processes", "2"], "needs --coordinator (or $JLHLO_COORDINATOR), "
                                                            "--process-id"),
    (["--run", "--process-id", "0"], "--process-id runs a mesh over several processes: give --mesh too"),
    (["--mesh", "data=2", "--local-processes", "2", "--process-id", "1"], "--local-processes chooses"),
])
def test_a_sharding_that_does_not_fit_is_bad_usage(tmp_path, options: list[str], message: str) -> None:
    r = cli(write_jl(tmp_path, SMALL), "--call", AFFINE_CALL, *options)
    assert r.status == 2 and r.stdout == "", r
    assert r.stderr.startswith("transpile: error: ") and message in r.stderr and r.stderr.count("\n") == 1, r


def test_a_mesh_larger_than_the_devices_says_how_to_get_more(tmp_path) -> None:
    r = cli(write_jl(tmp_path, SMALL), "--call", AFFINE_CALL, "--run", "--mesh", "data=4096")
    assert r.status == 2 and r.stderr.count("\n") == 1, r
    assert "the mesh data=4096 needs 4096 cpu devices; there are " in r.stderr, r
    assert "XLA_FLAGS=--xla_force_host_platform_device_count=4096" in r.stderr, r


def test_distributed_settings_come_from_the_environment_with_a_mesh(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("JLHLO_NUM_PROCESSES", "2")
    monkeypatch.setenv("JLHLO_PROCESS_ID", "5")
    path = write_jl(tmp_path, SMALL)
    r = cli(path, "--call", AFFINE_CALL, "--run", "--mesh", "data=2")
    assert r.status == 2 and "needs --coordinator (or $JLHLO_COORDINATOR)" in r.stderr, r
    monkeypatch.setenv("JLHLO_COORDINATOR", "127.0.0.1:1")
    r = cli(path, "--call", AFFINE_CALL, "--run", "--mesh", "data=2")
    assert r.status == 2 and "process id 5 of 2 processes" in r.stderr, r
    r = cli(path, "--call", AFFINE_CALL, "--run")         # without --mesh the environment is not read
    assert r.status == 0 and r.stdout.startswith("2×4 Matrix{Float64}:"), r


def test_the_annotated_module_is_what_the_partitioner_gets(tmp_path) -> None:
    r = cli(write_jl(tmp_path, SMALL), "--call", AFFINE_CALL, "--mesh", "data=2,model=2", "--shard", "x=_,data",
            "--shard", "l.W=model,_")
    assert r.status == 0, r
    assert 'sdy.mesh @jlhlo_mesh = <["data"=2, "model"=2]>' in r.stdout
    main = next(line for line in r.stdout.splitlines() if "func.func @main" in line)
    assert main.count("{sdy.sharding = ") == 4          # three arguments, one result
    assert '#sdy.sharding<@jlhlo_mesh, [{"model"}, {}]>' in main and '[{}, {"data"}]' in main


def test_api_errors_are_usage_errors() -> None:
    program = jlhlo.load(SMALL)
    layer = {"W": np.ones((2, 2)), "b": np.zeros(2)}
    x = np.ones((2, 4))
    with pytest.raises(jlhlo.UsageError, match="dimension 2 has size 4, which the 3 devices of axis `data`"):
        program.function("affine", mesh={"data": 3}, shardings={"x": (None, "data")})(layer, x)
    with pytest.raises(jlhlo.UsageError, match="the entry has no parameter or leaf `p.3`; its arrays are p.1, p.2, x"):
        program.function("scaled", mesh={"data": 2}, shardings={"p.3": ()})((2.0, 1.0), x)
    with pytest.raises(jlhlo.UsageError, match="shardings need a mesh"):
        program.function("affine", shardings={"x": (None, "data")})
    with pytest.raises(jlhlo.UsageError, match="mesh axis `data` has size -1"):
        program.function("affine", mesh={"data": -1})
    with pytest.raises(jlhlo.UsageError, match=r"t.jl:8:\d+: this entry prints .* remove the prints to run it on a mesh"):
        jlhlo.load(SMALL, filename="t.jl").function("shout", mesh={"data": 2})(x)
    with pytest.raises(jlhlo.UsageError, match="to_jax: `affine` was made with a mesh"):
        jlhlo.to_jax(program.function("affine", mesh={"data": 2}))


def test_a_sharding_hint_is_dropped_on_one_device_and_checked_on_a_mesh(tmp_path) -> None:
    """`with_sharding_constraint` runs as its argument on one device, to_jax and portable artifacts
    leave it out, and a mesh that lacks its axis or does not divide the dimension is a usage error
    naming the line."""
    source = ("function mlp(W1, x)\n    h = with_sharding_constraint(W1 * x, (nothing, :data))\n"
              "    return sum(h)\nend\n")
    rng = np.random.default_rng(0)
    W1, x = rng.standard_normal((3, 4)), rng.standard_normal((4, 6))
    f = jlhlo.load(source).function("mlp")
    assert np.isclose(f(W1, x), (W1 @ x).sum())
    import jax
    assert np.isclose(float(jax.jit(jlhlo.to_jax(f))(W1, x)), (W1 @ x).sum())
    path = write_jl(tmp_path, source)
    save_npz(tmp_path / "in.npz", W1=W1, x=x)
    for mesh, message in (("model=1", "names the mesh axis `data`"), ("data=4", "does not divide it")):
        r = cli(path, "--entry", "mlp", "--inputs", tmp_path / "in.npz", "--mesh", mesh, "--emit", "optimized")
        assert r.status == 2 and "t.jl:2:9: with_sharding_constraint" in r.stderr and message in r.stderr, r.stderr
    with pytest.raises(jlhlo.frontend.diagnostics.JuliaError, match="one entry per|entries for an array"):
        jlhlo.load(source.replace("(nothing, :data)", "(:data,)")).function("mlp")(W1, x)
