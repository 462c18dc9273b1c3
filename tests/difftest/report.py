"""Describe failing programs and save them as reproducers.

A saved finding is `<stem>.jl` (the program, headed by comments: the outcome, what jlhlo did, the
inputs and the answer Julia gives), `<stem>.py` (the Python reference, runnable on its own),
`<stem>.inputs.npz` (one key per parameter: `transpile <stem>.jl --inputs <stem>.inputs.npz
--run` replays it) and `<stem>.expected.npz` (`out.1`, `out.2`, ... as `--outputs` writes them)."""
from __future__ import annotations

import os
from collections import Counter
from typing import Any

import numpy as np

from .reference import Approx
from .render import python_source
from .runner import Campaign, GroupFailure, Result

_TESTS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _value_text(v: Any) -> str:
    if isinstance(v, tuple):
        return "(" + ", ".join(_value_text(x) for x in v) + ("," if len(v) == 1 else "") + ")"
    if isinstance(v, Approx):
        return "≈" + _value_text(np.where(v.mask, v.value, np.nan))
    a = np.asarray(v)
    with np.printoptions(precision=10, threshold=60, linewidth=100):
        text = np.array2string(a, separator=", ") if a.ndim else repr(a.item())
    return f"{text}::{a.dtype}" if a.ndim == 0 else f"{a.dtype}{list(a.shape)} {text}"


def header(result: Result) -> list[str]:
    """Comment lines: outcome per level, jlhlo's message, the inputs and Julia's answer."""
    levels = ", ".join(f"-O{lv}: {o.kind}" for lv, o in sorted(result.levels.items()))
    prog = result.case.prog
    lines = [f"outcome: {result.kind} ({result.key})", f"levels: {levels}", f"generator seed: {prog.seed}",
             "jlhlo:"]
    lines += ["  " + ln for ln in result.message.splitlines()[:40]]
    lines.append("inputs:")
    lines += [f"  {p.name} = {_value_text(prog.inputs[p.name])}" for p in prog.main.params]
    lines.append("expected (Julia's semantics, from the reference):")
    lines.append("  " + _value_text(result.case.expected.value))
    return lines


def describe(result: Result) -> str:
    """The program's Julia source under its header comments."""
    return "\n".join("# " + ln for h in header(result) for ln in h.split("\n")) + "\n" + result.case.julia


def describe_group(g: GroupFailure) -> str:
    return (f"# outcome: {g.outcome.kind} at -O{g.level} only when these programs share a file "
            f"({g.outcome.key})\n# jlhlo: {g.outcome.message.splitlines()[0] if g.outcome.message else ''}\n"
            + g.source)


def save_group(g: GroupFailure, directory: str, stem: str) -> str:
    """Write a combination's file and its inputs (named as `batch_source` names the entry's
    parameters, `a<k>_<name>`, so `transpile` can replay it with `--inputs`); returns the `.jl` path."""
    os.makedirs(directory, exist_ok=True)
    base = os.path.join(directory, stem)
    with open(base + ".jl", "w", encoding="utf-8") as fh:
        fh.write(describe_group(g))
    np.savez(base + ".inputs.npz", **{f"a{k}_{p.name}": np.asarray(c.prog.inputs[p.name])
                                      for k, c in enumerate(g.cases) for p in c.prog.main.params})
    return base + ".jl"


def _flat(prefix: str, v: Any, out: dict[str, np.ndarray]) -> None:
    if isinstance(v, tuple):
        for k, x in enumerate(v, 1):
            _flat(f"{prefix}.{k}", x, out)
    elif isinstance(v, Approx):
        out[prefix] = np.where(v.mask, v.value, np.nan)
    else:
        out[prefix] = np.asarray(v)


def save(result: Result, directory: str, stem: str) -> str:
    """Write the reproducer files; returns the `.jl` path."""
    os.makedirs(directory, exist_ok=True)
    base = os.path.join(directory, stem)
    prog = result.case.prog
    with open(base + ".jl", "w", encoding="utf-8") as fh:
        fh.write(describe(result))
    ref = python_source(prog)
    ref = (f"import sys\nsys.path.insert(0, {_TESTS_DIR!r})\n" + ref
           + "\nif __name__ == '__main__':\n"
           + f"    inputs = np.load({os.path.basename(base) + '.inputs.npz'!r})\n"
           + "    print(main(*(inputs[k][()] if inputs[k].ndim == 0 else inputs[k].copy() for k in "
           + f"{[p.name for p in prog.main.params]!r})))\n")
    with open(base + ".py", "w", encoding="utf-8") as fh:
        fh.write(ref)
    np.savez(base + ".inputs.npz", **{p.name: np.asarray(prog.inputs[p.name]) for p in prog.main.params})
    expected: dict[str, np.ndarray] = {}
    _flat("out", result.case.expected.value, expected)
    np.savez(base + ".expected.npz", **expected)
    return base + ".jl"


def summary(c: Campaign) -> str:
    """Counts by outcome, then the distinct rejection reasons, internal-error kinds and mismatch
    kinds with their counts."""
    counts = c.counts()
    lines = [f"{len(c.results)} programs in {c.seconds:.1f} s: "
             + ", ".join(f"{k} {n}" for k, n in counts.items())]
    if c.gen.discarded:
        lines.append("discarded by the reference (regenerated): "
                     + ", ".join(f"{k} {n}" for k, n in sorted(c.gen.discarded.items())))
    for kind, title in (("rejected", "rejection reasons"), ("internal", "internal errors"),
                        ("mismatch", "mismatches")):
        keys = Counter(r.key for r in c.results if r.kind == kind)
        if keys:
            lines.append(f"{title}:")
            lines += [f"  {n:4d}  {k}" for k, n in keys.most_common()]
    if c.combos:
        lines.append(f"failures only in combination: {len(c.combos)}")
    if c.gen.model_errors:
        lines.append(f"difftest model errors (bugs in the generator or reference): {len(c.gen.model_errors)}")
        lines += ["  " + e[:200] for e in c.gen.model_errors[:10]]
    return "\n".join(lines)

