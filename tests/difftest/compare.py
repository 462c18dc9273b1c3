"""Compare what jlhlo returned with the reference's expected value.

Structure, dtype and shape must match exactly (Julia's types: Int64 → int64, Float32 → float32,
Bool → bool; numbers are 0-d arrays). Integers and Bools must be equal; floats within a relative
tolerance per type plus an absolute one that scales with the largest magnitude the reference saw
in that type (a correct compiler may round intermediate results differently; the difference is a
few ulps of the intermediates, not of the result; Float32 intermediates loosen the tolerance of
Float64 results computed from them); NaN must meet NaN. Gradient leaves (`Approx`)
are compared against finite differences where those are trustworthy."""
from __future__ import annotations

from typing import Any

import numpy as np

from .jlref import noise
from .reference import Approx

RTOL = {np.dtype(np.float64): 1e-9, np.dtype(np.float32): 1e-4}
ATOL_ULPS = 256.0
GRAD_RTOL, GRAD_ATOL = 1e-5, 1e-5       # finite differences err by O(step) where f'' jumps (x*abs(x) at 0)


def compare(got: Any, want: Any, max_mag: dict[str, float], path: str = "out") -> list[str]:
    """Every difference, as readable lines (empty: they agree)."""
    problems: list[str] = []
    _compare(got, want, max_mag, path, problems)
    return problems


def _compare(got: Any, want: Any, max_mag: dict[str, float], path: str, problems: list[str]) -> None:
    if isinstance(want, tuple):
        if not isinstance(got, tuple) or len(got) != len(want):
            problems.append(f"{path}: got {brief(got)}, want a tuple of {len(want)}")
            return
        for k, (g, w) in enumerate(zip(got, want), 1):
            _compare(g, w, max_mag, f"{path}.{k}", problems)
        return
    if not isinstance(got, np.ndarray):
        problems.append(f"{path}: got {brief(got)}, want an array")
        return
    if isinstance(want, Approx):
        _compare_gradient(got, want, path, problems)
        return
    if got.dtype != want.dtype or got.shape != want.shape:
        problems.append(f"{path}: wrong dtype/shape: got {got.dtype}{list(got.shape)}, want {want.dtype}{list(want.shape)} "
                        f"(got {brief(got)}, want {brief(want)})")
        return
    if want.dtype.kind in "biu":
        if not np.array_equal(got, want):
            problems.append(f"{path}: got {brief(got)}, want {brief(want)}")
        return
    t = "Float32" if want.dtype == np.float32 else "Float64"
    atol = ATOL_ULPS * noise(t, 0.0, max_mag)
    rtol = RTOL[np.dtype(np.float32)] if max_mag["Float32"] > 0 else RTOL[want.dtype]
    if not np.allclose(got, want, rtol=rtol, atol=atol, equal_nan=True):
        with np.errstate(all="ignore"):
            err = np.nanmax(np.abs(got.astype(np.float64) - want.astype(np.float64)), initial=0.0)
        problems.append(f"{path}: got {brief(got)}, want {brief(want)} (max abs err {err:.3g}, atol {atol:.2g})")


def _compare_gradient(got: np.ndarray, want: Approx, path: str, problems: list[str]) -> None:
    if got.dtype != np.float64 or got.shape != want.value.shape:
        problems.append(f"{path} (gradient): got {got.dtype}{list(got.shape)}, want float64{list(want.value.shape)}")
        return
    m = want.mask
    g, w = got[m], want.value[m]
    tol = GRAD_ATOL * np.maximum(1.0, np.abs(w)) + GRAD_RTOL * np.abs(w) + want.atol[m]
    if not (np.abs(g - w) <= tol).all():
        shown = np.where(m, want.value, np.nan)
        problems.append(f"{path} (gradient): got {brief(got)}, finite differences {brief(shown)} "
                        f"(nan: not checked, near a kink)")


def brief(v: Any) -> str:
    if isinstance(v, np.ndarray):
        with np.printoptions(precision=8, threshold=30, edgeitems=4, linewidth=200):
            return f"{v.dtype}{list(v.shape)} {np.array2string(v, separator=', ')}"
    if isinstance(v, tuple):
        return "(" + ", ".join(brief(x) for x in v) + ")"
    if isinstance(v, Approx):
        return brief(np.where(v.mask, v.value, np.nan))
    return f"{type(v).__name__} {v!r}"
