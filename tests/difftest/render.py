"""Render a `model.Program` as Julia source and as Python reference source (on `jlref`).

The Julia renderer prints operators with Julia's precedences and only the parentheses they need,
so the parser's handling of `-x^2`, `(-x)^2`, `2x^2`, `1/2x`, `x^-1` and chained comparisons is
exercised. The Python renderer spells every operation as a `jlref` call (no Python operator
semantics leak in), so its text reads as the program's meaning step by step."""
from __future__ import annotations

import math
import re
from typing import Any, Callable

from . import model as M
from .jtypes import BOOL, F32, INT, JType, NTup, Struct, Tup

# ----------------------------------------------------------------------------- Julia
_CMP = ("==", "!=", "<", "<=", ">", ">=", "===", "!==")
_PREC = {"||": 1, "&&": 2, **{op: 3 for op in _CMP}, ":": 4, "+": 5, "-": 5, "*": 6, "/": 6, "÷": 6, "%": 6,
         "^": 8}
_UNARY_PREC = 7
_JUXT_PREC = 7.5
_ATOM = 10


def julia_literal(value: Any, t: JType) -> str:
    if t == BOOL:
        return "true" if value else "false"
    if t == INT:
        return str(int(value))
    v = float(value)
    suffix32 = t == F32
    if math.isnan(v):
        return "NaN32" if suffix32 else "NaN"
    if math.isinf(v):
        s = "Inf32" if suffix32 else "Inf"
        return s if v > 0 else "-" + s
    text = repr(v) if not suffix32 else _f32_text(v)
    return text


def _f32_text(v: float) -> str:
    mant = repr(v)
    if "e" in mant:
        m, e = mant.split("e")
        return f"{m}f{int(e)}"
    return mant + "f0"


class JuliaRenderer:
    """Julia text for one program; `prefix` renames its global names (for batching)."""

    def __init__(self, prog: M.Program, prefix: str = ""):
        self.prog = prog
        self.prefix = prefix
        names = prog.global_names()
        self._global_re = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b") if names else None
        self.macro_dot = False

    # ---- names
    def gname(self, name: str) -> str:
        return self.prefix + name

    def annot(self, text: str) -> str:
        if self.prefix and self._global_re is not None:
            return self._global_re.sub(lambda m: self.prefix + m.group(1), text)
        return text

    # ---- expressions: (text, precedence)
    def expr(self, e: M.Expr) -> str:
        return self._e(e)[0]

    def _wrap(self, e: M.Expr, min_prec: float) -> str:
        text, prec = self._e(e)
        return f"({text})" if prec < min_prec else text

    def _dot(self, op: str, dot: bool) -> str:
        return "." + op if dot and not self.macro_dot else op

    def _e(self, e: M.Expr) -> tuple[str, float]:
        method = getattr(self, "_e_" + type(e).__name__)
        return method(e)

    def _e_Lit(self, e: M.Lit) -> tuple[str, float]:
        text = julia_literal(e.value, e.t)
        negative = text.startswith("-")
        return text, (_UNARY_PREC if negative else _ATOM)

    def _e_Var(self, e: M.Var) -> tuple[str, float]:
        return e.name, _ATOM

    def _e_Named(self, e: M.Named) -> tuple[str, float]:
        return e.name, _ATOM

    def _e_FuncRef(self, e: M.FuncRef) -> tuple[str, float]:
        return (self.gname(e.name) if e.user else e.name), _ATOM

    def _e_TypeLit(self, e: M.TypeLit) -> tuple[str, float]:
        return e.of.name, _ATOM

    def _e_Colon(self, e: M.Colon) -> tuple[str, float]:
        return ":", _ATOM

    def _e_End(self, e: M.End) -> tuple[str, float]:
        return ("end" if not e.minus else f"end - {e.minus}"), (_ATOM if not e.minus else _PREC["-"])

    def _e_Begin(self, e: M.Begin) -> tuple[str, float]:
        return ("begin" if not e.plus else f"begin + {e.plus}"), (_ATOM if not e.plus else _PREC["+"])

    def _e_Splat(self, e: M.Splat) -> tuple[str, float]:
        return self._wrap(e.e, _ATOM) + "...", _ATOM

    def _e_ValE(self, e: M.ValE) -> tuple[str, float]:
        return f"Val({self.expr(e.e)})", _ATOM

    def _e_IfExpr(self, e: M.IfExpr) -> tuple[str, float]:
        # parenthesized wherever it is an operand (statements print it bare: `y = if ... end`)
        return f"({self.if_inline(e)})", _ATOM

    def if_inline(self, e: M.IfExpr) -> str:
        """`if c; s1; v1 elseif c2; v2 else v3 end` on one line."""
        parts = []
        for k, br in enumerate(e.branches):
            stmts = [line.strip() for s in br.body for line in self.stmt(s, 0)]
            parts.append(("if " if k == 0 else "elseif ") + self.expr(br.cond) + "; "
                         + "".join(x + "; " for x in stmts) + self._wrap(br.value, 1))
        if e.orelse is not None:
            stmts = [line.strip() for s in e.orelse.body for line in self.stmt(s, 0)]
            # `else; if ...`: Julia's parser refuses `else if` on one line ("use elseif")
            parts.append("else" + "".join("; " + x for x in stmts) + ("; " if stmts else " ")
                         + self._wrap(e.orelse.value, 1))
        return " ".join(parts) + " end"

    def if_block(self, e: M.IfExpr, head: str, indent: int) -> list[str]:
        """`head if c ... end` over several lines (head: `y = `, `t += `, `return ` or nothing)."""
        pad = "    " * indent
        inner = "    " * (indent + 1)
        lines = []
        for k, br in enumerate(e.branches):
            lines.append(pad + (head + "if " if k == 0 else "elseif ") + self.expr(br.cond))
            lines += self.block(br.body, indent + 1) + [inner + self.expr(br.value)]
        if e.orelse is not None:
            lines.append(pad + "else")
            lines += self.block(e.orelse.body, indent + 1) + [inner + self.expr(e.orelse.value)]
        return lines + [pad + "end"]

    def _e_AssignExpr(self, e: M.AssignExpr) -> tuple[str, float]:
        return self.stmt(e.stmt, 0)[0], 0.1

    def _rhs(self, value: M.Expr) -> str:
        """The right side of an assignment or `return`: an inline `if` needs no parentheses there."""
        return self.if_inline(value) if isinstance(value, M.IfExpr) else self.expr(value)

    def _e_RangeE(self, e: M.RangeE) -> tuple[str, float]:
        parts = [e.start] + ([e.step] if e.step is not None else []) + [e.stop]
        return ":".join(self._wrap(p, _PREC[":"] + 1) for p in parts), _PREC[":"]

    def _e_Op(self, e: M.Op) -> tuple[str, float]:
        op = e.op
        if op == "'":
            return self._wrap(e.args[0], _ATOM) + "'", _ATOM - 1
        if len(e.args) == 1:
            sym = self._dot(op, e.dot)
            inner = self._wrap(e.args[0], _UNARY_PREC)
            # `- -x` and `-(-1)` must not fuse into `--x`
            sep = "" if not inner.startswith(("-", "+", "!", ".")) else " "
            if sep:
                inner = f"({inner})"
            return f"{sym}{inner}", _UNARY_PREC
        a, b = e.args
        prec = _PREC[op]
        if op == "^" and isinstance(b, M.Lit) and b.t == INT and int(b.value) < 0:
            right = julia_literal(b.value, b.t)          # `x^-1`: Julia's literal negative power
        elif op == "^":
            right = self._wrap(b, prec)                  # right-associative
        else:
            right = self._wrap(b, prec + 1 if prec != 3 else 4)
        left = self._wrap(a, prec + 1 if op == "^" or prec == 3 else prec)
        if op in ("&&", "||"):
            return f"{left} {op} {right}", prec
        return f"{left} {self._dot(op, e.dot)} {right}", prec

    def _e_Call(self, e: M.Call) -> tuple[str, float]:
        name = self.gname(e.fn) if e.user else e.fn
        args = [self.expr(a) for a in e.args]
        if e.kwargs or e.kwsplat:
            kws = [f"{k}={self.expr(v)}" for k, v in e.kwargs] + ([e.kwsplat + "..."] if e.kwsplat else [])
            args_text = ", ".join(args) + "; " + ", ".join(kws)
        else:
            args_text = ", ".join(args)
        dot = "." if e.dot and not self.macro_dot else ""
        return f"{name}{dot}({args_text})", _ATOM

    def _e_Index(self, e: M.Index) -> tuple[str, float]:
        return f"{self._wrap(e.base, _ATOM)}[{', '.join(self.expr(i) for i in e.idxs)}]", _ATOM

    def _e_Ternary(self, e: M.Ternary) -> tuple[str, float]:
        return (f"{self._wrap(e.cond, 1)} ? {self._wrap(e.a, 1)} : {self._wrap(e.b, 1)}"), 0.5

    def _e_Chain(self, e: M.Chain) -> tuple[str, float]:
        parts = [self._wrap(e.items[0], 4)]
        for op, item in zip(e.ops, e.items[1:]):
            parts += [op, self._wrap(item, 4)]
        return " ".join(parts), 3

    def _e_TupleE(self, e: M.TupleE) -> tuple[str, float]:
        items = [self._wrap(i, 1) for i in e.items]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")", _ATOM

    def _e_ArrayLit(self, e: M.ArrayLit) -> tuple[str, float]:
        return "[" + ", ".join(self._wrap(i, 1) for i in e.items) + "]", _ATOM

    def _e_NamedTupleE(self, e: M.NamedTupleE) -> tuple[str, float]:
        items = [f"{n} = {self._wrap(i, 1)}" for n, i in zip(e.names, e.items)]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")", _ATOM

    def _e_UndefArray(self, e: M.UndefArray) -> tuple[str, float]:
        return f"{self.annot(e.t.julia())}(undef, {self.expr(e.n)})", _ATOM

    def _e_Field(self, e: M.Field) -> tuple[str, float]:
        return f"{self._wrap(e.base, _ATOM)}.{e.name}", _ATOM

    def _e_Comp(self, e: M.Comp) -> tuple[str, float]:
        gens = ", ".join(f"{g.var} in {self._wrap(g.iter, 4)}" for g in e.gens)
        return f"[{self.expr(e.body)} for {gens}]", _ATOM

    def _e_Gen(self, e: M.Gen) -> tuple[str, float]:
        cond = f" if {self._wrap(e.cond, 1)}" if e.cond is not None else ""
        return f"{self.expr(e.body)} for {e.var} in {self._wrap(e.iter, 4)}{cond}", 0

    def _e_Lambda(self, e: M.Lambda) -> tuple[str, float]:
        params = e.params[0] if len(e.params) == 1 else "(" + ", ".join(e.params) + ")"
        return f"{params} -> {self._wrap(e.body, 1)}", 0.2

    def _e_Juxt(self, e: M.Juxt) -> tuple[str, float]:
        coef = julia_literal(e.coef.value, e.coef.t)
        inner = e.e
        if isinstance(inner, M.Var) or (isinstance(inner, M.Op) and inner.op == "^" and not inner.dot
                                        and isinstance(inner.args[0], M.Var)):
            return coef + self.expr(inner), _JUXT_PREC
        return f"{coef}({self.expr(inner)})", _JUXT_PREC

    # ---- statements
    def block(self, stmts: list[M.Stmt], indent: int) -> list[str]:
        out: list[str] = []
        for s in stmts:
            out += self.stmt(s, indent)
        return out

    def stmt(self, s: M.Stmt, indent: int) -> list[str]:
        pad = "    " * indent
        kind = type(s).__name__
        if kind in ("Assign", "OpAssign", "Return") and isinstance(s.value, M.IfExpr) and s.value.block:
            head = {"Assign": f"{getattr(s, 'name', '')} = ", "OpAssign": f"{getattr(s, 'name', '')} {getattr(s, 'op', '')}= ",
                    "Return": "" if getattr(s, "implicit", False) else "return "}[kind]
            return self.if_block(s.value, head, indent)
        if kind == "Assign":
            return [pad + ("@views " if s.views else "") + f"{s.name} = {self._rhs(s.value)}"]
        if kind == "SimilarAssign":
            return [pad + f"{s.name} = similar({self.expr(s.like)})", pad + f"{s.name} .= {self.expr(s.value)}"]
        if kind == "FillLoop":
            return [pad + f"{s.name} = {self.expr(s.alloc)}", pad + f"for {s.var} in eachindex({s.name})",
                    pad + f"    {s.name}[{s.var}] = {self.expr(s.value)}", pad + "end"]
        if kind == "PushLoop":
            return [pad + f"{s.name} = {s.elt}[]", pad + f"for {s.var} in {self.expr(s.iter)}",
                    pad + f"    push!({s.name}, {self.expr(s.value)})", pad + "end"]
        if kind == "TupleAssign":
            return [pad + f"{', '.join(s.names)} = {self.expr(s.value)}"]
        if kind == "OpAssign":
            return [pad + f"{s.name} {s.op}= {self._rhs(s.value)}"]
        if kind == "IndexAssign":
            target = f"{self._wrap(s.base, _ATOM)}[{', '.join(self.expr(i) for i in s.idxs)}]"
            return [pad + f"{target} {s.op or ''}= {self.expr(s.value)}"]
        if kind == "DotAssign":
            return [pad + self._dot_assign(s)]
        if kind == "ExprStmt":
            return [pad + self.expr(s.value)]
        if kind == "If":
            lines = []
            for k, br in enumerate(s.branches):
                lines.append(pad + ("if " if k == 0 else "elseif ") + self.expr(br.cond))
                lines += self.block(br.body, indent + 1)
            if s.orelse is not None:
                lines.append(pad + "else")
                lines += self.block(s.orelse, indent + 1)
            return lines + [pad + "end"]
        if kind == "For":
            return ([pad + f"for {s.var} in {self.expr(s.iter)}"] + self.block(s.body, indent + 1) + [pad + "end"])
        if kind == "While":
            return [pad + f"while {self.expr(s.cond)}"] + self.block(s.body, indent + 1) + [pad + "end"]
        if kind == "Break":
            return [pad + "break"]
        if kind == "Continue":
            return [pad + "continue"]
        if kind == "Return":
            return [pad + ("" if s.implicit else "return ") + self._rhs(s.value)]
        if kind == "LocalFunc":
            return self.function(s.fdef, indent)
        if kind == "Throw":
            return [pad + line for line in self._throw(s)]
        raise TypeError(f"unknown statement {kind}")

    def _throw(self, s: M.Throw) -> list[str]:
        cond, message = self.expr(s.cond), f'"{s.message}"'
        if s.form == "if_error":
            return [f"if {cond}", f"    error({message})", "end"]
        if s.form == "if_throw":
            return [f"if {cond}", f"    throw(ArgumentError({message}))", "end"]
        if s.form == "and":
            return [f"({cond}) && throw(DomainError(1, {message}))"]
        if s.form == "or":
            return [f"!({cond}) || error({message})"]
        return [f"@assert !({cond}) {message}"]

    def _dot_assign(self, s: M.DotAssign) -> str:
        prefix = "@views " if s.views else ""
        if s.macro:
            self.macro_dot = True
            try:
                return prefix + f"@. {self.expr(s.dest)} {s.op or ''}= {self.expr(s.value)}"
            finally:
                self.macro_dot = False
        return prefix + f"{self.expr(s.dest)} .{s.op or ''}= {self.expr(s.value)}"

    # ---- definitions
    def _param(self, p: M.Param) -> str:
        if p.splat:
            return p.name + "..."
        return ("" if p.anon else p.name) + (f"::{self.annot(p.annot)}" if p.annot else "")

    def signature(self, params: list[M.Param], name: str, f: M.FuncDef | None = None) -> str:
        text = ", ".join(self._param(p) for p in params)
        if f is not None and (f.kwparams or f.kwsplat):
            kws = [f"{self._param(p)}={self.expr(d)}" for p, d in f.kwparams] + (
                [f.kwsplat + "..."] if f.kwsplat else [])
            text += "; " + ", ".join(kws)
        where = f" where {f.where}" if f is not None and f.where else ""
        return f"{name}({text}){where}"

    def function(self, f: M.FuncDef, indent: int = 0, name: str | None = None) -> list[str]:
        pad = "    " * indent
        if f.callable:                                   # `(p::S)(x) = ...`
            sig = f"({f.params[0].name}::{self.gname(f.name)})" + self.signature(f.params[1:], "")
        else:
            sig = self.signature(f.params, name if name is not None else (f.name if indent else self.gname(f.name)), f)
        if f.short and len(f.body) == 1 and isinstance(f.body[0], M.Return) and not (
                isinstance(f.body[0].value, M.IfExpr) and f.body[0].value.block):
            return [pad + f"{sig} = {self._rhs(f.body[0].value)}"]
        return [pad + f"function {sig}"] + self.block(f.body, indent + 1) + [pad + "end"]

    def struct(self, s: M.StructDef) -> list[str]:
        tv = "{" + ", ".join(f"{n}<:{b}" for n, b in s.typevars) + "}" if s.typevars else ""
        sup = f" <: {self.gname(s.supertype)}" if s.supertype else ""
        lines = [f"struct {self.gname(s.name)}{tv}{sup}"]
        lines += [f"    {n}::{self.annot(a)}" for n, a in s.fields]
        if not s.curly_constructors:
            return lines + ["end"]
        name, names = self.gname(s.name), ", ".join(n for n, _ in s.fields)
        params, where = ", ".join(n for n, _ in s.typevars), ", ".join(f"{n}<:{b}" for n, b in s.typevars)
        typed = ", ".join(f"{n}::{self.annot(a)}" for n, a in s.fields)
        return lines + [f"    {name}{{{params}}}({names}) where {{{where}}} = new{{{params}}}({names})", "end",
                        f"{name}({typed}) where {{{where}}} = {name}{{{params}}}({names})"]

    def definitions(self) -> list[str]:
        """Everything but `main`'s wrapper: abstract types, structs, functions, main's body."""
        lines: list[str] = []
        for a in self.prog.abstracts:
            lines.append(f"abstract type {self.gname(a)} end")
        for s in self.prog.structs:
            lines += self.struct(s)
        for f in self.prog.functions:
            lines += self.function(f)
        return lines

    def entry(self, name: str) -> list[str]:
        """The entry: main itself, or, with a gradient check, a wrapper around main's body."""
        p = self.prog
        if p.grad is None:
            return self.function(p.main, name=name)
        g = p.grad
        body = self.function(p.main, name=self.gname("main_body"))
        params = ", ".join(f"{q.name}::{self.annot(q.annot)}" if q.annot else q.name for q in p.main.params)
        call_args = ", ".join(q.name for q in p.main.params)
        loss = self.gname(g.loss)
        if g.wrt == g.args:
            fn = loss
        else:
            lam = ", ".join(w + "_" for w in g.wrt)
            inner = ", ".join(a + "_" if a in g.wrt else a for a in g.args)
            fn = f"({lam}) -> {loss}({inner})" if len(g.wrt) > 1 else f"{lam} -> {loss}({inner})"
        wrt = ", ".join(g.wrt)
        if g.with_value:
            lines = [f"    r = withgradient({fn}, {wrt})",
                     f"    return ({self.gname('main_body')}({call_args}), r.val, r.grad)"]
        else:
            lines = [f"    g = gradient({fn}, {wrt})",
                     f"    return ({self.gname('main_body')}({call_args}), g)"]
        return body + [f"function {name}({params})"] + lines + ["end"]


def julia_source(prog: M.Program) -> str:
    r = JuliaRenderer(prog)
    return "\n".join(r.definitions() + r.entry("main")) + "\n"


def batch_source(progs: list[M.Program]) -> str:
    """One file holding several programs (global names prefixed `p<k>_`) and an entry `main`
    taking all their arguments and returning the tuple of their results."""
    lines: list[str] = []
    params: list[str] = []
    calls: list[str] = []
    for k, p in enumerate(progs):
        r = JuliaRenderer(p, prefix=f"p{k}_")
        lines += r.definitions() + r.entry(f"p{k}_main")
        names = [f"a{k}_{q.name}" for q in p.main.params]
        params += [f"{n}::{r.annot(q.annot)}" if q.annot else n for n, q in zip(names, p.main.params)]
        calls.append(f"p{k}_main({', '.join(names)})")
    lines.append(f"function main({', '.join(params)})")
    lines.append(f"    return ({', '.join(calls)}{',' if len(calls) == 1 else ''})")
    lines.append("end")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- Python
_PY_OP = {"+": "R.add", "-": "R.sub", "*": "R.mul", "/": "R.fdiv", "÷": "R.idiv", "%": "R.rem", "^": "R.pow_",
          "==": "R.eq", "!=": "R.ne", "<": "R.lt", "<=": "R.le", ">": "R.gt", ">=": "R.ge", "===": "R.egal",
          "!==": "R.not_egal"}
_PY_UNARY = {"-": "R.neg", "!": "R.not_", "'": "R.adjoint"}
# Julia Base names whose reference function is spelled differently (keywords, builtins, `!`)
_PY_BASE = {"sum": "R.sum_", "abs": "R.abs_", "min": "R.min_", "max": "R.max_", "round": "R.round_",
            "map": "R.map_", "any": "R.any_", "all": "R.all_", "fill!": "R.fill_", "Float64": "R.Float64_",
            "Float32": "R.Float32_", "Int64": "R.Int64_", "div": "R.idiv", "rem": "R.rem", "^": "R.pow_",
            "tuple": "R.tuple_", "zip": "R.zip_", "enumerate": "R.enumerate_"}
_PY_NARY = {"max": "R.max_", "min": "R.min_", "+": "R.add", "*": "R.mul"}
_PY_GEN_REDUCE = {"sum": "R.sum_gen", "prod": "R.prod_gen", "maximum": "R.maximum_gen", "minimum": "R.minimum_gen"}


def thrown_message(s: M.Throw) -> str:
    """What Julia's showerror prints for the guard's exception."""
    return {"if_throw": "ArgumentError: ", "and": "DomainError with 1:\n",
            "assert": "AssertionError: "}.get(s.form, "") + s.message


def py_literal(value: Any, t: JType) -> str:
    if t == BOOL:
        return f"R.b({bool(value)})"
    if t == INT:
        return f"R.i({int(value)})"
    v = float(value)
    text = repr(v) if math.isfinite(v) else f"float('{v}')"
    return f"R.{'f32' if t == F32 else 'f'}({text})"


class PythonRenderer:
    """Python reference text for one program (functions named by their `target`)."""

    def __init__(self, prog: M.Program):
        self.prog = prog
        self.views = False

    def expr(self, e: M.Expr) -> str:
        return getattr(self, "_e_" + type(e).__name__)(e)

    def _fn_value(self, fn: str, user: bool, target: str | None) -> str:
        if user or target is not None:
            return target or fn
        return _PY_BASE.get(fn, "R." + fn.replace("!", "_"))

    def _e_Lit(self, e: M.Lit) -> str:
        return py_literal(e.value, e.t)

    def _e_Var(self, e: M.Var) -> str:
        return e.name

    def _e_Named(self, e: M.Named) -> str:
        return f"R.{e.name}"

    def _e_FuncRef(self, e: M.FuncRef) -> str:
        return self._fn_value(e.name, e.user, e.target)

    def _e_TypeLit(self, e: M.TypeLit) -> str:
        return f"R.{e.of.name}"

    def _e_Colon(self, e: M.Colon) -> str:
        return "R.COLON"

    def _e_RangeE(self, e: M.RangeE) -> str:
        parts = [e.start] + ([e.step] if e.step is not None else []) + [e.stop]
        return "R.rng(" + ", ".join(self.expr(p) for p in parts) + ")"

    def _e_Splat(self, e: M.Splat) -> str:
        return f"*R.splat({self.expr(e.e)})"

    def _e_ValE(self, e: M.ValE) -> str:
        return f"R.val({self.expr(e.e)})"

    def _e_IfExpr(self, e: M.IfExpr) -> str:
        """The expression form: `(seq1 if c1 else (seq2 if c2 else seq3))`, each branch's statements
        run as expressions before its value (`R.seq`)."""
        out = self._branch_value(e.orelse) if e.orelse is not None else "None"
        for br in reversed(e.branches):
            out = f"({self._branch_value(br)} if R.cond({self.expr(br.cond)}) else {out})"
        return out

    def _branch_value(self, br: M.ValueBranch) -> str:
        if not br.body:
            return self.expr(br.value)
        return "R.seq(" + ", ".join([self._stmt_expr(s) for s in br.body] + [self.expr(br.value)]) + ")"

    def _stmt_expr(self, s: M.Stmt) -> str:
        """A simple statement as a Python expression (an assignment as `:=`)."""
        if isinstance(s, M.Assign) and not s.views:
            return f"({s.name} := {self.expr(s.value)})"
        if isinstance(s, M.OpAssign):
            return f"({s.name} := {_PY_OP[s.op]}({s.name}, {self.expr(s.value)}))"
        if isinstance(s, (M.IndexAssign, M.ExprStmt)):
            return self.stmt(s, 0)[0]
        raise TypeError(f"a {type(s).__name__} in an inline `if` expression")

    def _e_AssignExpr(self, e: M.AssignExpr) -> str:
        s = e.stmt
        if isinstance(s, M.OpAssign):
            return self._stmt_expr(s)
        if isinstance(s, M.IndexAssign):
            args = self._index_args(s.base, s.idxs)
            value = self.expr(s.value)
            if s.op:
                value = f"{_PY_OP[s.op]}(R.getindex({args}), {value})"
            head, _, rest = args.partition(", ")
            return f"R.setindex_value({head}, {value}, {rest})"
        raise TypeError(f"a {type(s).__name__} used as a value")

    def _if_stmt(self, e: M.IfExpr, indent: int, finish: Callable[[str], str]) -> list[str]:
        """The statement form of an `if` expression: each branch runs its statements, then
        `finish(value)` (an assignment or a `return`)."""
        pad = "    " * indent
        lines = []
        for k, br in enumerate(e.branches):
            lines.append(pad + ("if " if k == 0 else "elif ") + f"R.cond({self.expr(br.cond)}):")
            lines += self.block(br.body, indent + 1) if br.body else []
            lines.append(pad + "    " + finish(self.expr(br.value)))
        lines.append(pad + "else:")
        if e.orelse is not None:
            lines += self.block(e.orelse.body, indent + 1) if e.orelse.body else []
            lines.append(pad + "    " + finish(self.expr(e.orelse.value)))
        else:
            lines.append(pad + "    " + finish("None"))
        return lines

    def _e_Op(self, e: M.Op) -> str:
        if e.op in ("&&", "||"):
            a, b = (self.expr(x) for x in e.args)
            return f"R.b(R.cond({a}) {'and' if e.op == '&&' else 'or'} R.cond({b}))"
        if len(e.args) == 1:
            fn = _PY_UNARY[e.op]
            return f"R.bc({fn}, {self.expr(e.args[0])})" if e.dot else f"{fn}({self.expr(e.args[0])})"
        a, b = e.args
        if e.op == "^" and isinstance(b, M.Lit) and b.t == INT:
            n = int(b.value)
            if e.dot:
                return f"R.bc(lambda v: R.literal_pow(v, {n}), {self.expr(a)})"
            return f"R.literal_pow({self.expr(a)}, {n})"
        fn = _PY_OP[e.op]
        if e.dot:
            return f"R.bc({fn}, {self.expr(a)}, {self.expr(b)})"
        return f"{fn}({self.expr(a)}, {self.expr(b)})"

    def _e_Call(self, e: M.Call) -> str:
        if len(e.args) == 1 and isinstance(e.args[0], M.Gen) and e.fn in _PY_GEN_REDUCE:
            init = "".join(f", init={self.expr(v)}" for k, v in e.kwargs if k == "init")
            return f"{_PY_GEN_REDUCE[e.fn]}({self.expr(e.args[0])}{init})"
        fn = self._fn_value(e.fn, e.user, e.target)
        args = [self.expr(a) for a in e.args]
        kwargs = [f"{k}={self.expr(v)}" for k, v in e.kwargs]
        if e.kwsplat:                          # later keywords replace earlier ones, as in Julia
            kwargs = ["**{" + ", ".join([f"{k!r}: {self.expr(v)}" for k, v in e.kwargs] + [f"**{e.kwsplat}"]) + "}"]
        if e.dot:
            return f"R.bc({', '.join([fn] + args)})"
        if not e.user and e.target is None and any(isinstance(a, M.Splat) for a in e.args):
            return f"R.nary({_PY_NARY[e.fn]}, {', '.join(args)})"     # max(v...), +(v...)
        return f"{fn}({', '.join(args + kwargs)})"

    def _index_args(self, e: M.Expr, idxs: list[M.Expr]) -> str:
        base = self.expr(e)
        out = []
        for d, ix in enumerate(idxs, 1):
            out.append(self._index(base, ix, d, len(idxs)))
        return ", ".join([base] + out)

    def _index(self, base: str, ix: M.Expr, d: int, n: int) -> str:
        if isinstance(ix, M.End):
            last = f"R.lastindex({base}, {d}, {n})"
            return last if not ix.minus else f"R.sub({last}, R.i({ix.minus}))"
        if isinstance(ix, M.Begin):
            first = f"R.firstindex({base}, {d}, {n})"
            return first if not ix.plus else f"R.add({first}, R.i({ix.plus}))"
        if isinstance(ix, M.RangeE):
            parts = [ix.start] + ([ix.step] if ix.step is not None else []) + [ix.stop]
            return "R.rng(" + ", ".join(self._index(base, p, d, n) for p in parts) + ")"
        if isinstance(ix, M.Op):                 # `end - 1 + k` and the like: End nodes inside
            return self._rewrite_end(base, ix, d, n)
        return self.expr(ix)

    def _rewrite_end(self, base: str, e: M.Expr, d: int, n: int) -> str:
        if isinstance(e, (M.End, M.Begin, M.RangeE)):
            return self._index(base, e, d, n)
        if isinstance(e, M.Op) and len(e.args) == 2 and e.op in _PY_OP and not e.dot:
            a, b = (self._rewrite_end(base, x, d, n) for x in e.args)
            return f"{_PY_OP[e.op]}({a}, {b})"
        return self.expr(e)

    def _is_slice(self, idxs: list[M.Expr]) -> bool:
        return any(isinstance(i, (M.Colon, M.RangeE)) for i in idxs)

    def _e_Index(self, e: M.Index) -> str:
        fn = "R.view" if self.views and self._is_slice(e.idxs) else "R.getindex"
        return f"{fn}({self._index_args(e.base, e.idxs)})"

    def _e_Ternary(self, e: M.Ternary) -> str:
        return f"({self.expr(e.a)} if R.cond({self.expr(e.cond)}) else {self.expr(e.b)})"

    def _e_Chain(self, e: M.Chain) -> str:
        parts = [self.expr(e.items[0])]
        for op, item in zip(e.ops, e.items[1:]):
            parts += [repr(op), self.expr(item)]
        return f"R.chain({', '.join(parts)})"

    def _e_TupleE(self, e: M.TupleE) -> str:
        return "(" + ", ".join(self.expr(i) for i in e.items) + ("," if len(e.items) == 1 else "") + ")"

    def _e_ArrayLit(self, e: M.ArrayLit) -> str:
        return "R.vect(" + ", ".join(self.expr(i) for i in e.items) + ")"

    def _e_NamedTupleE(self, e: M.NamedTupleE) -> str:
        return f"R.named_tuple({e.names!r}, " + ", ".join(self.expr(i) for i in e.items) + ")"

    def _e_UndefArray(self, e: M.UndefArray) -> str:
        return f"R.undef_array({_py_type(e.t.elt)}, {self.expr(e.n)})"

    def _e_Field(self, e: M.Field) -> str:
        return f"{self.expr(e.base)}.{e.name}"

    def _e_Comp(self, e: M.Comp) -> str:
        # a destructuring variable `(a, (b, c))` binds through a one-item generator (a lambda's
        # parameters cannot destructure)
        params = [g.var if not g.var.startswith("(") else f"_v{k}" for k, g in enumerate(e.gens)]
        body = self.expr(e.body)
        for k, g in enumerate(e.gens):
            if g.var.startswith("("):
                body = f"next({body} for {g.var} in (_v{k},))"
        iters = ", ".join(self.expr(g.iter) for g in e.gens)
        return f"R.comp(lambda {', '.join(params)}: {body}, {iters})"

    def _e_Gen(self, e: M.Gen) -> str:
        cond = f" if {self.expr(e.cond)}" if e.cond is not None else ""
        return f"({self.expr(e.body)} for {e.var} in R.loop({self.expr(e.iter)}){cond})"

    def _e_Lambda(self, e: M.Lambda) -> str:
        return f"(lambda {', '.join(e.params)}: {self.expr(e.body)})"

    def _e_Juxt(self, e: M.Juxt) -> str:
        return f"R.mul({self.expr(e.coef)}, {self.expr(e.e)})"

    # ---- statements
    def block(self, stmts: list[M.Stmt], indent: int) -> list[str]:
        out: list[str] = []
        for s in stmts:
            out += self.stmt(s, indent)
        return out or ["    " * indent + "pass"]

    def stmt(self, s: M.Stmt, indent: int) -> list[str]:
        pad = "    " * indent
        kind = type(s).__name__
        if kind in ("Assign", "OpAssign", "Return") and isinstance(s.value, M.IfExpr):
            return self._if_value_stmt(s, indent)
        if kind == "Assign":
            self.views = s.views
            try:
                return [pad + f"{s.name} = {self.expr(s.value)}"]
            finally:
                self.views = False
        if kind == "SimilarAssign":
            return [pad + f"{s.name} = R.similar({self.expr(s.like)})",
                    pad + f"R.bc_assign({s.name}, {self.expr(s.value)})"]
        if kind == "FillLoop":
            return [pad + f"{s.name} = {self.expr(s.alloc)}", pad + f"for {s.var} in R.loop(R.eachindex({s.name})):",
                    pad + f"    R.setindex({s.name}, {self.expr(s.value)}, {s.var})"]
        if kind == "PushLoop":
            return [pad + f"{s.name} = []", pad + f"for {s.var} in R.loop({self.expr(s.iter)}):",
                    pad + f"    R.push({s.name}, {s.elt!r}, {self.expr(s.value)})",
                    pad + f"{s.name} = R.pushed({s.name}, {s.elt!r})"]
        if kind == "TupleAssign":
            return [pad + f"{', '.join(s.names)}, = R.destructure({self.expr(s.value)}, {len(s.names)})"]
        if kind == "OpAssign":
            return [pad + f"{s.name} = {_PY_OP[s.op]}({s.name}, {self.expr(s.value)})"]
        if kind == "IndexAssign":
            args = self._index_args(s.base, s.idxs)
            value = self.expr(s.value)
            if s.op:
                value = f"{_PY_OP[s.op]}(R.getindex({args}), {value})"
            head, _, rest = args.partition(", ")
            return [pad + f"R.setindex({head}, {value}, {rest})"]
        if kind == "DotAssign":
            self.views = s.views
            try:
                dest = self._dest(s.dest)
                value = self.expr(s.value)
                if s.op:
                    value = f"R.bc({_PY_OP[s.op]}, {self.expr(s.dest)}, {value})"
                return [pad + f"R.bc_assign({dest}, {value})"]
            finally:
                self.views = False
        if kind == "ExprStmt":
            return [pad + self.expr(s.value)]
        if kind == "If":
            lines = []
            for k, br in enumerate(s.branches):
                lines.append(pad + ("if " if k == 0 else "elif ") + f"R.cond({self.expr(br.cond)}):")
                lines += self.block(br.body, indent + 1)
            if s.orelse is not None:
                lines.append(pad + "else:")
                lines += self.block(s.orelse, indent + 1)
            return lines
        if kind == "For":
            return ([pad + f"for {s.var} in R.loop({self.expr(s.iter)}):"] + self.block(s.body, indent + 1) +
                    [pad + f"R.accumulated({name}, {t!r})" for name, t in s.accumulators])
        if kind == "While":
            return [pad + f"while R.tick() and R.cond({self.expr(s.cond)}):"] + self.block(s.body, indent + 1)
        if kind == "Break":
            return [pad + "break"]
        if kind == "Continue":
            return [pad + "continue"]
        if kind == "Return":
            return [pad + f"return {self.expr(s.value)}"]
        if kind == "LocalFunc":
            return self.function(s.fdef, indent)
        if kind == "Throw":
            return [pad + f"if R.cond({self.expr(s.cond)}):", pad + f"    raise R.Thrown({thrown_message(s)!r})"]
        raise TypeError(f"unknown statement {kind}")

    def _if_value_stmt(self, s: M.Stmt, indent: int) -> list[str]:
        """`y = if ...`, `t += if ...`, `return if ...` as Python statements (branches may hold
        any statements: loops, early returns)."""
        pad = "    " * indent
        if isinstance(s, M.Assign):
            return self._if_stmt(s.value, indent, lambda v: f"{s.name} = {v}")
        if isinstance(s, M.Return):
            return self._if_stmt(s.value, indent, lambda v: f"return {v}")
        tmp = f"_ifv_{s.name}"
        return self._if_stmt(s.value, indent, lambda v: f"{tmp} = {v}") + [
            pad + f"{s.name} = {_PY_OP[s.op]}({s.name}, {tmp})"]

    def _dest(self, dest: M.Expr) -> str:
        """The array an in-place broadcast writes: a slice on the left of `.=` is a view."""
        if isinstance(dest, M.Index):
            return f"R.view({self._index_args(dest.base, dest.idxs)})"
        return self.expr(dest)

    def function(self, f: M.FuncDef, indent: int = 0) -> list[str]:
        pad = "    " * indent
        params = [("*" if p.splat else "") + p.name for p in f.params]
        if f.kwparams and not any(p.splat for p in f.params):
            params.append("*")
        params += [f"{p.name}={self.expr(d)}" for p, d in f.kwparams]
        if f.kwsplat:
            params.append("**" + f.kwsplat)
        return [pad + f"def {f.target}({', '.join(params)}):", pad + "    R.tick()"] + self.block(f.body, indent + 1)

    def source(self, standalone: bool = True) -> str:
        lines = ["import numpy as np", "from difftest import jlref as R", ""] if standalone else []
        for s in self.prog.structs:
            types = tuple(_field_type_name(a) for _, a in s.fields)
            lines.append(f"{s.name} = R.struct_type({s.name!r}, {tuple(n for n, _ in s.fields)!r}, {types!r})")
        for f in self.prog.functions:
            lines += self.function(f)
            if f.callable:                       # `(p::S)(x)` is S.__call__
                lines.append(f"{f.name}.__call__ = {f.target}")
        lines += self.struct_dispatchers()
        lines += self.val_dispatchers()
        lines += self.function(self.prog.main)
        return "\n".join(lines) + "\n"


    def struct_dispatchers(self) -> list[str]:
        """`NAME__dispatch(p, ...)`: run-time dispatch on the struct type of p, for calls inside a
        method on an abstract type (the generator resolves every other call statically)."""
        structs = {s.name for s in self.prog.structs}
        table: dict[str, dict[str, str]] = {}
        for f in self.prog.functions:
            if not f.callable and f.params and f.params[0].annot in structs:
                table.setdefault(f.name, {})[f.params[0].annot] = f.target
        lines = []
        for name, methods in table.items():
            entries = ", ".join(f"{k!r}: {v}" for k, v in methods.items())
            lines += [f"def {name}__dispatch(p, *rest):", f"    return {{{entries}}}[type(p).__name__](p, *rest)"]
        return lines


    def val_dispatchers(self) -> list[str]:
        """`NAME__val(v, ...)`: the method `NAME(::Val{true}, ...)` or `NAME(::Val{false}, ...)`
        that `v`, the Bool given to `Val`, selects (the reference computes v itself)."""
        table: dict[str, dict[bool, str]] = {}
        for f in self.prog.functions:
            if f.params and f.params[0].annot in ("Val{true}", "Val{false}"):
                table.setdefault(f.name, {})[f.params[0].annot == "Val{true}"] = f.target
        lines = []
        for name, methods in table.items():
            lines += [f"def {name}__val(v, *rest):",
                      f"    return {{{', '.join(f'{k}: {v}' for k, v in methods.items())}}}[R.val_bool(v)](v, *rest)"]
        return lines


def _py_type(t: JType) -> str:
    """The reference's value for an element type (`jlref.valtype`): a number type's name, a
    tuple of those for a tuple type, an `NTType`, the class of a struct."""
    if isinstance(t, Tup):
        return "(" + "".join(_py_type(x) + ", " for x in t.items) + ")"
    if isinstance(t, NTup):
        return f"R.NTType({t.names!r}, {_py_type(Tup(t.items))})"
    if isinstance(t, Struct):
        return t.name
    return f"R.{t.julia()}"


def _field_type_name(annot: str) -> str | None:
    """The concrete scalar type a constructor converts a field to (None: parametric or array)."""
    return annot if annot in ("Float64", "Float32", "Int64", "Bool") else None


def python_source(prog: M.Program, standalone: bool = True) -> str:
    """The reference as Python text; `standalone` adds the imports (for saved reproducers)."""
    return PythonRenderer(prog).source(standalone)

