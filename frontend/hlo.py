"""Thin helpers over the StableHLO Python builders: MLIR types for Julia types, constants, and the
few ops whose attributes take more than one line to build. The location comes from the
surrounding `with ir.Location` set by the lowering driver."""
from __future__ import annotations

import ast
from typing import Sequence

import numpy as np
from jax.extend.mlir import ir
from jax.extend.mlir.dialects import stablehlo as hlo

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


def shape_of(v: ir.Value) -> tuple[int, ...]:
    return tuple(ir.RankedTensorType(v.type).shape)


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
    if value is None:
        value = ast.literal_eval(value_repr)
    arr = np.full(shape, value, dtype=t.info.np)
    return ir.DenseElementsAttr.get(np.ascontiguousarray(arr), type=tensor_type(t, shape))


def array_constant(t: Scalar, arr: np.ndarray) -> ir.Value:
    ttype = tensor_type(t, arr.shape)
    attr = ir.DenseElementsAttr.get(np.ascontiguousarray(arr), type=ttype)
    return hlo.constant(attr)


def constant_like(v: ir.Value, value: object) -> ir.Value:
    """A constant with the type (shape and element type) of `v`."""
    ttype = ir.RankedTensorType(v.type)
    et = ttype.element_type
    if isinstance(et, (ir.F16Type, ir.F32Type, ir.F64Type, ir.BF16Type)) or str(et) in ("f16", "f32", "f64", "bf16"):
        attr = ir.FloatAttr.get(et, float(value))
    else:
        attr = ir.IntegerAttr.get(et, int(value))
    return hlo.constant(ir.DenseElementsAttr.get_splat(ttype, attr))


def convert(v: ir.Value, to: Scalar) -> ir.Value:
    shape = shape_of(v)
    if ir.RankedTensorType(v.type).element_type == elt_type(to):
        return v
    return hlo.convert(tensor_type(to, shape), v)


def broadcast(v: ir.Value, shape: Sequence[int], dims: Sequence[int] | None = None) -> ir.Value:
    """broadcast_in_dim; `dims` maps v's dimensions into `shape` (default: the leading ones, as Julia)."""
    src = shape_of(v)
    if tuple(src) == tuple(shape):
        return v
    if dims is None:
        dims = list(range(len(src)))
    et = ir.RankedTensorType(v.type).element_type
    return hlo.broadcast_in_dim(ir.RankedTensorType.get(list(shape), et), v, list(dims))


def reshape(v: ir.Value, shape: Sequence[int]) -> ir.Value:
    if shape_of(v) == tuple(shape):
        return v
    et = ir.RankedTensorType(v.type).element_type
    return hlo.reshape(ir.RankedTensorType.get(list(shape), et), v)


def compare(direction: str, a: ir.Value, b: ir.Value, kind: str) -> ir.Value:
    """kind is the Julia scalar kind of the operands: float compares use FLOAT (NaN-aware)."""
    ctype = "TOTALORDER" if kind == "totalorder" else next(
        i.compare_type for i in SCALARS.values() if i.kind == kind)
    return hlo.compare(a, b, hlo.ComparisonDirectionAttr.get(direction),
                       compare_type=hlo.ComparisonTypeAttr.get(ctype))


def reduce(v: ir.Value, init: ir.Value, dims: Sequence[int], body_op) -> ir.Value:
    """Reduce `v` over `dims` with the binary StableHLO builder `body_op` (hlo.add, hlo.maximum ...)."""
    ttype = ir.RankedTensorType(v.type)
    out_shape = [d for i, d in enumerate(ttype.shape) if i not in dims]
    op = hlo.ReduceOp([ir.RankedTensorType.get(out_shape, ttype.element_type)], [v], [init], list(dims))
    scalar = ir.RankedTensorType.get([], ttype.element_type)
    block = op.regions[0].blocks.append(scalar, scalar)
    with ir.InsertionPoint(block):
        hlo.return_([body_op(*block.arguments)])
    return op.result


def dot_general(a: ir.Value, b: ir.Value, contract: tuple[list[int], list[int]], batch: tuple[list[int], list[int]],
                result_shape: Sequence[int]) -> ir.Value:
    et = ir.RankedTensorType(a.type).element_type
    dnums = hlo.DotDimensionNumbers.get(lhs_batching_dimensions=batch[0], rhs_batching_dimensions=batch[1],
                                        lhs_contracting_dimensions=contract[0], rhs_contracting_dimensions=contract[1])
    return hlo.dot_general(ir.RankedTensorType.get(list(result_shape), et), a, b, dnums)


def iota(t: Scalar, shape: Sequence[int], dim: int) -> ir.Value:
    return hlo.iota(tensor_type(t, shape), dim)


def gather_1d(table: ir.Value, index: ir.Value) -> ir.Value:
    """table[index] for a vector `table` and a 0-based integer `index` of any shape: that shape."""
    lanes = shape_of(index)
    dnums = hlo.GatherDimensionNumbers.get(offset_dims=[], collapsed_slice_dims=[0], operand_batching_dims=[],
                                           start_indices_batching_dims=[], start_index_map=[0],
                                           index_vector_dim=len(lanes))
    return hlo.gather(table, reshape(index, (*lanes, 1)), dnums, [1])
