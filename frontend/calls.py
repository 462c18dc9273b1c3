"""Calls: generic functions by name, closures, callable structs, struct constructors and type
conversions (`Float32(x)`)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from . import ast as A
from .diagnostics import StaticValueNeeded
from .dispatch import (
    ARRAY_NAMES,
    Method,
    PAny,
    PArray,
    Pat,
    PConst,
    PScalar,
    PStruct,
    PTypeVar,
    TypeUniverse,
    applicable,
    select_method,
)
from .exceptions import is_throw, lower_throw
from .mutable import is_mutable, with_cells
from .parser import curly_constructor_name
from .printing import is_print_call, lower_print_call
from .program import CALL
from .registry import PRIMITIVES, NoMethod
from .runtime_slices import REDUCTIONS, has_range_slice, reduce_runtime_slices
from .scalars import convert_scalar, convert_value
from .types import JType, Scalar, StructT, real_type
from .unions import split_call
from .values import ClosureV, FuncV, ScalarV, SingletonV, StructV, TypeV, Value, describe, nothing

if TYPE_CHECKING:
    from .context import Lowering

UNSUPPORTED_CALLS = {
    "write": "I/O", "read": "I/O",
    "open": "I/O", "string": "strings", "repr": "strings",
    "ccall": "ccall", "eval": "eval", "push!": "growing arrays (push!)", "append!": "growing arrays (append!)",
    "pop!": "shrinking arrays (pop!)", "resize!": "resizing arrays",
    "include": "include", "Dict": "dictionaries", "fma": "a fused multiply-add (one rounding of x*y + z)",
}
_UNSUPPORTED_HINTS = {
    "push!": "; a vector made empty right before a `for` loop that pushes onto it in every iteration (each "
             "`push!` a statement of the loop body, not inside an `if`, and the vector not read in the loop) "
             "is supported",
    "fma": "; `muladd(x, y, z)` (x*y + z, which may round twice) is supported",
}
# Base functions whose result's size depends on the values in the data
DATA_SIZED_CALLS = frozenset(("unique", "filter", "findall", "union", "intersect", "setdiff", "symdiff", "filter!",
                              "unique!", "deleteat!", "insert!", "pushfirst!", "popfirst!", "splice!", "empty!"))

_lambda_methods = A.NodeMemo()


def lower_call(fl: Lowering, e: A.Call) -> Value:
    if is_throw(fl, e):
        return lower_throw(fl, e)
    if is_print_call(fl, e):
        return lower_print_call(fl, e)
    if _names(e.func, "depwarn") and "depwarn" not in fl.program.methods:
        return nothing()               # Base.depwarn prints nothing unless Julia runs with --depwarn=yes
    if isinstance(e.func, A.Name) and e.func.id not in fl.env and e.func.id not in fl.program.methods:
        if e.func.id in UNSUPPORTED_CALLS:
            raise fl.error(f"`{e.func.id}` is not supported: {UNSUPPORTED_CALLS[e.func.id]} cannot be compiled to "
                           f"StableHLO{_UNSUPPORTED_HINTS.get(e.func.id, '')}", e)
        if e.func.id in DATA_SIZED_CALLS:
            raise fl.error(f"`{e.func.id}` is not supported: its result has a size that depends on the data, and "
                           f"jlhlo arrays have static sizes (a mask with `ifelse.`, `count` or a loop can stand in)", e)
    f = fl.callee_value(e.func)
    arg_nodes = e.args
    if isinstance(e.func, A.Name) and e.func.id in REDUCTIONS and has_range_slice(e.args):
        saved = fl.checkpoint()
        try:
            args = list(fl.splat_args(arg_nodes))
        except StaticValueNeeded:      # a slice of run-time length: reduced by a loop, if it can be
            saved.restore()
            out = reduce_runtime_slices(fl, e)
            if out is None:
                raise
            return out
    else:
        args = list(fl.splat_args(arg_nodes))
    kwargs = fl.keyword_args(e.kwargs)
    args = literal_pow(e, args, lambda x: fl.call_function("inv", [x], {}, e))
    return call_value(fl, f, args, kwargs, e)


def _names(f: A.Expr, name: str) -> bool:
    """`f` is `name` or `Module.name`."""
    return isinstance(f, A.Name) and f.id == name or isinstance(f, A.Field) and f.name == name


def literal_pow(e: A.Call | A.Broadcast, args: list[Value], invert: Callable[[Value], Value]) -> list[Value]:
    """`x^-2` with a literal negative exponent is `inv(x)^2` in Julia (`Base.literal_pow`), also for
    integers (`2^-1 == 0.5`); a negative exponent that is not a literal stays an error for integers.
    `invert` computes `inv(x)` (`inv.(x)` for the broadcast form)."""
    if not (isinstance(e.func, A.Name) and e.func.id == "^" and len(e.args) == 2 and len(args) == 2
            and isinstance(e.args[1], A.IntLit) and e.args[1].value < 0):
        return args
    return [invert(args[0]), ScalarV(args[1].t, -e.args[1].value)]


def call_value(fl: Lowering, f: Value, args: list[Value], kwargs: dict[str, Value], node: A.Node) -> Value:
    if isinstance(f, FuncV):
        return fl.call_function(f.name, args, kwargs, node)
    split = split_call(fl, args, kwargs, lambda a, k: call_value(fl, f, a, k, node), node)
    if split is not None:
        return split
    if isinstance(f, ClosureV):
        method = lambda_method(f.lam, fl.program.universe)
        bindings = applicable(fl.program.universe, method, [a.t for a in [f] + args])
        if bindings is None:
            raise fl.no_method(f.lam.name or "#anonymous", args, [_without_self(method)], node)
        return fl.invoke(method, bindings, [f] + args, kwargs, node)
    if isinstance(f, TypeV):
        return construct(fl, f, args, kwargs, node)
    if isinstance(f, SingletonV):
        raise fl.error(f"`{f.name or f.t.julia()}` is not callable", node)
    # a callable struct: `(d::Dense)(x)`
    return fl.call_function(CALL, [f] + args, kwargs, node)


def lambda_method(lam: A.Lambda, universe: TypeUniverse) -> Method:
    """The one method of an anonymous or local function; its first parameter is the closure
    itself. Typed parameters (`(x::Int) -> ...`, a local `g(x::Int) = ...`) are checked on call."""
    m = _lambda_methods.get(lam)
    if m is None:
        names = [None] + [p.name for p in lam.params]
        patterns = [PAny()] + [universe.pattern(p.type, {}) if p.type is not None else PAny() for p in lam.params]
        vararg = bool(lam.params and lam.params[-1].splat)
        m = Method(lam.name or "#anonymous", lam, names, patterns, vararg, [None] * len(names),
                   lam.kwparams, {}, "user")
        _lambda_methods.put(lam, m)
    return m


def _without_self(m: Method) -> Method:
    """The method as the user wrote it (without the closure parameter), for messages."""
    return Method(m.name, m.fdef, m.param_names[1:], m.patterns[1:], m.vararg, m.defaults[1:], m.kwparams,
                  m.where, m.origin)


def construct(fl: Lowering, f: TypeV, args: list[Value], kwargs: dict[str, Value], node: A.Node) -> Value:
    target = f.of
    if isinstance(target, Scalar):
        if target.info.kind == "complex" and len(args) == 2 and all(isinstance(a, ScalarV) for a in args):
            part = real_type(target)            # `ComplexF32(1, 2)`: each part converted, as Julia does
            return fl.call_function("complex", [convert_scalar(fl, a, part, node, exact=False) for a in args], {},
                                    node)
        if len(args) != 1:
            shown = ", ".join("::" + a.t.julia() for a in args)
            raise fl.error(f"MethodError: no method matching {target.name}({shown})",
                           node)
        if isinstance(args[0], ScalarV):
            return convert_scalar(fl, args[0], target, node, exact=target.info.is_integer)
        try:
            return convert_value(fl, args[0], target, node)
        except NoMethod:
            raise fl.error(f"MethodError: no method matching {target.name}(::{args[0].t.julia()})", node) from None
    if isinstance(target, str) and target in fl.program.universe.structs:
        if not fl.program.methods.get(target) and target not in PRIMITIVES:
            # only `S{T}(...)` constructors were written (inner ones, so no default constructor)
            shown = ", ".join("::" + a.t.julia() for a in args)
            raise fl.error(f"MethodError: no method matching {target}({shown})", node)
        return fl.call_function(target, args, kwargs, node)
    if isinstance(target, PStruct) and not args and not kwargs and _singleton_instance(fl, target) is not None:
        return _singleton_instance(fl, target)     # `Val{3}()`
    if isinstance(target, PStruct) and target.name == "RefValue" and len(target.params) == 1 \
            and isinstance(target.params[0], PScalar) and len(args) <= 1 and not kwargs:
        # `Ref{Float64}()` holds an undefined value in Julia (any bits): zero is one of them
        t = Scalar(target.params[0].name)
        value = convert_scalar(fl, args[0], t, node, exact=t.info.is_integer) if args else ScalarV(t, 0)
        return default_construct(fl, "RefValue", [value], node)
    info = fl.program.universe.structs.get(target.name) if isinstance(target, PStruct) else None
    if info is not None and target.params and info.node is not None:
        if getattr(node, "is_new", False):             # `new{T}(...)` in an inner constructor
            return default_construct(fl, target.name, args, node, given=target.params)
        # `S{T}(x)`: the methods written `S{T}(x) where {T}` (inner or outer), given the parameters
        # first, as `::Type{T}` arguments; else the default constructor with the parameters given
        name = curly_constructor_name(target.name)
        given = [universe_value(fl, p) for p in target.params]
        methods = fl.program.methods.get(name, [])
        if methods and None not in given and \
                select_method(fl.program.universe, methods, [g.t for g in given] + [a.t for a in args]) is not None:
            return fl.call_function(name, given + args, kwargs, node)
        if info.node.constructors or len(target.params) > len(info.typevars) or kwargs:
            shown = ", ".join("::" + a.t.julia() for a in args)
            raise fl.error(f"MethodError: no method matching {target.show()}({shown})", node)
        return default_construct(fl, target.name, args, node, given=target.params)
    if isinstance(target, str) and target in ARRAY_NAMES:       # `Matrix(x)`
        target = fl.program.universe.pattern(A.Name(target, span=getattr(node, "span", None)), {})
    if isinstance(target, PArray):      # `Vector{T}(undef, n)`, `Matrix{T}(I, n, n)`, `Vector{T}(x)`
        return fl.call_function("_array_constructor", [TypeV(target), *args], kwargs, node)
    name = target if isinstance(target, str) else getattr(target, "show", lambda: str(target))()
    return fl.call_function(name if isinstance(name, str) else str(name), args, kwargs, node)


def universe_value(fl: Lowering, param: Pat) -> TypeV | None:
    """A written type parameter (`Float64` in `S{Float64}(x)`) as the type value a `::Type{T}`
    parameter takes; None for a number or an abstract type."""
    if isinstance(param, PConst):
        return None
    concrete = fl.program.universe.concrete(param)
    return TypeV(concrete) if concrete is not None else None


def _singleton_instance(fl: Lowering, target: PStruct) -> StructV | None:
    """The instance of a fieldless struct whose parameters are all given (`Val{3}`), if it is one."""
    info = fl.program.universe.structs.get(target.name)
    if info is None or info.field_names or len(target.params) != len(info.typevars):
        return None
    params = []
    for p in target.params:
        if isinstance(p, PConst):
            params.append(p.value)
        elif isinstance(p, PScalar):
            params.append(Scalar(p.name))
        else:
            return None
    return StructV(StructT(target.name, tuple(params), (), ()), ())


def default_construct(fl: Lowering, name: str, args: list[Value], node: A.Node, given: tuple = ()) -> Value:
    """The struct's default constructor: each argument converted to its field's declared type.
    `given`: the type parameters written at the call (`Pt{Float64}(1, 2)`), the first ones."""
    universe = fl.program.universe
    info = universe.structs[name]
    shown = name + ("{" + ", ".join(p.show() for p in given) + "}" if given else "")
    if len(args) != len(info.field_names):
        raise fl.error(f"MethodError: no method matching {shown}({', '.join('::' + a.t.julia() for a in args)}); "
                       f"the default constructor takes {len(info.field_names)} arguments "
                       f"({', '.join(info.field_names)})", node)
    typevars: dict[str, Pat] = {tv.name: PTypeVar(tv.name, universe.pattern(tv.upper, {})) for tv in info.typevars}
    env: dict[str, object] = {}
    for tv, pat in zip(info.typevars, given):
        bound = pat.value if isinstance(pat, PConst) else universe.concrete(pat)
        if bound is None or isinstance(bound, JType) and not universe.matches(typevars[tv.name].upper, bound, {}):
            raise fl.error(f"TypeError: in {name}, the type parameter {tv.name} cannot be {pat.show()} here "
                           f"(a concrete type of its bound, or a number, is needed)", node)
        typevars[tv.name] = PConst(bound) if isinstance(pat, PConst) else pat
        env[tv.name] = bound
    values = []
    for fname, ftype, a in zip(info.field_names, info.field_types, args):
        pat = fl.program.universe.pattern(ftype, typevars) if ftype is not None else PAny()
        if isinstance(pat, PScalar) and isinstance(a, ScalarV) and a.t != Scalar(pat.name):
            a = convert_scalar(fl, a, Scalar(pat.name), node, exact=Scalar(pat.name).info.is_integer)
        if not fl.program.universe.matches(pat, a.t, env):
            raise fl.error(f"MethodError: cannot construct {name}: field `{fname}` expects {pat.show()}, "
                           f"got {describe(a)}", node)
        values.append(a)
    params = tuple(env.get(tv.name) for tv in info.typevars)
    t = StructT(name, params, tuple(info.field_names), tuple(v.t for v in values))
    if is_mutable(fl, t):
        values = with_cells(fl, values)
    return StructV(t, tuple(values))


__all__ = ["lower_call", "call_value", "lambda_method", "construct", "default_construct"]
