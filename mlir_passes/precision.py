"""Mixed precision: dot_general and convolution read bf16 (or f16) operands and accumulate into an
f32 result, everything else (elementwise ops, reductions, softmax, the loss) stays in f32.

StableHLO lets these two ops take operands of one element type and give a result of another (as
`preferred_element_type` does in JAX), and XLA accumulates in the result type, so only the
operand rounding changes the result. The converts of a weight used by several ops are shared (cse
after this pass merges them anyway).
"""
from __future__ import annotations

from collections.abc import Callable

from jax.extend.mlir import ir
from jax.extend.mlir.dialects import stablehlo

from ..core.builder import tensor
from .dead_values import _post_order

_OPS = ("stablehlo.dot_general", "stablehlo.convolution")
_TYPES = {"bf16": ir.BF16Type.get, "f16": ir.F16Type.get}


def make_mixed_precision(precision: str) -> Callable[[ir.Operation, object], None]:
    """The pass that runs dot_general and convolution on `precision` ("bf16" or "f16") operands."""
    if precision not in _TYPES:
        raise ValueError(f"unknown precision {precision!r}; expected one of {', '.join(_TYPES)}")

    def mixed_precision(module: ir.Operation, pass_: object = None) -> None:
        low = _TYPES[precision]()
        converted: dict[ir.Value, ir.Value] = {}
        for op in _post_order(module):
            if op.name not in _OPS or str(tensor(op.result).element_type) != "f32":
                continue
            for i, v in enumerate(list(op.operands)[:2]):
                if str(tensor(v).element_type) != "f32":
                    continue
                if v not in converted:
                    # Right after the definition (or at the top of the block of an argument), so
                    # that every op of the block can share it.
                    if isinstance(v, ir.OpResult):
                        ip = ir.InsertionPoint(v.owner.operation)
                    else:
                        ip = ir.InsertionPoint.at_block_begin(v.owner)
                    with ip, op.location:
                        t = ir.RankedTensorType.get(tensor(v).shape, low)
                        convert = stablehlo.ConvertOp(t, v)
                    if isinstance(v, ir.OpResult):
                        convert.operation.move_after(v.owner.operation)
                    converted[v] = convert.result
                op.operands[i] = converted[v]

    return mixed_precision
