"""The abstract syntax tree of the Julia subset: plain dataclasses, each carrying its source span.

The parser (frontend/parser.py) builds these from the Lark tree; inference and lowering read them.
Julia's surface sugar is normalised here so later stages see few forms:

* binary and unary operators are `Call(Name(op), args)` (`a + b`, `-x`, `!c`, `a ÷ b`, `x'` is
  `Call(Name("adjoint"), [x])`, juxtaposition `2x` is `Call(Name("*"), [2, x])`);
* dotted operators and `f.(x)` are `Broadcast(func, args)` (`a .+ b` is
  `Broadcast(Name("+"), [a, b])`); `@. expr` is expanded into the dotted form by the parser;
* `a < b <= c` is `Comparison([a, b, c], ["<", "<="])`; a plain `a < b` is `Call(Name("<"), ...)`;
* `x += y` is `Assign(x, y, op="+")`, `x .= y` is `Assign(x, y, dotted=True)`, `x .+= y` is
  `Assign(x, y, op="+", dotted=True)`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .diagnostics import Span


@dataclass(kw_only=True)
class Node:
    span: Span | None = field(default=None, repr=False, compare=False)


# ----------------------------------------------------------------------------- expressions
@dataclass
class IntLit(Node):
    value: int
    type_name: str = "Int64"          # 0x1F is UInt8, 0x1234 UInt16 ... as Julia sizes hex literals


@dataclass
class FloatLit(Node):
    value: float
    type_name: str = "Float64"        # 1f0 is Float32


@dataclass
class BoolLit(Node):
    value: bool


@dataclass
class StringLit(Node):
    value: str


@dataclass
class SymbolLit(Node):
    name: str                          # :foo


@dataclass
class Name(Node):
    id: str                            # identifiers, also `nothing`, `pi`, operator names like "+"


@dataclass
class ColonAll(Node):
    """A bare `:` as an index (`x[:, 1]`) or argument (`reshape(x, :, 3)`)."""


@dataclass
class End(Node):
    """`end` inside an indexing expression."""


@dataclass
class Begin(Node):
    """`begin` inside an indexing expression: the first index."""


@dataclass
class Kwarg(Node):
    name: str | None                   # None for a splatted named tuple `f(; kws...)`
    value: Expr


@dataclass
class Splat(Node):
    value: Expr                        # xs...


@dataclass
class Call(Node):
    func: Expr
    args: list[Expr]
    kwargs: list[Kwarg] = field(default_factory=list)


@dataclass
class Broadcast(Node):
    func: Expr
    args: list[Expr]
    kwargs: list[Kwarg] = field(default_factory=list)


@dataclass
class Comparison(Node):
    operands: list[Expr]
    ops: list[str]


@dataclass
class And(Node):
    left: Expr
    right: Expr


@dataclass
class Or(Node):
    left: Expr
    right: Expr


@dataclass
class Ternary(Node):
    cond: Expr
    then: Expr
    orelse: Expr


@dataclass
class TupleExpr(Node):
    items: list[Expr]


@dataclass
class NamedTupleExpr(Node):
    names: list[str]
    values: list[Expr]


@dataclass
class Vect(Node):
    """`[a, b, c]`"""
    items: list[Expr]


@dataclass
class HCat(Node):
    """`[a b c]`"""
    items: list[Expr]


@dataclass
class VCat(Node):
    """`[a b; c d]` and `[a; b]`: rows, each a list of items concatenated horizontally."""
    rows: list[list[Expr]]


@dataclass
class Index(Node):
    obj: Expr
    indices: list[Expr]                # may contain End (inside arithmetic) and ColonAll


@dataclass
class Field(Node):
    obj: Expr
    name: str                          # d.W ; Base.tail is Field(Name("Base"), "tail")


@dataclass
class Range(Node):
    start: Expr
    step: Expr | None
    stop: Expr


@dataclass
class Param(Node):
    name: str | None                   # None for `::Type` arguments
    type: Expr | None = None           # a type expression (Name, Curly, ...)
    default: Expr | None = None
    splat: bool = False                # args...


@dataclass
class Lambda(Node):
    params: list[Param]
    body: Block
    name: str | None = None            # a local function `g(x) = ...` inside another keeps its name
    kwparams: list[Param] = field(default_factory=list)     # `(x; k=2) -> ...`


@dataclass
class Generator(Node):
    """`[expr for x in xs, y in ys if cond]` (is_array) or `f(expr for x in xs)` (a generator).
    Several `for`s in one comprehension (`for i in 1:3, j in 1:4`) make a multi-dimensional array."""
    expr: Expr
    iters: list[tuple[Expr, Expr]]     # (target, iterable); target is a Name or a TupleExpr of Names
    cond: Expr | None = None
    is_array: bool = True


@dataclass
class Curly(Node):
    """A parametric type `Matrix{Float32}`, `Tuple{}`, `Dense{M,V}`."""
    base: Expr
    params: list[Expr]


@dataclass
class TypeAssert(Node):
    value: Expr
    type: Expr


@dataclass
class SubtypeBound(Node):
    """`<:Real` inside a type's parameters (`AbstractVector{<:Real}`)."""
    upper: Expr


@dataclass
class MacroCall(Node):
    """`@inbounds e`, `@views e`, `@simd for ...`; `@.` never reaches here (expanded by the parser)."""
    name: str                          # without the @
    args: list[Node]


@dataclass
class BlockExpr(Node):
    """`begin ... end` and `(a; b)` used as an expression: the value of the last statement."""
    body: Block


@dataclass
class Let(Node):
    bindings: list[Assign]
    body: Block


@dataclass
class Interpolated(Node):
    """Anything the parser accepts only to reject with a clear message (string interpolation ...)."""
    what: str


# ----------------------------------------------------------------------------- statements
@dataclass
class Block(Node):
    stmts: list[Node]


@dataclass
class ExprStmt(Node):
    expr: Expr


@dataclass
class Assign(Node):
    target: Expr                       # Name, TupleExpr of targets, Index, Field
    value: Expr
    op: str | None = None              # "+" for +=, ...
    dotted: bool = False               # .= and .+= ...
    local: bool = False                # `local x = ...`


@dataclass
class Global(Node):
    """`global x, y` or `global x = v`: names that refer to the program's top-level variables."""
    names: list[str]
    assign: Assign | None = None


@dataclass
class If(Node):
    branches: list[tuple[Expr, Block]]  # if and elseif conditions with their blocks
    orelse: Block | None = None


@dataclass
class For(Node):
    iters: list[tuple[Expr, Expr]]     # `for i = 1:3, j in xs`: outer first
    body: Block


@dataclass
class While(Node):
    cond: Expr
    body: Block


@dataclass
class Break(Node):
    pass


@dataclass
class Continue(Node):
    pass


@dataclass
class Return(Node):
    value: Expr | None


# ----------------------------------------------------------------------------- top level
@dataclass
class TypeVar(Node):
    name: str
    upper: Expr | None = None          # where T<:Real


@dataclass
class FunctionDef(Node):
    name: str | None                   # None for a callable-struct method `(d::Dense)(x) = ...`
    params: list[Param]
    kwparams: list[Param]              # after `;`
    where: list[TypeVar]
    body: Block
    self_param: Param | None = None    # the `(d::Dense)` of a callable-struct method
    return_type: Expr | None = None
    qualified: str | None = None       # `Base.show` defines into Base: we keep the module name


@dataclass
class StructDef(Node):
    name: str
    params: list[TypeVar]
    supertype: Expr | None
    fields: list[tuple[str, Expr | None]]
    mutable: bool = False
    constructors: list[FunctionDef] = field(default_factory=list)   # inner constructors (`new(...)`)
    defaults: dict[str, Expr] = field(default_factory=dict)          # `a::T = v` (with @kwdef)
    kwdef: bool = False                # `@kwdef struct`: also a keyword constructor


@dataclass
class AbstractTypeDef(Node):
    name: str
    params: list[TypeVar]
    supertype: Expr | None


@dataclass
class ConstDef(Node):
    name: str
    value: Expr
    params: list[str] = field(default_factory=list)    # a parametric type alias: `const AA3{T} = AbstractArray{T,3}`


@dataclass
class Using(Node):
    kind: str                          # "using" or "import"
    modules: list[str]                 # `using LinearAlgebra, Statistics`
    names: list[str] = field(default_factory=list)   # `using NNlib: conv, relu`


@dataclass
class ModuleAST(Node):
    items: list[Node]                  # definitions and top-level statements, in order
    modules: list[str] = field(default_factory=list)   # the `module M ... end` blocks, whose items are here


@dataclass
class ModuleDef(Node):
    """`module M ... end` (only while parsing: `ModuleAST` takes its items)."""
    name: str
    items: list[Node]


@dataclass
class Export(Node):
    names: list[str]


Expr = Node


def children(n: object) -> list[object]:
    """What a tree walk visits under `n`: a node's fields, a list's or tuple's items, nothing else."""
    if isinstance(n, Node):
        return list(n.__dict__.values())
    if isinstance(n, (list, tuple)):
        return list(n)
    return []


class NodeMemo:
    """Values computed once per AST node or statement list (nodes compare by value, so they cannot
    be dict keys). An entry keeps its node alive, so an id is never reused for another node while
    cached; every memo is emptied when a program is freed (see `clear_memos`)."""

    def __init__(self) -> None:
        self._entries: dict[int, tuple[object, object]] = {}
        _MEMOS.append(self)

    def get(self, node: Node) -> object | None:
        entry = self._entries.get(id(node))
        return entry[1] if entry is not None and entry[0] is node else None

    def put(self, node: Node, value: object) -> object:
        self._entries[id(node)] = (node, value)
        return value


_MEMOS: list[NodeMemo] = []


def clear_memos() -> None:
    """Forget every memoized value. A program calls this when it is freed, so memos hold the ASTs of
    live programs only (the others' values are recomputed on demand)."""
    for memo in _MEMOS:
        memo._entries.clear()
