"""Ranges with Julia's semantics: `a:b`, `a:s:b`, their length, their k-th element, and collecting
them into vectors.

An integer range is normalised when it is made: its `stop` is the last element it reaches. A
float range follows Base's `(:)(start, step, stop)`: when start, step and stop are exact decimals
(ratios of small integers, as `-1.0:0.1:1.0`), every element is the nearest float to the exact
decimal, computed as `(start_n + k * step_n) / den` in integers; otherwise start and step are taken
literally, with the k-th element rounded once from `start + k * step`. For constant ends this is
decided here at compile time (`float_range_plan`); for run-time ends the prelude's
`_float_range_plan` makes the same decision at run time.
"""
from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from ..core import builder as B
from . import ast as A
from . import hlo as H
from .diagnostics import StaticValueNeeded
from .scalars import arith, convert_scalar, ifelse
from .types import INT64, ArrayT, RangeT, Scalar, promote
from .values import ArrayV, Box, LaneConflict, RangeV, ScalarV, TupleV, Value

if TYPE_CHECKING:
    from .context import Lowering

# a constant float range whose elements are not exact decimals is collected into a table of its
# elements; longer ones than this are refused rather than computed approximately
MAX_LITERAL_TABLE = 1 << 16


def make_range(fl: Lowering, start: Value, step: Value | None, stop: Value, node: A.Node) -> RangeV:
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
        return RangeV(RangeT(t), start, step, stop)
    # run-time ends: the prelude decides the length and the exact-decimal form, as Base does
    plan = fl.call_function("_float_range_plan", [start, step, stop], {}, node)
    assert isinstance(plan, TupleV)
    return RangeV(RangeT(t), start, step, stop, plan=plan)


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


def _float_element(plan: tuple[int, tuple[int, int, int] | None], start: float, step: float, k: int, T) -> float:
    if plan[1] is not None:
        start_n, step_n, den = plan[1]
        return float(T(Fraction(start_n + k * step_n, den)))
    return float(T(Fraction(float(start)) + k * Fraction(float(step))))


def range_length(fl: Lowering, r: RangeV) -> ScalarV:
    """The number of elements."""
    t = r.t.elt
    if t.info.is_float:
        if r.plan is not None:
            return r.plan.items[0]
        return ScalarV(INT64, float_range_plan(r.start.const, r.step.const, r.stop.const, t.name)[0])
    (b1, k1), (b2, k2) = r.start.affine(), r.stop.affine()
    if b1 is b2 and not r.start.is_const and r.step.is_const:
        return ScalarV(INT64, max(0, (k2 - k1) // r.step.const + 1))      # i:i+k
    n = arith(fl, "+", arith(fl, "÷", arith(fl, "-", r.stop, r.start), r.step), ScalarV(t, 1))
    return arith(fl, "convert", arith(fl, "max", n, ScalarV(t, 0)), ScalarV(INT64, 0))


def range_element(fl: Lowering, r: RangeV, k: ScalarV) -> ScalarV:
    """The (k+1)-th element, k counted from 0."""
    t = r.t.elt
    if t.info.is_integer:
        return arith(fl, "+", r.start, arith(fl, "*", convert_scalar(fl, k, t), r.step))
    if r.plan is not None:
        _, start_n, step_n, den = r.plan.items
        exact = arith(fl, "/", arith(fl, "+", start_n, arith(fl, "*", k, step_n)), den)
        literal = arith(fl, "+", r.start, arith(fl, "*", convert_scalar(fl, k, t), r.step))
        return ifelse(fl, arith(fl, "!=", den, ScalarV(INT64, 0)), convert_scalar(fl, exact, t), literal)
    plan = float_range_plan(r.start.const, r.step.const, r.stop.const, t.name)
    T = np.dtype(t.info.np).type
    if k.is_const:
        return ScalarV(t, _float_element(plan, r.start.const, r.step.const, k.const, T))
    if plan[1] is not None:
        start_n, step_n, den = plan[1]
        numerator = arith(fl, "+", ScalarV(INT64, start_n), arith(fl, "*", k, ScalarV(INT64, step_n)))
        return convert_scalar(fl, arith(fl, "/", numerator, ScalarV(INT64, den)), t)
    table = _float_table(fl, r, plan, node=None)      # k is in range: it counts the range's own elements
    return ScalarV(t, None, B.gather_1d(table.ir, H.convert(fl.materialize(k), INT64)), k.batch)


def _float_table(fl: Lowering, r: RangeV, plan, node: A.Node | None) -> ArrayV:
    t = r.t.elt
    T = np.dtype(t.info.np).type
    n = plan[0]
    if n > MAX_LITERAL_TABLE:
        raise fl.error(f"a float range of {n} elements whose step is not an exact decimal is not supported "
                       f"(its elements would have to be computed in extra precision)", node)
    values = np.array([_float_element(plan, r.start.const, r.step.const, k, T) for k in range(n)], dtype=T)
    return ArrayV(ArrayT(t, (n,)), Box(H.array_constant(t, values)))


def collect_range(fl: Lowering, r: RangeV, node: A.Node) -> ArrayV:
    """The vector of a range's elements (its length must be known when compiling)."""
    n = range_length(fl, r)
    if n.batch:
        raise LaneConflict()           # a range per lane: an array per element
    if not n.is_const:
        raise StaticValueNeeded("collecting a range whose length depends on run-time values is not supported "
                                "(arrays have static sizes)", node.span)
    t = r.t.elt
    if t.info.is_float and r.plan is None:
        return _float_table(fl, r, float_range_plan(r.start.const, r.step.const, r.stop.const, t.name), node)
    k = ScalarV(INT64, None, H.iota(INT64, (n.const,), 0), (n.const,))
    element = range_element(fl, r, k)
    return ArrayV(ArrayT(t, (n.const,)), Box(B.broadcast(element.ir, (n.const,))))


__all__ = ["make_range", "float_range_plan", "range_length", "range_element", "collect_range"]
