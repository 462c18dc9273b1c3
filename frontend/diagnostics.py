"""Source spans and the one error class every user-facing problem is reported with."""
from __future__ import annotations

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


class JuliaError(Exception):
    """A problem in the user's program, located at `span` (or nowhere, for whole-program problems)."""

    def __init__(self, message: str, span: Span | None = None, notes: list[str] | None = None):
        super().__init__(message)
        self.message = message
        self.span = span
        self.notes = list(notes or [])

    def render(self, sources: dict[str, str] | None = None) -> str:
        """`file.jl:LINE:COL: error: message`, the source line and a caret under the column."""
        first, _, details = self.message.partition("\n")
        if self.span is None:
            return "\n".join([f"error: {first}"] + ([details] if details else []) + [f"note: {n}" for n in self.notes])
        lines = [f"{self.span}: error: {first}"]
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
