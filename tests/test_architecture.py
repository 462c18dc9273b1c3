"""The shape of the code base: imports go one way (core -> frontend -> mlir_passes -> runtime ->
jlhlo, see ARCHITECTURE.md), and every op the compiler emits is in the one op-trait table."""
from __future__ import annotations

import ast
import os
import re

import numpy as np
from jlhlo.core.ops import OPS

import jlhlo

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGES = {"core": "jlhlo.core", "frontend": "jlhlo.frontend", "mlir_passes": "jlhlo.mlir_passes",
            "runtime": "jlhlo.runtime", "jlhlo": "jlhlo"}
# what each stage may import: the ones before it
LAYERS = ["jlhlo.core", "jlhlo.frontend", "jlhlo.mlir_passes", "jlhlo.runtime", "jlhlo"]
def _modules() -> dict[str, str]:
    mods = {}
    for folder, package in PACKAGES.items():
        for dirpath, _, files in os.walk(os.path.join(ROOT, folder)):
            for f in files:
                if f.endswith(".py"):
                    rel = os.path.relpath(os.path.join(dirpath, f), os.path.join(ROOT, folder))[:-3].split(os.sep)
                    if rel[-1] == "__init__":
                        rel = rel[:-1]
                    mods[".".join([package, *rel])] = os.path.join(dirpath, f)
    return mods


def import_graph() -> dict[str, set[str]]:
    """Module -> the modules it imports (at module level or inside functions)."""
    mods = _modules()
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for m, path in mods.items():
        package = m if path.endswith("__init__.py") else m.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(open(path).read())):
            if isinstance(node, ast.ImportFrom):
                base = package.split(".")[:len(package.split(".")) - node.level + 1] if node.level else []
                target = ".".join(base + ([node.module] if node.module else [])) if node.level else node.module
                for alias in node.names:      # `from . import x` imports the submodule x
                    name = f"{target}.{alias.name}"
                    graph[m].add(name if name in mods else target)
            elif isinstance(node, ast.Import):
                graph[m].update(a.name for a in node.names)
        graph[m] = {t for t in graph[m] if t in mods and t != m}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(comp)
    for v in graph:
        if v not in index:
            visit(v)
    return out


def _layer(module: str) -> int:
    return max(k for k, prefix in enumerate(LAYERS) if module == prefix or module.startswith(prefix + "."))


def test_no_import_cycles():
    """Also imports made only for type checking count: a module written against another's types
    depends on it. The frontend's modules see the function being lowered through the
    `context.Lowering` interface, so none of them needs `lower.py`."""
    found = [sorted(c) for c in cycles(import_graph())]
    assert not found, f"import cycles: {found}"


def test_imports_go_one_way():
    upward = sorted((m, t) for m, targets in import_graph().items() for t in targets
                    if _layer(t) > _layer(m))
    assert not upward, f"modules importing a later stage: {upward}"


# ----------------------------------------------------------------------------- op traits
PROGRAMS = [
    ("""
function main(x::Vector{Float64}, k::Vector{Int64}, z::Vector{ComplexF64}, A::Matrix{Float64})
    a = exp.(x) .+ log.(abs.(x) .+ 1) .+ tanh.(x) .+ sin.(x) .* cos.(x) .+ tan.(x) .+ atan.(x, 2.0)
    b = sqrt.(abs.(x)) .+ cbrt.(x) .+ sign.(x) .+ floor.(x) .+ ceil.(x) .+ round.(x) .+ trunc.(x) .+ expm1.(x)
    c = mod.(k, 3) .+ rem.(k, 3) .+ div.(k, 2) .+ (k .<< 1) .+ (k .>> 1) .+ (k .& 3) .+ (k .| 1) .+ xor.(k, 5)
    d = count_ones.(k) .+ leading_zeros.(k) .+ clamp.(k, 0, 4)
    e = real.(z) .+ imag.(z) .+ abs.(z)
    f = ifelse.(isfinite.(x) .& .!isnan.(x), x .^ 2, 1.0 ./ x) .+ log1p.(abs.(x)) .+ max.(x, 0.1) .+ min.(x, 0.2)
    s = 0.0
    i = 1
    while i <= length(x) && s < 100.0
        s += x[i] > 0 ? x[i] : -x[i]
        i += 1
    end
    B = reverse(A; dims=1) * permutedims(A) .+ sum(A; dims=2) .+ maximum(A)
    y = x[k]
    x[k] .= 0.0
    return a, b, c, d, e, f, s, B, y, x, cumsum(x), rand(2), sort(x), A[2:end, :], reshape(A, :)
end""", lambda: (np.linspace(-1, 1, 4), np.array([1, 3, 2, 4]), np.array([1 + 2j, 3 - 1j, 0j, 2j]),
                 np.arange(16.0).reshape(4, 4))),
    ("""
function main(x::Array{Float32,4}, w::Array{Float32,4}, b::Vector{Float32}, W::Matrix{Float32})
    loss(w, W) = begin
        h = maxpool(relu.(conv(x, w; pad=1) .+ reshape(b, 1, 1, :, 1)), (2, 2))
        h = meanpool(h, (1, 1))
        v = reshape(h, :, size(h, 4))
        p = softmax(W * v)
        t = 0.0f0
        for k in 1:3
            t += sum(p .* k) / k
        end
        return t + sum(sigmoid.(v))
    end
    return gradient(loss, w, W)
end""", lambda: (np.ones((6, 6, 2, 2), np.float32), np.ones((3, 3, 2, 3), np.float32), np.ones(3, np.float32),
                 np.ones((4, 27), np.float32))),
]


def test_every_op_the_compiler_emits_has_traits():
    names: set[str] = set()
    for src, make_args in PROGRAMS:
        fn = jlhlo.load(src, filename="ops.jl").function("main")
        for level in (0, 2):
            text = fn.lower(*make_args(), optimize_level=level).as_text()
            names.update(re.findall(r"\b((?:stablehlo|func)\.[a-z_]+)\b", text))
    names -= {"func.func"}
    assert len(names) > 40
    missing = sorted(n for n in names if n not in OPS)
    assert not missing, f"ops without an entry in core/ops.py: {missing}"
