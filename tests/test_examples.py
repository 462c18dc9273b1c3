"""The README's example commands and the example scripts run end to end."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.parametrize("script", ["run_newton.py", "run_train_mlp.py"])
def test_example_script(script):
    r = subprocess.run([sys.executable, os.path.join(ROOT, "examples", script)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_readme_transpile_command():
    r = subprocess.run([sys.executable, "-m", "jlhlo.cli", os.path.join(ROOT, "examples", "newton.jl"),
                        "--entry", "newton_sqrt", "--args", "Float64"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("stablehlo.while") == 1 and r.stdout.count("func.func") == 1 and "@main" in r.stdout
