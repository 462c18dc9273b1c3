"""Abstract values: what a variable holds while a specialization is lowered.

A value knows its Julia type exactly. Scalars may be compile-time constants (folded, never
emitted unless needed) or runtime MLIR values; a scalar may be *batched* — one lane per element of
an array — while a user function is broadcast over arrays. Arrays live in a mutable `Box`, so
that `b = a; b[1] = 0` changes what `a` sees, as Julia's reference semantics require.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

from jax.extend.mlir import ir

from . import ast as A
from .diagnostics import Span
from .types import (
    COLON,
    NOTHING,
    SYMBOL,
    ArrayT,
    ClosureT,
    FunctionT,
    JType,
    MaybeT,
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
    # Base's irrational constants (`pi`, `ℯ`): a Float64 here, but arithmetic with a Float32 or
    # Float16 gives that type, as Julia's promotion of an `Irrational` does (scalars.py)
    irrational: bool = False

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
    """The storage behind an array: every alias of the array shares the box.

    Derived boxes stand for storage held elsewhere: a view's window of its parent
    (indexing.ViewBox), an array that is one of two arrays depending on a branch taken
    (merge.CondBox). Their `value` is computed from that storage when read, and writing them goes
    through `write`; loops and branches carry only plain boxes, the `roots` of derived ones."""
    value: ir.Value
    derived = False
    global_name: str | None = None     # set on a global's storage (each use a fresh copy): never written

    def roots(self) -> list[Box]:
        return [self]

    # A derived box is made of run-time values and other boxes: `parts` lists them and `rebuilt`
    # makes the same kind of box from replacements (how a branch carries one out of its arm).
    def parts(self) -> tuple[list[ir.Value], list[Box]]:
        raise TypeError(f"{type(self).__name__} is not derived")

    def rebuilt(self, values: list[ir.Value], boxes: list[Box]) -> Box:
        raise TypeError(f"{type(self).__name__} is not derived")


class Redo(Exception):
    """Not an error: the construct being lowered must be lowered again another way."""


class LaneConflict(Redo):
    """Raised while lowering a computation once for all lanes (a user function broadcast over arrays,
    a comprehension, a vectorized loop nest) where a lane's work cannot be expressed lane-wise: an
    array that would differ per lane, or a per-lane change of an array. The caller lowers it again
    as a loop over the elements."""


class Undef:
    """A name assigned on only some paths through an `if`, or declared by `local x` and not yet
    assigned: using it is an UndefVarError."""

    def __init__(self, span: Span | None, why: str = "it is assigned in only some branches of an `if`"):
        self.span = span
        self.why = why


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
class ArrayListV(Value):
    """A vector of arrays of one type and size (`[a, b]` of vectors is a Vector{Vector{Float64}}):
    its items are the arrays themselves, as in Julia, so writes through `v[i][j]` reach them. Its
    length is static; the items cannot be replaced."""
    t: ArrayT                          # t.elt is the items' ArrayT
    items: tuple[ArrayV, ...]


@dataclass(eq=False)
class StructArrayV(Value):
    """An array whose elements are tuples, named tuples or immutable structs of numbers (`[(x, 2x) for x
    in xs]`, a `Vector{Particle}`), stored as a struct of arrays: `items` holds one array of the
    array's shape per number in an element (the element's leaves, in order; frontend/struct_arrays.py).
    Reading an element reads every item at that index; writing one writes them all."""
    t: ArrayT                          # t.elt is the element's TupleT, NamedTupleT or StructT
    items: tuple[ArrayV, ...]


@dataclass(eq=False)
class StructV(Value):
    """A struct instance or a named tuple (t is StructT or NamedTupleT)."""
    t: StructT | NamedTupleT
    items: tuple[Value, ...]

    def get(self, name: str) -> Value | None:
        names = self.t.field_names if isinstance(self.t, StructT) else self.t.names
        return self.field(names.index(name)) if name in names else None

    def field(self, k: int) -> Value:
        """Field k as the program reads it: a mutable struct's number field lives in a cell, a 0-d
        array (frontend/mutable.py), and reads as the number it holds now."""
        item = self.items[k]
        if isinstance(self.t, StructT) and isinstance(self.t.field_types[k], Scalar) and isinstance(item, ArrayV):
            return ScalarV(self.t.field_types[k], None, item.box.value)
        return item


@dataclass(eq=False)
class RangeV(Value):
    t: RangeT
    start: ScalarV
    step: ScalarV
    stop: ScalarV                      # integers: normalised to the last element reached, as Julia does
    plan: TupleV | None = None         # floats with run-time ends: (length, start_n, step_n, den), see ranges.py

    @property
    def parts(self) -> tuple[Value, ...]:
        return (self.start, self.step, self.stop) + ((self.plan,) if self.plan is not None else ())


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


@dataclass(eq=False)
class MaybeV(Value):
    """A `Union{Nothing, T}` value: `nothing` where the Bool `present` is false, else `value`
    (whose contents are then meaningless placeholders). Calls split on it (unions.py), as Julia's
    compiler splits a small Union: each member's method, chosen by the flag at run time."""
    t: MaybeT
    present: ScalarV
    value: Value

    @property
    def items(self) -> tuple[Value, ...]:
        return (self.present, self.value)


def nothing() -> SingletonV:
    return SingletonV(NOTHING)


def is_nothing(v: object) -> bool:
    return isinstance(v, SingletonV) and v.t == NOTHING


def colon() -> SingletonV:
    return SingletonV(COLON)


def symbol(name: str) -> SingletonV:
    return SingletonV(SYMBOL, name)


# ----------------------------------------------------------------------------- flattening
def children(v: Value) -> tuple[Value, ...]:
    if isinstance(v, (TupleV, StructV, ArrayListV, StructArrayV, MaybeV)):
        return v.items
    if isinstance(v, RangeV):
        return v.parts
    if isinstance(v, ClosureV):
        return tuple(v.captured.values())
    return ()


def runtime_leaves(v: Value) -> Iterator[Value]:
    """The values that exist at run time (runtime scalars and arrays), in a fixed order."""
    if isinstance(v, ArrayV) or isinstance(v, ScalarV) and not v.is_const:
        yield v
    for c in children(v):
        yield from runtime_leaves(c)


def map_leaves(v: Value, fn: Callable[[Value], Value], constants: bool = False) -> Value:
    """A copy of `v` with each runtime leaf (each number and array leaf, with `constants`) replaced
    by `fn(leaf)`, called in `runtime_leaves` order.

    Positional, not keyed by identity: one value may hold the same leaf object twice (`(x, x)`), and
    each occurrence must get its own replacement."""
    if isinstance(v, ArrayV) or isinstance(v, ScalarV) and (constants or not v.is_const):
        return fn(v)
    if isinstance(v, TupleV):
        return TupleV(v.t, tuple(map_leaves(c, fn, constants) for c in v.items))
    if isinstance(v, (StructV, ArrayListV, StructArrayV)):
        return type(v)(v.t, tuple(map_leaves(c, fn, constants) for c in v.items))
    if isinstance(v, MaybeV):
        return MaybeV(v.t, map_leaves(v.present, fn, constants), map_leaves(v.value, fn, constants))
    if isinstance(v, RangeV):
        return RangeV(v.t, *(map_leaves(c, fn, constants) for c in v.parts))
    if isinstance(v, ClosureV):
        return ClosureV(v.lam, {k: map_leaves(c, fn, constants) for k, c in v.captured.items()}, v.origin)
    return v


def fill_leaves(v: Value, new_leaves: Iterable[Value]) -> Value:
    """`v` with its runtime leaves, in order, replaced by `new_leaves`."""
    it = iter(new_leaves)
    return map_leaves(v, lambda _: next(it))


def leaf_pairs(a: Value, b: Value) -> Iterator[tuple[Value, Value]]:
    """Corresponding number and array leaves (constants included) of two values of the same type."""
    if isinstance(a, (ScalarV, ArrayV)):
        yield a, b
        return
    for ca, cb in zip(children(a), children(b)):
        yield from leaf_pairs(ca, cb)


def array_boxes(v: Value) -> Iterator[Box]:
    """The box of every array inside `v` (with repeats, in order)."""
    if isinstance(v, ArrayV):
        yield v.box
    for c in children(v):
        yield from array_boxes(c)


def spec_key(v: Value) -> object:
    """What a specialization depends on: the type, and the value of compile-time constants."""
    if isinstance(v, ScalarV):
        return (v.t, _constant_key(v.const) if v.is_const else None, v.is_const, v.batch, v.irrational)
    if isinstance(v, (TupleV, StructV, ArrayListV, StructArrayV, MaybeV)):
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


def _constant_key(c: object) -> object:
    """A constant as a key that tells -0.0 from 0.0 (equal, and of equal hash, as Python numbers):
    `round(-0.0)` specialized first was reused for `round(0.0)`."""
    if isinstance(c, float):
        return (c, math.copysign(1.0, c))
    if isinstance(c, complex):
        return (c, math.copysign(1.0, c.real), math.copysign(1.0, c.imag))
    return c


def alias_key(values: Iterable[Value]) -> tuple[int, ...]:
    """Which arrays among `values` share storage: for each array, the position of the first array
    with its box. `f!(x, x)` and `f!(x, y)` are different specializations: writes through one
    argument are visible through the other only in the first."""
    first: dict[int, int] = {}
    out: list[int] = []
    for v in values:
        for b in array_boxes(v):
            out.append(first.setdefault(id(b), len(out)))
    return tuple(out)


def describe(v: Value) -> str:
    """The Julia type, plus the constant for compile-time scalars (for --emit typed)."""
    if isinstance(v, ScalarV):
        suffix = f" = {v.const!r}" if v.is_const else ""
        lanes = f" (broadcast over {'×'.join(map(str, v.batch))})" if v.batch else ""
        return f"{v.t.julia()}{suffix}{lanes}"
    if isinstance(v.t, ArrayT):
        return v.t.summary()
    return v.t.julia()


__all__ = ["Value", "ScalarV", "ArrayV", "ArrayListV", "StructArrayV", "Box", "Undef", "Redo", "LaneConflict", "TupleV",
           "StructV", "RangeV", "FuncV", "ClosureV", "TypeV", "SingletonV", "MaybeV", "nothing", "is_nothing", "colon",
           "symbol", "runtime_leaves", "map_leaves", "fill_leaves", "leaf_pairs", "array_boxes", "spec_key",
           "alias_key", "describe", "children"]
