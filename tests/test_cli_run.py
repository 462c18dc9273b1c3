"""Scripts that just run: `transpile f.jl --run` of a zero-argument entry, `--call 'f(literals)'`, results
printed as Julia's REPL shows them, and the progress line of a long phase on a terminal."""
from __future__ import annotations

import io
import math

import numpy as np
import pytest
from conftest import cli, cli_subprocess, load_npz, write_jl
from programs import NEWTON

import jlhlo.cli

PROGRAM = NEWTON + """\
main() = newton_sqrt(2.0)[1]
scale(x::Vector{Float64}, k::Int64) = x .* k
shapes(v, A, t) = (sum(v), A', t)
both(x::Vector{Float32}) = (x, x .+ 1f0)
"""


def newton(a: float) -> tuple[float, int]:
    x, it = a, 0
    while abs(x * x - a) > 1e-12 * a and it < 100:
        x, it = (x + a / x) / 2, it + 1
    return x, it


def test_zero_argument_main_runs_with_no_option(tmp_path) -> None:
    r = cli_subprocess(write_jl(tmp_path, PROGRAM))
    assert r.status == 0 and "func.func @main()" in r.stdout, r     # without --run: its StableHLO
    r = cli(write_jl(tmp_path, PROGRAM), "--run", "--outputs", tmp_path / "o.npz")
    assert r.status == 0, r
    assert r.stdout == f"{newton(2.0)[0]!r}\n", r
    assert load_npz(tmp_path / "o.npz")["out"].dtype == np.float64


def test_call_gives_entry_and_arguments(tmp_path, rng) -> None:
    a = float(rng.uniform(1, 100))
    r = cli(write_jl(tmp_path, PROGRAM), "--run", "--call", f"newton_sqrt({a!r})", "--outputs", tmp_path / "o.npz")
    assert r.status == 0, r
    root, it = newton(a)
    assert r.stdout == f"({root!r}, {it})\n", r
    out = load_npz(tmp_path / "o.npz")
    assert out["out.1"].dtype == np.float64 and out["out.2"].dtype == np.int64 and out["out.2"] == it


def test_call_literals_keep_julia_types(tmp_path, rng) -> None:
    path = write_jl(tmp_path, PROGRAM)
    v = rng.standard_normal(3)
    literal = "[" + ", ".join(repr(float(x)) for x in v) + "]"
    r = cli(path, "--call", f"shapes({literal}, Float32[1 2; 3 4], (1, 2f0, true, 0x07, -3))", "--run",
            "--outputs", tmp_path / "o.npz")
    assert r.status == 0, r
    out = load_npz(tmp_path / "o.npz")
    assert out["out.1"] == pytest.approx(v.sum(), rel=1e-12) and out["out.1"].dtype == np.float64
    np.testing.assert_array_equal(out["out.2"], np.array([[1, 3], [2, 4]], np.float32))
    assert out["out.2"].dtype == np.float32
    assert [out[f"out.3.{i}"].dtype for i in range(1, 6)] == [np.int64, np.float32, np.bool_, np.uint8, np.int64]
    assert r.stdout.endswith(", Float32[1.0 3.0; 2.0 4.0], (1, 2.0f0, true, 0x07, -3))\n"), r


def test_call_float32_literals_round_as_julia_converts(tmp_path) -> None:
    """`Float32[0.1, 0.2]` rounds each Float64 literal (float-to-float conversion never throws)."""
    r = cli(write_jl(tmp_path, "f(x::Vector{Float32}) = x\n"), "--call", "f(Float32[0.1, 0.2])", "--run",
            "--outputs", tmp_path / "o.npz")
    assert r.status == 0, r
    np.testing.assert_array_equal(load_npz(tmp_path / "o.npz")["out"], np.array([0.1, 0.2], np.float32))


def test_call_integer_value_decides_a_size(tmp_path) -> None:
    path = write_jl(tmp_path, "f(n::Int64) = sum(collect(1:n) .* 2)\n")
    r = cli(path, "--call", "f(10)", "--run")
    assert r.status == 0 and r.stdout == "110\n", r


def test_call_types_without_run_select_the_specialization(tmp_path) -> None:
    r = cli(write_jl(tmp_path, PROGRAM), "--call", "scale([1.0, 2.0], 3)", "--emit", "stablehlo")
    assert r.status == 0 and "tensor<2xf64>" in r.stdout and "tensor<i64>" in r.stdout, r


@pytest.mark.parametrize("call,word", [
    ("newton_sqrt(2.0", "missing `)`"),
    ("newton_sqrt(x)", "literals"),
    ("newton_sqrt(a=2.0)", "positional"),
    ("scale(Int64[1.5], 2)", "InexactError"),
    ("f([1, [2]])", "numbers"),
    ("nope(1.0)", "nope"),
])
def test_call_errors_are_usage_errors(tmp_path, call, word) -> None:
    r = cli(write_jl(tmp_path, PROGRAM), "--call", call, "--run")
    assert r.status == 2 and "Traceback" not in r.stderr and word in r.stderr, r


def test_run_of_entry_with_arguments_names_both_ways_to_give_them(tmp_path) -> None:
    r = cli(write_jl(tmp_path, PROGRAM), "--entry", "newton_sqrt", "--run")
    assert r.status == 2 and "--inputs" in r.stderr and "--call" in r.stderr, r
    r = cli(write_jl(tmp_path, PROGRAM), "--entry", "scale", "--call", "newton_sqrt(2.0)", "--run")
    assert r.status == 2 and "different" in r.stderr, r


# ============================================================================ Julia's display format
DISPLAY_CASES = [
    ("sqrt(2.0)", repr(math.sqrt(2.0))),
    ("1f0", "1.0f0"),
    ("0.1f0", "0.1f0"),
    ("3", "3"),
    ("(1.0, 2)", "(1.0, 2)"),
    ("(1.0,)", "(1.0,)"),
    ("(a = 1, b = 2.5)", "(a = 1, b = 2.5)"),
    ("1e6", "1.0e6"),
    ("100000.0", "100000.0"),
    ("1.0e-5", "1.0e-5"),
    ("0.0001", "0.0001"),
    ("-0.0", "-0.0"),
    ("1/0", "Inf"),
    ("Float32(1/0)", "Inf32"),
    ("1.5e20", "1.5e20"),
    ("2.5f7", "2.5f7"),
    ("Float16(1.5)", "Float16(1.5)"),
    ("true", "true"),
    ("UInt8(7)", "0x07"),
    ("Int32(-4)", "-4"),
    ("1.0 + 2.0im", "1.0 + 2.0im"),
    ("nothing", "nothing"),
    ("([1.0, 2.0], Int32[1, 2], Float32[1.5], [true, false])", "([1.0, 2.0], Int32[1, 2], Float32[1.5], Bool[1, 0])"),
    ("([1 2; 3 4],)", "([1 2; 3 4],)"),
    ("(Float64[], zeros(Int, 0, 2), Int64, Vector{Float32})",
     "(Float64[], Matrix{Int64}(undef, 0, 2), Int64, Vector{Float32})"),
    ("[1.0, 2.0, 10.25]", "3-element Vector{Float64}:\n  1.0\n  2.0\n 10.25"),
    ("Float32[1.5, -2]", "2-element Vector{Float32}:\n  1.5\n -2.0"),
    ("[1.0 -2.5; 10.25 3.0]", "2×2 Matrix{Float64}:\n  1.0   -2.5\n 10.25   3.0"),
    ("[1/3 2/3; 1 2]", "2×2 Matrix{Float64}:\n 0.333333  0.666667\n 1.0       2.0"),
    ("[1 2 3]", "1×3 Matrix{Int64}:\n 1  2  3"),
    ("reshape(collect(1.0:8.0), 2, 2, 2)",
     "2×2×2 Array{Float64, 3}:\n\n[:, :, 1] =\n 1.0  3.0\n 2.0  4.0\n\n[:, :, 2] =\n 5.0  7.0\n 6.0  8.0"),
]


@pytest.mark.parametrize("expr,shown", DISPLAY_CASES, ids=[c[0] for c in DISPLAY_CASES])
def test_results_print_as_julia_displays_them(tmp_path, expr, shown) -> None:
    r = cli(write_jl(tmp_path, f"main() = {expr}\n"), "--run")
    assert r.status == 0, r
    assert r.stdout == shown + "\n", r


def test_long_vector_is_elided_like_the_repl(tmp_path) -> None:
    r = cli(write_jl(tmp_path, "main() = collect(1:100)\n"), "--run")
    lines = r.stdout.splitlines()
    assert lines[0] == "100-element Vector{Int64}:" and lines[1] == "   1" and lines[-1] == " 100", r
    assert "   ⋮" in lines and len(lines) == 22, r


def test_large_arrays_inside_a_tuple_show_their_ends(tmp_path) -> None:
    r = cli(write_jl(tmp_path, "main() = (collect(1:100), reshape(collect(1.0:8.0), 2, 2, 2), zeros(Int32, 1000, 1000))\n"),
            "--run")
    assert r.status == 0, r
    assert r.stdout.startswith("([1, 2, 3, 4, 5, 6, 7, 8, 9, 10  …  91, 92, 93, 94, 95, 96, 97, 98, 99, 100], "
                               "[1.0 3.0; 2.0 4.0;;; 5.0 7.0; 6.0 8.0], Int32[0 0 0 0 0 … 0 0 0 0 0; "), r
    assert len(r.stdout) < 500, r


def test_wide_matrix_is_elided_to_the_screen_width(tmp_path) -> None:
    r = cli(write_jl(tmp_path, "main() = reshape(collect(1.0:200.0), 2, 100)\n"), "--run")
    lines = r.stdout.splitlines()
    assert lines[0] == "2×100 Matrix{Float64}:" and all("…" in ln and len(ln) <= 80 for ln in lines[1:]), r
    assert lines[1].startswith(" 1.0  3.0") and lines[2].endswith("200.0"), r


# ============================================================================ progress on a terminal
class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_line_only_on_a_terminal(tmp_path, monkeypatch) -> None:
    import contextlib
    path = write_jl(tmp_path, PROGRAM)
    monkeypatch.setattr(jlhlo.cli, "PROGRESS_AFTER_S", 0.0)
    for stream, expected in ((Terminal(), True), (io.StringIO(), False)):
        out = io.StringIO()
        with contextlib.redirect_stderr(stream), contextlib.redirect_stdout(out):
            assert jlhlo.cli.main([path, "--run", "--no-cache"]) == 0
        assert ("transpile: " in stream.getvalue()) == expected, stream.getvalue()
        assert stream.getvalue().endswith("\r\033[K") == expected, stream.getvalue()
        assert out.getvalue() == f"{newton(2.0)[0]!r}\n"
