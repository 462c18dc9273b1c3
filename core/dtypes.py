"""The one table of element types: each Julia number type with its MLIR spelling, NumPy dtype, kind
and width. The frontend's types, constant folding, the simplifier and the runtime all read it, so a
new element type is added here once."""
from __future__ import annotations

from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np


@dataclass(frozen=True)
class ScalarInfo:
    name: str                          # Julia's name (BFloat16 only appears after mixed precision)
    kind: str                          # "bool", "int", "uint", "float", "complex"
    bits: int
    mlir: str                          # MLIR element type spelling
    np: type
    digits: int | None = None          # significand bits of a float type

    @property
    def is_float(self) -> bool:
        return self.kind == "float"

    @property
    def is_integer(self) -> bool:
        return self.kind in ("int", "uint", "bool")

    @property
    def is_complex(self) -> bool:
        return self.kind == "complex"

    @property
    def compare_type(self) -> str:
        """The `stablehlo.compare` comparison type for this element type (Bool compares as 0 < 1)."""
        return {"float": "FLOAT", "complex": "FLOAT", "int": "SIGNED"}.get(self.kind, "UNSIGNED")


_TABLE = [
    ScalarInfo("Bool", "bool", 1, "i1", np.bool_),
    ScalarInfo("Int8", "int", 8, "i8", np.int8),
    ScalarInfo("Int16", "int", 16, "i16", np.int16),
    ScalarInfo("Int32", "int", 32, "i32", np.int32),
    ScalarInfo("Int64", "int", 64, "i64", np.int64),
    ScalarInfo("UInt8", "uint", 8, "ui8", np.uint8),
    ScalarInfo("UInt16", "uint", 16, "ui16", np.uint16),
    ScalarInfo("UInt32", "uint", 32, "ui32", np.uint32),
    ScalarInfo("UInt64", "uint", 64, "ui64", np.uint64),
    ScalarInfo("Float16", "float", 16, "f16", np.float16, 11),
    ScalarInfo("Float32", "float", 32, "f32", np.float32, 24),
    ScalarInfo("Float64", "float", 64, "f64", np.float64, 53),
    ScalarInfo("ComplexF32", "complex", 64, "complex<f32>", np.complex64),
    ScalarInfo("ComplexF64", "complex", 128, "complex<f64>", np.complex128),
]
_BF16 = ScalarInfo("BFloat16", "float", 16, "bf16", jnp.bfloat16, 8)

# Julia's number types by name (what programs can write)
SCALARS: dict[str, ScalarInfo] = {i.name: i for i in _TABLE}
# every element type the compiled code may hold, by MLIR spelling
_BY_MLIR: dict[str, ScalarInfo] = {i.mlir: i for i in [*_TABLE, _BF16]}


def element_info(element_type: object) -> ScalarInfo | None:
    """The row of an MLIR element type (an `ir.Type` or its spelling), None if it is not a number."""
    return _BY_MLIR.get(str(element_type))


def numpy_dtype(element_type: object) -> np.dtype | None:
    """The NumPy dtype of an MLIR element type, or None for a type NumPy cannot hold."""
    info = element_info(element_type)
    return None if info is None else np.dtype(info.np)


def host_readable(dtype: np.dtype | None) -> bool:
    """Whether the MLIR bindings can turn a dense constant of this dtype into a NumPy array.

    They read bool, integers and IEEE floats through the buffer protocol, but not bf16 or complex.
    """
    return dtype is not None and dtype.kind in "biuf"


def exact_float_widening(source: object, target: object) -> bool:
    """Whether converting between these float element types is exact: a wider type with at least as
    many significand bits (f16 -> f32, bf16 -> f64; not f16 <-> bf16)."""
    a, b = element_info(source), element_info(target)
    return a is not None and b is not None and a.is_float and b.is_float and a.bits < b.bits \
        and a.digits <= b.digits
