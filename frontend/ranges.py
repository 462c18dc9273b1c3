"""Ranges with Julia's semantics: `a:b`, `a:s:b`, Base's `range`, `LinRange` and `StepRangeLen`, their
length, their k-th element, their sum, and collecting them into vectors.

An integer range is normalised when it is made: its `stop` is the last element it reaches. A float
range carries a plan (`RangeV.plan`, described at `_kind`) saying how its elements are computed, and
Julia's first(r), step(r) and last(r) (`last(0.0:0.3:1.0)` is 0.9, its last element). Base builds
every float range but `LinRange` as a StepRangeLen (twice-precision for Float64) whose reference,
step and offset its constructors choose by exact-ratio approximations (`rat`): the second half of
this module replays those constructors operation by operation, so that a range with constant
arguments has Julia's elements bit for bit (computed here, and kept as a table or as the exact-ratio
formula `(start_n + k*step_n)/den` when that gives the same bits). For run-time arguments the prelude
computes the same plan in the program (`_float_range_plan` for `a:s:b`, prelude/ranges.jl for the
others), and the elements are computed by the program with the same operations, kept from being
fused into multiply-adds.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from fractions import Fraction
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
from jax.extend.mlir.dialects import stablehlo as hlo

from ..core import builder as B
from . import ast as A
from . import hlo as H
from .diagnostics import StaticValueNeeded
from .registry import NoMethod, prim
from .scalars import arith, as_ir, as_py, convert_scalar, ifelse, make_tuple
from .types import FLOAT64, INT64, ArrayT, RangeT, Scalar, promote
from .unions import checked_member
from .values import ArrayV, Box, LaneConflict, RangeV, ScalarV, TupleV, Value

if TYPE_CHECKING:
    from .context import Lowering

# a constant float range up to this length is collected, and indexed, as a table of its elements; a
# longer one computes them in the program
MAX_LITERAL_TABLE = 1 << 16


def make_range(fl: Lowering, start: Value, step: Value | None, stop: Value, node: A.Node) -> RangeV:
    bounds = [start, stop] if step is None else [start, step, stop]
    for k, v in enumerate(bounds):       # `a:b` with `b === nothing` is a MethodError when it runs
        shown = ", ".join("::Nothing" if j == k else "::" + getattr(u.t, "inner", u.t).julia()
                          for j, u in enumerate(bounds))
        bounds[k] = checked_member(fl, v, node, f"MethodError: no method matching (::Colon)({shown})")
    start, stop, step = bounds[0], bounds[-1], None if step is None else bounds[1]
    for v in (start, stop, step):
        if v is not None and not isinstance(v, ScalarV):
            raise fl.error(f"range bounds must be numbers, got {v.t.julia()}", node)
    if step is None:
        step = ScalarV(promote(start.t, stop.t), 1)
    t = promote(promote(start.t, stop.t), step.t)
    if t.info.kind == "bool":
        t = INT64
    start, stop, step = (convert_scalar(fl, v, t) for v in (start, stop, step))
    if step.is_const and step.const == 0:
        raise fl.error("ArgumentError: range step cannot be zero", node)
    if t.info.is_integer:
        # normalise stop to the last element reached: start + fld(stop - start, step) * step
        if start.is_const and step.is_const and stop.is_const:
            n = max(0, (stop.const - start.const) // step.const + 1)   # floor division: empty when reversed
            stop = ScalarV(t, start.const + (n - 1) * step.const)
        elif not (step.is_const and step.const == 1):
            diff = arith(fl, "-", stop, start)
            fld = arith(fl, "÷", arith(fl, "-", diff, arith(fl, "mod", diff, step)), step)
            stop = arith(fl, "+", start, arith(fl, "*", fld, step))
        return RangeV(RangeT(t), start, step, stop)
    if not t.info.is_float:
        raise fl.error(f"ranges of {t.name} are not supported", node)
    if all(v.is_const for v in (start, step, stop)):
        T = _NP[t.name]
        try:
            return const_range(fl, t, colon(T, T(start.const), T(step.const), T(stop.const)), node, ratio_ok=True)
        except (RangeError, OverflowError, ValueError):     # round(Int, Inf) in Base's length
            shown = ":".join({"inf": "Inf", "-inf": "-Inf", "nan": "NaN"}.get(repr(v.const), repr(v.const))
                             for v in (start, step, stop))
            raise fl.error(f"InexactError: the length of {shown} is not an Int64", node) from None
    # run-time ends: the prelude decides the length and the exact-decimal form, as Base does
    plan = fl.call_function("_float_range_plan", [start, step, stop], {}, node)
    assert isinstance(plan, TupleV)
    r = RangeV(RangeT(t), start, step, stop, plan=plan)
    return _with_ends(fl, r)


def _with_ends(fl: Lowering, r: RangeV) -> RangeV:
    """Julia's first(r) and last(r) of a StepRangeLen are its elements 1 and length(r) (`last(0:0.3:1)`
    is 0.9), computed as every element is."""
    n = range_length(fl, r)
    first = range_element(fl, r, ScalarV(INT64, 0))
    last = range_element(fl, r, arith(fl, "-", n, ScalarV(INT64, 1)))
    return RangeV(r.t, first, r.step, last, plan=r.plan)


@lru_cache(maxsize=1024)
def float_range_plan(start: float, step: float, stop: float, name: str) -> tuple[int, tuple[int, int, int] | None]:
    """Base's `(:)(start::T, step::T, stop::T)` for floats T, at compile time: the length, and
    (start_n, step_n, den) when the elements are the exact decimals (start_n + k*step_n) / den."""
    T = np.dtype(Scalar(name).info.np).type
    start, step, stop = T(start), T(step), T(stop)
    with np.errstate(all="ignore"):
        step_n, step_d = _rat(step)
        if step_d != 0 and T(step_n / step_d) == step:
            start_n, start_d = _rat(start)
            stop_n, stop_d = _rat(stop)
            if start_d != 0 and stop_d != 0 and T(start_n / start_d) == start and T(stop_n / stop_d) == stop:
                den = math.lcm(start_d, step_d)
                m = float(2 ** (np.finfo(T).nmant + 1))                 # maxintfloat(T)
                if den != 0 and abs(start * T(den)) <= m and abs(step * T(den)) <= m \
                        and den % start_d == 0 and den % step_d == 0:
                    start_n = int(np.rint(start * T(den)))
                    step_n = int(np.rint(step * T(den)))
                    length = max(0, _trunc_div(den * stop_n - stop_d * start_n + step_n * stop_d, step_n * stop_d))
                    if _between(start, start + T(length - 1) * step, stop + step / T(2)) and \
                            not _between(start, start + T(length) * step, stop):
                        return length, (start_n, step_n, den)
        lf = (stop - start) / step
        if lf < 0 or math.isnan(lf):
            length = 0
        elif lf == 0:
            length = 1
        else:
            length = int(np.rint(lf)) + 1
            last = start + T(length - 1) * step
            length -= int(start < stop < last) + int(start > stop > last)
    return length, None


def _rat(x) -> tuple[int, int]:
    """Base.rat: a continued-fraction approximation num/den of x, with num and den below
    maxintfloat of the next narrower float type."""
    T = type(x)
    m = {np.float64: 2.0 ** 24, np.float32: 2.0 ** 11, np.float16: 2.0 ** 11}[T]
    y = x
    a = d = 1
    b = c = 0
    while abs(y) <= m:
        f = int(y)                     # trunc
        y = T(y - T(f))
        a, c = f * a + c, a
        b, d = f * b + d, b
        if max(abs(a), abs(b)) > m:
            return c, d
        if T(a) / T(b) == x:
            break
        y = T(1) / y
    return a, b


def _trunc_div(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def _between(a, x, b) -> bool:
    return a <= x <= b or b <= x <= a


def range_length(fl: Lowering, r: RangeV) -> ScalarV:
    """The number of elements."""
    t = r.t.elt
    if t.info.is_float:
        return r.plan.items[0]
    (b1, k1), (b2, k2) = r.start.affine(), r.stop.affine()
    if b1 is b2 and not r.start.is_const and r.step.is_const:
        return ScalarV(INT64, max(0, (k2 - k1) // r.step.const + 1))      # i:i+k
    n = arith(fl, "+", arith(fl, "÷", arith(fl, "-", r.stop, r.start), r.step), ScalarV(t, 1))
    return arith(fl, "convert", arith(fl, "max", n, ScalarV(t, 0)), ScalarV(INT64, 0))


def range_element(fl: Lowering, r: RangeV, k: ScalarV) -> ScalarV:
    """The (k+1)-th element, k counted from 0 (Base's unsafe_getindex(r, k+1))."""
    t = r.t.elt
    if t.info.is_integer:
        return arith(fl, "+", r.start, arith(fl, "*", convert_scalar(fl, k, t), r.step))
    kind = _kind(r.plan)
    if all(i.is_const for i in r.plan.items):
        if k.is_const:
            return ScalarV(t, as_py(_values(r, np.array([k.const], dtype=np.int64))[0]))
        n = r.plan.items[0].const
        if kind != "ratio" and 0 < n <= MAX_LITERAL_TABLE:   # k counts the range's own elements
            table = H.array_constant(t, _values(r, np.arange(n, dtype=np.int64)))
            return ScalarV(t, None, B.gather_1d(table, H.convert(fl.materialize(k), INT64)), k.batch)
    return _ELEMENT[kind](fl, r, convert_scalar(fl, k, INT64))


def collect_range(fl: Lowering, r: RangeV, node: A.Node) -> ArrayV:
    """The vector of a range's elements (its length must be known when compiling)."""
    n = range_length(fl, r)
    if n.batch:
        raise LaneConflict()           # a range per lane: an array per element
    if not n.is_const:
        raise StaticValueNeeded("collecting a range whose length depends on run-time values is not supported "
                                "(arrays have static sizes)", node.span)
    t = r.t.elt
    if t.info.is_float and _kind(r.plan) != "ratio" and all(i.is_const for i in r.plan.items) \
            and n.const <= MAX_LITERAL_TABLE:
        values = _values(r, np.arange(n.const, dtype=np.int64))
        return ArrayV(ArrayT(t, (n.const,)), Box(H.array_constant(t, values)))
    k = ScalarV(INT64, None, H.iota(INT64, (n.const,), 0), (n.const,))
    element = range_element(fl, r, k)
    return ArrayV(ArrayT(t, (n.const,)), Box(B.broadcast(element.ir, (n.const,))))


# ---- a float range's plan: how its elements are computed (`RangeV.plan`, a tuple of scalars whose first
# item is the length). By its items:
#   (len, start_n, step_n, den), integers ("ratio"): element k is the nearest float to (start_n + k*step_n)/den
#       (den == 0: start + k*step taken literally, as Base's fallback does; Float32 computes it in Float64)
#   (len, ref, step, offset), floats ("plain"): T(ref + (k+1-offset)*step), a StepRangeLen{T,R,R} with plain R
#   (len, ref_hi, ref_lo, step_hi, step_lo, offset) ("tp"): Base's TwicePrecision StepRangeLen{Float64}
#   (len, start, stop) ("lin"): LinRange{T}, Base's lerpi
def _kind(plan: TupleV) -> str:
    n = len(plan.items)
    if n == 3:
        return "lin"
    if n == 6:
        return "tp"
    return "plain" if plan.items[1].t.info.is_float else "ratio"


def _model(r: RangeV) -> Srl | Lin | None:
    """The range a constant plan describes, to compute its elements here."""
    items = [i.const for i in r.plan.items]
    T = _NP[r.t.elt.name]
    kind = _kind(r.plan)
    if kind == "lin":
        return Lin(T, items[1], items[2], items[0])
    if kind == "tp":
        return Srl(T, True, np.float64, (items[1], items[2]), (items[3], items[4]), items[0], items[5])
    if kind == "plain":
        return Srl(T, False, _NP[r.plan.items[1].t.name], (items[1], 0.0), (items[2], 0.0), items[0], items[3])
    return None


def _values(r: RangeV, k: np.ndarray) -> np.ndarray:
    """Elements k (from 0) of a range whose plan is constant, as the compiled program computes them."""
    m = _model(r)
    if isinstance(m, Lin):
        return lin_values(m, k + 1)
    if isinstance(m, Srl):
        return srl_values(m, k + 1)
    T = _NP[r.t.elt.name]
    _, start_n, step_n, den = (i.const for i in r.plan.items)
    with np.errstate(all="ignore"):
        if den != 0:
            return (np.array([float(start_n + int(j) * step_n) for j in k]) / np.float64(float(den))).astype(T)
        return (np.float64(r.start.const) + k.astype(np.float64) * np.float64(r.step.const)).astype(T)


def _f64(fl: Lowering, v: ScalarV) -> ScalarV:
    return convert_scalar(fl, v, FLOAT64)


def _opaque(t: Scalar, value: float, batch: tuple[int, ...]):
    """A constant that XLA's simplifier cannot fold into its neighbours."""
    return hlo.OptimizationBarrierOp([H.constant(t, value, batch)]).results[0]


def _mul(fl: Lowering, a: ScalarV, b: ScalarV) -> ScalarV:
    """a*b rounded, as Julia computes it, also where an addition uses it: XLA's CPU and GPU code generators
    contract `a*b + c` into one fused multiply-add (one rounding, not Julia's two). Computed as
    (a * (b/2)) * 2: halving and doubling are exact, so the product is rounded exactly once, and a
    contraction of the doubling with the addition adds the exact 2*(a*b/2) (barring subnormal products)."""
    if a.is_const and b.is_const:
        return arith(fl, "*", a, b)
    t = promote(a.t, b.t)
    a, b = convert_scalar(fl, a, t), convert_scalar(fl, b, t)
    batch = a.batch or b.batch
    half = arith(fl, "*", b, ScalarV(t, 0.5))
    q = hlo.multiply(as_ir(fl, a, t, batch), as_ir(fl, half, t, batch))
    return ScalarV(t, None, hlo.multiply(q, _opaque(t, 2.0, batch)), batch)


def _div(fl: Lowering, a: ScalarV, b: ScalarV) -> ScalarV:
    """a/b rounded as IEEE divides: a divisor broadcast over lanes is hidden from XLA, which would
    multiply by its reciprocal instead."""
    if (a.is_const and b.is_const) or not (a.batch or b.batch):
        return arith(fl, "/", a, b)
    t = promote(a.t, b.t)
    batch = a.batch or b.batch
    divisor = hlo.OptimizationBarrierOp([as_ir(fl, convert_scalar(fl, b, t), t, batch)]).results[0]
    return ScalarV(t, None, hlo.divide(as_ir(fl, convert_scalar(fl, a, t), t, batch), divisor), batch)


def _abs(v: ScalarV) -> ScalarV:
    return ScalarV(v.t, abs(v.const)) if v.is_const else ScalarV(v.t, None, hlo.abs(v.ir), v.batch)


def _ratio_element(fl: Lowering, r: RangeV, k: ScalarV) -> ScalarV:
    t = r.t.elt
    _, start_n, step_n, den = r.plan.items
    exact = _div(fl, _f64(fl, arith(fl, "+", start_n, arith(fl, "*", k, step_n))), _f64(fl, den))
    literal = arith(fl, "+", _f64(fl, r.start), _mul(fl, _f64(fl, k), _f64(fl, r.step)))
    return convert_scalar(fl, ifelse(fl, arith(fl, "!=", den, ScalarV(INT64, 0)), exact, literal), t)


def _plain_element(fl: Lowering, r: RangeV, k: ScalarV) -> ScalarV:
    _, ref, step, offset = r.plan.items
    u = arith(fl, "-", arith(fl, "+", k, ScalarV(INT64, 1)), offset)
    return convert_scalar(fl, arith(fl, "+", ref, _mul(fl, convert_scalar(fl, u, ref.t), step)), r.t.elt)


def _tp_element(fl: Lowering, r: RangeV, k: ScalarV) -> ScalarV:
    _, ref_hi, ref_lo, step_hi, step_lo, offset = r.plan.items
    u = _f64(fl, arith(fl, "-", arith(fl, "+", k, ScalarV(INT64, 1)), offset))
    shift_hi, shift_lo = _mul(fl, u, step_hi), _mul(fl, u, step_lo)
    swap = arith(fl, ">", _abs(shift_hi), _abs(ref_hi))
    big, little = ifelse(fl, swap, shift_hi, ref_hi), ifelse(fl, swap, ref_hi, shift_hi)
    h = arith(fl, "+", big, little)
    lo = arith(fl, "+", arith(fl, "-", big, h), little)
    value = arith(fl, "+", h, arith(fl, "+", lo, arith(fl, "+", shift_lo, ref_lo)))
    return convert_scalar(fl, value, r.t.elt)


def _lin_element(fl: Lowering, r: RangeV, k: ScalarV) -> ScalarV:
    n, start, stop = r.plan.items
    lendiv = arith(fl, "max", arith(fl, "-", n, ScalarV(INT64, 1)), ScalarV(INT64, 1))
    t = _div(fl, _f64(fl, k), _f64(fl, lendiv))
    one_minus = arith(fl, "-", ScalarV(FLOAT64, 1.0), t)
    value = arith(fl, "+", _mul(fl, one_minus, _f64(fl, start)), _mul(fl, t, _f64(fl, stop)))
    return convert_scalar(fl, value, r.t.elt)


_ELEMENT = {"ratio": _ratio_element, "plain": _plain_element, "tp": _tp_element, "lin": _lin_element}


def const_range(fl: Lowering, t: Scalar, m: Srl | Lin, node: A.Node | None, ratio_ok: bool = False) -> RangeV:
    """The range value of a range built at compile time: its plan, and Julia's first, step and last. With
    `ratio_ok` (`a:s:b`, whose exact-ratio plan gives back Base's range through `_floatrange`), an exact-ratio
    range whose elements the integer formula reproduces keeps that cheaper plan."""
    T = _NP[t.name]
    if isinstance(m, Lin):
        items = [ScalarV(INT64, m.length), ScalarV(t, as_py(T(m.start))), ScalarV(t, as_py(T(m.stop)))]
        first, step, last = T(m.start), lin_step(m), T(m.stop)
    else:
        first, last = srl_values(m, np.array([1, m.length]))
        step = srl_step(m)
        if ratio_ok and _ratio_matches(m):
            items = [ScalarV(INT64, v) for v in (m.length, *m.ratio)]
        elif m.tp:
            items = [ScalarV(INT64, m.length), *(ScalarV(FLOAT64, float(v)) for v in (*m.ref, *m.step)),
                     ScalarV(INT64, m.offset)]
        else:
            c = Scalar(_NAME[m.calc])
            items = [ScalarV(INT64, m.length), ScalarV(c, as_py(m.calc(m.ref[0]))),
                     ScalarV(c, as_py(m.calc(m.step[0]))), ScalarV(INT64, m.offset)]
    return RangeV(RangeT(t), ScalarV(t, as_py(T(first))), ScalarV(t, as_py(T(step))), ScalarV(t, as_py(T(last))),
                  plan=make_tuple(items))


_NAME = {np.float64: "Float64", np.float32: "Float32", np.float16: "Float16"}


def _ratio_matches(m: Srl) -> bool:
    """Whether (start_n + k*step_n)/den, computed in integers and one Float64 division as the compiled
    program would, gives every element of the range as Base does: then that is the cheaper plan."""
    if m.ratio is None or m.ratio[2] == 0 or m.length > MAX_VERIFIED or m.length == 0:
        return False
    start_n, step_n, den = m.ratio
    if max(abs(start_n), abs(start_n + (m.length - 1) * step_n), abs(den)) >= 2 ** 63:
        return False
    k = np.arange(m.length, dtype=np.int64)
    with np.errstate(all="ignore"):
        ours = ((np.int64(start_n) + k * np.int64(step_n)).astype(np.float64) / np.float64(float(den))).astype(m.elt)
    base = srl_values(m, k + 1)
    return bool(np.array_equal(ours.view(_UINT[m.elt]), base.view(_UINT[m.elt])))


# a longer exact-ratio range keeps Base's own form rather than being checked element by element
MAX_VERIFIED = 1 << 20


__all__ = ["make_range", "float_range_plan", "range_length", "range_element", "collect_range"]


# ============================================================================ Base's float ranges, bit for bit
# Julia builds every float range but `LinRange` as a StepRangeLen: element i is `T(ref + (i-offset)*step)`.
# For Float64 `ref` and `step` are TwicePrecision (hi, lo) pairs, `step.hi` with enough trailing zero
# bits that `(i-offset)*step.hi` is exact, and the element is Base's `unsafe_getindex`
# `T(x_hi + (x_lo + (shift_lo + ref.lo)))` with `x_hi, x_lo = add12(ref.hi, shift_hi)`; for Float32 and
# Float16 `ref` and `step` are plain Float64s. Which ref/step/offset a constructor picks is Base's
# (base/twiceprecision.jl: `floatrange`, `_linspace`, `steprangelen_hp`, `rat`), replayed here operation
# by operation in the same IEEE types, so that the elements are Julia's exactly.
_NP = {"Float64": np.float64, "Float32": np.float32, "Float16": np.float16}
_UINT = {np.float64: np.uint64, np.float32: np.uint32, np.float16: np.uint16}
_PRECISION = {np.float64: 53, np.float32: 24, np.float16: 11}
_MAXINT = {np.float64: 2 ** 53, np.float32: 2 ** 24, np.float16: 2 ** 11}     # maxintfloat(T, Int)


class RangeError(Exception):
    """Base throws this error (its message, with the exception's name) for these arguments."""


@dataclass(frozen=True)
class Srl:
    """Julia's `StepRangeLen{T,R,S}` for a float T: with `tp`, R = S = TwicePrecision{Float64} and `ref`,
    `step` are (hi, lo) pairs; otherwise R = S = `calc` (Float64, or T itself) and only `[0]` is used."""
    elt: type
    tp: bool
    calc: type
    ref: tuple[float, float]
    step: tuple[float, float]
    length: int
    offset: int
    ratio: tuple[int, int, int] | None = None      # element k is also (ratio[0] + k*ratio[1]) / ratio[2]


@dataclass(frozen=True)
class Lin:
    """Julia's `LinRange{T}`: element i is `lerpi(i-1, lendiv, start, stop)`."""
    elt: type
    start: float
    stop: float
    length: int

    @property
    def lendiv(self) -> int:
        return 1 if self.length == 1 else max(self.length - 1, 1)


def _truncbits(x, nb: int):
    """Base.truncbits: clear the low nb bits of x's representation."""
    T = type(x)
    if nb <= 0:
        return x
    U = _UINT[T]
    bits = np.array(x, dtype=T).view(U)
    mask = U(((1 << (8 * bits.itemsize)) - 1) ^ ((1 << nb) - 1))
    return T((bits & mask).view(T)[()])


def _t64(x: float, nb: int) -> float:
    return float(_truncbits(np.float64(x), nb))


def _fdiv(a: int, b: int) -> np.float64:
    """Julia's `a/b` of two integers: Float64(a) / Float64(b)."""
    with np.errstate(all="ignore"):
        return np.float64(float(a)) / np.float64(float(b))


def _round_int(x) -> int:
    """round(Int, x): to nearest, ties to even."""
    if not math.isfinite(float(x)):
        raise RangeError(f"InexactError: Int64({float(x)!r})")
    return int(np.rint(x))


def _jmax(a, b):
    return a if (a > b or math.isnan(a)) else b if (b > a or math.isnan(b)) else (b if math.copysign(1, a) < 0 else a)


def _jmin(a, b):
    return a if (a < b or math.isnan(a)) else b if (b < a or math.isnan(b)) else (a if math.copysign(1, a) < 0 else b)


def _wrap64(v: int) -> int:
    return (v + (1 << 63)) % (1 << 64) - (1 << 63)


def _lcm_unchecked(a: int, b: int) -> int:
    g = math.gcd(a, b)
    return 0 if g == 0 else _wrap64(a * _trunc_div(b, g))


def _nbitslen(T, length: int, offset: int) -> int:
    if length < 2:
        return 0
    return min(-(-_PRECISION[T] // 2), (max(offset - 1, length - offset) - 1).bit_length() + 1)


# ---- TwicePrecision{Float64} arithmetic (Python floats are IEEE doubles)
def _canonicalize2(big: float, little: float) -> tuple[float, float]:
    h = big + little
    return h, (big - h) + little


def _add12(x: float, y: float) -> tuple[float, float]:
    if abs(y) > abs(x):
        x, y = y, x
    return _canonicalize2(x, y)


def _fma(x: float, y: float, z: float) -> float:
    return float(Fraction(x) * Fraction(y) + Fraction(z))


def _mul12(x: float, y: float) -> tuple[float, float]:
    h = x * y
    if h == 0 or not math.isfinite(h):
        return h, h
    return _canonicalize2(h, _fma(x, y, -h))


def _tp_div(x: tuple[float, float], y: tuple[float, float]) -> tuple[float, float]:
    hi = x[0] / y[0]
    if hi == 0 or not math.isfinite(hi):
        return hi, hi
    uh, ul = _mul12(hi, y[0])
    lo = ((((x[0] - uh) - ul) + x[1]) - hi * y[1]) / y[0]
    return _canonicalize2(hi, lo)


def _tp_int(i: int) -> tuple[float, float]:
    """TwicePrecision{Float64}(i::Integer), by Base.splitprec."""
    hi = _t64(float(i), 27)
    return _canonicalize2(hi, float(i - int(hi)))


def _tp_ratio(n: int, d: int) -> tuple[float, float]:
    """TwicePrecision{Float64}((n, d)) = TwicePrecision(n) / Float64(d)."""
    return _tp_div(_tp_int(n), (float(d), 0.0))


def _twiceprecision(v: tuple[float, float], nb: int) -> tuple[float, float]:
    hi = _t64(v[0], nb)
    return hi, (v[0] - hi) + v[1]


def _tp_times_int(x: tuple[float, float], v: int) -> tuple[float, float]:
    """*(x::TwicePrecision, v::Integer)."""
    if v == 0:
        return x[0] * 0.0, x[1] * 0.0
    nb = math.ceil(math.log2(abs(v)))
    u = _t64(x[0], nb)
    return _canonicalize2(u * float(v), ((x[0] - u) + x[1]) * float(v))


# ---- steprangelen_hp and the constructors of twiceprecision.jl
def _hp_ratio(T, ref: tuple[int, int], step: tuple[int, int], nb: int, length: int, offset: int) -> Srl:
    if T is np.float64:
        return Srl(T, True, np.float64, _tp_ratio(*ref), _twiceprecision(_tp_ratio(*step), nb), length, offset)
    return Srl(T, False, np.float64, (float(_fdiv(*ref)), 0.0), (float(_fdiv(*step)), 0.0), length, offset)


def _hp_float(T, ref, step, nb: int, length: int, offset: int) -> Srl:
    """steprangelen_hp(T, ref, step, ...) with ref and step a float of T or a (hi, lo) pair of them."""
    if T is np.float64:
        return Srl(T, True, np.float64, _pair(ref), _twiceprecision(_pair(step), nb), length, offset)
    return Srl(T, False, np.float64, (_as64(ref), 0.0), (_as64(step), 0.0), length, offset)


def _pair(x) -> tuple[float, float]:
    return (float(x[0]), float(x[1])) if isinstance(x, tuple) else (float(x), 0.0)


def _as64(x) -> float:
    """Base.asF64: a float, or the sum of a (hi, lo) pair, in Float64."""
    return float(np.float64(x[0]) + np.float64(x[1])) if isinstance(x, tuple) else float(x)


def _floatrange(T, start_n: int, step_n: int, length: int, den: int) -> Srl:
    if length < 2 or step_n == 0:
        return replace(_hp_ratio(T, (start_n, den), (step_n, den), 0, length, 1), ratio=(start_n, step_n, den))
    imin = min(max(_round_int(_fdiv(-start_n, step_n) + 1.0), 1), length)
    ref_n = start_n + (imin - 1) * step_n
    srl = _hp_ratio(T, (ref_n, den), (step_n, den), _nbitslen(T, length, imin), length, imin)
    return replace(srl, ratio=(start_n, step_n, den))


def _linspace1(T, start, stop, length: int) -> Srl:
    if length < 0:
        raise RangeError("ArgumentError: negative length")
    if length == 1 and start != stop:
        raise RangeError("ArgumentError: endpoints differ")
    if T is np.float64:
        return Srl(T, True, np.float64, (float(start), 0.0), (float(start), -float(stop)), length, 1)
    return Srl(T, False, np.float64, (float(start), 0.0), (float(np.float64(start) - np.float64(stop)), 0.0),
               length, 1)


def _linspace_ratio(T, start_n: int, stop_n: int, length: int, den: int) -> Srl:
    """_linspace(T, start_n, stop_n, len, den): from start_n/den to stop_n/den."""
    if length < 2:
        return _linspace1(T, _fdiv(start_n, den), _fdiv(stop_n, den), length)
    if start_n == stop_n:
        return _hp_ratio(T, (start_n, den), (0, den), 0, length, 1)
    with np.errstate(all="ignore"):
        tmin = np.float64(float(-start_n)) / (np.float64(float(stop_n)) - np.float64(float(start_n)))
        imin = _round_int(tmin * np.float64(length - 1) + 1.0)
    imin = min(max(imin, 1), length)
    ref_num = (length - imin) * start_n + (imin - 1) * stop_n
    ref_denom = (length - 1) * den
    return _hp_ratio(T, (ref_num, ref_denom), (stop_n - start_n, ref_denom), _nbitslen(T, length, imin), length, imin)


def _linspace_float(T, start, stop, length: int) -> Srl:
    """_linspace(start::T, stop::T, len): endpoints without an exact small ratio."""
    if not (math.isfinite(start) and math.isfinite(stop)):
        raise RangeError("ArgumentError: start and stop must be finite")
    with np.errstate(all="ignore"):
        delta, fac = stop - start, 1
        if not math.isfinite(delta):
            delta, fac = stop / T(length) - start / T(length), length
        tmin = -(start / delta) / T(fac)
        imin = _round_int(tmin * T(length - 1) + T(1))
        if 1 < imin < length:
            t = _fdiv(imin - 1, length - 1)
            ref = T((1.0 - t) * np.float64(start) + t * np.float64(stop))
            step = (ref - start) / T(imin - 1) if imin - 1 < length - imin else (stop - ref) / T(length - imin)
        elif imin <= 1:
            imin, ref, step = 1, start, (delta / T(length - 1)) * T(fac)
        else:
            imin, ref, step = length, stop, (delta / T(length - 1)) * T(fac)
        if length == 2 and not math.isfinite(step):
            return _hp_float(T, start, (-start, stop), 0, 2, 1)
        m, k = np.nextafter(np.finfo(T).max, T(0)), T(max(imin - 1, length - imin))
        lo, hi = _jmax(-(m + ref) / k, (-m + ref) / k), _jmin((m - ref) / k, (m + ref) / k)
        step_hi_pre = hi if step > hi else lo if step < lo else step
        step_hi = _truncbits(T(step_hi_pre), _nbitslen(T, length, imin))
        x1 = _add12t(T(1 - imin) * step_hi, ref)
        x2 = _add12t(T(length - imin) * step_hi, ref)
        a, b = (start - x1[0]) - x1[1], (stop - x2[0]) - x2[1]
        step_lo = (b - a) / T(length - 1)
        ref_lo = a - T(1 - imin) * step_lo
    return _hp_float(T, (ref, ref_lo), (step_hi, step_lo), 0, length, imin)


def _add12t(x, y):
    """add12 in x's own type (numpy scalars)."""
    if abs(y) > abs(x):
        x, y = y, x
    h = x + y
    return h, (x - h) + y


def linspace(T, start, stop, length: int) -> Srl:
    """Base's `range(start, stop; length)` for start, stop of the IEEE float type T."""
    start, stop = T(start), T(stop)
    if length < 2:
        return _linspace1(T, start, stop, length)
    if start == stop:
        return _hp_float(T, start, T(0), 0, length, 1)
    with np.errstate(all="ignore"):
        start_n, start_d = _rat(start)
        stop_n, stop_d = _rat(stop)
        if start_d != 0 and stop_d != 0:
            den = _lcm_unchecked(start_d, stop_d)
            m = _MAXINT[T]
            if den != 0 and abs(T(den) * start) <= m and abs(T(den) * stop) <= m:
                start_n, stop_n = _round_int(T(den) * start), _round_int(T(den) * stop)
                if T(_fdiv(start_n, den)) == start and T(_fdiv(stop_n, den)) == stop:
                    return _linspace_ratio(T, start_n, stop_n, length, den)
    return _linspace_float(T, start, stop, length)


def start_step_length(T, a, st, length: int) -> Srl:
    """Base's `range(a; step=st, length)` for a, st of the IEEE float type T."""
    a, st = T(a), T(st)
    with np.errstate(all="ignore"):
        start_n, start_d = _rat(a)
        step_n, step_d = _rat(st)
        if start_d != 0 and step_d != 0 and T(_fdiv(start_n, start_d)) == a and T(_fdiv(step_n, step_d)) == st:
            den = _lcm_unchecked(start_d, step_d)
            m = _MAXINT[T]
            if den != 0 and abs(T(den) * a) <= m and abs(T(den) * st) <= m and den % start_d == 0 \
                    and den % step_d == 0:
                return _floatrange(T, _round_int(T(den) * a), _round_int(T(den) * st), length, den)
    return _hp_float(T, a, st, 0, length, 1)


def colon(T, start, step, stop) -> Srl:
    """Base's `start:step:stop` for the IEEE float type T (the length and the choice of the exact-ratio
    form are `float_range_plan`'s)."""
    name = {np.float64: "Float64", np.float32: "Float32", np.float16: "Float16"}[T]
    length, exact = float_range_plan(float(start), float(step), float(stop), name)
    if exact is not None:
        start_n, step_n, den = exact
        return _floatrange(T, start_n, step_n, length, den)
    return _hp_float(T, T(start), T(step), 0, length, 1)


def srl_values(s: Srl, index: np.ndarray) -> np.ndarray:
    """unsafe_getindex(r, i) for 1-based indices i."""
    u = np.asarray(index, dtype=np.int64) - s.offset
    with np.errstate(all="ignore"):
        if s.tp:
            uf = u.astype(np.float64)
            shift_hi, shift_lo = uf * s.step[0], uf * s.step[1]
            swap = np.abs(shift_hi) > abs(s.ref[0])
            big, little = np.where(swap, shift_hi, s.ref[0]), np.where(swap, s.ref[0], shift_hi)
            h = big + little
            return (h + (((big - h) + little) + (shift_lo + s.ref[1]))).astype(s.elt)
        C = s.calc
        return (C(s.ref[0]) + u.astype(C) * C(s.step[0])).astype(s.elt)


def srl_step(s: Srl):
    """step(r): T(r.step)."""
    return s.elt(np.float64(s.step[0]) + np.float64(s.step[1])) if s.tp else s.elt(s.calc(s.step[0]))


def srl_sum(s: Srl):
    """Base's sum(r::StepRangeLen): a closed form, not the sum of the elements."""
    n = s.length
    np_, nn = n - s.offset, s.offset - 1
    sp, sn = _sumpair(np_), _sumpair(nn)
    if s.tp:
        tp = _tp_times_int(_tp_times_int(s.step, sp[0]), sp[1])
        tn = _tp_times_int(_tp_times_int(s.step, sn[0]), sn[1])
        s_hi, s_lo = _add12(tp[0], -tn[0])
        s_lo += tp[1] - tn[1]
        ref = _tp_times_int(s.ref, n)
        sm_hi, sm_lo = _add12(s_hi, ref[0])
        return s.elt(_add12(sm_hi, sm_lo + ref[1])[0])
    C = s.calc
    with np.errstate(all="ignore"):
        dn = sp[0] * sp[1] - sn[0] * sn[1]                 # Int128
        return s.elt(C(s.step[0]) * C(dn) + C(s.ref[0]) * C(n))


def _sumpair(n: int) -> tuple[int, int]:
    return (n + 1, n >> 1) if n % 2 == 0 else (n, (n + 1) >> 1)


def lin_values(r: Lin, index: np.ndarray) -> np.ndarray:
    """lerpi(i-1, lendiv, start, stop): t = j/d, then T((1-t)*start + t*stop) in Float64 (T's promotion
    with t)."""
    t = (np.asarray(index, dtype=np.int64) - 1).astype(np.float64) / np.float64(r.lendiv)
    with np.errstate(all="ignore"):
        return ((1.0 - t) * np.float64(r.start) + t * np.float64(r.stop)).astype(r.elt)


def lin_step(r: Lin):
    """step(r::LinRange) = (last(r) - first(r)) / lendiv, in T."""
    with np.errstate(all="ignore"):
        return (r.elt(r.stop) - r.elt(r.start)) / r.elt(r.lendiv)


def lin_sum(r: Lin):
    """Base's sum(r::AbstractRange{<:Real}): l*first(r) + step(r)*(l-1)*l/2, in T."""
    T, n = r.elt, r.length
    with np.errstate(all="ignore"):
        st = lin_step(r)
        tail = (st * T(n - 1)) * T(n >> 1) if n % 2 == 0 else (st * T(n)) * T((n - 1) >> 1)
        return T(T(n) * T(r.start) + tail)


# ============================================================================ constructors (prelude/ranges.jl)
# The prelude dispatches `range`, `LinRange` and `StepRangeLen` as Base does and checks their arguments;
# these rules build the range. With constant arguments the range is Base's, computed above; with run-time
# ones the prelude computes the same plan (`_linspace_plan`, `_start_step_length_plan`) in the program.
def _scalars(args: list[Value], n: int, lanes: bool = False) -> list[ScalarV]:
    if len(args) != n or not all(isinstance(a, ScalarV) and (lanes or not a.batch) for a in args):
        raise NoMethod()
    return args


def _built(fl: Lowering, t: Scalar, make, node: A.Node) -> RangeV:
    try:
        return const_range(fl, t, make(), node)
    except RangeError as e:
        raise NoMethod(str(e)) from None


def _runtime_range(fl: Lowering, t: Scalar, plan: Value, node: A.Node) -> RangeV:
    if not isinstance(plan, TupleV):
        raise fl.error("internal: a range plan must be a tuple", node)
    kind = _kind(plan)
    if kind == "lin":
        n, start, stop = plan.items
        lendiv = arith(fl, "max", arith(fl, "-", n, ScalarV(INT64, 1)), ScalarV(INT64, 1))
        step = arith(fl, "/", arith(fl, "-", stop, start), convert_scalar(fl, lendiv, t))
        return RangeV(RangeT(t), start, step, stop, plan=plan)      # first(r) and last(r) are its ends
    elif kind == "tp":
        step = arith(fl, "+", plan.items[3], plan.items[4])
    else:
        step = plan.items[2]
    step = convert_scalar(fl, step, t)
    return _with_ends(fl, RangeV(RangeT(t), step, step, step, plan=plan))


def _ieee(v: ScalarV) -> bool:
    return v.t.name in _NP


@prim("_build_linspace")
def _range_linspace(fl, args, kwargs, node):
    """Base's range(start, stop; length) for two IEEE floats of one type, or two integers (Float64)."""
    start, stop, n = _scalars(args, 3)
    if not n.t.info.is_integer:
        raise NoMethod()
    n = convert_scalar(fl, n, INT64)
    if start.t.info.is_integer and stop.t.info.is_integer and start.t.info.kind != "bool":
        t = FLOAT64
        if all(v.is_const for v in (start, stop, n)):
            return _built(fl, t, lambda: _linspace_ratio(np.float64, int(start.const), int(stop.const), n.const, 1),
                          node)
        start, stop = convert_scalar(fl, start, INT64), convert_scalar(fl, stop, INT64)
        plan = fl.call_function("_linspace_ratio_plan", [ScalarV(FLOAT64, 0.0), start, stop, n, ScalarV(INT64, 1)],
                                {}, node)
        return _runtime_range(fl, t, plan, node)
    if not (_ieee(start) and start.t == stop.t):
        raise NoMethod()
    t = start.t
    if all(v.is_const for v in (start, stop, n)):
        T = _NP[t.name]
        return _built(fl, t, lambda: linspace(T, T(start.const), T(stop.const), n.const), node)
    return _runtime_range(fl, t, fl.call_function("_linspace_plan", [start, stop, n], {}, node), node)


@prim("_build_start_step_length")
def _range_start_step_length(fl, args, kwargs, node):
    """Base's range(a; step, length) for a and step of one IEEE float type."""
    a, st, n = _scalars(args, 3)
    if not (_ieee(a) and a.t == st.t and n.t.info.is_integer):
        raise NoMethod()
    n, t = convert_scalar(fl, n, INT64), a.t
    if all(v.is_const for v in (a, st, n)):
        T = _NP[t.name]
        return _built(fl, t, lambda: start_step_length(T, T(a.const), T(st.const), n.const), node)
    return _runtime_range(fl, t, fl.call_function("_start_step_length_plan", [a, st, n], {}, node), node)


@prim("_build_plain")
def _range_plain(fl, args, kwargs, node):
    """StepRangeLen{T,R,S}(ref, step, len, offset) with float R and S held and computed as they are."""
    ref, st, n, offset, elt = _scalars(args, 5)
    c = promote(ref.t, st.t)
    t = elt.t
    if not (c.name in _NP and t.name in _NP and n.t.info.is_integer and offset.t.info.is_integer):
        raise NoMethod()
    ref, st = convert_scalar(fl, ref, c), convert_scalar(fl, st, c)
    n, offset = convert_scalar(fl, n, INT64), convert_scalar(fl, offset, INT64)
    if all(v.is_const for v in (ref, st, n, offset)):
        C = _NP[c.name]
        return _built(fl, t, lambda: Srl(_NP[t.name], False, C, (ref.const, 0.0), (st.const, 0.0), n.const,
                                         offset.const), node)
    return _runtime_range(fl, t, make_tuple([n, ref, st, offset]), node)


@prim("_build_lin")
def _range_lin(fl, args, kwargs, node):
    """LinRange{T}(start, stop, len) with start and stop already of the float type T."""
    start, stop, n = _scalars(args, 3)
    if not (_ieee(start) and start.t == stop.t and n.t.info.is_integer):
        raise NoMethod()
    n, t = convert_scalar(fl, n, INT64), start.t
    if all(v.is_const for v in (start, stop, n)):
        return _built(fl, t, lambda: Lin(_NP[t.name], start.const, stop.const, n.const), node)
    return _runtime_range(fl, t, make_tuple([n, start, stop]), node)


@prim("_truncbits")
def _truncbits_prim(fl, args, kwargs, node):
    """Base.truncbits(x, nb): x with the low nb bits of its representation cleared."""
    x, nb = _scalars(args, 2, lanes=True)
    if not (_ieee(x) and nb.t.info.is_integer):
        raise NoMethod()
    if x.is_const and nb.is_const and not (x.batch or nb.batch):
        return ScalarV(x.t, as_py(_truncbits(_NP[x.t.name](x.const), int(nb.const))))
    batch = x.batch or nb.batch
    bits = x.t.info.bits
    u = Scalar({16: "UInt16", 32: "UInt32", 64: "UInt64"}[bits])
    raw = hlo.bitcast_convert(H.tensor_type(u, batch), B.broadcast(fl.materialize(x), batch))
    shift = B.broadcast(H.convert(fl.materialize(nb), u), batch)
    mask = hlo.shift_left(H.constant(u, (1 << bits) - 1, batch), shift)
    return ScalarV(x.t, None, hlo.bitcast_convert(H.tensor_type(x.t, batch), hlo.and_(raw, mask)), batch)


@prim("_mul_rounded")
def _mul_rounded_prim(fl, args, kwargs, node):
    """a*b, rounded before any addition that uses it (see `_mul`)."""
    a, b = _scalars(args, 2, lanes=True)
    if not ((_ieee(a) or _ieee(b)) and all(_ieee(v) or v.t.info.is_integer for v in (a, b))):
        raise NoMethod()
    return _mul(fl, a, b)


@prim("_float_range_sum")
def _float_range_sum(fl, args, kwargs, node):
    """Base's sum of a float range: its closed form (sum(r::StepRangeLen), or sum(r::AbstractRange{<:Real})
    for a LinRange), not the sum of its elements; computed here for a constant range, by the prelude's
    `_plan_sum` otherwise."""
    (r,) = args
    if not (isinstance(r, RangeV) and r.t.elt.info.is_float):
        raise NoMethod()
    if not all(i.is_const for i in r.plan.items):
        zero = ScalarV(r.t.elt, 0.0)
        if _kind(r.plan) == "ratio":
            return fl.call_function("_colon_sum", [zero, *r.plan.items, r.start, r.step], {}, node)
        return fl.call_function("_plan_sum", [zero, *r.plan.items], {}, node)
    m = _model(r)
    if m is None:                      # a constant exact-ratio plan (of `a:s:b`): Base's range again
        n, start_n, step_n, den = (i.const for i in r.plan.items)
        m = _floatrange(_NP[r.t.elt.name], start_n, step_n, n, den)
    return ScalarV(r.t.elt, as_py(lin_sum(m) if isinstance(m, Lin) else srl_sum(m)))
