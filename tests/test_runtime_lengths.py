"""Reductions over ranges whose length is known only at run time (`sum(f(k) for k in 1:n)`,
`sum(f, 1:n)`, `prod(1:n)`, `count`, `any`, `all`, `mapreduce`, `foldl`): loops in Julia's order,
with Julia's results for empty ranges, against NumPy references for several run-time lengths."""
from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import assert_same
from jlhlo.frontend.diagnostics import JuliaError

import jlhlo
from jlhlo.api import flatten_host

SOURCE = """
function main(x::Vector{Float64}, n::Int64)
    a = sum(k^2 for k in 1:n)
    b = sum(x[k] * k for k in 1:n)
    c = count(iseven(k) for k in 1:n)
    d = any(x[k] > 0.5 for k in 1:n)
    e = all(k > 0 for k in 1:n)
    f = sum(1:n) + sum(3:2:n)
    g = prod(1:n)
    h = count(iseven, 1:n)
    i = foldl(-, 0:n)
    j = mapreduce(k -> 1 / k, +, 1:n + 1)
    k = sum(Int32(k) for k in 1:n + 1)
    return a, b, c, d, e, f, g, h, i, j, k
end"""


def reference(x: np.ndarray, n: int) -> tuple:
    ks = range(1, n + 1)
    folded = 0
    for v in range(1, n + 1):
        folded -= v
    return (sum(k * k for k in ks), float(sum(x[k - 1] * k for k in ks)) if n else None,
            sum(1 for k in ks if k % 2 == 0), any(x[k - 1] > 0.5 for k in ks), True,
            n * (n + 1) // 2 + sum(range(3, n + 1, 2)), math.prod(ks), sum(1 for k in ks if k % 2 == 0), folded,
            sum(1.0 / k for k in range(1, n + 2)), sum(range(1, n + 2)))


@pytest.fixture(scope="module")
def lowered():
    fn = jlhlo.load(SOURCE, filename="t.jl").function("main")
    return {level: fn.lower(np.zeros(6), 1, optimize_level=level) for level in (0, 2)}


@pytest.mark.parametrize("n", [1, 2, 5, 6])
def test_runtime_length_reductions(lowered, rng, n):
    x = rng.standard_normal(6)
    for low in lowered.values():
        got = low.outputs(low.compile("cpu")(*flatten_host((x, n))))
        assert_same(tuple(got), reference(x, n), rtol=1e-12)


def test_one_executable_serves_every_length(lowered):
    # the length is a run-time value: the same compiled program, not one per n
    text = str(lowered[0].module)
    assert "stablehlo.while" in text


def test_empty_range_reductions_follow_julia(rng):
    src = """
function main(n)
    return sum(1:n), prod(1:n), count(iseven(k) for k in 1:n), any(k > 3 for k in 1:n),
           all(k > 3 for k in 1:n), sum(1.0:2.0), sum(2:1)
end"""
    fn = jlhlo.load(src, filename="t.jl").function("main")
    low = fn.lower(0, optimize_level=0)
    assert_same(tuple(low.outputs(low.compile("cpu")(*flatten_host((0,))))), (0, 1, 0, False, True, 3.0, 0))
    # Julia: reducing an empty generator (its element type unknown) or `f` over an empty range is an error
    for body in ("sum(k^2 for k in 1:n)", "maximum(k -> k, 1:n)", "foldl(+, 1:n)"):
        low = jlhlo.load(f"main(n) = {body}", filename="t.jl").function("main").lower(0, optimize_level=0)
        with pytest.raises(JuliaError, match="reducing over an empty collection"):
            low.outputs(low.compile("cpu")(*flatten_host((0,))))


def test_range_element_type_takes_part_in_dispatch():
    # AbstractRange{<:Integer} is not AbstractRange{Float64}: the element type of a range pattern
    # was ignored, so the later of two such methods replaced the other
    src = """
f(r::AbstractRange{<:Integer}) = 1
f(r::AbstractRange) = 2
g(r::AbstractRange{Float64}) = 3
g(r::AbstractVector) = 4
main(n) = (f(1:n), f(1.0:n), g(1:n), g(1.0:n), g([1.0]))"""
    low = jlhlo.load(src, filename="t.jl").function("main").lower(3, optimize_level=0)
    assert_same(tuple(low.outputs(low.compile("cpu")(*flatten_host((3,))))), (1, 2, 4, 3, 4))
