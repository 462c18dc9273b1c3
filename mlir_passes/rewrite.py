"""Machinery shared by the Python passes: constant inspection, the trip count of a counted loop,
and a driver that applies one rule per op name everywhere in a module, nested regions included."""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import numpy as np
from jax.extend.mlir import ir

from ..core.builder import tensor
from ..core.dtypes import host_readable, numpy_dtype
from ..core.ops import traits

# A rule looks at one op and returns the value that replaces its (single) result, or None to leave
# it alone. It may build new ops: the driver sets the insertion point just before `op` and the
# location to `op`'s. A rule that builds ops must then return a value.
Rule = Callable[[ir.Operation], "ir.Value | None"]

# Python passes reach a fixed point in a few sweeps; the bound only guards against a rule that
# would keep rewriting forever.
_MAX_SWEEPS = 8


F = TypeVar("F", bound=Callable)


# The ops whose regions XLA makes computations of their own (a loop's body, a branch).
REGION_OPS = ("stablehlo.while", "stablehlo.if", "stablehlo.case")


def registrar(table: dict[str, F]) -> Callable[[str], Callable[[F], F]]:
    """A decorator factory: `@register("add")` files the function in `table` as `stablehlo.add`."""

    def register(name: str) -> Callable[[F], F]:
        def file(fn: F) -> F:
            table["stablehlo." + name] = fn
            return fn

        return file

    return register


def named_attributes(op: ir.Operation) -> dict[str, ir.Attribute]:
    """The attributes of `op` by name. (Iterating an `OpAttributeMap` gives names only, and its
    `str` is the map object's address, not its contents.)"""
    attrs = op.attributes
    return {attrs[k].name: attrs[k].attr for k in range(len(attrs))}


def element_dtype(value: ir.Value) -> np.dtype | None:
    return numpy_dtype(tensor(value).element_type)


def defining_op(value: ir.Value, name: str) -> ir.Operation | None:
    """The op that defines `value` if it is named `name` (None for block arguments)."""
    if not isinstance(value, ir.OpResult):
        return None
    op = value.owner.operation  # the bare op: some op views (func.func) redefine `name`
    return op if op.name == name else None


def splat_attr(value: ir.Value) -> ir.Attribute | None:
    """The one element (an IntegerAttr, BoolAttr or FloatAttr) of a splat integer or float
    `stablehlo.constant` (scalars are splats); None if `value` is anything else.

    Reads a single element, so it stays cheap for huge constants.
    """
    const = defining_op(value, "stablehlo.constant")
    element = tensor(value).element_type
    # Checked first: the bindings cannot even hand out a complex constant's attribute.
    if const is None or not isinstance(element, (ir.IntegerType, ir.FloatType)):
        return None
    attr = const.attributes["value"]
    return attr.get_splat_value() if attr.is_splat else None


def splat_value(value: ir.Value) -> bool | int | float | None:
    """`splat_attr` as a Python value."""
    attr = splat_attr(value)
    return None if attr is None else attr.value


def constant_array(value: ir.Value, max_elements: int) -> np.ndarray | None:
    """The contents of a `stablehlo.constant` with at most `max_elements` elements, else None."""
    const = defining_op(value, "stablehlo.constant")
    if const is None or not host_readable(element_dtype(value)):
        return None
    if np.prod(tensor(value).shape, dtype=np.int64) > max_elements:
        return None
    return np.asarray(const.attributes["value"]).reshape(tensor(value).shape)


def trip_count(loop: ir.Operation) -> int | None:
    """The number of iterations of a `stablehlo.while` in the frontend's counted form (frontend/loops.py,
    run_loop): a carried integer counter that starts at a constant, is compared `LT` (or `GT`, operands
    swapped) against a constant in the condition, and grows by a positive constant `add` in the body.
    None for any other loop. The one reading of loop shapes, for unrolling and for gradients."""
    cond, body = loop.regions[0].blocks[0], loop.regions[1].blocks[0]
    compare = defining_op(list(cond.operations)[-1].operation.operands[0], "stablehlo.compare")
    if compare is None:
        return None
    direction = str(compare.attributes["comparison_direction"])
    lhs, rhs = compare.operands
    if "GT" in direction:
        lhs, rhs = rhs, lhs
    elif "LT" not in direction:
        return None
    args = list(cond.arguments)
    if lhs not in args:
        return None
    k = args.index(lhs)
    start, limit = _integer_constant(loop.operands[k]), _integer_constant(rhs)
    add = defining_op(list(body.operations)[-1].operation.operands[k], "stablehlo.add")
    if start is None or limit is None or add is None:
        return None
    counter = body.arguments[k]
    a, b = add.operands
    step = _integer_constant(b) if a == counter else _integer_constant(a) if b == counter else None
    if step is None or step <= 0:
        return None
    return max(0, -(-(limit - start) // step))


def _integer_constant(value: ir.Value) -> int | None:
    c = splat_value(value)
    return c if isinstance(c, int) and not isinstance(c, bool) else None


def collect_ops(root: ir.Operation) -> list[ir.Operation]:
    # Pre-order lists every definition before its uses (dominance), nested regions included. The
    # driver mutates the IR, which a live walk does not allow, hence the list.
    ops: list[ir.Operation] = []

    def visit(op: ir.Operation) -> ir.WalkResult:
        ops.append(op)
        return ir.WalkResult.ADVANCE

    root.walk(visit, ir.WalkOrder.PRE_ORDER)
    return ops


def _sweep(root: ir.Operation, rules: dict[str, Rule]) -> int:
    changed = 0
    # An op with regions (reduce) is erased only after the sweep: the ops nested in it come later
    # in the list and must stay alive until then.
    later: list[ir.Operation] = []
    for op in collect_ops(root):
        rule = rules.get(op.name)
        if rule is None:
            continue
        # Only `op` itself is erased here, so every op reached later in the list is still alive.
        with ir.InsertionPoint(op), op.location:
            replacement = rule(op)
        if replacement is not None:
            op.result.replace_all_uses_with(replacement)
            if len(op.regions):
                later.append(op)
            else:
                op.erase()
            changed += 1
    for op in later:
        op.erase()
    return changed


def _erase_dead(root: ir.Operation) -> None:
    # Reverse pre-order meets every user before the ops it uses, so one pass removes whole chains
    # of ops that the rewrites left without uses.
    for op in reversed(collect_ops(root)):
        # unused results and no effects (core/ops.py): an op without results (a terminator) stays, and
        # region ops are left for dead_values to judge
        if op.results and not op.regions and not traits(op.name).effect \
                and all(next(iter(r.uses), None) is None for r in op.results):
            op.erase()


def apply_rules(root: ir.Operation, rules: dict[str, Rule]) -> int:
    """Apply `rules` to every op under `root` until nothing changes; returns the number of rewrites."""
    total = 0
    for _ in range(_MAX_SWEEPS):
        changed = _sweep(root, rules)
        total += changed
        if not changed:
            break
        # Rules that count uses (to avoid duplicating work) must not see the ops left dead.
        _erase_dead(root)
    return total


def make_pass(rules: dict[str, Rule]) -> Callable[[ir.Operation, object], None]:
    """A callable for `PassManager.add` that applies `rules` to the whole module."""

    def run(op: ir.Operation, pass_: object) -> None:
        apply_rules(op, rules)

    return run
