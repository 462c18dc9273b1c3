"""Abstract values: what a variable holds while a specialization is lowered.

A value knows its Julia type exactly. Scalars may be compile-time constants (folded, never
emitted unless needed) or runtime MLIR values; a scalar may be *batched* — one lane per element of
an array — while a user function is broadcast over arrays. Arrays live in a mutable `Box`, so
that `b = a; b[1] = 0` changes what `a` sees, as Julia's reference semantics require.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

from jax.extend.mlir import ir

from . import ast as A
from .types import (
    COLON,
    NOTHING,
    SYMBOL,
    ArrayT,
    ClosureT,
    FunctionT,
    JType,
    NamedTupleT,
    RangeT,
    Scalar,
    SimpleT,
    StructT,
    TupleT,
    TypeT,
)


class Value:
    t: JType


@dataclass(eq=False)
class ScalarV(Value):
    t: Scalar
    const: object = None               # a Python bool/int/float/complex when known at compile time
    ir: ir.Value | None = None         # the runtime value: tensor<batch x elt>
    batch: tuple[int, ...] = ()        # lanes when a scalar function is broadcast over arrays
    interval: tuple[int, int] | None = None   # known bounds of a run-time integer (loop variables)
    offset_of: tuple[ScalarV, int] | None = None   # this integer is (base + k): `i:i+2` has a static length
    lane: tuple[int, int] | None = None   # a vectorized loop variable: (lane dimension, first value), step 1

    @property
    def is_const(self) -> bool:
        return self.const is not None

    def affine(self) -> tuple[ScalarV, int]:
        """(base, k) with self == base + k."""
        return self.offset_of or (self, 0)

    def bounds(self) -> tuple[int, int] | None:
        """The interval this integer is known to lie in, if any."""
        if self.is_const and isinstance(self.const, int):
            return (self.const, self.const)
        return self.interval


@dataclass(eq=False)
class Box:
    """The storage behind an array: every alias of the array shares the box."""
    value: ir.Value


@dataclass(eq=False)
class ArrayV(Value):
    t: ArrayT
    box: Box

    @property
    def ir(self) -> ir.Value:
        return self.box.value


@dataclass(eq=False)
class TupleV(Value):
    t: TupleT
    items: tuple[Value, ...]


@dataclass(eq=False)
class StructV(Value):
    """A struct instance or a named tuple (t is StructT or NamedTupleT)."""
    t: StructT | NamedTupleT
    items: tuple[Value, ...]

    def get(self, name: str) -> Value | None:
        names = self.t.field_names if isinstance(self.t, StructT) else self.t.names
        return self.items[names.index(name)] if name in names else None


@dataclass(eq=False)
class RangeV(Value):
    t: RangeT
    start: ScalarV
    step: ScalarV
    stop: ScalarV                      # normalised: the last element actually reached, as Julia does


@dataclass(eq=False)
class FuncV(Value):
    """A generic function used as a value (`map(sin, x)`, `reduce(+, v)`)."""
    name: str
    t: FunctionT = field(init=False)

    def __post_init__(self) -> None:
        self.t = FunctionT(self.name)


@dataclass(eq=False)
class ClosureV(Value):
    lam: A.Lambda
    captured: dict[str, Value]
    origin: int = 0                    # the lowering that created it (it refreshes captured variables)
    t: ClosureT = field(init=False)

    def __post_init__(self) -> None:
        self.t = ClosureT(id(self.lam), tuple((k, v.t) for k, v in self.captured.items()))


@dataclass(eq=False)
class TypeV(Value):
    of: object                         # a JType, or an abstract type name such as "Real"
    t: TypeT = field(init=False)

    def __post_init__(self) -> None:
        self.t = TypeT(self.of)


@dataclass(eq=False)
class SingletonV(Value):
    t: SimpleT
    name: str = ""                     # the symbol's name for Symbol values


def nothing() -> SingletonV:
    return SingletonV(NOTHING)


def colon() -> SingletonV:
    return SingletonV(COLON)


def symbol(name: str) -> SingletonV:
    return SingletonV(SYMBOL, name)


# ----------------------------------------------------------------------------- flattening
def children(v: Value) -> tuple[Value, ...]:
    if isinstance(v, (TupleV, StructV)):
        return v.items
    if isinstance(v, RangeV):
        return (v.start, v.step, v.stop)
    if isinstance(v, ClosureV):
        return tuple(v.captured.values())
    return ()


def runtime_leaves(v: Value) -> Iterator[Value]:
    """The values that exist at run time (runtime scalars and arrays), in a fixed order."""
    if isinstance(v, ArrayV) or isinstance(v, ScalarV) and not v.is_const:
        yield v
    for c in children(v):
        yield from runtime_leaves(c)


def rebuild(v: Value, replace: dict[int, Value]) -> Value:
    """A copy of `v` whose leaves `id(leaf) in replace` are swapped for new values."""
    if id(v) in replace:
        return replace[id(v)]
    if isinstance(v, TupleV):
        return TupleV(v.t, tuple(rebuild(c, replace) for c in v.items))
    if isinstance(v, StructV):
        return StructV(v.t, tuple(rebuild(c, replace) for c in v.items))
    if isinstance(v, RangeV):
        return RangeV(v.t, *(rebuild(c, replace) for c in (v.start, v.step, v.stop)))
    if isinstance(v, ClosureV):
        return ClosureV(v.lam, {k: rebuild(c, replace) for k, c in v.captured.items()}, v.origin)
    return v


def spec_key(v: Value) -> object:
    """What a specialization depends on: the type, and the value of compile-time constants."""
    if isinstance(v, ScalarV):
        return (v.t, v.const if v.is_const else None, v.is_const, v.batch)
    if isinstance(v, (TupleV, StructV)):
        return (v.t, tuple(spec_key(c) for c in v.items))
    if isinstance(v, RangeV):
        return (v.t, tuple(spec_key(c) for c in children(v)))
    if isinstance(v, ClosureV):
        return (v.t, tuple(spec_key(c) for c in v.captured.values()))
    if isinstance(v, TypeV):
        return (v.t,)
    if isinstance(v, SingletonV):
        return (v.t, v.name)
    return (v.t,)


def describe(v: Value) -> str:
    """The Julia type, plus the constant for compile-time scalars (for --emit typed)."""
    if isinstance(v, ScalarV):
        suffix = f" = {v.const!r}" if v.is_const else ""
        lanes = f" (broadcast over {'×'.join(map(str, v.batch))})" if v.batch else ""
        return f"{v.t.julia()}{suffix}{lanes}"
    if isinstance(v.t, ArrayT):
        return v.t.summary()
    return v.t.julia()


__all__ = ["Value", "ScalarV", "ArrayV", "Box", "TupleV", "StructV", "RangeV", "FuncV", "ClosureV", "TypeV",
           "SingletonV", "nothing", "colon", "symbol", "runtime_leaves", "rebuild", "spec_key", "describe",
           "children"]
