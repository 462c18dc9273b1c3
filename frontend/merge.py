"""Joining the environments of two control-flow arms.

Each arm runs against a copy of the environment; afterwards every variable (and every array box)
that an arm changed gets one merged value. With a scalar runtime condition the arms become the two
regions of a `stablehlo.if` whose results are the merged values; with a batched condition (a user
function broadcast over arrays) both arms run on every lane and `stablehlo.select` merges them.
"""
from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Callable

from jax.extend.mlir import ir
from jax.extend.mlir.dialects import stablehlo as hlo

from ..core import builder as B
from ..core.ops import BRANCH_SELECT
from . import ast as A
from . import hlo as H
from .context import ERROR_CODE, RETURN_VALUE, RETURNED
from .exceptions import Threw
from .scalars import convert_scalar
from .types import BOOL, SCALARS, MaybeT, Scalar, TupleT, promote
from .values import (
    ArrayV,
    Box,
    LaneConflict,
    MaybeV,
    ScalarV,
    TupleV,
    Undef,
    Value,
    array_boxes,
    children,
    describe,
    is_nothing,
    leaf_pairs,
    map_leaves,
)

if TYPE_CHECKING:
    from .context import Lowering


def reachable_boxes(env: dict[str, object]) -> list[Box]:
    seen: dict[int, Box] = {}

    def walk(v: object) -> None:
        if isinstance(v, ArrayV):
            for box in v.box.roots():      # a view's contents live in its parent's storage
                seen.setdefault(id(box), box)
        elif isinstance(v, Value):
            for c in children(v):
                walk(c)
    for v in env.values():
        walk(v)
    return list(seen.values())


class ArmState:
    """The environment and box contents one arm ended with; `block` is the arm's region block
    (None when the arms run straight-line, lane-wise)."""

    def __init__(self, env: dict[str, object], boxes: dict[int, ir.Value], block: ir.Block | None = None):
        self.env = env
        self.boxes = boxes
        self.block = block


def run_arm(fl: Lowering, arm: Callable[[], None], boxes: list[Box]) -> ArmState:
    saved_env = dict(fl.env)
    saved_values = [b.value for b in boxes]
    try:
        arm()
    except Threw:
        pass                           # the arm throws: it ends here, the function has exited on it
    state = ArmState(fl.env, {id(b): b.value for b in boxes})
    fl.env = saved_env
    for b, v in zip(boxes, saved_values):
        b.value = v
    return state


def _changes(fl: Lowering, before: dict[str, object], arms: list[ArmState], node: A.Node):
    """Names whose value differs between the arms or from before, each with its value per arm."""
    names = []
    returned = [_has_returned(a.env) for a in arms]
    for name in dict.fromkeys([*arms[0].env, *arms[1].env]):
        vals = [a.env.get(name) for a in arms]
        if returned[0] != returned[1] and not name.startswith("%"):
            # the function returned (or threw) on one arm: its variables are dead there, and the
            # other arm alone decides what they are afterwards
            live = vals[returned.index(False)]
            if live is before.get(name) or live is None or isinstance(live, Undef):
                vals = [live, live]
            else:
                vals[returned.index(True)] = _dead_placeholder(fl, live, before)
        if all(v is before.get(name) for v in vals):
            continue
        if any(v is None or isinstance(v, Undef) for v in vals):
            defined = [v for v in vals if v is not None and not isinstance(v, Undef)]
            if name.startswith("%") and defined:
                vals = [v if v is not None and not isinstance(v, Undef) else zero_like(fl, defined[0]) for v in vals]
            else:
                earlier = next((v for v in vals if isinstance(v, Undef)), None)   # keep why it had no value
                fl.env[name] = Undef(node.span) if earlier is None else earlier
                continue
        if vals[0].t != vals[1].t and all(is_real_number(v) for v in vals):
            vals = _promoted(fl, name, vals, arms, node)
        if vals[0].t != vals[1].t:
            vals = _with_nothing(fl, vals, arms)
        if vals[0].t != vals[1].t:
            shown = (f"`{name}`" if not name.startswith("%") else
                     "the returned value" if name == RETURN_VALUE else "the value of this expression")
            first, second = (describe(v) for v in vals)
            why = "jlhlo needs one concrete type per variable"
            if first == second:              # they differ only in array sizes, which Julia's types leave out
                first, second = (v.t.sized() for v in vals)
                why = "jlhlo needs one concrete type per variable, and an array's size is part of its type"
            if isinstance(node, (A.For, A.While)):       # a loop's first iteration, run before it
                raise fl.error(f"type instability: {shown} is {second} before the loop and {first} after its "
                               f"first iteration, and the loop may run zero times ({why})", node)
            raise fl.error(f"type instability: {shown} is {first} on one branch and {second} on the other ({why})",
                           node)
        names.append((name, vals))
    return names


def _has_returned(env: dict[str, object]) -> bool:
    flag = env.get(RETURNED)
    return isinstance(flag, ScalarV) and flag.is_const and bool(flag.const)


def _dead_placeholder(fl: Lowering, live: Value, before: dict[str, object]) -> Value:
    """A value for a variable on a path where it is never read again: the live path's own value where
    that is usable outside its arm (a constant, an array that existed before the branch), else zeros."""
    existing = {id(b) for v in before.values() if isinstance(v, Value) for b in array_boxes(v)}

    def placeholder(leaf: Value) -> Value:
        if isinstance(leaf, ArrayV) and id(leaf.box) in existing or isinstance(leaf, ScalarV) and leaf.is_const:
            return leaf
        return zero_like(fl, leaf)
    return map_leaves(live, placeholder, constants=True)


def is_real_number(v: object) -> bool:
    return isinstance(v, ScalarV) and v.t.info.kind in ("bool", "int", "uint", "float")


def _promoted(fl: Lowering, name: str, vals: list[ScalarV], arms: list[ArmState], node: A.Node) -> list[ScalarV]:
    """A variable that is a number of another type on each path (`s = c ? 1 : 0.5`) is, for Julia's
    inference, a small Union; jlhlo converts both to their promotion (documented in the README,
    shown by --emit typed). The conversion runs inside each arm."""
    t = promote(vals[0].t, vals[1].t)
    out = []
    for v, arm in zip(vals, arms):
        with ir.InsertionPoint(arm.block) if arm.block is not None else contextlib.nullcontext():
            out.append(convert_scalar(fl, v, t, node))
    note_promotion(fl, name, [v.t for v in vals], t, node)
    return out


def _with_nothing(fl: Lowering, vals: list[Value], arms: list[ArmState]) -> list[Value]:
    """`nothing` on one path and a `T` (or a `Union{Nothing, T}`) on the other, also as items of
    tuples: both become `Union{Nothing, T}` values, inside their arms. Other pairs stay as they are."""
    if vals[0].t == vals[1].t:
        return vals
    if all(isinstance(v, TupleV) for v in vals) and len(vals[0].items) == len(vals[1].items):
        items = [_with_nothing(fl, list(pair), arms) for pair in zip(vals[0].items, vals[1].items)]
        return [TupleV(TupleT(tuple(it[k].t for it in items)), tuple(it[k] for it in items)) for k in (0, 1)]
    inner = {v.t.inner if isinstance(v, MaybeV) else v.t for v in vals if not is_nothing(v)}
    if len(inner) != 1 or not any(is_nothing(v) or isinstance(v, MaybeV) for v in vals):
        return vals
    t = MaybeT(inner.pop())
    sample = next(v.value if isinstance(v, MaybeV) else v for v in vals if not is_nothing(v))
    out: list[Value] = []
    for v, arm in zip(vals, arms):
        with ir.InsertionPoint(arm.block) if arm.block is not None else contextlib.nullcontext():
            out.append(v if isinstance(v, MaybeV) else
                       MaybeV(t, ScalarV(BOOL, False), zero_like(fl, sample)) if is_nothing(v) else
                       MaybeV(t, ScalarV(BOOL, True), v))
    return out


def note_promotion(fl: Lowering, name: str, types: list[Scalar], t: Scalar, node: A.Node) -> None:
    """Record for --emit typed, by variable name, or for an expression's value by its position:
    `name::T  (promoted from Union{...})`."""
    if name.startswith("%value"):
        name = f"(the value at {node.span.line}:{node.span.col})"
    before = fl.promoted.get(name, (frozenset(), t))[0]
    fl.promoted[name] = (before | {u.name for u in types}, t)


def zero_like(fl: Lowering, v: Value) -> Value:
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


class CondBox(Box):
    """An array that is one array on one path through a branch and another on the other path, when
    either is also reachable another way (another variable, the caller's argument):
    `y = x; if c; y = z; end`. Reading it selects between their current contents, so a later change
    of x shows through y where c was false; writing it changes each on its own path."""
    derived = True

    def __init__(self, cond: ir.Value, then: Box, orelse: Box):
        self.cond, self.then, self.orelse = cond, then, orelse

    def roots(self) -> list[Box]:
        return list({id(b): b for b in self.then.roots() + self.orelse.roots()}.values())

    def parts(self) -> tuple[list[ir.Value], list[Box]]:
        return [self.cond], [self.then, self.orelse]

    def rebuilt(self, values: list[ir.Value], boxes: list[Box]) -> CondBox:
        return CondBox(values[0], *boxes)

    @property
    def value(self) -> ir.Value:
        then = self.then.value
        return hlo.select(B.broadcast(self.cond, B.shape(then)), then, self.orelse.value)

    @value.setter
    def value(self, _: ir.Value) -> None:
        raise AssertionError("a branch-dependent array is written through Lowering.write")

    def write(self, fl: Lowering, new: ir.Value, node: A.Node | None) -> None:
        c = B.broadcast(self.cond, B.shape(new))
        fl.write_box(self.then, hlo.select(c, new, self.then.value), node)
        fl.write_box(self.orelse, hlo.select(c, self.orelse.value, new), node)


class SelectBox(Box):
    """An array that is one of several, chosen by a run-time index (an Int32 scalar): how a loop
    carries a variable it rebinds, which may also still be (or become) an array from before the
    loop (see loops.py). Index 0 is the variable's own array."""
    derived = True

    def __init__(self, which: ir.Value, choices: list[Box]):
        self.which, self.choices = which, choices

    def roots(self) -> list[Box]:
        return list({id(r): r for b in self.choices for r in b.roots()}.values())

    def parts(self) -> tuple[list[ir.Value], list[Box]]:
        return [self.which], list(self.choices)

    def rebuilt(self, values: list[ir.Value], boxes: list[Box]) -> SelectBox:
        return SelectBox(values[0], boxes)

    def picks(self, shape: tuple[int, ...]) -> list[ir.Value]:
        """Per choice k ≥ 1, the predicate `which == k` broadcast to `shape`."""
        t = ir.RankedTensorType(self.which.type)
        return [B.broadcast(H.compare("EQ", self.which, hlo.constant(ir.DenseElementsAttr.get_splat(
            t, ir.IntegerAttr.get(t.element_type, k))), "int"), shape) for k in range(1, len(self.choices))]

    @property
    def value(self) -> ir.Value:
        out = self.choices[0].value
        for pick, box in zip(self.picks(B.shape(out)), self.choices[1:]):
            out = hlo.select(pick, box.value, out)
        return out

    @value.setter
    def value(self, _: ir.Value) -> None:
        raise AssertionError("a loop-carried choice of arrays is written through Lowering.write")

    def write(self, fl: Lowering, new: ir.Value, node: A.Node | None) -> None:
        picks = self.picks(B.shape(new))
        chosen_own = None
        for pick in picks:
            chosen_own = pick if chosen_own is None else hlo.or_(chosen_own, pick)
        own = self.choices[0]
        fl.write_box(own, new if chosen_own is None else hlo.select(chosen_own, own.value, new), node)
        for pick, box in zip(picks, self.choices[1:]):
            fl.write_box(box, hlo.select(pick, new, box.value), node)


def _merge(fl: Lowering, c: ScalarV, arms: list[ArmState], before: dict[str, object],
           boxes: list[Box], node: A.Node, combine) -> None:
    changed = _changes(fl, before, arms, node)

    def arm_ir(leaf: Value, arm: ArmState) -> ir.Value:
        if isinstance(leaf, ArrayV):
            return arm.boxes.get(id(leaf.box), leaf.box.value)
        return fl.materialize(leaf)
    # Arrays: the names holding the same pair of arrays (one per path) share one array afterwards. A
    # pair whose arrays are reachable only through those names merges into a new array; otherwise
    # the result is a CondBox over the two, which keeps Julia's aliasing exactly.
    pairs: dict[tuple[int, int], tuple[Box, Box]] = {}
    uses: dict[tuple[int, int], int] = {}
    holders: dict[tuple[int, int], set[str]] = {}
    plans = []
    for name, (va, vb) in changed:
        plan: list[tuple[Value, Value, tuple[int, int] | None]] = []
        for la, lb in leaf_pairs(va, vb):
            if isinstance(la, ArrayV) and la.box is lb.box or isinstance(la, ScalarV) and same_constant(la, lb):
                plan.append((la, lb, None))               # the same on both paths (array contents merge below)
                continue
            key = (id(la.box), id(lb.box)) if isinstance(la, ArrayV) else None
            if key is not None:
                pairs[key] = (la.box, lb.box)
                uses[key] = uses.get(key, 0) + 1
                holders.setdefault(key, set()).add(name)
            plan.append((la, lb, key))
        plans.append((name, va, plan))
    existing = {id(b) for v in before.values() if isinstance(v, Value) for b in array_boxes(v)}
    refs = [box_references(a.env) for a in arms]
    if pairs and c.batch:
        raise LaneConflict()           # an array that differs per lane
    kinds = {key: _pair_kind(fl, pair, refs, uses[key], holders[key] == {RETURN_VALUE}) for key, pair in pairs.items()}

    then_vals: list[ir.Value] = []
    else_vals: list[ir.Value] = []

    def slot(then_value: ir.Value, else_value: ir.Value) -> int:
        then_vals.append(then_value)
        else_vals.append(else_value)
        return len(then_vals) - 1
    slots: dict[object, int] = {}
    for name, va, plan in plans:
        for la, lb, key in plan:
            if key is None and la is not lb and not (isinstance(la, ArrayV) or same_constant(la, lb)):
                slots[(name, id(la), id(lb))] = slot(arm_ir(la, arms[0]), arm_ir(lb, arms[1]))
    for key, kind in kinds.items():
        a, b = pairs[key]
        if kind == "merged":
            slots[key] = slot(arms[0].boxes.get(id(a), a.value), arms[1].boxes.get(id(b), b.value))
        else:                          # what an arm made is carried out of the branch, part by part
            slots[key] = [_export(box, side, existing, slot) for side, box in enumerate((a, b))]
    changed_boxes = [b for b in boxes if any(a.boxes[id(b)] is not b.value for a in arms)]
    first_box = len(then_vals)
    then_vals += [arms[0].boxes[id(b)] for b in changed_boxes]
    else_vals += [arms[1].boxes[id(b)] for b in changed_boxes]
    merged = combine(then_vals, else_vals)
    merged_boxes: dict[tuple[int, int], Box] = {}
    for key, kind in kinds.items():
        a, b = pairs[key]
        if kind == "merged":
            merged_boxes[key] = Box(merged[slots[key]])
        else:
            merged_boxes[key] = CondBox(c.ir, *(_imported(recipe, merged) for recipe in slots[key]))
    for name, va, plan in plans:
        new_leaves = []
        for la, lb, key in plan:
            if key is not None:
                new_leaves.append(ArrayV(la.t, merged_boxes[key]))
            elif (name, id(la), id(lb)) in slots:
                value = merged[slots[(name, id(la), id(lb))]]
                new_leaves.append(ScalarV(la.t, None, value, tuple(B.shape(value)),
                                          irrational=la.irrational and lb.irrational))   # `c ? pi : ℯ`
            else:
                new_leaves.append(la)
        it = iter(new_leaves)
        fl.env[name] = map_leaves(va, lambda _: next(it), constants=True)
        if name in fl.variables:
            fl.variables[name] = fl.env[name]      # --emit typed shows the merged value, not one arm's
    for k, b in enumerate(changed_boxes):
        b.value = merged[first_box + k]


def _pair_kind(fl: Lowering, pair: tuple[Box, Box], refs: list[dict[int, int]], uses: int,
               returned: bool) -> str:
    """"merged" when each array of the pair is reachable only through the names that hold the pair,
    "cond" when either is also reachable another way (then both must stay what they are). For the
    returned value only the caller's arrays count: the function's own variables die with it."""
    shared = False
    for side, box in enumerate(pair):
        shared |= box.derived or not returned and refs[side].get(id(box), 0) > uses or any(
            id(r) in fl.param_boxes or id(r) in fl.pinned_boxes for r in box.roots())
    return "cond" if shared else "merged"


def _export(box: Box, side: int, existing: set[int], slot) -> tuple:
    """How to rebuild, after the branch, a box arm `side` holds: one that existed before stays;
    one the arm made is carried out as the branch's results (its contents, or a derived box's
    parts), with zeros on the other path, where it is never read."""
    if id(box) in existing:
        return ("keep", box)
    if not box.derived:
        return ("plain", _export_value(box.value, side, slot))
    values, boxes = box.parts()
    return ("derived", box, [_export_value(v, side, slot) for v in values],
            [_export(b, side, existing, slot) for b in boxes])


def _export_value(value: ir.Value, side: int, slot) -> int:
    zero = H.constant(_elt_of(value), 0, B.shape(value))
    return slot(*((value, zero) if side == 0 else (zero, value)))


def _imported(recipe: tuple, merged: list[ir.Value]) -> Box:
    if recipe[0] == "keep":
        return recipe[1]
    if recipe[0] == "plain":
        return Box(merged[recipe[1]])
    _, box, values, boxes = recipe
    return box.rebuilt([merged[k] for k in values], [_imported(r, merged) for r in boxes])


def _elt_of(value: ir.Value):
    element = str(ir.RankedTensorType(value.type).element_type)
    return next(Scalar(n) for n, i in SCALARS.items() if i.mlir == element)


def if_branches(fl: Lowering, c: ScalarV, then: Callable[[], None], orelse: Callable[[], None],
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
        arms[-1].block = block
        blocks.append(block)

    def combine(then_vals: list[ir.Value], else_vals: list[ir.Value]) -> list[ir.Value]:
        # a number that is one per lane on one path only is broadcast there, inside its arm
        shapes = [max(B.shape(a), B.shape(b), key=len) for a, b in zip(then_vals, else_vals)]
        types = [ir.RankedTensorType.get(list(s), ir.RankedTensorType(a.type).element_type)
                 for s, a in zip(shapes, then_vals)]
        final = hlo.IfOp(types, c.ir)
        for block, region, vals in zip(blocks, final.regions, (then_vals, else_vals)):
            block.append_to(region)
            with ir.InsertionPoint(block):
                hlo.ReturnOp([B.broadcast(v, s) for v, s in zip(vals, shapes)])
        scratch.operation.erase()
        return list(final.results)
    _merge(fl, c, arms, before, boxes, node, combine)


def select_branches(fl: Lowering, c: ScalarV, then: Callable[[], None], orelse: Callable[[], None],
                    node: A.Node) -> None:
    """Both arms on every lane; per-lane `select` picks. Arrays cannot be mutated per lane."""
    before = dict(fl.env)
    boxes = reachable_boxes(fl.env)
    # a check an arm makes stays one code per lane until the merge has kept only the lanes that
    # take that arm (`sqrt` in `x >= 0 ? sqrt(x) : 0.0` fails on no lane)
    fl.lane_arms += 1
    try:
        arms = [run_arm(fl, then, boxes), run_arm(fl, orelse, boxes)]
    finally:
        fl.lane_arms -= 1

    def combine(then_vals: list[ir.Value], else_vals: list[ir.Value]) -> list[ir.Value]:
        out = []
        for a, b in zip(then_vals, else_vals):
            if B.shape(a) != tuple(c.batch) and len(B.shape(a)) != 0 or B.shape(b) != tuple(c.batch) \
                    and len(B.shape(b)) != 0:
                raise LaneConflict()   # an array assigned or changed on some lanes only
            merged = hlo.select(c.ir, B.broadcast(a, c.batch), B.broadcast(b, c.batch))
            # marks the select as a branch, for reverse mode: the lanes that did not take an arm
            # give its values no gradient at all, as in Julia, where that arm never ran
            merged.owner.attributes[BRANCH_SELECT] = ir.UnitAttr.get()
            out.append(merged)
        return out
    _merge(fl, c, arms, before, boxes, node, combine)
    # a check in one arm made the error code per lane; outside a function lowered for all lanes of
    # a broadcast (and outside per-lane arms) it is one code, as `merge_error` keeps it
    err = fl.env.get(ERROR_CODE)
    if isinstance(err, ScalarV) and err.batch and err.batch != fl.lanes and not fl.lane_arms:
        fl.env[ERROR_CODE] = fl.first_failure(err)
