"""Broadcasting with Julia's rules: dimensions align from the *first* one, a size-1 dimension
stretches. `f.(args...)` lowers by turning every array argument into a batched scalar (one lane
per element of the broadcast shape) and calling `f` on scalars: primitives then act lane-wise,
and a user function with branches is lowered once, for all lanes (its `if`s become selects)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..core import builder as B
from . import ast as A
from .arrays import as_array, as_row, row_wrapper, vect
from .calls import call_value
from .indexing import linear_element
from .loops import map_loop, struct_array_element
from .struct_arrays import broadcast_to, from_lanes, is_record, lanes
from .types import ArrayT, TupleT
from .unions import split_call
from .values import (
    ArrayV,
    Box,
    ClosureV,
    FuncV,
    LaneConflict,
    ScalarV,
    SingletonV,
    StructArrayV,
    StructV,
    TupleV,
    TypeV,
    Value,
    runtime_leaves,
)

if TYPE_CHECKING:
    from .context import Lowering


def broadcast_shape(fl: Lowering, shapes: list[tuple[int, ...]], node: A.Node) -> tuple[int, ...]:
    nd = max(len(s) for s in shapes)
    out = []
    for d in range(nd):
        sizes = {s[d] if d < len(s) else 1 for s in shapes}
        sizes.discard(1)
        if len(sizes) > 1:
            shown = ", ".join("(" + ", ".join(map(str, s)) + ("," if len(s) == 1 else "") + ")" for s in shapes)
            raise fl.error(f"DimensionMismatch: arrays could not be broadcast to a common size; got arrays of "
                           f"sizes {shown} (dimension {d + 1} differs)", node)
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


def broadcast_call(fl: Lowering, f: Value, args: list[Value], kwargs: dict[str, Value],
                   node: A.Node) -> Value:
    """`f.(args...; kwargs...)`; over row vectors and numbers only, the result is a row vector too."""
    split = split_call(fl, args, kwargs, lambda a, k: broadcast_call(fl, f, a, k, node), node)
    if split is not None:
        return split
    return as_row(_broadcast_call(fl, f, args, kwargs, node), row_wrapper(args))


def _broadcast_call(fl: Lowering, f: Value, args: list[Value], kwargs: dict[str, Value],
                    node: A.Node) -> Value:
    args = [as_array(fl, a, node) for a in args]
    arrays = [a for a in args if isinstance(a, (ArrayV, StructArrayV))]
    args = [_held(a, bool(arrays)) for a in args]
    tuples = [a for a in args if isinstance(a, TupleV)]
    if tuples and not arrays:
        return _broadcast_tuples(fl, f, args, kwargs, node)
    if tuples:                         # with arrays, a tuple takes part as the vector of its items
        args = [vect(fl, list(a.items), node) if isinstance(a, TupleV) else a for a in args]
        arrays = [a for a in args if isinstance(a, (ArrayV, StructArrayV))]
    if not arrays:
        return call_value(fl, f, [_whole(a) for a in args], kwargs, node)
    for a in args:
        if not isinstance(a, (ArrayV, StructArrayV, ScalarV, Held)):
            if not _is_broadcast_scalar(a):
                raise fl.error(f"broadcasting over a value of type {a.t.julia()} is not supported "
                               f"(arrays, ranges and numbers are)", node)
    shape = broadcast_shape(fl, [a.t.shape for a in arrays], node)
    if any(_has_lanes(a) for a in [f, *args, *kwargs.values()]):
        raise LaneConflict()           # an array per lane of an enclosing lane-wise computation
    # Lane-wise: every array argument becomes a batched number and `f` runs once for all elements.
    # A Julia function may need more than that per element (an array of its own, a loop changing an
    # array); then the broadcast is lowered again as a loop over the elements.
    may_conflict = not (isinstance(f, FuncV) and f.name not in fl.program.methods)
    saved = fl.checkpoint() if may_conflict else None
    try:
        per_lane = [ScalarV(a.t.elt, None, B.broadcast(a.ir, shape), shape) if isinstance(a, ArrayV) else
                    lanes(a, shape) if isinstance(a, StructArrayV) else _whole(a) for a in args]
        out = call_value(fl, f, per_lane, kwargs, node)
        if isinstance(out, ScalarV) and out.batch not in ((), shape):
            raise LaneConflict()
        if is_record(out):
            return from_lanes(fl, out, shape, node)
    except LaneConflict:
        if saved is None:
            raise
        saved.restore()
        return _broadcast_loop(fl, f, args, kwargs, shape, node)
    if not isinstance(out, ScalarV):
        raise fl.error(f"broadcast function returned {out.t.julia()}; only functions returning numbers can be "
                       f"broadcast here", node)
    return ArrayV(ArrayT(out.t, shape), Box(B.broadcast(fl.materialize(out), shape, list(range(len(out.batch))))))


def _broadcast_loop(fl: Lowering, f: Value, args: list[Value], kwargs: dict[str, Value],
                    shape: tuple[int, ...], node: A.Node) -> ArrayV:
    """`f.(args...)` as a loop: `f` is called on the numbers of one element at a time."""
    full = [ArrayV(ArrayT(a.t.elt, shape), Box(B.broadcast(a.ir, shape))) if isinstance(a, ArrayV) else
            broadcast_to(a, shape) if isinstance(a, StructArrayV) else a for a in args]

    def element(k: ScalarV) -> Value:
        return call_value(fl, f, [linear_element(fl, a, k, node) if isinstance(a, ArrayV) else
                                  struct_array_element(fl, a, k, node) if isinstance(a, StructArrayV) else _whole(a)
                                  for a in full], kwargs, node)
    return map_loop(fl, shape, element, node)


def _has_lanes(v: Value | Held) -> bool:
    """Whether `v` holds a value per lane of a lane-wise computation (also inside a closure or tuple):
    its lanes would be mistaken for this broadcast's elements."""
    return any(isinstance(leaf, ScalarV) and leaf.batch for leaf in runtime_leaves(_whole(v)))


def _broadcast_tuples(fl: Lowering, f: Value, args: list[Value], kwargs: dict[str, Value],
                      node: A.Node) -> TupleV:
    """Broadcasting over tuples (and numbers) gives a tuple: `first.(((a, 2), (3, 4))) == (a, 3)`."""
    lengths = {len(a.items) for a in args if isinstance(a, TupleV)} - {1}
    if len(lengths) > 1:
        raise fl.error(f"DimensionMismatch: tuples could not be broadcast to a common size; got lengths "
                       f"{', '.join(str(len(a.items)) for a in args if isinstance(a, TupleV))}", node)
    n = lengths.pop() if lengths else 1
    items = tuple(call_value(fl, f, [(a.items[k] if len(a.items) > 1 else a.items[0]) if isinstance(a, TupleV)
                                     else _whole(a) for a in args], kwargs, node) for k in range(n))
    return TupleV(TupleT(tuple(i.t for i in items)), items)


@dataclass
class Held:
    """An argument every element sees whole: `Ref(w)`, or a 1-tuple `(w,)` among arrays."""
    value: Value


def _held(v: Value, among_arrays: bool) -> Value | Held:
    if isinstance(v, StructV) and getattr(v.t, "name", None) == "RefValue":
        return Held(v.field(0))
    if among_arrays and isinstance(v, TupleV) and len(v.items) == 1:
        return Held(v.items[0])
    return v


def _whole(v: Value | Held) -> Value:
    return v.value if isinstance(v, Held) else v


def _is_broadcast_scalar(v: Value) -> bool:
    return isinstance(v, (FuncV, ClosureV, TypeV, SingletonV, StructV))


__all__ = ["broadcast_call", "broadcast_shape"]
