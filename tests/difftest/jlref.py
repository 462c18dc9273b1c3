"""A NumPy model of the Julia semantics the generated programs use: the reference runtime.

Written from Julia's documented behaviour, never from jlhlo's code. Values are Julia-typed:
numbers are NumPy scalars of the exact Julia type (`np.int64`, `np.float64`, `np.float32`,
`np.bool_`), arrays are Fortran-ordered ndarrays (so `vec`/`reshape` alias like Julia's), tuples
are Python tuples (named tuples namedtuples, structs instances of `struct_type` classes), arrays
of those are `ElArray`s, ranges are `JRange`. Every operation computes its result type with Julia's
rules (NumPy's promotion differs: `float32 * 2.0` is Float64 in Julia) and computes in that type.
Indices are 1-based; anything column-major-visible (linear indexing, `vec`, `for a in A`,
comprehensions over matrices) walks in column-major order; broadcasting aligns dimensions from the
first one.

Where Julia would throw an exception whose message jlhlo reproduces exactly (a generated guard,
integer division by zero) `Thrown` is raised: the program must report it. Where it would throw
another (BoundsError, InexactError, DomainError) the program is not used and `Undefined` is raised; where the answer depends on rounding details that a correct
compiler may legitimately differ in (a comparison of two nearly equal floats, rounding a value next
to .5) `Fragile` is raised; both make `reference.evaluate` discard the program. Tolerances for the
final comparison scale with the largest float magnitude the evaluation saw (`Stats`).
"""
from __future__ import annotations

import math
from collections import namedtuple
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Callable, Iterable, Iterator

import numpy as np


class Discard(Exception):
    """The program cannot be used as a test (its reference answer is undefined or fragile)."""


class Undefined(Discard):
    """Julia would throw an exception here."""


class Fragile(Discard):
    """The answer hinges on rounding (near-tie comparison, rounding next to .5)."""


class Unstable(Discard):
    """Values grew so large that rounding differences would swamp the comparison."""


class TooExpensive(Discard):
    """The program runs too many loop iterations for a quick test."""


class Unmodelled(Discard):
    """The reference cannot model this case exactly (e.g. `reshape` of a non-contiguous view)."""


class Thrown(Exception):
    """The program throws this exception (a generated guard fired): Julia's first exception, which
    jlhlo must report with the same message."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ModelError(AssertionError):
    """The generator and the reference disagree on a type: a bug in the difftest itself."""


@dataclass
class Stats:
    """What one evaluation saw: the largest finite magnitude of each float type (rounding
    differences scale with it, so tolerances do) and the loop/call work done (bounded, so a
    generated program cannot run for long)."""
    max_mag: dict[str, float] = field(default_factory=lambda: {"Float32": 0.0, "Float64": 0.0})
    ticks: int = 0
    tick_limit: int = 20000
    nonfinite: bool = False       # an Inf or NaN was computed (not merely passed through)
    # min/max/clamp between equal floats (where AD picks a subgradient), and comparisons of equal
    # floats (`cos(x) >= 1.0` at x = 0: AD differentiates the branch taken there, a finite
    # difference the other one)
    ties: int = 0
    float_sums: int = 0           # sums of float arrays (whose order Julia and XLA choose differently)
    sequential_sums: bool = False  # add array elements one by one, first to last (see reference.evaluate)
    math_calls: int = 0           # calls of exp, sin, log, ... (not correctly rounded: XLA's may differ by an ulp)
    perturb_math: bool = False    # move each such result one ulp away from zero (see reference.evaluate)
    cancellations: int = 0        # float sums/differences of non-integral numbers that came out exactly 0
    perturb_cancellations: bool = False  # make each such result half an ulp of the operands instead


STATS = Stats()
# A comparison of two floats closer than this many ulps of the largest magnitude is `Fragile`.
CMP_ULPS = 64.0
# Values beyond this magnitude make a program `Unstable` (rounding would dominate everything).
HUGE = 1e9


def reset(tick_limit: int = 20000) -> Stats:
    global STATS
    STATS = Stats(tick_limit=tick_limit)
    return STATS


def tick() -> bool:
    STATS.ticks += 1
    if STATS.ticks > STATS.tick_limit:
        raise TooExpensive(f"more than {STATS.tick_limit} loop iterations and calls")
    return True


# ----------------------------------------------------------------------------- scalar types
_TYPE_OF = {np.bool_: "Bool", np.int64: "Int64", np.float32: "Float32", np.float64: "Float64"}
_NP = {"Bool": np.bool_, "Int64": np.int64, "Float32": np.float32, "Float64": np.float64}
_RANK = {"Bool": 0, "Int64": 1, "Float32": 2, "Float64": 3}
_EPS = {"Float32": float(np.finfo(np.float32).eps), "Float64": float(np.finfo(np.float64).eps)}
Int64, Float64, Float32, Bool = "Int64", "Float64", "Float32", "Bool"   # type values (`TypeLit`)


def jtype(x: Any) -> str:
    """The Julia type name of a scalar value; a non-Julia value is a difftest bug."""
    t = _TYPE_OF.get(type(x))
    if t is None:
        raise ModelError(f"not a Julia scalar: {x!r} ({type(x).__name__})")
    return t


def is_scalar(x: Any) -> bool:
    return type(x) in _TYPE_OF


def i(v: int) -> np.int64:
    """An Int64 with Julia's wrap-around."""
    v = int(v)
    return np.int64(((v + (1 << 63)) % (1 << 64)) - (1 << 63))


def f(v: float) -> np.float64:
    return _float("Float64", v)


def f32(v: float) -> np.float32:
    return _float("Float32", v)


def b(v: bool) -> np.bool_:
    return np.bool_(bool(v))


def _float(t: str, v: Any) -> Any:
    with np.errstate(all="ignore"):
        out = _NP[t](v)
    mag = abs(float(out))
    if not math.isfinite(mag):
        STATS.nonfinite = True
    elif mag > HUGE:
        raise Unstable(f"magnitude {mag:.3g}")
    elif mag > STATS.max_mag[t]:
        STATS.max_mag[t] = mag
    return out


def _py(x: Any) -> int | float:
    """The exact Python number of a Julia scalar (ints stay ints: comparisons are exact)."""
    t = jtype(x)
    return float(x) if t in (Float32, Float64) else int(x)


def promote_type(*ts: str) -> str:
    return max(ts, key=_RANK.__getitem__)


def convert(t: str, x: Any) -> Any:
    """Julia's `convert(t, x)`: exact for integers (InexactError otherwise), rounding for floats."""
    src = jtype(x)
    if t == src:
        return x
    if t == Int64:
        if src == Bool:
            return i(int(x))
        v = float(x)
        if not math.isfinite(v) or v != math.floor(v) or not -2.0 ** 63 <= v < 2.0 ** 63:
            raise Undefined(f"InexactError: Int64({v})")
        return i(int(v))
    if t == Bool:
        v = _py(x)
        if v not in (0, 1):
            raise Undefined(f"InexactError: Bool({v})")
        return b(v)
    return _float(t, float(x) if src in (Float32, Float64) else int(x))


def Float64_(x: Any) -> Any:
    return convert(Float64, x)


def Float32_(x: Any) -> Any:
    return convert(Float32, x)


def Int64_(x: Any) -> Any:
    return convert(Int64, x)


def noise(t: str, mag: float, max_mag: dict[str, float] | None = None) -> float:
    """One ulp of rounding noise for a value of type t and magnitude mag: the ulp of the largest
    magnitude seen in t, and if Float32 values were computed, of those too (a Float64 result can
    inherit a Float32 intermediate's rounding)."""
    seen = STATS.max_mag if max_mag is None else max_mag
    out = _EPS[t] * max(seen[t], mag, 1.0)
    if seen["Float32"] > 0:
        out = max(out, _EPS["Float32"] * max(seen["Float32"], 1.0))
    return out


def _check_fragile(a: float, b_: float, t: str) -> None:
    if a == b_ or not (math.isfinite(a) and math.isfinite(b_)):
        return
    tol = CMP_ULPS * noise(t, max(abs(a), abs(b_)))
    if abs(a - b_) <= tol:
        raise Fragile(f"comparison of nearly equal {t} values {a!r} and {b_!r}")


# ----------------------------------------------------------------------------- scalar arithmetic
def _arith_type(op: str, ta: str, tb: str) -> str:
    if op == "/":
        p = promote_type(ta, tb)
        return p if p in (Float32, Float64) else Float64
    if op == "*" and ta == Bool and tb == Bool:
        return Bool
    p = promote_type(ta, tb)
    return Int64 if p == Bool else p


def _binary(op: str, a: Any, b_: Any, int_op: Callable[[int, int], int],
            float_op: Callable[[Any, Any], Any]) -> Any:
    if isinstance(a, np.ndarray) or isinstance(b_, np.ndarray):
        return _array_arith(op, a, b_)
    ta, tb = jtype(a), jtype(b_)
    t = _arith_type(op, ta, tb)
    if t == Int64:
        return i(int_op(int(a), int(b_)))
    if t == Bool:
        return b(bool(a) and bool(b_))
    x, y = _NP[t](a), _NP[t](b_)
    with np.errstate(all="ignore"):
        out = float_op(x, y)
    if op in "+-" and out == 0 and x != 0 and (x != np.round(x) or y != np.round(y)):
        out = _cancelled(x, out)
    return _float(t, out)


def _cancelled(x: Any, zero: Any) -> Any:
    """`a - b` (or `a + b`) that cancels exactly. XLA contracts `p * q - b` into a fused multiply-add
    (README, differences from Julia), which leaves the product's rounding error where Julia, which
    rounds the product first, gets exactly 0.0: a program whose answer hinges on such a zero (a
    comparison with it, its sign) has two defensible answers; `reference.evaluate` tries this one."""
    STATS.cancellations += 1
    return np.spacing(abs(x)) / 2 if STATS.perturb_cancellations else zero


def add(a: Any, b_: Any) -> Any:
    # Julia: `+(x::Bool, y::AbstractFloat) = ifelse(x, oneunit(y) + y, y)` keeps `false + -0.0 === -0.0`
    if is_scalar(a) and is_scalar(b_):
        if jtype(a) == Bool and jtype(b_) in (Float32, Float64):
            return add(_NP[jtype(b_)](1), b_) if a else b_
        if jtype(b_) == Bool and jtype(a) in (Float32, Float64):
            return add(b_, a)
    return _binary("+", a, b_, lambda x, y: x + y, lambda x, y: x + y)


def sub(a: Any, b_: Any) -> Any:
    return _binary("-", a, b_, lambda x, y: x - y, lambda x, y: x - y)


def mul(a: Any, b_: Any) -> Any:
    if isinstance(a, np.ndarray) and isinstance(b_, np.ndarray):
        return matmul(a, b_)
    # Julia: `*(x::Bool, y::AbstractFloat) = ifelse(x, y, copysign(zero(y), y))`: false is a strong zero
    if is_scalar(a) and is_scalar(b_):
        if jtype(a) == Bool and jtype(b_) in (Float32, Float64):
            return b_ if a else _float(jtype(b_), math.copysign(0.0, float(b_)))
        if jtype(b_) == Bool and jtype(a) in (Float32, Float64):
            return mul(b_, a)
    return _binary("*", a, b_, lambda x, y: x * y, lambda x, y: x * y)


def fdiv(a: Any, b_: Any) -> Any:
    """`/` (always a float result; float division by zero gives ±Inf/NaN as IEEE). Divided by zero,
    a numerator within rounding noise of 0 (a sum that cancels, which another summation order makes
    exactly 0: NaN, not ±Inf) has no one right answer: Fragile."""
    if isinstance(b_, np.ndarray):
        raise ModelError("`/` with an array divisor is not generated")
    out = _binary("/", a, b_, lambda x, y: 0, lambda x, y: x / y)
    if is_scalar(a) and float(b_) == 0 and jtype(out) in (Float32, Float64):
        _check_near_zero(float(a), jtype(out))
    return out


def _int_operands(name: str, a: Any, b_: Any) -> tuple[int, int]:
    if jtype(a) not in (Int64, Bool) or jtype(b_) not in (Int64, Bool):
        raise ModelError(f"{name} is only generated on integers")
    x, y = int(a), int(b_)
    if y == 0:
        raise Thrown("DivideError: integer division error")
    if y == -1 and x == -(1 << 63):
        raise Undefined(f"{name}(typemin(Int64), -1) overflows")
    return x, y


def _trunc_div(x: int, y: int) -> int:
    q = abs(x) // abs(y)
    return q if (x >= 0) == (y >= 0) else -q


class RoundingMode:
    """Base's RoundingMode values, as arguments of div, rem and round."""

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return self.name


RoundNearest, RoundNearestTiesAway, RoundNearestTiesUp, RoundDown, RoundUp, RoundToZero, RoundFromZero = (
    RoundingMode(n) for n in ("RoundNearest", "RoundNearestTiesAway", "RoundNearestTiesUp", "RoundDown", "RoundUp",
                              "RoundToZero", "RoundFromZero"))


def rounded(q: Fraction, mode: RoundingMode) -> int:
    """The integer the exact number q rounds to in `mode` (Julia's manual: `round(x / y, r)`
    without any intermediate rounding)."""
    lo = math.floor(q)
    if mode is RoundDown:
        return lo
    if mode is RoundUp:
        return math.ceil(q)
    if mode is RoundToZero:
        return math.trunc(q)
    if mode is RoundFromZero:
        return math.ceil(q) if q > 0 else lo
    half = q - lo - Fraction(1, 2)
    if half != 0:
        return lo + (half > 0)
    return lo + {"RoundNearest": lo % 2, "RoundNearestTiesAway": int(q > 0), "RoundNearestTiesUp": 1}[mode.name]


def _is_float_division(a: Any, b_: Any) -> bool:
    return Float32 in (jtype(a), jtype(b_)) or Float64 in (jtype(a), jtype(b_))


def _float_division(name: str, a: Any, b_: Any, mode: RoundingMode) -> tuple[str, Any, Any, Fraction, int]:
    """(type, x, y, exact quotient, quotient rounded in `mode`) of floats (or a float and an Int)."""
    t = promote_type(jtype(a), jtype(b_))
    x, y = convert(t, a), convert(t, b_)
    if not (math.isfinite(float(x)) and math.isfinite(float(y))) or float(y) == 0.0:
        raise Unmodelled(f"{name}({x!r}, {y!r}): Base's answer is NaN by way of its formula")
    q = Fraction(float(x)) / Fraction(float(y))
    if abs(q) > HUGE:
        raise Unstable(f"{name}({x!r}, {y!r}): a quotient this large is not an exact float integer")
    # the quotient jumps where x/y crosses an integer: within rounding noise of one it is Fragile
    _check_near_integer_boundary(float(q), t, 0.5 if mode.name.startswith("RoundNearest") else 0.0)
    return t, x, y, q, rounded(q, mode)


def _float_remainder(t: str, x: Any, y: Any, n: int, mode: RoundingMode) -> Any:
    """x - y * n, exact, rounded once (as Base's fmod-based rem and mod are); a zero takes the
    dividend's sign for rem, the divisor's for mod (RoundDown), the negated divisor's for RoundUp."""
    r = Fraction(float(x)) - Fraction(float(y)) * n
    if r != 0:
        return _NP[t](float(r))
    if mode is RoundFromZero:
        mode = RoundUp if math.copysign(1, float(x)) == math.copysign(1, float(y)) else RoundDown
    sign = {"RoundToZero": float(x), "RoundDown": float(y), "RoundUp": -float(y)}[mode.name]
    return _NP[t](math.copysign(0.0, sign))


def _float_quotient(name: str, a: Any, b_: Any, mode: RoundingMode) -> Any:
    """Base's `div(x, y, r) = round((x - rem(x, y, r)) / y)` is the exact quotient rounded in r; a
    zero quotient takes the sign of (x - rem(x, y, r)) / y."""
    t, x, y, _, n = _float_division(name, a, b_, mode)
    if n != 0:
        return _NP[t](n)
    r = _float_remainder(t, x, y, n, mode)
    with np.errstate(all="ignore"):
        return _NP[t](math.copysign(0.0, float((x - r) / y)))


def idiv(a: Any, b_: Any, mode: RoundingMode = RoundToZero) -> Any:
    """`÷`/`div`: truncates toward zero; with a rounding mode, rounds that way."""
    if _is_float_division(a, b_):
        if mode.name.startswith("RoundNearest"):
            raise ModelError("div of floats to nearest is not generated (jlhlo refuses it)")
        return _float_quotient("div", a, b_, mode)
    x, y = _int_operands("div", a, b_)
    return i(rounded(Fraction(x, y), mode))


def rem(a: Any, b_: Any, mode: RoundingMode = RoundToZero) -> Any:
    """`%`/`rem`: the sign of the dividend; with a rounding mode, x - y * div(x, y, mode)."""
    if _is_float_division(a, b_):
        if mode.name.startswith("RoundNearest"):
            raise ModelError("rem of floats to nearest is not generated (jlhlo refuses it)")
        t, x, y, _, n = _float_division("rem", a, b_, mode)
        return _float_remainder(t, x, y, n, mode)
    x, y = _int_operands("rem", a, b_)
    return i(x - y * rounded(Fraction(x, y), mode))


def mod(a: Any, b_: Any) -> Any:
    """`mod`: the sign of the divisor (Python's `%` on ints)."""
    if _is_float_division(a, b_):
        return rem(a, b_, RoundDown)
    x, y = _int_operands("mod", a, b_)
    return i(x % y)


def fld(a: Any, b_: Any) -> Any:
    if _is_float_division(a, b_):
        return idiv(a, b_, RoundDown)
    x, y = _int_operands("fld", a, b_)
    return i(x // y)


def cld(a: Any, b_: Any) -> Any:
    if _is_float_division(a, b_):
        return idiv(a, b_, RoundUp)
    x, y = _int_operands("cld", a, b_)
    return i(-((-x) // y))


def pow_(a: Any, b_: Any) -> Any:
    """`a ^ b`. Integer powers of integers wrap; a negative integer exponent of an integer other
    than ±1 is a DomainError; a negative float to a non-integer power is a DomainError."""
    ta, tb = jtype(a), jtype(b_)
    if ta in (Int64, Bool) and tb in (Int64, Bool):
        x, n = int(a), int(b_)
        if n < 0:
            if x == 1:
                return i(1)
            if x == -1:
                return i(1 if n % 2 == 0 else -1)
            raise Undefined(f"DomainError: {x}^{n}")
        return i(pow(x, n, 1 << 64))
    t = promote_type(ta, tb) if tb in (Float32, Float64) else (ta if ta in (Float32, Float64) else Float64)
    x = float(a)
    if tb in (Float32, Float64):
        y = float(b_)
        if x < 0 and math.isfinite(y) and y != math.floor(y):
            raise Undefined(f"DomainError: {x}^{y}")
    else:
        y = int(b_)
    with np.errstate(all="ignore"):
        if t == Float32:
            return _float(t, np.float64(np.float32(x)) ** np.float64(y))
        return _float(t, np.float64(x) ** np.float64(y))


def literal_pow(a: Any, n: int) -> Any:
    """`x^n` with a literal integer n: Julia lowers it to `Base.literal_pow` (x*x for 2, x*x*x for
    3, inv(x) for -1, one(x) for 0); other exponents go through `^`."""
    if n == 0:
        return one(a)
    if n == 1:
        return a
    if n == 2:
        return mul(a, a)
    if n == 3:
        return mul(mul(a, a), a)
    if n == -1 and jtype(a) in (Float32, Float64):
        return fdiv(_NP[jtype(a)](1), a)
    return pow_(a, i(n))


def neg(a: Any) -> Any:
    if isinstance(a, np.ndarray):
        return bc(neg, a)
    t = jtype(a)
    if t in (Bool, Int64):
        return i(-int(a))
    return -a


def not_(a: Any) -> Any:
    if jtype(a) != Bool:
        raise ModelError("`!` of a non-Bool")
    return b(not a)


# ----------------------------------------------------------------------------- comparisons
def _cmp(op: Callable[[Any, Any], bool], a: Any, b_: Any) -> np.bool_:
    x, y = _py(a), _py(b_)
    ta, tb = jtype(a), jtype(b_)
    if Float32 in (ta, tb) or Float64 in (ta, tb):
        _check_fragile(float(x), float(y), Float32 if Float32 in (ta, tb) else Float64)
        if float(x) == float(y):       # a branch taken at a tie: see `Stats.ties`
            STATS.ties += 1
    return b(op(x, y))


def eq(a: Any, b_: Any) -> np.bool_:
    if isinstance(a, ElArray) or isinstance(b_, ElArray):
        return _array_eq(a, b_)
    if _is_struct(a) or _is_struct(b_):
        return _struct_eq(a, b_)
    if isinstance(a, tuple) or isinstance(b_, tuple):
        return b(isinstance(a, tuple) and isinstance(b_, tuple) and len(a) == len(b_)
                 and all(eq(x, y) for x, y in zip(a, b_)))
    return _cmp(lambda x, y: x == y, a, b_)


def ne(a: Any, b_: Any) -> np.bool_:
    return not_(eq(a, b_))


def lt(a: Any, b_: Any) -> np.bool_:
    return _cmp(lambda x, y: x < y, a, b_)


def le(a: Any, b_: Any) -> np.bool_:
    return _cmp(lambda x, y: x <= y, a, b_)


def gt(a: Any, b_: Any) -> np.bool_:
    return _cmp(lambda x, y: x > y, a, b_)


def ge(a: Any, b_: Any) -> np.bool_:
    return _cmp(lambda x, y: x >= y, a, b_)


def _bits(x: Any) -> int:
    t = jtype(x)
    if t == Float64:
        return int(np.float64(x).view(np.int64))
    if t == Float32:
        return int(np.float32(x).view(np.int32))
    return int(x)


def egal(a: Any, b_: Any) -> np.bool_:
    """`===`: same type and same bits (so `NaN === NaN`, but not `-0.0 === 0.0` or `1 === 1.0`). The
    bits of a computed NaN are unspecified in jlhlo (README, "Differences from Julia"), so `===` with
    a NaN operand is not modelled."""
    if any(jtype(v) in (Float32, Float64) and math.isnan(float(v)) for v in (a, b_)):
        raise Unmodelled("=== of a NaN (its bits are unspecified)")
    return b(jtype(a) == jtype(b_) and _bits(a) == _bits(b_))


def not_egal(a: Any, b_: Any) -> np.bool_:
    return not_(egal(a, b_))


def isequal(a: Any, b_: Any) -> np.bool_:
    """`isequal`: like `==` except that NaNs are equal and -0.0 differs from 0.0."""
    ta, tb = jtype(a), jtype(b_)
    if ta != tb:
        raise ModelError("isequal is only generated on operands of one type")
    if ta in (Float32, Float64):
        x, y = float(a), float(b_)
        if math.isnan(x) or math.isnan(y):
            return b(math.isnan(x) and math.isnan(y))
        return b(x == y and math.copysign(1.0, x) == math.copysign(1.0, y))
    return b(int(a) == int(b_))


# ----------------------------------------------------------------------------- scalar functions
def _float_fn(name: str, np_fn: Callable[[Any], Any], x: Any, domain: Callable[[float], bool] | None = None) -> Any:
    t = jtype(x)
    ft = t if t in (Float32, Float64) else Float64
    v = _NP[ft](x)
    if domain is not None and not math.isnan(float(v)) and not domain(float(v)):
        raise Undefined(f"DomainError: {name}({float(v)})")
    with np.errstate(all="ignore"):
        out = np_fn(v)
    if name != "sqrt":                 # sqrt is correctly rounded everywhere; the others are not
        STATS.math_calls += 1
        if STATS.perturb_math and np.isfinite(out) and out != 0:
            out = np.nextafter(out, _NP[ft](math.copysign(math.inf, float(out))))
    return _float(ft, out)


def sqrt(x: Any) -> Any:
    return _float_fn("sqrt", np.sqrt, x, lambda v: v >= 0)


def exp(x: Any) -> Any:
    return _float_fn("exp", np.exp, x)


def log(x: Any) -> Any:
    return _float_fn("log", np.log, x, lambda v: v >= 0)


def sin(x: Any) -> Any:
    return _float_fn("sin", np.sin, x, math.isfinite)


def cos(x: Any) -> Any:
    return _float_fn("cos", np.cos, x, math.isfinite)


def tanh(x: Any) -> Any:
    return _float_fn("tanh", np.tanh, x)


def asin(x: Any) -> Any:
    return _float_fn("asin", np.arcsin, x, lambda v: abs(v) <= 1)


def acos(x: Any) -> Any:
    return _float_fn("acos", np.arccos, x, lambda v: abs(v) <= 1)


def atanh(x: Any) -> Any:
    return _float_fn("atanh", np.arctanh, x, lambda v: abs(v) <= 1)


def asinh(x: Any) -> Any:
    return _float_fn("asinh", np.arcsinh, x)


def acosh(x: Any) -> Any:
    return _float_fn("acosh", np.arccosh, x, lambda v: v >= 1)


def abs_(x: Any) -> Any:
    t = jtype(x)
    if t == Int64:
        return i(abs(int(x)))
    if t == Bool:
        return x
    return _float(t, abs(x))


def abs2(x: Any) -> Any:
    return mul(x, x)


def sign(x: Any) -> Any:
    t = jtype(x)
    if t in (Int64, Bool):
        v = int(x)
        return i((v > 0) - (v < 0)) if t == Int64 else x
    v = float(x)
    _check_near_zero(v, t)
    if v == 0.0 or math.isnan(v):
        return x
    return _NP[t](1.0 if v > 0 else -1.0)


def signbit(x: Any) -> np.bool_:
    t = jtype(x)
    if t in (Float32, Float64) and math.isnan(float(x)):
        # Julia's min/max return one of their NaN arguments, XLA's a NaN of its own (x86's default
        # NaN is negative); the sign of a NaN is documented as unspecified in jlhlo
        raise Unmodelled("signbit of a NaN")
    return b(math.copysign(1.0, float(x)) < 0 if t in (Float32, Float64) else int(x) < 0)


def isnan(x: Any) -> np.bool_:
    return b(jtype(x) in (Float32, Float64) and math.isnan(float(x)))


def iseven(n: Any) -> np.bool_:
    return b(int(n) % 2 == 0)


def isodd(n: Any) -> np.bool_:
    return b(int(n) % 2 != 0)


def zero(x: Any) -> Any:
    return _NP[jtype(x)](0)


def one(x: Any) -> Any:
    return _NP[jtype(x)](1)


def _check_near_zero(v: float, t: str) -> None:
    """`sign` flips at 0: a nonzero value within rounding noise of it is Fragile."""
    if v != 0.0 and math.isfinite(v) and abs(v) <= CMP_ULPS * noise(t, 0.0):
        raise Fragile(f"sign of {v!r}, within rounding noise of 0")


def _check_near_integer_boundary(v: float, t: str, boundary: float) -> None:
    """`floor`/`round`/`sign` flip at a boundary: a value within rounding noise of it is Fragile."""
    if not math.isfinite(v) or t not in (Float32, Float64):
        return
    nearest = math.floor(v - boundary + 0.5) + boundary
    if v != nearest and abs(v - nearest) <= CMP_ULPS * noise(t, abs(v)):
        raise Fragile(f"{v!r} is within rounding noise of {nearest}")


def _rounding(name: str, fn: Callable[[float], float], boundary: float) -> Callable[..., Any]:
    def rule(*args: Any) -> Any:
        if len(args) == 2:                       # round(Int64, x): round, then an exact conversion
            return convert(args[0], rule(args[1]))
        (x,) = args
        t = jtype(x)
        if t in (Int64, Bool):
            return x
        _check_near_integer_boundary(float(x), t, boundary)
        return _NP[t](fn(x))
    rule.__name__ = name
    return rule


floor = _rounding("floor", np.floor, 0.0)
ceil = _rounding("ceil", np.ceil, 0.0)
trunc = _rounding("trunc", np.trunc, 0.0)
_round_nearest = _rounding("round", np.rint, 0.5)      # RoundNearest: ties to even, as np.rint


def round_(*args: Any) -> Any:
    """`round(x)`, `round(Int64, x)`, and `round(x, mode)`: the exact value rounded in the mode; a
    zero keeps x's sign (as Base's formulas for each mode give it)."""
    if len(args) != 2 or not isinstance(args[1], RoundingMode):
        return _round_nearest(*args)
    x, mode = args
    t = jtype(x)
    if t in (Int64, Bool):
        return x
    v = float(x)
    if not math.isfinite(v):
        return x
    _check_near_integer_boundary(v, t, 0.5 if mode.name.startswith("RoundNearest") else 0.0)
    return _NP[t](math.copysign(rounded(Fraction(v), mode), v))


def _minmax(is_min: bool, a: Any, b_: Any) -> Any:
    t = promote_type(jtype(a), jtype(b_))
    x, y = convert(t, a), convert(t, b_)
    if t in (Float32, Float64):
        if float(x) == float(y):
            STATS.ties += 1
        # Julia: NaN wins; min(-0.0, 0.0) is -0.0 and max(-0.0, 0.0) is 0.0
        if math.isnan(float(x)):
            return x
        if math.isnan(float(y)):
            return y
        if float(x) == float(y) == 0.0:
            neg_x = math.copysign(1.0, float(x)) < 0
            return (x if neg_x else y) if is_min else (y if neg_x else x)
    if is_min:
        return y if _py(y) < _py(x) else x
    return y if _py(y) > _py(x) else x


def min_(a: Any, b_: Any) -> Any:
    return _minmax(True, a, b_)


def max_(a: Any, b_: Any) -> Any:
    return _minmax(False, a, b_)


def clamp(x: Any, lo: Any, hi: Any) -> Any:
    """Julia: `ifelse(x > hi, hi, ifelse(x < lo, lo, x))` in the promoted type (NaN stays NaN)."""
    t = promote_type(jtype(x), jtype(lo), jtype(hi))
    if _py(x) in (_py(lo), _py(hi)):
        STATS.ties += 1
    if gt(x, hi):
        return convert(t, hi)
    if lt(x, lo):
        return convert(t, lo)
    return convert(t, x)


def cond(c: Any) -> bool:
    """A condition (`if`, `while`, `&&`, `?:`) must be a Bool in Julia."""
    if type(c) is not np.bool_:
        raise ModelError(f"non-Bool condition {c!r}")
    return bool(c)


_CHAIN_OPS = {"==": lambda x, y: eq(x, y), "!=": lambda x, y: ne(x, y), "<": lambda x, y: lt(x, y),
              "<=": lambda x, y: le(x, y), ">": lambda x, y: gt(x, y), ">=": lambda x, y: ge(x, y)}


def chain(*parts: Any) -> np.bool_:
    """`a < b <= c`: each comparison in turn, stopping at the first false one."""
    for k in range(1, len(parts), 2):
        if not _CHAIN_OPS[parts[k]](parts[k - 1], parts[k + 1]):
            return b(False)
    return b(True)


def ifelse(c: Any, a: Any, b_: Any) -> Any:
    if jtype(c) != Bool:
        raise ModelError("ifelse condition is not Bool")
    return a if c else b_


# ----------------------------------------------------------------------------- ranges and tuples
class _ColonT:
    def __repr__(self) -> str:
        return ":"


COLON = _ColonT()


class JRange:
    """`start:step:stop` with Julia's length rule; float ranges only with exactly representable
    start/step/stop (then `start + (k-1)*step` is exact, as Julia's StepRangeLen gives)."""

    def __init__(self, start: Any, step: Any, stop: Any):
        t = promote_type(jtype(start), jtype(step), jtype(stop))
        self.eltype = Int64 if t == Bool else t
        s0, st, s1 = (_py(convert(self.eltype, v)) for v in (start, step, stop))
        if st == 0:
            raise Undefined("ArgumentError: step cannot be zero")
        if self.eltype == Int64:
            n = (s1 - s0) // st + 1 if (s1 >= s0) == (st > 0) or s1 == s0 else 0
        else:
            q = (s1 - s0) / st
            if q != math.floor(q) and abs(q - round(q)) < 1e-9:
                raise Unmodelled("float range whose length needs Julia's extended precision")
            n = math.floor(q) + 1 if q >= 0 else 0
            if any(v != float(np.float32(v)) for v in (s0, st)) and self.eltype == Float32:
                raise Unmodelled("Float32 range with inexact endpoints")
        self.start, self.step, self.len = s0, st, max(int(n), 0)

    def __len__(self) -> int:
        return self.len

    def __iter__(self) -> Iterator[Any]:
        for k in range(self.len):
            yield self[k]

    def __getitem__(self, k: int) -> Any:
        v = self.start + k * self.step
        return i(v) if self.eltype == Int64 else _float(self.eltype, v)

    def collect(self) -> np.ndarray:
        return _fresh(np.array([self[k] for k in range(self.len)], dtype=_NP[self.eltype]))


def rng(start: Any, step: Any, stop: Any = None) -> JRange:
    """`rng(a, b)` is `a:b`, `rng(a, s, b)` is `a:s:b`."""
    if stop is None:
        return JRange(start, i(1), step)
    return JRange(start, step, stop)


def tget(t: tuple, k: Any) -> Any:
    k = int(k)
    if not 1 <= k <= len(t):
        raise Undefined(f"BoundsError: tuple of length {len(t)} at index {k}")
    return t[k - 1]


def destructure(value: Any, n: int) -> tuple:
    """`a, b = value` (a tuple of at least n items)."""
    if not isinstance(value, tuple) or len(value) < n:
        raise ModelError(f"destructuring {value!r} into {n} names")
    return value[:n]


def collect(r: Any) -> np.ndarray | ElArray:
    if isinstance(r, JRange):
        return r.collect()
    if isinstance(r, Zip):
        return ElArray.of(list(r), (len(r),))
    return copy(r)


def loop(it: Any) -> Iterator[Any]:
    """Iterate as Julia's `for` does (arrays in column-major order, each element read when its
    iteration starts, so writes made by earlier iterations are seen), counting iterations."""
    if isinstance(it, np.ndarray):
        for k in range(it.size):
            tick()
            yield it[np.unravel_index(k, it.shape, order="F")]
    else:
        for v in it:
            tick()
            yield v


# ----------------------------------------------------------------------------- arrays
def _fresh(a: np.ndarray) -> np.ndarray:
    """A new column-major array (Julia's layout, so reshapes of it are views)."""
    return np.array(a, order="F", copy=True, subok=False)


def _dims(args: tuple) -> tuple[int, ...]:
    if len(args) == 1 and isinstance(args[0], tuple):
        args = args[0]
    return tuple(int(d) for d in args)


def zeros(*args: Any) -> np.ndarray:
    t = args[0] if isinstance(args[0], str) else Float64
    dims = _dims(args[1:] if isinstance(args[0], str) else args)
    return np.zeros(dims, dtype=_NP[t], order="F")


def ones(*args: Any) -> np.ndarray:
    t = args[0] if isinstance(args[0], str) else Float64
    dims = _dims(args[1:] if isinstance(args[0], str) else args)
    return np.ones(dims, dtype=_NP[t], order="F")


def fill(v: Any, *dims: Any) -> np.ndarray | ElArray:
    if not is_scalar(v):
        return ElArray.of([v] * int(np.prod(_dims(dims))), _dims(dims))
    return np.full(_dims(dims), v, dtype=_NP[jtype(v)], order="F")


def similar(a: np.ndarray | ElArray) -> np.ndarray | ElArray:
    """Uninitialized in Julia: filled with a poison value so that a read before a write shows."""
    if isinstance(a, ElArray):
        return undef_array(a.eltype, *a.shape)
    poison = {np.dtype(np.int64): -7777777, np.dtype(np.bool_): True}.get(a.dtype, np.nan)
    return np.full(a.shape, poison, dtype=a.dtype, order="F")


def copy(a: Any) -> Any:
    if isinstance(a, ElArray):
        return ElArray(a.items.copy(order="F"), a.eltype)
    return _fresh(a) if isinstance(a, np.ndarray) else a


def size(a: Any, d: Any = None) -> Any:
    shape = a.shape if isinstance(a, (np.ndarray, ElArray)) else (len(a),)
    if d is None:
        return tuple(i(s) for s in shape)
    d = int(d)
    return i(shape[d - 1] if d <= len(shape) else 1)


def length(a: Any) -> np.int64:
    return i(a.size if isinstance(a, np.ndarray) else len(a))


def eachindex(a: Any) -> JRange:
    return JRange(i(1), i(1), length(a))


def axes(a: np.ndarray, d: Any) -> JRange:
    return JRange(i(1), i(1), size(a, d))


def lastindex(a: Any, d: int, n: int) -> np.int64:
    """The value of `end` at index position d (1-based) of n indices."""
    return length(a) if n == 1 else size(a, i(d))


def firstindex(a: Any, d: int, n: int) -> np.int64:
    """The value of `begin` at index position d of n indices (arrays and tuples start at 1)."""
    return i(1)


class CartesianIndex(tuple):
    """`CartesianIndex{N}`: as an index it stands for its N integer indices; `I[d]` is the d-th."""


def CartesianIndices(x: Any) -> list[CartesianIndex]:
    """`CartesianIndices(A)` or `CartesianIndices(dims::Tuple)`: every index of that shape, the
    first dimension varying fastest (column-major, as Julia iterates them)."""
    shape = x.shape if isinstance(x, np.ndarray) else tuple(int(n) for n in x)
    return [CartesianIndex(i(k + 1) for k in reversed(idx)) for idx in np.ndindex(*shape[::-1])]


def LinearIndices(a: np.ndarray) -> np.ndarray:
    """`LinearIndices(A)`: an array of A's shape holding each element's column-major linear index."""
    return _fresh(np.arange(1, a.size + 1, dtype=np.int64).reshape(a.shape, order="F"))


def pairs(x: np.ndarray) -> Iterator[tuple[Any, Any]]:
    """`pairs(v)` of a vector: `i => v[i]`, the element read when its iteration starts."""
    if x.ndim != 1:
        raise ModelError("pairs of a non-vector (its keys would be CartesianIndex)")
    for k in range(x.size):
        yield i(k + 1), x[k]


def _expand_cartesian(idxs: tuple) -> tuple:
    out: list[Any] = []
    for k in idxs:
        out.extend(k) if isinstance(k, CartesianIndex) else out.append(k)
    return tuple(out)


def _index_spec(a: np.ndarray, idxs: tuple) -> tuple[tuple, list[int], tuple[int, ...]]:
    """NumPy indices for Julia indices into `a`, checking bounds; the dims each index keeps.
    A single index into a multi-dimensional array is linear (column-major); a CartesianIndex
    stands for its components."""
    idxs = _expand_cartesian(idxs)
    shape = a.shape if len(idxs) > 1 or a.ndim == 1 else (a.size,)
    if len(idxs) != len(shape):
        raise ModelError(f"{len(idxs)} indices into an array of {a.ndim} dims")
    out: list[Any] = []
    kept: list[int] = []
    for d, (k, n) in enumerate(zip(idxs, shape)):
        if k is COLON:
            out.append(slice(None))
            kept.append(n)
        elif isinstance(k, JRange):
            if k.eltype != Int64:
                raise ModelError("a float range as an index")
            ks = list(k)
            if ks and not all(1 <= int(v) <= n for v in ks):
                raise Undefined(f"BoundsError: index {k.start}:{k.step}:{ks[-1]} in dimension {d + 1} of size {n}")
            kept.append(len(ks))
            if not ks:
                out.append(slice(0, 0))
            else:
                stop = int(ks[-1]) - 1 + (1 if k.step > 0 else -1)
                out.append(slice(int(ks[0]) - 1, None if stop < 0 else stop, k.step))
        else:
            if jtype(k) != Int64:
                raise ModelError(f"index of type {jtype(k)}")
            if not 1 <= int(k) <= n:
                raise Undefined(f"BoundsError: index {int(k)} in dimension {d + 1} of size {n}")
            out.append(int(k) - 1)
    return tuple(out), kept, shape


def _linear_view(a: np.ndarray) -> np.ndarray:
    flat = a.reshape(-1, order="F")
    if not np.shares_memory(flat, a):
        raise Unmodelled("linear view of a non-contiguous array")
    return flat


def _element_index(a: np.ndarray, spec: tuple, shape: tuple[int, ...]) -> tuple:
    """The NumPy index of one element, a linear (column-major) index translated."""
    return spec if shape == a.shape else np.unravel_index(spec[0], a.shape, order="F")


def getindex(a: Any, *idxs: Any) -> Any:
    if isinstance(a, tuple):
        return tget(a, idxs[0])
    if isinstance(a, ElArray):
        got = getindex(a.items, *idxs)
        return ElArray(got, a.eltype) if isinstance(got, np.ndarray) else got
    idxs = _expand_cartesian(idxs)
    if isinstance(a, JRange):
        k = int(idxs[0])
        if not 1 <= k <= len(a):
            raise Undefined("BoundsError: range index")
        return a[k - 1]
    spec, kept, shape = _index_spec(a, idxs)
    if not kept and not any(isinstance(s, slice) for s in spec):
        return a[_element_index(a, spec, shape)]
    src = a if shape == a.shape else a.reshape(-1, order="F")
    return _fresh(src[spec])


def view(a: np.ndarray, *idxs: Any) -> Any:
    spec, _, shape = _index_spec(a, idxs)
    src = a if shape == a.shape else _linear_view(a)
    v = src[spec]
    if not isinstance(v, np.ndarray):
        raise ModelError("a view with only scalar indices")
    return v


def setindex(a: np.ndarray | ElArray, v: Any, *idxs: Any) -> None:
    items = a.items if isinstance(a, ElArray) else a
    spec, kept, shape = _index_spec(items, idxs)
    if kept or any(isinstance(s, slice) for s in spec):
        raise ModelError("setindex with a range (use bc_assign on a view)")
    if isinstance(a, ElArray):
        items[_element_index(items, spec, shape)] = convert_value(a.eltype, v)
        return
    a[_element_index(a, spec, shape)] = convert(jtype_of_array(a), v)


def setindex_value(a: np.ndarray, v: Any, *idxs: Any) -> Any:
    """`a[i] = v` used as a value: v as written, not converted to a's element type (Julia lowers
    it to `setindex!(a, v, i); v`)."""
    setindex(a, v, *idxs)
    return v


def seq(*values: Any) -> Any:
    """A branch of an `if` expression run as a Python expression: its statements (already
    evaluated, in order, as the arguments) and then its value, the last argument."""
    return values[-1]


def splat(x: Any) -> list[Any]:
    """`x...`: a tuple's items, a range's values, an array's elements in column-major order."""
    if isinstance(x, np.ndarray):
        return _elements(x)
    if isinstance(x, (tuple, JRange)):
        return list(x)
    raise ModelError(f"splatting a {type(x).__name__}")


def nary(fn: Callable[[Any, Any], Any], *args: Any) -> Any:
    """`max(a, b, c...)`, `+(a, b, c...)`: a left fold (Base's `afoldl`); one argument is returned
    as it is (`max(x) = x`, `+(x) = x`)."""
    if not args:
        raise ModelError("an n-ary call without arguments")
    acc = args[0]
    for v in args[1:]:
        acc = fn(acc, v)
    return acc


def val(v: Any) -> Any:
    """`Val(v)`: the generator passes only Int and Bool constants."""
    if jtype(v) not in (Int64, Bool):
        raise ModelError(f"Val of a {jtype(v)}")
    return v


def val_bool(v: Any) -> bool:
    if jtype(v) != Bool:
        raise ModelError(f"Val{{true}}/Val{{false}} dispatch on a {jtype(v)}")
    return bool(v)


def jtype_of_array(a: np.ndarray) -> str:
    return jtype(a.dtype.type(0))


def _bshape(shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
    """Julia's broadcast shape: dimensions aligned from the first; each equal or 1."""
    n = max((len(s) for s in shapes), default=0)
    out = []
    for d in range(n):
        sizes = {s[d] if d < len(s) else 1 for s in shapes}
        sizes.discard(1)
        if len(sizes) > 1:
            raise Undefined(f"DimensionMismatch: broadcast of shapes {shapes}")
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


def _as_broadcast_arg(x: Any) -> Any:
    if isinstance(x, JRange):
        return x.collect()
    if isinstance(x, tuple):
        raise ModelError("broadcast over a tuple")
    if isinstance(x, ElArray):
        return x.items
    return x


def bc(fn: Callable[..., Any], *args: Any) -> Any:
    """`fn.(args...)`: Julia broadcasting, applying the scalar function `fn` element by element
    (only numbers: a broadcast over scalars alone is a scalar)."""
    args = tuple(_as_broadcast_arg(a) for a in args)
    arrays = [a for a in args if isinstance(a, np.ndarray)]
    if not arrays:
        return fn(*args)
    shape = _bshape([a.shape for a in arrays])
    results = []
    for idx in np.ndindex(*shape) if shape else [()]:
        elems = []
        for a in args:
            if isinstance(a, np.ndarray):
                elems.append(a[tuple(idx[d] if a.shape[d] != 1 else 0 for d in range(a.ndim))])
            else:
                elems.append(a)
        results.append(fn(*elems))
    return _array_of(results, shape, "C")


def bc_assign(dest: np.ndarray, value: Any) -> np.ndarray:
    """`dest .= value`: value broadcast to dest's shape (dims aligned from the first, each equal
    or 1, no more dims than dest) and converted to dest's element type; returns dest."""
    t = jtype_of_array(dest)
    value = _as_broadcast_arg(value)
    if isinstance(value, np.ndarray):
        if value.ndim > dest.ndim or _bshape([dest.shape, value.shape]) != dest.shape:
            raise Undefined(f"DimensionMismatch: cannot broadcast {value.shape} into {dest.shape}")
        src = value.reshape(value.shape + (1,) * (dest.ndim - value.ndim), order="F")
        src = np.broadcast_to(src, dest.shape)
        conv = np.empty(dest.shape, dtype=dest.dtype)
        for idx in np.ndindex(*dest.shape) if dest.shape else [()]:
            conv[idx] = convert(t, src[idx])
        dest[...] = conv
    else:
        dest[...] = convert(t, value)
    return dest


def fill_(a: np.ndarray, v: Any) -> np.ndarray:
    """`fill!(a, v)`."""
    return bc_assign(a, v)


def vec(a: np.ndarray) -> np.ndarray:
    return _linear_view(a)


def reshape(a: np.ndarray, *dims: Any) -> np.ndarray:
    shape = _dims(dims)
    if int(np.prod(shape)) != a.size:
        raise Undefined(f"DimensionMismatch: reshape {a.shape} to {shape}")
    out = a.reshape(shape, order="F")
    if not np.shares_memory(out, a) and a.size > 1:
        raise Unmodelled("reshape of a non-contiguous array")
    return out


class AdjVec(np.ndarray):
    """`x'` / `transpose(x)` of a vector: a 1×n view of x (Julia's Adjoint), which `*` treats
    specially (`x' * y` is a number)."""


def adjoint(a: np.ndarray) -> np.ndarray:
    if a.ndim == 1:
        return a.reshape(1, -1).view(AdjVec)
    if isinstance(a, AdjVec):
        return np.asarray(a).reshape(-1)
    return np.asarray(a).T


transpose = adjoint


def permutedims(a: np.ndarray) -> np.ndarray:
    """A new Matrix: a vector as its 1×n row, a matrix transposed."""
    return _fresh(np.asarray(a).reshape(1, -1) if a.ndim == 1 else np.asarray(a).T)


def _eltype(a: np.ndarray) -> str:
    return jtype_of_array(a)


def matmul(a: np.ndarray, b_: np.ndarray) -> Any:
    """Matrix product with Julia's shapes: `x' * y` is a number, `x' * A` an adjoint row, `A * x`
    a vector, `x * y'` an outer product (a broadcast); integer products wrap."""
    t = _arith_type("*", _eltype(a), _eltype(b_))
    if isinstance(a, AdjVec) and b_.ndim == 1:
        return dot(np.asarray(a).reshape(-1), b_)
    if a.ndim == 1 and isinstance(b_, AdjVec):
        # LinearAlgebra: `*(u::AbstractVector, v::AdjOrTransAbsVec) = broadcast(*, u, v)`, so each
        # element is one product (-3.0 * 0.0 stays -0.0), not a BLAS sum that starts from +0.0
        return bc(mul, a.reshape(-1, 1), np.asarray(b_))
    if a.ndim == 1:
        if b_.shape[0] != 1:
            raise Undefined(f"DimensionMismatch: {a.shape} * {b_.shape}")
        a = a.reshape(-1, 1)
    if a.shape[1] != b_.shape[0]:
        raise Undefined(f"DimensionMismatch: {a.shape} * {b_.shape}")
    if t == Int64:
        out = _wrap_int_array(np.asarray(a).astype(object) @ np.asarray(b_).astype(object))
    else:
        with np.errstate(all="ignore"):
            out = (np.asarray(a).astype(np.float64) @ np.asarray(b_).astype(np.float64)).astype(_NP[t])
        _track(out)
    out = _fresh(out)
    return out.reshape(1, -1).view(AdjVec) if isinstance(a, AdjVec) and out.ndim == 1 else out


def _wrap_int_array(x: np.ndarray) -> np.ndarray:
    flat = [i(v) for v in np.asarray(x, dtype=object).reshape(-1)]
    return np.array(flat, dtype=np.int64).reshape(np.shape(x))


def _track(x: np.ndarray) -> None:
    for v in np.asarray(x, dtype=np.float64).reshape(-1):
        _float("Float64", v)


def _array_arith(op: str, a: Any, b_: Any) -> np.ndarray:
    """`A + B`, `A - B` (same shape), `c * A`, `A * c`, `A / c`: elementwise, as Julia defines them."""
    a_arr, b_arr = isinstance(a, np.ndarray), isinstance(b_, np.ndarray)
    if op in "+-":
        if not (a_arr and b_arr):
            raise ModelError(f"array {op} scalar (Julia needs .{op})")
        if a.shape != b_.shape:
            raise Undefined(f"DimensionMismatch: {a.shape} {op} {b_.shape}")
    elif op == "/" and b_arr:
        raise ModelError("division by an array")
    return bc({"+": add, "-": sub, "*": mul, "/": fdiv}[op], a, b_)


# ----------------------------------------------------------------------------- reductions
def _fold(op: Callable[[Any, Any], Any], items: Iterable[Any], name: str) -> Any:
    it = iter(items)
    try:
        acc = next(it)
    except StopIteration:
        raise Undefined(f"ArgumentError: {name} over an empty collection") from None
    if jtype(acc) == Bool and name in ("sum", "prod"):
        acc = i(int(acc))
    for v in it:
        acc = op(acc, v)
    return acc


def _sum_values(vals: list[Any], t: str) -> Any:
    """A sum as Julia's `sum` gives it for a whole collection: Bools and Int64s wrap to Int64,
    floats in the element type (computed in float64 first: Julia's pairwise order is not modelled,
    and the comparison tolerance covers the difference)."""
    if t in (Bool, Int64):
        return i(sum(int(v) for v in vals))
    floats = [float(v) for v in vals]
    if floats and all(v == 0 and math.copysign(1.0, v) < 0 for v in floats):
        return _float(t, -0.0)         # only -0.0 + -0.0 is -0.0 (Python's sum starts from +0)
    STATS.float_sums += 1
    if STATS.sequential_sums:
        out = floats[0] if floats else 0.0     # an empty sum is zero(T)
        for v in floats[1:]:
            out += v
        return _float(t, out)
    return _float(t, math.fsum(floats) if all(map(math.isfinite, floats)) else sum(floats))


def _elements(x: Any) -> list[Any]:
    if isinstance(x, np.ndarray):
        return [x[np.unravel_index(k, x.shape, order="F")] for k in range(x.size)]
    return list(x)


def _reduce_dims(x: np.ndarray, dims: Any, fn: Callable[[list[Any]], Any]) -> np.ndarray:
    d = int(dims) - 1
    out_shape = tuple(1 if k == d else n for k, n in enumerate(x.shape))
    moved = np.moveaxis(np.asarray(x), d, -1)
    vals = [fn(list(moved[idx])) for idx in np.ndindex(*moved.shape[:-1])]
    res = np.array(vals, dtype=_NP[jtype(vals[0])]).reshape(moved.shape[:-1])
    return _fresh(np.expand_dims(res, d).reshape(out_shape))


def _reduction(name: str, whole: Callable[[list[Any], str], Any]) -> Callable[..., Any]:
    def rule(*args: Any, dims: Any = None) -> Any:
        if len(args) == 2:
            fn, x = args
            x = bc(fn, x) if isinstance(x, np.ndarray) else [fn(v) for v in _elements(x)]
        else:
            (x,) = args
        if dims is not None:
            return _reduce_dims(x, dims, lambda vals: _dims_start(name, whole(vals, jtype(vals[0]))))
        vals = _elements(x)
        if not vals:
            if name in ("sum", "prod") and isinstance(x, np.ndarray):
                return whole([], _eltype(x))
            raise Undefined(f"ArgumentError: {name} over an empty collection")
        return whole(vals, jtype(vals[0]))
    rule.__name__ = name
    return rule


def _dims_start(name: str, v: Any) -> Any:
    """Base's `sum(A; dims)` adds into an array filled with zero(T) (`reducedim_init`), so a zero
    sum is +0.0 even when every element is -0.0."""
    if name == "sum" and jtype(v) in (Float32, Float64) and v == 0:
        return _float(jtype(v), 0.0)
    return v


def _prod_values(vals: list[Any], t: str) -> Any:
    if t in (Bool, Int64):
        out = 1
        for v in vals:
            out *= int(v)
        return i(out)
    return _float(t, math.prod(float(v) for v in vals)) if t == Float64 else _fold(mul, vals, "prod")


sum_ = _reduction("sum", _sum_values)
prod = _reduction("prod", _prod_values)
maximum = _reduction("maximum", lambda vals, t: _fold(max_, vals, "maximum"))
minimum = _reduction("minimum", lambda vals, t: _fold(min_, vals, "minimum"))


def accumulated(x: Any, t: str) -> None:
    """After a loop whose first statement makes x (started as an Int) a float of type t."""
    if jtype(x) != t:
        raise Unmodelled("an Int-started accumulator whose loop did not run (jlhlo promotes it where the "
                         "trip count is a run-time value, and keeps Julia's Int where it is known)")


def _fold_from(op: Callable[[Any, Any], Any], items: Iterable[Any], name: str, init: Any) -> Any:
    """Base's mapfoldl: without `init`, from the first element (`_fold`); with it, from `init`,
    also over an empty generator."""
    if init is None:
        return _fold(op, items, name)
    acc = init
    for v in items:
        acc = op(acc, v)
    return acc


def sum_gen(items: Iterable[Any], init: Any = None) -> Any:
    """`sum(body for v in iter [if cond]; [init])`: a left fold with `+` (Bools summed as Int64).
    Over an empty generator without `init` Julia throws (`reduce_empty_iter` of an
    `EltypeUnknown` iterator), even for sum."""
    return _fold_from(add, items, "sum", init)


def prod_gen(items: Iterable[Any], init: Any = None) -> Any:
    return _fold_from(mul, items, "prod", init)


def maximum_gen(items: Iterable[Any], init: Any = None) -> Any:
    return _fold_from(max_, items, "maximum", init)


def minimum_gen(items: Iterable[Any], init: Any = None) -> Any:
    return _fold_from(min_, items, "minimum", init)


def findfirst(*args: Any) -> np.int64 | None:
    """`findfirst(bools)` or `findfirst(pred, v)`: the first index where it holds, else `nothing`
    (None); the predicate runs only up to that index."""
    for k, v in enumerate(_search_values(args)):
        if v:
            return i(k + 1)
    return None


def findlast(*args: Any) -> np.int64 | None:
    vals = list(reversed(_elements(args[-1])))
    for k, v in enumerate(vals):
        if (args[0](v) if len(args) == 2 else v):
            return i(len(vals) - k)
    return None


def _search_values(args: tuple) -> Iterator[Any]:
    if len(args) == 1:
        yield from _elements(args[0])
        return
    pred, x = args
    for v in _elements(x):
        yield pred(v)


def something(x: Any, default: Any) -> Any:
    return default if x is None else x


def isnothing(x: Any) -> np.bool_:
    return b(x is None)


def _predicate_values(args: tuple) -> list[Any]:
    """`count(bools)` or `count(pred, x)` (likewise any/all)."""
    if len(args) == 1:
        return _elements(args[0])
    pred, x = args
    return [pred(v) for v in _elements(x)]


def count(*args: Any) -> np.int64:
    vals = _predicate_values(args)
    if any(jtype(v) != Bool for v in vals):
        raise ModelError("count of non-Bool values")
    return i(sum(bool(v) for v in vals))


def any_(*args: Any) -> np.bool_:
    vals = _predicate_values(args)
    return b(any(bool(v) for v in vals))


def all_(*args: Any) -> np.bool_:
    vals = _predicate_values(args)
    return b(all(bool(v) for v in vals))


def dot(x: np.ndarray, y: np.ndarray) -> Any:
    if x.shape != y.shape:
        raise Undefined("DimensionMismatch: dot")
    out = sum_(bc(mul, x, y))
    if jtype(out) in (Float32, Float64) and out == 0:
        return _float(jtype(out), 0.0)     # Julia's dot sums from +0.0: the result is never -0.0
    return out


def norm(x: np.ndarray) -> Any:
    s = sum_(bc(abs2, x))
    return sqrt(s)


def cumsum(x: np.ndarray) -> np.ndarray:
    if x.ndim != 1:
        raise ModelError("cumsum of a non-vector")
    out, acc = [], None
    for v in _elements(x):
        acc = v if acc is None else add(acc, v)
        if jtype(acc) == Bool:
            acc = i(int(acc))
        out.append(acc)
    return _fresh(np.array(out, dtype=_NP[jtype(out[0])]))


def reverse(x: np.ndarray | ElArray) -> np.ndarray | ElArray:
    """`reverse(x)`: a reversed copy (all dimensions reversed for a matrix, as Julia ≥ 1.6)."""
    if isinstance(x, ElArray):
        return ElArray(reverse(x.items), x.eltype)
    return _fresh(np.asarray(x)[tuple(slice(None, None, -1) for _ in range(x.ndim))])


def map_(fn: Callable[..., Any], *xs: Any) -> np.ndarray | ElArray:
    if any(not isinstance(x, (np.ndarray, ElArray)) or x.shape != xs[0].shape for x in xs):
        raise ModelError("map over arrays of different shapes")
    return bc(fn, *xs)


def vect(*items: Any) -> np.ndarray | ElArray:
    """`[a, b, c]`: elements converted to their promoted type (tuples and structs: all of one type,
    as the generator makes them; jlhlo refuses a literal mixing element types)."""
    if not all(is_scalar(v) for v in items):
        return ElArray.of(list(items), (len(items),))
    t = promote_type(*(jtype(v) for v in items))
    return _fresh(np.array([convert(t, v) for v in items], dtype=_NP[t]))


def comp(fn: Callable[..., Any], *iters: Any) -> np.ndarray:
    """A comprehension: one dimension per iterator (the array's own shape for a single array
    iterator), the first iterator varying fastest."""
    if len(iters) == 1 and isinstance(iters[0], np.ndarray):
        shape = iters[0].shape
        vals = [fn(v) for v in loop(iters[0])]
        order = "F"
    else:
        lists = [list(loop(it)) for it in iters]
        shape = tuple(len(x) for x in lists)
        vals = []
        for idx in np.ndindex(*shape[::-1]):       # last iterator outermost: the first varies fastest
            vals.append(fn(*(lists[d][idx[len(shape) - 1 - d]] for d in range(len(shape)))))
        order = "F"
    if not vals:
        raise Unmodelled("an empty comprehension (its element type comes from inference)")
    return _array_of(vals, shape, order)


# ----------------------------------------------------------------------------- structs
def struct_type(name: str, fields: tuple[str, ...], field_types: tuple[str | None, ...]) -> type:
    """A Python class for an immutable Julia struct; the default constructor converts each
    argument to a concretely typed field's type (as Julia's does) and keeps parametric ones."""

    def __init__(self: Any, *args: Any) -> None:
        if len(args) != len(fields):
            raise ModelError(f"{name} takes {len(fields)} fields")
        for fname, ft, v in zip(fields, field_types, args):
            object.__setattr__(self, fname, convert(ft, v) if ft is not None and is_scalar(v) else v)

    def __setattr__(self: Any, key: str, value: Any) -> None:
        raise Undefined(f"setfield!: immutable struct of type {name} cannot be changed")

    return type(name, (), {"__init__": __init__, "__setattr__": __setattr__, "__slots__": fields,
                           "_jl_fields": fields, "_jl_types": field_types})


# ----------------------------------------------------------------------------- arrays of tuples and structs
@dataclass(frozen=True)
class NTType:
    """The type of a named tuple: its names and item types (`valtype`s)."""
    names: tuple[str, ...]
    types: tuple[Any, ...]


_NT_CLASSES: dict[tuple[str, ...], type] = {}


def named_tuple(names: tuple[str, ...], *values: Any) -> tuple:
    """`(a = x, b = y)`: a Python namedtuple (so it indexes, iterates and compares as a tuple)."""
    if names not in _NT_CLASSES:
        _NT_CLASSES[names] = namedtuple("NamedTuple_" + "_".join(names), names)
    return _NT_CLASSES[names](*values)


def _is_struct(x: Any) -> bool:
    return hasattr(type(x), "_jl_fields")


def valtype(v: Any) -> Any:
    """The Julia type of a value, as the reference spells element types: a number type's name, a
    tuple of item types for a tuple, an `NTType`, or a struct's class."""
    if is_scalar(v):
        return jtype(v)
    if isinstance(v, tuple) and hasattr(v, "_fields"):
        return NTType(tuple(v._fields), tuple(valtype(x) for x in v))
    if isinstance(v, tuple):
        return tuple(valtype(x) for x in v)
    if _is_struct(v):
        return type(v)
    raise ModelError(f"not an array element: {v!r}")


def convert_value(t: Any, v: Any) -> Any:
    """Julia's `convert(t, v)` for a value stored into an array of t (`setindex!`): numbers
    converted, tuples and named tuples item by item; a struct must already be a t."""
    if isinstance(t, str):
        return convert(t, v)
    if isinstance(t, NTType):
        if not (isinstance(v, tuple) and getattr(v, "_fields", None) == t.names):
            raise ModelError(f"storing {v!r} into an array of NamedTuple{t.names}")
        return named_tuple(t.names, *(convert_value(ft, x) for ft, x in zip(t.types, v)))
    if isinstance(t, tuple):
        if not isinstance(v, tuple) or hasattr(v, "_fields") or len(v) != len(t):
            raise ModelError(f"storing {v!r} into an array of {len(t)}-tuples")
        return tuple(convert_value(ft, x) for ft, x in zip(t, v))
    if type(v) is not t:
        raise ModelError(f"storing {v!r} into an array of {t.__name__}")
    return v


def _poison(t: Any) -> Any:
    """An element of type t that shows where an uninitialized one is read (as `similar`)."""
    if isinstance(t, str):
        return _NP[t]({Int64: -7777777, Bool: True}.get(t, math.nan))
    if isinstance(t, NTType):
        return named_tuple(t.names, *(_poison(x) for x in t.types))
    if isinstance(t, tuple):
        return tuple(_poison(x) for x in t)
    if None in t._jl_types:
        raise ModelError(f"an uninitialized array of the parametric struct {t.__name__}")
    return t(*(_poison(x) for x in t._jl_types))


class ElArray:
    """An array of tuples, named tuples or structs of numbers: `items`, an object ndarray (in
    column-major order, as Julia's arrays), every element of type `eltype` (a `valtype`)."""

    def __init__(self, items: np.ndarray, eltype: Any):
        self.items, self.eltype = items, eltype

    @classmethod
    def of(cls, vals: list[Any], shape: tuple[int, ...], order: str = "F") -> ElArray:
        """The array of vals (laid out in shape in `order`), which must all have one type."""
        types = list(dict.fromkeys(valtype(v) for v in vals))
        if len(types) != 1:
            raise ModelError(f"an array of tuples/structs with mixed element types {types}")
        flat = np.empty(len(vals), dtype=object)
        for k, v in enumerate(vals):
            flat[k] = v
        return cls(flat.reshape(shape, order=order).copy(order="F"), types[0])

    @property
    def shape(self) -> tuple[int, ...]:
        return self.items.shape

    def __len__(self) -> int:
        return self.items.size

    def __iter__(self) -> Iterator[Any]:
        """In column-major order, each element read when its iteration starts (so a loop sees the
        writes of its earlier iterations)."""
        for k in range(self.items.size):
            yield self.items[np.unravel_index(k, self.items.shape, order="F")]


def push(vals: list[Any], t: str, x: Any) -> None:
    """`push!(v, x)` onto a Vector{t}: x converted as push! converts (InexactError: Undefined)."""
    vals.append(convert(t, x))


def pushed(vals: list[Any], t: str) -> np.ndarray:
    """The Vector{t} that pushes built."""
    return _fresh(np.array(vals, dtype=_NP[t]))


def _array_of(vals: list[Any], shape: tuple[int, ...], order: str) -> np.ndarray | ElArray:
    """The new array holding vals (a comprehension's or a broadcast's results, laid out in shape
    in `order`): numbers in a typed ndarray, tuples and structs in an `ElArray`."""
    if not all(is_scalar(v) for v in vals):
        return ElArray.of(vals, shape, order)
    types = {jtype(v) for v in vals}
    if len(types) != 1:
        raise ModelError(f"an array with mixed element types {types}")
    return _fresh(np.array(vals, dtype=_NP[types.pop()]).reshape(shape, order=order))


def undef_array(t: Any, *dims: Any) -> ElArray:
    """`Vector{T}(undef, n)`: elements unset (poisoned) until written."""
    shape = _dims(dims)
    return ElArray.of([_poison(t)] * int(np.prod(shape)), shape)


def _array_eq(a: Any, b_: Any) -> np.bool_:
    """Array `==`: the same axes, then `==` element by element until the first false."""
    if not (isinstance(a, ElArray) and isinstance(b_, ElArray)):
        raise ModelError("== of an array of tuples/structs with something else")
    if a.shape != b_.shape:
        return b(False)
    return b(all(eq(x, y) for x, y in zip(a, b_)))


def _struct_eq(a: Any, b_: Any) -> np.bool_:
    """`==` of structs is Base's fallback `===`: the same type and every field egal (bitwise:
    -0.0 differs from 0.0). A NaN field's bits are unspecified (XLA and NumPy make different
    NaNs), and two floats that differ only by rounding noise make the answer fragile."""
    if type(a) is not type(b_):
        return b(False)
    for name in type(a)._jl_fields:
        x, y = getattr(a, name), getattr(b_, name)
        if jtype(x) in (Float32, Float64):
            if math.isnan(float(x)) or math.isnan(float(y)):
                raise Unmodelled("=== of structs holding NaN (its bits are unspecified)")
            _check_fragile(float(x), float(y), jtype(x))
        if not egal(x, y):
            return b(False)
    return b(True)


def first(x: Any) -> Any:
    vals = _elements(x)
    if not vals:
        raise Undefined("BoundsError: first of an empty collection")
    return vals[0]


def last(x: Any) -> Any:
    vals = _elements(x)
    if not vals:
        raise Undefined("BoundsError: last of an empty collection")
    return vals[-1]


def tuple_(*items: Any) -> tuple:
    """`tuple(a, b)` (broadcast as `tuple.(x, y)`)."""
    return tuple(items)


class Zip:
    """`zip(x, y)` of vectors: `(x[k], y[k])`, read when iteration k starts, up to the shortest."""

    def __init__(self, *xs: Any):
        self.xs = xs

    def __len__(self) -> int:
        return min(len(x) for x in self.xs)

    def __iter__(self) -> Iterator[tuple]:
        for k in range(len(self)):
            yield tuple(getindex(x, i(k + 1)) for x in self.xs)


def zip_(*xs: Any) -> Zip:
    return Zip(*xs)


def enumerate_(x: Any) -> Iterator[tuple]:
    """`enumerate(ps)`: `(k, ps[k])`, the element read when iteration k starts."""
    if not isinstance(x, ElArray):
        raise ModelError("enumerate is only generated over arrays of tuples/structs")
    for k, v in enumerate(x):
        yield i(k + 1), v
