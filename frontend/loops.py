"""`while` and `for` loops become one `stablehlo.while` each; loops over tuples unroll.

Loop-carried state: the variables the body assigns that were defined before the loop (Julia's
loop bodies are a new scope: names first assigned inside do not outlive the loop), every array box
reachable from the environment (the body may mutate it), and the exit flags. Their types must not
change across an iteration. When the body can `return` and the function's return type is not known
yet, the body is first lowered once into a scratch region to learn it (a dry run), then for real.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

import numpy as np
from jax.extend.mlir import ir
from jax.extend.mlir.dialects import stablehlo as hlo

from ..core import builder as B
from ..core.ops import BRANCH_SELECT
from . import ast as A
from . import hlo as H
from .arrays import reshape_colmajor, vect
from .assign import bind_target
from .context import BROKE, CONTINUED, ERROR_CODE, RETURN_VALUE, RETURNED
from .diagnostics import PRELUDE_PREFIX, StaticValueNeeded
from .exceptions import Threw, fail, may_throw
from .indexing import index_value, linear_element, make_view, store_linear
from .merge import CondBox, SelectBox, box_references, reachable_boxes, zero_like
from .ranges import range_element, range_length
from .scalars import arith, ifelse, make_tuple
from .struct_arrays import blank, build_element, element_leaves, from_lanes, is_record, leaf_types
from .types import BOOL, INT64, ArrayT, RangeT, Scalar, TupleT
from .values import (
    ArrayListV,
    ArrayV,
    Box,
    LaneConflict,
    RangeV,
    Redo,
    ScalarV,
    StructArrayV,
    StructV,
    TupleV,
    Undef,
    Value,
    array_boxes,
    describe,
    map_leaves,
    runtime_leaves,
)
from .vectorize import try_vectorize

if TYPE_CHECKING:
    from .context import Lowering


_ASSIGNED = A.NodeMemo()


def assigned_names(stmts: list[A.Node]) -> frozenset[str]:
    """Names assigned anywhere in these statements (including nested blocks and loop variables, not
    inside the bodies of closures, local functions, comprehensions and generators: in Julia a
    comprehension's body is a scope of its own, so `[(y = 2x; y) for x in v]` makes no `y` outside)."""
    cached = _ASSIGNED.get(stmts)
    if cached is not None:
        return cached
    out = set()

    def target(t: A.Node) -> None:
        if isinstance(t, A.Name):
            out.add(t.id)
        elif isinstance(t, A.TupleExpr):
            for i in t.items:
                target(i)

    def walk(n: object) -> None:
        if isinstance(n, A.Lambda):
            return
        if isinstance(n, A.Generator):                     # its iterables are evaluated outside it
            for _, source in n.iters:
                walk(source)
            return
        if isinstance(n, A.FunctionDef):                   # a local function binds its name; its body is its own
            if n.name:
                out.add(n.name)
            return
        if isinstance(n, A.Assign) and not n.dotted:      # `x .= v` changes x's array, it does not rebind x
            target(n.target)
        elif isinstance(n, A.For):
            for t, _ in n.iters:
                target(t)
        for c in A.children(n):
            walk(c)
    walk(stmts)
    result = frozenset(out)
    return _ASSIGNED.put(stmts, result)


_CONTAINS = A.NodeMemo()              # statements -> {(kinds, into_loops): found}


def contains(stmts: list[A.Node], kinds: tuple[type, ...], *, into_loops: bool) -> bool:
    """Whether a node of one of `kinds` occurs in the statements (not inside lambdas, and not
    inside nested loops unless `into_loops`)."""
    answers = _CONTAINS.get(stmts)
    if answers is None:
        answers = _CONTAINS.put(stmts, {})
    key = (kinds, into_loops)
    if key not in answers:
        answers[key] = _contains(stmts, kinds, into_loops)
    return answers[key]


def _contains(stmts: list[A.Node], kinds: tuple[type, ...], into_loops: bool) -> bool:
    def walk(n: object) -> bool:
        if isinstance(n, kinds):
            return True
        if isinstance(n, A.Lambda) or not into_loops and isinstance(n, (A.For, A.While)) and not _is_fused(n):
            return False
        if isinstance(n, A.Node):
            return any(walk(v) for v in n.__dict__.values())
        if isinstance(n, (list, tuple)):
            return any(walk(v) for v in n)
        return False
    return walk(stmts)


def lower_while(fl: Lowering, s: A.While) -> None:
    def body() -> None:
        fl.block(s.body.stmts)
        fl.env[CONTINUED] = ScalarV(BOOL, False)         # `continue` ends only this iteration
    try:
        run_loop(fl, s.body.stmts, [], lambda: fl.condition(s.cond), body, s)
    except _ThrowingCondition:
        lower_while(fl, _condition_in_body(s))
        return
    if isinstance(s.cond, A.BoolLit) and s.cond.value and not contains(s.body.stmts, (A.Break,), into_loops=False):
        # `while true` without `break` ends only by `return` or `throw`: what follows is unreachable,
        # as Julia's inference knows (the function does not also return `nothing`)
        fl.env[RETURNED] = ScalarV(BOOL, True)


class _ThrowingCondition(Redo):
    """A `while` condition that can throw, fail a check or change an array (a call that mutates, a
    draw from a generator): the condition region of a `stablehlo.while` yields only the predicate,
    so the error or the change would be lost there."""

    def __init__(self, op: ir.Operation):
        super().__init__()
        self.op = op


_ROTATED = A.NodeMemo()


def _condition_in_body(s: A.While) -> A.While:
    """`while c; body; end` as `while true; !c && break; body; end`: the condition is lowered in the
    body, where its errors and throws are carried like the body's own (one node per loop, so what
    lowering it teaches is kept across re-lowerings)."""
    rotated = _ROTATED.get(s)
    if rotated is None:
        span = s.span
        stop = A.If([(A.Call(A.Name("!", span=span), [s.cond], span=span), A.Block([A.Break(span=span)], span=span))],
                    span=span)
        rotated = A.While(A.BoolLit(True, span=span), A.Block([stop, *s.body.stmts], span=span), span=span)
        _ROTATED.put(s, rotated)
    return rotated


def lower_for(fl: Lowering, s: A.For) -> None:
    # Julia's loop variable is the loop's own: a variable of that name outside the loop keeps its value
    # (only `for outer i in ...` would reuse it)
    outer = {n: fl.env[n] for n in target_names(s.iters[0][0]) if isinstance(fl.env.get(n), Value)}
    _lower_for(fl, s)
    for n, v in outer.items():
        fl.assign_name(n, v)


def _lower_for(fl: Lowering, s: A.For) -> None:
    if try_vectorize(fl, s):
        return
    (target, iterable), rest = s.iters[0], s.iters[1:]
    body_stmts = [_inner_loop(s)] if rest else s.body.stmts
    it = iteration(fl, iterable)
    if it.length is None and not (contains(body_stmts, (A.Break,), into_loops=False)
                                  or contains(body_stmts, (A.Return,), into_loops=True) or may_throw(body_stmts)):
        raise fl.error(f"this loop over {it.what}, an infinite iterator, has no `break`, `return` or `throw`: "
                       f"it would never end", s)
    if it.unrolled:
        if it.length is None or not it.length.is_const:
            raise fl.error(f"a loop over {it.what} runs at compile time (its elements differ in type or size), "
                           f"but how many there are is known only at run time", s)
        _unrolled(fl, target, it.length.const, it.element, body_stmts, s, it.state)
        return
    length = it.length if it.length is not None else ScalarV(INT64, _FOREVER)
    if length.is_const and length.const <= 0 and not length.batch:
        return                         # the body never runs (`for i in 1:0`): nothing to lower
    counter = "%k" + str(id(s))
    fl.env[counter] = ScalarV(INT64, 0)
    for name, start, _ in it.state:
        fl.env[name] = start

    def cond() -> ScalarV:
        k = fl.env[counter]
        return _lt(fl, k, length)

    def body() -> None:
        k = fl.env[counter]
        bind_target(fl, target, it.element(k), s)
        fl.block(body_stmts)
        fl.env[CONTINUED] = ScalarV(BOOL, False)
        fl.env[counter] = _add1(fl, fl.env[counter])
        for name, _, advance in it.state:
            fl.env[name] = advance(fl.env[name])
    run_loop(fl, body_stmts, [counter, *(name for name, _, _ in it.state)], cond, body, s,
             loop_vars=target_names(target), counted=it.length is not None)
    del fl.env[counter]
    for name, _, _ in it.state:
        del fl.env[name]


# ------------------------------------------------------------------ what a `for` or comprehension iterates over

_FOREVER = (1 << 63) - 1               # the trip count of a loop over an infinite iterator (it ends by `break`)


@dataclass(eq=False)
class Iteration:
    """An iterable as Julia iterates it: `length` elements (an Int64, maybe known only at run time;
    None when infinite), the k-th given by `element(k)` (k from 0: a constant, a run-time Int64, or
    one per lane of a comprehension).

    `size` is Julia's IteratorSize: "shape" (`dims`, one Int64 per dimension: arrays, ranges,
    products; a comprehension has that shape), "length" (tuples, `take`: a Vector), "unknown"
    (`flatten`) or "infinite". `unrolled`: the elements differ in type or shape (a tuple's items, an
    uneven `partition`), so k must be a constant and a loop over it unrolls. `state`: (name, start,
    advance) of numbers a loop carries and advances after every iteration, which `element` reads from
    the environment (a floating-point `countfrom` adds its step each time, as Julia does).
    `reverse` makes `Iterators.reverse` of it (None: Julia cannot iterate it backwards)."""
    length: ScalarV | None
    element: Callable[[ScalarV], Value]
    what: str
    size: str = "length"
    dims: tuple[ScalarV, ...] = ()
    unrolled: bool = False
    state: tuple[tuple[str, ScalarV, Callable[[ScalarV], ScalarV]], ...] = ()
    reverse: Callable[[], Iteration] | None = None
    mismatch: str | None = None        # `zip` of arrays of different shapes: the DimensionMismatch `size` throws
    count: StructV | None = None       # the `Count` of a countfrom: `drop` advances that


def iteration(fl: Lowering, node: A.Expr) -> Iteration:
    """What `for x in node` iterates over."""
    inner = _reversed_call(fl, node)
    if inner is not None:
        return _reversed(fl, iteration(fl, inner), node)
    return value_iteration(fl, fl.expr(node), node)


def iteration_source(fl: Lowering, node: A.Expr) -> Value | Iteration:
    """What a comprehension iterates over: an Iteration for the iterators of prelude/iterators.jl,
    `Iterators.reverse` and a tuple of differently typed items (each element is computed with its
    own item, as Julia does); otherwise the iterable's value."""
    inner = _reversed_call(fl, node)
    if inner is not None:
        return _reversed(fl, iteration(fl, inner), node)
    v = fl.expr(node)
    if isinstance(v, StructV) and _iterator_struct(fl, v) is not None \
            or isinstance(v, TupleV) and len({item.t for item in v.items}) > 1:
        return value_iteration(fl, v, node)
    return v


def value_iteration(fl: Lowering, v: Value, node: A.Node) -> Iteration:
    if isinstance(v, RangeV):
        n = range_length(fl, v)
        return _indexed(fl, n, lambda k: _with_interval(range_element(fl, v, k), v), "a range", "shape", (n,))
    if isinstance(v, ArrayV):
        return _indexed(fl, ScalarV(INT64, _prod(v.t.shape)), lambda k: _array_element(fl, v, k, node),
                        "an array", "shape", tuple(ScalarV(INT64, d) for d in v.t.shape))
    if isinstance(v, StructArrayV):
        return _indexed(fl, ScalarV(INT64, _prod(v.t.shape)), lambda k: struct_array_element(fl, v, k, node),
                        "an array", "shape", tuple(ScalarV(INT64, d) for d in v.t.shape))
    if isinstance(v, (TupleV, ArrayListV)):
        items = list(v.items)

        def item(k: ScalarV) -> Value:
            if not k.is_const or k.batch:
                raise fl.error(f"the items of a {v.t.julia()} are read one by one at compile time here, but which "
                               f"one is known only at run time", node)
            return items[k.const]
        n = ScalarV(INT64, len(items))
        return _indexed(fl, n, item, "a tuple" if isinstance(v, TupleV) else "a vector of arrays",
                        "length" if isinstance(v, TupleV) else "shape", (n,), unrolled=True)
    kind = _iterator_struct(fl, v) if isinstance(v, StructV) else None
    if kind is not None:
        return _STRUCTS[kind](fl, v, node)
    raise fl.error(f"cannot iterate over a value of type {v.t.julia()} (ranges, arrays, tuples and iterators can be)",
                   node)


def _indexed(fl: Lowering, n: ScalarV, element: Callable[[ScalarV], Value], what: str, size: str,
             dims: tuple[ScalarV, ...], unrolled: bool = False) -> Iteration:
    """An iterable whose k-th element can be read directly (an array, a range, a tuple): its reverse
    reads element n-1-k."""
    it = Iteration(n, element, what, size, dims, unrolled)

    def reverse() -> Iteration:
        back = Iteration(n, lambda k: element(arith(fl, "-", arith(fl, "-", n, ScalarV(INT64, 1)), k)), what, size,
                         dims, unrolled)
        back.reverse = lambda: it
        return back
    it.reverse = reverse
    return it


def struct_array_element(fl: Lowering, a: StructArrayV, k: ScalarV, node: A.Node) -> Value:
    """a[k + 1] in linear order of an array of tuples or structs (one k per lane: one element per lane)."""
    return build_element(a.t.elt, iter(_array_element(fl, leaf, k, node) for leaf in a.items))


def _array_element(fl: Lowering, a: ArrayV, k: ScalarV, node: A.Node) -> ScalarV:
    """a[k + 1] in linear order; with one k per lane, one element per lane (a gather)."""
    if not k.batch:
        return linear_element(fl, a, k, node)
    lanes, m = k.batch, _prod(k.batch)
    flat = reshape_colmajor(fl, a, (_prod(a.t.shape),))
    picks = hlo.add(B.reshape(k.ir, (m,)), H.constant(INT64, 1, (m,)))
    fl.inbounds += 1                   # k comes from iterating over the array itself
    try:
        got = index_value(fl, flat, [ArrayV(ArrayT(INT64, (m,)), Box(picks))], node)
    finally:
        fl.inbounds -= 1
    return ScalarV(a.t.elt, None, B.reshape(got.ir, lanes), lanes)


def _reversed_call(fl: Lowering, node: A.Expr) -> A.Expr | None:
    """The argument of `Iterators.reverse(x)` (lazy: plain `reverse(x)` is Base's copy)."""
    if not (isinstance(node, A.Call) and isinstance(node.func, A.Field) and node.func.name == "reverse"
            and len(node.args) == 1 and not node.kwargs and not isinstance(node.args[0], A.Splat)):
        return None
    obj = node.func.obj
    named = isinstance(obj, A.Name) and obj.id == "Iterators" and obj.id not in fl.env or \
        isinstance(obj, A.Field) and obj.name == "Iterators" and isinstance(obj.obj, A.Name) and obj.obj.id == "Base" \
        and "Base" not in fl.env
    return node.args[0] if named else None


def _reversed(fl: Lowering, it: Iteration, node: A.Node) -> Iteration:
    if it.length is None:
        raise fl.error(f"Iterators.reverse of {it.what}, an infinite iterator, is not supported", node)
    if it.reverse is None:
        raise fl.error(f"Iterators.reverse of {it.what} is not supported: Julia cannot iterate it backwards either "
                       f"(a MethodError); collect it first", node)
    return it.reverse()


def _iterator_struct(fl: Lowering, v: StructV) -> str | None:
    """The name of one of prelude/iterators.jl's iterator structs, if `v` is one (not a program's own
    struct of that name)."""
    name = getattr(v.t, "name", None)
    if name not in _STRUCTS:
        return None
    info = fl.program.universe.structs.get(name)
    span = getattr(getattr(info, "node", None), "span", None)
    return name if span is not None and span.file.startswith(PRELUDE_PREFIX) else None


def _field(v: StructV, name: str) -> Value:
    got = v.get(name)
    assert got is not None, (v.t, name)
    return got


def _zip_iteration(fl: Lowering, z: StructV, node: A.Node) -> Iteration:
    parts = [value_iteration(fl, x, node) for x in _field(z, "is").items]
    return _zip(fl, parts, node)


def _zip(fl: Lowering, parts: list[Iteration], node: A.Node) -> Iteration:
    """`zip(a, b, ...)`: as long as the shortest (an infinite part does not count)."""
    if not parts:
        raise fl.error("zip() of nothing (an infinite iterator of empty tuples) is not supported", node)
    lengths = [p.length for p in parts if p.length is not None]
    length = None
    for n in lengths:
        length = n if length is None else arith(fl, "min", length, n)
    # Julia's zip_iteratorsize, folded from the right; a shape needs every part's number of dimensions
    kinds = [(p.size, len(p.dims) if p.size == "shape" else 0) for p in parts]
    size = kinds[-1]
    for kind in reversed(kinds[:-1]):
        size = _zip_size(kind, size)
    dims: tuple[ScalarV, ...] = ()
    mismatch = None
    shaped = [p for p in parts if p.size == "shape"]
    if size[0] == "shape" and size[1] > 1 and not all(d.is_const for p in shaped for d in p.dims):
        size = ("unknown", 0)          # (a product of ranges of run-time lengths: no static shape to compare)
    if size[0] == "shape":
        if size[1] == 1:
            dims = (length,)
        else:
            dims = shaped[-1].dims
            for p in reversed(shaped[:-1]):
                if mismatch is None and [d.const for d in p.dims] != [d.const for d in dims]:
                    shown = [", ".join(f"Base.OneTo({d.const})" for d in ds) for ds in (p.dims, dims)]
                    at = next(i for i, (a, b) in enumerate(zip(p.dims, dims), 1) if a.const != b.const)
                    mismatch = (f"DimensionMismatch: dimensions must match: a has dims ({shown[0]}), b has dims "
                                f"({shown[1]}), mismatch at {at}")
    elif size[0] != "infinite":
        dims = (length,)
    it = Iteration(length, lambda k: make_tuple([p.element(k) for p in parts]), "zip(...)", size[0], dims,
                   any(p.unrolled for p in parts), sum((p.state for p in parts), ()), mismatch=mismatch)
    if length is not None and all(p.reverse is not None and p.length is not None for p in parts):
        # Julia reverses each part and zips them (it assumes they have one length)
        it.reverse = lambda: _zip(fl, [p.reverse() for p in parts], node)
    return it


def _zip_size(a: tuple[str, int], b: tuple[str, int]) -> tuple[str, int]:
    if a[0] == "infinite" and b[0] == "infinite":
        return a
    if a[0] == "infinite":
        a, b = b, a
    if b[0] == "infinite":
        return ("length", 0) if a[0] in ("length", "shape") else a
    if a == b:
        return a
    if {a[0], b[0]} <= {"length", "shape"} and a[0] != b[0]:
        return ("length", 0)
    return ("unknown", 0)


def _enumerate_iteration(fl: Lowering, e: StructV, node: A.Node) -> Iteration:
    return _enumerate(fl, value_iteration(fl, _field(e, "itr"), node))


def _enumerate(fl: Lowering, inner: Iteration) -> Iteration:
    it = Iteration(inner.length, lambda k: make_tuple([_add1(fl, k), inner.element(k)]), "enumerate(...)",
                   inner.size, inner.dims, inner.unrolled, inner.state)
    if inner.reverse is not None and inner.length is not None:
        n = inner.length

        def reverse() -> Iteration:      # counts down from the length, over the reversed elements
            back = inner.reverse()
            rev = Iteration(n, lambda k: make_tuple([arith(fl, "-", n, k), back.element(k)]), "enumerate(...)",
                            inner.size, inner.dims, inner.unrolled)
            rev.reverse = lambda: it
            return rev
        it.reverse = reverse
    return it


def _take_iteration(fl: Lowering, t: StructV, node: A.Node) -> Iteration:
    inner, n = value_iteration(fl, _field(t, "xs"), node), _field(t, "n")
    length = n if inner.length is None else arith(fl, "min", n, inner.length)
    return Iteration(length, inner.element, "Iterators.take(...)", "unknown" if inner.size == "unknown" else "length",
                     (length,), inner.unrolled, inner.state)


def _drop_iteration(fl: Lowering, d: StructV, node: A.Node) -> Iteration:
    inner, n = value_iteration(fl, _field(d, "xs"), node), _field(d, "n")
    if inner.count is not None and inner.state:
        # a countfrom that adds its step each time: Julia's drop adds it n times first
        return value_iteration(fl, fl.call_function("_drop_count", [inner.count, n], {}, node), node)
    if inner.state:
        raise fl.error("Iterators.drop of an iterator over a countfrom of a type other than Int64 is not supported",
                       node)
    length = None if inner.length is None else arith(fl, "max", arith(fl, "-", inner.length, n), ScalarV(INT64, 0))
    size = inner.size if inner.size in ("unknown", "infinite") else "length"
    return Iteration(length, lambda k: inner.element(arith(fl, "+", k, n)), "Iterators.drop(...)", size,
                     () if length is None else (length,), inner.unrolled, count=inner.count)


def _product_iteration(fl: Lowering, p: StructV, node: A.Node) -> Iteration:
    return _product(fl, [value_iteration(fl, x, node) for x in _field(p, "iterators").items], node)


def _product(fl: Lowering, parts: list[Iteration], node: A.Node, what: str = "Iterators.product(...)") -> Iteration:
    """`Iterators.product(a, b, ...)`: tuples with the first part varying fastest (column-major)."""
    if not parts:
        raise fl.error("Iterators.product() of nothing is not supported", node)
    _refuse_endless(fl, parts, what, node)
    length = parts[0].length
    for p in parts[1:]:
        length = arith(fl, "*", length, p.length)

    def element(k: ScalarV) -> Value:
        items, rest = [], k
        for j, p in enumerate(parts):
            if j == len(parts) - 1:
                items.append(p.element(rest))
                break
            n = arith(fl, "max", p.length, ScalarV(INT64, 1))     # an empty part: no element is ever read
            items.append(p.element(arith(fl, "%", rest, n)))
            rest = arith(fl, "÷", rest, n)
        return make_tuple(items)
    if any(p.size == "unknown" for p in parts):
        size, dims = "unknown", (length,)
    else:
        size, dims = "shape", sum((p.dims if p.size == "shape" else (p.length,) for p in parts), ())
    it = Iteration(length, element, what, size, dims, any(p.unrolled for p in parts))
    if all(p.reverse is not None for p in parts):
        it.reverse = lambda: _product(fl, [p.reverse() for p in parts], node, what)
    return it


def _refuse_endless(fl: Lowering, parts: list[Iteration], what: str, node: A.Node) -> None:
    """A product or flatten reads its parts' elements in another order than one after another."""
    for p in parts:
        if p.length is None:
            raise fl.error(f"{what} of {p.what}, an infinite iterator, is not supported", node)
        if p.state:
            raise fl.error(f"{what} of {p.what} over a countfrom of a type other than Int64 is not supported (its "
                           f"elements are sums of the step, one after another)", node)


def _count_iteration(fl: Lowering, c: StructV, node: A.Node) -> Iteration:
    """`Iterators.countfrom(start, step)`: start, start + step, (start + step) + step... forever. An Int64
    count is start + k*step (the same, wrapping included); another type carries its value and adds
    the step after every iteration, rounding as Julia does."""
    start, step = _field(c, "start"), _field(c, "step")
    if not (isinstance(start, ScalarV) and isinstance(step, ScalarV) and start.t == step.t
            and start.t.info.kind != "bool"):
        raise fl.error(f"Iterators.countfrom of {start.t.julia()} with step {step.t.julia()} is not supported "
                       f"(numbers of one type are)", node)
    what = "Iterators.countfrom(...)"
    if start.t == INT64:
        return Iteration(None, lambda k: arith(fl, "+", start, arith(fl, "*", k, step)), what, "infinite", count=c)
    name = f"%count{id(c)}"

    def element(k: ScalarV) -> Value:
        if k.batch:
            raise LaneConflict()
        return fl.env[name]
    return Iteration(None, element, what, "infinite", state=((name, start, lambda x: arith(fl, "+", x, step)),),
                     count=c)


def _flatten_iteration(fl: Lowering, f: StructV, node: A.Node) -> Iteration:
    parts = [value_iteration(fl, x, node) for x in _field(f, "it").items]
    return _flatten(fl, parts, node)


def _flatten(fl: Lowering, parts: list[Iteration], node: A.Node) -> Iteration:
    """`Iterators.flatten((a, b, ...))`: the elements of a, then those of b... A run-time k picks its
    part with selects (all parts' elements have one type); parts whose elements differ in type
    need constant lengths and unroll, each element keeping its own type as in Julia."""
    what = "Iterators.flatten(...)"
    _refuse_endless(fl, parts, what, node)
    length = ScalarV(INT64, 0)
    offsets = []
    for p in parts:
        offsets.append(length)
        length = arith(fl, "+", length, p.length)
    live = [(p, off) for p, off in zip(parts, offsets) if not (p.length.is_const and p.length.const == 0)]
    types = [fl.dry_run(lambda p=p: p.element(ScalarV(INT64, None, H.constant(INT64, 0)))).t
             for p, _ in live if not p.unrolled]
    looped = not any(p.unrolled for p in parts) and len(set(types)) <= 1 and \
        all(isinstance(t, (Scalar, TupleT)) for t in types)
    if not looped and not all(p.length.is_const for p in parts):
        shown = " and ".join(sorted({t.julia() for t in types})) or "tuples' items"
        raise fl.error(f"{what} of iterables whose elements differ in type ({shown}) runs at compile time, but "
                       f"how many elements there are is known only at run time", node)

    def element(k: ScalarV) -> Value:
        if k.is_const and all(off.is_const for _, off in live):
            p, off = [(p, off) for p, off in live if off.const <= k.const][-1]
            return p.element(ScalarV(INT64, k.const - off.const))
        value = None
        for p, off in live:
            j = arith(fl, "-", k, off)
            last = arith(fl, "max", arith(fl, "-", p.length, ScalarV(INT64, 1)), ScalarV(INT64, 0))
            here = p.element(arith(fl, "min", arith(fl, "max", j, ScalarV(INT64, 0)), last))
            value = here if value is None else _select(fl, arith(fl, ">=", j, ScalarV(INT64, 0)), here, value, node)
        return value
    it = Iteration(length, element, what, "unknown", (length,), not looped)
    if all(p.reverse is not None for p in parts):
        it.reverse = lambda: _flatten(fl, [p.reverse() for p in reversed(parts)], node)
    return it


def _select(fl: Lowering, c: ScalarV, a: Value, b: Value, node: A.Node) -> Value:
    if isinstance(a, ScalarV) and isinstance(b, ScalarV):
        return ifelse(fl, c, a, b)
    if isinstance(a, TupleV) and isinstance(b, TupleV):
        return make_tuple(_select(fl, c, x, y, node) for x, y in zip(a.items, b.items))
    raise fl.error(f"{describe(a)} elements cannot be chosen at run time", node)


def _partition_iteration(fl: Lowering, p: StructV, node: A.Node) -> Iteration:
    """`Iterators.partition(c, n)`: views of n elements at a time (sub-ranges of a range), the last one
    shorter. Over an array whose length n does not divide, the last view has a size of its own: the
    loop unrolls."""
    c, n = _field(p, "c"), _field(p, "n")
    what = "Iterators.partition(...)"
    if isinstance(c, RangeV) and c.t.elt.info.is_integer:
        total = range_length(fl, c)
        count = arith(fl, "÷", arith(fl, "+", total, arith(fl, "-", n, ScalarV(INT64, 1))), n)

        def chunk(k: ScalarV) -> Value:
            if k.batch:
                raise LaneConflict()
            first = arith(fl, "*", k, n)
            last = arith(fl, "min", arith(fl, "+", first, arith(fl, "-", n, ScalarV(INT64, 1))),
                         arith(fl, "-", total, ScalarV(INT64, 1)))
            return RangeV(c.t, range_element(fl, c, first), c.step, range_element(fl, c, last))
        return Iteration(count, chunk, what, "length", (count,))
    if not isinstance(c, ArrayV):
        raise fl.error(f"{what} of a {c.t.julia()} is not supported (arrays and integer ranges are)", node)
    if not n.is_const:
        raise StaticValueNeeded("Iterators.partition of an array needs its partition length known at compile time "
                                "(its views have static sizes)", getattr(node, "span", None))
    total, size = _prod(c.t.shape), n.const
    count = ScalarV(INT64, -(-total // size))

    def view(k: ScalarV) -> Value:
        if k.batch:
            raise LaneConflict()
        if k.is_const:
            first, last = ScalarV(INT64, k.const * size + 1), ScalarV(INT64, min(k.const * size + size, total))
        else:
            base = arith(fl, "*", k, n)
            first, last = arith(fl, "+", base, ScalarV(INT64, 1)), arith(fl, "+", base, n)
        fl.inbounds += 1               # within the array by construction
        try:
            return make_view(fl, c, [RangeV(RangeT(INT64), first, ScalarV(INT64, 1), last)], node)
        finally:
            fl.inbounds -= 1
    return Iteration(count, view, what, "length", (count,), unrolled=total % size != 0)


def _cartesian_iteration(fl: Lowering, c: StructV, node: A.Node) -> Iteration:
    """`CartesianIndices(...)`: the product of its ranges, each element a CartesianIndex."""
    return _as_cartesian(fl, _product(fl, [value_iteration(fl, r, node) for r in _field(c, "indices").items], node,
                                      "CartesianIndices(...)"), node)


def _as_cartesian(fl: Lowering, inner: Iteration, node: A.Node) -> Iteration:
    it = Iteration(inner.length, lambda k: fl.call_function("CartesianIndex", [inner.element(k)], {}, node),
                   "CartesianIndices(...)", inner.size, inner.dims, inner.unrolled)
    if inner.reverse is not None:
        it.reverse = lambda: _as_cartesian(fl, inner.reverse(), node)
    return it


def _linear_iteration(fl: Lowering, lin: StructV, node: A.Node) -> Iteration:
    """`LinearIndices(...)`: 1, 2, ... in the shape of the array."""
    dims = tuple(_field(lin, "dims").items)
    n = ScalarV(INT64, _prod([d.const for d in dims]))
    inner = value_iteration(fl, RangeV(RangeT(INT64), ScalarV(INT64, 1), ScalarV(INT64, 1), n), node)
    return Iteration(inner.length, inner.element, "LinearIndices(...)", "shape", dims, reverse=inner.reverse)


_STRUCTS: dict[str, Callable[[Lowering, StructV, A.Node], Iteration]] = {
    "Zip": _zip_iteration, "Enumerate": _enumerate_iteration, "Take": _take_iteration, "Drop": _drop_iteration,
    "ProductIterator": _product_iteration, "Count": _count_iteration, "Flatten": _flatten_iteration,
    "PartitionIterator": _partition_iteration, "CartesianIndices": _cartesian_iteration,
    "LinearIndices": _linear_iteration,
}


def _with_interval(v: ScalarV, r: RangeV) -> ScalarV:
    """A loop variable over a range with constant ends stays within them: bounds checks on
    indices built from it can be decided at compile time."""
    if r.t.elt == INT64 and r.start.is_const and r.stop.is_const and not v.is_const:
        v.interval = (min(r.start.const, r.stop.const), max(r.start.const, r.stop.const))
    return v


_INNER_LOOPS = A.NodeMemo()


def _inner_loop(s: A.For) -> A.For:
    """`for i in a, j in b` is one loop in Julia: lowered as nested loops whose inner one is
    *fused* with the outer, so that a `break` leaves both."""
    inner = _INNER_LOOPS.get(s)
    if inner is None:
        inner = _INNER_LOOPS.put(s, A.For(s.iters[1:], s.body, span=s.span))
        _FUSED.add(id(inner))
    return inner


_FUSED: set[int] = set()           # ids of inner loops made by _inner_loop (kept alive by _INNER_LOOPS)


def _is_fused(n: A.Node) -> bool:
    return isinstance(n, A.For) and id(n) in _FUSED


def target_names(t: A.Node) -> set[str]:
    if isinstance(t, A.Name):
        return {t.id}
    if isinstance(t, A.TupleExpr):
        return set().union(*(target_names(i) for i in t.items))
    return set()


def _unrolled(fl: Lowering, target: A.Node, count: int, item: Callable[[ScalarV], Value], body_stmts: list[A.Node],
              s: A.For, state: tuple = ()) -> None:
    """A loop over a tuple runs at compile time: each item may have its own type. Item k is read
    when iteration k begins (`zip((1, 2), v)` reads v[2] after the first iteration changed v)."""
    outer_brk = fl.env[BROKE]
    fl.env[BROKE] = ScalarV(BOOL, False)
    new_names = assigned_names(body_stmts) | target_names(target)
    defined = set(fl.env)
    for name, start, _ in state:
        fl.env[name] = start

    def iteration(k: int) -> None:
        if k == count:
            return
        bind_target(fl, target, item(ScalarV(INT64, k)), s)
        fl.block(body_stmts)
        fl.env[CONTINUED] = ScalarV(BOOL, False)
        for name, _, advance in state:
            fl.env[name] = advance(fl.env[name])
        flags = [fl.env[RETURNED], fl.env[BROKE]]
        if any(f.is_const and f.const for f in flags):
            return
        if all(f.is_const for f in flags):
            iteration(k + 1)
        else:
            fl.guard(lambda: iteration(k + 1), s)
    iteration(0)
    fl.env[BROKE] = outer_brk
    for name in new_names - defined:
        fl.env.pop(name, None)
    for name, _, _ in state:
        fl.env.pop(name, None)


class _Retry(Redo):
    """The loop must be lowered again: its body needs the check code carried, or rebinds array
    variables (which then get an array of their own per iteration), or such a variable may be an
    array from before the loop (`kept`), or changes one in place (`exact`)."""

    def __init__(self, op: ir.Operation, carry_err: bool = False, detached: frozenset[str] = frozenset(),
                 kept: dict[tuple[str, int], tuple[str, int]] | None = None, exact: frozenset[str] = frozenset(),
                 peel: bool = False, exits: bool = False, thawed: frozenset[tuple[str, int]] = frozenset()):
        super().__init__()
        self.op, self.carry_err, self.detached, self.kept, self.exact = op, carry_err, detached, kept or {}, exact
        self.peel, self.exits, self.thawed = peel, exits, thawed


@dataclass
class LoopFacts:
    """What lowering a loop once taught, so that lowering it again (inside an outer loop that is
    itself lowered again) does not repeat the discovery. Arrays are named by where they are held
    before the loop, (variable, position among its arrays): the objects change between attempts."""
    carry_err: bool | None = None      # None: guess from the syntax whether the body records checks
    detached: frozenset[str] = frozenset()
    kept: dict[tuple[str, int], set[tuple[str, int]]] = field(default_factory=dict)
    exact: frozenset[str] = frozenset()
    peel: bool = False                 # the first iteration changes a variable's type: run it before the loop
    exits: bool = False                # the body may throw (a callee that always throws): RETURNED is carried
    # constant numbers inside a carried struct or tuple (a layer's stride, a size) stay constants
    # while the body leaves them so; these (variable, position among its numbers) did not
    thawed: frozenset[tuple[str, int]] = frozenset()


def run_loop(fl: Lowering, body_stmts: list[A.Node], extra: list[str], cond: Callable[[], ScalarV],
             body: Callable[[], None], node: A.Node, loop_vars: set[str] = frozenset(), counted: bool = False) -> None:
    """Lower a loop: `cond` and `body` lower one test and one iteration. `counted`: a `for` over
    something of known length, whose counter `body` advances outside the body's statements."""
    facts = fl.loop_facts.setdefault(id(node), LoopFacts())
    env = dict(fl.env)
    boxes = reachable_boxes(fl.env)
    box_values = [b.value for b in boxes]
    while True:
        try:
            _run_loop(fl, body_stmts, extra, cond, body, node, loop_vars, facts, counted)
            return
        except (_Retry, _ThrowingCondition) as retry:
            retry.op.erase()
            fl.env = dict(env)
            for b, v in zip(boxes, box_values):
                b.value = v
            if isinstance(retry, _ThrowingCondition):
                raise
            facts.carry_err = facts.carry_err or retry.carry_err or None
            facts.detached |= retry.detached
            for leaf, holder in retry.kept.items():
                facts.kept.setdefault(leaf, set()).add(holder)
            facts.exact |= retry.exact
            facts.peel = facts.peel or retry.peel
            facts.exits = facts.exits or retry.exits
            facts.thawed |= retry.thawed


@dataclass
class _Rebound:
    """One array leaf of a variable the body rebinds. It has an array of its own, carried like a
    number; if it may be an array from before the loop instead (the one it held, when that one is
    reachable another way, or one the body binds it to), a choice index is carried too, and it is
    a SelectBox(index, [own, kept...]): after the loop always, in the body when the body changes
    those arrays in place ("exact"; otherwise its own copy reads the same)."""
    name: str
    position: int
    before: Box
    kept: list[Box]
    exact: bool


REBOUND_ALIAS = ("at the end of an iteration `{name}` refers to an array that another variable also refers to; "
                 "jlhlo carries a loop's arrays separately, so it cannot keep them the same array in the next "
                 "iteration; use `copy(...)`")


def _run_loop(fl: Lowering, body_stmts: list[A.Node], extra: list[str], cond: Callable[[], ScalarV],
              body: Callable[[], None], node: A.Node, loop_vars: set[str], facts: LoopFacts,
              counted: bool = False) -> None:
    outer_brk = fl.env[BROKE]
    fl.env[BROKE] = ScalarV(BOOL, False)
    if not facts.peel and contains(body_stmts, (A.Return,), into_loops=True):
        first = cond()
        if first.is_const and first.const and not first.batch:
            # it runs at least once and may return: run the first iteration on its own, so that a
            # `return` it certainly takes ends the function there (and what it assigned is never looped)
            facts.peel = True
    undefined = sorted(n for n in assigned_names(body_stmts) if isinstance(fl.env.get(n), Undef))
    if undefined:
        # `local q` (or a branch) left it without a value, and the body assigns it: Julia carries it out
        # of the loop once an iteration has. The first iteration, run on its own, gives it one when the
        # loop certainly runs; jlhlo carries a variable only from a value it has before the loop.
        facts.peel = True
    if facts.peel:
        _first_iteration(fl, cond, body, node)
        again = cond()
        returned = fl.env[RETURNED]
        if again.is_const and not again.const and not again.batch or returned.is_const and returned.const:
            _leave(fl, node, outer_brk)        # that was the only iteration (`for i in 1:1`, or it returned)
            return
    for name in undefined:
        if isinstance(fl.env.get(name), Undef):
            raise fl.error(f"`{name}` may have no value before this loop ({fl.env[name].why}) and is assigned in "
                           f"it, and the loop may run zero times: give it a value before the loop (e.g. "
                           f"`{name} = zero(T)`)", node)
    assigned = assigned_names(body_stmts) | set(loop_vars)
    may_return = contains(body_stmts, (A.Return,), into_loops=True)
    may_break = contains(body_stmts, (A.Break,), into_loops=False)
    if may_return and RETURN_VALUE not in fl.env:
        ret = _dry_run_return(fl, body, node, assigned | set(extra))
        if ret is None:
            may_return = False             # every `return` in the body is unreachable or throws
        else:
            fl.env[RETURN_VALUE] = zero_like(fl, ret)
    may_exit = may_return or facts.exits or may_throw(body_stmts)      # the function: RETURNED is carried
    may_check = facts.carry_err or fl.mod.check_bounds and _may_check_bounds(fl, body_stmts)
    carried = [n for n in fl.env if (n in assigned or n in extra or n == ERROR_CODE and may_check
                                     or n == RETURN_VALUE and may_return
                                     or n == RETURNED and may_exit or n == BROKE and may_break)
               and not isinstance(fl.env[n], Undef)]
    # Arrays: a variable the body only changes in place keeps its array, whose contents are carried
    # (once per array, however many variables share it, as `boxes`). A variable the body rebinds to
    # another array is "detached": see _Rebound.
    detached = facts.detached & set(carried)
    rebound = _rebound_leaves(fl, detached, facts)
    defined_before = set(fl.env)
    boxes = reachable_boxes({n: v for n, v in fl.env.items() if n not in detached})
    boxes += [r for leaf in rebound.values() for k in leaf.kept for r in k.roots() if all(r is not b for b in boxes)]
    entry_env = dict(fl.env)
    existing = {id(b) for v in entry_env.values() if isinstance(v, Value) for b in array_boxes(v)}
    lanes = fl.lanes
    # per-lane loops (a user function broadcast over arrays): every carried number gets one value per
    # lane, except the shared iteration counter; lanes that are done keep their values (masked updates)
    original = {n: fl.env[n] for n in carried}
    frozen = {n: set() if lanes or n in extra else _frozen_positions(fl.env[n]) - {p for m, p in facts.thawed if m == n}
              for n in carried}
    entry_vals = {n: _materialize_except(fl, fl.env[n], frozen[n]) if not lanes or n in extra else
                  _with_lanes(fl, fl.materialize_all(fl.env[n]), lanes) for n in carried}

    def operands_of(n: str, v: Value, ends: Callable[[_Rebound, Box], list[ir.Value]]) -> list[ir.Value]:
        out: list[ir.Value] = []
        position = 0
        for x in runtime_leaves(v):
            if isinstance(x, ScalarV):
                out.append(x.ir)
            elif n in detached:
                out += ends(rebound[(n, position)], x.box)
                position += 1
        return out
    operands = [o for n in carried for o in operands_of(n, entry_vals[n], _entry_operands)] + [b.value for b in boxes]
    types = [o.type for o in operands]
    op = hlo.WhileOp(types, operands)
    cond_block = op.regions[0].blocks.append(*types)
    body_block = op.regions[1].blocks.append(*types)

    whiches: dict[tuple[str, int], ir.Value] = {}     # the choice index each kept leaf came in with

    def bind(args: list[ir.Value], after: bool) -> dict[tuple[str, int], Box]:
        """Bind the carried values to `args`; returns the own array of each rebound leaf. A closure
        made here sees the variables it captured, so it is remade from their new values."""
        it = iter(args)
        owns: dict[tuple[str, int], Box] = {}
        whiches.clear()
        for n in carried:
            positions = iter(range(1 << 30))

            def rebind(leaf: Value, n: str = n) -> Value:
                if isinstance(leaf, ScalarV):
                    return ScalarV(leaf.t, None, next(it), leaf.batch)
                if n not in detached:
                    return leaf
                r = rebound[(n, next(positions))]
                own = owns[(n, r.position)] = Box(next(it))
                if not r.kept:
                    return ArrayV(leaf.t, own)
                which = whiches[(n, r.position)] = next(it)
                if after or r.exact:
                    return ArrayV(leaf.t, SelectBox(which, [own, *r.kept]))
                fl.pinned_boxes[id(own)] = own
                return ArrayV(leaf.t, own)
            fl.env[n] = map_leaves(entry_vals[n], rebind)
        for b in boxes:
            b.value = next(it)
        for n in carried:
            fl.refresh_closures(n, fl.env[n])
        return owns

    # A counted loop whose only exits are throws keeps the bare `k < n` test: once one has thrown, the
    # remaining iterations run as no-ops (the body is guarded by the flags, the counter advances
    # outside it) and nothing they compute is used, while the loop stays in the counted form that
    # unrolling and the loop VJP's tape recognise (a check in Flux's LayerNorm left its whole forward
    # and backward pass inside run-time conditionals).
    stops_early = may_break or may_return or may_exit and not counted

    def active() -> ScalarV:
        c = cond()
        if stops_early:
            c = _and_not(fl, c, fl.scalar_or(fl.env[RETURNED], fl.env[BROKE]))
        return c
    saved_boxes = [b.value for b in boxes]
    with ir.InsertionPoint(cond_block):
        bind(list(cond_block.arguments), after=False)
        err, returned = fl.env.get(ERROR_CODE), fl.env[RETURNED]
        contents = [b.value for b in boxes]
        bound = {n: v for n, v in fl.env.items() if not n.startswith("%")}
        try:
            c = active()
        except Threw:
            c = None
        changed = any(b.value is not v for b, v in zip(boxes, contents)) or \
            any(fl.env.get(n) is not v for n, v in bound.items())     # `while bump!(x) < 5`, `while (t -= 1) > 0`
        if c is None or fl.env.get(ERROR_CODE) is not err or fl.env[RETURNED] is not returned or changed:
            raise _ThrowingCondition(op.operation)
        if c.batch:
            if not lanes:
                raise LaneConflict()   # a loop per lane outside a broadcast function: lowered element-wise
            c = ScalarV(BOOL, None, B.reduce(c.ir, H.constant(BOOL, False), list(range(len(c.batch))), hlo.or_))
        hlo.ReturnOp([fl.materialize(c)])
    with ir.InsertionPoint(body_block):
        owns = bind(list(body_block.arguments), after=False)
        starts = {id(b): b.value for b in [*boxes, *owns.values()]}
        before = {n: fl.env[n] for n in carried}
        err_before = fl.env.get(ERROR_CODE)
        before_returned = fl.env[RETURNED]
        mask = active() if lanes else None
        fl.env[ERROR_CODE] = err_before    # the condition again, for the lanes: unchecked, as in the cond region
        body()
        if ERROR_CODE not in carried and fl.env.get(ERROR_CODE) is not err_before:
            raise _Retry(op.operation, carry_err=True)
        if RETURNED not in carried and fl.env[RETURNED] is not before_returned:
            raise _Retry(op.operation, exits=True)     # a call in the body throws
        thawed = frozenset((n, p) for n in carried for p in _changed_constants(entry_vals[n], fl.env[n], frozen[n]))
        if thawed:
            raise _Retry(op.operation, thawed=thawed)
        _check_types(fl, carried, entry_vals, node, op.operation if not facts.peel else None)
        newly = frozenset(n for n in carried if n not in detached and
                          [b for b in array_boxes(fl.env[n])] != [b for b in array_boxes(before[n])])
        if newly:
            raise _Retry(op.operation, detached=newly)
        _check_detached(fl, detached, node)
        if mask is not None and detached:
            raise LaneConflict()           # an array rebound per lane
        # a copy reads the same as the arrays it may be, unless the body changes one of them in place
        changed = frozenset(r.name for key, r in rebound.items() if r.kept and not r.exact and (
            owns[key].value is not starts[id(owns[key])] or
            any(root.value is not starts[id(root)] for k in r.kept for root in k.roots())))
        if changed:
            raise _Retry(op.operation, exact=changed)
        if mask is not None and any(b.value is not starts[id(b)] for b in boxes):
            raise LaneConflict()           # an array changed in a loop whose iterations differ per lane
        outs = []
        for n in carried:
            new_leaves = operands_of(n, _materialize_except(fl, fl.env[n], frozen[n]),
                                     lambda r, box: _end_operands(fl, r, box, owns, whiches, entry_env, existing,
                                                                  op.operation, node))
            old_leaves = list(operands_of(n, before[n], lambda r, box: _start_operands(r, owns, whiches)))
            new_leaves = [_as_type(new, old.type) for new, old in zip(new_leaves, old_leaves)]
            if mask is not None and n not in extra:
                new_leaves = [_masked(fl, mask, new, old) for new, old in zip(new_leaves, old_leaves)]
            outs += new_leaves
        outs += [b.value for b in boxes]
        hlo.ReturnOp(outs)
        # what the body left unchanged keeps its value from before the loop (constants stay constants)
        invariant = {n for n in carried if fl.env.get(n) is before[n]}
        untouched = [b.value is starts[id(b)] for b in boxes]
    for own in owns.values():
        fl.pinned_boxes.pop(id(own), None)
    for b, v in zip(boxes, saved_boxes):
        b.value = v
    bind(list(op.results), after=True)
    for n in invariant:
        fl.env[n] = original[n]
    for b, v, same in zip(boxes, saved_boxes, untouched):
        if same:
            b.value = v
    for name in set(fl.env) - defined_before:
        del fl.env[name]
    _leave(fl, node, outer_brk)


def _scalar_leaves(v: Value) -> list[ScalarV]:
    """Every number of `v`, constants included, in `runtime_leaves` order."""
    out: list[ScalarV] = []
    map_leaves(v, lambda leaf: out.append(leaf) if isinstance(leaf, ScalarV) else None, constants=True)
    return out


def _frozen_positions(v: Value) -> set[int]:
    """The constant numbers held inside a struct or tuple: they enter the loop as constants (a
    number variable of its own, usually an accumulator, is carried as a run-time value at once)."""
    if isinstance(v, ScalarV):
        return set()
    return {k for k, leaf in enumerate(_scalar_leaves(v)) if leaf.is_const and not leaf.batch}


def _materialize_except(fl: Lowering, v: Value, frozen: set[int]) -> Value:
    """`v` with its constant numbers made run-time values, but for those at the positions `frozen`."""
    position = iter(range(1 << 30))

    def leaf_of(leaf: Value) -> Value:
        if not isinstance(leaf, ScalarV):
            return leaf
        keep = next(position) in frozen
        return leaf if keep or not leaf.is_const else ScalarV(leaf.t, None, fl.materialize(leaf), leaf.batch)
    return map_leaves(v, leaf_of, constants=True)


def _changed_constants(entry: Value, end: Value, frozen: set[int]) -> list[int]:
    """The frozen positions whose number the body changed (or made a run-time value)."""
    if not frozen:
        return []
    before, after = _scalar_leaves(entry), _scalar_leaves(end)
    if len(before) != len(after):
        return sorted(frozen)          # the type changed: _check_types reports it once all are thawed
    return [k for k in sorted(frozen) if not (after[k].is_const and after[k].t == before[k].t and not after[k].batch
                                              and repr(after[k].const) == repr(before[k].const))]   # -0.0 ≠ 0.0


def _leave(fl: Lowering, node: A.Node, outer_brk: ScalarV) -> None:
    # a fused inner loop's `break` also ends the loop around it (`for i in a, j in b`)
    fl.env[BROKE] = fl.scalar_or(outer_brk, fl.env[BROKE]) if _is_fused(node) else outer_brk


def _rebound_leaves(fl: Lowering, detached: set[str], facts: LoopFacts) -> dict[tuple[str, int], _Rebound]:
    references = box_references(fl.env)
    viewed = {id(root) for v in fl.env.values() if isinstance(v, Value)      # arrays a view looks into
              for box in array_boxes(v) if box.derived for root in box.roots()}
    out = {}
    for n in [m for m in fl.env if m in detached]:      # in the env's order: a set's varies from run to run
        for p, b in enumerate(array_boxes(fl.env[n])):
            holders = [list(array_boxes(fl.env[h])) if isinstance(fl.env.get(h), Value) else []
                       for h, _ in sorted(facts.kept.get((n, p), ()))]
            kept = [arrays[k] for arrays, (_, k) in zip(holders, sorted(facts.kept.get((n, p), ())))
                    if k < len(arrays)]
            shared = b.derived or references.get(id(b), 0) > 1 or id(b) in viewed \
                or any(id(r) in fl.param_boxes for r in b.roots())
            if shared and all(k is not b for k in kept):
                kept.insert(0, b)          # until it is rebound, the variable *is* that array
            out[(n, p)] = _Rebound(n, p, b, kept, n in facts.exact)
    return out


def _index(k: int) -> ir.Value:
    return H.constant(Scalar("Int32"), k)


def _entry_operands(r: _Rebound, box: Box) -> list[ir.Value]:
    if not r.kept:
        return [box.value]
    which = next((k for k, b in enumerate(r.kept, 1) if b is box), 0)
    return [box.value, _index(which)]


def _start_operands(r: _Rebound, owns: dict[tuple[str, int], Box],
                    whiches: dict[tuple[str, int], ir.Value]) -> list[ir.Value]:
    key = (r.name, r.position)
    return [owns[key].value] if not r.kept else [owns[key].value, whiches[key]]


def _end_operands(fl: Lowering, r: _Rebound, box: Box, owns: dict[tuple[str, int], Box],
                  whiches: dict[tuple[str, int], ir.Value], entry_env: dict[str, object], existing: set[int],
                  op: ir.Operation, node: A.Node) -> list[ir.Value]:
    """The carried own array and choice index of a rebound leaf whose array at the end of the body is
    `box`: a tree of branch-dependent choices (merge.CondBox, SelectBox) over arrays from before
    the loop and new ones, folded into one choice and one own array."""
    key = (r.name, r.position)

    def fold(b: Box) -> tuple[ir.Value | int, ir.Value | None]:
        for k, kept in enumerate(r.kept, 1):
            if b is kept:                  # its own copy takes the contents, so the body reads them
                return k, kept.value
        if b is owns[key] and r.kept:      # unchanged since the iteration began: still its choice then
            return whiches[key], b.value
        if isinstance(b, (CondBox, SelectBox)):
            children = [fold(c) for c in ([b.then, b.orelse] if isinstance(b, CondBox) else b.choices)]
            which, own = children[-1] if isinstance(b, CondBox) else children[0]
            picks = [b.cond] if isinstance(b, CondBox) else b.picks(())
            ordered = children[:1] if isinstance(b, CondBox) else children[1:]
            for pick, (w, o) in zip(picks, ordered):
                which = hlo.select(pick, _as_index(w), _as_index(which))
                own = o if own is None else own if o is None else hlo.select(
                    B.broadcast(pick, B.shape(o)), o, own)
            return which, own
        if id(b) in existing:              # an array from before the loop: a choice of its own
            holder = _holder(entry_env, b)
            if holder is None:
                raise fl.error(f"{_shown(r.name)} is rebound inside this loop to an array jlhlo cannot name", node)
            raise _Retry(op, kept={(r.name, r.position): holder})
        if b.derived:
            if not any(id(root) in existing or references.get(id(root)) for root in b.roots()):
                return 0, b.value          # a view of a new array nothing else reaches: a copy is the same
            if r.name == RETURN_VALUE and fl.public:
                return 0, b.value          # the entry's result goes to the host by value anyway
            raise fl.error(f"{_shown(r.name)} is rebound inside this loop to a view made in it; jlhlo carries a loop's "
                           f"arrays by value, so the view would become a copy (make the view before or after the "
                           f"loop, or index the array directly)", node)
        return 0, b.value
    references = box_references(fl.env)
    which, own = fold(box)
    own = owns[key].value if own is None else own
    return [own] if not r.kept else [own, _as_index(which)]


def _as_index(which: ir.Value | int) -> ir.Value:
    return _index(which) if isinstance(which, int) else which


def _holder(env: dict[str, object], box: Box) -> tuple[str, int] | None:
    """A (variable, position among its arrays) that held `box` before the loop."""
    for name, v in env.items():
        if isinstance(v, Value):
            for k, b in enumerate(array_boxes(v)):
                if b is box:
                    return name, k
    return None


def _check_types(fl: Lowering, carried: list[str], entry_vals: dict[str, Value], node: A.Node,
                 op: ir.Operation | None) -> None:
    """Each carried variable ends an iteration with the type it came in with. If one does not, the
    loop is lowered again with its first iteration run before it (`op` given: not yet tried) — in
    Julia `s = 0; for ...; s += x[i]; end` is an Int only until the first iteration ends."""
    for n in carried:
        v = fl.env.get(n)
        if v is None or isinstance(v, Undef) or v.t != entry_vals[n].t:
            if op is not None and v is not None and not isinstance(v, Undef):
                raise _Retry(op, peel=True)
            shown = n if not n.startswith("%") else "the returned value"
            got = "undefined" if v is None or isinstance(v, Undef) else describe(v)
            hint = ""
            if isinstance(v, ScalarV) and isinstance(entry_vals[n], ScalarV) and not n.startswith("%"):
                hint = f"; start it as `zero({v.t.julia()})` so that it has that type throughout"
            when = ("before the loop", "after an iteration") if op is not None else \
                ("after the first iteration", "after the second")
            raise fl.error(f"type instability: `{shown}` is {describe(entry_vals[n])} {when[0]} and "
                           f"{got} {when[1]} (jlhlo needs one concrete type per variable{hint})", node)


def _first_iteration(fl: Lowering, cond: Callable[[], ScalarV], body: Callable[[], None], node: A.Node) -> None:
    """Run the loop's first iteration, if its condition holds, before the loop (peeled). With a
    run-time condition a variable may leave as either type: the branch merge promotes it."""
    defined = set(fl.env)
    fl.branch(cond(), body, lambda: None, node)
    for name in set(fl.env) - defined:
        if not name.startswith("%"):
            del fl.env[name]               # the body's own variables are local to each iteration


def _check_detached(fl: Lowering, detached: set[str], node: A.Node) -> None:
    """Each rebound variable carries an array of its own: at the end of an iteration two of them
    cannot be one new array (the next iteration would separate them)."""
    owner: dict[int, str] = {}
    for n in sorted(detached):
        for b in array_boxes(fl.env[n]):
            if not b.derived and owner.setdefault(id(b), n) != n:
                raise fl.error(REBOUND_ALIAS.format(name=n), node)


def _may_check_bounds(fl: Lowering, stmts: list[A.Node]) -> bool:
    """Whether the body can record a failed bounds check: it indexes, or calls a Julia function
    (which might). Arithmetic on numbers cannot, and then `%err` need not be carried."""
    def calls_julia(f: A.Expr) -> bool:
        return not isinstance(f, A.Name) or f.id in fl.program.methods or f.id in fl.env
    for n in _walk_nodes(stmts):
        if isinstance(n, A.Index) or isinstance(n, (A.Call, A.Broadcast)) and calls_julia(n.func):
            return True
    return False


def _walk_nodes(node: object):
    if isinstance(node, A.Node):
        yield node
        for v in node.__dict__.values():
            yield from _walk_nodes(v)
    elif isinstance(node, (list, tuple)):
        for v in node:
            yield from _walk_nodes(v)


def _dry_run_return(fl: Lowering, body: Callable[[], None], node: A.Node, names: set[str]) -> Value | None:
    """Lower the loop body once into a scratch region to learn the type a `return` inside it has
    (None when no `return` in it is reachable)."""
    def run() -> Value | None:
        for n in names:
            if n in fl.env:
                fl.env[n] = fl.materialize_all(fl.env[n])
        fl.env[RETURNED] = ScalarV(BOOL, None, H.constant(BOOL, False))
        body()
        ret = fl.env.get(RETURN_VALUE)
        return ret if isinstance(ret, Value) else None
    return fl.dry_run(run)


def map_loop(fl: Lowering, shape: tuple[int, ...], element: Callable[[ScalarV], Value],
             node: A.Node) -> ArrayV:
    """The array of `shape` whose element at column-major position k (0-based, a run-time Int64) is
    `element(k)`: one `stablehlo.while` over the elements. This is how a comprehension or broadcast
    runs when its elements cannot be computed lane-wise (each needs arrays of its own)."""
    n = int(np.prod(shape, dtype=np.int64))
    try:
        sample = fl.dry_run(lambda: element(ScalarV(INT64, None, H.constant(INT64, 0), interval=(0, max(n - 1, 0)))))
    except Threw:
        # every element throws: so does the first, lowered for real so that its error code stays
        # (the dry run put the code back; difftest seed 3023 then reported no error at all)
        element(ScalarV(INT64, 0))
        raise
    record = is_record(sample)
    if record:
        leaf_types(fl, sample.t, node)     # refuses elements an array of which jlhlo cannot store
    if not (isinstance(sample, ScalarV) or record) \
            or any(leaf.batch for leaf in (element_leaves(sample) if record else [sample])):
        if isinstance(sample, ScalarV) or record:
            raise LaneConflict()       # the element differs per lane of an enclosing computation
        raise fl.error(f"the elements here are {sample.t.julia()}; jlhlo arrays hold numbers, tuples and structs "
                       f"(an array of arrays is not supported)", node)
    out, counter = f"%map{id(node)}", f"%k{id(node)}"
    fl.env[out] = blank(fl, sample.t, shape, node) if record else \
        ArrayV(ArrayT(sample.t, shape), Box(H.constant(sample.t, 0, shape)))
    fl.env[counter] = ScalarV(INT64, 0)

    def body() -> None:
        k = fl.env[counter]
        k.interval = (0, max(n - 1, 0))
        value = element(k)
        if value.t != sample.t:
            raise fl.error(f"the elements here do not all have one type ({describe(value)} and "
                           f"{sample.t.julia()})", node)
        target = fl.env[out]
        for leaf_array, leaf in (zip(target.items, element_leaves(value)) if record else [(target, value)]):
            store_linear(fl, leaf_array, k, leaf, node)
        fl.env[counter] = _add1(fl, k)
    run_loop(fl, [], [counter], lambda: _lt(fl, fl.env[counter], ScalarV(INT64, n)), body, node)
    del fl.env[counter]
    return fl.env.pop(out)


def comprehension_over(fl: Lowering, e: A.Generator, sources: list[tuple[A.Node, A.Node, Value | Iteration]],
                       value_of: Callable[[A.Node, tuple[int, ...]], Value]) -> Value:
    """A comprehension `[f(x) for x in it, ...]` over iterators (`zip`, `Iterators.product`...): its
    iterables as one product (the first varies fastest), with Julia's shape (that of the iterator
    where it has one, a vector otherwise). The elements are computed lane-wise when the expression
    allows it, else in one loop; a tuple's items and an uneven partition one by one.
    `value_of(target, shape)` is the expression's value for the bound loop variables."""
    parts = [s if isinstance(s, Iteration) else value_iteration(fl, s, node) for _, node, s in sources]
    if len(parts) == 1:
        it, target = parts[0], sources[0][0]
    else:
        it, target = _product(fl, parts, e, "a comprehension"), A.TupleExpr([t for t, _, _ in sources], span=e.span)
    if it.length is None:
        raise fl.error(f"a comprehension over {it.what}, an infinite iterator, would never end (take the elements it "
                       f"needs with `Iterators.take(..., n)`)", e)
    if it.state:
        raise fl.error(f"a comprehension over {it.what} of a floating-point countfrom is not supported (each element "
                       f"adds the step to the one before): write a `for` loop", e)
    if e.is_array and it.mismatch is not None:
        fail(fl, it.mismatch, e)
        raise Threw()
    if e.is_array and it.size == "shape" and all(d.is_const for d in it.dims):
        shape = tuple(int(d.const) for d in it.dims)
    elif it.length.is_const:
        shape = (max(int(it.length.const), 0),)
    else:
        raise StaticValueNeeded(f"a comprehension over {it.what} whose length is known only at run time (jlhlo arrays "
                                f"have static sizes)", getattr(e, "span", None))
    outer = {name: fl.env.get(name) for name in target_names(target)}
    try:
        return _comprehension_elements(fl, e, it, target, shape, value_of)
    finally:
        for name, v in outer.items():  # the loop variables are the comprehension's own
            if v is None:
                fl.env.pop(name, None)
            else:
                fl.env[name] = v


def _comprehension_elements(fl: Lowering, e: A.Generator, it: Iteration, target: A.Node, shape: tuple[int, ...],
                            value_of: Callable[[A.Node, tuple[int, ...]], Value]) -> Value:
    n = _prod(shape)

    def element(k: ScalarV) -> Value:
        bind_target(fl, target, it.element(k), e)
        return value_of(target, shape)
    if it.unrolled:
        return _unrolled_elements(fl, e, [element(ScalarV(INT64, k)) for k in range(n)], shape)
    if any(isinstance(leaf, ScalarV) and leaf.batch for v in fl.env.values() if isinstance(v, Value)
           for leaf in runtime_leaves(v)):
        raise LaneConflict()           # inside a lane-wise computation: its lanes and ours would mix
    saved = fl.checkpoint()
    try:
        draws = fl.draws
        out = element(_lane_index(shape))
        if fl.draws != draws:
            raise LaneConflict()       # one draw per element: a loop
        if is_record(out):
            return from_lanes(fl, out, shape, e)
        if not isinstance(out, ScalarV):
            raise fl.error(f"the elements here are {out.t.julia()}; Julia would make an array of them, but jlhlo "
                           f"arrays hold numbers, tuples and structs (an array of arrays of different sizes is not "
                           f"supported): iterate in a `for` loop", e)
        if out.batch not in ((), shape):
            raise LaneConflict()
        return ArrayV(ArrayT(out.t, shape), Box(B.broadcast(fl.materialize(out), shape, list(range(len(out.batch))))))
    except LaneConflict:
        saved.restore()
    if n and isinstance(fl.dry_run(lambda: element(_any_index(n))), (ArrayV, ArrayListV)):
        # a vector of arrays (`collect(Iterators.partition(v, 2))`): its items one by one
        return _unrolled_elements(fl, e, [element(ScalarV(INT64, k)) for k in range(n)], shape)
    return map_loop(fl, shape, element, e)


def _unrolled_elements(fl: Lowering, e: A.Generator, values: list[Value], shape: tuple[int, ...]) -> Value:
    if not values:
        raise fl.error("an empty comprehension over a tuple has no element type jlhlo can give it", e)
    if e.is_array and len({v.t for v in values}) > 1:
        shown = " and ".join(sorted({v.t.julia() for v in values}))
        raise fl.error(f"the elements of this comprehension differ in type ({shown}); Julia would make an array "
                       f"of an abstract element type, which jlhlo does not support (convert them to one type)", e)
    out = vect(fl, values, e)
    return reshape_colmajor(fl, out, shape) if len(shape) > 1 and isinstance(out, ArrayV) else out


def _any_index(n: int) -> ScalarV:
    """An Int64 known only at run time to lie in 0:n-1."""
    return ScalarV(INT64, None, H.constant(INT64, 0), interval=(0, n - 1))


def _lane_index(shape: tuple[int, ...]) -> ScalarV:
    """Each lane's column-major position in `shape`, from 0."""
    position, stride = H.constant(INT64, 0, shape), 1
    for d, size in enumerate(shape):
        position = hlo.add(position, hlo.multiply(H.iota(INT64, shape, d), H.constant(INT64, stride, shape)))
        stride *= size
    return ScalarV(INT64, None, position, shape, interval=(0, max(_prod(shape) - 1, 0)))


def _with_lanes(fl: Lowering, v: Value, lanes: tuple[int, ...]) -> Value:
    """`v` with every number broadcast to one value per lane."""
    def widen(leaf: Value) -> Value:
        if isinstance(leaf, ScalarV) and not leaf.batch:
            return ScalarV(leaf.t, None, B.broadcast(leaf.ir, lanes), lanes)
        return leaf
    return map_leaves(v, widen)


def _shown(name: str) -> str:
    """A carried variable as messages name it."""
    return "the value returned from inside the loop" if name == RETURN_VALUE else f"`{name}`"


def _as_type(value: ir.Value, t: ir.Type) -> ir.Value:
    """A loop result of the carried value's type: a number the body made lane-independent (a
    constant) is broadcast back to one value per lane."""
    if value.type == t:
        return value
    return B.broadcast(value, ir.RankedTensorType(t).shape)


def _masked(fl: Lowering, mask: ScalarV, new: ir.Value, old: ir.Value) -> ir.Value:
    """Lanes where the loop was still active take the new value; the others keep the old one."""
    if mask.is_const:
        return new if mask.const else old
    shape = B.shape(old)
    if B.shape(new) != shape or tuple(mask.batch) != shape:
        return new
    kept = hlo.select(mask.ir, new, old)
    kept.owner.attributes[BRANCH_SELECT] = ir.UnitAttr.get()   # the body did not run on the other lanes
    return kept


def _fresh(leaf: Value, v: ir.Value) -> Value:
    if isinstance(leaf, ArrayV):
        return ArrayV(leaf.t, Box(v))
    return ScalarV(leaf.t, None, v, leaf.batch)


def leaf_ir(leaf: Value) -> ir.Value:
    return leaf.box.value if isinstance(leaf, ArrayV) else leaf.ir


def _and_not(fl: Lowering, c: ScalarV, stop: ScalarV) -> ScalarV:
    go = fl.scalar_not(stop)
    if go.is_const:
        return c if go.const else go
    if c.is_const:
        return go if c.const else c
    batch = c.batch or go.batch
    return ScalarV(BOOL, None, hlo.and_(B.broadcast(c.ir, batch), B.broadcast(go.ir, batch)), batch)


def _lt(fl: Lowering, a: ScalarV, b: ScalarV) -> ScalarV:
    return arith(fl, "<", a, b)


def _add1(fl: Lowering, k: ScalarV) -> ScalarV:
    if k.is_const:
        return ScalarV(INT64, k.const + 1)
    return ScalarV(INT64, None, hlo.add(k.ir, H.constant(INT64, 1, k.batch)), k.batch)   # per lane: one each


def _prod(shape) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


__all__ = ["lower_while", "lower_for", "assigned_names", "run_loop", "map_loop", "Iteration", "iteration",
           "iteration_source", "value_iteration", "comprehension_over", "struct_array_element"]
