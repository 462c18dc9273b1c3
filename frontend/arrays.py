"""Array construction and layout: literals, comprehensions, ranges collected into vectors,
column-major reshape, matrix products and concatenation."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from jax.extend.mlir.dialects import stablehlo as hlo

from ..core import builder as B
from . import ast as A
from . import hlo as H
from .ranges import collect_range
from .scalars import check_integral_elements, convert_scalar
from .struct_arrays import from_elements, is_record
from .types import INT64, ArrayT, promote
from .values import ArrayListV, ArrayV, Box, LaneConflict, RangeV, ScalarV, Value

if TYPE_CHECKING:
    from .context import Lowering


def vect(fl: Lowering, items: list[Value], node: A.Node) -> Value:
    """`[a, b, c]` of numbers: a vector of the promoted element type; of arrays, a vector of them; of
    tuples or structs, a struct of arrays (struct_arrays.py)."""
    if not items:
        raise fl.error("`[]` is a Vector{Any} in Julia, which jlhlo does not support; write `Float64[]` (or "
                       "another element type) for an empty vector of numbers", node)
    if all(isinstance(i, ArrayV) for i in items):
        return array_list(fl, items, node)
    if all(is_record(i) for i in items):
        return from_elements(fl, items, node)
    if any(isinstance(i, (ArrayV, RangeV, ArrayListV)) for i in items):
        raise fl.error("`[a, b]` of arrays is a vector of arrays in Julia; jlhlo supports it when every item is an "
                       "array (not a range or a number); to concatenate, write `[a; b]` or `vcat(a, b)`", node)
    if not all(isinstance(i, ScalarV) for i in items):
        raise fl.error("array literals of non-numbers are not supported", node)
    t = items[0].t
    for i in items[1:]:
        t = promote(t, i.t)
    items = [convert_scalar(fl, i, t, node) for i in items]
    if any(i.batch for i in items):
        raise LaneConflict()           # an array per lane
    if all(i.is_const for i in items):
        return ArrayV(ArrayT(t, (len(items),)), Box(H.array_constant(t, np.array([i.const for i in items],
                                                                                  dtype=t.info.np))))
    parts = [B.reshape(fl.materialize(i), (1,)) for i in items]
    return ArrayV(ArrayT(t, (len(items),)), Box(hlo.concatenate(parts, 0)))


def array_list(fl: Lowering, items: list[ArrayV], node: A.Node) -> ArrayListV:
    """`[a, b]` of arrays: a Vector of them, not copies. As Julia converts items to the promoted
    element type, those of another element type are converted copies."""
    if len({i.t.shape for i in items}) != 1:
        raise fl.error("a vector of arrays of different sizes (" + ", ".join(i.t.summary() for i in items) + ") is not "
                       "supported: jlhlo needs one size for all the items of a vector of arrays", node)
    t = items[0].t.elt
    for i in items[1:]:
        t = promote(t, i.t.elt)
    items = [i if i.t.elt == t else ArrayV(ArrayT(t, i.t.shape), Box(H.convert(i.ir, t))) for i in items]
    return ArrayListV(ArrayT(items[0].t, (len(items),)), tuple(items))


class _SameStorageBox(Box):
    """An array that is another one's storage read another way (Julia's reshape, transpose and
    adjoint share memory with their argument): `read` gives this array from the parent's contents,
    `unread` the parent's contents from this array's, and writes go through to the parent."""
    derived = True

    def __init__(self, parent: ArrayV, how: object):
        self.parent, self.how = parent, how

    def roots(self) -> list[Box]:
        return self.parent.box.roots()

    def parts(self) -> tuple[list, list[Box]]:
        return [], [self.parent.box]

    def rebuilt(self, values: list, boxes: list[Box]) -> _SameStorageBox:
        return type(self)(ArrayV(self.parent.t, boxes[0]), self.how)

    @property
    def value(self):
        return self.read(self.parent.box.value)

    @value.setter
    def value(self, _) -> None:
        raise AssertionError("an array sharing another's storage is written through Lowering.write")

    def write(self, fl: Lowering, new, node: A.Node | None) -> None:
        fl.write(self.parent, self.unread(new), node)


class ReshapeBox(_SameStorageBox):
    """`reshape(x, dims)` and `vec(x)`: x read in another shape (`how`), column-major order kept."""

    def read(self, v):
        return _colmajor(v, self.parent.t.elt, self.how)

    def unread(self, new):
        return _colmajor(new, self.parent.t.elt, self.parent.t.shape)


class AdjointBox(_SameStorageBox):
    """`transpose(x)` and `x'`: x transposed (a vector as a 1×n row), conjugated when `how` says so
    (the adjoint of complex numbers)."""

    def _flip(self, v, shape: tuple[int, ...]):
        v = B.reshape(v, shape) if len(shape) != 2 or len(B.shape(v)) != 2 else hlo.transpose(v, [1, 0])
        return hlo.complex(hlo.real(v), hlo.negate(hlo.imag(v))) if self.how else v

    def read(self, v):
        shape = self.parent.t.shape
        return self._flip(v, (1, shape[0]) if len(shape) == 1 else shape[::-1])

    def unread(self, new):
        return self._flip(new, self.parent.t.shape)


def _colmajor(v, elt, shape: tuple[int, ...]):
    return reshape_colmajor(None, ArrayV(ArrayT(elt, tuple(B.shape(v))), Box(v)), shape).ir


def adjoint_view(x: ArrayV, conj: bool) -> ArrayV:
    """`transpose(x)` (conj False) or `adjoint(x)` of a vector or matrix, sharing x's storage. Of a
    vector, a row vector (`ArrayT.wrapper`); of such a row, the vector again (Julia unwraps
    `adjoint(v')`, and either of a real row), else an n×1 matrix (`transpose(v')` of complex v)."""
    wrapper = "Adjoint" if conj else "Transpose"
    if x.t.wrapper and (x.t.wrapper == wrapper or not x.t.elt.info.is_complex):
        column = ArrayV(ArrayT(x.t.elt, x.t.shape[::-1]), AdjointBox(x, conj and x.t.elt.info.is_complex))
        return shared_reshape(column, (x.t.shape[1],))
    if x.t.ndims == 1:
        return ArrayV(ArrayT(x.t.elt, (1, x.t.shape[0]), wrapper), AdjointBox(x, conj and x.t.elt.info.is_complex))
    return ArrayV(ArrayT(x.t.elt, x.t.shape[::-1]), AdjointBox(x, conj and x.t.elt.info.is_complex))


def row_wrapper(values: list[Value]) -> str | None:
    """The wrapper of a result that Julia keeps a row vector: of a broadcast or `hcat` whose arrays
    are all rows of the same wrapper (`v' .+ 1`, `[v' 2.0]`), the others numbers; else None."""
    wrappers = {v.t.wrapper if isinstance(v, ArrayV) else "number" if isinstance(v, ScalarV) else None
                for v in values}
    wrappers.discard("number")
    return wrappers.pop() if len(wrappers) == 1 and None not in wrappers else None


def as_row(x: Value, wrapper: str | None) -> Value:
    """x (a 1×n array) typed as a row vector of that wrapper, sharing its storage; x if None."""
    if wrapper is None or not isinstance(x, ArrayV) or x.t.ndims != 2 or x.t.shape[0] != 1:
        return x
    return ArrayV(ArrayT(x.t.elt, x.t.shape, wrapper), x.box)


def shared_reshape(x: ArrayV, shape: tuple[int, ...]) -> ArrayV:
    """`reshape(x, shape)`: an array of that shape sharing x's storage."""
    return ArrayV(ArrayT(x.t.elt, shape), ReshapeBox(x, shape))


def reshape_colmajor(fl: Lowering, x: ArrayV, shape: tuple[int, ...]) -> ArrayV:
    """Julia's reshape keeps column-major element order; StableHLO's is row-major, so reverse the
    dimension order around it."""
    src = x.t.shape
    if src == tuple(shape):
        return ArrayV(x.t, Box(x.ir))
    value = x.ir
    if len(src) > 1:
        value = hlo.transpose(value, list(range(len(src)))[::-1])
    value = B.reshape(value, tuple(shape)[::-1])
    if len(shape) > 1:
        value = hlo.transpose(value, list(range(len(shape)))[::-1])
    return ArrayV(ArrayT(x.t.elt, tuple(shape)), Box(value))


def matmul(fl: Lowering, a: ArrayV, b: ArrayV, node: A.Node) -> Value:
    """`*` of arrays: matrix·matrix, matrix·vector, and row·vector (`v' * w`, a scalar)."""
    t = promote(a.t.elt, b.t.elt)
    av, bv = H.convert(a.ir, t), H.convert(b.ir, t)
    sa, sb = a.t.shape, b.t.shape
    if len(sa) > 2 or len(sb) > 2:
        raise fl.error(f"MethodError: `*` is not defined for arrays of {len(sa)} and {len(sb)} dimensions", node)
    inner_a = sa[1] if len(sa) == 2 else 1
    if sb[0] != inner_a:
        raise fl.error(f"DimensionMismatch: matrix A has dimensions {_dims(sa)}, matrix B has dimensions "
                       f"{_dims(sb)}: A's columns ({inner_a}) must match B's rows ({sb[0]})", node)
    outer_broadcast = len(sa) == 1 and b.t.wrapper is not None
    if len(sa) == 1:            # vector * row (an outer product)
        av = B.reshape(av, (sa[0], 1))
        sa = (sa[0], 1)
    out_shape = (sa[0],) + sb[1:]
    if len(sb) == 2 and sa == sb and sa in ((2, 2), (3, 3)):
        # Julia writes these products out (`matmul2x2!`, `matmul3x3!`): A[i,1]*B[1,j] + A[i,2]*B[2,j]
        # (+ A[i,3]*B[3,j]), summed left to right from the first product, so -0.0 stays -0.0
        n = sa[0]
        terms = [hlo.multiply(B.broadcast(B.slice_(av, [0, k], [n, k + 1]), (n, n)),
                              B.broadcast(B.slice_(bv, [k, 0], [k + 1, n]), (n, n))) for k in range(n)]
        value = terms[0]
        for term in terms[1:]:
            value = hlo.add(value, term)
        return ArrayV(ArrayT(t, out_shape), Box(value))
    value = B.dot_general(av, bv, ([1], [0]), ([], []), out_shape)
    if B.is_float(value) and not outer_broadcast:
        # BLAS (gemm, gemv, dot) sums products into a zeroed result, so a sum of -0.0 products comes
        # out +0.0; XLA's dot may keep -0.0 (difftest seed 3022: 1/(-0.0) was -Inf where Julia has
        # Inf). Julia's `u * v'` is `broadcast(*, u, v)`, which keeps the product's sign.
        # Adding +0.0 does it: jlhlo's simplifier keeps `x + 0.0` (not an identity for -0.0) and
        # mlir_passes/ieee_exact hides the zero from XLA's folding; its gradient is the identity.
        value = hlo.add(value, B.zeros(value.type))
    if a.t.wrapper and len(sb) == 1:          # row * vector: a number
        return ScalarV(t, None, B.reshape(value, ()))
    if len(out_shape) == 2 and not t.info.is_complex and _gram(a, b):
        # Julia's `A' * A` and `A * A'` are BLAS syrk: the upper triangle, mirrored, so the result is
        # exactly symmetric (`issymmetric`, `cholesky` test that); one dot_general need not be
        rows, cols = (H.iota(INT64, out_shape, d) for d in (0, 1))
        value = hlo.select(H.compare("LE", rows, cols, "int"), value, hlo.transpose(value, [1, 0]))
    return ArrayV(ArrayT(t, out_shape, a.t.wrapper), Box(value))     # v' * A is still a row


def _gram(a: ArrayV, b: ArrayV) -> bool:
    """`A' * A` or `A * A'` (also with `transpose`) of one matrix."""
    return (isinstance(a.box, AdjointBox) and a.box.parent.box is b.box
            or isinstance(b.box, AdjointBox) and b.box.parent.box is a.box)


def _dims(shape) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def concatenate(fl: Lowering, items: list[Value], dim: int, node: A.Node) -> ArrayV:
    """hcat (dim 1), vcat (dim 0), cat(dims=d+1): numbers count as 1-element vectors, vectors as
    columns when concatenated along the second dimension."""
    arrays = []
    for it in items:
        if isinstance(it, RangeV):
            it = collect_range(fl, it, node)
        if isinstance(it, ScalarV):
            it = ArrayV(ArrayT(it.t, (1,)), Box(B.reshape(fl.materialize(it), (1,))))
        if not isinstance(it, ArrayV):
            raise fl.error(f"cannot concatenate a value of type {it.t.julia()}", node)
        arrays.append(it)
    nd = max(max(a.t.ndims for a in arrays), dim + 1)
    t = arrays[0].t.elt
    for a in arrays[1:]:
        t = promote(t, a.t.elt)
    parts, shapes = [], []
    for a in arrays:
        shape = a.t.shape + (1,) * (nd - a.t.ndims)
        shapes.append(shape)
        parts.append(B.reshape(H.convert(a.ir, t), shape))
    for s in shapes[1:]:
        if any(x != y for i, (x, y) in enumerate(zip(s, shapes[0])) if i != dim):
            raise fl.error(f"DimensionMismatch: cannot concatenate arrays of sizes {_dims(shapes[0])} and {_dims(s)} "
                           f"along dimension {dim + 1}", node)
    out_shape = list(shapes[0])
    out_shape[dim] = sum(s[dim] for s in shapes)
    value = hlo.concatenate(parts, dim) if len(parts) > 1 else parts[0]
    wrapper = row_wrapper(items) if dim == 1 and len(out_shape) == 2 else None
    return ArrayV(ArrayT(t, tuple(out_shape), wrapper), Box(value))


__all__ = ["vect", "reshape_colmajor", "shared_reshape", "ReshapeBox", "AdjointBox", "adjoint_view", "matmul",
           "concatenate", "fit_to_shape", "write_into_array", "row_wrapper", "as_row"]


def fit_to_shape(fl: Lowering, v: Value, dest: ArrayT, node: A.Node):
    """The ir value of `v` converted to dest's element type and broadcast to dest's shape
    (what `dest .= v` stores)."""
    v = as_array(fl, v, node)
    if isinstance(v, ScalarV):
        if v.batch:
            raise LaneConflict()       # a value per lane stored into one array
        return B.broadcast(fl.materialize(convert_scalar(fl, v, dest.elt, node, exact=dest.elt.info.is_integer)),
                           dest.shape)
    if not isinstance(v, ArrayV):
        raise fl.error(f"cannot assign a value of type {v.t.julia()} into an array", node)
    src = v.t.shape
    if len(src) > len(dest.shape) or any(s not in (1, d) for s, d in zip(src, dest.shape)):
        shown = lambda s: "(" + ", ".join(map(str, s)) + ("," if len(s) == 1 else "") + ")"   # noqa: E731
        raise fl.error(f"DimensionMismatch: array could not be broadcast to match destination: source has size "
                       f"{shown(src)}, destination {shown(dest.shape)}", node)
    if v.t.elt.info.is_float and dest.elt.info.is_integer and dest.elt.info.kind != "bool":
        check_integral_elements(fl, v.ir, v.t.elt, dest.elt, node)      # Julia's convert: InexactError
    value = H.convert(v.ir, dest.elt)
    if src != dest.shape:
        value = B.broadcast(value, dest.shape)
    return value


def write_into_array(fl: Lowering, dest: Value, v: Value, node: A.Node) -> None:
    if not isinstance(dest, ArrayV):
        raise fl.error(f"`.=` needs an array on the left, got {dest.t.julia()}", node)
    fl.write(dest, fit_to_shape(fl, v, dest.t, node), node)


def as_array(fl: Lowering, v: Value, node: A.Node) -> Value:
    """Ranges take part in broadcasting as the vectors they stand for."""
    if isinstance(v, RangeV):
        return collect_range(fl, v, node)
    return v
