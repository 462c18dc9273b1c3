"""Machinery shared by the table-driven Python passes: constant inspection, building constants,
and a driver that applies one rule per op name everywhere in a module, nested regions included."""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import numpy as np
from jax.extend.mlir import ir
from jax.extend.mlir.dialects import stablehlo

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


def registrar(table: dict[str, F]) -> Callable[[str], Callable[[F], F]]:
    """A decorator factory: `@register("add")` files the function in `table` as `stablehlo.add`."""

    def register(name: str) -> Callable[[F], F]:
        def file(fn: F) -> F:
            table["stablehlo." + name] = fn
            return fn

        return file

    return register


def tensor_type(value: ir.Value) -> ir.RankedTensorType:
    return ir.RankedTensorType(value.type)


def element_dtype(value: ir.Value) -> np.dtype | None:
    return numpy_dtype(tensor_type(value).element_type)


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
    element = tensor_type(value).element_type
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
    if np.prod(tensor_type(value).shape, dtype=np.int64) > max_elements:
        return None
    return np.asarray(const.attributes["value"]).reshape(tensor_type(value).shape)


def build_constant(array: np.ndarray, result_type: ir.RankedTensorType) -> ir.Value:
    """A `stablehlo.constant` holding `array` (already of the result's exact dtype)."""
    attr = ir.DenseElementsAttr.get(np.ascontiguousarray(array), type=result_type)
    return stablehlo.ConstantOp(attr).result


def build_splat(scalar: ir.Attribute, result_type: ir.RankedTensorType) -> ir.Value:
    """A splat `stablehlo.constant` of `result_type` whose element is the attribute `scalar`."""
    return stablehlo.ConstantOp(ir.DenseElementsAttr.get_splat(result_type, scalar)).result


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
