"""Loading and compiling many programs in one process leaves memory flat: caches belong to a
program (AST memos), a context (constant attributes) or are bounded (compiled executables).
Measured in a fresh interpreter, so what other tests left behind does not count."""
from __future__ import annotations

import subprocess
import sys

import pytest

SCRIPT = r'''
import gc, os
import jlhlo
from jlhlo.api import flatten_host
from jlhlo.runtime import executable

executable._COMPILED_KEPT = 4
SOURCE = """
function main(a::Float64, n::Int)
    s = 0.0
    for k in 1:n
        s += k > 2 ? a / k : sqrt(abs(a)) + {i}
    end
    return s, [x^2 for x in (a, 2a, 3a)]
end"""

def rss_mib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

def compile_and_run(i):
    f = jlhlo.load(SOURCE.replace("{i}", str(i)), filename=f"p{i}.jl").function("main")
    low = f.lower(1.5, 4)
    low.outputs(low.compile("cpu")(*flatten_host((1.5, 4))))

for i in range(10):                    # warm up: imports, the prelude, allocator pools
    compile_and_run(i)
grown = []
for window in (range(10, 35), range(35, 60)):
    gc.collect()
    before = rss_mib()
    for i in window:
        compile_and_run(i)
    gc.collect()
    grown.append(rss_mib() - before)
print(*grown)
'''


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/statm")
def test_memory_stays_flat_over_many_programs():
    r = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    grown = [float(g) for g in r.stdout.split()[-2:]]
    # Before programs owned their caches this grew by about 0.4 MiB per program, 10 MiB in each
    # window of 25. A leak grows in both windows; the allocator now and then takes ~10 MiB once
    # (seen in about one run in eight, before and after this test was written), which is one window.
    assert min(grown) < 5, f"memory grew by {grown[0]:.1f} and {grown[1]:.1f} MiB over two runs of 25 programs"
