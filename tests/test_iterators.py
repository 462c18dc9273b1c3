"""Base.Iterators as ordinary Julia code uses it (`zip`, `enumerate`, `Iterators.product`, `reverse`,
`take`, `drop`, `flatten`, `partition`, `countfrom`) in `for` loops, comprehensions and reductions:
differential against references written in Python from Julia's documented semantics (product: the
first iterator varies fastest; take/drop past the end; `reverse(zip(a, b))` reverses each and zips;
a floating-point countfrom adds its step each time), on random inputs, with exact dtypes and shapes,
and the refusals' messages at their source positions."""
from __future__ import annotations

from itertools import islice

import numpy as np
import pytest
from conftest import assert_same, function
from jlhlo.frontend.diagnostics import JuliaError

i64, f64 = np.int64, np.float64


# ----------------------------------------------------------------------------- references
def product(*its):
    """Julia's Iterators.product: tuples with the first iterator varying fastest."""
    out = [()]
    for it in its:
        out = [t + (x,) for x in it for t in out]
    return out


def col(a):
    """An array's elements in Julia's (column-major) linear order."""
    return list(np.asarray(a).flatten(order="F"))


def halve(xs):
    """s = 0.5s + x over xs: a fold whose value depends on the order."""
    s = 0.0
    for x in xs:
        s = 0.5 * s + x
    return f64(s)


def digits(xs, base):
    h = 0
    for x in xs:
        h = h * base + x
    return i64(h)


def _mod_fold(xs):
    h = 0
    for x in xs:
        h = (h * 31 + x) % 1000003
    return h


def countfrom(start, step):
    """Julia's Iterators.countfrom: each element is the one before plus the step."""
    x = start
    while True:
        yield x
        x = x + step


# ----------------------------------------------------------------------------- for loops
LOOPS = """
function loops(v::Vector{Float64}, w::Vector{Float64}, M::Matrix{Float64})
    h = 0
    for (i, j) in Iterators.product(1:3, 2:2:8)
        h = (h * 31 + 7i + j) % 1000003
    end
    nested = 0
    for ((i, j), k) in Iterators.product(Iterators.product(1:2, 1:3), 1:2)
        nested = nested * 10 + 4i + 2j + k
    end
    pv = 0.0
    for (x, k) in Iterators.product(v, 1:2)
        pv = 0.5 * pv + k * x
    end
    rv = 0.0
    for x in Iterators.reverse(v)
        rv = 0.5 * rv + x
    end
    rr = 0
    for k in Iterators.reverse(3:4:20)
        rr = rr * 100 + k
    end
    rf = 0.0
    for x in Iterators.reverse(0.0:0.1:0.7)
        rf = 0.5 * rf + x
    end
    te = 0.0
    for (k, x) in Iterators.take(enumerate(v), 3)
        te = 0.5 * te + k * x
    end
    dr = 0.0
    for x in Iterators.drop(v, 1)
        dr = 0.5 * dr + x
    end
    past = 0
    for x in Iterators.take(1:4, 10)
        past = past * 10 + x
    end
    for x in Iterators.drop(v, 100)
        past = -1
    end
    fl = 0.0
    for x in Iterators.flatten((v, w, M))
        fl = 0.5 * fl + x
    end
    za = 0.0
    for (a, b) in Iterators.zip(v, w)
        za = 0.5 * za + a * b
    end
    zn = 0.0
    for p in zip(v, w)
        zn += p[1] * p[2]
    end
    en = 0.0
    for (k, x) in Iterators.enumerate(M)
        en = 0.5 * en + k * x
    end
    re = 0.0
    for (k, x) in Iterators.reverse(enumerate(w))
        re = 0.5 * re + k * x
    end
    rz = 0.0
    for (a, b) in Iterators.reverse(zip(v, w))
        rz = 0.5 * rz + a - 2b
    end
    cf = 0
    for k in Iterators.countfrom(5, 3)
        k > 40 && break
        cf = (cf * 31 + k) % 1000003
    end
    cx = 0.0
    for (k, x) in zip(1:1000, Iterators.countfrom(0.0, 0.1))
        k > 25 && break
        cx = x
    end
    mixed = 0.0
    for (a, x) in zip((1, 2.5f0), v)
        mixed = 10 * mixed + a * x
    end
    pt = 0.0
    for c in Iterators.partition(v, 3)
        pt = 0.5 * pt + sum(c) * length(c)
    end
    return h, nested, pv, rv, rr, rf, te, dr, past, fl, za, en, re, rz, cf, cx, mixed, pt, zn
end
"""


def loops_reference(v, w, M):
    h = _mod_fold(7 * i + j for i, j in product(range(1, 4), range(2, 9, 2)))
    nested = digits([4 * i + 2 * j + k for (i, j), k in product(product(range(1, 3), range(1, 4)), range(1, 3))], 10)
    cx = 0.0
    for k, x in zip(range(1, 1001), countfrom(0.0, 0.1)):
        if k > 25:
            break
        cx = x
    vs, ws = list(v), list(w)
    return (i64(h), nested, halve(k * x for x, k in product(vs, range(1, 3))), halve(vs[::-1]),
            digits(list(range(3, 21, 4))[::-1], 100), halve([k / 10 for k in range(7, -1, -1)]),
            halve(k * x for k, x in islice(enumerate(vs, 1), 3)), halve(vs[1:]), i64(1234),
            halve(vs + ws + col(M)), halve(a * b for a, b in zip(vs, ws)),
            halve(k * x for k, x in enumerate(col(M), 1)),
            halve(k * x for k, x in zip(range(len(ws), 0, -1), ws[::-1])),
            halve(a - 2 * b for a, b in zip(vs[::-1], ws[::-1])),            # each reversed, then zipped
            i64(_mod_fold(range(5, 41, 3))), f64(cx),
            f64(10 * (1 * vs[0]) + np.float64(np.float32(2.5)) * vs[1]),
            halve(sum(vs[s:s + 3]) * len(vs[s:s + 3]) for s in range(0, len(vs), 3)),
            f64(sum(a * b for a, b in zip(vs, ws))))


def test_for_loops_over_iterators(rng):
    n = int(rng.integers(6, 9))              # v: a length 3 does not divide (the partition unrolls)
    n += n % 3 == 0
    v, w, M = rng.standard_normal(n), rng.standard_normal(n - 2), rng.standard_normal((2, 3))
    got = function(LOOPS, "loops")(v, w, M)
    assert_same(got, loops_reference(v, w, M), rtol=1e-12, atol=1e-12)
    want = 0.0
    for _ in range(24):
        want += 0.1
    assert got[15] == want != 24 * 0.1              # exactly 0.1 added 24 times, as Julia's countfrom


# ----------------------------------------------------------------------------- run-time counts
COUNTED = """
function counted(v::Vector{Float64}, n::Int, m::Int)
    s = 0.0
    c = 0
    for x in Iterators.take(v, n)
        s = 0.5 * s + x
        c += 1
    end
    d = 0.0
    for (k, x) in Iterators.drop(enumerate(v), m)
        d = 0.5 * d + k * x
    end
    p = 0
    for (i, j) in Iterators.product(1:n, 1:m)
        i * j > 12 && break
        p = p * 7 + i * j
    end
    q = 0
    for (i, x) in zip(Iterators.countfrom(n), Iterators.take(v, m))
        q = q * 10 + i
    end
    return s, c, d, p, q
end
"""


def counted_reference(v, n, m):
    vs = list(v)
    p = 0
    for i, j in product(range(1, n + 1), range(1, m + 1)):
        if i * j > 12:
            break
        p = p * 7 + i * j
    return (halve(vs[:n]), i64(len(vs[:n])), halve(k * x for k, x in list(enumerate(vs, 1))[m:]), i64(p),
            digits([i for i, _ in zip(countfrom(n, 1), vs[:m])], 10))


def test_run_time_counts_are_loops(rng):
    """take/drop/product of a count known only at run time: one executable, a loop of that length
    (nothing specialized on n or m), n past the end included."""
    v = rng.standard_normal(6)
    f = function(COUNTED, "counted")
    for n, m in ((0, 0), (2, 1), (4, 3), (100, 10), (6, 6)):
        assert_same(f(v, n, m), counted_reference(v, n, m), rtol=1e-12, atol=1e-12)
    assert f.lower(v, 3, 2, optimize_level=None).specialized == []


# ----------------------------------------------------------------------------- comprehensions and values
COLLECTED = """
function collected(v::Vector{Float64}, w::Vector{Float64}, M::Matrix{Float64})
    P = [i * j for (i, j) in Iterators.product(1:3, 1:4)]
    Q = [x - y for (x, y) in Iterators.product(v, w)]
    R = [100i + 10j + k for ((i, j), k) in Iterators.product(Iterators.product(1:2, 1:3), 1:2)]
    Z = [a * b for (a, b) in zip(v, w)]
    E = [k * x for (k, x) in enumerate(M)]
    T = [x * y for x in Iterators.take(v, 2), y in 1:3]
    V = [x for x in Iterators.reverse(M)]
    C = collect(Iterators.take(Iterators.countfrom(0.0, 0.1), 12))
    K = [k for k in Iterators.take(Iterators.countfrom(3, -2), 4)]
    S = [sum(c) for c in Iterators.partition(v, 2)]
    F = collect(Iterators.flatten((v, w)))
    return P, Q, R, Z, E, T, V, C, K, S, F,
        sum(Iterators.take(v, 3)), collect(Iterators.drop(v, 2)), collect(Iterators.take(v, 100)),
        sum(a * b for (a, b) in zip(v, w)), sum(a for (a, b) in zip(v, w) if b > 0; init=0.0),
        maximum(Iterators.drop(v, 1)), length(Iterators.product(v, 1:3)), size(Iterators.product(v, M)),
        length(zip(v, w)), length(Iterators.partition(v, 3)), first(Iterators.product(v, w)),
        [x > 1 for x in (1, 2.5)], sum(x for x in (1, 2.5f0)),
        [a + b for (a, b) in zip(M, 2M)], [a * b for (a, b) in zip(v, M)]
end
"""


def collected_reference(v, w, M):
    vs, ws, m = list(v), list(w), col(M)
    x, C = 0.0, []
    for _ in range(12):
        C.append(x)
        x += 0.1
    return (np.array([[i * j for j in range(1, 5)] for i in range(1, 4)], dtype=i64),
            np.subtract.outer(v, w),
            np.array([100 * i + 10 * j + k for (i, j), k in product(product(range(1, 3), range(1, 4)), range(1, 3))],
                     dtype=i64).reshape((2, 3, 2), order="F"),
            np.array([a * b for a, b in zip(vs, ws)]),
            np.array([k * x for k, x in enumerate(m, 1)]).reshape(M.shape, order="F"),
            np.multiply.outer(v[:2], np.arange(1, 4)),
            np.array(m[::-1]).reshape(M.shape, order="F"),
            np.array(C), np.array([3, 1, -1, -3], dtype=i64),
            np.array([sum(vs[s:s + 2]) for s in range(0, len(vs), 2)]),
            np.array(vs + ws),
            f64(sum(vs[:3])), v[2:].copy(), v.copy(), f64(sum(a * b for a, b in zip(vs, ws))),
            f64(sum(a for a, b in zip(vs, ws) if b > 0)), f64(max(vs[1:])), i64(3 * len(vs)),
            (i64(len(vs)), i64(M.shape[0]), i64(M.shape[1])), i64(len(ws)), i64(-(-len(vs) // 3)),
            (f64(vs[0]), f64(ws[0])), np.array([False, True]), np.float32(3.5),
            3 * M, np.array([a * b for a, b in zip(vs, m)]))       # matrices of one shape: that shape


def test_comprehensions_and_reductions_over_iterators(rng):
    n = int(rng.integers(5, 9))
    v, w, M = rng.standard_normal(n), rng.standard_normal(n - 1), rng.standard_normal((3, 2))
    got, want = function(COLLECTED, "collected")(v, w, M), collected_reference(v, w, M)
    assert_same(got, want, rtol=1e-12, atol=1e-12)
    assert np.array_equal(got[7], want[7])          # the counts add the step each time, exactly


# ----------------------------------------------------------------------------- Julia's scoping, mutation
SCOPES = """
function scopes(v::Vector{Float64}, n::Int)
    i = 0
    x = -1.0
    t = 7
    k = 0
    for i in 1:n
    end
    for x in v
        x > 0 && break
    end
    for t in (1, 2.5)
    end
    for (k, y) in enumerate(v)
    end
    s = 0
    for i in 1:3, j in 1:2
        s += i * j
    end
    u = copy(v)
    for (j, a) in enumerate(u)           # each element is read when its iteration begins
        j < length(u) && (u[j + 1] += a)
    end
    z = copy(v)
    for c in Iterators.partition(z, 2)   # views: writes reach the array
        c .= sum(c)
    end
    return i, x, t, k, s, u, z
end
"""


def test_loop_variables_are_the_loops_own_and_elements_are_read_lazily(rng):
    """`i = 0; for i in 1:n end` leaves i at 0 in Julia (only `for outer i` reuses it)."""
    v = rng.standard_normal(6)
    got = function(SCOPES, "scopes")(v, 4)
    u, z = v.copy(), v.copy()
    for j in range(len(u) - 1):
        u[j + 1] += u[j]
    for s in range(0, 6, 2):
        z[s:s + 2] = z[s:s + 2].sum()
    assert_same(got, (i64(0), f64(-1.0), i64(7), i64(0), i64(18), u, z), rtol=1e-12)


def test_gradient_through_a_loop_over_zip(rng):
    src = """
    function energy(v)
        s = 0.0
        for (a, b) in zip(v, Iterators.drop(v, 1))
            s += a * b
        end
        return s
    end
    grad(v::Vector{Float64}) = gradient(energy, v)[1]
    """
    v = rng.standard_normal(5)
    want = np.zeros(5)
    want[:-1] += v[1:]
    want[1:] += v[:-1]
    assert_same(function(src, "grad")(v), want, rtol=1e-12)


# ----------------------------------------------------------------------------- refusals
REFUSALS = [
    ("function main(v::Vector{Float64})\n    s = 0\n    for k in Iterators.countfrom(1)\n        s += k\n    end\n"
     "    return s\nend",
     r"this loop over Iterators\.countfrom\(\.\.\.\), an infinite iterator, has no `break`", (3, 5)),
    ("main(v::Vector{Float64}) = [k for k in Iterators.countfrom(1)]",
     r"a comprehension over Iterators\.countfrom\(\.\.\.\), an infinite iterator, would never end", (1, 28)),
    ("main(v::Vector{Float64}) = [x for x in Iterators.reverse(Iterators.take(v, 2))]",
     r"Iterators\.reverse of Iterators\.take\(\.\.\.\) is not supported: Julia cannot iterate it backwards", (1, 40)),
    ("main(v::Vector{Float64}) = [x for x in Iterators.flatten((v, 1:2))]",
     r"elements of this comprehension differ in type \(Float64 and Int64\)", (1, 28)),
    ("main(v::Vector{Float64}) = [x for x in (1, 2.5)]",
     r"elements of this comprehension differ in type \(Float64 and Int64\)", (1, 28)),
    ("main(v::Vector{Float64}) = [a + b for (a, b) in zip(reshape(v, 2, 3), reshape(v, 3, 2))]",
     r"DimensionMismatch: dimensions must match: a has dims \(Base\.OneTo\(2\), Base\.OneTo\(3\)\), b has dims "
     r"\(Base\.OneTo\(3\), Base\.OneTo\(2\)\), mismatch at 1", (1, 28)),
    ("main(v::Vector{Float64}) = sum(sum(c) for c in Iterators.partition(v, 0))",
     r"ArgumentError: cannot create partitions of length 0", (1, 48)),
    ("main(v::Vector{Float64}) = [x for x in Iterators.take(v, -1)]",
     r"ArgumentError: Take length must be nonnegative", (1, 40)),
]


@pytest.mark.parametrize("src,message,where", REFUSALS)
def test_refusals_name_the_construct(src, message, where):
    with pytest.raises(JuliaError, match=message) as info:
        function(src, "main")(np.arange(6.0))
    span = info.value.span
    assert (span.file, span.line, span.col) == ("t.jl", *where), str(span)


def test_collected_iterators_of_tuples_are_arrays_of_tuples():
    """`collect(Iterators.product(1:2, v))` is a Matrix of tuples and `[(a, b) for (a, b) in zip(v, v)]`
    a Vector of them (stored as a struct of arrays: tests/test_struct_arrays.py)."""
    v = np.arange(3.0)
    got = function("main(v::Vector{Float64}) = collect(Iterators.product(1:2, v))", "main")(v)
    assert got.shape == (2, 3)
    assert_same((got["f0"], got["f1"]), (np.repeat([[1], [2]], 3, axis=1), np.tile(v, (2, 1))))
    got = function("main(v::Vector{Float64}) = [(a, -b) for (a, b) in zip(v, v)]", "main")(v)
    assert_same((got["f0"], got["f1"]), (v, -v))


def test_a_negative_run_time_count_is_julias_argument_error(rng):
    src = """
    function main(v::Vector{Float64}, n::Int)
        s = 0.0
        for x in Iterators.take(v, n)
            s += x
        end
        return s
    end"""
    v = rng.standard_normal(4)
    assert_same(function(src, "main")(v, 2), f64(v[0] + v[1]), rtol=1e-12)
    with pytest.raises(JuliaError, match="ArgumentError: Take length must be nonnegative") as info:
        function(src, "main")(v, -1)
    span = info.value.span
    assert (span.file, span.line, span.col) == ("t.jl", 4, 18), str(span)
