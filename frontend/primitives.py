"""Primitives: the functions implemented in Python because each maps onto StableHLO ops.

Everything else in the library is Julia source in `prelude/`. A rule has the shape
`rule(fl, args, kwargs, node) -> Value`; it receives values whose types inference already knows,
folds compile-time constants with NumPy (exact dtypes, so integer overflow wraps as in Julia), and
otherwise emits ops. A rule that does not apply to its argument types raises `NoMethod`, which the
caller reports as Julia's `MethodError`. All rules are registered in the one table `PRIMITIVES`.
"""
from __future__ import annotations

import functools
import inspect
import math
from typing import TYPE_CHECKING, Callable

import numpy as np
from jax.extend.mlir import ir
from jax.extend.mlir.dialects import stablehlo as hlo

from . import ast as A
from . import hlo as H
from .diagnostics import JuliaError
from .ranges import collect_range, make_range, range_length
from .types import BOOL, FLOAT64, INT64, ArrayT, Scalar, StructT, TupleT, float_type, promote, real_type
from .values import (
    ArrayListV,
    ArrayV,
    Box,
    FuncV,
    LaneConflict,
    RangeV,
    ScalarV,
    SingletonV,
    StructV,
    TupleV,
    TypeV,
    Value,
    colon,
    nothing,
)

if TYPE_CHECKING:
    from .lower import FunctionLowering

PRIMITIVES: dict[str, Callable] = {}


class NoMethod(Exception):
    """The rule does not apply to these argument types (a MethodError), optionally with a message."""


def prim(*names: str, keywords: tuple[str, ...] = ()):
    """Register a rule under one or more names; a rule with a `name` parameter is told which one was
    called. A keyword argument not in `keywords` is a MethodError before the rule runs (ignoring
    one, as `round(x; digits=2)` once did, would silently give another answer)."""
    def register(fn: Callable) -> Callable:
        wants_name = "name" in inspect.signature(fn).parameters
        for n in names:
            rule = functools.partial(fn, name=n) if wants_name else fn
            PRIMITIVES[n] = _keywords_checked(n, rule, keywords)
        return fn
    return register


def _keywords_checked(name: str, rule: Callable, keywords: tuple[str, ...]) -> Callable:
    def checked(fl, args, kwargs, node):  # noqa: ANN001
        extra = sorted(set(kwargs) - set(keywords))
        if extra:
            accepted = f" (it accepts {', '.join(keywords)})" if keywords else " (it takes none)"
            raise NoMethod(f"MethodError: {name} got unsupported keyword argument{'s' if len(extra) > 1 else ''} "
                           f"{', '.join('`' + e + '`' for e in extra)}{accepted}")
        return rule(fl, args, kwargs, node)
    return checked


# ============================================================================ scalar arithmetic
def _np(t: Scalar, value: object):
    with np.errstate(all="ignore"):
        return np.array(value).astype(t.info.np)[()]


def _py(x) -> object:
    return x.item() if hasattr(x, "item") else x


def _lanes(a: ScalarV, b: ScalarV) -> tuple[int, ...]:
    if a.batch and b.batch and a.batch != b.batch:
        raise LaneConflict()           # values per lane of two different lane-wise computations
    return a.batch or b.batch


def _ir(fl: FunctionLowering, v: ScalarV, t: Scalar, batch: tuple[int, ...]):
    """v as a runtime tensor of element type t and lane shape batch."""
    if v.is_const:
        return H.constant(t, _py(_np(t, v.const)), batch)
    return H.broadcast(H.convert(v.ir, t), batch)


def convert_scalar(fl: FunctionLowering, v: ScalarV, t: Scalar, node: A.Node | None = None,
                   exact: bool = False) -> ScalarV:
    """convert(T, v); with `exact`, a non-integral float to an integer type is an InexactError."""
    if v.t == t:
        return v
    if t.info.kind == "bool" and v.t.info.kind != "bool":
        exact = True
    if v.is_const:
        c = v.const
        if exact and t.info.is_integer and isinstance(c, (float, complex)) and not float(np.real(c)).is_integer():
            raise JuliaError(f"InexactError: {t.name}({c!r})", getattr(node, "span", None))
        if isinstance(c, complex) and not t.info.is_complex:
            c = c.real
        return ScalarV(t, _py(_np(t, c)))
    src = v.ir
    if v.t.info.is_complex and not t.info.is_complex:
        src = hlo.real(src)
    if v.t.info.is_float and t.info.is_integer and t.info.kind != "bool" and fl is not None:
        _check_integral(fl, v, t, node)
    return ScalarV(t, None, H.convert(src, t), v.batch)


def _check_integral(fl: FunctionLowering, v: ScalarV, t: Scalar, node: A.Node | None) -> None:
    """Julia's conversion of a float to an integer type throws InexactError unless the value is an
    integer in the type's range: a run-time check, reported after the run like a BoundsError."""
    x = v.ir
    lo, hi = (float(b) for b in (np.iinfo(t.info.np).min, np.iinfo(t.info.np).max))
    integral = H.compare("EQ", hlo.floor(x), x, "float")
    in_range = hlo.and_(H.compare("GE", x, H.constant(v.t, lo, v.batch), "float"),
                        H.compare("LT", x, H.constant(v.t, -lo if lo < 0 else hi + 1, v.batch), "float"))
    fl.check(ScalarV(BOOL, None, hlo.and_(integral, in_range), v.batch), node,
             f"InexactError: {t.name}(x) with x a non-integral or out-of-range {v.t.julia()} (at run time)")


def _binary(op: str, hlo_fn, np_fn, result: str = "promote"):
    """An arithmetic rule: promote both operands, fold constants, else emit `hlo_fn`."""
    def rule(fl: FunctionLowering, a: ScalarV, b: ScalarV) -> ScalarV:
        t = promote(a.t, b.t)
        if op in ("*", "+") and (a.t == BOOL) != (b.t == BOOL) and not t.info.is_integer:
            return _bool_with_float(fl, op, a, b)
        if result == "float":
            t = float_type(t)
        elif t == BOOL and op == "*":
            return _bitwise("&")(fl, a, b)            # true * true == true
        elif t == BOOL and op in ("+", "-"):
            t = INT64                  # arithmetic on Bool gives Int: true + true == 2
        batch = _lanes(a, b)
        if a.is_const and b.is_const:
            with np.errstate(all="ignore"):
                return ScalarV(t, _py(_np(t, np_fn(_np(t, a.const), _np(t, b.const)))))
        identity = _identity(op, a, b, t)
        if identity is not None:
            return identity
        return ScalarV(t, None, hlo_fn(_ir(fl, a, t, batch), _ir(fl, b, t, batch)), batch,
                       _interval(op, a, b, t), _offset(op, a, b, t))
    return rule


def _bool_with_float(fl: FunctionLowering, op: str, a: ScalarV, b: ScalarV) -> ScalarV:
    """Base's Bool arithmetic with floats: `false` is a strong zero, `false * x` is a zero with x's
    sign even for NaN or Inf, and `false + x` is x itself (so `false + -0.0` stays -0.0)."""
    flag, x = (a, b) if a.t == BOOL else (b, a)
    if x.t.info.is_complex:
        parts = [_bool_with_float(fl, op, flag, part) for part in
                 (_complex_parts(fl, [x], {}, None, name="real"), _complex_parts(fl, [x], {}, None, name="imag"))]
        return _complex(fl, parts, {}, None) if op == "*" else \
            _complex(fl, [parts[0], _complex_parts(fl, [x], {}, None, name="imag")], {}, None)
    if op == "*":
        zero = copysign_zero(fl, x)
        return ifelse(fl, flag, x, zero)
    return ifelse(fl, flag, _ARITH["+"](fl, ScalarV(x.t, 1), x), x)


def copysign_zero(fl: FunctionLowering, x: ScalarV) -> ScalarV:
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


def _trunc_div(fl: FunctionLowering, a: ScalarV, b: ScalarV) -> ScalarV:
    t = promote(a.t, b.t)
    if t.info.is_integer:
        if a.is_const and b.is_const:
            if b.const == 0:
                raise NoMethod("DivideError: integer division error")
            return ScalarV(t, _py(_np(t, _int_div(a.const, b.const))))
        if b.is_const and b.const == 1 and a.t == t:
            return a
        batch = _lanes(a, b)
        return ScalarV(t, None, hlo.divide(_ir(fl, a, t, batch), _ir(fl, b, t, batch)), batch)
    q = _ARITH["/"](fl, a, b)
    return _unary_float(fl, "trunc", q)


def _rem(fl: FunctionLowering, a: ScalarV, b: ScalarV) -> ScalarV:
    t = promote(a.t, b.t)
    if a.is_const and b.is_const:
        if t.info.is_integer:
            if b.const == 0:
                raise NoMethod("DivideError: integer division error")
            return ScalarV(t, _py(_np(t, int(a.const) - _int_div(a.const, b.const) * int(b.const))))
        return ScalarV(t, math.fmod(a.const, b.const))
    batch = _lanes(a, b)
    return ScalarV(t, None, hlo.remainder(_ir(fl, a, t, batch), _ir(fl, b, t, batch)), batch)


def _mod(fl: FunctionLowering, a: ScalarV, b: ScalarV) -> ScalarV:
    """mod takes the divisor's sign: r = rem(a, b); r + b where r and b differ in sign."""
    r = _rem(fl, a, b)
    b = convert_scalar(fl, b, r.t)
    zero = ScalarV(r.t, 0)
    differ = arith(fl, "!=", arith(fl, "<", r, zero), arith(fl, "<", b, zero))
    fix = arith(fl, "&", differ, arith(fl, "!=", r, zero))
    return ifelse(fl, fix, arith(fl, "+", r, b), r)


def _power(fl: FunctionLowering, a: ScalarV, b: ScalarV) -> ScalarV:
    if b.is_const and b.t.info.is_integer and not isinstance(b.const, bool) and 0 <= b.const <= 4 \
            and not a.is_const:
        # x^2 is x*x, as Julia's literal_pow
        out = ScalarV(a.t, 1) if b.const == 0 else a
        for _ in range(int(b.const) - 1):
            out = _ARITH["*"](fl, out, a)
        return out if b.const else ScalarV(a.t, None, H.broadcast(H.constant(a.t, 1), a.batch), a.batch)
    if a.t.info.is_integer and b.t.info.is_integer:
        t = a.t if a.t.info.kind != "bool" else INT64
        if a.is_const and b.is_const:
            if b.const < 0 and abs(a.const) != 1:
                raise NoMethod("DomainError: cannot raise an integer to a negative power")
            return ScalarV(t, _py(_np(t, pow(int(a.const), int(b.const), 1 << 64) if b.const >= 0
                                      else int(a.const) ** int(b.const))))
        batch = _lanes(a, b)
        return ScalarV(t, None, hlo.power(_ir(fl, a, t, batch), _ir(fl, b, t, batch)), batch)
    t = a.t if (a.t.info.is_float or a.t.info.is_complex) and b.t.info.is_integer else promote(a.t, b.t)
    t = float_type(t)
    if a.is_const and b.is_const:
        return ScalarV(t, _py(_np(t, np.power(_np(t, a.const), _np(t, b.const)))))
    batch = _lanes(a, b)
    return ScalarV(t, None, hlo.power(_ir(fl, a, t, batch), _ir(fl, b, t, batch)), batch)


def _bitwise(kind: str):
    builders = {"&": (hlo.and_, np.bitwise_and), "|": (hlo.or_, np.bitwise_or), "xor": (hlo.xor, np.bitwise_xor)}
    hlo_fn, np_fn = builders[kind]

    def rule(fl: FunctionLowering, a: ScalarV, b: ScalarV) -> ScalarV:
        if not (a.t.info.is_integer and b.t.info.is_integer):
            raise NoMethod()
        return _binary(kind, hlo_fn, np_fn)(fl, a, b)
    return rule


def _shift(kind: str):
    """Julia's shifts: a negative count shifts the other way; a count past the width gives 0 (or the
    sign for an arithmetic right shift)."""
    def rule(fl: FunctionLowering, a: ScalarV, b: ScalarV) -> ScalarV:
        if not (a.t.info.is_integer and b.t.info.is_integer):
            raise NoMethod()
        t = a.t
        if a.is_const and b.is_const:
            n = int(b.const) if kind == "<<" else -int(b.const)      # n > 0: left
            return ScalarV(t, _py(_np(t, _shift_const(int(a.const), n, kind, t))))
        batch = _lanes(a, b)
        x = _ir(fl, a, t, batch)
        n = _ir(fl, convert_scalar(fl, b, t) if b.t.info.bits <= t.info.bits else b, t, batch)
        right = hlo.shift_right_arithmetic if t.info.kind == "int" and kind != ">>>" else hlo.shift_right_logical
        forward, backward = (hlo.shift_left, right) if kind == "<<" else (right, hlo.shift_left)
        if t.info.kind == "uint" or b.is_const and b.const >= 0:
            return ScalarV(t, None, forward(x, n), batch)
        negative = H.compare("LT", n, H.constant(t, 0, batch), "int")
        return ScalarV(t, None, hlo.select(negative, backward(x, hlo.negate(n)), forward(x, n)), batch)
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


def _compare(op: str):
    direction, np_fn = _COMPARE[op]

    def rule(fl: FunctionLowering, a: ScalarV, b: ScalarV) -> ScalarV:
        t = promote(a.t, b.t)
        if a.is_const and b.is_const:
            return ScalarV(BOOL, bool(np_fn(_np(t, a.const), _np(t, b.const))))
        batch = _lanes(a, b)
        return ScalarV(BOOL, None, H.compare(direction, _ir(fl, a, t, batch), _ir(fl, b, t, batch), t.info.kind), batch)
    return rule


def _signbits(fl: FunctionLowering, v: ScalarV, t: Scalar, batch: tuple[int, ...]) -> ir.Value:
    return _signbit(fl, [ScalarV(t, None, _ir(fl, v, t, batch), batch)], {}, None).ir


def _identical(fl: FunctionLowering, a: ScalarV, b: ScalarV) -> ScalarV:
    """`a === b`: the same type and the same bits (so -0.0 !== 0.0 and NaN === NaN, 1 !== 1.0)."""
    if a.t != b.t:
        return ScalarV(BOOL, False)
    if a.is_const and b.is_const:
        return ScalarV(BOOL, _np(a.t, a.const).tobytes() == _np(b.t, b.const).tobytes())
    if not (a.t.info.is_float or a.t.info.is_complex):
        return _compare("==")(fl, a, b)
    batch = _lanes(a, b)
    parts = (lambda v: [hlo.real(v), hlo.imag(v)]) if a.t.info.is_complex else (lambda v: [v])
    same = None
    for x, y in zip(parts(_ir(fl, a, a.t, batch)), parts(_ir(fl, b, b.t, batch))):
        bits = Scalar({16: "Int16", 32: "Int32", 64: "Int64"}[ir.FloatType(ir.RankedTensorType(x.type).element_type)
                                                             .width])
        eq = H.compare("EQ", hlo.bitcast_convert(H.tensor_type(bits, batch), x),
                       hlo.bitcast_convert(H.tensor_type(bits, batch), y), "int")
        same = eq if same is None else hlo.and_(same, eq)
    return ScalarV(BOOL, None, same, batch)


def _isequal(fl: FunctionLowering, a: ScalarV, b: ScalarV) -> ScalarV:
    """isequal: == except that NaNs are equal to each other and -0.0 is not equal to 0.0."""
    t = promote(a.t, b.t)
    if not t.info.is_float:
        return _compare("==")(fl, a, b)
    if a.is_const and b.is_const:
        x, y = float(_np(t, a.const)), float(_np(t, b.const))
        return ScalarV(BOOL, math.isnan(x) and math.isnan(y) or x == y and math.copysign(1, x) == math.copysign(1, y))
    batch = _lanes(a, b)
    x, y = _ir(fl, a, t, batch), _ir(fl, b, t, batch)
    same_sign = H.compare("EQ", _signbits(fl, a, t, batch), _signbits(fl, b, t, batch), "bool")
    equal = hlo.and_(H.compare("EQ", x, y, "float"), same_sign)
    both_nan = hlo.and_(H.compare("NE", x, x, "float"), H.compare("NE", y, y, "float"))
    return ScalarV(BOOL, None, hlo.or_(equal, both_nan), batch)


def _isless(fl: FunctionLowering, a: ScalarV, b: ScalarV) -> ScalarV:
    """isless: < except that -0.0 is less than 0.0 and NaN is greater than everything (sort order)."""
    t = promote(a.t, b.t)
    if not t.info.is_float:
        return _compare("<")(fl, a, b)
    if a.is_const and b.is_const:
        x, y = float(_np(t, a.const)), float(_np(t, b.const))
        if math.isnan(x) or math.isnan(y):
            return ScalarV(BOOL, not math.isnan(x))
        return ScalarV(BOOL, x < y or x == y and math.copysign(1, x) < math.copysign(1, y))
    batch = _lanes(a, b)
    x, y = _ir(fl, a, t, batch), _ir(fl, b, t, batch)
    sx, sy = _signbits(fl, a, t, batch), _signbits(fl, b, t, batch)
    zeros = hlo.and_(H.compare("EQ", x, y, "float"), hlo.and_(sx, hlo.not_(sy)))
    nan_after = hlo.and_(H.compare("EQ", x, x, "float"), H.compare("NE", y, y, "float"))
    return ScalarV(BOOL, None, hlo.or_(hlo.or_(H.compare("LT", x, y, "float"), zeros), nan_after), batch)


_ARITH: dict[str, Callable] = {
    "+": _binary("+", hlo.add, np.add),
    "-": _binary("-", hlo.subtract, np.subtract),
    "*": _binary("*", hlo.multiply, np.multiply),
    "/": _binary("/", hlo.divide, np.divide, result="float"),
    "÷": _trunc_div, "div": _trunc_div, "%": _rem, "rem": _rem, "mod": _mod, "^": _power,
    "max": _binary("max", hlo.maximum, np.maximum), "min": _binary("min", hlo.minimum, np.minimum),
    "&": _bitwise("&"), "|": _bitwise("|"), "xor": _bitwise("xor"), "⊻": _bitwise("xor"),
    "<<": _shift("<<"), ">>": _shift(">>"), ">>>": _shift(">>>"),
    **{op: _compare(op) for op in _COMPARE},
    "≤": _compare("<="), "≥": _compare(">="), "≠": _compare("!="),
    "===": _identical, "!==": lambda fl, a, b: fl.scalar_not(_identical(fl, a, b)), "≡": _identical,
    "isequal": _isequal, "isless": _isless,
}


def arith(fl: FunctionLowering, op: str, a: ScalarV, b: ScalarV | None = None) -> ScalarV:
    """Binary scalar arithmetic for internal use (`convert` converts a to b's type; floor_int floors to Int64)."""
    if op == "convert":
        return convert_scalar(fl, a, b.t)
    if op == "floor_int":
        return convert_scalar(fl, _unary_float(fl, "floor", a), INT64)
    return _ARITH[op](fl, a, b)


def ifelse(fl: FunctionLowering, c: ScalarV, a: ScalarV, b: ScalarV) -> ScalarV:
    if c.is_const:
        return a if c.const else b
    if a.t != b.t:
        t = promote(a.t, b.t)
        a, b = convert_scalar(fl, a, t), convert_scalar(fl, b, t)
    batch = c.batch or a.batch or b.batch
    return ScalarV(a.t, None, hlo.select(H.broadcast(c.ir, batch), _ir(fl, a, a.t, batch), _ir(fl, b, b.t, batch)),
                   batch)


# ---- unary math
_FLOAT_UNARY = {
    "sqrt": (hlo.sqrt, np.sqrt), "√": (hlo.sqrt, np.sqrt), "exp": (hlo.exponential, np.exp),
    "log": (hlo.log, np.log), "sin": (hlo.sine, np.sin), "cos": (hlo.cosine, np.cos), "tan": (hlo.tan, np.tan),
    "tanh": (hlo.tanh, np.tanh), "log1p": (hlo.log_plus_one, np.log1p), "expm1": (hlo.exponential_minus_one, np.expm1),
    "floor": (hlo.floor, np.floor), "ceil": (hlo.ceil, np.ceil), "round": (hlo.round_nearest_even, np.round),
    "trunc": (lambda x: _trunc_ir(x), np.trunc), "cbrt": (hlo.cbrt, np.cbrt),
    "atan": (lambda x: hlo.atan2(x, H.constant_like(x, 1.0)), np.arctan), "logistic": (hlo.logistic, None),
}


def _trunc_ir(x):
    return hlo.select(H.compare("LT", x, H.constant_like(x, 0.0), "float"), hlo.ceil(x), hlo.floor(x))


def _unary_float(fl: FunctionLowering, name: str, a: ScalarV) -> ScalarV:
    hlo_fn, np_fn = _FLOAT_UNARY[name]
    if name in ("floor", "ceil", "round", "trunc") and a.t.info.is_integer:
        return a
    t = float_type(a.t)
    if a.is_const and np_fn is not None:
        with np.errstate(all="ignore"):
            v = np_fn(_np(t, a.const))
        if t.info.is_float and np.isnan(v) and not np.isnan(_np(t, a.const)) and name in ("sqrt", "√", "log"):
            raise NoMethod(f"DomainError with {a.const}: {name} was called with a negative real argument")
        return ScalarV(t, _py(_np(t, v)))
    return ScalarV(t, None, hlo_fn(_ir(fl, a, t, a.batch)), a.batch)


def _atan2(fl: FunctionLowering, y: ScalarV, x: ScalarV) -> ScalarV:
    """atan(y, x): the angle of the point (x, y), in the quadrant Julia's atan gives."""
    t = float_type(promote(y.t, x.t))
    if t.info.is_complex:
        raise NoMethod()
    if y.is_const and x.is_const:
        with np.errstate(all="ignore"):
            return ScalarV(t, _py(np.arctan2(_np(t, y.const), _np(t, x.const))))
    batch = _lanes(y, x)
    return ScalarV(t, None, hlo.atan2(_ir(fl, y, t, batch), _ir(fl, x, t, batch)), batch)


@prim("count_ones", "count_zeros", "leading_zeros", "trailing_zeros", "leading_ones", "trailing_ones")
def _bit_count(fl, args, kwargs, node, name):
    """Bit counts of an integer, as an Int."""
    (a,) = _expect(args, 1)
    a = _scalar(a)
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
        lowest = hlo.and_(x, hlo.subtract(H.constant_like(x, 0), x))
        x = hlo.popcnt(hlo.subtract(lowest, H.constant_like(x, 1)))
    else:
        x = hlo.popcnt(x) if name == "count_ones" else hlo.count_leading_zeros(x)
    return convert_scalar(fl, ScalarV(a.t, None, x, a.batch), INT64)


def _unary_rule(name: str):
    def rule(fl, args, kwargs, node):  # noqa: ANN001
        if len(args) == 2 and isinstance(args[0], TypeV) and name in ("floor", "ceil", "round", "trunc"):
            return convert_scalar(fl, _unary_float(fl, name, _scalar(args[1])), args[0].of, node)
        if len(args) == 2 and name == "atan":
            return _atan2(fl, _scalar(args[0]), _scalar(args[1]))
        (a,) = _expect(args, 1)
        if isinstance(a, ArrayV):
            raise NoMethod(f"MethodError: no method matching {name}(::{a.t.julia()}); use the broadcast form "
                           f"`{name}.(x)` to apply it to each element")
        return _unary_float(fl, name, _scalar(a))
    return rule


for _name in _FLOAT_UNARY:
    prim(_name)(_unary_rule(_name))
for _name in ("round", "floor", "ceil", "trunc"):      # the prelude's versions with `digits` call these
    PRIMITIVES["_" + _name] = PRIMITIVES[_name]


def const_int(v: Value, what: str) -> int:
    """The value of a compile-time constant integer; a run-time value is refused (it would decide a
    shape or a type, which must be known when compiling)."""
    if not isinstance(v, ScalarV) or not v.t.info.is_integer:
        raise NoMethod(f"{what} must be an integer, got {v.t.julia()}")
    if not v.is_const:
        raise NoMethod(f"{what} must be known at compile time (it decides the shape of the result), but it is "
                       f"a run-time value here")
    return int(v.const)


def _scalar(v: Value) -> ScalarV:
    if not isinstance(v, ScalarV):
        raise NoMethod()
    return v


def _expect(args: list[Value], n: int) -> list[Value]:
    if len(args) != n:
        raise NoMethod()
    return args


@prim("-")
def _minus(fl, args, kwargs, node):
    if len(args) == 1:
        a = args[0]
        if isinstance(a, ArrayV):
            return _elementwise(fl, "-", args, node)
        a = _scalar(a)
        t = a.t if a.t.info.kind != "bool" else INT64
        if a.is_const:
            return ScalarV(t, _py(_np(t, -_np(t, a.const))))
        return ScalarV(t, None, hlo.negate(_ir(fl, a, t, a.batch)), a.batch)
    return _binary_prim("-")(fl, args, kwargs, node)


@prim("+")
def _plus(fl, args, kwargs, node):
    if len(args) == 1:
        return args[0]
    if len(args) > 2:
        out = args[0]
        for a in args[1:]:
            out = _plus(fl, [out, a], kwargs, node)
        return out
    return _binary_prim("+")(fl, args, kwargs, node)


def _elementwise(fl: FunctionLowering, op: str, args: list[Value], node: A.Node) -> Value:
    from .broadcast import broadcast_call
    return broadcast_call(fl, FuncV(op), args, {}, node)


def _binary_prim(op: str):
    def rule(fl, args, kwargs, node):
        if len(args) != 2:
            if op in ("max", "min", "*", "&", "|") and len(args) > 2:
                out = args[0]
                for a in args[1:]:
                    out = rule(fl, [out, a], kwargs, node)
                return out
            raise NoMethod()
        a, b = args
        if isinstance(a, ScalarV) and isinstance(b, ScalarV):
            try:
                return _ARITH[op](fl, a, b)
            except ZeroDivisionError:
                raise NoMethod("DivideError: integer division error") from None
        if op in ("+", "-") and isinstance(a, ArrayV) and isinstance(b, ArrayV):
            if a.t.shape != b.t.shape:
                raise NoMethod(f"DimensionMismatch: a has size {_shape_str(a.t.shape)}, b has size "
                               f"{_shape_str(b.t.shape)}, mismatch in `{op}` (use `.{op}` to broadcast)")
            return _elementwise(fl, op, args, node)
        if op in ("*",) and (isinstance(a, ScalarV) and isinstance(b, ArrayV) or
                             isinstance(a, ArrayV) and isinstance(b, ScalarV)):
            return _elementwise(fl, op, args, node)
        if op in ("/",) and isinstance(a, ArrayV) and isinstance(b, ScalarV):
            return _elementwise(fl, op, args, node)
        if op == "*" and isinstance(a, ArrayV) and isinstance(b, ArrayV):
            from .arrays import matmul
            return matmul(fl, a, b, node)
        if op in ("==", "!=", "===", "!==", "≡", "isequal") and not (isinstance(a, ScalarV) and isinstance(b, ScalarV)):
            eq = _values_equal(fl, a, b, node, {"!=": "==", "!==": "===", "≡": "==="}.get(op, op))
            return eq if op in ("==", "===", "≡", "isequal") else fl.scalar_not(eq)
        if _is_uniform_scaling(a) or _is_uniform_scaling(b):
            return _uniform_scaling(fl, op, a, b, node)
        raise NoMethod()
    return rule


def _is_uniform_scaling(v: Value) -> bool:
    return isinstance(v, StructV) and isinstance(v.t, StructT) and v.t.name == "UniformScaling"


def _uniform_scaling(fl: FunctionLowering, op: str, a: Value, b: Value, node: A.Node) -> Value:
    """LinearAlgebra's `I`: λI scales, and A ± λI adds λ on the diagonal of a square matrix."""
    from .calls import default_construct
    if op == "*" and isinstance(a, ScalarV) and _is_uniform_scaling(b):
        return default_construct(fl, "UniformScaling", [_ARITH["*"](fl, a, b.items[0])], node)
    if op in ("*", "/") and _is_uniform_scaling(a) and isinstance(b, ScalarV):
        return default_construct(fl, "UniformScaling", [_ARITH[op](fl, a.items[0], b)], node)
    if op == "*" and _is_uniform_scaling(a) and isinstance(b, ArrayV):
        return _elementwise(fl, "*", [a.items[0], b], node)
    if op == "*" and isinstance(a, ArrayV) and _is_uniform_scaling(b):
        return _elementwise(fl, "*", [a, b.items[0]], node)
    if op in ("+", "-"):
        matrix, scaling = (a, b) if isinstance(a, ArrayV) else (b, a)
        if isinstance(matrix, ArrayV) and _is_uniform_scaling(scaling) and matrix.t.ndims == 2:
            n, m = matrix.t.shape
            if n != m:
                raise NoMethod(f"DimensionMismatch: a matrix of size {_shape_str(matrix.t.shape)} is not square, "
                               f"so `{op} I` is not defined")
            λ = scaling.items[0]
            t = promote(matrix.t.elt, λ.t)
            eye = H.convert(hlo.convert(H.tensor_type(BOOL, (n, n)), H.compare(
                "EQ", H.iota(INT64, (n, n), 0), H.iota(INT64, (n, n), 1), "int")), t)
            diag = ArrayV(ArrayT(t, (n, n)), Box(hlo.multiply(eye, H.broadcast(fl.materialize(
                convert_scalar(fl, λ, t)), (n, n)))))
            if op == "+":
                return _elementwise(fl, "+", [matrix, diag], node)
            return _elementwise(fl, "-", [a, diag] if a is matrix else [diag, b], node)
    raise NoMethod()


def _values_equal(fl: FunctionLowering, a: Value, b: Value, node: A.Node, op: str) -> ScalarV:
    """`==`, `===` and `isequal` (op) beyond numbers: types, functions and symbols compare at compile
    time; arrays element by element, except `===`, which asks whether they are the same array;
    tuples item by item; a struct's fields with `===` (Julia's default `==` for structs)."""
    if isinstance(a, TypeV) and isinstance(b, TypeV):
        same = fl.program.universe.same_type(a.of, b.of)
        if same is None:
            raise NoMethod("comparing these types is not supported (one has free type parameters)")
        return ScalarV(BOOL, same)
    if isinstance(a, (FuncV, SingletonV)) or isinstance(b, (FuncV, SingletonV)):
        return ScalarV(BOOL, type(a) is type(b) and a.t == b.t and getattr(a, "name", None) == getattr(b, "name", None))
    if isinstance(a, ArrayV) and isinstance(b, ArrayV):
        if op == "===":
            if a.box is b.box or not (a.box.derived or b.box.derived):
                return ScalarV(BOOL, a.box is b.box)
            raise NoMethod("`===` of a view or a branch-dependent array is not supported")
        if a.t.shape != b.t.shape:
            return ScalarV(BOOL, False)
        from .broadcast import broadcast_call
        return _reduce(fl, [FuncV("&"), broadcast_call(fl, FuncV(op), [a, b], {}, node), colon()], {}, node)
    if isinstance(a, (TupleV, StructV)) and isinstance(b, (TupleV, StructV)):
        if a.t.__class__ is not b.t.__class__ or len(a.items) != len(b.items) or op == "===" and a.t != b.t:
            return ScalarV(BOOL, False)
        item_op = "===" if isinstance(a.t, StructT) else op
        out = ScalarV(BOOL, True)
        for x, y in zip(a.items, b.items):
            part = fl.call_function(item_op, [x, y], {}, node)
            out = _ARITH["&"](fl, out, part)
        return out
    return ScalarV(BOOL, False)


def _shape_str(shape) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


for _op in _ARITH:
    if _op not in ("+", "-"):
        prim(_op)(_binary_prim(_op))


@prim("!")
def _not(fl, args, kwargs, node):
    (a,) = _expect(args, 1)
    a = _scalar(a)
    if a.t != BOOL:
        raise NoMethod()
    return fl.scalar_not(a)


@prim("~")
def _bitnot(fl, args, kwargs, node):
    a = _scalar(_expect(args, 1)[0])
    if not a.t.info.is_integer:
        raise NoMethod()
    if a.is_const:
        return ScalarV(a.t, _py(_np(a.t, ~_np(a.t, a.const))))
    return ScalarV(a.t, None, hlo.not_(a.ir), a.batch)


@prim("abs")
def _abs(fl, args, kwargs, node):
    a = _scalar(_expect(args, 1)[0])
    t = real_type(a.t)
    if a.is_const:
        return ScalarV(t, _py(_np(t, abs(a.const))))
    if a.t.info.kind in ("uint", "bool"):
        return a
    return ScalarV(t, None, hlo.abs(a.ir), a.batch)


@prim("sign")
def _sign(fl, args, kwargs, node):
    a = _scalar(_expect(args, 1)[0])
    if a.is_const:
        return ScalarV(a.t, _py(_np(a.t, np.sign(a.const))))
    return ScalarV(a.t, None, hlo.sign(a.ir), a.batch)


@prim("isnan", "isinf", "isfinite")
def _float_class(fl, args, kwargs, node, name):
    a = _scalar(_expect(args, 1)[0])
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
    a = _scalar(_expect(args, 1)[0])
    if a.t.info.kind in ("uint", "bool"):
        return ScalarV(BOOL, False)
    if a.is_const:
        return ScalarV(BOOL, bool(np.signbit(a.const)))
    if a.t.info.kind == "int":
        return ScalarV(BOOL, None, H.compare("LT", a.ir, H.constant(a.t, 0, a.batch), "int"), a.batch)
    as_int = Scalar({16: "Int16", 32: "Int32", 64: "Int64"}[a.t.info.bits])
    bits = hlo.bitcast_convert(H.tensor_type(as_int, a.batch), a.ir)
    return ScalarV(BOOL, None, H.compare("LT", bits, H.constant(as_int, 0, a.batch), "int"), a.batch)


@prim("ifelse")
def _ifelse(fl, args, kwargs, node):
    c, a, b = _expect(args, 3)
    c, a, b = _scalar(c), _scalar(a), _scalar(b)
    if c.t != BOOL:
        raise NoMethod()
    return ifelse(fl, c, a, b)


@prim("real", "imag", "conj", "angle")
def _complex_parts(fl, args, kwargs, node, name):
    a = _scalar(_expect(args, 1)[0])
    if not a.t.info.is_complex:
        zero = ScalarV(a.t, 0)
        return {"real": a, "conj": a, "imag": zero, "angle": ScalarV(float_type(a.t), 0.0)}[name] if name != "angle" \
            else ifelse(fl, arith(fl, "<", a, zero), ScalarV(float_type(a.t), math.pi), ScalarV(float_type(a.t), 0.0))
    t = real_type(a.t)
    if a.is_const:
        return ScalarV(a.t if name == "conj" else t, _py({"real": np.real, "imag": np.imag, "conj": np.conj,
                                                          "angle": np.angle}[name](a.const)))
    if name == "conj":
        return ScalarV(a.t, None, hlo.complex(hlo.real(a.ir), hlo.negate(hlo.imag(a.ir))), a.batch)
    if name == "angle":
        return ScalarV(t, None, hlo.atan2(hlo.imag(a.ir), hlo.real(a.ir)), a.batch)
    return ScalarV(t, None, (hlo.real if name == "real" else hlo.imag)(a.ir), a.batch)


@prim("complex")
def _complex(fl, args, kwargs, node):
    if len(args) == 1:
        a = _scalar(args[0])
        return convert_scalar(fl, a, promote(a.t, Scalar("ComplexF32") if a.t.name in ("Float32", "Float16")
                                              else Scalar("ComplexF64")))
    re, im = (_scalar(a) for a in _expect(args, 2))
    rt = float_type(promote(re.t, im.t))
    ct = Scalar("ComplexF32" if rt.name == "Float32" else "ComplexF64")
    re, im = convert_scalar(fl, re, rt), convert_scalar(fl, im, rt)
    if re.is_const and im.is_const:
        return ScalarV(ct, complex(re.const, im.const))
    batch = _lanes(re, im)
    return ScalarV(ct, None, hlo.complex(_ir(fl, re, rt, batch), _ir(fl, im, rt, batch)), batch)


@prim("float")
def _float(fl, args, kwargs, node):
    (a,) = _expect(args, 1)
    if isinstance(a, TypeV) and isinstance(a.of, Scalar):
        return TypeV(float_type(a.of))
    if isinstance(a, ArrayV):
        return convert_value(fl, a, float_type(a.t.elt), node)
    a = _scalar(a)
    return convert_scalar(fl, a, float_type(a.t))


@prim("promote")
def _promote(fl, args, kwargs, node):
    """promote(xs...): the numbers converted to their common type, as a tuple."""
    xs = [_scalar(a) for a in args]
    if not xs:
        return _tuple([])
    t = xs[0].t
    for x in xs[1:]:
        t = promote(t, x.t)
    return _tuple(convert_scalar(fl, x, t, node) for x in xs)


@prim("promote_type")
def _promote_type(fl, args, kwargs, node):
    ts = [_type_arg(a) for a in args]
    if not ts or not all(isinstance(a, TypeV) for a in args):
        raise NoMethod()
    t = ts[0]
    for u in ts[1:]:
        t = promote(t, u)
    return TypeV(t)


@prim("convert")
def _convert(fl, args, kwargs, node):
    t, a = _expect(args, 2)
    if not isinstance(t, TypeV) or not isinstance(t.of, Scalar):
        raise NoMethod()
    return convert_scalar(fl, _scalar(a), t.of, node, exact=t.of.info.is_integer)


def convert_value(fl: FunctionLowering, v: Value, t: Scalar, node: A.Node) -> Value:
    if isinstance(v, ScalarV):
        return convert_scalar(fl, v, t, node)
    if isinstance(v, ArrayV):
        return ArrayV(ArrayT(t, v.t.shape), Box(H.convert(v.ir, t)))
    raise NoMethod()


def _type_arg(v: Value) -> Scalar:
    if isinstance(v, TypeV) and isinstance(v.of, Scalar):
        return v.of
    if isinstance(v, ScalarV):
        return v.t
    if isinstance(v, (ArrayV, ArrayListV)):
        return v.t.elt
    raise NoMethod()


@prim("zero", "one", "oneunit", "typemax", "typemin", "eps", "floatmax", "floatmin")
def _type_constants(fl, args, kwargs, node, name):
    (a,) = _expect(args, 1)
    if isinstance(a, ArrayV) and name in ("zero", "one"):
        return ArrayV(a.t, Box(H.constant(a.t.elt, 0 if name == "zero" else 1, a.t.shape)))
    t = _type_arg(a)
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
    return ScalarV(t, _py(_np(t, value)))


# ============================================================================ structure queries
@prim("size")
def _size(fl, args, kwargs, node):
    x = args[0]
    shape = _shape(x)
    if len(args) == 1:
        items = tuple(ScalarV(INT64, d) for d in shape)
        return TupleV(TupleT(tuple(i.t for i in items)), items)
    return _dim_size(fl, shape, _scalar(args[1]), node)


def _dim_size(fl: FunctionLowering, shape: tuple[int, ...], d: ScalarV, node: A.Node) -> ScalarV:
    """size(x, d): the size of dimension d, 1 beyond the last; d may be known only at run time."""
    if not d.t.info.is_integer or d.t.info.kind == "bool":
        raise NoMethod()
    if d.is_const:
        if d.const < 1:
            raise NoMethod(f"ArgumentError: dimension out of range (got {d.const})")
        return ScalarV(INT64, shape[d.const - 1] if d.const <= len(shape) else 1)
    d = convert_scalar(fl, d, INT64)
    fl.check(arith(fl, ">=", d, ScalarV(INT64, 1)), node, "ArgumentError: dimension out of range (at run time)")
    sizes = H.array_constant(INT64, np.array(list(shape) + [1], dtype=np.int64))
    k = hlo.clamp(H.constant(INT64, 0), hlo.subtract(d.ir, H.constant(INT64, 1)), H.constant(INT64, len(shape)))
    size = H.reshape(hlo.dynamic_slice(sizes, [k], [1]), ())
    return ScalarV(INT64, None, size, interval=(min((1, *shape)), max((1, *shape))))


def _shape(x: Value) -> tuple[int, ...]:
    if isinstance(x, ArrayV):
        return x.t.shape
    if isinstance(x, ScalarV):
        return ()
    if isinstance(x, RangeV):
        n = range_length(None, x) if x.start.is_const and x.stop.is_const and x.step.is_const else None
        if n is None or not n.is_const:
            raise NoMethod("the length of a range with run-time bounds is not known at compile time")
        return (n.const,)
    if isinstance(x, (TupleV, ArrayListV)):
        return (len(x.items),)
    raise NoMethod()


@prim("length")
def _length(fl, args, kwargs, node):
    (x,) = _expect(args, 1)
    if isinstance(x, RangeV) and not (x.start.is_const and x.stop.is_const and x.step.is_const):
        return range_length(fl, x)
    if isinstance(x, StructV):
        return ScalarV(INT64, len(x.items))
    return ScalarV(INT64, int(np.prod(_shape(x), dtype=np.int64)))


@prim("ndims")
def _ndims(fl, args, kwargs, node):
    return ScalarV(INT64, len(_shape(_expect(args, 1)[0])))


@prim("eltype")
def _eltype(fl, args, kwargs, node):
    return TypeV(_type_arg(_expect(args, 1)[0]))


@prim("isempty")
def _isempty(fl, args, kwargs, node):
    return arith(fl, "==", _length(fl, args, kwargs, node), ScalarV(INT64, 0))


@prim("typeof")
def _typeof(fl, args, kwargs, node):
    return TypeV(_expect(args, 1)[0].t)


@prim("isa")
def _isa(fl, args, kwargs, node):
    v, t = _expect(args, 2)
    if not isinstance(t, TypeV):
        raise NoMethod()
    from .dispatch import Pat
    pat = t.of if isinstance(t.of, Pat) else fl.program.universe.pattern(A.Name(str(t.of) if isinstance(t.of, str)
                                                                                   else t.of.julia()), {})
    return ScalarV(BOOL, fl.program.universe.matches(pat, v.t, {}))


def get_field(fl: FunctionLowering, obj: Value, name: str, node: A.Node) -> Value:
    if isinstance(obj, StructV):
        v = obj.get(name)
        if v is not None:
            return v
        raise fl.error(f"FieldError: type {obj.t.julia()} has no field `{name}`", node)
    if isinstance(obj, ScalarV) and name in ("re", "im") and obj.t.info.is_complex:
        return _complex_parts(fl, [obj], {}, node, name="real" if name == "re" else "imag")
    raise fl.error(f"FieldError: type {obj.t.julia()} has no field `{name}`", node)


@prim("getfield")
def _getfield(fl, args, kwargs, node):
    obj, name = _expect(args, 2)
    if not isinstance(name, SingletonV):
        raise NoMethod()
    return get_field(fl, obj, name.name, node)


# ============================================================================ tuples
def _tuple(items) -> TupleV:
    items = tuple(items)
    return TupleV(TupleT(tuple(i.t for i in items)), items)


@prim("tuple")
def _tuple_prim(fl, args, kwargs, node):
    return _tuple(args)


@prim("tail")
def _tail(fl, args, kwargs, node):
    (t,) = _expect(args, 1)
    if not isinstance(t, TupleV) or not t.items:
        raise NoMethod()
    return _tuple(t.items[1:])


@prim("first", "last")
def _first_last(fl, args, kwargs, node, name):
    (t,) = _expect(args, 1)
    which = name
    if isinstance(t, (TupleV, ArrayListV)):
        if not t.items:
            raise NoMethod("BoundsError: attempt to access an empty tuple")
        return t.items[0 if which == "first" else -1]
    if isinstance(t, RangeV):
        return t.start if which == "first" else t.stop
    if isinstance(t, ArrayV):
        from .indexing import linear_element
        n = int(np.prod(t.t.shape))
        return linear_element(fl, t, ScalarV(INT64, 0 if which == "first" else n - 1), node)
    raise NoMethod()


@prim("ntuple")
def _ntuple(fl, args, kwargs, node):
    f, n = _expect(args, 2)
    n = _scalar(n)
    if not n.is_const:
        raise NoMethod("ntuple(f, n) needs a compile-time constant n")
    from .calls import call_value
    return _tuple(call_value(fl, f, [ScalarV(INT64, i)], {}, node) for i in range(1, n.const + 1))


@prim("view")
def _view(fl, args, kwargs, node):
    from .indexing import make_view
    if not args:
        raise NoMethod()
    return make_view(fl, args[0], list(args[1:]), node)


@prim("getindex")
def _getindex(fl, args, kwargs, node):
    from .indexing import index_value
    return index_value(fl, args[0], args[1:], node)


# ============================================================================ ranges
@prim(":")
def _colon_call(fl, args, kwargs, node):
    if len(args) == 2:
        return make_range(fl, args[0], None, args[1], node)
    if len(args) == 3:
        return make_range(fl, args[0], args[1], args[2], node)
    raise NoMethod()


@prim("eachindex")
def _eachindex(fl, args, kwargs, node):
    (x,) = _expect(args, 1)
    n = _length(fl, [x], {}, node)
    return make_range(fl, ScalarV(INT64, 1), None, n, node)


@prim("axes")
def _axes(fl, args, kwargs, node):
    shape = _shape(args[0])
    if len(args) == 2:
        return make_range(fl, ScalarV(INT64, 1), None, _dim_size(fl, shape, _scalar(args[1]), node), node)
    return _tuple(make_range(fl, ScalarV(INT64, 1), None, ScalarV(INT64, d), node) for d in shape)


@prim("firstindex")
def _firstindex(fl, args, kwargs, node):
    return ScalarV(INT64, 1)


@prim("lastindex")
def _lastindex(fl, args, kwargs, node):
    x = args[0]
    if len(args) == 2:
        return _dim_size(fl, _shape(x), _scalar(args[1]), node)
    return _length(fl, [x], {}, node)


def last_index(fl: FunctionLowering, arr: Value, dim: int, nidx: int, node: A.Node) -> ScalarV:
    """What `end` means in dimension `dim` of an index expression with `nidx` indices."""
    if isinstance(arr, (TupleV, StructV, ArrayListV)):
        return ScalarV(INT64, len(arr.items))
    shape = _shape(arr)
    if nidx == 1:
        return ScalarV(INT64, int(np.prod(shape, dtype=np.int64)))
    if dim == nidx - 1 and nidx < len(shape):
        return ScalarV(INT64, int(np.prod(shape[dim:], dtype=np.int64)))
    return ScalarV(INT64, shape[dim] if dim < len(shape) else 1)


# ============================================================================ reductions
_REDUCERS = {  # op name -> (hlo body, init value for a type)
    "+": (hlo.add, lambda t: 0), "add_sum": (hlo.add, lambda t: 0), "*": (hlo.multiply, lambda t: 1),
    "max": (hlo.maximum, lambda t: -math.inf if t.info.is_float else _np_info(t, "min")),
    "min": (hlo.minimum, lambda t: math.inf if t.info.is_float else _np_info(t, "max")),
    "&": (hlo.and_, lambda t: True), "|": (hlo.or_, lambda t: False),
}


def _np_info(t: Scalar, which: str):
    if t.info.kind == "bool":
        return which == "max"
    return int(getattr(np.iinfo(t.info.np), which))


def _dims_of(fl: FunctionLowering, dims: Value, nd: int) -> list[int] | None:
    """None for `:` (all dimensions); 0-based dimensions otherwise (beyond ndims: ignored, as Julia)."""
    if isinstance(dims, SingletonV):
        return None
    vals = dims.items if isinstance(dims, TupleV) else (dims,)
    out = []
    for d in vals:
        if not isinstance(d, ScalarV) or not d.is_const:
            raise NoMethod("`dims` must be a compile-time constant")
        if d.const < 1:
            raise NoMethod(f"ArgumentError: dimension must be ≥ 1, got {d.const}")
        if d.const <= nd:
            out.append(int(d.const) - 1)
    return sorted(set(out))


@prim("_reduce")
def _reduce(fl, args, kwargs, node):
    """_reduce(op, x, dims): `op` is +, *, max, min, &, |; dims is `:` (a scalar) or kept as size 1."""
    op, x, dims = _expect(args, 3)
    if not isinstance(op, FuncV) or op.name not in _REDUCERS:
        raise NoMethod(f"reduce with `{getattr(op, 'name', op.t.julia())}` is not supported (use +, *, max, min, "
                       f"&, |)")
    if isinstance(x, RangeV):
        x = collect_range(fl, x, node)
    if isinstance(x, ScalarV):
        return x
    if not isinstance(x, ArrayV):
        raise NoMethod()
    t = x.t.elt
    if op.name in ("+", "add_sum") and t.info.kind == "bool" or \
            op.name in ("+", "*", "add_sum") and t.info.kind in ("int", "uint") and t.info.bits < 64:
        t = INT64 if t.info.kind != "uint" else Scalar("UInt64")        # Julia widens small integer sums
    body, init = _REDUCERS[op.name]
    value = H.convert(x.ir, t)
    nd = x.t.ndims
    axes = _dims_of(fl, dims, nd)
    if axes == []:
        return ArrayV(ArrayT(t, x.t.shape), Box(value))
    if 0 in x.t.shape and op.name in ("max", "min"):
        raise NoMethod("ArgumentError: reducing over an empty collection is not allowed")
    reduced = H.reduce(value, H.constant(t, init(t)), list(range(nd)) if axes is None else axes, body)
    if axes is None:
        return ScalarV(t, None, reduced)
    kept = tuple(1 if i in axes else d for i, d in enumerate(x.t.shape))
    return ArrayV(ArrayT(t, kept), Box(H.reshape(reduced, kept)))


# ============================================================================ arrays
def _dims_args(fl: FunctionLowering, args: list[Value], node: A.Node) -> tuple[int, ...]:
    if len(args) == 1 and isinstance(args[0], TupleV):
        args = list(args[0].items)
    dims = []
    for a in args:
        if not isinstance(a, ScalarV) or not a.t.info.is_integer:
            raise NoMethod()
        if a.batch:
            raise LaneConflict()       # an array per lane, of a size per lane
        if not a.is_const:
            raise NoMethod("array sizes must be known at compile time (jlhlo arrays have static shapes); "
                           "this size depends on a run-time value")
        dims.append(int(a.const))
    return tuple(dims)


@prim("zeros", "ones")
def _zeros_ones(fl, args, kwargs, node, name):
    t = FLOAT64
    if args and isinstance(args[0], TypeV):
        t = _type_arg(args[0])
        args = args[1:]
    shape = _dims_args(fl, args, node)
    return ArrayV(ArrayT(t, shape), Box(H.constant(t, 0 if name == "zeros" else 1, shape)))


@prim("rand", "randn")
def _rand(fl, args, kwargs, node, name):
    """rand([T], dims...) draws uniformly from [0, 1), randn([T], dims...) from the standard normal
    distribution. They lower to `stablehlo.rng`, which XLA keeps stateful: every execution, loop
    iteration and call draws new numbers, as Julia's global RNG does (not its stream, though: the
    numbers differ from Julia's, and Random.seed! is not supported)."""
    t = FLOAT64
    if args and isinstance(args[0], TypeV):
        t = _type_arg(args[0])
        args = args[1:]
    if not isinstance(t, Scalar) or t.info.kind != "float":
        raise NoMethod(f"{name} of {t} is not supported (jlhlo draws floating-point numbers only)")
    if any(not isinstance(a, (ScalarV, TupleV)) for a in args):
        raise NoMethod(f"{name}(rng, ...), {name}(collection) and {name}(range) are not supported; "
                       f"use {name}([T,] dims...)")
    shape = _dims_args(fl, args, node)
    fl.note_draw()
    low, high = (0.0, 1.0)             # UNIFORM: [low, high); NORMAL: mean and standard deviation
    dims = H.array_constant(INT64, np.array(shape, dtype=np.int64))
    kind = hlo.RngDistributionAttr.get("UNIFORM" if name == "rand" else "NORMAL")
    drawn = hlo.rng(H.constant(t, low), H.constant(t, high), dims, kind)
    if shape:
        return ArrayV(ArrayT(t, shape), Box(drawn))
    return ScalarV(t, None, drawn)


@prim("fill")
def _fill(fl, args, kwargs, node):
    v = _scalar(args[0])
    shape = _dims_args(fl, args[1:], node)
    if v.batch:
        raise LaneConflict()
    return ArrayV(ArrayT(v.t, shape), Box(H.broadcast(fl.materialize(v), shape)))


@prim("similar")
def _similar(fl, args, kwargs, node):
    x = args[0]
    if not isinstance(x, ArrayV):
        raise NoMethod()
    t = x.t.elt
    rest = args[1:]
    if rest and isinstance(rest[0], TypeV):
        t = _type_arg(rest[0])
        rest = rest[1:]
    shape = _dims_args(fl, rest, node) if rest else x.t.shape
    # Julia leaves the contents undefined; zeros are one valid choice
    return ArrayV(ArrayT(t, shape), Box(H.constant(t, 0, shape)))


@prim("copy", "deepcopy")
def _copy(fl, args, kwargs, node):
    (x,) = _expect(args, 1)
    if isinstance(x, ArrayV):
        return ArrayV(x.t, Box(x.ir))
    return x


@prim("collect")
def _collect(fl, args, kwargs, node):
    (x,) = _expect(args, 1)
    if isinstance(x, RangeV):
        return collect_range(fl, x, node)
    if isinstance(x, ArrayV):
        return ArrayV(x.t, Box(x.ir))
    if isinstance(x, TupleV):
        from .arrays import vect
        return vect(fl, list(x.items), node)
    raise NoMethod()


@prim("fill!")
def _fill_bang(fl, args, kwargs, node):
    x, v = _expect(args, 2)
    if not isinstance(x, ArrayV):
        raise NoMethod()
    from .broadcast import fit_to_shape
    fl.write(x, fit_to_shape(fl, v, x.t, node), node)
    return x


@prim("copyto!")
def _copyto(fl, args, kwargs, node):
    dst, src = _expect(args, 2)
    if not isinstance(dst, ArrayV) or not isinstance(src, ArrayV):
        raise NoMethod()
    if dst.t.shape != src.t.shape:
        if int(np.prod(dst.t.shape)) != int(np.prod(src.t.shape)):
            raise NoMethod(f"BoundsError: copyto! of {_shape_str(src.t.shape)} into {_shape_str(dst.t.shape)}")
        from .arrays import reshape_colmajor
        src = reshape_colmajor(fl, src, dst.t.shape)
    fl.write(dst, H.convert(src.ir, dst.t.elt), node)
    return dst


@prim("reshape")
def _reshape(fl, args, kwargs, node):
    x = args[0]
    if not isinstance(x, ArrayV):
        raise NoMethod()
    dims = list(args[1].items) if len(args) == 2 and isinstance(args[1], TupleV) else args[1:]
    total = int(np.prod(x.t.shape, dtype=np.int64))
    shape, free = [], None
    for i, d in enumerate(dims):
        if isinstance(d, SingletonV) and d.t.name == "Colon":
            if free is not None:
                raise NoMethod("reshape allows at most one `:`")
            free = i
            shape.append(1)
        else:
            shape.append(_dims_args(fl, [d], node)[0])
    if free is not None:
        known = int(np.prod(shape, dtype=np.int64))
        if known == 0 or total % known:
            raise NoMethod(f"DimensionMismatch: array of size {_shape_str(x.t.shape)} cannot be reshaped with a `:`"
                           f" to fit {len(shape)} dimensions")
        shape[free] = total // known
    if int(np.prod(shape, dtype=np.int64)) != total:
        raise NoMethod(f"DimensionMismatch: new dimensions {_shape_str(shape)} must be consistent with array size "
                       f"{total}")
    from .arrays import shared_reshape
    return shared_reshape(x, tuple(shape))


@prim("vec")
def _vec(fl, args, kwargs, node):
    (x,) = _expect(args, 1)
    if isinstance(x, RangeV):
        return collect_range(fl, x, node)
    if not isinstance(x, ArrayV):
        raise NoMethod()
    if x.t.ndims == 1:
        return x                       # vec of a vector is the vector itself
    from .arrays import shared_reshape
    return shared_reshape(x, (int(np.prod(x.t.shape, dtype=np.int64)),))


@prim("permutedims")
def _permutedims(fl, args, kwargs, node):
    x = args[0]
    if not isinstance(x, ArrayV):
        raise NoMethod()
    if len(args) == 1:
        if x.t.ndims == 1:
            perm = None
        elif x.t.ndims == 2:
            perm = (1, 0)
        else:
            raise NoMethod()
    else:
        p = args[1]
        items = p.items if isinstance(p, TupleV) else ()
        perm = tuple(const_int(i, "permutedims(x, perm): the permutation") - 1 for i in items)
        if sorted(perm) != list(range(x.t.ndims)):
            raise NoMethod(f"ArgumentError: {tuple(i + 1 for i in perm)} is not a valid permutation of "
                           f"{x.t.ndims} dimensions")
    if perm is None:
        from .arrays import reshape_colmajor
        return reshape_colmajor(fl, x, (1, x.t.shape[0]))
    shape = tuple(x.t.shape[i] for i in perm)
    return ArrayV(ArrayT(x.t.elt, shape), Box(hlo.transpose(x.ir, list(perm))))


@prim("transpose", "adjoint")
def _transpose(fl, args, kwargs, node, name):
    (x,) = _expect(args, 1)
    if isinstance(x, ScalarV):
        return _complex_parts(fl, [x], {}, node, name="conj") if name == "adjoint" else x
    if not isinstance(x, ArrayV) or x.t.ndims > 2:
        raise NoMethod()
    from .arrays import adjoint_view
    out = adjoint_view(x, conj=name == "adjoint")
    if x.t.ndims == 1:
        out.row_of_vector = True
    return out


@prim("hcat", "vcat", "cat", keywords=("dims",))
def _cat(fl, args, kwargs, node, name):
    from .arrays import concatenate
    if name == "cat":
        dims = kwargs.get("dims")
        if dims is None:
            raise NoMethod("cat needs a `dims` keyword")
        return concatenate(fl, args, const_int(dims, "cat's `dims`") - 1, node)
    return concatenate(fl, args, 1 if name == "hcat" else 0, node)


@prim("reverse", keywords=("dims",))
def _reverse(fl, args, kwargs, node):
    (x,) = _expect(args, 1)
    if isinstance(x, RangeV):
        x = collect_range(fl, x, node)
    if not isinstance(x, ArrayV):
        raise NoMethod()
    dims = kwargs.get("dims")
    axes = list(range(x.t.ndims)) if dims is None else _dims_of(fl, dims, x.t.ndims)
    return ArrayV(x.t, Box(hlo.reverse(x.ir, axes)))


@prim("sort", keywords=("rev",))
def _sort(fl, args, kwargs, node):
    """sort(v; rev=false): ascending (NaN last, as Julia's isless) with `stablehlo.sort`."""
    (x,) = _expect(args, 1)
    if not isinstance(x, ArrayV) or x.t.ndims != 1 or x.t.elt.info.is_complex:
        raise NoMethod("sort is supported for real vectors")
    rev = kwargs.get("rev", ScalarV(BOOL, False))
    if not isinstance(rev, ScalarV) or not rev.is_const:
        raise NoMethod("sort's `rev` must be a compile-time constant")
    op = hlo.SortOp([x.ir.type], [x.ir], dimension=0, is_stable=True)
    scalar = H.tensor_type(x.t.elt)
    block = op.regions[0].blocks.append(scalar, scalar)
    with ir.InsertionPoint(block):
        a, b = block.arguments
        if rev.const:
            a, b = b, a
        hlo.ReturnOp([H.compare("LT", a, b, x.t.elt.info.kind) if not x.t.elt.info.is_float else
                      H.compare("LT", a, b, "totalorder")])
    return ArrayV(x.t, Box(op.results[0]))


@prim("_linear_indices")
def _linear_indices(fl, args, kwargs, node):
    """The column-major linear index (1-based) of every element of x, shaped like x."""
    (x,) = _expect(args, 1)
    if not isinstance(x, ArrayV):
        raise NoMethod()
    strides = np.cumprod((1,) + x.t.shape[:-1])
    value = H.constant(INT64, 1, x.t.shape)
    for d, stride in enumerate(strides):
        term = hlo.multiply(H.iota(INT64, x.t.shape, d), H.constant(INT64, int(stride), x.t.shape))
        value = hlo.add(value, term)
    return ArrayV(ArrayT(INT64, x.t.shape), Box(value))


@prim("_broadcast_map")
def _broadcast_map(fl, args, kwargs, node):
    """map(f, xs...) and f.(xs...) share the broadcast machinery; `map` requires equal shapes."""
    from .broadcast import broadcast_call
    f, *xs = args
    shapes = {tuple(_shape(x)) for x in xs if isinstance(x, (ArrayV, RangeV))}
    if len(shapes) > 1:
        raise NoMethod("DimensionMismatch: map over arrays of different sizes " +
                       ", ".join(_shape_str(s) for s in sorted(shapes)))
    if all(isinstance(x, TupleV) for x in xs) and xs:
        from .calls import call_value
        return _tuple(call_value(fl, f, list(items), {}, node) for items in zip(*(x.items for x in xs)))
    return broadcast_call(fl, f, list(xs), {}, node)


@prim("_foldl")
def _foldl(fl, args, kwargs, node):
    """reduce over a tuple, or with an operator that is not a built-in reducer, left to right."""
    op, x = _expect(args, 2)
    from .calls import call_value
    if isinstance(x, TupleV):
        items = list(x.items)
    else:
        raise NoMethod()
    if not items:
        raise NoMethod("ArgumentError: reducing over an empty collection is not allowed")
    acc = items[0]
    for it in items[1:]:
        acc = call_value(fl, op, [acc, it], {}, node)
    return acc


@prim("_is_builtin_reducer")
def _is_builtin_reducer(fl, args, kwargs, node):
    (op,) = _expect(args, 1)
    return ScalarV(BOOL, isinstance(op, FuncV) and op.name in _REDUCERS)


@prim("Symbol")
def _symbol(fl, args, kwargs, node):
    raise NoMethod("Symbol values are not supported")


@prim("nothing_value")
def _nothing(fl, args, kwargs, node):
    return nothing()


__all__ = ["PRIMITIVES", "NoMethod", "arith", "convert_scalar", "convert_value", "get_field",
           "last_index", "ifelse"]
# modules whose rules register themselves in PRIMITIVES (they import this module, hence last)
from . import (  # noqa: E402
    gradients,  # noqa: F401  gradient / withgradient / pullback
    nn,  # noqa: F401  NNlib primitives
)
