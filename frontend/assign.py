"""Assignments: `x = v`, destructuring, updating operators, `A[i] = v`, and the dotted forms that
write into an existing array (`x .= v`, `A[r, :] .+= v`)."""
from __future__ import annotations

from math import prod
from typing import TYPE_CHECKING

from . import ast as A
from .arrays import reshape_colmajor, write_into_array
from .diagnostics import StaticValueNeeded
from .dispatch import Pat
from .indexing import index_value, linear_element, lower_setindex
from .mutable import is_mutable, set_field
from .ranges import make_range
from .runtime_slices import has_range_slice, update_runtime_slice
from .scalars import convert_scalar
from .types import INT64, Scalar, TupleT
from .values import ArrayListV, ArrayV, ScalarV, StructV, TupleV, TypeV, Undef, Value, describe

if TYPE_CHECKING:
    from .context import Lowering


def assign(fl: Lowering, s: A.Assign) -> None:
    target = s.target
    if s.value is None:                # `local x`: declared here, assigned later (maybe inside a loop)
        name = target.value if isinstance(target, A.TypeAssert) else target
        if isinstance(target, A.TypeAssert) and isinstance(name, A.Name):
            fl.declared[name.id] = _declared_type(fl, target)
        if isinstance(name, A.Name) and name.id not in fl.env:
            fl.env[name.id] = Undef(s.span, "it is declared with `local` and not assigned on every path before")
        return
    if s.dotted:
        value_expr: A.Expr = s.value if s.op is None else A.Broadcast(A.Name(s.op, span=s.span), [target, s.value],
                                                                       span=s.span)
        if not has_range_slice(target):
            write_into(fl, target, fl.expr(value_expr), s)
            return
        saved = fl.checkpoint()
        try:
            write_into(fl, target, fl.expr(value_expr), s)
        except StaticValueNeeded:      # `X[i, a:b] .-= ...` with a run-time length: a loop, if it can be
            saved.restore()
            if not update_runtime_slice(fl, s):
                raise
        return
    if s.op is not None:
        value_expr = A.Call(A.Name(s.op, span=s.span), [target, s.value], span=s.span)
    else:
        value_expr = s.value
    if isinstance(target, A.Index):
        lower_setindex(fl, target, fl.expr(value_expr), s, broadcast=False)
        return
    bind_target(fl, target, fl.expr(value_expr), s)


def _declared_type(fl: Lowering, target: A.TypeAssert) -> TypeV:
    t = fl.expr(target.type)
    if not isinstance(t, TypeV):
        raise fl.error(f"expected a type after `::`, got {describe(t)}", target.type)
    return t


def _as_declared(fl: Lowering, name: str, v: Value, node: A.Node) -> Value:
    """A value assigned to a variable declared `x::T`: converted to T (numbers), as Julia does, or
    checked to be a T."""
    t = fl.declared[name]
    if isinstance(t.of, Scalar) and isinstance(v, ScalarV):
        return convert_scalar(fl, v, t.of, node, exact=t.of.info.is_integer)
    pattern = t.of if isinstance(t.of, Pat) else fl.program.universe.pattern(A.Name(str(t.of)), {}) \
        if isinstance(t.of, str) else None
    if pattern is None or not fl.program.universe.matches(pattern, v.t, {}):
        shown = pattern.show() if pattern is not None else t.t.julia()
        raise fl.error(f"`{name}` is declared `{name}::{shown}`; converting a {v.t.julia()} to it is not supported "
                       f"(jlhlo converts numbers)", node)
    return v


def bind_target(fl: Lowering, target: A.Node, v: Value, node: A.Node) -> None:
    if isinstance(target, A.Name):
        if target.id in fl.declared:
            v = _as_declared(fl, target.id, v, node)
        fl.assign_name(target.id, v)
    elif isinstance(target, A.TupleExpr):
        _destructure(fl, target.items, v, node)
    elif isinstance(target, A.Field):
        obj = fl.expr(target.obj)
        if isinstance(obj, StructV) and is_mutable(fl, obj.t):
            set_field(fl, obj, target.name, v, node)
            return
        raise fl.error(f"setfield!: immutable struct cannot be changed (field `{target.name}`); "
                       "mutate an array field in place with `.=`, or declare it a `mutable struct`", node)
    elif isinstance(target, A.Index):
        lower_setindex(fl, target, v, node, broadcast=False)
    elif isinstance(target, A.TypeAssert) and isinstance(target.value, A.Name):
        fl.declared[target.value.id] = _declared_type(fl, target)       # `x::T = v`
        bind_target(fl, target.value, v, node)
    elif isinstance(target, A.TypeAssert):
        bind_target(fl, target.value, v, node)
    else:
        raise fl.error("unsupported assignment target", node)


def _destructure(fl: Lowering, targets: list[A.Node], v: Value, node: A.Node) -> None:
    """`a, b = v` takes v's first elements in iteration order; `a, rest... = v` (one slurp, anywhere)
    binds the elements the others leave, as Base.rest does: a tuple of a tuple, a Vector of an array."""
    if isinstance(v, StructV) and not any(isinstance(t, A.Splat) for t in targets):
        items: tuple[Value, ...] = tuple(v.field(k) for k in range(len(v.items)))
    elif isinstance(v, (TupleV, ArrayListV)):
        items = v.items
    elif isinstance(v, ArrayV):
        n = prod(v.t.shape)
        items = tuple(linear_element(fl, v, ScalarV(INT64, k), node) for k in range(min(n, len(targets))))
    else:
        raise fl.error(f"cannot destructure a value of type {v.t.julia()}", node)
    slurp = next((k for k, t in enumerate(targets) if isinstance(t, A.Splat)), None)
    count = len(items) if not isinstance(v, ArrayV) else prod(v.t.shape)
    needed = len(targets) - (slurp is not None)
    if count < needed:
        raise fl.error(f"BoundsError: cannot destructure {count} values into {needed} names", node)
    if slurp is None:
        for t, item in zip(targets, items):
            bind_target(fl, t, item, node)
        return
    after = len(targets) - slurp - 1
    for t, item in zip(targets[:slurp], items):
        bind_target(fl, t, item, node)
    if isinstance(v, ArrayV):
        if after:
            raise fl.error("`a, rest..., b = v` of an array is not supported (Julia needs to know its end: "
                           "only tuples allow names after the slurp)", node)
        flat = reshape_colmajor(fl, v, (count,))
        rest = index_value(fl, flat, [make_range(fl, ScalarV(INT64, slurp + 1), None, ScalarV(INT64, count), node)],
                           node)
    else:
        kept = items[slurp:len(items) - after]
        rest = TupleV(TupleT(tuple(item.t for item in kept)), tuple(kept))
    bind_target(fl, targets[slurp].value, rest, node)
    for t, item in zip(targets[slurp + 1:], items[len(items) - after:]):
        bind_target(fl, t, item, node)


def write_into(fl: Lowering, target: A.Node, v: Value, node: A.Node) -> None:
    """`target .= v`: the target array is updated in place (every alias sees the change)."""
    if isinstance(target, A.Index):
        lower_setindex(fl, target, v, node, broadcast=True)
        return
    write_into_array(fl, fl.expr(target), v, node)


__all__ = ["assign", "bind_target", "write_into"]
