"""Constant folding with NumPy: an op whose operands are all small `stablehlo.constant`s becomes a
constant.

A folded value must be bit for bit what XLA would compute, so only exactly rounded operations fold
(IEEE add, subtract, multiply, divide, sqrt; comparisons, selection, sign and data movement), never
exp, log or the trigonometric functions, whose last ulp differs between libraries. NumPy computes
in the operands' own dtype, so integer overflow wraps as it does in XLA. Anything with a subnormal
float is left alone, because a device that flushes subnormals to zero would compute otherwise, and
so is a NaN result, whose sign and payload bits are not portable.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
from jax.extend.mlir import ir
from jax.extend.mlir.dialects import stablehlo

from ..core.builder import dense_constant, tensor
from ..core.dtypes import host_readable, numpy_dtype
from .rewrite import Rule, constant_array, defining_op, make_pass, registrar

# Larger constants stay as they are: folding them would bloat the module for no gain at runtime.
MAX_ELEMENTS = 1024

# A folder gets the op and its operands' values and returns the result's value in the result's
# exact dtype, or None where folding would not match XLA.
Folder = Callable[[ir.Operation, list[np.ndarray]], "np.ndarray | None"]
FOLDERS: dict[str, Folder] = {}
_folder = registrar(FOLDERS)


def _elementwise(fn: Callable[..., np.ndarray], kinds: str) -> Folder:
    """An elementwise op computed by the NumPy ufunc `fn` for operands whose dtype kind is in `kinds`
    (NumPy rejects some pairings, such as negating a bool)."""

    def fold(op: ir.Operation, args: list[np.ndarray]) -> np.ndarray | None:
        return fn(*args) if args[0].dtype.kind in kinds else None

    return fold


for _name, _fn, _kinds in [
    ("add", np.add, "iuf"),
    ("subtract", np.subtract, "iuf"),
    ("multiply", np.multiply, "iuf"),
    ("negate", np.negative, "iuf"),
    ("abs", np.abs, "if"),
    ("sqrt", np.sqrt, "f"),
    ("and", np.bitwise_and, "biu"),
    ("or", np.bitwise_or, "biu"),
    ("xor", np.bitwise_xor, "biu"),
    ("not", np.invert, "biu"),
]:
    _folder(_name)(_elementwise(_fn, _kinds))


@_folder("divide")
def _divide(op: ir.Operation, args: list[np.ndarray]) -> np.ndarray | None:
    lhs, rhs = args
    if lhs.dtype.kind == "f":
        return np.divide(lhs, rhs)
    if lhs.dtype.kind not in "iu" or np.any(rhs == 0):
        return None
    if lhs.dtype.kind == "i" and np.any((lhs == np.iinfo(lhs.dtype).min) & (rhs == -1)):
        return None  # overflows; left to the device
    # Integer division truncates towards zero, like C. lhs - fmod(lhs, rhs) is an exact multiple of
    # rhs (fmod takes the dividend's sign), so NumPy's floor division of it is exact.
    return (lhs - np.fmod(lhs, rhs)) // rhs


@_folder("remainder")
def _remainder(op: ir.Operation, args: list[np.ndarray]) -> np.ndarray | None:
    lhs, rhs = args
    if lhs.dtype.kind == "f":
        return np.fmod(lhs, rhs)  # exact; the sign of the dividend, as C's fmod
    if lhs.dtype.kind not in "iu" or np.any(rhs == 0):
        return None
    if lhs.dtype.kind == "i" and np.any((lhs == np.iinfo(lhs.dtype).min) & (rhs == -1)):
        return None
    return np.fmod(lhs, rhs)


def _shift(kind: str) -> Folder:
    """Shifts read the amount as unsigned; an amount of the bit width or more gives 0 (and the sign's
    fill for an arithmetic right shift), where NumPy's result is undefined."""

    def fold(op: ir.Operation, args: list[np.ndarray]) -> np.ndarray | None:
        value, amount = args
        if value.dtype.kind not in "iu":
            return None
        bits = value.dtype.itemsize * 8
        unsigned = np.dtype(f"u{value.dtype.itemsize}")
        wide = amount.view(unsigned) >= bits
        safe = np.where(wide, 0, amount).astype(unsigned)
        if kind == "left":
            return np.where(wide, 0, (value.view(unsigned) << safe).view(value.dtype)).astype(value.dtype)
        if kind == "logical":
            return np.where(wide, 0, (value.view(unsigned) >> safe).view(value.dtype)).astype(value.dtype)
        signed = value.view(np.dtype(f"i{value.dtype.itemsize}"))
        filled = np.where(signed < 0, -1, 0).astype(signed.dtype)
        return np.where(wide, filled, signed >> safe.astype(signed.dtype)).astype(signed.dtype).view(value.dtype)

    return fold


_folder("shift_left")(_shift("left"))
_folder("shift_right_logical")(_shift("logical"))
_folder("shift_right_arithmetic")(_shift("arithmetic"))


def _extremum(fn: Callable[..., np.ndarray]) -> Folder:
    def fold(op: ir.Operation, args: list[np.ndarray]) -> np.ndarray | None:
        lhs, rhs = args
        if lhs.dtype.kind not in "iuf":
            return None
        # Which of -0.0 and +0.0 wins is up to the backend.
        if lhs.dtype.kind == "f" and np.any((lhs == rhs) & (np.signbit(lhs) != np.signbit(rhs))):
            return None
        return fn(lhs, rhs)

    return fold


_folder("maximum")(_extremum(np.maximum))
_folder("minimum")(_extremum(np.minimum))

_COMPARISONS = {
    "EQ": np.equal, "NE": np.not_equal, "LT": np.less, "LE": np.less_equal, "GT": np.greater, "GE": np.greater_equal,
}


@_folder("compare")
def _compare(op: ir.Operation, args: list[np.ndarray]) -> np.ndarray | None:
    lhs, rhs = args
    direction = stablehlo.ComparisonDirectionAttr(op.attributes["comparison_direction"]).value
    kind = None
    if "compare_type" in op.attributes:
        kind = stablehlo.ComparisonTypeAttr(op.attributes["compare_type"]).value
    if kind == "TOTALORDER":
        return None  # orders -0.0 before +0.0 and NaNs by bits, which NumPy does not
    if kind in ("SIGNED", "UNSIGNED") and lhs.dtype.kind in "iu":
        # Signless integers are read as signed; the comparison type says how to order the bits.
        as_type = np.dtype(f"{'i' if kind == 'SIGNED' else 'u'}{lhs.dtype.itemsize}")
        lhs, rhs = lhs.view(as_type), rhs.view(as_type)
    return _COMPARISONS[direction](lhs, rhs)


@_folder("select")
def _select(op: ir.Operation, args: list[np.ndarray]) -> np.ndarray:
    pred, on_true, on_false = args
    return np.where(pred, on_true, on_false)  # a scalar predicate broadcasts


@_folder("convert")
def _convert(op: ir.Operation, args: list[np.ndarray]) -> np.ndarray | None:
    (x,) = args
    dtype = numpy_dtype(tensor(op.result).element_type)
    if x.dtype.kind == "f" and dtype.kind in "iu":
        # Out of range (or NaN), NumPy's cast is undefined while XLA's saturates: fold only values
        # whose truncation fits. Both bounds are powers of two, exact as floats.
        info = np.iinfo(dtype)
        low, high = float(info.min), 2.0 ** (info.bits - (dtype.kind == "i"))
        t = np.trunc(x)
        if not np.all(np.isfinite(x) & (t >= low) & (t < high)):
            return None
    if dtype == np.float16 and x.dtype not in (np.float16, np.float32):
        return None  # NumPy may round through float32 first, and rounding twice can differ
    return x.astype(dtype)


@_folder("broadcast_in_dim")
def _broadcast_in_dim(op: ir.Operation, args: list[np.ndarray]) -> np.ndarray:
    (x,) = args
    dims = list(op.attributes["broadcast_dimensions"])
    shape = tensor(op.result).shape
    # Operand dim k goes to result dim dims[k]: order the operand's dims by destination, give the
    # result's other dims size 1, then let NumPy broadcast.
    order = np.argsort(dims)
    x = np.transpose(x, order)
    expanded = [1] * len(shape)
    for k, dim in enumerate(sorted(dims)):
        expanded[dim] = x.shape[k]
    return np.broadcast_to(x.reshape(expanded), shape)


@_folder("reshape")
def _reshape(op: ir.Operation, args: list[np.ndarray]) -> np.ndarray:
    return args[0].reshape(tensor(op.result).shape)  # StableHLO reshapes are row-major too


@_folder("transpose")
def _transpose(op: ir.Operation, args: list[np.ndarray]) -> np.ndarray:
    return np.transpose(args[0], list(op.attributes["permutation"]))


@_folder("concatenate")
def _concatenate(op: ir.Operation, args: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(args, axis=ir.IntegerAttr(op.attributes["dimension"]).value)


@_folder("clamp")
def _clamp(op: ir.Operation, args: list[np.ndarray]) -> np.ndarray | None:
    # integers only: a float clamp's NaN and signed-zero results are XLA's to define
    low, x, high = args
    return np.minimum(np.maximum(x, low), high) if x.dtype.kind in "iu" else None


@_folder("slice")
def _slice(op: ir.Operation, args: list[np.ndarray]) -> np.ndarray:
    bounds = zip(*(list(op.attributes[k]) for k in ("start_indices", "limit_indices", "strides")))
    return args[0][tuple(slice(start, limit, stride) for start, limit, stride in bounds)]


def _has_subnormal(a: np.ndarray) -> bool:
    return a.dtype.kind == "f" and bool(np.any((a != 0) & (np.abs(a) < np.finfo(a.dtype).smallest_normal)))


def _fold(op: ir.Operation) -> ir.Value | None:
    # cheapest test first: most ops have an operand that is not a constant
    if not all(defining_op(v, "stablehlo.constant") is not None for v in op.operands):
        return None
    result_type = tensor(op.result)
    dtype = numpy_dtype(result_type.element_type)
    if not host_readable(dtype) or not result_type.has_static_shape:
        return None
    if np.prod(result_type.shape, dtype=np.int64) > MAX_ELEMENTS:
        return None
    args = [constant_array(v, MAX_ELEMENTS) for v in op.operands]
    if any(a is None or _has_subnormal(a) for a in args):
        return None
    with np.errstate(all="ignore"):  # overflow wraps and 1/0 is inf, on purpose
        out = FOLDERS[op.name](op, args)
    if out is None:
        return None
    out = np.asarray(out).reshape(result_type.shape)
    if out.dtype != dtype:
        raise AssertionError(f"folding {op.name} gave {out.dtype}, expected {dtype}")
    # NaN bits (sign, payload) differ between NumPy and XLA, so a NaN result stays on the device.
    if _has_subnormal(out) or (out.dtype.kind == "f" and np.isnan(out).any()):
        return None
    return dense_constant(out, result_type)


RULES: dict[str, Rule] = {name: _fold for name in FOLDERS}

fold = make_pass(RULES)
