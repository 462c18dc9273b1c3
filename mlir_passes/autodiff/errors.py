"""The one error automatic differentiation reports."""
from __future__ import annotations

from ...core.errors import LocatedError


class ADError(LocatedError):
    """An op on the gradient path that cannot be differentiated; the message names the op or the
    loop (see `LocatedError` for its location)."""
