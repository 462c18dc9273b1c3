"""Julia types as the generator sees them, and Julia's static typing rules for the operations it
emits (promotion, arithmetic result types). The reference runtime (`jlref`) recomputes every
result type at run time from the values, so a disagreement between the two is caught as a
generator bug instead of silently producing a program whose types the generator misjudged."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Union

import numpy as np


@dataclass(frozen=True)
class Scalar:
    """A concrete number type: Bool, Int64, Float32 or Float64."""
    name: str

    def julia(self) -> str:
        return self.name

    @property
    def is_float(self) -> bool:
        return self.name in ("Float32", "Float64")

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(DTYPES[self.name])


@dataclass(frozen=True)
class Arr:
    """`Array{elt, N}` with a shape fixed when the program is generated (jlhlo specializes on it)."""
    elt: Scalar
    shape: tuple[int, ...]

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def length(self) -> int:
        return int(np.prod(self.shape))

    def julia(self) -> str:
        if self.ndim == 1:
            return f"Vector{{{self.elt.name}}}"
        if self.ndim == 2:
            return f"Matrix{{{self.elt.name}}}"
        return f"Array{{{self.elt.name}, {self.ndim}}}"

    def with_elt(self, elt: Scalar) -> Arr:
        return Arr(elt, self.shape)


@dataclass(frozen=True)
class Tup:
    items: tuple[JType, ...]

    def julia(self) -> str:
        return "Tuple{" + ", ".join(t.julia() for t in self.items) + "}"


@dataclass(frozen=True)
class Struct:
    """An immutable user struct; `params` are the type parameters of a parametric struct."""
    name: str
    fields: tuple[tuple[str, JType], ...]
    params: tuple[Scalar, ...] = ()

    def julia(self) -> str:
        if self.params:
            return f"{self.name}{{{', '.join(p.name for p in self.params)}}}"
        return self.name

    def field(self, name: str) -> JType:
        return dict(self.fields)[name]


@dataclass(frozen=True)
class NTup:
    """A named tuple `(a = 1.0, b = 2)`: its field names and their types."""
    names: tuple[str, ...]
    items: tuple[JType, ...]

    def julia(self) -> str:
        names = ", ".join(":" + n for n in self.names) + ("," if len(self.names) == 1 else "")
        return f"NamedTuple{{({names}), {Tup(self.items).julia()}}}"


@dataclass(frozen=True)
class SArr:
    """A vector of `n` tuples, named tuples or immutable structs of numbers (Julia stores such
    elements inline; jlhlo as a struct of arrays, one array per number in an element)."""
    elt: Tup | NTup | Struct
    n: int

    def julia(self) -> str:
        return f"Vector{{{self.elt.julia()}}}"


@dataclass(frozen=True)
class Fn:
    """The type of a closure value: callable with `params`, giving `ret`."""
    params: tuple[JType, ...]
    ret: JType

    def julia(self) -> str:
        return "Function"


@dataclass(frozen=True)
class CartIdx:
    """A `CartesianIndex{N}`: the loop variable of `for I in CartesianIndices(A)` (A of `shape`)."""
    shape: tuple[int, ...]

    def julia(self) -> str:
        return f"CartesianIndex{{{len(self.shape)}}}"


JType = Union[Scalar, Arr, Tup, NTup, Struct, SArr, Fn, CartIdx]

DTYPES = {"Bool": np.bool_, "Int64": np.int64, "Float32": np.float32, "Float64": np.float64}
BOOL, INT, F32, F64 = Scalar("Bool"), Scalar("Int64"), Scalar("Float32"), Scalar("Float64")
NUMBERS = (INT, F64, F32)
FLOATS = (F64, F32)

# Julia's promote_type over Bool < Int64 < Float32 < Float64 (a chain for these four types).
_RANK = {"Bool": 0, "Int64": 1, "Float32": 2, "Float64": 3}


def promote(*ts: Scalar) -> Scalar:
    return max(ts, key=lambda t: _RANK[t.name])


def arith_type(op: str, a: Scalar, b: Scalar) -> Scalar:
    """Result type of the scalar operator `a op b` (Julia rules, including Bool's special cases:
    `true + true` is Int64 but `true * true` is Bool; `/` of integers is Float64)."""
    if op == "/":
        p = promote(a, b)
        return p if p.is_float else F64
    if op == "^":
        if b.is_float:
            return promote(a, b) if a.is_float else F64
        return INT if a == BOOL else a
    if op == "*" and a == BOOL and b == BOOL:
        return BOOL
    p = promote(a, b)
    return INT if p == BOOL else p
