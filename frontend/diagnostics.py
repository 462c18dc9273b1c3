"""Source spans and the one error class every user-facing problem is reported with."""
from __future__ import annotations

import os
import traceback
from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    """A region of a source file; lines and columns are 1-based, `end_col` is exclusive."""
    file: str
    line: int
    col: int
    end_line: int = 0
    end_col: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


class Diagnostic(Exception):
    """A message about the user's program at a place in it: rendered with the source line and a caret."""
    kind = "error"

    def __init__(self, message: str, span: Span | None = None, notes: list[str] | None = None):
        super().__init__(message)
        self.message = message
        self.span = span
        self.notes = list(notes or [])

    def render(self, sources: dict[str, str] | None = None) -> str:
        """`file.jl:LINE:COL: error: message`, the source line and a caret under the column."""
        first, _, details = self.message.partition("\n")
        if self.span is None:
            return "\n".join([f"{self.kind}: {first}"] + ([details] if details else []) +
                             [f"note: {n}" for n in self.notes])
        lines = [f"{self.span}: {self.kind}: {first}"]
        text = (sources or {}).get(self.span.file)
        if text is not None:
            src_lines = text.splitlines()
            if 1 <= self.span.line <= len(src_lines):
                src = src_lines[self.span.line - 1].rstrip("\n")
                lines.append("    " + src)
                width = 1
                if self.span.end_line == self.span.line and self.span.end_col > self.span.col:
                    width = self.span.end_col - self.span.col
                lines.append("    " + " " * (self.span.col - 1) + "^" + "~" * (width - 1))
        if details:
            lines.append(details)
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


class JuliaError(Diagnostic):
    """A problem in the user's program, located at `span` (or nowhere, for whole-program problems)."""


class StaticValueNeeded(JuliaError):
    """A run-time value decides a shape (`zeros(n)`, `x[1:n]`): the entry can be specialized on the
    value of an integer argument (api.lower_entry does so when it is given the values)."""


class InternalError(Diagnostic):
    """A bug in the compiler, met while lowering the construct at `span`: reported there (as
    Triton's code generator does), with where in the compiler it happened, and never as a
    traceback."""
    kind = "internal error"

    @classmethod
    def wrap(cls, exc: BaseException, span: Span | None) -> InternalError:
        frames = traceback.extract_tb(exc.__traceback__)
        where = f" (in jlhlo {os.path.basename(frames[-1].filename)}:{frames[-1].lineno})" if frames else ""
        err = cls(f"{type(exc).__name__}: {exc}{where}; please report this", span)
        err.__cause__ = exc
        return err


def relocate(err: Diagnostic, call_span: Span | None, function: str) -> None:
    """An error inside the library (the prelude) is the user's only through the call that led there:
    move it to that call, and keep where it happened as a note, as Julia's stack traces do."""
    if err.span is None or call_span is None or not err.span.file.startswith(PRELUDE_PREFIX):
        return
    err.notes.append(f"in `{function}`, at {err.span}")
    err.span = call_span


PRELUDE_PREFIX = "prelude/"
