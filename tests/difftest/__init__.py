"""Differential testing of jlhlo with random Julia programs (Csmith-style).

- `features`: construct categories and their weights (switchable; `CI_OFF` for the CI test).
- `gen` (statements, functions, programs) on `gen_expr` (typed expressions): a seeded generator of
  well-typed, well-defined programs inside the subset, as a small structured model (`model`, with
  Julia types from `jtypes`) so they can be rendered and shrunk.
- `render`: the model as Julia source, and as an independent Python reference running on `jlref`,
  a NumPy model of Julia's semantics written from Julia's documentation, never from jlhlo's code.
- `reference`: evaluates the reference (and finite differences for gradient checks); discards
  programs whose answer would be undefined in Julia or fragile under rounding.
- `runner`: compiles batches of programs with jlhlo at -O0/-O1/-O2 in worker processes, bisects
  failing batches, and classifies each program as ok / mismatch / rejected / internal (`compare`
  checks values, dtypes and shapes).
- `shrink`: reduces a failing program to a minimal one that fails the same way; `report` describes
  and saves reproducers.

Only `runner` imports jlhlo (in its worker processes), so the generator and the reference stay
independent of the compiler. Entry points: `tests/test_difftest.py` and `bench/difftest.py`.
"""
