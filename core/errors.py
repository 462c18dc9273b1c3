"""Errors that a later stage reports about an op, carrying the op's source location, so that an
earlier stage (the frontend, which asks autodiff for a gradient) can report them at the user's
line without knowing the stage that raised them."""
from __future__ import annotations

import re


class LocatedError(Exception):
    """`message` about the op at `location`, the MLIR location as text (`loc("f.jl":3:5)`), also
    split into `file`, `line`, `col` when it names a source position (else None)."""

    def __init__(self, message: str, location: str):
        super().__init__(f"{location}: {message}")
        self.message = message
        self.location = location
        m = re.search(r'loc\("([^"]+)":(\d+):(\d+)', location)
        self.file, self.line, self.col = (m.group(1), int(m.group(2)), int(m.group(3))) if m else (None, None, None)
