"""The one error automatic differentiation reports."""
from __future__ import annotations


class ADError(Exception):
    """An op on the gradient path that cannot be differentiated.

    `location` is the MLIR location of that op, as text (e.g. `loc("f.jl":3:5)`); the message names
    the op or the loop and repeats the location.
    """

    def __init__(self, message: str, location: str):
        super().__init__(f"{location}: {message}")
        self.location = location
