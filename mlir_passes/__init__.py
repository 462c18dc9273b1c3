"""Optimization passes over StableHLO modules: upstream MLIR passes plus our own Python passes."""
from .pipeline import PASSES, PipelineError, op_counts, optimize

__all__ = ["PASSES", "PipelineError", "op_counts", "optimize"]
