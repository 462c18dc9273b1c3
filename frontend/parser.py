"""Parse Julia source text into the AST of frontend/ast.py.

Three stages:

1. `_blank_block_comments` replaces nested `#= ... =#` comments by spaces (a regular lexer cannot
   match nested comments); newlines are kept so positions do not move.
2. Lark's LALR parser, with the contextual lexer, runs the grammar in grammar/julia.lark.  Between
   the lexer and the parser, `JuliaPostLexer` applies Julia's layout rules: which newlines end
   statements, whitespace separating matrix-literal items, `end` inside indexing, juxtaposition
   (`2x`), the ternary `:`, and where a macro applies.  It also keeps a stack of open brackets and
   blocks, so unbalanced brackets and a missing or stray `end` get a precise message.
3. `_AstBuilder`, a Lark Transformer that Lark runs as the parser reduces each rule (no parse tree
   is built), makes the AST nodes: it applies operator precedence to the grammar's flat operator
   chains, normalises operator sugar (see the ast module docstring), expands `@.`, and turns
   `f(x) = ...` into a FunctionDef.  Node spans come from the tokens the grammar keeps.

Every problem is raised as a `JuliaError` with a source span.
"""
from __future__ import annotations

import dataclasses
import gc
import importlib.resources
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from lark import Lark, Token, Transformer
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from ..core.cache_dir import cache_directory
from . import ast
from .diagnostics import JuliaError, Span

__all__ = ["parse"]


def parse(source: str, filename: str) -> ast.ModuleAST:
    """Parse the Julia program `source` (read from `filename`, used in spans and messages)."""
    text = _blank_block_comments(source, filename)
    # Parsing allocates many objects that all stay alive; Python's cycle collector would scan them
    # again and again for nothing (a third of the parse time on big files), so it waits until the end.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        with _PARSER_LOCK:                 # the post-lexer and the builder keep per-file state
            lark, postlexer, builder = _parser()
            postlexer.start(text, filename)
            builder.start_file(filename)
            try:
                module = lark.parse(text)
            except JuliaError:
                raise
            except UnexpectedInput as e:
                raise _syntax_error(e, filename, postlexer) from None
            except LarkError as e:  # anything else Lark may raise: still a syntax error of the program
                raise JuliaError(f"syntax error: {e}", Span(filename, 1, 1, 1, 1)) from None
            builder.check_leftovers()
    finally:
        if gc_was_enabled:
            gc.enable()
    return module


# ============================================================================= Lark setup
_PARSER: tuple[Lark, JuliaPostLexer, _AstBuilder] | None = None
_PARSER_LOCK = threading.RLock()


def _parser() -> tuple[Lark, JuliaPostLexer, _AstBuilder]:
    """The Lark parser (built once: building the LALR tables takes a while), with the post-lexer and
    the AST builder it calls (they keep per-file state: `parse` holds _PARSER_LOCK)."""
    global _PARSER
    if _PARSER is None:
        grammar = (importlib.resources.files("jlhlo.grammar") / "julia.lark").read_text(encoding="utf-8")
        postlexer = JuliaPostLexer()
        builder = _AstBuilder()
        # The builder runs as the parser reduces (no parse tree is built, for speed), so node
        # positions come from the tokens the grammar keeps rather than from propagate_positions.
        lark = Lark(grammar, parser="lalr", lexer="contextual", postlex=postlexer, transformer=builder,
                    maybe_placeholders=False, cache=_lark_cache_file())
        _PARSER = (lark, postlexer, builder)
    return _PARSER


def _lark_cache_file() -> str | bool:
    """Where Lark keeps the LALR tables between processes (it rebuilds them, half a second, when the
    file is missing, unreadable or made from another grammar); False where no directory can be made."""
    folder = cache_directory() / "lark"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return str(folder / "julia-lalr.cache")


def _span_of_token(tok: Token, filename: str) -> Span:
    return Span(filename, tok.line or 1, tok.column or 1, tok.end_line or tok.line or 1,
                tok.end_column or (tok.column or 1) + 1)


# ============================================================================= comments
def _blank_block_comments(text: str, filename: str) -> str:
    """Replace each (possibly nested) `#= ... =#` comment by spaces, keeping its newlines."""
    if "#=" not in text:
        return text
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':                                     # skip a string, "..." or """..."""
            quote = '"""' if text.startswith('"""', i) else '"'
            j = i + len(quote)
            while j < n and not text.startswith(quote, j):
                j += 2 if text[j] == "\\" else 1
            j = min(n, j + len(quote))
            out.append(text[i:j])
            i = j
        elif c == "'" and i + 2 < n and text[i + 1] in "\"#" and text[i + 2] == "'":
            out.append(text[i:i + 3])                    # the char literals '"' and '#'
            i += 3
        elif text.startswith("#=", i):
            start, depth, j = i, 0, i
            while j < n:
                if text.startswith("#=", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("=#", j):
                    depth, j = depth - 1, j + 2
                    if depth == 0:
                        break
                else:
                    j += 1
            if depth:
                line = text.count("\n", 0, start) + 1
                col = start - (text.rfind("\n", 0, start) + 1) + 1
                raise JuliaError("unterminated comment: missing `=#` for `#=`",
                                 Span(filename, line, col, line, col + 2))
            out.append(re.sub(r"[^\n]", " ", text[start:j]))
            i = j
        elif c == "#":                                   # a line comment: `#=` inside it is not special
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(text[i:j])
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


# ============================================================================= post-lexer
_BRACKET_CLOSE = {"(": ")", "[": "]", "{": "}"}
_OPENING_BRACKETS = {"(": "(", "[": "[", "{": "{", ".(": "("}   # `f.(x)` opens a parenthesis too
_LITERAL_TYPES = {"NAME", "OP_NAME", "NUMBER", "STRING", "CHAR", "MACRO"}   # values that are not punctuation
# keywords that open a block closed by `end` (`for` and `if` only when not part of a comprehension)
_BLOCK_KEYWORDS = {"FUNCTION", "IF", "FOR", "WHILE", "BEGIN", "LET", "STRUCT", "ABSTRACT", "DO", "MODULE"}
_HEADER_KEYWORDS = {"FUNCTION", "IF", "FOR", "WHILE", "DO"}     # followed by an expression, then the body
# words that go on with a header (`for i in xs`, `f(x) where T`) or close its block
_HEADER_CONTINUATIONS = {"in", "isa", "where", "end", "else", "elseif", "for", "if", "do"}
_UNSUPPORTED = {
    "try": "`try` is not supported", "catch": "`catch` is not supported", "finally": "`finally` is not supported",
    "baremodule": "`baremodule` is not supported",
    "macro": "defining macros (`macro`) is not supported", "quote": "`quote` is not supported",
}
# a line ending with one of these continues on the next line
_CONTINUATION_OPS = {
    ",", "=", "->", "?", ":", "&&", "||", "|>", ".|>", "::", ".", "<:", ">:", "in", "isa", "where",
    "+", "-", "*", "/", "\\", "^", "%", "÷", "|", "&", "⊻", "∘", "⋅", "×", "//", "<<", ">>", ">>>",
    "<", "<=", ">", ">=", "==", "!=", "===", "!==", "≤", "≥", "≠", "≈", "≡", "≢", "∈", "∉",
    "+=", "-=", "*=", "/=", "÷=", "^=", "%=", "&=", "|=", "\\=", "⊻=", "<<=", ">>=", ".=",
    ".+", ".-", ".*", "./", ".^", ".÷", ".%", ".&", ".|", ".\\", ".⊻", ".<<", ".>>", ".>>>",
    ".<", ".<=", ".>", ".>=", ".==", ".!=", ".≤", ".≥", ".≠", ".≈", ".∈", ".∉",
    ".+=", ".-=", ".*=", "./=", ".^=", ".÷=", ".%=", ".&=", ".|=", ".\\=", ".⊻=",
}
# words that cannot start the next item of a matrix literal (`[x for x in xs]`, `[x[end] 1]`)
_NOT_ITEM_WORDS = {"for", "if", "in", "isa", "where", "end", "else", "elseif", "do"}
_KEYWORD_WORDS = {"function", "end", "if", "elseif", "else", "for", "while", "break", "continue", "return",
                  "struct", "const", "using", "import", "begin", "let", "local", "where", "in", "isa",
                  "true", "false"} | set(_UNSUPPORTED)
# identifiers as Julia reads them: a letter (or ∇), then letters, digits, primes, `!` and combining
# marks (`x̄`, `m̂`, `v⃗`)
_COMBINING = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
_NAME_RE = re.compile(rf"(?:[^\W\d]|∇)(?:[\w′″‴∇{_COMBINING}]|!(?!=))*")
_UNARY_START = "-+!√∛~"
# statement macros whose arguments are separated by spaces (`@show a b`, `@printf "%d\n" x`)
_SPACED_MACROS = {"show", "printf", "info", "warn", "error", "debug", "assert"}
# macros on a function definition that only advise Julia's compiler (`@fastmath`'s licence to
# reassociate is not taken: the IEEE result is one it allows)
_DEFINITION_HINTS = {"inline", "noinline", "propagate_inbounds", "fastmath", "pure", "inbounds", "nospecialize"}


@dataclass
class _Open:
    """Something waiting to be closed: a bracket or a block keyword."""
    token: Token
    kind: str                     # "(", "[", "{", a block keyword ("function", ...), or "file"
    is_index: bool = False        # `x[...]` rather than an array literal
    is_call: bool = False         # `f(...)` rather than a parenthesized expression or tuple
    comprehension: bool = False   # a `for` was seen directly inside this bracket
    ternaries: int = 0            # `?` waiting for their `:` at this level
    in_header: bool = False       # a `function`/`for`/`while`/`if` header not yet ended by a separator

    @property
    def is_bracket(self) -> bool:
        return self.kind in _BRACKET_CLOSE


class JuliaPostLexer:
    """Rewrites Lark's token stream with Julia's layout rules (see the grammar's header)."""

    # the raw terminals this post-lexer consumes or renames must be lexable in every parser state
    always_accept = ("_NL", "SEMI", "COLON", "NUMBER", "MACRO", "END", "FUNCTION", "IF", "ELSEIF", "ELSE",
                     "FOR", "WHILE", "BREAK", "CONTINUE", "RETURN", "STRUCT", "CONST", "USING", "IMPORT",
                     "BEGIN", "LET", "LOCAL", "GLOBAL", "WHERE", "IN", "ISA", "TRUE", "FALSE")

    def __init__(self) -> None:
        self.start("", "")

    def start(self, text: str, filename: str) -> None:
        self.text = text
        self.filename = filename
        self.stack: list[_Open] = [_Open(Token("FILE", ""), "file")]
        self.prev: Token | None = None             # the last token handed to the parser
        self.in_import = False                     # inside `using A: +` (a trailing `+` ends nothing)
        self.misaligned: list[_Open] = []          # blocks whose `end` is not indented like their start
        self.in_macro_statement = False            # after a STMT_MACRO, until the statement ends
        self.statement_macro = ""                  # the name of that macro (without the @)
        self.macro_depth = 0                       # len(stack) where that statement is (blocks inside go deeper)

    # --------------------------------------------------------------------------------- driver
    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        for tok in stream:
            for out in self._handle(tok):
                self.prev = out
                yield out
            # decided by looking at the text, before the next token is lexed: the contextual lexer
            # picks the next token's terminals from the parser state, which must include SPACESEP
            sep = (self._matrix_space_after(self.prev) or self._macro_message_after(self.prev)
                   or self._header_end_after(self.prev))
            if sep is not None:
                self.prev = sep
                yield sep
        self._finish()

    def _handle(self, tok: Token) -> Iterator[Token]:
        kind = tok.type
        top = self.stack[-1]
        if tok.value in ("isa", "in") and self.text.startswith("(", tok.end_pos) \
                and not self._ends_expression(self.prev):
            kind = "NAME"                  # `isa(x, T)`, `in(x, v)`: the operators called as functions
            tok = Token.new_borrow_pos("NAME", tok.value, tok)
        elif tok.value == "in" and self.prev is not None and self.prev.value in ("(", ",") \
                and self._next_word(tok.end_pos)[:1] in (":", ",", ")", "="):
            kind = "NAME"                  # a parameter or argument named `in`: Flux's `Dense(in, out)`
            tok = Token.new_borrow_pos("NAME", tok.value, tok)
        if kind == "NAME" and tok.value == "ivdep" and self.prev is not None and self.prev.value == "@simd":
            return                         # `@simd ivdep for`: no memory dependences is what jlhlo proves itself
        if kind == "_NL":
            yield from self._newline(tok, top)
        elif kind == "SEMI":
            if top.is_bracket:
                yield tok
            elif self.prev is not None and self.prev.type != "_SEP":
                yield self._separator(tok)
        elif kind in _LITERAL_TYPES:
            yield self._literal(tok, top)
        elif kind == "QUOTE" and self._name_at(tok.end_pos) not in ("", *_KEYWORD_WORDS):
            yield Token.new_borrow_pos("ADJOINT_JUXT", tok.value, tok)   # `A'B` is `A' * B`
        elif kind == "END":
            yield self._end(tok)
        elif kind == "BEGIN" and self._in_index():
            yield Token.new_borrow_pos("BEGIN_INDEX", tok.value, tok)      # `x[begin + 1]`
        elif kind in _BLOCK_KEYWORDS:
            if kind == "IF" and self.prev is not None and self.prev.type == "ELSE" and self.prev.line == tok.line:
                raise JuliaError('syntax: use "elseif" instead of "else if"', self._span(tok))   # as Julia's parser
            if kind == "FOR" and top.is_bracket and self._ends_expression(self.prev):
                top.comprehension = True       # `(f(x) for x in xs)`, `[x for x in xs]`
            elif not (kind == "IF" and top.is_bracket and top.comprehension):
                self.stack.append(_Open(tok, tok.value, in_header=kind in _HEADER_KEYWORDS))
                if kind in ("IF", "FOR", "WHILE") and (top.is_bracket or self._expects_operand()):
                    # an operand: `y = if c; a else b end`, `(s = 0; for i in 1:n; s += i; end; s)`
                    tok = Token.new_borrow_pos(kind + "_EXPR", tok.value, tok)
            yield tok
        elif kind == "ELSEIF":
            if top.kind == "if":
                top.in_header = True       # `elseif c x ...` on one line, like the `if` header
            yield tok
        elif kind in ("USING", "IMPORT"):
            self.in_import = True
            yield tok
        elif tok.value in _OPENING_BRACKETS:
            follows = self._ends_expression(self.prev)
            self.stack.append(_Open(tok, _OPENING_BRACKETS[tok.value], is_index=tok.value == "[" and follows,
                                    is_call=tok.value == "(" and follows))
            yield tok
        elif tok.value in (")", "]", "}"):
            self._close_bracket(tok, top)
            if tok.value == ")" and not top.is_call and self._name_at(tok.end_pos) not in ("", *_KEYWORD_WORDS):
                tok = Token.new_borrow_pos("RPAR_JUXT", tok.value, tok)   # `(x - 1)x`
            yield tok
        elif kind == "QMARK":
            top.ternaries += 1
            yield tok
        elif kind == "COLON" and top.ternaries and self._spaced(tok):
            top.ternaries -= 1
            yield Token.new_borrow_pos("TERNARY_COLON", tok.value, tok)
        else:
            yield tok

    # --------------------------------------------------------------------------------- newlines
    def _newline(self, tok: Token, top: _Open) -> Iterator[Token]:
        prev = self.prev
        if top.kind in ("(", "{"):
            return
        if top.kind == "[":
            nxt = self._next_word(tok.end_pos)
            if (top.comprehension or prev is None or prev.type in ("SEMI", "SPACESEP") or prev.value in ("[", ",")
                    or self._continues(prev) or nxt in ("]", "for")):
                return
            yield Token.new_borrow_pos("SEMI", ";", tok)     # a newline separates matrix rows
            return
        if prev is None or prev.type == "_SEP" or self._continues(prev):
            return
        yield self._separator(tok)

    def _separator(self, tok: Token) -> Token:
        self.stack[-1].ternaries = 0
        self.stack[-1].in_header = False
        self.in_import = False
        if len(self.stack) <= self.macro_depth:   # a `;` in a block inside the statement does not end it
            self.in_macro_statement = False
            self.statement_macro = ""
        return Token.new_borrow_pos("_SEP", tok.value, tok)

    def _continues(self, tok: Token) -> bool:
        """Whether a line ending with `tok` goes on on the next line (it ends with an operator)."""
        if tok.type in _LITERAL_TYPES:
            return False
        if self.in_import:
            return tok.value == ","
        return tok.value in _CONTINUATION_OPS or tok.type == "TERNARY_COLON"

    # --------------------------------------------------------------------------------- literals
    def _literal(self, tok: Token, top: _Open) -> Token:
        kind = tok.type
        if kind == "NAME" and tok.value in _UNSUPPORTED:
            raise JuliaError(_UNSUPPORTED[tok.value], self._span(tok))
        if kind == "NUMBER":
            nxt = self.text[tok.end_pos:tok.end_pos + 1]
            word = self._name_at(tok.end_pos)
            if nxt == "(" or (word and word not in _KEYWORD_WORDS):
                return Token.new_borrow_pos("JUXT_NUMBER", tok.value, tok)   # `2x`, `3(x + 1)`
        if kind == "MACRO":
            tok = Token.new_borrow_pos("MACRO", "@" + tok.value.split("@", 1)[1], tok)   # `Base.@kwdef`
            if self.text[tok.end_pos:tok.end_pos + 1] == "(" and tok.value != "@.":
                return Token.new_borrow_pos("MACRO_PAREN", tok.value, tok)   # `@m(a, b)`: a call-like operand
            at_statement_start = not top.is_bracket and (
                self.prev is None or self.prev.type in ("_SEP", "STMT_MACRO", "ELSE", "BEGIN"))
            if at_statement_start and (not self.in_macro_statement or len(self.stack) > self.macro_depth):
                self.statement_macro = tok.value[1:]   # (a statement in a block the outer macro applies to)
                self.macro_depth = len(self.stack)
            self.in_macro_statement = self.in_macro_statement or at_statement_start
            return Token.new_borrow_pos("STMT_MACRO" if at_statement_start else "EXPR_MACRO", tok.value, tok)
        return tok

    # --------------------------------------------------------------------------------- brackets and blocks
    def _expects_operand(self) -> bool:
        """After `=`, `(`, `,`, an operator or `return`: what comes next is part of an expression."""
        prev = self.prev
        return prev is not None and not self._ends_expression(prev) and prev.type not in (
            "_SEP", "SEMI", "ELSE", "BEGIN", "STMT_MACRO", "DO", "LET", "FUNCTION", "FOR", "WHILE", "STRUCT")

    def _in_index(self) -> bool:
        """Inside the brackets of `x[...]` (also within parentheses there), outside any block."""
        for entry in reversed(self.stack):
            if entry.kind == "[":
                return entry.is_index
            if not entry.is_bracket:
                return False
        return False

    def _end(self, tok: Token) -> Token:
        # `end` inside `[ ]` (also within parentheses there) is the last index, unless a block was
        # opened inside the brackets
        for entry in reversed(self.stack):
            if entry.kind == "[":
                return Token.new_borrow_pos("END_INDEX", tok.value, tok)
            if not entry.is_bracket:
                break
        top = self.stack[-1]
        if top.is_bracket:
            closer = _BRACKET_CLOSE[top.kind]
            raise JuliaError(f"unexpected `end`: missing `{closer}` for `{top.kind}` opened at line {top.token.line}",
                             self._span(tok))
        if top.kind == "file":
            raise JuliaError("unexpected `end`: there is no open block to close", self._span(tok))
        self.stack.pop()
        if self._first_on_line(tok) and tok.column != self._indent_of_line(top.token):
            self.misaligned.append(top)
        return tok

    def _close_bracket(self, tok: Token, top: _Open) -> None:
        if top.is_bracket and _BRACKET_CLOSE[top.kind] == tok.value:
            self.stack.pop()
            return
        if top.is_bracket:
            message = (f"unexpected `{tok.value}`: expected `{_BRACKET_CLOSE[top.kind]}` to close "
                       f"`{top.kind}` opened at line {top.token.line}")
        elif any(entry.is_bracket for entry in self.stack):
            message = f"unexpected `{tok.value}`: missing `end` for `{top.kind}` opened at line {top.token.line}"
        else:
            message = f"unexpected `{tok.value}`: there is no opening bracket to close"
        raise JuliaError(message, self._span(tok))

    def _finish(self) -> None:
        """At the end of the file everything opened must be closed."""
        unclosed = self.stack[1:]
        if not unclosed:
            return
        for entry in reversed(unclosed):
            if entry.is_bracket:
                closer = _BRACKET_CLOSE[entry.kind]
                raise JuliaError(f"unexpected end of file: missing `{closer}` for `{entry.kind}` opened at line "
                                 f"{entry.token.line}", self._span(entry.token))
        # Only blocks are open.  When an inner block's `end` was missing, the `end` meant for the
        # outer block closed it instead, usually at a shallower indentation: report that inner block.
        outermost = unclosed[0]
        suspects = [o for o in self.misaligned if o.token.line > outermost.token.line]
        culprit = suspects[0] if suspects else unclosed[-1]
        notes = []
        if culprit is not unclosed[-1]:
            notes.append(f"the `end` that should close `{outermost.kind}` at line {outermost.token.line} "
                         f"closes this `{culprit.kind}` instead")
        raise JuliaError(f"unexpected end of file: missing `end` for `{culprit.kind}` opened at line "
                         f"{culprit.token.line}", self._span(culprit.token), notes)

    # --------------------------------------------------------------------------------- matrix literals
    def _matrix_space_after(self, tok: Token | None) -> Token | None:
        """A SPACESEP token when whitespace after `tok` separates two items of `[a b]`."""
        top = self.stack[-1]
        if tok is None or top.kind != "[" or not self._ends_expression(tok):
            return None                # (in `x[...]` too: `T[a b]` is a typed literal, as in Julia)
        text, pos = self.text, tok.end_pos
        if pos >= len(text) or text[pos] not in " \t":
            return None
        while pos < len(text) and text[pos] in " \t":
            pos += 1
        if not self._starts_item(pos):
            return None
        return Token("SPACESEP", " ", tok.end_pos, tok.end_line, tok.end_column, tok.end_line,
                     tok.end_column + 1, tok.end_pos + 1)

    def _macro_message_after(self, tok: Token | None) -> Token | None:
        """A MACRO_SEP token before the message string of `@assert cond "message"`, and between the
        space-separated arguments of the printing macros (`@printf "%d\\n" x`, `@show a b`), which
        Julia splits where a matrix literal splits its items."""
        if tok is None or not self.in_macro_statement or len(self.stack) != self.macro_depth \
                or not self._ends_expression(tok):
            return None
        text, pos = self.text, tok.end_pos
        while pos < len(text) and text[pos] in " \t":
            pos += 1
        spaced = self.statement_macro in _SPACED_MACROS and self._starts_item(pos)
        if pos == tok.end_pos or not (text.startswith('"', pos) or spaced):
            return None
        return Token("MACRO_SEP", " ", tok.end_pos, tok.end_line, tok.end_column, tok.end_line,
                     tok.end_column + 1, tok.end_pos + 1)

    def _starts_item(self, pos: int) -> bool:
        text = self.text
        if pos >= len(text):
            return False
        c = text[pos]
        following = text[pos + 1:pos + 2]
        if c.isdigit() or c in "([\"'@" or (c == "." and following.isdigit()):
            return True
        if c in _UNARY_START:   # `[a -b]` is two items, `[a - b]` and `[a -= b]` are not
            return following not in ("", " ", "\t", "\n", "=", ">") and c != following
        word = self._name_at(pos)
        return bool(word) and word not in _NOT_ITEM_WORDS

    def _header_end_after(self, tok: Token | None) -> Token | None:
        """A separator ending a `function`/`for`/`while`/`if` header written on one line with its
        body (`function f(x) x + 1 end`, `for i in 1:3 s += i end`): after an expression, a space and
        then a name or number cannot continue it, as Julia's parser decides."""
        top = self.stack[-1]
        if not top.in_header or tok is None or tok.type == "_SEP" or not self._ends_expression(tok):
            return None
        pos = tok.end_pos
        while pos < len(self.text) and self.text[pos] in " \t":
            pos += 1
        if pos == tok.end_pos or pos >= len(self.text):
            return None
        word = self._name_at(pos)
        starts_operand = self.text[pos].isdigit() or (word and word not in _HEADER_CONTINUATIONS)
        if not starts_operand:
            return None
        top.in_header = False
        return Token("_SEP", " ", tok.end_pos, tok.end_line, tok.end_column, tok.end_line, tok.end_column,
                     tok.end_pos)

    @staticmethod
    def _ends_expression(tok: Token | None) -> bool:
        if tok is None:
            return False
        if tok.type in ("NAME", "OP_NAME", "NUMBER", "STRING", "CHAR", "END_INDEX", "TRUE", "FALSE", "END"):
            return True
        return tok.type not in _LITERAL_TYPES and tok.value in (")", "]", "}", "'", "...")

    # --------------------------------------------------------------------------------- text helpers
    def _name_at(self, pos: int) -> str:
        m = _NAME_RE.match(self.text, pos)
        return m.group(0) if m else ""

    def _next_word(self, pos: int) -> str:
        """The next non-blank character, or identifier, from `pos` (skipping comments)."""
        text = self.text
        while pos < len(text):
            c = text[pos]
            if c in " \t\r\n\f":
                pos += 1
            elif c == "#":
                nl = text.find("\n", pos)
                pos = len(text) if nl < 0 else nl
            else:
                return self._name_at(pos) or c
        return ""

    def _spaced(self, tok: Token) -> bool:
        before = tok.start_pos > 0 and self.text[tok.start_pos - 1] in " \t\n"
        after = self.text[tok.end_pos:tok.end_pos + 1] in (" ", "\t", "\n", "")
        return before and after

    def _first_on_line(self, tok: Token) -> bool:
        line_start = self.text.rfind("\n", 0, tok.start_pos) + 1
        return not self.text[line_start:tok.start_pos].strip()

    def _indent_of_line(self, tok: Token) -> int:
        line_start = self.text.rfind("\n", 0, tok.start_pos) + 1
        line = self.text[line_start:tok.start_pos + 1]
        return len(line) - len(line.lstrip(" \t")) + 1

    def _span(self, tok: Token) -> Span:
        return _span_of_token(tok, self.filename)


# ============================================================================= syntax errors
_TOKEN_DESCRIPTIONS = {
    "_SEP": "end of line", "SPACESEP": "space", "NAME": "identifier", "NUMBER": "number",
    "JUXT_NUMBER": "number", "STRING": "string", "CHAR": "character", "END_INDEX": "`end`",
    "TERNARY_COLON": "`:`", "BEGIN_INDEX": "`begin`", "IF_EXPR": "`if`", "FOR_EXPR": "`for`",
    "WHILE_EXPR": "`while`", "STMT_MACRO": "macro",
    "EXPR_MACRO": "macro", "MACRO_PAREN": "macro", "MACRO_SEP": "space",
    "$END": "end of file",
}


def _describe_terminal(name: str) -> str:
    if name in _TOKEN_DESCRIPTIONS:
        return _TOKEN_DESCRIPTIONS[name]
    term = next((t for t in _parser()[0].terminals if t.name == name), None)
    if term is not None and term.pattern.type == "str":
        return f"`{term.pattern.value}`"
    return name.lower()


def _syntax_error(e: UnexpectedInput, filename: str, postlexer: JuliaPostLexer) -> JuliaError:
    if isinstance(e, UnexpectedToken):
        tok = e.token
        if tok.type == "$END":
            message = "unexpected end of file"
            if postlexer.prev is not None:
                tok = postlexer.prev
        elif tok.type == "_SEP":
            message = "unexpected end of line" if tok.value != ";" else "unexpected token ';'"
        elif tok.type == "NAME" and tok.value in _UNSUPPORTED:
            return JuliaError(_UNSUPPORTED[tok.value], _span_of_token(tok, filename))
        elif tok.type in ("NAME", "NUMBER", "JUXT_NUMBER", "STRING"):
            message = f"unexpected {_describe_terminal(tok.type)} `{tok.value}`"
        elif tok.type in ("STMT_MACRO", "EXPR_MACRO", "MACRO_PAREN"):
            message = f"unexpected macro `{tok.value}`"
        elif tok.type == "SPACESEP":
            message = "unexpected space in a matrix literal"
        elif tok.value.isalpha():
            message = f"unexpected `{tok.value}`"
        else:
            message = f"unexpected token '{tok.value}'"
        expected = sorted({_describe_terminal(name) for name in e.expected or ()})
        if 0 < len(expected) <= 4:
            message += f"; expected {' or '.join(expected)}"
        # a bracket left open on an earlier line swallows the newlines that would end statements
        bracket = next((o for o in reversed(postlexer.stack) if o.is_bracket), None)
        if bracket is not None and bracket.token.line < (tok.line or 0):
            message += (f" (the `{bracket.token.value}` opened at line {bracket.token.line} may be missing "
                        f"its `{_BRACKET_CLOSE[bracket.kind]}`)")
        return JuliaError(message, _span_of_token(tok, filename))
    if isinstance(e, UnexpectedCharacters):
        if e.char == '"':
            return JuliaError("unterminated string: missing the closing `\"`",
                              Span(filename, e.line, e.column, e.line, e.column + 1))
        char = e.char if e.char != "\n" else "newline"
        hint = " (string interpolation and `$` outside strings are not supported)" if char == "$" else ""
        return JuliaError(f"unexpected character '{char}'{hint}",
                          Span(filename, e.line, e.column, e.line, e.column + 1))
    if isinstance(e, UnexpectedEOF):
        prev = postlexer.prev
        span = _span_of_token(prev, filename) if prev is not None else Span(filename, 1, 1, 1, 1)
        return JuliaError("unexpected end of file", span)
    line, column = getattr(e, "line", 1) or 1, getattr(e, "column", 1) or 1
    return JuliaError(f"syntax error: {e}", Span(filename, line, column, line, column + 1))


# ============================================================================= literals
_UNICODE_ALIASES = {"≤": "<=", "≥": ">=", "≠": "!=", "∈": "in", "≡": "===", "≢": "!==", "√": "sqrt", "∛": "cbrt"}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "$": "$", "0": "\0", "a": "\a",
            "b": "\b", "f": "\f", "v": "\v", "e": "\x1b"}
_ESCAPE_RE = re.compile(r"\\(u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{1,4}|U[0-9a-fA-F]{1,8}|x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)",
                        re.DOTALL)


def _unsigned_type(bits: int) -> str:
    for size in (8, 16, 32, 64, 128):
        if bits <= size:
            return f"UInt{size}"
    return "BigInt"


def _number(text: str, span: Span) -> ast.Node:
    """An IntLit or FloatLit for a numeric literal, typed as Julia types it."""
    digits = text.replace("_", "")
    if digits.startswith("0x") and "p" in digits.lower():     # 0x1.8p3: hexadecimal significand, binary exponent
        return ast.FloatLit(float.fromhex(digits), "Float64", span=span)
    if digits.startswith(("0x", "0b", "0o")):
        base, bits_per_digit = {"x": (16, 4), "b": (2, 1), "o": (8, 3)}[digits[1]]
        body = digits[2:]
        if not body:
            raise JuliaError(f"invalid numeric literal `{text}`", span)
        return ast.IntLit(int(body, base), _unsigned_type(len(body) * bits_per_digit), span=span)
    if "f" in digits:                                     # 1f0, 2.5f-3
        mantissa, exponent = digits.split("f")
        return ast.FloatLit(float(f"{mantissa}e{exponent}"), "Float32", span=span)
    if any(c in digits for c in ".eE"):
        return ast.FloatLit(float(digits), "Float64", span=span)
    value = int(digits)
    return ast.IntLit(value, "Int64" if value < 2**63 else "Int128" if value < 2**127 else "BigInt", span=span)


def _string(text: str) -> str:
    body = text[3:-3] if text.startswith('"""') else text[1:-1]
    if text.startswith('"""') and body.startswith("\n"):
        body = body[1:]                                   # Julia drops a newline right after `"""`

    def escape(m: re.Match[str]) -> str:
        e = m.group(1)
        if e[0] == "u" and e.startswith("u{"):
            return chr(int(e[2:-1], 16))
        if e[0] in "uUx" and len(e) > 1:
            return chr(int(e[1:], 16))
        if e[0] in "01234567":
            return chr(int(e, 8))
        if e == "\n":                                     # a backslash before a newline joins the lines
            return ""
        return _ESCAPES.get(e, "\\" + e)

    return _ESCAPE_RE.sub(escape, body)


def new_name(struct: str) -> str:
    """The name an inner constructor's `new` calls: the struct's field-by-field constructor."""
    return f"new#{struct}"


def curly_constructor_name(struct: str) -> str:
    """The name under which methods `S{T}(x) where {T} = ...` are kept: the written type parameters
    come first, as `::Type{T}` arguments (`calls.construct` passes them so)."""
    return f"{struct}#curly"


def _call_new(fdef: ast.FunctionDef, struct: str) -> None:
    """Make `new(...)` in an inner constructor call the struct's field-by-field constructor, and
    `new{T}(...)` that constructor with the parameters given (a call of `S{T}` marked `is_new`)."""
    def walk(n: object) -> None:
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "new":
            n.func = ast.Name(new_name(struct), span=n.func.span)
        elif isinstance(n, ast.Call) and isinstance(n.func, ast.Curly) and isinstance(n.func.base, ast.Name) \
                and n.func.base.id == "new":
            n.func = ast.Curly(ast.Name(struct, span=n.func.base.span), n.func.params, span=n.func.span)
            n.is_new = True
        if isinstance(n, ast.Node):
            for v in n.__dict__.values():
                walk(v)
        elif isinstance(n, list):
            for v in n:
                walk(v)
    walk(fdef.body)


def _concatenation(items: list[ast.Node], seps: list[str], span: Span) -> ast.Node:
    """`[a b]` (HCat) or `[a b; c d]` and `[a; b]` (VCat): items separated by spaces and `;`."""
    if "," in seps:
        raise JuliaError("cannot mix `,` with spaces or `;` in an array literal", span)
    if ";" not in seps:
        return ast.HCat(items, span=span)
    rows: list[list[ast.Node]] = [[items[0]]]
    for sep, item in zip(seps, items[1:]):
        if sep == ";":
            rows.append([item])
        else:
            rows[-1].append(item)
    return ast.VCat(rows, span=span)


# ============================================================================= AST building
@dataclass
class _KwItem(ast.Node):
    """`target = value` inside parentheses: a keyword argument, a named-tuple field, or a default."""
    target: ast.Node
    value: ast.Node


@dataclass
class _KeywordParams(ast.Node):
    """`(x, y; k=2)` that is not a block: only valid as the parameters of an anonymous function."""


@dataclass
class _AnonTyped(ast.Node):
    """`::T` inside parentheses: only valid as an unnamed parameter of a method signature."""
    type: ast.Node


@dataclass
class _Where(ast.Node):
    """`sig where {T, ...}`: only valid as a method signature."""
    expr: ast.Node
    typevars: list[ast.TypeVar]


@dataclass
class _Args:
    """What is between the parentheses of a call or of a parenthesised expression."""
    positional: list[ast.Node]
    after_semicolon: list[ast.Node] | None = None      # None: there is no `;`
    more_segments: list[list[ast.Node]] = dataclasses.field(default_factory=list)   # after a 2nd, 3rd `;`
    generator: ast.Generator | None = None
    trailing_comma: bool = False


def _is_dotted(op: str) -> bool:
    return len(op) > 1 and op[0] == "."


def _operator_call(op: str, args: list[ast.Node], span: Span | None, op_span: Span | None = None) -> ast.Node:
    """`a op b` as Call(Name(op)), or Broadcast for a dotted operator (`a .+ b`); the Name is
    placed at the operator (`op_span`) when known."""
    name_span = op_span or span
    if _is_dotted(op):
        name = op[1:]
        return ast.Broadcast(ast.Name(_UNICODE_ALIASES.get(name, name), span=name_span), args, span=span)
    return ast.Call(ast.Name(_UNICODE_ALIASES.get(op, op), span=name_span), args, span=span)


def _is_infix_call(node: ast.Node) -> bool:
    """`a op b` written infix (its operator after its first operand), not `op(a, b)`."""
    if not (isinstance(node, (ast.Call, ast.Broadcast)) and isinstance(node.func, ast.Name)
            and len(node.args) == 2 and not node.kwargs):
        return False
    at, first = node.func.span, node.args[0].span
    return at is not None and first is not None and (at.line, at.col) > (first.line, first.col)


def _join(first: Span | None, last: Span | None) -> Span | None:
    """The span from the start of `first` to the end of `last`."""
    if first is None or last is None:
        return first or last
    return Span(first.file, first.line, first.col, last.end_line, last.end_col)


# binary operator precedence, loosest first; `^` is applied before these (see fold_powers)
_POWER_OPS = {"^", ".^"}
_LEVELS: list[tuple[str, ...]] = [
    ("||",),
    ("&&",),
    ("<", "<=", ">", ">=", "==", "!=", "===", "!==", "≤", "≥", "≠", "≈", "≡", "≢", "∈", "∉", "<:", ">:", "in",
     "isa", ".<", ".<=", ".>", ".>=", ".==", ".!=", ".≤", ".≥", ".≠", ".≈", ".∈", ".∉"),
    ("|>", ".|>"),
    (":",),
    ("+", "-", "|", "⊻", ".+", ".-", ".|", ".⊻"),
    ("*", "/", "÷", "%", "&", "\\", "∘", "⋅", "×", ".*", "./", ".÷", ".%", ".&", ".\\"),
    ("//",),
    ("<<", ">>", ">>>", ".<<", ".>>", ".>>>"),
]
_LEVEL_OF = {op: level for level, ops in enumerate(_LEVELS) for op in ops}
_OR, _AND, _COMPARISON, _PIPE, _RANGE = range(5)


class _Chain:
    """Precedence climbing over `operand op operand op ...` (powers already applied)."""

    def __init__(self, operands: list[ast.Node], ops: list[Token], filename: str):
        self.filename = filename
        self.operands = operands
        self.ops = ops
        self.op_levels = [_LEVEL_OF[op.value] for op in ops]
        self.levels = sorted(set(self.op_levels))   # only the levels present need a pass
        self.pos = 0            # index of the next operand; the next operator is ops[pos - 1]

    def parse(self) -> ast.Node:
        self.pos = 0
        return self.level(0)

    def next_level(self) -> int | None:
        if 0 < self.pos <= len(self.ops):
            return self.op_levels[self.pos - 1]
        return None

    def level(self, index: int) -> ast.Node:
        """Parse operands joined by operators of precedence `self.levels[index]` or tighter."""
        if index == len(self.levels):
            self.pos += 1
            return self.operands[self.pos - 1]
        level = self.levels[index]
        left = self.level(index + 1)
        if self.next_level() != level:
            return left
        if level == _COMPARISON:                      # `a < b <= c` is one Comparison
            operands, op_indices = [left], []
            while self.next_level() == level:
                op_indices.append(self.pos - 1)
                operands.append(self.level(index + 1))
            span = _join(left.span, operands[-1].span)
            names = [self.ops[i].value for i in op_indices]
            if len(names) == 1:
                return _operator_call(names[0], operands, span, self.op_span(op_indices[0]))
            if any(_is_dotted(n) for n in names):
                return self.dotted_chain(operands, names, op_indices, span)
            return ast.Comparison(operands, [_UNICODE_ALIASES.get(op, op) for op in names], span=span)
        if level == _RANGE:                           # `a:b` or `a:step:b`
            parts = [left]
            while self.next_level() == level:
                parts.append(self.level(index + 1))
            span = _join(left.span, parts[-1].span)
            if len(parts) > 3:
                raise JuliaError("a range has at most three parts: `start:step:stop`", span)
            step = parts[1] if len(parts) == 3 else None
            return ast.Range(parts[0], step, parts[-1], span=span)
        while self.next_level() == level:
            op_index = self.pos - 1
            op = self.ops[op_index].value
            right = self.level(index + 1)
            span = _join(left.span, right.span)
            if level == _OR:
                left = ast.Or(left, right, span=span)
            elif level == _AND:
                left = ast.And(left, right, span=span)
            elif level == _PIPE:                      # `x |> f` is `f(x)`, `x .|> f` is `f.(x)`
                left = (ast.Broadcast if op == ".|>" else ast.Call)(right, [left], span=span)
                left.piped = True              # its callee was written last (see Builder.lambda_)
            else:
                left = _operator_call(op, [left, right], span, self.op_span(op_index))
        return left

    def dotted_chain(self, operands: list[ast.Node], names: list[str], op_indices: list[int],
                     span: Span | None) -> ast.Node:
        """`a .<= b .< c` is `(a .<= b) .& (b .< c)`, each inner operand computed once."""
        if not all(_is_dotted(n) for n in names):
            raise JuliaError("a comparison chain that mixes dotted and plain operators is not supported; "
                             "dot every operator (`a .<= b .< c`) or split the chain", span)
        stmts: list[ast.Node] = []
        for k in range(1, len(operands) - 1):
            x = operands[k]
            if not isinstance(x, (ast.Name, ast.IntLit, ast.FloatLit, ast.BoolLit)):
                tmp = ast.Name(f"%chain{id(x)}", span=x.span)
                stmts.append(ast.Assign(tmp, x, span=x.span))
                operands[k] = tmp
        result = None
        for k, (name, i) in enumerate(zip(names, op_indices)):
            pair = _operator_call(name, operands[k:k + 2], _join(operands[k].span, operands[k + 1].span),
                                  self.op_span(i))
            result = pair if result is None else ast.Broadcast(ast.Name("&", span=span), [result, pair], span=span)
        if not stmts:
            return result
        return ast.BlockExpr(ast.Block([*stmts, ast.ExprStmt(result, span=span)], span=span), span=span)

    def op_span(self, index: int) -> Span:
        return _span_of_token(self.ops[index], self.filename)


class _AstBuilder(Transformer):
    """Builds AST nodes; Lark calls a method, named after the grammar rule or alias, for each rule
    the LALR parser reduces, with that rule's children (Tokens and what earlier methods returned)."""

    def __init__(self) -> None:
        super().__init__()
        self.start_file("")

    def start_file(self, filename: str) -> None:
        self.filename = filename
        # nodes only valid inside a method signature (`::T`, `where`, `x::T = default`): when one
        # is not consumed by a method definition it is an error, reported once parsing is done
        self.pending: dict[int, tuple[ast.Node, str]] = {}

    # --------------------------------------------------------------------------------- helpers
    def span(self, first, last=None) -> Span | None:
        """The span from the start of `first` to the end of `last` (Tokens or Nodes)."""
        first_span = _span_of_token(first, self.filename) if isinstance(first, Token) else first.span
        if last is None or last is first:
            return first_span
        last_span = _span_of_token(last, self.filename) if isinstance(last, Token) else last.span
        return _join(first_span, last_span)

    def defer_error(self, node: ast.Node, message: str) -> None:
        self.pending[id(node)] = (node, message)

    def consume(self, node: ast.Node) -> None:
        self.pending.pop(id(node), None)

    def check_leftovers(self) -> None:
        if self.pending:
            node, message = min(self.pending.values(),
                                key=lambda item: (item[0].span.line, item[0].span.col) if item[0].span else (0, 0))
            raise JuliaError(message, node.span)

    @staticmethod
    def fill_span(block: ast.Block, span: Span | None) -> ast.Block:
        """An empty block has no position of its own: give it its statement's."""
        if block.span is None:
            block.span = span
        return block

    # --------------------------------------------------------------------------------- module and blocks
    def start(self, children):
        span = self.span(children[0], children[-1]) if children else Span(self.filename, 1, 1, 1, 1)
        items: list[ast.Node] = []
        modules: list[str] = []

        def add(nodes: list[ast.Node], module: str) -> None:
            for n in nodes:
                if isinstance(n, ast.ModuleDef):
                    modules.append(n.name)
                    add(n.items, n.name)
                else:
                    n.module = module          # where it was defined (one namespace: see program.py)
                    items.append(n)
        add(children, "Main")
        return ast.ModuleAST(items, modules, span=span)

    def module_def(self, children):
        _module, name, body, end = children
        return ast.ModuleDef(name.value, body.stmts, span=self.span(_module, end))

    def export_stmt(self, children):
        _export, *names = children
        return ast.Export([n.value for n in names], span=self.span(_export, names[-1]))

    def block(self, children):
        return ast.Block(list(children), span=self.span(children[0], children[-1]) if children else None)

    open_block = block

    # --------------------------------------------------------------------------------- statements
    def expr_stmt(self, children):
        if len(children) == 1:
            return self.expression_statement(children[0])
        if len(children) > 3:          # `a = b = v`: b = v first, then a takes the value of that
            *rest, target, op_tok, value = children
            inner = self.expr_stmt([target, op_tok, value])
            return self.expr_stmt([*rest, self.assignment_value(inner)])
        target, op_tok, value = children
        span = self.span(target, value)
        op = op_tok.value
        if op == "=" and (isinstance(target, (ast.Call, _Where)) or (
                isinstance(target, ast.TypeAssert) and isinstance(target.value, ast.Call))):
            body = value.body if isinstance(value, ast.BlockExpr) else ast.Block(
                [ast.ExprStmt(value, span=value.span)], span=value.span)
            return self.function_from_signature(target, body, span)
        if op == "=" and isinstance(target, ast.NamedTupleExpr):
            return self.property_destructuring(target, value, span)
        self.check_target(target)
        dotted = op[0] == "." and op != "="
        base = op[1:] if dotted else op
        return ast.Assign(target, value, op=base[:-1] or None, dotted=dotted, span=span)

    @staticmethod
    def property_destructuring(target: ast.NamedTupleExpr, value: ast.Node, span: Span | None) -> ast.Node:
        """`(; a, b) = x` is `a = x.a; b = x.b`, with x computed once."""
        if not all(isinstance(v, ast.Name) and v.id == n for n, v in zip(target.names, target.values)):
            raise JuliaError("expected `(; a, b) = x` (names only) on the left of `=`", target.span)
        source = ast.Name(f"%destructured{id(target)}", span=span)
        stmts: list[ast.Node] = [ast.Assign(source, value, span=span)]
        stmts += [ast.Assign(ast.Name(n, span=v.span), ast.Field(source, n, span=v.span), span=span)
                  for n, v in zip(target.names, target.values)]
        return ast.Block(stmts, span=span)

    def assignment_value(self, assign: ast.Node) -> ast.Node:
        """An assignment as an expression, whose value is what was assigned (Julia's rule: the
        right-hand side; for a variable or `x .= v`, the variable)."""
        if not isinstance(assign, ast.Assign):
            raise JuliaError("a method definition cannot be assigned", assign.span)
        span = assign.span
        if isinstance(assign.target, ast.Index) and not assign.dotted:
            tmp = ast.Name(f"%assigned{id(assign)}", span=span)
            value = assign.value if assign.op is None else ast.Call(
                ast.Name(assign.op, span=span), [assign.target, assign.value], span=span)
            stmts = [ast.Assign(tmp, value, span=span), ast.Assign(assign.target, tmp, span=span),
                     ast.ExprStmt(tmp, span=span)]
        else:
            stmts = [assign, ast.ExprStmt(assign.target, span=span)]
        return ast.BlockExpr(ast.Block(stmts, span=span), span=span)

    def expression_statement(self, expr: ast.Node) -> ast.Node:
        if isinstance(expr, (ast.FunctionDef, ast.If)):
            return expr                  # `function f(x) ... end` and `if` are parsed as expressions
        if isinstance(expr, ast.Lambda) and isinstance(expr.body, ast.Block) and getattr(expr, "_long_form", False):
            return ast.ExprStmt(expr, span=expr.span)
        first = expr.items[0] if isinstance(expr, ast.TupleExpr) and expr.items else None
        if isinstance(first, (ast.And, ast.Or)) and isinstance(first.right, ast.Return) and first.right.value:
            # `x < 0 && return a, b`: `return` takes the rest of the statement, a tuple, as Julia parses
            # it (the grammar ends the `return` at `,`: letting it go on is an LALR conflict there)
            ret = first.right
            ret.value = ast.TupleExpr([ret.value, *expr.items[1:]], span=_join(ret.value.span, expr.span))
            ret.span = _join(ret.span, expr.span)
            expr = first
        # `cond && return x` and `cond || break` are `if` statements
        if isinstance(expr, (ast.And, ast.Or)) and isinstance(expr.right, (ast.Return, ast.Break, ast.Continue)):
            cond = expr.left
            if isinstance(expr, ast.Or):
                cond = ast.Call(ast.Name("!", span=cond.span), [cond], span=cond.span)
            return ast.If([(cond, ast.Block([expr.right], span=expr.right.span))], None, span=expr.span)
        if isinstance(expr, _Where):
            return expr                  # reported by check_leftovers
        return ast.ExprStmt(expr, span=expr.span)

    def check_target(self, target: ast.Node) -> None:
        if isinstance(target, ast.TupleExpr):
            slurps = [item for item in target.items if isinstance(item, ast.Splat)]
            if len(slurps) > 1:
                raise JuliaError("invalid assignment target: only one `xs...` may collect the rest", slurps[1].span)
            for item in target.items:
                self.check_target(item.value if isinstance(item, ast.Splat) else item)
        elif isinstance(target, ast.TypeAssert) and isinstance(target.value, ast.Name):
            pass
        elif not isinstance(target, (ast.Name, ast.Index, ast.Field)):
            raise JuliaError("invalid assignment target: expected a variable, `x[i]`, `x.f` or a tuple of them",
                             target.span)

    def return_stmt(self, children):
        value = children[1] if len(children) > 1 else None
        return ast.Return(value, span=self.span(children[0], value))

    flow_return = return_stmt

    def return_assign(self, children):
        value = self.assignment_value(self.expr_stmt(children[1:]))
        return ast.Return(value, span=self.span(children[0], value))

    def break_stmt(self, children):
        return ast.Break(span=self.span(children[0]))

    def continue_stmt(self, children):
        return ast.Continue(span=self.span(children[0]))

    def global_stmt(self, children):
        global_tok, stmt = children
        span = self.span(global_tok, stmt)
        assign = stmt if isinstance(stmt, ast.Assign) else None
        target = assign.target if assign else stmt.expr if isinstance(stmt, ast.ExprStmt) else None
        items = target.items if isinstance(target, ast.TupleExpr) else [target]
        if not all(isinstance(n, ast.Name) for n in items):
            raise JuliaError("expected `global x`, `global x, y` or `global x = value`", span)
        return ast.Global([n.id for n in items], assign, span=span)

    def local_stmt(self, children):
        local_tok, stmt = children
        span = self.span(local_tok, stmt)
        if isinstance(stmt, ast.Assign) and stmt.op is None and not stmt.dotted:
            return dataclasses.replace(stmt, local=True, span=span)
        expr = stmt.expr if isinstance(stmt, ast.ExprStmt) else None
        if isinstance(expr, ast.Name) or (isinstance(expr, ast.TypeAssert) and isinstance(expr.value, ast.Name)):
            return ast.Assign(expr, None, local=True, span=span)     # `local x`: declared, no value
        raise JuliaError("expected `local x` or `local x = value`", span)

    def if_stmt(self, children):
        span = self.span(children[0], children[-1])
        _if, cond, body, *clauses, _end = children
        branches = [(cond, self.fill_span(body, span))]
        orelse = None
        for clause in clauses:
            if clause[0] == "elseif":
                branches.append((clause[1], self.fill_span(clause[2], clause[3])))
            else:
                orelse = self.fill_span(clause[1], clause[2])
        return ast.If(branches, orelse, span=span)

    def elseif_clause(self, children):
        keyword, cond, body = children
        return ("elseif", cond, body, self.span(keyword))

    def else_clause(self, children):
        keyword, body = children
        return ("else", body, self.span(keyword))

    def for_stmt(self, children):
        _for, iters, body, _end = children
        span = self.span(_for, _end)
        return ast.For(iters, self.fill_span(body, span), span=span)

    def while_stmt(self, children):
        _while, cond, body, _end = children
        span = self.span(_while, _end)
        return ast.While(cond, self.fill_span(body, span), span=span)

    def for_iters(self, children):
        return list(children)

    def for_iter(self, children):
        return (children[0], children[1])

    def target_tuple(self, children):
        return ast.TupleExpr(list(children[1:-1]), span=self.span(children[0], children[-1]))

    def macro_stmt(self, children):
        tok, node, *more = children
        if more:                       # `@assert cond "message"`, `@printf "%d\n" x`
            args = [node.expr if isinstance(node, ast.ExprStmt) else node, *more[1::2]]
            return ast.MacroCall(tok.value[1:], args, span=self.span(tok, more[-1]))
        return self.apply_macro(tok, node)

    macro_expr = macro_stmt

    def macro_paren(self, children):
        tok, args = children[0], (children[1] if len(children) == 3 else _Args([]))
        if args.generator is not None or args.after_semicolon is not None or any(
                isinstance(a, (_KwItem, _AnonTyped)) for a in args.positional):
            raise JuliaError(f"expected the arguments of `{tok.value}(...)` separated by commas",
                             self.span(tok, children[-1]))
        if len(args.positional) == 1:
            return self.apply_macro(tok, args.positional[0])
        return ast.MacroCall(tok.value[1:], list(args.positional), span=self.span(tok, children[-1]))

    def apply_macro(self, tok: Token, node: ast.Node) -> ast.Node:
        name = tok.value[1:]
        if name == ".":
            return _dotify(node)
        if name in _DEFINITION_HINTS and isinstance(node, ast.FunctionDef):
            return node                  # hints to Julia's compiler: nothing changes in the compiled program
        if name == "kwdef" and isinstance(node, ast.StructDef):
            node.kwdef = True
            return node
        span = self.span(tok, node)
        if isinstance(node, ast.ExprStmt):
            node = node.expr
        return ast.MacroCall(name, [node], span=span)

    # --------------------------------------------------------------------------------- definitions
    def function_def(self, children):
        _function, signature, body, _end = children
        span = self.span(_function, _end)
        if not isinstance(signature, (ast.Call, _Where, ast.TypeAssert)):
            # `function (x, y) ... end`: an anonymous function
            params, kwparams = self.lambda_params(signature)
            return ast.Lambda(params, self.fill_span(body, span), span=span, kwparams=kwparams)
        return self.function_from_signature(signature, self.fill_span(body, span), span)

    def function_from_signature(self, sig: ast.Node, body: ast.Block, span: Span | None) -> ast.FunctionDef:
        where: list[ast.TypeVar] = []
        if isinstance(sig, _Where):
            self.consume(sig)
            where, sig = sig.typevars, sig.expr
        return_type = None
        if isinstance(sig, ast.TypeAssert) and isinstance(sig.value, ast.Call):
            return_type, sig = sig.type, sig.value
        if not isinstance(sig, ast.Call):
            raise JuliaError("expected a method signature such as `f(x, y)`", sig.span)
        self.consume(sig)
        func = sig.func
        name = qualified = self_param = None
        type_params: list[ast.Param] = []
        if isinstance(func, ast.Name):
            name = func.id
        elif isinstance(func, ast.Field) and isinstance(func.obj, ast.Name):
            qualified, name = func.obj.id, func.name
        elif isinstance(func, ast.TypeAssert) and isinstance(func.value, ast.Name):
            self_param = ast.Param(func.value.id, func.type, span=func.span)
        elif isinstance(func, _AnonTyped):
            self.consume(func)
            self_param = ast.Param(None, func.type, span=func.span)
        elif isinstance(func, ast.Curly) and isinstance(func.base, ast.Name):
            name = curly_constructor_name(func.base.id)         # `S{T}(x) where {T}`
            type_params = [ast.Param(None, ast.Curly(ast.Name("Type", span=p.span), [p], span=p.span), span=p.span)
                           for p in func.params]
        else:
            raise JuliaError("expected a function name, `Module.name`, or `(x::T)` before the parameter list",
                             func.span)
        # the parenthesised arguments as written; an infix definition `a ⊕ b = ...` has none
        raw: _Args = getattr(sig, "_args", None) or _Args(list(sig.args))
        if raw.generator is not None:
            raise JuliaError("expected parameters, found a generator", raw.generator.span)
        params = type_params + [self.param(item, where) for item in raw.positional]
        kwparams = [self.param(item, where) for item in raw.after_semicolon or []]
        return ast.FunctionDef(name, params, kwparams, where, body, self_param=self_param,
                               return_type=return_type, qualified=qualified, span=span)

    def param(self, item: ast.Node, where: list[ast.TypeVar] | None = None) -> ast.Param:
        """A parameter of a method signature; `x::Array{T,3} where T` adds its own type variables to
        the method's `where` (Julia keeps them out of the body, which a valid program never sees)."""
        default = None
        if isinstance(item, _KwItem):
            default, item = item.value, item.target
        splat = isinstance(item, ast.Splat)
        if splat:
            item = item.value
        if isinstance(item, _Where) and where is not None and isinstance(item.expr, ast.TypeAssert):
            self.consume(item)
            for tv in item.typevars:
                if any(other.name == tv.name for other in where):
                    raise JuliaError(f"the parameter's own `where {tv.name}` shadows the method's `{tv.name}`: "
                                     f"rename one", tv.span)
                where.append(tv)
            item = item.expr
        if isinstance(item, ast.Name):
            return ast.Param(item.id, None, default, splat, span=item.span)
        if isinstance(item, ast.TypeAssert) and isinstance(item.value, ast.Name):
            return ast.Param(item.value.id, item.type, default, splat, span=item.span)
        if isinstance(item, _AnonTyped):
            self.consume(item)
            return ast.Param(None, item.type, default, splat, span=item.span)
        raise JuliaError("expected a parameter: `x`, `x::T`, `::T`, `x=default` or `xs...`", item.span)

    def where_expr(self, children):
        expr, params = children
        params = params if isinstance(params, list) else [params]
        typevars = [self.typevar(p) for p in params]
        if isinstance(expr, _Where):                   # `f(x) where T where S`
            self.consume(expr)
            typevars = expr.typevars + typevars
            expr = expr.expr
        node = _Where(expr, typevars, span=_join(expr.span, typevars[-1].span if typevars else None))
        self.defer_error(node, "`where` is only supported in method signatures")
        return node

    def braced(self, children):
        return children[0]

    def typevar(self, node: ast.Node) -> ast.TypeVar:
        if isinstance(node, ast.Name):
            return ast.TypeVar(node.id, span=node.span)
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "<:"
                and isinstance(node.args[0], ast.Name)):
            return ast.TypeVar(node.args[0].id, node.args[1], span=node.span)
        raise JuliaError("expected a type parameter: `T` or `T<:Bound`", node.span)

    def type_head(self, head: ast.Node) -> tuple[str, list[ast.TypeVar], ast.Node | None]:
        """`Name{T<:A, U} <: Super` of a struct or abstract type."""
        supertype = None
        if isinstance(head, ast.Call) and isinstance(head.func, ast.Name) and head.func.id == "<:":
            head, supertype = head.args
        params: list[ast.TypeVar] = []
        if isinstance(head, ast.Curly):
            params = [self.typevar(p) for p in head.params]
            head = head.base
        if not isinstance(head, ast.Name):
            raise JuliaError("expected a type name such as `Point` or `Point{T}`", head.span)
        return head.id, params, supertype

    def struct_def(self, children):
        mutable = children[0].type == "MUTABLE"
        head, body, _end = children[-3:]
        name, params, supertype = self.type_head(head)
        fields: list[tuple[str, ast.Node | None]] = []
        constructors: list[ast.FunctionDef] = []
        defaults: dict[str, ast.Node] = {}
        for stmt in body.stmts:
            expr = stmt.expr if isinstance(stmt, ast.ExprStmt) else None
            if isinstance(stmt, ast.Assign) and stmt.op is None and not stmt.dotted:
                expr = stmt.target             # `a::T = default` (Base.@kwdef)
                field_name = expr.value if isinstance(expr, ast.TypeAssert) else expr
                if isinstance(field_name, ast.Name):
                    defaults[field_name.id] = stmt.value
            if isinstance(expr, ast.Name):
                fields.append((expr.id, None))
            elif isinstance(expr, ast.TypeAssert) and isinstance(expr.value, ast.Name):
                fields.append((expr.value.id, expr.type))
            elif isinstance(stmt, ast.FunctionDef) and stmt.name in (name, curly_constructor_name(name)) \
                    and stmt.self_param is None:
                _call_new(stmt, name)
                constructors.append(stmt)
            elif isinstance(expr, ast.StringLit):
                pass                           # a field's docstring
            else:
                raise JuliaError("only field declarations (`x` or `x::T`) and inner constructors (`S(x) = new(...)`) "
                                 "are supported inside `struct`", stmt.span)
        return ast.StructDef(name, params, supertype, fields, mutable=mutable, constructors=constructors,
                             defaults=defaults, span=self.span(children[0], _end))

    def abstract_def(self, children):
        name, params, supertype = self.type_head(children[1])
        return ast.AbstractTypeDef(name, params, supertype, span=self.span(children[0], children[-1]))

    def const_def(self, children):
        _const, target, value = children
        if isinstance(target, ast.Name):
            return ast.ConstDef(target.id, value, span=self.span(_const, value))
        params = target.params if isinstance(target, ast.Curly) and isinstance(target.base, ast.Name) else []
        names = [p.id if isinstance(p, ast.Name) else None for p in params]
        if not params or None in names:
            raise JuliaError("expected `const NAME = value` or a type alias `const Name{T} = Type{...}`",
                             target.span)
        return ast.ConstDef(target.base.id, value, names, span=self.span(_const, value))

    def using_stmt(self, children):
        kind, *rest = children
        modules = [tok.value for tok in rest if tok.type == "MODULE_PATH"]
        names = [tok.value for tok in rest if tok.type != "MODULE_PATH"]
        return ast.Using(kind.value, modules, names, span=self.span(kind, rest[-1]))

    def module_path(self, children):
        first, last = children[0], children[-1]
        return Token("MODULE_PATH", ".".join(tok.value for tok in children), first.start_pos, first.line,
                     first.column, last.end_line, last.end_column, last.end_pos)

    def operator(self, children):
        return children[0]           # the token of an operator rule (`!binary_op: "+" | ...`)

    using_kw = import_name = assign_op = update_op = binary_op = logic_op = unary_op = operator

    # --------------------------------------------------------------------------------- expressions
    def tuple_bare(self, children):
        return ast.TupleExpr(list(children), span=self.span(children[0], children[-1]))

    def lambda_(self, children):
        lhs, body_expr = children
        # `->` binds tighter on its left than any operator: `x |> y -> 2y` is `x |> (y -> 2y)`
        if getattr(lhs, "piped", False):
            lhs.func = self.lambda_([lhs.func, body_expr])
            lhs.span = self.span(lhs, body_expr)
            return lhs
        if _is_infix_call(lhs):
            *first, last = lhs.args
            lhs.args = [*first, self.lambda_([last, body_expr])]
            lhs.span = self.span(lhs, body_expr)
            return lhs
        params, kwparams = self.lambda_params(lhs)
        if isinstance(body_expr, ast.BlockExpr):
            body = body_expr.body
        else:
            body = ast.Block([ast.ExprStmt(body_expr, span=body_expr.span)], span=body_expr.span)
        return ast.Lambda(params, body, span=self.span(lhs, body_expr), kwparams=kwparams)

    def lambda_params(self, lhs: ast.Node) -> tuple[list[ast.Param], list[ast.Param]]:
        """The parameters of `x -> ...`, `(x, y) -> ...` and `(x; k=2) -> ...`, positional and keyword."""
        semi = getattr(lhs, "_semi_params", None)
        if semi is not None:
            self.consume(lhs)
            return [self.param(item) for item in semi[0]], [self.param(item) for item in semi[1]]
        if isinstance(lhs, ast.TupleExpr):
            return [self.param(item) for item in lhs.items], []
        return [self.param(lhs)], []

    def ternary(self, children):
        cond, then, _colon, orelse = children
        flow = cond.right if isinstance(cond, (ast.And, ast.Or)) else None
        if isinstance(flow, ast.Return) and flow.value is not None:
            # `x < 0 && return c ? a : b` returns the ternary (the grammar's `return` ends at `?`)
            flow.value = ast.Ternary(flow.value, then, orelse, span=self.span(flow.value, orelse))
            flow.span = self.span(flow, orelse)
            cond.span = self.span(cond, orelse)
            return cond
        return ast.Ternary(cond, then, orelse, span=self.span(cond, orelse))

    def pair(self, children):
        """`a => b` is `Pair(a, b)` (right-associative, below the ternary, as in Julia)."""
        first, second = children
        span = self.span(first, second)
        return ast.Call(ast.Name("Pair", span=span), [first, second], span=span)

    def operators(self, children):
        flow = None
        if isinstance(children[-1], (ast.Return, ast.Break, ast.Continue)):
            *children, logic_tok, flow = children
        operands, ops = self.fold_powers(children[0::2], children[1::2])
        expr = _Chain(operands, ops, self.filename).parse()
        if flow is not None:
            cls = ast.And if logic_tok.value == "&&" else ast.Or
            expr = cls(expr, flow, span=self.span(expr, flow))
        return expr

    def adjoint_product(self, children):
        left, quote, right = children
        return self.juxtaposed_product(self.adjoint([left, quote]), right, quote)

    def paren_product(self, children):
        *group, close, right = children
        return self.juxtaposed_product(self.paren([*group, close]), right, close)

    def juxtaposed_product(self, left: ast.Node, right: ast.Node, at: Token) -> ast.Node:
        """`left * right` for a juxtaposition (`A'x`, `(x - 1)x`), which binds tighter than `*` and `/`
        and looser than `^`: `A'x^2` is `A' * x^2` (fold_powers applies `^` to the base, then rebuilds
        the product)."""
        node = _operator_call("*", [left, right], self.span(left, right), self.span(at))
        _, _, base, *inner = getattr(right, "_parts", ((), None, right))
        node._parts = ((), None, base, lambda acc: _operator_call(
            "*", [left, inner[0](acc) if inner else acc], self.span(left, acc), self.span(at)))
        return node

    def fold_powers(self, operands: list[ast.Node], ops: list[Token]) -> tuple[list[ast.Node], list[Token]]:
        """Apply `^` (right-associative, tighter than prefix operators and juxtaposition)."""
        if not any(op.value in _POWER_OPS for op in ops):
            return operands, ops
        out_operands: list[ast.Node] = []
        out_ops: list[Token] = []
        i = 0
        while i < len(operands):
            j = i                                          # operands[i..j] are joined by `^`
            while j < len(ops) and ops[j].value in _POWER_OPS:
                j += 1
            acc = operands[j]
            for k in range(j - 1, i - 1, -1):
                prefixes, juxt, base, *rebuild = getattr(operands[k], "_parts", ((), None, operands[k]))
                acc = _operator_call(ops[k].value, [base, acc], _join(base.span, acc.span), self.span(ops[k]))
                acc = self.apply_prefixes(prefixes, juxt, rebuild[0](acc) if rebuild else acc)
            out_operands.append(acc)
            if j < len(ops):
                out_ops.append(ops[j])
            i = j + 1
        return out_operands, out_ops

    def prefixed(self, children):
        *prefixes, operand = children
        juxt = None
        if prefixes and prefixes[-1].type == "JUXT_NUMBER":
            juxt = prefixes.pop()
        op = prefixes[-1] if prefixes else None
        if op is not None and isinstance(operand, ast.TupleExpr) and operand.span is not None \
                and (op.end_line, op.end_column) == (operand.span.line, operand.span.col) \
                and (len(operand.items) > 1 or any(isinstance(i, ast.Splat) for i in operand.items)):
            # `+(a, b)`, `-(x...)`: a call of the operator, an operand as a whole (`+(1, 2)^2` is 9)
            call = _operator_call(op.value, list(operand.items), self.span(op, operand), self.span(op))
            return self.apply_prefixes(prefixes[:-1], juxt, call) if prefixes[:-1] or juxt else call
        node = self.apply_prefixes(prefixes, juxt, operand)
        node._parts = (prefixes, juxt, operand)          # for `-x^2`, which is `-(x^2)`
        if len(getattr(operand, "_parts", ())) == 4:      # `-A'x^2` is `-(A' * x^2)`
            node._parts = (prefixes, juxt, *operand._parts[2:])
        return node

    def apply_prefixes(self, prefixes: list[Token], juxt: Token | None, operand: ast.Node) -> ast.Node:
        node = operand
        if juxt is not None:                               # `2x` is `2 * x`
            number = _number(juxt.value, self.span(juxt))
            node = ast.Call(ast.Name("*", span=number.span), [number, node], span=_join(number.span, node.span))
        for tok in reversed(prefixes):
            span = self.span(tok, node)
            # `-1` is a literal, as in Julia (but `-2^2` is `-(2^2)` and `-2x` is `-(2x)`)
            if (tok.value in ("-", "+") and isinstance(node, (ast.IntLit, ast.FloatLit)) and juxt is None
                    and not node.type_name.startswith("UInt")):
                node = dataclasses.replace(node, value=-node.value if tok.value == "-" else node.value, span=span)
            else:
                node = _operator_call(tok.value, [node], span, self.span(tok))
        return node

    def type_assert(self, children):
        value, type_ = children
        return ast.TypeAssert(value, type_, span=self.span(value, type_))

    def call(self, children):
        func, args = children[0], (children[1] if len(children) == 3 else _Args([]))
        call = self.call_node(ast.Call, func, args, self.span(func, children[-1]))
        call._args = args              # kept for a method definition `f(x::T=1; k) = ...`
        return call

    def do_call(self, children):
        func, *rest = children
        args = rest[0] if isinstance(rest[0], _Args) else _Args([])
        body, end = rest[-2], rest[-1]
        params = rest[-3] if isinstance(rest[-3], list) else []
        span = self.span(func, end)
        lam = ast.Lambda([self.param(p) for p in params], self.fill_span(body, span), span=span)
        call = self.call_node(ast.Call, func, args, span)
        call.args.insert(0, lam)
        return call

    def do_params(self, children):
        return list(children)

    def dot_call(self, children):
        func, args = children[0], (children[1] if len(children) == 3 else _Args([]))
        return self.call_node(ast.Broadcast, func, args, self.span(func, children[-1]))

    def call_node(self, cls, func: ast.Node, args: _Args, span: Span | None) -> ast.Node:
        positional: list[ast.Node] = []
        kwargs: list[ast.Kwarg] = []
        node = cls(func, positional, kwargs, span=span)
        if args.generator is not None:
            positional.append(args.generator)
        for item in args.positional:
            if isinstance(item, _KwItem):
                kw = self.kwarg(item)
                if kw is None:
                    self.defer_error(node, "a keyword argument needs a name: `name=value`")
                else:
                    kwargs.append(kw)
            elif isinstance(item, _AnonTyped):
                self.defer_error(node, "`::T` without a name is only allowed in a method signature")
            else:
                positional.append(item)
        for item in args.after_semicolon or []:
            if isinstance(item, ast.Name):                 # `f(; k)` passes `k=k`
                kwargs.append(ast.Kwarg(item.id, item, span=item.span))
                continue
            if isinstance(item, ast.Splat):                # `f(; kws...)` passes each of its pairs
                kwargs.append(ast.Kwarg(None, item.value, span=item.span))
                continue
            kw = self.kwarg(item) if isinstance(item, _KwItem) else None
            if kw is None:
                self.defer_error(node, "expected `name=value` after `;`")
            else:
                kwargs.append(kw)
        return node

    @staticmethod
    def kwarg(item: _KwItem) -> ast.Kwarg | None:
        if isinstance(item.target, ast.Name):
            return ast.Kwarg(item.target.id, item.value, span=item.span)
        return None

    def index(self, children):
        base, parts = children[0], (children[1] if len(children) == 3 else [])
        span = self.span(base, children[-1])
        items, seps = parts[0::2], parts[1::2]
        if set(seps) <= {","}:
            return ast.Index(base, items, span=span)
        # `Float32[1 2; 3 4]`: the concatenation, each element converted to the type
        return ast.Broadcast(base, [_concatenation(items, seps, span)], span=span)

    def field(self, children):
        obj, name = children
        # `Base.:+` names the operator `+`
        return ast.Field(obj, name.value.lstrip(":") if name.type == "QUOTED_OP" else name.value,
                         span=self.span(obj, name))

    def update_arg(self, children):
        """`(n += 1)`, `(dx .= y .* 2)`, `f(k += 1)`: an update used as an expression; its value is
        the updated variable or array."""
        target, op_tok, value = children
        span = self.span(target, value)
        self.check_target(target)
        dotted = op_tok.value.startswith(".")
        base = op_tok.value[1:] if dotted else op_tok.value
        return self.assignment_value(ast.Assign(target, value, op=base[:-1] or None, dotted=dotted, span=span))


    def curly(self, children):
        params = children[1] if len(children) == 3 else []
        return ast.Curly(children[0], params, span=self.span(children[0], children[-1]))

    def adjoint(self, children):
        span = self.span(children[0], children[1])
        node = ast.Call(ast.Name("adjoint", span=span), [children[0]], span=span)
        node._postfix = True           # `@.` leaves `x'` alone, as Julia does
        return node

    # --------------------------------------------------------------------------------- atoms
    def name(self, children):
        tok = children[0]
        value = _UNICODE_ALIASES.get(tok.value, tok.value) if tok.type == "OP_NAME" else tok.value
        return ast.Name(value, span=self.span(tok))

    def number(self, children):
        return _number(children[0].value, self.span(children[0]))

    def string(self, children):
        return ast.StringLit(_string(children[0].value), span=self.span(children[0]))

    def char(self, children):
        raise JuliaError("character literals are not supported; use a string", self.span(children[0]))

    def true_lit(self, children):
        return ast.BoolLit(True, span=self.span(children[0]))

    def false_lit(self, children):
        return ast.BoolLit(False, span=self.span(children[0]))

    def colon_all(self, children):
        return ast.ColonAll(span=self.span(children[0]))

    def symbol(self, children):
        return ast.SymbolLit(children[1].value, span=self.span(children[0], children[1]))

    def end_index(self, children):
        return ast.End(span=self.span(children[0]))

    def begin_index(self, children):
        return ast.Begin(span=self.span(children[0]))

    def paren(self, children):
        span = self.span(children[0], children[-1])
        args: _Args = children[1] if len(children) == 3 else _Args([])
        if args.generator is not None:
            args.generator.span = span
            return args.generator
        items = args.positional
        if args.after_semicolon is not None:
            segments = [items, args.after_semicolon, *args.more_segments]
            if not items and not args.more_segments:       # `(; a=1, b)`
                node = self.named_tuple(args.after_semicolon, span)
            elif all(len(s) <= 1 for s in segments) and items and not any(
                    isinstance(x, _AnonTyped) for s in segments for x in s):
                node = self.block_expression([x for s in segments for x in s], span)    # `(a = 1; b; c)`
            else:
                node = _KeywordParams(span=span)
                self.defer_error(node, "unexpected `;` in parentheses")
            if not args.more_segments:       # maybe the parameters of `(x; k=2) -> ...`
                node._semi_params = (items, args.after_semicolon)
            return node
        if not items:
            return ast.TupleExpr([], span=span)
        if len(items) == 1 and not args.trailing_comma:
            item = items[0]
            if isinstance(item, _KwItem):            # `(n = n + 1)`: an assignment used as an expression
                self.check_target(item.target)
                return self.assignment_value(ast.Assign(item.target, item.value, span=span))
            if isinstance(item, _AnonTyped):
                item.span = span
                self.defer_error(item, "`::T` without a name is only allowed in a method signature")
                return item
            if isinstance(item, ast.Splat):
                return ast.TupleExpr([item], span=span)
            if hasattr(item, "_parts"):              # `(-x)^2` squares -x: the parentheses end the prefix
                del item._parts
            return item
        if any(isinstance(x, _KwItem) for x in items):
            return self.named_tuple(items, span)
        for x in items:
            if isinstance(x, _AnonTyped):
                raise JuliaError("`::T` without a name is only allowed in a method signature", x.span)
        return ast.TupleExpr(list(items), span=span)

    def block_expression(self, items: list[ast.Node], span: Span | None) -> ast.BlockExpr:
        """`(a = 1; b; c)`: statements in order, the value of the last."""
        stmts: list[ast.Node] = []
        for k, x in enumerate(items):
            if isinstance(x, _KwItem):
                self.check_target(x.target)
                assign = ast.Assign(x.target, x.value, span=x.span)
                stmts += self.assignment_value(assign).body.stmts if k == len(items) - 1 else [assign]
            else:
                stmts.append(ast.ExprStmt(x, span=x.span))
        return ast.BlockExpr(ast.Block(stmts, span=span), span=span)

    def named_tuple(self, items: list[ast.Node], span: Span | None) -> ast.NamedTupleExpr:
        names, values = [], []
        for item in items:
            if isinstance(item, ast.Name):
                names.append(item.id)
                values.append(item)
            elif isinstance(item, _KwItem) and isinstance(item.target, ast.Name):
                names.append(item.target.id)
                values.append(item.value)
            else:
                raise JuliaError("expected `name=value` in a named tuple", item.span)
        return ast.NamedTupleExpr(names, values, span=span)

    def args_plain(self, children):
        items, trailing = children[0]
        return _Args(items, trailing_comma=trailing)

    def args_semi(self, children):
        segments: list[list[ast.Node]] = [[]]
        for c in children:
            if isinstance(c, Token):
                segments.append([])
            else:
                segments[-1] = c[0]
        return _Args(segments[0], after_semicolon=segments[1], more_segments=segments[2:])

    def args_generator(self, children):
        """`f(x for x in xs)`, also with keywords: `sum(x for x in xs; init=0.0)`."""
        expr, (iters, cond), *rest = children
        keywords = rest[1][0] if len(rest) > 1 else [] if rest else None
        generator = ast.Generator(expr, iters, cond, is_array=False, span=self.span(expr, cond or iters[-1][1]))
        return _Args([], after_semicolon=keywords, generator=generator)

    def arg_list(self, children):
        trailing = children[-1] is _TRAILING_COMMA
        return ([c for c in children if c is not _TRAILING_COMMA], trailing)

    def trailing_comma(self, children):
        return _TRAILING_COMMA

    def kw_arg(self, children):
        target, value = children
        return _KwItem(target, value, span=self.span(target, value))

    def splat(self, children):
        value, dots = children
        return ast.Splat(value, span=self.span(value, dots))

    def anon_typed(self, children):
        colons, type_ = children
        return _AnonTyped(type_, span=self.span(colons, type_))

    def anon_typed_default(self, children):
        colons, type_, value = children
        return _KwItem(self.anon_typed([colons, type_]), value, span=self.span(colons, value))

    def index_args(self, children):
        return list(children)

    curly_args = let_bindings = array_items = index_args

    def subtype_bound(self, children):
        op, upper = children
        return ast.SubtypeBound(upper, span=self.span(op, upper))

    def comp_for(self, children):
        return (children[0], children[1] if len(children) > 1 else None)

    def comprehension(self, children):
        _open, expr, (iters, cond), _close = children
        return ast.Generator(expr, iters, cond, is_array=True, span=self.span(_open, _close))

    def typed_comprehension(self, children):
        """`T[f(x) for x in xs]`: the comprehension, each element converted to T (`T.(...)`, as the
        typed literal `T[1 2; 3 4]`)."""
        base, expr, (iters, cond), close = children
        span = self.span(base, close)
        return ast.Broadcast(base, [ast.Generator(expr, iters, cond, is_array=True, span=span)], span=span)

    def array_lit(self, children):
        span = self.span(children[0], children[-1])
        if len(children) == 2:
            return ast.Vect([], span=span)
        parts = children[1]
        items = parts[0::2]
        seps = parts[1::2][:len(items) - 1]                # without a trailing `,` or `;`
        if not seps or set(seps) == {","}:
            return ast.Vect(items, span=span)
        return _concatenation(items, seps, span)

    def array_sep(self, children):
        tok = children[0]
        return " " if tok.type == "SPACESEP" else tok.value

    def begin_block(self, children):
        _begin, body, _end = children
        span = self.span(_begin, _end)
        return ast.BlockExpr(self.fill_span(body, span), span=span)

    def let_block(self, children):
        span = self.span(children[0], children[-1])
        bindings = children[1] if len(children) == 4 else []
        return ast.Let(bindings, self.fill_span(children[-2], span), span=span)

    def let_binding(self, children):
        target = ast.Name(children[0].value, span=self.span(children[0]))
        value = children[1] if len(children) > 1 else None
        return ast.Assign(target, value, local=True, span=self.span(children[0], children[-1]))


_TRAILING_COMMA = object()   # what `trailing_comma` stands for in an `arg_list`

# `lambda` is a Python keyword: the grammar's rule is called lambda, the method lambda_
setattr(_AstBuilder, "lambda", _AstBuilder.lambda_)


# ============================================================================= @.
def _dotify(node):
    """Julia's `@.`: every call of a named function and every operator becomes a broadcast, and
    every assignment a broadcasting assignment."""
    if isinstance(node, list):
        return [_dotify(x) for x in node]
    if isinstance(node, tuple):
        return tuple(_dotify(x) for x in node)
    if not isinstance(node, ast.Node):
        return node
    if isinstance(node, ast.Call):
        args, kwargs = _dotify(node.args), _dotify(node.kwargs)
        if isinstance(node.func, ast.Name) and not getattr(node, "_postfix", False):
            return ast.Broadcast(node.func, args, kwargs, span=node.span)
        return dataclasses.replace(node, func=_dotify(node.func), args=args, kwargs=kwargs)
    if isinstance(node, ast.Comparison):                  # a < b < c  ->  (a .< b) .& (b .< c)
        operands = _dotify(node.operands)
        parts = [ast.Broadcast(ast.Name(op, span=node.span), [a, b], span=node.span)
                 for op, a, b in zip(node.ops, operands, operands[1:])]
        result = parts[0]
        for part in parts[1:]:
            result = ast.Broadcast(ast.Name("&", span=node.span), [result, part], span=node.span)
        return result
    if isinstance(node, ast.Assign):
        return dataclasses.replace(node, value=_dotify(node.value), dotted=True)
    if isinstance(node, (ast.FunctionDef, ast.StructDef, ast.Lambda)):
        return node
    changes = {f.name: _dotify(getattr(node, f.name)) for f in dataclasses.fields(node) if f.name != "span"}
    return dataclasses.replace(node, **changes)
