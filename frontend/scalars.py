"""Scalar primitives: arithmetic, comparisons, conversions and math functions on numbers.

Constants fold with NumPy at the exact dtype (integer overflow wraps as in Julia); other values
emit StableHLO ops, element-wise over the lanes of a vectorized loop (`ScalarV.batch`). The other
lowering modules build on `arith`, `convert_scalar`, `ifelse` and `get_field` from here.
"""
from __future__ import annotations

import dataclasses
import math
import operator
from typing import TYPE_CHECKING, Callable

import numpy as np
from jax.extend.mlir import ir
from jax.extend.mlir.dialects import stablehlo as hlo

from ..core import builder as B
from ..core.ops import PASS_FIRST
from ..core.value_ranges import never_below
from . import ast as A
from . import hlo as H
from .diagnostics import JuliaError
from .exceptions import show_number
from .registry import PRIMITIVES, NoMethod, expect_args, prim, scalar_arg
from .types import BOOL, FLOAT64, INT64, ArrayT, Scalar, TupleT, float_type, promote, real_type
from .values import ArrayListV, ArrayV, Box, LaneConflict, ScalarV, SingletonV, StructV, TupleV, TypeV, Value

if TYPE_CHECKING:
    from .context import Lowering


# ============================================================================ scalar arithmetic
def as_np(t: Scalar, value: object):
    with np.errstate(all="ignore"):
        return np.array(value).astype(t.info.np)[()]


def as_py(x) -> object:
    return x.item() if hasattr(x, "item") else x


def _lanes(a: ScalarV, b: ScalarV) -> tuple[int, ...]:
    if a.batch and b.batch and a.batch != b.batch:
        raise LaneConflict()           # values per lane of two different lane-wise computations
    return a.batch or b.batch


def as_ir(fl: Lowering, v: ScalarV, t: Scalar, batch: tuple[int, ...]):
    """v as a runtime tensor of element type t and lane shape batch."""
    if v.is_const:
        return H.constant(t, as_py(as_np(t, v.const)), batch)
    return B.broadcast(H.convert(v.ir, t), batch)


def convert_scalar(fl: Lowering, v: ScalarV, t: Scalar, node: A.Node | None = None,
                   exact: bool = False) -> ScalarV:
    """convert(T, v); with `exact`, a non-integral float to an integer type is an InexactError."""
    if v.t == t and v.irrational:      # `Float64(pi)` is a Float64, no longer an irrational
        return dataclasses.replace(v, irrational=False)
    if v.t == t:
        return v
    if t.info.kind == "bool" and v.t.info.kind != "bool":
        exact = True
    if v.is_const:
        c = v.const
        if exact and t.info.is_integer and isinstance(c, (float, complex)) and not float(np.real(c)).is_integer():
            if fl is None or node is None:
                raise JuliaError(f"InexactError: {t.name}({c!r})", getattr(node, "span", None))
            # an error if this code runs (a compile error if every run reaches it)
            fl.check(ScalarV(BOOL, False), node, f"InexactError: {t.name}({c!r})")
            c = 0
        if isinstance(c, complex) and not t.info.is_complex:
            c = c.real
        return ScalarV(t, as_py(as_np(t, c)))
    src = v.ir
    if v.t.info.is_complex and not t.info.is_complex:
        src = hlo.real(src)
    if v.t.info.is_float and t.info.is_integer and t.info.kind != "bool" and fl is not None:
        _check_integral(fl, v, t, node)
    return ScalarV(t, None, H.convert(src, t), v.batch)


def _check_integral(fl: Lowering, v: ScalarV, t: Scalar, node: A.Node | None) -> None:
    """Julia's conversion of a float to an integer type throws InexactError unless the value is an
    integer in the type's range: a run-time check, reported after the run like a BoundsError."""
    fl.check(ScalarV(BOOL, None, _integral(v.ir, v.t, t, v.batch), v.batch), node,
             f"InexactError: {t.name}(x) with x a non-integral or out-of-range {v.t.julia()} (at run time)")


def check_integral_elements(fl: Lowering, x: ir.Value, src: Scalar, t: Scalar, node: A.Node | None) -> None:
    """`_check_integral` for every element of a float array stored into an integer array (`w .= v`)."""
    shape = B.shape(x)
    ok = B.reduce(_integral(x, src, t, shape), H.constant(BOOL, True), list(range(len(shape))), hlo.and_)
    fl.check(ScalarV(BOOL, None, ok), node,
             f"InexactError: {t.name}(x) with x a non-integral or out-of-range {src.julia()} (at run time)")


def _integral(x: ir.Value, src: Scalar, t: Scalar, shape: tuple[int, ...]) -> ir.Value:
    lo, hi = (float(b) for b in (np.iinfo(t.info.np).min, np.iinfo(t.info.np).max))
    integral = H.compare("EQ", hlo.floor(x), x, "float")
    return hlo.and_(integral, hlo.and_(H.compare("GE", x, H.constant(src, lo, shape), "float"),
                                       H.compare("LT", x, H.constant(src, -lo if lo < 0 else hi + 1, shape), "float")))


def _signed_zero_extremum(fn, a, b, negative_if):
    """np.maximum/np.minimum with Julia's zeros: max(0.0, -0.0) is 0.0 and min is -0.0, either way
    round (NumPy returns whichever comes first). `negative_if` combines the two signs."""
    out = fn(a, b)
    if np.issubdtype(np.asarray(out).dtype, np.floating) and out == 0 and a == b:
        out = -abs(out) if negative_if(np.signbit(a), np.signbit(b)) else abs(out)
    return out


def _binary(op: str, hlo_fn, np_fn, result: str = "promote"):
    """An arithmetic rule: promote both operands, fold constants, else emit `hlo_fn`."""
    def rule(fl: Lowering, a: ScalarV, b: ScalarV) -> ScalarV:
        t = promote(a.t, b.t)
        if op in ("*", "+") and (a.t == BOOL) != (b.t == BOOL) and not t.info.is_integer:
            return _bool_with_float(fl, op, a, b)
        if a.t.info.is_complex != b.t.info.is_complex and op in ("+", "-", "*", "/") and BOOL not in (a.t, b.t) \
                and not (op == "/" and b.t.info.is_complex):
            return _complex_with_real(fl, op, a, b, t)
        if result == "float":
            t = float_type(t)
        elif t == BOOL and op == "*":
            return _bitwise("&")(fl, a, b)            # true * true == true
        elif t == BOOL and op in ("+", "-"):
            t = INT64                  # arithmetic on Bool gives Int: true + true == 2
        batch = _lanes(a, b)
        if a.is_const and b.is_const:
            with np.errstate(all="ignore"):
                return ScalarV(t, as_py(as_np(t, np_fn(as_np(t, a.const), as_np(t, b.const)))))
        identity = _identity(op, a, b, t)
        if identity is not None:
            return identity
        return ScalarV(t, None, hlo_fn(as_ir(fl, a, t, batch), as_ir(fl, b, t, batch)), batch,
                       _interval(op, a, b, t), _offset(op, a, b, t))
    return rule


def _bool_with_float(fl: Lowering, op: str, a: ScalarV, b: ScalarV) -> ScalarV:
    """Base's Bool arithmetic with floats: `false` is a strong zero, `false * x` is a zero with x's
    sign even for NaN or Inf, and `false + x` is x itself (so `false + -0.0` stays -0.0)."""
    flag, x = (a, b) if a.t == BOOL else (b, a)
    if x.t.info.is_complex:
        parts = [_bool_with_float(fl, op, flag, part) for part in
                 (complex_parts(fl, [x], {}, None, name="real"), complex_parts(fl, [x], {}, None, name="imag"))]
        return _complex(fl, parts, {}, None) if op == "*" else \
            _complex(fl, [parts[0], complex_parts(fl, [x], {}, None, name="imag")], {}, None)
    if op == "*":
        zero = copysign_zero(fl, x)
        return ifelse(fl, flag, x, zero)
    return ifelse(fl, flag, ARITH["+"](fl, ScalarV(x.t, 1), x), x)


def _complex_with_real(fl: Lowering, op: str, a: ScalarV, b: ScalarV, t: Scalar) -> ScalarV:
    """Base's arithmetic of a complex and a real number works on the parts (complex.jl): z + x is
    Complex(real(z) + x, imag(z)), so an imaginary -0.0 stays; z * x is Complex(x * real(z),
    x * imag(z)), with no NaN from Inf * 0 (promoting x to x + 0im and using complex arithmetic gave both)."""
    rt = real_type(t)
    z, x = (a, b) if a.t.info.is_complex else (b, a)
    re, im = (convert_scalar(fl, complex_parts(fl, [z], {}, None, name=part), rt) for part in ("real", "imag"))
    x = convert_scalar(fl, x, rt)
    if op == "+":
        parts = [ARITH["+"](fl, x, re), im]
    elif op == "-":
        negated_im = ScalarV(rt, -im.const) if im.is_const else ScalarV(rt, None, hlo.negate(im.ir), im.batch)
        parts = [ARITH["-"](fl, re, x), im] if z is a else [ARITH["-"](fl, x, re), negated_im]
    elif op == "*":
        parts = [ARITH["*"](fl, x, re), ARITH["*"](fl, x, im)]
    else:                              # z / x (x / z is a complex division)
        parts = [ARITH["/"](fl, re, x), ARITH["/"](fl, im, x)]
    return _complex(fl, parts, {}, None)


def copysign_zero(fl: Lowering, x: ScalarV) -> ScalarV:
    """A zero with the sign bit of x."""
    if x.is_const:
        return ScalarV(x.t, math.copysign(0.0, x.const))
    negative = _signbit(fl, [x], {}, None)
    return ifelse(fl, negative, ScalarV(x.t, -0.0), ScalarV(x.t, 0.0))


def _identity(op: str, a: ScalarV, b: ScalarV, t: Scalar) -> ScalarV | None:
    """Operations that return an operand unchanged, bit for bit: i + 0, i - 0, i * 1 for integers
    (index and range arithmetic is full of them), x * 1.0 and x / 1.0 for floats (exact in IEEE;
    x + 0.0 is not: it turns -0.0 into 0.0)."""
    kind = t.info.kind
    if kind not in ("int", "uint", "float"):
        return None
    if b.is_const and a.t == t and not b.batch:
        if op in ("*", "/") and b.const == 1 or kind != "float" and op in ("+", "-") and b.const == 0:
            return a
    if a.is_const and b.t == t and not a.batch:
        if op == "*" and a.const == 1 or kind != "float" and op == "+" and a.const == 0:
            return b
    return None


def _offset(op: str, a: ScalarV, b: ScalarV, t: Scalar) -> tuple[ScalarV, int] | None:
    """Track `i ± k` for integer constants k, so `x[i:i+2]` has a length known at compile time."""
    if op not in ("+", "-") or not t.info.is_integer:
        return None
    if b.is_const and not a.is_const and (not a.batch or a.affine()[0].lane):
        base, k = a.affine()
        return (base, k + int(b.const) if op == "+" else k - int(b.const))
    if a.is_const and not b.is_const and op == "+" and (not b.batch or b.affine()[0].lane):
        base, k = b.affine()
        return (base, k + int(a.const))
    return None


def _interval(op: str, a: ScalarV, b: ScalarV, t: Scalar) -> tuple[int, int] | None:
    """Bounds of `a op b` for integers with known bounds (no overflow: checked against Int32 range)."""
    ia, ib = a.bounds(), b.bounds()
    if ia is None or ib is None or t != INT64 or op not in ("+", "-", "*"):
        return None
    if op == "+":
        lo, hi = ia[0] + ib[0], ia[1] + ib[1]
    elif op == "-":
        lo, hi = ia[0] - ib[1], ia[1] - ib[0]
    else:
        corners = [x * y for x in ia for y in ib]
        lo, hi = min(corners), max(corners)
    return (lo, hi) if -2**31 < lo <= hi < 2**31 else None


def _int_div(x, y):
    if y == 0:
        raise ZeroDivisionError
    q = abs(int(x)) // abs(int(y))
    return q if (x >= 0) == (y >= 0) else -q


def _trunc_div(fl: Lowering, a: ScalarV, b: ScalarV) -> ScalarV:
    t = promote(a.t, b.t)
    if t.info.is_integer:
        if a.is_const and b.is_const:
            if b.const == 0:
                raise NoMethod("DivideError: integer division error")
            return ScalarV(t, as_py(as_np(t, _int_div(a.const, b.const))))
        if b.is_const and b.const == 1 and a.t == t:
            return a
        batch = _lanes(a, b)
        return ScalarV(t, None, hlo.divide(as_ir(fl, a, t, batch), as_ir(fl, b, t, batch)), batch)
    # Base (div.jl): the float quotient is round((x - rem(x, y)) / y), whose numerator is an exact
    # multiple of y, not trunc(x / y): div(6.0, 0.1) is 59.0, as 6.0 is a little less than 60 times
    # the Float64 nearest 0.1 although 6.0 / 0.1 rounds to 60.0; and div(-0.5, 1.0) is 0.0, not -0.0
    exact_multiple = ARITH["-"](fl, a, _rem(fl, a, b))
    return _unary_float(fl, "round", ARITH["/"](fl, exact_multiple, b))


def _rem(fl: Lowering, a: ScalarV, b: ScalarV) -> ScalarV:
    t = promote(a.t, b.t)
    if a.is_const and b.is_const:
        if t.info.is_integer:
            if b.const == 0:
                raise NoMethod("DivideError: integer division error")
            return ScalarV(t, as_py(as_np(t, int(a.const) - _int_div(a.const, b.const) * int(b.const))))
        with np.errstate(invalid="ignore"):   # rem(Inf, y) and rem(x, 0.0) are NaN (math.fmod raises)
            return ScalarV(t, float(np.fmod(np.float64(a.const), np.float64(b.const))))
    batch = _lanes(a, b)
    return ScalarV(t, None, hlo.remainder(as_ir(fl, a, t, batch), as_ir(fl, b, t, batch)), batch)


def _mod(fl: Lowering, a: ScalarV, b: ScalarV) -> ScalarV:
    """mod takes the divisor's sign: r = rem(a, b); r + b where r and b differ in sign."""
    r = _rem(fl, a, b)
    b = convert_scalar(fl, b, r.t)
    zero = ScalarV(r.t, 0)
    differ = arith(fl, "!=", arith(fl, "<", r, zero), arith(fl, "<", b, zero))
    fix = arith(fl, "&", differ, arith(fl, "!=", r, zero))
    out = ifelse(fl, fix, arith(fl, "+", r, b), r)
    if r.t.info.is_float:              # Base: a zero remainder takes the divisor's sign (mod(-2.0, 1.0) is 0.0)
        signed_zero = ifelse(fl, arith(fl, "<", b, zero), ScalarV(r.t, -0.0), zero)
        out = ifelse(fl, arith(fl, "==", r, zero), signed_zero, out)
    return out


def needs_power_by_squaring(a: ScalarV, b: ScalarV) -> bool:
    """An integer x^p that XLA's integer power gets wrong: it reads only the low six bits of the
    exponent (2^64 gave 1, not 0) and gives 0 for a negative one. Unless p is a constant below 64,
    the prelude's `_integer_power` (Base's power_by_squaring) computes it."""
    return (a.t.info.is_integer and b.t.info.is_integer and not (a.is_const and b.is_const)
            and not (b.is_const and 0 <= b.const < 64))


def _power(fl: Lowering, a: ScalarV, b: ScalarV) -> ScalarV:
    if b.is_const and b.t.info.is_integer and not isinstance(b.const, bool) and 0 <= b.const <= 4 \
            and not a.is_const:
        # x^2 is x*x, as Julia's literal_pow
        out = ScalarV(a.t, 1) if b.const == 0 else a
        for _ in range(int(b.const) - 1):
            out = ARITH["*"](fl, out, a)
        return out if b.const else ScalarV(a.t, None, B.broadcast(H.constant(a.t, 1), a.batch), a.batch)
    if a.t.info.is_integer and b.t.info.is_integer:
        t = a.t if a.t.info.kind != "bool" else INT64
        if a.is_const and b.is_const:
            if b.const < 0 and abs(a.const) != 1:
                raise NoMethod("DomainError: cannot raise an integer to a negative power")
            return ScalarV(t, as_py(as_np(t, pow(int(a.const), int(b.const), 1 << 64) if b.const >= 0
                                      else int(a.const) ** int(b.const))))
        assert not needs_power_by_squaring(a, b), "lowered by the prelude's _integer_power (primitives.py)"
        batch = _lanes(a, b)
        return ScalarV(t, None, hlo.power(as_ir(fl, a, t, batch), as_ir(fl, b, t, batch)), batch)
    t = a.t if (a.t.info.is_float or a.t.info.is_complex) and b.t.info.is_integer else promote(a.t, b.t)
    t = float_type(t)
    if a.is_const and b.is_const:
        with np.errstate(all="ignore"):    # a negative base's NaN: the caller's DomainError check reports it
            return ScalarV(t, as_py(as_np(t, np.power(as_np(t, a.const), as_np(t, b.const)))))
    batch = _lanes(a, b)
    return ScalarV(t, None, hlo.power(as_ir(fl, a, t, batch), as_ir(fl, b, t, batch)), batch)


def _bitwise(kind: str):
    builders = {"&": (hlo.and_, np.bitwise_and), "|": (hlo.or_, np.bitwise_or), "xor": (hlo.xor, np.bitwise_xor)}
    hlo_fn, np_fn = builders[kind]

    def rule(fl: Lowering, a: ScalarV, b: ScalarV) -> ScalarV:
        if not (a.t.info.is_integer and b.t.info.is_integer):
            raise NoMethod()
        return _binary(kind, hlo_fn, np_fn)(fl, a, b)
    return rule


def _shift(kind: str):
    """Julia's shifts: a negative count shifts the other way; a count past the width gives 0 (or the
    sign for an arithmetic right shift)."""
    def rule(fl: Lowering, a: ScalarV, b: ScalarV) -> ScalarV:
        if not (a.t.info.is_integer and b.t.info.is_integer):
            raise NoMethod()
        t = a.t
        if a.is_const and b.is_const:
            n = int(b.const) if kind == "<<" else -int(b.const)      # n > 0: left
            return ScalarV(t, as_py(as_np(t, _shift_const(int(a.const), n, kind, t))))
        batch = _lanes(a, b)
        x = as_ir(fl, a, t, batch)
        right = hlo.shift_right_arithmetic if t.info.kind == "int" and kind != ">>>" else hlo.shift_right_logical
        forward, backward = (hlo.shift_left, right) if kind == "<<" else (right, hlo.shift_left)
        # the count's sign in the count's own type (an unsigned x shifted by a negative Int shifts
        # the other way), and the count clamped to ±width before it takes x's type (XLA shifts a
        # count past the width out; Int8(1) << 257 converted unclamped would be a shift by 1)
        bits, ct = t.info.bits, (INT64 if b.t == BOOL else b.t)
        count = arith(fl, "min", convert_scalar(fl, b, ct), ScalarV(ct, bits))
        if ct.info.kind == "int":
            count = arith(fl, "max", count, ScalarV(ct, -bits))
        zero = ScalarV(ct, 0)
        if ct.info.kind == "uint" or count.is_const and count.const >= 0:
            return ScalarV(t, None, forward(x, as_ir(fl, count, t, batch)), batch)
        negative = arith(fl, "<", count, zero)
        size = as_ir(fl, ifelse(fl, negative, arith(fl, "-", zero, count), count), t, batch)
        return ScalarV(t, None, hlo.select(as_ir(fl, negative, BOOL, batch), backward(x, size), forward(x, size)),
                       batch)
    return rule


def _shift_const(x: int, n: int, kind: str, t: Scalar) -> int:
    bits = t.info.bits
    if n >= 0:
        v = x << n if n < bits else 0
    elif kind == ">>>" or t.info.kind == "uint":
        v = (x % (1 << bits)) >> -n if -n < bits else 0
    else:
        v = x >> min(-n, bits - 1)
    return v % (1 << bits) if t.info.kind == "uint" else _wrap(v, bits)


def _wrap(v: int, bits: int) -> int:
    v %= 1 << bits
    return v - (1 << bits) if v >= 1 << (bits - 1) else v


_COMPARE = {"==": ("EQ", np.equal), "!=": ("NE", np.not_equal), "<": ("LT", np.less), "<=": ("LE", np.less_equal),
            ">": ("GT", np.greater), ">=": ("GE", np.greater_equal)}


_PY_COMPARE = {"EQ": operator.eq, "NE": operator.ne, "LT": operator.lt, "LE": operator.le, "GT": operator.gt,
               "GE": operator.ge}


def _compare(op: str):
    direction, np_fn = _COMPARE[op]

    def rule(fl: Lowering, a: ScalarV, b: ScalarV) -> ScalarV:
        t = promote(a.t, b.t)
        if a.is_const and b.is_const:
            if _compared_exactly(a, b) or signedness_differs(a, b):   # Python compares numbers exactly, as Julia
                return ScalarV(BOOL, bool(_PY_COMPARE[direction](a.const, b.const)))
            return ScalarV(BOOL, bool(np_fn(as_np(t, a.const), as_np(t, b.const))))
        batch = _lanes(a, b)
        if _compared_exactly(a, b):
            return ScalarV(BOOL, None, _int_float_compare(fl, direction, a, b, batch), batch)
        if signedness_differs(a, b):
            return ScalarV(BOOL, None, _signed_unsigned_compare(fl, direction, a, b, batch), batch)
        if t.info.kind == "int" and (direction in ("LT", "GE") and b.is_const and b.const == 0 or
                                     direction in ("GT", "LE") and a.is_const and a.const == 0):
            x = as_ir(fl, a if b.is_const else b, t, batch)      # `x < 0`, `x >= 0`, `0 > x`, `0 <= x`
            negative = _negative(x, t)
            return ScalarV(BOOL, None, negative if direction in ("LT", "GT") else hlo.not_(negative), batch)
        return ScalarV(BOOL, None, H.compare(direction, as_ir(fl, a, t, batch), as_ir(fl, b, t, batch), t.info.kind),
                       batch)
    return rule


def _compared_exactly(a: ScalarV, b: ScalarV) -> bool:
    """Base compares a 64-bit integer with a float, and a 32-bit one with a Float32, exactly (float.jl),
    where promotion would round the integer; other integers convert to the float type exactly, or
    promote in Julia too (Int32 with Float16). Promotion is exact as well when one side is a constant
    below the magnitude where the float type skips integers (2^53 for Float64), as in `x < 2`."""
    i, f = (a, b) if a.t.info.kind in ("int", "uint") else (b, a)
    if not (i.t.info.kind in ("int", "uint") and f.t.info.is_float
            and (i.t.info.bits == 64 or i.t.info.bits == 32 and f.t.info.bits == 32)):
        return False
    every_integer_below = 2.0 ** (np.finfo(f.t.info.np).nmant + 1)
    if i.is_const:
        return abs(int(i.const)) > every_integer_below
    if f.is_const:
        return not (abs(float(f.const)) < every_integer_below or math.isnan(float(f.const)))
    return True


def _int_float_compare(fl: Lowering, direction: str, a: ScalarV, b: ScalarV, batch: tuple[int, ...]) -> ir.Value:
    """An integer against a float as Base compares them (see `_compared_exactly`): 2^53 + 1 == 2.0^53
    is false and 2^53 + 1 > 2.0^53 is true. A 32-bit integer and a Float32 compare as Float64s."""
    i, f = (a, b) if a.t.info.is_integer else (b, a)
    if i.t.info.bits == 32:
        return H.compare(direction, as_ir(fl, a, FLOAT64, batch), as_ir(fl, b, FLOAT64, batch), "float")
    if direction in ("GT", "GE"):      # a > b is b < a
        a, b, direction = b, a, {"GT": "LT", "GE": "LE"}[direction]
    x, y = as_ir(fl, i, i.t, batch), as_ir(fl, f, f.t, batch)
    fx = H.convert(x, f.t)             # Tf(x), rounded
    back = H.convert(fx, i.t)          # unsafe_trunc(Ti, Tf(x)): where it equals x, Tf(x) was exact
    top = H.constant(f.t, as_py(as_np(f.t, np.iinfo(i.t.info.np).max)), batch)   # Tf(typemax(Ti)): 2^64 or 2^63

    def cmp(d: str, u: ir.Value, v: ir.Value, kind: str = "float") -> ir.Value:
        return H.compare(d, u, v, kind)
    if direction in ("EQ", "NE"):
        eq = hlo.and_(hlo.and_(cmp("EQ", y, fx), cmp("NE", fx, top)), cmp("EQ", x, back, i.t.info.kind))
        return eq if direction == "EQ" else hlo.not_(eq)
    if a is i:                         # x::Ti < y::Tf (or <=)
        tie = hlo.or_(cmp("EQ", fx, top), cmp(direction, x, back, i.t.info.kind))
        return hlo.or_(cmp("LT", fx, y), hlo.and_(cmp("EQ", fx, y), tie))
    tie = hlo.and_(cmp("LT", fx, top), cmp(direction, back, x, i.t.info.kind))   # y::Tf < x::Ti
    return hlo.or_(cmp("LT", y, fx), hlo.and_(cmp("EQ", y, fx), tie))


def signedness_differs(a: ScalarV, b: ScalarV) -> bool:
    """A signed and an unsigned integer that promotion would make both unsigned (Int64 and UInt64,
    Int8 and UInt8), unless the signed one is a constant that is not negative (`u > 0`)."""
    kinds = {a.t.info.kind, b.t.info.kind}
    if kinds != {"int", "uint"} or promote(a.t, b.t).info.kind != "uint":
        return False
    s = a if a.t.info.kind == "int" else b
    return not (s.is_const and s.const >= 0)


def _signed_unsigned_compare(fl: Lowering, direction: str, a: ScalarV, b: ScalarV, batch: tuple[int, ...]):
    """Base compares a signed with an unsigned integer exactly (int.jl: `<(x::Signed, y::Unsigned) =
    (x < 0) | (unsigned(x) < y)`): a negative one is less than every unsigned one (-1 < typemax(UInt64),
    where promotion to UInt64 made -1 the largest); others compare as unsigned numbers."""
    s = a if a.t.info.kind == "int" else b
    u = Scalar(f"UInt{max(a.t.info.bits, b.t.info.bits)}")
    negative = _negative(as_ir(fl, s, s.t, batch), s.t)
    unsigned = H.compare(direction, as_ir(fl, a, u, batch), as_ir(fl, b, u, batch), "uint")
    if direction in (("LT", "LE", "NE") if s is a else ("GT", "GE", "NE")):     # true whenever s < 0
        return hlo.or_(negative, unsigned)
    return hlo.and_(hlo.not_(negative), unsigned)


def _negative(x: ir.Value, t: Scalar) -> ir.Value:
    """`x < 0` for a signed integer, read from its sign bit. XLA's simplifier takes `y * y` (and
    `abs(y)`) to be non-negative, which a wrapping integer product is not: it folds `y * y < 0` to
    false and `abs(y * y)` to `y * y` (found by difftest), but not this."""
    shifted = hlo.shift_right_arithmetic(x, H.constant(t, t.info.bits - 1, B.shape(x)))
    return H.compare("NE", shifted, H.constant(t, 0, B.shape(x)), "int")


def _signbits(fl: Lowering, v: ScalarV, t: Scalar, batch: tuple[int, ...]) -> ir.Value:
    return _signbit(fl, [ScalarV(t, None, as_ir(fl, v, t, batch), batch)], {}, None).ir


def _identical(fl: Lowering, a: ScalarV, b: ScalarV) -> ScalarV:
    """`a === b`: the same type and the same bits (so -0.0 !== 0.0 and NaN === NaN, 1 !== 1.0)."""
    if a.t != b.t:
        return ScalarV(BOOL, False)
    if a.is_const and b.is_const:
        return ScalarV(BOOL, as_np(a.t, a.const).tobytes() == as_np(b.t, b.const).tobytes())
    if not (a.t.info.is_float or a.t.info.is_complex):
        return _compare("==")(fl, a, b)
    batch = _lanes(a, b)
    parts = (lambda v: [hlo.real(v), hlo.imag(v)]) if a.t.info.is_complex else (lambda v: [v])
    same = None
    for x, y in zip(parts(as_ir(fl, a, a.t, batch)), parts(as_ir(fl, b, b.t, batch))):
        bits = Scalar({16: "Int16", 32: "Int32", 64: "Int64"}[ir.FloatType(ir.RankedTensorType(x.type).element_type)
                                                             .width])
        eq = H.compare("EQ", hlo.bitcast_convert(H.tensor_type(bits, batch), x),
                       hlo.bitcast_convert(H.tensor_type(bits, batch), y), "int")
        same = eq if same is None else hlo.and_(same, eq)
    return ScalarV(BOOL, None, same, batch)


def _isequal(fl: Lowering, a: ScalarV, b: ScalarV) -> ScalarV:
    """isequal: == except that NaNs are equal to each other and -0.0 is not equal to 0.0."""
    t = promote(a.t, b.t)
    if not t.info.is_float:
        return _compare("==")(fl, a, b)
    if a.is_const and b.is_const:
        x, y = float(as_np(t, a.const)), float(as_np(t, b.const))
        same = a.const == b.const if _compared_exactly(a, b) else x == y
        return ScalarV(BOOL, math.isnan(x) and math.isnan(y) or same and math.copysign(1, x) == math.copysign(1, y))
    batch = _lanes(a, b)
    x, y = as_ir(fl, a, t, batch), as_ir(fl, b, t, batch)
    same_sign = H.compare("EQ", _signbits(fl, a, t, batch), _signbits(fl, b, t, batch), "bool")
    equal = hlo.and_(_float_compare(fl, "EQ", a, b, t, batch), same_sign)
    both_nan = hlo.and_(H.compare("NE", x, x, "float"), H.compare("NE", y, y, "float"))
    return ScalarV(BOOL, None, hlo.or_(equal, both_nan), batch)


def _isless(fl: Lowering, a: ScalarV, b: ScalarV) -> ScalarV:
    """isless: < except that -0.0 is less than 0.0 and NaN is greater than everything (sort order)."""
    t = promote(a.t, b.t)
    if not t.info.is_float:
        return _compare("<")(fl, a, b)
    if a.is_const and b.is_const:
        x, y = float(as_np(t, a.const)), float(as_np(t, b.const))
        if math.isnan(x) or math.isnan(y):
            return ScalarV(BOOL, not math.isnan(x))
        less = a.const < b.const if _compared_exactly(a, b) else x < y
        return ScalarV(BOOL, less or x == y and math.copysign(1, x) < math.copysign(1, y))
    batch = _lanes(a, b)
    x, y = as_ir(fl, a, t, batch), as_ir(fl, b, t, batch)
    sx, sy = _signbits(fl, a, t, batch), _signbits(fl, b, t, batch)
    zeros = hlo.and_(H.compare("EQ", x, y, "float"), hlo.and_(sx, hlo.not_(sy)))    # an integer's zero is +0.0
    nan_after = hlo.and_(H.compare("EQ", x, x, "float"), H.compare("NE", y, y, "float"))
    return ScalarV(BOOL, None, hlo.or_(hlo.or_(_float_compare(fl, "LT", a, b, t, batch), zeros), nan_after), batch)


def _float_compare(fl: Lowering, direction: str, a: ScalarV, b: ScalarV, t: Scalar, batch: tuple[int, ...]):
    """a and b, promoted to the float type t, compared; exactly where Julia compares them exactly."""
    if _compared_exactly(a, b):
        return _int_float_compare(fl, direction, a, b, batch)
    return H.compare(direction, as_ir(fl, a, t, batch), as_ir(fl, b, t, batch), "float")


# Base's `pi`/`π` and `ℯ`, and the constants of IrrationalConstants.jl (which SpecialFunctions and
# StatsFuns use), as the Float64 nearest each; `ScalarV.irrational` marks them (see `_irrational_as`)
IRRATIONALS: dict[str, float] = {
    "pi": math.pi, "π": math.pi, "ℯ": math.e,
    **{name: float(digits) for name, digits in [
        ("twoπ", "6.2831853071795864769252867665590058"), ("fourπ", "12.566370614359172953850573533118012"),
        ("halfπ", "1.5707963267948966192313216916397514"), ("quartπ", "0.78539816339744830961566084581987572"),
        ("invπ", "0.31830988618379067153776752674502872"), ("twoinvπ", "0.63661977236758134307553505349005745"),
        ("fourinvπ", "1.2732395447351626861510701069801149"), ("inv2π", "0.15915494309189533576888376337251436"),
        ("inv4π", "0.079577471545947667884441881686257181"), ("sqrt2", "1.4142135623730950488016887242096981"),
        ("sqrt3", "1.7320508075688772935274463415058724"), ("sqrtπ", "1.7724538509055160272981674833411452"),
        ("sqrt2π", "2.5066282746310005024157652848110453"), ("sqrt4π", "3.5449077018110320545963349666822903"),
        ("sqrthalfπ", "1.2533141373155002512078826424055226"), ("invsqrt2", "0.70710678118654752440084436210484904"),
        ("invsqrtπ", "0.56418958354775628694807945156077259"), ("invsqrt2π", "0.39894228040143267793994605993438187"),
        ("log2π", "1.8378770664093454835606594728112353"), ("log4π", "2.5310242469692907929749839408564730"),
        ("logtwo", "0.69314718055994530941723212145817657"), ("loghalf", "-0.69314718055994530941723212145817657"),
        ("logπ", "1.1447298858494001741434273513530587"), ("logten", "2.3025850929940456840179914546843642")]},
}


def _irrational_as(a: ScalarV, b: ScalarV) -> tuple[ScalarV, ScalarV]:
    """An irrational constant meeting a Float32 or Float16 in arithmetic becomes that type: Julia
    promotes `Irrational` with a float type to that type (`1f0 * pi` is a Float32), with anything
    else to Float64 (as it is here already)."""
    def narrowed(x: ScalarV, other: ScalarV) -> ScalarV:
        if not (x.irrational and not other.irrational and other.t.name in ("Float32", "Float16")):
            return x
        if x.is_const:
            return ScalarV(other.t, as_py(as_np(other.t, x.const)))
        return ScalarV(other.t, None, H.convert(x.ir, other.t), x.batch)     # `c ? pi : ℯ`, chosen at run time
    return narrowed(a, b), narrowed(b, a)


def _promoting_irrationals(rule: Callable) -> Callable:
    def promoted(fl: Lowering, a: ScalarV, b: ScalarV) -> ScalarV:
        return rule(fl, *_irrational_as(a, b))
    return promoted


ARITH: dict[str, Callable] = {
    "+": _binary("+", hlo.add, np.add),
    "-": _binary("-", hlo.subtract, np.subtract),
    "*": _binary("*", hlo.multiply, np.multiply),
    "/": _binary("/", hlo.divide, np.divide, result="float"),
    "÷": _trunc_div, "div": _trunc_div, "%": _rem, "rem": _rem, "mod": _mod, "^": _power,
    "max": _binary("max", hlo.maximum, lambda a, b: _signed_zero_extremum(np.maximum, a, b, np.logical_and)),
    "min": _binary("min", hlo.minimum, lambda a, b: _signed_zero_extremum(np.minimum, a, b, np.logical_or)),
    "&": _bitwise("&"), "|": _bitwise("|"), "xor": _bitwise("xor"), "⊻": _bitwise("xor"),
    "<<": _shift("<<"), ">>": _shift(">>"), ">>>": _shift(">>>"),
    **{op: _compare(op) for op in _COMPARE},
    "≤": _compare("<="), "≥": _compare(">="), "≠": _compare("!="),
    "===": _identical, "!==": lambda fl, a, b: fl.scalar_not(_identical(fl, a, b)), "≡": _identical,
    "isequal": _isequal, "isless": _isless,
}
for _op in ("+", "-", "*", "/", "÷", "div", "%", "rem", "mod", "^", "max", "min"):
    ARITH[_op] = _promoting_irrationals(ARITH[_op])


def arith(fl: Lowering, op: str, a: ScalarV, b: ScalarV | None = None) -> ScalarV:
    """Binary scalar arithmetic for internal use (`convert` converts a to b's type; floor_int floors to Int64)."""
    if op == "convert":
        return convert_scalar(fl, a, b.t)
    if op == "floor_int":
        return convert_scalar(fl, _unary_float(fl, "floor", a), INT64)
    return ARITH[op](fl, a, b)


def ifelse(fl: Lowering, c: ScalarV, a: ScalarV, b: ScalarV) -> ScalarV:
    if c.is_const:
        return a if c.const else b
    if a.t != b.t:
        t = promote(a.t, b.t)
        a, b = convert_scalar(fl, a, t), convert_scalar(fl, b, t)
    batch = c.batch or a.batch or b.batch
    ba, bb = a.bounds(), b.bounds()           # either arm's bounds hold (clamp's result is within lo:hi)
    interval = (min(ba[0], bb[0]), max(ba[1], bb[1])) if ba is not None and bb is not None else None
    return ScalarV(a.t, None, hlo.select(B.broadcast(c.ir, batch), as_ir(fl, a, a.t, batch), as_ir(fl, b, b.t, batch)),
                   batch, interval=interval, irrational=a.irrational and b.irrational)


# ---- unary math
_FLOAT_UNARY = {
    "sqrt": (hlo.sqrt, np.sqrt), "√": (hlo.sqrt, np.sqrt), "exp": (lambda x: _exp_ir(x), np.exp),
    "log": (hlo.log, np.log), "sin": (hlo.sine, np.sin), "cos": (hlo.cosine, np.cos), "tan": (hlo.tan, np.tan),
    "tanh": (lambda x: _tanh_ir(x), np.tanh), "log1p": (lambda x: _log1p_ir(x), np.log1p),
    "expm1": (hlo.exponential_minus_one, np.expm1),
    "floor": (hlo.floor, np.floor), "ceil": (hlo.ceil, np.ceil), "round": (hlo.round_nearest_even, np.round),
    "trunc": (lambda x: _trunc_ir(x), np.trunc), "cbrt": (hlo.cbrt, np.cbrt),
    "atan": (lambda x: hlo.atan2(x, B.full(x, 1.0)), np.arctan), "logistic": (hlo.logistic, None),
}


def _exp_ir(x):
    """exp, with exp(+Inf) = +Inf: XLA's CPU code for exp inside a fusion gives a finite number
    there (`Inf - exp(Inf)` was Inf, not NaN; jax.jit does the same; difftest seed 3010). As
    exp(x) > x for every other x (and NaN stays NaN), max(exp(x), x) is exp(x) with that repaired,
    one elementwise op that passes see through; reverse mode sees exp itself (core.ops.PASS_FIRST)."""
    repaired = hlo.maximum(hlo.exponential(x), x)
    repaired.owner.attributes[PASS_FIRST] = ir.UnitAttr.get()
    return repaired


def _tanh_ir(x):
    """tanh as Julia computes it away from 0: 1 - 2/(expm1(2|x|) + 2), with the sign of x.

    XLA's tanh is a clamped rational approximation that is exactly ±1 from |x| ≈ 7.9 (Float32) or
    ≈ 19 (Float64) on, where Julia's tanh(8f0) is 0.99999976f0; `atanh(tanh(q))` is then Inf
    where Julia's is finite (difftest seed 51020004500). Below |x| = 0.5 XLA's tanh is kept (a
    few ulps, no cancellation). |x| is capped where the quotient no longer reaches the last bit, so
    neither expm1 nor the gradient overflows."""
    f64 = isinstance(ir.RankedTensorType(x.type).element_type, ir.F64Type)
    ax = hlo.abs(x)
    capped = hlo.minimum(ax, B.full(x, 22.0 if f64 else 10.0))
    k = hlo.exponential_minus_one(hlo.add(capped, capped))
    tail = hlo.subtract(B.full(x, 1.0), hlo.divide(B.full(x, 2.0), hlo.add(k, B.full(x, 2.0))))
    signed = hlo.select(H.compare("LT", x, B.full(x, 0.0), "float"), hlo.negate(tail), tail)
    return hlo.select(H.compare("LT", ax, B.full(x, 0.5), "float"), hlo.tanh(x), signed)


def _log1p_ir(x):
    """log1p; in Float64 between -0.5 and -0.25 as log(u) * x / (u - 1) with u = 1 + x (Kahan: u - 1
    is exact there, so the quotient corrects log's argument to the x it stands for). XLA's Float64
    log1p is up to 128 ulps off near x = -0.41 (Julia's is within one), which `atanh` inherits."""
    if not isinstance(ir.RankedTensorType(x.type).element_type, ir.F64Type):
        return hlo.log_plus_one(x)
    inside = hlo.and_(H.compare("GT", x, B.full(x, -0.5), "float"), H.compare("LT", x, B.full(x, -0.25), "float"))
    # outside, a point of the interval: 0/0 at x = 0 would make the gradient 0 * NaN
    v = hlo.select(inside, x, B.full(x, -0.375))
    u = hlo.add(B.full(x, 1.0), v)
    kahan = hlo.divide(hlo.multiply(hlo.log(u), v), hlo.subtract(u, B.full(x, 1.0)))
    return hlo.select(inside, kahan, hlo.log_plus_one(x))


def _trunc_ir(x):
    return hlo.select(H.compare("LT", x, B.full(x, 0.0), "float"), hlo.ceil(x), hlo.floor(x))


# the functions of a complex number that Julia defines and XLA computes for one; Julia has no
# floor, ceil, trunc, cbrt or logistic of a Complex (MethodError; jlhlo refuses its round and atan)
_COMPLEX_UNARY = frozenset(("sqrt", "√", "exp", "log", "sin", "cos", "tan", "tanh", "log1p", "expm1"))
# the real-only repairs above do not apply to a complex number
_COMPLEX_IR = {"exp": hlo.exponential, "tanh": hlo.tanh, "log1p": hlo.log_plus_one}


def _unary_float(fl: Lowering, name: str, a: ScalarV) -> ScalarV:
    hlo_fn, np_fn = _FLOAT_UNARY[name]
    if a.t.info.is_complex:
        if name not in _COMPLEX_UNARY:
            raise NoMethod()
        hlo_fn = _COMPLEX_IR.get(name, hlo_fn)
    if name in ("floor", "ceil", "round", "trunc") and a.t.info.is_integer:
        return a
    t = float_type(a.t)
    if a.is_const and np_fn is not None:
        with np.errstate(all="ignore"):
            v = np_fn(as_np(t, a.const))
        return ScalarV(t, as_py(as_np(t, v)))
    return ScalarV(t, None, hlo_fn(as_ir(fl, a, t, a.batch)), a.batch)


def _atan2(fl: Lowering, y: ScalarV, x: ScalarV) -> ScalarV:
    """atan(y, x): the angle of the point (x, y), in the quadrant Julia's atan gives."""
    t = float_type(promote(y.t, x.t))
    if t.info.is_complex:
        raise NoMethod()
    if y.is_const and x.is_const:
        with np.errstate(all="ignore"):
            return ScalarV(t, as_py(np.arctan2(as_np(t, y.const), as_np(t, x.const))))
    batch = _lanes(y, x)
    return ScalarV(t, None, hlo.atan2(as_ir(fl, y, t, batch), as_ir(fl, x, t, batch)), batch)


@prim("_within")
def _within(fl, args, kwargs, node):
    """_within(v, lo, hi): the integer v, which the caller guarantees lies between the integers lo
    and hi (`clamp`); its bounds then decide the bounds checks of indices built from it."""
    v, lo, hi = (scalar_arg(a) for a in expect_args(args, 3))
    if v.is_const or not (lo.is_const and hi.is_const) or not v.t.info.is_integer:
        return v
    return dataclasses.replace(v, interval=(min(lo.const, hi.const), max(lo.const, hi.const)))


@prim("count_ones", "count_zeros", "leading_zeros", "trailing_zeros", "leading_ones", "trailing_ones")
def _bit_count(fl, args, kwargs, node, name):
    """Bit counts of an integer, as an Int."""
    (a,) = expect_args(args, 1)
    a = scalar_arg(a)
    if not a.t.info.is_integer or a.t == BOOL:     # Julia counts a Bool's 8 bits; jlhlo's Bool is 1 bit
        raise NoMethod()
    if name in ("count_zeros", "leading_ones", "trailing_ones"):     # the count of the other bit value
        a = _bitnot(fl, [a], {}, node)
        name = {"count_zeros": "count_ones", "leading_ones": "leading_zeros", "trailing_ones": "trailing_zeros"}[name]
    bits = a.t.info.bits
    if a.is_const:
        word = int(a.const) % (1 << bits)
        count = {"count_ones": bin(word).count("1"), "leading_zeros": bits - word.bit_length(),
                 "trailing_zeros": bits if word == 0 else (word & -word).bit_length() - 1}[name]
        return ScalarV(INT64, count)
    x = fl.materialize(a)
    if name == "trailing_zeros":       # the ones below the lowest set bit: popcount((x & -x) - 1)
        lowest = hlo.and_(x, hlo.subtract(B.full(x, 0), x))
        x = hlo.popcnt(hlo.subtract(lowest, B.full(x, 1)))
    else:
        x = hlo.popcnt(x) if name == "count_ones" else hlo.count_leading_zeros(x)
    return convert_scalar(fl, ScalarV(a.t, None, x, a.batch), INT64)


def _unary_rule(name: str):
    def rule(fl, args, kwargs, node):  # noqa: ANN001
        if len(args) == 2 and isinstance(args[0], TypeV) and name in ("floor", "ceil", "round", "trunc"):
            return convert_scalar(fl, _unary_float(fl, name, scalar_arg(args[1])), args[0].of, node)
        if len(args) == 2 and name == "atan":
            return _atan2(fl, scalar_arg(args[0]), scalar_arg(args[1]))
        (a,) = expect_args(args, 1)
        if isinstance(a, ArrayV):
            raise NoMethod(f"MethodError: no method matching {name}(::{a.t.julia()}); use the broadcast form "
                           f"`{name}.(x)` to apply it to each element")
        out = _unary_float(fl, name, scalar_arg(a))
        if name in _DOMAINS and out.t.info.is_float:
            _check_domain(fl, name, convert_scalar(fl, scalar_arg(a), out.t), node)
        return out
    return rule


# Base's DomainErrors: (the argument is outside the domain when, Julia's message)
_DOMAINS = {
    "sqrt": ("<", 0.0, "sqrt was called with a negative real argument but will only return a complex result if "
                       "called with a complex argument. Try sqrt(Complex(x))."),
    "log": ("<", 0.0, "log was called with a negative real argument but will only return a complex result if "
                      "called with a complex argument. Try log(Complex(x))."),
    "log1p": ("<", -1.0, "log1p was called with a real argument < -1 but will only return a complex result if "
                         "called with a complex argument. Try log1p(Complex(x))."),
    "sin": ("inf", None, "sin(x) is only defined for finite x."),
    "cos": ("inf", None, "cos(x) is only defined for finite x."),
    "tan": ("inf", None, "tan(x) is only defined for finite x."),
}
_DOMAINS["√"] = _DOMAINS["sqrt"]


def _check_domain(fl: Lowering, name: str, x: ScalarV, node: A.Node) -> None:
    """Julia throws a DomainError (sqrt(-1.0), sin(Inf)) where XLA gives NaN: a run-time check."""
    kind, bound, message = _DOMAINS[name]
    if kind == "<" and not x.is_const and never_below(x.ir, bound):
        return                         # sqrt of a sum of squares (core/value_ranges.py)
    if kind == "<":
        bad = arith(fl, "<", x, ScalarV(x.t, bound))
    else:
        bad = ScalarV(BOOL, bool(np.isinf(x.const))) if x.is_const else \
            ScalarV(BOOL, None, hlo.and_(hlo.not_(hlo.is_finite(x.ir)), H.compare("EQ", x.ir, x.ir, "float")), x.batch)
    shown = f"DomainError with {show_number(x)}:\n" if x.is_const else "DomainError: "
    fl.check(arith(fl, "==", bad, ScalarV(BOOL, False)), node, shown + message)


for _name in _FLOAT_UNARY:
    prim(_name)(_unary_rule(_name))


for _name in ("round", "floor", "ceil", "trunc"):      # the prelude's versions with `digits` call these
    PRIMITIVES["_" + _name] = PRIMITIVES[_name]


@prim("unsafe_trunc")
def _unsafe_trunc(fl, args, kwargs, node):
    """unsafe_trunc(T, x): trunc(T, x) without the InexactError; Julia leaves the result of a value
    outside T's range unspecified (here XLA's conversion gives one)."""
    t, x = expect_args(args, 2)
    x = scalar_arg(x)
    if not isinstance(t, TypeV) or not isinstance(t.of, Scalar) or not t.of.info.is_integer \
            or t.of.info.kind == "bool" or x.t.info.is_complex:
        raise NoMethod()
    if x.t.info.is_integer:            # Base: rem(x, T), two's complement wrap-around to T's bits
        if x.is_const:
            bits = t.of.info.bits
            low = int(x.const) & ((1 << bits) - 1)
            return ScalarV(t.of, low - (1 << bits) if t.of.info.kind == "int" and low >> (bits - 1) else low)
        return ScalarV(t.of, None, H.convert(x.ir, t.of), x.batch)
    return convert_scalar(None, _unary_float(fl, "trunc", x), t.of)


@prim("!")
def _not(fl, args, kwargs, node):
    (a,) = expect_args(args, 1)
    a = scalar_arg(a)
    if a.t != BOOL:
        raise NoMethod()
    return fl.scalar_not(a)


@prim("~")
def _bitnot(fl, args, kwargs, node):
    a = scalar_arg(expect_args(args, 1)[0])
    if not a.t.info.is_integer:
        raise NoMethod()
    if a.is_const:
        return ScalarV(a.t, as_py(as_np(a.t, ~as_np(a.t, a.const))))
    return ScalarV(a.t, None, hlo.not_(a.ir), a.batch)


@prim("abs")
def _abs(fl, args, kwargs, node):
    a = scalar_arg(expect_args(args, 1)[0])
    t = real_type(a.t)
    if a.is_const:
        return ScalarV(t, as_py(as_np(t, abs(a.const))))
    if a.t.info.kind in ("uint", "bool"):
        return a
    if a.t.info.kind == "int":          # (x ⊻ s) - s with s the sign: see `_negative` for why not hlo.abs
        sign = hlo.shift_right_arithmetic(a.ir, H.constant(a.t, a.t.info.bits - 1, a.batch))
        return ScalarV(t, None, hlo.subtract(hlo.xor(a.ir, sign), sign), a.batch)
    return ScalarV(t, None, hlo.abs(a.ir), a.batch)


@prim("sign")
def _sign(fl, args, kwargs, node):
    a = scalar_arg(expect_args(args, 1)[0])
    if a.is_const:                     # a zero keeps its sign: Julia's sign(-0.0) is -0.0 (NumPy's is 0.0)
        return a if a.const == 0 else ScalarV(a.t, as_py(as_np(a.t, np.sign(a.const))))
    return ScalarV(a.t, None, hlo.sign(a.ir), a.batch)


@prim("isnan", "isinf", "isfinite")
def _float_class(fl, args, kwargs, node, name):
    a = scalar_arg(expect_args(args, 1)[0])
    if a.t.info.is_integer:
        return ScalarV(BOOL, name == "isfinite")
    if a.is_const:
        return ScalarV(BOOL, bool({"isnan": np.isnan, "isinf": np.isinf, "isfinite": np.isfinite}[name](a.const)))
    if name == "isnan":
        return ScalarV(BOOL, None, H.compare("NE", a.ir, a.ir, "float"), a.batch)
    finite = hlo.is_finite(a.ir)
    if name == "isfinite":
        return ScalarV(BOOL, None, finite, a.batch)
    return ScalarV(BOOL, None, hlo.and_(hlo.not_(finite), H.compare("EQ", a.ir, a.ir, "float")), a.batch)


@prim("signbit")
def _signbit(fl, args, kwargs, node):
    """The sign bit itself, so signbit(-0.0) is true (a comparison with zero cannot tell)."""
    a = scalar_arg(expect_args(args, 1)[0])
    if a.t.info.kind in ("uint", "bool"):
        return ScalarV(BOOL, False)
    if a.is_const:
        return ScalarV(BOOL, bool(np.signbit(a.const)))
    if a.t.info.kind == "int":
        return ScalarV(BOOL, None, _negative(a.ir, a.t), a.batch)
    as_int = Scalar({16: "Int16", 32: "Int32", 64: "Int64"}[a.t.info.bits])
    bits = hlo.bitcast_convert(H.tensor_type(as_int, a.batch), a.ir)
    return ScalarV(BOOL, None, H.compare("LT", bits, H.constant(as_int, 0, a.batch), "int"), a.batch)


@prim("_nonnegative_power")
def _nonnegative_power(fl, args, kwargs, node):
    """x^p of integers for p >= 0 (the prelude's `_integer_power` checks the sign), without a loop.
    XLA's integer power is right for exponents below 64 (it reads six bits), so p is taken in six-bit
    digits d_k: x^p = prod_k (x^(64^k))^(d_k). Every product wraps modulo 2^bits, so the result is
    Base's power_by_squaring's, whatever the order of the products."""
    x, p = (scalar_arg(a) for a in expect_args(args, 2))
    t, pt = (INT64 if v.t == BOOL else v.t for v in (x, p))
    if x.is_const and p.is_const:
        return ScalarV(t, as_py(as_np(t, pow(int(x.const), int(p.const), 1 << t.info.bits))))
    batch = _lanes(x, p)
    y, exponent = as_ir(fl, x, t, batch), as_ir(fl, p, pt, batch)
    out = None
    for k in range(-(-pt.info.bits // 6)):
        digit = hlo.and_(hlo.shift_right_logical(exponent, H.constant(pt, 6 * k, batch)), H.constant(pt, 63, batch))
        factor = hlo.power(y, H.convert(digit, t))
        out = factor if out is None else hlo.multiply(out, factor)
        if 6 * (k + 1) < pt.info.bits:
            y32 = hlo.power(y, H.constant(t, 32, batch))
            y = hlo.multiply(y32, y32)             # x^(64^(k+1))
    return ScalarV(t, None, out, batch)


@prim("reinterpret")
def _reinterpret(fl, args, kwargs, node):
    """The same bits read as another number type of the same size (`reinterpret(UInt64, 1.0)`)."""
    t, x = expect_args(args, 2)
    if not (isinstance(t, TypeV) and isinstance(t.of, Scalar) and isinstance(x, (ScalarV, ArrayV))):
        raise NoMethod()
    src = x.t if isinstance(x, ScalarV) else x.t.elt
    if {"bool", "complex"} & {t.of.info.kind, src.info.kind}:
        raise NoMethod(f"reinterpret between {src.name} and {t.of.name} is not supported by jlhlo (numbers of "
                       f"the same size are)")
    if t.of.info.bits != src.info.bits:
        raise NoMethod(f"reinterpret from {src.name} to {t.of.name}: their sizes differ (jlhlo reinterprets numbers "
                       f"as numbers of the same size)")
    if isinstance(x, ScalarV):
        return ScalarV(t.of, None, hlo.bitcast_convert(H.tensor_type(t.of, x.batch), fl.materialize(x)), x.batch)
    return ArrayV(ArrayT(t.of, x.t.shape), Box(hlo.bitcast_convert(H.tensor_type(t.of, x.t.shape), x.ir)))


@prim("ifelse")
def _ifelse(fl, args, kwargs, node):
    c, a, b = expect_args(args, 3)
    c, a, b = scalar_arg(c), scalar_arg(a), scalar_arg(b)
    if c.t != BOOL:
        raise NoMethod()
    return ifelse(fl, c, a, b)


@prim("real", "imag", "conj", "angle")
def complex_parts(fl, args, kwargs, node, name):
    (a,) = expect_args(args, 1)
    if name == "real" and isinstance(a, TypeV) and isinstance(a.of, Scalar):
        return TypeV(real_type(a.of))  # `real(ComplexF32) == Float32`, `real(Float64) == Float64`
    a = scalar_arg(a)
    if not a.t.info.is_complex:
        zero = ScalarV(a.t, 0)
        return {"real": a, "conj": a, "imag": zero, "angle": ScalarV(float_type(a.t), 0.0)}[name] if name != "angle" \
            else ifelse(fl, arith(fl, "<", a, zero), ScalarV(float_type(a.t), math.pi), ScalarV(float_type(a.t), 0.0))
    t = real_type(a.t)
    if a.is_const:
        return ScalarV(a.t if name == "conj" else t, as_py({"real": np.real, "imag": np.imag, "conj": np.conj,
                                                          "angle": np.angle}[name](a.const)))
    if name == "conj":
        return ScalarV(a.t, None, hlo.complex(hlo.real(a.ir), hlo.negate(hlo.imag(a.ir))), a.batch)
    if name == "angle":
        return ScalarV(t, None, hlo.atan2(hlo.imag(a.ir), hlo.real(a.ir)), a.batch)
    return ScalarV(t, None, (hlo.real if name == "real" else hlo.imag)(a.ir), a.batch)


@prim("complex")
def _complex(fl, args, kwargs, node):
    if len(args) == 1:
        a = scalar_arg(args[0])
        return convert_scalar(fl, a, promote(a.t, Scalar("ComplexF32") if a.t.name in ("Float32", "Float16")
                                              else Scalar("ComplexF64")))
    re, im = (scalar_arg(a) for a in expect_args(args, 2))
    rt = float_type(promote(re.t, im.t))
    ct = Scalar("ComplexF32" if rt.name == "Float32" else "ComplexF64")
    re, im = convert_scalar(fl, re, rt), convert_scalar(fl, im, rt)
    if re.is_const and im.is_const:
        return ScalarV(ct, complex(re.const, im.const))
    batch = _lanes(re, im)
    return ScalarV(ct, None, hlo.complex(as_ir(fl, re, rt, batch), as_ir(fl, im, rt, batch)), batch)


@prim("float")
def _float(fl, args, kwargs, node):
    (a,) = expect_args(args, 1)
    if isinstance(a, TypeV) and isinstance(a.of, Scalar):
        return TypeV(float_type(a.of))
    if isinstance(a, ArrayV):
        return convert_value(fl, a, float_type(a.t.elt), node)
    a = scalar_arg(a)
    return convert_scalar(fl, a, float_type(a.t))


@prim("promote")
def _promote(fl, args, kwargs, node):
    """promote(xs...): the numbers converted to their common type, as a tuple."""
    xs = [scalar_arg(a) for a in args]
    if not xs:
        return make_tuple([])
    others = [x.t for x in xs if not x.irrational]
    t = others[0] if others else FLOAT64
    for u in others[1:]:
        t = promote(t, u)
    if len(others) < len(xs) and t.name not in ("Float32", "Float16"):
        t = promote(t, FLOAT64)        # an irrational constant promotes as `_irrational_as` says
    return make_tuple(convert_scalar(fl, x, t, node) for x in xs)


@prim("promote_type")
def _promote_type(fl, args, kwargs, node):
    ts = [type_arg(a) for a in args]
    if not ts or not all(isinstance(a, TypeV) for a in args):
        raise NoMethod()
    t = ts[0]
    for u in ts[1:]:
        t = promote(t, u)
    return TypeV(t)


@prim("convert")
def _convert(fl, args, kwargs, node):
    t, a = expect_args(args, 2)
    if not isinstance(t, TypeV) or not isinstance(t.of, Scalar):
        raise NoMethod()
    return convert_scalar(fl, scalar_arg(a), t.of, node, exact=t.of.info.is_integer)


def convert_value(fl: Lowering, v: Value, t: Scalar, node: A.Node) -> Value:
    if isinstance(v, ScalarV):
        return convert_scalar(fl, v, t, node)
    if isinstance(v, ArrayV):
        return ArrayV(ArrayT(t, v.t.shape), Box(H.convert(v.ir, t)))
    raise NoMethod()


def type_arg(v: Value) -> Scalar:
    if isinstance(v, TypeV) and isinstance(v.of, Scalar):
        return v.of
    if isinstance(v, ScalarV):
        return v.t
    if isinstance(v, (ArrayV, ArrayListV)):
        return v.t.elt
    raise NoMethod()


@prim("zero", "one", "oneunit", "typemax", "typemin", "eps", "floatmax", "floatmin")
def _type_constants(fl, args, kwargs, node, name):
    (a,) = expect_args(args, 1)
    if isinstance(a, ArrayV) and name == "zero":
        return ArrayV(a.t, Box(H.constant(a.t.elt, 0, a.t.shape)))
    if isinstance(a, ArrayV) and name == "one":       # the multiplicative identity: I, not ones
        if a.t.ndims != 2:
            raise NoMethod()
        if a.t.shape[0] != a.t.shape[1]:
            raise NoMethod("DimensionMismatch: multiplicative identity defined only for square matrices")
        eye = H.compare("EQ", H.iota(INT64, a.t.shape, 0), H.iota(INT64, a.t.shape, 1), "int")
        return ArrayV(a.t, Box(H.convert(eye, a.t.elt)))
    if name == "eps" and isinstance(a, ScalarV) and a.t.info.is_float:
        return _ulp(a)                 # eps of a value is its spacing, not eps of its type
    t = type_arg(a)
    info = t.info
    if name in ("zero", "one", "oneunit"):
        value = 0 if name == "zero" else 1
    elif info.is_float:
        fi = np.finfo(info.np)
        value = {"typemax": math.inf, "typemin": -math.inf, "eps": float(fi.eps), "floatmax": float(fi.max),
                 "floatmin": float(fi.tiny)}[name]
    elif info.is_integer and name in ("typemax", "typemin"):
        ii = np.iinfo(info.np) if info.kind != "bool" else None
        value = (True if name == "typemax" else False) if ii is None else int(ii.max if name == "typemax" else ii.min)
    else:
        raise NoMethod()
    return ScalarV(t, as_py(as_np(t, value)))


def _ulp(x: ScalarV) -> ScalarV:
    """Julia's `eps(x)`: `ldexp(eps(T), exponent(x))` for |x| >= floatmin, the smallest subnormal
    below it, NaN for Inf and NaN. At run time it is built from the exponent field E of x as bits
    (XLA's CPU flushes subnormal products to zero): (E - p) << p where that is a normal number
    (p mantissa bits), else the subnormal 1 << (E - 1), and 1 (the smallest subnormal) for E = 0."""
    t, fi = x.t, np.finfo(x.t.info.np)
    if x.is_const:
        a = abs(float(x.const))
        v = math.nan if not math.isfinite(a) else float(fi.smallest_subnormal) if a < fi.tiny else \
            math.ldexp(float(fi.eps), math.frexp(a)[1] - 1)
        return ScalarV(t, as_py(as_np(t, v)))
    bits = t.info.bits
    as_int = Scalar({16: "Int16", 32: "Int32", 64: "Int64"}[bits])
    p = fi.nmant

    def c(v: int) -> ir.Value:
        return H.constant(as_int, v, x.batch)
    raw = hlo.bitcast_convert(H.tensor_type(as_int, x.batch), x.ir)
    e = hlo.and_(hlo.shift_right_logical(raw, c(p)), c((1 << (bits - 1 - p)) - 1))
    normal = hlo.shift_left(hlo.subtract(e, c(p)), c(p))
    subnormal = hlo.shift_left(c(1), hlo.maximum(hlo.subtract(e, c(1)), c(0)))
    ulp_bits = hlo.select(H.compare("GT", e, c(p), "int"), normal, subnormal)
    ulp = hlo.bitcast_convert(H.tensor_type(t, x.batch), ulp_bits)
    ulp = hlo.select(hlo.is_finite(x.ir), ulp, H.constant(t, math.nan, x.batch))
    return ScalarV(t, None, ulp, x.batch)


@prim("nextfloat", "prevfloat")
def _nextfloat(fl, args, kwargs, node, name):
    """The adjacent float above (below): the next bit pattern in the direction away from zero for
    positives, towards it for negatives; ±0.0 step to the smallest subnormal; ±Inf stay where the
    step would leave the floats, NaN stays NaN."""
    (a,) = expect_args(args, 1)
    x = scalar_arg(a)
    if not x.t.info.is_float or x.t.info.is_complex:
        raise NoMethod()
    up = name == "nextfloat"
    t = x.t
    if x.is_const:
        v = as_np(t, x.const)
        return ScalarV(t, as_py(np.nextafter(v, as_np(t, math.inf if up else -math.inf))))
    bits = t.info.bits
    as_int = Scalar({16: "Int16", 32: "Int32", 64: "Int64"}[bits])
    batch = x.batch

    def c(v: int) -> ir.Value:
        return H.constant(as_int, v, batch)
    raw = hlo.bitcast_convert(H.tensor_type(as_int, batch), x.ir)
    negative = H.compare("LT", raw, c(0), "int")
    step = hlo.select(negative, c(-1 if up else 1), c(1 if up else -1))
    stepped = hlo.bitcast_convert(H.tensor_type(t, batch), hlo.add(raw, step))
    # zero by its bits: XLA's CPU reads subnormal operands of a comparison as zero
    zero = H.compare("EQ", hlo.and_(raw, c((1 << (bits - 1)) - 1)), c(0), "int")
    tiny = H.constant(t, float(np.finfo(t.info.np).smallest_subnormal) * (1 if up else -1), batch)
    edge = H.constant(t, math.inf if up else -math.inf, batch)
    out = hlo.select(zero, tiny, stepped)
    out = hlo.select(H.compare("EQ", x.ir, edge, "float"), x.ir, out)
    out = hlo.select(H.compare("EQ", x.ir, x.ir, "float"), out, x.ir)
    return ScalarV(t, None, out, batch)


def get_field(fl: Lowering, obj: Value, name: str, node: A.Node) -> Value:
    if isinstance(obj, StructV):
        v = obj.get(name)
        if v is not None:
            return v
        raise fl.error(f"FieldError: type {obj.t.julia()} has no field `{name}`", node)
    if isinstance(obj, ScalarV) and name in ("re", "im") and obj.t.info.is_complex:
        return complex_parts(fl, [obj], {}, node, name="real" if name == "re" else "imag")
    raise fl.error(f"FieldError: type {obj.t.julia()} has no field `{name}`", node)


@prim("getfield")
def _getfield(fl, args, kwargs, node):
    obj, name = expect_args(args, 2)
    if not isinstance(name, SingletonV):
        raise NoMethod()
    return get_field(fl, obj, name.name, node)


# ============================================================================ tuples
def make_tuple(items) -> TupleV:
    items = tuple(items)
    return TupleV(TupleT(tuple(i.t for i in items)), items)
