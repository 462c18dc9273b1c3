"""Method signatures as type patterns, Julia's subtype lattice for them, and multiple dispatch.

A method's parameter annotations (`x::AbstractVector{T} where T<:Real`) become patterns; a call's
concrete argument types are matched against every method of the name, and the most specific
applicable method wins. Two applicable methods neither of which is more specific is an ambiguity,
reported as Julia does.
"""
from __future__ import annotations

import abc
from dataclasses import dataclass, field

from . import ast as A
from .diagnostics import JuliaError
from .types import (
    INT_ALIASES,
    SCALARS,
    ArrayT,
    ClosureT,
    FunctionT,
    JType,
    NamedTupleT,
    RangeT,
    Scalar,
    SimpleT,
    StructT,
    TupleT,
    TypeT,
    real_type,
)

# Julia's abstract number types and their supertypes.
ABSTRACT_PARENTS: dict[str, str] = {
    "Number": "Any", "Real": "Number", "AbstractFloat": "Real", "Integer": "Real", "Signed": "Integer",
    "Unsigned": "Integer", "Complex": "Number", "Function": "Any", "AbstractRange": "Any",
}
_SCALAR_PARENT = {"bool": "Integer", "int": "Signed", "uint": "Unsigned", "float": "AbstractFloat",
                  "complex": "Complex"}
ARRAY_NAMES = {  # name -> (kind, fixed ndims)
    "AbstractArray": ("AbstractArray", None), "AbstractVector": ("AbstractArray", 1),
    "AbstractMatrix": ("AbstractArray", 2),
    "DenseArray": ("Array", None), "Array": ("Array", None), "Vector": ("Array", 1), "Matrix": ("Array", 2),
    "StridedArray": ("Array", None),
}

_VEC_OR_MAT = {"AbstractVecOrMat": "AbstractArray", "VecOrMat": "Array"}     # the Unions of a vector and a matrix


# ----------------------------------------------------------------------------- patterns
class Pat(abc.ABC):
    """A type pattern of a method signature."""

    @abc.abstractmethod
    def show(self) -> str:
        """The pattern as Julia writes it."""


@dataclass(frozen=True)
class PAny(Pat):
    def show(self) -> str:
        return "Any"


@dataclass(frozen=True)
class PTypeVar(Pat):
    name: str
    upper: Pat = PAny()

    def show(self) -> str:
        # an anonymous bound (`Vector{<:Real}`) is named by its node's id: show the bound instead
        return "<:" + self.upper.show() if self.name.startswith("<:") else self.name


@dataclass(frozen=True)
class PScalar(Pat):
    name: str

    def show(self) -> str:
        return self.name


@dataclass(frozen=True)
class PAbstract(Pat):
    name: str                          # Real, AbstractFloat, user abstract types, Function ...

    def show(self) -> str:
        return self.name


@dataclass(frozen=True)
class PArray(Pat):
    kind: str                          # "Array" or "AbstractArray"
    elt: Pat = PAny()
    ndims: object = None               # None, an int, or a PTypeVar

    def show(self) -> str:
        """As Julia prints it: Vector{Float64}, AbstractMatrix, AbstractArray{T, N}."""
        abstract = self.kind == "AbstractArray"
        named = {1: "AbstractVector" if abstract else "Vector", 2: "AbstractMatrix" if abstract else "Matrix"}
        elt = "" if isinstance(self.elt, PAny) else self.elt.show()
        if isinstance(self.ndims, int) and self.ndims in named:
            return named[self.ndims] + (f"{{{elt}}}" if elt else "")
        nd = getattr(self.ndims, "name", self.ndims)
        if nd is None:
            return self.kind + (f"{{{elt}}}" if elt else "")
        return f"{self.kind}{{{elt or 'Any'}, {nd}}}"


@dataclass(frozen=True)
class PRange(Pat):
    """`AbstractRange{T}` (also written `UnitRange`, `StepRange`, `StepRangeLen`: jlhlo has one range
    type); the element type is matched like an array's."""
    elt: Pat = PAny()

    def show(self) -> str:
        return "AbstractRange" + ("" if isinstance(self.elt, PAny) else f"{{{self.elt.show()}}}")


@dataclass(frozen=True)
class PTuple(Pat):
    items: tuple[Pat, ...] | None      # None: any tuple
    vararg: Pat | None = None          # Tuple{Vararg{T}} / NTuple{N,T}: every item (after `prefix`) matches
    length: Pat | None = None          # NTuple{N,T}'s N: a PConst or a PTypeVar bound to the length
    prefix: tuple[Pat, ...] = ()       # Tuple{Float64, Vararg{Float64}}: the items before the Vararg

    def show(self) -> str:
        if self.vararg is not None:
            return "Tuple{" + ", ".join([p.show() for p in self.prefix] + [f"Vararg{{{self.vararg.show()}}}"]) + "}"
        if self.items is None:
            return "Tuple"
        return "Tuple{" + ", ".join(p.show() for p in self.items) + "}"


@dataclass(frozen=True)
class PNamedTuple(Pat):
    names: tuple[str, ...] | None = None   # `NamedTuple{(:a, :b), Tuple{Float64, Int64}}`; None: any
    types: Pat | None = None               # a PTuple of the values' types; None: any

    def show(self) -> str:
        if self.names is None:
            return "NamedTuple"
        names = "(" + ", ".join(f":{n}" for n in self.names) + ("," if len(self.names) == 1 else "") + ")"
        return f"NamedTuple{{{names}{', ' + self.types.show() if self.types is not None else ''}}}"


@dataclass(frozen=True)
class PStruct(Pat):
    name: str
    params: tuple[Pat, ...] = ()       # empty: any parameters

    def show(self) -> str:
        return self.name + ("{" + ", ".join(p.show() for p in self.params) + "}" if self.params else "")


@dataclass(frozen=True)
class PType(Pat):
    of: Pat

    def show(self) -> str:
        return f"Type{{{self.of.show()}}}"


@dataclass(frozen=True)
class PConst(Pat):
    """A value type parameter such as the `2` in `Array{Float32,2}`."""
    value: object
    of_type: type = object             # the value's Python type: `Val{true}` is not `Val{1}`

    def __post_init__(self) -> None:
        object.__setattr__(self, "of_type", type(self.value))

    def show(self) -> str:
        return str(self.value).lower() if isinstance(self.value, bool) else str(self.value)


@dataclass(frozen=True)
class PComplex(Pat):
    """`Complex{T}`: ComplexF64 (T = Float64) or ComplexF32 (T = Float32), jlhlo's complex types."""
    part: Pat

    def show(self) -> str:
        return f"Complex{{{self.part.show()}}}"


@dataclass(frozen=True)
class PUnion(Pat):
    """`Union{A, B}`: any of its members (flattened, at least two)."""
    members: tuple[Pat, ...]

    def show(self) -> str:
        return "Union{" + ", ".join(m.show() for m in self.members) + "}"


@dataclass(frozen=True)
class PSingleton(Pat):
    name: str                          # Nothing, Colon

    def show(self) -> str:
        return self.name


# ----------------------------------------------------------------------------- the type universe
@dataclass
class StructInfo:
    name: str
    typevars: list[A.TypeVar]
    supertype: str
    field_names: list[str]
    field_types: list[A.Expr | None]
    node: A.StructDef | None = None


@dataclass
class TypeUniverse:
    """The user's abstract types and structs, next to Julia's built-in hierarchy."""
    abstract_parents: dict[str, str] = field(default_factory=lambda: dict(ABSTRACT_PARENTS))
    structs: dict[str, StructInfo] = field(default_factory=dict)
    # `const V = Vector{Float64}` and `const AA3{T} = AbstractArray{T,3}`: a name for a type, with
    # its parameters (bound where the alias is written with them, any type where it is not)
    aliases: dict[str, tuple[list[str], A.Expr]] = field(default_factory=dict)

    def copy(self) -> TypeUniverse:
        """A universe to add a program's own types to, leaving this one as it is."""
        return TypeUniverse(dict(self.abstract_parents), dict(self.structs), dict(self.aliases))

    def is_type_name(self, name: str) -> bool:
        name = INT_ALIASES.get(name, name)
        return (name in SCALARS or name in self.abstract_parents or name in self.structs or name in ARRAY_NAMES
                or name in _VEC_OR_MAT
                or name in ("Any", "Tuple", "NamedTuple", "Nothing", "Type", "NTuple", "Colon", "Symbol",
                            "UnitRange", "StepRange", "StepRangeLen", "Union"))

    def abstract_chain(self, name: str) -> list[str]:
        chain = [name]
        while chain[-1] in self.abstract_parents:
            chain.append(self.abstract_parents[chain[-1]])
        return chain

    def supertypes(self, t: JType) -> list[str]:
        """Names of the abstract types `t` is a subtype of (nearest first), ending with Any."""
        if isinstance(t, Scalar):
            return self.abstract_chain(_SCALAR_PARENT[t.info.kind])
        if isinstance(t, StructT):
            return self.abstract_chain(self.structs[t.name].supertype) if t.name in self.structs else ["Any"]
        if isinstance(t, (FunctionT, ClosureT)):
            return ["Function", "Any"]
        if isinstance(t, RangeT):
            return ["AbstractRange", "Any"]
        return ["Any"]

    def concrete(self, pat: object) -> JType | None:
        """The concrete type a pattern names, where it names one whose values hold only numbers
        (`Float64`, `Tuple{Float64, Int64}`, a struct without type parameters whose fields are
        declared as such): the element type of `Vector{P}(undef, n)`. None otherwise."""
        if isinstance(pat, JType):
            return pat
        if isinstance(pat, PScalar):
            return Scalar(pat.name)
        if isinstance(pat, PTuple) and pat.items is not None and pat.vararg is None:
            items = [self.concrete(p) for p in pat.items]
            return None if None in items else TupleT(tuple(items))
        if isinstance(pat, PNamedTuple) and pat.names is not None and pat.types is not None:
            types = self.concrete(pat.types)
            return NamedTupleT(pat.names, types.items) if isinstance(types, TupleT) else None
        name = pat if isinstance(pat, str) else pat.name if isinstance(pat, PStruct) and not pat.params else None
        info = self.structs.get(name) if name else None
        if info is None or info.typevars or None in info.field_types:
            return None
        fields = [self.concrete(self.pattern(t, {})) for t in info.field_types]
        return None if None in fields else StructT(info.name, (), tuple(info.field_names), tuple(fields))

    # ---- AST type expressions -> patterns
    def pattern(self, expr: A.Expr | None, typevars: dict[str, PTypeVar]) -> Pat:
        if expr is None:
            return PAny()
        if isinstance(expr, A.Name):
            return self._named_pattern(expr, None, typevars)
        if isinstance(expr, A.Curly) and isinstance(expr.base, A.Name):
            return self._named_pattern(expr.base, expr.params, typevars)
        if isinstance(expr, A.SubtypeBound):
            return PTypeVar(f"<:{id(expr)}", self.pattern(expr.upper, typevars))
        if isinstance(expr, (A.IntLit, A.BoolLit)):     # a value parameter: `Val{2}`, `Val{true}`
            return PConst(expr.value)
        if isinstance(expr, A.Field) and isinstance(expr.obj, A.Name):   # Base.Float64, NNlib.X
            return self._named_pattern(A.Name(expr.name, span=expr.span), None, typevars)
        raise JuliaError("unsupported type expression", expr.span)

    def _named_pattern(self, name_node: A.Name, params: list[A.Expr] | None, typevars: dict[str, PTypeVar]) -> Pat:
        """`params` is None for a bare name (`Tuple`), a list for a curly form (`Tuple{}`)."""
        name = INT_ALIASES.get(name_node.id, name_node.id)
        curly = params is not None
        params = params or []
        if name == "Tuple" and params and isinstance(params[-1], A.Curly) \
                and getattr(params[-1].base, "id", "") == "Vararg":
            return self._vararg_tuple(params, typevars, name_node)
        if name == "NamedTuple" and params:    # `NamedTuple{(:a, :b), Tuple{Float64, Int64}}`
            names = params[0].items if isinstance(params[0], A.TupleExpr) else None
            if names is None or not all(isinstance(n, A.SymbolLit) for n in names) or len(params) > 2:
                raise JuliaError("expected `NamedTuple{(:a, :b), Tuple{...}}`", name_node.span)
            types = self.pattern(params[1], typevars) if len(params) == 2 else None
            return PNamedTuple(tuple(n.name for n in names), types)
        ps = [self.pattern(p, typevars) for p in params]
        if name in typevars and not params:
            return typevars[name]
        if name in self.aliases and name not in self.structs and name not in typevars:
            names, expr = self.aliases[name]
            if len(ps) > len(names):
                raise JuliaError(f"too many parameters for type alias `{name}` ({len(names)} declared)", name_node.span)
            bound = {**typevars, **dict(zip(names, ps + [PAny()] * (len(names) - len(ps))))}
            return self.pattern(expr, bound)
        if name in SCALARS and not params:
            return PScalar(name)
        if name == "Any":
            return PAny()
        if name in ("UnitRange", "StepRange", "StepRangeLen", "AbstractRange"):
            return PRange(ps[0] if ps else PAny())
        if name in self.abstract_parents and not params:
            return PAbstract(name)
        if name == "Ref" and len(ps) == 1 and "RefValue" in self.structs:
            return PStruct("RefValue", (ps[0],))      # the Ref{T} jlhlo makes is a RefValue{T}, as Julia's
        if name == "Complex" and len(ps) == 1:
            if ps[0] in (PScalar("Float64"), PScalar("Float32")):     # `Complex{Float64}` is ComplexF64
                return PScalar("Complex" + ps[0].name[0] + ps[0].name[-2:])
            return PComplex(ps[0])
        if name in _VEC_OR_MAT:               # Union{AbstractVector{T}, AbstractMatrix{T}}
            kind = _VEC_OR_MAT[name]
            elt = ps[0] if ps else PAny()
            return PUnion((PArray(kind, elt, 1), PArray(kind, elt, 2)))
        if name in ARRAY_NAMES:
            kind, ndims = ARRAY_NAMES[name]
            elt = ps[0] if ps else PAny()
            if len(ps) > 1:
                ndims = ps[1].value if isinstance(ps[1], PConst) else ps[1]
            return PArray(kind, elt, ndims)
        if name == "Tuple":
            return PTuple(tuple(ps)) if curly else PTuple(None)
        if name == "NTuple":
            return PTuple(None, ps[1] if len(ps) > 1 else PAny(), ps[0] if ps else None)
        if name == "NamedTuple":
            return PNamedTuple()
        if name in ("Nothing", "Colon"):
            return PSingleton(name)
        if name == "Type":
            return PType(ps[0] if ps else PAny())
        if name == "Union" and curly:
            members: list[Pat] = []
            for p in ps:
                for m in (p.members if isinstance(p, PUnion) else (p,)):
                    if m not in members:
                        members.append(m)
            if not members:
                raise JuliaError("`Union{}` has no values: no argument can have this type", name_node.span)
            return members[0] if len(members) == 1 else PUnion(tuple(members))
        if name in self.structs:
            return PStruct(name, tuple(ps))
        raise JuliaError(f"UndefVarError: type `{name_node.id}` not defined", name_node.span)

    def _vararg_tuple(self, params: list[A.Expr], typevars: dict[str, PTypeVar], name_node: A.Name) -> PTuple:
        """`Tuple{A, B, Vararg{T}}`: A and B, then any number of T; `Vararg{T, 3}` is exactly three,
        `Tuple{Vararg{T, N}}` binds N to the length."""
        prefix = tuple(self.pattern(p, typevars) for p in params[:-1])
        va = params[-1].params
        if not va or len(va) > 2:
            raise JuliaError("expected `Vararg{T}` or `Vararg{T, N}`", params[-1].span)
        item = self.pattern(va[0], typevars)
        if len(va) == 1:
            return PTuple(None, item, prefix=prefix)
        count = self.pattern(va[1], typevars)
        if isinstance(count, PConst) and isinstance(count.value, int):
            return PTuple(prefix + (item,) * count.value)
        if not prefix:
            return PTuple(None, item, count)
        raise JuliaError("`Tuple{..., Vararg{T, N}}` with items before it and a length parameter N is not supported",
                         name_node.span)

    # ---- type equality: `typeof(x) == Vector{Float64}`
    def same_type(self, a: object, b: object) -> bool | None:
        """Whether two types (JTypes, written patterns or abstract type names) are one Julia type;
        None when jlhlo cannot tell (a pattern with free type variables, say)."""
        if isinstance(a, Pat) and not isinstance(b, Pat):
            a, b = b, a
        if isinstance(b, Pat):
            if isinstance(a, Pat):
                return True if a == b else None
            if not isinstance(a, JType):
                return isinstance(b, PAbstract) and b.name == a
            return self.matches(b, a, {}) and self._exactly(b, a)
        if isinstance(a, JType) and isinstance(b, JType):
            return a.julia() == b.julia()      # a static size is not part of the type
        return a == b

    def _exactly(self, pat: Pat, t: JType) -> bool | None:
        """Whether `pat`, which matches the concrete type t, is t itself (False: an abstract type or
        a UnionAll such as `Vector` or `AbstractVector{Float64}`; None: jlhlo cannot tell)."""
        if isinstance(pat, (PScalar, PSingleton)):
            return True
        if isinstance(pat, PComplex):
            return self._exactly(pat.part, real_type(t))
        if isinstance(pat, (PAny, PAbstract, PTypeVar, PUnion)):
            return False
        if isinstance(pat, PArray):
            if pat.kind != "Array" or not isinstance(pat.ndims, int) or not isinstance(t, ArrayT) or t.wrapper:
                return False
            return self._exactly(pat.elt, t.elt)
        if isinstance(pat, PTuple):
            if pat.items is None:
                return False
            parts = [self._exactly(p, u) for p, u in zip(pat.items, t.items)]
            return None if None in parts else all(parts)
        if isinstance(pat, PNamedTuple) and isinstance(t, NamedTupleT):
            return pat.names is not None and pat.types is not None and self._exactly(pat.types, TupleT(t.items))
        if isinstance(pat, PStruct) and isinstance(t, StructT):
            if len(pat.params) != len(t.params):
                return False
            parts = [self._exactly(p, u) if isinstance(p, Pat) and isinstance(u, JType) else True
                     for p, u in zip(pat.params, t.params)]
            return None if None in parts else all(parts)
        return None

    # ---- matching a concrete type against a pattern
    def matches(self, pat: Pat, t: JType, env: dict[str, object]) -> bool:
        if isinstance(pat, PAny):
            return True
        if isinstance(pat, PTypeVar):
            if pat.name in env:
                return self._same_binding(env[pat.name], t)
            if not self.matches(pat.upper, t, env):
                return False
            env[pat.name] = t
            return True
        if isinstance(pat, PScalar):
            return isinstance(t, Scalar) and t.name == pat.name
        if isinstance(pat, PAbstract):
            return pat.name in self.supertypes(t)
        if isinstance(pat, PRange):
            return isinstance(t, RangeT) and self._match_param(pat.elt, t.elt, env)
        if isinstance(pat, PArray):
            if isinstance(t, RangeT):
                return pat.kind == "AbstractArray" and self._match_param(pat.elt, t.elt, env) \
                    and self._match_param(pat.ndims, 1, env)
            return isinstance(t, ArrayT) and not (t.wrapper and pat.kind == "Array") \
                and self._match_param(pat.elt, t.elt, env) and self._match_param(pat.ndims, t.ndims, env)
        if isinstance(pat, PTuple):
            if not isinstance(t, TupleT):
                return False
            if pat.length is not None and not self._match_param(pat.length, len(t.items), env):
                return False
            if pat.vararg is not None:
                k = len(pat.prefix)
                return len(t.items) >= k and all(self.matches(p, it, env) for p, it in zip(pat.prefix, t.items)) \
                    and all(self.matches(pat.vararg, it, env) for it in t.items[k:])
            if pat.items is None:
                return True
            return len(pat.items) == len(t.items) and all(self.matches(p, it, env) for p, it in zip(pat.items, t.items))
        if isinstance(pat, PNamedTuple):
            return isinstance(t, NamedTupleT) and (pat.names is None or pat.names == t.names) \
                and (pat.types is None or self.matches(pat.types, TupleT(t.items), env))
        if isinstance(pat, PComplex):
            return isinstance(t, Scalar) and t.info.kind == "complex" and self._match_param(pat.part, real_type(t), env)
        if isinstance(pat, PStruct):
            if not isinstance(t, StructT) or t.name != pat.name:
                return False
            return all(self._match_param(p, v, env) for p, v in zip(pat.params, t.params))
        if isinstance(pat, PType):
            return isinstance(t, TypeT) and (isinstance(pat.of, PAny) or self._match_param(pat.of, t.of, env))
        if isinstance(pat, PSingleton):
            return isinstance(t, SimpleT) and t.name == pat.name
        if isinstance(pat, PConst):
            return pat.value == t
        if isinstance(pat, PUnion):
            for m in pat.members:
                trial = dict(env)
                if self.matches(m, t, trial):
                    env.update(trial)
                    return True
        return False

    @staticmethod
    def _same_binding(bound: object, value: object) -> bool:
        """Whether `value` is the type (or constant) a type variable is bound to. A type variable binds
        a Julia type, of which an array's static size is no part: `Pair2{M}(A::M, B::M)` takes a
        6×3 and a 6×6 Matrix{Float32} (code is still specialized per size, by the field types)."""
        if isinstance(bound, JType) and isinstance(value, JType):
            return bound.julia() == value.julia()
        return bound == value

    def _match_param(self, pat: object, value: object, env: dict[str, object]) -> bool:
        """Type parameters are invariant: `Vector{Real}` does not match `Vector{Float64}`."""
        if pat is None or isinstance(pat, PAny):
            return True
        if isinstance(pat, PTypeVar):
            if pat.name in env:
                return self._same_binding(env[pat.name], value)
            if isinstance(value, JType) and not self.matches(pat.upper, value, env):
                return False
            env[pat.name] = value
            return True
        if isinstance(pat, int):
            return pat == value
        if isinstance(pat, PConst):      # `Val{true}` is not `Val{1}`
            return type(pat.value) is type(value) and pat.value == value
        if isinstance(pat, PScalar):
            return value == Scalar(pat.name)
        if isinstance(value, JType):      # an abstract or Union parameter is its own type: no array has it
            return self.matches(pat, value, env) and not isinstance(pat, (PAbstract, PUnion))
        return False

    # ---- specificity: is pattern p a subset of q?
    def pat_le(self, p: Pat, q: Pat) -> bool:
        if p == q or isinstance(q, PAny):
            return True
        if isinstance(p, PUnion):
            return all(self.pat_le(m, q) for m in p.members)
        if isinstance(q, PUnion):
            return any(self.pat_le(p, m) for m in q.members)
        if isinstance(q, PTypeVar):
            return self.pat_le(p, q.upper)
        if isinstance(p, PTypeVar):
            return self.pat_le(p.upper, q)
        if isinstance(p, PAny):
            return False
        if isinstance(q, PAbstract):
            if isinstance(p, PScalar):
                return q.name in self.supertypes(Scalar(p.name))
            if isinstance(p, PAbstract):
                return q.name in self.abstract_chain(p.name)
            if isinstance(p, PStruct):
                return q.name in self.abstract_chain(self.structs[p.name].supertype)
            if isinstance(p, PComplex):
                return q.name in self.abstract_chain("Complex")
            return False
        if isinstance(q, PComplex):
            if isinstance(p, PScalar):
                return Scalar(p.name).info.kind == "complex" and self.pat_le(PScalar(real_type(Scalar(p.name)).name),
                                                                            q.part)
            return isinstance(p, PComplex) and self.pat_le(p.part, q.part)
        if isinstance(q, PArray) and isinstance(p, PArray):
            kind_ok = q.kind == "AbstractArray" or p.kind == "Array"
            elt_ok = isinstance(q.elt, (PAny, PTypeVar)) and self.pat_le(p.elt, q.elt) or p.elt == q.elt
            nd_ok = q.ndims is None or isinstance(q.ndims, PTypeVar) or q.ndims == p.ndims
            return kind_ok and elt_ok and nd_ok
        if isinstance(p, PRange) and isinstance(q, (PRange, PArray)):
            if isinstance(q, PArray) and not (q.kind == "AbstractArray" and q.ndims in (None, 1)):
                return False
            return isinstance(q.elt, (PAny, PTypeVar)) and self.pat_le(p.elt, q.elt) or p.elt == q.elt
        if isinstance(q, PTuple) and isinstance(p, PTuple):
            if q.items is None and q.vararg is None:
                return True
            if q.vararg is not None:
                k = len(q.prefix)
                if p.vararg is not None:      # both open-ended: item by item, then the Varargs
                    if len(p.prefix) < k:     # p takes shorter tuples than q does
                        return False
                    longer = len(p.prefix)
                    ps = p.prefix + (p.vararg,) * (longer - len(p.prefix))
                    qs = q.prefix + (q.vararg,) * (longer - k)
                    return all(self.pat_le(a, b) for a, b in zip(ps, qs)) and self.pat_le(p.vararg, q.vararg)
                return p.items is not None and len(p.items) >= k and \
                    all(self.pat_le(a, b) for a, b in zip(p.items, q.prefix)) and \
                    all(self.pat_le(i, q.vararg) for i in p.items[k:])
            return p.items is not None and len(p.items) == len(q.items) and \
                all(self.pat_le(a, b) for a, b in zip(p.items, q.items))
        if isinstance(q, PStruct) and isinstance(p, PStruct):
            return p.name == q.name and (not q.params or len(p.params) == len(q.params) and
                                         all(self.pat_le(a, b) for a, b in zip(p.params, q.params)))
        if isinstance(q, PType) and isinstance(p, PType):
            return self.pat_le(p.of, q.of)
        if isinstance(q, PNamedTuple) and isinstance(p, PNamedTuple):
            return (q.names is None or p.names == q.names) and \
                (q.types is None or p.types is not None and self.pat_le(p.types, q.types))
        return False


# ----------------------------------------------------------------------------- methods
@dataclass
class Method:
    name: str                          # the function's name ("(::Dense)" methods are stored under "call")
    fdef: A.FunctionDef | A.Lambda
    param_names: list[str | None]
    patterns: list[Pat]
    vararg: bool                       # last parameter is `xs...`
    defaults: list[A.Expr | None]
    kwparams: list[A.Param]
    where: dict[str, PTypeVar]
    origin: str                        # "user" or "prelude"
    full: Method | None = None         # `f(x)` made from `f(x, y=1)`: that method, which binds y's type

    def signature(self) -> str:
        parts = []
        for n, p in zip(self.param_names, self.patterns):
            s = f"{n or ''}::{p.show()}" if not isinstance(p, PAny) else (n or "_")
            parts.append(s)
        if self.vararg and parts:
            parts[-1] += "..."
        return f"{self.name}({', '.join(parts)})"


def expand_defaults(m: Method) -> list[Method]:
    """`f(x, y=1)` defines the methods `f(x)` and `f(x, y)` as in Julia."""
    out = [m]
    n = len(m.patterns)
    k = n
    while k > 0 and m.defaults[k - 1] is not None:
        k -= 1
        out.append(Method(m.name, m.fdef, m.param_names[:k], m.patterns[:k], False, m.defaults[:k], m.kwparams,
                          m.where, m.origin, full=m))
    return out


def applicable(universe: TypeUniverse, m: Method, types: list[JType]) -> dict[str, object] | None:
    """The typevar bindings if `m` accepts `types`, else None."""
    n = len(m.patterns)
    if m.vararg:
        if len(types) < n - 1:
            return None
        fixed, rest = types[:n - 1], types[n - 1:]
    else:
        if len(types) != n:
            return None
        fixed, rest = types, []
    env: dict[str, object] = {}
    for p, t in zip(m.patterns, fixed):
        if not universe.matches(p, t, env):
            return None
    if m.vararg:
        for t in rest:
            if not universe.matches(m.patterns[-1], t, env):
                return None
    return env


def more_specific(universe: TypeUniverse, a: Method, b: Method) -> bool:
    if a.vararg != b.vararg:
        return not a.vararg
    if len(a.patterns) != len(b.patterns):
        return False
    le = all(universe.pat_le(p, q) for p, q in zip(a.patterns, b.patterns))
    ge = all(universe.pat_le(q, p) for p, q in zip(a.patterns, b.patterns))
    if le and ge:
        # equal up to typevars: `f(x::T, y::T) where T` (a diagonal constraint) beats `f(x, y)`
        return _repeated_typevars(a) > _repeated_typevars(b)
    return le and not ge


def _repeated_typevars(m: Method) -> int:
    seen: dict[str, int] = {}
    for p in m.patterns:
        if isinstance(p, PTypeVar):
            seen[p.name] = seen.get(p.name, 0) + 1
    return sum(n - 1 for n in seen.values())


def select_method(universe: TypeUniverse, methods: list[Method], types: list[JType]
                  ) -> tuple[Method, dict[str, object]] | list[Method] | None:
    """The most specific applicable method with its bindings; a list of candidates on ambiguity;
    None when nothing applies."""
    found = [(m, env) for m in methods if (env := applicable(universe, m, types)) is not None]
    if not found:
        return None
    best = [(m, env) for m, env in found if not any(more_specific(universe, o, m) for o, _ in found if o is not m)]
    if len(best) == 1:
        return best[0]
    # identical signatures from a user redefinition: the later definition replaces the earlier
    user = [b for b in best if b[0].origin == "user"]
    if user and len(user) < len(best) and len(user) == 1:
        return user[0]
    return [m for m, _ in best]
