"""Divisions that XLA would make inexact, shielded from its rewrites.

XLA's algebraic simplifier treats floating-point division as real division: it turns `x / c` for a
constant c into `x * (1/c)`, `x / sqrt(y)` into `x * rsqrt(y)`, `x / exp(y)` into `x * exp(-y)`,
`(x / y) / z` into `x / (y * z)`. Each rounds differently from the division the StableHLO (and the
Julia program) asks for: `(-7.0) / 10.0` would come out as -0.7000000000000001. StableHLO's
`optimization_barrier` around such a divisor hides it from those patterns and costs nothing at run
time. Run last, at every optimization level: it is about what XLA receives, not an optimization.
"""
from __future__ import annotations

import math

from jax.extend.mlir import ir
from jax.extend.mlir.dialects import stablehlo

from ..core.builder import tensor
from .rewrite import collect_ops, splat_value

# divisors made by these ops are what XLA's rewrites look for (besides constants)
_REWRITTEN_DIVISORS = frozenset("stablehlo." + n for n in ("sqrt", "rsqrt", "exponential", "power"))


def _producer(value: ir.Value) -> str:
    return value.owner.operation.name if isinstance(value, ir.OpResult) else ""


def _needs_shield(divisor: ir.Value) -> bool:
    name = _producer(divisor)
    if name in _REWRITTEN_DIVISORS:
        return True
    if name == "stablehlo.broadcast_in_dim":
        divisor = divisor.owner.operands[0]
        name = _producer(divisor)
    if name != "stablehlo.constant":
        return False
    c = splat_value(divisor)           # a power of two has an exact reciprocal: nothing to shield
    return not (isinstance(c, float) and c != 0 and math.isfinite(c) and math.frexp(abs(c))[0] == 0.5)


def _shielded(value: ir.Value) -> ir.Value:
    return stablehlo.OptimizationBarrierOp([value]).results[0]


def exact_division(root: ir.Operation, pass_: object) -> None:
    for op in collect_ops(root):
        if op.name != "stablehlo.divide" or not isinstance(tensor(op.result).element_type,
                                                            (ir.FloatType, ir.ComplexType)):
            continue
        x, y = op.operands
        with ir.InsertionPoint(op), op.location:
            if _needs_shield(y):
                op.operands[1] = _shielded(y)
            if _producer(x) == "stablehlo.divide":
                op.operands[0] = _shielded(x)
