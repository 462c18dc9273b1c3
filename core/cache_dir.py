"""Where jlhlo keeps what later runs can reuse: compiled executables (runtime/cache.py), the
parsed prelude (frontend/program.py) and the parser's LALR tables (frontend/parser.py)."""
from __future__ import annotations

import os
from pathlib import Path


def cache_directory() -> Path:
    """`$JLHLO_CACHE_DIR`, else `$XDG_CACHE_HOME/jlhlo`, else `~/.cache/jlhlo` (read again at each
    call: a program may change the variable)."""
    chosen = os.environ.get("JLHLO_CACHE_DIR")
    if chosen:
        return Path(chosen).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "jlhlo"
