"""The one IR builder: small helpers over the StableHLO Python builders, for every stage that emits
ops (the frontend through `frontend/hlo.py`, which adds Julia's scalar types; the VJP rules of
autodiff; the rewrite passes). They take and derive MLIR types only. The location comes from the
surrounding `with ir.Location`."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from jax.extend.mlir import ir
from jax.extend.mlir.dialects import stablehlo as hlo

from .dtypes import element_info


def tensor(v: ir.Value | ir.Type) -> ir.RankedTensorType:
    return ir.RankedTensorType(v.type if isinstance(v, ir.Value) else v)


def shape(v: ir.Value | ir.Type) -> tuple[int, ...]:
    return tuple(tensor(v).shape)


def is_float(v: ir.Value | ir.Type) -> bool:
    """A tensor of real floating-point numbers (not integers, booleans or complex)."""
    t = v.type if isinstance(v, ir.Value) else v
    return isinstance(t, ir.RankedTensorType) and isinstance(ir.RankedTensorType(t).element_type, ir.FloatType)


def with_shape(t: ir.Value | ir.Type, dims: Sequence[int], element: ir.Type | None = None) -> ir.RankedTensorType:
    return ir.RankedTensorType.get(list(dims), element or tensor(t).element_type)


def full(t: ir.Value | ir.Type, value: float) -> ir.Value:
    """A splat constant of type `t` (a value's type, or a type)."""
    tt = tensor(t)
    et = tt.element_type
    attr = ir.FloatAttr.get(et, float(value)) if isinstance(et, ir.FloatType) else ir.IntegerAttr.get(et, int(value))
    return hlo.constant(ir.DenseElementsAttr.get_splat(tt, attr))


def zeros(t: ir.Value | ir.Type) -> ir.Value:
    return full(t, 0)


def i64(value: int) -> ir.Value:
    return full(ir.RankedTensorType.get([], ir.IntegerType.get_signless(64)), value)


def scalar_like(v: ir.Value, value: float) -> ir.Value:
    return full(with_shape(v, []), value)


def compare(a: ir.Value, b: ir.Value, direction: str, compare_type: str | None = None) -> ir.Value:
    """`a direction b` (EQ, LT, ...); the comparison type (FLOAT, SIGNED, UNSIGNED) follows the
    element type unless given (TOTALORDER)."""
    kind = compare_type or element_info(ir.RankedTensorType(a.type).element_type).compare_type
    return hlo.compare(a, b, hlo.ComparisonDirectionAttr.get(direction), compare_type=hlo.ComparisonTypeAttr.get(kind))


def reshape(x: ir.Value, dims: Sequence[int]) -> ir.Value:
    if shape(x) == tuple(dims):
        return x
    return hlo.reshape(with_shape(x, dims), x)


def broadcast(x: ir.Value, dims: Sequence[int], kept: Sequence[int] | None = None) -> ir.Value:
    """broadcast_in_dim of `x` to shape `dims`; `kept[i]` is the output dim of input dim i (by
    default the leading ones, as Julia broadcasts)."""
    kept = list(range(len(shape(x)))) if kept is None else list(kept)
    if shape(x) == tuple(dims) and kept == list(range(len(dims))):
        return x
    return hlo.broadcast_in_dim(with_shape(x, dims), x, kept)


def scalar_region(region: ir.Region, element: ir.Type, body) -> None:
    """Fill a reducer region `(a, b) -> body(a, b)` over 0-d tensors of `element`."""
    t = ir.RankedTensorType.get([], element)
    block = region.blocks.append(t, t)
    with ir.InsertionPoint(block):
        hlo.return_([body(*block.arguments)])


def reduce(v: ir.Value, init: ir.Value, dims: Sequence[int], body_op) -> ir.Value:
    """Reduce `v` over `dims` with the binary StableHLO builder `body_op` (hlo.add, hlo.maximum ...)."""
    out = [d for i, d in enumerate(shape(v)) if i not in dims]
    op = hlo.ReduceOp([with_shape(v, out)], [v], [init], list(dims))
    scalar_region(op.regions[0], tensor(v).element_type, body_op)
    return op.result


def reduce_sum(x: ir.Value, dims: Sequence[int]) -> ir.Value:
    dims = sorted(dims)
    if not dims:
        return x
    return reduce(x, scalar_like(x, 0), dims, hlo.add)


def sum_to_shape(x: ir.Value, dims: Sequence[int]) -> ir.Value:
    """Sum `x` down to `dims` (a scalar, or the same rank with size-1 dims)."""
    xs = shape(x)
    if xs == tuple(dims):
        return x
    if not dims:
        return reduce_sum(x, range(len(xs)))
    summed = [i for i, (a, b) in enumerate(zip(xs, dims)) if a != b]
    return reshape(reduce_sum(x, summed), dims)


def transpose(x: ir.Value, perm: Sequence[int]) -> ir.Value:
    if list(perm) == list(range(len(perm))):
        return x
    return hlo.transpose(x, list(perm))


def pad(x: ir.Value, low: Sequence[int], high: Sequence[int], interior: Sequence[int]) -> ir.Value:
    low, high, interior = (list(map(int, s)) for s in (low, high, interior))
    if not any(low) and not any(high) and not any(interior):
        return x
    return hlo.pad(x, scalar_like(x, 0), low, high, interior)


def slice_(x: ir.Value, start: Sequence[int], limit: Sequence[int], strides: Sequence[int] | None = None) -> ir.Value:
    strides = strides or [1] * len(start)
    return hlo.slice(x, list(map(int, start)), list(map(int, limit)), list(map(int, strides)))


def dynamic_slice(x: ir.Value, starts: Sequence[ir.Value], sizes: Sequence[int]) -> ir.Value:
    return hlo.dynamic_slice(x, list(starts), list(map(int, sizes)))


def convert(x: ir.Value, to: ir.Value | ir.Type) -> ir.Value:
    """`x` with the element type of `to`: a value, a tensor type, or an element type."""
    t = to.type if isinstance(to, ir.Value) else to
    target = ir.RankedTensorType(t).element_type if isinstance(t, ir.RankedTensorType) else t
    if tensor(x).element_type == target:
        return x
    return hlo.convert(with_shape(x, shape(x), target), x)


def dot_general(a: ir.Value, b: ir.Value, contract: tuple[list[int], list[int]], batch: tuple[list[int], list[int]],
                result_shape: Sequence[int]) -> ir.Value:
    dnums = hlo.DotDimensionNumbers.get(lhs_batching_dimensions=batch[0], rhs_batching_dimensions=batch[1],
                                        lhs_contracting_dimensions=contract[0], rhs_contracting_dimensions=contract[1])
    return hlo.dot_general(with_shape(a, result_shape), a, b, dnums)


def gather_1d(table: ir.Value, index: ir.Value) -> ir.Value:
    """table[index] for a vector `table` and a 0-based integer `index` of any shape: that shape."""
    lanes = shape(index)
    dnums = hlo.GatherDimensionNumbers.get(offset_dims=[], collapsed_slice_dims=[0], operand_batching_dims=[],
                                           start_indices_batching_dims=[], start_index_map=[0],
                                           index_vector_dim=len(lanes))
    return hlo.gather(table, reshape(index, (*lanes, 1)), dnums, [1])


def dense_constant(array: np.ndarray, result_type: ir.RankedTensorType) -> ir.Value:
    """A `stablehlo.constant` holding `array` (already of the result's exact dtype)."""
    attr = ir.DenseElementsAttr.get(np.ascontiguousarray(array), type=result_type)
    return hlo.ConstantOp(attr).result


def splat(scalar: ir.Attribute, result_type: ir.RankedTensorType) -> ir.Value:
    """A splat `stablehlo.constant` of `result_type` whose element is the attribute `scalar`."""
    return hlo.ConstantOp(ir.DenseElementsAttr.get_splat(result_type, scalar)).result


def int_list(attr: ir.Attribute | None, default: Sequence[int] = ()) -> list[int]:
    """A DenseI64ArrayAttr or DenseIntElementsAttr as a flat list of ints (`default` when absent)."""
    if attr is None:
        return list(default)
    if isinstance(attr, ir.DenseI64ArrayAttr):
        return list(ir.DenseI64ArrayAttr(attr))
    return [int(v) for v in np.array(ir.DenseIntElementsAttr(attr)).reshape(-1)]


def attr(op: ir.Operation, name: str) -> ir.Attribute | None:
    return op.attributes.get(name, None)
