"""Random numbers: `rand`, `randn`, `rand(range, dims)` and `Random.seed!`. After `seed!(n)` the
draws are a fixed stream of n (not Julia's Xoshiro stream): the same seed gives the same numbers,
in loops, called functions and branches, at every optimization level; their distributions have the
right moments."""
from __future__ import annotations

import numpy as np
import pytest
from jlhlo.frontend.diagnostics import JuliaError

import jlhlo

SRC = """
using Random
function walk(n)
    x = 0.0
    for i in 1:n
        x += randn()
    end
    return x
end
function seeded(k::Int64)
    Random.seed!(k)
    a = rand(3)
    b = randn(Float32, 2, 2)
    w = [walk(2) for _ in 1:3]
    d = rand(1:6, 5)
    c = a[1] > 0.5 ? rand() : -rand()
    Random.seed!(k)
    return (a, b, w, d, c, rand(3) == a)
end
function moments(k::Int64)
    Random.seed!(k)
    u = rand(200_000)
    z = randn(200_000)
    f = rand(Float32, 100_000)
    dice = rand(1:6, 60_000)
    return (u, z, f, dice)
end
unseeded() = rand(4)
"""


@pytest.fixture(scope="module")
def prog():
    return jlhlo.load(SRC, filename="random.jl")


def test_a_seed_fixes_the_stream(prog):
    f = prog.function("seeded")
    first = f(42)
    a, b, w, d, c, again = first
    assert a.dtype == np.float64 and a.shape == (3,) and b.dtype == np.float32 and b.shape == (2, 2)
    assert w.shape == (3,) and len(set(w.tolist())) == 3             # each call draws new numbers
    assert d.dtype == np.int64 and set(d.tolist()) <= set(range(1, 7))
    assert bool(again)                                               # seed! again: the same numbers again
    assert (0 <= a).all() and (a < 1).all() and (0.5 < a[0]) == (c > 0)
    for level in (0, 1, 2):                                          # the same stream at every level
        lowered = f.lower(42, optimize_level=level)
        for k, (got, want) in enumerate(zip(lowered.outputs(lowered.compile()(42)), first)):
            if k == 2:                     # sums of draws: a loop's sum may be reassociated (see README)
                np.testing.assert_allclose(got, want, rtol=1e-13)
            else:
                np.testing.assert_array_equal(got, want)
    other = f(7)
    assert not np.array_equal(other[0], a)


def test_seeded_draws_have_the_right_distributions(prog):
    u, z, f, dice = prog.function("moments")(2026)
    assert u.dtype == np.float64 and z.dtype == np.float64 and f.dtype == np.float32
    assert 0 <= u.min() and u.max() < 1 and 0 <= f.min() and f.max() < 1
    # means and variances within 5 standard errors
    assert abs(u.mean() - 0.5) < 5 * np.sqrt(1 / 12 / u.size) and abs(u.var() - 1 / 12) < 5 * 0.075 / np.sqrt(u.size)
    assert abs(f.mean() - 0.5) < 5 * np.sqrt(1 / 12 / f.size)
    assert abs(z.mean()) < 5 / np.sqrt(z.size) and abs(z.var() - 1) < 5 * np.sqrt(2 / z.size)
    assert abs(np.mean(z ** 4) - 3) < 0.1                         # normal tails (kurtosis 3)
    counts = np.bincount(dice, minlength=7)[1:]
    assert counts.sum() == dice.size and np.all(np.abs(counts - dice.size / 6) < 5 * np.sqrt(dice.size / 6))
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 5 / np.sqrt(u.size)


def test_without_a_seed_each_run_draws_new_numbers(prog):
    f = prog.function("unseeded")
    assert not np.array_equal(f(), f())


def test_seed_needs_an_integer():
    with pytest.raises(JuliaError, match=r"Random.seed!\(n\) with an integer n"):
        jlhlo.load("main(x::Float64) = (Random.seed!(x); rand())\n", filename="s.jl").function("main")(1.0)
