"""Printing while the program runs: `println`, `print`, `show`, `display`, `@show`, `@printf`,
`@info`, `@warn`, `@error`.

A compiled program has no strings, so a print's text is split at compile time into literal pieces
and the values it shows (`PrintSite`, kept by the module). Each print becomes one
`stablehlo.custom_call @jlhlo.print` with a side effect, whose operands are the function's error
code so far and the run-time numbers and arrays it shows; while the program runs, the runtime hands
them to a host callback that formats the site's text as Julia would (`jlhlo/display.py`) and
writes it. The output therefore appears in program order, one line per iteration of a loop,
without buffers or limits. The runtime threads a token through the prints so XLA keeps that order
(`mlir_passes/effects.py`).

A failed run-time check makes Julia throw there, so nothing after it prints: each print sends the
error code, and the first nonzero one stops the output. A call of a function that prints first
sends the caller's code (a print with no text), so a failure before the call stops its prints too.

Inside code `gradient` differentiates, a print runs once, in the forward pass, as with Zygote:
reverse mode leaves prints out of what it recomputes (mlir_passes/autodiff/sweep.py). A function
broadcast over arrays that prints runs element by element. Not compiled: strings as values
(`string(x)`, `@sprintf`).
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from jax.extend.mlir import ir
from jax.extend.mlir.dialects import stablehlo as hlo

from ..core.ops import PRINT_TARGET
from . import ast as A
from .context import ERROR_CODE
from .diagnostics import Span
from .exceptions import interpolation_parts, source_text
from .parser import parse
from .values import (
    ArrayV,
    ClosureV,
    FuncV,
    LaneConflict,
    RangeV,
    ScalarV,
    SingletonV,
    Value,
    nothing,
    runtime_leaves,
)

if TYPE_CHECKING:
    from .context import Lowering

PRINTING_CALLS = ("println", "print", "show", "display")
PRINTING_MACROS = ("show", "printf", "info", "warn", "error", "debug")
_STREAMS = {"stdout": "stdout", "stderr": "stderr"}
# a C conversion of @printf: flags, width, precision, conversion
_PRINTF_SPEC = re.compile(r"%([-+ #0]*)(\d+|\*)?(?:\.(\d+|\*))?([diouxXeEfFgGaAcs%])")


@dataclass
class Shown:
    """A value a print shows: `template` is the value with its run-time leaves in `runtime_leaves`
    order (they arrive as the callback's operands); `how` is `print` (Julia's print and string
    interpolation), `show` (`@show`, `show`), `display`, or a @printf conversion such as `%.3f`."""

    template: Value
    how: str


@dataclass
class PrintSite:
    """What one print call writes: literal text and shown values, in order, to `stream`."""

    stream: str                        # "stdout" or "stderr"
    pieces: list[str | Shown] = field(default_factory=list)
    span: Span | None = None           # the print in the source

    def text(self, s: str) -> None:
        if s:
            self.pieces.append(s)


def is_print_call(fl: Lowering, e: A.Node) -> bool:
    """A call of Base's println/print/show/display (not a user function of that name)."""
    return (isinstance(e, A.Call) and isinstance(e.func, A.Name) and e.func.id in PRINTING_CALLS
            and e.func.id not in fl.env and e.func.id not in fl.program.methods)


def lower_print_call(fl: Lowering, e: A.Call) -> Value:
    name = e.func.id
    if e.kwargs:
        raise fl.error(f"`{name}` with keyword arguments is not supported", e)
    site, args = _with_stream(fl, list(e.args))
    if name in ("show", "display") and len(args) != 1:
        raise fl.error(f"`{name}` takes one value to show (and optionally stdout or stderr first)", e)
    for a in args:
        _add(fl, site, a, "print" if name in ("print", "println") else name)
    if name in ("println", "display"):
        site.text("\n")
    emit_print(fl, site, e)
    return nothing()


def lower_print_macro(fl: Lowering, m: A.MacroCall) -> Value:
    args = list(m.args)
    if len(args) == 1 and isinstance(args[0], A.TupleExpr) and m.name == "printf":
        args = list(args[0].items)             # `@printf("%d", x)`
    if m.name == "show":
        out: Value = nothing()
        for a in args:
            site = PrintSite("stdout")
            site.text(source_text(fl, a) + " = ")
            out = _add(fl, site, a, "show")
            site.text("\n")
            emit_print(fl, site, m)
        return out
    if m.name == "printf":
        site, args = _with_stream(fl, args)
        if not args or not isinstance(args[0], A.StringLit):
            raise fl.error("@printf takes a format string literal, then the values", m)
        _printf(fl, site, args[0], args[1:], m)
        emit_print(fl, site, m)
        return nothing()
    if m.name == "debug":              # off unless JULIA_DEBUG names the module
        return nothing()
    # @info / @warn / @error: Julia's logger writes to stderr
    if len(args) != 1:
        raise fl.error(f"@{m.name} with key-value pairs after the message is not supported; interpolate the "
                       f"values into the message", m)
    label = {"info": "Info", "warn": "Warning", "error": "Error"}[m.name]
    site = PrintSite("stderr")
    site.text(("[ " if m.name == "info" else "┌ ") + label + ": ")
    _add(fl, site, args[0], "print")
    if m.name != "info":
        span = m.span
        site.text(f"\n└ @ Main {span.file}:{span.line}" if span is not None else "\n└ @ Main")
    site.text("\n")
    emit_print(fl, site, m)
    return nothing()


def _with_stream(fl: Lowering, args: list[A.Node]) -> tuple[PrintSite, list[A.Node]]:
    """A site for `print(args...)`, writing to the stream a first `stdout` or `stderr` names."""
    if args and isinstance(args[0], A.Name) and args[0].id in _STREAMS and args[0].id not in fl.env:
        return PrintSite(_STREAMS[args[0].id]), args[1:]
    return PrintSite("stdout"), args


def emit_print(fl: Lowering, site: PrintSite, node: A.Node) -> None:
    """One `custom_call @jlhlo.print` with the error code so far and the site's run-time values."""
    if fl.lanes or fl.lane_arms:
        raise LaneConflict()           # per element, in order: the broadcast becomes a loop
    leaves = [leaf for p in site.pieces if isinstance(p, Shown) for leaf in runtime_leaves(p.template)]
    err = fl.env.get(ERROR_CODE)
    operands = [fl.materialize(fl.first_failure(err))] + [
        leaf.box.value if isinstance(leaf, ArrayV) else leaf.ir for leaf in leaves]
    site.span = getattr(node, "span", None)
    index = len(fl.mod.print_sites)
    fl.mod.print_sites.append(site)
    with fl.loc(node):
        op = hlo.CustomCallOp([], operands, PRINT_TARGET, has_side_effect=True)
        u64 = ir.IntegerType.get_unsigned(64)
        op.attributes["mhlo.backend_config"] = ir.DictAttr.get({"index": ir.IntegerAttr.get(u64, index)})
    fl.prints += 1


def checkpoint(fl: Lowering, node: A.Node | None) -> None:
    """Before calling a function that prints: this function's error code so far, so a check that
    failed here stops the callee's prints (Julia would have thrown before the call)."""
    err = fl.env.get(ERROR_CODE)
    if isinstance(err, ScalarV) and err.is_const and err.const == 0:
        fl.prints += 1                 # nothing can have failed on this path: the callee's prints suffice
        return
    emit_print(fl, PrintSite("stdout"), node)


def _add(fl: Lowering, site: PrintSite, e: A.Node, how: str) -> Value:
    """Append what printing `e` writes; returns the value (`@show` returns it)."""
    if isinstance(e, A.StringLit):
        if how in ("show", "display"):
            site.text(repr_string(e.value))
        else:
            _interpolated(fl, site, e.value, e)
        return nothing()
    if isinstance(e, A.Call) and isinstance(e.func, A.Name) and e.func.id not in fl.env and how == "print" and (
            e.func.id == "string" and "string" not in fl.program.methods
            or e.func.id == "*" and any(isinstance(a, A.StringLit) for a in e.args)):
        for a in e.args:               # `string("x = ", x)`, `"a" * "b"` (on strings `*` joins, whatever its methods)
            _add(fl, site, a, "print")
        return nothing()
    if isinstance(e, A.SymbolLit):
        site.text(e.name if how == "print" else ":" + e.name)
        return nothing()
    v = fl.expr(e)
    if isinstance(v, RangeV) or isinstance(v, (ClosureV, FuncV)):
        raise fl.error("printing a range or a function is not supported; collect the range first", e)
    if isinstance(v, SingletonV):
        site.text(v.t.julia() if v.t.julia() != "Nothing" else "nothing")
        return v
    site.pieces.append(Shown(fl.materialize_all(fl.for_host(v)), how))
    return v


def _interpolated(fl: Lowering, site: PrintSite, text: str, node: A.Node) -> None:
    """A string literal's text with its `$x` and `$(expr)` values."""
    for kind, piece in interpolation_parts(text):
        if kind == "text":
            site.text(piece)
            continue
        (stmt,) = parse(piece, "<interpolation>").items
        expr = stmt.expr if isinstance(stmt, A.ExprStmt) else stmt
        _relocate(expr, node.span)
        _add(fl, site, expr, "print")


def _printf(fl: Lowering, site: PrintSite, fmt: A.StringLit, args: list[A.Node], node: A.Node) -> None:
    text, pos, values = fmt.value, 0, iter(args)
    for m in _PRINTF_SPEC.finditer(text):
        site.text(text[pos:m.start()])
        pos = m.end()
        if m.group(4) == "%":
            site.text("%")
            continue
        if "*" in (m.group(2) or "") + (m.group(3) or ""):
            raise fl.error("@printf with `*` widths is not supported", fmt)
        arg = next(values, None)
        if arg is None:
            raise fl.error(f"@printf: the format has more conversions than values (at `{m.group(0)}`)", node)
        v = fl.expr(arg)
        if not isinstance(v, ScalarV) and m.group(4) != "s":
            raise fl.error(f"@printf: `{m.group(0)}` formats a number, got {v.t.julia()}", arg)
        if m.group(4) in "aA":
            raise fl.error("@printf's hexadecimal floating-point `%a` is not supported", fmt)
        if isinstance(v, ScalarV) and m.group(4) in "diouxXc" and v.t.info.kind == "float":
            raise fl.error(f"@printf: `{m.group(0)}` formats an integer, got {v.t.julia()} (round it first, as "
                           f"Julia's Printf would refuse a non-integer value)", arg)
        site.pieces.append(Shown(fl.materialize_all(fl.for_host(v)), m.group(0)))
    site.text(text[pos:])
    if next(values, None) is not None:
        raise fl.error("@printf: more values than the format has conversions", node)


def repr_string(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("$", "\\$") + '"'


def _relocate(e: object, span: Span | None) -> None:
    """Nodes parsed from an interpolation point at the string that holds them (errors name its line)."""
    if isinstance(e, A.Node):
        e.span = span
        for f in dataclasses.fields(e):
            _relocate(getattr(e, f.name), span)
    elif isinstance(e, (list, tuple)):
        for item in e:
            _relocate(item, span)
