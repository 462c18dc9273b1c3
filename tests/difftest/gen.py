"""Seeded random generation of well-typed, well-defined programs in jlhlo's Julia subset.

`generate(seed, features)` builds a `model.Program`: helper functions (scalar helpers with
branches and loops, mutating `f!` helpers, array helpers, generic functions with several methods,
structs with methods, closures, functions of one tuple/struct element and of whole arrays of
them), an entry `main` over random scalar and array arguments, its inputs and optionally a
gradient check. Every expression is built for a requested Julia type, so the program type-checks
by construction; well-definedness is by construction where cheap (indices
from loop variables over `eachindex`/`axes` or `mod(e, n) + 1`, divisors `mod(e, 5) + 1`, while
loops bounded by a counter, variables keeping one type) and otherwise checked by running the
reference, which discards programs that would throw or whose answer is fragile (`reference`).

The mix leans toward constructs that interact (mutation in loops in branches, early exits in
nested loops, broadcast user functions with control flow): that is where compilers break."""
from __future__ import annotations

import copy
from typing import Any, Callable

import numpy as np

from . import model as M
from .features import Features
from .gen_expr import (
    ELT_NAMES,
    Ctx,
    ExprGenerator,
    Generic,
    KwFn,
    Method,
    ValFn,
    VarInfo,
    aliases_input,
    call,
    convertible,
    float_typed,
    ilit,
    is_element,
    is_lazy,
    lit,
    number_paths,
    op,
    var,
    walk,
)
from .jtypes import BOOL, F32, F64, INT, Arr, CartIdx, Fn, JType, NTup, SArr, Scalar, Struct, Tup, arith_type

MAX_TRIP = 400            # iterations of the innermost body of a loop nest, at most
MAX_DEPTH = 3             # loop nesting


class Generator(ExprGenerator):
    """Statements, functions and whole programs on top of the expression productions."""

    # ------------------------------------------------------------------ statements
    def block(self, ctx: Ctx, budget: int) -> list[M.Stmt]:
        out: list[M.Stmt] = []
        while budget > 0:
            stmts, cost = self.stmt(ctx, budget)
            out += stmts
            budget -= max(cost, 1)
        return out

    def stmt(self, ctx: Ctx, budget: int) -> tuple[list[M.Stmt], int]:
        F = self.w
        in_loop = ctx.loop_depth > 0
        nested_ok = budget >= 2 and ctx.loop_depth < MAX_DEPTH
        opts: list[tuple[float, Callable[[], Any]]] = [
            (3, lambda: self.new_scalar(ctx)),
            (2, lambda: self.new_array(ctx)),
            (2.5, lambda: self.reassign(ctx)),
            (3, lambda: self.op_assign(ctx)),
            (F("index_assign", 2.5), lambda: self.index_assign(ctx, None)),
            (F("op_index_assign", 2), lambda: self.index_assign(ctx, self.pick(["+", "-", "*"]))),
            (F("dot_assign", 2), lambda: self.dot_assign(ctx)),
            (F("slice_assign", 1.5), lambda: self.slice_assign(ctx)),
            (F("views", 1.2) + F("view_fn", 1.2), lambda: self.view_stmt(ctx)),
            (F("alias"), lambda: self.alias_stmt(ctx)),
            (F("mutating_helper", 1.5), lambda: self.mutator_call(ctx)),
            (F("if", 2.5) if budget >= 2 else 0, lambda: self.if_stmt(ctx, budget)),
            (F("for_range", 1) if nested_ok else 0, lambda: self.for_stmt(ctx, budget)),
            (F("while", 1.5) if nested_ok and not ctx.grad else 0, lambda: self.while_stmt(ctx, budget)),
            (F("push_loops") if nested_ok else 0, lambda: self.push_loop(ctx)),
            (F("break", 1.5) if in_loop and not ctx.grad else 0, lambda: self.exit_stmt(ctx, M.Break())),
            (F("continue", 1.5) if in_loop else 0, lambda: self.exit_stmt(ctx, M.Continue())),
            (F("early_return", 1 + in_loop) if not (in_loop and ctx.grad) else 0,
             lambda: self.exit_stmt(ctx, self.return_stmt(ctx))),
            (F("tuples"), lambda: self.tuple_stmt(ctx)),
            (F("throws") if not ctx.grad else 0, lambda: self.throw_stmt(ctx)),
            (F("int_accumulator") if nested_ok and not ctx.grad else 0, lambda: self.accumulator_stmt(ctx, budget)),
            (F("fold_loops", 1.5) if nested_ok else 0, lambda: self.fold_loop_stmt(ctx)),
            (F("closures") if ctx.loop_depth == 0 else 0, lambda: self.closure_stmt(ctx, budget)),
            (F("structs") if self.struct_types else 0, lambda: self.struct_stmt(ctx)),
            (F("if_expr", 0.6) if budget >= 2 else 0, lambda: self.if_expr_stmt(ctx, budget)),
            (F("struct_arrays", 2.5), lambda: self.sa_stmt(ctx, budget)),
        ]
        out = self.first(opts)
        if out is None:
            return [self.new_scalar(ctx)[0][0]], 1
        return out

    def new_name(self, t: JType) -> str:
        if isinstance(t, Arr):
            return self.fid("A" if t.ndim >= 2 else "v")
        if isinstance(t, Tup):
            return self.fid("tp")
        if isinstance(t, Struct):
            return self.fid("p")
        if isinstance(t, Fn):
            return self.fid("h")
        return self.fid({"Int64": "k", "Bool": "c"}.get(t.name, "s"))

    def new_scalar(self, ctx: Ctx) -> tuple[list[M.Stmt], int]:
        t = self.scalar_type(allow_bool=True) if not ctx.grad else self.pick([F64, F64, INT])
        e = self.scalar(ctx, t, self.rng.randint(1, 3))
        name = self.new_name(t)
        ctx.declare(name, VarInfo(t, special=self.is_special(ctx, e)))
        return [M.Assign(name=name, value=e)], 1

    def new_array(self, ctx: Ctx) -> tuple[list[M.Stmt], int]:
        existing = ctx.find(lambda n, v: isinstance(v.t, Arr))
        if existing and self.chance(0.7):
            t = self.pick(existing)[1].t
            if self.chance(0.2):
                t = t.with_elt(self.array_elt())
        else:
            t = Arr(self.array_elt(), self.array_shape())
        if ctx.grad:
            t = t.with_elt(F64)
        name = self.new_name(t)
        if self.F.on("array_fns") and not ctx.grad and self.chance(0.12):
            same = [n for n, _ in ctx.of_type(t)]
            if same:                   # similar(x) is uninitialized: a full overwrite follows at once
                src = self.pick(same)
                value = self.array(ctx, t, 2)
                ctx.declare(name, VarInfo(t))
                return [M.SimilarAssign(name=name, like=var(src, t), value=value)], 2
        e = self.array(ctx, t, self.rng.randint(1, 3))
        views = False
        if self.F.on("views") and isinstance(e, M.Index) and any(isinstance(i, (M.Colon, M.RangeE)) for i in e.idxs) \
                and self.chance(0.4) and not ctx.grad:
            views = True
        info = VarInfo(t, special=self.is_special(ctx, e), contiguous=not views and not is_lazy(e),
                       owned=not views or not ctx.pure)
        if aliases_input(e) and ctx.pure:
            info.owned = False
        ctx.declare(name, info)
        return [M.Assign(name=name, value=e, views=views)], 1

    def assignable(self, ctx: Ctx, pred: Callable[[VarInfo], bool]) -> list[tuple[str, VarInfo]]:
        return ctx.find(lambda n, v: not v.readonly and pred(v))

    def reassign(self, ctx: Ctx) -> tuple[list[M.Stmt], int] | None:
        # without `array_rebinding`, arrays are not rebound inside loops (jlhlo rejects an array
        # changed in place and rebound in one loop while also reachable another way)
        rebind_arrays = self.F.on("array_rebinding") or ctx.loop_depth == 0
        cands = self.assignable(ctx, lambda v: isinstance(v.t, (Scalar, Tup)) or (isinstance(v.t, Arr) and rebind_arrays))
        if not cands:
            return None
        name, v = self.pick(cands)
        e = self.unaliased(self.expr(ctx, v.t, self.rng.randint(1, 3)))
        if ctx.loop_depth:             # jlhlo refuses to carry a view made in a loop out of it (README)
            e = _copied_views(e)
        if self.is_special(ctx, e):
            v.special = True
        if isinstance(v.t, Arr):
            v.contiguous = v.contiguous and not is_lazy(e)
            if ctx.pure and aliases_input(e):
                v.owned = False
        return [M.Assign(name=name, value=e)], 1

    def op_assign(self, ctx: Ctx) -> tuple[list[M.Stmt], int] | None:
        cands = self.assignable(ctx, lambda v: isinstance(v.t, Scalar) and v.t != BOOL)
        if not cands:
            return None
        name, v = self.pick(cands)
        o = self.pick(["+", "-", "*", "+"] + (["/"] if v.t.is_float else []))
        types = [x for x in (INT, F64, F32) if arith_type(o, v.t, x) == v.t and (x != F32 or self.F.on("float32"))]
        rhs_t = v.t if self.chance(0.6) else self.pick(types)
        e = self.scalar(ctx, rhs_t, self.rng.randint(1, 3))
        if o == "/" and ctx.grad:
            e = op(rhs_t, "+", call(rhs_t, "abs", e), ilit(1))
        if self.is_special(ctx, e):
            v.special = True
        return [M.OpAssign(name=name, op=o, value=e)], 1

    def mutable_arrays(self, ctx: Ctx, pred: Callable[[Arr], bool] = lambda t: True) -> list[tuple[str, VarInfo]]:
        return ctx.find(lambda n, v: isinstance(v.t, Arr) and v.t.elt != BOOL and pred(v.t)
                        and (v.owned or not ctx.pure))

    def index_assign(self, ctx: Ctx, o: str | None) -> tuple[list[M.Stmt], int] | None:
        arrays = self.mutable_arrays(ctx)
        if not arrays:
            return None
        name, v = self.pick(arrays)
        t: Arr = v.t
        idxs = self.indices_for(ctx, t, 2)
        if o is None:
            src = t.elt if self.chance(0.7) else self.pick([x for x in (INT, F64, F32) if convertible(t.elt, x)
                                                             and (x != F32 or self.F.on("float32"))])
        else:
            src = self.pick([x for x in (INT, F64, F32) if arith_type(o, t.elt, x) == t.elt
                             and (x != F32 or self.F.on("float32"))] or [t.elt])
        e = self.scalar(ctx, src, self.rng.randint(1, 3))
        if self.is_special(ctx, e):
            v.special = True
        return [M.IndexAssign(base=var(name, t), idxs=idxs, value=e, op=o)], 1

    def dot_assign(self, ctx: Ctx) -> tuple[list[M.Stmt], int] | None:
        arrays = self.mutable_arrays(ctx)
        if not arrays:
            return None
        name, v = self.pick(arrays)
        t: Arr = v.t
        o = self.pick([None, None, "+", "-", "*"])
        if self.F.on("at_dot") and self.chance(0.3 * self.F.w("at_dot")):
            value = self.macro_dot_value(ctx, t, 2)
            if o is not None and arith_type(o, t.elt, value.t.elt if isinstance(value.t, Arr) else value.t) != t.elt:
                o = None
            return [M.DotAssign(dest=var(name, t), value=value, op=o, macro=True)], 1
        rhs_t = self.dot_rhs_type(t, o)
        value = self.expr(ctx, rhs_t, self.rng.randint(1, 3))
        if self.is_special(ctx, value):
            v.special = True
        return [M.DotAssign(dest=var(name, t), value=value, op=o)], 1

    def dot_rhs_type(self, t: Arr, o: str | None) -> JType:
        """The right side of `dest .op= rhs`: dest's shape (or a scalar, or a broadcastable prefix)."""
        elt = t.elt
        if o is None and self.chance(0.2):
            elt = self.pick([x for x in (INT, F64, F32) if convertible(t.elt, x) and (x != F32 or self.F.on("float32"))])
        if o is not None:
            elt = self.pick([x for x in (INT, F64, F32) if arith_type(o, t.elt, x) == t.elt
                             and (x != F32 or self.F.on("float32"))] or [t.elt])
        r = self.rng.random()
        if r < 0.25:
            return elt
        if r < 0.4 and t.ndim >= 2 and self.F.on("bcast_align"):
            return Arr(elt, t.shape[: self.rng.randint(1, t.ndim - 1)])
        return Arr(elt, t.shape)

    def macro_dot_value(self, ctx: Ctx, t: Arr, depth: int) -> M.Expr:
        """An elementwise expression for `@. dest = value` (rendered without dots): operators and
        scalar functions over arrays of dest's shape and scalars."""
        def leaf() -> M.Expr:
            arrs = [n for n, _ in ctx.of_type(t)]
            if arrs and self.chance(0.6):
                return var(self.pick(arrs), t)
            return self.leaf(ctx, t.elt)

        def build(d: int) -> M.Expr:
            if d <= 0 or self.chance(0.3):
                return leaf()
            kind = self.rng.random()
            a, b = build(d - 1), build(d - 1)
            res_t = t if isinstance(a.t, Arr) or isinstance(b.t, Arr) else t.elt
            if kind < 0.6:
                return op(res_t, self.pick(["+", "-", "*"]), a, b, dot=True)
            if kind < 0.8 and t.elt.is_float:
                return call(res_t, self.pick(["abs", "sin", "tanh"]), a, dot=True)
            helpers = [f for f in self.scalar_helpers if len(f.params) == 1 and f.params[0].t == t.elt
                       and f.ret == t.elt]
            if helpers:
                f = self.pick(helpers)
                return call(res_t, f.name, a, dot=True, user=True, target=f.target)
            return call(res_t, self.pick(["max", "min"]), a, b, dot=True)
        e = build(depth)
        if not isinstance(e.t, Arr):
            e = op(t, "+", var(self.pick([n for n, _ in ctx.of_type(t)]), t), e, dot=True)
        return e

    def slice_assign(self, ctx: Ctx) -> tuple[list[M.Stmt], int] | None:
        arrays = self.mutable_arrays(ctx)
        if not arrays:
            return None
        name, v = self.pick(arrays)
        t: Arr = v.t
        idxs, shape = self.slice_indices(ctx, t)
        sub_t = Arr(t.elt, shape)
        o = self.pick([None, None, "+", "*"])
        rhs = self.dot_rhs_type(sub_t, o) if shape else t.elt
        value = self.expr(ctx, rhs, 2)
        views = self.F.on("views") and self.chance(0.2)
        return [M.DotAssign(dest=M.Index(t=sub_t, base=var(name, t), idxs=idxs), value=value, op=o, views=views)], 1

    def slice_indices(self, ctx: Ctx, t: Arr, allow_end: bool = True) -> tuple[list[M.Expr], tuple[int, ...]]:
        """Indices selecting a sub-block of t (at least one range or `:`), and its shape."""
        idxs: list[M.Expr] = []
        shape: list[int] = []
        ranged = self.rng.randrange(t.ndim)
        for d, n in enumerate(t.shape):
            if d == ranged or self.chance(0.4):
                L = self.rng.randint(1, n)
                idxs.append(self.vector_range(ctx, n, L, allow_end))
                shape.append(L)
            else:
                idxs.append(self.index_expr(ctx, n, 1, allow_end))
        return idxs, tuple(shape)

    def view_stmt(self, ctx: Ctx) -> tuple[list[M.Stmt], int] | None:
        """`w = view(A, ...)` (or `@views w = A[...]`) then a write through it: the write shows in A."""
        arrays = self.mutable_arrays(ctx)
        if not arrays or ctx.grad:
            return None
        name, v = self.pick(arrays)
        as_call = self.chance(self.F.w("view_fn") / (self.F.w("view_fn") + self.F.w("views")))
        idxs, shape = self.slice_indices(ctx, v.t, allow_end=not as_call)
        sub_t = Arr(v.t.elt, shape)
        w = self.new_name(sub_t)
        if as_call:
            stmt: M.Stmt = M.Assign(name=w, value=call(sub_t, "view", var(name, v.t), *idxs))
        else:
            stmt = M.Assign(name=w, value=M.Index(t=sub_t, base=var(name, v.t), idxs=idxs), views=True)
        ctx.declare(w, VarInfo(sub_t, contiguous=False, owned=v.owned))
        follow: list[M.Stmt] = []
        if self.chance(0.7):
            o = self.pick([None, "+", "*"])
            follow.append(M.DotAssign(dest=var(w, sub_t), value=self.expr(ctx, self.dot_rhs_type(sub_t, o), 2), op=o))
        return [stmt] + follow, 1 + len(follow)

    def alias_stmt(self, ctx: Ctx) -> tuple[list[M.Stmt], int] | None:
        """`y = x` then a write through y: x changes too."""
        arrays = self.mutable_arrays(ctx)
        if not arrays:
            return None
        name, v = self.pick(arrays)
        y = self.new_name(v.t)
        ctx.declare(y, VarInfo(v.t, contiguous=v.contiguous, owned=v.owned))
        write = M.IndexAssign(base=var(y, v.t), idxs=self.indices_for(ctx, v.t, 1), value=self.scalar(ctx, v.t.elt, 2))
        return [M.Assign(name=y, value=var(name, v.t)), write], 2

    def mutator_call(self, ctx: Ctx) -> tuple[list[M.Stmt], int] | None:
        for f in self.rng.sample(self.mutators, len(self.mutators)):
            arrays = [n for n, v in self.mutable_arrays(ctx, lambda t, f=f: t == f.params[0].t)]
            if arrays:
                target = var(self.pick(arrays), f.params[0].t)
                args = [target] + [self.expr(ctx, p.t, 2) for p in f.params[1:]]
                c = call(f.ret, f.name, *args, user=True, target=f.target)
                if self.chance(0.25):            # y = f!(x): f! returns x itself, so y aliases x
                    y = self.new_name(f.ret)
                    ctx.declare(y, VarInfo(f.ret, owned=ctx.lookup(target.name).owned))
                    return [M.Assign(name=y, value=c)], 1
                return [M.ExprStmt(value=c)], 1
        return None

    def if_stmt(self, ctx: Ctx, budget: int) -> tuple[list[M.Stmt], int]:
        inner = max(1, min(budget - 1, self.rng.randint(1, 5)))
        branches = []
        used = 1
        n_elseif = self.rng.randint(1, 2) if self.F.on("elseif") and self.chance(0.3 * self.F.w("elseif")) else 0
        for _ in range(1 + n_elseif):
            cond = self.bool_expr(ctx, self.rng.randint(1, 3))
            ctx.push()
            body = self.block(ctx, inner)
            ctx.pop()
            branches.append(M.Branch(cond=cond, body=body))
            used += inner
        orelse = None
        if self.chance(0.5):
            ctx.push()
            orelse = self.block(ctx, max(1, inner // 2))
            ctx.pop()
            used += max(1, inner // 2)
        return [M.If(branches=branches, orelse=orelse)], used

    def if_expr_stmt(self, ctx: Ctx, budget: int) -> tuple[list[M.Stmt], int]:
        """`y = if c; ...; a else ...; b end` (a new variable) or, mostly in loops, `t += if v > 0;
        v else 0.0 end` (t is not assigned inside); branches hold blocks of any statements. Printed
        over several lines or on one."""
        inner = max(1, min(budget - 1, self.rng.randint(1, 3)))
        block = self.chance(0.6)
        cands = self.assignable(ctx, lambda v: isinstance(v.t, Scalar) and v.t != BOOL)
        if cands and self.chance(0.7 if ctx.loop_depth else 0.25):
            name, v = self.pick(cands)
            o = self.pick(["+", "-", "*", "+"])
            types = [x for x in (INT, F64, F32) if arith_type(o, v.t, x) == v.t and (x != F32 or self.F.on("float32"))]
            rhs_t = v.t if self.chance(0.6) or not types else self.pick(types)
            was, v.readonly = v.readonly, True
            e = self.if_expr(ctx, rhs_t, 3, full=inner, block=block)
            # a closure made in a branch that captured it keeps it frozen (see closure_stmt)
            v.readonly = was or any(isinstance(x, (M.Lambda, M.LocalFunc)) and any(
                isinstance(y, M.Var) and y.name == name for y in walk(x)) for x in walk(e))
            if self.is_special(ctx, e):
                v.special = True
            if any(isinstance(x, (M.Return, M.Break, M.Continue)) for x in walk(e)):
                # `t += if c; ...; return v; ... end` is `t = t + (if ...)`: jlhlo refuses an exit inside
                # an `if` that is part of a larger expression (by design): the `if` gets a name first
                tmp = self.new_name(rhs_t)
                ctx.declare(tmp, VarInfo(rhs_t, special=self.is_special(ctx, e)))
                return [M.Assign(name=tmp, value=e), M.OpAssign(name=name, op=o, value=var(tmp, rhs_t))], inner + 2
            return [M.OpAssign(name=name, op=o, value=e)], inner + 1
        t = self.scalar_type(allow_bool=True) if not ctx.grad else F64
        e = self.if_expr(ctx, t, 3, full=inner, block=block)
        name = self.new_name(t)
        ctx.declare(name, VarInfo(t, special=self.is_special(ctx, e)))
        return [M.Assign(name=name, value=e)], inner + 1

    def final_return(self, ctx: Ctx, ret: JType) -> M.Return:
        """A function's last statement: `return e`, or an `if` expression (often without `return`:
        the function's value is its last expression's), or `return x[i] = v` / `return n += 2`."""
        if isinstance(ret, Scalar) and self.F.on("if_expr") and self.chance(0.25 * self.F.w("if_expr")):
            e = self.if_expr(ctx, ret, 2, full=self.rng.randint(0, 2), block=self.chance(0.7))
            return M.Return(value=e, implicit=self.chance(0.7))
        if isinstance(ret, Scalar) and self.F.on("return_assign") and self.chance(0.4 * self.F.w("return_assign")):
            e = self.return_assign(ctx, ret)
            if e is not None:
                return M.Return(value=e)
        return M.Return(value=self.unaliased(self.expr(ctx, ret, 2)))

    def loop_iter(self, ctx: Ctx) -> tuple[M.Expr, VarInfo, int] | None:
        """A for-loop iterator, the loop variable's info and the trip count (at most)."""
        F = self.w
        arrays = ctx.find(lambda n, v: isinstance(v.t, Arr))
        smalls = [(n, v) for n, v in ctx.of_type(INT) if v.small and v.bounds]

        def static_range() -> Any:
            a = self.rng.randint(0, 2)
            b = a + self.rng.randint(0, 4)
            return (M.RangeE(t=None, start=ilit(a), step=None, stop=ilit(b)),
                    VarInfo(INT, bounds=(a, b), readonly=True, small=True), b - a + 1)

        def step_range() -> Any:
            s = self.pick([2, 3, -1, -2])
            a, b = (self.rng.randint(1, 3), self.rng.randint(4, 7))
            if s < 0:
                a, b = b, a
            n = len(range(a, b + (1 if s > 0 else -1), s))
            vals = list(range(a, b + (1 if s > 0 else -1), s))
            return (M.RangeE(t=None, start=ilit(a), step=ilit(s), stop=ilit(b)),
                    VarInfo(INT, bounds=(min(vals), max(vals)), readonly=True, small=True), n)

        def runtime_range() -> Any:
            if not smalls:
                return None
            n, v = self.pick(smalls)
            lo, hi = v.bounds
            if self.chance(0.6):
                return (M.RangeE(t=None, start=ilit(1), step=None, stop=var(n, INT)),
                        VarInfo(INT, bounds=(1, max(hi, 1)), readonly=True, small=True), max(hi, 0))
            return (M.RangeE(t=None, start=var(n, INT), step=ilit(-1), stop=ilit(1)),
                    VarInfo(INT, bounds=(1, max(hi, 1)), readonly=True, small=True), max(hi, 0))

        def empty_range() -> Any:
            if smalls and self.chance(0.6):
                n, v = self.pick(smalls)
                stop = self.rng.randint(-1, 1)
                return (M.RangeE(t=None, start=var(n, INT), step=None, stop=ilit(stop)),
                        VarInfo(INT, bounds=(v.bounds[0], max(v.bounds[0], stop)), readonly=True, small=True),
                        max(stop - v.bounds[0] + 1, 0))
            return (M.RangeE(t=None, start=ilit(3), step=None, stop=ilit(2)),
                    VarInfo(INT, bounds=(2, 3), readonly=True, small=True), 0)

        def over_array() -> Any:
            if not arrays:
                return None
            n, v = self.pick(arrays)
            return var(n, v.t), VarInfo(v.t.elt, readonly=True, special=v.special), v.t.length

        def over_eachindex() -> Any:
            if not arrays:
                return None
            n, v = self.pick(arrays)
            return (call(None, "eachindex", var(n, v.t)),
                    VarInfo(INT, bounds=(1, v.t.length), readonly=True, small=True), v.t.length)

        def over_axes() -> Any:
            multi = [(n, v) for n, v in arrays if v.t.ndim >= 1]
            if not multi:
                return None
            n, v = self.pick(multi)
            d = self.rng.randint(1, v.t.ndim)
            return (call(None, "axes", var(n, v.t), ilit(d)),
                    VarInfo(INT, bounds=(1, v.t.shape[d - 1]), readonly=True, small=True), v.t.shape[d - 1])

        def over_tuple() -> Any:
            t = self.pick([F64, INT])
            k = self.rng.randint(2, 4)
            items = [self.scalar(ctx, t, 1) for _ in range(k)]
            return M.TupleE(t=Tup((t,) * k), items=items), VarInfo(t, readonly=True), k

        def over_cartesian() -> Any:
            if not arrays:
                return None
            n, v = self.pick(arrays)
            src = var(n, v.t) if self.chance(0.8) else call(Tup((INT,) * v.t.ndim), "size", var(n, v.t))
            return call(None, "CartesianIndices", src), VarInfo(CartIdx(v.t.shape), readonly=True), v.t.length

        def float_range() -> Any:
            a = self.pick([0.0, -1.0, 0.5])
            s = self.pick([0.5, 0.25, -0.5])
            n = self.rng.randint(1, 5)
            b = a + s * (n - 1)
            return (M.RangeE(t=None, start=lit(F64, a), step=lit(F64, s), stop=lit(F64, b)),
                    VarInfo(F64, readonly=True), n)

        grad = ctx.grad
        opts = [
            (F("for_range", 2), static_range),
            (F("for_step"), step_range),
            (F("for_runtime") if not grad else 0, runtime_range),
            (F("for_empty") if not grad else 0, empty_range),
            (F("for_array"), over_array),
            (F("for_eachindex"), over_eachindex),
            (F("for_axes"), over_axes),
            (F("for_tuple"), over_tuple),
            (F("for_float_range"), float_range),
            (F("cartesian", 2), over_cartesian),
        ]
        return self.first(opts)

    def over_pairs(self, ctx: Ctx) -> tuple[M.Expr, list[tuple[str, VarInfo]], int] | None:
        """`for (i, v) in pairs(x)` over a vector: i its index, v the element (read as the
        iteration starts)."""
        vecs = ctx.find(lambda n, v: isinstance(v.t, Arr) and v.t.ndim == 1)
        if not vecs:
            return None
        n, v = self.pick(vecs)
        names = [(self.fid("i"), VarInfo(INT, bounds=(1, v.t.length), readonly=True, small=True)),
                 (self.fid("a"), VarInfo(v.t.elt, readonly=True, special=v.special))]
        return call(None, "pairs", var(n, v.t)), names, v.t.length

    def for_stmt(self, ctx: Ctx, budget: int, first: Callable[[Ctx], list[M.Stmt]] | None = None,
                 inner: int | None = None) -> tuple[list[M.Stmt], int] | None:
        """A `for` loop; `first(ctx)` makes the body's first statements (in the body's scope)."""
        pairs = self.over_pairs(ctx) if self.F.on("pairs") and self.chance(0.3 * self.F.w("pairs")) else None
        if pairs is not None:
            it, names, trip = pairs
            name = "(" + ", ".join(n for n, _ in names) + ")"
        else:
            got = self.loop_iter(ctx)
            if got is None:
                return None
            it, info, trip = got
            name = self.fid("i" if info.t == INT else "I" if isinstance(info.t, CartIdx) else "a")
            names = [(name, info)]
        if ctx.trip * max(trip, 1) > MAX_TRIP:
            return None
        inner = inner or max(1, min(budget - 1, self.rng.randint(1, 5)))
        ctx.push()
        for n, info in names:
            ctx.declare(n, info)
        ctx.loop_depth += 1
        saved = ctx.trip
        ctx.trip *= max(trip, 1)
        body = (first(ctx) if first else []) + self.block(ctx, inner)
        ctx.trip = saved
        ctx.loop_depth -= 1
        ctx.pop()
        return [M.For(var=name, iter=it, body=body)], inner + 1

    def push_loop(self, ctx: Ctx) -> tuple[list[M.Stmt], int] | None:
        """`v = T[]; for x in it; push!(v, value); end` over an iterator whose length is known when
        compiling (frontend/growing.py allocates v at it): a Vector{T} of that length."""
        got = self.loop_iter(ctx)
        if got is None:
            return None
        it, info, trip = got
        runtime = isinstance(it, M.RangeE) and not all(isinstance(e, M.Lit) for e in (it.start, it.stop, it.step)
                                                       if e is not None)
        if runtime or trip < 1 or ctx.trip * trip > MAX_TRIP:
            return None
        elt = F64 if ctx.grad else self.array_elt()
        name, x = self.fid("v"), self.fid("i" if info.t == INT else "a")
        ctx.push()
        ctx.declare(x, info)
        ctx.loop_depth += 1
        value = self.scalar(ctx, elt, 2)
        ctx.loop_depth -= 1
        ctx.pop()
        ctx.declare(name, VarInfo(Arr(elt, (trip,)), special=self.is_special(ctx, value)))
        return [M.PushLoop(name=name, elt=elt.name, var=x, iter=it, value=value)], 2

    def accumulator_stmt(self, ctx: Ctx, budget: int) -> tuple[list[M.Stmt], int] | None:
        """`s = 0; for ...; s += <float>; ...; end`: in Julia s is an Int until the first iteration
        ends (jlhlo runs that iteration before the loop), a Union if the loop may not run."""
        t = F32 if self.F.on("float32") and self.chance(0.3) else F64
        acc = self.new_name(t)
        update: list[M.Expr] = []

        def first(body_ctx: Ctx) -> list[M.Stmt]:
            update.append(self.scalar(body_ctx, t, 2))
            return [M.OpAssign(name=acc, op=self.pick(["+", "-"]), value=update[0])]
        got = self.for_stmt(ctx, budget, first, inner=max(1, min(budget - 2, self.rng.randint(1, 3))))
        if got is None:
            return None
        (loop,), cost = got
        r = loop.iter
        if isinstance(r, M.RangeE) and isinstance(r.start, M.Lit) and isinstance(r.stop, M.Lit) \
                and r.step is None and r.stop.value < r.start.value:
            return None                # a loop that never runs leaves s an Int: `return (.., s)` would be a Union
        loop.accumulators = [(acc, t.name)]
        ctx.declare(acc, VarInfo(t, special=self.is_special(ctx, update[0])))
        return [M.Assign(name=acc, value=ilit(0)), loop], cost + 1

    def fold_loop_stmt(self, ctx: Ctx) -> tuple[list[M.Stmt], int] | None:
        """A loop that only folds each iteration's value into one variable or array — what jlhlo
        lowers as a reduction: `s += e`, `s = max(s, e)`, `if e > best; best = e; at = i; end`,
        or `y[i] += e(i, j)` over a nest whose other loop is summed."""
        kind = self.pick(["reduce", "reduce", "select", "accumulate", "scatter", "per_lane_loop"])
        if kind == "accumulate":
            return self.accumulate_loop(ctx)
        if kind == "per_lane_loop":
            return self.per_lane_loop(ctx)
        got = self.loop_iter(ctx)
        if got is None:
            return None
        it, info, trip = got
        if ctx.trip * max(trip, 1) > MAX_TRIP:
            return None
        t = self.pick([F64, F64, INT] + ([F32] if self.F.on("float32") else []))
        i = self.fid("i" if info.t == INT else "a")
        acc = self.new_name(t)
        pre = [M.Assign(name=acc, value=self.scalar(ctx, t, 1))]
        ctx.push()
        ctx.declare(i, info)
        ctx.loop_depth += 1
        e = self.scalar(ctx, t, self.rng.randint(1, 3))
        if kind == "scatter":           # a histogram: h[computed index] += e
            bins = self.rng.randint(1, 6)
            h_t = Arr(t, (bins,))
            h = self.fid("v")
            k = op(INT, "+", call(INT, "mod", self.scalar(ctx, INT, 2), ilit(bins)), ilit(1))
            body = [M.IndexAssign(base=var(h, h_t), idxs=[k], value=e, op=self.pick(["+", "+", "-"]))]
            ctx.loop_depth -= 1
            ctx.pop()
            make = call(h_t, "zeros", *([M.TypeLit(t=None, of=t)] if t != F64 else []), ilit(bins))
            ctx.declare(h, VarInfo(h_t))
            return [M.Assign(name=h, value=make), M.For(var=i, iter=it, body=body)], 2
        if kind == "reduce":
            o = self.pick(["+", "-", "max", "min"] + (["*"] if trip <= 8 else []))
            if o in ("max", "min"):
                args = [var(acc, t), e] if self.chance(0.5) else [e, var(acc, t)]
                body: list[M.Stmt] = [M.Assign(name=acc, value=call(t, o, *args))]
            elif self.chance(0.7):
                body = [M.OpAssign(name=acc, op=o, value=e)]
            else:
                body = [M.Assign(name=acc, value=op(t, o, var(acc, t), e))]
        else:
            at = self.fid("k")
            pre.append(M.Assign(name=at, value=ilit(0)))
            cmp = self.pick([">", ">=", "<", "<="])
            cond = op(BOOL, cmp, e, var(acc, t)) if self.chance(0.7) else \
                op(BOOL, {">": "<", "<": ">", ">=": "<=", "<=": ">="}[cmp], var(acc, t), e)
            mark = var(i, INT) if info.t == INT else ilit(self.rng.randint(1, 9))
            body = [M.If(branches=[M.Branch(cond=cond, body=[M.Assign(name=acc, value=e),
                                                              M.Assign(name=at, value=mark)])])]
        ctx.loop_depth -= 1
        ctx.pop()
        ctx.declare(acc, VarInfo(t, special=self.is_special(ctx, e)))
        if kind == "select":
            ctx.declare(pre[1].name, VarInfo(INT))
        return pre + [M.For(var=i, iter=it, body=body)], 2

    def per_lane_loop(self, ctx: Ctx) -> tuple[list[M.Stmt], int] | None:
        """`for i in eachindex(x); p = e0; for k in r; p = p * e1 + e2; end; y[i] = p; end`: an
        independent outer loop whose iterations each run a loop of their own (Horner's rule)."""
        vecs = ctx.find(lambda n, v: isinstance(v.t, Arr) and v.t.ndim == 1 and v.t.elt in (F64, F32))
        if not vecs:
            return None
        name, v = self.pick(vecs)
        inner_trip = self.rng.randint(1, 6)
        if ctx.trip * v.t.length * inner_trip > MAX_TRIP:
            return None
        t = v.t.elt
        y, i, k, p = self.fid("v"), self.fid("i"), self.fid("i"), self.new_name(t)
        ctx.push()
        ctx.declare(i, VarInfo(INT, bounds=(1, v.t.length), readonly=True, small=True))
        ctx.loop_depth += 1
        start = self.scalar(ctx, t, 2)
        ctx.declare(p, VarInfo(t))
        ctx.push()
        ctx.declare(k, VarInfo(INT, bounds=(1, inner_trip), readonly=True, small=True))
        ctx.loop_depth += 1
        step = self.scalar(ctx, t, 2)
        ctx.loop_depth -= 2
        ctx.pop()
        ctx.pop()
        inner = M.For(var=k, iter=M.RangeE(t=None, start=ilit(1), step=None, stop=ilit(inner_trip)),
                      body=[M.Assign(name=p, value=op(t, "+", op(t, "*", var(p, t), lit(t, 0.5)), step))])
        body = [M.Assign(name=p, value=start), inner,
                M.IndexAssign(base=var(y, v.t), idxs=[var(i, INT)], value=var(p, t))]
        ctx.declare(y, VarInfo(v.t))
        return [M.Assign(name=y, value=call(v.t, "zeros", *([M.TypeLit(t=None, of=t)] if t != F64 else []),
                                            ilit(v.t.length))),
                M.For(var=i, iter=call(None, "eachindex", var(name, v.t)), body=body)], 3

    def accumulate_loop(self, ctx: Ctx) -> tuple[list[M.Stmt], int] | None:
        """`y = zeros(m); for j in axes(A, 2), i in axes(A, 1); y[i] += e; end` (either order)."""
        mats = ctx.find(lambda n, v: isinstance(v.t, Arr) and v.t.ndim == 2)
        if not mats:
            return None
        name, v = self.pick(mats)
        m, n = v.t.shape
        if ctx.trip * m * n > MAX_TRIP:
            return None
        keep = self.rng.randint(1, 2)              # y runs along A's dimension `keep`
        t = F64 if not self.F.on("float32") or self.chance(0.7) else F32
        y = self.fid("v")
        y_t = Arr(t, (v.t.shape[keep - 1],))
        i, j = self.fid("i"), self.fid("i")
        ctx.push()
        ctx.declare(i, VarInfo(INT, bounds=(1, m), readonly=True, small=True))
        ctx.declare(j, VarInfo(INT, bounds=(1, n), readonly=True, small=True))
        ctx.loop_depth += 2
        e = self.scalar(ctx, t, self.rng.randint(1, 3))
        ctx.loop_depth -= 2
        ctx.pop()
        kept = i if keep == 1 else j
        update = M.IndexAssign(base=var(y, y_t), idxs=[var(kept, INT)], value=e, op=self.pick(["+", "+", "-"]))
        outer, inner = ((j, 2), (i, 1)) if self.chance(0.7) else ((i, 1), (j, 2))
        loop = M.For(var=outer[0], iter=call(None, "axes", var(name, v.t), ilit(outer[1])),
                     body=[M.For(var=inner[0], iter=call(None, "axes", var(name, v.t), ilit(inner[1])), body=[update])])
        make = M.Assign(name=y, value=call(y_t, "zeros", *([M.TypeLit(t=None, of=t)] if t == F32 else []),
                                           ilit(y_t.shape[0])))
        ctx.declare(y, VarInfo(y_t))
        return [make, loop], 3

    def while_stmt(self, ctx: Ctx, budget: int) -> tuple[list[M.Stmt], int] | None:
        """`w = 0; while w < K && cond; w += 1; ...; end`: the counter bounds the trip count and is
        advanced first, so `continue` cannot skip it."""
        bound = self.rng.randint(1, 5)
        if ctx.trip * bound > MAX_TRIP:
            return None
        w = self.fid("w")
        ctx.declare(w, VarInfo(INT, readonly=True, bounds=(0, bound)))
        cond: M.Expr = op(BOOL, "<", var(w, INT), ilit(bound))
        if self.chance(0.6):
            extra = self.bool_expr(ctx, 2)
            cond = op(BOOL, "&&", cond, extra) if self.chance(0.7) else op(BOOL, "&&", extra, cond)
        inner = max(1, min(budget - 1, self.rng.randint(1, 5)))
        ctx.push()
        ctx.loop_depth += 1
        saved = ctx.trip
        ctx.trip *= bound
        body = [M.OpAssign(name=w, op="+", value=ilit(1))] + self.block(ctx, inner)
        ctx.trip = saved
        ctx.loop_depth -= 1
        ctx.pop()
        return [M.Assign(name=w, value=ilit(0)), M.While(cond=cond, body=body)], inner + 2

    def exit_stmt(self, ctx: Ctx, s: M.Stmt) -> tuple[list[M.Stmt], int]:
        """break / continue / return, usually under a condition."""
        if self.chance(0.85):
            return [M.If(branches=[M.Branch(cond=self.bool_expr(ctx, 2), body=[s])])], 1
        return [s], 1

    def throw_stmt(self, ctx: Ctx) -> tuple[list[M.Stmt], int]:
        """A guard; two conditions joined by `&&` make it fire less often than not, so that most
        programs with one still run to the end (each program that throws is compiled on its own)."""
        cond = M.Op(t=BOOL, op="&&", args=[self.bool_expr(ctx, 2), self.bool_expr(ctx, 1)])
        form = self.pick(["if_error", "if_throw", "and", "or", "assert"])
        return [M.Throw(cond=cond, form=form, message=f"guard {self.fid('g')}")], 1

    def return_stmt(self, ctx: Ctx) -> M.Return:
        if ctx.ret_value is not None:
            return M.Return(value=ctx.ret_value)
        if isinstance(ctx.ret, Scalar) and self.F.on("return_assign") and self.chance(0.3 * self.F.w("return_assign")):
            e = self.return_assign(ctx, ctx.ret)
            if e is not None:
                return M.Return(value=e)
        value = self.unaliased(self.expr(ctx, ctx.ret, 2))
        return M.Return(value=_copied_views(value) if ctx.loop_depth else value)

    def unaliased(self, e: M.Expr) -> M.Expr:
        """Without `array_rebinding`, an array expression that may alias another array (a variable,
        a view, a ternary of arrays) is copied where it would make one name (or a function's result)
        refer to different arrays on different paths."""
        if self.F.on("array_rebinding"):
            return e
        if isinstance(e, M.TupleE):
            return M.TupleE(t=e.t, items=[self.unaliased(x) for x in e.items])
        if isinstance(e.t, Arr) and aliases_input(e):
            return call(e.t, "copy", e)
        return e

    def tuple_stmt(self, ctx: Ctx) -> tuple[list[M.Stmt], int] | None:
        if self.F.on("splat") and self.chance(0.3 * self.F.w("splat")):
            got = self.splat_tuple(ctx)
            if got is not None:
                return got
        kind = self.rng.random()
        tups = ctx.find(lambda n, v: isinstance(v.t, Tup))
        if kind < 0.4 or not tups:
            k = self.rng.randint(2, 3)
            ts = tuple(self.scalar_type() for _ in range(k)) if self.chance(0.6) else (self.scalar_type(),) * k
            name = self.new_name(Tup(ts))
            e = M.TupleE(t=Tup(ts), items=[self.scalar(ctx, t, 2) for t in ts])
            ctx.declare(name, VarInfo(Tup(ts)))
            return [M.Assign(name=name, value=e)], 1
        if kind < 0.75:
            name, v = self.pick(tups)
            names = [self.new_name(t) for t in v.t.items]
            for n, t in zip(names, v.t.items):
                ctx.declare(n, VarInfo(t, special=v.special))
            return [M.TupleAssign(names=names, value=var(name, v.t))], 1
        pairs = {}
        for n, v in self.assignable(ctx, lambda v: isinstance(v.t, Scalar)):
            pairs.setdefault(v.t, []).append(n)
        swappable = [ns for ns in pairs.values() if len(ns) >= 2]
        if not swappable:
            return None
        a, b = self.rng.sample(self.pick(swappable), 2)
        t = ctx.lookup(a).t
        return [M.TupleAssign(names=[a, b], value=M.TupleE(t=Tup((t, t)), items=[var(b, t), var(a, t)]))], 1

    def splat_tuple(self, ctx: Ctx) -> tuple[list[M.Stmt], int] | None:
        """`tp = (v...,)` from an array of at most 6 elements, or `tp = (tq..., s)`."""
        srcs = ctx.find(lambda n, v: (isinstance(v.t, Arr) and v.t.length <= 6) or (
            isinstance(v.t, Tup) and len(v.t.items) <= 3))
        if not srcs:
            return None
        n, v = self.pick(srcs)
        items: list[M.Expr] = [M.Splat(e=var(n, v.t))]
        types = (v.t.elt,) * v.t.length if isinstance(v.t, Arr) else v.t.items
        if isinstance(v.t, Tup) or self.chance(0.3):
            extra_t = self.scalar_type()
            extra = self.scalar(ctx, extra_t, 2)
            items, types = (items + [extra], types + (extra_t,)) if self.chance(0.6) else (
                [extra] + items, (extra_t,) + types)
        t = Tup(types)
        name = self.new_name(t)
        ctx.declare(name, VarInfo(t, special=v.special))
        return [M.Assign(name=name, value=M.TupleE(t=t, items=items))], 1

    def closure_stmt(self, ctx: Ctx, budget: int) -> tuple[list[M.Stmt], int] | None:
        """`h = u -> expr` or a local `function h(u) ... end`, capturing variables in scope; captured
        variables are frozen afterwards unless `boxed_capture` is on (then the closure sees the
        later value, as Julia's boxed captures do)."""
        t = self.pick([F64, F64, INT] + ([F32] if self.F.on("float32") else []))
        name = self.new_name(Fn((t,), t))
        p = self.fid("u")
        before = {n for n, _ in ctx.find(lambda n, v: True)}
        if self.chance(0.6) or budget < 3:
            ctx.push()
            ctx.declare(p, VarInfo(t, readonly=True))
            body = self.scalar(ctx, t, 3)
            ctx.pop()
            stmt: M.Stmt = M.Assign(name=name, value=M.Lambda(t=Fn((t,), t), params=[p], body=body))
            captured = {n.name for n in walk(body) if isinstance(n, M.Var)} & before
            cost = 1
        else:
            inner = Ctx(t, pure=True, grad=ctx.grad)
            inner.scopes = [dict(s) for s in ctx.scopes] + [{}]
            for s in inner.scopes[:-1]:
                for n, v in list(s.items()):
                    s[n] = VarInfo(v.t, bounds=v.bounds, readonly=True, small=v.small, special=v.special,
                                   contiguous=v.contiguous, owned=False)
            inner.declare(p, VarInfo(t))
            n_stmts = self.rng.randint(1, 3)
            fbody = self.block(inner, n_stmts) + [self.final_return(inner, t)]
            fdef = M.FuncDef(name=name, params=[M.Param(name=p, t=t, annot=None)], body=fbody, ret=t, target=name)
            stmt = M.LocalFunc(fdef=fdef)
            captured = {n.name for s in fbody for n in walk(s) if isinstance(n, M.Var)} & before
            cost = n_stmts + 1
        if not (self.F.on("boxed_capture") and self.chance(0.5)):
            for n in captured:
                ctx.lookup(n).readonly = True
        ctx.declare(name, VarInfo(Fn((t,), t), readonly=True))
        return [stmt], cost

    def struct_stmt(self, ctx: Ctx) -> tuple[list[M.Stmt], int]:
        st = self.pick(self.struct_types)
        name = self.new_name(st)
        e = self.construct(ctx, st, 2)
        ctx.declare(name, VarInfo(st, readonly=self.chance(0.5)))
        return [M.Assign(name=name, value=e)], 1

    # ------------------------------------------------------------------ arrays of tuples and structs
    def sa_stmt(self, ctx: Ctx, budget: int) -> tuple[list[M.Stmt], int] | None:
        """Arrays of tuples/structs as statements: a new one (built, or allocated and filled in a
        loop), an element written (also through an alias), a loop over the elements, an element
        destructured, the array rebuilt from itself step by step, or rebound."""
        if ctx.grad:
            return None
        writable = self.sa_writable(ctx)
        nested_ok = budget >= 2 and ctx.loop_depth < MAX_DEPTH
        opts: list[tuple[float, Callable[[], Any]]] = [
            (3, lambda: self.sa_new(ctx)),
            (1, lambda: self.sa_fill_loop(ctx)),
            (3 if writable else 0, lambda: self.sa_write(ctx, writable)),
            (1.5 if writable else 0, lambda: self.sa_alias(ctx, writable)),
            (1.5 if writable and self.sa_mutators else 0, lambda: self.sa_mutator_call(ctx, writable)),
            (2 if nested_ok else 0, lambda: self.sa_for(ctx, budget)),
            (1, lambda: self.sa_destructure(ctx)),
            (1 if nested_ok else 0, lambda: self.sa_steps(ctx)),
            (1, lambda: self.sa_rebind(ctx)),
        ]
        return self.first(opts)

    def sa_writable(self, ctx: Ctx) -> list[tuple[str, VarInfo]]:
        return [(n, v) for n, v in self.sa_vars(ctx) if v.owned or not ctx.pure]

    def sa_new(self, ctx: Ctx) -> tuple[list[M.Stmt], int]:
        t = SArr(self.sa_elt(), self.sa_size(ctx))
        e = self.sa_array(ctx, t, self.rng.randint(1, 3))
        name = self.fid("ps")
        # `qs = ps` (or `c ? ps : rs`): one array under two names (which a helper may not own)
        owned = not aliases_input(e) or not ctx.pure
        ctx.declare(name, VarInfo(t, special=self.is_special(ctx, e), owned=owned))
        return [M.Assign(name=name, value=e)], 1

    def sa_fill_loop(self, ctx: Ctx) -> tuple[list[M.Stmt], int] | None:
        """`ps = Vector{P}(undef, n)` (or `similar(qs)`), then every element written in a loop."""
        likes = self.sa_vars(ctx)
        if likes and self.chance(0.35):
            src, v = self.pick(likes)
            t: SArr = v.t
            alloc: M.Expr = call(t, "similar", var(src, t))
        else:
            t = SArr(self.sa_elt(), self.sa_size(ctx))
            same_len = ctx.find(lambda n, v: isinstance(v.t, Arr) and v.t.ndim == 1 and v.t.shape[0] == t.n)
            n: M.Expr = ilit(t.n)
            if same_len and self.chance(0.4):
                x, xv = self.pick(same_len)
                n = call(INT, "length", var(x, xv.t))
            alloc = M.UndefArray(t=t, n=n)
        if ctx.trip * t.n > MAX_TRIP:
            return None
        name, i = self.fid("ps"), self.fid("i")
        ctx.push()
        ctx.declare(i, VarInfo(INT, bounds=(1, t.n), readonly=True, small=True))
        value = self.store_value(ctx, t.elt, 2, self.index_parts(ctx, i, t.n))
        ctx.pop()
        ctx.declare(name, VarInfo(t, special=self.is_special(ctx, value)))
        return [M.FillLoop(name=name, alloc=alloc, var=i, value=value)], 2

    def sa_write(self, ctx: Ctx, writable: list[tuple[str, VarInfo]]) -> tuple[list[M.Stmt], int]:
        """`ps[i] = v` (v converted to the element type), often an update of that element:
        `ps[i] = (ps[i][1] + d, ps[i][2])`."""
        name, v = self.pick(writable)
        idx = self.index_expr(ctx, v.t.n, 2)
        parts = None
        if self.chance(0.5):
            old = M.Index(t=v.t.elt, base=var(name, v.t), idxs=[idx])
            parts = [(pt, lambda path=path: self.at_path(copy.deepcopy(old), path)) for path, pt in number_paths(v.t.elt)]
        value = self.store_value(ctx, v.t.elt, 2, parts)
        if self.is_special(ctx, value):
            v.special = True
        return [M.IndexAssign(base=var(name, v.t), idxs=[copy.deepcopy(idx)], value=value)], 1

    def sa_alias(self, ctx: Ctx, writable: list[tuple[str, VarInfo]]) -> tuple[list[M.Stmt], int]:
        """`qs = ps` (or `qs = copy(ps)`) then a write through qs: ps sees it (not a copy's)."""
        name, v = self.pick(writable)
        q = self.fid("qs")
        src: M.Expr = var(name, v.t) if self.chance(0.6) else call(v.t, "copy", var(name, v.t))
        ctx.declare(q, VarInfo(v.t, owned=v.owned or not isinstance(src, M.Var), special=v.special))
        write = M.IndexAssign(base=var(q, v.t), idxs=[self.index_expr(ctx, v.t.n, 1)],
                              value=self.store_value(ctx, v.t.elt, 2))
        return [M.Assign(name=q, value=src), write], 2

    def sa_mutator_call(self, ctx: Ctx, writable: list[tuple[str, VarInfo]]) -> tuple[list[M.Stmt], int] | None:
        """`h!(ps, d)`, or `qs = h!(ps, d)` (h! returns ps itself: qs aliases it)."""
        for f in self.rng.sample(self.sa_mutators, len(self.sa_mutators)):
            arrs = [(n, v) for n, v in writable if v.t == f.ret]
            if arrs:
                name, v = self.pick(arrs)
                c = call(f.ret, f.name, var(name, v.t), *[self.scalar(ctx, p.t, 2) for p in f.params[1:]],
                         user=True, target=f.target)
                v.special = v.special or self.is_special(ctx, c)
                if self.chance(0.3):
                    q = self.fid("qs")
                    ctx.declare(q, VarInfo(v.t, owned=v.owned, special=v.special))
                    return [M.Assign(name=q, value=c)], 1
                return [M.ExprStmt(value=c)], 1
        return None

    def sa_for(self, ctx: Ctx, budget: int) -> tuple[list[M.Stmt], int] | None:
        """`for p in ps`, `for (a, b) in ps`, `for (i, p) in enumerate(ps)` with any body (which may
        write ps: each element is read as its iteration starts), or `for i in eachindex(ps)`
        updating each element first."""
        arrs = self.sa_vars(ctx)
        if not arrs:
            return None
        name, v = self.pick(arrs)
        if ctx.trip * v.t.n > MAX_TRIP:
            return None
        inner = max(1, min(budget - 1, self.rng.randint(1, 4)))
        ctx.push()
        first: list[M.Stmt] = []
        if (v.owned or not ctx.pure) and self.chance(0.3):
            i = self.fid("i")
            ctx.declare(i, VarInfo(INT, bounds=(1, v.t.n), readonly=True, small=True))
            pattern, it = i, call(None, "eachindex", var(name, v.t))
            old = M.Index(t=v.t.elt, base=var(name, v.t), idxs=[var(i, INT)])
            parts = [(pt, lambda path=path: self.at_path(copy.deepcopy(old), path)) for path, pt in number_paths(v.t.elt)]
            first = [M.IndexAssign(base=var(name, v.t), idxs=[var(i, INT)], value=self.store_value(ctx, v.t.elt, 2, parts))]
        else:
            pattern, names, it = self.sa_binding(ctx, name, v)
            accs = self.assignable(ctx, lambda a: isinstance(a.t, Scalar) and a.t != BOOL)
            for n, info in names:
                ctx.declare(n, info)
            if accs and self.chance(0.7):          # `s += a * b`: the elements reach a variable outside
                acc, a = self.pick(accs)
                e = self.from_parts(ctx, self.parts_of(names), a.t, 2)
                a.special = a.special or self.is_special(ctx, e)
                first = [M.OpAssign(name=acc, op=self.pick(["+", "+", "-"]), value=e)]
        ctx.loop_depth += 1
        saved = ctx.trip
        ctx.trip *= v.t.n
        body = first + self.block(ctx, inner)
        ctx.trip = saved
        ctx.loop_depth -= 1
        ctx.pop()
        return [M.For(var=pattern, iter=it, body=body)], inner + 1

    def sa_destructure(self, ctx: Ctx) -> tuple[list[M.Stmt], int] | None:
        """`a, b = ps[k]`, `(lo, hi), w = first(ps)`: tuples and named tuples iterate."""
        srcs = self.sa_vars(ctx, lambda t: isinstance(t.elt, (Tup, NTup)))
        if not srcs:
            return None
        name, v = self.pick(srcs)
        value = self.element(ctx, v.t.elt, 2)
        names: list[tuple[str, VarInfo]] = []
        info = VarInfo(v.t.elt, special=v.special)
        targets = [self.binding_pattern(x, names, info) for x in v.t.elt.items]
        for n, ninfo in names:
            ctx.declare(n, ninfo)
        return [M.TupleAssign(names=targets, value=value)], 1

    def sa_steps(self, ctx: Ctx) -> tuple[list[M.Stmt], int] | None:
        """`ps = ...; for k in 1:K; ps = f.(ps, d); end`: an array rebuilt from itself each step
        (`advance.(ps, 0.1)`, `[(b, a) for (a, b) in ps]`, `map(p -> ..., ps)`), as a simulation
        does; sometimes with an element written in place too."""
        t = SArr(self.sa_elt(), self.sa_size(ctx))
        steps = self.rng.randint(1, 4)
        if ctx.trip * steps * t.n > MAX_TRIP:
            return None
        make = self.sa_array(ctx, t, 2)
        if aliases_input(make):
            make = call(t, "copy", make)         # a new array: no other name reaches the one rebound
        name, k = self.fid("ps"), self.fid("k")
        info = VarInfo(t, special=self.is_special(ctx, make))
        ctx.declare(name, info)
        ctx.push()
        ctx.declare(k, VarInfo(INT, bounds=(1, steps), readonly=True, small=True))
        ctx.loop_depth += 1
        saved = ctx.trip
        ctx.trip *= steps
        step = self.sa_map(ctx, t, 2, (name, info)) if self.chance(0.8) else call(t, "reverse", var(name, t))
        body: list[M.Stmt] = [M.Assign(name=name, value=step)]
        if self.chance(0.4):
            body.append(M.IndexAssign(base=var(name, t), idxs=[self.index_expr(ctx, t.n, 1)],
                                      value=self.store_value(ctx, t.elt, 2)))
        ctx.trip = saved
        ctx.loop_depth -= 1
        ctx.pop()
        info.special = any(self.is_special(ctx, s.value) for s in body) or info.special
        return [M.Assign(name=name, value=make),
                M.For(var=k, iter=M.RangeE(t=None, start=ilit(1), step=None, stop=ilit(steps)), body=body)], 3

    def sa_rebind(self, ctx: Ctx) -> tuple[list[M.Stmt], int] | None:
        """`ps = <a new array>` for an existing ps (in a loop only with `array_rebinding`: jlhlo
        refuses an array changed in place and rebound in one loop while reachable another way)."""
        if ctx.loop_depth and not self.F.on("array_rebinding"):
            return None
        cands = [(n, v) for n, v in self.sa_vars(ctx) if not v.readonly and v.owned]
        if not cands:
            return None
        name, v = self.pick(cands)
        e = self.sa_array(ctx, v.t, 2)
        if aliases_input(e):
            e = call(v.t, "copy", e)             # one name, one array on every path (see `unaliased`)
        v.special = v.special or self.is_special(ctx, e)
        return [M.Assign(name=name, value=e)], 1

    def struct_array_family(self, lengths: list[int]) -> None:
        """Element types for arrays of tuples/structs (an immutable struct of numbers, sometimes one
        of `struct_family`'s, or a tuple or named tuple type), functions of one element, and
        helpers taking a whole array of such elements (of one of `lengths`, often)."""
        for _ in range(self.rng.randint(1, 2)):
            plain = [st for st in self.struct_types if not st.params and is_element(st)]
            r = self.rng.random()
            if plain and r < 0.2:
                elt: Tup | NTup | Struct = self.pick(plain)
            elif r < 0.6:
                elt = self.sa_struct()
            else:
                elt = self.sa_fresh_elt()
            self.sa_elts.append(elt)
            for _ in range(self.rng.randint(1, 2)):
                self.elem_fn(elt)
            t = SArr(elt, self.pick(lengths) if lengths and self.chance(0.7) else self.rng.randint(1, 5))
            if self.chance(0.4):
                self.sa_reader(t)
            if self.chance(0.4):
                self.sa_mutator(t)

    def sa_param(self, t: SArr) -> M.Param:
        annot = self.pick([t.julia(), "AbstractVector", f"AbstractVector{{{t.elt.julia()}}}", None])
        return M.Param(name=self.fid("ps"), t=t, annot=annot)

    def sa_reader(self, t: SArr) -> None:
        """`h(ps)`, `h(ps, s)`: a pure function of a whole array of tuples/structs giving a number."""
        name = self.fid("h")
        ret = self.pick([F64, F64, INT])
        ctx = Ctx(ret, pure=True)
        params = [self.sa_param(t)]
        ctx.declare(params[0].name, VarInfo(t, owned=False))
        if self.chance(0.4):
            st = self.scalar_type()
            params.append(M.Param(name=self.fid("q"), t=st, annot=st.name if self.chance(0.5) else None))
            ctx.declare(params[1].name, VarInfo(st))
        body = self.block(ctx, self.rng.randint(1, 4))
        value = self.sa_scalar(ctx, ret, 2) or self.scalar(ctx, ret, 2)
        f = M.FuncDef(name=name, params=params, body=body + [M.Return(value=value)], ret=ret, target=name)
        self.functions.append(f)
        self.sa_readers.append(f)

    def sa_mutator(self, t: SArr) -> None:
        """`h!(ps, d)`: writes every element (from its old value and d) in a loop, maybe more
        statements around it, and returns ps (the caller sees the writes)."""
        name = self.fid("h") + "!"
        ctx = Ctx(t, pure=False)
        ps = self.sa_param(t)
        ctx.declare(ps.name, VarInfo(t, readonly=True))
        dt = self.scalar_type()
        d = M.Param(name=self.fid("q"), t=dt, annot=dt.name if self.chance(0.5) else None)
        ctx.declare(d.name, VarInfo(dt))
        ctx.ret_value = var(ps.name, t)
        before = self.block(ctx, self.rng.randint(0, 2))
        i = self.fid("i")
        ctx.push()
        ctx.declare(i, VarInfo(INT, bounds=(1, t.n), readonly=True, small=True))
        old = M.Index(t=t.elt, base=var(ps.name, t), idxs=[var(i, INT)])
        parts = [(pt, lambda path=path: self.at_path(copy.deepcopy(old), path)) for path, pt in number_paths(t.elt)]
        write = M.IndexAssign(base=var(ps.name, t), idxs=[var(i, INT)],
                              value=self.store_value(ctx, t.elt, 2, parts + [(dt, lambda: var(d.name, dt))]))
        ctx.pop()
        loop = M.For(var=i, iter=call(None, "eachindex", var(ps.name, t)), body=[write])
        body = before + [loop] + self.block(ctx, self.rng.randint(0, 2))
        f = M.FuncDef(name=name, params=[ps, d], body=body + [M.Return(value=var(ps.name, t))], ret=t,
                      target=name.replace("!", "_b"))
        self.functions.append(f)
        self.sa_mutators.append(f)

    def sa_struct(self) -> Struct:
        """`struct P; a::Float64; b::Int64; end`: immutable and numbers only (jlhlo refuses arrays of
        mutable structs and of elements holding arrays)."""
        name = self.fid("P")
        fields = tuple((f, self.scalar_type(allow_bool=True)) for f in ELT_NAMES[: self.rng.randint(2, 3)])
        self.structs.append(M.StructDef(name=name, fields=[(n, t.name) for n, t in fields]))
        return Struct(name, fields)

    def elem_fn(self, elt: Tup | NTup | Struct) -> None:
        """`e(p::P) = ...`, `e(t::Tuple{Float64, Int64}, d)`: a function of one element (and maybe a
        number) giving a number, an element of the same type (`advance(p::P, d) = P(p.a + d, p.b)`)
        or of another tuple type; broadcast over arrays, mapped, reduced and called on elements."""
        name = self.fid("e")
        ret: JType = self.pick([F64, INT, elt, elt, None])
        if ret is None:
            ret = self.sa_fresh_elt()
            self.sa_elts.append(ret)
        ctx = Ctx(ret, pure=True)
        p = self.fid("p")
        ctx.declare(p, VarInfo(elt, readonly=True))
        annot = elt.name if isinstance(elt, Struct) else self.pick([elt.julia(), "NamedTuple"]) \
            if isinstance(elt, NTup) else elt.julia()
        params = [M.Param(name=p, t=elt, annot=annot if self.chance(0.7) else None)]
        parts = self.parts_of([(p, ctx.lookup(p))])
        if self.chance(0.4):
            d, dt = self.fid("q"), self.scalar_type()
            ctx.declare(d, VarInfo(dt))
            params.append(M.Param(name=d, t=dt, annot=dt.name if self.chance(0.5) else None))
            parts.append((dt, lambda: var(d, dt)))
        body = self.block(ctx, self.rng.randint(0, 2))
        value = self.from_parts(ctx, parts, ret, 2) if isinstance(ret, Scalar) else self.elem_value(ctx, ret, 2, parts)
        f = M.FuncDef(name=name, params=params, body=body + [M.Return(value=value)], ret=ret, target=name,
                      short=self.chance(0.5))
        self.functions.append(f)
        self.elem_fns.append(f)

    # ------------------------------------------------------------------ functions
    def scalar_helper(self, grad: bool = False) -> M.FuncDef:
        """A pure scalar function with branches and loops (called directly and broadcast)."""
        name = self.fid("g")
        nparams = self.pick([1, 1, 2])
        types = [F64 if grad else self.pick([F64, F64, INT] + ([F32] if self.F.on("float32") else []))
                 for _ in range(nparams)]
        ret = F64 if grad else self.pick([types[0], types[0], F64, INT])
        ctx = Ctx(ret, pure=True, grad=grad)
        params = []
        for t in types:
            p = self.fid("q")
            ctx.declare(p, VarInfo(t))
            params.append(M.Param(name=p, t=t, annot=t.name if self.chance(0.8) else None))
        body = self.block(ctx, self.budget(2, 6)) + [self.final_return(ctx, ret)]
        f = M.FuncDef(name=name, params=params, body=body, ret=ret, target=name)
        self.functions.append(f)
        (self.grad_helpers if grad else self.scalar_helpers).append(f)
        return f

    def array_helper(self, arg_types: list[Arr]) -> M.FuncDef:
        """A pure function of arrays returning a number or an array of an argument's type."""
        name = self.fid("g")
        t0 = self.pick(arg_types)
        params_t = [t0] + ([self.pick(arg_types)] if self.chance(0.3) else []) + (
            [self.scalar_type()] if self.chance(0.4) else [])
        ret = self.pick([F64, INT, t0]) if not isinstance(t0, Arr) or t0.elt != BOOL else INT
        ctx = Ctx(ret, pure=True)
        params = []
        for t in params_t:
            p = self.fid("q")
            ctx.declare(p, VarInfo(t, owned=False))
            params.append(M.Param(name=p, t=t, annot=self.array_annot(t)))
        body = self.block(ctx, self.budget(2, 6)) + [self.final_return(ctx, ret)]
        f = M.FuncDef(name=name, params=params, body=body, ret=ret, target=name)
        self.functions.append(f)
        self.array_helpers.append(f)
        return f

    def array_annot(self, t: JType) -> str | None:
        if not isinstance(t, Arr):
            return t.julia() if self.chance(0.8) else None
        return self.pick([t.julia(), t.julia(), "AbstractArray", None] + (
            [f"AbstractVector{{{t.elt.name}}}"] if t.ndim == 1 else []))

    def mutator(self, t: Arr) -> M.FuncDef:
        """`f!(x, s)`: mutates x in loops and branches and returns x."""
        name = self.fid("f") + "!"
        ctx = Ctx(t, pure=False)
        x = self.fid("x")
        ctx.declare(x, VarInfo(t, readonly=True))
        extra = self.scalar_type()
        s = self.fid("q")
        ctx.declare(s, VarInfo(extra))
        params = [M.Param(name=x, t=t, annot=self.array_annot(t)), M.Param(name=s, t=extra, annot=extra.name)]
        ctx.ret_value = var(x, t)
        before = self.block(ctx, self.rng.randint(0, 2))
        i = self.fid("i")
        ctx.push()
        ctx.declare(i, VarInfo(INT, bounds=(1, t.length), readonly=True, small=True))
        write = M.IndexAssign(base=var(x, t), idxs=[var(i, INT)], value=self.scalar(ctx, t.elt, 2),
                              op=self.pick([None, "+", "*"]) if t.elt != BOOL else None)
        ctx.pop()
        loop = M.For(var=i, iter=call(None, "eachindex", var(x, t)), body=[write])
        body = before + [loop] + self.block(ctx, self.rng.randint(0, 2))
        f = M.FuncDef(name=name, params=params, body=body + [M.Return(value=var(x, t))], ret=t,
                      target=name.replace("!", "_b"))
        self.functions.append(f)
        self.mutators.append(f)
        return f

    def generic(self, arg_types: list[JType]) -> Generic:
        """Several methods of one function: concrete, abstract and array signatures; the abstract
        ones first convert their argument, so their bodies are monomorphic."""
        g = Generic(self.fid("d"))
        patterns = self.rng.sample(["Int64", "Float64", "Float32", "AbstractFloat", "Integer", "Real", "Any"],
                                   self.rng.randint(2, 4))
        arrays = [t for t in arg_types if isinstance(t, Arr)]
        if arrays and self.chance(0.6):
            patterns.append(self.pick(["AbstractArray", "AbstractVector", "AbstractMatrix"]))
        for k, pat in enumerate(patterns):
            ret = self.pick([F64, INT])
            ctx = Ctx(ret, pure=True)
            x = self.fid("q")
            body: list[M.Stmt] = []
            if pat in ("Int64", "Float64", "Float32"):
                t = {"Int64": INT, "Float64": F64, "Float32": F32}[pat]
                ctx.declare(x, VarInfo(t))
            elif pat.startswith("Abstract") and pat not in ("AbstractFloat",):
                n, s = self.fid("k"), self.fid("s")
                ctx.declare(n, VarInfo(INT))
                ctx.declare(s, VarInfo(F64))
                xv = M.Var(t=None, name=x)
                body = [M.Assign(name=n, value=call(INT, "length", xv)),
                        M.Assign(name=s, value=call(F64, "Float64", call(None, "sum", xv)))]
            else:
                y = self.fid("s")
                ctx.declare(y, VarInfo(F64))
                body = [M.Assign(name=y, value=call(F64, "Float64", M.Var(t=None, name=x)))]
            body += self.block(ctx, self.rng.randint(1, 3)) + [self.final_return(ctx, ret)]
            fdef = M.FuncDef(name=g.name, params=[M.Param(name=x, t=None, annot=None if pat == "Any" else pat)],
                             body=body, ret=ret, target=f"{g.name}__{k}", short=False)
            g.methods.append(Method(fdef, pat))
            self.functions.append(fdef)
        self.generics.append(g)
        return g

    def kw_family(self) -> None:
        """`g(x; k1=d1, k2::T=d2)` with keyword defaults, and forwarders to it: `h(a; kws...) =
        g(a; kws...)`, `h(a; kws...) = g(a; k1=v, kws...)` (a keyword in kws replaces k1=v) and
        `h(args...; kws...) = g(args...; kws...)`."""
        g = self.fid("g")
        arg = self.scalar_type()
        ret = self.pick([F64, INT, arg])
        ctx = Ctx(ret, pure=True)
        x = self.fid("q")
        ctx.declare(x, VarInfo(arg))
        kwparams: list[tuple[M.Param, M.Expr]] = []
        kws: list[tuple[str, Scalar]] = []
        for _ in range(self.rng.randint(1, 3)):
            kt = self.scalar_type()
            kn = self.fid("kw")
            ctx.declare(kn, VarInfo(kt))
            kwparams.append((M.Param(name=kn, t=kt, annot=kt.name if self.chance(0.3) else None), self.literal(kt)))
            kws.append((kn, kt))
        body = self.block(ctx, self.budget(1, 4)) + [self.final_return(ctx, ret)]
        self.functions.append(M.FuncDef(name=g, params=[M.Param(name=x, t=arg, annot=arg.name if self.chance(0.7) else None)],
                                        body=body, ret=ret, target=g, kwparams=kwparams))
        self.kw_funcs.append(KwFn(g, g, arg, kws, ret))
        for kind in self.rng.sample(["plain", "override", "varargs"], self.rng.randint(1, 2)):
            h, kw = self.fid("h"), self.fid("kws")
            if kind == "varargs":
                a = self.fid("args")
                params = [M.Param(name=a, t=Tup((arg,)), annot=None, splat=True)]
                fwd = M.Call(t=ret, fn=g, args=[M.Splat(e=var(a, Tup((arg,))))], kwsplat=kw, user=True, target=g)
            else:
                a = self.fid("q")
                params = [M.Param(name=a, t=arg, annot=arg.name if self.chance(0.3) else None)]
                given = [(n, self.literal(t)) for n, t in self.rng.sample(kws, 1)] if kind == "override" else []
                fwd = M.Call(t=ret, fn=g, args=[var(a, arg)], kwargs=given, kwsplat=kw, user=True, target=g)
            self.functions.append(M.FuncDef(name=h, params=params, body=[M.Return(value=fwd)], ret=ret, target=h,
                                            short=self.chance(0.7), kwsplat=kw))
            self.kw_funcs.append(KwFn(h, h, arg, kws, ret))

    def val_family(self) -> None:
        """`f(::Val{N}, ...) where {N}` (N used as a number and a loop bound), or a pair of methods
        `f(::Val{true}, ...)` and `f(::Val{false}, ...)` with different bodies."""
        name = self.fid("fv")
        ret = self.pick([F64, INT])
        extra = [self.scalar_type() for _ in range(self.rng.choice([0, 1, 1, 2]))]
        flags = [None] if self.chance(0.5) else [True, False]
        for flag in flags:
            ctx = Ctx(ret, pure=True)
            if flag is None:
                n = self.fid("N")
                ctx.declare(n, VarInfo(INT, bounds=(1, 4), readonly=True, small=True))
                first = M.Param(name=n, t=INT, annot=f"Val{{{n}}}", anon=True)
            else:
                first = M.Param(name=self.fid("_v"), t=BOOL, annot=f"Val{{{'true' if flag else 'false'}}}", anon=True)
            params = [first]
            for t in extra:
                q = self.fid("q")
                ctx.declare(q, VarInfo(t))
                params.append(M.Param(name=q, t=t, annot=t.name if self.chance(0.6) else None))
            body = self.block(ctx, self.budget(1, 4)) + [self.final_return(ctx, ret)]
            target = name if flag is None else f"{name}__{'T' if flag else 'F'}"
            self.functions.append(M.FuncDef(name=name, params=params, body=body, ret=ret, target=target,
                                            where=f"{{{first.name}}}" if flag is None else None,
                                            short=self.chance(0.3)))
        self.val_funcs.append(ValFn("N" if flags == [None] else "Bool", name,
                                    name if flags == [None] else f"{name}__val", extra, ret))

    def struct_family(self) -> None:
        """An abstract type with two structs (the second parametric, sometimes), one generic function
        with a method per struct (dispatch on the struct type), a fallback method on the abstract
        type calling it, and sometimes a callable struct."""
        absname = self.fid("Abs")
        self.abstracts.append(absname)
        area = self.fid("area")
        ret = self.pick([F64, INT])
        family: list[Struct] = []
        for k in range(2):
            sname = self.fid("S")
            if k == 1 and self.F.on("shared_param_structs") and self.chance(0.3 * self.F.w("shared_param_structs")):
                # one type parameter shared by arrays of different sizes: it binds the type only
                elt, nd = self.array_elt(), self.pick([1, 2])
                shapes = [tuple(self.rng.randint(1, 4) for _ in range(nd)) for _ in range(2)]
                bound = "AbstractVector" if nd == 1 else "AbstractMatrix"
                sdef = M.StructDef(name=sname, fields=[("a", "M"), ("b", "M")], typevars=[("M", bound)],
                                   supertype=absname)
                st = Struct(sname, (("a", Arr(elt, shapes[0])), ("b", Arr(elt, shapes[1]))))
            elif k == 1 and self.F.on("parametric_structs") and self.chance(0.6):
                T = self.pick([F64, INT] + ([F32] if self.F.on("float32") else []))
                sdef = M.StructDef(name=sname, fields=[("a", "T"), ("b", "T")], typevars=[("T", "Real")],
                                   supertype=absname, curly_constructors=self.chance(0.5))
                st = Struct(sname, (("a", T), ("b", T)), (T,))
            else:
                fields = tuple((f"f{j}", self.scalar_type()) for j in range(1, self.rng.randint(2, 3) + 1))
                sdef = M.StructDef(name=sname, fields=[(n, t.name) for n, t in fields], supertype=absname)
                st = Struct(sname, fields)
            self.structs.append(sdef)
            self.struct_types.append(st)
            family.append(st)
            self.struct_method(st, area, annot=sname, ret=ret)
        if self.chance(0.6):
            # describe(p::Abs) = area(p) ... : Julia picks `area`'s method from p's run-time type
            ctx = Ctx(F64, pure=True)
            p = self.fid("p")
            body = [M.Return(value=op(F64, "+", op(F64, "*", call(ret, area, M.Var(t=None, name=p), user=True,
                                                                   target=area + "__dispatch"),
                                                   lit(F64, self.pick([0.5, 2.0]))), self.literal(F64, ctx)))]
            describe = self.fid("describe")
            for st in family:
                f = M.FuncDef(name=describe, params=[M.Param(name=p, t=st, annot=absname)], body=body, ret=F64,
                              target=describe, short=True)
                self.struct_methods.append(f)
            self.functions.append(f)
        if self.F.on("callable_structs") and self.chance(0.5 * self.F.w("callable_structs")):
            st = self.pick(family)
            self.struct_method(st, st.name, annot=st.name, ret=F64, callable_=True)

    def struct_method(self, st: Struct, name: str, annot: str, ret: Scalar, callable_: bool = False) -> None:
        ctx = Ctx(ret, pure=True)
        p = self.fid("p")
        ctx.declare(p, VarInfo(st, readonly=True))
        params = [M.Param(name=p, t=st, annot=annot)]
        if callable_:
            u = self.fid("u")
            ctx.declare(u, VarInfo(F64))
            params.append(M.Param(name=u, t=F64, annot=None))
        body = self.block(ctx, self.rng.randint(1, 3)) + [self.final_return(ctx, ret)]
        f = M.FuncDef(name=name, params=params, body=body, ret=ret, target=self.fid(name + "__m"), callable=callable_,
                      short=self.chance(0.3))
        self.functions.append(f)
        self.struct_methods.append(f)

    def loss_function(self, params: list[M.Param]) -> M.FuncDef:
        """A Float64 function of main's Float64 arguments (and Int ones, not differentiated) built
        from differentiable constructs only."""
        name = self.fid("loss")
        ctx = Ctx(F64, grad=True, pure=True)
        lparams = []
        for p in params:
            q = self.fid("q")
            ctx.declare(q, VarInfo(p.t, owned=False, small=p.t == INT, bounds=None))
            lparams.append(M.Param(name=q, t=p.t, annot=p.annot))
        body = self.block(ctx, self.budget(2, 6))
        terms = [self.scalar(ctx, F64, 3) for _ in range(self.rng.randint(1, 2))]
        arrays = [n for n, v in ctx.find(lambda n, v: isinstance(v.t, Arr) and v.t.elt == F64)]
        if arrays:
            a = self.pick(arrays)
            terms.append(call(F64, "sum", op(ctx.lookup(a).t, "*", var(a, ctx.lookup(a).t),
                                                self.array(ctx, ctx.lookup(a).t, 2), dot=True)))
        value = terms[0]
        for t in terms[1:]:
            value = op(F64, "+", value, t)
        f = M.FuncDef(name=name, params=lparams, body=body + [M.Return(value=value)], ret=F64, target=name)
        self.functions.append(f)
        return f

    # ------------------------------------------------------------------ the program
    def main_params(self) -> list[tuple[M.Param, Any]]:
        out: list[tuple[M.Param, Any]] = []
        for _ in range(self.rng.randint(1, 3)):
            t = self.scalar_type()
            name = self.fid({"Int64": "n", "Float64": "a", "Float32": "b"}[t.name])
            out.append((M.Param(name=name, t=t, annot=t.name), self.input_value(t)))
        for _ in range(self.rng.randint(1, 3)):
            t = Arr(self.array_elt(), self.array_shape())
            name = self.fid({1: "x", 2: "X", 3: "T"}[t.ndim])
            out.append((M.Param(name=name, t=t, annot=t.julia() if self.chance(0.85) else None),
                        self.input_value(t)))
        self.rng.shuffle(out)
        return out

    def input_value(self, t: JType) -> Any:
        if isinstance(t, Arr):
            vals = [self.input_value(t.elt) for _ in range(t.length)]
            return np.array(vals, dtype=t.elt.dtype).reshape(t.shape, order="F")
        if t == INT:
            return np.int64(self.rng.randint(-2, 6))
        r = self.rng.random()
        if self.special and r < 0.25:
            v = self.pick([float("nan"), -0.0, 0.0, float("inf"), -0.0, float("nan")])
        elif r < 0.4:
            v = float(self.rng.randint(-3, 3))
        elif r < 0.6:
            v = self.rng.randint(-6, 6) / 2
        else:
            v = round(self.rng.gauss(0, 1.5), 3)
        return t.dtype.type(v)

    def program(self) -> M.Program:
        self.special = self.F.on("nan_eq") and self.chance(0.25 * min(self.F.w("nan_eq"), 2))
        params_vals = self.main_params()
        params = [p for p, _ in params_vals]
        inputs = {p.name: v for p, v in params_vals}
        arg_arrays = [p.t for p in params if isinstance(p.t, Arr)]
        # helpers first: main and later helpers call earlier ones
        if self.F.on("helpers"):
            for _ in range(self.rng.choice([0, 1, 1, 2, 2, 3])):
                self.scalar_helper()
            if arg_arrays and self.chance(0.4):
                self.array_helper(arg_arrays)
        if self.F.on("mutating_helper") and arg_arrays and self.chance(0.4 * self.F.w("mutating_helper")):
            self.mutator(self.pick([t for t in arg_arrays if t.elt != BOOL]))
        if self.F.on("dispatch") and self.chance(0.35 * self.F.w("dispatch")):
            self.generic([p.t for p in params])
        if self.F.on("structs") and self.chance(0.3 * self.F.w("structs")):
            self.struct_family()
        if self.F.on("struct_arrays") and self.chance(0.5 * self.F.w("struct_arrays")):
            self.struct_array_family([t.shape[0] for t in arg_arrays if t.ndim == 1])
        if self.F.on("kw_forward") and self.chance(0.5 * self.F.w("kw_forward")):
            self.kw_family()
        if self.F.on("val_dispatch") and self.chance(0.5 * self.F.w("val_dispatch")):
            self.val_family()
        ret = Tup(tuple(self.ret_types(params)))
        ctx = Ctx(ret, is_main=True)
        for p, v in params_vals:
            # an Int argument either keeps its known value (a loop bound, an index) or is reassigned
            fixed = p.t == INT and self.chance(0.7)
            ctx.declare(p.name, VarInfo(p.t, bounds=(int(v), int(v)) if fixed else None, small=fixed, readonly=fixed,
                                        special=self.special and float_typed(p.t)))
        body = self.block(ctx, self.budget(6, 16))
        body.append(M.Return(value=self.unaliased(self.final_value(ctx, ret))))
        main = M.FuncDef(name="main", params=params, body=body, ret=ret, target="main")
        grad = None
        wrt = [p.name for p in params if p.t == F64 or (isinstance(p.t, Arr) and p.t.elt == F64)]
        if self.F.on("gradients") and wrt and not self.special and self.chance(0.4 * self.F.w("gradients")):
            self.grad_helpers = []
            if self.chance(0.5):
                self.scalar_helper(grad=True)
            used = [p for p in params if p.name in wrt or p.t == INT]
            loss = self.loss_function(used)
            grad = M.GradSpec(loss=loss.name, target=loss.target, args=[p.name for p in used], wrt=wrt,
                              with_value=self.chance(0.3))
        return M.Program(abstracts=self.abstracts, structs=self.structs, functions=self.functions, main=main,
                         inputs=inputs, grad=grad, seed=self.seed)

    def ret_types(self, params: list[M.Param]) -> list[JType]:
        arrays = [p.t for p in params if isinstance(p.t, Arr)]
        out: list[JType] = []
        for _ in range(self.rng.randint(2, 4)):
            if arrays and self.chance(0.45):
                out.append(self.pick(arrays))
            else:
                out.append(self.scalar_type(allow_bool=True))
        if self.F.on("struct_arrays") and self.chance(0.6 * min(self.F.w("struct_arrays"), 1.5)):
            # a slot for the numbers of an array of tuples/structs (`final_value`), often of the
            # length of a vector argument (new arrays of tuples/structs often take that length)
            lengths = [t.shape[0] for t in arrays if t.ndim == 1]
            out.append(Arr(F64, (self.pick(lengths) if lengths and self.chance(0.7) else self.rng.randint(1, 5),)))
        return out

    def final_value(self, ctx: Ctx, ret: Tup) -> M.Expr:
        """main's result: for each slot, preferably a variable the body computed or mutated; or,
        for a Float64 vector, every number of an array of tuples/structs of its length, for a
        Float64, a checksum of all of them."""
        items = []
        for t in ret.items:
            cands = [n for n, _ in ctx.of_type(t)]
            digest = None
            if isinstance(t, Arr) and t.elt == F64 and self.chance(0.8):
                digest = self.sa_digest(ctx, t)
            elif t == F64 and self.chance(0.5):
                digest = self.sa_checksum(ctx)
            if digest is not None:
                items.append(digest)
            elif cands and self.chance(0.8):
                items.append(var(self.pick(cands), t))
            else:
                items.append(self.expr(ctx, t, 2))
        return M.TupleE(t=ret, items=items)


def _copied_views(e: M.Expr) -> M.Expr:
    """A view returned from inside a loop is copied: jlhlo refuses to carry a view made in a loop
    out of it (README, differences from Julia)."""
    if isinstance(e, M.TupleE):
        return M.TupleE(t=e.t, items=[_copied_views(x) for x in e.items])
    if isinstance(e.t, Arr) and aliases_input(e) and not isinstance(e, M.Var):
        return call(e.t, "copy", e)
    return e


def generate(seed: int, features: Features | None = None) -> M.Program:
    return Generator(seed, features or Features()).program()


