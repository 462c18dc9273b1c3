"""Evaluate a program's Python reference: the expected answer, or a reason to discard the program.

The rendered Python (`render.python_source`) runs on `jlref`; its result is converted to what
jlhlo's API returns (tuples of NumPy arrays, numbers as 0-d arrays) and its types are checked
against the generator's. A gradient check's expected value is central finite differences of the
reference's loss; components where the derivative is not well defined (the forward and backward
slopes differ: a kink, a jump or a pole within the step; or the step resolves a min/max/clamp tie,
where reverse mode picks a subgradient) are masked out rather than compared."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from . import jlref as R
from . import model as M
from .jtypes import Arr, JType, Scalar, Tup
from .render import python_source

TICK_LIMIT = 20000
FD_STEP = 1e-6


@dataclass
class Approx:
    """An expected float array known approximately (finite differences): entries where `mask` is
    False are not compared, the others up to their rounding noise `atol` (and the usual tolerance)."""
    value: np.ndarray
    mask: np.ndarray
    atol: np.ndarray


@dataclass
class Expected:
    """main's expected result (with the gradient parts as `Approx` leaves) and the largest float
    magnitude the evaluation saw, which scales the comparison tolerance."""
    value: Any
    max_mag: dict[str, float]
    thrown: str | None = None      # the message of the exception Julia throws instead (value unused)


def load(prog: M.Program) -> dict[str, Any]:
    """The reference's functions, by Python name."""
    ns: dict[str, Any] = {"R": R, "np": np}
    exec(compile(python_source(prog, standalone=False), f"<difftest reference seed={prog.seed}>", "exec"), ns)
    return ns


def to_host(v: Any) -> Any:
    """A reference value as jlhlo's API returns it: tuples of arrays, numbers as 0-d arrays."""
    if isinstance(v, tuple):
        return tuple(to_host(x) for x in v)
    if isinstance(v, np.ndarray):
        return np.array(v, subok=False)
    if R.is_scalar(v):
        return np.asarray(v)
    raise R.ModelError(f"main returned a {type(v).__name__}, which is not a number, array or tuple")


def check_types(v: Any, t: JType, where: str = "out") -> None:
    """The reference's result must have the generator's static type (else the generator is wrong)."""
    if isinstance(t, Tup):
        if not isinstance(v, tuple) or len(v) != len(t.items):
            raise R.ModelError(f"{where}: expected a {len(t.items)}-tuple, reference gave {type(v).__name__}")
        for k, (x, tt) in enumerate(zip(v, t.items), 1):
            check_types(x, tt, f"{where}.{k}")
        return
    want_dtype = t.elt.dtype if isinstance(t, Arr) else t.dtype if isinstance(t, Scalar) else None
    want_shape = t.shape if isinstance(t, Arr) else ()
    if v.dtype != want_dtype or v.shape != want_shape:
        raise R.ModelError(f"{where}: generator typed {t.julia()}, reference gave {v.dtype}{list(v.shape)}")


def evaluate(prog: M.Program) -> Expected:
    """The expected result; raises `jlref.Discard` (undefined/fragile/too costly) or `ModelError`."""
    ns = load(prog)
    stats = R.reset(TICK_LIMIT)
    try:
        with np.errstate(all="ignore"):
            value = to_host(ns["main"](*prog.input_values()))
    except R.Thrown as e:
        return Expected(None, {}, thrown=e.message)
    check_types(value, prog.main.ret)
    max_mag = stats.max_mag
    # Julia sums arrays pairwise and XLA in its own order; exp, sin, log ... are not correctly
    # rounded and XLA's may differ from NumPy's by an ulp; a difference that cancels exactly may
    # not under XLA's contraction into fused multiply-adds. A result that another summation order,
    # one ulp on each such function, or a residue in place of each exact cancellation moves beyond the comparison's tolerance (rounding amplified,
    # say by repeated scaling or by sin of a growing argument) has no one right answer to check.
    if stats.float_sums and _moves(prog, value, max_mag, "sequential_sums"):
        raise R.Fragile("the result depends on the order of a sum")
    if stats.math_calls and _moves(prog, value, max_mag, "perturb_math"):
        raise R.Unstable("the result hinges on the last bit of exp/sin/log/...")
    if stats.cancellations and _moves(prog, value, max_mag, "perturb_cancellations"):
        raise R.Fragile("the result hinges on a difference that cancels exactly (a fused multiply-add would not)")
    if prog.grad is None:
        return Expected(value, max_mag)
    g = prog.grad
    args = dict(zip([p.name for p in prog.main.params], prog.input_values()))
    loss = ns[g.target]
    # the loss at the inputs themselves must be well-defined (a Discard here discards the program),
    # and finite all the way: through an Inf intermediate, reverse mode gives 0 * Inf = NaN where
    # the derivative is 0 (Zygote too), so such a point cannot be checked
    stats = R.reset(TICK_LIMIT)
    try:
        with np.errstate(all="ignore"):
            val = to_host(loss(*(np.copy(args[a]) if isinstance(args[a], np.ndarray) else args[a] for a in g.args)))
    except R.Thrown:
        raise R.Unmodelled("the loss throws (jlhlo would report it before main's own exceptions)") from None
    if stats.nonfinite:
        raise R.Unstable("an Inf or NaN on the gradient path")
    max_mag = {t: max(m, R.STATS.max_mag[t]) for t, m in max_mag.items()}
    grads = tuple(finite_difference(loss, [args[a] for a in g.args], g.args.index(w), float(val), stats.ties)
                  for w in g.wrt)
    return Expected((value, val, grads) if g.with_value else (value, grads), max_mag)


def _moves(prog: M.Program, value: Any, max_mag: dict[str, float], variant: str) -> bool:
    """Whether evaluating the reference again with the Stats flag `variant` set changes the result
    beyond the comparison's tolerance."""
    from .compare import compare  # compare reads this module's Approx
    again = R.reset(TICK_LIMIT)
    setattr(again, variant, True)
    try:
        with np.errstate(all="ignore"):
            other = to_host(load(prog)["main"](*prog.input_values()))
    except R.Thrown:                   # it now throws where it returned
        return True
    return bool(compare(other, value, {t: max(m, again.max_mag[t]) for t, m in max_mag.items()}))


def finite_difference(loss: Callable[..., Any], args: list[Any], k: int, f0: float, ties0: int) -> Approx:
    """Central differences of `loss` (f0 at the inputs, where it met ties0 min/max/clamp ties) in
    argument k, element by element. A component is checked only where the loss is finite, the
    forward and backward slopes agree (otherwise a kink, a jump or a pole lies within the step and
    the derivative is not well defined there) and moving it resolves no tie; its tolerance includes
    the rounding noise of the differences."""
    x = args[k]
    shape = np.shape(x)
    value, atol = np.zeros(shape), np.zeros(shape)
    mask = np.ones(shape, dtype=bool)
    for idx in np.ndindex(*shape) if shape else [()]:
        h = FD_STEP * max(1.0, abs(float(np.asarray(x)[idx])))
        try:
            (fp, tp), (fm, tm) = _eval_at(loss, args, k, idx, h), _eval_at(loss, args, k, idx, -h)
            (fp2, tp2), (fm2, tm2) = _eval_at(loss, args, k, idx, h / 2), _eval_at(loss, args, k, idx, -h / 2)
        except R.Discard:
            mask[idx] = False
            continue
        central, fwd, bwd = (fp - fm) / (2 * h), (fp - f0) / h, (f0 - fm) / h
        # the central difference is off by O(h) where the second derivative jumps (x * abs(x) at 0),
        # which fwd - bwd does not show: the change from halving the step bounds that error
        halved = abs(central - (fp2 - fm2) / h)
        noise = 8 * np.finfo(np.float64).eps * max(abs(f0), abs(fp), abs(fm), 1.0) / h
        # moving x[idx] resolves a min/max/clamp tie: reverse mode picks a subgradient there
        tied = any(t != ties0 for t in (tp, tm, tp2, tm2))
        if tied or not np.isfinite([f0, fp, fm, fp2, fm2]).all() or \
                abs(fwd - bwd) > 1e-4 * max(1.0, abs(central)) + 2 * noise:
            mask[idx] = False
        else:      # |fwd - bwd| and the halving bound the truncation error, also at a kink
            value[idx], atol[idx] = central, 3 * noise + abs(fwd - bwd) + 2 * halved
    return Approx(value, mask, atol)


def _eval_at(loss: Callable[..., Any], args: list[Any], k: int, idx: tuple, h: float) -> tuple[float, int]:
    """The loss with argument k moved by h at idx, and the number of ties it met."""
    moved = [np.copy(a) if isinstance(a, np.ndarray) else a for a in args]
    if isinstance(moved[k], np.ndarray):
        moved[k][idx] += h
    else:
        moved[k] = np.float64(moved[k] + h)
    stats = R.reset(TICK_LIMIT)
    with np.errstate(all="ignore"):
        return float(loss(*moved)), stats.ties
