"""jlhlo: compile a Julia subset to StableHLO and run it through XLA."""
from .api import Function, LoadedProgram, Lowered, UsageError, load
from .interop import to_jax

__all__ = ["load", "LoadedProgram", "Function", "Lowered", "UsageError", "to_jax"]
