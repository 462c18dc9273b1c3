"""Bounds on the values of float tensors, from the ops that computed them.

`Ranges().of(value)` is an `Interval` [lo, hi] that holds every element of `value` that is not NaN
(so a comparison that is false on the whole interval is false on NaN too: `x < 0` with lo ≥ 0 is
false everywhere). A square, `abs`, `exp`, `sqrt` are at least 0; sums, products, quotients,
maxima, selections, reshapes and reductions combine their operands' bounds; a value a `while`
loop carries is bounded by a hypothesis that its initial value and its update both satisfy
(widened once: a lower bound that the update lowers becomes 0 or -inf, an upper bound it raises
+inf); a `func.call` is followed into its callee. Anything else is unbounded, and so is every
integer that is not a constant (integer sums and products wrap around).

-0.0 is inside any interval that holds 0 and satisfies the same comparisons as 0.0; only a
division can turn it into a sign (x / -0.0 = -Inf), so a divisor must keep clear of 0.

Used by the frontend to leave out the DomainError check of `sqrt`/`log` of what cannot be negative
(a norm by hand), and by mlir_passes/range_fold.py to fold such comparisons after inlining, where
the loop of a training step is visible (Adam's `sqrt(v / (1 - β₂ᵗ))`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from jax.extend.mlir import ir

_INF = math.inf


@dataclass(frozen=True)
class Interval:
    lo: float
    hi: float

    def join(self, other: Interval) -> Interval:
        return Interval(min(self.lo, other.lo), max(self.hi, other.hi))

    def within(self, other: Interval) -> bool:
        return other.lo <= self.lo and self.hi <= other.hi


FULL = Interval(-_INF, _INF)
NONNEGATIVE = Interval(0.0, _INF)


def _bounded(values: list[float]) -> Interval:
    """The interval of endpoint combinations; NaN ones (0 * Inf, Inf - Inf) stand for limits the
    others bound, except when every one is NaN."""
    finite = [v for v in values if not math.isnan(v)]
    return Interval(min(finite), max(finite)) if finite else FULL


def _product(a: Interval, b: Interval) -> Interval:
    return _bounded([a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi])


def _sum(a: Interval, b: Interval) -> Interval:
    lo, hi = a.lo + b.lo, a.hi + b.hi
    return Interval(-_INF if math.isnan(lo) else lo, _INF if math.isnan(hi) else hi)


def _quotient(a: Interval, b: Interval) -> Interval:
    if b.lo <= 0 <= b.hi:              # (a divisor -0.0 turns a sign around)
        return FULL
    return _bounded([a.lo / b.lo, a.lo / b.hi, a.hi / b.lo, a.hi / b.hi])


# The bounds are computed in Float64 from the operands' bounds; the op itself rounds in its own
# type (and a math function is a few ulps off): each computed bound is moved out by several of
# that type's ulps. 0 and the infinities stay (rounding keeps a sign, and a zero stays a zero).
_ROUNDING = {"f64": 2.0 ** -48, "f32": 2.0 ** -20, "f16": 2.0 ** -8, "bf16": 2.0 ** -5}


def _widened(x: Interval, eps: float) -> Interval:
    return Interval(x.lo - abs(x.lo) * eps if math.isfinite(x.lo) else x.lo,
                    x.hi + abs(x.hi) * eps if math.isfinite(x.hi) else x.hi)


def _monotone(fn, a: Interval) -> Interval:
    with np.errstate(all="ignore"):
        lo, hi = float(fn(a.lo)), float(fn(a.hi))
    return Interval(-_INF if math.isnan(lo) else lo, _INF if math.isnan(hi) else hi)


_REDUCTIONS = ("stablehlo.add", "stablehlo.multiply", "stablehlo.maximum", "stablehlo.minimum")


class Ranges:
    """One analysis, its answers kept (`args`: the operands of the call whose callee it reads)."""

    def __init__(self, args: list[ir.Value] | None = None, outer: Ranges | None = None, budget: int = 4000):
        self.args, self.outer = args, outer
        self.memo: dict[ir.Value, tuple[Interval, int]] = {}
        self.hypotheses: dict[tuple[ir.Operation, int], Interval] = {}
        self.version = 0               # bumped when a hypothesis changes: answers that used one expire
        self.budget = budget

    def of(self, value: ir.Value) -> Interval:
        kept = self.memo.get(value)
        if kept is not None and kept[1] in (-1, self.version):
            return kept[0]
        self.budget -= 1
        if self.budget < 0:
            return FULL
        interval = self._compute(value)
        # an answer found under a loop's hypothesis holds only until the hypothesis changes
        self.memo[value] = (interval, self.version if self.hypotheses else -1)
        return interval

    def _compute(self, value: ir.Value) -> Interval:
        element = value.type.element_type if isinstance(value.type, ir.RankedTensorType) else None
        if isinstance(value, ir.BlockArgument):
            return self._argument(value) if isinstance(element, ir.FloatType) else FULL
        op = value.owner.operation
        if op.name == "stablehlo.constant":
            return self._constant(op)
        if not isinstance(element, ir.FloatType):
            return FULL
        if op.name == "stablehlo.while":
            return self._carried(op, value.result_number)
        if op.name == "func.call":
            return self._call(op, value.result_number)
        rule = _RULES.get(op.name)
        if rule is None:
            return FULL
        return _widened(rule(self, op), _ROUNDING.get(str(element), 2.0 ** -5))

    @staticmethod
    def _constant(op: ir.Operation) -> Interval:
        try:
            attr = ir.DenseElementsAttr(op.attributes["value"])
            if attr.is_splat:              # (a splat is not expanded: zeros(4096, 4096) is one number)
                value = float(attr.get_splat_value().value)
                return FULL if math.isnan(value) else Interval(value, value)
            data = np.asarray(attr, dtype=np.float64)
        except (ValueError, TypeError, AttributeError):
            return FULL
        data = data[~np.isnan(data)]
        return Interval(float(data.min()), float(data.max())) if data.size else FULL

    def _argument(self, arg: ir.BlockArgument) -> Interval:
        owner = arg.owner.owner.operation
        if owner.name == "stablehlo.while":
            return self._carried(owner, arg.arg_number)
        if owner.name == "func.func" and self.args is not None and arg.owner == owner.regions[0].blocks[0]:
            return self.outer.of(self.args[arg.arg_number])
        return FULL

    def _carried(self, loop: ir.Operation, k: int) -> Interval:
        """What `loop` carries in place k: a hypothesis its initial value and its update satisfy."""
        key = (loop, k)
        if key in self.hypotheses:
            return self.hypotheses[key]
        body = loop.regions[1].blocks[0]
        ops = list(body.operations)
        if not ops or ops[-1].operation.name != "stablehlo.return":
            return FULL                # a loop whose body is still being built (while lowering)
        update = ops[-1].operation.operands[k]
        start = self.of(loop.operands[k])
        guess = start
        for _ in range(3):
            self.hypotheses[key] = guess
            self.version += 1
            after = self.of(update)
            if after.within(guess):
                del self.hypotheses[key]
                self.version += 1
                return guess
            guess = Interval(guess.lo if after.lo >= guess.lo else (0.0 if after.lo >= 0 else -_INF),
                             guess.hi if after.hi <= guess.hi else _INF)
        del self.hypotheses[key]
        self.version += 1
        return FULL

    def _call(self, call: ir.Operation, k: int) -> Interval:
        module = call.parent
        while module is not None and module.operation.name != "builtin.module":
            module = module.parent
        if module is None or self.budget < 0:
            return FULL
        try:
            callee = ir.SymbolTable(module.operation)[ir.FlatSymbolRefAttr(call.attributes["callee"]).value]
        except KeyError:
            return FULL
        blocks = callee.operation.regions[0].blocks
        if not len(blocks):
            return FULL
        inner = Ranges(list(call.operands), self, self.budget)
        out = inner.of(blocks[0].operations[len(blocks[0].operations) - 1].operation.operands[k])
        self.budget = inner.budget
        return out

    def _reduce(self, op: ir.Operation) -> Interval:
        body = [o.operation.name for o in op.regions[0].blocks[0].operations]
        if len(op.operands) != 2 or len(body) != 2 or body[0] not in _REDUCTIONS:
            return FULL
        x, init = self.of(op.operands[0]), self.of(op.operands[1])
        kind = body[0]
        if kind in ("stablehlo.maximum", "stablehlo.minimum"):
            return x.join(init)        # an element or the initial value
        if kind == "stablehlo.add":
            return Interval(init.lo if x.lo >= 0 else -_INF, init.hi if x.hi <= 0 else _INF)
        if x.lo >= 0 and init.lo >= 0:
            return Interval(0.0, init.hi if x.hi <= 1 else _INF)
        return FULL


def _operands(ranges: Ranges, op: ir.Operation) -> list[Interval]:
    return [ranges.of(v) for v in op.operands]


def _square_or_product(ranges: Ranges, op: ir.Operation) -> Interval:
    a, b = op.operands
    if a == b:
        x = ranges.of(a)
        return Interval(0.0 if x.lo <= 0 <= x.hi else min(x.lo * x.lo, x.hi * x.hi), max(x.lo * x.lo, x.hi * x.hi))
    return _product(ranges.of(a), ranges.of(b))


def _same_as(k: int):
    return lambda ranges, op: ranges.of(op.operands[k])


def _joined(first: int):
    def rule(ranges: Ranges, op: ir.Operation) -> Interval:
        out = None
        for v in list(op.operands)[first:]:
            x = ranges.of(v)
            out = x if out is None else out.join(x)
        return out or FULL
    return rule


def _abs(ranges: Ranges, op: ir.Operation) -> Interval:
    x = ranges.of(op.operands[0])
    top = max(abs(x.lo), abs(x.hi))
    return Interval(0.0 if x.lo <= 0 <= x.hi else min(abs(x.lo), abs(x.hi)), top)


def _log(ranges: Ranges, op: ir.Operation) -> Interval:
    x = ranges.of(op.operands[0])
    return _monotone(np.log, x) if x.lo > 0 else FULL


def _clamp(ranges: Ranges, op: ir.Operation) -> Interval:
    lo, x, hi = _operands(ranges, op)
    return Interval(max(lo.lo, min(x.lo, hi.lo)), min(hi.hi, max(x.hi, lo.hi)))


_RULES = {
    "stablehlo.add": lambda r, op: _sum(*_operands(r, op)),
    "stablehlo.subtract": lambda r, op: (lambda a, b: _sum(a, Interval(-b.hi, -b.lo)))(*_operands(r, op)),
    "stablehlo.multiply": _square_or_product,
    "stablehlo.divide": lambda r, op: _quotient(*_operands(r, op)),
    "stablehlo.negate": lambda r, op: (lambda a: Interval(-a.hi, -a.lo))(r.of(op.operands[0])),
    "stablehlo.maximum": lambda r, op: (lambda a, b: Interval(max(a.lo, b.lo), max(a.hi, b.hi)))(*_operands(r, op)),
    "stablehlo.minimum": lambda r, op: (lambda a, b: Interval(min(a.lo, b.lo), min(a.hi, b.hi)))(*_operands(r, op)),
    "stablehlo.abs": _abs,
    "stablehlo.sqrt": lambda r, op: _monotone(np.sqrt, r.of(op.operands[0])) if r.of(op.operands[0]).lo >= 0
    else NONNEGATIVE,
    "stablehlo.rsqrt": lambda r, op: NONNEGATIVE,
    "stablehlo.exponential": lambda r, op: _monotone(np.exp, r.of(op.operands[0])),
    "stablehlo.exponential_minus_one": lambda r, op: _monotone(np.expm1, r.of(op.operands[0])),
    "stablehlo.log": _log,
    "stablehlo.logistic": lambda r, op: Interval(0.0, 1.0),
    "stablehlo.tanh": lambda r, op: Interval(-1.0, 1.0),
    "stablehlo.sine": lambda r, op: Interval(-1.0, 1.0),
    "stablehlo.cosine": lambda r, op: Interval(-1.0, 1.0),
    "stablehlo.clamp": _clamp,
    "stablehlo.select": _joined(1),
    "stablehlo.concatenate": _joined(0),
    "stablehlo.dynamic_update_slice": lambda r, op: r.of(op.operands[0]).join(r.of(op.operands[1])),
    "stablehlo.reduce": Ranges._reduce,
    **{f"stablehlo.{name}": _same_as(0) for name in (
        "convert", "broadcast_in_dim", "reshape", "transpose", "slice", "dynamic_slice", "reverse", "copy",
        "reduce_precision", "optimization_barrier")},
}


def never_below(value: ir.Value, bound: float) -> bool:
    """Whether `value < bound` is false for every element (NaN included)."""
    return Ranges().of(value).lo >= bound
