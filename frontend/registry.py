"""The table of primitive rules, and what every rule uses to read its arguments.

A rule has the shape `rule(ctx, args, kwargs, node) -> Value` (ctx: the `Lowering` of
`context.py`); it is registered with `@prim(name, ...)` in the module of its op family
(`scalars`, `primitives`, `nn`, `gradients`), and `lower.py` imports those modules so that their
rules are in `PRIMITIVES` before the first call is lowered. A rule that does not apply to its
argument types raises `NoMethod`, which the caller reports as Julia's `MethodError`.
"""
from __future__ import annotations

import functools
import inspect
from typing import Callable

from .values import ScalarV, Value

PRIMITIVES: dict[str, Callable] = {}


class NoMethod(Exception):
    """The rule does not apply to these argument types (a MethodError), optionally with a message."""


class NeedsStatic(NoMethod):
    """The rule needs a compile-time value (a size) where it got a run-time one: reported as
    diagnostics.StaticValueNeeded."""


def prim(*names: str, keywords: tuple[str, ...] = ()):
    """Register a rule under one or more names; a rule with a `name` parameter is told which one was
    called. A keyword argument not in `keywords` is a MethodError before the rule runs (ignoring
    one, as `round(x; digits=2)` once did, would silently give another answer)."""
    def register(fn: Callable) -> Callable:
        wants_name = "name" in inspect.signature(fn).parameters
        for n in names:
            rule = functools.partial(fn, name=n) if wants_name else fn
            PRIMITIVES[n] = _keywords_checked(n, rule, keywords)
        return fn
    return register


def _keywords_checked(name: str, rule: Callable, keywords: tuple[str, ...]) -> Callable:
    def checked(fl, args, kwargs, node):  # noqa: ANN001
        extra = sorted(set(kwargs) - set(keywords))
        if extra:
            accepted = f" (it accepts {', '.join(keywords)})" if keywords else " (it takes none)"
            raise NoMethod(f"MethodError: {name} got unsupported keyword argument{'s' if len(extra) > 1 else ''} "
                           f"{', '.join('`' + e + '`' for e in extra)}{accepted}")
        return rule(fl, args, kwargs, node)
    return checked


def const_int(v: Value, what: str) -> int:
    """The value of a compile-time constant integer; a run-time value is refused (it would decide a
    shape or a type, which must be known when compiling)."""
    if not isinstance(v, ScalarV) or not v.t.info.is_integer:
        raise NoMethod(f"{what} must be an integer, got {v.t.julia()}")
    if not v.is_const:
        raise NeedsStatic(f"{what} must be known at compile time (it decides the shape of the result), but it is "
                       f"a run-time value here")
    return int(v.const)


def scalar_arg(v: Value) -> ScalarV:
    if not isinstance(v, ScalarV):
        raise NoMethod()
    return v


def expect_args(args: list[Value], n: int) -> list[Value]:
    if len(args) != n:
        raise NoMethod()
    return args


def shape_str(shape) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"
