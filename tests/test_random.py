"""Random numbers: `rand`, `randn`, `rand(range, dims)` and `Random.seed!`. After `seed!(n)` the
draws are a fixed stream of n (not Julia's Xoshiro stream): the same seed gives the same numbers,
in loops, called functions and branches, at every optimization level; their distributions have the
right moments. Explicit generators (`Xoshiro(n)`, `MersenneTwister(n)`, `Random.default_rng()`) are
values shared like arrays: every draw advances them, in callees, loops, branches and `while`
conditions; `copy` continues the stream independently; gradients go through code that draws."""
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


# ----------------------------------------------------------------------------- explicit generators
GEN = """
using Random
struct Walker
    rng::Xoshiro
    scale::Float64
end
step!(w::Walker) = w.scale * randn(w.rng)
draw!(rng::AbstractRNG) = rand(rng)
function streams(seed::Int64)
    rng = Xoshiro(seed)
    a = rand(rng, 4)
    b = rand(rng, 4)
    c = copy(rng)
    x = randn(rng, 3)
    y = randn(c, 3)
    z = rand(c, 2)                  # the copy is independent: drawing from it leaves rng alone
    w = rand(rng)
    Random.seed!(rng, seed)
    again = rand(rng, 4)
    m = rand(MersenneTwister(seed), 4)
    s = rand(StableRNG(seed), 4)
    return a, b, x, y, z, w, again, m, s
end
function shared(seed::Int64, flip::Bool)
    rng = Xoshiro(seed)
    ahead = rand(copy(rng), 16)     # the stream's next numbers: rand(rng, n) draws n, one word each
    a = draw!(rng)                  # a callee draws one
    b = zeros(3)
    for i in 1:3                    # a loop draws one per iteration
        b[i] = rand(rng)
    end
    c = [rand(rng) for _ in 1:2]    # a comprehension too
    d = flip ? rand(rng) : -1.0     # a branch taken at run time
    e = step!(Walker(rng, 2.0))     # through a struct's field: a normal takes two words
    k = 0
    while k < 3 && rand(rng) >= 0.0 # a `while` condition draws on every test
        k += 1
    end
    f = rand(rng)
    alias = rng
    g = rand(alias)                 # an alias is the same generator
    return ahead, a, b, c, d, e, k, f, g, rand(rng)
end
function with_gradient(w::Vector{Float64})
    rng = Xoshiro(5)
    ahead = rand(copy(rng), 5)
    loss, grads = withgradient(v -> sum(v .* rand(rng, 3)) + 0.0 * randn(rng), w)
    return ahead, loss, grads[1], rand(rng)
end
function distributions(seed::Int64)
    rng = Xoshiro(seed)
    return (rand(rng, 100_000), randn(rng, 100_000), rand(rng, Float32, 100_000), randn(rng, Float32, 100_000),
            rand(rng, 1:6, 60_000), rand(rng, -3:2:3, 4_000), rand(rng, Bool, 10_000), rand(rng, UInt8, 50_000))
end
function kinds(seed::Int64)
    rng = MersenneTwister(seed)
    return (rand(rng), rand(rng, Float32), rand(rng, 3), rand(rng, Float32, 2, 3), rand(rng, (2, 2)),
            randn(rng), randn(rng, Float32), randn(rng, Float32, (2, 3)), randn(rng, 2, 1),
            rand(rng, 1:6), rand(rng, 1:6, 3, 4), rand(rng, Int32(1):Int32(3), 4), rand(rng, Int64),
            rand(rng, UInt8, 2), rand(rng, Bool), rand(rng, [10, 20, 30], 5), rand(rng, 0.0:0.5:2.0, 4),
            rand(rng, Float16, 3), randn(rng, Float16, 2))
end
function permutations(seed::Int64)
    rng = Xoshiro(seed)
    p = randperm(rng, 50)
    v = collect(1.0:20.0)
    s = shuffle(rng, v)
    t = collect(1:12)
    shuffle!(rng, t)
    M = reshape(collect(1:6), 2, 3)
    A = zeros(2, 3)
    rand!(rng, A)
    B = zeros(Float32, 4)
    randn!(rng, B)
    C = zeros(Int64, 5)
    rand!(rng, C, 1:3)
    return p, s, v, t, shuffle(rng, M), A, B, C, randperm(8), shuffle([1, 1, 2, 3]), rand!(zeros(3))
end
function defaults(seed::Int64)
    r = Random.default_rng()
    Random.seed!(r, seed)
    a = rand(r, 3)
    Random.seed!(seed)
    b = randn(2)
    return a, b, rand(Xoshiro(seed), 3), randn(Random.Xoshiro(seed), 2)
end
unseeded_generator() = rand(Xoshiro(), 4)
half() = (rand(Float16, 100_000), rand(Xoshiro(1), Float16, 100_000), randn(Float16, 4))
function while_draws(seed::Int64)
    rng = Xoshiro(seed)
    n = 0
    while rand(rng) < 0.75
        n += 1
    end
    return n
end
"""


@pytest.fixture(scope="module")
def gen():
    return jlhlo.load(GEN, filename="gen.jl")


def test_a_generator_is_a_reproducible_stream(gen):
    f = gen.function("streams")
    first, same, other = f(42), f(42), f(7)
    for x, y in zip(first, same):
        np.testing.assert_array_equal(x, y)                          # the same seed: the same numbers
    a, b, x, y, z, w, again, m, s = first
    assert not np.array_equal(other[0], a) and len(set(a.tolist()) | set(b.tolist())) == 8
    np.testing.assert_array_equal(x, y)                              # a copy continues the same stream
    assert w == z[0] != z[1]                                         # without advancing the original
    np.testing.assert_array_equal(again, a)                          # seed! restarts the stream
    np.testing.assert_array_equal(m, a)                              # (MersenneTwister: the same streams)
    np.testing.assert_array_equal(s, a)                              # (StableRNGs.jl's StableRNG too)


def test_a_generator_advances_in_callees_loops_branches_and_conditions(gen):
    f = gen.function("shared")
    for flip in (True, False):
        ahead, a, b, c, d, e, k, g_f, g_alias, last = f(3, flip)
        drawn = [a, *b, *c] + ([d] if flip else [])
        np.testing.assert_array_equal(drawn, ahead[:len(drawn)])
        assert d == (ahead[6] if flip else -1.0)
        n = len(drawn) + 2 + 3                                       # randn: two words; the condition: three
        assert k == 3
        np.testing.assert_array_equal([g_f, g_alias, last], ahead[n:n + 3])
    assert f(3, True)[5] != f(4, True)[5]


def test_a_draw_in_a_while_condition_advances_the_generator(gen):
    f = gen.function("while_draws")
    counts = np.array([f(s) for s in range(40)])
    assert counts.max() < 40 and len(set(counts.tolist())) > 3      # geometric with mean 3, not stuck


def test_gradients_ignore_the_generator_and_still_advance_it(gen):
    ahead, loss, grad, after = gen.function("with_gradient")(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(grad, ahead[:3])                   # d/dv sum(v .* u) = u: the numbers drawn
    np.testing.assert_allclose(loss, ahead[:3] @ [1.0, 2.0, 3.0], rtol=1e-15)
    assert after not in ahead                                        # rand(rng, 3) and randn advanced it (5 words)


def test_generator_draws_have_the_right_distributions(gen):
    u, z, f, g, dice, odd, coin, byte = gen.function("distributions")(2026)
    for x in (u, f):
        assert 0 <= x.min() and x.max() < 1
        assert abs(x.mean() - 0.5) < 5 * np.sqrt(1 / 12 / x.size) and abs(x.var() - 1 / 12) < 5 * 0.075 / np.sqrt(x.size)
    for x in (z, g):
        assert abs(x.mean()) < 5 / np.sqrt(x.size) and abs(x.var() - 1) < 5 * np.sqrt(2 / x.size)
        assert abs(np.mean(x.astype(np.float64) ** 4) - 3) < 0.15
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 5 / np.sqrt(u.size)
    for x, values in ((dice, range(1, 7)), (odd, range(-3, 4, 2)), (byte, range(256)), (coin, (False, True))):
        counts = np.array([np.count_nonzero(x == v) for v in values])
        assert counts.sum() == x.size                                # every draw is in the range
        assert np.all(np.abs(counts - x.size / len(counts)) < 5 * np.sqrt(x.size / len(counts)))


def test_generator_draws_have_julias_types_and_shapes(gen):
    out = gen.function("kinds")(1)
    want = [(np.float64, ()), (np.float32, ()), (np.float64, (3,)), (np.float32, (2, 3)), (np.float64, (2, 2)),
            (np.float64, ()), (np.float32, ()), (np.float32, (2, 3)), (np.float64, (2, 1)),
            (np.int64, ()), (np.int64, (3, 4)), (np.int32, (4,)), (np.int64, ()),
            (np.uint8, (2,)), (np.bool_, ()), (np.int64, (5,)), (np.float64, (4,)),
            (np.float16, (3,)), (np.float16, (2,))]
    assert [(x.dtype.type, x.shape) for x in out] == want
    assert 1 <= out[9] <= 6 and set(out[10].ravel().tolist()) <= set(range(1, 7))
    assert set(out[11].tolist()) <= {1, 2, 3} and set(out[15].tolist()) <= {10, 20, 30}
    assert set(out[16].tolist()) <= {0.0, 0.5, 1.0, 1.5, 2.0} and (0 <= out[17]).all() and (out[17] < 1).all()


def test_permutations_and_shuffles(gen):
    p, s, v, t, m, A, B, C, p8, s4, r3 = gen.function("permutations")(9)
    assert sorted(p.tolist()) == list(range(1, 51)) and p.tolist() != list(range(1, 51)) and p.dtype == np.int64
    assert sorted(s.tolist()) == v.tolist() == list(range(1, 21)) and s.tolist() != v.tolist()   # a new vector
    assert sorted(t.tolist()) == list(range(1, 13)) and t.tolist() != list(range(1, 13))         # in place
    assert m.shape == (2, 3) and sorted(m.ravel().tolist()) == list(range(1, 7))
    assert A.shape == (2, 3) and (0 <= A).all() and (A < 1).all() and len(set(A.ravel().tolist())) == 6
    assert B.dtype == np.float32 and len(set(B.tolist())) == 4 and set(C.tolist()) <= {1, 2, 3}
    assert sorted(p8.tolist()) == list(range(1, 9)) and sorted(s4.tolist()) == [1, 1, 2, 3]
    assert r3.shape == (3,) and (0 <= r3).all() and (r3 < 1).all()


def test_the_default_generator_by_name(gen):
    a, b, x, z = gen.function("defaults")(11)
    np.testing.assert_array_equal(a, x)                              # seed!(default_rng(), n) is seed!(n),
    np.testing.assert_array_equal(b, z)                              # whose stream is Xoshiro(n)'s
    f = gen.function("unseeded_generator")
    assert not np.array_equal(f(), f())                              # Xoshiro(): a new seed every run


@pytest.mark.parametrize("src, message", [
    ("main() = randn(Xoshiro(1), Int64)", r"randn\(rng, Int64\) is not supported"),
    ("main() = rand(Xoshiro(1.5))", r"seed must be an integer"),
    ("main() = rand(Int64)", r"rand\(Int64\) is not supported .*`rand\(Xoshiro\(seed\), Int64\)`"),
])
def test_generator_errors(src, message):
    with pytest.raises(JuliaError, match=message):
        jlhlo.load("using Random\n" + src + "\n", filename="e.jl").function("main")()


def test_float16_draws_stay_below_one(gen):
    """XLA's own Float16 uniforms round up to 1.0 about once in 4000 draws; Julia's never reach it."""
    for u in gen.function("half")()[:2]:
        assert u.dtype == np.float16 and 0 <= u.min() and u.max() < 1 and abs(u.astype(np.float64).mean() - 0.5) < 0.01
