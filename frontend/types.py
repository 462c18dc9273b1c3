"""Julia types as the compiler sees them: concrete types of values, with static shapes.

Every value the compiler handles has one of these concrete types. Abstract types (`Real`,
`AbstractArray`, user `abstract type`s) appear only in method signatures; see dispatch.py.
"""
from __future__ import annotations

import abc
from dataclasses import dataclass

import numpy as np

from ..core.dtypes import SCALARS, ScalarInfo


class JType(abc.ABC):
    """Base of concrete types; subclasses are frozen dataclasses, hashable, usable as cache keys."""

    @abc.abstractmethod
    def julia(self) -> str:
        """The type as Julia prints it."""

    def __str__(self) -> str:
        return self.julia()

    def sized(self) -> str:
        """The type with the sizes of the arrays in it, which jlhlo's types include and Julia's do
        not: `Tuple{3-element Vector{Float64}, Int64}` (for messages where two types print alike)."""
        return self.julia()


@dataclass(frozen=True)
class Scalar(JType):
    name: str                          # Float64, Int32, Bool, ComplexF32, ...

    def julia(self) -> str:
        return self.name

    @property
    def info(self) -> ScalarInfo:
        return SCALARS[self.name]


@dataclass(frozen=True)
class ArrayT(JType):
    # an ArrayT for a vector of arrays (values.ArrayListV); a TupleT, NamedTupleT or StructT for an
    # array of those (values.StructArrayV)
    elt: Scalar | ArrayT | TupleT | NamedTupleT | StructT
    shape: tuple[int, ...]
    # "Adjoint" or "Transpose" for Julia's row vector `v'` / `transpose(v)` of a vector v: a 1×n
    # AbstractMatrix that is not a Matrix, and whose product with a vector is a number
    wrapper: str | None = None

    @property
    def ndims(self) -> int:
        return len(self.shape)

    def julia(self) -> str:
        if self.wrapper:
            return f"{self.wrapper}{{{self.elt.julia()}, Vector{{{self.elt.julia()}}}}}"
        kind = {1: "Vector", 2: "Matrix"}.get(self.ndims)
        return f"{kind}{{{self.elt.julia()}}}" if kind else f"Array{{{self.elt.julia()}, {self.ndims}}}"

    def summary(self) -> str:
        """As Julia's `summary`: `6-element Vector{Float64}`, `3×4 Matrix{Float32}`."""
        if self.wrapper:
            elt = self.elt.julia()
            return f"1×{self.shape[1]} {self.wrapper.lower()}(::Vector{{{elt}}}) with eltype {elt}"
        if self.ndims == 1:
            return f"{self.shape[0]}-element {self.julia()}"
        dims = "×".join(map(str, self.shape)) if self.shape else "0-dimensional"
        return f"{dims} {self.julia()}"

    sized = summary


@dataclass(frozen=True)
class TupleT(JType):
    items: tuple[JType, ...]

    def julia(self) -> str:
        return "Tuple{" + ", ".join(t.julia() for t in self.items) + "}"

    def sized(self) -> str:
        return "Tuple{" + ", ".join(t.sized() for t in self.items) + "}"


@dataclass(frozen=True)
class NamedTupleT(JType):
    names: tuple[str, ...]
    items: tuple[JType, ...]

    def julia(self) -> str:
        return "NamedTuple{(" + ", ".join(f":{n}" for n in self.names) + ",)}"

    def sized(self) -> str:
        return "@NamedTuple{" + ", ".join(f"{n}::{t.sized()}" for n, t in zip(self.names, self.items)) + "}"


@dataclass(frozen=True)
class StructT(JType):
    name: str
    params: tuple                      # type parameters (JTypes or Python ints/bools)
    field_names: tuple[str, ...]
    field_types: tuple[JType, ...]

    def julia(self) -> str:
        if not self.params:
            return self.name
        return self.name + "{" + ", ".join(_param_str(p) for p in self.params) + "}"


@dataclass(frozen=True)
class RangeT(JType):
    elt: Scalar                        # Int64 for 1:n, Float64 for 0.0:0.1:1.0

    def julia(self) -> str:
        return f"StepRange{{{self.elt.name}}}"


@dataclass(frozen=True)
class FunctionT(JType):
    name: str                          # a generic function used as a value: typeof(sin)

    def julia(self) -> str:
        return f"typeof({self.name})"


@dataclass(frozen=True)
class ClosureT(JType):
    lambda_id: int                     # identity of the Lambda node
    captured: tuple[tuple[str, JType], ...]

    def julia(self) -> str:
        return f"var\"#lambda{self.lambda_id}\""


@dataclass(frozen=True)
class TypeT(JType):
    of: object                         # a JType, or an abstract type name (str) for Type{Real}

    def julia(self) -> str:
        return f"Type{{{_param_str(self.of)}}}"


@dataclass(frozen=True)
class SimpleT(JType):
    """Singleton types: Nothing, Colon (a bare `:`), Symbol values, Missing-free singletons."""
    name: str

    def julia(self) -> str:
        return self.name


@dataclass(frozen=True)
class MaybeT(JType):
    """`Union{Nothing, T}`: what `findfirst` returns, or a function that returns `nothing` on one
    path and a `T` on another. At run time a flag says which (values.MaybeV)."""
    inner: JType

    def julia(self) -> str:
        return f"Union{{Nothing, {self.inner.julia()}}}"

    def sized(self) -> str:
        return f"Union{{Nothing, {self.inner.sized()}}}"


NOTHING = SimpleT("Nothing")
COLON = SimpleT("Colon")
SYMBOL = SimpleT("Symbol")


def _param_str(p: object) -> str:
    """A type parameter as Julia writes it: a type, a dispatch pattern (`Vector{Float64}`), a number."""
    if isinstance(p, JType):
        return p.julia()
    if isinstance(p, bool):
        return str(p).lower()
    return p.show() if hasattr(p, "show") else str(p)


# ----------------------------------------------------------------------------- scalars
BOOL, INT64, FLOAT64, FLOAT32 = Scalar("Bool"), Scalar("Int64"), Scalar("Float64"), Scalar("Float32")
# Base's names for other scalar types (the C ones as on a 64-bit Linux machine)
INT_ALIASES = {"Int": "Int64", "UInt": "UInt64", "Cint": "Int32", "Cuint": "UInt32", "Clong": "Int64",
               "Culong": "UInt64", "Clonglong": "Int64", "Culonglong": "UInt64", "Cshort": "Int16",
               "Cushort": "UInt16", "Cchar": "Int8", "Cuchar": "UInt8", "Csize_t": "UInt64", "Cssize_t": "Int64",
               "Cfloat": "Float32", "Cdouble": "Float64"}

_NP_TO_SCALAR = {np.dtype(i.np): i.name for i in SCALARS.values()}


def scalar_from_dtype(dtype: np.dtype) -> Scalar:
    dtype = np.dtype(dtype)
    if dtype not in _NP_TO_SCALAR:
        raise TypeError(f"arrays of dtype {dtype} have no Julia element type here")
    return Scalar(_NP_TO_SCALAR[dtype])


def type_of_array(value: np.ndarray) -> JType:
    """The Julia type of a host input: a 0-d array or NumPy scalar is a scalar."""
    arr = np.asarray(value)
    elt = scalar_from_dtype(arr.dtype)
    return elt if arr.ndim == 0 else ArrayT(elt, tuple(arr.shape))


def promote(a: Scalar, b: Scalar) -> Scalar:
    """Julia's promote_type for the number types we support."""
    if a == b:
        return a
    ia, ib = a.info, b.info
    if ia.is_complex or ib.is_complex:
        width = max(_float_bits(ia), _float_bits(ib))
        return Scalar("ComplexF64" if width == 64 else "ComplexF32")
    if ia.is_float or ib.is_float:
        if ia.is_float and ib.is_float:
            return a if ia.bits >= ib.bits else b
        return a if ia.is_float else b
    if ia.kind == "bool":
        return b
    if ib.kind == "bool":
        return a
    if ia.kind == ib.kind:
        return a if ia.bits >= ib.bits else b
    # signed with unsigned: the larger wins; on a tie, unsigned (as Julia)
    signed, unsigned = (ia, ib) if ia.kind == "int" else (ib, ia)
    return Scalar(signed.name if signed.bits > unsigned.bits else unsigned.name)


def _float_bits(info: ScalarInfo) -> int:
    if info.is_complex:
        return info.bits // 2
    if info.is_float:
        return 64 if info.bits == 64 else 32
    return 0


def real_type(t: Scalar) -> Scalar:
    """The real counterpart of a complex type (`real(ComplexF32) == Float32`)."""
    return {"ComplexF32": FLOAT32, "ComplexF64": FLOAT64}.get(t.name, t)


def float_type(t: Scalar) -> Scalar:
    """`float(T)`: integers become Float64, floats and complex stay."""
    return t if t.info.is_float or t.info.is_complex else FLOAT64


def parse_type_string(text: str) -> JType:
    """`--args` syntax: `Float64`, `Int64`, `Float32[3,4]`, `Bool[5]`."""
    text = text.strip()
    name, _, rest = text.partition("[")
    name = INT_ALIASES.get(name.strip(), name.strip())
    if name not in SCALARS:
        raise ValueError(f"unknown element type {name!r} in {text!r} (expected e.g. Float32[3,4] or Int64)")
    if not rest:
        return Scalar(name)
    if not rest.endswith("]"):
        raise ValueError(f"malformed array type {text!r} (expected e.g. Float32[3,4])")
    dims = [d.strip() for d in rest[:-1].split(",") if d.strip()]
    try:
        shape = tuple(int(d) for d in dims)
    except ValueError:
        raise ValueError(f"array sizes must be integers in {text!r}") from None
    if any(d < 0 for d in shape):
        raise ValueError(f"negative array size in {text!r}")
    return ArrayT(Scalar(name), shape)
