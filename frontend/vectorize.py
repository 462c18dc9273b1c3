"""Vectorizing loop nests whose iterations are independent.

`for j in 2:m-1, i in 2:n-1; v[i, j] = u[i-1, j] + u[i+1, j] ...; end` writes each element of `v`
once and reads no element another iteration writes: every iteration can run at once. Such a
nest is lowered once, with each loop variable a batched integer (one lane per iteration, one lane
dimension per loop); reads `u[i ± c, j ± d]` become slices and the write a `dynamic_update_slice`,
which is what a hand-written slice version compiles to. Anything this module cannot prove
independent stays a `stablehlo.while` (see loops.py).

The proof is syntactic and conservative: the body holds only assignments — to new local names, or
to `X[idx...]` where `idx` uses every loop variable once as `v` or `v ± c` (so distinct iterations
write distinct elements); every read of a written array uses exactly the written index; a written
array appears in no call and shares its storage (as a view, or inside a struct or tuple) with no
other name the body mentions, nor with another written array.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from jax.extend.mlir.dialects import stablehlo as hlo

from . import ast as A
from . import hlo as H
from .exceptions import may_throw
from .types import INT64
from .values import ArrayV, LaneConflict, RangeV, ScalarV, Value, array_boxes

if TYPE_CHECKING:
    from .context import Lowering

MIN_ITERATIONS = 2


def _nest(s: A.For) -> tuple[list[tuple[str, A.Expr]], list[A.Node]] | None:
    """The loop variables (outermost first) and the innermost body of a perfect nest."""
    loops: list[tuple[str, A.Expr]] = []
    node: A.Node = s
    while True:
        for target, iterable in node.iters:
            if not isinstance(target, A.Name):
                return None
            loops.append((target.id, iterable))
        body = _unwrap(node.body.stmts)
        if len(body) == 1 and isinstance(body[0], A.For):
            node = body[0]
            continue
        return loops, body


def _unwrap(stmts: list[A.Node]) -> list[A.Node]:
    """`@inbounds`/`@simd` around statements change nothing here."""
    out: list[A.Node] = []
    for st in stmts:
        if isinstance(st, A.MacroCall) and st.name in ("inbounds", "simd", "views"):
            out += _unwrap(list(st.args))
        elif isinstance(st, A.Block):
            out += _unwrap(st.stmts)
        else:
            out.append(st)
    return out


def _loop_offset(e: A.Expr, names: set[str]) -> tuple[str, int] | None:
    """`v`, `v + c`, `v - c`, `c + v` for a loop variable v and an integer literal c."""
    if isinstance(e, A.Name) and e.id in names:
        return e.id, 0
    if isinstance(e, A.Call) and isinstance(e.func, A.Name) and e.func.id in ("+", "-") and len(e.args) == 2:
        a, b = e.args
        if isinstance(a, A.Name) and a.id in names and isinstance(b, A.IntLit):
            return a.id, b.value if e.func.id == "+" else -b.value
        if e.func.id == "+" and isinstance(b, A.Name) and b.id in names and isinstance(a, A.IntLit):
            return b.id, a.value
    return None


def _walk(node: object):
    if isinstance(node, A.Node):
        yield node
        for v in node.__dict__.values():
            yield from _walk(v)
    elif isinstance(node, (list, tuple)):
        for v in node:
            yield from _walk(v)


def _independent(fl: Lowering, loop_names: list[str], body: list[A.Node]) -> list[tuple[int, ...]] | None:
    """None, or for each write the positions of the loop variables in its index (for lane order)."""
    names = set(loop_names)
    writes: dict[str, list[A.Expr]] = {}
    locals_: set[str] = set()
    for st in body:
        if not isinstance(st, A.Assign) or st.dotted:
            return None
        if isinstance(st.target, A.Name):
            if st.target.id in fl.env or st.target.id in names or st.op is not None and st.target.id not in locals_:
                return None             # updating a variable from outside the loop carries a value
            locals_.add(st.target.id)
        elif isinstance(st.target, A.Index) and isinstance(st.target.obj, A.Name):
            x = st.target.obj.id
            if x in writes and writes[x] != st.target.indices or not isinstance(fl.env.get(x), ArrayV):
                return None
            writes[x] = st.target.indices
        else:
            return None
        for n in _walk(st.value):
            if isinstance(n, (A.Lambda, A.Generator, A.Return, A.Break, A.Continue, A.For, A.While, A.If,
                              A.Ternary, A.And, A.Or, A.Broadcast)):
                return None
    if not writes:
        return None
    orders = []
    for x, idx in writes.items():
        used = [(_loop_offset(e, names), k) for k, e in enumerate(idx)]
        lane_positions = [(off[0], k) for off, k in used if off is not None]
        if sorted(v for v, _ in lane_positions) != sorted(names):
            return None                  # each loop variable exactly once: distinct iterations, distinct elements
        for e in idx:
            if _loop_offset(e, names) is None and any(isinstance(n, A.Name) and n.id in names | locals_
                                                     for n in _walk(e)):
                return None
        orders.append(tuple(loop_names.index(v) for v, _ in lane_positions))
    # reads of a written array must be the written element; it may not escape into calls
    roots_of = {x: {id(r) for r in fl.env[x].box.roots()} for x in writes}
    written = set().union(*roots_of.values())
    if sum(map(len, roots_of.values())) != len(written):
        return None                      # two written names share storage (one a view of the other)
    for st in body:
        parts = [st.value] + ([] if isinstance(st.target, A.Name) else list(st.target.indices))
        if st.op is not None and isinstance(st.target, A.Index):
            parts.append(st.target)
        for part in parts:
            for n in _walk(part):
                if isinstance(n, A.Index) and isinstance(n.obj, A.Name) and n.obj.id in writes:
                    if n.indices != writes[n.obj.id]:
                        return None
                elif isinstance(n, A.Call) and any(isinstance(a, A.Name) and a.id in writes for a in _walk(n.args)):
                    return None
                elif isinstance(n, A.Name) and n.id not in writes and isinstance(fl.env.get(n.id), Value) \
                        and any(id(r) in written for b in array_boxes(fl.env[n.id]) for r in b.roots()):
                    return None          # another name for (a view of, a struct holding) a written array
    return orders


def try_vectorize(fl: Lowering, s: A.For) -> bool:
    """Lower the nest at `s` as one batched computation if its iterations are independent."""
    if fl.lanes:
        return False
    nest = _nest(s)
    if nest is None:
        return False
    loops, body = nest
    if may_throw(body):
        return False                   # Julia throws at the first failing iteration; lanes have no order
    loop_names = [n for n, _ in loops]
    if len(set(loop_names)) != len(loop_names):
        return False
    for _, iterable in loops:            # inner ranges may not depend on outer loop variables
        if any(isinstance(n, A.Name) and n.id in loop_names for n in _walk(iterable)):
            return False
    orders = _independent(fl, loop_names, body)
    if orders is None:
        return False
    ranges = [fl.expr(it) for _, it in loops]
    if not all(isinstance(r, RangeV) and r.t.elt == INT64 and r.start.is_const and r.step.is_const
               and r.stop.is_const and r.step.const == 1 for r in ranges):
        return False
    sizes = [(r.stop.const - r.start.const) // r.step.const + 1 for r in ranges]
    if any(n < MIN_ITERATIONS for n in sizes):
        return False
    # lanes in the order the first write indexes the loop variables: its update needs no transpose
    order = list(orders[0])
    lanes = tuple(sizes[k] for k in order)
    saved = fl.checkpoint()
    try:
        for dim, k in enumerate(order):
            r = ranges[k]
            value = hlo.add(H.constant(INT64, r.start.const, lanes), H.iota(INT64, lanes, dim))
            lane_var = ScalarV(INT64, None, value, lanes, interval=(r.start.const, r.stop.const))
            lane_var.lane = (dim, r.start.const)
            fl.assign_name(loop_names[k], lane_var)
        draws = fl.draws
        for st in body:
            with fl.loc(st):
                fl.stmt(st)
        if fl.draws != draws:
            raise LaneConflict()       # one draw per iteration: an ordinary loop
    except LaneConflict:               # an iteration needs more than elementwise work: an ordinary loop
        saved.restore()
        return False
    for name in set(fl.env) - set(saved.env):
        del fl.env[name]
    return True
