"""`while` and `for` loops become one `stablehlo.while` each; loops over tuples unroll.

Loop-carried state: the variables the body assigns that were defined before the loop (Julia's
loop bodies are a new scope: names first assigned inside do not outlive the loop), every array box
reachable from the environment (the body may mutate it), and the exit flags. Their types must not
change across an iteration. When the body can `return` and the function's return type is not known
yet, the body is first lowered once into a scratch region to learn it (a dry run), then for real.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from jax.extend.mlir import ir
from jax.extend.mlir.dialects import stablehlo as hlo

from . import ast as A
from . import hlo as H
from .merge import reachable_boxes, zero_like
from .types import BOOL, INT64
from .values import ArrayV, Box, RangeV, ScalarV, TupleV, Value, describe, rebuild, runtime_leaves

if TYPE_CHECKING:
    from .lower import FunctionLowering


_ASSIGNED: dict[int, tuple[object, frozenset[str]]] = {}


def assigned_names(stmts: list[A.Node]) -> frozenset[str]:
    """Names assigned anywhere in these statements (including nested blocks and loop variables)."""
    cached = _ASSIGNED.get(id(stmts))
    if cached is not None and cached[0] is stmts:
        return cached[1]
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
        if isinstance(n, A.Assign):
            target(n.target)
        elif isinstance(n, A.For):
            for t, _ in n.iters:
                target(t)
        if isinstance(n, A.Node):
            for v in n.__dict__.values():
                walk(v)
        elif isinstance(n, (list, tuple)):
            for v in n:
                walk(v)
    walk(stmts)
    result = frozenset(out)
    _ASSIGNED[id(stmts)] = (stmts, result)
    return result


_CONTAINS: dict[tuple[int, tuple[type, ...], bool], tuple[object, bool]] = {}


def contains(stmts: list[A.Node], kinds: tuple[type, ...], *, into_loops: bool) -> bool:
    """Whether a node of one of `kinds` occurs in the statements (not inside lambdas, and not
    inside nested loops unless `into_loops`)."""
    key = (id(stmts), kinds, into_loops)
    cached = _CONTAINS.get(key)
    if cached is not None and cached[0] is stmts:
        return cached[1]
    found = _contains(stmts, kinds, into_loops)
    _CONTAINS[key] = (stmts, found)
    return found


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


def lower_while(fl: FunctionLowering, s: A.While) -> None:
    run_loop(fl, s.body.stmts, [], lambda: fl.condition(s.cond), lambda: fl.block(s.body.stmts), s)


def lower_for(fl: FunctionLowering, s: A.For) -> None:
    from .vectorize import try_vectorize
    if try_vectorize(fl, s):
        return
    (target, iterable), rest = s.iters[0], s.iters[1:]
    body_stmts = [_inner_loop(s)] if rest else s.body.stmts
    it = fl.expr(iterable)
    if isinstance(it, TupleV):
        _unrolled(fl, target, list(it.items), body_stmts, s)
        return
    if isinstance(it, RangeV):
        length = range_length(fl, it)
        element = lambda k: _with_interval(range_element(fl, it, k), it)   # noqa: E731
    elif isinstance(it, ArrayV):
        from .indexing import linear_element
        length = ScalarV(INT64, int(_prod(it.t.shape)))
        element = lambda k: linear_element(fl, it, k, s)   # noqa: E731
    else:
        raise fl.error(f"cannot iterate over a value of type {it.t.julia()} (ranges, arrays and tuples can be)",
                       iterable)
    counter = "%k" + str(id(s))
    fl.env[counter] = ScalarV(INT64, 0)

    def cond() -> ScalarV:
        k = fl.env[counter]
        return _lt(fl, k, length)

    def body() -> None:
        k = fl.env[counter]
        from .assign import bind_target
        bind_target(fl, target, element(k), s)
        fl.block(body_stmts)
        fl.env["%cont"] = ScalarV(BOOL, False)
        fl.env[counter] = _add1(fl, fl.env[counter])
    run_loop(fl, body_stmts, [counter], cond, body, s, loop_vars=_target_names(target))
    del fl.env[counter]


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


def _target_names(t: A.Node) -> set[str]:
    if isinstance(t, A.Name):
        return {t.id}
    if isinstance(t, A.TupleExpr):
        return set().union(*(_target_names(i) for i in t.items))
    return set()


def _unrolled(fl: FunctionLowering, target: A.Node, items: list[Value], body_stmts: list[A.Node], s: A.For) -> None:
    """A loop over a tuple runs at compile time: each item may have its own type."""
    from .assign import bind_target
    outer_brk = fl.env["%brk"]
    fl.env["%brk"] = ScalarV(BOOL, False)
    new_names = assigned_names(body_stmts) | _target_names(target)
    defined = set(fl.env)

    def iteration(k: int) -> None:
        if k == len(items):
            return
        bind_target(fl, target, items[k], s)
        fl.block(body_stmts)
        fl.env["%cont"] = ScalarV(BOOL, False)
        flags = [fl.env["%ret"], fl.env["%brk"]]
        if any(f.is_const and f.const for f in flags):
            return
        if all(f.is_const for f in flags):
            iteration(k + 1)
        else:
            fl.guard(lambda: iteration(k + 1), s)
    iteration(0)
    fl.env["%brk"] = outer_brk
    for name in new_names - defined:
        fl.env.pop(name, None)


class _ErrorCodeNeeded(Exception):
    """The body recorded a run-time check although the syntactic guess said it could not."""


def run_loop(fl: FunctionLowering, body_stmts: list[A.Node], extra: list[str], cond: Callable[[], ScalarV],
             body: Callable[[], None], node: A.Node, loop_vars: set[str] = frozenset()) -> None:
    # Carrying the check code costs a loop value; guess from the syntax whether the body needs it,
    # and lower again with it carried in the rare case the guess was wrong.
    env = dict(fl.env)
    boxes = reachable_boxes(fl.env)
    box_values = [b.value for b in boxes]
    try:
        _run_loop(fl, body_stmts, extra, cond, body, node, loop_vars, carry_err=None)
    except _ErrorCodeNeeded as retry:
        retry.args[0].erase()
        fl.env = env
        for b, v in zip(boxes, box_values):
            b.value = v
        _run_loop(fl, body_stmts, extra, cond, body, node, loop_vars, carry_err=True)


def _run_loop(fl: FunctionLowering, body_stmts: list[A.Node], extra: list[str], cond: Callable[[], ScalarV],
              body: Callable[[], None], node: A.Node, loop_vars: set[str], carry_err: bool | None) -> None:
    from .lower import _Undef
    outer_brk = fl.env["%brk"]
    fl.env["%brk"] = ScalarV(BOOL, False)
    assigned = assigned_names(body_stmts) | set(loop_vars)
    may_return = contains(body_stmts, (A.Return,), into_loops=True)
    may_break = contains(body_stmts, (A.Break,), into_loops=False)
    if may_return and "%retval" not in fl.env:
        fl.env["%retval"] = zero_like(fl, _dry_run_return(fl, body_stmts, extra, cond, body, node, assigned))
    may_check = fl.mod.check_bounds and (carry_err or _may_check_bounds(fl, body_stmts))
    carried = [n for n in fl.env if (n in assigned or n in extra or n == "%err" and may_check
                                     or n == "%retval" and may_return
                                     or n == "%ret" and may_return or n == "%brk" and may_break)
               and not isinstance(fl.env[n], _Undef)]
    defined_before = set(fl.env)
    boxes = reachable_boxes({n: v for n, v in fl.env.items() if n not in carried})
    lanes = fl.lanes
    # per-lane loops (a user function broadcast over arrays): every carried number gets one value per
    # lane, except the shared iteration counter; lanes that are done keep their values (masked updates)
    original = {n: fl.env[n] for n in carried}
    entry_vals = {n: fl.materialize_all(fl.env[n]) if not lanes or n in extra else
                  _with_lanes(fl, fl.materialize_all(fl.env[n]), lanes) for n in carried}
    operands = [leaf_ir(x) for n in carried for x in runtime_leaves(entry_vals[n])] + [b.value for b in boxes]
    types = [o.type for o in operands]
    op = hlo.WhileOp(types, operands)
    cond_block = op.regions[0].blocks.append(*types)
    body_block = op.regions[1].blocks.append(*types)

    def bind(args: list[ir.Value]) -> None:
        it = iter(args)
        for n in carried:
            v = entry_vals[n]
            fl.env[n] = rebuild(v, {id(leaf): _fresh(leaf, next(it)) for leaf in runtime_leaves(v)})
        for b in boxes:
            b.value = next(it)

    def active() -> ScalarV:
        c = cond()
        if may_return or may_break:
            c = _and_not(fl, c, fl.scalar_or(fl.env["%ret"], fl.env["%brk"]))
        return c
    saved_boxes = [b.value for b in boxes]
    with ir.InsertionPoint(cond_block):
        bind(list(cond_block.arguments))
        err = fl.env.get("%err")
        c = active()
        # the condition region yields only the predicate: a bounds check inside a `while`
        # condition cannot be reported, and its code must not leak out of the region
        fl.env["%err"] = err
        if c.batch:
            if not lanes:
                raise fl.error("a loop condition that differs per broadcast element needs the loop to run inside "
                               "a broadcast function", node)
            c = ScalarV(BOOL, None, H.reduce(c.ir, H.constant(BOOL, False), list(range(len(c.batch))), hlo.or_))
        hlo.ReturnOp([fl.materialize(c)])
    with ir.InsertionPoint(body_block):
        bind(list(body_block.arguments))
        before = {n: fl.env[n] for n in carried}
        mask = active() if lanes else None
        err_before = fl.env.get("%err")
        body()
        if "%err" not in carried and fl.env.get("%err") is not err_before:
            raise _ErrorCodeNeeded(op.operation)
        outs = []
        for n in carried:
            v = fl.env.get(n)
            if v is None or isinstance(v, _Undef) or v.t != entry_vals[n].t:
                shown = n if not n.startswith("%") else "the returned value"
                got = "undefined" if v is None or isinstance(v, _Undef) else describe(v)
                hint = ""
                if isinstance(v, ScalarV) and isinstance(entry_vals[n], ScalarV) and not n.startswith("%"):
                    hint = f"; start it as `zero({v.t.julia()})` so that it has that type throughout"
                raise fl.error(f"type instability: `{shown}` is {describe(entry_vals[n])} before the loop and "
                               f"{got} after an iteration (jlhlo needs one concrete type per variable{hint})", node)
            new_leaves = [leaf_ir(x) for x in runtime_leaves(fl.materialize_all(v))]
            if mask is not None and n not in extra:
                old_leaves = [leaf_ir(x) for x in runtime_leaves(before[n])]
                new_leaves = [_masked(fl, mask, new, old) for new, old in zip(new_leaves, old_leaves)]
            outs += new_leaves
        outs += [b.value for b in boxes]
        hlo.ReturnOp(outs)
        # what the body left unchanged keeps its value from before the loop (constants stay constants)
        invariant = {n for n in carried if fl.env.get(n) is before[n]}
        untouched = [b.value is arg for b, arg in zip(boxes, list(body_block.arguments)[-len(boxes):] if boxes
                                                      else [])]
    for b, v in zip(boxes, saved_boxes):
        b.value = v
    bind(list(op.results))
    for n in invariant:
        fl.env[n] = original[n]
    for b, v, same in zip(boxes, saved_boxes, untouched):
        if same:
            b.value = v
    for name in set(fl.env) - defined_before:
        del fl.env[name]
    # a fused inner loop's `break` also ends the loop around it (`for i in a, j in b`)
    fl.env["%brk"] = fl.scalar_or(outer_brk, fl.env["%brk"]) if _is_fused(node) else outer_brk


def _may_check_bounds(fl: FunctionLowering, stmts: list[A.Node]) -> bool:
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


def _dry_run_return(fl: FunctionLowering, body_stmts, extra, cond, body, node, assigned) -> Value:
    """Lower the loop once into a scratch region to learn the type a `return` inside it has."""
    saved_env = dict(fl.env)
    boxes = reachable_boxes(fl.env)
    saved = [b.value for b in boxes]
    scratch = hlo.WhileOp([], [])
    block = scratch.regions[1].blocks.append()
    try:
        with ir.InsertionPoint(block):
            for n in assigned | set(extra):
                if n in fl.env:
                    fl.env[n] = fl.materialize_all(fl.env[n])
            fl.env["%ret"] = ScalarV(BOOL, None, H.constant(BOOL, False))
            body()
            ret = fl.env.get("%retval")
    finally:
        fl.env = saved_env
        for b, v in zip(boxes, saved):
            b.value = v
        scratch.operation.erase()
    if ret is None or not hasattr(ret, "t"):
        raise fl.error("cannot determine the type returned from inside this loop", node)
    return ret


def _with_lanes(fl: FunctionLowering, v: Value, lanes: tuple[int, ...]) -> Value:
    """`v` with every number broadcast to one value per lane."""
    replace = {id(leaf): ScalarV(leaf.t, None, H.broadcast(leaf.ir, lanes), lanes)
               for leaf in runtime_leaves(v) if isinstance(leaf, ScalarV) and not leaf.batch}
    return rebuild(v, replace)


def _masked(fl: FunctionLowering, mask: ScalarV, new: ir.Value, old: ir.Value) -> ir.Value:
    """Lanes where the loop was still active take the new value; the others keep the old one."""
    if mask.is_const:
        return new if mask.const else old
    shape = H.shape_of(old)
    if H.shape_of(new) != shape or tuple(mask.batch) != shape:
        return new
    return hlo.select(mask.ir, new, old)


def _fresh(leaf: Value, v: ir.Value) -> Value:
    if isinstance(leaf, ArrayV):
        return ArrayV(leaf.t, Box(v))
    return ScalarV(leaf.t, None, v, leaf.batch)


def leaf_ir(leaf: Value) -> ir.Value:
    return leaf.box.value if isinstance(leaf, ArrayV) else leaf.ir


def _and_not(fl: FunctionLowering, c: ScalarV, stop: ScalarV) -> ScalarV:
    go = fl.scalar_not(stop)
    if go.is_const:
        return c if go.const else go
    if c.is_const:
        return go if c.const else c
    batch = c.batch or go.batch
    return ScalarV(BOOL, None, hlo.and_(H.broadcast(c.ir, batch), H.broadcast(go.ir, batch)), batch)


def _lt(fl: FunctionLowering, a: ScalarV, b: ScalarV) -> ScalarV:
    if a.is_const and b.is_const:
        return ScalarV(BOOL, a.const < b.const)
    return ScalarV(BOOL, None, H.compare("LT", fl.materialize(a), fl.materialize(b), "int"))


def _add1(fl: FunctionLowering, k: ScalarV) -> ScalarV:
    if k.is_const:
        return ScalarV(INT64, k.const + 1)
    return ScalarV(INT64, None, hlo.add(k.ir, H.constant(INT64, 1)))


def _prod(shape) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def range_length(fl: FunctionLowering, r: RangeV) -> ScalarV:
    """Number of elements of a normalised range (stop already adjusted to the last element)."""
    from .primitives import arith
    (b1, k1), (b2, k2) = r.start.affine(), r.stop.affine()
    if b1 is b2 and not r.start.is_const and r.step.is_const and r.t.elt == INT64:
        return ScalarV(INT64, max(0, (k2 - k1) // r.step.const + 1))      # i:i+k
    span = arith(fl, "-", r.stop, r.start)
    n = arith(fl, "+", arith(fl, "÷", span, r.step) if r.t.elt == INT64 else
              arith(fl, "floor_int", arith(fl, "/", span, r.step)), ScalarV(INT64, 1))
    return arith(fl, "max", n, ScalarV(INT64, 0))


def range_element(fl: FunctionLowering, r: RangeV, k: ScalarV) -> ScalarV:
    """The (k+1)-th element, k counted from 0."""
    from .primitives import arith
    return arith(fl, "+", r.start, arith(fl, "*", k, r.step) if r.t.elt == INT64 else
                 arith(fl, "*", arith(fl, "convert", k, r.step), r.step))


__all__ = ["lower_while", "lower_for", "assigned_names", "run_loop", "range_length", "range_element"]
