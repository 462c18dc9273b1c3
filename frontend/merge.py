"""Joining the environments of two control-flow arms.

Each arm runs against a copy of the environment; afterwards every variable (and every array box)
that an arm changed gets one merged value. With a scalar runtime condition the arms become the two
regions of a `stablehlo.if` whose results are the merged values; with a batched condition (a user
function broadcast over arrays) both arms run on every lane and `stablehlo.select` merges them.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from jax.extend.mlir import ir
from jax.extend.mlir.dialects import stablehlo as hlo

from . import ast as A
from . import hlo as H
from .values import ArrayV, Box, ScalarV, Value, children, describe, rebuild, runtime_leaves

if TYPE_CHECKING:
    from .lower import FunctionLowering


def reachable_boxes(env: dict[str, object]) -> list[Box]:
    seen: dict[int, Box] = {}

    def walk(v: object) -> None:
        if isinstance(v, ArrayV):
            seen.setdefault(id(v.box), v.box)
        elif isinstance(v, Value):
            for c in children(v):
                walk(c)
    for v in env.values():
        walk(v)
    return list(seen.values())


class ArmState:
    """The environment and box contents one arm ended with."""

    def __init__(self, env: dict[str, object], boxes: dict[int, ir.Value]):
        self.env = env
        self.boxes = boxes


def run_arm(fl: FunctionLowering, arm: Callable[[], None], boxes: list[Box]) -> ArmState:
    saved_env = dict(fl.env)
    saved_values = [b.value for b in boxes]
    arm()
    state = ArmState(fl.env, {id(b): b.value for b in boxes})
    fl.env = saved_env
    for b, v in zip(boxes, saved_values):
        b.value = v
    return state


def _changes(fl: FunctionLowering, before: dict[str, object], arms: list[ArmState], node: A.Node):
    """Names whose value differs between the arms or from before, each with its value per arm."""
    from .lower import _Undef
    names = []
    for name in dict.fromkeys([*arms[0].env, *arms[1].env]):
        vals = [a.env.get(name) for a in arms]
        if all(v is before.get(name) for v in vals):
            continue
        if any(v is None or isinstance(v, _Undef) for v in vals):
            defined = [v for v in vals if v is not None and not isinstance(v, _Undef)]
            if name.startswith("%") and defined:
                vals = [v if v is not None and not isinstance(v, _Undef) else zero_like(fl, defined[0]) for v in vals]
            else:
                fl.env[name] = _Undef(node.span)
                continue
        if vals[0].t != vals[1].t:
            shown = name if not name.startswith("%") else "the returned value"
            raise fl.error(f"type instability: `{shown}` is {describe(vals[0])} on one branch and "
                           f"{describe(vals[1])} on the other (jlhlo needs one concrete type per variable)", node)
        names.append((name, vals))
    return names


def zero_like(fl: FunctionLowering, v: Value) -> Value:
    """A placeholder of the same type (never observed: it fills a slot whose flag is false)."""
    if isinstance(v, ScalarV):
        return ScalarV(v.t, 0 if not v.t.info.is_complex else 0j, None, v.batch)
    if isinstance(v, ArrayV):
        return ArrayV(v.t, Box(H.constant(v.t.elt, 0, v.t.shape)))
    replace = {id(leaf): zero_like(fl, leaf) for leaf in runtime_leaves(v)}
    return rebuild(v, replace)


def _leaf_pairs(a: Value, b: Value, arm_boxes: list[ArmState]) -> list[tuple[Value, Value]]:
    """Matching leaves of two values of the same type that are not the same constant."""
    if isinstance(a, ScalarV):
        if a.is_const and b.is_const and a.const == b.const and a.batch == b.batch:
            return []
        return [(a, b)]
    if isinstance(a, ArrayV):
        return [(a, b)]
    out = []
    for ca, cb in zip(children(a), children(b)):
        out += _leaf_pairs(ca, cb, arm_boxes)
    return out


def _merge(fl: FunctionLowering, c: ScalarV, arms: list[ArmState], before: dict[str, object],
           boxes: list[Box], node: A.Node, combine) -> None:
    changed = _changes(fl, before, arms, node)
    pairs: list[tuple[Value, Value]] = []
    per_name = []
    for name, (va, vb) in changed:
        leaf_pairs = _leaf_pairs(va, vb, arms)
        per_name.append((name, va, leaf_pairs))
        pairs += leaf_pairs

    def arm_ir(leaf: Value, arm: ArmState) -> ir.Value:
        if isinstance(leaf, ArrayV):
            return arm.boxes.get(id(leaf.box), leaf.box.value)
        return fl.materialize(leaf)
    changed_boxes = [b for b in boxes if any(a.boxes[id(b)] is not b.value for a in arms)]
    then_vals = [arm_ir(p[0], arms[0]) for p in pairs] + [arms[0].boxes[id(b)] for b in changed_boxes]
    else_vals = [arm_ir(p[1], arms[1]) for p in pairs] + [arms[1].boxes[id(b)] for b in changed_boxes]
    merged = combine(then_vals, else_vals)
    k = 0
    for name, template, leaf_pairs in per_name:
        replace = {}
        for leaf, _ in leaf_pairs:
            if isinstance(leaf, ArrayV):
                replace[id(leaf)] = ArrayV(leaf.t, Box(merged[k]))
            else:
                replace[id(leaf)] = ScalarV(leaf.t, None, merged[k], leaf.batch or c.batch)
            k += 1
        fl.env[name] = rebuild(template, replace)
    for b in changed_boxes:
        b.value = merged[k]
        k += 1


def if_branches(fl: FunctionLowering, c: ScalarV, then: Callable[[], None], orelse: Callable[[], None],
                node: A.Node) -> None:
    before = dict(fl.env)
    boxes = reachable_boxes(fl.env)
    scratch = hlo.IfOp([], c.ir)
    blocks = []
    arms = []
    for region, arm in zip(scratch.regions, (then, orelse)):
        block = region.blocks.append()
        with ir.InsertionPoint(block):
            arms.append(run_arm(fl, arm, boxes))
        blocks.append(block)

    def combine(then_vals: list[ir.Value], else_vals: list[ir.Value]) -> list[ir.Value]:
        final = hlo.IfOp([v.type for v in then_vals], c.ir)
        for block, region, vals in zip(blocks, final.regions, (then_vals, else_vals)):
            block.append_to(region)
            with ir.InsertionPoint(block):
                hlo.ReturnOp(vals)
        scratch.operation.erase()
        return list(final.results)
    _merge(fl, c, arms, before, boxes, node, combine)


def select_branches(fl: FunctionLowering, c: ScalarV, then: Callable[[], None], orelse: Callable[[], None],
                    node: A.Node) -> None:
    """Both arms on every lane; per-lane `select` picks. Arrays cannot be mutated per lane."""
    before = dict(fl.env)
    boxes = reachable_boxes(fl.env)
    arms = [run_arm(fl, then, boxes), run_arm(fl, orelse, boxes)]

    def combine(then_vals: list[ir.Value], else_vals: list[ir.Value]) -> list[ir.Value]:
        out = []
        for a, b in zip(then_vals, else_vals):
            if H.shape_of(a) != tuple(c.batch) and len(H.shape_of(a)) != 0 or H.shape_of(b) != tuple(c.batch) \
                    and len(H.shape_of(b)) != 0:
                raise fl.error("an array cannot be assigned or mutated under a condition that differs per "
                               "broadcast element", node)
            out.append(hlo.select(c.ir, H.broadcast(a, c.batch), H.broadcast(b, c.batch)))
        return out
    _merge(fl, c, arms, before, boxes, node, combine)
