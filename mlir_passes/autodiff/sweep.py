"""One block's reverse sweep: clone its ops forward, then walk them backwards accumulating cotangents.

A `Sweep` differentiates one block. Its forward phase clones the source ops at the current
insertion point (`env` maps each source value to its clone; values captured from enclosing blocks
are already in `env`); `stablehlo.while` loops with a constant trip count are cloned as loops that
also record each iteration's carried values (`control.forward_while`, which the `ModuleAD` hands
in, as it hands in the VJP rules: this module imports neither). The backward phase visits the
clones in reverse and calls each op's VJP rule with the cotangents of its results; cotangents of a
value used several times add up. Nested regions (`if` branches, loop bodies) are differentiated by
nested sweeps that share `env`, so cotangents of values they capture flow back out through the rule.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from jax.extend.mlir import ir
from jax.extend.mlir.dialects import stablehlo as hlo

from ...core import builder as B
from ...core.ops import BRANCH_SELECT, traits
from ..effects import is_print
from .errors import ADError


def add_cotangents(a: ir.Value | None, b: ir.Value | None) -> ir.Value | None:
    """Sum of two cotangents, either of which may be None (zero)."""
    if a is None:
        return b
    if b is None:
        return a
    return hlo.add(a, b)


@dataclass
class Ctx:
    """What a VJP rule sees besides the forward op and its cotangents."""

    sweep: Sweep
    source: ir.Operation      # the op the forward op was cloned from (its regions are the source regions)
    tape: object = None       # what the forward clone recorded for the backward sweep (loops)

    def accum(self, value: ir.Value, ct: ir.Value | None, live: ir.Value | None = None) -> None:
        """Add to the cotangent of a value the op captures without taking it as an operand
        (`live`: the lanes it may be nonzero on, as in `Sweep.accum`)."""
        self.sweep.accum(value, ct, live)


# For a recomputation (a clone that is not the forward pass itself): the name of a copy of a
# function without its prints (see ModuleAD.quiet).
Quiet = Callable[[str], str]


def clone_op(op: ir.Operation, env: dict[ir.Value, ir.Value], quiet: Quiet | None = None) -> ir.Operation | None:
    """Clone `op` (with its regions) at the insertion point, reading every source value through `env`.
    With `quiet`, the clone recomputes what the forward pass already ran: its prints are left out
    (None for a print itself) and its calls call copies without prints, as Zygote runs a function's
    forward pass once."""
    if quiet is not None and is_print(op):
        return None
    new = op.operation.clone()
    drawn: list[ir.Operation] = []
    prints: list[ir.Operation] = []

    def remap(o: ir.Operation) -> ir.WalkResult:
        if o.name == "stablehlo.rng":
            drawn.append(o)
        elif quiet is not None and is_print(o):
            prints.append(o)
        elif quiet is not None and o.name == "func.call":
            callee = ir.FlatSymbolRefAttr(o.attributes["callee"]).value
            o.attributes["callee"] = ir.FlatSymbolRefAttr.get(quiet(callee))
        for v in list(o.operands):
            if v in env:
                o.operation.replace_uses_of_with(v, env[v])
        return ir.WalkResult.ADVANCE
    new.walk(remap)
    for o in prints:
        o.erase()
    if drawn:
        # the backward sweep recomputes forward values (per loop iteration, per call), and a
        # recomputed draw would differ from the one the forward pass used
        location = str(drawn[0].location)
        new.erase()
        raise ADError("cannot differentiate a function that draws random numbers (rand, randn, a layer "
                      "constructor's random init); draw them outside the function and pass them in", location)
    env.update(zip(op.results, new.results))
    return new


def clone_ops(ops: Iterable[ir.Operation], env: dict[ir.Value, ir.Value], quiet: Quiet | None = None) -> None:
    for op in ops:
        clone_op(op, env, quiet)


def body_ops(block: ir.Block) -> list[ir.Operation]:
    """The ops of a block without its terminator."""
    return [op.operation for op in block.operations][:-1]


def terminator(block: ir.Block) -> ir.Operation:
    return [op.operation for op in block.operations][-1]


def captured(regions: Iterable[ir.Region]) -> list[ir.Value]:
    """Values used inside `regions` but defined outside them, in first-use order."""
    defined: set[ir.Value] = set()
    used: list[ir.Value] = []

    def walk(rs: Iterable[ir.Region]) -> None:
        for r in rs:
            for b in r.blocks:
                defined.update(b.arguments)
                for o in b.operations:
                    defined.update(o.results)
                    used.extend(o.operands)
                    walk(o.regions)
    walk(regions)
    return list(dict.fromkeys(v for v in used if v not in defined))


@dataclass
class Sweep:
    module: object                                  # the `ModuleAD` building VJP functions: its
    #                                                 `rules` and `forward_while`
    env: dict[ir.Value, ir.Value]                   # source value -> forward value
    ct: dict[ir.Value, ir.Value] = field(default_factory=dict)   # forward value -> cotangent
    # forward value -> the lanes its cotangent is live on (i1, its shape), where every contribution
    # came through an arm of a per-lane branch (see core.ops.BRANCH_SELECT); absent: all lanes
    live: dict[ir.Value, ir.Value] = field(default_factory=dict)
    done: list[tuple[ir.Operation, ir.Operation, object]] = field(default_factory=list)
    silent: bool = False               # its forward clone recomputes: no prints (see clone_op)

    @property
    def quiet(self) -> Quiet | None:
        return self.module.quiet if self.silent else None

    def nested(self, extra: dict[ir.Value, ir.Value]) -> Sweep:
        """A sweep for a region nested in this one, in the backward pass (so silent): it sees every
        value this one sees."""
        return Sweep(self.module, {**self.env, **extra}, silent=True)

    def forward(self, ops: Iterable[ir.Operation]) -> None:
        for op in ops:
            with op.location:
                if op.name == "stablehlo.while":
                    fwd, tape = self.module.forward_while(self, op)
                else:
                    fwd, tape = clone_op(op, self.env, self.quiet), None
            if fwd is not None:
                self.done.append((op, fwd.operation, tape))

    def value(self, v: ir.Value) -> ir.Value:
        return self.env.get(v, v)

    def accum(self, value: ir.Value, ct: ir.Value | None, live: ir.Value | None = None) -> None:
        """Add `ct` to the cotangent of `value`; `live`: the lanes `ct` may be nonzero on (None: all)."""
        if ct is None or not B.is_float(value):
            return
        if ct.type != value.type:
            raise AssertionError(f"cotangent type {ct.type} for a value of type {value.type}")
        if value not in self.ct:
            if live is not None:
                self.live[value] = live
        elif value in self.live:
            if live is None:
                del self.live[value]
            else:
                self.live[value] = hlo.or_(self.live[value], live)
        self.ct[value] = add_cotangents(self.ct.get(value), ct)

    def backward(self) -> None:
        for src, fwd, tape in reversed(self.done):
            results = list(fwd.results)[:len(src.results)]
            cts = [self.ct.get(r) for r in results]
            if all(c is None for c in cts):
                continue
            rule = self.module.rules.get(fwd.name)
            if rule is None:
                raise ADError(f"cannot differentiate `{fwd.name}`: no VJP rule for this op", str(fwd.location))
            with fwd.location:
                operand_cts = rule(Ctx(self, src, tape), fwd, cts)
                for v, c, live in zip(fwd.operands, operand_cts, self._operand_lanes(fwd, results)):
                    if c is not None and live is not None:
                        # zero, not zero times this op's derivative, on the lanes it did not run on
                        c = hlo.select(live, c, B.zeros(c))
                    self.accum(v, c, live)

    def _operand_lanes(self, op: ir.Operation, results: list[ir.Value]) -> list[ir.Value | None]:
        """Per operand of an elementwise op, the lanes its cotangent is live on: those of its
        results, and for the select that joins a per-lane branch, only the lanes that took each arm."""
        none = [None] * len(op.operands)
        if not traits(op.name).elementwise:
            return none
        masks = [self.live.get(r) for r in results if r in self.ct]
        live = None if any(m is None for m in masks) else functools.reduce(hlo.or_, masks)
        p = op.operands[0]
        if BRANCH_SELECT in op.attributes and B.shape(p) == B.shape(op.results[0]):
            arms = [p, hlo.not_(p)]
            if live is not None:
                arms = [hlo.and_(a, live) for a in arms]
            return [None, *arms]
        if live is None:
            return none
        return [live if B.shape(v) == B.shape(live) else None for v in op.operands]
