"""Arrays whose elements are tuples, named tuples or immutable structs of numbers (values.StructArrayV).

Julia stores `[(x, 2x) for x in xs]` or a `Vector{Particle}` as an array of records; jlhlo stores it
as a struct of arrays: one array of the array's shape per number in an element, in the order of the
element's leaves (`Tuple{Float64, Tuple{Int64, Bool}}` has three). Every operation acts on all of
them at once: reading `ps[i]` reads each at `i` and rebuilds the element, writing `ps[i] = p`
writes each of p's numbers, and aliases share the arrays (their boxes), so `qs = ps; qs[1] = p`
changes what `ps` sees, as in Julia.

Elements are immutable, so an element read is a copy, as Julia's is. Mutable structs are refused:
Julia's array of them holds references, which a struct of arrays cannot mimic (`p = ps[1]; p.x = 0`
changes `ps[1]`). Elements holding arrays, ranges or functions are refused too.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

import numpy as np
from jax.extend.mlir.dialects import stablehlo as hlo

from ..core import builder as B
from . import ast as A
from . import hlo as H
from .mutable import is_mutable
from .scalars import convert_scalar
from .types import ArrayT, JType, NamedTupleT, Scalar, StructT, TupleT
from .values import ArrayV, Box, LaneConflict, ScalarV, StructArrayV, StructV, TupleV, Value, map_leaves

if TYPE_CHECKING:
    from .context import Lowering


def is_record(v: Value) -> bool:
    """Whether `v` is a value an array of which is a StructArrayV (checked further by `leaf_types`)."""
    return isinstance(v, (TupleV, StructV)) and not (isinstance(v.t, StructT) and v.t.name == "RefValue")


def leaf_types(fl: Lowering, t: JType, node: A.Node) -> list[Scalar]:
    """The number types of an element of type `t`, in order; a clear error where an array of `t`
    cannot be stored as a struct of arrays."""
    def leaves(u: JType) -> list[Scalar] | None:
        if isinstance(u, Scalar):
            return [u]
        if isinstance(u, StructT) and is_mutable(fl, u):
            raise fl.error(f"an array of the mutable struct {u.julia()} is not supported: Julia's array holds "
                           f"references to the objects, which jlhlo cannot represent (make the struct immutable, or "
                           f"keep its fields in arrays of numbers)", node)
        if not isinstance(u, (TupleT, NamedTupleT, StructT)):
            return None
        parts = [leaves(item) for item in (u.field_types if isinstance(u, StructT) else u.items)]
        return None if None in parts else [leaf for part in parts for leaf in part]
    found = leaves(t)
    if not found:
        raise fl.error(f"an array whose elements are {t.julia()} is not supported: jlhlo arrays hold numbers, and "
                       f"tuples, named tuples and immutable structs of numbers", node)
    return found


def element_leaves(v: Value) -> list[ScalarV]:
    """The numbers of an element, in leaf order (constants included)."""
    out: list[ScalarV] = []
    map_leaves(v, lambda leaf: out.append(leaf) or leaf, constants=True)
    return out


def build_element(t: JType, leaves: Iterator[Value]) -> Value:
    """The element of type `t` whose numbers are `leaves` (in leaf order)."""
    if isinstance(t, Scalar):
        return next(leaves)
    items = tuple(build_element(u, leaves) for u in (t.field_types if isinstance(t, StructT) else t.items))
    return TupleV(t, items) if isinstance(t, TupleT) else StructV(t, items)


def convert_element(fl: Lowering, v: Value, t: JType, node: A.Node) -> list[ScalarV]:
    """The numbers of `v` stored into an array of element type `t`: Julia's `convert(t, v)`, which
    converts a tuple's or named tuple's items and accepts a struct only of type `t` itself."""
    def fits(u: JType, w: JType) -> bool:
        if isinstance(u, Scalar) or isinstance(w, Scalar):
            return isinstance(u, Scalar) and isinstance(w, Scalar)
        if isinstance(w, StructT) or type(u) is not type(w):
            return u == w
        if isinstance(w, NamedTupleT) and u.names != w.names:
            return False
        return len(u.items) == len(w.items) and all(fits(a, b) for a, b in zip(u.items, w.items))
    if not fits(v.t, t):
        raise fl.error(f"MethodError: Cannot `convert` an object of type {v.t.julia()} to an object of type "
                       f"{t.julia()} (storing it into an array of {t.julia()})", node)
    return [convert_scalar(fl, leaf, u, node) for leaf, u in zip(element_leaves(v), leaf_types(fl, t, node))]


def from_elements(fl: Lowering, elements: list[Value], node: A.Node) -> StructArrayV:
    """`[a, b, c]` of tuples, named tuples or structs of one type: a vector of them."""
    t = elements[0].t
    if any(e.t != t for e in elements[1:]):
        shown = ", ".join(dict.fromkeys(e.t.julia() for e in elements))
        raise fl.error(f"the elements of this vector differ in type ({shown}); Julia would make a vector of an "
                       f"abstract or promoted element type, which jlhlo does not support (make them one type)", node)
    types = leaf_types(fl, t, node)
    columns = zip(*(element_leaves(e) for e in elements))
    items = []
    for u, column in zip(types, columns):
        if any(leaf.batch for leaf in column):
            raise LaneConflict()       # an array per lane
        if all(leaf.is_const for leaf in column):
            value = H.array_constant(u, np.array([leaf.const for leaf in column], dtype=u.info.np))
        else:
            value = hlo.concatenate([B.reshape(fl.materialize(leaf), (1,)) for leaf in column], 0)
        items.append(ArrayV(ArrayT(u, (len(elements),)), Box(value)))
    return StructArrayV(ArrayT(t, (len(elements),)), tuple(items))


def from_lanes(fl: Lowering, element: Value, shape: tuple[int, ...], node: A.Node) -> StructArrayV:
    """The array of `shape` whose elements are `element`, computed once for all of them (its numbers
    one per lane, or one for all)."""
    leaf_types(fl, element.t, node)
    items = []
    for leaf in element_leaves(element):
        if leaf.batch not in ((), shape):
            raise LaneConflict()
        value = B.broadcast(fl.materialize(leaf), shape, list(range(len(leaf.batch))))
        items.append(ArrayV(ArrayT(leaf.t, shape), Box(value)))
    return StructArrayV(ArrayT(element.t, shape), tuple(items))


def blank(fl: Lowering, t: JType, shape: tuple[int, ...], node: A.Node) -> StructArrayV:
    """An array of `shape` of elements of type `t` with every number zero (`Vector{P}(undef, n)`,
    whose contents Julia leaves undefined, and placeholders)."""
    items = tuple(ArrayV(ArrayT(u, shape), Box(H.constant(u, 0, shape))) for u in leaf_types(fl, t, node))
    return StructArrayV(ArrayT(t, shape), items)


def lanes(a: StructArrayV, shape: tuple[int, ...], dims: list[int] | None = None) -> Value:
    """An element with one number per lane of `shape` (the array broadcast to it, its dimensions
    along `dims`): how a function broadcast over the array, or a comprehension, sees its elements."""
    return build_element(a.t.elt, iter(ScalarV(leaf.t.elt, None, B.broadcast(leaf.ir, shape, dims), shape)
                                       for leaf in a.items))


def broadcast_to(a: StructArrayV, shape: tuple[int, ...]) -> StructArrayV:
    """`a` broadcast to `shape` (a new array)."""
    items = tuple(ArrayV(ArrayT(leaf.t.elt, shape), Box(B.broadcast(leaf.ir, shape))) for leaf in a.items)
    return StructArrayV(ArrayT(a.t.elt, shape), items)


__all__ = ["is_record", "leaf_types", "element_leaves", "build_element", "convert_element", "from_elements",
           "from_lanes", "blank", "lanes", "broadcast_to"]
