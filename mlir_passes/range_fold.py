"""Float comparisons that cannot hold, by the bounds of their operands (core/value_ranges.py),
folded to `false`.

The DomainError check of `sqrt(v ./ (1 - β₂ᵗ))` in Adam compares a value with 0 in every step of a
training loop, and so do `log` and a user's own guards. After inlining, the loop that carries `v`
and `β₂ᵗ` is visible: `v` starts at zero and stays a sum of squares times positive numbers, `β₂ᵗ`
stays within [0, 1], so `… < 0` is false and the check, its reduction and its flag go (canonicalize
and dead_values clean up after this pass). Only the folds to `false` are made: a NaN makes every
comparison false, so `x < 0` with x ≥ 0 is false for NaN too, while `x >= 0` is not always true.
"""
from __future__ import annotations

from jax.extend.mlir import ir
from jax.extend.mlir.dialects import stablehlo

from ..core.builder import splat
from ..core.value_ranges import Interval, Ranges
from .rewrite import collect_ops


def _never(direction: str, a: Interval, b: Interval) -> bool:
    """Whether `a direction b` is false for every pair of values in the two intervals."""
    return {"LT": a.lo >= b.hi, "LE": a.lo > b.hi, "GT": a.hi <= b.lo, "GE": a.hi < b.lo,
            "EQ": a.hi < b.lo or b.hi < a.lo}.get(direction, False)


def range_fold(root: ir.Operation, pass_: object) -> None:
    ranges = Ranges(budget=20000)
    never = []
    for op in collect_ops(root):
        if op.name != "stablehlo.compare" or not isinstance(op.operands[0].type.element_type, ir.FloatType):
            continue
        direction = str(stablehlo.ComparisonDirectionAttr(op.attributes["comparison_direction"]).value)
        if direction in ("LT", "LE", "GT", "GE", "EQ") and \
                _never(direction, ranges.of(op.operands[0]), ranges.of(op.operands[1])):
            never.append(op)
    for op in never:
        with ir.InsertionPoint(op), op.location:
            false = splat(ir.BoolAttr.get(False), op.result.type)
        op.result.replace_all_uses_with(false)
        op.erase()
