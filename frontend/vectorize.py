"""Loop nests as array operations: independent iterations, reductions and accumulations.

`for j in 2:m-1, i in 2:n-1; v[i, j] = u[i-1, j] + u[i+1, j] ...; end` writes each element of `v`
once and reads no element another iteration writes: every iteration can run at once. Such a
nest is lowered once, with each loop variable a batched value (one lane per iteration, one lane
dimension per loop); reads `u[i ± c, j ± d]` become slices and the write a `dynamic_update_slice`,
which is what a hand-written slice version compiles to.

A loop-carried value does not stop this when the loop only folds every iteration's value into it
with an associative, commutative operation that nothing else in the body reads:

* a reduction: `s += e` (`-=`, `*=`, `&=`, `|=`), `s = max(s, e)` / `min`, `s = muladd(a, b, s)`:
  `e` is computed for every lane, reduced (`stablehlo.reduce`), then combined with `s` once;
* a selection, the hand-written `findmax`: `if e > best; best = e; at = i; end` keeps the first
  iteration with the largest `e` (`>=`: the last; `<`, `<=`: the smallest), found by one
  variadic reduce over (value, iteration) pairs; NaN never wins, as `NaN > best` is false;
* an accumulation: `y[i] += A[i, j] * x[j]` in a nest over i and j, whose index leaves out some
  loop variables: the lanes are reduced over those and added to `y` once (a matvec; the
  `contract` pass turns such a multiply-and-sum into `dot_general`); with a computed index,
  `h[bin(x[i])] += 1`, a scatter-add.

The body may also hold inner loops over local values (Horner's rule per point): they run for all
lanes at once, as a loop inside a function broadcast over arrays does.

Integer and Bool folds are exact in any order. Floating-point `+` is reassociated, as Julia's
`@simd` permits (`--strict-fp` keeps it sequential); `max`, `min` and selections are exact. A
floating-point product keeps its loop (its reduction would have no derivative).

Anything not proven safe stays a `stablehlo.while` (see loops.py). The proof is syntactic and
conservative: the body holds only assignments (and selection `if`s) — to new local names, to
`X[idx...]` where `idx` uses every loop variable once as `v` or `v ± c` (so distinct iterations
write distinct elements), or the folds above; every read of a written array uses exactly the
written index; a folded variable or accumulated array is read nowhere else; a written array
appears in no call and shares its storage (as a view, or inside a struct or tuple) with no other
name the body mentions, nor with another written array. `--explain-loops` reports, per loop,
what it became or what kept it sequential.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from jax.extend.mlir import ir
from jax.extend.mlir.dialects import stablehlo as hlo

from ..core import builder as B
from . import ast as A
from . import hlo as H
from .arrays import reshape_colmajor
from .context import ERROR_CODE, FLAGS
from .diagnostics import JuliaError
from .exceptions import may_throw
from .indexing import check_within
from .ranges import range_element, range_length
from .registry import NoMethod
from .scalars import arith, convert_scalar, ifelse
from .types import BOOL, INT64, Scalar
from .values import ArrayListV, ArrayV, ClosureV, LaneConflict, RangeV, ScalarV, TupleV, Value, array_boxes

if TYPE_CHECKING:
    from .context import Lowering

MIN_ITERATIONS = 2

# fold operators: associative and commutative, so the lanes may be combined in any order
_FOLDS = ("+", "*", "max", "min", "&", "|")
_COMPARISONS = {">": (True, False), ">=": (True, True), "≥": (True, True),   # largest?, last wins?
                "<": (False, False), "<=": (False, True), "≤": (False, True)}
_MIRRORED = {">": "<", "<": ">", ">=": "<=", "<=": ">=", "≥": "≤", "≤": "≥"}


class Sequential(LaneConflict):
    """The nest keeps its loop (or is unrolled, over a tuple): `reason` says why (for --explain-loops)."""

    def __init__(self, reason: str, outcome: str = "sequential"):
        super().__init__(reason)
        self.reason = reason
        self.outcome = outcome


# ----------------------------------------------------------------------------- what a statement does
@dataclass
class Reduction:
    """`s = s op e` for every iteration: s ends as `s op (e₁ op e₂ op ...)` (`s - (...)` for `-=`)."""
    name: str
    op: str
    value: A.Expr
    subtract: bool


@dataclass
class Selection:
    """`if key > best; best = key; at = i; end`: the names take their values at the winning iteration."""
    name: str
    key: A.Expr
    cmp: str                           # as written, with `best` on the right: `key cmp best`
    captures: list[tuple[str, A.Expr]]


@dataclass
class Accumulation:
    """`y[idx] op= e` where idx leaves out some loop variables: the lanes are reduced over those."""
    array: str
    indices: list[A.Expr]
    op: str
    value: A.Expr
    subtract: bool
    kept: list[str]                    # the loop variables idx uses, in index order
    scatter: bool = False              # idx is computed (`h[bin(x[i])] += 1`): a scatter-add


Fold = Reduction | Selection | Accumulation


@dataclass
class Plan:
    writes: dict[str, list[A.Expr]]    # arrays written one element per iteration, by their index
    folds: dict[int, Fold]             # by id of the statement
    order: list[int]                   # loop positions in lane order


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


def _mentions(node: object, names: set[str]) -> bool:
    return any(isinstance(n, A.Name) and n.id in names for n in _walk(node))


def _update(fl: Lowering, st: A.Assign) -> tuple[str, A.Expr, bool] | None:
    """(op, e, subtract) when `st` folds e into its target: `t op= e`, `t = t op e`, `t = e op t`,
    `t = t - e`, `t = muladd(a, b, t)`."""
    target = st.target
    if st.op is not None:
        if st.op in ("+", "*", "&", "|"):
            return st.op, st.value, False
        return ("+", st.value, True) if st.op == "-" else None
    v = st.value
    if not (isinstance(v, A.Call) and isinstance(v.func, A.Name) and not v.kwargs) or v.func.id in fl.env:
        return None
    f, args = v.func.id, v.args
    if len(args) == 2 and f in _FOLDS:
        if args[0] == target:
            return f, args[1], False
        if args[1] == target:
            return f, args[0], False
    if len(args) == 2 and f == "-" and args[0] == target:
        return "+", args[1], True
    if len(args) == 3 and f == "muladd" and args[2] == target:
        return "+", A.Call(A.Name("*", span=v.span), args[:2], span=v.span), False
    return None


def _selection(fl: Lowering, st: A.If, loop_names: set[str]) -> Selection | None:
    """`if key cmp best; best = key; at = i; end` (or `best cmp key`), nothing else in the arm."""
    if len(st.branches) != 1 or st.orelse is not None:
        return None
    cond, block = st.branches[0]
    if not (isinstance(cond, A.Call) and isinstance(cond.func, A.Name) and cond.func.id in _COMPARISONS
            and len(cond.args) == 2 and not cond.kwargs):
        return None
    arm = _unwrap(block.stmts)
    if not all(isinstance(a, A.Assign) and isinstance(a.target, A.Name) and a.op is None and not a.dotted
               for a in arm):
        return None
    targets = [a.target.id for a in arm]
    if len(set(targets)) != len(targets) or any(t in loop_names or t not in fl.env for t in targets):
        return None
    lhs, rhs = cond.args
    for key, best, cmp in ((lhs, rhs, cond.func.id), (rhs, lhs, _MIRRORED[cond.func.id])):
        if not (isinstance(best, A.Name) and best.id in targets):
            continue
        values = dict(zip(targets, (a.value for a in arm)))
        if values[best.id] != key or _mentions(key, set(targets)):
            return None
        captures = [(t, e) for t, e in values.items() if t != best.id]
        # a capture is computed for every lane but Julia computes it only at the winners: it
        # must not be able to fail, so only arithmetic (+ - *) on names and literals
        for _, e in captures:
            if _mentions(e, set(targets)) or not all(
                    isinstance(n, (A.Name, A.IntLit, A.FloatLit, A.BoolLit)) or
                    isinstance(n, A.Call) and isinstance(n.func, A.Name) and n.func.id in ("+", "-", "*")
                    and n.func.id not in fl.env for n in _walk(e)):
                return None
        return Selection(best.id, key, cmp, captures)
    return None


_FORBIDDEN = (A.Lambda, A.Generator, A.Return, A.Break, A.Continue, A.For, A.While, A.If,
              A.Broadcast)


def _plan(fl: Lowering, loop_names: list[str], body: list[A.Node]) -> Plan | str:
    """The plan for lowering the nest at once, or why it must stay a loop."""
    names = set(loop_names)
    writes: dict[str, list[A.Expr]] = {}
    folds: dict[int, Fold] = {}
    folded: set[str] = set()           # variables and arrays folded into: read nowhere else
    locals_: set[str] = set()
    for st in body:
        if isinstance(st, A.If):
            sel = _selection(fl, st, names)
            if sel is None:
                return f"line {_line(st)}: an `if` other than `if x > best; best = x; ...; end`"
            if any(isinstance(n, _FORBIDDEN) for n in _walk(sel.key)):
                return f"line {_line(st)}: control flow inside an expression"
            if folded & ({sel.name} | {t for t, _ in sel.captures}):
                return f"line {_line(st)}: `{sel.name}` is updated twice per iteration"
            folds[id(st)] = sel
            folded |= {sel.name} | {t for t, _ in sel.captures}
            continue
        if isinstance(st, (A.For, A.While)):
            inner = _inner_loop_names(st)
            if isinstance(inner, str):
                return inner
            if inner & (set(fl.env) | names) - locals_:
                return (f"line {_line(st)}: the inner loop assigns `{sorted(inner & set(fl.env) - locals_)[0]}`, "
                        f"which outlives an iteration")
            locals_ |= inner              # each iteration runs the inner loop on its own lane
            continue
        if not isinstance(st, A.Assign) or st.dotted:
            return f"line {_line(st)}: a statement other than an assignment"
        for n in _walk(st.value):
            if isinstance(n, _FORBIDDEN):
                return f"line {_line(n)}: control flow inside an expression"
        if isinstance(st.target, A.Name):
            x = st.target.id
            if x in names:
                return f"line {_line(st)}: the loop variable `{x}` is reassigned"
            if x in fl.env:
                upd = _update(fl, st)
                if upd is None or _mentions(upd[1], {x}) or x in folded or x in locals_:
                    return (f"line {_line(st)}: `{x}` carries a value from one iteration to the next "
                            f"(not a fold like `{x} += e` or `{x} = max({x}, e)` that nothing else reads)")
                folds[id(st)] = Reduction(x, upd[0], upd[1], upd[2])
                folded.add(x)
                continue
            if st.op is not None and x not in locals_:
                return f"line {_line(st)}: `{x}` is updated before it is assigned"
            locals_.add(x)
        elif isinstance(st.target, A.Index) and isinstance(st.target.obj, A.Name):
            x = st.target.obj.id
            if not isinstance(fl.env.get(x), ArrayV):
                return f"line {_line(st)}: `{x}` is not an array"
            used = [_loop_offset(e, names) for e in st.target.indices]
            kept = [u[0] for u in used if u is not None]
            if sorted(kept) != sorted(names):
                upd = _update(fl, st)
                computed = any(u is None and _mentions(e, names | locals_) for u, e in zip(used, st.target.indices))
                if upd is None or len(set(kept)) != len(kept) or _mentions(upd[1], {x}) or x in writes \
                        or x in folded or upd[0] not in (("+",) if computed else ("+", "*", "max", "min")):
                    return (f"line {_line(st)}: iterations write the same element of `{x}` (its index does not "
                            f"use every loop variable once, and the write is not a fold like `{x}[i] += e`)")
                folds[id(st)] = Accumulation(x, st.target.indices, upd[0], upd[1], upd[2], kept, computed)
                folded.add(x)
                continue
            if x in writes and writes[x] != st.target.indices or x in folded:
                return f"line {_line(st)}: `{x}` is written at two different indices"
            writes[x] = st.target.indices
        else:
            return f"line {_line(st)}: an assignment to a field or a tuple"
    if not writes and not folds:
        return "the body writes no array and folds no value"
    for x, idx in list(writes.items()) + [(f.array, f.indices) for f in folds.values()
                                          if isinstance(f, Accumulation) and not f.scatter]:
        for e in idx:
            if _loop_offset(e, names) is None and _mentions(e, names | locals_):
                return f"`{x}` is indexed by an expression of the loop variables other than `i ± c`"
    # lanes in the order the first write indexes the loop variables: its update needs no transpose
    accumulations = [f for f in folds.values() if isinstance(f, Accumulation) and not f.scatter]
    if writes:
        idx = next(iter(writes.values()))
        first = [u[0] for u in (_loop_offset(e, names) for e in idx) if u is not None]
    elif accumulations:
        first = accumulations[0].kept + [n for n in loop_names if n not in accumulations[0].kept]
    else:
        first = loop_names[::-1]     # innermost first: column-major lane order is iteration order
    plan = Plan(writes, folds, [loop_names.index(v) for v in first])
    reason = _isolated(fl, plan, body)
    return reason or plan


def _isolated(fl: Lowering, plan: Plan, body: list[A.Node]) -> str | None:
    """Why the written and folded names are not isolated from the rest of the body, or None."""
    accumulated = {f.array for f in plan.folds.values() if isinstance(f, Accumulation)}
    carried = {f.name for f in plan.folds.values() if isinstance(f, Reduction)} | {
        t for f in plan.folds.values() if isinstance(f, Selection) for t in [f.name, *(c for c, _ in f.captures)]}
    arrays = set(plan.writes) | accumulated
    roots_of = {x: {id(r) for r in fl.env[x].box.roots()} for x in arrays}
    written = set().union(*roots_of.values()) if roots_of else set()
    if sum(map(len, roots_of.values())) != len(written):
        return "two written arrays share storage (one is a view of the other)"
    for st in body:
        fold = plan.folds.get(id(st))
        if isinstance(fold, Selection):
            parts: list[object] = [fold.key] + [e for _, e in fold.captures]
        elif fold is not None:
            parts = [fold.value] + (list(fold.indices) if isinstance(fold, Accumulation) else [])
        elif isinstance(st, (A.For, A.While)):
            parts = [st]
        else:
            parts = [st.value] + ([] if isinstance(st.target, A.Name) else list(st.target.indices))
            if st.op is not None and isinstance(st.target, A.Index):
                parts.append(st.target)
        for part in parts:
            indexed = {id(n.obj) for n in _walk(part) if isinstance(n, A.Index)}
            for n in _walk(part):
                if isinstance(n, A.Name) and n.id in carried:
                    return f"line {_line(n)}: `{n.id}` is read while it is being folded"
                if isinstance(n, A.Name) and isinstance(fl.env.get(n.id), ClosureV) \
                        and _mentions(fl.env[n.id].lam, carried | arrays):
                    return f"line {_line(n)}: the closure `{n.id}` sees a variable or array the loop changes"
                if isinstance(n, A.Index) and isinstance(n.obj, A.Name) and n.obj.id in accumulated:
                    return f"line {_line(n)}: `{n.obj.id}` is read while it is being accumulated into"
                if isinstance(n, A.Index) and isinstance(n.obj, A.Name) and n.obj.id in plan.writes:
                    if n.indices != plan.writes[n.obj.id]:
                        return f"line {_line(n)}: `{n.obj.id}` is read at another iteration's element"
                elif isinstance(n, A.Name) and n.id in arrays and id(n) not in indexed:
                    return f"line {_line(n)}: the written array `{n.id}` is used whole (not one element)"
                elif isinstance(n, A.Name) and n.id not in arrays and isinstance(fl.env.get(n.id), Value) \
                        and any(id(r) in written for b in array_boxes(fl.env[n.id]) for r in b.roots()):
                    return f"line {_line(n)}: `{n.id}` shares storage with a written array"
    return None


def _inner_loop_names(loop: A.For | A.While) -> set[str] | str:
    """The names an inner loop assigns (its own variables included), or why it cannot run per lane:
    it writes an array or leaves the function."""
    names: set[str] = set()
    for n in _walk(loop):
        if isinstance(n, (A.Return, A.Lambda, A.Generator)):
            return f"line {_line(n)}: an inner loop with a `return` or a function inside"
        if isinstance(n, A.Assign):
            if n.dotted or not isinstance(n.target, A.Name):
                return f"line {_line(n)}: an inner loop writes an array"
            names.add(n.target.id)
        elif isinstance(n, A.For):
            for target, _ in n.iters:
                if not isinstance(target, A.Name):
                    return f"line {_line(n)}: an inner loop over tuples"
                names.add(target.id)
    return names


def _line(node: A.Node) -> str:
    return str(node.span.line) if node.span is not None else "?"


# ----------------------------------------------------------------------------- lowering
def try_vectorize(fl: Lowering, s: A.For) -> bool:
    """Lower the nest at `s` as one batched computation if that is proven to mean the same."""
    if fl.lanes:
        return False                   # inside a function broadcast over arrays: already lane-wise
    if not fl.mod.vectorize:
        _note(fl, s, "sequential: --no-vectorize")
        return False
    try:
        summary = _vectorize(fl, s)
    except Sequential as why:
        _note(fl, s, f"{why.outcome}: {why.reason}")
        return False
    _note(fl, s, "vectorized: " + summary)
    return True


def _note(fl: Lowering, s: A.For, text: str) -> None:
    if s.span is not None:
        fl.mod.loop_notes.setdefault((s.span, text), None)


def _vectorize(fl: Lowering, s: A.For) -> str:
    nest = _nest(s)
    if nest is None:
        raise Sequential("the loop variable is a tuple")
    loops, body = nest
    if may_throw(body):
        raise Sequential("the body may throw: Julia stops at the first failing iteration")
    loop_names = [n for n, _ in loops]
    if len(set(loop_names)) != len(loop_names):
        raise Sequential("a loop variable is used twice")
    for _, iterable in loops:
        if _mentions(iterable, set(loop_names)):
            raise Sequential("an inner range depends on an outer loop variable")
    plan = _plan(fl, loop_names, body)
    if isinstance(plan, str):
        raise Sequential(plan)
    writes = bool(plan.writes) or any(isinstance(f, Accumulation) and not f.scatter for f in plan.folds.values())
    saved = fl.checkpoint()
    try:
        changed = {id(r) for x in _changed_arrays(plan) for r in fl.env[x].box.roots()}
        iterations = [_iterations(fl, it, writes, changed) for _, it in loops]
        lanes = tuple(iterations[k][0] for k in plan.order)
        for dim, k in enumerate(plan.order):
            fl.assign_name(loop_names[k], iterations[k][1](dim, lanes))
        draws = fl.draws
        operands: dict[int, list[ScalarV]] = {}
        fl.lanes = lanes               # every iteration a lane: inner loops and branches run per lane, masked
        try:
            for st in body:
                with fl.loc(st):
                    fold = plan.folds.get(id(st))
                    if fold is None:
                        fl.stmt(st)
                    elif isinstance(fold, Selection):
                        operands[id(st)] = [_lane_scalar(fl, e, lanes)
                                            for e in [fold.key, *(c for _, c in fold.captures)]]
                    else:
                        scattered = fold.indices if isinstance(fold, Accumulation) and fold.scatter else []
                        operands[id(st)] = [_lane_scalar(fl, fold.value, lanes)] + (
                            _index_scalars(fl, fl.env[fold.array], scattered, lanes) if scattered else [])
                        if scattered:
                            _check_scatter_indices(fl, fold, operands[id(st)][1:], st)
        finally:
            fl.lanes = ()
        if fl.draws != draws:
            raise Sequential("the body draws random numbers (one draw per iteration)")
        err = fl.env.get(ERROR_CODE)
        if isinstance(err, ScalarV) and err.batch:
            fl.env[ERROR_CODE] = fl.first_failure(err)    # one code: the first failing lane's
        for flag in FLAGS:             # an inner loop carried them per lane; none leaves the nest
            v = fl.env.get(flag)
            if isinstance(v, ScalarV) and v.batch:
                fl.env[flag] = ScalarV(BOOL, None, B.reduce(v.ir, H.constant(BOOL, False),
                                                            list(range(len(v.batch))), hlo.or_))
        done = []
        for st in body:
            fold = plan.folds.get(id(st))
            if fold is not None:
                with fl.loc(st):
                    done.append(_finish(fl, fold, operands[id(st)], plan, loop_names, iterations, lanes, st))
    except Sequential:
        saved.restore()
        raise
    except LaneConflict:               # an iteration needs more than elementwise work: an ordinary loop
        saved.restore()
        raise Sequential("an iteration needs more than element-wise work (a slice or array per iteration)") \
            from None
    for name in set(fl.env) - set(saved.env):
        del fl.env[name]
    shape = "×".join(str(n) for n, _ in iterations)       # in loop order, outermost first
    return f"{shape} iterations at once" + "".join("; " + d for d in done)


def _changed_arrays(plan: Plan) -> set[str]:
    return set(plan.writes) | {f.array for f in plan.folds.values() if isinstance(f, Accumulation)}


def _iterations(fl: Lowering, iterable: A.Expr, writes: bool, changed: set[int]):
    """(trip count, lane value maker) of one loop: the maker gives the loop variable for all lanes,
    running along lane dimension `dim` of `lanes`."""
    it = fl.expr(iterable)
    if any(id(r) in changed for b in array_boxes(it) for r in b.roots()):
        raise Sequential("the loop iterates over an array it changes")
    if isinstance(it, RangeV):
        n = range_length(fl, it)
        if not n.is_const:
            raise Sequential("the trip count is known only at run time")
        unit = it.t.elt == INT64 and it.start.is_const and it.step.is_const and it.step.const == 1
        if writes and not unit:
            raise Sequential("an array is written in a loop over a range that is not `a:b` with known ends")

        def variable(dim: int, lanes: tuple[int, ...]) -> ScalarV:
            k = ScalarV(INT64, None, H.iota(INT64, lanes, dim), lanes)
            v = range_element(fl, it, k)
            if unit:
                v = ScalarV(INT64, None, fl.materialize(v), lanes, interval=(it.start.const, it.stop.const),
                            lane=(dim, it.start.const))
            return v
    elif isinstance(it, ArrayV) and not writes:
        n = ScalarV(INT64, math.prod(it.t.shape))

        def variable(dim: int, lanes: tuple[int, ...]) -> ScalarV:
            flat = reshape_colmajor(fl, it, (n.const,)).ir
            return ScalarV(it.t.elt, None, B.broadcast(flat, lanes, [dim]), lanes)
    elif isinstance(it, (TupleV, ArrayListV)):
        raise Sequential(f"a loop over a {it.t.julia()}", outcome="unrolled")
    else:
        raise Sequential(f"a loop over a {it.t.julia()}" + (" in a nest that writes arrays" if writes else ""))
    if n.const < MIN_ITERATIONS:
        raise Sequential(f"{n.const} iteration(s)")
    return n.const, variable


def _int_range(t: Scalar) -> tuple[int, int]:
    """The smallest and largest value of an integer type."""
    info = np.iinfo(t.info.np)
    return int(info.min), int(info.max)


def _lane_scalar(fl: Lowering, e: A.Expr, lanes: tuple[int, ...]) -> ScalarV:
    """e's value for every lane, as one batched number."""
    v = fl.expr(e)
    if not isinstance(v, ScalarV) or v.t.info.is_complex:
        raise Sequential(f"line {_line(e)}: the folded value is not a real number")
    if v.batch and v.batch != lanes:
        raise LaneConflict()
    return v


def _finish(fl: Lowering, fold: Fold, operands: list[ScalarV], plan: Plan, loop_names: list[str],
            iterations: list, lanes: tuple[int, ...], st: A.Node) -> str:
    if isinstance(fold, Reduction):
        return _finish_reduction(fl, fold, operands[0], lanes, st)
    if isinstance(fold, Selection):
        return _finish_selection(fl, fold, operands, plan, lanes, st)
    if fold.scatter:
        return _finish_scatter(fl, fold, operands[0], operands[1:], lanes, st)
    return _finish_accumulation(fl, fold, operands[0], plan, loop_names, iterations, lanes, st)


def _fold_type(fl: Lowering, op: str, carried: Scalar, item: Scalar, node: A.Node) -> Scalar:
    """The type the fold runs in: `carried op item`, which must stay that type at the next step."""
    def result(a: Scalar) -> Scalar:
        try:
            return arith(fl, op, ScalarV(a, True if a == BOOL else 1), ScalarV(item, True if item == BOOL else 1)).t
        except (JuliaError, NoMethod):
            raise Sequential(f"line {_line(node)}: `{op}` on {a.julia()} and {item.julia()}") from None
    t = result(carried)
    if result(t) != t:
        raise Sequential(f"line {_line(node)}: the folded value changes type from step to step")
    if t.info.is_float and op in ("+", "*") and not fl.mod.reassociate:
        raise Sequential(f"line {_line(node)}: a floating-point `{op}` fold under --strict-fp")
    if t.info.is_float and op == "*":
        # a product reduction has no derivative rule (a zero factor makes prod/x useless), and a
        # loss may be differentiated: products of floats keep their loop
        raise Sequential(f"line {_line(node)}: a floating-point product fold")
    return t


def _reduce(fl: Lowering, op: str, v: ScalarV, t: Scalar, lanes: tuple[int, ...], dims: list[int]) -> ir.Value:
    """v (converted to t) for every lane, folded over lane dimensions `dims` with op."""
    x = B.broadcast(fl.materialize(convert_scalar(fl, v, t)), lanes, list(range(len(v.batch))) if v.batch else [])
    if t.info.is_float:
        init = {"+": -0.0, "*": 1.0, "max": -float("inf"), "min": float("inf")}[op]
    elif t == BOOL:
        init = {"+": False, "*": True, "max": False, "min": True, "&": True, "|": False}[op]
    else:
        lo, hi = _int_range(t)
        init = {"+": 0, "*": 1, "max": lo, "min": hi, "&": -1 if lo < 0 else hi, "|": 0}[op]
    body = {"+": hlo.add, "*": hlo.multiply, "max": hlo.maximum, "min": hlo.minimum, "&": hlo.and_, "|": hlo.or_}[op]
    return B.reduce(x, H.constant(t, init), dims, body)


def _finish_reduction(fl: Lowering, fold: Reduction, v: ScalarV, lanes: tuple[int, ...], st: A.Node) -> str:
    s0 = fl.env[fold.name]
    if not isinstance(s0, ScalarV) or s0.batch or s0.t.info.is_complex:
        raise Sequential(f"line {_line(st)}: `{fold.name}` is not a real number")
    t = _fold_type(fl, fold.op, s0.t, v.t, st)
    total = ScalarV(t, None, _reduce(fl, fold.op, v, t, lanes, list(range(len(lanes)))))
    fl.assign_name(fold.name, arith(fl, "-" if fold.subtract else fold.op, s0, total))
    what = {"+": "sum", "*": "product", "max": "maximum", "min": "minimum", "&": "all-bits and", "|": "bits or"}
    return f"`{fold.name}` {what[fold.op]} reduction"


def _finish_selection(fl: Lowering, fold: Selection, values: list[ScalarV], plan: Plan, lanes: tuple[int, ...],
                      st: A.Node) -> str:
    best = fl.env[fold.name]
    key = values[0]
    if not (isinstance(best, ScalarV) and not best.batch and best.t == key.t and not key.t.info.is_complex):
        raise Sequential(f"line {_line(st)}: `{fold.name}` and the compared value differ in type")
    largest, last = _COMPARISONS[fold.cmp]
    n = math.prod(lanes)
    # lanes in iteration order (outer loops vary slowest), flattened: ties go to the first iteration
    inv = sorted(range(len(lanes)), key=lambda d: plan.order[d])

    def flat(v: ScalarV, t: Scalar) -> ir.Value:
        x = B.broadcast(fl.materialize(convert_scalar(fl, v, t)), lanes, list(range(len(v.batch))) if v.batch else [])
        if inv != list(range(len(lanes))):
            x = hlo.transpose(x, inv)
        return B.reshape(x, (n,))
    keys = flat(key, key.t)
    winner_at = _select(keys, largest, last, key.t)
    # the winning key read back at its position: its exact bits (0.0 or -0.0), and a gradient
    # flows through the slice
    w = ScalarV(key.t, None, B.reshape(hlo.dynamic_slice(keys, [winner_at], [1]), ()))
    taken = arith(fl, fold.cmp, w, best)          # `key cmp best` at the winner: does it replace best?
    fl.assign_name(fold.name, ifelse(fl, taken, w, best))
    for (name, _), v in zip(fold.captures, values[1:]):
        old = fl.env[name]
        if not (isinstance(old, ScalarV) and not old.batch and old.t == v.t):
            raise Sequential(f"line {_line(st)}: `{name}` changes type when it is set")
        at = B.reshape(hlo.dynamic_slice(flat(v, v.t), [winner_at], [1]), ())
        fl.assign_name(name, ifelse(fl, taken, ScalarV(v.t, None, at), old))
    which = ("last" if last else "first") + (" largest" if largest else " smallest")
    also = "".join(f", `{c}`" for c, _ in fold.captures)
    return f"`{fold.name}`{also} selected at the {which} value"


def _select(keys: ir.Value, largest: bool, last: bool, t: Scalar) -> ir.Value:
    """The position that wins: of the keys equal (`==`) to the largest (smallest) one, NaN never
    winning over a number, the first (last); out of range when every key is NaN (a read there
    clamps to a NaN key, which replaces nothing).

    One variadic reduce over (key, position) with an `argmax`-cheap comparison: for the first
    winner NaN keys count as -Inf (+Inf for the smallest) and -0.0 as 0.0 — exact, as a winner that
    ties with such a key is ±Inf, which `>`/`<` never takes. For the last winner (`>=`, where `-Inf
    >= best` can hold) floats are mapped to integers in the same order, NaN the worst."""
    n = B.shape(keys)[0]
    if t.info.is_float and not last:
        worst = -float("inf") if largest else float("inf")
        zero = H.compare("EQ", keys, H.constant(t, 0.0, (n,)), "float")
        keys = hlo.select(H.compare("NE", keys, keys, "float"), H.constant(t, worst, (n,)),
                          hlo.select(zero, H.constant(t, 0.0, (n,)), keys))
        lo = hi = worst
    elif t.info.is_float:
        it = Scalar(f"Int{t.info.bits}")
        lowest, highest = _int_range(it)
        zero = H.compare("EQ", keys, H.constant(t, 0.0, (n,)), "float")
        raw = hlo.bitcast_convert(H.tensor_type(it, (n,)), hlo.select(zero, H.constant(t, 0.0, (n,)), keys))
        flipped = hlo.xor(raw, H.constant(it, highest, (n,)))     # negatives: larger bits, smaller
        ordered = hlo.select(H.compare("LT", raw, H.constant(it, 0, (n,)), "int"), flipped, raw)
        keys = hlo.select(H.compare("NE", keys, keys, "float"), H.constant(it, lowest if largest else highest, (n,)),
                          ordered)
        t = it
    elif t == BOOL:
        keys, t = H.convert(keys, Scalar("Int8")), Scalar("Int8")
    if not t.info.is_float:
        lo, hi = _int_range(t)
    kind = t.info.kind
    scalar, index = H.tensor_type(t), H.tensor_type(INT64)
    none = -1 if last else n
    op = hlo.ReduceOp([scalar, index], [keys, H.iota(INT64, (n,), 0)],
                      [H.constant(t, lo if largest else hi), H.constant(INT64, none)], [0])
    block = op.regions[0].blocks.append(scalar, index, scalar, index)
    with ir.InsertionPoint(block):
        ka, ia, kb, ib = block.arguments
        better = H.compare("GT" if largest else "LT", kb, ka, kind)
        tie = H.compare("EQ", kb, ka, kind)
        take_b = hlo.or_(better, hlo.and_(tie, H.compare("GT" if last else "LT", ib, ia, "int")))
        hlo.return_([hlo.select(better, kb, ka), hlo.select(take_b, ib, ia)])
    return op.results[1]


def _finish_accumulation(fl: Lowering, fold: Accumulation, v: ScalarV, plan: Plan, loop_names: list[str],
                         iterations: list, lanes: tuple[int, ...], st: A.Node) -> str:
    arr = fl.env[fold.array]
    t = _fold_type(fl, fold.op, arr.t.elt, v.t, st)
    if t != arr.t.elt:
        raise Sequential(f"line {_line(st)}: `{fold.array}[...] {fold.op} e` is not a {arr.t.elt.julia()}")
    kept_dims = [d for d in range(len(lanes)) if loop_names[plan.order[d]] in fold.kept]
    reduced_dims = [d for d in range(len(lanes)) if d not in kept_dims]
    partial = _reduce(fl, fold.op, v, t, lanes, reduced_dims)
    kept_lanes = tuple(lanes[d] for d in kept_dims)
    # write back as an update of its own: the kept loop variables run over the kept lanes only
    for dim, d in enumerate(kept_dims):
        k = plan.order[d]
        fl.assign_name(loop_names[k], iterations[k][1](dim, kept_lanes))
    operand = "%folded" + str(id(st))
    fl.env[operand] = ScalarV(t, None, partial, kept_lanes) if kept_lanes else ScalarV(t, None, partial)
    target = A.Index(A.Name(fold.array, span=st.span), fold.indices, span=st.span)
    combined = A.Call(A.Name("-" if fold.subtract else fold.op, span=st.span), [target, A.Name(operand, span=st.span)],
                      span=st.span)
    fl.stmt(A.Assign(target, combined, span=st.span))
    del fl.env[operand]
    over = ", ".join(f"`{loop_names[plan.order[d]]}`" for d in reduced_dims)
    return f"`{fold.array}` accumulated over {over}"


def _index_scalars(fl: Lowering, array: Value, indices: list[A.Expr], lanes: tuple[int, ...]) -> list[ScalarV]:
    """The lane values of the index expressions of `array[indices...]`, with `end` meaning the size of
    its dimension there, as inside the indexing itself."""
    out = []
    for d, e in enumerate(indices):
        fl.index_stack.append((array, d, len(indices)))
        try:
            out.append(_lane_scalar(fl, e, lanes))
        finally:
            fl.index_stack.pop()
    return out


def _check_scatter_indices(fl: Lowering, fold: Accumulation, indices: list[ScalarV], st: A.Node) -> None:
    """The bounds check of `h[k] += e`, made per iteration where the statement runs."""
    arr = fl.env[fold.array]
    if not isinstance(arr, ArrayV) or len(indices) != arr.t.ndims:
        raise Sequential(f"line {_line(st)}: `{fold.array}` is not indexed by one index per dimension")
    for d, ix in enumerate(indices):
        if not ix.t.info.is_integer or ix.t == BOOL:
            raise Sequential(f"line {_line(st)}: an index that is not an integer")
        ix = convert_scalar(fl, ix, INT64)
        check_within(fl, ix, ix, arr.t.shape[d], arr.t.shape, d, st)


def _finish_scatter(fl: Lowering, fold: Accumulation, v: ScalarV, indices: list[ScalarV], lanes: tuple[int, ...],
                    st: A.Node) -> str:
    """`h[k] += e` with k computed per iteration: every lane's e added at its k (a scatter-add;
    elements hit by several lanes add up, in an unspecified order)."""
    arr = fl.env[fold.array]
    t = _fold_type(fl, "+", arr.t.elt, v.t, st)
    if t != arr.t.elt:
        raise Sequential(f"line {_line(st)}: `{fold.array}[...] + e` is not a {arr.t.elt.julia()}")
    n = math.prod(lanes)
    columns = []
    for ix in indices:
        ix = convert_scalar(fl, ix, INT64)
        zero_based = hlo.subtract(B.broadcast(fl.materialize(ix), lanes, list(range(len(ix.batch)))
                                              if ix.batch else []), H.constant(INT64, 1, lanes))
        columns.append(B.reshape(zero_based, (n, 1)))
    value = convert_scalar(fl, v, t)
    if fold.subtract:                  # h - e₁ - e₂ is h + (-e₁) + (-e₂), step by step (and -0.0 stays)
        value = ScalarV(t, None, hlo.negate(fl.materialize(value)), value.batch)
    updates = B.reshape(B.broadcast(fl.materialize(value), lanes, list(range(len(value.batch))) if value.batch else []),
                        (n,))
    nd = arr.t.ndims
    dnums = hlo.ScatterDimensionNumbers.get(update_window_dims=[], inserted_window_dims=list(range(nd)),
                                            input_batching_dims=[], scatter_indices_batching_dims=[],
                                            scattered_dims_to_operand_dims=list(range(nd)), index_vector_dim=1)
    op = hlo.ScatterOp([arr.ir.type], [arr.ir], hlo.concatenate(columns, 1) if nd > 1 else columns[0], [updates],
                       dnums)
    B.scalar_region(op.regions[0], H.elt_type(t), hlo.add)
    fl.write(arr, op.results[0], st)
    return f"`{fold.array}` scatter-added"
