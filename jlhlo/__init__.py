"""jlhlo: compile a Julia subset to StableHLO and run it through XLA."""
from .api import Function, LoadedProgram, Lowered, UsageError, initialize_distributed, load
from .interop import to_jax

__all__ = ["load", "LoadedProgram", "Function", "Lowered", "UsageError", "initialize_distributed", "to_jax"]
