"""How much real public Julia code jlhlo handles: `python bench/corpus.py [--mirror DIR] [--workers N]
[--timeout S] [--json FILE] [--compare [OLD.json]] [--write-baseline] [--only SUBSTR] [--refs-only]
[--parse-only] [--list] [--show ID] [--update-sources]`.

Not a test (nothing in tests/ uses it; it needs the mirrored repositories). Prints, per repository
and in total, functions found / numeric / parse ok / compile ok / runs / run-correct (of the functions
with a reference that compile), where the failures stop (parse, load, compile...), the failure
categories with counts, an example function and the source line the error points at, every internal
error and every mismatch against a reference. `--json` writes every function's result; `--write-baseline`
writes a compact `bench/corpus/baseline.json` and `--compare [FILE]` (default that baseline) lists what
changed since, so a fix can be measured before and after.

Corpus. `bench/corpus/sources.txt` names each repository, the commit and the files taken. The files
are read with git from mirrors under `--mirror` (default /work/.mirror, laid out as
`<owner>+<name>/repo`, a bare git directory as the session's `fetch` tool makes; a plain
`git clone --bare` at that path works too); a missing mirror or commit is reported and skipped.
`--update-sources` rewrites sources.txt from the mirrors' HEAD with the path rules in `RULES` below.

Extraction (`bench/corpus/jlsplit.py`, a heuristic lexer and splitter independent of jlhlo's parser).
Each file is cut into its top-level statements (descending into `module ... end`). A *function* is the
set of methods of one name defined in one file, long form or short form. It is compiled together with
a dependency closure by name: every function, struct, abstract type, const or global its methods
mention (not their parameters or local variables), looked up first in the same file, then in the same
folder and the files that folder `include`s, then, where the repository is one module (`scope=repo` in
sources.txt), anywhere in its files taken; a definition inside another `module` block is not seen;
recursively. Methods of other functions on the structs of the closure (`Base.:+(a::V, b::V)`,
`(m::Model)(x)`, `Base.getindex(s::S, i)`) are added when they are operators or callable-struct methods,
or when the closure calls their name or syntax calls it (indexing, iteration). Helpers that jlhlo
cannot parse are dropped (an error naming one says so). `using`/`import`/`export` lines are left out
(jlhlo provides Base, LinearAlgebra, Statistics, NNlib... without them; a name from another package
then shows as UndefVarError). Docstrings are kept for the parse test and removed for the compile test;
whether jlhlo accepts them is counted on its own line (`docstrings`).

Numeric functions (the denominator of the issue's rates). A function is *not* counted as numeric,
for the first of these reasons that applies:
  * not an entry: it extends another function (`Base.show(...)`, `Base.:+(...)`), is an operator
    method or a callable-struct method `(m::M)(x)`; such methods are still compiled as helpers;
  * I/O: printing, files, plotting, data loading, `io` parameters, `@show`, timing;
  * strings: a string or character literal (other than a message of `error`/`throw`/`@assert`/
    `@warn`/exception constructors), or String/Char/Regex/split/join/parse/... in the body;
  * metaprogramming: `quote`, `:( )`, `Expr`, `eval`, `esc`, `$`, `Symbol`, `@generated`;
  * package management, environment, FFI, threads, GPU kernels, benchmark-suite plumbing:
    `Pkg`, `ENV`, `ccall`, `Threads`, `@spawn`, `CUDA`, `@kernel`, `@benchmarkable`, `BenchmarkGroup`;
  * AD-framework glue: `rrule`/`frule`, `NoTangent`, `ProjectTo`, `@thunk` (ChainRules rules);
  * hash containers: `Dict`, `Set`, `IdDict` (not numeric computation);
  * no numeric content: no arithmetic or comparison operator, no number, no indexing or broadcast.
Everything else is numeric: its body computes on numbers or arrays. (Macro definitions, structs,
consts and top-level statements are not functions.)

Rates. *parse ok*: jlhlo's parser (`jlhlo.frontend.parser.parse`) accepts every method of the
function, each on its own, docstring included. *compile ok*: `jlhlo.load` of the closure and
`Function.lower` + XLA compile of the function for some argument types: those its annotations name,
else guessed (Float64 0.7, Int64 6, Vector{Float64} of length 8, Matrix{Float64} 4x4 made diagonally
dominant, a 2-tuple for `span`-like names, a dict for a struct (for a user abstract type, one for
each of its first three structs: the API picks the struct by the dict's fields); the parameter's name
orders the guesses: `n`, `k`, `iter` try Int64 first, `A`, `X`, `arr` arrays first); a parameter
annotated `Function` (or named f, g, func...) gets a lambda, one annotated `Type{T}` a type and one
annotated as a range `1:8` or `0.0:0.25:1.75`, each written into a wrapper entry. Combinations are tried by
increasing rank, round robin over the methods, at most `--tries`, within 20 s; the first that compiles
wins. The error recorded is the first one from a combination the signature accepted, preferring one
that does not merely say the guess had the wrong shape. When the guesses fail and the function has a
reference, the reference's own inputs count as a combination. *runs*: the compiled function ran on
those inputs without a Julia exception (reported, not a rate). *run-correct*: for functions with a
hand-written NumPy reference (`bench/corpus/references.py`) that compile, the result matches it (dtype
and shape exact, values to rtol 1e-6 for Float64, 1e-4 for Float32, integers and Bools exactly).
Internal errors (jlhlo's `internal error`, or any non-Julia Python exception from the compiler) are
listed with the function. Each function runs in a worker process (`--workers`, default 2) with a
per-function timeout (`--timeout`, default 90 s); about 7 minutes on 2 busy cores.
"""
from __future__ import annotations

import argparse
import collections
import fnmatch
import itertools
import json
import os
import re
import selectors
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "corpus")
sys.path.insert(0, DATA)

import jlsplit  # noqa: E402

SOURCES = os.path.join(DATA, "sources.txt")

# Path rules for --update-sources: (repository, include globs, exclude globs, scope). The scope is where
# a name used by a function is looked for beyond its own file: `folder` where each folder is a module
# or a self-contained example (TheAlgorithms' submodules, a model-zoo example, a BaseBenchmarks group),
# `repo` where the whole package is one module.
RULES = [
    ("TheAlgorithms/Julia", ["src/*.jl", "src/**/*.jl"], [], "folder"),
    ("JuliaLang/Microbenchmarks", ["julia/perf.jl"], [], "folder"),
    ("FluxML/NNlib.jl", ["src/*.jl", "src/**/*.jl"], [], "repo"),
    ("FluxML/model-zoo", ["*/*/*.jl", "*/*/*/*.jl", "*/*/*/*/*.jl"], [".github/*", "script/*"], "folder"),
    ("JuliaCI/BaseBenchmarks.jl", ["src/*/*.jl"], [], "folder"),
    ("JuliaMath/SpecialFunctions.jl", ["src/*.jl", "src/*/*.jl"], [], "repo"),
    ("fncbook/FundamentalsNumericalComputation.jl", ["src/chapter*.jl"], [], "repo"),
    ("JuliaMath/Roots.jl", ["src/*.jl", "src/*/*.jl"], [], "repo"),
]


# ============================================================================ sources
def mirror_dir(mirror: str, repo: str) -> str:
    return os.path.join(mirror, repo.replace("/", "+"), "repo")


def git(gitdir: str, *args: str) -> str:
    return subprocess.run(["git", f"--git-dir={gitdir}", *args], check=True, capture_output=True,
                          text=True).stdout


def read_sources(path: str = SOURCES) -> list[tuple[str, str, list[str], dict[str, str]]]:
    """[(repo, commit, paths, options)] from sources.txt: `repo OWNER/NAME COMMIT [scope=...]`, then one
    path a line."""
    out: list[tuple[str, str, list[str], dict[str, str]]] = []
    with open(path, encoding="utf-8") as fh:
        for raw in fh:
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            if line.startswith("repo "):
                _, repo, commit, *opts = line.split()
                out.append((repo, commit, [], dict(o.split("=", 1) for o in opts)))
            else:
                out[-1][2].append(line)
    return out


def update_sources(mirror: str) -> None:
    lines = ["# The corpus of bench/corpus.py: `repo OWNER/NAME COMMIT`, then the files taken from that commit.",
             "# Rewritten by `python bench/corpus.py --update-sources` from the mirrors' HEAD (rules: corpus.RULES)."]
    for repo, include, exclude, scope in RULES:
        gd = mirror_dir(mirror, repo)
        if not os.path.isdir(gd):
            print(f"mirror of {repo} not found at {gd}: skipped", file=sys.stderr)
            continue
        commit = git(gd, "rev-parse", "HEAD").strip()
        files = [f for f in git(gd, "ls-tree", "-r", "--name-only", commit).split("\n") if f.endswith(".jl")]
        taken = sorted(f for f in files if any(fnmatch.fnmatch(f, g) for g in include)
                       and not any(fnmatch.fnmatch(f, g) for g in exclude))
        lines.append("")
        lines.append(f"repo {repo} {commit} scope={scope}")
        lines += taken
    with open(SOURCES, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    print(f"wrote {SOURCES}")


# ============================================================================ extraction
IO_NAMES = {"println", "print", "printf", "@printf", "@sprintf", "@show",
            "show", "display", "open", "read", "read!", "write", "readline", "readlines", "readdlm", "writedlm",
            "close", "flush", "stdout", "stderr", "stdin", "IO", "IOBuffer", "IOContext", "download", "isfile",
            "isdir", "mkpath", "mkdir", "joinpath", "@__DIR__", "@__FILE__", "cd", "rm", "BSON", "@save", "@load",
            "JLD2", "jldsave", "jldopen", "CSV", "DataFrame", "plot", "plot!", "savefig",
            "heatmap", "Plots", "@elapsed", "@time", "@timed", "time_ns", "now", "MLDatasets", "FileIO",
            "load", "save", "Images", "colorview", "Gray", "RGB", "@progress", "Progress", "next!", "TensorBoardLogger",
            "ProgressMeter", "readdir", "run", "include", "dirname"}
STRING_NAMES = {"String", "AbstractString", "Char", "SubString", "Regex", "split", "join", "replace", "occursin",
                "uppercase", "lowercase", "string", "parse", "tryparse", "strip", "lstrip", "rstrip", "startswith",
                "endswith", "chop", "chomp", "codeunit", "codeunits", "ncodeunits", "isletter", "isdigit",
                "isspace", "isuppercase", "islowercase", "repr", "sprint", "textwidth", "reverse_complement",
                "eachmatch", "match", "isascii", "Unicode", "@r_str", "titlecase"}
META_NAMES = {"eval", "@eval", "Expr", "esc", "Meta", "macroexpand", "@generated", "Symbol", "QuoteNode",
              "gensym", "@gensym", "getproperty", "hasfield", "fieldnames", "@nospecialize", "invokelatest"}
ENV_NAMES = {"Pkg", "ENV", "ccall", "@ccall", "Libdl", "Threads", "@threads", "@spawn", "@sync", "@async",
             "Distributed", "@distributed", "pmap", "@benchmarkable", "BenchmarkGroup", "addgroup!", "@benchmark",
             "@btime", "@kernel", "@index", "@Const", "CUDA", "CuArray", "cu", "gpu", "KernelAbstractions",
             "get_backend", "Base.Threads", "nthreads", "threadid", "@static", "GC", "@cfunction", "unsafe_load",
             "pointer", "unsafe_wrap", "Sys", "@assume_effects", "@ccallable", "Ptr", "VERSION", "RemoteChannel",
             "SharedArray", "Channel", "@everywhere", "addprocs", "nworkers", "workers", "fetch", "Task"}
AD_NAMES = {"rrule", "frule", "NoTangent", "ZeroTangent", "ProjectTo", "@thunk", "unthunk", "Tangent",
            "@non_differentiable", "@scalar_rule", "ChainRulesCore", "RuleConfig", "rrule_via_ad", "@adjoint",
            "Zygote.@adjoint", "EnzymeCore", "ForwardDiff", "Dual"}
CONTAINER_NAMES = {"Dict", "Set", "IdDict", "OrderedDict", "DefaultDict", "BitSet", "WeakKeyDict"}
ERROR_CALLS = {"error", "throw", "ArgumentError", "DomainError", "DimensionMismatch", "ErrorException",
               "AssertionError", "BoundsError", "OverflowError", "@assert", "@warn", "InexactError",
               "MethodError", "@error", "@info", "@debug", "warn", "depwarn", "Base.depwarn", "KeyError",
               "UndefVarError", "ConvergenceFailed", "SingularException", "LinearAlgebra.SingularException"}
NUMERIC_OPS = set("+-*/\\^%<>÷≤≥≠√∛⋅×") | {"==", "!=", "+=", "-=", "*=", "/=", "^=", ".+", ".-", ".*", "./",
                                           ".^", ".=", "<=", ">=", "<<", ">>", ">>>", "&", "|", "⊻", "//"}
FUNC_PARAM_NAMES = {"f", "g", "F", "func", "fun", "fn", "fx", "df", "dfdx", "fprime", "f′", "f'", "fp",
                    "ode", "rhs", "dudt", "op", "σ", "activation", "act", "predicate", "cond", "by", "lt", "model",
                    "loss", "integrand", "deriv", "jac"}
INT_NAMES = {"n", "m", "k", "N", "M", "K", "i", "j", "num", "iter", "iters", "niter", "steps", "nsteps", "digits",
             "limit", "len", "count", "base", "number", "idx", "index", "level", "depth", "order", "max_iter",
             "maxiter", "maxiters", "nmax", "kmax", "size", "sz", "dims", "dim", "d", "p", "q", "r", "s", "t",
             "l", "L", "a", "b", "c", "u", "v", "w", "x", "y", "z", "h", "T", "seed", "nx", "ny", "nz", "n1", "n2",
             "n3", "ndigits", "bits", "power", "exponent", "year", "pos", "position", "low", "high", "lo", "hi",
             "start", "stop", "first", "last", "target", "key", "val", "value", "amount", "capacity", "weight"}
ARRAY_NAMES = {"x", "xs", "y", "ys", "a", "A", "B", "C", "X", "Y", "W", "arr", "array", "v", "vec", "vector",
               "list", "data", "mat", "matrix", "M", "img", "image", "nums", "numbers", "seq", "values", "vals",
               "coins", "weights", "prices", "u", "c", "b", "points", "dx", "dy", "grad", "cost", "costs",
               "coeffs", "coef", "p", "w", "t", "z", "in", "out", "input", "inputs", "dst", "src", "kernel",
               "items", "heights", "collection", "ar", "nums1", "nums2", "L", "U", "D", "P", "Q", "R", "S", "V"}


# functions that syntax calls without naming them: a method of one on a struct of the closure is kept
IMPLICIT_CALLS = {"getindex", "setindex!", "iterate", "length", "size", "firstindex", "lastindex", "axes", "eltype",
                  "ndims", "convert", "promote_rule", "broadcastable", "zero", "one", "isless", "isequal", "==",
                  "similar", "copy", "view", "IndexStyle", "BroadcastStyle", "getproperty", "setproperty!"}


def _error_message_strings(sig: list[jlsplit.Tok]) -> set[int]:
    """Indices of string tokens that are messages: inside `error(...)`, `throw(...)`, after `@assert`."""
    ok: set[int] = set()
    stack: list[str] = []       # the callee of each open parenthesis
    line_macro: dict[int, str] = {}
    for j, t in enumerate(sig):
        if t.kind == "macro":
            line_macro[t.line] = t.text
        if t.kind == "open":
            callee = sig[j - 1].text if j > 0 and sig[j - 1].kind in ("ident", "macro") else ""
            if j > 2 and sig[j - 2].text == "." and sig[j - 1].kind == "ident":
                callee = sig[j - 3].text + "." + sig[j - 1].text
            stack.append(callee)
        elif t.kind == "close":
            if stack:
                stack.pop()
        elif t.kind == "str":
            if any(c in ERROR_CALLS for c in stack) or line_macro.get(t.line) in ERROR_CALLS:
                ok.add(j)
    return ok


def classify(items: list[jlsplit.Item]) -> str | None:
    """None for a numeric function, else why it is not counted (see the module docstring)."""
    first = items[0]
    if first.qualified or first.operator or first.callable:
        return "not an entry (extends another function, operator or callable-struct method)"
    uses: set[str] = set()
    toks: list[jlsplit.Tok] = []
    for it in items:
        uses |= it.uses
        toks += [t for t in jlsplit.tokenize(it.code) if t.kind not in ("nl",)]
        uses |= set(it.prefix_macros)
    macros = {t.text for t in toks if t.kind == "macro"}
    names = uses | macros
    params = _param_names(items)
    if names & IO_NAMES or "io" in params or "IO" in names:
        return "I/O (printing, files, plots, data loading, timing)"
    msgs = _error_message_strings(toks)
    if any(t.kind in ("str", "char") and j not in msgs for j, t in enumerate(toks)) or names & STRING_NAMES:
        return "strings"
    if any(t.kind == "kw" and t.text == "quote" for t in toks) or names & META_NAMES or any(
            t.kind == "op" and "$" in t.text for t in toks) or any(
            t.kind == "op" and t.text.endswith(":") and j + 1 < len(toks) and toks[j + 1].text == "(" and
            not toks[j + 1].space_before and (j == 0 or toks[j].space_before) for j, t in enumerate(toks)):
        return "metaprogramming"
    if names & ENV_NAMES or any(t.kind == "kw" and t.text in ("using", "import") for t in toks):
        return "package management, environment, FFI, threads, GPU, benchmark plumbing"
    if names & AD_NAMES:
        return "AD-framework glue (ChainRules rrule/frule)"
    if names & CONTAINER_NAMES:
        return "hash containers (Dict/Set)"
    # a numeric computation: an arithmetic or comparison operator, a number, indexing or broadcast
    body = [t for it in items for t in jlsplit.tokenize(it.code)]
    if not any(t.kind == "num" or t.kind == "open" and t.text == "[" or t.kind == "op" and (
            t.text in NUMERIC_OPS or t.text.startswith(".") and len(t.text) > 1) for t in body):
        return "no numeric content (plumbing only)"
    return None


def _param_names(items: list[jlsplit.Item]) -> set[str]:
    """Parameter names of the methods (the identifiers inside the first parenthesis after the name)."""
    out: set[str] = set()
    for it in items:
        toks = [t for t in jlsplit.tokenize(it.code) if t.kind != "nl"]
        for j, t in enumerate(toks):
            if t.kind == "open" and t.text == "(":
                depth = 0
                for x in toks[j:]:
                    if x.kind == "open":
                        depth += 1
                    elif x.kind == "close":
                        depth -= 1
                        if depth == 0:
                            break
                    elif depth == 1 and x.kind == "ident":
                        out.add(x.text)
                break
    return out


class Repo:
    def __init__(self, name: str, commit: str, files: dict[str, list[jlsplit.Item]], scope: str = "repo"):
        self.name, self.commit, self.files, self.scope = name, commit, files, scope
        self.by_name: dict[str, list[tuple[str, jlsplit.Item]]] = collections.defaultdict(list)
        # folder -> the files `include`d by a file of that folder (`include("../math/divisors.jl")`)
        self.includes: dict[str, set[str]] = collections.defaultdict(set)
        for path, items in files.items():
            for it in items:
                target = _included_path(it.code, path)
                if target in files:
                    self.includes[os.path.dirname(path)].add(target)
        # file -> the repository's modules it brings in by `using .M` / `using ..M: f` / `import .M`
        self.used: dict[str, set[str]] = collections.defaultdict(set)
        for path, items in files.items():
            for it in items:
                if it.kind == "using":
                    self.used[path] |= _used_modules(it.code)
        self.extensions: list[tuple[str, jlsplit.Item]] = []
        for path, items in files.items():
            for it in items:
                if it.kind == "function" and (it.qualified or it.operator or it.callable):
                    self.extensions.append((path, it))     # found through the structs they mention
                    continue
                for nm in it.names:
                    if it.kind in ("function", "struct", "abstract", "const", "global"):
                        self.by_name[nm].append((path, it))

    def lookup(self, name: str, path: str, modules: list[str]) -> list[jlsplit.Item]:
        """The definitions of `name` seen from `path` inside `modules` (the `module` blocks around the
        use): the same file's, else the same folder's, else (scope `repo`) the first file's (in path
        order) that defines it; a definition inside another `module` block is not seen unless the
        file brings that module in with `using`/`import` (then it is seen wherever it is)."""
        everything = self.by_name.get(name, [])
        cands = [(p, it) for p, it in everything if not modules or not it.modules or it.modules == modules]
        if not cands:
            imported = [(p, it) for p, it in everything if it.modules and it.modules[-1] in self.used[path]]
            first = min((p for p, _ in imported), default=None)
            return [it for p, it in imported if p == first]
        same = [it for p, it in cands if p == path]
        if same:
            return same
        folder = os.path.dirname(path)
        near = [(p, it) for p, it in cands if os.path.dirname(p) == folder or p in self.includes[folder]]
        pool = near or (cands if self.scope == "repo" else [])
        if not pool:
            return []
        first = min(p for p, _ in pool)
        return [it for p, it in pool if p == first]

    def closure(self, own: list[jlsplit.Item], path: str) -> list[tuple[str, jlsplit.Item]]:
        """The helpers `own` needs (see the module docstring), in source order per file."""
        seen: dict[int, tuple[str, jlsplit.Item]] = {}
        own_ids = {id(it) for it in own}
        todo = list(own)
        done: set[tuple] = set()
        struct_names: set[str] = set()
        all_uses: set[str] = set()
        where: dict[int, str] = {id(it): path for it in own}
        while todo:
            it = todo.pop()
            p = where[id(it)]
            all_uses |= it.uses
            for nm in sorted(it.uses):
                key = (nm, p, tuple(it.modules))
                if key in done:
                    continue
                done.add(key)
                for dep in self.lookup(nm, p, it.modules):
                    if id(dep) in own_ids or id(dep) in seen:
                        continue
                    dp = self._path_of(dep)
                    seen[id(dep)] = (dp, dep)
                    where[id(dep)] = dp
                    todo.append(dep)
                    if dep.kind == "struct":
                        struct_names.add(dep.names[0])
            if not todo:
                # methods of other functions on the structs in the closure: operators, callable
                # structs, and named ones the closure calls (or that indexing and loops call)
                for ep, ext in self.extensions:
                    if id(ext) in seen or id(ext) in own_ids or not ext.uses & struct_names:
                        continue
                    n = ext.names[0] if ext.names else ""
                    if n in IO_NAMES or not (ext.operator or ext.callable or n in all_uses or n in IMPLICIT_CALLS):
                        continue
                    seen[id(ext)] = (ep, ext)
                    where[id(ext)] = ep
                    todo.append(ext)
        order = {id(it): k for p, items in self.files.items() for k, it in enumerate(items)}
        return sorted(seen.values(), key=lambda pi: (pi[0], order.get(id(pi[1]), 0)))

    def _path_of(self, item: jlsplit.Item) -> str:
        for p, items in self.files.items():
            if any(x is item for x in items):
                return p
        return "?"


def _used_modules(code: str) -> set[str]:
    """The repository modules a `using`/`import` statement names (`using .RandUtils`,
    `import ..Utils: f, g`, `using .A, .B`): relative ones only, the others are packages."""
    m = re.match(r"\s*(?:using|import)\s+([^:]*)", code)
    if not m:
        return set()
    return {part.strip().rsplit(".", 1)[-1] for part in m.group(1).split(",") if part.strip().startswith(".")}


def _included_path(code: str, path: str) -> str | None:
    """The repository path that `include("x.jl")` or `include(joinpath(dirname(@__FILE__), "..", "x.jl"))`
    names, from the file at `path`."""
    m = re.fullmatch(r'include\(\s*"([^"$]+)"\s*\)', code.strip())
    if m:
        rel = m.group(1)
    else:
        m = re.fullmatch(r'include\(\s*joinpath\(\s*(?:(?:dirname\(\s*@__FILE__\s*\)|@__DIR__)\s*,)?'
                         r'((?:\s*"[^"$]+"\s*,?)+)\)\s*\)', code.strip())
        if not m:
            return None
        rel = "/".join(re.findall(r'"([^"]+)"', m.group(1)))
    return os.path.normpath(os.path.join(os.path.dirname(path), rel))


def load_corpus(mirror: str, only: str | None = None) -> tuple[list[Repo], list[dict]]:
    """The repositories (read from the mirrors) and one task per function."""
    repos: list[Repo] = []
    tasks: list[dict] = []
    missing = []
    for repo_name, commit, paths, opts in read_sources():
        gd = mirror_dir(mirror, repo_name)
        if not os.path.isdir(gd):
            missing.append(f"{repo_name}: no mirror at {gd} (fetch the repository there, e.g. `git clone --bare "
                           f"https://github.com/{repo_name} {gd}`, commit {commit})")
            continue
        try:
            git(gd, "cat-file", "-e", commit + "^{commit}")
        except subprocess.CalledProcessError:
            missing.append(f"{repo_name}: the mirror at {gd} lacks commit {commit} (fetch it again)")
            continue
        files: dict[str, list[jlsplit.Item]] = {}
        for path in paths:
            try:
                text = git(gd, "show", f"{commit}:{path}")
            except subprocess.CalledProcessError:
                missing.append(f"{repo_name}: {path} not found at {commit}")
                continue
            try:
                files[path] = jlsplit.split_toplevel(text)
            except jlsplit.LexError as e:
                print(f"warning: {repo_name}:{path}: not split ({e})", file=sys.stderr)
        repo = Repo(repo_name, commit, files, opts.get("scope", "repo"))
        repos.append(repo)
        for path, items in files.items():
            groups: dict[str, list[jlsplit.Item]] = collections.OrderedDict()
            for it in items:
                if it.kind == "function" and it.names:
                    key = (it.qualified + "." if it.qualified else "") + it.names[0]
                    groups.setdefault(key, []).append(it)
            for key, own in groups.items():
                uid = f"{repo_name}:{path}:{key}"
                if only and only not in uid:
                    continue
                reason = classify(own)
                task = {"id": uid, "repo": repo_name, "path": path, "name": own[0].names[0], "line": own[0].line,
                        "numeric": reason is None, "excluded": reason,
                        "own": [{"text": it.text, "code": it.code, "doc": it.doc is not None, "line": it.line}
                                for it in own]}
                if reason is None:
                    task["helpers"] = [{"path": p, "line": it.line, "names": it.names, "code": it.code,
                                        "kind": it.kind} for p, it in repo.closure(own, path)]
                    task["params"] = sorted(_param_names(own))
                tasks.append(task)
    for m in missing:
        print("missing: " + m, file=sys.stderr)
    if missing and not repos:
        raise SystemExit("no repository of the corpus could be read: see the messages above")
    return repos, tasks


# ============================================================================ the worker
def _worker_main() -> None:
    """Read tasks (JSON lines) on stdin, write results on the original stdout; anything the compiled
    programs print goes to /dev/null."""
    out = os.fdopen(os.dup(1), "w", buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    import numpy as np  # noqa: F401  (import before the first task: its time is not the task's)

    import jlhlo  # noqa: F401
    out.write(json.dumps({"ready": True}) + "\n")
    for line in sys.stdin:
        task = json.loads(line)
        t0 = time.perf_counter()
        try:
            res = run_task(task)
        except BaseException as e:    # noqa: BLE001 - a failure of this tool, reported as such
            res = {"id": task["id"], "tool_error": f"{type(e).__name__}: {e}", "tb": traceback.format_exc()[-2000:]}
        res["time"] = round(time.perf_counter() - t0, 2)
        out.write(json.dumps(res, default=str) + "\n")


def _first_line(e: BaseException) -> str:
    msg = getattr(e, "message", None) or str(e)
    return msg.strip().split("\n", 1)[0][:300]


def _is_internal(e: BaseException) -> bool:
    from jlhlo.frontend.diagnostics import InternalError, JuliaError

    from jlhlo.api import UsageError
    if isinstance(e, InternalError) or "internal error" in str(e) or "please report this" in str(e):
        return True
    return not isinstance(e, (JuliaError, UsageError))


def run_task(task: dict) -> dict:
    from jlhlo.frontend.parser import parse
    res: dict = {"id": task["id"]}
    fname = os.path.basename(task["path"])
    # parse: each method on its own, docstring included
    perr = None
    for it in task["own"]:
        try:
            parse(it["text"] + "\n", fname)
        except Exception as e:  # noqa: BLE001
            perr = perr or {"error": _first_line(e), "internal": _is_internal(e), "line": it["line"],
                            "at": _source_line(e, it["text"] + "\n", fname)}
    res["parse_ok"] = perr is None
    if perr:
        res["parse_error"] = perr["error"]
        res["error"] = perr["error"]
        res["at"] = perr["at"]
        res["internal"] = perr["internal"]
        res["category"] = categorize(perr["error"], "parse", perr["internal"])
        return res
    if task.get("parse_only"):
        return res
    # helpers that parse
    helpers, dropped = [], []
    for h in task["helpers"]:
        try:
            parse(h["code"] + "\n", fname)
            helpers.append(h)
        except Exception as e:  # noqa: BLE001
            dropped.append({"names": h["names"], "path": h["path"], "error": _first_line(e)})
    res["helpers"] = [f"{h['path']}:{','.join(h['names'])}" for h in helpers]
    res["dropped_helpers"] = dropped
    body = "\n\n".join([h["code"] for h in helpers] + [it["code"] for it in task["own"]]) + "\n"
    if any(it["doc"] for it in task["own"]):
        documented = "\n\n".join([h["code"] for h in helpers] + [it["text"] for it in task["own"]]) + "\n"
        res["doc_load_ok"] = _loads(documented, fname)
    outcome = compile_function(body, fname, task["name"], task.get("params", []), dropped, task.get("tries", 16))
    res.update(outcome)
    ref = _reference(task["id"])
    if ref is not None:
        res["ref"] = check_reference(body, fname, task["name"], ref)
        if not res.get("compile_ok") and res["ref"].get("compiled"):
            # the guesses failed but the reference's inputs compile: the function compiles
            res.update(compile_ok=True, args=["(the reference's inputs)"], runs="ok" if res["ref"]["status"] in (
                "match", "mismatch") else res["ref"].get("error"), guess_error=res.pop("error", None),
                guess_category=res.pop("category", None))
    return res


def _source_line(e: BaseException, source: str, fname: str) -> str | None:
    """The line of `source` an error points at (None when it points elsewhere, e.g. into the prelude)."""
    span = getattr(e, "span", None)
    if span is None or span.file != fname:
        return None
    lines = source.splitlines()
    return lines[span.line - 1].strip()[:160] if 0 < span.line <= len(lines) else None


def _loads(source: str, fname: str) -> bool:
    import jlhlo
    try:
        jlhlo.load(source, filename=fname)
        return True
    except Exception:  # noqa: BLE001
        return False


_REFS = None


def _reference(uid: str):
    global _REFS
    if _REFS is None:
        import references
        _REFS = references.REFS
    return _REFS.get(uid)


# ---------------------------------------------------------------------------- argument guesses
def _host_value(kind: str):
    """A host argument of the kind named: Float64, Int64, Vector{Float64} ..."""
    import numpy as np
    rng = np.random.default_rng(7)
    if kind == "Float64":
        return 0.7
    if kind == "Float32":
        return np.float32(0.7)
    if kind == "Int64":
        return 6
    if kind in INTEGER_DTYPES:
        return np.dtype(INTEGER_DTYPES[kind]).type(6)
    if kind == "Bool":
        return True
    if kind == "ComplexF64":
        return complex(0.3, 0.4)
    shapes = {"Vector": (8,), "Matrix": (4, 4), "Array3": (4, 4, 2), "Array4": (8, 8, 3, 2)}
    m = re.match(r"(Vector|Matrix|Array3|Array4)\{(\w+)\}", kind)
    if m:
        shape, elt = shapes[m.group(1)], m.group(2)
        if elt in ("Int64", "Int32"):
            return rng.integers(1, 10, shape).astype(np.int64 if elt == "Int64" else np.int32)
        if elt == "Bool":
            return rng.integers(0, 2, shape).astype(bool)
        a = rng.standard_normal(shape)
        if m.group(1) == "Matrix":
            a = a + 4 * np.eye(4)
        return a.astype(np.float32 if elt == "Float32" else np.float64)
    raise ValueError(kind)


INTEGER_DTYPES = {"Int32": "int32", "UInt64": "uint64", "UInt32": "uint32", "Int16": "int16",
                  "UInt16": "uint16", "Int8": "int8", "UInt8": "uint8"}
SCALARS = ["Float64", "Int64", "Float32", "Bool", "ComplexF64", *INTEGER_DTYPES]
ABSTRACT_GUESSES = {
    "Real": ["Float64", "Int64"], "Number": ["Float64", "Int64", "ComplexF64"], "AbstractFloat": ["Float64", "Float32"],
    "Integer": ["Int64"], "Signed": ["Int64"], "Unsigned": ["UInt64"], "Any": None, "Complex": ["ComplexF64"],
    "IEEEFloat": ["Float64", "Float32"], "Base.IEEEFloat": ["Float64", "Float32"],
}


def _guesses_for(pat, pname: str | None, program, depth: int = 0) -> list:
    """Candidate argument kinds for one parameter: strings as `_host_value` takes, `("fn",)` for a
    function argument, dicts for structs, tuples of candidates for tuples."""
    from jlhlo.frontend import dispatch as D
    if isinstance(pat, D.PTypeVar):
        return _guesses_for(pat.upper, pname, program, depth)
    if isinstance(pat, D.PUnion):
        out = []
        for m in pat.members:
            out += [g for g in _guesses_for(m, pname, program, depth) if g not in out]
        return out
    if isinstance(pat, D.PScalar):
        return [pat.name] if pat.name in SCALARS else []
    if isinstance(pat, D.PAbstract):
        if pat.name == "Function":
            return [("fn",)]
        g = ABSTRACT_GUESSES.get(pat.name)
        if g:
            return list(g)
        # a user abstract type: its concrete structs (the API picks the struct by the dict's fields)
        universe = program.universe
        subs = sorted(s for s, info in universe.structs.items() if pat.name in universe.abstract_chain(info.supertype))
        out = []
        for s in subs[:3]:
            out += [g for g in _guesses_for(D.PStruct(s), pname, program, depth) if g not in out]
        return out
    if isinstance(pat, D.PType):
        # a type argument (`::Type{T}`): written into the wrapper entry, as Julia code passes it
        if isinstance(pat.of, D.PStruct):
            return [("src", pat.of.name)]
        named = _guesses_for(pat.of, None, program, depth + 1)
        return [("src", g) for g in named if isinstance(g, str) and "{" not in g]
    if isinstance(pat, D.PArray):
        elts = _elt_guesses(pat.elt, program)
        nd = pat.ndims if isinstance(pat.ndims, int) else None
        kinds = {1: ["Vector"], 2: ["Matrix"], 3: ["Array3"], 4: ["Array4"]}.get(nd, ["Vector", "Matrix"])
        return [f"{k}{{{e}}}" for k in kinds for e in elts]
    if isinstance(pat, D.PRange):
        return [("src", "1:8"), ("src", "0.0:0.25:1.75")]
    if isinstance(pat, D.PTuple) and pat.items:
        parts = [([k for k in _guesses_for(p, None, program, depth + 1) if not _written(k)] or ["Float64"])[0]
                 for p in pat.items]
        return [tuple(parts)]
    if isinstance(pat, D.PStruct) and depth < 2:
        info = program.universe.structs.get(pat.name)
        if info is None:
            return []
        fields = {}
        for fn_, ft in zip(info.field_names, info.field_types):
            if ft is None:
                fields[fn_] = "Float64"
                continue
            try:
                tv = {t.name: D.PTypeVar(t.name, program.universe.pattern(t.upper, {})) for t in info.typevars}
                fp = program.universe.pattern(ft, tv)
            except Exception:  # noqa: BLE001
                return []
            g = [k for k in _guesses_for(fp, fn_, program, depth + 1) if not _written(k)]
            if not g:
                return []
            fields[fn_] = g[0]
        return [fields]
    if isinstance(pat, D.PAny):
        if pname and (pname.endswith("span") or pname in SPAN_NAMES):
            return [("Float64", "Float64"), "Float64", "Vector{Float64}"]
        if pname in FUNC_PARAM_NAMES:
            return [("fn",), "Float64", "Vector{Float64}"]
        if pname in ("A", "B", "M", "X", "W", "mat", "matrix", "img", "image", "L", "U"):
            return ["Matrix{Float64}", "Vector{Float64}", "Float64", "Int64"]
        arr = pname in ARRAY_NAMES and pname not in ("x", "y", "z", "a", "b", "c", "u", "t", "p", "w", "L")
        intlike = pname in INT_NAMES and pname not in ARRAY_NAMES or pname in ("n", "m", "k", "N", "K", "i", "j")
        if intlike:
            return ["Int64", "Float64", "Vector{Float64}", "Matrix{Float64}"]
        if arr:
            return ["Vector{Float64}", "Matrix{Float64}", "Float64", "Int64"]
        return ["Float64", "Int64", "Vector{Float64}", "Matrix{Float64}"]
    return []


def _written(kind) -> bool:
    """An argument the Python API cannot pass, written in Julia in a wrapper entry instead: `("fn",)`
    (a function: each of LAMBDAS is tried) or `("src", code)` (a type, a range)."""
    return isinstance(kind, tuple) and bool(kind) and kind[0] in ("fn", "src")


def _elt_guesses(pat, program) -> list[str]:
    from jlhlo.frontend import dispatch as D
    if isinstance(pat, D.PTypeVar):
        return _elt_guesses(pat.upper, program)
    if isinstance(pat, D.PScalar) and pat.name in SCALARS:
        return [pat.name]
    if isinstance(pat, D.PAbstract):
        g = ABSTRACT_GUESSES.get(pat.name)
        if g:
            return [x for x in g if x != "ComplexF64"]
    if isinstance(pat, D.PUnion):
        out = []
        for m in pat.members:
            out += [g for g in _elt_guesses(m, program) if g not in out]
        return out or ["Float64"]
    return ["Float64", "Int64"]


SPAN_NAMES = {"interval", "bounds", "domain", "limits", "lims", "ab", "bracket", "x0x1", "tspan", "xspan", "span"}
# errors that say the guessed argument has the wrong shape rather than that the compiler lacks something:
# another combination's error is reported before these
GUESS_ERRORS = re.compile(r"cannot destructure a value of type|has no field|cannot index a value of type|"
                          r"cannot iterate|no method matching (length|size|getindex|iterate)\(::(Float|Int)|"
                          r"no method matching \(\(call\)\)\(|invalid index of type Float")
LAMBDAS = ["x -> x^2 - 2.0", "(x, y) -> y - x^2 + 1.0", "(u, p, t) -> -0.5 * u"]


def _combos(methods, program, limit: int) -> list[tuple]:
    """Argument kind combinations, most likely first: per method (most parameters first), the
    product of the per-parameter guesses by increasing sum of ranks."""
    out: list[tuple] = []
    seen = set()
    order = sorted(methods, key=lambda m: -len(m.patterns))
    for m in order:
        names = list(m.param_names) + [None] * (len(m.patterns) - len(m.param_names))
        per = []
        for pat, nm in zip(m.patterns, names):
            g = _guesses_for(pat, nm, program)
            per.append(g or [None])
        ranks = _smallest_ranks([len(g) for g in per], limit * 4)
        mine = []
        for r in ranks[:limit * 4]:
            combo = tuple(per[i][k] for i, k in enumerate(r))
            if None in combo:
                continue
            key = json.dumps(combo, default=str)
            if key not in seen:
                seen.add(key)
                mine.append(combo)
        out.append(mine)
    # the methods' first choices first, then their second choices ...
    flat = [c for group in itertools.zip_longest(*out) for c in group if c is not None]
    return flat[: limit]


def _smallest_ranks(sizes: list[int], count: int) -> list[tuple[int, ...]]:
    """The first `count` rank vectors (r[i] < sizes[i]) in order of (sum, vector), without listing
    the whole product (4 guesses for each of 15 parameters is 4**15 vectors: the tool ran out of
    memory on BaseBenchmarks' f2)."""
    out: list[tuple[int, ...]] = []
    total = 0
    while len(out) < count and total <= sum(s - 1 for s in sizes):
        level: list[tuple[int, ...]] = []

        def fill(prefix: tuple[int, ...], left: int) -> None:
            i = len(prefix)
            if len(level) >= count:
                return
            if i == len(sizes):
                if left == 0:
                    level.append(prefix)
                return
            for k in range(min(sizes[i] - 1, left) + 1):
                fill(prefix + (k,), left - k)
        fill((), total)
        out += sorted(level)
        total += 1
    return out[:count]


def _materialize(kind):
    if isinstance(kind, dict):
        return {k: _materialize(v) for k, v in kind.items()}
    if isinstance(kind, tuple):
        return tuple(_materialize(v) for v in kind)
    return _host_value(kind)


def _describe(kind) -> str:
    if isinstance(kind, dict):
        return "{" + ", ".join(f"{k}: {_describe(v)}" for k, v in kind.items()) + "}"
    if isinstance(kind, tuple) and kind == ("fn",):
        return "fn"
    if _written(kind):
        return kind[1]
    if isinstance(kind, tuple):
        return "(" + ", ".join(_describe(v) for v in kind) + ")"
    return str(kind)


def compile_function(body: str, fname: str, name: str, params: list[str], dropped: list[dict], tries: int) -> dict:
    import jlhlo
    res: dict = {"compile_ok": False}
    try:
        prog = jlhlo.load(body, filename=fname)
    except Exception as e:  # noqa: BLE001
        return _failure(res, e, "load", dropped, body, fname)
    methods = [m for m in prog.program.methods.get(name, []) if m.origin == "user"]
    if not methods:
        res["error"] = f"no method `{name}` after loading"
        res["internal"] = False
        res["category"] = "load: the function's methods were not collected"
        return res
    try:
        combos = _combos(methods, prog.program, tries)
    except Exception:  # noqa: BLE001
        combos = [("Float64",)]
    if not combos:
        res["error"] = "no argument types could be guessed (struct, range or type arguments)"
        res["category"] = "entry needs arguments the tool cannot build (structs, ranges, types)"
        res["internal"] = False
        return res
    first_err = None
    dispatch_err = None
    deadline = time.perf_counter() + 20
    for combo in combos:
        if time.perf_counter() > deadline:
            break
        written = [i for i, k in enumerate(combo) if _written(k)]
        lambdas = LAMBDAS if ("fn",) in combo else [None]
        for lam in lambdas:
            try:
                entry, src = name, body
                args = [_materialize(k) for k in combo if not _written(k)]
                if written:
                    formal = [f"__a{i}" for i in range(len(combo)) if i not in written]
                    actual = [(lam if combo[i] == ("fn",) else combo[i][1]) if i in written else f"__a{i}"
                              for i in range(len(combo))]
                    entry = "__corpus_entry"
                    src = body + f"\n{entry}({', '.join(formal)}) = {name}({', '.join(actual)})\n"
                    p2 = jlhlo.load(src, filename=fname)
                else:
                    p2 = prog
                f = p2.function(entry, cache=True)
                lowered = f.lower(*args)
                exe = lowered.compile("cpu")
            except Exception as e:  # noqa: BLE001
                msg = _first_line(e)
                if (msg.startswith(f"MethodError: no method matching {name}(") or
                        msg.startswith("MethodError: no method matching __corpus_entry(")):
                    dispatch_err = dispatch_err or e
                    continue
                if first_err is None or GUESS_ERRORS.search(_first_line(first_err[0])) and not GUESS_ERRORS.search(msg):
                    first_err = (e, combo, lam)
                continue
            res["compile_ok"] = True
            res["args"] = [_describe(k) if k != ("fn",) else lam for k in combo]
            try:
                lowered.outputs(exe(*lowered.host_inputs(tuple(args))))
                res["runs"] = "ok"
            except Exception as e:  # noqa: BLE001
                res["runs"] = _first_line(e)
                if _is_internal(e):
                    res["run_internal"] = _first_line(e)
            return res
    if first_err is not None:
        e, combo, lam = first_err
        res["args_tried"] = [_describe(k) if k != ("fn",) else lam for k in combo]
        return _failure(res, e, "compile", dropped, body, fname)
    if dispatch_err is not None:
        res["error"] = _first_line(dispatch_err)
        res["internal"] = False
        res["category"] = "entry needs arguments the tool cannot build (structs, ranges, types)"
        return res
    res["error"] = "timeout while trying argument types"
    res["category"] = "timeout"
    res["internal"] = False
    return res


def _failure(res: dict, e: BaseException, stage: str, dropped: list[dict], source: str = "",
             fname: str = "") -> dict:
    msg = _first_line(e)
    res["error"] = msg
    res["at"] = _source_line(e, source, fname)
    res["internal"] = _is_internal(e)
    if res["internal"] and not ("internal error" in str(e) or "please report" in str(e)):
        res["error"] = f"{type(e).__name__}: {msg}"
        res["traceback"] = traceback.format_exc()[-1500:]
    cat = categorize(res["error"], stage, res["internal"])
    for d in dropped:                  # the error names a helper that did not parse
        if any(f"`{n}`" in msg for n in d["names"]):
            cat = f"needs a helper that does not parse: {categorize(d['error'], 'parse', False)}"
    res["category"] = cat
    return res


def categorize(msg: str, stage: str, internal: bool) -> str:
    """A failure's category: the message's first line with the particulars of this function removed."""
    if internal:
        m = re.match(r"(\w+(?:Error|Exception)?): ", msg)
        return f"INTERNAL: {msg[:90]}" if not m else f"INTERNAL: {m.group(1)}: {msg[len(m.group(0)):][:70]}"
    m = re.search(r"UndefVarError: `([^`]+)` not defined", msg)
    if m:
        return f"UndefVarError: `{m.group(1)}` not defined"
    m = re.search(r"MethodError: no method matching ([^(]+)\(", msg)
    if m:
        return f"MethodError: no method matching {m.group(1)}(...)"
    m = re.match(r"syntax error: unexpected (.*?)(?: \(|,|$)", msg)
    if m:
        return f"{stage}: syntax error: unexpected {m.group(1)[:60]}"
    text = re.sub(r"\d+", "N", msg)
    text = re.sub(r"`[^`]{25,}`", "`...`", text)
    text = re.sub(r"\bFloat64|\bInt64|\bFloat32", "T", text)
    for cut in (" (got", "; got", ", got", " at "):
        if cut in text:
            text = text.split(cut)[0]
    return f"{stage}: {text[:110]}"


def check_reference(body: str, fname: str, name: str, ref: dict) -> dict:
    """Compile and run with the reference's inputs; compare with its expected result."""
    import numpy as np

    import jlhlo
    rng = np.random.default_rng(ref.get("seed", 0))
    args = tuple(ref["inputs"](rng))
    entry = name
    src = body
    if ref.get("entry"):
        src = body + "\n" + ref["entry"] + "\n"
        entry = "__corpus_entry"
    shown_in = _show(args)
    try:
        f = jlhlo.load(src, filename=fname).function(entry)
        lowered = f.lower(*args)
        exe = lowered.compile("cpu")
    except Exception as e:  # noqa: BLE001
        return {"status": "not compiled", "error": _first_line(e), "inputs": shown_in, "internal": _is_internal(e)}
    try:
        got = lowered.outputs(exe(*lowered.host_inputs(args)))
    except Exception as e:  # noqa: BLE001
        return {"status": "error", "error": _first_line(e), "inputs": shown_in, "internal": _is_internal(e),
                "compiled": True}
    expected = ref["expected"](*[a.copy() if hasattr(a, "copy") else a for a in args])
    problems = _compare(got, expected, "out")
    if problems:
        return {"status": "mismatch", "inputs": shown_in, "got": _show(got), "expected": _show(expected),
                "problems": problems[:5], "compiled": True}
    return {"status": "match", "compiled": True}


def _compare(got, exp, where: str) -> list[str]:
    import numpy as np
    if isinstance(exp, tuple):
        if not isinstance(got, tuple) or len(got) != len(exp):
            return [f"{where}: got {type(got).__name__} of {len(got) if isinstance(got, tuple) else '-'} items, "
                    f"expected a tuple of {len(exp)}"]
        return [p for i, (g, e) in enumerate(zip(got, exp)) for p in _compare(g, e, f"{where}.{i + 1}")]
    if isinstance(exp, dict):
        if not isinstance(got, dict) or list(got) != list(exp):
            return [f"{where}: got {got!r:.80}, expected fields {list(exp)}"]
        return [p for k in exp for p in _compare(got[k], exp[k], f"{where}.{k}")]
    g, e = np.asarray(got), np.asarray(exp)
    if g.dtype != e.dtype:
        return [f"{where}: dtype {g.dtype}, expected {e.dtype}"]
    if g.shape != e.shape:
        return [f"{where}: shape {g.shape}, expected {e.shape}"]
    if g.dtype.kind in "fc":
        rtol = 1e-6 if g.dtype in (np.float64, np.complex128) else 1e-4
        if not np.allclose(g, e, rtol=rtol, atol=rtol * 1e-3 * max(1.0, float(np.max(np.abs(e))) if e.size else 1.0),
                           equal_nan=True):
            bad = np.argwhere(~np.isclose(g, e, rtol=rtol, atol=1e-12, equal_nan=True))
            return [f"{where}: values differ (first at {tuple(int(i) for i in bad[0]) if bad.size else ()}, "
                    f"max abs diff {float(np.nanmax(np.abs(g - e))):.3g})"]
    elif not np.array_equal(g, e):
        return [f"{where}: values differ"]
    return []


def _show(v, limit: int = 240) -> str:
    import numpy as np
    if isinstance(v, tuple):
        s = "(" + ", ".join(_show(x, limit) for x in v) + ("," if len(v) == 1 else "") + ")"
    elif isinstance(v, dict):
        s = "{" + ", ".join(f"{k}: {_show(x, limit)}" for k, x in v.items()) + "}"
    elif isinstance(v, np.ndarray) or isinstance(v, np.generic):
        a = np.asarray(v)
        text = np.array2string(a, precision=8, separator=", ", threshold=40).replace("\n", "")
        s = f"{a.dtype}{list(a.shape)} {text}"
    else:
        s = repr(v)
    return s if len(s) <= limit else s[:limit] + "…"


# ============================================================================ the pool
class Pool:
    """`workers` processes running `_worker_main`; a task over `timeout` seconds kills its worker
    (by its own process id) and is recorded as a timeout; a worker is replaced after `recycle` tasks."""

    def __init__(self, workers: int, timeout: float, recycle: int = 120, cache_dir: str | None = None):
        self.n, self.timeout, self.recycle = workers, timeout, recycle
        self.env = dict(os.environ)
        if cache_dir:
            self.env["JLHLO_CACHE_DIR"] = cache_dir
        self.env.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

    def _spawn(self):
        p = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--worker"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, env=self.env, bufsize=1)
        ready = p.stdout.readline()
        if not ready:
            raise RuntimeError("a worker failed to start")
        return {"proc": p, "task": None, "since": 0.0, "done": 0}

    def run(self, tasks: list[dict], progress) -> list[dict]:
        queue = list(tasks)
        results: list[dict] = []
        workers = [self._spawn() for _ in range(min(self.n, len(queue)) or 1)]
        sel = selectors.DefaultSelector()
        for w in workers:
            sel.register(w["proc"].stdout, selectors.EVENT_READ, w)

        def feed(w):
            if queue:
                w["task"] = queue.pop(0)
                w["since"] = time.perf_counter()
                w["proc"].stdin.write(json.dumps(w["task"]) + "\n")
                w["proc"].stdin.flush()

        def replace(w):
            sel.unregister(w["proc"].stdout)
            try:
                w["proc"].kill()
            except ProcessLookupError:
                pass
            w["proc"].wait()
            nw = self._spawn()
            workers[workers.index(w)] = nw
            sel.register(nw["proc"].stdout, selectors.EVENT_READ, nw)
            return nw

        for w in workers:
            feed(w)
        finished = False
        try:
            self._loop(workers, sel, queue, results, progress, feed, replace)
            finished = True
        finally:
            if not finished:                  # interrupted: end the workers this pool started
                for w in workers:
                    if w["proc"].poll() is None:
                        w["proc"].kill()
        for w in workers:
            w["proc"].stdin.close()
            w["proc"].wait()
        return results

    def _loop(self, workers, sel, queue, results, progress, feed, replace) -> None:
        while any(w["task"] is not None for w in workers):
            for key, _ in sel.select(timeout=1.0):
                w = key.data
                line = w["proc"].stdout.readline()
                task = w["task"]
                if not line:         # the worker died (a crash in XLA, out of memory)
                    results.append({"id": task["id"], "crash": True, "compile_ok": False, "parse_ok": True,
                                    "error": "the worker process died", "category": "INTERNAL: worker crashed",
                                    "internal": True})
                    progress(results[-1])
                    w = replace(w)
                    feed(w)
                    continue
                res = json.loads(line)
                results.append(res)
                progress(res)
                w["task"] = None
                w["done"] += 1
                if w["done"] >= self.recycle and queue:
                    w = replace(w)
                feed(w)
            now = time.perf_counter()
            for w in list(workers):
                if w["task"] is not None and now - w["since"] > self.timeout:
                    task = w["task"]
                    results.append({"id": task["id"], "timeout": True, "compile_ok": False, "parse_ok": True,
                                    "error": f"no answer in {self.timeout:.0f} s", "category": "timeout",
                                    "internal": False})
                    progress(results[-1])
                    nw = replace(w)
                    feed(nw)


# ============================================================================ report
def pct(a: int, b: int) -> str:
    return f"{a:4d} ({100.0 * a / b:5.1f}%)" if b else f"{a:4d}   (-)  "


def _stage(r: dict) -> str:
    """Where a numeric function stopped: parse, load, the argument guesses, compile (lowering or XLA)."""
    if r.get("internal"):
        return "internal error"
    cat = r.get("category") or ""
    if not r.get("parse_ok"):
        return "parse"
    if cat.startswith(("load:", "needs a helper")):
        return "load (the function with its helpers)"
    if cat.startswith("entry needs arguments"):
        return "arguments (the tool could not build inputs)"
    if cat == "timeout":
        return "timeout"
    return "compile (inference, lowering, XLA)"


def report(tasks: list[dict], results: dict[str, dict], repos: list[str], elapsed: float) -> None:
    rows = []
    for repo in repos + ["total"]:
        num = [t for t in tasks if t["numeric"] and (repo == "total" or t["repo"] == repo)]
        rs = [results.get(t["id"], {}) for t in num]
        sampled = [r for r in rs if "ref" in r and r["ref"].get("status") != "not compiled"]
        rows.append((repo, {
            "found": sum(1 for t in tasks if repo == "total" or t["repo"] == repo), "numeric": len(num),
            "parse": sum(1 for r in rs if r.get("parse_ok")), "compile": sum(1 for r in rs if r.get("compile_ok")),
            "runs": sum(1 for r in rs if r.get("runs") == "ok"), "sampled": len(sampled),
            "correct": sum(1 for r in sampled if r["ref"].get("status") == "match")}))
    w = max(len(r) for r, _ in rows)
    print(f"\n{'repository':{w}}  found  numeric  parse ok        compile ok      runs            run-correct*")
    for repo, c in rows:
        share = 100.0 * c["correct"] / c["sampled"] if c["sampled"] else 0.0
        print(f"{repo:{w}}  {c['found']:5d}  {c['numeric']:7d}  {pct(c['parse'], c['numeric'])}  "
              f"{pct(c['compile'], c['numeric'])}  {pct(c['runs'], c['numeric'])}  "
              f"{c['correct']:3d}/{c['sampled']:<3d} ({share:5.1f}%)")
    tot = rows[-1][1]
    print("(parse, compile, runs: % of numeric functions; runs: compiled and ran without a Julia exception on the\n"
          " guessed inputs; *run-correct: of the functions with a reference (bench/corpus/references.py) that\n"
          f" compile, those whose result matches it; elapsed {elapsed:.0f} s)")
    if tot["numeric"] and tot["sampled"]:
        est = tot["compile"] / tot["numeric"] * tot["correct"] / tot["sampled"]
        print(f"estimated compile-and-run-correct: {100 * est:.1f}% (compile ok x run-correct share of the sample; "
              f"issue target 60%); parse ok {100 * tot['parse'] / tot['numeric']:.1f}% (target 95%)")
    excl = collections.Counter(t["excluded"] for t in tasks if not t["numeric"])
    print("\nnot counted as numeric:")
    for why, n in excl.most_common():
        print(f"  {n:5d}  {why}")
    numeric_results = [results[t["id"]] for t in tasks if t["numeric"] and t["id"] in results]
    docs = [r for r in numeric_results if "doc_load_ok" in r]
    if docs:
        refused = sum(1 for r in docs if not r["doc_load_ok"])
        kept = sum(1 for r in numeric_results if r.get("compile_ok") and r.get("doc_load_ok", True))
        print(f"\ndocstrings: {len(docs)} numeric functions have one; jlhlo.load refuses it in {refused} of them "
              f"(compile ok is counted with docstrings removed; with them kept it would be {kept})")
    stages = collections.Counter(_stage(r) for r in numeric_results if not r.get("compile_ok"))
    print("\nwhere the numeric functions that do not compile stop:")
    for st, n in stages.most_common():
        print(f"  {n:5d}  {st}")
    cats: dict[str, list[str]] = collections.defaultdict(list)
    for t in tasks:
        r = results.get(t["id"])
        if t["numeric"] and r and not r.get("compile_ok"):
            cats[r.get("category") or r.get("tool_error", "?")].append(t["id"])
    ordered = sorted(cats.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    total = sum(len(v) for v in cats.values())
    print(f"\nfailure categories ({total} numeric functions; top 30 of {len(ordered)}):")
    for cat, ids in ordered[:30]:
        print(f"  {len(ids):4d}  {cat}\n          e.g. {', '.join(_short(i) for i in ids[:3])}")
        at = next((results[i].get("at") for i in ids if results[i].get("at")), None)
        if at:
            print(f"          at: {at[:110]}")
    if ordered[30:]:
        rest = sum(len(v) for _, v in ordered[30:])
        print(f"  ... {len(ordered) - 30} more categories, {rest} functions (see --json)")
    runs = collections.Counter(r.get("runs") for r in numeric_results if r.get("compile_ok") and r.get("runs") != "ok")
    if runs:
        print("\ncompiled but raised on the guessed inputs (often the inputs' fault, e.g. a matrix not square):")
        for msg, n in runs.most_common(10):
            print(f"  {n:4d}  {str(msg)[:120]}")
    internals = [(t, results[t["id"]]) for t in tasks if t["id"] in results and (
        results[t["id"]].get("internal") or results[t["id"]].get("run_internal")
        or results[t["id"]].get("ref", {}).get("internal"))]
    print(f"\ninternal errors ({len(internals)}):")
    for t, r in internals:
        msg = r.get("error") if r.get("internal") else (r.get("run_internal") or r.get("ref", {}).get("error"))
        print(f"  {t['id']} (line {t['line']})\n      {msg}\n      args: {r.get('args_tried') or r.get('args')}")
    tool = [(t, results[t["id"]]) for t in tasks if t["id"] in results and "tool_error" in results[t["id"]]]
    if tool:
        print(f"\nerrors of this tool ({len(tool)}):")
        for t, r in tool[:10]:
            print(f"  {t['id']}: {r['tool_error']}")
    refs = [(t, results[t["id"]]["ref"]) for t in tasks if t["id"] in results and "ref" in results[t["id"]]]
    status = collections.Counter(r["status"] for _, r in refs)
    print(f"\nreferences: {len(refs)} functions; match {status['match']}, mismatch {status['mismatch']}, "
          f"run-time error {status['error']}, not compiled {status['not compiled']}")
    for t, r in refs:
        if r["status"] in ("error", "not compiled"):
            print(f"  {r['status']}: {t['id']}: {r.get('error')}")
    mism = [(t, r) for t, r in refs if r["status"] == "mismatch"]
    print(f"\nmismatches ({len(mism)}):")
    for t, r in mism:
        print(f"  {t['id']} (line {t['line']})\n      inputs:   {r['inputs']}\n      jlhlo:    {r['got']}\n"
              f"      expected: {r['expected']}\n      {'; '.join(r['problems'])}")
    import references
    known = {t["id"] for t in tasks}
    stale = [k for k in references.REFS if k not in known]
    if stale:
        print(f"\nreferences for functions not in the corpus ({len(stale)}): {', '.join(stale[:5])}")


def _short(uid: str) -> str:
    repo, path, name = uid.split(":", 2)
    return f"{repo.split('/')[0]}:{os.path.basename(path)}:{name}"


BASELINE = os.path.join(DATA, "baseline.json")


def write_baseline(path: str, repos: list[Repo], tasks: list[dict], results: dict[str, dict]) -> None:
    """The per-function outcome, compactly, for a later `--compare` (bench/corpus/baseline.json)."""
    funcs = {}
    for t in tasks:
        r = results.get(t["id"], {})
        funcs[t["id"]] = {"numeric": t["numeric"], "parse_ok": r.get("parse_ok"), "compile_ok": r.get("compile_ok"),
                          "category": r.get("category"), "ref": r.get("ref", {}).get("status")}
    out = {"sources": [{"repo": r.name, "commit": r.commit} for r in repos], "functions": funcs}
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(out, fh, indent=0, ensure_ascii=False, sort_keys=True)
        fh.write("\n")


def compare(old_path: str, tasks: list[dict], results: dict[str, dict]) -> None:
    """What changed against an earlier `--json` or `--write-baseline` file."""
    with open(old_path, encoding="utf-8") as fh:
        data = json.load(fh)["functions"]
    old = data if isinstance(data, dict) else {r["id"]: r for r in data}
    print(f"\ncompared with {old_path}:")
    ref_was = collections.Counter(
        o.get("ref") if isinstance(o.get("ref"), str) else (o.get("ref") or {}).get("status") for o in old.values())
    print(f"  references before: {dict(ref_was)}")
    for key in ("parse_ok", "compile_ok"):
        gained = [t["id"] for t in tasks if t["numeric"] and results.get(t["id"], {}).get(key)
                  and not old.get(t["id"], {}).get(key)]
        lost = [t["id"] for t in tasks if t["numeric"] and not results.get(t["id"], {}).get(key)
                and old.get(t["id"], {}).get(key)]
        print(f"  {key}: +{len(gained)} -{len(lost)}")
        for i in lost:
            print(f"    lost: {i}: {results.get(i, {}).get('error')}")


# ============================================================================ main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mirror", default="/work/.mirror", help="folder of the mirrored repositories")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=90.0, help="seconds per function (default 90)")
    ap.add_argument("--tries", type=int, default=16, help="argument-type combinations per function (default 16)")
    ap.add_argument("--json", metavar="FILE", help="write the per-function results")
    ap.add_argument("--compare", metavar="OLD.json", nargs="?", const=BASELINE,
                    help="report what changed against an earlier --json or baseline (bench/corpus/baseline.json)")
    ap.add_argument("--write-baseline", action="store_true", help="write bench/corpus/baseline.json")
    ap.add_argument("--only", metavar="SUBSTR", help="only functions whose id contains SUBSTR")
    ap.add_argument("--refs-only", action="store_true", help="only the functions with a reference")
    ap.add_argument("--parse-only", action="store_true", help="only the parse test (fast)")
    ap.add_argument("--cache-dir", default=os.path.join("/tmp", "jlhlo-corpus-cache"),
                    help="JLHLO_CACHE_DIR for the workers (default /tmp/jlhlo-corpus-cache)")
    ap.add_argument("--list", action="store_true", help="list the functions and their classification, compile nothing")
    ap.add_argument("--show", metavar="ID", help="print the source jlhlo is given for one function")
    ap.add_argument("--update-sources", action="store_true", help="rewrite sources.txt from the mirrors' HEAD")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        _worker_main()
        return 0
    if args.update_sources:
        update_sources(args.mirror)
        return 0
    t0 = time.perf_counter()
    repos, tasks = load_corpus(args.mirror, args.only)
    if args.list:
        for t in tasks:
            print(f"{'numeric' if t['numeric'] else 'skip   '}  {t['id']}  {t['excluded'] or ''}")
        return 0
    if args.show:
        t = next((t for t in tasks if t["id"] == args.show), None)
        if t is None:
            print(f"no function {args.show}")
            return 1
        for h in t.get("helpers", []):
            print(f"# helper from {h['path']}:{h['line']}\n{h['code']}\n")
        for it in t["own"]:
            print(it["text"] + "\n")
        return 0
    if args.refs_only:
        import references
        tasks = [t for t in tasks if t["id"] in references.REFS]
    numeric = [t for t in tasks if t["numeric"]]
    for t in numeric:
        t["tries"] = args.tries
        t["parse_only"] = args.parse_only
    print(f"corpus: {len(repos)} repositories, {len(tasks)} functions, {len(numeric)} numeric; "
          f"compiling with {args.workers} workers", file=sys.stderr)
    done = [0]

    def progress(res: dict) -> None:
        done[0] += 1
        if sys.stderr.isatty() or done[0] % 50 == 0:
            print(f"  {done[0]}/{len(numeric)}", file=sys.stderr, end="\r" if sys.stderr.isatty() else "\n")
    pool = Pool(args.workers, args.timeout, cache_dir=args.cache_dir)
    results = {r["id"]: r for r in pool.run(numeric, progress)}
    elapsed = time.perf_counter() - t0
    report(tasks, results, [r.name for r in repos], elapsed)
    if args.compare:
        compare(args.compare, tasks, results)
    if args.write_baseline:
        write_baseline(BASELINE, repos, tasks, results)
        print(f"\nwrote {BASELINE}")
    if args.json:
        out = {"sources": [{"repo": r.name, "commit": r.commit, "files": len(r.files)} for r in repos],
               "functions": [dict({k: v for k, v in t.items() if k not in ("own", "helpers")},
                                  **results.get(t["id"], {})) for t in tasks]}
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(out, fh, indent=1, default=str)
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
