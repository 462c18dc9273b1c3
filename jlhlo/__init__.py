"""jlhlo: compile a Julia subset to StableHLO and run it through XLA."""
from .api import Function, LoadedProgram, Lowered, UsageError, load

__all__ = ["load", "LoadedProgram", "Function", "Lowered", "UsageError"]
