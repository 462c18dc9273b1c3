"""Array comprehensions `[f(x) for x in xs, y in ys]`: lane-wise when the body allows it, else one
loop over the elements; over a vector of arrays, unrolled."""
from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np

from ..core import builder as B
from . import ast as A
from . import hlo as H
from .arrays import vect
from .assign import bind_target
from .context import ERROR_CODE, RETURNED
from .exceptions import Threw
from .indexing import linear_element
from .loops import Iteration, comprehension_over, iteration_source, map_loop, struct_array_element, target_names
from .merge import zero_like
from .ranges import collect_range, range_length
from .scalars import arith
from .struct_arrays import blank, from_lanes, is_record, lanes
from .types import BOOL, INT64, ArrayT, Scalar
from .values import ArrayListV, ArrayV, Box, LaneConflict, RangeV, ScalarV, StructArrayV, TupleV, Value, runtime_leaves

if TYPE_CHECKING:
    from .context import Lowering


def comprehension(fl: Lowering, e: A.Generator) -> Value:
    """`[f(x) for x in xs, y in ys]`: the iterables' shapes give the result's shape (static). The body
    is lowered once, with every loop variable a batched number (one lane per element); a body that
    needs more per element than numbers (`[sum(x .< xi) for xi in x]`) becomes a loop instead."""
    if e.cond is not None and e.is_array:
        raise fl.error("a comprehension with an `if` filter has a size that depends on the data; jlhlo arrays "
                       "have static sizes (use `ifelse.(cond, x, 0)` or `sum(... for ...)` instead)", e)
    if e.cond is not None:
        return _filtered(fl, e)
    return _comprehension(fl, e)


def _filtered(fl: Lowering, e: A.Generator) -> Value:
    """`f(x) for x in xs if c(x)`, which a reduction consumes: `_Filtered(values, keep)` (prelude/base.jl)
    of two arrays over all of xs, `keep` the condition and `values` f(x) where it holds (a
    placeholder elsewhere: f does not run there, as in Julia). The reductions then need no size
    that depends on the data."""
    draws, prints = fl.draws, fl.prints
    keep = _comprehension(fl, dataclasses.replace(e, expr=e.cond, cond=None))
    if (fl.draws, fl.prints) != (draws, prints):
        raise fl.error("the condition of this generator draws random numbers or prints; jlhlo evaluates it "
                       "for every element before the elements themselves (use a `for` loop)", e.cond)
    if not isinstance(keep, ArrayV) or keep.t.elt != BOOL:
        raise fl.error("the condition of a generator's `if` must be a Bool", e.cond)
    return fl.call_function("_Filtered", [_comprehension(fl, e), keep], {}, e)


def _comprehension(fl: Lowering, e: A.Generator) -> Value:
    """`comprehension` without a filter, or with one whose elements are computed where it holds."""
    iters = []
    # zip, enumerate, Iterators.* (structs of prelude/iterators.jl), `Iterators.reverse` and tuples of
    # differently typed items are iterated as Julia iterates them (loops.comprehension_over)
    sources = [(target, it, iteration_source(fl, it)) for target, it in e.iters]
    if any(isinstance(v, Iteration) for _, _, v in sources):
        return comprehension_over(fl, e, sources, lambda target, shape: _element_value(
            fl, e, [(target, ArrayV(ArrayT(INT64, shape), Box(None)))]))
    for target, it, v in sources:
        if _lazy(fl, e, v):
            if e.cond is not None:
                raise fl.error("a generator with an `if` filter over a range whose length is known only at run "
                               "time is not supported (write the loop, or `sum(c(k) ? f(k) : 0 for k in 1:n)`)", e)
            return fl.call_function("Generator", [fl.expr(_element_function(e)), v], {}, e)
        if isinstance(v, ArrayListV):
            if len(e.iters) != 1:
                raise fl.error("a comprehension over a vector of arrays and another iterable is not supported", it)
            return _comprehension_unrolled(fl, e, target, v)
        if isinstance(v, RangeV):
            v = collect_range(fl, v, it)
        if isinstance(v, TupleV):
            v = vect(fl, list(v.items), it)
        if not isinstance(v, (ArrayV, StructArrayV)):
            raise fl.error(f"cannot iterate over a value of type {v.t.julia()} in a comprehension", it)
        iters.append((target, v))
    # the result's dimensions: the iterables' dimensions, in order
    shape: tuple[int, ...] = ()
    for _, v in iters:
        shape += v.t.shape
    if any(isinstance(leaf, ScalarV) and leaf.batch for v in fl.env.values() if isinstance(v, Value)
           for leaf in runtime_leaves(v)):
        raise LaneConflict()           # inside a lane-wise computation: its lanes and ours would mix
    targets = set().union(*(target_names(t) for t, _ in iters))
    outer = {name: fl.env.get(name) for name in targets}
    saved = fl.checkpoint()
    try:
        out = _empty(fl, e, iters, shape) if 0 in shape else _comprehension_lanes(fl, e, iters, shape)
    except LaneConflict:
        saved.restore()
        out = _comprehension_loop(fl, e, iters, shape)
    for name, v in outer.items():      # the loop variables are the comprehension's own
        if v is None:
            fl.env.pop(name, None)
        else:
            fl.env[name] = v
    return out


def _lazy(fl: Lowering, e: A.Generator, v: Value) -> bool:
    """`f(x) for x in r` over a range whose length is known only at run time stays a `Generator`
    (prelude/base.jl), which reductions consume in a loop; an array of that size cannot exist."""
    return not e.is_array and len(e.iters) == 1 and isinstance(e.iters[0][0], A.Name) and isinstance(v, RangeV) \
        and not range_length(fl, v).is_const


_element_functions = A.NodeMemo()


def _element_function(e: A.Generator) -> A.Lambda:
    """`x -> f(x)` for the generator `f(x) for x in r` (one per generator, so it is specialized once)."""
    lam = _element_functions.get(e)
    if lam is None:
        target = e.iters[0][0]
        lam = A.Lambda([A.Param(target.id, span=target.span)], A.Block([A.Return(e.expr, span=e.span)], span=e.span),
                       span=e.span)
        _element_functions.put(e, lam)
    return lam


def _comprehension_unrolled(fl: Lowering, e: A.Generator, target: A.Node, v: ArrayListV) -> Value:
    """`[f(a) for a in v]` over a vector of arrays: one element per item, in order."""
    outer = dict(fl.env)
    elements = []
    for item in v.items:
        bind_target(fl, target, item, e)
        elements.append(_element_value(fl, e, [(target, item)]))
    for name in target_names(target):  # the loop variable is the comprehension's own
        if name in outer:
            fl.env[name] = outer[name]
        else:
            fl.env.pop(name, None)
    return vect(fl, elements, e)


def _comprehension_lanes(fl: Lowering, e: A.Generator, iters: list[tuple[A.Node, ArrayV | StructArrayV]],
                         shape: tuple[int, ...]) -> ArrayV | StructArrayV:
    offset = 0
    for target, v in iters:
        dims = list(range(offset, offset + v.t.ndims))
        offset += v.t.ndims
        lane = lanes(v, shape, dims) if isinstance(v, StructArrayV) else \
            ScalarV(v.t.elt, None, B.broadcast(v.ir, shape, dims), shape)
        bind_target(fl, target, lane, e)
    draws = fl.draws
    out = _element_value(fl, e, iters)
    if fl.draws != draws:
        raise LaneConflict()           # one draw per element: a loop
    if is_record(out):
        return from_lanes(fl, out, shape, e)
    if not isinstance(out, ScalarV):
        raise fl.error(f"comprehension elements must be numbers, got {out.t.julia()}", e)
    if out.batch not in ((), shape):
        raise LaneConflict()
    # a generator `(f(x) for x in xs)` is materialized too: `sum`, `maximum`... accept the array
    return ArrayV(ArrayT(out.t, shape), Box(B.broadcast(fl.materialize(out), shape, list(range(len(out.batch))))))


def _empty(fl: Lowering, e: A.Generator, iters: list[tuple[A.Node, ArrayV | StructArrayV]],
           shape: tuple[int, ...]) -> ArrayV | StructArrayV:
    """Over nothing (`[x[k] for k in 2:1]`) the body runs for no element, as in Julia; only the
    element type it would have is needed: from a dry run on one run-time placeholder element (its
    IR, checks and errors discarded)."""
    def one(v: ArrayV | StructArrayV) -> ArrayV | StructArrayV:
        ones = (1,) * v.t.ndims
        if isinstance(v, StructArrayV):
            return blank(fl, v.t.elt, ones, e)
        return ArrayV(ArrayT(v.t.elt, ones), Box(B.broadcast(H.constant(v.t.elt, 1), ones)))
    single = [(target, one(v)) for target, v in iters]
    ones = (1,) * len(shape)
    try:
        elt = fl.dry_run(lambda: _comprehension_lanes(fl, e, single, ones)).t.elt
    except LaneConflict:
        elt = fl.dry_run(lambda: _comprehension_loop(fl, e, single, ones)).t.elt
    if not isinstance(elt, Scalar):
        return blank(fl, elt, shape, e)
    return ArrayV(ArrayT(elt, shape), Box(H.constant(elt, 0, shape)))


def _comprehension_loop(fl: Lowering, e: A.Generator, iters: list[tuple[A.Node, ArrayV]],
                        shape: tuple[int, ...]) -> ArrayV:

    def element(k: ScalarV) -> Value:
        rest = k
        for target, v in iters:            # the first iterable varies fastest (column-major)
            n = ScalarV(INT64, int(np.prod(v.t.shape, dtype=np.int64)))
            at = arith(fl, "%", rest, n)
            item = struct_array_element(fl, v, at, e) if isinstance(v, StructArrayV) else linear_element(fl, v, at, e)
            bind_target(fl, target, item, e)
            rest = arith(fl, "÷", rest, n)
        return _element_value(fl, e, iters)
    return map_loop(fl, shape, element, e)


def _element_value(fl: Lowering, e: A.Generator, iters: list[tuple[A.Node, ArrayV]]) -> Value:
    """The comprehension's expression for the bound loop variables. Its variables are local to it,
    as in Julia; assigning a variable from outside it is refused (Julia would change that variable
    from each element's evaluation, in an order jlhlo does not reproduce)."""
    before = dict(fl.env)
    local = set().union(*(target_names(t) for t, _ in iters))
    threw = False
    try:
        out = fl.expr(e.expr) if e.cond is None else _where_kept(fl, e)
    except Threw:
        threw = True
    finally:
        after = fl.env
        fl.env = {k: v for k, v in before.items()}
        fl.env[ERROR_CODE] = after.get(ERROR_CODE, before.get(ERROR_CODE))
    if threw:
        if all(n > 0 for _, v in iters for n in v.t.shape):
            fl.env[RETURNED] = ScalarV(BOOL, True)
            raise Threw()              # it has elements, and the first one throws: so does the comprehension
        raise fl.error("every element of this comprehension throws; jlhlo cannot tell whether it has any "
                       "elements at run time (Julia throws only if it does)", e)
    for name, v in before.items():
        if not name.startswith("%") and name not in local and after.get(name) is not v:
            raise fl.error(f"the comprehension assigns the variable `{name}` from outside it; jlhlo does not "
                           f"support that (use a `for` loop)", e)
    return out


def _where_kept(fl: Lowering, e: A.Generator) -> Value:
    """A filtered generator's element: its expression where the condition holds, else a
    placeholder of the same type (the expression does not run there)."""
    kept: list[Value] = []

    def value() -> Value:
        kept.append(fl.expr(e.expr))
        return kept[0]

    def placeholder() -> Value:           # of the type the expression would have (its IR is discarded)
        return zero_like(fl, kept[0] if kept else fl.dry_run(lambda: fl.expr(e.expr)))
    c = fl.condition(e.cond)
    if c.is_const:
        return value() if c.const else placeholder()
    return fl.value_branch(c, value, placeholder, e)
