"""Expression generation: typed expressions for a requested Julia type, over the variables in
scope (`Ctx`). `ExprGenerator` holds the per-program state (helpers, structs, generic functions the
expressions may call); `gen.Generator` adds statements, functions and whole programs.

Every production builds an expression of exactly the requested type, so programs type-check by
construction; indices are in range by construction (loop variables with known bounds, `end`,
`mod(e, n) + 1`, `clamp(e, 1, n)`), divisors are `mod(e, k) + 1`, and anything else that could make
a program undefined (a NaN into `round(Int, x)`, an overflow) is caught by running the reference."""
from __future__ import annotations

import copy
import itertools
import math
import random
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from . import model as M
from .features import Features
from .jtypes import BOOL, F32, F64, INT, Arr, CartIdx, Fn, JType, NTup, SArr, Scalar, Struct, Tup, arith_type, promote


@dataclass
class VarInfo:
    """What the generator knows about a variable in scope."""
    t: JType
    bounds: tuple[int, int] | None = None    # value range of an Int known statically (loop variables)
    readonly: bool = False                   # loop variables, captured variables: never reassigned
    small: bool = False                      # an Int usable as a loop bound (arguments, loop variables)
    special: bool = False                    # a float that may be NaN/-0.0/Inf (kept out of conversions)
    contiguous: bool = True                  # an array owning column-major storage (vec/reshape alias it)
    owned: bool = True                       # an array this function may mutate


class Ctx:
    """Generation state of one function body."""

    def __init__(self, ret: JType, *, grad: bool = False, pure: bool = False, is_main: bool = False):
        self.scopes: list[dict[str, VarInfo]] = [{}]
        self.ret = ret
        self.grad = grad          # only constructs jlhlo differentiates (and finite differences can check)
        self.pure = pure          # may not mutate arrays it did not create (a helper called in an expression)
        self.is_main = is_main
        self.loop_depth = 0
        self.trip = 1             # product of the trip counts of the enclosing loops
        self.ret_value: M.Expr | None = None   # what every `return` returns (an `f!` returns its argument)

    def all_vars(self) -> dict[str, VarInfo]:
        out: dict[str, VarInfo] = {}
        for s in self.scopes:
            out.update(s)
        return out

    def find(self, pred: Callable[[str, VarInfo], bool]) -> list[tuple[str, VarInfo]]:
        return [(n, v) for n, v in self.all_vars().items() if pred(n, v)]

    def of_type(self, t: JType) -> list[tuple[str, VarInfo]]:
        return self.find(lambda n, v: v.t == t)

    def declare(self, name: str, info: VarInfo) -> None:
        self.scopes[-1][name] = info

    def lookup(self, name: str) -> VarInfo:
        return self.all_vars()[name]

    def push(self) -> None:
        self.scopes.append({})

    def pop(self) -> None:
        self.scopes.pop()


@dataclass
class Method:
    """One method of a generic function: its pattern for the (single) dispatched argument."""
    fdef: M.FuncDef
    pattern: str


@dataclass
class Generic:
    name: str
    methods: list[Method] = field(default_factory=list)


@dataclass
class KwFn:
    """A function taking one positional argument and keywords: `g(x; s=1.0, t=2)` itself or a
    forwarder `h(a; kws...) = g(a; kws...)`; `kws` are the keywords g accepts, with their types."""
    name: str
    target: str
    arg: Scalar
    kws: list[tuple[str, Scalar]]
    ret: Scalar


@dataclass
class ValFn:
    """`f(::Val{N}, ...) where {N}` (`kind` "N", called with Int literals 1..4) or the method pair
    `f(::Val{true}, ...)`, `f(::Val{false}, ...)` (`kind` "Bool")."""
    kind: str
    name: str
    target: str
    extra: list[Scalar]
    ret: Scalar


# Specificity of annotation patterns for the argument types the generator passes: for each type
# the applicable patterns form a chain, so "most specific" is the highest rank (as in Julia).
def pattern_rank(pattern: str, t: JType) -> int | None:
    """How specifically `pattern` matches `t` (None: not at all)."""
    if isinstance(t, Scalar):
        chain = {INT: ["Int64", "Integer", "Real"], F64: ["Float64", "AbstractFloat", "Real"],
                 F32: ["Float32", "AbstractFloat", "Real"], BOOL: ["Bool", "Integer", "Real"]}[t]
    elif isinstance(t, Arr):
        concrete = t.julia()
        chain = ([concrete] + (["AbstractVector"] if t.ndim == 1 else ["AbstractMatrix"] if t.ndim == 2 else [])
                 + ["AbstractArray"])
    elif isinstance(t, Struct):
        chain = [t.name]
    else:
        return None
    if pattern == "Any":
        return 0
    return len(chain) - chain.index(pattern) if pattern in chain else None


_F64_LITS = [0.5, 1.5, 2.0, -1.0, 0.25, 3.0, 0.1, 0.75, 2.5, -0.5, 1.0, 0.3, -2.0, 4.0, 0.2]
_F32_LITS = [0.5, 1.5, 2.0, -1.0, 0.25, 3.0, 0.75, -0.5, 1.0, 4.0]
_BIG_INTS = [9223372036854775807, 9223372036854775000, 4611686018427387904, 3037000500, -9223372036854775807]
_COMPARE = ["<", "<=", ">", ">=", "==", "!="]
ELT_NAMES = ("a", "b", "c")       # fields of generated element structs and named tuples


def lit(t: Scalar, v: Any) -> M.Lit:
    return M.Lit(t=t, value=v)


def var(name: str, t: JType) -> M.Var:
    return M.Var(t=t, name=name)


def call(t: JType | None, fn: str, *args: M.Expr, **kw: Any) -> M.Call:
    return M.Call(t=t, fn=fn, args=list(args), **kw)


def op(t: JType, o: str, *args: M.Expr, dot: bool = False) -> M.Op:
    return M.Op(t=t, op=o, args=list(args), dot=dot)


def ilit(v: int) -> M.Lit:
    return lit(INT, v)


class ExprGenerator:
    """Expression productions and the program-wide state they draw on; all randomness comes
    from `seed`."""

    def __init__(self, seed: int, features: Features):
        self.seed = seed
        self.rng = random.Random(seed)
        self.F = features
        self._ids = itertools.count(1)
        self.functions: list[M.FuncDef] = []
        self.structs: list[M.StructDef] = []
        self.abstracts: list[str] = []
        self.scalar_helpers: list[M.FuncDef] = []     # pure, scalar parameters: callable and broadcastable
        self.array_helpers: list[M.FuncDef] = []      # pure, array parameters
        self.mutators: list[M.FuncDef] = []           # f!(x, ...) mutating x, returning x
        self.generics: list[Generic] = []
        self.struct_types: list[Struct] = []
        self.struct_methods: list[M.FuncDef] = []     # f(p::S, ...) and callable structs
        self.grad_helpers: list[M.FuncDef] = []       # scalar helpers usable on a gradient path
        self.kw_funcs: list[KwFn] = []                # keyword functions and their forwarders
        self.val_funcs: list[ValFn] = []              # methods dispatching on Val
        self.special = False                          # inputs hold NaN / -0.0 / Inf
        self.sa_elts: list[Tup | NTup | Struct] = []   # element types of arrays of tuples/structs
        self.elem_fns: list[M.FuncDef] = []           # functions of one such element (and numbers)
        self.sa_readers: list[M.FuncDef] = []         # h(ps, ...): pure, reading a whole such array
        self.sa_mutators: list[M.FuncDef] = []        # h!(ps, d): writing its elements, returning ps

    # ------------------------------------------------------------------ randomness helpers
    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def pick(self, seq: list[Any]) -> Any:
        return self.rng.choice(seq)

    def fid(self, stem: str) -> str:
        return f"{stem}{next(self._ids)}"

    def weighted(self, options: list[tuple[float, Callable[[], Any]]]) -> Iterator[Callable[[], Any]]:
        """Options in a random order biased by weight (an exponential race); zero weights never."""
        keyed = [(-math.log(1.0 - self.rng.random()) / w, k) for k, (w, _) in enumerate(options) if w > 0]
        for _, k in sorted(keyed):
            yield options[k][1]

    def first(self, options: list[tuple[float, Callable[[], Any]]]) -> Any:
        """The result of the first option (in weighted random order) that applies (is not None)."""
        for fn in self.weighted(options):
            out = fn()
            if out is not None:
                return out
        return None

    def w(self, name: str, base: float = 1.0) -> float:
        return base * self.F.w(name)

    def budget(self, lo: int, hi: int) -> int:
        """A statement budget in lo..hi, scaled by the features' size."""
        return max(1, round(self.rng.randint(lo, hi) * self.F.size))

    # ------------------------------------------------------------------ types
    def scalar_type(self, allow_bool: bool = False) -> Scalar:
        opts = [(5, F64), (3, INT)]
        if self.F.on("float32"):
            opts.append((2, F32))
        if allow_bool:
            opts.append((1, BOOL))
        return self.first([(w, lambda t=t: t) for w, t in opts])

    def array_shape(self) -> tuple[int, ...]:
        nd = self.first([(5, lambda: 1), (4, lambda: 2), (1, lambda: 3)])
        sizes = [1, 2, 3, 4, 5]
        weights = [1, 3, 4, 3, 1] if nd < 3 else [1, 3, 2, 1, 0]
        return tuple(self.rng.choices(sizes, weights)[0] for _ in range(nd))

    def array_elt(self) -> Scalar:
        opts = [(6, F64), (2, INT)] + ([(2, F32)] if self.F.on("float32") else [])
        return self.first([(w, lambda t=t: t) for w, t in opts])

    # ------------------------------------------------------------------ literals and leaves
    def literal(self, t: Scalar, ctx: Ctx | None = None) -> M.Lit:
        if t == BOOL:
            return lit(BOOL, self.chance(0.5))
        if t == INT:
            if self.F.on("overflow") and not (ctx and ctx.grad) and self.chance(0.05 * self.F.w("overflow")):
                return ilit(self.pick(_BIG_INTS))
            return ilit(self.rng.choice([0, 1, 2, 3, 4, 5, -1, -2, 7, 10]))
        if t == F32:
            return lit(F32, self.pick(_F32_LITS))
        return lit(F64, self.pick(_F64_LITS))

    def leaf(self, ctx: Ctx, t: Scalar) -> M.Expr:
        cands = [n for n, _ in ctx.of_type(t)]
        if cands and self.chance(0.75):
            return var(self.pick(cands), t)
        return self.literal(t, ctx)

    def is_special(self, ctx: Ctx, e: M.Expr) -> bool:
        """Whether e reads a variable that may hold NaN/Inf/-0.0 (directly or through an array)."""
        if not self.special:
            return False
        vs = ctx.all_vars()
        return any(isinstance(n, M.Var) and n.name in vs and vs[n.name].special for n in walk(e))

    # ------------------------------------------------------------------ expressions
    def expr(self, ctx: Ctx, t: JType, depth: int) -> M.Expr:
        if isinstance(t, Scalar):
            return self.scalar(ctx, t, depth)
        if isinstance(t, Arr):
            return self.array(ctx, t, depth)
        if isinstance(t, SArr):
            return self.sa_array(ctx, t, depth)
        if isinstance(t, (Tup, NTup, Struct)) and self.sa_vars(ctx, lambda st: st.elt == t) and self.chance(0.4):
            return self.element(ctx, t, depth)
        if isinstance(t, NTup):
            cands = [n for n, _ in ctx.of_type(t)]
            if cands and self.chance(0.5):
                return var(self.pick(cands), t)
            return self.build_elem(t, lambda x: self.expr(ctx, x, depth - 1))
        if isinstance(t, Tup):
            cands = [n for n, _ in ctx.of_type(t)]
            if cands and self.chance(0.5):
                return var(self.pick(cands), t)
            return M.TupleE(t=t, items=[self.expr(ctx, it, depth - 1) for it in t.items])
        if isinstance(t, Struct):
            cands = [n for n, _ in ctx.of_type(t)]
            if cands and self.chance(0.6):
                return var(self.pick(cands), t)
            return self.construct(ctx, t, depth)
        raise TypeError(t)

    def scalar(self, ctx: Ctx, t: Scalar, depth: int) -> M.Expr:
        if depth <= 0:
            return self.leaf(ctx, t)
        if t == BOOL:
            return self.bool_expr(ctx, depth)
        F = self.w
        opts: list[tuple[float, Callable[[], Any]]] = [
            (2.0, lambda: self.leaf(ctx, t)),
            (4.0, lambda: self.arith(ctx, t, depth)),
            (0.5, lambda: op(t, "-", self.scalar(ctx, t, depth - 1))),
            (F("literal_forms"), lambda: self.literal_form(ctx, t, depth)),
            (F("math", 1.5), lambda: self.math_call(ctx, t, depth)),
            (F("int_ops", 1.5) if t == INT else 0, lambda: self.int_op(ctx, depth)),
            (F("division_modes") if t != BOOL and not ctx.grad else 0, lambda: self.division_mode_op(ctx, t, depth)),
            (F("ternary"), lambda: M.Ternary(t=t, cond=self.bool_expr(ctx, depth - 1),
                                              a=self.scalar(ctx, t, depth - 1), b=self.scalar(ctx, t, depth - 1))),
            (2.5, lambda: self.element_read(ctx, t, depth)),
            (F("reductions", 1.2), lambda: self.reduction(ctx, t, depth)),
            (F("generator"), lambda: self.generator_reduction(ctx, t, depth)),
            (F("generator_filter"), lambda: self.generator_reduction(ctx, t, depth, filtered=True)),
            (F("searches") if t == INT else 0, lambda: self.search(ctx, depth)),
            (F("generator_runtime"), lambda: self.runtime_generator_reduction(ctx, t, depth)),
            (F("helpers", 1.2), lambda: self.helper_call(ctx, t, depth)),
            (F("dispatch"), lambda: self.generic_call(ctx, t, depth)),
            (F("closures"), lambda: self.closure_call(ctx, t, depth)),
            (F("structs"), lambda: self.struct_read(ctx, t, depth)),
            (F("tuples"), lambda: self.tuple_read(ctx, t, depth)),
            (F("conversions"), lambda: self.conversion(ctx, t, depth)),
            (F("bool_arith"), lambda: self.bool_arith(ctx, t, depth)),
            (F("matmul", 0.5) if t.is_float else 0, lambda: self.adjoint_dot(ctx, t, depth)),
            (F("if_expr", 0.25), lambda: self.if_expr(ctx, t, depth)),
            (F("splat", 0.5) if t != BOOL else 0, lambda: self.splat_reduce(ctx, t, depth)),
            (F("kw_forward", 5) if self.kw_funcs and not ctx.grad else 0, lambda: self.kw_call(ctx, t, depth)),
            (F("val_dispatch", 5) if self.val_funcs and not ctx.grad else 0, lambda: self.val_call(ctx, t, depth)),
            (F("cartesian") if t == INT else 0, lambda: self.cart_int(ctx, depth)),
            (F("struct_arrays", 2), lambda: self.sa_scalar(ctx, t, depth)),
        ]
        out = self.first(opts)
        return out if out is not None else self.leaf(ctx, t)

    # ------------------------------------------------------------------ forms added to the subset later
    def if_expr(self, ctx: Ctx, t: Scalar, depth: int, full: int = 0, block: bool = False,
                with_else: bool = True) -> M.IfExpr:
        """`if c1; ...; v1 elseif c2; ...; v2 else ...; v3 end` giving a t. `full` > 0 (statement
        level only): each branch runs a block of up to `full` statements of any kind; otherwise
        a few fresh local assignments (the reference runs those inside expressions)."""
        n = 1 + (self.rng.randint(1, 2) if self.F.on("elseif") and self.chance(0.35) else 0)
        branches = []
        for k in range(n + with_else):
            cond = self.bool_expr(ctx, self.rng.randint(0, max(0, min(depth - 1, 2)))) if k < n else None
            ctx.push()
            body = self.block(ctx, self.rng.randint(0, full)) if full else self.value_stmts(ctx, depth - 1)
            value = self.scalar(ctx, t, min(depth - 1, 2))
            ctx.pop()
            branches.append(M.ValueBranch(cond=cond, body=body, value=value))
        return M.IfExpr(t=t, branches=branches[:n], orelse=branches[n] if with_else else None, block=block)

    def value_stmts(self, ctx: Ctx, depth: int) -> list[M.Stmt]:
        """Statements before a branch's value in an inline `if` expression: new local variables."""
        out: list[M.Stmt] = []
        for _ in range(self.pick([0, 0, 1, 1, 2]) if depth > 0 else 0):
            tt = self.scalar_type() if not ctx.grad else F64
            name = self.fid("z")
            e = self.scalar(ctx, tt, min(depth, 2))
            ctx.declare(name, VarInfo(tt, special=self.is_special(ctx, e)))
            out.append(M.Assign(name=name, value=e))
        return out

    def return_assign(self, ctx: Ctx, t: Scalar) -> M.AssignExpr | None:
        """`x[i] = v` or `n op= v` as the value of a `return`: v as written (`x[2] = 5` is 5 even
        when x holds Float64s), the new n. Only arrays the function may mutate."""
        if ctx.grad:
            return None
        opts: list[tuple[float, Callable[[], Any]]] = []
        arrays = self.mutable_arrays(ctx, lambda a: convertible(a.elt, t))
        if arrays:
            def index_form() -> M.AssignExpr:
                name, v = self.pick(arrays)
                at: Arr = v.t
                idxs = self.indices_for(ctx, at, 1)
                if at.elt == t and t != BOOL and self.chance(0.4):
                    o = self.pick(["+", "-", "*"])
                    src = self.pick([x for x in (INT, F64, F32) if arith_type(o, at.elt, x) == at.elt
                                     and (x != F32 or self.F.on("float32"))] or [at.elt])
                    return M.AssignExpr(t=t, stmt=M.IndexAssign(base=var(name, at), idxs=idxs,
                                                                value=self.scalar(ctx, src, 2), op=o))
                return M.AssignExpr(t=t, stmt=M.IndexAssign(base=var(name, at), idxs=idxs,
                                                            value=self.scalar(ctx, t, 2)))
            opts.append((2, index_form))
        scalars = [n for n, v in ctx.find(lambda n, v: not v.readonly and v.t == t and t != BOOL)]
        if scalars:
            def op_form() -> M.AssignExpr:
                name = self.pick(scalars)
                o = self.pick(["+", "-", "*", "+"])
                src = self.pick([x for x in (INT, F64, F32) if arith_type(o, t, x) == t
                                 and (x != F32 or self.F.on("float32"))] or [t])
                e = self.scalar(ctx, src, 2) if self.chance(0.6) else self.literal(src)
                return M.AssignExpr(t=t, stmt=M.OpAssign(name=name, op=o, value=e))
            opts.append((1.5, op_form))
        return self.first(opts)

    def splat_reduce(self, ctx: Ctx, t: Scalar, depth: int) -> M.Expr | None:
        """`max(v...)`, `min(s, v...)`, `+(v...)`, `*(v...)` of an array of at most 8 elements."""
        arrays = ctx.find(lambda n, v: isinstance(v.t, Arr) and v.t.elt == t and v.t.length <= 8
                          and (v.t.ndim == 1 or self.chance(0.3)))
        if not arrays:
            return None
        name, v = self.pick(arrays)
        fn = self.pick(["max", "min", "+", "+"] + (["*"] if v.t.length <= 4 and not ctx.grad else []))
        args: list[M.Expr] = [M.Splat(e=var(name, v.t))]
        if self.chance(0.3):
            extra = self.scalar(ctx, t, depth - 1)
            args = [extra] + args if self.chance(0.5) else args + [extra]
        if len(args) == 1 and v.t.length == 1 and fn != "+" and not self.F.on("splat_single"):
            fn = "+"             # one-argument max(x), min(x), *(x) only with the `splat_single` category
        return call(t, fn, *args)

    def splat_array(self, ctx: Ctx, t: Arr, depth: int) -> M.Expr | None:
        """`[v...]`, `[A...]` (column-major), `[tp...]`, `[s, v...]`: a new vector."""
        n = t.shape[0]
        srcs = [(nm, v.t) for nm, v in ctx.find(lambda nm, v: (
            isinstance(v.t, Arr) and v.t.elt == t.elt and v.t.length in (n, n - 1)) or (
            isinstance(v.t, Tup) and set(v.t.items) == {t.elt} and len(v.t.items) in (n, n - 1)))]
        if not srcs:
            return None
        nm, st = self.pick(srcs)
        items: list[M.Expr] = [M.Splat(e=var(nm, st))]
        if (st.length if isinstance(st, Arr) else len(st.items)) == n - 1:
            extra = self.scalar(ctx, t.elt, depth - 1)
            items = [extra] + items if self.chance(0.5) else items + [extra]
        return M.ArrayLit(t=t, items=items)

    def splat_args(self, ctx: Ctx, f: M.FuncDef, depth: int) -> list[M.Expr] | None:
        """Arguments for f ending in a splat: `f(a, tp...)`, `f((a, b)...)`, `f(v...)`."""
        types = [p.t for p in f.params]
        if not all(isinstance(x, Scalar) for x in types):
            return None
        k = self.rng.randrange(len(types))
        rest = types[k:]
        head = [self.scalar(ctx, x, depth - 1) for x in types[:k]]
        tup = Tup(tuple(rest))
        tups = [n for n, _ in ctx.of_type(tup)]
        vecs = [n for n, v in ctx.find(lambda n, v: isinstance(v.t, Arr) and v.t.ndim == 1
                                      and v.t.length == len(rest) and {v.t.elt} == set(rest))]
        r = self.rng.random()
        if tups and r < 0.4:
            src: M.Expr = var(self.pick(tups), tup)
        elif vecs and r < 0.7:
            nm = self.pick(vecs)
            src = var(nm, ctx.lookup(nm).t)
        else:
            src = M.TupleE(t=tup, items=[self.scalar(ctx, x, depth - 1) for x in rest])
        return head + [M.Splat(e=src)]

    def kw_call(self, ctx: Ctx, t: Scalar, depth: int) -> M.Expr | None:
        """A call of a keyword function or a forwarder, with some of its keywords in any order."""
        cands = [k for k in self.kw_funcs if k.ret == t]
        if not cands:
            return None
        f = self.pick(cands)
        kws = self.rng.sample(f.kws, self.rng.randint(0, len(f.kws)))
        kwargs = [(name, self.scalar(ctx, kt, depth - 1)) for name, kt in kws]
        return M.Call(t=t, fn=f.name, args=[self.scalar(ctx, f.arg, depth - 1)], kwargs=kwargs, user=True,
                      target=f.target)

    def static_bool(self, ctx: Ctx) -> M.Expr:
        """A Bool known when compiling: literals compared, array sizes compared with literals."""
        arrays = ctx.find(lambda n, v: isinstance(v.t, Arr))

        def size_cmp() -> M.Expr | None:
            if not arrays:
                return None
            name, v = self.pick(arrays)
            if self.chance(0.6):
                size: M.Expr = call(INT, "length", var(name, v.t))
                k = v.t.length + self.rng.randint(-1, 1)
            else:
                d = self.rng.randint(1, v.t.ndim)
                size = call(INT, "size", var(name, v.t), ilit(d))
                k = v.t.shape[d - 1] + self.rng.randint(-1, 1)
            return op(BOOL, self.pick(_COMPARE), size, ilit(k))
        opts: list[tuple[float, Callable[[], Any]]] = [
            (1, lambda: op(BOOL, self.pick(_COMPARE), ilit(self.rng.randint(0, 4)), ilit(self.rng.randint(0, 4)))),
            (0.5, lambda: lit(BOOL, self.chance(0.5))),
            (3, size_cmp),
            (0.7, lambda: op(BOOL, self.pick(["&&", "||"]), self.static_bool(ctx), self.static_bool(ctx))),
            (0.4, lambda: op(BOOL, "!", self.static_bool(ctx))),
        ]
        return self.first(opts)

    def val_call(self, ctx: Ctx, t: Scalar, depth: int) -> M.Expr | None:
        """`f(Val(3), ...)` for `f(::Val{N}, ...) where {N}`; `g(Val(length(x) > 2), ...)` for the
        pair `g(::Val{true}, ...)`, `g(::Val{false}, ...)`."""
        cands = [f for f in self.val_funcs if f.ret == t]
        if not cands:
            return None
        f = self.pick(cands)
        rest = [self.scalar(ctx, x, depth - 1) for x in f.extra]
        if f.kind == "N":
            return call(t, f.name, M.ValE(e=ilit(self.rng.randint(1, 4))), *rest, user=True, target=f.target)
        return call(t, f.name, M.ValE(e=self.static_bool(ctx)), *rest, user=True, target=f.target)

    def cart_int(self, ctx: Ctx, depth: int) -> M.Expr | None:
        """`I[d]` of a CartesianIndex loop variable, or `LinearIndices(A)[i, j]`."""
        carts = ctx.find(lambda n, v: isinstance(v.t, CartIdx))
        if carts and self.chance(0.7):
            name, v = self.pick(carts)
            return M.Index(t=INT, base=var(name, v.t), idxs=[ilit(self.rng.randint(1, len(v.t.shape)))])
        return self.linear_indices(ctx, None, depth)

    def linear_indices(self, ctx: Ctx, n: int | None, depth: int) -> M.Expr | None:
        """`LinearIndices(A)[i, j]` (or `[I]`): in 1:length(A), so an index into anything at least
        that long (n: the length it must fit)."""
        mats = ctx.find(lambda nm, v: isinstance(v.t, Arr) and v.t.ndim >= 2 and (n is None or v.t.length <= n))
        if not mats or depth <= 0:
            return None
        name, v = self.pick(mats)
        carts = [c for c, cv in ctx.find(lambda nm, cv: isinstance(cv.t, CartIdx) and cv.t.shape == v.t.shape)]
        # `end` in these brackets (lastindex of the LinearIndices) only with the `index_objects_end` category
        end_ok = self.F.on("index_objects_end")
        r = self.rng.random()
        if carts and r < 0.4:
            idxs: list[M.Expr] = [var(self.pick(carts), CartIdx(v.t.shape))]
        elif r < 0.6:                          # a linear index into LinearIndices: itself
            idxs = [self.index_expr(ctx, v.t.length, depth - 1, allow_end=end_ok)]
        else:
            idxs = [self.index_expr(ctx, s, depth - 1, allow_end=end_ok) for s in v.t.shape]
        return M.Index(t=INT, base=call(None, "LinearIndices", var(name, v.t)), idxs=idxs)

    def operand_types(self, ctx: Ctx, t: Scalar, o: str) -> tuple[Scalar, Scalar] | None:
        """Operand types whose `o` gives t (Julia promotion), drawn with a bias to t itself."""
        pool = [INT, F64] + ([F32] if self.F.on("float32") and not ctx.grad else [])
        pairs = [(a, b) for a in pool for b in pool if arith_type(o, a, b) == t]
        if not pairs:
            return None
        same = [(a, b) for a, b in pairs if a == b == t]
        return self.pick(same) if same and self.chance(0.55) else self.pick(pairs)

    def arith(self, ctx: Ctx, t: Scalar, depth: int) -> M.Expr | None:
        o = self.pick(["+", "-", "*", "+", "-", "*"] + (["/"] if t.is_float else []))
        types = self.operand_types(ctx, t, o)
        if types is None:
            return None
        a, b = (self.scalar(ctx, x, depth - 1) for x in types)
        if o == "/" and ctx.grad:
            b = op(types[1], "+", call(types[1], "abs", b), ilit(1)) if types[1] != INT else b
            if types[1] == INT:
                b = op(INT, "+", call(INT, "abs", b), ilit(1))
        return op(t, o, a, b)

    def literal_form(self, ctx: Ctx, t: Scalar, depth: int) -> M.Expr | None:
        """The literal forms whose parsing is easy to get wrong: x^2, -x^2, (-x)^2, x^-1, 2x, 2x^2
        (no poles on a gradient path: an infinite partial derivative times 0 is NaN)."""
        pole = 0 if ctx.grad else 1
        cands = [n for n, _ in ctx.of_type(t) if n[0] not in "eEfF"]
        base: M.Expr = var(self.pick(cands), t) if cands else self.scalar(ctx, t, depth - 1)
        forms: list[tuple[float, Callable[[], Any]]] = [
            (2, lambda: op(t, "^", base, ilit(2))),
            (1, lambda: op(t, "^", base, ilit(3))),
            (1.5, lambda: op(t, "-", op(t, "^", base, ilit(2)))),
            (1.5, lambda: op(t, "^", op(t, "-", base), ilit(2))),
            (pole if t.is_float else 0, lambda: op(t, "^", base, ilit(-1))),
            (2 if isinstance(base, M.Var) and t != BOOL else 0,
             lambda: M.Juxt(t=t, coef=ilit(self.pick([2, 3])), e=base)),
            (1 if isinstance(base, M.Var) and t == F64 else 0,
             lambda: M.Juxt(t=t, coef=lit(F64, self.pick([0.5, 1.5, 2.0])), e=op(t, "^", base, ilit(2)))),
            (1 if t.is_float and not ctx.grad else 0, lambda: self.runtime_pow(ctx, t, base)),
            (pole if t.is_float else 0, lambda: op(F64, "/", ilit(1), M.Juxt(t=t, coef=ilit(2), e=base))
             if t == F64 and isinstance(base, M.Var) else None),
        ]
        if t == INT:
            forms = forms[:4] + [(2, lambda: M.Juxt(t=t, coef=ilit(2), e=base) if isinstance(base, M.Var) else None)]
        return self.first(forms)

    def runtime_pow(self, ctx: Ctx, t: Scalar, base: M.Expr) -> M.Expr | None:
        ks = [n for n, v in ctx.of_type(INT) if v.small]
        if not ks:
            return None
        return op(t, "^", base, var(self.pick(ks), INT))

    def math_call(self, ctx: Ctx, t: Scalar, depth: int) -> M.Expr | None:
        sub = lambda tt=t: self.scalar(ctx, tt, depth - 1)  # noqa: E731
        if t == INT:
            opts = [
                (2, lambda: call(INT, "abs", sub())),
                (2, lambda: call(INT, self.pick(["min", "max"]), sub(), sub())),
                (1, lambda: call(INT, "clamp", sub(), *self.clamp_bounds(INT))),
                (0.5, lambda: call(INT, "sign", sub())),
            ]
            return self.first(opts)
        grad = ctx.grad
        opts = [
            (2, lambda: call(t, "abs", sub())),
            (2, lambda: call(t, "sqrt", call(t, "abs", sub())) if not grad else
             call(t, "sqrt", op(t, "+", op(t, "*", (s := sub()), s), ilit(1)))),
            (1, lambda: call(t, "exp", op(t, "-", call(t, "abs", sub())))),
            (0.7, lambda: call(t, "exp", self.scalar(ctx, t, min(depth - 1, 1)))),
            (1.5, lambda: call(t, self.pick(["sin", "cos", "tanh"]), sub())),
            # (not under gradients: their derivatives are infinite at the domain's ends, as Zygote's)
            (0.6 if not grad else 0, lambda: call(t, self.pick(["asin", "acos", "atanh"]), call(t, "tanh", sub()))),
            (0.4, lambda: call(t, "asinh", sub())),
            (0.4 if not grad else 0, lambda: call(t, "acosh", op(t, "+", call(t, "abs", sub()), ilit(1)))),
            (0.7, lambda: call(t, "log", op(t, "+", call(t, "abs", sub()), ilit(1)))),
            (2, lambda: call(t, self.pick(["min", "max"]), sub(), self.scalar(ctx, self.minmax_partner(ctx, t),
                                                                              depth - 1))),
            (1, lambda: call(t, "clamp", sub(), *self.clamp_bounds(t))),
            (0.8 if not grad else 0, lambda: call(t, self.pick(["round", "floor", "ceil"]), sub())),
            (0.5, lambda: call(t, "abs2", sub())),
        ]
        return self.first(opts)

    def clamp_bounds(self, t: Scalar) -> tuple[M.Lit, M.Lit]:
        """Literal bounds lo <= hi (Julia leaves clamp with lo > hi unspecified in its docs)."""
        lo, hi = sorted([self.literal(t), self.literal(t)], key=lambda x: x.value)
        return lo, hi

    def minmax_partner(self, ctx: Ctx, t: Scalar) -> Scalar:
        """A second argument type for min/max whose promotion with t is t."""
        return t if self.chance(0.7) else INT

    def int_op(self, ctx: Ctx, depth: int) -> M.Expr:
        a = self.scalar(ctx, INT, depth - 1)
        divisor = op(INT, "+", call(INT, "mod", self.scalar(ctx, INT, depth - 2), ilit(self.rng.randint(2, 5))),
                     ilit(1))
        if self.chance(0.3):
            divisor = ilit(self.pick([2, 3, 4, -3, 7]))
        o = self.pick(["÷", "%", "mod", "rem", "fld", "cld", "div"])
        if o in ("÷", "%"):
            return op(INT, o, a, divisor)
        return call(INT, o, a, divisor)

    def division_mode_op(self, ctx: Ctx, t: Scalar, depth: int) -> M.Expr:
        """Division rounded by a mode: fld/cld/div/÷/rem/mod/% of floats (a float or an Int dividend,
        a divisor away from 0), div/rem with a RoundingMode (of integers: all seven; of floats: the
        four that are not to nearest), round(x, mode) of floats."""
        if t == INT:
            modes = ["RoundNearest", "RoundNearestTiesAway", "RoundNearestTiesUp", "RoundDown", "RoundUp",
                     "RoundToZero", "RoundFromZero"]
            divisor = op(INT, "+", call(INT, "mod", self.scalar(ctx, INT, depth - 2), ilit(self.rng.randint(2, 5))),
                         ilit(1))
            if self.chance(0.4):
                divisor = op(INT, "-", divisor)
            return call(INT, self.pick(["div", "rem"]), self.scalar(ctx, INT, depth - 1), divisor,
                        M.Named(t=None, name=self.pick(modes)))
        if self.chance(0.25):
            mode = self.pick(["RoundNearestTiesAway", "RoundNearestTiesUp", "RoundFromZero", "RoundNearest",
                              "RoundDown", "RoundToZero"])
            return call(t, "round", self.scalar(ctx, t, depth - 1), M.Named(t=None, name=mode))
        dividend = self.scalar(ctx, INT if self.chance(0.2) else t, depth - 1)
        if self.chance(0.4):
            divisor: M.Expr = lit(t, self.pick([0.5, 0.25, 2.0, -1.5, 0.1, 3.0, -0.3]))
        else:
            divisor = op(t, "+", call(t, "abs", self.scalar(ctx, t, depth - 1)), lit(t, 0.5))
            if self.chance(0.3):
                divisor = op(t, "-", divisor)
        o = self.pick(["÷", "%", "fld", "cld", "div", "rem", "mod", "div3", "rem3"])
        if o in ("÷", "%"):
            return op(t, o, dividend, divisor)
        if o in ("div3", "rem3"):
            mode = self.pick(["RoundDown", "RoundUp", "RoundToZero", "RoundFromZero"])
            return call(t, o[:3], dividend, divisor, M.Named(t=None, name=mode))
        return call(t, o, dividend, divisor)

    def index_expr(self, ctx: Ctx, n: int, depth: int, allow_end: bool = True) -> M.Expr:
        """An Int index in 1:n by construction."""
        loopvars = [name for name, v in ctx.of_type(INT) if v.bounds and 1 <= v.bounds[0] and v.bounds[1] <= n]
        opts: list[tuple[float, Callable[[], Any]]] = [
            (2, lambda: ilit(self.rng.randint(1, n))),
            (4 if loopvars else 0, lambda: var(self.pick(loopvars), INT)),
            (1.5, lambda: op(INT, "+", call(INT, "mod", self.scalar(ctx, INT, min(depth - 1, 1)), ilit(n)), ilit(1))),
            (1, lambda: call(INT, "clamp", self.scalar(ctx, INT, min(depth - 1, 1)), ilit(1), ilit(n))),
            (1 if allow_end else 0, lambda: M.End(t=INT, minus=self.rng.randint(0, n - 1))),
            (self.w("begin_index", 0.6) if allow_end else 0, lambda: M.Begin(t=INT, plus=self.rng.randint(0, n - 1))),
            (self.w("cartesian", 0.5) if depth > 0 else 0, lambda: self.linear_indices(ctx, n, depth)),
        ]
        comps = [(name, d, v.t) for name, v in ctx.find(lambda nm, v: isinstance(v.t, CartIdx))
                 for d, s in enumerate(v.t.shape, 1) if s <= n]
        if comps:
            opts.append((self.w("cartesian", 4), lambda: (lambda c: M.Index(
                t=INT, base=var(c[0], c[2]), idxs=[ilit(c[1])]))(self.pick(comps))))
        shifted = [name for name, v in ctx.of_type(INT) if v.bounds and 1 <= v.bounds[0] - 1 and v.bounds[1] - 1 <= n]
        if shifted:
            opts.append((1.5, lambda: op(INT, "-", var(self.pick(shifted), INT), ilit(1))))
        up = [name for name, v in ctx.of_type(INT) if v.bounds and 1 <= v.bounds[0] + 1 and v.bounds[1] + 1 <= n]
        if up:
            opts.append((1.5, lambda: op(INT, "+", var(self.pick(up), INT), ilit(1))))
        return self.first(opts)

    def indices_for(self, ctx: Ctx, t: Arr, depth: int) -> list[M.Expr]:
        carts = [n for n, v in ctx.find(lambda n, v: isinstance(v.t, CartIdx) and v.t.shape == t.shape)]
        if carts and self.chance(0.6):                 # A[I] in `for I in CartesianIndices(A)`
            return [var(self.pick(carts), CartIdx(t.shape))]
        if t.ndim > 1 and self.F.on("linear_index") and self.chance(0.2 * self.F.w("linear_index")):
            return [self.index_expr(ctx, t.length, depth)]
        return [self.index_expr(ctx, n, depth) for n in t.shape]

    def element_read(self, ctx: Ctx, t: Scalar, depth: int) -> M.Expr | None:
        arrays = ctx.find(lambda n, v: isinstance(v.t, Arr) and v.t.elt == t)
        if not arrays:
            return None
        name, v = self.pick(arrays)
        return M.Index(t=t, base=var(name, v.t), idxs=self.indices_for(ctx, v.t, depth - 1))

    def array_operand(self, ctx: Ctx, elt: Scalar | None, depth: int, ndim: int | None = None) -> M.Expr | None:
        """An existing array (or a simple array expression) with this element type."""
        arrays = ctx.find(lambda n, v: isinstance(v.t, Arr) and (elt is None or v.t.elt == elt)
                          and (ndim is None or v.t.ndim == ndim))
        if not arrays:
            return None
        name, v = self.pick(arrays)
        if depth > 1 and self.chance(0.3):
            return self.array(ctx, v.t, depth - 1)
        return var(name, v.t)

    def reduction(self, ctx: Ctx, t: Scalar, depth: int) -> M.Expr | None:
        if t == INT:
            arr = self.array_operand(ctx, None, depth)
            if arr is None:
                return None
            opts = [
                (2, lambda: call(INT, "length", arr)),
                (1, lambda: call(INT, "sum", arr) if arr.t.elt == INT else None),
                (1.5, lambda: call(INT, "count", self.predicate_lambda(ctx, arr.t.elt), arr)),
                (1.5, lambda: call(INT, "sum", self.compare_array(ctx, arr, depth))),
                (1, lambda: call(INT, self.pick(["maximum", "minimum"]), arr) if arr.t.elt == INT else None),
            ]
            return self.first(opts)
        arr = self.array_operand(ctx, t, depth)
        if arr is None:
            return None
        grad = ctx.grad
        opts = [
            (3, lambda: call(t, "sum", arr)),
            (1.5, lambda: call(t, self.pick(["maximum", "minimum"]), arr)),
            (0.5 if arr.t.length <= 6 and not grad else 0, lambda: call(t, "prod", arr)),
            (1, lambda: call(t, "sum", M.FuncRef(t=None, name=self.pick(["abs2", "abs"])), arr)),
            (1, lambda: call(t, "sum", self.map_lambda(ctx, t, depth), arr)),
            (1, lambda: self.dot_call(ctx, arr, t)),
            (0.7 if not grad else 0.2, lambda: call(t, "norm", arr)),
            (self.w("runtime_slices", 2) if not grad else 0, lambda: self.runtime_slice_reduction(ctx, t)),
        ]
        return self.first(opts)

    def runtime_slice_reduction(self, ctx: Ctx, t: Scalar) -> M.Expr | None:
        """A reduction over slices whose length is a loop variable's (`sum(v[1:k-1])`,
        `dot(v[1:k], w[1:k])`, `maximum(v[k:end])`), k within 1..length(v)."""
        vecs = ctx.find(lambda n, v: isinstance(v.t, Arr) and v.t.ndim == 1 and v.t.elt == t)
        if not vecs:
            return None
        name, v = self.pick(vecs)
        n = v.t.shape[0]
        ks = [k for k, kv in ctx.of_type(INT) if kv.bounds and kv.bounds[0] >= 1 and kv.bounds[1] <= n
              and kv.bounds[0] != kv.bounds[1]]
        if not ks:
            return None
        k = var(self.pick(ks), INT)
        x = var(name, v.t)
        head = M.Index(t=None, base=x, idxs=[M.RangeE(t=None, start=ilit(1), step=None, stop=op(INT, "-", k, ilit(1)))])
        tail = M.Index(t=None, base=x, idxs=[M.RangeE(t=None, start=k, step=None, stop=M.End(t=INT))])
        upto = M.Index(t=None, base=x, idxs=[M.RangeE(t=None, start=ilit(1), step=None, stop=k)])
        others = [m for m, w in ctx.of_type(v.t)]
        opts = [
            (2, lambda: call(t, "sum", head)),
            (1, lambda: call(t, "sum", M.FuncRef(t=None, name="abs2"), tail)),
            (1, lambda: call(t, self.pick(["maximum", "minimum"]), tail)),
            (1.5 if others else 0, lambda: call(t, "dot", upto, M.Index(
                t=None, base=var(self.pick(others), v.t),
                idxs=[M.RangeE(t=None, start=ilit(1), step=None, stop=k)]))),
        ]
        return self.first(opts)

    def dot_call(self, ctx: Ctx, arr: M.Expr, t: Scalar) -> M.Expr | None:
        other = [n for n, v in ctx.of_type(arr.t)]
        if not other:
            return None
        return call(t, "dot", arr, var(self.pick(other), arr.t))

    def adjoint_dot(self, ctx: Ctx, t: Scalar, depth: int) -> M.Expr | None:
        vecs = ctx.find(lambda n, v: isinstance(v.t, Arr) and v.t.ndim == 1 and v.t.elt == t)
        if not vecs:
            return None
        n1, v1 = self.pick(vecs)
        n2, _ = self.pick([(n, v) for n, v in vecs if v.t == v1.t])
        return op(t, "*", op(Arr(t, (1, v1.t.shape[0])), "'", var(n1, v1.t)), var(n2, v1.t))

    def predicate_lambda(self, ctx: Ctx, elt: Scalar) -> M.Lambda:
        p = self.fid("u")
        ctx.push()
        ctx.declare(p, VarInfo(elt, readonly=True))
        body = op(BOOL, self.pick(_COMPARE[:4]), var(p, elt), self.literal(elt if elt != BOOL else INT))
        ctx.pop()
        return M.Lambda(t=Fn((elt,), BOOL), params=[p], body=body)

    def map_lambda(self, ctx: Ctx, t: Scalar, depth: int) -> M.Lambda:
        """`v -> expr(v)` from t to t (closing over the variables in scope)."""
        p = self.fid("u")
        ctx.push()
        ctx.declare(p, VarInfo(t, readonly=True))
        body = self.scalar(ctx, t, min(depth - 1, 2))
        ctx.pop()
        return M.Lambda(t=Fn((t,), t), params=[p], body=body)

    def compare_array(self, ctx: Ctx, arr: M.Expr, depth: int) -> M.Expr:
        """`x .< c`: a Bool array."""
        elt = arr.t.elt
        other = self.literal(elt if elt != BOOL else INT) if self.chance(0.6) else self.scalar(ctx, elt, depth - 2)
        return op(arr.t.with_elt(BOOL), self.pick(_COMPARE[:4]), arr, other, dot=True)

    def generator_reduction(self, ctx: Ctx, t: Scalar, depth: int, filtered: bool = False) -> M.Expr | None:
        """`sum(body for i in eachindex(x))`; `filtered`: with `if cond`, which the body may need (it
        runs only where cond holds), and often an `init` (an empty selection without one throws)."""
        arrays = ctx.find(lambda n, v: isinstance(v.t, Arr) and v.t.ndim == 1)
        if not arrays or filtered and (t == BOOL or ctx.grad):
            return None
        name, v = self.pick(arrays)
        iv = self.fid("i")
        ctx.push()
        ctx.declare(iv, VarInfo(INT, bounds=(1, v.t.length), readonly=True, small=True))
        body = self.scalar(ctx, t, min(depth - 1, 3))
        cond = self.bool_expr(ctx, min(depth - 1, 2)) if filtered else None
        ctx.pop()
        it = call(None, "eachindex", var(name, v.t)) if self.chance(0.6) else M.RangeE(
            t=None, start=ilit(1), step=None, stop=call(INT, "length", var(name, v.t)))
        red = self.pick(["sum", "sum", "maximum", "minimum"] + (["prod"] if v.t.length <= 4 and not ctx.grad else []))
        if t == INT and red == "prod":
            red = "sum"
        kwargs = [("init", self.literal(t))] if filtered and self.chance(0.7) else []
        return call(t, red, M.Gen(t=None, body=body, var=iv, iter=it, cond=cond), kwargs=kwargs)

    def search(self, ctx: Ctx, depth: int) -> M.Expr | None:
        """`something(findfirst(pred, v), 0)`, `something(findlast(v .> c), -1)`: a search whose
        result is `nothing` where no element qualifies."""
        arr = self.array_operand(ctx, None, depth, ndim=1)
        if arr is None or arr.t.elt == BOOL:
            return None
        found = call(INT, self.pick(["findfirst", "findlast"]),
                     *((self.predicate_lambda(ctx, arr.t.elt), arr) if self.chance(0.5) else
                       (self.compare_array(ctx, arr, depth),)))
        return call(INT, "something", found, ilit(self.pick([0, -1, 7])))

    def runtime_generator_reduction(self, ctx: Ctx, t: Scalar, depth: int) -> M.Expr | None:
        """`sum(body for k in 1:n)` with n a run-time Int: a loop in jlhlo, empty when n < 1 (sum
        and prod then give zero(T)/one(T), maximum/minimum Julia's ArgumentError)."""
        smalls = [(n, v) for n, v in ctx.of_type(INT) if v.small and v.bounds and v.bounds[1] <= 12]
        if not smalls or t == BOOL or ctx.grad:     # gradient needs loops of constant trip count
            return None
        n, v = self.pick(smalls)
        iv = self.fid("k")
        ctx.push()
        ctx.declare(iv, VarInfo(INT, bounds=(1, max(v.bounds[1], 1)), readonly=True, small=True))
        body = self.scalar(ctx, t, min(depth - 1, 3))
        ctx.pop()
        it = M.RangeE(t=None, start=ilit(1), step=None, stop=var(n, INT)) if self.chance(0.6) else \
            M.RangeE(t=None, start=var(n, INT), step=ilit(-1), stop=ilit(1))
        red = self.pick(["sum", "sum", "maximum", "minimum"] + (["prod"] if v.bounds[1] <= 4 and t != INT else []))
        return call(t, red, M.Gen(t=None, body=body, var=iv, iter=it))

    def bool_expr(self, ctx: Ctx, depth: int) -> M.Expr:
        if depth <= 0:
            bools = [n for n, _ in ctx.of_type(BOOL)]
            if bools and self.chance(0.5):
                return var(self.pick(bools), BOOL)
            return self.comparison(ctx, 0)
        F = self.w
        opts = [
            (6, lambda: self.comparison(ctx, depth)),
            (F("andor", 1.5), lambda: op(BOOL, self.pick(["&&", "||"]), self.bool_expr(ctx, depth - 1),
                                         self.bool_expr(ctx, depth - 1))),
            (0.7, lambda: op(BOOL, "!", self.bool_expr(ctx, depth - 1))),
            (F("chained_cmp"), lambda: self.chained(ctx, depth)),
            (F("nan_eq", 2 if self.special else 0.5), lambda: self.equality(ctx, depth)),
            (1, lambda: var(self.pick(b), BOOL) if (b := [n for n, _ in ctx.of_type(BOOL)]) else None),
            (0.7, lambda: call(BOOL, self.pick(["iseven", "isodd"]), self.scalar(ctx, INT, depth - 1))),
            (F("reductions", 0.6), lambda: self.any_all(ctx, depth)),
            (F("nan_eq", 0.5), lambda: call(BOOL, "isnan", self.scalar(ctx, F64, depth - 1))),
            (F("nan_eq", 0.3), lambda: call(BOOL, "signbit", self.atom(ctx, F64))),
            (F("struct_arrays", 1.2), lambda: self.sa_bool(ctx, depth)),
            (F("if_expr", 0.1), lambda: call(BOOL, "isnothing", self.if_expr(
                ctx, self.scalar_type(), depth, with_else=False))),
        ]
        out = self.first(opts)
        return out if out is not None else self.comparison(ctx, 0)

    def comparison(self, ctx: Ctx, depth: int) -> M.Expr:
        t = self.scalar_type()
        o = self.pick(_COMPARE)
        if t.is_float and o in ("==", "!=") and not self.special:
            o = self.pick(["<", ">"])
        a = self.scalar(ctx, t, depth - 1)
        if self.chance(0.5):
            b = self.literal(t if self.chance(0.7) else INT)
        else:
            b = self.scalar(ctx, self.scalar_type(), depth - 1)
        return op(BOOL, o, a, b)

    def chained(self, ctx: Ctx, depth: int) -> M.Expr:
        t = self.scalar_type()
        lo, hi = sorted([self.literal(t), self.literal(t)], key=lambda x: x.value)
        return M.Chain(t=BOOL, items=[lo, self.scalar(ctx, t, depth - 1), hi],
                       ops=[self.pick(["<", "<="]), self.pick(["<", "<="])])

    def atom(self, ctx: Ctx, t: Scalar) -> M.Expr:
        """A value read as stored (variable, element, literal): NaN payloads stay as in the input."""
        scalars = [n for n, _ in ctx.of_type(t)]
        arrays = ctx.find(lambda n, v: isinstance(v.t, Arr) and v.t.elt == t)

        def element() -> M.Expr:
            name, v = self.pick(arrays)
            return M.Index(t=t, base=var(name, v.t), idxs=self.indices_for(ctx, v.t, 1))
        opts: list[tuple[float, Callable[[], Any]]] = [
            (3 if scalars else 0, lambda: var(self.pick(scalars), t)),
            (3 if arrays else 0, element),
            (1.5, lambda: lit(t, self.pick([float("nan"), -0.0, 0.0, 1.0]) if t.is_float else self.rng.randint(-2, 2))),
        ]
        return self.first(opts)

    def equality(self, ctx: Ctx, depth: int) -> M.Expr:
        """==, !=, ===, !==, isequal on stored values of one type (NaN and -0.0 are where they differ)."""
        t = self.pick([F64, F64, INT] + ([F32] if self.F.on("float32") else []))
        a, b = self.atom(ctx, t), self.atom(ctx, t)
        kind = self.pick(["==", "!=", "===", "!==", "isequal", "!isequal"])
        if kind == "isequal":
            return call(BOOL, "isequal", a, b)
        if kind == "!isequal":
            return op(BOOL, "!", call(BOOL, "isequal", a, b))
        return op(BOOL, kind, a, b)

    def any_all(self, ctx: Ctx, depth: int) -> M.Expr | None:
        arr = self.array_operand(ctx, None, depth)
        if arr is None or arr.t.elt == BOOL:
            return None
        if arr.t.ndim == 1 and self.F.on("searches") and self.chance(0.2):
            return call(BOOL, "isnothing", call(INT, "findfirst", self.predicate_lambda(ctx, arr.t.elt), arr))
        if self.chance(0.5):
            return call(BOOL, self.pick(["any", "all"]), self.predicate_lambda(ctx, arr.t.elt), arr)
        return call(BOOL, self.pick(["any", "all"]), self.compare_array(ctx, arr, depth))

    def conversion(self, ctx: Ctx, t: Scalar, depth: int) -> M.Expr | None:
        if ctx.grad and t != INT:
            return None
        if t == INT:
            src = self.pick([F64, F32] if self.F.on("float32") else [F64])
            e = self.scalar(ctx, src, depth - 1)
            if self.is_special(ctx, e) or ctx.grad:
                return None
            kind = self.pick(["round", "floor", "ceil", "trunc"])
            return call(INT, kind, M.TypeLit(t=None, of=INT), e)
        src = self.pick([s for s in (INT, F64, F32) if s != t and (s != F32 or self.F.on("float32"))])
        return call(t, t.name, self.scalar(ctx, src, depth - 1))

    def bool_arith(self, ctx: Ctx, t: Scalar, depth: int) -> M.Expr | None:
        """Bool operands in arithmetic: `true + 1` is an Int; `false * x` is a strong zero."""
        if ctx.grad:
            return None
        c = self.bool_expr(ctx, depth - 1)
        o = self.pick(["*", "+"] if t.is_float else ["*", "+", "-"])
        other = self.scalar(ctx, t, depth - 1)
        args = (c, other) if self.chance(0.5) else (other, c)
        return op(t, o, *args)

    # ------------------------------------------------------------------ calls of user functions
    def args_for(self, ctx: Ctx, f: M.FuncDef, depth: int, skip: int = 0) -> list[M.Expr]:
        return [self.expr(ctx, p.t, depth - 1) for p in f.params[skip:]]

    def helper_call(self, ctx: Ctx, t: Scalar, depth: int) -> M.Expr | None:
        pool = self.grad_helpers if ctx.grad else self.scalar_helpers + self.array_helpers
        cands = [f for f in pool if f.ret == t]
        if not cands:
            return None
        f = self.pick(cands)
        if any(isinstance(p.t, Arr) for p in f.params) and not all(
                not isinstance(p.t, Arr) or ctx.of_type(p.t) for p in f.params):
            return None
        args = [self.pick_var_or_expr(ctx, p.t, depth) for p in f.params]
        if self.F.on("splat") and self.chance(0.3 * self.F.w("splat")):
            args = self.splat_args(ctx, f, depth) or args
        return call(t, f.name, *args, user=True, target=f.target)

    def pick_var_or_expr(self, ctx: Ctx, t: JType, depth: int) -> M.Expr:
        if isinstance(t, Arr):
            cands = [n for n, _ in ctx.of_type(t)]
            if cands and self.chance(0.7):
                return var(self.pick(cands), t)
        return self.expr(ctx, t, depth - 1)

    def generic_call(self, ctx: Ctx, t: Scalar, depth: int) -> M.Expr | None:
        if ctx.grad:
            return None
        for g in self.rng.sample(self.generics, len(self.generics)):
            arg_types = [INT, F64] + ([F32] if self.F.on("float32") else [])
            arg_types += [v.t for _, v in ctx.find(lambda n, v: isinstance(v.t, Arr))]
            self.rng.shuffle(arg_types)
            for at in arg_types:
                m = select(g, at)
                # the Any/abstract-number methods convert their argument to a number first
                if m is not None and m.fdef.ret == t and (not isinstance(at, Arr) or m.pattern.startswith("Abstract")):
                    arg = self.pick_var_or_expr(ctx, at, depth)
                    return call(t, g.name, arg, user=True, target=m.fdef.target)
        return None

    def closure_call(self, ctx: Ctx, t: Scalar, depth: int) -> M.Expr | None:
        fns = ctx.find(lambda n, v: isinstance(v.t, Fn) and v.t.ret == t)
        if not fns:
            return None
        name, v = self.pick(fns)
        return call(t, name, *[self.expr(ctx, p, depth - 1) for p in v.t.params], target=name)

    def struct_read(self, ctx: Ctx, t: Scalar, depth: int) -> M.Expr | None:
        svars = ctx.find(lambda n, v: isinstance(v.t, Struct))
        opts: list[tuple[float, Callable[[], Any]]] = []
        for name, v in svars:
            for fname, ft in v.t.fields:
                if ft == t:
                    opts.append((2, lambda name=name, v=v, fname=fname: M.Field(t=t, base=var(name, v.t), name=fname)))
                elif isinstance(ft, Arr) and t in (ft.elt, INT):     # sum(p.a), length(p.b)
                    fn = "sum" if t == ft.elt and t != BOOL else "length"
                    opts.append((2, lambda name=name, v=v, fname=fname, ft=ft, fn=fn: call(
                        t, fn, M.Field(t=ft, base=var(name, v.t), name=fname))))
        if ctx.grad:
            return None
        for m in self.struct_methods:
            st = m.params[0].t
            if m.ret == t:
                opts.append((2, lambda m=m, st=st: self.struct_method_call(ctx, m, st, depth)))
        return self.first(opts) if opts else None

    def struct_method_call(self, ctx: Ctx, m: M.FuncDef, st: JType, depth: int) -> M.Expr:
        obj = self.expr(ctx, st, depth - 1)
        rest = self.args_for(ctx, m, depth, skip=1)
        if m.callable:
            if isinstance(obj, M.Var):
                return M.Call(t=m.ret, fn=obj.name, args=rest, target=obj.name)
            return None
        return call(m.ret, m.name, obj, *rest, user=True, target=m.target)

    def tuple_read(self, ctx: Ctx, t: Scalar, depth: int) -> M.Expr | None:
        tups = ctx.find(lambda n, v: isinstance(v.t, Tup) and t in v.t.items)
        if not tups:
            return None
        name, v = self.pick(tups)
        ks = [k for k, it in enumerate(v.t.items, 1) if it == t]
        homogeneous = all(it == t for it in v.t.items)
        if homogeneous and self.F.on("tuple_dyn_index") and self.chance(0.4):
            k = op(INT, "+", call(INT, "mod", self.scalar(ctx, INT, depth - 1), ilit(len(v.t.items))), ilit(1))
            return M.Index(t=t, base=var(name, v.t), idxs=[k])
        return M.Index(t=t, base=var(name, v.t), idxs=[ilit(self.pick(ks))])

    def construct(self, ctx: Ctx, st: Struct, depth: int) -> M.Expr:
        args = [self.expr(ctx, ft, depth - 1) for _, ft in st.fields]
        # array fields share one type parameter: each argument must be a plain Array, not a view
        args = [call(a.t, "collect", a) if isinstance(a.t, Arr) and self._maybe_view(ctx, a) else a for a in args]
        return call(st, st.name, *args, user=True, target=st.name)

    def _maybe_view(self, ctx: Ctx, e: M.Expr) -> bool:
        if isinstance(e, M.Var):
            return not ctx.lookup(e.name).contiguous
        return is_lazy(e) or isinstance(e, M.Ternary)

    # ------------------------------------------------------------------ array expressions
    def array(self, ctx: Ctx, t: Arr, depth: int) -> M.Expr:
        same = [n for n, _ in ctx.of_type(t)]
        if depth <= 0:
            return var(self.pick(same), t) if same else self.array_leaf(ctx, t)
        F = self.w
        opts: list[tuple[float, Callable[[], Any]]] = [
            (3 if same else 0, lambda: var(self.pick(same), t)),
            (F("array_fns", 0.7) if same else 0, lambda: call(t, "copy", var(self.pick(same), t))),
            (F("bcast", 3), lambda: self.bcast_binop(ctx, t, depth)),
            (F("bcast", 1.5), lambda: self.bcast_fn(ctx, t, depth)),
            (F("bcast_user_fn", 2), lambda: self.bcast_user(ctx, t, depth)),
            (F("closures", 0.7), lambda: self.bcast_closure(ctx, t, depth)),
            (F("slicing", 1.5), lambda: self.slice_of(ctx, t, depth)),
            (F("comprehension"), lambda: self.comprehension(ctx, t, depth)),
            (F("comprehension_2d") if t.ndim == 2 else 0, lambda: self.comprehension_2d(ctx, t, depth)),
            (F("comprehension_whole_array") if t.ndim == 1 else 0, lambda: self.whole_array_comp(ctx, t, depth)),
            (F("array_fns"), lambda: self.array_fn(ctx, t, depth)),
            (F("matmul"), lambda: self.matmul(ctx, t, depth)),
            (F("reductions_dims"), lambda: self.reduce_dims(ctx, t, depth)),
            (F("array_lit", 2) if t.ndim == 1 and t.shape[0] <= 4 else 0,
             lambda: M.ArrayLit(t=t, items=[self.scalar(ctx, t.elt, depth - 1) for _ in range(t.shape[0])])),
            (F("ternary", 0.3), lambda: M.Ternary(t=t, cond=self.bool_expr(ctx, depth - 1),
                                                  a=self.array(ctx, t, depth - 1), b=self.array(ctx, t, depth - 1))),
            (F("helpers", 0.7), lambda: self.array_helper_call(ctx, t, depth)),
            (F("splat", 0.5) if t.ndim == 1 else 0, lambda: self.splat_array(ctx, t, depth)),
            (F("struct_arrays", 1.5) if t.ndim == 1 else 0, lambda: self.sa_to_array(ctx, t, depth)),
            (1, lambda: self.array_leaf(ctx, t)),
        ]
        out = self.first(opts)
        return out if out is not None else self.array_leaf(ctx, t)

    def dims_args(self, ctx: Ctx, t: Arr) -> list[M.Expr]:
        """Size arguments for zeros/ones/fill: literals, or size(...) of a same-shaped array."""
        same_shape = ctx.find(lambda n, v: isinstance(v.t, Arr) and v.t.shape == t.shape)
        if same_shape and self.chance(0.4):
            n, v = self.pick(same_shape)
            return [call(Tup((INT,) * t.ndim), "size", var(n, v.t))]
        return [ilit(s) for s in t.shape]

    def array_leaf(self, ctx: Ctx, t: Arr) -> M.Expr:
        dims = self.dims_args(ctx, t)
        if t.elt == BOOL:
            return call(t, "fill", lit(BOOL, self.chance(0.5)), *dims)
        kind = self.pick(["zeros", "ones", "fill", "fill"])
        if kind == "fill" or ctx.grad:
            return call(t, "fill", self.scalar(ctx, t.elt, 1), *dims)
        args = ([] if t.elt == F64 and self.chance(0.7) else [M.TypeLit(t=None, of=t.elt)]) + dims
        return call(t, kind, *args)

    def bcast_shapes(self, t: Arr) -> tuple[tuple[int, ...] | None, tuple[int, ...] | None]:
        """Operand shapes (None: a scalar) that broadcast to t.shape, dims aligned from the first."""
        full = t.shape
        opts: list[tuple[float, Callable[[], Any]]] = [
            (4, lambda: (full, full)), (2, lambda: (full, None)), (2, lambda: (None, full)),
        ]
        if self.F.on("bcast_align") and t.ndim >= 2:
            prefix = full[: self.rng.randint(1, t.ndim - 1)]
            ones = tuple(1 if self.chance(0.5) else n for n in full)
            opts += [(self.w("bcast_align", 2), lambda: (full, prefix)),
                     (self.w("bcast_align", 1), lambda: (prefix, full)),
                     (self.w("bcast_align", 1.5), lambda: (full, ones))]
        if self.F.on("bcast_align") and t.ndim == 2 and t.shape[0] > 1 and t.shape[1] > 1:
            opts.append((self.w("bcast_align", 1), lambda: ((full[0],), (1, full[1]))))
        return self.first(opts)

    def operand(self, ctx: Ctx, elt: Scalar, shape: tuple[int, ...] | None, depth: int) -> M.Expr:
        if shape is None:
            return self.scalar(ctx, elt, depth - 1)
        if len(shape) == 2 and shape[0] == 1 and self.chance(0.5):
            # a vector as a 1×n Matrix (`x'` would be an Adjoint row: broadcasting only rows and
            # numbers gives a row, which the model's types do not tell from a Matrix)
            vt = Arr(elt, (shape[1],))
            vec = self.array(ctx, vt, depth - 1)
            return call(Arr(elt, shape), "permutedims", vec)
        return self.array(ctx, Arr(elt, shape), depth - 1)

    def bcast_binop(self, ctx: Ctx, t: Arr, depth: int) -> M.Expr | None:
        if t.elt == BOOL:
            elt = self.scalar_type()
            sa, sb = self.bcast_shapes(t)
            return op(t, self.pick(_COMPARE[:4]), self.operand(ctx, elt, sa, depth),
                      self.operand(ctx, elt, sb, depth), dot=True)
        o = self.pick(["+", "-", "*", "+", "-", "*"] + (["/"] if t.elt.is_float else []))
        types = self.operand_types(ctx, t.elt, o)
        if types is None:
            return None
        sa, sb = self.bcast_shapes(t)
        a, b = self.operand(ctx, types[0], sa, depth), self.operand(ctx, types[1], sb, depth)
        if o == "/" and ctx.grad and b.t != INT:
            b = op(b.t, "+", call(b.t, "abs", b, dot=sb is not None), ilit(1), dot=sb is not None)
        # `A + B` (same shape), `c * A`, `A * c`, `A / c` mean the same undotted
        undotted_ok = ((o in "+-" and sa == sb and sa is not None) or (o == "*" and (sa is None) != (sb is None))
                       or (o == "/" and sb is None and sa is not None))
        return op(t, o, a, b, dot=not (undotted_ok and self.chance(0.3)))

    def bcast_fn(self, ctx: Ctx, t: Arr, depth: int) -> M.Expr | None:
        sub = lambda tt=t: self.array(ctx, tt, depth - 1)  # noqa: E731
        e = t.elt
        if e == BOOL:
            return None
        opts: list[tuple[float, Callable[[], Any]]] = [
            (2, lambda: call(t, "abs", sub(), dot=True)),
            (1, lambda: op(t, "-", sub(), dot=True)),
            (2, lambda: call(t, self.pick(["max", "min"]), sub(), self.scalar(ctx, e, depth - 1), dot=True)),
            (1, lambda: call(t, "clamp", sub(), *self.clamp_bounds(e), dot=True)),
            (1.5, lambda: op(t, "^", sub(), ilit(self.pick([2, 3])), dot=True)),
            (1, lambda: call(t, "ifelse", self.compare_array(ctx, self.array(ctx, t, depth - 1), depth), sub(),
                             self.scalar(ctx, e, depth - 1), dot=True)),
        ]
        if e.is_float:
            opts += [
                (1.5, lambda: call(t, self.pick(["sin", "cos", "tanh"]), sub(), dot=True)),
                (1 if not ctx.grad else 0, lambda: call(t, "sqrt", call(t, "abs", sub(), dot=True), dot=True)),
                (0.7, lambda: call(t, "exp", op(t, "-", call(t, "abs", sub(), dot=True), dot=True), dot=True)),
                (0.7 if not ctx.grad else 0, lambda: call(t, self.pick(["round", "floor"]), sub(), dot=True)),
                (0.7 if not ctx.grad else 0, lambda: self.bcast_convert(ctx, t, depth)),
            ]
        elif not ctx.grad and self.F.on("conversions"):
            src = Arr(F64, t.shape)
            opts.append((0.7, lambda: call(t, "round", M.TypeLit(t=None, of=INT), self.array(ctx, src, depth - 1),
                                           dot=True)))
        return self.first(opts)

    def bcast_convert(self, ctx: Ctx, t: Arr, depth: int) -> M.Expr | None:
        if not self.F.on("conversions"):
            return None
        src = self.pick([s for s in (INT, F64, F32) if s != t.elt and (s != F32 or self.F.on("float32"))])
        return call(t, t.elt.name, self.array(ctx, Arr(src, t.shape), depth - 1), dot=True)

    def bcast_user(self, ctx: Ctx, t: Arr, depth: int) -> M.Expr | None:
        pool = self.grad_helpers if ctx.grad else self.scalar_helpers
        cands = [f for f in pool if f.ret == t.elt]
        if not cands:
            return None
        f = self.pick(cands)
        k = self.rng.randrange(len(f.params))            # the broadcast argument; the others scalars
        args = []
        for j, p in enumerate(f.params):
            if j == k or self.chance(0.3):
                args.append(self.array(ctx, Arr(p.t, t.shape), depth - 1))
            else:
                args.append(self.scalar(ctx, p.t, depth - 1))
        return call(t, f.name, *args, dot=True, user=True, target=f.target)

    def bcast_closure(self, ctx: Ctx, t: Arr, depth: int) -> M.Expr | None:
        if t.elt == BOOL:
            return None
        fns = ctx.find(lambda n, v: isinstance(v.t, Fn) and v.t.ret == t.elt and len(v.t.params) == 1
                       and v.t.params[0] == t.elt)
        src = self.array(ctx, t, depth - 1)
        if fns and self.chance(0.6):
            name, v = self.pick(fns)
            if self.chance(0.5):
                return M.Call(t=t, fn=name, args=[src], dot=True, target=name)
            return call(t, "map", M.Var(t=v.t, name=name), src)
        lam = self.map_lambda(ctx, t.elt, depth)
        return call(t, "map", lam, src)

    def slice_of(self, ctx: Ctx, t: Arr, depth: int) -> M.Expr | None:
        """A slice of a larger array with shape t.shape (a copy, or a view under @views)."""
        opts: list[tuple[float, Callable[[], Any]]] = []
        for name, v in ctx.find(lambda n, v: isinstance(v.t, Arr) and v.t.elt == t.elt):
            vt: Arr = v.t
            base = var(name, vt)
            if t.ndim == 1:
                L = t.shape[0]
                if vt.ndim == 1 and vt.shape[0] >= L:
                    opts.append((2, lambda base=base, vt=vt: M.Index(t=t, base=base,
                                                                      idxs=[self.vector_range(ctx, vt.shape[0], L)])))
                if vt.ndim == 2 and vt.shape[0] == L:
                    opts.append((2, lambda base=base, vt=vt: M.Index(
                        t=t, base=base, idxs=[M.Colon(), self.index_expr(ctx, vt.shape[1], depth - 1)])))
                if vt.ndim == 2 and vt.shape[1] == L:
                    opts.append((2, lambda base=base, vt=vt: M.Index(
                        t=t, base=base, idxs=[self.index_expr(ctx, vt.shape[0], depth - 1), M.Colon()])))
                if vt.ndim > 1 and vt.length == L:
                    opts.append((1, lambda base=base: M.Index(t=t, base=base, idxs=[M.Colon()])))
                    if v.contiguous and self.F.on("reshape_alias"):
                        opts.append((1, lambda base=base: call(t, "vec", base)))
                if vt.ndim == 3 and vt.shape[2] == L:
                    opts.append((1, lambda base=base, vt=vt: M.Index(
                        t=t, base=base, idxs=[self.index_expr(ctx, vt.shape[0], depth - 1),
                                              self.index_expr(ctx, vt.shape[1], depth - 1), M.Colon()])))
            elif t.ndim == 2 and vt.ndim == 2:
                m, n = t.shape
                if vt.shape[1] == n and vt.shape[0] >= m:
                    opts.append((2, lambda base=base, vt=vt: M.Index(
                        t=t, base=base, idxs=[self.vector_range(ctx, vt.shape[0], m), M.Colon()])))
                if vt.shape[0] == m and vt.shape[1] >= n:
                    opts.append((2, lambda base=base, vt=vt: M.Index(
                        t=t, base=base, idxs=[M.Colon(), self.vector_range(ctx, vt.shape[1], n)])))
            elif t.ndim == 2 and vt.ndim == 3 and vt.shape[:2] == t.shape:
                opts.append((1, lambda base=base, vt=vt: M.Index(
                    t=t, base=base, idxs=[M.Colon(), M.Colon(), self.index_expr(ctx, vt.shape[2], depth - 1)])))
        if self.F.on("dyn_slice") and t.ndim == 1:
            for name, v in ctx.find(lambda n, v: isinstance(v.t, Arr) and v.t.ndim == 1 and v.t.elt == t.elt):
                L, n = t.shape[0], v.t.shape[0]
                starts = [k for k, kv in ctx.of_type(INT) if kv.bounds and kv.bounds[0] >= 1
                          and kv.bounds[1] + L - 1 <= n and not kv.bounds[0] == kv.bounds[1]]
                if starts:
                    opts.append((self.w("dyn_slice", 2), lambda name=name, v=v, starts=starts: M.Index(
                        t=t, base=var(name, v.t), idxs=[M.RangeE(t=None, start=var(s := self.pick(starts), INT),
                                                                 step=None, stop=op(INT, "+", var(s, INT),
                                                                                    ilit(L - 1)))])))
        return self.first(opts) if opts else None

    def vector_range(self, ctx: Ctx, n: int, L: int, allow_end: bool = True) -> M.Expr:
        """A static index range selecting L of n positions (sometimes reversed or strided); `end`
        only where the range sits inside brackets (not in `view(A, ...)`)."""
        if L == n and self.chance(0.3):
            return M.Colon()
        if L == n and self.F.on("strided_slices") and self.chance(0.3):
            return M.RangeE(t=None, start=M.End(t=INT) if allow_end else ilit(n), step=ilit(-1), stop=ilit(1))
        if 2 * L - 1 <= n and L > 1 and self.F.on("strided_slices") and self.chance(0.25):
            a = self.rng.randint(1, n - 2 * (L - 1))
            return M.RangeE(t=None, start=ilit(a), step=ilit(2), stop=ilit(a + 2 * (L - 1)))
        a = self.rng.randint(1, n - L + 1)
        if allow_end and self.F.on("begin_index") and self.chance(0.2 * self.F.w("begin_index")):
            # x[begin:end-1], x[begin+1:end]
            return M.RangeE(t=None, start=M.Begin(t=INT, plus=a - 1), step=None,
                            stop=M.End(t=INT, minus=n - (a + L - 1)))
        if a + L - 1 == n and allow_end and self.chance(0.5):
            stop: M.Expr = M.End(t=INT, minus=0)
        else:
            stop = ilit(a + L - 1)
        return M.RangeE(t=None, start=ilit(a), step=None, stop=stop)

    def comprehension(self, ctx: Ctx, t: Arr, depth: int) -> M.Expr | None:
        if t.elt == BOOL:
            return None
        v = self.fid("i")
        if t.ndim == 1:
            same_len = ctx.find(lambda n, vi: isinstance(vi.t, Arr) and vi.t.ndim == 1 and vi.t.shape == t.shape)
            choice = self.rng.random()
            if same_len and choice < 0.35:
                name, vi = self.pick(same_len)
                it: M.Expr = var(name, vi.t)
                info = VarInfo(vi.t.elt, readonly=True, special=vi.special)
            elif same_len and choice < 0.6:
                name, vi = self.pick(same_len)
                it = call(None, "eachindex", var(name, vi.t))
                info = VarInfo(INT, bounds=(1, t.shape[0]), readonly=True, small=True)
            else:
                it = M.RangeE(t=None, start=ilit(1), step=None, stop=ilit(t.shape[0]))
                info = VarInfo(INT, bounds=(1, t.shape[0]), readonly=True, small=True)
        else:
            same = ctx.find(lambda n, vi: isinstance(vi.t, Arr) and vi.t.shape == t.shape)
            if not same:
                return None
            name, vi = self.pick(same)
            it = var(name, vi.t)
            info = VarInfo(vi.t.elt, readonly=True, special=vi.special)
        ctx.push()
        ctx.declare(v, info)
        body = self.scalar(ctx, t.elt, min(depth - 1, 3))
        ctx.pop()
        return M.Comp(t=t, body=body, gens=[M.CompFor(var=v, iter=it)])

    def comprehension_2d(self, ctx: Ctx, t: Arr, depth: int) -> M.Expr | None:
        if t.elt == BOOL:
            return None
        vi, vj = self.fid("i"), self.fid("j")
        ctx.push()
        ctx.declare(vi, VarInfo(INT, bounds=(1, t.shape[0]), readonly=True, small=True))
        ctx.declare(vj, VarInfo(INT, bounds=(1, t.shape[1]), readonly=True, small=True))
        body = self.scalar(ctx, t.elt, min(depth - 1, 3))
        ctx.pop()
        gens = [M.CompFor(var=vi, iter=M.RangeE(t=None, start=ilit(1), step=None, stop=ilit(t.shape[0]))),
                M.CompFor(var=vj, iter=M.RangeE(t=None, start=ilit(1), step=None, stop=ilit(t.shape[1])))]
        return M.Comp(t=t, body=body, gens=gens)

    def whole_array_comp(self, ctx: Ctx, t: Arr, depth: int) -> M.Expr | None:
        """`[sum(x .< xi) for xi in x]`, `[count(v -> v < xi, x) for xi in x]`: bodies reading the
        whole array the comprehension iterates (elementwise vectorization must not apply to x)."""
        srcs = ctx.find(lambda n, v: isinstance(v.t, Arr) and v.t.ndim == 1 and v.t.shape == t.shape
                        and v.t.elt != BOOL)
        if not srcs or t.elt not in (INT, F64, F32):
            return None
        name, v = self.pick(srcs)
        x = var(name, v.t)
        xi = self.fid("u")
        xe = var(xi, v.t.elt)
        if t.elt == INT:
            body: M.Expr = self.pick([
                call(INT, "sum", op(v.t.with_elt(BOOL), self.pick(["<", "<=", ">"]), x, xe, dot=True)),
                call(INT, "count", M.Lambda(t=Fn((v.t.elt,), BOOL), params=["w"],
                                            body=op(BOOL, "<", var("w", v.t.elt), xe)), x),
            ])
        elif t.elt == v.t.elt:
            body = self.pick([
                call(t.elt, "sum", op(v.t, "-", x, xe, dot=True)),
                op(t.elt, "-", call(t.elt, "maximum", x), xe),
                call(t.elt, "sum", op(v.t, "*", x, xe, dot=True)),
            ])
        else:
            return None
        return M.Comp(t=t, body=body, gens=[M.CompFor(var=xi, iter=x)])

    def array_fn(self, ctx: Ctx, t: Arr, depth: int) -> M.Expr | None:
        opts: list[tuple[float, Callable[[], Any]]] = [(1.5, lambda: self.array_leaf(ctx, t))]
        if t.ndim == 1:
            n = t.shape[0]
            opts += [
                (1.5, lambda: call(t, "reverse", self.array(ctx, t, depth - 1))),
                (1.5 if t.elt != BOOL else 0, lambda: call(t, "cumsum", self.array(ctx, t, depth - 1))),
                (1 if t.elt == INT else 0, lambda: call(t, "collect", M.RangeE(
                    t=None, start=ilit(a := self.rng.randint(-2, 3)), step=None, stop=ilit(a + n - 1)))),
                (1 if t.elt == F64 else 0, lambda: call(t, "collect", M.RangeE(
                    t=None, start=lit(F64, a := self.pick([0.0, -1.0, 0.5])), step=lit(F64, s := self.pick([0.5, 0.25])),
                    stop=lit(F64, a + s * (n - 1))))),
            ]
            others = ctx.find(lambda nm, v: isinstance(v.t, Arr) and v.t.elt == t.elt and v.t.ndim > 1
                              and v.t.length == n and v.contiguous)
            if others and self.F.on("reshape_alias"):
                opts.append((1, lambda: call(t, "vec", var(*(lambda nv: (nv[0], nv[1].t))(self.pick(others))))))
        if t.ndim >= 2:
            others = ctx.find(lambda nm, v: isinstance(v.t, Arr) and v.t.elt == t.elt and v.t.length == t.length
                              and v.t.shape != t.shape and v.contiguous)
            if others:
                nm, v = self.pick(others)
                opts.append((1.5, lambda: call(t, "reshape", var(nm, v.t), *[ilit(s) for s in t.shape])))
        return self.first(opts)

    def matmul(self, ctx: Ctx, t: Arr, depth: int) -> M.Expr | None:
        if t.elt == BOOL or t.ndim > 2 or (t.elt == INT and ctx.grad):
            return None
        if t.ndim == 2:
            m, n = t.shape
            opts: list[tuple[float, Callable[[], Any]]] = [
                (2, lambda: self._matmul2(ctx, t, depth)),
                (1.5, lambda: op(t, "'", self.array(ctx, Arr(t.elt, (n, m)), depth - 1))
                 if self.chance(0.5) else call(t, "transpose", self.array(ctx, Arr(t.elt, (n, m)), depth - 1))),
                (1, lambda: op(t, "*", self.array(ctx, Arr(t.elt, (m,)), depth - 1),
                               op(Arr(t.elt, (1, n)), "'", self.array(ctx, Arr(t.elt, (n,)), depth - 1)))),
            ]
            return self.first(opts)
        (m,) = t.shape
        k = self.rng.randint(1, 4)
        return op(t, "*", self.array(ctx, Arr(t.elt, (m, k)), depth - 1), self.array(ctx, Arr(t.elt, (k,)), depth - 1))

    def _matmul2(self, ctx: Ctx, t: Arr, depth: int) -> M.Expr:
        m, n = t.shape
        ks = [v.t.shape[1] for _, v in ctx.find(lambda nm, v: isinstance(v.t, Arr) and v.t.ndim == 2
                                                 and v.t.shape[0] == m and v.t.elt == t.elt)]
        k = self.pick(ks) if ks else self.rng.randint(1, 4)
        return op(t, "*", self.array(ctx, Arr(t.elt, (m, k)), depth - 1), self.array(ctx, Arr(t.elt, (k, n)), depth - 1))

    def reduce_dims(self, ctx: Ctx, t: Arr, depth: int) -> M.Expr | None:
        """`sum(A; dims=d)` keeps dimension d with size 1; produced where t has a size-1 dimension."""
        ones = [d for d, s in enumerate(t.shape) if s == 1]
        if not ones or t.ndim < 2 or t.elt == BOOL:
            return None
        d = self.pick(ones)
        src_shape = list(t.shape)
        src_shape[d] = self.rng.randint(2, 4)
        src = self.array(ctx, Arr(t.elt, tuple(src_shape)), depth - 1)
        fn = self.pick(["sum", "sum", "maximum", "minimum"] + (["prod"] if src_shape[d] <= 3 and not ctx.grad else []))
        return M.Call(t=t, fn=fn, args=[src], kwargs=[("dims", ilit(d + 1))])

    def array_helper_call(self, ctx: Ctx, t: Arr, depth: int) -> M.Expr | None:
        cands = [f for f in self.array_helpers if f.ret == t and all(
            not isinstance(p.t, Arr) or ctx.of_type(p.t) for p in f.params)]
        if not cands or ctx.grad:
            return None
        f = self.pick(cands)
        return call(t, f.name, *[self.pick_var_or_expr(ctx, p.t, depth) for p in f.params], user=True,
                    target=f.target)

    # ------------------------------------------------------------------ arrays of tuples and structs
    def sa_vars(self, ctx: Ctx, pred: Callable[[SArr], bool] = lambda t: True) -> list[tuple[str, VarInfo]]:
        return ctx.find(lambda n, v: isinstance(v.t, SArr) and pred(v.t))

    def sa_fresh_elt(self) -> Tup | NTup:
        """A tuple or named tuple type of 2-3 numbers (a tuple's first item sometimes a pair:
        `((lo, hi), w)`)."""
        k = self.rng.randint(2, 3)
        items: list[JType] = [self.scalar_type(allow_bool=True) for _ in range(k)]
        if self.chance(0.3):
            return NTup(ELT_NAMES[:k], tuple(items))
        if self.chance(0.2):
            items[0] = Tup((self.scalar_type(), self.scalar_type()))
        return Tup(tuple(items))

    def sa_elt(self) -> Tup | NTup | Struct:
        """The element type of a new array: mostly one the program's element functions take."""
        if self.sa_elts and self.chance(0.6):
            return self.pick(self.sa_elts)
        return self.sa_fresh_elt()

    def sa_size(self, ctx: Ctx) -> int:
        """A length for a new array: often that of a vector in scope (to build it from one)."""
        lengths = [v.t.shape[0] for _, v in ctx.find(lambda n, v: isinstance(v.t, Arr) and v.t.ndim == 1)]
        lengths += [v.t.n for _, v in self.sa_vars(ctx)]
        return self.pick(lengths) if lengths and self.chance(0.7) else self.rng.randint(1, 5)

    def at_path(self, e: M.Expr, path: tuple[int, ...]) -> M.Expr:
        """The number at `path` inside the element e (see `number_paths`): `e[2][1]`, `e.a`; a
        named tuple's item by name or by position."""
        for step in path:
            t = e.t
            if isinstance(t, NTup):
                e = M.Index(t=t.items[step], base=e, idxs=[ilit(step + 1)]) if self.chance(0.3) else \
                    M.Field(t=t.items[step], base=e, name=t.names[step])
            elif isinstance(t, Struct):
                name, ft = t.fields[step]
                e = M.Field(t=ft, base=e, name=name)
            else:
                e = M.Index(t=t.items[step], base=e, idxs=[ilit(step + 1)])
        return e

    def element(self, ctx: Ctx, elt: JType, depth: int) -> M.Expr | None:
        """One element of type elt: `ps[i]`, `ps[end]`, `first(ps)`, `last(ps)`, or a variable
        holding one (a loop's `p`)."""
        arrs = self.sa_vars(ctx, lambda t: t.elt == elt)
        held = [n for n, _ in ctx.of_type(elt)]

        def indexed() -> M.Expr:
            name, v = self.pick(arrs)
            return M.Index(t=elt, base=var(name, v.t), idxs=[self.index_expr(ctx, v.t.n, depth - 1)])

        def end() -> M.Expr:
            name, v = self.pick(arrs)
            return call(elt, self.pick(["first", "last"]), var(name, v.t))
        opts: list[tuple[float, Callable[[], Any]]] = [
            (4 if arrs else 0, indexed),
            (1 if arrs else 0, end),
            (3 if held else 0, lambda: var(self.pick(held), elt)),
        ]
        return self.first(opts)

    def parts_of(self, names: list[tuple[str, VarInfo]]) -> list[tuple[Scalar, Callable[[], M.Expr]]]:
        """The numbers bound by a loop or a function over elements (each as a fresh expression):
        destructured names, and the numbers inside an element variable."""
        return [(pt, lambda n=n, t=info.t, path=path: self.at_path(var(n, t), path))
                for n, info in names for path, pt in number_paths(info.t)]

    def from_parts(self, ctx: Ctx, parts: list[tuple[Scalar, Callable[[], M.Expr]]], t: Scalar,
                   depth: int) -> M.Expr:
        """A t computed from one of the bound numbers (often combined with another expression):
        what a loop body, a lambda or a comprehension over elements computes."""
        if t == BOOL:
            if not parts:
                return self.bool_expr(ctx, depth)
            pt, make = self.pick(parts)
            return op(BOOL, self.pick(_COMPARE[:4]), make(), self.literal(pt if pt != BOOL else INT))
        fits = [(pt, make) for pt, make in parts if pt != BOOL and promote(pt, t) == t]
        if not fits:
            return self.scalar(ctx, t, depth)
        pt, make = self.pick(fits)
        if pt == t and (depth <= 1 or self.chance(0.4)):
            return make()
        other = self.scalar(ctx, t, depth - 1)
        a, b = (make(), other) if self.chance(0.6) else (other, make())
        return op(t, self.pick(["+", "-", "*"]), a, b)

    def build_elem(self, t: JType, item: Callable[[Scalar], M.Expr]) -> M.Expr:
        """An element value from numbers (`item(type)` makes each): `(a, b)`, `((lo, hi), w)`,
        `(a = x, b = 1)`, `P(x, 2)`. A tuple's type is that of its items as made."""
        if isinstance(t, Struct):
            return call(t, t.name, *[item(ft) for _, ft in t.fields], user=True, target=t.name)
        items = [item(x) if isinstance(x, Scalar) else self.build_elem(x, item) for x in t.items]
        if isinstance(t, NTup):
            return M.NamedTupleE(t=NTup(t.names, tuple(i.t for i in items)), names=t.names, items=items)
        return M.TupleE(t=Tup(tuple(i.t for i in items)), items=items)

    def elem_value(self, ctx: Ctx, elt: JType, depth: int,
                   parts: list[tuple[Scalar, Callable[[], M.Expr]]] | None = None) -> M.Expr:
        """A value of exactly the element type elt: built from numbers (preferably the bound
        `parts`), an element read, or an element function's result."""
        if depth > 0 and self.chance(0.25):
            got = self.element(ctx, elt, depth) or self.elem_fn_call(ctx, elt, depth)
            if got is not None:
                return got
        return self.build_elem(elt, lambda x: self.from_parts(ctx, parts, x, depth - 1)
                               if parts and self.chance(0.7) else self.scalar(ctx, x, depth - 1))

    def store_value(self, ctx: Ctx, elt: JType, depth: int,
                    parts: list[tuple[Scalar, Callable[[], M.Expr]]] | None = None) -> M.Expr:
        """A value for `ps[i] = v`: Julia converts it to the element type, so a tuple's items may
        be any numbers that convert exactly (`(1, 2)` into a `Tuple{Float64, Float64}`)."""
        if isinstance(elt, Struct) or self.chance(0.3):
            return self.elem_value(ctx, elt, depth, parts)

        def item(x: Scalar) -> M.Expr:
            src = x if self.chance(0.6) else self.stored_type(x)
            if parts and self.chance(0.6):
                return self.from_parts(ctx, parts, src, depth - 1)
            return self.scalar(ctx, src, depth - 1)
        return self.build_elem(elt, item)

    def stored_type(self, dest: Scalar) -> Scalar:
        """A number type whose values always convert exactly to dest (Julia converts what is stored
        into an element or passed to a struct's constructor): any number into a float, only Bools
        into a Bool."""
        if dest == BOOL:
            return BOOL
        return self.pick([s for s in (INT, F64, F32) if convertible(dest, s) and (s != F32 or self.F.on("float32"))])

    def binding_pattern(self, t: JType, names: list[tuple[str, VarInfo]], info: VarInfo) -> str:
        """A variable binding a value of type t (in a loop, a comprehension, a destructuring
        assignment): a name, or for a tuple sometimes a destructuring `(a, (b, c))`; the names it
        binds are appended to `names`, each a copy of `info` with its type."""
        if isinstance(t, (Tup, NTup)) and self.chance(0.55):
            return "(" + ", ".join(self.binding_pattern(x, names, info) for x in t.items) + ")"
        n = self.fid("a" if isinstance(t, Scalar) else "p")
        names.append((n, VarInfo(t, readonly=info.readonly, special=info.special)))
        return n

    def sa_binding(self, ctx: Ctx, name: str, v: VarInfo) -> tuple[str, list[tuple[str, VarInfo]], M.Expr]:
        """How a loop, comprehension or generator binds the elements of the array `name`:
        `p in ps`, `(a, b) in ps`, `(i, p) in enumerate(ps)`, `(p, q) in zip(ps, qs)` (qs another
        array of that length, of numbers or elements); the pattern, the names it binds and the
        iterator."""
        names: list[tuple[str, VarInfo]] = []
        info = VarInfo(v.t.elt, readonly=True, special=v.special)
        r = self.rng.random()
        if r < 0.2:
            i = self.fid("i")
            names.append((i, VarInfo(INT, bounds=(1, v.t.n), readonly=True, small=True)))
            return f"({i}, {self.binding_pattern(v.t.elt, names, info)})", names, call(None, "enumerate", var(name, v.t))
        others = ctx.find(lambda n, o: (isinstance(o.t, SArr) and o.t.n == v.t.n) or (
            isinstance(o.t, Arr) and o.t.shape == (v.t.n,)))
        if others and r < 0.35:
            other, ov = self.pick(others)
            first = self.binding_pattern(v.t.elt, names, info)
            second = self.binding_pattern(ov.t.elt, names, VarInfo(ov.t.elt, readonly=True, special=ov.special))
            return f"({first}, {second})", names, call(None, "zip", var(name, v.t), var(other, ov.t))
        return self.binding_pattern(v.t.elt, names, info), names, var(name, v.t)

    def index_parts(self, ctx: Ctx, i: str, n: int) -> list[tuple[Scalar, Callable[[], M.Expr]]]:
        """For an index i over 1:n: i itself and the elements x[i] of the n-vectors in scope."""
        vecs = ctx.find(lambda nm, v: isinstance(v.t, Arr) and v.t.ndim == 1 and v.t.shape[0] == n
                        and v.t.elt != BOOL)
        return [(INT, lambda: var(i, INT))] + [
            (v.t.elt, lambda nm=nm, v=v: M.Index(t=v.t.elt, base=var(nm, v.t), idxs=[var(i, INT)])) for nm, v in vecs]

    def build_binding(self, ctx: Ctx, n: int) -> tuple[str, list[tuple[str, VarInfo]], M.Expr, list[Any]]:
        """The iteration of a comprehension making an n-element array: `i in eachindex(x)`,
        `i in 1:n`, `xi in x`, `(a, b) in zip(x, y)`, or the elements of an array of tuples or
        structs; with the numbers each iteration offers its body."""
        vecs = ctx.find(lambda nm, v: isinstance(v.t, Arr) and v.t.ndim == 1 and v.t.shape[0] == n
                        and v.t.elt != BOOL)
        sas = self.sa_vars(ctx, lambda st: st.n == n)

        def by_index() -> Any:
            i = self.fid("i")
            same = vecs + sas
            if same and self.chance(0.6):
                nm, v = self.pick(same)
                it: M.Expr = call(None, "eachindex", var(nm, v.t)) if self.chance(0.6) else M.RangeE(
                    t=None, start=ilit(1), step=None, stop=call(INT, "length", var(nm, v.t)))
            else:
                it = M.RangeE(t=None, start=ilit(1), step=None, stop=ilit(n))
            return i, [(i, VarInfo(INT, bounds=(1, n), readonly=True, small=True))], it, self.index_parts(ctx, i, n)

        def by_value() -> Any:
            nm, v = self.pick(vecs)
            a = self.fid("a")
            return a, [(a, VarInfo(v.t.elt, readonly=True, special=v.special))], var(nm, v.t), []

        def zipped() -> Any:
            (n1, v1), (n2, v2) = self.pick(vecs), self.pick(vecs)
            a, b = self.fid("a"), self.fid("a")
            names = [(a, VarInfo(v1.t.elt, readonly=True, special=v1.special)),
                     (b, VarInfo(v2.t.elt, readonly=True, special=v2.special))]
            return f"({a}, {b})", names, call(None, "zip", var(n1, v1.t), var(n2, v2.t)), []

        def elements() -> Any:
            return (*self.sa_binding(ctx, *self.pick(sas)), [])
        got = self.first([(2, by_index), (2 if vecs else 0, by_value), (1.5 if vecs else 0, zipped),
                          (2 if sas else 0, elements)])
        pattern, names, it, extra = got
        return pattern, names, it, self.parts_of(names) + extra

    def sa_array(self, ctx: Ctx, t: SArr, depth: int) -> M.Expr:
        """An array of tuples/structs: an existing one, or a new one from a comprehension, a
        broadcast constructor, `fill`, a literal, a slice, `map`/`f.(qs)`, `collect(zip(x, y))`."""
        same = [n for n, _ in ctx.of_type(t)]
        if depth <= 0:
            return var(self.pick(same), t) if same else self.sa_fill(ctx, t, 0)
        opts: list[tuple[float, Callable[[], Any]]] = [
            (3 if same else 0, lambda: var(self.pick(same), t)),
            (1 if same else 0, lambda: call(t, self.pick(["copy", "reverse"]), self.sa_array(ctx, t, depth - 1))),
            (3, lambda: self.sa_comprehension(ctx, t, depth)),
            (1.5, lambda: self.sa_broadcast(ctx, t, depth)),
            (1, lambda: self.sa_fill(ctx, t, depth)),
            (1 if t.n <= 4 else 0, lambda: M.ArrayLit(t=t, items=[self.elem_value(ctx, t.elt, depth - 1)
                                                                  for _ in range(t.n)])),
            (1, lambda: self.sa_slice(ctx, t)),
            (1.5, lambda: self.sa_map(ctx, t, depth)),
            (0.7, lambda: self.sa_zip(ctx, t)),
            (self.w("ternary", 0.5), lambda: M.Ternary(t=t, cond=self.bool_expr(ctx, depth - 1),
                                                       a=self.sa_array(ctx, t, depth - 1), b=self.sa_array(ctx, t, depth - 1))),
        ]
        out = self.first(opts)
        return out if out is not None else self.sa_fill(ctx, t, depth)

    def sa_comprehension(self, ctx: Ctx, t: SArr, depth: int,
                         src: tuple[str, VarInfo] | None = None) -> M.Expr:
        """`[(x[i], 2x[i] - 1.0) for i in eachindex(x)]`, `[P(a, b) for (a, b) in zip(x, y)]`,
        `[(b, a) for (a, b) in qs]` (over the array `src` if given)."""
        if src is None:
            pattern, names, it, parts = self.build_binding(ctx, t.n)
        else:
            pattern, names, it = self.sa_binding(ctx, *src)
            parts = self.parts_of(names)
        ctx.push()
        for n, info in names:
            ctx.declare(n, info)
        body = self.build_elem(t.elt, lambda x: self.from_parts(ctx, parts, x, min(depth - 1, 2))
                               if parts and self.chance(0.75) else self.scalar(ctx, x, min(depth - 1, 2)))
        ctx.pop()
        return M.Comp(t=t, body=body, gens=[M.CompFor(var=pattern, iter=it)])

    def sa_broadcast(self, ctx: Ctx, t: SArr, depth: int) -> M.Expr | None:
        """`tuple.(x, y)`, `tuple.(x, 1.0)`, `P.(x, v)`: a constructor broadcast over vectors and
        numbers (a struct's constructor converts its arguments, so they may be other numbers)."""
        elt = t.elt
        if isinstance(elt, NTup) or (isinstance(elt, Tup) and not all(isinstance(x, Scalar) for x in elt.items)):
            return None
        fields = list(elt.items) if isinstance(elt, Tup) else [ft for _, ft in elt.fields]
        k = self.rng.randrange(len(fields))             # at least one vector
        args = []
        for j, ft in enumerate(fields):
            src = ft
            if isinstance(elt, Struct) and self.chance(0.3):
                src = self.stored_type(ft)
            if j == k or self.chance(0.5):
                args.append(self.array(ctx, Arr(src, (t.n,)), depth - 1))
            else:
                args.append(self.scalar(ctx, src, depth - 1))
        if isinstance(elt, Struct):
            return call(t, elt.name, *args, dot=True, user=True, target=elt.name)
        return call(t, "tuple", *args, dot=True)

    def sa_fill(self, ctx: Ctx, t: SArr, depth: int) -> M.Expr:
        """`fill((0.5, 1), n)`, `fill(P(a, 2), length(x))`."""
        same_len = ctx.find(lambda n, v: (isinstance(v.t, Arr) and v.t.ndim == 1 and v.t.shape[0] == t.n)
                            or (isinstance(v.t, SArr) and v.t.n == t.n))
        if same_len and self.chance(0.4):
            n, v = self.pick(same_len)
            size: M.Expr = call(INT, "length", var(n, v.t))
        else:
            size = ilit(t.n)
        return call(t, "fill", self.elem_value(ctx, t.elt, depth - 1), size)

    def sa_slice(self, ctx: Ctx, t: SArr) -> M.Expr | None:
        """`qs[2:3]`, `qs[end:-1:1]`, `qs[begin:end-1]`: a copy of part of a longer array."""
        longer = self.sa_vars(ctx, lambda st: st.elt == t.elt and st.n >= t.n)
        if not longer:
            return None
        name, v = self.pick(longer)
        return M.Index(t=t, base=var(name, v.t), idxs=[self.vector_range(ctx, v.t.n, t.n)])

    def sa_map(self, ctx: Ctx, t: SArr, depth: int, src: tuple[str, VarInfo] | None = None) -> M.Expr | None:
        """Elements computed from another array's (or `src`'s) elements: `f.(qs)`, `f.(qs, 0.5)`,
        `map(f, qs)`, `map(p -> (p[2], p[1]), qs)`, `[(b, a) for (a, b) in qs]`."""
        if src is None:
            srcs = self.sa_vars(ctx, lambda st: st.n == t.n)
            if not srcs:
                return None
            src = self.pick(srcs)
        name, v = src
        fns = [f for f in self.elem_fns if f.params[0].t == v.t.elt and f.ret == t.elt]
        opts: list[tuple[float, Callable[[], Any]]] = [
            (2 if fns else 0, lambda: self.elem_fn_apply(ctx, self.pick(fns), var(name, v.t), t, depth)),
            (1.5, lambda: call(t, "map", self.elem_lambda(ctx, v, t.elt, depth), var(name, v.t))),
            (1.5, lambda: self.sa_comprehension(ctx, t, depth, src)),
        ]
        return self.first(opts)

    def sa_zip(self, ctx: Ctx, t: SArr) -> M.Expr | None:
        """`collect(zip(x, y))` of vectors whose element types are the tuple's item types."""
        if not isinstance(t.elt, Tup):
            return None
        args = []
        for it in t.elt.items:
            vecs = ctx.find(lambda n, v: isinstance(v.t, Arr) and v.t == Arr(it, (t.n,)))
            if not vecs:
                return None
            n, v = self.pick(vecs)
            args.append(var(n, v.t))
        return call(t, "collect", call(None, "zip", *args))

    def elem_lambda(self, ctx: Ctx, src: VarInfo, ret: JType, depth: int) -> M.Lambda:
        """`p -> ...` over the elements of the array `src` (reading p's numbers), giving a ret: a
        number, a Bool (a predicate) or another element."""
        p = self.fid("p")
        ctx.push()
        ctx.declare(p, VarInfo(src.t.elt, readonly=True, special=src.special))
        parts = self.parts_of([(p, ctx.lookup(p))])
        d = min(depth - 1, 2)
        if isinstance(ret, Scalar):
            body = self.from_parts(ctx, parts, ret, d)
        else:
            body = self.elem_value(ctx, ret, d, parts)
        ctx.pop()
        return M.Lambda(t=Fn((src.t.elt,), ret), params=[p], body=body)

    def elem_fn_apply(self, ctx: Ctx, f: M.FuncDef, arr: M.Expr, t: JType, depth: int) -> M.Expr:
        """The element function f over every element of arr: `f.(arr, d)`, `f.(arr, x)` or `map(f, arr)`."""
        if len(f.params) == 1 and self.chance(0.35):
            return call(t, "map", M.FuncRef(t=None, name=f.name, user=True, target=f.target), arr)
        # a number for each element (`advance.(ps, dt)`) or the same number for all (`advance.(ps, 0.1)`)
        rest = [self.array(ctx, Arr(p.t, (arr.t.n,)), depth - 1) if self.chance(0.4) else self.scalar(ctx, p.t, depth - 1)
                for p in f.params[1:]]
        return call(t, f.name, arr, *rest, dot=True, user=True, target=f.target)

    def elem_fn_call(self, ctx: Ctx, t: JType, depth: int) -> M.Expr | None:
        """`f(ps[i])`, `f(p, 0.5)`, `f((a, 1.0))`: an element function on one element."""
        fns = [f for f in self.elem_fns if f.ret == t]
        if not fns or depth <= 0:
            return None
        f = self.pick(fns)
        elt = f.params[0].t
        arg = (self.element(ctx, elt, depth - 1) if self.chance(0.8) else None) or \
            self.build_elem(elt, lambda x: self.scalar(ctx, x, depth - 2))
        rest = [self.scalar(ctx, p.t, depth - 1) for p in f.params[1:]]
        return call(t, f.name, arg, *rest, user=True, target=f.target)

    def sa_scalar(self, ctx: Ctx, t: Scalar, depth: int) -> M.Expr | None:
        """A number from arrays of tuples/structs: an element's number, a reduction with a function
        or a generator over the elements, an element function's value, a length."""
        if ctx.grad:
            return None
        opts: list[tuple[float, Callable[[], Any]]] = [
            (4, lambda: self.component(ctx, t, depth)),
            (2, lambda: self.sa_reduction(ctx, t, depth)),
            (1.5, lambda: self.sa_generator(ctx, t, depth)),
            (1.5, lambda: self.elem_fn_call(ctx, t, depth)),
            (1.5, lambda: self.sa_reader_call(ctx, t, depth)),
            (0.5 if t == INT else 0, lambda: self.sa_length(ctx)),
        ]
        return self.first(opts)

    def component(self, ctx: Ctx, t: Scalar, depth: int) -> M.Expr | None:
        """`ps[i][2]`, `ps[i].a`, `first(ps)[1][2]`, `p.b`: a number of type t inside an element."""
        elts = list(dict.fromkeys([v.t.elt for _, v in self.sa_vars(ctx)]
                                  + [v.t for _, v in ctx.find(lambda n, v: is_element(v.t))]))
        elts = [e for e in elts if any(pt == t for _, pt in number_paths(e))]
        if not elts:
            return None
        elt = self.pick(elts)
        return self.at_path(self.element(ctx, elt, depth), self.pick([p for p, pt in number_paths(elt) if pt == t]))

    def sa_reduction(self, ctx: Ctx, t: Scalar, depth: int) -> M.Expr | None:
        """`sum(p -> p.a * 2, ps)`, `maximum(p -> p[1], ps)`, `count(p -> p[2] > 0, ps)`, `sum(f, ps)`."""
        arrs = self.sa_vars(ctx)
        if not arrs or t == BOOL:
            return None
        name, v = self.pick(arrs)
        arr = var(name, v.t)
        if t == INT and self.chance(0.4):
            if self.chance(0.3):
                found = call(INT, self.pick(["findfirst", "findlast"]), self.elem_lambda(ctx, v, BOOL, depth), arr)
                return call(INT, "something", found, ilit(self.pick([0, -1])))
            return call(INT, "count", self.elem_lambda(ctx, v, BOOL, depth), arr)
        red = self.pick(["sum", "sum", "maximum", "minimum"])
        fns = [f for f in self.elem_fns if len(f.params) == 1 and f.params[0].t == v.t.elt and f.ret == t]
        if fns and self.chance(0.35):
            f = self.pick(fns)
            return call(t, red, M.FuncRef(t=None, name=f.name, user=True, target=f.target), arr)
        return call(t, red, self.elem_lambda(ctx, v, t, depth), arr)

    def sa_generator(self, ctx: Ctx, t: Scalar, depth: int) -> M.Expr | None:
        """`sum(p[1] * p[2] for p in ps)`, `maximum(a - b for (a, b) in ps)`, `sum(i * p.a for
        (i, p) in enumerate(ps))`, `sum(p.a for p in ps if p.b > 0; init=0.0)`."""
        arrs = self.sa_vars(ctx)
        if not arrs or t == BOOL:
            return None
        pattern, names, it = self.sa_binding(ctx, *self.pick(arrs))
        ctx.push()
        for n, info in names:
            ctx.declare(n, info)
        parts = self.parts_of(names)
        body = self.from_parts(ctx, parts, t, min(depth - 1, 3))
        cond = self.from_parts(ctx, parts, BOOL, 1) if self.chance(0.2) else None
        ctx.pop()
        if cond is not None:
            return call(t, "sum", M.Gen(t=None, body=body, var=pattern, iter=it, cond=cond),
                        kwargs=[("init", self.literal(t))])
        return call(t, self.pick(["sum", "sum", "maximum", "minimum"]), M.Gen(t=None, body=body, var=pattern, iter=it))

    def sa_reader_call(self, ctx: Ctx, t: Scalar, depth: int) -> M.Expr | None:
        """`h(ps)`, `h(ps, 0.5)`: a helper reading a whole array of tuples/structs."""
        cands = [f for f in self.sa_readers if f.ret == t and ctx.of_type(f.params[0].t)]
        if not cands:
            return None
        f = self.pick(cands)
        arr = var(self.pick([n for n, _ in ctx.of_type(f.params[0].t)]), f.params[0].t)
        return call(t, f.name, arr, *[self.scalar(ctx, p.t, depth - 1) for p in f.params[1:]], user=True,
                    target=f.target)

    def sa_length(self, ctx: Ctx) -> M.Expr | None:
        arrs = self.sa_vars(ctx)
        if not arrs:
            return None
        name, v = self.pick(arrs)
        if self.chance(0.3):
            return call(INT, "size", var(name, v.t), ilit(1))
        return call(INT, "length", var(name, v.t))

    def sa_bool(self, ctx: Ctx, depth: int) -> M.Expr | None:
        """`ps == qs` (element by element; for structs `==` is `===`), `ps[i] != ps[j]`,
        `any(p -> p[1] > 0, ps)`, a Bool inside an element (`ps[i][3]`)."""
        arrs = self.sa_vars(ctx)
        if not arrs or ctx.grad:
            return None
        name, v = self.pick(arrs)
        arr = var(name, v.t)
        opts: list[tuple[float, Callable[[], Any]]] = [
            (2, lambda: op(BOOL, self.pick(["==", "!="]), arr, self.sa_array(ctx, v.t, depth - 1))),
            (1.5, lambda: op(BOOL, self.pick(["==", "!="]), self.element(ctx, v.t.elt, depth),
                             self.elem_value(ctx, v.t.elt, depth - 1))),
            (2, lambda: call(BOOL, self.pick(["any", "all"]), self.elem_lambda(ctx, v, BOOL, depth), arr)),
            (1, lambda: self.component(ctx, BOOL, depth)),
        ]
        return self.first(opts)

    def sa_digest(self, ctx: Ctx, t: Arr) -> M.Expr | None:
        """`[2.0 * p[1] - 0.5 * p[2][1] + ... for p in ps]` (or of `ps[i] for i in eachindex(ps)`;
        t a Float64 vector): every number of
        every element of an array of tuples/structs of t's length, so that a wrong one shows in
        main's result."""
        srcs = self.sa_vars(ctx, lambda st: (st.n,) == t.shape)
        if not srcs:
            return None
        name, v = self.pick(srcs)
        if self.chance(0.5):                     # `for i in eachindex(ps)` reading ps[i]
            i = self.fid("i")
            elt: M.Expr = M.Index(t=v.t.elt, base=var(name, v.t), idxs=[var(i, INT)])
            gen = M.CompFor(var=i, iter=call(None, "eachindex", var(name, v.t)))
        else:
            p = self.fid("p")
            elt, gen = var(p, v.t.elt), M.CompFor(var=p, iter=var(name, v.t))
        return M.Comp(t=t, body=self.weighted_numbers(elt), gens=[gen])

    def weighted_numbers(self, e: M.Expr) -> M.Expr:
        """`2.0 * p[1] - 0.5 * p[2][1] + ...`: a Float64 combining every number of the element e."""
        out: M.Expr | None = None
        for path, _ in number_paths(e.t):
            term = op(F64, "*", lit(F64, self.pick([1.0, 2.0, -0.5, 3.0, 0.25])), self.at_path(copy.deepcopy(e), path))
            out = term if out is None else op(F64, "+", out, term)
        return out

    def sa_checksum(self, ctx: Ctx) -> M.Expr | None:
        """`sum(i * (2.0 * p[1] + ...) for (i, p) in enumerate(ps)) + ...` over every array of
        tuples/structs in scope: a Float64 that every number of every element moves."""
        total: M.Expr | None = None
        for name, v in self.sa_vars(ctx):
            i, p = self.fid("i"), self.fid("p")
            body = op(F64, "*", var(i, INT), self.weighted_numbers(var(p, v.t.elt)))
            term = call(F64, "sum", M.Gen(t=None, body=body, var=f"({i}, {p})",
                                          iter=call(None, "enumerate", var(name, v.t))))
            total = term if total is None else op(F64, "+", total, term)
        return total

    def sa_to_array(self, ctx: Ctx, t: Arr, depth: int) -> M.Expr | None:
        """A vector of numbers from an array of tuples/structs: `[p.a + p.b for p in ps]`,
        `[a * b for (a, b) in ps]`, `map(p -> p[2], ps)`, `f.(ps)`."""
        srcs = self.sa_vars(ctx, lambda st: st.n == t.shape[0])
        if not srcs or t.elt == BOOL or ctx.grad:
            return None
        name, v = self.pick(srcs)
        fns = [f for f in self.elem_fns if f.params[0].t == v.t.elt and f.ret == t.elt]

        def comprehension() -> M.Expr:
            pattern, names, it = self.sa_binding(ctx, name, v)
            ctx.push()
            for n, info in names:
                ctx.declare(n, info)
            body = self.from_parts(ctx, self.parts_of(names), t.elt, min(depth - 1, 3))
            ctx.pop()
            return M.Comp(t=t, body=body, gens=[M.CompFor(var=pattern, iter=it)])
        def map2() -> M.Expr:
            """`map((p, q) -> ..., ps, qs)` over two arrays of tuples/structs of one length."""
            (n2, v2) = self.pick(srcs)
            p, q = self.fid("p"), self.fid("p")
            names = [(p, VarInfo(v.t.elt, readonly=True, special=v.special)),
                     (q, VarInfo(v2.t.elt, readonly=True, special=v2.special))]
            ctx.push()
            for n, info in names:
                ctx.declare(n, info)
            parts = self.parts_of(names)
            body = op(t.elt, "+", self.from_parts(ctx, parts, t.elt, 1), self.from_parts(ctx, parts, t.elt, 1))
            ctx.pop()
            return call(t, "map", M.Lambda(t=Fn((v.t.elt, v2.t.elt), t.elt), params=[p, q], body=body),
                        var(name, v.t), var(n2, v2.t))
        opts: list[tuple[float, Callable[[], Any]]] = [
            (3, comprehension),
            (1.5, lambda: call(t, "map", self.elem_lambda(ctx, v, t.elt, depth), var(name, v.t))),
            (0.7, map2),
            (2 if fns else 0, lambda: self.elem_fn_apply(ctx, self.pick(fns), var(name, v.t), t, depth)),
        ]
        return self.first(opts)


def select(g: Generic, t: JType) -> Method | None:
    """The method Julia's dispatch picks for an argument of type t (most specific applicable)."""
    ranked = [(pattern_rank(m.pattern, t), m) for m in g.methods]
    ranked = [(r, m) for r, m in ranked if r is not None]
    if not ranked:
        return None
    return max(ranked, key=lambda rm: rm[0])[1]


def walk(node: Any) -> Iterator[Any]:
    """Every node under `node` (expressions, statements, nested function bodies)."""
    yield node
    if isinstance(node, M.Node):
        for _, v in node.child_fields():
            yield from walk(v)
    elif isinstance(node, list):
        for x in node:
            yield from walk(x)


def convertible(dest: Scalar, src: Scalar) -> bool:
    """Whether storing a src value into a dest array never throws (no float into an Int array)."""
    return dest.is_float or src in (INT, BOOL)


def float_typed(t: JType) -> bool:
    return (isinstance(t, Scalar) and t.is_float) or (isinstance(t, Arr) and t.elt.is_float)


def is_lazy(e: M.Expr) -> bool:
    """An expression whose value shares memory with another array without owning column-major
    storage (transposes, views): `vec`/`reshape` of it would not alias in the reference."""
    return (isinstance(e, M.Op) and e.op == "'") or (isinstance(e, M.Call) and e.fn in ("transpose", "view", "vec",
                                                                                      "reshape")) \
        or isinstance(e, M.Var)


def aliases_input(e: M.Expr) -> bool:
    """Whether e may be (a view of) an existing array rather than a fresh one."""
    return isinstance(e, (M.Var, M.Ternary)) or (isinstance(e, M.Call) and e.fn in ("view", "vec", "reshape",
                                                                                   "transpose")) \
        or (isinstance(e, M.Op) and e.op == "'")


def is_element(t: JType) -> bool:
    """Whether t is a tuple, named tuple or struct holding only numbers (possibly in nested
    tuples): an element type of an array of tuples/structs."""
    if isinstance(t, (Tup, NTup)):
        return all(isinstance(x, Scalar) or is_element(x) for x in t.items)
    if isinstance(t, Struct):
        return all(isinstance(ft, Scalar) for _, ft in t.fields)
    return False


def number_paths(t: JType) -> list[tuple[tuple[int, ...], Scalar]]:
    """The numbers inside a value of type t: (path, type), a path being 0-based item or field
    positions from the outside in (`ExprGenerator.at_path` spells them)."""
    if isinstance(t, Scalar):
        return [((), t)]
    inner = [ft for _, ft in t.fields] if isinstance(t, Struct) else list(t.items)
    return [((k,) + rest, pt) for k, it in enumerate(inner) for rest, pt in number_paths(it)]
