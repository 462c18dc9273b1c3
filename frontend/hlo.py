"""The IR builder (`core/builder.py`) with Julia's scalar types: MLIR types for Julia types,
constants of a Julia type, conversions and comparisons by Julia kind. Type-agnostic ops
(broadcast, reshape, reduce, ...) are the builder's own. The location comes from the surrounding
`with ir.Location` set by the lowering driver."""
from __future__ import annotations

import ast
from typing import Sequence

import numpy as np
from jax.extend.mlir import ir
from jax.extend.mlir.dialects import stablehlo as hlo

from ..core import builder as B
from .types import SCALARS, Scalar


def elt_type(t: Scalar) -> ir.Type:
    info = t.info
    if info.kind == "bool":
        return ir.IntegerType.get_signless(1)
    if info.kind == "int":
        return ir.IntegerType.get_signless(info.bits)
    if info.kind == "uint":
        return ir.IntegerType.get_unsigned(info.bits)
    if info.kind == "float":
        return {16: ir.F16Type.get, 32: ir.F32Type.get, 64: ir.F64Type.get}[info.bits]()
    return ir.ComplexType.get(ir.F32Type.get() if info.bits == 64 else ir.F64Type.get())


def tensor_type(t: Scalar, shape: Sequence[int] = ()) -> ir.RankedTensorType:
    return ir.RankedTensorType.get(list(shape), elt_type(t))


def constant(t: Scalar, value: object, shape: Sequence[int] = ()) -> ir.Value:
    """A splat constant of Julia scalar type `t`."""
    # keyed by repr, not value: -0.0 == 0.0 and NaN != NaN, but their constants differ
    return hlo.constant(_splat_attr(t, repr(value), tuple(shape)))


# The same few constants (0, 1, 1.0 ...) recur everywhere: each attribute is built once per context.
# Only the current context's are kept, so a finished compilation's context can be freed.
_SPLATS: dict[tuple, ir.Attribute] = {}
_SPLATS_CONTEXT: list[ir.Context | None] = [None]


def _splat_attr(t: Scalar, value_repr: str, shape: tuple[int, ...]) -> ir.Attribute:
    context = ir.Context.current
    if _SPLATS_CONTEXT[0] is not context:
        _SPLATS.clear()
        _SPLATS_CONTEXT[0] = context
    key = (t, value_repr, shape)
    if key not in _SPLATS:
        _SPLATS[key] = _make_splat(t, value_repr, shape)
    return _SPLATS[key]


def _make_splat(t: Scalar, value_repr: str, shape: tuple[int, ...]) -> ir.Attribute:
    value = {"nan": float("nan"), "inf": float("inf"), "-inf": float("-inf")}.get(value_repr)
    if value is None and t.info.is_complex:
        value = complex(value_repr)    # also "(nan+infj)", which literal_eval refuses
    elif value is None:
        value = ast.literal_eval(value_repr)
    arr = np.full(shape, value, dtype=t.info.np)
    return ir.DenseElementsAttr.get(np.ascontiguousarray(arr), type=tensor_type(t, shape))


def array_constant(t: Scalar, arr: np.ndarray) -> ir.Value:
    return B.dense_constant(arr, tensor_type(t, arr.shape))


def convert(v: ir.Value, to: Scalar) -> ir.Value:
    return B.convert(v, elt_type(to))


def compare(direction: str, a: ir.Value, b: ir.Value, kind: str) -> ir.Value:
    """kind is the Julia scalar kind of the operands: float compares use FLOAT (NaN-aware)."""
    ctype = "TOTALORDER" if kind == "totalorder" else next(
        i.compare_type for i in SCALARS.values() if i.kind == kind)
    return B.compare(a, b, direction, ctype)


def iota(t: Scalar, shape: Sequence[int], dim: int) -> ir.Value:
    return hlo.iota(tensor_type(t, shape), dim)
