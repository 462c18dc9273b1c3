"""Printing while the program runs (`println`, `print`, `@show`, `@printf`, `@info`, `@warn`,
`display`): the text Julia writes, in program order (loops, calls, branches, per-element
broadcasts), and nothing after a failed run-time check, at every optimization level."""
from __future__ import annotations

import numpy as np
import pytest
from jlhlo.frontend.diagnostics import JuliaError

import jlhlo

SRC = r"""
struct Pt
    x::Float64
    y::Int64
end
function report(v, i)
    println("report v[$i] = $(v[i])")
    return v[i]
end
scaled(x) = (println("scaled($x)"); 2x)
function halvings(x)
    k = 0
    while x > 1.0
        x /= 2
        k += 1
        @show k
    end
    if k > 1
        println("halved $k times")
    else
        print("few", "\n")
    end
    return x
end
function main(v::Vector{Float64}, y::Float64, n::Int64)
    @show y
    @show n y
    @printf("%d items, first %.3f\n", length(v), v[1])
    @printf "%5.1f|%-4d|%s\n" y n v[1]
    @info "y is $y"
    println(stdout, "as is: ", v, " ", (y, n), " ", Float32(y), " ", n > 0, " ", Pt(y, n))
    println()
    s = 0.0
    for i in eachindex(v)
        s += v[i]
        println("partial $i: $s")
    end
    t = report(v, 2)
    w = scaled.(v)
    display([1.0 2.5; -3.0 4.0])
    r = halvings(y)
    @warn "done"
    return (s, t, w, r)
end
function checked(v::Vector{Float64}, k::Int64)
    for i in 1:3
        println("before $i")
        v[i] = sqrt(v[i])
    end
    println("after the loop")
    return report(v, k)
end
function loss(w)
    l = 0.0
    for i in eachindex(w)
        l += w[i]^2
        println("term $i: $l")
    end
    if l > 1.0
        println("big")
    end
    return half_root(l)
end
half_root(l) = (@show l; sqrt(l) / 2)
function grad_prints(w::Vector{Float64})
    g = gradient(loss, w)[1]
    println("between")
    y, back = pullback(loss, w)
    return (g, y, back(1.0)[1])
end
"""


@pytest.fixture(scope="module")
def prog():
    return jlhlo.load(SRC, filename="printing.jl")


def _julia(x: float) -> str:
    """Julia's print of a Float64 that has a short exact decimal form (the inputs below)."""
    return repr(float(x))


def _expected(v: np.ndarray, y: float, n: int) -> tuple[str, str]:
    out = [f"y = {_julia(y)}", f"n = {n}", f"y = {_julia(y)}",
           f"{len(v)} items, first {v[0]:.3f}", f"{y:5.1f}|{n:<4d}|{_julia(v[0])}",
           "as is: [" + ", ".join(_julia(x) for x in v) + f"] ({_julia(y)}, {n}) {_julia(np.float32(y))}f0 "
           f"{'true' if n > 0 else 'false'} Pt({_julia(y)}, {n})", ""]
    s = 0.0
    for i, x in enumerate(v, 1):
        s += x
        out.append(f"partial {i}: {_julia(s)}")
    out.append(f"report v[2] = {_julia(v[1])}")
    out += [f"scaled({_julia(x)})" for x in v]
    out += ["2×2 Matrix{Float64}:", "  1.0  2.5", " -3.0  4.0"]
    k, x = 0, y
    while x > 1.0:
        x /= 2
        k += 1
        out.append(f"k = {k}")
    out.append(f"halved {k} times" if k > 1 else "few")
    err = [f"[ Info: y is {_julia(y)}", "┌ Warning: done", "└ @ Main printing.jl:42"]
    return "\n".join(out) + "\n", "\n".join(err) + "\n"


@pytest.mark.parametrize("level", [0, 1, 2])
def test_output_in_program_order(prog, capsys, level):
    rng = np.random.default_rng(level)
    for _ in range(2):
        v = rng.integers(-8, 8, size=int(rng.integers(2, 5))) / 4
        y, n = float(rng.integers(1, 40)) / 2, int(rng.integers(-3, 9))
        f = prog.function("main")
        lowered = f.lower(v, y, n, optimize_level=level)
        s, t, w, r = lowered.outputs(lowered.compile()(v, y, n))
        out, err = capsys.readouterr()
        want_out, want_err = _expected(v, y, n)
        assert out == want_out
        assert err == want_err
        np.testing.assert_array_equal(w, 2 * v)
        assert float(s) == sum(v) and float(t) == v[1]


def test_a_failed_check_stops_the_output(prog, capsys):
    """Julia throws at the failed check: nothing after it prints, in the loop, after it, or in a
    function called later; a run without failure prints everything."""
    f = prog.function("checked")
    with pytest.raises(JuliaError, match="DomainError"):
        f(np.array([4.0, -1.0, 9.0, 1.0]), 1)
    assert capsys.readouterr().out == "before 1\nbefore 2\n"
    with pytest.raises(JuliaError, match="BoundsError"):
        f(np.array([4.0, 1.0, 9.0, 1.0]), 7)
    assert capsys.readouterr().out == "before 1\nbefore 2\nbefore 3\nafter the loop\n"
    assert float(f(np.array([4.0, 1.0, 9.0, 1.0]), 3)) == 3.0
    assert capsys.readouterr().out == "before 1\nbefore 2\nbefore 3\nafter the loop\nreport v[3] = 3.0\n"


@pytest.mark.parametrize("level", [0, 2])
def test_prints_inside_gradient_run_once_in_the_forward_pass(prog, capsys, level):
    """As with Zygote: `gradient` runs the function forward once, its loops, branches and callees
    included (reverse mode recomputes without printing), and `pullback`'s `back` prints nothing."""
    w = np.array([1.0, 2.0, -2.0])
    lowered = prog.function("grad_prints").lower(w, optimize_level=level)
    g, y, gb = lowered.outputs(lowered.compile()(w))
    total = float(np.sum(w ** 2))
    np.testing.assert_allclose(g, w / (2 * np.sqrt(total)), rtol=1e-12)
    np.testing.assert_allclose(gb, g, rtol=1e-12)
    assert float(y) == np.sqrt(total) / 2
    once = "term 1: 1.0\nterm 2: 5.0\nterm 3: 9.0\nbig\nl = 9.0\n"
    assert capsys.readouterr().out == once + "between\n" + once


def test_programs_that_print_stay_out_of_jax_and_portable_artifacts(prog):
    from jlhlo.interop import portable_artifact
    lowered = prog.function("main").lower(np.ones(2), 1.0, 1)
    with pytest.raises(JuliaError, match="cannot hold a program that prints"):
        portable_artifact(lowered)
    with pytest.raises(JuliaError, match="cannot hold a program that prints"):
        jlhlo.to_jax(prog.function("main"))(np.ones(2), 1.0, 1)


def test_cli_run_prints_before_the_result(tmp_path):
    import subprocess
    import sys
    path = tmp_path / "hello.jl"
    path.write_text('function main(x::Float64)\n    for i in 1:2\n        println("i = $i, x = $(i * x)")\n'
                    '    end\n    return x\nend\n')
    done = subprocess.run([sys.executable, "-m", "jlhlo.cli", str(path), "--run", "--call", "main(1.5)"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "i = 1, x = 1.5\ni = 2, x = 3.0\n1.5\n"


def test_print_writes_arrays_whole_in_julias_one_line_form(capsys):
    src = """
function main(x::Float64)
    println([1.0 2.0 3.0; 4.0 5.0 x])
    println(collect(1:25))
    println(zeros(2, 1, 3), " ", Float32[0.5, 1.0], " ", [true, false])
    return x
end
"""
    jlhlo.load(src, filename="arrays.jl").function("main")(6.5)
    assert capsys.readouterr().out == ("[1.0 2.0 3.0; 4.0 5.0 6.5]\n[" + ", ".join(map(str, range(1, 26))) + "]\n"
                                       "[0.0; 0.0;;; 0.0; 0.0;;; 0.0; 0.0] Float32[0.5, 1.0] Bool[1, 0]\n")
