"""Float arithmetic that XLA would change, shielded from its rewrites.

XLA's algebraic simplifier treats floating-point arithmetic as real arithmetic. It turns `x / c`
for a constant c into `x * (1/c)`, `x / sqrt(y)` into `x * rsqrt(y)`, `x / exp(y)` into
`x * exp(-y)`, `(x / y) / z` into `x / (y * z)`: each rounds differently from the division the
StableHLO (and the Julia program) asks for, `(-7.0) / 10.0` would come out as -0.7000000000000001.
It turns `x ./ d` for a run-time number d into `x .* (1/d)` (7/70000 comes out as
9.999999999999999e-05). It turns `x + 0.0` and `x - (-0.0)` into `x`, which is wrong for
`x = -0.0` (IEEE and Julia give 0.0: `0.0 + x`, `zeros(n) .+ x`, a sum started at `0.0`), and
folds constants across a chain,
`(x + 1.0) + 1.0` into `x + 2.0` and `(x * 3.0) * 5.0` into `x * 15.0`, which round differently
(1e16 + 1.0 + 1.0 is 1e16 in Julia). StableHLO's `optimization_barrier` around such a divisor,
zero or constant hides it from those patterns (at little run-time cost: an array operand is
then materialized, not fused). Run last, at every optimization level: it is about what
XLA receives, not an optimization.

Not shielded: XLA's CPU and GPU code generators contract `a * b + c` into a fused multiply-add
(one rounding where Julia rounds twice), below the level any StableHLO rewrite reaches; results
can differ from Julia's in the last bit there (README, differences from Julia).
"""
from __future__ import annotations

import math

from jax.extend.mlir import ir
from jax.extend.mlir.dialects import stablehlo

from ..core.builder import broadcast, splat, tensor, with_shape
from .rewrite import collect_ops, splat_attr, splat_value

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
            return True                # `x ./ d` with a run-time d: XLA would multiply by 1/d
    if name != "stablehlo.constant":
        return False
    c = splat_value(divisor)           # a power of two has an exact reciprocal: nothing to shield
    return not (isinstance(c, float) and c != 0 and math.isfinite(c) and math.frexp(abs(c))[0] == 0.5)


def _hidden(value: ir.Value) -> ir.Value:
    return stablehlo.OptimizationBarrierOp([value]).results[0]


def _hidden_constant(value: ir.Value) -> ir.Value:
    """A splat constant, itself or broadcast, behind a barrier as a broadcast of its one element
    (never a large literal array). The barrier must hold the broadcast: XLA reassociates and
    inverts broadcast scalars whatever they are."""
    scalar = value.owner.operands[0] if _producer(value) == "stablehlo.broadcast_in_dim" else value
    attr = splat_attr(scalar)
    if attr is None or not tensor(value).shape:
        return _hidden(value)
    return _hidden(broadcast(splat(attr, with_shape(value, ())), tensor(value).shape))


def _constant(value: ir.Value) -> float | complex | None:
    """The value of a splat float constant, itself or broadcast."""
    if _producer(value) == "stablehlo.broadcast_in_dim":
        value = value.owner.operands[0]
    c = splat_value(value) if _producer(value) == "stablehlo.constant" else None
    return c if isinstance(c, (float, complex)) else None


def _constant_zero(value: ir.Value, sign: float) -> bool:
    c = _constant(value)
    return isinstance(c, float) and c == 0 and math.copysign(1.0, c) == sign


_CHAINS = frozenset(("stablehlo.add", "stablehlo.subtract", "stablehlo.multiply"))


def _folds_with(other: ir.Value) -> bool:
    """`other` is `x op c` with a constant c: XLA would fold a constant applied to it into c
    (`(x + 1.0) + 1.0` into `x + 2.0`), which rounds once where the program rounds twice."""
    return _producer(other) in _CHAINS and any(_constant(v) is not None for v in other.owner.operands)


def ieee_exact(root: ir.Operation, pass_: object) -> None:
    for op in collect_ops(root):
        if op.name not in ("stablehlo.divide", *_CHAINS) or \
                not isinstance(tensor(op.result).element_type, (ir.FloatType, ir.ComplexType)):
            continue
        x, y = op.operands
        with ir.InsertionPoint(op), op.location:
            if op.name == "stablehlo.divide":
                if _needs_shield(y):
                    op.operands[1] = _hidden_constant(y) if _constant(y) is not None else _hidden(y)
                if _producer(x) == "stablehlo.divide":
                    op.operands[0] = _hidden(x)
                continue
            for k, (operand, other) in enumerate(((x, y), (y, x))):
                zero = op.name == "stablehlo.add" and _constant_zero(operand, +1.0) or \
                    op.name == "stablehlo.subtract" and k == 1 and _constant_zero(operand, -1.0)
                if zero or _constant(operand) is not None and _folds_with(other):
                    op.operands[k] = _hidden_constant(operand)    # x + 0.0 is not x (for -0.0); x + -0.0 is
