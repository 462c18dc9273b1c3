"""Division rounded by a mode and the rounding modes themselves, as Base defines them (div.jl,
floatfuncs.jl): `div`/`rem`/`divrem` with RoundNearest, RoundNearestTiesAway, RoundNearestTiesUp,
RoundDown, RoundUp, RoundToZero and RoundFromZero; `fld`, `cld` and `÷` of floats and of floats
with integers; `round(x, mode)`. The reference is exact rational arithmetic (Python's Fraction) on
Julia's documented definition, "round(x / y, r) without any intermediate rounding" (the
differential tester's reference, `difftest.jlref.rounded`)."""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from conftest import assert_same
from difftest import jlref as R
from jlhlo.frontend.diagnostics import JuliaError

import jlhlo

LEVELS = (0, 1, 2)
MODES = ("RoundNearest", "RoundNearestTiesAway", "RoundNearestTiesUp", "RoundDown", "RoundUp", "RoundToZero",
         "RoundFromZero")


def run(source: str, entry: str, *args):
    f = jlhlo.load(source, filename="t.jl").function(entry)
    out = []
    for level in LEVELS:
        lowered = f.lower(*args, optimize_level=level)
        out.append(lowered.outputs(lowered.compile()(*lowered.host_inputs(args))))
    for other in out[1:]:
        assert_same(other, out[0])
    return out[0]


INTEGER_DIVISION = """
function quotients(a::Vector{Int}, b::Vector{Int})
    q = zeros(Int, length(a), 7)
    r = zeros(Int, length(a), 7)
    for i in eachindex(a, b)
        q[i, 1], r[i, 1] = divrem(a[i], b[i], RoundNearest)
        q[i, 2], r[i, 2] = divrem(a[i], b[i], RoundNearestTiesAway)
        q[i, 3], r[i, 3] = divrem(a[i], b[i], RoundNearestTiesUp)
        q[i, 4] = div(a[i], b[i], RoundDown)
        r[i, 4] = rem(a[i], b[i], RoundDown)
        q[i, 5] = div(a[i], b[i], RoundUp)
        r[i, 5] = rem(a[i], b[i], RoundUp)
        q[i, 6], r[i, 6] = divrem(a[i], b[i], RoundToZero)
        q[i, 7], r[i, 7] = divrem(a[i], b[i], RoundFromZero)
    end
    return q, r
end
"""


def test_integer_division_in_every_mode(rng):
    a = rng.integers(-60, 61, 300)
    b = rng.integers(1, 9, 300) * rng.choice([-1, 1], 300)
    a[:8], b[:8] = [5, -5, 5, -5, 7, -7, 0, 6], [2, 2, -2, -2, 2, -2, 3, -4]     # ties of each sign
    q, r = run(INTEGER_DIVISION, "quotients", a, b)
    want_q = np.array([[R.rounded(Fraction(int(x), int(y)), getattr(R, m)) for m in MODES] for x, y in zip(a, b)])
    want_r = a[:, None] - b[:, None] * want_q
    assert_same((q, r), (want_q, want_r))
    # the examples of Julia's manual for div with a mode
    assert tuple(want_q[0, :3]) == (2, 3, 3) and tuple(want_q[1, :3]) == (-2, -3, -2)


FLOAT_DIVISION = """
function quotients(x::Vector{T}, y::Vector{T}) where {T<:AbstractFloat}
    return (fld.(x, y), cld.(x, y), div.(x, y), x .÷ y, div.(x, y, RoundFromZero),
            rem.(x, y, RoundDown), rem.(x, y, RoundUp), rem.(x, y, RoundFromZero))
end
"""


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_float_quotients_round_the_exact_quotient(rng, dtype):
    """fld(6.0, 0.1) is 59.0 and cld(3.0, 0.3) is 11.0 (the manual's examples): the exact quotient of
    the two floats, not of the decimals they approximate; 6.0 / 0.1 rounds to 60.0."""
    x = (rng.uniform(-50, 50, 400) * 10.0 ** rng.integers(-2, 2, 400)).astype(dtype)
    y = (rng.uniform(0.05, 3, 400) * rng.choice([-1, 1], 400)).astype(dtype)
    x[:4], y[:4] = [6.0, 3.0, -6.0, 0.7], [0.1, 0.3, 0.1, 0.1]
    got = run(FLOAT_DIVISION, "quotients", x, y)
    exact = [Fraction(float(a)) / Fraction(float(b)) for a, b in zip(x, y)]
    for k, mode in enumerate(("RoundDown", "RoundUp", "RoundToZero", "RoundToZero", "RoundFromZero")):
        want = np.array([R.rounded(q, getattr(R, mode)) for q in exact], dtype=dtype)
        assert got[k].dtype == dtype and np.array_equal(got[k], want), mode
    if dtype == np.float64:
        assert tuple(got[0][:3]) == (59.0, 10.0, -60.0) and got[1][1] == 11.0
    # the remainders are those of Julia's mod (exact: fmod with the divisor's sign)
    with np.errstate(invalid="ignore"):
        down = np.fmod(x, y) + np.where((np.fmod(x, y) != 0) & ((np.fmod(x, y) < 0) != (y < 0)), y, 0)
        up = np.fmod(x, -y) + np.where((np.fmod(x, -y) != 0) & ((np.fmod(x, -y) < 0) != (-y < 0)), -y, 0)
    assert_same(got[5], down.astype(dtype), rtol=0, atol=0)
    assert_same(got[6], up.astype(dtype), rtol=0, atol=0)
    assert_same(got[7], np.where(np.signbit(x) == np.signbit(y), up, down).astype(dtype), rtol=0, atol=0)


def test_float_quotients_with_integers_and_signed_zeros():
    src = """
    function main(x::Float64, n::Int)
        return (fld(x, n), cld(x, n), div(x, n), fld(n, x), cld(-x, n), x ÷ n,
                fld(0.0, -1.0), fld(-0.0, 1.0), cld(-0.0, -1.0), cld(0.0, 1.0), cld(0.5, -1.0), div(-0.5, 1.0),
                fld(x, 0.0), fld(Inf, 2.0))
    end"""
    got = run(src, "main", 7.5, 2)
    want = (7.5 // 2, -(-7.5 // 2), 3.0, 2 // 7.5, -(7.5 // 2), 3.0, -0.0, -0.0, 0.0, 0.0, -0.0, 0.0, math.nan, math.nan)
    assert_same(got, tuple(np.float64(w) for w in want), rtol=0, atol=0)
    # zeros keep Base's signs (the sign of the quotient of the exact multiple)
    assert [bool(np.signbit(g)) for g in got[6:12]] == [True, True, False, False, True, False]


ROUNDING = """
function main(x::Vector{Float64})
    return (round.(x, RoundNearestTiesAway), round.(x, RoundNearestTiesUp), round.(x, RoundFromZero),
            round.(x, RoundNearest), round.(Int, x, RoundNearestTiesAway), round(2.5, RoundNearestTiesAway),
            round(-2.5, RoundNearestTiesUp), round(7, RoundFromZero), round(1.23456, RoundNearestTiesAway; digits=2))
end
"""


def test_rounding_modes_of_floats(rng):
    x = np.concatenate([np.arange(-6, 6.5, 0.5), rng.uniform(-100, 100, 200), [0.49999999999999994, -0.0, 4.5e15 + 0.5]])
    got = run(ROUNDING, "main", x)
    for k, mode in enumerate(("RoundNearestTiesAway", "RoundNearestTiesUp", "RoundFromZero", "RoundNearest")):
        want = np.array([R.rounded(Fraction(float(v)), getattr(R, mode)) for v in x], dtype=np.float64)
        assert np.array_equal(got[k], want), mode
    assert_same(got[4], np.array([R.rounded(Fraction(float(v)), R.RoundNearestTiesAway) for v in x]))
    assert_same(got[5:], (np.float64(3.0), np.float64(-2.0), np.int64(7), np.float64(1.23)))
    # a zero keeps the sign of x, as Base's formulas give it: round(-0.3, RoundNearestTiesUp) is -0.0
    assert np.signbit(got[0][np.signbit(x) & (x == 0)]).all() and np.signbit(got[1][(x < 0) & (x > -0.5)]).all()


def test_signed_and_unsigned_reinterpret_and_powers_of_two():
    src = """
    function main(u::UInt64, i::Int32)
        return (signed(u), signed(0xff), unsigned(-2), unsigned(i), signed(-3), unsigned(0x05),
                ispow2(u), ispow2(0), ispow2(-4), ispow2(1), ispow2(0x40), fldmod1(7, 3), fldmod1(6, 3))
    end"""
    got = run(src, "main", np.uint64(2**64 - 1), np.int32(-1))
    assert_same(got, (np.int64(-1), np.int8(-1), np.uint64(2**64 - 2), np.uint32(2**32 - 1), np.int64(-3),
                      np.uint8(5), np.bool_(False), np.bool_(False), np.bool_(False), np.bool_(True), np.bool_(True),
                      (np.int64(3), np.int64(1)), (np.int64(2), np.int64(3))))


def test_unchecked_indexing_is_checked_and_nothing_is_missing():
    src = "main(x::Vector{Float64}, i::Int) = (Base.unsafe_getindex(x, i), ismissing(x[i]), ismissing(i))"
    assert_same(run(src, "main", np.array([1.0, 2.5]), 2), (np.float64(2.5), np.bool_(False), np.bool_(False)))


def test_setindex_called_by_name_writes_in_place_and_returns_the_array(rng):
    src = """
    put!(A, v, I...) = setindex!(A, v, I...)
    function main(A::Matrix{Float64}, i::Int, j::Int)
        B = copy(A)
        R = setindex!(B, 7, i, j)              # converted to Float64, as A[i, j] = 7
        setindex!(B, [1.0, 2.0], 1:2, 1)
        put!(B, -1.0, length(B))
        return R === B, B, A
    end"""
    A = rng.standard_normal((3, 3))
    B = A.copy()
    B[1, 2] = 7.0
    B[0:2, 0] = [1.0, 2.0]
    B[2, 2] = -1.0
    assert_same(run(src, "main", A, 2, 3), (np.bool_(True), B, A))


def test_modes_to_nearest_are_refused_for_floats():
    """Base's float remainder to the nearest multiple (IEEE remainder) is not implemented: no method,
    rather than a quotient computed another way."""
    with pytest.raises(JuliaError, match="no method matching div"):
        run("main(x::Float64) = div(x, 2.0, RoundNearest)", "main", 5.0)


def test_numbers_iterate_as_one_element_and_ntuple_takes_a_val():
    """Found by bench/corpus.py in Roots.jl (`float(first(x))` of a number) and SpecialFunctions
    (`ntuple(i -> x / (a + i), Val(21))`); a negative length is Julia's ArgumentError, not ()."""
    src = """
    main(x::Float64, k::Int) = (first(x), last(k), first(2.5f0), ntuple(i -> x / i, Val(3)), ntuple(i -> i, Val(0)))
    negative(x) = ntuple(i -> x, Val(-1))
    negative_int(x) = ntuple(i -> x, -2)"""
    assert_same(run(src, "main", 1.5, 7), (np.float64(1.5), np.int64(7), np.float32(2.5),
                                           (np.float64(1.5), np.float64(0.75), np.float64(0.5)), ()))
    for entry in ("negative", "negative_int"):
        with pytest.raises(JuliaError, match="ArgumentError: tuple length should be ≥ 0"):
            run(src, entry, 1.0)
