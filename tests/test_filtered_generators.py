"""Generators with an `if` filter consumed by a reduction, as Julia code writes them
(`sum(x[i] for i in 1:n if x[i] > 0)`): the element expression runs only where the condition holds
(no DomainError from `log` of the skipped elements); reducing an empty selection without `init` is
Julia's ArgumentError (a generator's element type is unknown to Base, `reduce_empty_iter`), with
`init` it gives `init`; `count`/`any`/`all` of nothing are 0/false/true; `-0.0` survives a sum of
negative zeros. References in NumPy."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import assert_same
from jlhlo.frontend.diagnostics import JuliaError

import jlhlo

LEVELS = (0, 2)

REDUCTIONS = """
function main(x::Vector{Float64}, t::Float64, n::Int)
    s = sum(v for v in x if v > t; init=0.0)
    p = prod(v for v in x if v > t; init=1.0)
    m = maximum(abs(v) for v in x if v < t; init=-1.0)
    lo = minimum(2v for v in x if v > t; init=100.0)
    c = count(v > 0 for v in x if abs(v) > t)
    a = any(v > 1 for v in x if v > t)
    b = all(v > 1 for v in x if v > t)
    l = sum(log(x[i]) for i in 1:length(x) if x[i] > 0)
    q = sum(i * j for i in 1:n, j in 1:4 if i < j)
    μ = mean(v for v in x if v > t - 10)
    k = sum(1 for v in x if v > t; init=0)
    return (s, p, m, lo, c, a, b, l, q, μ, k)
end
"""


def reference(x: np.ndarray, t: float, n: int):
    above = x[x > t]
    below = x[x < t]
    logs = np.log(x[x > 0]).sum() if (x > 0).any() else 0.0
    q = sum(i * j for i in range(1, n + 1) for j in range(1, 5) if i < j)
    kept = x[x > t - 10]
    mean = kept.sum() / kept.size
    return (np.float64(above.sum()) if above.size else np.float64(0.0), np.float64(np.prod(above)),
            np.float64(max([-1.0] + list(np.abs(below)))), np.float64(min([100.0] + list(2 * above))),
            np.int64(np.count_nonzero(x[np.abs(x) > t] > 0)), np.bool_((above > 1).any()),
            np.bool_((above > 1).all()), np.float64(logs), np.int64(q), np.float64(mean), np.int64(above.size))


def run_at(source: str, level: int, *args):
    f = jlhlo.load(source, filename="t.jl").function("main")
    lowered = f.lower(*args, optimize_level=level)
    return lowered.outputs(lowered.compile("cpu")(*lowered.host_inputs(args)))


def test_reductions_of_filtered_generators(rng):
    for trial in range(5):
        x = np.round(rng.standard_normal(6), 2)
        t = float(rng.choice([-9.0, 0.0, 0.5, 5.0]))      # mean: t - 10 keeps some
        n = 3                                     # a constant of the program: the generator's shape
        for level in LEVELS:
            assert_same(run_at(REDUCTIONS, level, x, t, n), reference(x, t, n), rtol=1e-12)


def test_a_sum_of_negative_zeros_is_negative_zero():
    source = "main(x::Vector{Float64}) = (sum(v for v in x if v <= 0), sum(v for v in x if v > 5; init=0.0))\n"
    got = run_at(source, 2, np.array([-0.0, 1.0, -0.0]))
    assert np.signbit(got[0]) and got[0] == 0 and not np.signbit(got[1]) and got[1] == 0


@pytest.mark.parametrize("reduction", ["sum", "prod", "maximum", "minimum", "mean"])
def test_reducing_an_empty_selection_without_init_is_an_error_when_it_happens(reduction):
    source = f"""
function main(x::Vector{{Float64}}, t::Float64)
    return {reduction}(2v for v in x if v > t)
end
"""
    want = {"sum": 10.0, "prod": 24.0, "maximum": 6.0, "minimum": 4.0, "mean": 5.0}[reduction]
    assert_same(run_at(source, 2, np.array([0.5, 2.0, 3.0]), 1.0), np.float64(want))    # 2v for v in (2, 3)
    with pytest.raises(JuliaError, match="ArgumentError: reducing over an empty collection is not allowed"):
        run_at(source, 2, np.array([0.5, 2.0, 3.0]), 5.0)


def test_filtered_array_comprehensions_are_refused_clearly():
    source = "main(x::Vector{Float64}) = [v for v in x if v > 0]\n"
    with pytest.raises(JuliaError, match="has a size that depends on the data"):
        run_at(source, 2, np.array([0.5, -2.0]))
