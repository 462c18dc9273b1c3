"""Base's range constructors (`range` in every keyword form, `LinRange`, `StepRangeLen`, `Base.OneTo`),
`searchsorted`, `gcdx` and `selectdim`, against an independent reference of Julia's rules.

The reference replays Base's algorithms (base/twiceprecision.jl: `rat`, `floatrange`, `_linspace`,
`steprangelen_hp`, TwicePrecision's `add12`/`mul12`/division, `unsafe_getindex`, `sum`; base/range.jl:
`lerpi`) with every floating-point operation done exactly in Fractions and rounded once to the
operation's IEEE type: it shares no code with the compiler, and the elements are compared bit for bit.
"""
from __future__ import annotations

import math
import struct
from fractions import Fraction

import numpy as np
import pytest
from jlhlo.frontend.diagnostics import JuliaError

import jlhlo

# ----------------------------------------------------------------------------- IEEE arithmetic, exactly
F64, F32, F16 = np.float64, np.float32, np.float16
_FORMAT = {F64: (53, -1022), F32: (24, -126), F16: (11, -14)}        # precision, smallest normal exponent
_EMAX = {F64: 1023, F32: 127, F16: 15}


def rnd(q: Fraction, T, zero_sign: float = 1.0) -> float:
    """q rounded to the nearest value of T (ties to even), as a Python float."""
    if q == 0:
        return math.copysign(0.0, zero_sign)
    p, emin = _FORMAT[T]
    a = abs(q)
    e = a.numerator.bit_length() - a.denominator.bit_length()
    if Fraction(2) ** e > a:
        e -= 1
    e = max(e, emin)
    ulp = Fraction(2) ** (e - p + 1)
    n, rest = divmod(a / ulp, 1)
    if rest > Fraction(1, 2) or rest == Fraction(1, 2) and n % 2 == 1:
        n += 1
    if n * ulp >= Fraction(2) ** (_EMAX[T] + 1):
        return math.inf if q > 0 else -math.inf
    value = float(n * ulp)
    return value if q > 0 else -value


def _sign(x: float) -> float:
    return math.copysign(1.0, x)


def add(T, a: float, b: float) -> float:
    if math.isinf(a) or math.isinf(b) or math.isnan(a) or math.isnan(b):
        return float(T(a) + T(b))
    return rnd(Fraction(a) + Fraction(b), T, -1.0 if _sign(a) < 0 and _sign(b) < 0 else 1.0)


def sub(T, a: float, b: float) -> float:
    return add(T, a, -b)


def mul(T, a: float, b: float) -> float:
    if not (math.isfinite(a) and math.isfinite(b)):
        return float(T(a) * T(b))
    return rnd(Fraction(a) * Fraction(b), T, _sign(a) * _sign(b))


def div(T, a: float, b: float) -> float:
    if b == 0 or not (math.isfinite(a) and math.isfinite(b)):
        with np.errstate(all="ignore"):
            return float(T(a) / T(b))
    return rnd(Fraction(a) / Fraction(b), T, _sign(a) * _sign(b))


def cvt(x, T) -> float:
    """T(x) for an integer or a float."""
    return rnd(Fraction(x), T, _sign(x) if isinstance(x, float) else 1.0) if math.isfinite(x) else float(x)


def fdiv(a: int, b: int) -> float:
    """Julia's a/b of two integers: Float64(a) / Float64(b)."""
    return div(F64, cvt(a, F64), cvt(b, F64))


def round_int(x: float) -> int:
    return int(Fraction(x).__round__())                     # to nearest, ties to even


def truncbits(x: float, nb: int, T) -> float:
    if nb <= 0:
        return x
    code, bits = {F64: ("d", 64), F32: ("f", 32), F16: ("e", 16)}[T]
    fmt_u = {64: "Q", 32: "I", 16: "H"}[bits]
    u = struct.unpack(fmt_u, struct.pack(code, x))[0]
    return struct.unpack(code, struct.pack(fmt_u, u & (((1 << bits) - 1) ^ ((1 << nb) - 1))))[0]


# ----------------------------------------------------------------------------- Base, replayed
def rat(x: float, T) -> tuple[int, int]:
    m = {F64: 2 ** 24, F32: 2 ** 11, F16: 2 ** 11}[T]        # maxintfloat(narrow(T))
    y, a, b, c, d = x, 1, 0, 0, 1
    while abs(y) <= m:
        f = int(y)
        y = sub(T, y, float(f))
        a, c = f * a + c, a
        b, d = f * b + d, b
        if max(abs(a), abs(b)) > m:
            return c, d
        if div(T, cvt(a, T), cvt(b, T)) == x:
            break
        y = div(T, 1.0, y)
    return a, b


def canonicalize2(big, little):
    h = add(F64, big, little)
    return h, add(F64, sub(F64, big, h), little)


def add12(x, y):
    return canonicalize2(y, x) if abs(y) > abs(x) else canonicalize2(x, y)


def mul12(x, y):
    h = mul(F64, x, y)
    if h == 0 or not math.isfinite(h):
        return h, h
    return canonicalize2(h, rnd(Fraction(x) * Fraction(y) - Fraction(h), F64))      # fma(x, y, -h)


def tp_div(x, y):
    hi = div(F64, x[0], y[0])
    if hi == 0 or not math.isfinite(hi):
        return hi, hi
    uh, ul = mul12(hi, y[0])
    lo = div(F64, sub(F64, add(F64, sub(F64, sub(F64, x[0], uh), ul), x[1]), mul(F64, hi, y[1])), y[0])
    return canonicalize2(hi, lo)


def tp_int(i: int):
    hi = truncbits(cvt(i, F64), 27, F64)
    return canonicalize2(hi, cvt(i - int(hi), F64))


def tp_ratio(n: int, d: int):
    return tp_div(tp_int(n), (cvt(d, F64), 0.0))


def twiceprecision(v, nb):
    hi = truncbits(v[0], nb, F64)
    return hi, add(F64, sub(F64, v[0], hi), v[1])


def nbitslen(T, n, offset):
    return 0 if n < 2 else min(-(-_FORMAT[T][0] // 2), (max(offset - 1, n - offset) - 1).bit_length() + 1)


class SRL:
    """StepRangeLen: `tp` with TwicePrecision{Float64} ref and step, else plain ones in type `calc`."""

    def __init__(self, T, tp, ref, step, n, offset, calc=F64):
        self.T, self.tp, self.ref, self.step, self.n, self.offset, self.calc = T, tp, ref, step, n, offset, calc

    def get(self, i: int) -> float:
        u = i - self.offset
        if self.tp:
            shift_hi, shift_lo = mul(F64, float(u), self.step[0]), mul(F64, float(u), self.step[1])
            x_hi, x_lo = add12(self.ref[0], shift_hi)
            return cvt(add(F64, x_hi, add(F64, x_lo, add(F64, shift_lo, self.ref[1]))), self.T)
        C = self.calc
        return cvt(add(C, self.ref[0], mul(C, cvt(u, C), self.step[0])), self.T)

    def values(self) -> np.ndarray:
        return np.array([self.get(i) for i in range(1, self.n + 1)], dtype=self.T)

    def values_np(self) -> np.ndarray:
        """The same with NumPy's IEEE operations (one rounding each, never fused), for long ranges."""
        u = np.arange(1, self.n + 1, dtype=np.int64) - self.offset
        if self.tp:
            shift_hi, shift_lo = u.astype(F64) * self.step[0], u.astype(F64) * self.step[1]
            swap = np.abs(shift_hi) > abs(self.ref[0])
            big, little = np.where(swap, shift_hi, self.ref[0]), np.where(swap, self.ref[0], shift_hi)
            x_hi = big + little
            x_lo = (big - x_hi) + little
            return (x_hi + (x_lo + (shift_lo + self.ref[1]))).astype(self.T)
        return (self.calc(self.ref[0]) + u.astype(self.calc) * self.calc(self.step[0])).astype(self.T)

    def step_value(self):
        return self.T(cvt(add(F64, *self.step), self.T)) if self.tp else self.T(cvt(self.step[0], self.T))

    def sum(self):
        """Base's sum(r::StepRangeLen), a closed form."""
        n, np_, nn = self.n, self.n - self.offset, self.offset - 1
        sp = (np_ + 1, np_ >> 1) if np_ % 2 == 0 else (np_, (np_ + 1) >> 1)
        sn = (nn + 1, nn >> 1) if nn % 2 == 0 else (nn, (nn + 1) >> 1)
        if self.tp:
            tp = tp_times(tp_times(self.step, sp[0]), sp[1])
            tn = tp_times(tp_times(self.step, sn[0]), sn[1])
            s_hi, s_lo = add12(tp[0], -tn[0])
            s_lo = add(F64, s_lo, sub(F64, tp[1], tn[1]))
            ref = tp_times(self.ref, n)
            sm_hi, sm_lo = add12(s_hi, ref[0])
            return self.T(add12(sm_hi, add(F64, sm_lo, ref[1]))[0])
        C = self.calc
        dn = sp[0] * sp[1] - sn[0] * sn[1]
        return self.T(cvt(add(C, mul(C, self.step[0], cvt(dn, C)), mul(C, self.ref[0], cvt(n, C))), self.T))


def tp_times(x, v: int):
    if v == 0:
        return mul(F64, x[0], 0.0), mul(F64, x[1], 0.0)
    u = truncbits(x[0], (abs(v) - 1).bit_length(), F64)           # ceil(log2(|v|))
    return canonicalize2(mul(F64, u, float(v)), mul(F64, add(F64, sub(F64, x[0], u), x[1]), float(v)))


def hp_ratio(T, ref, step, nb, n, offset):
    if T is F64:
        return SRL(T, True, tp_ratio(*ref), twiceprecision(tp_ratio(*step), nb), n, offset)
    return SRL(T, False, (fdiv(*ref), 0.0), (fdiv(*step), 0.0), n, offset)


def hp_float(T, ref, step, nb, n, offset):
    pair = (lambda x: x if isinstance(x, tuple) else (x, 0.0))
    if T is F64:
        return SRL(T, True, pair(ref), twiceprecision(pair(step), nb), n, offset)
    as64 = (lambda x: add(F64, x[0], x[1]) if isinstance(x, tuple) else x)
    return SRL(T, False, (as64(ref), 0.0), (as64(step), 0.0), n, offset)


def floatrange(T, start_n, step_n, n, den):
    if n < 2 or step_n == 0:
        return hp_ratio(T, (start_n, den), (step_n, den), 0, n, 1)
    imin = min(max(round_int(add(F64, fdiv(-start_n, step_n), 1.0)), 1), n)
    return hp_ratio(T, (start_n + (imin - 1) * step_n, den), (step_n, den), nbitslen(T, n, imin), n, imin)


def linspace1(T, start, stop, n):
    if T is F64:
        return SRL(T, True, (start, 0.0), (start, -stop), n, 1)
    return SRL(T, False, (start, 0.0), (sub(F64, start, stop), 0.0), n, 1)


def linspace_ratio(T, start_n, stop_n, n, den):
    if n < 2:
        return linspace1(T, fdiv(start_n, den), fdiv(stop_n, den), n)
    if start_n == stop_n:
        return hp_ratio(T, (start_n, den), (0, den), 0, n, 1)
    tmin = div(F64, cvt(-start_n, F64), sub(F64, cvt(stop_n, F64), cvt(start_n, F64)))
    imin = min(max(round_int(add(F64, mul(F64, tmin, float(n - 1)), 1.0)), 1), n)
    ref_num = (n - imin) * start_n + (imin - 1) * stop_n
    return hp_ratio(T, (ref_num, (n - 1) * den), (stop_n - start_n, (n - 1) * den), nbitslen(T, n, imin), n, imin)


def linspace_float(T, start, stop, n):
    delta, fac = sub(T, stop, start), 1
    if not math.isfinite(delta):
        delta, fac = sub(T, div(T, stop, cvt(n, T)), div(T, start, cvt(n, T))), n
    tmin = div(T, -div(T, start, delta), cvt(fac, T))
    imin = round_int(add(T, mul(T, tmin, cvt(n - 1, T)), 1.0))
    if 1 < imin < n:
        t = fdiv(imin - 1, n - 1)
        ref = cvt(add(F64, mul(F64, sub(F64, 1.0, t), start), mul(F64, t, stop)), T)
        step = div(T, sub(T, ref, start), cvt(imin - 1, T)) if imin - 1 < n - imin else \
            div(T, sub(T, stop, ref), cvt(n - imin, T))
    else:
        imin, ref = (1, start) if imin <= 1 else (n, stop)
        step = mul(T, div(T, delta, cvt(n - 1, T)), cvt(fac, T))
    if n == 2 and not math.isfinite(step):
        return hp_float(T, start, (-start, stop), 0, 2, 1)
    m, k = float(np.nextafter(np.finfo(T).max, T(0))), cvt(max(imin - 1, n - imin), T)
    lo = max(div(T, -add(T, m, ref), k), div(T, add(T, -m, ref), k))
    hi = min(div(T, sub(T, m, ref), k), div(T, add(T, m, ref), k))
    step_hi = truncbits(hi if step > hi else lo if step < lo else step, nbitslen(T, n, imin), T)
    x1 = add12t(T, mul(T, cvt(1 - imin, T), step_hi), ref)
    x2 = add12t(T, mul(T, cvt(n - imin, T), step_hi), ref)
    a, b = sub(T, sub(T, start, x1[0]), x1[1]), sub(T, sub(T, stop, x2[0]), x2[1])
    step_lo = div(T, sub(T, b, a), cvt(n - 1, T))
    ref_lo = sub(T, a, mul(T, cvt(1 - imin, T), step_lo))
    return hp_float(T, (ref, ref_lo), (step_hi, step_lo), 0, n, imin)


def add12t(T, x, y):
    if abs(y) > abs(x):
        x, y = y, x
    h = add(T, x, y)
    return h, add(T, sub(T, x, h), y)


def julia_range_length(T, start, stop, n):
    """range(start, stop; length=n) for start, stop of the IEEE float type T (Python floats of T)."""
    if n < 2:
        return linspace1(T, start, stop, n)
    if start == stop:
        return hp_float(T, start, 0.0, 0, n, 1)
    (start_n, start_d), (stop_n, stop_d) = rat(start, T), rat(stop, T)
    if start_d != 0 and stop_d != 0:
        den = start_d * (stop_d // math.gcd(start_d, stop_d))
        m = {F64: 2 ** 53, F32: 2 ** 24, F16: 2 ** 11}[T]
        if abs(mul(T, cvt(den, T), start)) <= m and abs(mul(T, cvt(den, T), stop)) <= m:
            start_n, stop_n = round_int(mul(T, cvt(den, T), start)), round_int(mul(T, cvt(den, T), stop))
            if cvt(fdiv(start_n, den), T) == start and cvt(fdiv(stop_n, den), T) == stop:
                return linspace_ratio(T, start_n, stop_n, n, den)
    return linspace_float(T, start, stop, n)


def julia_start_step_length(T, a, st, n):
    (start_n, start_d), (step_n, step_d) = rat(a, T), rat(st, T)
    if start_d != 0 and step_d != 0 and cvt(fdiv(start_n, start_d), T) == a and cvt(fdiv(step_n, step_d), T) == st:
        den = start_d * (step_d // math.gcd(start_d, step_d))
        m = {F64: 2 ** 53, F32: 2 ** 24, F16: 2 ** 11}[T]
        if abs(mul(T, cvt(den, T), a)) <= m and abs(mul(T, cvt(den, T), st)) <= m:
            return floatrange(T, round_int(mul(T, cvt(den, T), a)), round_int(mul(T, cvt(den, T), st)), n, den)
    return hp_float(T, a, st, 0, n, 1)


def julia_colon(T, start, step, stop):
    """start:step:stop for floats of the IEEE type T."""
    step_n, step_d = rat(step, T)
    if step_d != 0 and cvt(fdiv(step_n, step_d), T) == step:
        (start_n, start_d), (stop_n, stop_d) = rat(start, T), rat(stop, T)
        if start_d != 0 and stop_d != 0 and cvt(fdiv(start_n, start_d), T) == start and \
                cvt(fdiv(stop_n, stop_d), T) == stop:
            den = start_d * (step_d // math.gcd(start_d, step_d))
            m = {F64: 2 ** 53, F32: 2 ** 24, F16: 2 ** 11}[T]
            if abs(mul(T, start, cvt(den, T))) <= m and abs(mul(T, step, cvt(den, T))) <= m:
                start_n, step_n = round_int(mul(T, start, cvt(den, T))), round_int(mul(T, step, cvt(den, T)))
                q = den * stop_n - stop_d * start_n + step_n * stop_d
                n = max(0, abs(q) // abs(step_n * stop_d) * (1 if (q >= 0) == (step_n * stop_d >= 0) else -1))
                between = (lambda a, x, b: a <= x <= b or b <= x <= a)
                if between(start, add(T, start, mul(T, cvt(n - 1, T), step)), add(T, stop, div(T, step, 2.0))) and \
                        not between(start, add(T, start, mul(T, cvt(n, T), step)), stop):
                    return floatrange(T, start_n, step_n, n, den)
    lf = div(T, sub(T, stop, start), step)
    if lf < 0 or math.isnan(lf):
        n = 0
    elif lf == 0:
        n = 1
    else:
        n = round_int(lf) + 1
        last = add(T, start, mul(T, cvt(n - 1, T), step))
        n -= int(start < stop < last) + int(start > stop > last)
    return hp_float(T, start, step, 0, n, 1)


def julia_linrange(T, start, stop, n) -> np.ndarray:
    """LinRange{T}: lerpi(j, lendiv, a, b) = T((1-t)*a + t*b) with t = j/lendiv in Float64."""
    lendiv = 1 if n == 1 else max(n - 1, 1)
    out = []
    for j in range(n):
        t = fdiv(j, lendiv)
        out.append(cvt(add(F64, mul(F64, sub(F64, 1.0, t), start), mul(F64, t, stop)), T))
    return np.array(out, dtype=T)


def bits(x) -> np.ndarray:
    x = np.asarray(x)
    return x.view({8: np.uint64, 4: np.uint32, 2: np.uint16}[x.dtype.itemsize])


def same_bits(got, want) -> None:
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape, (got.dtype, got.shape, want.dtype, want.shape)
    bad = np.nonzero(bits(got) != bits(want))[0] if got.ndim else ([0] if bits(got) != bits(want) else [])
    assert len(bad) == 0, f"differ at {list(bad)[:5]}: got {got.ravel()[list(bad)[:5]]}, want {want.ravel()[list(bad)[:5]]}"


# ----------------------------------------------------------------------------- the reference itself
def test_reference_reproduces_julias_documented_values():
    # base/range.jl's docstrings show these (LinRange's, and range's with the same arguments)
    assert julia_linrange(F64, -0.1, 0.3, 5).tolist() == [-0.1, -1.3877787807814457e-17, 0.09999999999999999,
                                                           0.19999999999999998, 0.3]
    assert julia_range_length(F64, -0.1, 0.3, 5).values().tolist() == [-0.1, 0.0, 0.1, 0.2, 0.3]
    r = julia_range_length(F64, 0.0, 2 * math.pi, 9)
    assert r.values().tolist() == r.values_np().tolist()
    r = julia_range_length(F64, 1.0, 10.0, 101)
    assert r.step_value() == 0.09 and r.get(1) == 1.0 and r.get(101) == 10.0
    assert julia_range_length(F64, 2.5, 10.9, 85).step_value() == 0.1
    # exact ratios give the nearest float to each exact element, as Base's tests check
    for (a, b, n) in [(1, 7, 13), (-3, 11, 9), (0, 1, 11)]:
        r = julia_range_length(F64, a / 10, b / 10, n)
        assert r.values().tolist() == [float(Fraction(a * (n - 1 - i) + b * i, 10 * (n - 1))) for i in range(n)]


# ----------------------------------------------------------------------------- constant arguments
CONST = """
lin64() = (collect(range(0, 1; length=5)), collect(range(0, 1, 5)), collect(range(; start=0.0, stop=1.0, length=5)),
           collect(range(0.0; stop=1.0, length=5)), collect(range(1, 10; length=4)), collect(range(0, 2π; length=9)),
           collect(range(-π, π; length=7)), collect(range(1.0, -1.0; length=5)), collect(range(-0.1, 0.3; length=5)),
           collect(range(0.1, 0.7; length=7)), collect(range(1e-3, 1.0; length=1000)), collect(range(2.5, 2.5; length=4)),
           collect(range(2.5, 2.5; length=1)), collect(range(1.0, 2.0; length=0)), collect(range(-1e308, 1e308; length=5)),
           collect(range(0.3, 1/3; length=4)), collect(range(1, 2.5; length=4)), collect(range(Int32(2), 7, 6)))
lin_small() = (collect(range(0f0, 1f0; length=7)), collect(range(0.1f0, 2.3f0; length=13)),
               collect(range(0f0, Float32(π); length=5)), collect(range(-1f0, 0.3f0; length=3)),
               collect(range(1f0, 2.0; length=3)), collect(range(Float16(0), Float16(1); length=5)),
               collect(range(Float16(0.1), Float16(3); length=4)))
ends() = (r = range(0, 2π; length=9); e = range(1.0, 2.0; length=0); d = range(1.0, -1.0; length=5);
          (first(r), last(r), step(r), length(r), r[4], first(e), last(e), step(e), step(d), last(d),
           step(range(1, 10; length=101)), step(range(0f0, 1f0; length=7))))
steps() = (collect(range(0.1; step=0.2, length=6)), collect(range(1.0; step=π/10, length=5)),
           collect(range(0.5f0; step=0.1f0, length=4)), collect(range(-2.0; step=0.7, length=5)),
           collect(range(1; step=0.5, length=3)), collect(range(1.0; length=4)), collect(range(; stop=2.5, length=3)),
           collect(range(; stop=1.0, step=0.1, length=5)), collect(range(0.25f0; length=3)),
           collect(range(0.0, 1.0; step=0.3)), collect(range(0.1, step=0.1, stop=0.35)))
ints() = (collect(range(1, 10; step=3)), collect(range(1; step=5, length=4)), collect(range(1; length=5)),
          collect(range(; stop=10, length=5)), collect(range(; length=4)), collect(range(; stop=6)),
          collect(range(; stop=6.5)), collect(range(1, 4)), collect(range(; stop=10, step=2, length=3)),
          collect(Base.OneTo(5)), length(Base.OneTo(-2)), last(Base.OneTo(-2)), collect(range(10, 1; step=-4)))
function linr()
    r = LinRange(-0.1, 0.3, 5)
    s = LinRange(1f0, 2f0, 4)
    t = 0.0
    for x in r
        t += x
    end
    return (collect(r), collect(LinRange(0, 1, 5)), collect(s), collect(LinRange(0.0, 0.0, 1)),
            length(LinRange(1, 10, 0)), first(r), last(r), step(r), step(s), r[2], length(r), t, sin.(r),
            collect(LinRange(1, 2f0, 3)), collect(LinRange(3.0, 1.0, 7)))
end
colons() = (collect(0.3:0.9060939428196817:30.0), collect(-2.0:0.282842712474619:9.0), collect(0.1f0:0.44879895f0:15f0),
             last(0.0:0.3:1.0), last(1.0:-0.3:-2.0), collect(1.0:-0.1:0.0), collect(0.0f0:0.1f0:1.0f0))
means() = (mean(LinRange(0.1, 0.7, 4)), mean(range(0, 2π; length=9)), mean(1:4), mean(1.0:0.0),
           mean(range(0.1f0, 0.7f0; length=4)), mean(LinRange(0.1, 0.7, 4); dims=1))
sums() = (sum(0.0:0.1:1.0), sum(range(1, 2; length=7)), sum(range(0, 2π; length=9)), sum(LinRange(-0.1, 0.3, 5)),
          sum(range(0.1f0, 2.3f0; length=13)), sum(range(1.0; step=π/10, length=5)), sum(range(0.1; step=0.2, length=6)),
          sum(range(1.0; length=4)), sum(range(-π, π; length=7)), sum(LinRange(1f0, 2f0, 4)))
"""


@pytest.fixture(scope="module")
def const_prog():
    return jlhlo.load(CONST, filename="t.jl")


def _ref_lin64():
    pi = math.pi
    cases = [(0.0, 1.0, 5), (0.0, 1.0, 5), (0.0, 1.0, 5), (0.0, 1.0, 5), (1.0, 10.0, 4), (0.0, 2 * pi, 9),
             (-pi, pi, 7), (1.0, -1.0, 5), (-0.1, 0.3, 5), (0.1, 0.7, 7), (1e-3, 1.0, 1000), (2.5, 2.5, 4),
             (2.5, 2.5, 1), (1.0, 2.0, 0), (-1e308, 1e308, 5), (0.3, 1 / 3, 4), (1.0, 2.5, 4), (2.0, 7.0, 6)]
    out = []
    for k, (a, b, n) in enumerate(cases):
        if k in (4, 17):                 # integer endpoints: Base's _linspace(Float64, a, b, n, 1), no rat
            out.append(linspace_ratio(F64, int(a), int(b), n, 1).values())
        else:
            out.append(julia_range_length(F64, a, b, n).values())
    return out


def test_range_start_stop_length_float64(const_prog):
    got = const_prog.function("lin64")()
    want = _ref_lin64()
    assert len(got) == len(want)
    for g, w in zip(got, want):
        same_bits(g, w)
    assert got[5].tolist()[4] == math.pi and got[5].tolist()[8] == 2 * math.pi   # ends are the endpoints


def test_range_start_stop_length_float32_float16(const_prog):
    got = const_prog.function("lin_small")()
    f32 = (lambda x: float(F32(x)))
    f16 = (lambda x: float(F16(x)))
    want = [julia_range_length(F32, 0.0, 1.0, 7), julia_range_length(F32, f32(0.1), f32(2.3), 13),
            julia_range_length(F32, 0.0, f32(math.pi), 5), julia_range_length(F32, -1.0, f32(0.3), 3),
            julia_range_length(F64, 1.0, 2.0, 3), julia_range_length(F16, 0.0, 1.0, 5),
            julia_range_length(F16, f16(0.1), 3.0, 4)]
    for g, w in zip(got, want):
        same_bits(g, w.values())
    assert not want[2].tp and want[2].ref[1] == 0.0        # the non-ratio Float32 path was exercised


def test_first_last_step_length(const_prog):
    got = const_prog.function("ends")()
    r = julia_range_length(F64, 0.0, 2 * math.pi, 9)
    e = julia_range_length(F64, 1.0, 2.0, 0)
    d = julia_range_length(F64, 1.0, -1.0, 5)
    want = (F64(r.get(1)), F64(r.get(9)), r.step_value(), np.int64(9), F64(r.get(4)),
            F64(e.get(1)), F64(e.get(0)), e.step_value(), d.step_value(), F64(d.get(5)),
            linspace_ratio(F64, 1, 10, 101, 1).step_value(), julia_range_length(F32, 0.0, 1.0, 7).step_value())
    for g, w in zip(got, want):
        same_bits(g, w)
    assert float(got[6]) == 2.0 and float(got[7]) == -1.0     # an empty range keeps first == start, last == stop


def test_range_start_step_length_and_plain_forms(const_prog):
    got = const_prog.function("steps")()
    f32 = (lambda x: float(F32(x)))
    plain = (lambda ref, st, n, T=F64: SRL(T, False, (ref, 0.0), (st, 0.0), n, 1, calc=T).values())
    want = [julia_start_step_length(F64, 0.1, 0.2, 6).values(),
            julia_start_step_length(F64, 1.0, math.pi / 10, 5).values(),
            julia_start_step_length(F32, 0.5, f32(0.1), 4).values(),
            julia_start_step_length(F64, -2.0, 0.7, 5).values(),
            julia_start_step_length(F64, 1.0, 0.5, 3).values(),
            plain(1.0, 1.0, 4),                                  # range(1.0; length=4): StepRangeLen{Float64}
            plain(0.5, 1.0, 3),                                  # range(; stop=2.5, length=3)
            plain(sub(F64, 1.0, mul(F64, 0.1, 4.0)), 0.1, 5),    # start = stop - step*(len-1)
            plain(0.25, 1.0, 3, F32),                            # StepRangeLen{Float32,Float32,Float32}
            np.array([0.0, 0.3, 0.6, 0.9]), np.array([0.1, 0.2, 0.3])]
    for g, w in zip(got, want):
        same_bits(g, w)


def test_integer_forms_give_integer_ranges(const_prog):
    got = const_prog.function("ints")()
    i64 = (lambda *xs: np.array(xs, dtype=np.int64))
    want = (i64(1, 4, 7, 10), i64(1, 6, 11, 16), i64(1, 2, 3, 4, 5), i64(6, 7, 8, 9, 10), i64(1, 2, 3, 4),
            i64(1, 2, 3, 4, 5, 6), np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]), i64(1, 2, 3, 4), i64(6, 8, 10),
            i64(1, 2, 3, 4, 5), np.int64(0), np.int64(0), i64(10, 6, 2))
    for g, w in zip(got, want):
        same_bits(g, w)


def test_linrange(const_prog):
    got = const_prog.function("linr")()
    r = julia_linrange(F64, -0.1, 0.3, 5)
    s = julia_linrange(F32, 1.0, 2.0, 4)
    t = 0.0
    for x in r.tolist():
        t = add(F64, t, x)
    want = (r, julia_linrange(F64, 0.0, 1.0, 5), s, julia_linrange(F64, 0.0, 0.0, 1), np.int64(0),
            F64(-0.1), F64(0.3), F64(div(F64, sub(F64, 0.3, -0.1), 4.0)), F32((F32(2) - F32(1)) / F32(3)), r[1],
            np.int64(5), F64(t), np.sin(r), julia_linrange(F32, 1.0, 2.0, 3), julia_linrange(F64, 3.0, 1.0, 7))
    for k, (g, w) in enumerate(zip(got, want)):
        if k == 12:                          # sin: within XLA's accuracy, not bit for bit
            np.testing.assert_allclose(g, w, rtol=1e-15)
        else:
            same_bits(g, w)


def test_colon_ranges_with_constant_ends(const_prog):
    # the literal fallback (steps without an exact ratio) is Base's start + (k*step rounded), in Float64 for
    # Float32; last(r) is the last element, not the stop given
    got = const_prog.function("colons")()
    a, b = julia_colon(F64, 0.0, 0.3, 1.0), julia_colon(F64, 1.0, -0.3, -2.0)
    want = (julia_colon(F64, 0.3, 0.9060939428196817, 30.0).values(),
            julia_colon(F64, -2.0, 0.282842712474619, 9.0).values(),
            julia_colon(F32, float(F32(0.1)), float(F32(0.44879895)), 15.0).values(),
            F64(a.get(a.n)), F64(b.get(b.n)), julia_colon(F64, 1.0, -0.1, 0.0).values(),
            julia_colon(F32, 0.0, float(F32(0.1)), 1.0).values())
    for g, w in zip(got, want):
        same_bits(g, w)
    assert float(got[3]) == 0.9 and float(got[4]) == -2.0


def test_mean_of_a_range_is_the_middle_of_its_ends(const_prog):
    # Statistics.mean(r::AbstractRange{<:Real}) = (first(r) + last(r)) / 2 (NaN when empty)
    got = const_prog.function("means")()
    r32 = julia_range_length(F32, float(F32(0.1)), float(F32(0.7)), 4)
    lin = julia_linrange(F64, 0.1, 0.7, 4)
    want = (F64(div(F64, add(F64, 0.1, 0.7), 2.0)), F64(math.pi), F64(2.5), F64(math.nan),
            F32(div(F32, add(F32, r32.get(1), r32.get(4)), 2.0)), np.array([lin.sum() / 4]))
    for g, w in zip(got[:5], want):
        same_bits(g, w)
    assert float(got[0]) == 0.39999999999999997
    np.testing.assert_allclose(got[5], want[5], rtol=1e-15)      # with dims: the elements' mean


def test_sums_are_bases_closed_forms(const_prog):
    got = const_prog.function("sums")()
    f32 = (lambda x: float(F32(x)))
    lin = julia_linrange(F64, -0.1, 0.3, 5)
    lin_step = div(F64, sub(F64, 0.3, -0.1), 4.0)
    lin_sum = add(F64, mul(F64, 5.0, -0.1), mul(F64, mul(F64, lin_step, 5.0), 2.0))
    l32_step = div(F32, 1.0, 3.0)
    l32_sum = add(F32, mul(F32, 4.0, 1.0), mul(F32, mul(F32, l32_step, 3.0), 2.0))
    want = (julia_colon(F64, 0.0, 0.1, 1.0).sum(), linspace_ratio(F64, 1, 2, 7, 1).sum(),
            julia_range_length(F64, 0.0, 2 * math.pi, 9).sum(), F64(lin_sum),
            julia_range_length(F32, f32(0.1), f32(2.3), 13).sum(), julia_start_step_length(F64, 1.0, math.pi / 10, 5).sum(),
            julia_start_step_length(F64, 0.1, 0.2, 6).sum(), SRL(F64, False, (1.0, 0.0), (1.0, 0.0), 4, 1).sum(),
            julia_range_length(F64, -math.pi, math.pi, 7).sum(), F32(l32_sum))
    assert lin.shape == (5,)
    for g, w in zip(got, want):
        same_bits(g, w)


# ----------------------------------------------------------------------------- run-time arguments
RUNTIME = """
function fill_range(r)
    out = zeros(typeof(first(r)), 40)
    k = 0
    for x in r
        k += 1
        out[k] = x
    end
    return out, k, first(r), last(r), step(r), length(r)
end
rt64(a::Float64, b::Float64, n::Int64) = fill_range(range(a, b; length=n))
rt32(a::Float32, b::Float32, n::Int64) = fill_range(range(a, b; length=n))
rtint(a::Int64, b::Int64, n::Int64) = fill_range(range(a, b; length=n))
rtstep(a::Float64, s::Float64, n::Int64) = fill_range(range(a; step=s, length=n))
rtstep32(a::Float32, s::Float32, n::Int64) = fill_range(range(a; step=s, length=n))
rtlin(a::Float64, b::Float64, n::Int64) = fill_range(LinRange(a, b, n))
rtlin32(a::Float32, b::Float32, n::Int64) = fill_range(LinRange(a, b, n))
rtcolon(a::Float64, s::Float64, b::Float64) = fill_range(a:s:b)
rtcolon32(a::Float32, s::Float32, b::Float32) = fill_range(a:s:b)
long(a::Float64, b::Float64) = (collect(LinRange(a, b, 70001)), collect(range(a, b; length=70001)),
                                collect(LinRange(-1.5, 2.5, 70001)), collect(range(0, 2π; length=100003)))
rtsum(a::Float64, b::Float64, n::Int64) = (sum(range(a, b; length=n)), sum(LinRange(a, b, n)), sum(a:0.1:b),
                                            sum(range(a; step=b, length=n)), sum(range(Float32(a), Float32(b); length=n)))
rtcollect(a::Float64, b::Float64) = (collect(range(a, b; length=9)), collect(LinRange(a, b, 4)), last(a:0.3:b))
"""


@pytest.fixture(scope="module")
def rt_prog():
    return jlhlo.load(RUNTIME, filename="t.jl")


def _check_filled(got, values: np.ndarray, first, last, step):
    out, k, g_first, g_last, g_step, g_len = got
    n = len(values)
    assert int(k) == n and int(g_len) == n
    same_bits(out[:n], values)
    same_bits(g_first, first)
    same_bits(g_last, last)
    same_bits(g_step, step)


def test_lin_sum_reference_is_bases_formula():
    assert linrange_sum(F64, -0.1, 0.3, 5) == add(F64, mul(F64, 5.0, -0.1), mul(F64, mul(F64, 0.1, 5.0), 2.0))


@pytest.mark.parametrize("a, b, n", [(0.0, 2 * math.pi, 9), (0.1, 0.7, 7), (-1.0, 1.0, 5), (2.5, 2.5, 4),
                                     (1.0, 1.0, 1), (0.0, 1.0, 0), (-1e308, 1e308, 5), (1e-3, 1.0, 37),
                                     (math.e, -math.pi, 11)])
def test_runtime_range_length_float64(rt_prog, a, b, n):
    r = julia_range_length(F64, a, b, n)
    _check_filled(rt_prog.function("rt64")(a, b, n), r.values(), F64(r.get(1)), F64(r.get(n)), r.step_value())


@pytest.mark.parametrize("a, b, n", [(0.0, math.pi, 7), (0.1, 2.3, 13), (-1.0, 0.3, 3), (1.0, 1.0, 3),
                                     (0.0, 1.0, 1 << 3)])
def test_runtime_range_length_float32(rt_prog, a, b, n):
    a, b = float(F32(a)), float(F32(b))
    r = julia_range_length(F32, a, b, n)
    _check_filled(rt_prog.function("rt32")(F32(a), F32(b), n), r.values(), F32(r.get(1)), F32(r.get(n)),
                  r.step_value())


def test_runtime_integer_endpoints(rt_prog):
    for a, b, n in [(1, 10, 4), (0, 1, 11), (-7, 3, 6), (5, 5, 3)]:
        r = linspace_ratio(F64, a, b, n, 1)
        _check_filled(rt_prog.function("rtint")(a, b, n), r.values(), F64(r.get(1)), F64(r.get(n)), r.step_value())


def test_runtime_start_step_length(rt_prog):
    for a, s, n in [(0.1, 0.2, 6), (1.0, math.pi / 10, 5), (-2.0, 0.7, 9), (3.0, -0.25, 4)]:
        r = julia_start_step_length(F64, a, s, n)
        _check_filled(rt_prog.function("rtstep")(a, s, n), r.values(), F64(r.get(1)), F64(r.get(n)), r.step_value())
    for a, s, n in [(0.5, 0.1, 4), (1.0, math.pi / 7, 6)]:
        a, s = float(F32(a)), float(F32(s))
        r = julia_start_step_length(F32, a, s, n)
        _check_filled(rt_prog.function("rtstep32")(F32(a), F32(s), n), r.values(), F32(r.get(1)), F32(r.get(n)),
                      r.step_value())


def test_runtime_linrange(rt_prog):
    for a, b, n in [(-0.1, 0.3, 5), (0.0, math.pi, 13), (2.0, 2.0, 1), (1.0, -3.0, 0)]:
        v = julia_linrange(F64, a, b, n)
        step = div(F64, sub(F64, b, a), float(1 if n == 1 else max(n - 1, 1)))
        _check_filled(rt_prog.function("rtlin")(a, b, n), v, F64(a), F64(b), F64(step))
    v = julia_linrange(F32, 1.0, 2.0, 4)
    _check_filled(rt_prog.function("rtlin32")(F32(1), F32(2), 4), v, F32(1), F32(2), F32(F32(1) / F32(3)))


def linrange_sum(T, a, b, n):
    st = div(T, sub(T, b, a), cvt(max(n - 1, 1), T))
    tail = mul(T, mul(T, st, cvt(n - 1, T)), cvt(n >> 1, T)) if n % 2 == 0 else \
        mul(T, mul(T, st, cvt(n, T)), cvt((n - 1) >> 1, T))
    return T(add(T, mul(T, cvt(n, T), a), tail))


@pytest.mark.parametrize("a, b, n", [(0.0, 2 * math.pi, 9), (0.1, 0.7, 7), (-1.0, 1.3, 5), (1.0, 0.25, 12)])
def test_runtime_sums_are_bases_closed_forms(rt_prog, a, b, n):
    got = rt_prog.function("rtsum")(a, b, n)
    f32 = (lambda x: float(F32(x)))
    want = (julia_range_length(F64, a, b, n).sum(), linrange_sum(F64, a, b, n), julia_colon(F64, a, 0.1, b).sum(),
            julia_start_step_length(F64, a, b, n).sum(), julia_range_length(F32, f32(a), f32(b), n).sum())
    for g, w in zip(got, want):
        same_bits(g, w)


def test_runtime_colon_ranges(rt_prog):
    # the literal fallback rounds k*step before adding start (no fused multiply-add), and a Float32 range
    # computes in Float64 as Base's StepRangeLen{Float32,Float64,Float64}; exact ratios stay exact
    for a, st, b in [(0.3, math.e / 3, 30.0), (-2.0, math.sqrt(2) / 5, 9.0), (0.0, 0.1, 1.0), (1.0, -0.3, -2.0)]:
        r = julia_colon(F64, a, st, b)
        _check_filled(rt_prog.function("rtcolon")(a, st, b), r.values(), F64(r.get(1)), F64(r.get(r.n)), F64(st))
    for a, st, b in [(0.1, math.pi / 7, 15.0), (0.1, 0.7, 3.0)]:
        a, st, b = float(F32(a)), float(F32(st)), float(F32(b))
        r = julia_colon(F32, a, st, b)
        _check_filled(rt_prog.function("rtcolon32")(F32(a), F32(st), F32(b)), r.values(), F32(r.get(1)),
                      F32(r.get(r.n)), F32(st))


def test_long_ranges_computed_in_the_program(rt_prog):
    # longer than the compiler's constant tables: the elements are computed by the program, and its
    # products must not be fused into the additions that follow them
    got = rt_prog.function("long")(-1.5, 2.5)
    t = np.arange(70001, dtype=np.int64).astype(F64) / F64(70000)
    lin = (1.0 - t) * -1.5 + t * 2.5
    same_bits(got[0], lin)
    same_bits(got[1], julia_range_length(F64, -1.5, 2.5, 70001).values_np())
    same_bits(got[2], lin)
    same_bits(got[3], julia_range_length(F64, 0.0, 2 * math.pi, 100003).values_np())


def test_runtime_ends_collected(rt_prog):
    got = rt_prog.function("rtcollect")(0.0, 2 * math.pi)
    same_bits(got[0], julia_range_length(F64, 0.0, 2 * math.pi, 9).values())
    same_bits(got[1], julia_linrange(F64, 0.0, 2 * math.pi, 4))
    r = julia_colon(F64, 0.0, 0.3, 2 * math.pi)
    same_bits(got[2], F64(r.get(r.n)))                           # last(0:0.3:2π) is its last element, 6.0
    assert float(got[2]) == 6.0


# ----------------------------------------------------------------------------- searchsorted, gcdx, selectdim
MISC = """
srch(v::Vector{Float64}, x::Float64) = (r = searchsorted(v, x); (first(r), last(r), length(r)))
gx(a::Int64, b::Int64) = gcdx(a, b)
gx32(a::Int32, b::Int32) = gcdx(a, b)
function sel(A::Array{Float64, 3}, i::Int64)
    B = copy(A)
    v = selectdim(B, 2, i)
    v .= -1.0
    return selectdim(A, 3, 2), selectdim(A, 1, i), B, size(selectdim(A, 2, 1:2))
end
srl() = (collect(StepRangeLen(1.0, 0.5, 4)), collect(StepRangeLen(0.0, 0.1, 5, 3)), collect(StepRangeLen(2, 3, 4)),
         step(StepRangeLen(0.0, 0.1, 5, 3)), first(StepRangeLen(0.0, 0.1, 5, 3)))
"""


def gcdx_reference(a: int, b: int) -> tuple[int, int, int]:
    """Base's gcdx: the extended Euclidean algorithm with truncating division, d made non-negative."""
    if a == b == 0:
        return 0, 0, 0
    s0, s1, t0, t1, x, y = 1, 0, 0, 1, a, b
    while y != 0:
        q = abs(x) // abs(y) * (1 if (x >= 0) == (y >= 0) else -1)
        x, y = y, x - q * y
        s0, s1 = s1, s0 - q * s1
        t0, t1 = t1, t0 - q * t1
    return (-x, -s0, -t0) if x < 0 else (x, s0, t0)


def test_searchsorted_gcdx_selectdim_steprangelen(rng):
    p = jlhlo.load(MISC, filename="t.jl")
    v = np.sort(rng.integers(0, 6, 12).astype(np.float64))
    for x in (-1.0, 0.0, 2.0, 3.5, 5.0, 9.0):
        lo, hi = int(np.searchsorted(v, x, "left")) + 1, int(np.searchsorted(v, x, "right"))
        got = p.function("srch")(v, x)
        assert [int(g) for g in got] == [lo, hi, max(0, hi - lo + 1)]
    for a, b in [(12, 42), (240, 46), (0, 0), (0, 5), (-12, 42), (12, -42), (-7, -3), (17, 0), (1, 1), (13, 21)]:
        got = p.function("gx")(a, b)
        assert all(g.dtype == np.int64 for g in got) and tuple(int(g) for g in got) == gcdx_reference(a, b), (a, b)
        d, u, w = gcdx_reference(a, b)
        assert u * a + w * b == d
    got = p.function("gx32")(np.int32(240), np.int32(46))
    assert all(g.dtype == np.int32 for g in got) and tuple(int(g) for g in got) == (2, -9, 47)
    A = rng.standard_normal((3, 4, 2))
    got = p.function("sel")(A, 3)
    B = A.copy()
    B[:, 2, :] = -1.0
    same_bits(got[0], A[:, :, 1])
    same_bits(got[1], A[2, :, :])
    same_bits(got[2], B)
    assert tuple(int(g) for g in got[3]) == (3, 2, 2)
    got = p.function("srl")()
    same_bits(got[0], np.array([1.0, 1.5, 2.0, 2.5]))
    ref = SRL(F64, False, (0.0, 0.0), (0.1, 0.0), 5, 3)
    same_bits(got[1], ref.values())
    same_bits(got[2], np.array([2, 5, 8, 11], dtype=np.int64))
    same_bits(got[3], F64(0.1))
    same_bits(got[4], F64(ref.get(1)))


# ----------------------------------------------------------------------------- Base's errors
@pytest.mark.parametrize("expr, message", [
    ("range(1.0, 2.0; length=-1)", r"ArgumentError: range\(1.0, stop=2.0, length=-1\): negative length"),
    ("range(1.0, 2.0; length=1)", "endpoints differ"),
    ("range(1.0)", "Cannot construct range"),
    ("range(1.0; step=0.5)", "Cannot construct range"),
    ("LinRange(0.0, 1.0, -2)", "negative length"),
    ("range(0.0, Inf; length=3)", "start and stop must be finite"),
    ("StepRangeLen(0.0, 1.0, 3, 5)", "offset must be in"),
])
def test_bad_arguments_are_julias_errors(expr, message):
    with pytest.raises(JuliaError, match=message):
        jlhlo.load(f"main() = collect({expr})", filename="t.jl").function("main")()


def test_runtime_bad_length_is_reported_when_it_runs(rt_prog):
    with pytest.raises(Exception, match="negative length"):
        rt_prog.function("rt64")(0.0, 1.0, -3)
