"""Entry integers that decide array sizes (`zeros(n)`, `collect(1:n)`, `Matrix{Float64}(I, n, n)`,
`x[1:n]`) are compiled in as their values: only those a size needs, cached per value, reported by
`--emit typed` and `--timings`, and given on the command line as `--args Int64=8`. Results are
compared with NumPy for several values."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import assert_same, cli, save_npz, write_jl
from jlhlo.frontend.diagnostics import JuliaError

import jlhlo

SOURCE = """
using LinearAlgebra
function main(x::Vector{Float64}, n::Int64, scale::Int64)
    z = zeros(n)
    for i in 1:n
        z[i] = x[i] * scale + i
    end
    E = Matrix{Float64}(I, n, n)
    head = x[1:n]
    return sum(E * z) + sum(head), collect(1:n) .* scale, scale + 1
end"""


def reference(x: np.ndarray, n: int, scale: int) -> tuple:
    z = x[:n] * scale + np.arange(1, n + 1)
    return (np.float64(z.sum() + x[:n].sum()), np.arange(1, n + 1, dtype=np.int64) * scale, np.int64(scale + 1))


def test_only_the_size_argument_is_specialized_and_cached_per_value(rng):
    f = jlhlo.load(SOURCE, filename="t.jl").function("main")
    x = rng.standard_normal(6)
    for n, scale in [(3, 2), (3, 5), (5, 2), (3, 7)]:
        assert_same(f(x, n, scale), reference(x, n, scale))
    assert len(f._cache) == 2                  # one executable per value of n; scale stays an argument
    lowered = f.lower(x, 4, 2, optimize_level=None)
    assert [(name, value) for name, value, _ in lowered.specialized] == [("n", 4)]
    assert lowered.runtime_args == [0, 2]
    text = lowered.typed_text()
    assert text.startswith("# specialized on n = 4: `zeros(n)` at t.jl:4:9 (array sizes must be known")
    assert "    n::Int64 = 4\n" in text and "    scale::Int64\n" in text


def test_no_specialization_where_sizes_are_static(rng):
    f = jlhlo.load("main(x, n) = sum(x) * n", filename="t.jl").function("main")
    lowered = f.lower(rng.standard_normal(3), 4, optimize_level=None)
    assert lowered.specialized == [] and lowered.runtime_args is None
    assert "# specialized" not in lowered.typed_text()


def test_a_size_from_a_float_is_still_an_error():
    f = jlhlo.load("main(x::Float64, n::Int64) = sum(zeros(round(Int, x)))", filename="t.jl").function("main")
    with pytest.raises(JuliaError, match="array sizes must be known at compile time"):
        f(2.0, 3)


def test_cli_args_with_values_inputs_and_timings(tmp_path, rng):
    path = write_jl(tmp_path, SOURCE)
    r = cli(path, "--args", "Float64[6]", "Int64=4", "Int64", "--emit", "typed", "--timings")
    assert r.status == 0, r.err
    assert r.out.startswith("# specialized on n = 4: `zeros(n)` at t.jl:4:9")
    assert "specialized on n = 4: `zeros(n)` at t.jl:4:9" in r.err
    r = cli(path, "--args", "Float64[6]", "Int64=4", "Int64", "--emit", "stablehlo")
    signature = next(line for line in r.out.splitlines() if "func.func @main" in line)
    assert r.status == 0 and "%arg1: tensor<i64>" in signature and "%arg2" not in signature   # n is compiled in
    x = rng.standard_normal(6)
    inputs = save_npz(tmp_path / "in.npz", x=x, n=np.int64(5), scale=np.int64(3))
    out = tmp_path / "out.npz"
    r = cli(path, "--inputs", inputs, "--run", "--outputs", out)
    assert r.status == 0, r.err
    with np.load(out) as z:
        got = tuple(z[k] for k in ("out.1", "out.2", "out.3"))
    assert_same(got, reference(x, 5, 3))


def test_cli_without_values_explains_how_to_give_them(tmp_path):
    path = write_jl(tmp_path, SOURCE)
    r = cli(path, "--args", "Float64[6]", "Int64", "Int64", "--emit", "stablehlo")
    assert r.status == 1
    assert "t.jl:4:9: error: array sizes must be known at compile time" in r.err
    assert "note: jlhlo specializes on the value of an integer argument (n, scale) when it is given" in r.err
    r = cli(path, "--args", "Float64[6]", "Float64=2", "Int64", "--emit", "stablehlo")
    assert r.status == 2 and "only an integer argument can be given a value" in r.err
