"""Differential testing of jlhlo with random programs: `python bench/difftest.py --seed S --count N`.

Generates N well-defined Julia programs (seeded), compiles each with jlhlo at the chosen -O levels,
compares with an independent NumPy reference of Julia's semantics and prints the counts by outcome
(ok / mismatch / rejected / internal) with the distinct rejection reasons and internal-error kinds.
`--save DIR` writes every failing program as DIR/<outcome>_<n>.jl with its inputs and expected
answer (`.py`, `.inputs.npz`, `.expected.npz`); `--shrink` first reduces each to a minimal program
that fails the same way. `--features` switches construct categories off/on or reweights them
(`--features -structs,while=3,size=0.5`; `--list-features` shows them).
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "tests"))

from difftest import report  # noqa: E402
from difftest.features import CATALOG, CI_OFF, Features  # noqa: E402
from difftest.runner import LEVELS, Pool, run_campaign  # noqa: E402
from difftest.shrink import shrink, shrink_group  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--first", type=int, default=0, help="start at this program number (continue an earlier run)")
    ap.add_argument("--opt", default=",".join(map(str, LEVELS)), help="optimization levels, e.g. 0,2")
    ap.add_argument("--features", default="", help="e.g. -structs,+gradients,while=3,size=0.5")
    ap.add_argument("--ci", action="store_true", help="start from the CI feature set (tests/test_difftest.py)")
    ap.add_argument("--save", metavar="DIR", help="write each failing program to DIR")
    ap.add_argument("--shrink", action="store_true", help="minimize failing programs before saving/showing")
    ap.add_argument("--shrink-time", type=float, default=120.0, help="seconds per program (default 120)")
    ap.add_argument("--batch", type=int, default=10, help="programs per compiled file")
    ap.add_argument("--workers", type=int, default=None, help="compiler processes (default: one per core)")
    ap.add_argument("--show", type=int, default=0, help="print the first N failing programs")
    ap.add_argument("--only", default="mismatch,rejected,internal",
                    help="outcomes to shrink, show and save (default: all failures)")
    ap.add_argument("--program", default="", help="run only these generator seeds (comma-separated; a saved "
                    "program's header names its seed), e.g. to shrink one")
    ap.add_argument("--list-features", action="store_true")
    args = ap.parse_args(argv)
    if args.list_features:
        for name, (w, what) in CATALOG.items():
            off = f"  [off in CI: {CI_OFF[name]}]" if name in CI_OFF else ""
            print(f"{name:28s} {w:4.1f}  {what}{off}")
        return 0
    try:
        features = Features.parse(args.features, Features.ci() if args.ci else None)
    except ValueError as e:
        ap.error(str(e))
    levels = tuple(int(x) for x in args.opt.split(","))
    seeds = [int(x) for x in args.program.split(",") if x]
    camp = run_campaign(args.seed, args.count, features, levels, args.batch, args.workers, seeds, args.first)
    print(report.summary(camp))
    failures = [r for r in camp.failures() if r.kind in args.only.split(",")]
    if args.shrink and failures:
        with Pool(args.workers) as pool:
            for k, r in enumerate(failures):
                print(f"shrinking {k + 1}/{len(failures)} ({r.kind}: {r.key}) ...", flush=True)
                failures[k] = shrink(r.case, r, pool, args.shrink_time)
            for k, g in enumerate(camp.combos):
                print(f"shrinking combination {k + 1}/{len(camp.combos)} ...", flush=True)
                camp.combos[k] = shrink_group(g, pool, args.shrink_time)
    for k, r in enumerate(failures[: args.show]):
        print(f"\n----- {k + 1}: {r.kind}")
        print(report.describe(r))
    if args.save:
        for n, r in enumerate(failures, 1):
            report.save(r, args.save, f"{r.kind}_{n}")
        for n, g in enumerate(camp.combos, 1):
            report.save_group(g, args.save, f"combination_{n}")
        print(f"saved {len(failures)} programs to {args.save}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
