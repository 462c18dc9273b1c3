"""Broadcasting with Julia's rules: dimensions align from the *first* one, a size-1 dimension
stretches. `f.(args...)` lowers by turning every array argument into a batched scalar (one lane
per element of the broadcast shape) and calling `f` on scalars: primitives then act lane-wise,
and a user function with branches is lowered once, for all lanes (its `if`s become selects)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from . import ast as A
from . import hlo as H
from .types import ArrayT
from .values import ArrayV, Box, RangeV, ScalarV, Value

if TYPE_CHECKING:
    from .lower import FunctionLowering


def broadcast_shape(fl: FunctionLowering, shapes: list[tuple[int, ...]], node: A.Node) -> tuple[int, ...]:
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


def as_array(fl: FunctionLowering, v: Value, node: A.Node) -> Value:
    """Ranges take part in broadcasting as the vectors they stand for."""
    if isinstance(v, RangeV):
        from .arrays import collect_range
        return collect_range(fl, v, node)
    return v


def broadcast_call(fl: FunctionLowering, f: Value, args: list[Value], kwargs: dict[str, Value],
                   node: A.Node) -> Value:
    from .calls import call_value
    args = [as_array(fl, a, node) for a in args]
    arrays = [a for a in args if isinstance(a, ArrayV)]
    if not arrays:
        return call_value(fl, f, args, kwargs, node)
    for a in args:
        if not isinstance(a, (ArrayV, ScalarV)) and not isinstance(a.t, type(None)):
            if not _is_broadcast_scalar(a):
                raise fl.error(f"broadcasting over a value of type {a.t.julia()} is not supported "
                               f"(arrays, ranges and numbers are)", node)
    shape = broadcast_shape(fl, [a.t.shape for a in arrays], node)
    lanes = [ScalarV(a.t.elt, None, H.broadcast(a.ir, shape), shape) if isinstance(a, ArrayV) else a for a in args]
    out = call_value(fl, f, lanes, kwargs, node)
    if not isinstance(out, ScalarV):
        raise fl.error(f"broadcast function returned {out.t.julia()}; only functions returning numbers can be "
                       f"broadcast here", node)
    return ArrayV(ArrayT(out.t, shape), Box(H.broadcast(fl.materialize(out), shape, list(range(len(out.batch))))))


def _is_broadcast_scalar(v: Value) -> bool:
    from .values import ClosureV, FuncV, SingletonV, StructV, TypeV
    return isinstance(v, (FuncV, ClosureV, TypeV, SingletonV, StructV))


def fit_to_shape(fl: FunctionLowering, v: Value, dest: ArrayT, node: A.Node):
    """The ir value of `v` converted to dest's element type and broadcast to dest's shape
    (what `dest .= v` stores)."""
    v = as_array(fl, v, node)
    if isinstance(v, ScalarV):
        if v.batch:
            raise fl.error("cannot store a per-element value into an array here", node)
        from .primitives import convert_scalar
        return H.broadcast(fl.materialize(convert_scalar(fl, v, dest.elt, node)), dest.shape)
    if not isinstance(v, ArrayV):
        raise fl.error(f"cannot assign a value of type {v.t.julia()} into an array", node)
    src = v.t.shape
    if len(src) > len(dest.shape) or any(s not in (1, d) for s, d in zip(src, dest.shape)):
        shown = lambda s: "(" + ", ".join(map(str, s)) + ("," if len(s) == 1 else "") + ")"   # noqa: E731
        raise fl.error(f"DimensionMismatch: array could not be broadcast to match destination: source has size "
                       f"{shown(src)}, destination {shown(dest.shape)}", node)
    value = H.convert(v.ir, dest.elt)
    if src != dest.shape:
        value = H.broadcast(value, dest.shape)
    return value


__all__ = ["broadcast_call", "broadcast_shape", "fit_to_shape"]
