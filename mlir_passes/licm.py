"""Loop-invariant code motion out of `stablehlo.while`.

An op of the condition or the body moves before the loop when it is pure and region-free and all
its operands are defined outside the loop: it computes the same value on every iteration. Only
ops worth it move (see _worth_moving), with the cheap ones that feed them: XLA threads every value a
loop uses from outside through the loop's state, so hoisting a scalar add costs more than it saves. Carried
values that the body passes through unchanged count as defined outside (their initial value is
forwarded first, see dead_values.forward_invariants). Inner loops are treated first, so an op
leaves a nest of loops one level per loop, in one run.

A hoisted op runs even when the loop runs zero times; StableHLO ops do not trap, so only the cost
of that one evaluation changes, never a result.
"""
from __future__ import annotations

from jax.extend.mlir import ir

from ..core.ops import traits
from .dead_values import _post_order, forward_invariants


def _defined_inside(loop: ir.Operation) -> set[ir.Value]:
    inside: set[ir.Value] = set()

    def visit(o: ir.Operation) -> ir.WalkResult:
        for region in o.regions:
            for block in region.blocks:
                inside.update(block.arguments)
        if o != loop:
            inside.update(o.results)
        return ir.WalkResult.ADVANCE

    loop.walk(visit)
    return inside


def _worth_moving(op: ir.Operation) -> bool:
    """Worth a move on its own: a full tensor, or a scalar op that costs more than the loop overhead
    of XLA threading one more value through the loop's tuple (the cheap scalar ops and constants
    it needs move with it). Ops XLA fuses into their users stay: hoisted, they would become a full
    tensor carried through the loop (a broadcast learning rate, say)."""
    op_traits = traits(op.name)
    if op_traits.fused_for_free:
        return False
    if op_traits.expensive:
        return True
    return any(ir.RankedTensorType(r.type).rank and any(d != 1 for d in ir.RankedTensorType(r.type).shape)
               for r in op.results)


def _hoist(loop: ir.Operation) -> int:
    forward_invariants(loop)
    inside = _defined_inside(loop)
    moved = 0
    for region in loop.regions:
        block = region.blocks[0]
        invariant: list[ir.Operation] = []
        defined = set(inside)
        for op in [o.operation for o in block.operations][:-1]:
            if op.regions or traits(op.name).effect or not op.results:
                continue
            if any(v in defined for v in op.operands):
                continue
            invariant.append(op)
            defined.difference_update(op.results)
        # An invariant op moves if it is worth it or feeds one that moves: users come later.
        needed: set[ir.Value] = set()
        chosen: list[ir.Operation] = []
        for op in reversed(invariant):
            if _worth_moving(op) or any(r in needed for r in op.results):
                chosen.append(op)
                needed.update(op.operands)
        for op in reversed(chosen):
            op.move_before(loop)
            moved += 1
    return moved


def licm(module: ir.Operation, pass_: object = None) -> None:
    for op in _post_order(module):
        if op.name == "stablehlo.while":
            _hoist(op)
