"""Robustness: mutated programs (deterministic seed) must never crash the compiler. Every run of
`transpile` on them ends with exit status 0 or 1 (2 only for the documented usage error of an entry
that the mutation removed), and never with a Python traceback or an "internal error".

Most runs are in-process (`jlhlo.cli.main`, streams captured) so that several hundred programs take
seconds; a few run as real processes to check real exit codes. Failures are collected, reduced to a
small program, and listed together."""
from __future__ import annotations

import contextlib
import io
import random
import re
import signal
from dataclasses import dataclass

import pytest
from conftest import cli_subprocess, write_jl
from programs import ESCAPE, NEWTON

import jlhlo.cli

SEEDS: list[tuple[str, str, tuple[str, ...]]] = [   # (source, entry, --args)
    ("""
f(x::Float64, y::Float64) = x * y + 2x - y / 3
""", "f", ("Float64", "Float64")),
    ("""
function intops(a::Int64, b::Int64)
    return (a ÷ b, a % b, mod(a, b), a / b, a^2, (-a) ÷ b, div(-a, b), rem(-a, b), mod(-a, b),
            a & b, a | b, xor(a, b), a << 2, -a >> 1)
end
""", "intops", ("Int64", "Int64")),
    ("""
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
""", "piecewise", ("Float64",)),
    ("""
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
""", "pisum", ("Int64",)),
    (NEWTON, "newton_sqrt", ("Float64",)),
    ("""
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
""", "running", ("Float64[6]",)),
    ("""
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
""", "mlp", ("Float32[8,5]", "Float32[8]", "Float32[3,8]", "Float32[3]", "Float32[5,4]")),
    ("""
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
""", "total", ("Float64", "Float64", "Float64", "Float64[2]")),
    (ESCAPE, "escape_grid", ("Float64[9,11]", "Float64[9,11]")),
    ("""
applychain(::Tuple{}, x) = x
applychain(fs::Tuple, x) = applychain(Base.tail(fs), first(fs)(x))
struct Scale
    a::Float64
end
(s::Scale)(x) = s.a .* x
function run_chain(x::Vector{Float64})
    chain = (Scale(2.0), x -> x .+ 1.0, x -> x .^ 2, Scale(0.5))
    return applychain(chain, x)
end
""", "run_chain", ("Float64[5]",)),
    ("""
function hof(v::Vector{Float64}, scale::Float64)
    a = map(x -> x^2 + 1, v)
    b = reduce(+, v)
    c = mapreduce(abs, max, v)
    d = sum(x -> x > 0 ? 1 : 0, v; dims=1)
    M = [i * j for i in 1:3, j in 1:4]
    return (a, b, c, d, reshape(M, 2, 6), permutedims(M), M[2:end, [1, 3]], softmax(v))
end
""", "hof", ("Float64[5]", "Float64")),
    ("""
const N = 4
function heat(u0::Matrix{Float64}, steps::Int64)
    u = copy(u0)
    for s in 1:steps
        u[2:end-1, 2:end-1] .= u[2:end-1, 2:end-1] .+ 0.1 .* (u[1:end-2, 2:end-1] .+ u[3:end, 2:end-1] .-
                               2 .* u[2:end-1, 2:end-1])
        s > N && break
    end
    return u
end
""", "heat", ("Float64[6,7]", "Int64")),
]

TOKEN = re.compile(r"""\s+|[A-Za-z_\u0080-\uffff][A-Za-z_0-9!\u0080-\uffff]*|\d+\.\d*(?:e-?\d+)?f?\d*|\d+|
                       \.\.\.|::|<:|->|==|!=|<=|>=|&&|\|\||\.\+|\.\*|\.-|\./|\.\^|\.=|\+=|-=|\*=|<<|>>|.""", re.VERBOSE)
INSERTS = ["end", "if", "for", "while", "function", "return", "struct", "begin", "else", "elseif", "break", "continue",
           "local", "const", "where", "do", "let", "in", "(", ")", "[", "]", "{", "}", ",", ";", "=", "+", "-", "*", "/",
           "^", ".", "..", ":", "::", "<:", "->", "==", "&&", "||", "!", "'", "?", "$", "@", "@.", "\"", "#", "0", "1.5",
           "typemax(Int64)", "x", "nothing", "Float32", "Tuple{}", "...", "1:0", "÷", "√", "\n", "\\", "`", "true", "im"]


def tokens(src: str) -> list[str]:
    return TOKEN.findall(src)


OPERATORS = ["+", "-", "*", "/", "^", "÷", "%", "&", "|", "<", ">", "==", "<=", ">=", "!=", "&&", "||", ".+", ".*",
             ".-", "./", ".^", "=", "+=", "*=", "<<", ">>", ":"]
NUMBERS = ["0", "1", "-1", "2", "3", "0.0", "1.5", "1f0", "1e308", "-0.0", "100000", "9223372036854775807", "0x10",
           "Inf", "NaN", "true", "false", "2.5f0"]
TYPES = ["Float64", "Float32", "Int64", "Int32", "Bool", "Vector{Float64}", "Matrix{Float32}", "Tuple{}", "Any",
         "AbstractArray", "Integer", "Real", "ComplexF64", "Nothing", "UInt8"]


def mutate(src: str, rnd: random.Random) -> str:
    """One to three random edits of the token stream. Syntactic edits (delete, duplicate, swap adjacent,
    truncate, insert a keyword/operator/bracket) mostly make parse errors; semantic edits (replace an
    operator, a number, a name or a type by another) mostly keep the syntax and reach inference,
    lowering and the passes."""
    toks = tokens(src)
    sig = [i for i, t in enumerate(toks) if not t.isspace()]
    names = sorted({t for t in toks if re.fullmatch(r"[A-Za-z_]\w*!?", t)})
    for _ in range(rnd.choice((1, 1, 1, 2, 3))):
        op = rnd.choice(("delete", "duplicate", "swap", "insert", "insert", "replace_op", "replace_op", "replace_num",
                         "replace_num", "replace_name", "replace_name", "replace_type", "truncate"))
        if not sig:
            break
        i = rnd.choice(sig)
        t = toks[i]
        if op == "delete":
            toks[i] = ""
        elif op == "duplicate":
            toks[i] = t + " " + t if t[:1].isalnum() else t * 2
        elif op == "swap":
            k = sig.index(i)
            if k + 1 < len(sig):
                j = sig[k + 1]
                toks[i], toks[j] = toks[j], toks[i]
        elif op == "truncate":
            text = "".join(toks)
            return text[:rnd.randrange(1, max(2, len(text)))]
        elif op == "insert":
            toks[i] = t + rnd.choice((" ", "")) + rnd.choice(INSERTS) + rnd.choice((" ", ""))
        elif op == "replace_op":
            cands = [j for j in sig if toks[j] in OPERATORS]
            if cands:
                toks[rnd.choice(cands)] = rnd.choice(OPERATORS)
        elif op == "replace_num":
            cands = [j for j in sig if re.fullmatch(r"\d[\d.e\-f]*", toks[j])]
            if cands:
                toks[rnd.choice(cands)] = rnd.choice(NUMBERS)
        elif op == "replace_name":
            cands = [j for j in sig if toks[j] in names]
            if cands:
                toks[rnd.choice(cands)] = rnd.choice(names)
        else:
            cands = [j for j in sig if toks[j] in TYPES or toks[j] in ("Vector", "Matrix")]
            if cands:
                toks[rnd.choice(cands)] = rnd.choice(TYPES)
    return "".join(toks)


@dataclass
class Outcome:
    status: int
    stdout: str
    stderr: str

    def problem(self) -> str | None:
        text = self.stdout + self.stderr
        if "Traceback" in text:
            return "Python traceback"
        if "internal error" in text:
            m = re.search(r"internal error, please report: (\w+)(?:.*\(in jlhlo ([\w.]+:\d+)\))?", text)
            return f"internal error {m.group(1)} at {m.group(2)}" if m else "internal error"
        if self.status in (0, 1):
            return None
        if self.status == 2 and re.search(r"no function `\w+` is defined", self.stderr):
            return None            # the mutation removed the entry: the documented usage error
        return f"exit status {self.status}"


class _Timeout(BaseException):
    pass


def _alarm(signum, frame):
    raise _Timeout()


PER_PROGRAM_S = 30


def run_in_process(path: str, entry: str, args: tuple[str, ...], emit: str = "stablehlo") -> Outcome:
    argv = [path, "--entry", entry, "--emit", emit]
    for a in args:
        argv += ["--args", a]
    out, err = io.StringIO(), io.StringIO()
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(PER_PROGRAM_S)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = jlhlo.cli.main(argv)
            except SystemExit as e:
                status = e.code if isinstance(e.code, int) else 2
    except _Timeout:
        return Outcome(-1, out.getvalue(), err.getvalue() + f"\n(timed out after {PER_PROGRAM_S} s)")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    text = err.getvalue()
    if "_Timeout" in text:              # the CLI caught our alarm and reported it as its own failure
        return Outcome(-1, out.getvalue(), text + f"\n(timed out after {PER_PROGRAM_S} s)")
    return Outcome(int(status), out.getvalue(), text)


N_PROGRAMS = 330


def mutated_programs() -> list[tuple[int, str, str, tuple[str, ...]]]:
    rnd = random.Random(20240611)
    progs = []
    for k in range(N_PROGRAMS):
        src, entry, args = SEEDS[k % len(SEEDS)]
        mutated = mutate(src, rnd)
        # a third of the runs give no --args (methods with untyped arguments compile lazily or not at all)
        use_args = args if rnd.random() < 0.67 else ()
        progs.append((k, mutated, entry, use_args))
    return progs


def _reduce(src: str, entry: str, args: tuple[str, ...], path: str, signature: str, budget: int = 80) -> str:
    """Greedy reduction: drop lines, then tokens, while the run still fails the same way."""
    def still_fails(candidate: str) -> bool:
        nonlocal budget
        if budget <= 0:
            return False
        budget -= 1
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(candidate)
        return run_in_process(path, entry, args).problem() == signature
    lines = src.splitlines(keepends=True)
    i = 0
    while i < len(lines) and budget > 0:
        cand = lines[:i] + lines[i + 1:]
        if still_fails("".join(cand)):
            lines = cand
        else:
            i += 1
    toks = tokens("".join(lines))
    i = 0
    while i < len(toks) and budget > 0:
        if toks[i].isspace():
            i += 1
            continue
        cand = toks[:i] + toks[i + 1:]
        if still_fails("".join(cand)):
            toks = cand
        else:
            i += 1
    return "".join(toks)


def test_seed_programs_compile(tmp_path) -> None:
    """The unmutated seeds are valid programs: a failure here is not a robustness problem."""
    for k, (src, entry, args) in enumerate(SEEDS):
        path = write_jl(tmp_path, src, f"seed{k}.jl")
        o = run_in_process(path, entry, args)
        assert o.status == 0, f"seed {k} ({entry}): {o.stderr}"


def test_mutated_programs_never_crash(tmp_path) -> None:
    progs = mutated_programs()
    assert len(progs) >= 300
    failures: dict[str, list[tuple[int, str, str, tuple[str, ...], Outcome]]] = {}
    statuses = {0: 0, 1: 0, 2: 0}
    for k, src, entry, args in progs:
        path = write_jl(tmp_path, src, f"m{k}.jl")
        o = run_in_process(path, entry, args, emit="stablehlo" if k % 5 else "optimized")
        statuses[o.status] = statuses.get(o.status, 0) + 1
        problem = o.problem()
        if problem:
            failures.setdefault(problem, []).append((k, src, entry, args, o))
    # the mutations must leave some programs valid and break others, or the test tests nothing
    assert statuses[0] >= 10 and statuses[1] >= 100, statuses
    if failures:
        report = [(f"{sum(len(v) for v in failures.values())} of {len(progs)} mutated programs crashed the compiler "
                  f"({len(failures)} distinct failures):")]
        for n, (signature, cases) in enumerate(sorted(failures.items(), key=lambda kv: -len(kv[1]))):
            k, src, entry, args, o = min(cases, key=lambda c: len(c[1]))
            small = _reduce(src, entry, args, str(tmp_path / f"reduce{n}.jl"), signature) if n < 12 else src
            args_s = " ".join(f"--args {a}" for a in args)
            report.append(f"\n=== {signature}  ({len(cases)} programs, e.g. #{k}; "
                           f"transpile t.jl --entry {entry} {args_s} --emit stablehlo)\n--- reduced program:\n"
                           f"{small.strip()}\n--- stderr:\n{(o.stderr.strip() or o.stdout.strip())[-600:]}")
        pytest.fail("\n".join(report), pytrace=False)


@pytest.mark.parametrize("k", range(2))
def test_mutated_program_real_process(k: int, tmp_path) -> None:
    """Two mutated programs through `python -m jlhlo.cli`: real exit codes and streams (the
    in-process test above runs them all through the same `main`)."""
    progs = mutated_programs()
    idx, src, entry, args = progs[k * 158]
    path = write_jl(tmp_path, src, f"m{idx}.jl")
    argv = [path, "--entry", entry, "--emit", "stablehlo"]
    for a in args:
        argv += ["--args", a]
    r = cli_subprocess(*argv, timeout=120)
    o = Outcome(r.status, r.stdout, r.stderr)
    assert o.problem() is None, f"program #{idx}:\n{src}\n{r}"
