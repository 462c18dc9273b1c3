"""Compile speed: transpile generated programs of 10, 100 and 1000 small functions, parse →
optimized StableHLO (XLA excluded), and print the time per phase and per function.

Each generated function has a branch, a loop and a call to the previous one, so inference,
dispatch, lowering and the passes all do real work; the entry calls the last, so every function
is specialized and inlined.
Usage: python bench/compile_speed.py [N ...]
"""
from __future__ import annotations

import sys
import time

from jlhlo.frontend.types import parse_type_string

import jlhlo
from jlhlo.api import lower_entry


def generate(n: int) -> str:
    parts = ["f0(x::Float64, k::Int64) = x + k"]
    for i in range(1, n):
        parts.append(f"""
function f{i}(x::Float64, k::Int64)
    y = f{i - 1}(x, k) * {1 + i % 7}.0
    if y > {i}.5
        y = y - {i % 5 + 1}
    else
        y = y / 2
    end
    for j in 1:k
        y += j * 0.5
    end
    return y
end""")
    parts.append(f"main(x::Float64, k::Int64) = f{n - 1}(x, k)")
    return "\n".join(parts) + "\n"


def measure(n: int) -> dict[str, float]:
    source = generate(n)
    t0 = time.perf_counter()
    loaded = jlhlo.load(source, filename=f"gen{n}.jl")
    t1 = time.perf_counter()
    lowered = lower_entry(loaded.program, "main", [parse_type_string("Float64"), parse_type_string("Int64")])
    t2 = time.perf_counter()
    lowered.optimize(2)
    t3 = time.perf_counter()
    return {"parse": t1 - t0, "infer+lower": t2 - t1, "passes": t3 - t2, "total": t3 - t0}


def main(sizes: list[int], repeats: int = 3) -> None:
    measure(10)   # warm up: imports, grammar, prelude parse
    print(f"median of {repeats} runs per size")
    print(f"{'functions':>9} {'parse':>8} {'lower':>8} {'passes':>8} {'total':>8} {'ms/function':>12}")
    for n in sizes:
        runs = sorted((measure(n) for _ in range(repeats)), key=lambda r: r["total"])
        r = runs[len(runs) // 2]
        print(f"{n:>9} {r['parse']:8.3f} {r['infer+lower']:8.3f} {r['passes']:8.3f} {r['total']:8.3f} "
              f"{1000 * r['total'] / n:12.2f}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10, 100, 1000])
