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
from .values import (
    ArrayV,
    Box,
    LaneConflict,
    ScalarV,
    Undef,
    Value,
    array_boxes,
    children,
    describe,
    leaf_pairs,
    map_leaves,
    root_box,
)

if TYPE_CHECKING:
    from .lower import FunctionLowering


def reachable_boxes(env: dict[str, object]) -> list[Box]:
    seen: dict[int, Box] = {}

    def walk(v: object) -> None:
        if isinstance(v, ArrayV):
            box = root_box(v.box)          # a view's contents live in its parent's storage
            seen.setdefault(id(box), box)
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
    names = []
    for name in dict.fromkeys([*arms[0].env, *arms[1].env]):
        vals = [a.env.get(name) for a in arms]
        if all(v is before.get(name) for v in vals):
            continue
        if any(v is None or isinstance(v, Undef) for v in vals):
            defined = [v for v in vals if v is not None and not isinstance(v, Undef)]
            if name.startswith("%") and defined:
                vals = [v if v is not None and not isinstance(v, Undef) else zero_like(fl, defined[0]) for v in vals]
            else:
                fl.env[name] = Undef(node.span)
                continue
        if vals[0].t != vals[1].t:
            shown = name if not name.startswith("%") else "the returned value"
            raise fl.error(f"type instability: `{shown}` is {describe(vals[0])} on one branch and "
                           f"{describe(vals[1])} on the other (jlhlo needs one concrete type per variable)", node)
        names.append((name, vals))
    return names


def zero_like(fl: FunctionLowering, v: Value) -> Value:
    """A placeholder of the same type (never observed: it fills a slot whose flag is false)."""
    def zero(leaf: Value) -> Value:
        if isinstance(leaf, ArrayV):
            return ArrayV(leaf.t, Box(H.constant(leaf.t.elt, 0, leaf.t.shape)))
        return ScalarV(leaf.t, 0 if not leaf.t.info.is_complex else 0j, None, leaf.batch)
    return map_leaves(v, zero)


def same_constant(a: ScalarV, b: ScalarV) -> bool:
    """Both compile-time constants with identical bits (-0.0 and 0.0 differ; NaN equals NaN)."""
    return a.is_const and b.is_const and a.t == b.t and a.batch == b.batch and repr(a.const) == repr(b.const)


def box_references(env: dict[str, object]) -> dict[int, int]:
    """How many times each array box is referenced from the variables."""
    counts: dict[int, int] = {}
    for v in env.values():
        if isinstance(v, Value):
            for b in array_boxes(v):
                counts[id(b)] = counts.get(id(b), 0) + 1
    return counts


ALIAS_HAZARD = ("after a branch, `{name}` refers to one array on one path and to another on the other path, and "
                "one of them is also reachable another way (another variable or the caller's argument); changing "
                "either array in place afterwards would have to change the other only on some paths, which jlhlo "
                "cannot compile; make the copy explicit with `copy(...)`")


def _merge(fl: FunctionLowering, c: ScalarV, arms: list[ArmState], before: dict[str, object],
           boxes: list[Box], node: A.Node, combine) -> None:
    changed = _changes(fl, before, arms, node)

    def arm_ir(leaf: Value, arm: ArmState, batch: tuple[int, ...] = ()) -> ir.Value:
        if isinstance(leaf, ArrayV):
            return arm.boxes.get(id(leaf.box), leaf.box.value)
        return H.broadcast(fl.materialize(leaf), batch)     # a number on one lane or all, as the other arm
    # one merge slot per differing number, and per pair of arrays (one box on each path): the names
    # that hold the same pair of arrays still share one array afterwards
    then_vals: list[ir.Value] = []
    else_vals: list[ir.Value] = []
    pair_slot: dict[tuple[int, int], int] = {}
    plans = []
    for name, (va, vb) in changed:
        plan: list[tuple[Value, int | None, tuple[int, int] | None]] = []
        for la, lb in leaf_pairs(va, vb):
            if isinstance(la, ArrayV) and la.box is lb.box or isinstance(la, ScalarV) and same_constant(la, lb):
                plan.append((la, None, None))             # the same on both paths (array contents merge below)
                continue
            if isinstance(la, ArrayV) and (root_box(la.box) is not la.box or root_box(lb.box) is not lb.box):
                raise fl.error(f"`{name}` is a view on one path through this branch and another array on the other; "
                               f"jlhlo does not support that (make both views, or `copy` the view)", node)
            key = (id(la.box), id(lb.box)) if isinstance(la, ArrayV) else None
            if key is None or key not in pair_slot:
                slot = len(then_vals)
                batch = () if key else la.batch or lb.batch
                then_vals.append(arm_ir(la, arms[0], batch))
                else_vals.append(arm_ir(lb, arms[1], batch))
                if key is not None:
                    pair_slot[key] = slot
            plan.append((la, pair_slot[key] if key else slot, key))
        plans.append((name, va, vb, plan))
    changed_boxes = [b for b in boxes if any(a.boxes[id(b)] is not b.value for a in arms)]
    first_box = len(then_vals)
    then_vals += [arms[0].boxes[id(b)] for b in changed_boxes]
    else_vals += [arms[1].boxes[id(b)] for b in changed_boxes]
    merged = combine(then_vals, else_vals)
    merged_boxes: dict[tuple[int, int], Box] = {}
    for name, va, vb, plan in plans:
        new_leaves = []
        for leaf, slot, key in plan:
            if slot is None:
                new_leaves.append(leaf)
            elif key is None:
                new_leaves.append(ScalarV(leaf.t, None, merged[slot], tuple(H.shape_of(merged[slot]))))
            else:
                box = merged_boxes.get(key)
                if box is None:
                    box = merged_boxes[key] = Box(merged[slot])
                new_leaves.append(ArrayV(leaf.t, box))
        it = iter(new_leaves)
        fl.env[name] = map_leaves(va, lambda _: next(it), constants=True)
    for k, b in enumerate(changed_boxes):
        b.value = merged[first_box + k]
    _mark_alias_hazards(fl, arms, plans, merged_boxes)


def _mark_alias_hazards(fl: FunctionLowering, arms: list[ArmState], plans, merged_boxes: dict) -> None:
    """A merged array stands for one array on one path and another on the other. If either is also
    reachable another way, in-place changes after the branch cannot be compiled faithfully: mark the
    arrays, so that such a change is refused where it is written (reading them stays fine)."""
    if not merged_boxes:
        return
    refs = [box_references(a.env) for a in arms]
    uses: dict[tuple[int, int], int] = {}
    for _, _, _, plan in plans:
        for _, _, key in plan:
            if key is not None:
                uses[key] = uses.get(key, 0) + 1
    by_id = {id(b): b for a in arms for v in a.env.values() if isinstance(v, Value) for b in array_boxes(v)}
    for name, _, _, plan in plans:
        for _, _, key in plan:
            if key is None:
                continue
            shared = [by_id.get(bid) for side, bid in enumerate(key)
                      if bid in fl.param_boxes or refs[side].get(bid, 0) > uses[key]]
            if shared:
                message = ALIAS_HAZARD.format(name=name)
                merged_boxes[key].hazard = message
                for b in shared:
                    if b is not None:
                        b.hazard = message


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
                raise LaneConflict()   # an array assigned or changed on some lanes only
            out.append(hlo.select(c.ir, H.broadcast(a, c.batch), H.broadcast(b, c.batch)))
        return out
    _merge(fl, c, arms, before, boxes, node, combine)
