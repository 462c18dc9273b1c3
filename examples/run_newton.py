"""Run examples/newton.jl through the Python API and check it against math.sqrt."""
import math
import os

import jlhlo

prog = jlhlo.load(os.path.join(os.path.dirname(__file__), "newton.jl"))
root, iterations = prog.function("newton_sqrt")(2.0)
print(f"sqrt(2) = {float(root):.15f} after {int(iterations)} iterations (math.sqrt: {math.sqrt(2):.15f})")
assert abs(float(root) - math.sqrt(2)) < 1e-12
