"""Slices whose length is known only at run time, where Julia code needs them: reductions
(`dot(L[i, 1:i-1], x[1:i-1])`, `sum(U[i, i+1:n] .* x[i+1:n])`, `maximum(abs, v[k:end])`) and
elementwise updates (`U[i, k:n] .-= l .* U[k, k:n]`) in triangular solves and eliminations.

An array of run-time length does not exist in jlhlo (sizes are static), but neither use needs one:
a reduction is rewritten to the same reduction over a generator whose loop runs as many times as
the slices are long (`sum(L[i, 1 + t] * x[1 + t] for t in 0:(i - 1) - 1)`), an update to loops over
the slice offset. Every slice must have the same length, as Julia requires of the elementwise
operations between them (checked at run time: DimensionMismatch). Only unit ranges `a:b` in one
index position of a named array, used elementwise, are rewritten; anything else keeps the
static-size error. The rewrite is of source (AST), lowered as the user's own loop would be.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from . import ast as A
from . import hlo as H
from .types import INT64
from .values import ArrayV, ScalarV, TypeV

if TYPE_CHECKING:
    from .context import Lowering
    from .values import Value

REDUCTIONS = ("sum", "prod", "maximum", "minimum", "dot", "any", "all", "count")
_OFFSET = "#t"                         # the generator's variable: the position in the slices, from 0
_BUFFER = "#slice"                     # a slice update's right side, computed before it is written


def reduce_runtime_slices(fl: Lowering, e: A.Call) -> Value | None:
    """The value of the reduction `e` through the rewrite, or None if it does not apply."""
    if not (isinstance(e.func, A.Name) and e.func.id in REDUCTIONS and e.func.id not in fl.env and not e.kwargs
            and 1 <= len(e.args) <= 2
            and all(m.origin == "prelude" for m in fl.program.methods.get(e.func.id, []))):
        return None                    # (a user's own `sum` is not Base's)
    lengths: list[A.Node] = []
    args = [_substituted(a, lengths) for a in e.args]
    if not lengths or any(a is None for a in args):
        return None
    span = e.span
    if e.func.id == "dot":
        if len(args) != 2:
            return None
        body: A.Node = A.Call(A.Name("dot", span=span), args, span=span)
        reducer = "sum"
    elif len(args) == 2:               # `sum(f, x[a:b])`: f of each element
        body, reducer = A.Call(args[0], [args[1]], span=span), e.func.id
    else:
        body, reducer = args[0], e.func.id
    last = _call("-", lengths[0], A.IntLit(1, "Int64", span=span))
    offsets = A.Range(A.IntLit(0, "Int64", span=span), None, last, span=span)
    gen = A.Generator(body, [(A.Name(_OFFSET, span=span), offsets)], is_array=False, span=span)
    _check_lengths(fl, lengths, span)
    kwargs = {}
    if reducer in ("sum", "prod"):
        # an empty slice sums to zero(T) (a generator would have no element type): `init`
        t = _element(fl, body)
        if t is None:
            return None
        kwargs["init"] = ScalarV(t.t, 0 if reducer == "sum" else 1)
    return fl.call_function(reducer, [fl.expr(gen)], kwargs, e)


def update_runtime_slice(fl: Lowering, s: A.Assign) -> bool:
    """`X[i, a:b] .= rhs` / `.-=` with a run-time length: Julia's broadcast writes the slice as if the
    right side were computed first (a copy where it reads the destination). Two loops over the
    slice offset do the same: the right side's elements into a buffer the size of X's dimension,
    then into X. False if the statement cannot be rewritten (the caller reports the size error)."""
    target = s.target
    if not (s.dotted and isinstance(target, A.Index) and isinstance(target.obj, A.Name)):
        return False
    lengths: list[A.Node] = []
    dest = _substituted(target, lengths)
    if dest is None or len(lengths) != 1:
        return False
    value = s.value if s.op is None else A.Broadcast(A.Name(s.op, span=s.span), [target, s.value], span=s.span)
    value = _substituted(value, lengths)
    if value is None:
        return False
    array = fl.expr(target.obj)
    dim = next(k for k, ix in enumerate(target.indices) if isinstance(ix, A.Range))
    if not isinstance(array, ArrayV):
        return False
    span = s.span
    _check_lengths(fl, lengths, span)

    elt = _element(fl, value)
    if elt is None:
        return False
    size = array.t.shape[dim] if array.t.shape else 1
    fl.env[_BUFFER] = fl.call_function("zeros", [TypeV(elt.t), ScalarV(INT64, size)], {}, s)
    offsets = A.Range(A.IntLit(0, "Int64", span=span), None, _call("-", lengths[0], A.IntLit(1, "Int64", span=span)),
                      span=span)
    slot = A.Index(A.Name(_BUFFER, span=span), [_call("+", A.Name(_OFFSET, span=span),
                                                      A.IntLit(1, "Int64", span=span))], span=span)
    for lhs, rhs in ((slot, value), (dest, slot)):
        body = A.Block([A.Assign(lhs, rhs, span=span)], span=span)
        fl.stmt(A.For([(A.Name(_OFFSET, span=span), offsets)], body, span=span))
    del fl.env[_BUFFER]
    return True


def has_range_slice(node: object) -> bool:
    """Whether `node` indexes with a range anywhere (outside lambdas): only then can the rewrite
    apply, so only then do callers keep a checkpoint to return to."""
    if isinstance(node, A.Index) and any(isinstance(ix, A.Range) for ix in node.indices):
        return True
    if isinstance(node, A.Lambda):
        return False
    if isinstance(node, A.Node):
        return any(has_range_slice(v) for v in node.__dict__.values())
    if isinstance(node, list):
        return any(has_range_slice(v) for v in node)
    return False


def _element(fl: Lowering, e: A.Node) -> ScalarV | None:
    """The value `e` has at slice offset 0, for its type (lowered into a scratch region)."""
    def sample() -> Value:
        fl.env[_OFFSET] = ScalarV(INT64, None, H.constant(INT64, 0))
        return fl.expr(e)
    v = fl.dry_run(sample)
    return v if isinstance(v, ScalarV) else None


def _check_lengths(fl: Lowering, lengths: list[A.Node], span: object) -> None:
    for other in lengths[1:]:
        same = _call("==", lengths[0], other)
        message = A.StringLit("DimensionMismatch: slices of different lengths", span=span)
        fl.stmt(A.ExprStmt(A.Or(same, A.Call(A.Name("error", span=span), [message], span=span), span=span),
                           span=span))


def _call(op: str, *args: A.Node) -> A.Call:
    return A.Call(A.Name(op, span=args[0].span), list(args), span=args[0].span)


def _substituted(node: A.Node, lengths: list[A.Node]) -> A.Node | None:
    """`node` with each `x[..., a:b, ...]` replaced by `x[..., a + #t, ...]` (its length b - a + 1
    added to `lengths`); None where a slice cannot be rewritten."""
    if isinstance(node, A.Index):
        ranges = [k for k, ix in enumerate(node.indices) if isinstance(ix, A.Range)]
        if ranges:
            if len(ranges) != 1 or not isinstance(node.obj, A.Name):
                return None
            k = ranges[0]
            r = node.indices[k]
            if r.step is not None or any(isinstance(ix, A.ColonAll) for ix in node.indices):
                return None
            stop = _without_end(r.stop, node.obj, k, len(node.indices))
            start = _without_end(r.start, node.obj, k, len(node.indices))
            lengths.append(_call("+", _call("-", stop, start), A.IntLit(1, "Int64", span=r.span)))
            indices = list(node.indices)
            indices[k] = _call("+", r.start, A.Name(_OFFSET, span=r.span))
            return A.Index(node.obj, indices, span=node.span)
        return node
    if isinstance(node, (A.Call, A.Broadcast)):
        before = len(lengths)
        args = [_substituted(a, lengths) for a in node.args]
        if any(a is None for a in args):
            return None
        changed = [a is not b for a, b in zip(args, node.args)]
        if not any(changed):
            return node
        if isinstance(node, A.Call) and not _elementwise(node, changed):
            del lengths[before:]
            return None                # `x[a:b]'`, `x[a:b] * y[c:d]`, `abs(x[a:b])`: not elementwise
        return type(node)(node.func, args, node.kwargs, span=node.span)
    return node


def _elementwise(call: A.Call, sliced: list[bool]) -> bool:
    """Whether Julia's call applies to the slices element by element: a broadcast does; of plain
    calls only `+`/`-` of arrays and arrays times or over a number (`x[a:b] * 2`, `x[a:b] / s`)."""
    op = call.func.id if isinstance(call.func, A.Name) else None
    if op in ("+", "-"):
        return True
    if op == "*" and len(sliced) == 2:
        return sliced.count(True) == 1
    if op == "/" and len(sliced) == 2:
        return sliced == [True, False]
    return False


def _without_end(e: A.Node, base: A.Name, dim: int, ndims: int) -> A.Node:
    """`end` in a range bound, as the length outside the index: `lastindex(x)` or `size(x, d)`."""
    if isinstance(e, A.End):
        if ndims == 1:
            return A.Call(A.Name("lastindex", span=e.span), [base], span=e.span)
        return A.Call(A.Name("size", span=e.span), [base, A.IntLit(dim + 1, "Int64", span=e.span)], span=e.span)
    if isinstance(e, A.Begin):
        return A.IntLit(1, "Int64", span=e.span)
    if isinstance(e, A.Call):
        return A.Call(e.func, [_without_end(a, base, dim, ndims) for a in e.args], e.kwargs, span=e.span)
    return e
