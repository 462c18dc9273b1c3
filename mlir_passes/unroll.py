"""Full unrolling of `stablehlo.while` loops with a small constant trip count (or a small body).

The frontend lowers `for i in 1:n` to a while loop over a carried i64 counter that starts at a
constant, is compared `LT` against the loop length in the condition, and is stepped by a constant
`add` in the body (frontend/loops.py, run_loop). When all three are constants and the trip count is
at most the threshold, the body is copied that many times in a row: the copies' index arithmetic
becomes constant for fold and canonicalize (a `dynamic_slice` by a constant index becomes a
`slice`), and XLA sees straight-line code it can fuse across iterations.
"""
from __future__ import annotations

from collections.abc import Callable

from jax.extend.mlir import ir

from ..core.ops import traits
from .dead_values import _post_order
from .fold import RULES as FOLD_RULES
from .inline import _remap
from .rewrite import Rule, trip_count
from .simplify import RULES as SIMPLIFY_RULES
from .simplify import apply_with_decided_branches

MAX_TRIPS = 8
# Longer loops with small bodies too (a Horner step, a short recurrence per lane): at most this many
# trips and this many body ops in all, so compile time stays bounded.
MAX_SMALL_BODY_TRIPS = 32
MAX_UNROLLED_OPS = 160


def _unroll(loop: ir.Operation, trips: int) -> None:
    body = loop.regions[1].blocks[0]
    ops = [o.operation for o in body.operations]
    current = list(loop.operands)
    ip = ir.InsertionPoint(loop)
    for _ in range(trips):
        mapping: dict[ir.Value, ir.Value] = dict(zip(body.arguments, current))
        for op in ops[:-1]:
            copy = op.clone(ip=ip)
            _remap(copy, mapping)
            mapping.update(zip(op.results, copy.results))
        current = [mapping.get(v, v) for v in ops[-1].operands]
    for result, value in zip(loop.results, current):
        result.replace_all_uses_with(value)
    loop.erase()


def _condition_is_pure(loop: ir.Operation) -> bool:
    """Unrolling drops the condition region: nothing in it may have an effect."""
    return not any(traits(o.operation.name).effect for o in list(loop.regions[0].blocks[0].operations)[:-1])


def _worth_unrolling(loop: ir.Operation, trips: int, max_trips: int) -> bool:
    return trips <= max_trips or trips <= MAX_SMALL_BODY_TRIPS and trips * _body_size(loop) <= MAX_UNROLLED_OPS


def _body_size(loop: ir.Operation) -> int:
    """Ops in the loop body, nested regions included."""
    def count(block: ir.Block) -> int:
        n = 0
        for op in block.operations:
            n += 1
            for region in op.operation.regions:
                for inner in region.blocks:
                    n += count(inner)
        return n
    return count(loop.regions[1].blocks[0])


def make_unroll(max_trips: int = MAX_TRIPS) -> Callable[[ir.Operation, object], None]:
    """The unroll pass for loops of at most `max_trips` iterations."""

    def unroll(module: ir.Operation, pass_: object = None) -> None:
        # Innermost first: an unrolled inner loop leaves its copies in the outer body, which is
        # then copied as a whole.
        unrolled = 0
        for op in _post_order(module):
            if op.name == "stablehlo.while":
                trips = trip_count(op)
                if trips is not None and _worth_unrolling(op, trips, max_trips) and _condition_is_pure(op):
                    _unroll(op, trips)
                    unrolled += 1
        if unrolled:
            # the copies' counters are constants now: fold the index arithmetic (a dynamic_slice
            # at a constant index becomes a slice) and the checks it decides; only when something
            # was unrolled
            apply_with_decided_branches(module, _CLEANUP)

    return unroll


def _first_applicable(*rules: Rule) -> Rule:
    def rule(op: ir.Operation) -> ir.Value | None:
        for r in rules:
            out = r(op)
            if out is not None:
                return out
        return None
    return rule


_CLEANUP: dict[str, Rule] = {name: _first_applicable(*(t[name] for t in (FOLD_RULES, SIMPLIFY_RULES) if name in t))
                             for name in {*FOLD_RULES, *SIMPLIFY_RULES}}

unroll = make_unroll()
