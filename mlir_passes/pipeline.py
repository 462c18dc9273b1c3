"""The optimization pipeline: upstream MLIR passes and our Python passes, by level or by name."""
from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

from jax.extend.mlir import ir, passmanager

from ..core.ops import BRANCH_SELECT, NO_GRADIENT, PASS_FIRST
from .contract import contract
from .conv_layout import conv_layout
from .dead_values import dead_values
from .fold import fold
from .ieee_exact import ieee_exact
from .inline import inline
from .licm import licm
from .precision import make_mixed_precision
from .range_fold import range_fold
from .simplify import simplify
from .transpose_fold import conv_reverse_fold, transpose_fold
from .unroll import unroll

# A pass is either an upstream pass, named by its textual pipeline element, or a Python callable
# `(op, pass_) -> None` run on the module.
Pass = str | Callable[[ir.Operation, object], None]

PASSES: dict[str, Pass] = {
    # Top-down, so a deep call chain costs linear time (see inline.py); upstream `inline` is quadratic there.
    "inline": inline,
    "canonicalize": "canonicalize",
    "cse": "cse",
    # After inlining, the private callees have no uses left; only `public @main` must survive.
    "symbol-dce": "symbol-dce",
    "simplify": simplify,
    "fold": fold,
    # Sums of broadcast products (a vectorized `y[i] += A[i, j] * x[j]`) as dot_general.
    "contract": contract,
    # Transposes into dot_general / convolution / reduce / broadcast dims, and into each other.
    "transpose_fold": transpose_fold,
    # reverse(conv(reverse(x))) → conv(x, reverse(kernel)); fewer ops, but slower on XLA CPU: by name only.
    "conv_reverse_fold": conv_reverse_fold,
    # Float comparisons the operands' bounds decide (a DomainError check of what cannot be negative).
    "range_fold": range_fold,
    # Unused while-carried values and if/case results, invariant carried values forwarded.
    "dead_values": dead_values,
    "licm": licm,
    # Full unrolling of counted loops of at most unroll.MAX_TRIPS iterations.
    "unroll": unroll,
    # Convolutions in loops and branches in the layout of XLA:CPU's fast path (its own pass skips them).
    "conv_layout": conv_layout,
    # Divisions XLA would rewrite into inexact forms (x / 10.0 as x * 0.1), shielded: always run last.
    "ieee_exact": ieee_exact,
}

_O1 = ["inline", "canonicalize", "cse", "symbol-dce"]
# Simplification and folding expose work for canonicalize and cse (dead constants, repeated ops).
# contract after fold, and before transpose_fold, which then folds transposes into its dot_generals;
# transpose_fold after simplify/fold, which compose transposes and fold constant ones; dead_values
# before licm, so that what only fed dead carried values is gone before anything is hoisted (and
# range_fold before both, with canonicalize to fold the checks it decided into their flags);
# unroll last (it folds and simplifies the copies it makes itself), canonicalize and cse to clean up;
# then conv_layout, after transpose_fold, which would fold its transposes back into the convolutions.
LEVELS: dict[int, list[str]] = {
    0: [],
    1: _O1,
    2: _O1 + ["simplify", "fold", "contract", "transpose_fold", "range_fold", "canonicalize", "dead_values", "licm",
              "unroll", "canonicalize", "cse", "conv_layout"],
}

# Precision changes are never part of a level: `optimize(..., precision=...)` appends this pass.
PRECISIONS = ("bf16", "f16")


class PipelineError(RuntimeError):
    """An internal compiler error: a pass left the module invalid (or it was invalid to begin with)."""


def _verify(module: ir.Module, after: str) -> None:
    try:
        module.operation.verify()
    except ir.MLIRError as e:
        raise PipelineError(f"invalid module {after}: {e}") from e


def optimize(
    module: ir.Module,
    level: int = 2,
    *,
    passes: list[str] | None = None,
    print_after_each: Callable[[str, str], None] | None = None,
    timings: dict[str, float] | None = None,
    precision: str | None = None,
) -> None:
    """Optimize `module` in place with the passes of `level` (0, 1 or 2), or with `passes` by name.

    `print_after_each(name, ir_text)` is called after each pass; `timings[name]` accumulates the
    seconds spent in each pass. `precision` ("bf16" or "f16"; None or "f32" for none) runs
    dot_general and convolution on operands of that type with f32 results, after the other
    passes (see precision.py). Raises ValueError for an unknown level or pass name, and
    PipelineError if the module does not verify afterwards.
    """
    if passes is None:
        if level not in LEVELS:
            raise ValueError(f"unknown optimization level {level}; expected one of {sorted(LEVELS)}")
        passes = LEVELS[level]
    unknown = [name for name in passes if name not in PASSES]
    if unknown:
        raise ValueError(f"unknown pass {', '.join(map(repr, unknown))}; known passes: {', '.join(PASSES)}")
    table = dict(PASSES)
    passes = [name for name in passes if name != "ieee_exact"]
    if precision not in (None, "f32"):
        if precision not in PRECISIONS:
            raise ValueError(f"unknown precision {precision!r}; expected f32 or one of {', '.join(PRECISIONS)}")
        name = f"precision-{precision}"
        table[name] = make_mixed_precision(precision)
        passes.append(name)
    passes.append("ieee_exact")           # what XLA receives must round as the StableHLO says
    _verify(module, "before optimization")
    with module.context:
        _drop_branch_marks(module)
        for name in passes:
            # One pass manager per pass, so each can be timed and printed on its own. The pass
            # manager's verifier runs after each pass and names the culprit.
            pm = passmanager.PassManager("builtin.module")
            pass_ = table[name]
            if callable(pass_):
                pm.add(pass_, name)
            else:
                pm.add(pass_)
            start = time.perf_counter()
            try:
                pm.run(module.operation)
            except ir.MLIRError as e:
                raise PipelineError(f"pass {name!r} failed: {e}") from e
            if timings is not None:
                timings[name] = timings.get(name, 0.0) + time.perf_counter() - start
            if print_after_each is not None:
                print_after_each(name, str(module))
    _verify(module, "after optimization")


def _drop_branch_marks(module: ir.Module) -> None:
    """Reverse mode has read them (core.ops.BRANCH_SELECT, PASS_FIRST, NO_GRADIENT); what XLA and the reader get
    is plain StableHLO: a barrier that only stopped gradients goes (it is the identity)."""
    stops: list[ir.Operation] = []

    def visit(op: ir.Operation) -> ir.WalkResult:
        for mark in (BRANCH_SELECT, PASS_FIRST):
            if mark in op.attributes:
                del op.attributes[mark]
        if NO_GRADIENT in op.attributes:
            stops.append(op)
        return ir.WalkResult.ADVANCE
    module.operation.walk(visit)
    for op in stops:
        for result, operand in zip(op.results, op.operands):
            result.replace_all_uses_with(operand)
        op.erase()


def op_counts(module: ir.Module) -> Counter[str]:
    """How many ops of each name `module` holds, nested regions included (the module op too)."""
    counts: Counter[str] = Counter()

    def visit(op: ir.Operation) -> ir.WalkResult:
        counts[op.name] += 1
        return ir.WalkResult.ADVANCE

    module.operation.walk(visit)
    return counts
