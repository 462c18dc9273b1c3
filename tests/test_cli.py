"""The `transpile` command-line contract (DESIGN.md): --entry/--args/--inputs/--outputs naming, --run
printing, every --emit stage, -O levels, --timings, source locations, golden IR checks, and a port of
the public conformance cases tagged core, control, arrays, ir and errors (sources copied here; the
expected values are computed independently with NumPy)."""
from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from conftest import assert_same, cli, cli_subprocess, load_npz, save_npz, write_jl
from programs import ESCAPE, HEAT, NEWTON

f64, f32, i64, i32 = np.float64, np.float32, np.int64, np.int32

SHAPES = """
struct Dense
    W::Matrix{Float64}
    b::Vector{Float64}
end
struct Pt
    x::Float64
    y::Float64
end
struct Layer{M,V}
    W::M
    b::V
end
struct Net
    l1::Layer
    scale::Float32
end
apply(m::Dense, x::Vector{Float64}) = m.W * x .+ m.b
tup(p::Tuple{Float64,Vector{Float64}}) = (p[1] .* p[2], sum(p[2]))
mk(x::Float64) = Pt(x, 2x)
nested(x::Float64) = (x, (2x, Pt(x, x)))
f32id(x::Vector{Float32}, n::Int32, k::Int64, b::Bool) = (x .* 2f0, n + Int32(1), k, !b)
netfwd(net::Net, x::Vector{Float32}) = net.scale .* (net.l1.W * x .+ net.l1.b)
square(x) = x * x
main(x::Float64) = square(x) + square(2.0)
"""


def flatten(prefix: str, value: Any, out: dict) -> dict:
    if isinstance(value, tuple):
        for i, v in enumerate(value, 1):
            flatten(f"{prefix}.{i}", v, out)
    elif isinstance(value, dict):
        for k, v in value.items():
            flatten(f"{prefix}.{k}", v, out)
    else:
        out[prefix] = np.asarray(value)
    return out


def run_cli(tmp_path, source: str, entry: str, inputs: dict, *extra: str, name: str = "t.jl") -> dict[str, np.ndarray]:
    path = write_jl(tmp_path, source, name)
    argv = [path, "--entry", entry, "--run", "--outputs", tmp_path / "out.npz", *extra]
    if inputs:
        argv += ["--inputs", save_npz(tmp_path / "in.npz", **inputs)]
    r = cli(*argv)
    assert r.status == 0, r
    return load_npz(tmp_path / "out.npz")


def assert_outputs(got: dict, want: dict, rtol=None, atol=None) -> None:
    assert sorted(got) == sorted(want), f"output keys {sorted(got)} != {sorted(want)}"
    assert_same(tuple(got[k] for k in sorted(want)), tuple(want[k] for k in sorted(want)), rtol, atol)


# ============================================================================ inputs / outputs naming
def test_single_output_key_out(tmp_path, rng) -> None:
    W, b, x = rng.standard_normal((2, 3)), rng.standard_normal(2), rng.standard_normal(3)
    got = run_cli(tmp_path, SHAPES, "apply", {"m.W": W, "m.b": b, "x": x})
    assert_outputs(got, {"out": W @ x + b})


def test_tuple_input_and_tuple_output(tmp_path, rng) -> None:
    a, v = f64(rng.standard_normal()), rng.standard_normal(4)
    got = run_cli(tmp_path, SHAPES, "tup", {"p.1": a, "p.2": v})
    assert_outputs(got, {"out.1": a * v, "out.2": f64(v.sum())})


def test_struct_output_fields(tmp_path) -> None:
    got = run_cli(tmp_path, SHAPES, "mk", {"x": f64(1.5)})
    assert_outputs(got, {"out.x": f64(1.5), "out.y": f64(3.0)})


def test_nested_output_naming(tmp_path) -> None:
    got = run_cli(tmp_path, SHAPES, "nested", {"x": f64(1.5)})
    assert_outputs(got, {"out.1": f64(1.5), "out.2.1": f64(3.0), "out.2.2.x": f64(1.5), "out.2.2.y": f64(1.5)})


def test_nested_struct_inputs(tmp_path, rng) -> None:
    W, b, x = (rng.standard_normal((2, 3)).astype(f32), rng.standard_normal(2).astype(f32),
               rng.standard_normal(3).astype(f32))
    got = run_cli(tmp_path, SHAPES, "netfwd", {"net.l1.W": W, "net.l1.b": b, "net.scale": f32(0.5), "x": x})
    assert_outputs(got, {"out": (f32(0.5) * (W @ x + b)).astype(f32)}, rtol=1e-5, atol=1e-6)


def test_dtypes_survive_npz_round_trip(tmp_path, rng) -> None:
    x = rng.standard_normal(3).astype(f32)
    got = run_cli(tmp_path, SHAPES, "f32id", {"x": x, "n": i32(41), "k": i64(2**40 + 3), "b": np.bool_(True)})
    assert_outputs(got, {"out.1": x * f32(2), "out.2": i32(42), "out.3": i64(2**40 + 3), "out.4": np.bool_(False)})


def test_default_entry_is_main(tmp_path) -> None:
    got = run_cli(tmp_path, SHAPES, "main", {"x": f64(3.0)})
    assert_outputs(got, {"out": f64(13.0)})
    path = write_jl(tmp_path, SHAPES)
    r = cli(path, "--inputs", save_npz(tmp_path / "x.npz", x=f64(3.0)), "--run")
    assert r.status == 0 and "13" in r.stdout, r


def test_run_prints_results(tmp_path) -> None:
    path = write_jl(tmp_path, SHAPES)
    r = cli(path, "--entry", "nested", "--inputs", save_npz(tmp_path / "x.npz", x=f64(1.5)), "--run")
    assert r.status == 0, r
    assert r.stdout == "(1.5, (3.0, Pt(1.5, 1.5)))\n", r       # as Julia's REPL shows the result


def test_run_prints_nothing(tmp_path) -> None:
    path = write_jl(tmp_path, "f(x::Float64) = nothing\n")
    r = cli(path, "--entry", "f", "--inputs", save_npz(tmp_path / "x.npz", x=f64(1.0)), "--run")
    assert r.status == 0 and r.stdout.strip() == "nothing", r


def test_inputs_keys_must_match_parameters(tmp_path) -> None:
    path = write_jl(tmp_path, SHAPES)
    r = cli(path, "--entry", "apply", "--inputs", save_npz(tmp_path / "bad.npz", W=np.ones((2, 3)), x=np.ones(3)), "--run")
    assert r.status == 2 and "Traceback" not in r.stderr, r


def test_args_types_select_specialization(tmp_path) -> None:
    path = write_jl(tmp_path, "f(x) = x .* 2\n")
    for t, mlir in (("Float32[3,4]", "tensor<3x4xf32>"), ("Int64", "tensor<i64>"), ("Float64[5]", "tensor<5xf64>"),
                    ("Int32[2]", "tensor<2xi32>"), ("Bool", "tensor<i1>")):
        r = cli(path, "--entry", "f", "--args", t)
        assert r.status == 0, r
        assert re.search(r"func\.func (public )?@main\(%arg0: " + re.escape(mlir), r.stdout), (t, r.stdout)


# ============================================================================ --emit stages
def emit(tmp_path, stage: str, source: str = SHAPES, entry: str = "main", args=("Float64",), *extra) -> str:
    path = write_jl(tmp_path, source)
    argv = [path, "--entry", entry, "--emit", stage, *extra]
    for a in args:
        argv += ["--args", a]
    r = cli(*argv)
    assert r.status == 0, r
    return r.stdout


def test_emit_ast(tmp_path) -> None:
    out = emit(tmp_path, "ast")
    assert "FunctionDef" in out and "StructDef" in out and "'square'" in out or "square" in out
    assert re.search(r"@\d+:\d+", out)          # spans are shown


def test_emit_typed_shows_each_specialization(tmp_path) -> None:
    out = emit(tmp_path, "typed")
    assert re.search(r"^square\(x\)\s+→\s+@square_\w+$", out, re.MULTILINE), out
    assert len(re.findall(r"^square\(", out, re.MULTILINE)) == 2, out      # square(x::Float64) runtime and constant 2.0
    assert re.search(r"^main\(x::Float64\)\s+→\s+@main$", out, re.MULTILINE), out
    assert re.search(r"^\s+x::Float64$", out, re.MULTILINE), out
    assert re.search(r"^\s+return::Float64", out, re.MULTILINE), out


def test_emit_typed_variable_types(tmp_path) -> None:
    src = """
function g(v::Vector{Float32}, n::Int64)
    s = 0f0
    m = v .* 2
    for i in 1:n
        s += v[1]
    end
    return (s, m)
end
"""
    out = emit(tmp_path, "typed", src, "g", ("Float32[4]", "Int64"))
    assert re.search(r"^\s+s::Float32", out, re.MULTILINE), out
    assert re.search(r"^\s+m::.*Vector\{Float32\}|^\s+m::.*Float32.*4", out, re.MULTILINE), out
    assert re.search(r"^\s+n::Int64", out, re.MULTILINE), out


def test_emit_stablehlo_one_func_per_specialization(tmp_path) -> None:
    out = emit(tmp_path, "stablehlo")
    funcs = re.findall(r"func\.func (public |private )?@(\w+)", out)
    names = [n for _, n in funcs]
    assert "main" in names, out
    assert sum(n.startswith("square") for n in names) == 2, out
    assert re.search(r"call @square", out), out


def test_emit_stablehlo_has_source_locations(tmp_path) -> None:
    out = emit(tmp_path, "stablehlo")
    locs = re.findall(r'loc\("t\.jl":(\d+):(\d+)\)', out)
    assert locs, out
    n_lines = SHAPES.count("\n")
    assert all(1 <= int(ln) <= n_lines for ln, _ in locs)
    last = SHAPES.splitlines().index("main(x::Float64) = square(x) + square(2.0)") + 1
    assert any(int(ln) == last for ln, _ in locs), out          # the entry's own line is referenced


def test_emit_optimized_is_one_public_main(tmp_path) -> None:
    out = emit(tmp_path, "optimized")
    assert re.findall(r"func\.func (?:public )?@(\w+)", out) == ["main"], out
    assert "call @" not in out and "private" not in out, out
    assert out == emit(tmp_path, "optimized", SHAPES, "main", ("Float64",), "-O2")   # the default stage and level


def test_emit_bytecode_deserializes(tmp_path) -> None:
    path = write_jl(tmp_path, SHAPES)
    r = cli(path, "--args", "Float64", "--emit", "bytecode", "-o", tmp_path / "m.mlirbc")
    assert r.status == 0, r
    data = (tmp_path / "m.mlirbc").read_bytes()
    assert data[:4] == b"ML\xefR", data[:16]
    from jax.extend.mlir import ir
    from jax.extend.mlir.dialects import stablehlo
    ctx = ir.Context()
    stablehlo.register_dialect(ctx)
    module = stablehlo.deserialize_portable_artifact(ctx, data)
    text = str(module)
    assert "func.func @main" in text or "func.func public @main" in text, text
    assert "stablehlo.multiply" in text and "stablehlo.add" in text, text


def test_emit_bytecode_real_process_to_stdout(tmp_path) -> None:
    import subprocess
    import sys
    path = write_jl(tmp_path, SHAPES)
    p = subprocess.run([sys.executable, "-m", "jlhlo.cli", path, "--args", "Float64", "--emit", "bytecode"],
                       capture_output=True, timeout=300, check=False)
    assert p.returncode == 0, p.stderr
    assert p.stdout[:4] == b"ML\xefR"


def test_emit_xla_hlo(tmp_path) -> None:
    out = emit(tmp_path, "xla-hlo")
    assert "HloModule" in out and "ENTRY" in out, out
    assert re.search(r"f64\[\]", out), out


def test_emit_text_to_file(tmp_path) -> None:
    path = write_jl(tmp_path, SHAPES)
    for stage in ("ast", "typed", "stablehlo", "optimized", "xla-hlo"):
        target = tmp_path / f"o.{stage}"
        r = cli(path, "--args", "Float64", "--emit", stage, "-o", target)
        assert r.status == 0 and r.stdout == "", r
        assert target.read_text().strip(), stage


def test_api_lower_as_text_matches_cli(tmp_path) -> None:
    from conftest import function
    text = function(SHAPES, "main").lower(1.0).as_text()
    out = emit(tmp_path, "optimized")
    assert _strip_locs(text) == _strip_locs(out)


def _strip_locs(text: str) -> list[str]:
    text = re.sub(r'\s*loc\((?:"[^"]*"|[^()"])*\)', "", text)
    return [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#loc")]


# ============================================================================ -O levels, timings
OPT_PROGRAMS = [
    ("""
function k(x::Vector{Float64}, n::Int64)
    s = 0.0
    for i in 1:n
        s += sum(x .* i) - 0.0
        if s > 100.0
            break
        end
    end
    return (s * 1.0, x .+ 0.0, x .* 1, -(-x))
end
""", "k", lambda rng: {"x": rng.standard_normal(5), "n": i64(7)}),
    ("""
function m(A::Matrix{Float32}, v::Vector{Float32})
    B = A * A'
    return (B * v, sum(B; dims=2), maximum(A .- 0f0), B[2:end, :])
end
""", "m", lambda rng: {"A": rng.standard_normal((3, 4)).astype(f32), "v": rng.standard_normal(3).astype(f32)}),
]


@pytest.mark.parametrize("k", range(len(OPT_PROGRAMS)))
def test_optimization_levels_agree(k, tmp_path, rng) -> None:
    src, entry, make = OPT_PROGRAMS[k]
    inputs = make(rng)
    results = [run_cli(tmp_path, src, entry, inputs, f"-O{level}") for level in (0, 1, 2)]
    for other in results[1:]:
        assert_outputs(other, results[0], rtol=1e-6, atol=1e-6)


def test_timings_on_stderr(tmp_path) -> None:
    path = write_jl(tmp_path, SHAPES)
    r = cli(path, "--inputs", save_npz(tmp_path / "x.npz", x=f64(2.0)), "--run", "--timings")
    assert r.status == 0, r
    for phase in ("parse", "infer+lower", "passes", "XLA compile", "run"):
        assert re.search(r"^\s*" + re.escape(phase) + r":\s+[\d.]+ ms$", r.stderr, re.MULTILINE), (phase, r.stderr)
    assert "ms" not in r.stdout
    r = cli(path, "--args", "Float64", "--emit", "stablehlo", "--timings")
    assert r.status == 0 and "infer+lower" in r.stderr and "XLA compile" not in r.stderr, r


# ============================================================================ golden IR
def optimized(tmp_path, source: str, entry: str, *args: str, stage: str = "optimized") -> str:
    return emit(tmp_path, stage, source, entry, args)


def test_runtime_loop_stays_one_while(tmp_path) -> None:
    src = """
function pisum(n::Int64)
    s = 0.0
    for k = 1:n
        s += 1.0 / (k * k)
    end
    return s
end
"""
    out = optimized(tmp_path, src, "pisum", "Int64")
    assert out.count("stablehlo.while") == 1, out


def test_nested_runtime_loops_are_two_whiles(tmp_path) -> None:
    src = """
function nl(n::Int64, m::Int64)
    s = 0
    for i in 1:n
        for j in 1:m
            s += i * j
        end
    end
    return s
end
"""
    assert optimized(tmp_path, src, "nl", "Int64", "Int64").count("stablehlo.while") == 2


def test_constant_loop_has_no_runtime_branch(tmp_path) -> None:
    src = """
function cl(x::Float64)
    s = x
    for i in 1:4
        s = s * 2
    end
    return s
end
"""
    out = optimized(tmp_path, src, "cl", "Float64")
    assert "stablehlo.if" not in out and "stablehlo.case" not in out, out


def test_constant_branch_folded(tmp_path) -> None:
    src = """
pick(x::Float64, flag::Bool) = flag ? x * 2 : x - 1
main(x::Float64) = pick(x, true)
"""
    out = optimized(tmp_path, src, "main", "Float64")
    for op in ("stablehlo.if", "stablehlo.select", "stablehlo.case", "stablehlo.subtract"):
        assert op not in out, out
    assert "stablehlo.multiply" in out or "stablehlo.add" in out, out


def test_constant_branch_folded_before_passes(tmp_path) -> None:
    """A condition known at compile time is folded by inference, not left to the optimizer."""
    src = """
const DEBUG = false
function f(x::Float64)
    if DEBUG
        x = x - 1.0
    end
    return x * 2
end
"""
    out = optimized(tmp_path, src, "f", "Float64", stage="stablehlo")
    assert "stablehlo.if" not in out and "stablehlo.subtract" not in out, out


def test_runtime_branch_is_if(tmp_path) -> None:
    src = """
function f(x::Float64)
    if x > 0
        return sin(x)
    end
    return cos(x)
end
"""
    out = optimized(tmp_path, src, "f", "Float64", stage="stablehlo")
    assert "stablehlo.if" in out or "stablehlo.case" in out or "stablehlo.select" in out, out


def test_specializations_are_funcs_before_inlining(tmp_path) -> None:
    src = """
double(x) = 2x
addone(x) = x + one(x)
both(x) = addone(double(x))
main(x::Float64, y::Float32, v::Vector{Float64}) = (both(x), both(y), double(v))
"""
    before = optimized(tmp_path, src, "main", "Float64", "Float32", "Float64[3]", stage="stablehlo")
    names = re.findall(r"func\.func (?:public |private )?@(\w+)", before)
    assert sum(n.startswith("double") for n in names) == 3, before      # Float64, Float32, Vector{Float64}
    assert sum(n.startswith("addone") for n in names) == 2, before
    assert sum(n.startswith("both") for n in names) == 2, before
    assert names.count("main") == 1
    assert len(re.findall(r"func\.func (?!private)", before)) == 1, before      # only @main is public
    after = optimized(tmp_path, src, "main", "Float64", "Float32", "Float64[3]")
    assert re.findall(r"func\.func (?:public )?@(\w+)", after) == ["main"], after


def test_broadcast_user_function_with_loop_is_one_while(tmp_path) -> None:
    out = optimized(tmp_path, ESCAPE, "escape_grid", "Float64[9,11]", "Float64[9,11]")
    assert out.count("stablehlo.while") == 1, out


def test_while_loop_is_one_while(tmp_path) -> None:
    out = optimized(tmp_path, NEWTON, "newton_sqrt", "Float64")
    assert out.count("stablehlo.while") == 1, out


# ============================================================================ ported conformance cases
@dataclass
class Conf:
    name: str
    tag: str
    source: str
    entry: str = "main"
    runs: Callable[[np.random.Generator], list[dict]] | None = None
    expect: Callable[..., Any] | None = None
    rtol: float = 1e-6
    atol: float = 1e-9
    args: tuple[str, ...] = ()
    error_lines: tuple[int, ...] = ()
    error_words: tuple[str, ...] = ()
    ir_must: tuple[str, ...] = ()
    ir_must_not: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict)


def _r(rng, *shape, dtype=f64):
    return rng.standard_normal(shape).astype(dtype)


CONF: list[Conf] = []
add = CONF.append

add(Conf("scalar_arith", "core", """
f(x::Float64, y::Float64) = x * y + 2x - y / 3
""", entry="f", runs=lambda rng: [{"x": f64(rng.uniform(-3, 3)), "y": f64(rng.uniform(-3, 3))}, {"x": f64(1.5), "y": f64(-2.25)}],
    expect=lambda x, y: f64(x * y + 2 * x - y / 3)))

add(Conf("int_semantics", "core", """
function intops(a::Int64, b::Int64)
    return (a ÷ b, a % b, mod(a, b), a / b, a^2, (-a) ÷ b, div(-a, b), rem(-a, b), mod(-a, b),
            a & b, a | b, xor(a, b), a << 2, -a >> 1)
end
""", entry="intops", runs=lambda rng: [{"a": i64(17), "b": i64(5)}, {"a": i64(rng.integers(1, 1000)), "b": i64(rng.integers(1, 50))}],
    expect=lambda a, b: (i64(int(a) // int(b)), i64(int(a) % int(b)), i64(int(a) % int(b)), f64(int(a) / int(b)),
                         i64(int(a) ** 2), i64(-(int(a) // int(b))), i64(-(int(a) // int(b))), i64(-(int(a) % int(b))),
                         i64(-int(a) % int(b)), i64(a & b), i64(a | b), i64(a ^ b), i64(int(a) << 2), i64((-int(a)) >> 1))))

add(Conf("promotion", "core", """
function promo(x::Vector{Float32}, n::Int64)
    a = x .* 2.0
    b = x .* 2
    c = x .+ 1f0
    d = n + 1.5f0
    e = n / 2
    return (a, b, c, d, e)
end
""", entry="promo", runs=lambda rng: [{"x": _r(rng, 4, dtype=f32), "n": i64(3)}],
    expect=lambda x, n: (x.astype(f64) * 2.0, x * f32(2), x + f32(1), f32(n + 1.5), f64(n / 2))))

add(Conf("broadcast_julia", "core", """
function bc(X::Matrix{Float64}, v::Vector{Float64}, r::Matrix{Float64})
    return (X .+ v, X .* r, sin.(X) ./ 2 .- v)
end
""", entry="bc", runs=lambda rng: [{"X": _r(rng, 3, 4), "v": _r(rng, 3), "r": _r(rng, 1, 4)}],
    expect=lambda X, v, r: (X + v[:, None], X * r, np.sin(X) / 2 - v[:, None])))

add(Conf("matmul_adjoint", "core", """
function mm(A::Matrix{Float64}, B::Matrix{Float64}, v::Vector{Float64})
    return (A * B, A' * v, v' * v, transpose(A) * A)
end
""", entry="mm", runs=lambda rng: [{"A": _r(rng, 3, 4), "B": _r(rng, 4, 2), "v": _r(rng, 3)}],
    expect=lambda A, B, v: (A @ B, A.T @ v, f64(v @ v), A.T @ A)))

add(Conf("reductions", "core", """
function red(X::Matrix{Float64})
    return (sum(X), sum(X; dims=1), maximum(X; dims=2), prod(X[1, :]), minimum(X),
            sum(abs2, X), sum(x -> x > 0 ? 1 : 0, X))
end
""", entry="red", runs=lambda rng: [{"X": _r(rng, 3, 4)}],
    expect=lambda X: (f64(X.sum()), X.sum(0, keepdims=True), X.max(1, keepdims=True), f64(X[0].prod()),
                      f64(X.min()), f64((X ** 2).sum()), i64((X > 0).sum()))))

add(Conf("branches", "core", """
function piecewise(x::Float64)
    if x > 1.0
        y = 2x
    elseif x < -1.0
        y = -x
    else
        y = x^2
    end
    return x >= 0 ? y : -y
end
""", entry="piecewise", runs=lambda rng: [{"x": f64(v)} for v in (2.0, -3.0, 0.5, -0.5, rng.uniform(-3, 3))],
    expect=lambda x: f64((2 * x if x > 1 else (-x if x < -1 else x * x)) * (1 if x >= 0 else -1))))

add(Conf("loops_pisum", "core", """
function pisum(n::Int64)
    s = 0.0
    for j = 1:10
        s = 0.0
        for k = 1:n
            s += 1.0 / (k * k)
        end
    end
    return s
end
""", entry="pisum", runs=lambda rng: [{"n": i64(500)}, {"n": i64(rng.integers(0, 50))}], rtol=1e-12,
    expect=lambda n: f64(sum(1.0 / (k * k) for k in range(1, int(n) + 1)))))


def _newton(a):
    x, it = a, 0
    while abs(x * x - a) > 1e-12 * a and it < 100:
        x = (x + a / x) / 2
        it += 1
    return f64(x), i64(it)


add(Conf("while_newton", "core", NEWTON, entry="newton_sqrt",
         runs=lambda rng: [{"a": f64(2.0)}, {"a": f64(1e6)}, {"a": f64(rng.uniform(0.5, 50))}], rtol=1e-15,
         expect=lambda a: _newton(float(a))))

add(Conf("mutation_alias", "core", """
function running(x::Vector{Float64})
    out = similar(x)
    acc = 0.0
    for i in eachindex(x)
        acc += x[i]
        out[i] = acc
    end
    y = out
    y[1] = -1.0
    return out
end
""", entry="running", runs=lambda rng: [{"x": _r(rng, 6)}], rtol=1e-12,
    expect=lambda x: np.concatenate([[-1.0], np.cumsum(x)[1:]])))

add(Conf("struct_callable", "core", """
struct Dense{M,V}
    W::M
    b::V
end
(d::Dense)(x) = tanh.(d.W * x .+ d.b)
function mlp(W1::Matrix{Float32}, b1::Vector{Float32}, W2::Matrix{Float32}, b2::Vector{Float32}, x::Matrix{Float32})
    l1 = Dense(W1, b1)
    l2 = Dense(W2, b2)
    return l2(l1(x))
end
""", entry="mlp", runs=lambda rng: [{"W1": _r(rng, 8, 5, dtype=f32), "b1": _r(rng, 8, dtype=f32), "W2": _r(rng, 3, 8, dtype=f32),
                                     "b2": _r(rng, 3, dtype=f32), "x": _r(rng, 5, 4, dtype=f32)}], rtol=1e-5, atol=1e-6,
    expect=lambda W1, b1, W2, b2, x: np.tanh(W2 @ np.tanh(W1 @ x + b1[:, None]) + b2[:, None]).astype(f32)))

add(Conf("dispatch", "core", """
abstract type Shape end
struct Circle <: Shape
    r::Float64
end
struct Rect <: Shape
    w::Float64
    h::Float64
end
area(c::Circle) = pi * c.r^2
area(r::Rect) = r.w * r.h
kind(x::Integer) = 1
kind(x::AbstractFloat) = 2
kind(x::AbstractArray) = 3
kind(x::Shape) = 4
function total(r::Float64, w::Float64, h::Float64, v::Vector{Float64})
    shapes = (Circle(r), Rect(w, h), Circle(2r))
    s = 0.0
    for sh in shapes
        s += area(sh)
    end
    return (s, kind(1) + 10 * kind(r) + 100 * kind(v) + 1000 * kind(shapes[2]))
end
""", entry="total", runs=lambda rng: [{"r": f64(0.5), "w": f64(2.0), "h": f64(3.0), "v": _r(rng, 2)},
                                      {"r": f64(rng.uniform(0, 2)), "w": f64(rng.uniform(0, 2)), "h": f64(1.0), "v": _r(rng, 2)}],
    rtol=1e-12, expect=lambda r, w, h, v: (f64(math.pi * r * r + w * h + math.pi * (2 * r) ** 2), i64(4321))))

add(Conf("tuple_fib", "core", """
function fibloop(n::Int64)
    a, b = 0, 1
    for i in 1:n
        a, b = b, a + b
    end
    return a
end
""", entry="fibloop", runs=lambda rng: [{"n": i64(50)}, {"n": i64(0)}, {"n": i64(rng.integers(1, 90))}],
    expect=lambda n: i64(_fib(int(n)))))


def _fib(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def _escape(cr, ci):
    zr = zi = 0.0
    for n in range(1, 81):
        if zr * zr + zi * zi > 4.0:
            return n - 1
        zr, zi = zr * zr - zi * zi + cr, 2 * zr * zi + ci
    return 80




def _grid(rng):
    ci, cr = np.meshgrid(np.linspace(-1.0, 1.0, 9), np.linspace(-2.0, 0.5, 11), indexing="xy")
    return {"cr": cr.T.copy() + 0.013, "ci": ci.T.copy() + 0.007}


add(Conf("early_return", "control", ESCAPE, entry="escape",
         runs=lambda rng: [{"cr": f64(-0.5), "ci": f64(0.5)}, {"cr": f64(0.4), "ci": f64(0.4)}, {"cr": f64(1.0), "ci": f64(1.0)}],
         expect=lambda cr, ci: i64(_escape(float(cr), float(ci)))))
add(Conf("broadcast_user_fn", "control", ESCAPE, entry="escape_grid", runs=lambda rng: [_grid(rng)],
         expect=lambda cr, ci: np.vectorize(_escape, otypes=[i64])(cr, ci)))

add(Conf("chain_recursion", "core", """
applychain(::Tuple{}, x) = x
applychain(fs::Tuple, x) = applychain(Base.tail(fs), first(fs)(x))
struct Scale
    a::Float64
end
(s::Scale)(x) = s.a .* x
struct Shift
    b::Float64
end
(s::Shift)(x) = x .+ s.b
function run_chain(x::Vector{Float64})
    chain = (Scale(2.0), Shift(1.0), x -> x .^ 2, Scale(0.5))
    return applychain(chain, x)
end
""", entry="run_chain", runs=lambda rng: [{"x": _r(rng, 5)}], rtol=1e-12,
    expect=lambda x: 0.5 * (2 * x + 1) ** 2))

add(Conf("higher_order", "core", """
function hof(v::Vector{Float64}, scale::Float64)
    a = map(x -> x^2 + 1, v)
    b = reduce(+, v)
    c = mapreduce(abs, max, v)
    d = map(x -> x * scale, v)
    g = x -> 3x
    e = g.(v)
    return (a, b, c, d, e)
end
""", entry="hof", runs=lambda rng: [{"v": _r(rng, 5), "scale": f64(2.5)}], rtol=1e-12,
    expect=lambda v, scale: (v ** 2 + 1, f64(v.sum()), f64(np.abs(v).max()), v * scale, 3 * v)))

add(Conf("horner_reverse", "core", """
function horner(c::Vector{Float64}, x::Float64)
    n = length(c)
    y = c[n]
    for k in n-1:-1:1
        y = c[k] + x * y
    end
    return y
end
""", entry="horner", runs=lambda rng: [{"c": _r(rng, 5), "x": f64(0.7)}], rtol=1e-12,
    expect=lambda c, x: f64(sum(c[k] * x ** k for k in range(5)))))

add(Conf("bools", "core", """
function boolops(x::Vector{Float64})
    inside = [0.0 <= xi < 1.0 for xi in x]
    clipped = ifelse.(x .> 0.0, x, 0.0)
    return (inside, clipped, count(x .> 0.0), any(x .> 2.0), all(x .> -5.0))
end
""", entry="boolops", runs=lambda rng: [{"x": np.array([-1.0, 0.0, 0.5, 1.0, 2.5, 0.99])}, {"x": rng.uniform(-1, 1.5, 6)}],
    expect=lambda x: ((x >= 0) & (x < 1), np.where(x > 0, x, 0.0), i64((x > 0).sum()), np.bool_((x > 2).any()),
                      np.bool_((x > -5).all()))))

add(Conf("const_globals", "core", """
const N = 4
const SCALE = 2.5f0
function cg(x::Vector{Float32})
    acc = zeros(Float32, N)
    for i in 1:N
        acc[i] = SCALE * x[i]
    end
    return acc
end
""", entry="cg", runs=lambda rng: [{"x": _r(rng, 4, dtype=f32)}], rtol=1e-6,
    expect=lambda x: (f32(2.5) * x).astype(f32)))


def _heat(u0, steps):
    u = u0.copy()
    for _ in range(steps):
        c = u[1:-1, 1:-1]
        u[1:-1, 1:-1] = c + 0.1 * (u[:-2, 1:-1] + u[2:, 1:-1] + u[1:-1, :-2] + u[1:-1, 2:] - 4 * c)
    return u


add(Conf("stencil_slices", "arrays", HEAT, entry="heat", runs=lambda rng: [{"u0": _r(rng, 6, 7), "steps": i64(5)}], rtol=1e-12,
    expect=lambda u0, steps: _heat(u0, int(steps))))

add(Conf("comprehension", "arrays", """
function comp(x::Vector{Float64})
    M = [i * j for i in 1:3, j in 1:4]
    sq = [x[i]^2 for i in 1:length(x)]
    return (M, sq)
end
""", entry="comp", runs=lambda rng: [{"x": _r(rng, 5)}], rtol=1e-12,
    expect=lambda x: (np.outer(np.arange(1, 4), np.arange(1, 5)).astype(i64), x ** 2)))

add(Conf("reshape_colmajor", "arrays", """
function shapes(X::Matrix{Float64})
    return (reshape(X, 2, 6), vec(X), permutedims(X, (2, 1)), X[:, 2], X[2:3, [1, 3]], reshape(X, :, 3))
end
""", entry="shapes", runs=lambda rng: [{"X": _r(rng, 3, 4)}],
    expect=lambda X: (X.reshape((2, 6), order="F"), X.flatten("F"), X.T.copy(), X[:, 1].copy(),
                      X[1:3][:, [0, 2]], X.reshape((4, 3), order="F"))))

add(Conf("ir_runtime_loop_stays_loop", "ir", """
function pisum(n::Int64)
    s = 0.0
    for k = 1:n
        s += 1.0 / (k * k)
    end
    return s
end
""", entry="pisum", args=("Int64",), ir_must=(r"stablehlo\.while",)))

add(Conf("ir_constant_branch_folded", "ir", """
pick(x::Float64, flag::Bool) = flag ? x * 2 : x - 1
main(x::Float64) = pick(x, true)
""", entry="main", args=("Float64",), ir_must=(r"stablehlo\.multiply|stablehlo\.add",),
    ir_must_not=(r"stablehlo\.if", r"stablehlo\.select", r"stablehlo\.case", r"stablehlo\.subtract")))

add(Conf("err_missing_end", "errors", """
function f(x::Float64)
    if x > 0
        return x
end
""", entry="f", args=("Float64",), error_lines=(2, 3, 4, 5, 6)))

add(Conf("err_undefined_var", "errors", """
function f(x::Float64)
    return x + yy
end
""", entry="f", args=("Float64",), error_lines=(3,), error_words=("yy",)))

add(Conf("err_matmul_shape", "errors", """
function f(A::Matrix{Float64}, B::Matrix{Float64})
    return A * B
end
""", entry="f", args=("Float64[3,4]", "Float64[5,2]"), error_lines=(3,), error_words=("mismatch",)))

add(Conf("err_no_method", "errors", """
g(x::Int64) = x + 1
function f(x::Float64)
    return g(x)
end
""", entry="f", args=("Float64",), error_lines=(4,), error_words=("g(", "Float64")))

add(Conf("err_unsupported_io", "errors", """
function f(x::Float64)
    write(stdout, x)
    return x
end
""", entry="f", args=("Float64",), error_lines=(3,), error_words=("write",)))

add(Conf("err_unstable_merge", "errors", """
function f(x::Float64)
    if x > 0
        y = 1.0
    else
        y = [1.0, 2.0]
    end
    return y
end
""", entry="f", args=("Float64",), error_lines=(3, 4, 5, 6, 7, 8)))

add(Conf("err_runtime_recursion", "errors", """
fib(n) = n < 2 ? n : fib(n - 1) + fib(n - 2)
main(n::Int64) = fib(n)
""", entry="main", args=("Int64",), error_lines=(2, 3), error_words=("recursi",)))

add(Conf("err_broadcast_shape", "errors", """
f(a::Matrix{Float64}, b::Matrix{Float64}) = a .+ b
""", entry="f", args=("Float64[3,4]", "Float64[4,3]"), error_lines=(2,), error_words=("mismatch",)))


@pytest.mark.parametrize("c", CONF, ids=[f"{c.tag}-{c.name}" for c in CONF])
def test_conformance(c: Conf, tmp_path, rng) -> None:
    name = f"{c.name}.jl"
    path = write_jl(tmp_path, c.source, name)
    if c.tag == "errors":
        argv = [path, "--entry", c.entry]
        for a in c.args:
            argv += ["--args", a]
        r = cli(*argv)
        assert r.status == 1, r
        assert "Traceback" not in r.stderr + r.stdout, r
        m = re.search(re.escape(name) + r":(\d+):(\d+): error", r.stderr)
        assert m, r
        assert int(m.group(1)) in c.error_lines, r
        for w in c.error_words:
            assert w.lower() in r.stderr.lower(), (w, r)
        return
    if c.tag == "ir":
        argv = [path, "--entry", c.entry, "--emit", "optimized"]
        for a in c.args:
            argv += ["--args", a]
        r = cli(*argv)
        assert r.status == 0, r
        for rx in c.ir_must:
            assert re.search(rx, r.stdout), (rx, r.stdout)
        for rx in c.ir_must_not:
            assert not re.search(rx, r.stdout), (rx, r.stdout)
        return
    for inputs in c.runs(rng):
        got = run_cli(tmp_path, c.source, c.entry, inputs, name=name)
        want = flatten("out", c.expect(**inputs), {})
        assert_outputs(got, want, c.rtol, c.atol)


def test_conformance_case_through_real_process(tmp_path, rng) -> None:
    """One conformance case end to end through `python -m jlhlo.cli` (the installed contract)."""
    c = next(x for x in CONF if x.name == "tuple_fib")
    path = write_jl(tmp_path, c.source, "fib.jl")
    r = cli_subprocess(path, "--entry", c.entry, "--inputs", save_npz(tmp_path / "in.npz", n=i64(50)), "--run",
                       "--outputs", tmp_path / "out.npz")
    assert r.status == 0, r
    assert r.stdout == "12586269025\n", r
    assert_outputs(load_npz(tmp_path / "out.npz"), {"out": i64(12586269025)})
