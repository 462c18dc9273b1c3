"""`throw`, `error` and `@assert`: Julia's exceptions as run-time checks.

XLA has no exceptions. A `throw` records a check that fails wherever it is reached (the mechanism of
BoundsError: the first failure is reported after the run, at its source line, with Julia's exception
type and message) and exits the function as a `return` does, so nothing after it runs on that path.
A check that fails on every path through the entry is a compile error.

The message is built at compile time. A value interpolated into it (`"x = $x"`, `DomainError(x, ...)`)
is shown as Julia prints it when it is a compile-time constant; a run-time value is not carried out
of the executable, so it is shown as its source text, `$(x)`.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np

from . import ast as A
from .context import RETURNED
from .parser import parse
from .types import BOOL
from .values import ScalarV, SingletonV, TupleV, Value

if TYPE_CHECKING:
    from .context import Lowering

THROWING = ("throw", "error")

# exception constructors: how Julia's showerror prints each, from its arguments' texts
_SHOW = {
    "ErrorException": lambda a: a[0] if a else "",
    "ArgumentError": lambda a: "ArgumentError: " + (a[0] if a else ""),
    "DimensionMismatch": lambda a: "DimensionMismatch: " + (a[0] if a else ""),
    "AssertionError": lambda a: "AssertionError: " + (a[0] if a else ""),
    "OverflowError": lambda a: "OverflowError: " + (a[0] if a else ""),
    "DomainError": lambda a: f"DomainError with {a[0]}" + (f":\n{a[1]}" if len(a) > 1 else ""),
    "DivideError": lambda a: "DivideError: integer division error",
    "InexactError": lambda a: f"InexactError: {a[0]}({', '.join(a[1:])})" if a else "InexactError",
    "BoundsError": lambda a: "BoundsError" + (f": attempt to access {a[0]} at index [{', '.join(a[1:])}]"
                                              if len(a) > 1 else ""),
    "KeyError": lambda a: f"KeyError: key {a[0]} not found" if a else "KeyError",
    "StackOverflowError": lambda a: "StackOverflowError",
    "SingularException": lambda a: f"LinearAlgebra.SingularException({a[0] if a else ''})",
    "PosDefException": lambda a: "PosDefException: matrix is not " + (
        "Hermitian" if a and a[0] == "-1" else "positive definite") + "; Cholesky factorization failed.",
}


class Threw(Exception):
    """Raised by lowering an expression that throws on every path (`throw(...)`, a call of a function
    that always throws): it has no value, and the statement it is part of ends there. Caught where a
    statement or a branch arm ends (`Lowering.stmt`, `value_branch`); the function has exited."""


def is_throw(fl: Lowering, e: A.Node) -> bool:
    """A call of Base's `throw` or `error` (not a user function of that name)."""
    return (isinstance(e, A.Call) and isinstance(e.func, A.Name) and e.func.id in THROWING
            and e.func.id not in fl.env and e.func.id not in fl.program.methods)


def may_throw(stmts: list[A.Node]) -> bool:
    """Whether the statements contain a `throw`, `error(...)` or `@assert` (outside lambdas): a loop
    around them carries the function's exit flag."""
    def walk(n: object) -> bool:
        if isinstance(n, A.Call) and isinstance(n.func, A.Name) and n.func.id in THROWING \
                or isinstance(n, A.MacroCall) and n.name == "assert":
            return True
        if isinstance(n, A.Lambda):
            return False
        if isinstance(n, A.Node):
            return any(walk(v) for v in n.__dict__.values())
        if isinstance(n, (list, tuple)):
            return any(walk(v) for v in n)
        return False
    return walk(stmts)


def lower_throw(fl: Lowering, e: A.Call) -> Value:
    """`throw(E(...))` or `error(msg...)`: a failed check here, and the function exits; it has no
    value (Julia's `Union{}`): raises `Threw`."""
    if e.func.id == "error":
        message = "".join(text(fl, a) for a in e.args)
    else:
        if len(e.args) != 1 or e.kwargs:
            raise fl.error("`throw` takes one argument: the exception", e)
        message = _exception(fl, e.args[0])
    fail(fl, message, e)
    raise Threw()


def lower_assert(fl: Lowering, m: A.MacroCall) -> None:
    """`@assert cond [msg]`: AssertionError with the message, or the condition's source text."""
    if not m.args or len(m.args) > 2:
        raise fl.error("@assert takes a condition and an optional message", m)
    c = fl.condition(m.args[0])
    message = _assert_message(fl, m.args[1]) if len(m.args) > 1 else source_text(fl, m.args[0])
    fl.branch(c, lambda: None, lambda: fail(fl, "AssertionError: " + message, m), m)


def _assert_message(fl: Lowering, e: A.Node) -> str:
    """@assert's message is `string(msg)`: an exception made in place prints as Julia's `show` writes
    it, `DimensionMismatch("sizes differ")`."""
    if isinstance(e, A.Call) and isinstance(e.func, A.Name) and e.func.id in _SHOW and not e.kwargs \
            and all(isinstance(a, A.StringLit) for a in e.args):
        quoted = ('"' + text(fl, a).replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$") + '"'
                  for a in e.args)
        return f"{e.func.id}({', '.join(quoted)})"
    return text(fl, e)


def fail(fl: Lowering, message: str, node: A.Node) -> None:
    """The program throws here."""
    fl.check(ScalarV(BOOL, False), node, message)
    fl.env[RETURNED] = ScalarV(BOOL, True)


def _exception(fl: Lowering, e: A.Node) -> str:
    if isinstance(e, A.Call) and isinstance(e.func, A.Name) and e.func.id in _SHOW and not e.kwargs:
        return _SHOW[e.func.id]([text(fl, a) for a in e.args])
    if isinstance(e, A.Name) and e.id in _SHOW:
        return _SHOW[e.id]([])
    if isinstance(e, A.StringLit):
        return text(fl, e)
    raise fl.error("jlhlo throws the exceptions of Base (ErrorException, ArgumentError, DomainError, "
                   "DimensionMismatch, AssertionError, OverflowError, ...) built where they are thrown", e)


def _is_text(fl: Lowering, e: A.Node) -> bool:
    """A string literal, or literals joined with `*` (`"a" * "b" * "c"` nests two calls)."""
    return isinstance(e, A.StringLit) or isinstance(e, A.Call) and isinstance(e.func, A.Name) \
        and e.func.id == "*" and all(_is_text(fl, a) for a in e.args)    # strings: `*` joins them, whatever
    #                                                                       other methods of `*` exist


def text(fl: Lowering, e: A.Node) -> str:
    """How Julia would print `e` inside a message: a string's text with its interpolations, a
    constant as `print` shows it, anything else as `$(source)`."""
    if isinstance(e, A.StringLit):
        return _interpolate(fl, e)
    if isinstance(e, A.Call) and isinstance(e.func, A.Name) and e.func.id in ("string", "*") \
            and (e.func.id == "string" and "string" not in fl.program.methods or _is_text(fl, e)):
        return "".join(text(fl, a) for a in e.args)
    if isinstance(e, A.SymbolLit):
        return e.name
    if isinstance(e, A.Name) and e.id not in fl.env and _is_text(fl, fl.program.consts.get(e.id)):
        return text(fl, fl.program.consts[e.id])       # `const msg = "..."; throw(ArgumentError(msg))`
    try:
        shown = show_value(fl.dry_run(lambda: fl.expr(e)))
    except Exception:                  # noqa: BLE001 - only deciding how to print: as source text
        shown = None
    return shown if shown is not None else "$(" + source_text(fl, e) + ")"


def show_value(v: object, inside: bool = False) -> str | None:
    """A compile-time constant (a number, a symbol, a tuple of them) as Julia prints it (`inside` a
    tuple: as it shows it, `:a` for a symbol); None otherwise."""
    if isinstance(v, ScalarV):
        return show_number(v) if v.is_const and not v.batch else None
    if isinstance(v, SingletonV) and v.name:
        return (":" if inside else "") + v.name
    if isinstance(v, TupleV):
        items = [show_value(i, inside=True) for i in v.items]
        if any(i is None for i in items):
            return None
        return "(" + ", ".join(items) + (",)" if len(items) == 1 else ")")
    return None


def interpolation_parts(text: str) -> list[tuple[str, str]]:
    """A string literal's pieces in order: ("text", literal text), ("name", x) for `$x` and
    ("expr", source) for `$(source)` (a `$` before anything else is literal text)."""
    parts, i = [], 0
    while i < len(text):
        j = text.find("$", i)
        if j < 0 or j + 1 == len(text):
            parts.append(("text", text[i:]))
            break
        parts.append(("text", text[i:j]))
        if text[j + 1] == "(":
            depth, k = 0, j + 1
            while k < len(text):
                depth += {"(": 1, ")": -1}.get(text[k], 0)
                if depth == 0:
                    break
                k += 1
            parts.append(("expr", text[j + 2:k]))
            i = k + 1
        else:
            name = re.match(r"\w*", text[j + 1:]).group(0)
            parts.append(("name", name) if name else ("text", "$"))
            i = j + 1 + len(name)
    return [(kind, s) for kind, s in parts if kind != "text" or s]


def _interpolate(fl: Lowering, s: A.StringLit) -> str:
    out = []
    for kind, piece in interpolation_parts(s.value):
        if kind == "text":
            out.append(piece)
        elif kind == "expr":
            out.append(_shown_expression(fl, piece))
        else:
            shown = show_value(fl.env.get(piece))
            out.append(shown if shown is not None else f"$({piece})")
    return "".join(out)


def _shown_expression(fl: Lowering, source: str) -> str:
    try:
        (stmt,) = parse(source, "<interpolation>").items
        shown = show_value(fl.dry_run(lambda: fl.expr(stmt.expr)))
    except Exception:                  # noqa: BLE001 - only deciding how to print: as source text
        shown = None
    return shown if shown is not None else f"$({source})"


def source_text(fl: Lowering, e: A.Node) -> str:
    span = e.span
    source = fl.program.sources.get(span.file) if span is not None else None
    if source is None or span.end_line != span.line or not span.end_col:
        return type(e).__name__
    return source.splitlines()[span.line - 1][span.col - 1:span.end_col - 1]


def show_number(v: ScalarV) -> str:
    """A constant as Julia's `print` writes it: `1.0`, `1.0e20`, `0.5f0`, `true`, `-3`."""
    kind = v.t.info.kind
    if kind == "bool":
        return "true" if v.const else "false"
    if kind in ("int", "uint"):
        return str(int(v.const))
    if kind != "float":
        return str(v.const)
    single = v.t.name == "Float32"
    x = np.float32(v.const) if single else np.float64(v.const)
    if np.isnan(x):
        return "NaN32" if single else "NaN"
    if np.isinf(x):
        return ("-" if x < 0 else "") + ("Inf32" if single else "Inf")
    exp10 = int(np.floor(np.log10(abs(x)))) if x != 0 else 0
    if -5 < exp10 < 6:
        return np.format_float_positional(x, unique=True, trim="0") + ("f0" if single else "")
    mantissa, exponent = np.format_float_scientific(x, unique=True, trim="0").split("e")
    return f"{mantissa}{'f' if single else 'e'}{int(exponent)}"
