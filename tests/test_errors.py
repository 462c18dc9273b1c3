"""User errors: every problem in a program is reported as `FILE.jl:LINE:COL: error: ...`, followed by
the source line and a caret under the column, with exit status 1 and no Python traceback; bad usage
exits with status 2. Most cases run the CLI in-process (fast); a few run it as a real process."""
from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from conftest import cli, cli_subprocess, write_jl
from jlhlo.frontend.diagnostics import JuliaError

import jlhlo


@dataclass
class Err:
    name: str
    source: str
    args: tuple[str, ...]
    lines: tuple[int, ...]          # acceptable LINE values
    words: tuple[str, ...] = ()     # each must appear in stderr (case-insensitive)
    entry: str = "f"
    col: int | None = None          # the exact column, where it is unambiguous


ERRORS = [
    # ---- syntax
    Err("missing_end", """
function f(x::Float64)
    if x > 0
        return x
end
""", ("Float64",), (2, 3, 4, 5, 6)),
    Err("missing_end_of_function_at_eof", """
function f(x::Float64)
    y = x + 1
    return y
""", ("Float64",), (2, 3, 4, 5), ("end",)),
    Err("unclosed_paren", "f(x::Float64) = (x + 1\n", ("Float64",), (1, 2), (")",)),
    Err("unclosed_bracket", """
function f(x::Float64)
    y = [x, 2.0
    return y
end
""", ("Float64",), (3, 4), ("]",)),
    Err("extra_closing_paren", "f(x::Vector{Float64}) = x[1))\n", ("Float64[3]",), (1,), (")",)),
    Err("dangling_operator", """
function f(x::Float64)
    y = x +
end
""", ("Float64",), (3, 4)),
    Err("stray_end", """
f(x::Float64) = x
end
""", ("Float64",), (3,), ("end",)),
    # ---- names and methods
    Err("undefined_variable", """
function f(x::Float64)
    return x + yy
end
""", ("Float64",), (3,), ("UndefVarError", "yy"), col=16),
    Err("undefined_function", "f(x::Float64) = undefined_fn(x)\n", ("Float64",), (1,), ("undefined_fn",)),
    Err("no_method_with_candidates", """
g(x::Int64) = x + 1
g(x::Int32) = x
function f(x::Float64)
    return g(x)
end
""", ("Float64",), (5,), ("MethodError", "no method matching g(::Float64)", "g(x::Int64)", "g(x::Int32)")),
    Err("no_method_arity", "f(x::Float64) = sin(x, x)\n", ("Float64",), (1,), ("MethodError", "sin(")),
    Err("ambiguous_method", """
h(x::Int64, y) = 1
h(x, y::Int64) = 2
f(x::Int64) = h(x, x)
""", ("Int64",), (2, 3, 4), ("ambiguous",)),
    Err("no_such_field", """
struct P
    a::Float64
end
f(x::Float64) = P(x).b
""", ("Float64",), (5,), ("b",)),
    Err("entry_arguments_do_not_match", "f(x::Float64) = x\n", ("Int64",), (1,), ("MethodError", "f(::Int64)")),
    # ---- shapes
    Err("matmul_dimension_mismatch", """
function f(A::Matrix{Float64}, B::Matrix{Float64})
    return A * B
end
""", ("Float64[3,4]", "Float64[5,2]"), (3,), ("DimensionMismatch", "(3, 4)", "(5, 2)")),
    Err("broadcast_dimension_mismatch", "f(a::Matrix{Float64}, b::Matrix{Float64}) = a .+ b\n",
        ("Float64[3,4]", "Float64[4,3]"), (1,), ("DimensionMismatch", "(3, 4)", "(4, 3)")),
    Err("broadcast_vector_mismatch", """
function f(a::Vector{Float64}, b::Vector{Float64})
    c = a .* 2
    return c .- b
end
""", ("Float64[3]", "Float64[4]"), (4,), ("DimensionMismatch", "3", "4")),
    Err("constant_index_out_of_bounds", "f(x::Vector{Float64}) = x[5]\n", ("Float64[3]",), (1,), ("BoundsError",)),
    Err("constant_index_zero", """
function f(x::Matrix{Float64})
    return x[0, 1]
end
""", ("Float64[2,2]",), (3,), ("BoundsError",)),
    Err("tuple_index_out_of_bounds", "f(x::Float64) = (x, x, x)[4]\n", ("Float64",), (1,), ("BoundsError",)),
    Err("runtime_size_array", "f(n::Int64) = zeros(n)\n", ("Int64",), (1,), ("compile time",)),
    # ---- features outside the subset
    Err("write", """
function f(x::Float64)
    write(stdout, x)
    return x
end
""", ("Float64",), (3,), ("write",)),
    Err("string_of_number", "f(x::Float64) = string(x)\n", ("Float64",), (1,), ("string",)),
    Err("string_literal", """
function f(x::Float64)
    s = "hello"
    return x
end
""", ("Float64",), (3,), ("string",)),
    Err("push", """
function f(x::Vector{Float64})
    push!(x, 1.0)
    return x
end
""", ("Float64[3]",), (3,), ("push!",)),
    Err("try_catch", """
function f(x::Float64)
    try
        return x
    catch e
        return 0.0
    end
end
""", ("Float64",), (3,), ("try",)),
    Err("ccall", "f(x::Float64) = ccall(:sin, Float64, (Float64,), x)\n", ("Float64",), (1,), ("ccall",)),
    Err("eval", "f(x::Float64) = eval(:(x + 1))\n", ("Float64",), (1,), ("eval",)),
    Err("fma", "f(x::Float64) = fma(x, 2.0, 1.0)\n", ("Float64",), (1,), ("fma", "fused multiply-add", "muladd"), col=17),
    Err("unsupported_macro", "f(x::Float64) = @time x\n", ("Float64",), (1,), ("@time",)),
    # ---- types and recursion
    Err("type_unstable_if_merge", """
function f(x::Float64)
    if x > 0
        y = 1.0
    else
        y = [1.0, 2.0]
    end
    return y
end
""", ("Float64",), (3, 4, 5, 6, 7, 8)),
    Err("type_unstable_loop", """
function f(x::Float64)
    while x > 0
        y = [1.0]
        x = y
    end
    return x
end
""", ("Float64",), (3, 4, 5), ("x",)),
    Err("type_unstable_only_in_array_sizes", """
function f(X::Matrix{Float64}, n::Int64)
    for i in 1:n
        if X[1, 1] > 0
            return (X[1:1, 1:1], X)
        end
    end
    return (X, X)
end
""", ("Float64[1,2]", "Int64"), (8,), ("Tuple{1×1 Matrix{Float64}, 1×2 Matrix{Float64}}",
                                        "Tuple{1×2 Matrix{Float64}, 1×2 Matrix{Float64}}", "size is part of its type")),
    Err("runtime_recursion", """
fib(n) = n < 2 ? n : fib(n - 1) + fib(n - 2)
f(n::Int64) = fib(n)
""", ("Int64",), (2, 3), ("recursi",)),
    Err("runtime_mutual_recursion", """
iseven2(n) = n == 0 ? true : isodd2(n - 1)
isodd2(n) = n == 0 ? false : iseven2(n - 1)
f(n::Int64) = iseven2(n)
""", ("Int64",), (2, 3, 4), ("recursi",)),
    Err("runtime_recursion_on_array", """
function shrink(x::Vector{Float64}, n::Int64)
    return n <= 0 ? x : shrink(x .* 0.5, n - 1)
end
f(x::Vector{Float64}, n::Int64) = shrink(x, n)
""", ("Float64[3]", "Int64"), (2, 3, 5), ("recursi",)),
    # ---- a closure that rebinds a variable of its function: Julia shares it, a copy would not
    Err("closure_assigns_outer_local", """
function f(x::Vector{Float64})
    count = 0
    s = sum(y -> (count += 1; y^2), x)
    return s, count
end
""", ("Float64[3]",), (4,), ("closure", "`count`", "Ref"), col=13),
    Err("do_block_assigns_outer_local", """
function f(x::Vector{Float64})
    total = 0.0
    foreach(x) do t
        total += t
    end
    return total
end
""", ("Float64[3]",), (4,), ("closure", "`total`")),
    Err("local_function_assigns_later_local", """
function f(x::Float64)
    bump() = (y = x + 1)
    y = 0.0
    bump()
    return y
end
""", ("Float64",), (3,), ("`y`",)),
    Err("closure_assigns_outer_local_beside_an_inner_local", """
function f(v::Vector{Float64})
    x = 0.0
    g = t -> begin
        h = s -> begin
            local x = s
            x
        end
        x = h(t)
        x
    end
    return map(g, v), x
end
""", ("Float64[3]",), (4,), ("`x`",)),
]

_LOC = re.compile(r"t\.jl:(\d+):(\d+): error: ")


def check_diagnostic(e: Err, r) -> None:
    """Exit 1, `t.jl:LINE:COL: error: ...` with the source line and a caret under COL, no traceback."""
    err = r.stderr
    assert r.status == 1, f"{e.name}: {r}"
    assert "Traceback" not in err + r.stdout, f"{e.name}: a Python traceback was printed\n{r}"
    assert "internal error" not in err, f"{e.name}: an internal compiler error\n{r}"
    m = _LOC.search(err)
    assert m, f"{e.name}: no 't.jl:LINE:COL: error:' diagnostic\n{r}"
    assert err.startswith(m.group(0)), f"{e.name}: stderr does not start with the diagnostic\n{r}"
    line, col = int(m.group(1)), int(m.group(2))
    assert line in e.lines, f"{e.name}: diagnostic at line {line}, expected one of {e.lines}\n{r}"
    if e.col is not None:
        assert col == e.col, f"{e.name}: diagnostic at column {col}, expected {e.col}\n{r}"
    for w in e.words:
        assert w.lower() in err.lower(), f"{e.name}: diagnostic does not mention {w!r}\n{r}"
    # the source line, then a caret under the column
    src = e.source.splitlines()[line - 1] if line <= len(e.source.splitlines()) else ""
    if src.strip():
        out_lines = err.splitlines()
        idx = [i for i, ln in enumerate(out_lines) if ln.rstrip() == ("    " + src).rstrip()]
        assert idx, f"{e.name}: the source line {src!r} is not shown\n{r}"
        caret = out_lines[idx[0] + 1] if idx[0] + 1 < len(out_lines) else ""
        assert re.fullmatch(r" *\^~*", caret), f"{e.name}: no caret line under the source line\n{r}"
        assert caret.index("^") == 4 + col - 1, f"{e.name}: the caret is not under column {col}\n{r}"
    # no internal Python file names or frames in user-facing messages
    assert not re.search(r"\b\w+\.py\b", err), f"{e.name}: stderr mentions a Python file\n{r}"
    for internal in ("lower.py", "primitives.py", "parser.py", "dispatch.py", "jlhlo/", "frontend/"):
        assert internal not in err, f"{e.name}: stderr mentions {internal}\n{r}"


@pytest.mark.parametrize("e", ERRORS, ids=[e.name for e in ERRORS])
def test_user_error(e: Err, tmp_path) -> None:
    path = write_jl(tmp_path, e.source)
    argv = [path, "--entry", e.entry]
    for a in e.args:
        argv += ["--args", a]
    check_diagnostic(e, cli(*argv))


def test_error_names_are_unique() -> None:
    assert len({e.name for e in ERRORS}) == len(ERRORS)


@pytest.mark.parametrize("name", ["missing_end", "no_method_with_candidates"])
def test_user_error_real_process(name: str, tmp_path) -> None:
    """The real exit status and streams of `python -m jlhlo.cli`, for a parse error and a dispatch
    error (test_user_error above runs every case through the same `main` in-process)."""
    e = next(x for x in ERRORS if x.name == name)
    path = write_jl(tmp_path, e.source)
    argv = [path, "--entry", e.entry]
    for a in e.args:
        argv += ["--args", a]
    check_diagnostic(e, cli_subprocess(*argv))


def test_error_on_run_path_too(tmp_path) -> None:
    """A compile error found while running (--inputs/--run) is reported the same way."""
    import numpy as np
    e = next(x for x in ERRORS if x.name == "undefined_variable")
    path = write_jl(tmp_path, e.source)
    np.savez(tmp_path / "in.npz", x=np.float64(1.0))
    check_diagnostic(e, cli(path, "--entry", "f", "--inputs", tmp_path / "in.npz", "--run"))


def test_diagnostic_names_the_file_given(tmp_path) -> None:
    path = write_jl(tmp_path, "f(x::Float64) = x + zz\n", name="model_v2.jl")
    r = cli(path, "--entry", "f", "--args", "Float64")
    assert r.status == 1
    assert r.stderr.startswith("model_v2.jl:1:21: error: "), r


def test_deep_nesting_is_not_a_traceback(tmp_path) -> None:
    """Expression nesting beyond Python's recursion limit: an error or a result, never a traceback."""
    for depth in (2000, 20000):
        path = write_jl(tmp_path, "f(x::Float64) = " + "(" * depth + "x" + ")" * depth + "\n")
        r = cli(path, "--entry", "f", "--args", "Float64", "--emit", "stablehlo")
        assert r.status in (0, 1), r
        assert "Traceback" not in r.stderr and "internal error" not in r.stderr, r


def test_api_raises_julia_error() -> None:
    """Through the Python API a user error is a JuliaError carrying the location."""
    with pytest.raises(JuliaError) as info:
        jlhlo.load("function f(x)\n    return x +\n", filename="api.jl")
    assert info.value.span is not None and info.value.span.file == "api.jl"
    prog = jlhlo.load("f(x::Float64) = x + qq\n", filename="api.jl")
    with pytest.raises(JuliaError) as info:
        prog.function("f")(1.0)
    assert "qq" in str(info.value)
    assert str(info.value.span).startswith("api.jl:1:")


# ----------------------------------------------------------------------------- usage errors: exit 2
USAGE = [
    ("missing_file", lambda p: [p.parent / "nope.jl"], "no such file"),
    ("bad_args_string", lambda p: [p, "--entry", "f", "--args", "Float64[3,"], "--args"),
    ("unknown_element_type", lambda p: [p, "--entry", "f", "--args", "Foo"], "--args"),
    ("unknown_emit", lambda p: [p, "--emit", "llvm"], "--emit"),
    ("unknown_entry", lambda p: [p, "--entry", "nope", "--args", "Float64"], "nope"),
    ("run_without_inputs", lambda p: [p, "--entry", "f", "--run"], "--inputs"),
    ("bad_optimization_level", lambda p: [p, "-O7"], "-O"),
    ("unknown_option", lambda p: [p, "--frobnicate"], "frobnicate"),
    ("missing_inputs_file", lambda p: [p, "--entry", "f", "--inputs", p.parent / "missing.npz", "--run"], "missing.npz"),
    ("wrong_input_keys", lambda p: [p, "--entry", "f", "--inputs", p.parent / "wrong.npz", "--run"], "x"),
]


@pytest.mark.parametrize("name,argv,word", USAGE, ids=[u[0] for u in USAGE])
def test_usage_error_exits_2(name, argv, word, tmp_path) -> None:
    import numpy as np
    path = tmp_path / "t.jl"
    write_jl(tmp_path, "f(x::Float64) = x\n")
    np.savez(tmp_path / "wrong.npz", y=np.float64(1.0))
    r = cli(*argv(path))
    assert r.status == 2, r
    assert "Traceback" not in r.stderr, r
    assert word.lower() in r.stderr.lower(), r


def test_usage_errors_real_process(tmp_path) -> None:
    """Usage errors exit with status 2 and no traceback: one through a real process (its exit status
    and streams), the others through the same `main` in-process."""
    write_jl(tmp_path, "f(x::Float64) = x\n")
    for run, argv in ((cli_subprocess, [tmp_path / "t.jl", "--args", "Float64[3,"]), (cli, [tmp_path / "nope.jl"]),
                      (cli, [tmp_path / "t.jl", "--emit", "x"])):
        r = run(*argv)
        assert r.status == 2, r
        assert "Traceback" not in r.stderr, r


# ----------------------------------------------------------------------------- where errors are reported
def test_unexpected_exception_is_reported_at_the_expression(tmp_path, monkeypatch):
    from jlhlo.frontend import registry

    def broken(fl, args, kwargs, node):
        return 1 // 0
    monkeypatch.setitem(registry.PRIMITIVES, "sqrt", broken)
    path = write_jl(tmp_path, "function main(x)\n    y = x + 1.0\n    return 2 * sqrt(y)\nend\n")
    r = cli(path, "--args", "Float64")
    assert r.status == 1, r
    first = r.err.splitlines()[0]
    assert first.startswith("t.jl:3:16: internal error: ZeroDivisionError") and "please report" in first, r
    assert "Traceback" not in r.err and "^" in r.err


def test_error_inside_the_prelude_is_reported_at_the_users_call(tmp_path):
    path = write_jl(tmp_path, "function main(x)\n    y = x .* 2\n    return quantile(y, 1.5)\nend\n")
    r = cli(path, "--args", "Float64[3]")
    assert r.status == 1, r
    assert r.err.startswith("t.jl:3:12: error: ArgumentError: input probability out of [0,1] range"), r
    assert "note: in `quantile`, at prelude/linalg.jl:" in r.err


@pytest.mark.parametrize("src, words", [
    ("module A\nf(x) = 1\nend\nmodule B\nf(x) = 2\nend\nmain(x::Float64) = A.f(x) + B.f(x)",
     "is defined in modules A and B"),
    ("module A\nstruct P\n    a::Float64\nend\nend\nmodule B\nstruct P\n    b::Int64\nend\nend\nmain(x::Float64) = x",
     "struct `P` is defined in modules A and B"),
])
def test_modules_that_would_collide_in_one_namespace_are_refused(src, words):
    with pytest.raises(JuliaError, match=words):
        jlhlo.load(src, filename="t.jl")
