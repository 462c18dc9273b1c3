"""The program model: typed expressions, statements, functions, structs and a whole program.

Programs are data so that one tree renders as Julia and as the Python reference, and so that the
shrinker can rewrite it generically (`children`/`replace_child` walk every dataclass field that
holds nodes). Every expression carries its Julia type; the generator computes it and the
reference checks it at run time."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np

from .jtypes import JType, Scalar


@dataclass(kw_only=True)
class Node:
    """Base of expressions and statements (shared traversal for the shrinker and the renderers)."""

    def child_fields(self) -> Iterator[tuple[str, Any]]:
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, (Node, list)):
                yield f.name, v


@dataclass(kw_only=True)
class Expr(Node):
    t: JType | None


@dataclass(kw_only=True)
class Lit(Expr):
    """A number literal; `value` is a Python int/float/bool (NaN, ±Inf and -0.0 included)."""
    value: Any


@dataclass(kw_only=True)
class Var(Expr):
    name: str


@dataclass(kw_only=True)
class Named(Expr):
    """A constant of Base used by its name, not a number (`RoundDown` as an argument of div)."""
    name: str


@dataclass(kw_only=True)
class FuncRef(Expr):
    """A function used as a value (`sum(abs, x)`, `map(g, x)`): a Base name or a user function."""
    name: str
    user: bool = False
    target: str | None = None


@dataclass(kw_only=True)
class TypeLit(Expr):
    """A type used as a value: `zeros(Float32, 3)`, `round(Int64, x)`."""
    of: Scalar


@dataclass(kw_only=True)
class Op(Expr):
    """An operator: binary (`a + b`, `a .< b`), unary (`-a`, `!a`) or postfix adjoint (`x'`).
    `dot` renders the broadcasting form; `&&`/`||` short-circuit."""
    op: str
    args: list[Expr]
    dot: bool = False


@dataclass(kw_only=True)
class Call(Expr):
    """A call `fn(args...; kwargs...)` or, with `dot`, `fn.(args...)`. `user` marks a function or
    constructor of the program (prefixed in batches); `target` is the Python function implementing
    the method the generator selected by dispatch (None: a Base function of the reference runtime).
    `kwsplat` forwards a `kws...` parameter after the explicit keywords (a later keyword replaces
    an earlier one of the same name)."""
    fn: str
    args: list[Expr]
    kwargs: list[tuple[str, Expr]] = field(default_factory=list)
    dot: bool = False
    user: bool = False
    target: str | None = None
    kwsplat: str | None = None


@dataclass(kw_only=True)
class Colon(Expr):
    """`:` in an index."""
    t: JType | None = None


@dataclass(kw_only=True)
class End(Expr):
    """`end` inside an index (the last index of that dimension), optionally minus an offset."""
    minus: int = 0


@dataclass(kw_only=True)
class Begin(Expr):
    """`begin` inside an index (the first index of that dimension, 1), optionally plus an offset."""
    plus: int = 0


@dataclass(kw_only=True)
class Splat(Expr):
    """`e...` in a call, a vector literal or a tuple: the items of a tuple, the elements of an array
    in column-major order."""
    e: Expr
    t: JType | None = None


@dataclass(kw_only=True)
class ValE(Expr):
    """`Val(e)` of a compile-time constant (an Int literal, or a Bool known from literals and
    array sizes): the argument of a method dispatching on `::Val{N}` / `::Val{true}`."""
    e: Expr
    t: JType | None = None


@dataclass(kw_only=True)
class RangeE(Expr):
    """`start:stop` or `start:step:stop`."""
    start: Expr
    step: Expr | None
    stop: Expr


@dataclass(kw_only=True)
class Index(Expr):
    """`base[idxs...]`: scalar indices, ranges, `:`; slicing copies unless inside `@views`."""
    base: Expr
    idxs: list[Expr]


@dataclass(kw_only=True)
class Ternary(Expr):
    cond: Expr
    a: Expr
    b: Expr


@dataclass(kw_only=True)
class Chain(Expr):
    """A chained comparison `a < b <= c` (each operand evaluated once, left to right)."""
    items: list[Expr]
    ops: list[str]


@dataclass(kw_only=True)
class TupleE(Expr):
    items: list[Expr]


@dataclass(kw_only=True)
class NamedTupleE(Expr):
    """A named tuple `(a = e1, b = e2)`; `names` is a tuple (not a list: no child nodes)."""
    names: tuple[str, ...]
    items: list[Expr]


@dataclass(kw_only=True)
class UndefArray(Expr):
    """`Vector{T}(undef, n)` with t an `SArr`: elements unset until written."""
    n: Expr


@dataclass(kw_only=True)
class ArrayLit(Expr):
    """A vector literal `[a, b, c]` (elements promoted to a common type, as Julia's vect)."""
    items: list[Expr]


@dataclass(kw_only=True)
class Field(Expr):
    base: Expr
    name: str


@dataclass(kw_only=True)
class CompFor(Node):
    """One `v in iter` of a comprehension; `var` may destructure: `(a, b)`, `(i, (a, b))`."""
    var: str
    iter: Expr


@dataclass(kw_only=True)
class Comp(Expr):
    """A comprehension `[body for v1 in it1, v2 in it2]` (the result has one dimension per iterator,
    or the iterated array's shape when there is one iterator over an array)."""
    body: Expr
    gens: list[CompFor]


@dataclass(kw_only=True)
class Gen(Expr):
    """A generator `body for v in iter`, only as the argument of a reduction (`sum(... for ...)`);
    `var` may destructure as in a comprehension."""
    body: Expr
    var: str
    iter: Expr
    cond: Expr | None = None           # `body for v in iter if cond`


@dataclass(kw_only=True)
class Lambda(Expr):
    """An anonymous function `(a, b) -> body` (a closure over the variables it reads)."""
    params: list[str]
    body: Expr


@dataclass(kw_only=True)
class ValueBranch(Node):
    """One branch of an `if` expression: its condition (None: the `else`), the statements it runs
    and the expression whose value the branch gives."""
    cond: Expr | None
    body: list[Stmt]
    value: Expr


@dataclass(kw_only=True)
class IfExpr(Expr):
    """`if c1; ...; e1 elseif c2; ...; e2 else ...; e3 end` used for its value (all branch values of
    type t). Without `orelse` its value is `nothing` when no condition holds (only generated inside
    `isnothing`). `block` renders it over several lines (as the value of an assignment or a
    function's last expression); otherwise on one line, in parentheses inside other expressions.
    Branch bodies of an inline one hold only assignments (the reference runs them as expressions)."""
    branches: list[ValueBranch]
    orelse: ValueBranch | None = None
    block: bool = False


@dataclass(kw_only=True)
class AssignExpr(Expr):
    """An assignment used for its value (`return x[i] = v`, `return n += 2`): the right-hand side as
    written (`x[2] = 5` is the Int 5 even when x holds Float64s; `n += 2` is the new n). `stmt` is an
    `IndexAssign` or `OpAssign`."""
    stmt: Stmt


@dataclass(kw_only=True)
class Juxt(Expr):
    """Juxtaposition `2x`, `1.5x^2`: the literal coefficient times `e`."""
    coef: Lit
    e: Expr


# ----------------------------------------------------------------------------- statements
@dataclass(kw_only=True)
class Stmt(Node):
    pass


@dataclass(kw_only=True)
class Assign(Stmt):
    """`name = value`; `views` renders `@views name = value` (slices in value are views)."""
    name: str
    value: Expr
    views: bool = False


@dataclass(kw_only=True)
class SimilarAssign(Stmt):
    """`name = similar(like); name .= value`: one statement, so that no shrinking step can leave
    the uninitialized array unwritten."""
    name: str
    like: Expr
    value: Expr


@dataclass(kw_only=True)
class FillLoop(Stmt):
    """`name = alloc; for var in eachindex(name); name[var] = value; end`: an uninitialized array
    (`Vector{T}(undef, n)`, `similar(ps)`) written in full at once, one statement so that no
    shrinking step can leave an element unwritten; value does not read name."""
    name: str
    alloc: Expr
    var: str
    value: Expr


@dataclass(kw_only=True)
class PushLoop(Stmt):
    """`name = elt[]; for var in iter; push!(name, value); end`: a vector built by one push per
    iteration of a loop with a static trip count (jlhlo allocates it at its final length);
    value does not read name."""
    name: str
    elt: str
    var: str
    iter: Expr
    value: Expr


@dataclass(kw_only=True)
class TupleAssign(Stmt):
    """Destructuring `a, b = value`; a name may be a nested pattern `(lo, hi)`."""
    names: list[str]
    value: Expr


@dataclass(kw_only=True)
class OpAssign(Stmt):
    """`name op= value` (`s += x`)."""
    name: str
    op: str
    value: Expr


@dataclass(kw_only=True)
class IndexAssign(Stmt):
    """`base[idxs...] = value` or `base[idxs...] op= value`."""
    base: Expr
    idxs: list[Expr]
    value: Expr
    op: str | None = None


@dataclass(kw_only=True)
class DotAssign(Stmt):
    """In-place broadcast `dest .= value` / `dest .op= value`; `macro` renders `@. dest = value`
    (value then written without dots), `views` renders `@views` (slices in dest/value are views)."""
    dest: Expr
    value: Expr
    op: str | None = None
    macro: bool = False
    views: bool = False


@dataclass(kw_only=True)
class ExprStmt(Stmt):
    """An expression evaluated for its effect (`f!(x)`)."""
    value: Expr


@dataclass(kw_only=True)
class Branch(Node):
    """`cond` and the statements it guards."""
    cond: Expr
    body: list[Stmt]


@dataclass(kw_only=True)
class If(Stmt):
    """`if c1 ... elseif c2 ... else ... end`."""
    branches: list[Branch]
    orelse: list[Stmt] | None = None


@dataclass(kw_only=True)
class For(Stmt):
    """`for var in iter`; `var` may destructure: `(i, v)` over `pairs(x)`."""
    var: str
    iter: Expr
    body: list[Stmt]
    # (variable, float type): started as an Int, made a float by the body's first statement. Where
    # the loop does not run Julia keeps the Int and jlhlo promotes it when the trip count is known
    # only at run time (README): the reference discards such a run
    accumulators: list[tuple[str, str]] = field(default_factory=list)


@dataclass(kw_only=True)
class While(Stmt):
    cond: Expr
    body: list[Stmt]


@dataclass(kw_only=True)
class Break(Stmt):
    pass


@dataclass(kw_only=True)
class Continue(Stmt):
    pass


@dataclass(kw_only=True)
class Return(Stmt):
    """`return value`; `implicit`: the function's last expression, written without `return`."""
    value: Expr
    implicit: bool = False


@dataclass(kw_only=True)
class Throw(Stmt):
    """A guard that throws when `cond` holds, in one of Julia's spellings (`form`): `if c; error(m);
    end`, `if c; throw(ArgumentError(m)); end`, `c && throw(DomainError(1, m))`, `!(c) || error(m)`,
    `@assert !(c) m`. `message` is unique in the program, so the report names the guard."""
    cond: Expr
    form: str
    message: str


@dataclass(kw_only=True)
class LocalFunc(Stmt):
    """A named local function (a closure over the enclosing function's variables)."""
    fdef: FuncDef


# ----------------------------------------------------------------------------- definitions
@dataclass(kw_only=True)
class Param:
    """A parameter; `annot` is its Julia annotation (`Float64`, `AbstractVector`, `Real`) or None."""
    name: str
    t: JType
    annot: str | None
    anon: bool = False       # `::Val{true}`, `::Val{N}`: no name in Julia (the reference still takes one)
    splat: bool = False      # varargs `args...`


@dataclass(kw_only=True)
class FuncDef(Node):
    """One method. `target` names its Python implementation (unique per method, so a generic
    function with several methods maps to several Python functions chosen by the generator)."""
    name: str
    params: list[Param]
    body: list[Stmt]
    ret: JType
    target: str
    short: bool = False
    callable: bool = False     # `(p::S)(x) = ...`: `name` is the struct S, params[0] the instance
    where: str | None = None   # `where {N}`
    kwparams: list[tuple[Param, Expr]] = field(default_factory=list)   # `; s=1.0, t::Int64=2`
    kwsplat: str | None = None  # `; kws...`


@dataclass(kw_only=True)
class StructDef(Node):
    """`struct Name{T<:Real} <: Super; a::T; b::Float64; end` (fields as (name, annotation))."""
    name: str
    fields: list[tuple[str, str]]
    typevars: list[tuple[str, str]] = field(default_factory=list)
    supertype: str | None = None
    # written with an inner constructor `Name{T}(a, b) where {T<:B} = new{T}(a, b)` and the outer
    # `Name(a::T, b::T) where {T<:B} = Name{T}(a, b)` in place of Julia's default ones (same meaning)
    curly_constructors: bool = False


@dataclass(kw_only=True)
class GradSpec:
    """The program also returns `gradient(loss, wrt...)` (or `withgradient`) of the user function
    `loss`; the expected value is central finite differences of the reference's `loss`.
    `args` are main's parameters passed to loss, in order; `wrt` the Float64 ones differentiated."""
    loss: str
    target: str
    args: list[str]
    wrt: list[str]
    with_value: bool = False


@dataclass(kw_only=True)
class Program:
    """A whole program: definitions, the entry `main`, its inputs (by parameter name) and,
    optionally, a gradient check."""
    abstracts: list[str]
    structs: list[StructDef]
    functions: list[FuncDef]
    main: FuncDef
    inputs: dict[str, Any]
    grad: GradSpec | None = None
    seed: int = 0

    def input_values(self) -> tuple[Any, ...]:
        """Fresh copies of the inputs in main's parameter order (the reference mutates arrays)."""
        return tuple(np.copy(self.inputs[p.name]) if isinstance(self.inputs[p.name], np.ndarray)
                     else self.inputs[p.name] for p in self.main.params)

    def global_names(self) -> list[str]:
        """Names the batch renderer prefixes: functions, structs, abstract types."""
        return sorted({f.name for f in self.functions} | {s.name for s in self.structs} | set(self.abstracts)
                      | ({"main_body"} if self.grad else set()))
