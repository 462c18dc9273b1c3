"""Assignments: `x = v`, destructuring, updating operators, `A[i] = v`, and the dotted forms that
write into an existing array (`x .= v`, `A[r, :] .+= v`)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from . import ast as A
from .arrays import write_into_array
from .diagnostics import StaticValueNeeded
from .indexing import lower_setindex
from .runtime_slices import has_range_slice, update_runtime_slice
from .values import ArrayListV, StructV, TupleV, Value

if TYPE_CHECKING:
    from .context import Lowering


def assign(fl: Lowering, s: A.Assign) -> None:
    target = s.target
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


def bind_target(fl: Lowering, target: A.Node, v: Value, node: A.Node) -> None:
    if isinstance(target, A.Name):
        fl.assign_name(target.id, v)
    elif isinstance(target, A.TupleExpr):
        if isinstance(v, (TupleV, StructV, ArrayListV)):
            items = v.items
        else:
            raise fl.error(f"cannot destructure a value of type {v.t.julia()}", node)
        if len(items) < len(target.items):
            raise fl.error(f"BoundsError: cannot destructure {len(items)} values into {len(target.items)} names",
                           node)
        for t, item in zip(target.items, items):
            bind_target(fl, t, item, node)
    elif isinstance(target, A.Field):
        raise fl.error(f"setfield!: immutable struct cannot be changed (field `{target.name}`); "
                       "mutate an array field in place with `.=` instead", node)
    elif isinstance(target, A.Index):
        lower_setindex(fl, target, v, node, broadcast=False)
    elif isinstance(target, A.TypeAssert):
        bind_target(fl, target.value, v, node)
    else:
        raise fl.error("unsupported assignment target", node)


def write_into(fl: Lowering, target: A.Node, v: Value, node: A.Node) -> None:
    """`target .= v`: the target array is updated in place (every alias sees the change)."""
    if isinstance(target, A.Index):
        lower_setindex(fl, target, v, node, broadcast=True)
        return
    write_into_array(fl, fl.expr(target), v, node)


__all__ = ["assign", "bind_target", "write_into"]
