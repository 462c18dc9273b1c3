"""The one mapping between MLIR element types and NumPy dtypes, shared by constant folding and the runtime."""
from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jax.extend.mlir import ir

# Keyed by the printed element type: every builtin type we meet prints uniquely, and a table reads
# better than a chain of isinstance checks. `i1` is Julia's Bool.
_DTYPES: dict[str, np.dtype] = {
    name: np.dtype(dtype)
    for name, dtype in {
        "i1": np.bool_,
        "i8": np.int8, "i16": np.int16, "i32": np.int32, "i64": np.int64,
        "ui8": np.uint8, "ui16": np.uint16, "ui32": np.uint32, "ui64": np.uint64,
        "f16": np.float16, "bf16": jnp.bfloat16, "f32": np.float32, "f64": np.float64,
        "complex<f32>": np.complex64, "complex<f64>": np.complex128,
    }.items()
}


def numpy_dtype(element_type: ir.Type) -> np.dtype | None:
    """The NumPy dtype of an MLIR element type, or None for a type NumPy cannot hold."""
    return _DTYPES.get(str(element_type))


def host_readable(dtype: np.dtype | None) -> bool:
    """Whether the bindings can turn a dense constant of this dtype into a NumPy array.

    They read bool, integers and IEEE floats through the buffer protocol, but not bf16 or complex.
    """
    return dtype is not None and dtype.kind in "biuf"
