"""`Union{Nothing, T}` values (values.MaybeV): calls split on them, as Julia's compiler splits a
small Union, and the few places that take one without a call check it at run time.

`i = findfirst(p, x)` is `nothing` or an `Int64`. A call given such a value lowers the method
for each member under a `stablehlo.if` on its flag: `i === nothing` is `nothing === nothing` on one
side and `v === nothing` on the other, `x[i] + 1` adds on one side and is Julia's run-time
MethodError (`+(::Nothing, ::Int64)`) on the other. A branch merge joins the two results (a
`Union{Nothing, T}` again where one side is `nothing`), so nothing here knows any function by name.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from . import ast as A
from .diagnostics import JuliaError
from .exceptions import Threw, fail
from .values import MaybeV, Value, nothing

if TYPE_CHECKING:
    from .context import Lowering

_RESULT = "%union_split"


def split_call(fl: Lowering, args: list[Value], kwargs: dict[str, Value],
               call: Callable[[list[Value], dict[str, Value]], Value], node: A.Node) -> Value | None:
    """`call(args, kwargs)` once per member of the first `Union{Nothing, T}` argument (None when
    there is none). A method error for the `nothing` member is Julia's run-time MethodError there."""
    where = next((k for k, a in enumerate(args) if isinstance(a, MaybeV)), None)
    key = next((k for k, a in kwargs.items() if isinstance(a, MaybeV)), None) if where is None else None
    if where is None and key is None:
        return None
    maybe = args[where] if where is not None else kwargs[key]

    def with_member(member: Value) -> tuple[list[Value], dict[str, Value]]:
        if where is not None:
            return [member if k == where else a for k, a in enumerate(args)], kwargs
        return args, {**kwargs, key: member}

    def present() -> None:
        fl.env[_RESULT] = call(*with_member(maybe.value))

    def absent() -> None:
        attempt = fl.checkpoint()
        try:
            fl.env[_RESULT] = call(*with_member(nothing()))
        except JuliaError as e:
            if not e.message.startswith("MethodError"):
                raise
            attempt.restore()
            fail(fl, e.message.partition("\n")[0], node)      # Julia's dispatch fails only when it runs
            raise Threw() from None

    outer = fl.env.pop(_RESULT, None)      # a split inside an argument of another split
    fl.branch(maybe.present, present, absent, node)
    result = fl.env.pop(_RESULT, None)
    if outer is not None:
        fl.env[_RESULT] = outer
    if result is None:                     # both members throw
        raise Threw()
    return result


_IDENTICAL = {"===": True, "≡": True, "!==": False, "≢": False}     # operator: true when equal
_EQUAL = {"==": True, "isequal": True, "!=": False, "≠": False}


def narrow(fl: Lowering, cond: A.Expr, holds: bool) -> None:
    """At the start of an arm taken when `cond` is `holds`: a `Union{Nothing, T}` variable that `cond`
    tests against `nothing` (`x === nothing`, `isnothing(x)`, `x !== nothing && ...`) is rebound to
    the member the arm knows it holds, as Julia's inference narrows it."""
    if isinstance(cond, A.And) and holds or isinstance(cond, A.Or) and not holds:
        narrow(fl, cond.left, holds)
        narrow(fl, cond.right, holds)
        return
    if not (isinstance(cond, A.Call) and isinstance(cond.func, A.Name) and not cond.kwargs):
        return
    op, args = cond.func.id, cond.args
    if op == "!" and len(args) == 1 and _builtin(fl, op):
        narrow(fl, args[0], not holds)
    elif op == "isnothing" and len(args) == 1 and _builtin(fl, op):
        _bind(fl, args[0], holds)
    elif op == "isa" and len(args) == 2 and _names(fl, args[1], "Nothing"):
        _bind(fl, args[0], holds)
    elif len(args) == 2 and (op in _IDENTICAL or op in _EQUAL and _builtin(fl, op)):
        equal = {**_IDENTICAL, **_EQUAL}[op]
        for tested, other in (args, args[::-1]):
            if _names(fl, other, "nothing"):
                _bind(fl, tested, holds == equal)


def _builtin(fl: Lowering, name: str) -> bool:
    """`name` means Base's function: no variable and no method of the user's program shadows it."""
    return name not in fl.env and all(m.origin != "user" for m in fl.program.methods.get(name, []))


def _names(fl: Lowering, e: A.Expr, name: str) -> bool:
    return isinstance(e, A.Name) and e.id == name and name not in fl.env


def _bind(fl: Lowering, e: A.Expr, is_nothing: bool) -> None:
    v = fl.env.get(e.id) if isinstance(e, A.Name) else None
    if isinstance(v, MaybeV):
        fl.env[e.id] = nothing() if is_nothing else v.value


def checked_member(fl: Lowering, v: Value, node: A.Node, message: str) -> Value:
    """`v`'s `T` where something takes it without a call (an index): Julia's `message` at run time
    where it is `nothing`."""
    if not isinstance(v, MaybeV):
        return v
    fl.check(v.present, node, message)
    return v.value


__all__ = ["split_call", "narrow", "checked_member"]
