"""A small Julia lexer and top-level splitter for the corpus tool (`bench/corpus.py`): independent of
jlhlo's parser on purpose, so that code jlhlo cannot parse is still cut into definitions.

`split_toplevel(text)` returns the top-level statements of a file (descending into `module ... end`)
as `Item`s: what each defines (functions, types, constants, globals, macros), its text with the
docstring in front of it, and the identifiers it uses. It tracks Julia's block keywords, brackets,
strings (with `$(...)` interpolation), character literals against the adjoint `'`, comments
(`#=` nested), `end` as an index inside brackets and generator `for`/`if` inside brackets. It is a
heuristic splitter, not a parser: good enough to cut real files into definitions."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

BLOCK_OPENERS = {"function", "macro", "if", "for", "while", "let", "begin", "quote", "struct", "module",
                 "baremodule", "try", "do"}
KEYWORDS = BLOCK_OPENERS | {"end", "else", "elseif", "catch", "finally", "return", "break", "continue",
                            "const", "global", "local", "using", "import", "export", "abstract",
                            "primitive", "mutable", "where", "in", "isa", "outer"}
COMPARISONS = {"==", "<=", ">=", "!=", "===", "!==", ".==", ".<=", ".>=", ".!="}
# postfix operators: a line ending in one of these is not continued on the next line
POSTFIX = {"'", "...", ".'"}


@dataclass
class Tok:
    kind: str          # ident, kw, op, num, str, char, sym, macro, open, close, nl, semi, comma
    text: str
    line: int
    start: int         # offsets into the source
    end: int
    space_before: bool = False


_NUM = re.compile(r"0x[0-9a-fA-F_]+(?:\.[0-9a-fA-F_]*)?(?:p[+-]?\d+)?|0b[01_]+|0o[0-7_]+|"
                  r"(?:\d[\d_]*(?:\.(?![.])[\d_]*)?|\.\d[\d_]*)(?:[eEf][+-]?\d+)?")
_ASCII_OPS = set("+-*/\\^%&|<>=!~:.?$")


def _ident_start(c: str) -> bool:
    if c.isalpha() or c == "_":
        return True
    if ord(c) < 128:
        return False
    cat = unicodedata.category(c)
    return cat[0] == "L" or c in "∇∂ℯπℵ" or cat in ("So",) and c not in "√∛∜"


def _ident_char(c: str) -> bool:
    if c.isalnum() or c == "_" or _ident_start(c):
        return True
    if ord(c) < 128:
        return False
    cat = unicodedata.category(c)
    return cat in ("Mn", "Mc", "Nd", "No", "Lm", "Sk", "Pc") or c in "′″‴‵"


class LexError(Exception):
    pass


def tokenize(text: str) -> list[Tok]:
    toks: list[Tok] = []
    i, n, line = 0, len(text), 1
    space = True

    def add(kind: str, start: int, end: int, ln: int) -> None:
        nonlocal space
        toks.append(Tok(kind, text[start:end], ln, start, end, space))
        space = False

    while i < n:
        c = text[i]
        if c == "\n":
            add("nl", i, i + 1, line)
            line += 1
            i += 1
            space = True
            continue
        if c in " \t\r\f\v" or c == "\\" and text.startswith("\\\n", i):
            i += 1
            space = True
            continue
        if text.startswith("#=", i):
            j, depth = i + 2, 1
            while j < n and depth:
                if text.startswith("#=", j):
                    depth += 1
                    j += 2
                elif text.startswith("=#", j):
                    depth -= 1
                    j += 2
                else:
                    j += 1
            line += text.count("\n", i, j)
            i = j
            space = True
            continue
        if c == "#":
            j = text.find("\n", i)
            i = n if j < 0 else j
            space = True
            continue
        prev = toks[-1] if toks else None
        if c == '"' or c == "`":
            start, ln = i, line
            i = _skip_string(text, i, raw=False)
            line += text.count("\n", start, i)
            add("str", start, i, ln)
            continue
        if c == "'":
            # adjoint after a value with no space between, otherwise a character literal
            if prev is not None and not space and (prev.kind in ("ident", "num", "close", "str", "char")
                                                  or prev.text in ("end", "'")):
                add("op", i, i + 1, line)
                i += 1
                continue
            m = re.compile(r"'(?:\\(?:u\{?[0-9a-fA-F]+\}?|x[0-9a-fA-F]+|[0-7]{1,3}|.)|[^\\'\n])'").match(text, i)
            if m:
                add("char", i, m.end(), line)
                i = m.end()
                continue
            add("op", i, i + 1, line)
            i += 1
            continue
        leading_dot = c == "." and i + 1 < n and text[i + 1].isdigit()
        if c.isdigit() or leading_dot and (prev is None or prev.kind not in ("ident", "close", "num")):
            m = _NUM.match(text, i)
            if m and m.end() > i:
                add("num", i, m.end(), line)
                i = m.end()
                continue
        if c == "@":
            j = i + 1
            if j < n and text[j] == ".":
                j += 1
            else:
                while j < n and (_ident_char(text[j]) or text[j] == "!"):
                    j += 1
                while j + 1 < n and text[j] == "." and _ident_start(text[j + 1]):     # @Base.kwdef
                    j += 1
                    while j < n and (_ident_char(text[j]) or text[j] == "!"):
                        j += 1
            add("macro", i, j, line)
            i = j
            continue
        if _ident_start(c):
            j = i + 1
            while j < n and (_ident_char(text[j]) or text[j] == "!" and not text.startswith("!=", j)):
                j += 1
            word = text[i:j]
            # prefixed string literals: r"..", raw"..", b"..", L"..", var"..."
            if j < n and text[j] in '"`':
                end = _skip_string(text, j, raw=True)
                line_add = text.count("\n", i, end)
                add("str", i, end, line)
                line += line_add
                i = end
                continue
            # a keyword used as a field name (`x.end`) or symbol is an identifier
            field_name = prev is not None and prev.kind == "op" and prev.text == "." and not space
            kind = "kw" if word in KEYWORDS and not field_name else "ident"
            add(kind, i, j, line)
            i = j
            continue
        if c in "([{":
            add("open", i, i + 1, line)
            i += 1
            continue
        if c in ")]}":
            add("close", i, i + 1, line)
            i += 1
            continue
        if c == ";":
            add("semi", i, i + 1, line)
            i += 1
            continue
        if c == ",":
            add("comma", i, i + 1, line)
            i += 1
            continue
        if c == ":" and i + 1 < n and not text.startswith("::", i) and _ident_start(text[i + 1]) and (
                prev is None or prev.kind in ("open", "comma", "semi", "nl") or space and prev.kind in ("op", "kw")
                or prev.kind == "op" and prev.text in ("=", "==", "=>", "!=", "(", ".")):
            j = i + 2
            while j < n and _ident_char(text[j]):
                j += 1
            add("sym", i, j, line)
            i = j
            continue
        if c in _ASCII_OPS:
            j = i + 1
            while j < n and text[j] in _ASCII_OPS and not (text[j] == "$"):
                j += 1
            add("op", i, j, line)
            i = j
            continue
        # any other non-ASCII character: a Unicode operator (≤ ÷ √ ∈ ⋅ ...)
        add("op", i, i + 1, line)
        i += 1
    return toks


def _skip_string(text: str, i: int, raw: bool) -> int:
    """The offset just after the string literal starting at `i` (its opening quote)."""
    q = text[i]
    triple = text.startswith(q * 3, i)
    j = i + (3 if triple else 1)
    n = len(text)
    while j < n:
        c = text[j]
        if c == "\\":
            j += 2
            continue
        if triple and text.startswith(q * 3, j):
            return j + 3
        if not triple and c == q:
            return j + 1
        if c == "$" and not raw and j + 1 < n and text[j + 1] == "(":
            j = _skip_code_parens(text, j + 1)
            continue
        j += 1
    raise LexError("unterminated string")


def _skip_code_parens(text: str, i: int) -> int:
    """From an opening parenthesis inside an interpolation, the offset after its match."""
    depth, j, n = 0, i, len(text)
    while j < n:
        c = text[j]
        if c == '"':
            j = _skip_string(text, j, raw=False)
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    raise LexError("unterminated interpolation")


@dataclass
class Item:
    kind: str                  # function, struct, abstract, const, global, macro, using, module-decl, other
    names: list[str]           # what it defines
    text: str                  # the statement's source (with its docstring)
    line: int
    doc: str | None = None
    code: str = ""             # the statement without its docstring
    uses: set[str] = field(default_factory=set)
    qualified: str | None = None   # `Base` in `Base.show(...) = ...`
    operator: bool = False      # defines an operator method (`Base.:+`, `+(a::T, b::T)`)
    callable: bool = False      # `(d::Dense)(x) = ...`
    prefix_macros: list[str] = field(default_factory=list)
    modules: list[str] = field(default_factory=list)   # enclosing `module` names


def split_toplevel(text: str) -> list[Item]:
    toks = tokenize(text)
    stmts: list[tuple[list[Tok], list[str]]] = []
    cur: list[Tok] = []
    stack: list[list] = []          # [kind, seen_for]: kind is an opener text or a bracket
    modules: list[str] = []

    def depth() -> int:
        return sum(1 for s in stack if s[0] != "module")

    def flush() -> None:
        nonlocal cur
        if cur:
            stmts.append((cur, list(modules)))
        cur = []

    k = 0
    while k < len(toks):
        t = toks[k]
        top = stack[-1][0] if stack else None
        in_bracket = top in ("(", "[", "{")
        if t.kind == "kw" and t.text in ("module", "baremodule") and depth() == 0:
            flush()
            stmts.append(([t], list(modules)))     # takes the module's docstring
            name = toks[k + 1].text if k + 1 < len(toks) else "?"
            stack.append(["module", False])
            modules.append(name)
            k += 2
            continue
        if t.kind == "kw" and t.text == "end" and depth() == 0 and top == "module":
            flush()
            stack.pop()
            modules.pop()
            k += 1
            continue
        cur.append(t)
        if t.kind == "open":
            stack.append([t.text, False])
        elif t.kind == "close":
            if stack and stack[-1][0] in ("(", "[", "{"):
                stack.pop()
        elif t.kind == "kw":
            w = t.text
            if w == "end":
                if in_bracket:
                    pass                      # `x[end]`
                elif stack:
                    stack.pop()
            elif w in ("for", "if") and in_bracket:
                if w == "for":
                    stack[-1][1] = True
                elif not stack[-1][1]:
                    stack.append([w, False])   # `(if c; a else b end)`
            elif w == "begin" and top == "[":
                pass                          # `x[begin]`
            elif w == "abstract" or w == "primitive":
                if k + 1 < len(toks) and toks[k + 1].text == "type":
                    stack.append([w, False])
            elif w in BLOCK_OPENERS:
                stack.append([w, False])
        if depth() == 0 and t.kind in ("nl", "semi"):
            # a line ending in a binary operator or comma continues
            sig = [x for x in cur if x.kind not in ("nl", "semi")]
            last = sig[-1] if sig else None
            if last is not None and (last.kind == "comma" or last.kind == "op" and last.text not in POSTFIX
                                     or last.kind == "kw" and last.text in ("where",)):
                pass
            else:
                flush()
        k += 1
    flush()
    items: list[Item] = []
    pending_doc: tuple[str, int] | None = None
    for toks_, mods in stmts:
        sig = [x for x in toks_ if x.kind not in ("nl", "semi")]
        if not sig:
            continue
        start, end = sig[0].start, sig[-1].end
        stmt_text = text[start:end]
        # a docstring: a string alone, or `@doc "..."` alone, then the definition
        if len(sig) == 1 and sig[0].kind == "str":
            pending_doc = (stmt_text, sig[0].line)
            continue
        item = _classify(sig, stmt_text)
        item.modules = mods
        if pending_doc is not None:
            item.doc = pending_doc[0]
            item.text = pending_doc[0] + "\n" + stmt_text
            item.line = pending_doc[1]
            pending_doc = None
        items.append(item)
    return items


def _skip_prefix_macros(sig: list[Tok]) -> tuple[int, list[str]]:
    """Index of the first token after `@inline`, `Base.@propagate_inbounds` ... in front of a definition."""
    i, macros = 0, []
    while i < len(sig):
        if sig[i].kind == "macro" and sig[i].text not in ("@doc",):
            macros.append(sig[i].text)
            i += 1
        elif (i + 2 < len(sig) and sig[i].kind == "ident" and sig[i + 1].text == "." and sig[i + 2].kind == "macro"):
            macros.append(sig[i].text + "." + sig[i + 2].text)
            i += 3
        else:
            break
    return i, macros


def _uses(sig: list[Tok]) -> set[str]:
    """Identifiers a statement uses: not field names after `.` (except after a module-like
    capitalized name), not keyword-argument names."""
    out: set[str] = set()
    for j, t in enumerate(sig):
        if t.kind == "ident":
            if j > 0 and sig[j - 1].kind == "op" and sig[j - 1].text == "." and not sig[j - 1].space_before:
                before = sig[j - 2] if j >= 2 else None
                if not (before is not None and before.kind == "ident" and before.text[:1].isupper()):
                    continue
            out.add(t.text)
        elif t.kind == "macro":
            out.add(t.text)
    return out


def _locals(sig: list[Tok], i: int) -> set[str]:
    """Names local to a function definition starting at `sig[i]`: its parameters (in the first
    parenthesis), names assigned in its body (`x = `, `x += `, `x::T = `) and loop variables."""
    out: set[str] = set()
    j = i
    while j < len(sig) and not (sig[j].kind == "open" and sig[j].text == "("):
        j += 1
    start = j
    # the parameter list; a callable struct's method `(m::M)(x) = ...` has two
    for _ in range(2 if j == i else 1):
        depth = 0
        for k in range(j, len(sig)):
            x = sig[k]
            if x.kind == "open":
                depth += 1
            elif x.kind == "close":
                depth -= 1
                if depth == 0:
                    j = k + 1
                    break
            elif x.kind == "ident" and (k + 1 < len(sig) and sig[k + 1].text in (",", ")", "::", "=", "...", ";")
                                        and sig[k - 1].text != "::"):
                out.add(x.text)
        if j >= len(sig) or sig[j].text != "(":
            break
    for k in range(start, len(sig) - 1):
        x, nxt = sig[k], sig[k + 1]
        if x.kind != "ident":
            continue
        if k > 0 and sig[k - 1].text in (".", "::"):
            continue
        if nxt.kind == "op" and (nxt.text == "=" or nxt.text.endswith("=") and nxt.text not in COMPARISONS):
            out.add(x.text)
        elif k > 0 and sig[k - 1].kind == "kw" and sig[k - 1].text in ("for", "local") :
            out.add(x.text)
        elif nxt.kind == "comma" and k > 0 and sig[k - 1].kind in ("nl", "semi", "kw"):
            # `a, b = ...` at the start of a statement
            m = k
            names = []
            while m + 1 < len(sig) and sig[m].kind == "ident" and sig[m + 1].kind == "comma":
                names.append(sig[m].text)
                m += 2
            if m < len(sig) and sig[m].kind == "ident" and m + 1 < len(sig) and sig[m + 1].text == "=":
                out.update(names + [sig[m].text])
    return out


_OPERATOR_NAME = re.compile(r"^[^\w∇]")


def _classify(sig: list[Tok], stmt_text: str) -> Item:
    i, macros = _skip_prefix_macros(sig)
    item = Item("other", [], stmt_text, sig[0].line, code=stmt_text, uses=_uses(sig), prefix_macros=macros)
    if i < len(sig) and (sig[i].kind == "kw" and sig[i].text == "function" or _toplevel_assign(sig, i) is not None):
        item.uses -= _locals(sig, i)
    if i >= len(sig):
        return item
    t = sig[i]
    if t.kind == "kw" and t.text == "function":
        name, q, op, call = _def_name(sig, i + 1)
        if name is None:
            return item
        # `function f end`: a declaration without methods
        if i + 2 < len(sig) and sig[-1].text == "end" and len(sig) == i + 3:
            item.kind = "decl"
        else:
            item.kind = "function"
        item.names, item.qualified, item.operator, item.callable = [name], q, op, call
        return item
    if t.kind == "kw" and t.text == "macro":
        item.kind = "macro"
        item.names = ["@" + sig[i + 1].text] if i + 1 < len(sig) else []
        return item
    if t.kind == "kw" and t.text == "struct" or t.kind == "kw" and t.text == "mutable":
        j = i + (2 if t.text == "mutable" else 1)
        if j < len(sig):
            item.kind = "struct"
            item.names = [sig[j].text]
            # field names are not uses: an identifier first on its line, before `::`, `=` or the line's end
            fields = {x.text for k, x in enumerate(sig[1:-1], 1) if x.kind == "ident" and sig[k - 1].line != x.line
                      and (sig[k + 1].line != x.line or sig[k + 1].text in ("::", "="))}
            item.uses -= fields - {item.names[0]}
        return item
    if t.kind == "kw" and t.text in ("abstract", "primitive"):
        if i + 2 < len(sig):
            item.kind = "abstract"
            item.names = [sig[i + 2].text]
        return item
    if t.kind == "kw" and t.text in ("using", "import", "export"):
        item.kind = "using"
        return item
    if t.kind == "kw" and t.text in ("const", "global"):
        names = _assigned_names(sig, i + 1)
        if names:
            item.kind = "const" if t.text == "const" else "global"
            item.names = names
        return item
    # short form `f(x) = ...`, `Base.f(x)::T where T = ...`, `(d::D)(x) = ...`
    name, q, op, call = _def_name(sig, i)
    if name is not None:
        eq = _toplevel_assign(sig, i)
        if eq is not None and _is_call_lhs(sig, i, eq):
            item.kind = "function"
            item.names, item.qualified, item.operator, item.callable = [name], q, op, call
            return item
    names = _assigned_names(sig, i)
    if names:
        item.kind = "global"
        item.names = names
    return item


def _def_name(sig: list[Tok], i: int) -> tuple[str | None, str | None, bool, bool]:
    """The function name at `sig[i]`: (name, qualifier, is an operator, is a callable-struct method)."""
    if i >= len(sig):
        return None, None, False, False
    t = sig[i]
    if t.kind == "open" and t.text == "(":
        # `(d::Dense)(x)` or `(::Type{T})(x)`: a callable struct
        depth, j = 0, i
        while j < len(sig):
            if sig[j].kind == "open":
                depth += 1
            elif sig[j].kind == "close":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        inner = [x for x in sig[i + 1:j]]
        tname = None
        for a, x in enumerate(inner):
            if x.text == "::" and a + 1 < len(inner):
                tname = inner[a + 1].text
        if j + 1 < len(sig) and sig[j + 1].text == "(" and tname:
            return f"({tname})", None, False, True
        return None, None, False, False
    qual = None
    j = i
    parts = []
    while j < len(sig):
        x = sig[j]
        if x.kind in ("ident", "kw") and (not parts or sig[j - 1].text == "."):
            parts.append(x.text)
            j += 1
        elif x.kind == "op" and x.text == "." and parts:
            j += 1
        elif x.kind == "sym" and parts and sig[j - 1].text == ".":     # Base.:+
            parts.append(x.text[1:])
            j += 1
        elif x.kind == "op" and x.text.startswith(".:") and parts:    # `Base.:+` lexed as `.:+`
            parts.append(x.text[2:] or "?")
            j += 1
            if parts[-1] == "?" and j < len(sig) and sig[j].text == "(":
                # Base.:(==)
                if j + 2 < len(sig) and sig[j + 2].text == ")":
                    parts[-1] = sig[j + 1].text
                    j += 3
        elif (x.kind == "op" and not parts and j + 1 < len(sig) and sig[j + 1].text == "("
              and not sig[j + 1].space_before):
            parts.append(x.text)          # `+(a::T, b::T) = ...`
            j += 1
        else:
            break
    if not parts or j >= len(sig) or sig[j].kind != "open" or sig[j].text not in ("(", "{"):
        return None, None, False, False
    if sig[j].space_before:
        return None, None, False, False
    name = parts[-1]
    if len(parts) > 1:
        qual = ".".join(parts[:-1])
    return name, qual, bool(_OPERATOR_NAME.match(name)), False


def _toplevel_assign(sig: list[Tok], i: int) -> int | None:
    """Index of the first `=` (not `==`, `=>`) at bracket depth 0 of the statement."""
    depth = 0
    for j in range(i, len(sig)):
        x = sig[j]
        if x.kind == "open":
            depth += 1
        elif x.kind == "close":
            depth -= 1
        elif depth == 0 and x.kind == "op" and x.text.startswith("=") and not x.text.startswith(("==", "=>")):
            return j
        elif depth == 0 and x.kind == "kw" and x.text in BLOCK_OPENERS:
            return None
    return None


def _is_call_lhs(sig: list[Tok], i: int, eq: int) -> bool:
    """The left side `sig[i:eq]` is `name(...)`, `name{...}(...)`, with `::T` and `where ...` after."""
    depth, j, seen_call = 0, i, False
    while j < eq:
        x = sig[j]
        if x.kind == "open":
            if depth == 0 and x.text == "(" and not x.space_before:
                seen_call = True
            depth += 1
        elif x.kind == "close":
            depth -= 1
        elif depth == 0 and seen_call:
            if x.kind == "kw" and x.text == "where" or x.text in ("::", "<:", ".") or x.kind in ("ident", "kw"):
                pass
            else:
                return False
        elif depth == 0 and x.kind == "op" and x.text not in (".", ".:") and not x.text.startswith(".:"):
            if not (j == i):            # an operator name such as `+` only first
                return False
        j += 1
    return seen_call


def _assigned_names(sig: list[Tok], i: int) -> list[str]:
    """`x = ...`, `x::T = ...`, `a, b = ...`, `A{T} = ...`: the names assigned (not those inside
    brackets, nor after `::`); none for `a[i] = ...` and `x.f = ...`."""
    eq = _toplevel_assign(sig, i)
    if eq is None:
        return []
    names: list[str] = []
    depth = 0
    typed = False
    for x in sig[i:eq]:
        if x.kind == "open":
            if x.text == "[" and depth == 0 and names:
                return []             # `a[i] = ...`
            depth += 1
        elif x.kind == "close":
            depth -= 1
        elif depth > 0:
            continue
        elif x.kind == "ident" and not typed:
            names.append(x.text)
        elif x.kind == "op" and x.text == "::":
            typed = True
        elif x.kind == "comma":
            typed = False
        elif x.kind == "op" and x.text == ".":
            return []                 # `x.f = ...`
    return names
