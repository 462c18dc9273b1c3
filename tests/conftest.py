"""Shared helpers for the language-level tests (test_core, test_errors, test_cli, test_robustness).

Importable from the test modules (`from conftest import run_jl, cli, assert_same`):

- `run_jl(source, entry, *args)`: compile `source` through the Python API (`jlhlo.load`) and call
  `entry` on host values; loaded programs are cached per source text, so several calls of one
  program with same-typed arguments compile once.
- `cli(*argv)`: run the `transpile` command line in-process (`jlhlo.cli.main`), returning
  `CliResult(status, stdout, stderr)`; `cli_subprocess(*argv)` runs it as a real process.
- `write_jl(dir, source, name)`: write a program to a file for the CLI.
- `assert_same(got, want, rtol, atol)`: the same structure (tuples, dicts), the same dtype and
  shape exactly, then the same values (integers and Bools exactly).
- the `rng` fixture: a numpy Generator seeded from the test's id (deterministic, different per test).
"""
from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import jlhlo
import jlhlo.cli

# ----------------------------------------------------------------------------- the Python API
_LOADED: dict[tuple[str, str], Any] = {}
_FUNCS: dict[tuple[str, str, str], Any] = {}


def load(source: str, filename: str = "t.jl") -> Any:
    key = (source, filename)
    if key not in _LOADED:
        _LOADED[key] = jlhlo.load(source, filename=filename)
    return _LOADED[key]


def function(source: str, entry: str, filename: str = "t.jl") -> Any:
    key = (source, entry, filename)
    if key not in _FUNCS:
        _FUNCS[key] = load(source, filename).function(entry)
    return _FUNCS[key]


def run_jl(source: str, entry: str, *args: Any) -> Any:
    """`jlhlo.load(source, filename="t.jl").function(entry)(*args)`, with the load cached."""
    return function(source, entry)(*args)


def lower_text(source: str, entry: str, *args: Any, optimize_level: int | None = 2) -> str:
    return function(source, entry).lower(*args, optimize_level=optimize_level).as_text()


# ----------------------------------------------------------------------------- the command line
@dataclass
class CliResult:
    status: int
    stdout: str
    stderr: str

    @property
    def out(self) -> str:
        return self.stdout

    @property
    def err(self) -> str:
        return self.stderr

    def __str__(self) -> str:
        return f"exit {self.status}\n--- stdout\n{self.stdout[-3000:]}\n--- stderr\n{self.stderr[-3000:]}"


def cli(*argv: Any) -> CliResult:
    """Run `transpile ARGV...` in-process; argparse exits (status 2) are caught."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = jlhlo.cli.main([str(a) for a in argv])
        except SystemExit as e:
            status = e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
    return CliResult(int(status), out.getvalue(), err.getvalue())


def cli_subprocess(*argv: Any, timeout: float = 300) -> CliResult:
    """Run `python -m jlhlo.cli ARGV...` as a separate process (real exit status, real streams)."""
    p = subprocess.run([sys.executable, "-m", "jlhlo.cli", *[str(a) for a in argv]], capture_output=True,
                       text=True, timeout=timeout, env={**os.environ, "PYTHONWARNINGS": "ignore"}, check=False)
    return CliResult(p.returncode, p.stdout, p.stderr)


def write_jl(directory: Any, source: str, name: str = "t.jl") -> str:
    path = os.path.join(str(directory), name)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(source)
    return path


def save_npz(path: Any, **arrays: Any) -> str:
    np.savez(str(path), **{k: np.asarray(v) for k, v in arrays.items()})
    return str(path)


def load_npz(path: Any) -> dict[str, np.ndarray]:
    with np.load(str(path)) as z:
        return {k: z[k] for k in z.files}


# ----------------------------------------------------------------------------- comparisons
_DEFAULT_TOL = {  # (rtol, atol) by dtype when the caller gives none
    np.dtype(np.float16): (2e-3, 1e-3),
    np.dtype(np.float32): (2e-5, 1e-6),
    np.dtype(np.complex64): (2e-5, 1e-6),
    np.dtype(np.float64): (1e-10, 1e-12),
    np.dtype(np.complex128): (1e-10, 1e-12),
}


def assert_same(got: Any, want: Any, rtol: float | None = None, atol: float | None = None) -> None:
    """`got` has `want`'s structure (tuples stay tuples, structs/named tuples are dicts with the same
    keys in the same order), each leaf exactly `want`'s dtype and shape, and the same values
    (integers and Bools exactly; floats within rtol/atol, NaNs where `want` has NaNs). Every
    mismatching leaf is listed, not just the first."""
    problems: list[str] = []
    _compare(got, want, rtol, atol, "out", problems)
    if problems:
        raise AssertionError("\n".join(problems))


def _compare(got: Any, want: Any, rtol: float | None, atol: float | None, path: str, problems: list[str]) -> None:
    if isinstance(want, tuple):
        if not isinstance(got, tuple) or len(got) != len(want):
            problems.append(f"{path}: got {_brief(got)}, want a tuple of {len(want)}")
            return
        for i, (g, w) in enumerate(zip(got, want), 1):
            _compare(g, w, rtol, atol, f"{path}.{i}", problems)
        return
    if isinstance(want, dict):
        if not isinstance(got, dict) or list(got) != list(want):
            problems.append(f"{path}: got {_brief(got)}, want a dict with keys {list(want)}")
            return
        for k in want:
            _compare(got[k], want[k], rtol, atol, f"{path}.{k}", problems)
        return
    if want is None:
        if got is not None:
            problems.append(f"{path}: got {_brief(got)}, want nothing")
        return
    if not isinstance(got, np.ndarray):
        problems.append(f"{path}: got {_brief(got)}, want a numpy array")
        return
    w = np.asarray(want)
    if got.dtype != w.dtype:
        problems.append(f"{path}: dtype {got.dtype} != expected {w.dtype} (got {_brief(got)}, want {_brief(w)})")
        return
    if got.shape != w.shape:
        problems.append(f"{path}: shape {got.shape} != expected {w.shape} (got {_brief(got)}, want {_brief(w)})")
        return
    if w.dtype.kind in "biuU":
        if not np.array_equal(got, w):
            problems.append(f"{path}: values differ: got {_brief(got)}, want {_brief(w)}")
        return
    r0, a0 = _DEFAULT_TOL.get(w.dtype, (1e-7, 0.0))
    rtol = r0 if rtol is None else rtol
    atol = a0 if atol is None else atol
    if not np.allclose(got, w, rtol=rtol, atol=atol, equal_nan=True):
        err = np.max(np.abs(got.astype(np.complex128) - w.astype(np.complex128)))
        problems.append(f"{path}: values differ (max abs err {err:.3g}, rtol={rtol}, atol={atol}): "
                        f"got {_brief(got)}, want {_brief(w)}")


def _brief(v: Any) -> str:
    if isinstance(v, np.ndarray):
        with np.printoptions(precision=6, threshold=12, edgeitems=3, linewidth=200):
            return f"{v.dtype}{list(v.shape)} {np.array2string(v, separator=', ')}"
    if isinstance(v, tuple):
        return "tuple(" + ", ".join(_brief(x) for x in v[:6]) + (", ..." if len(v) > 6 else "") + ")"
    if isinstance(v, dict):
        return "dict(" + ", ".join(f"{k}={_brief(x)}" for k, x in v.items()) + ")"
    return f"{type(v).__name__} {v!r}"


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(autouse=True, scope="session")
def _compile_cache_in_tmp(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Executables compiled by the tests go to a temporary persistent cache, never the user's
    ~/.cache/jlhlo (subprocesses the tests start inherit the variable)."""
    os.environ["JLHLO_CACHE_DIR"] = str(tmp_path_factory.mktemp("jlhlo-cache"))


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> np.random.Generator:
    """A Generator seeded from the test id: reproducible, and different for every test."""
    return np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))
