"""Reverse-mode automatic differentiation of StableHLO functions, as a module transformation.

`build_vjp(module, "f", wrt)` adds `@f_vjp(args..., result cotangents...) -> (results..., arg
cotangents...)`. The rules (`rules.py`) only emit ops that have rules themselves, so VJPs can be
differentiated again (second derivatives).
"""
from __future__ import annotations

from jax.extend.mlir import ir

from .errors import ADError
from .reverse import ModuleAD


def build_vjp(module: ir.Module, func_name: str, wrt: list[bool], replay: bool = False) -> str:
    """Add to `module` a private func `@<func_name>_vjp` with signature
    (original args..., cotangents of each original result...) -> (original results..., cotangent of
    each arg i with wrt[i] True) and return its name.

    The cotangent of an integer/bool result is taken but ignored (pass zeros); an integer/bool
    argument's cotangent is zero. Functions called with func.call are differentiated too (each
    gets its own `_vjp` with respect to all arguments, built once per module). Raises ADError for
    an op on the gradient path that cannot be differentiated. `replay`: the function's forward pass
    has run already (Zygote's `pullback` then `back`), so the VJP leaves out its prints.
    """
    with module.context, ir.Location.unknown():
        return ModuleAD(module).vjp_of(func_name, list(wrt), silent=replay)


__all__ = ["ADError", "build_vjp"]
