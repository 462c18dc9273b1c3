"""`jlhlo.to_jax` inside jax.jit, jax.grad and jax.vmap, against pure jlhlo and JAX references; and
`--emit portable`, read back with the StableHLO deserializer and run through PJRT by a process that
does not import jlhlo."""
from __future__ import annotations

import json
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import assert_same, cli, write_jl
from jlhlo.frontend.diagnostics import JuliaError

import jlhlo

MODEL = """
struct Layer
    W::Matrix{Float32}
    b::Vector{Float32}
end
function predict(m::Layer, x::Matrix{Float32})
    h = tanh.(m.W * x .+ m.b)
    for i in 1:2                               # a loop jlhlo compiles and differentiates itself
        h = h .* 0.5f0 .+ sin.(h)
    end
    return h
end
loss(m::Layer, x::Matrix{Float32}, y::Matrix{Float32}) = sum((predict(m, x) .- y) .^ 2) / length(y)
function stats(x::Vector{Float64}, n::Int64)
    s = 0.0
    k = 0
    while s < n && k < length(x)
        k += 1
        s += abs(x[k])
    end
    return (s, k, x .* s)
end
scaled(x::Vector{Float64}, n::Int64) = (sum(x .^ 2) * n, n + 1, x .* n)
function noisy(x::Vector{Float64})
    s = 0.0
    for i in 1:3
        s += sum(x .* rand(length(x)))
    end
    return s
end
"""


def predict_ref(m, x):
    h = jnp.tanh(m["W"] @ x + m["b"][:, None])
    for _ in range(2):
        h = h * 0.5 + jnp.sin(h)
    return h


def loss_ref(m, x, y):
    return jnp.sum((predict_ref(m, x) - y) ** 2) / y.size


@pytest.fixture(scope="module")
def prog():
    return jlhlo.load(MODEL, filename="model.jl")


def data(rng, n=4):
    f32 = np.float32
    m = {"W": rng.standard_normal((3, 5)).astype(f32), "b": rng.standard_normal(3).astype(f32)}
    return m, rng.standard_normal((5, n)).astype(f32), rng.standard_normal((3, n)).astype(f32)


def as_numpy(tree):
    return jax.tree_util.tree_map(np.asarray, tree)


def test_forward_eager_and_jit_equal_pure_jlhlo(prog, rng) -> None:
    m, x, y = data(rng)
    f = jlhlo.to_jax(prog.function("loss"), unchecked=True)   # sin(±Inf) would be a DomainError
    want = prog.function("loss")(m, x, y)
    assert_same(as_numpy(f(m, x, y)), want)
    assert_same(as_numpy(jax.jit(f)(m, x, y)), want, rtol=1e-6)
    assert_same(np.asarray(jax.jit(f)(m, x, y)), np.asarray(loss_ref(m, x, y), np.float32), rtol=1e-5)


def test_mixed_results_keep_structure_and_dtypes(prog, rng) -> None:
    x = rng.standard_normal(6)
    f = jlhlo.to_jax(prog.function("stats"), unchecked=True)
    got = jax.jit(f)(x, 2)
    assert isinstance(got, tuple) and all(isinstance(v, jax.Array) for v in got)
    assert_same(as_numpy(got), prog.function("stats")(x, 2))


def test_grad_uses_jlhlo_vjp_and_matches_jax(prog, rng) -> None:
    m, x, y = data(rng)
    f = jlhlo.to_jax(prog.function("loss"), unchecked=True)
    got = jax.jit(jax.grad(f, argnums=(0, 1)))(m, x, y)
    want = jax.grad(loss_ref, argnums=(0, 1))(m, x, y)
    assert_same(as_numpy(got), as_numpy(want), rtol=1e-4, atol=1e-6)
    hlo = jax.jit(jax.grad(f)).lower(m, x, y).as_text()
    assert "jlhlo_loss_vjp" in hlo and "call @jlhlo_loss" in hlo, hlo[:2000]


def test_grad_with_integer_argument_and_result(prog, rng) -> None:
    x = rng.standard_normal(5)
    f = jlhlo.to_jax(prog.function("scaled"))
    g = jax.jit(jax.grad(lambda v: f(v, 3)[0] + jnp.sum(f(v, 3)[2])))(x)
    assert_same(np.asarray(g), 2 * x * 3 + 3.0, rtol=1e-12)
    assert_same(as_numpy(jax.jit(f)(x, 3))[1], np.int64(4))


def test_grad_through_a_loop_whose_trip_count_depends_on_data(prog, rng) -> None:
    """`stats` sums |x[k]| until the sum reaches n: d s / d x[k] = sign(x[k]) for the k it visited."""
    x = rng.standard_normal(6)
    f = jlhlo.to_jax(prog.function("stats"), unchecked=True)
    got = jax.jit(jax.grad(lambda v: f(v, 1)[0]))(x)
    visited = np.searchsorted(np.cumsum(np.abs(x)), 1.0) + 1           # iterations until s >= 1
    want = np.where(np.arange(6) < min(visited, 6), np.sign(x), 0.0)
    assert_same(np.asarray(got), want, rtol=1e-12)


def test_what_jlhlo_cannot_differentiate_is_reported_at_its_line(prog, rng) -> None:
    f = jlhlo.to_jax(prog.function("noisy"), unchecked=True)
    with pytest.raises(JuliaError, match="draws random numbers") as info:
        jax.grad(f)(rng.standard_normal(4))
    assert str(info.value.span).startswith("model.jl:") and "jax.grad of `noisy`" in str(info.value)


def test_training_step_in_jax_matches_pure_jlhlo(prog, rng) -> None:
    m, x, y = data(rng, 8)
    f = jlhlo.to_jax(prog.function("loss"), unchecked=True)

    @jax.jit
    def step(params, x, y):
        value, grads = jax.value_and_grad(f)(params, x, y)
        return jax.tree_util.tree_map(lambda p, g: p - 0.1 * g, params, grads), value

    params, values = m, []
    for _ in range(3):
        params, value = step(params, x, y)
        values.append(value)
    ref = m
    for _ in range(3):
        grads = jax.grad(loss_ref)(ref, x, y)
        ref = jax.tree_util.tree_map(lambda p, g: p - 0.1 * g, ref, grads)
    assert_same(as_numpy(params), as_numpy(ref), rtol=1e-4, atol=1e-5)
    assert_same(np.asarray(values[0]), prog.function("loss")(m, x, y), rtol=1e-6)
    assert values[2] < values[0]


def test_vmap_maps_the_call(prog, rng) -> None:
    m, _, _ = data(rng)
    xs = rng.standard_normal((6, 5, 2)).astype(np.float32)
    f = jlhlo.to_jax(prog.function("predict"), unchecked=True)
    got = jax.jit(jax.vmap(f, in_axes=(None, 0)))(m, xs)
    assert got.shape == (6, 3, 2) and got.dtype == np.float32
    for i in range(6):
        assert_same(np.asarray(got[i]), prog.function("predict")(m, xs[i]), rtol=1e-6)
    grads = jax.vmap(jax.grad(lambda x: jnp.sum(f(m, x))))(xs)
    want = jax.vmap(jax.grad(lambda x: jnp.sum(predict_ref(m, x))))(xs)
    assert_same(np.asarray(grads), np.asarray(want), rtol=1e-4, atol=1e-6)


def test_wrong_shape_is_a_clear_error(prog, rng) -> None:
    f = jlhlo.to_jax(prog.function("stats"), unchecked=True)
    with pytest.raises(Exception, match="MethodError|no method"):
        f(jnp.ones((2, 2)), 1)


# ============================================================================ --emit portable
RUNNER = """
import json, sys
import numpy as np
import jax
jax.config.update("jax_enable_x64", True)
from jax.extend import backend
from jax.extend.mlir import ir
from jax.extend.mlir.dialects import stablehlo
from jax._src.lib import xla_client
assert "jlhlo" not in sys.modules
art, sig, inputs = open(sys.argv[1], "rb").read(), json.load(open(sys.argv[1] + ".json")), np.load(sys.argv[2])
with ir.Context() as ctx:
    stablehlo.register_dialect(ctx)
    module = stablehlo.deserialize_portable_artifact(ctx, art)
    text = str(module)
client = backend.get_backend("cpu")
exe = client.compile_and_load(text, xla_client.DeviceList(tuple(client.devices()[:1])),
                              backend.get_compile_options(num_replicas=1, num_partitions=1))
args = [jax.device_put(np.asarray(inputs[a["name"]], dtype=a["dtype"])) for a in sig["arguments"]]
outs = exe.execute(args)
np.savez(sys.argv[3], **{r["name"]: np.asarray(o) for r, o in zip(sig["results"], outs)})
assert "jlhlo" not in sys.modules
"""


def test_portable_artifact_runs_without_jlhlo(tmp_path, rng) -> None:
    path = write_jl(tmp_path, MODEL, "model.jl")
    m, x, _ = data(rng, 3)
    np.savez(tmp_path / "in.npz", **{"m.W": m["W"], "m.b": m["b"], "x": x})
    r = cli(path, "--entry", "predict", "--inputs", tmp_path / "in.npz", "--emit", "portable", "-o", tmp_path / "p.mlirbc")
    assert r.status == 0 and r.stdout == "", r
    sig = json.loads((tmp_path / "p.mlirbc.json").read_text())
    assert sig["entry"] == "predict" and sig["format"] == "StableHLO portable artifact"
    assert [(a["name"], a["julia_type"], a["dtype"], a["shape"]) for a in sig["arguments"]] == [
        ("m.W", "Matrix{Float32}", "float32", [3, 5]), ("m.b", "Vector{Float32}", "float32", [3]),
        ("x", "Matrix{Float32}", "float32", [5, 3])]
    assert [res["name"] for res in sig["results"]] == ["out"] + (["error_code"] if sig["error_codes"] else [])
    assert all("model.jl:" in e for e in sig["error_codes"])          # sin of an infinity: DomainError
    data_bytes = (tmp_path / "p.mlirbc").read_bytes()
    assert data_bytes[:4] == b"ML\xefR"
    from jax.extend.mlir import ir
    from jax.extend.mlir.dialects import stablehlo
    with ir.Context() as ctx:
        stablehlo.register_dialect(ctx)
        text = str(stablehlo.deserialize_portable_artifact(ctx, data_bytes))
    assert "func.func public @main" in text or "func.func @main" in text
    (tmp_path / "runner.py").write_text(RUNNER)
    p = subprocess.run([sys.executable, str(tmp_path / "runner.py"), str(tmp_path / "p.mlirbc"), str(tmp_path / "in.npz"),
                        str(tmp_path / "out.npz")], capture_output=True, text=True, timeout=300, check=False)
    assert p.returncode == 0, p.stderr[-3000:]
    with np.load(tmp_path / "out.npz") as out:
        assert_same(out["out"], np.asarray(predict_ref(m, x), np.float32), rtol=1e-5, atol=1e-6)


def test_portable_signature_names_tuple_results_and_error_code(tmp_path) -> None:
    path = write_jl(tmp_path, MODEL, "model.jl")
    r = cli(path, "--entry", "stats", "--args", "Float64[4]", "Int64", "--emit", "portable", "-o", tmp_path / "s.bc")
    assert r.status == 0, r
    sig = json.loads((tmp_path / "s.bc.json").read_text())
    assert [a["name"] for a in sig["arguments"]] == ["x", "n"]
    names = [res["name"] for res in sig["results"]]
    assert names[:3] == ["out.1", "out.2", "out.3"]
    assert names[3:] == (["error_code"] if sig["error_codes"] else [])


def test_portable_signature_names_struct_fields_in_the_executables_order(tmp_path) -> None:
    """The input file lists the fields in another order than the struct: the sidecar follows the
    executable's arguments (the struct's field order), with each leaf's shape."""
    path = write_jl(tmp_path, "struct P\n    w::Vector{Float64}\n    a::Float64\nend\nf(p::P, x) = p.w .* p.a .+ x\n")
    np.savez(tmp_path / "in.npz", **{"p.a": np.float64(2.0), "x": np.ones(3), "p.w": np.ones(3)})
    r = cli(path, "--entry", "f", "--inputs", tmp_path / "in.npz", "--emit", "portable", "-o", tmp_path / "f.bc")
    assert r.status == 0, r
    sig = json.loads((tmp_path / "f.bc.json").read_text())
    assert [(a["name"], a["julia_type"], a["shape"]) for a in sig["arguments"]] == \
        [("p.w", "Vector{Float64}", [3]), ("p.a", "Float64", []), ("x", "Vector{Float64}", [3])]


def test_portable_needs_an_output_file(tmp_path) -> None:
    r = cli(write_jl(tmp_path, MODEL), "--entry", "stats", "--args", "Float64[4]", "Int64", "--emit", "portable")
    assert r.status == 2 and "-o" in r.stderr, r


def test_struct_fields_follow_the_struct_not_the_dict_order(rng) -> None:
    """jax's tree functions sort dict keys: a struct's fields are matched by name, not by position."""
    prog = jlhlo.load("struct P\n    w::Vector{Float64}\n    a::Float64\nend\nf(p::P) = p.w .* p.a\n")
    w, a = rng.standard_normal(3), 2.5
    for m in ({"w": w, "a": a}, {"a": a, "w": w}):
        assert_same(prog.function("f")(m), w * a)
        assert_same(np.asarray(jax.jit(jlhlo.to_jax(prog.function("f")))(m)), w * a)
        assert_same(np.asarray(jax.grad(lambda m: jlhlo.to_jax(prog.function("f"))(m).sum())(m)["a"]),
                    np.float64(w.sum()))


SHAPES = """
abstract type Shape end
struct Circle <: Shape
    r::Float64
end
struct Rect{T<:Real} <: Shape
    w::T
    h::T
end
struct Dot <: Shape end
struct Scene
    main::Shape
    k::Int
end
area(c::Circle) = pi * c.r^2
area(r::Rect) = r.w * r.h
area(::Dot) = 0.0
total(s::Shape, k::Int) = k * area(s)
scene(s::Scene) = s.k * area(s.main)
both(a, b) = a.x + b.x
"""


def test_dict_arguments_become_the_struct_a_method_names(rng) -> None:
    """With several methods, or an abstract annotation, the dict's fields pick the struct: the one
    the method names, else the one subtype with those fields; nested dicts follow the field types.
    A dict where nothing names a struct is a named tuple."""
    prog = jlhlo.load(SHAPES)
    r, w, h = rng.uniform(0.5, 2.0, 3)
    assert_same(prog.function("area")({"r": r}), np.float64(np.pi * r**2))
    assert_same(prog.function("area")({"h": h, "w": w}), np.float64(w * h))
    assert_same(prog.function("area")({"w": 2, "h": 3}), np.int64(6))       # Rect{Int64}
    assert_same(prog.function("area")({}), np.float64(0.0))
    assert_same(prog.function("total")({"r": r}, 3), np.float64(3 * np.pi * r**2))
    assert_same(prog.function("scene")({"main": {"w": w, "h": h}, "k": 2}), np.float64(2 * w * h))
    assert_same(prog.function("both")({"x": w}, {"x": 2}), np.float64(w + 2))
    with pytest.raises(jlhlo.UsageError, match="has fields r; got q"):
        prog.function("area")({"q": 1.0})

def test_runtime_checks_are_refused_unless_unchecked(prog) -> None:
    # `x[k]` with a run-time k may be out of bounds: JAX could not report it, so the default refuses
    x = jnp.asarray([0.5, 1.5, 2.0])
    with pytest.raises(JuliaError) as info:
        jlhlo.to_jax(prog.function("stats"))(x, 2)
    assert "BoundsError" in str(info.value) and "unchecked=True" in str(info.value)
    assert str(info.value.span).startswith("model.jl:")
    got = jlhlo.to_jax(prog.function("stats"), unchecked=True)(x, 2)
    assert_same(tuple(np.asarray(g) for g in got), prog.function("stats")(np.asarray(x), 2))
