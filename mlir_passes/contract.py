"""Sums of products as `dot_general`: `reduce(add)` over `multiply(broadcast(a), broadcast(b))`.

A loop nest like `y[i] += A[i, j] * x[j]`, vectorized by the frontend, and broadcasting code like
`sum(A .* x'; dims = 2)` both become an elementwise product of two broadcast operands summed over
some dimensions: an einsum. XLA fuses that into one loop but does not recognise it as a matrix
product, which runs several times faster as a `dot_general` (blocked, vectorized, on a GPU a
tensor-core kernel). Each dimension of the product is contracted (summed, present in both
operands), a batch dimension (kept, in both) or free (kept, in one); anything else — a summed
dimension only one operand has, a kept one neither has — is left alone.

The rewrite reorders a floating-point sum, as the vectorized loop already has (see
frontend/vectorize.py): it runs at -O2 only, and only for floating-point element types. The
reduce's init must be a zero: -0.0 (or an integer 0) is the sum's identity; +0.0 is added back.
"""
from __future__ import annotations

import math

from jax.extend.mlir import ir
from jax.extend.mlir.dialects import stablehlo

from ..core.builder import dot_general, int_list, tensor, transpose
from .rewrite import Rule, defining_op, make_pass, registrar, splat_value

RULES: dict[str, Rule] = {}
_rule = registrar(RULES)


def _adds(op: ir.Operation) -> bool:
    """The reduce's body is `return a + b` of its two block arguments."""
    block = op.regions[0].blocks[0]
    ops = list(block.operations)
    args = list(block.arguments)
    return (len(ops) == 2 and ops[0].name == "stablehlo.add" and ops[1].name == "stablehlo.return"
            and len(args) == 2 and {ops[0].operands[0], ops[0].operands[1]} == set(args))


def _source(value: ir.Value) -> tuple[ir.Value, list[int]]:
    """The operand a broadcast spreads and, per its dimension, the product dimension it becomes
    (a value that is not broadcast covers every dimension itself)."""
    bcast = defining_op(value, "stablehlo.broadcast_in_dim")
    if bcast is not None:
        src = bcast.operands[0]
        dims = int_list(bcast.attributes["broadcast_dimensions"])
        out = tensor(value).shape
        if all(tensor(src).shape[k] == out[d] for k, d in enumerate(dims)):
            return src, dims
    return value, list(range(len(tensor(value).shape)))


@_rule("reduce")
def _contract(op: ir.Operation) -> ir.Value | None:
    if len(op.operands) != 2 or not _adds(op):
        return None
    operand, init = op.operands
    if not isinstance(tensor(operand).element_type, ir.FloatType):
        return None
    zero = splat_value(init)
    if zero is None or zero != 0:
        return None
    product = defining_op(operand, "stablehlo.multiply")
    if product is None or len(list(operand.uses)) != 1:
        return None
    (a, a_dims), (b, b_dims) = _source(product.operands[0]), _source(product.operands[1])
    summed = int_list(op.attributes["dimensions"])
    rank = len(tensor(operand).shape)
    batch, a_free, b_free = [], [], []
    for d in range(rank):
        in_a, in_b = d in a_dims, d in b_dims
        if d in summed:
            if not (in_a and in_b):
                return None
        elif in_a and in_b:
            batch.append(d)
        elif in_a:
            a_free.append(d)
        elif in_b:
            b_free.append(d)
        else:
            return None
    if not summed:
        return None
    # dot_general's result: batch dims, then a's free dims, then b's, each in its operand's order
    a_free.sort(key=a_dims.index)
    b_free.sort(key=b_dims.index)
    produced = batch + a_free + b_free
    shape = [tensor(operand).shape[d] for d in produced]
    out = dot_general(a, b, ([a_dims.index(d) for d in summed], [b_dims.index(d) for d in summed]),
                      ([a_dims.index(d) for d in batch], [b_dims.index(d) for d in batch]), shape)
    kept = [d for d in range(rank) if d not in summed]          # the reduce's result order
    perm = [produced.index(d) for d in kept]
    if perm != list(range(len(perm))):
        out = transpose(out, perm)
    if math.copysign(1.0, zero) > 0:                             # +0.0: -0.0 sums become +0.0
        out = stablehlo.add(out, stablehlo.broadcast_in_dim(op.result.type, init, []))
    return out


contract = make_pass(RULES)
