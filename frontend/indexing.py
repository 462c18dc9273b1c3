"""Indexing and indexed assignment with Julia's rules: 1-based, `end`, `:`, ranges, vectors of
indices, linear indexing in column-major order. Static indices lower to `slice`; run-time ones to
`dynamic_slice` / `dynamic_update_slice`. A constant index out of bounds is a compile-time
BoundsError."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import numpy as np
from jax.extend.mlir import ir
from jax.extend.mlir.dialects import stablehlo as hlo

from ..core import builder as B
from . import ast as A
from . import hlo as H
from .arrays import fit_to_shape, reshape_colmajor, vect, write_into_array
from .diagnostics import StaticValueNeeded
from .dispatch import select_method
from .merge import CondBox
from .mutable import set_field
from .ranges import collect_range, range_element, range_length
from .scalars import arith, convert_scalar, get_field
from .struct_arrays import build_element, convert_element
from .types import BOOL, INT64, ArrayT, Scalar, StructT, TupleT
from .unions import checked_member
from .values import (
    ArrayListV,
    ArrayV,
    Box,
    LaneConflict,
    RangeV,
    ScalarV,
    SingletonV,
    StructArrayV,
    StructV,
    TupleV,
    TypeV,
    Value,
    leaf_pairs,
    map_leaves,
)

if TYPE_CHECKING:
    from .context import Lowering


def lower_index(fl: Lowering, e: A.Index) -> Value:
    obj = fl.expr(e.obj)
    if isinstance(obj, TypeV) and isinstance(obj.of, Scalar):     # Float32[1, 2]: a typed array literal
        items = [fl.expr(i) for i in e.indices]
        if not items:
            return ArrayV(ArrayT(obj.of, (0,)), Box(H.constant(obj.of, 0, (0,))))
        return vect(fl, [convert_scalar(fl, i, obj.of, e) if isinstance(i, ScalarV) else i for i in items], e)
    idxs = _index_args(fl, obj, e)
    if fl.views and isinstance(obj, ArrayV) and not all(isinstance(i, ScalarV) for i in idxs):
        return make_view(fl, obj, idxs, e)          # inside @views / @view: a slice is a view
    return index_value(fl, obj, idxs, e)


class ViewBox(Box):
    """The storage of a view (`view(x, 2:3, :)`, `@views x[2:3]`): a window of its parent's storage.
    Reading it slices the parent's current contents; Lowering.write of a view writes the
    window into the parent. Loops and branches carry the parent's storage (its `roots`)."""
    derived = True

    def __init__(self, fl: Lowering, parent: ArrayV, planned: tuple[int, ...], dims: list[DimIndex],
                 shape: tuple[int, ...]):
        self.fl, self.parent, self.planned, self.dims, self.shape = fl, parent, planned, dims, shape

    def roots(self) -> list[Box]:
        return self.parent.box.roots()

    def parts(self) -> tuple[list[ir.Value], list[Box]]:
        values = [v for d in self.dims for v in (None if d.start.is_const else d.start.ir, d.positions)
                  if v is not None]
        return values, [self.parent.box]

    def rebuilt(self, values: list[ir.Value], boxes: list[Box]) -> ViewBox:
        it = iter(values)
        dims = [dataclasses.replace(d, start=d.start if d.start.is_const else ScalarV(INT64, None, next(it)),
                                    positions=None if d.positions is None else next(it)) for d in self.dims]
        parent = ArrayV(self.parent.t, boxes[0])
        return ViewBox(self.fl, parent, self.planned, dims, self.shape)

    @property
    def value(self) -> ir.Value:
        return B.reshape(_gather_window(self.fl, self._parent_planned(), self.dims), self.shape)

    @value.setter
    def value(self, _: ir.Value) -> None:
        raise AssertionError("a view is written through Lowering.write, which updates its parent")

    def _parent_planned(self) -> ArrayV:
        """The parent as the window's dimensions see it (linear indexing reshapes it)."""
        parent = ArrayV(self.parent.t, Box(self.parent.ir))
        if self.planned == parent.t.shape:
            return parent
        return reshape_colmajor(self.fl, parent, self.planned)

    def write(self, fl: Lowering, new: ir.Value, node: A.Node | None) -> None:
        arr = self._parent_planned()
        update = B.reshape(new, tuple(d.size for d in self.dims))
        if any(d.stride != 1 or d.positions is not None for d in self.dims):
            stored = _scatter_points(self.fl, arr, self.dims, update)
        else:
            stored = hlo.dynamic_update_slice(arr.ir, update, [self.fl.materialize(d.start) for d in self.dims])
        if arr.t.shape != self.parent.t.shape:
            stored = reshape_colmajor(self.fl, ArrayV(arr.t, Box(stored)), self.parent.t.shape).ir
        fl.write(self.parent, stored, node)


def make_view(fl: Lowering, obj: Value, idxs: list[Value], node: A.Node) -> ArrayV:
    """`view(x, idxs...)`: an array that shares x's storage."""
    if not isinstance(obj, ArrayV):
        raise fl.error(f"view: cannot make a view of a value of type {obj.t.julia()}", node)
    if any(isinstance(i, ScalarV) and i.batch for i in idxs):
        raise LaneConflict()
    arr, dims = _plan(fl, obj, idxs, node)
    if any(d.mask is not None for d in dims):
        raise fl.error("views indexed by Bool masks are not supported (ranges, `:`, integers and index vectors "
                       "are)", node)
    shape = tuple(d.size for d in dims if not d.drop)
    return ArrayV(ArrayT(arr.t.elt, shape), ViewBox(fl, obj, arr.t.shape, dims, shape))


def _index_args(fl: Lowering, obj: Value, e: A.Index) -> list[Value]:
    if any(isinstance(ix, A.Splat) for ix in e.indices):
        # `A[I...]` with a tuple or short array of indices: its items, in order (an `end` among
        # them could not tell its dimension before the splat is expanded, so it is refused there)
        fl.index_stack.append((obj, None, None))
        try:
            return list(fl.splat_args(e.indices))
        finally:
            fl.index_stack.pop()
    out = []
    for d, ix in enumerate(e.indices):
        fl.index_stack.append((obj, d, len(e.indices)))
        try:
            v = checked_member(fl, fl.expr(ix), ix, "ArgumentError: unable to check bounds for indices of type Nothing")
        finally:
            fl.index_stack.pop()
        if isinstance(v, StructV) and isinstance(v.t, StructT) and v.t.name == "CartesianIndex":
            out.extend(v.items[0].items)       # A[I] with I = CartesianIndex(i, j) is A[i, j]
        else:
            out.append(v)
    return out


@dataclass
class DimIndex:
    """How one dimension is indexed: a window [start, start + size) taken with `stride`, or a list."""
    start: ScalarV                     # 0-based
    size: int
    stride: int = 1
    drop: bool = False                 # a scalar index removes the dimension
    positions: ir.Value | None = None  # a vector of 0-based indices (`x[[1, 3]]`, `x[idx]`)
    mask: ArrayV | None = None         # a Bool array of the array's shape (`x[m] .= 0`)


def index_value(fl: Lowering, obj: Value, idxs: list[Value], node: A.Node) -> Value:
    if isinstance(obj, StructV) and not idxs and getattr(obj.t, "name", None) == "RefValue":
        return obj.field(0)                                       # r[]
    if isinstance(obj, StructV) and isinstance(obj.t, StructT):
        # a struct is indexed by its `getindex` methods (a Flux Chain's `m[1]`, `Symmetric(A)[i, j]`);
        # without one, Julia's MethodError (fields are not positions)
        methods = fl.program.methods.get("getindex", [])
        chosen = select_method(fl.program.universe, methods, [obj.t, *(i.t for i in idxs)])
        if chosen is None or isinstance(chosen, list):
            raise fl.no_method("getindex", [obj, *idxs], methods, node)
        return fl.invoke(*chosen, [obj, *idxs], {}, node)
    if isinstance(obj, StructV) and len(idxs) == 1 and isinstance(idxs[0], SingletonV) and idxs[0].name:
        return get_field(fl, obj, idxs[0].name, node)            # nt[:a]
    if isinstance(obj, TupleV) and len(idxs) == 1 and isinstance(idxs[0], RangeV):
        return _tuple_slice(fl, obj, idxs[0], node)
    if isinstance(obj, (TupleV, StructV, ArrayListV)):
        if len(idxs) != 1 or not isinstance(idxs[0], ScalarV) or not idxs[0].t.info.is_integer:
            raise fl.error(f"a {'tuple' if isinstance(obj, TupleV) else obj.t.julia()} is indexed with one integer",
                           node)
        if not idxs[0].is_const:
            return _tuple_element(fl, obj, idxs[0], node)
        k = idxs[0].const
        if not 1 <= k <= len(obj.items):
            raise fl.error(f"BoundsError: attempt to access {obj.t.julia()} at index [{k}]", node)
        return obj.items[k - 1]
    if isinstance(obj, RangeV):
        if len(idxs) == 1 and isinstance(idxs[0], ScalarV):
            return range_element(fl, obj, arith(fl, "-", idxs[0], ScalarV(INT64, 1)))
        obj = collect_range(fl, obj, node)
    if isinstance(obj, ScalarV) and all(isinstance(i, ScalarV) and i.is_const and i.const == 1 for i in idxs):
        return obj
    if isinstance(obj, StructArrayV):
        return _struct_array_index(fl, obj, idxs, node)
    if not isinstance(obj, ArrayV):
        raise fl.error(f"cannot index a value of type {obj.t.julia()}", node)
    if any(isinstance(i, ScalarV) and i.batch for i in idxs):
        return _lane_gather(fl, obj, idxs, node)
    arr, dims = _plan(fl, obj, idxs, node)
    value = _gather_window(fl, arr, dims)
    if any(d.mask is not None for d in dims):
        raise fl.error("indexing with a Bool mask gives an array whose size depends on the data; jlhlo arrays have "
                       "static sizes (use `ifelse.(mask, x, 0)`, `count(mask)` or `x[mask] .= v`)", node)
    out_shape = tuple(d.size for d in dims if not d.drop)
    if not out_shape and all(d.drop for d in dims):
        return ScalarV(arr.t.elt, None, B.reshape(value, ()))
    return ArrayV(ArrayT(arr.t.elt, out_shape), Box(B.reshape(value, out_shape)))


def _struct_array_index(fl: Lowering, obj: StructArrayV, idxs: list[Value], node: A.Node) -> Value:
    """`ps[i]` of an array of tuples or structs: each of its arrays at `i` (checked once, for the
    first); an element, or an array of them for a slice."""
    parts = [_leaf_access(fl, n, lambda: index_value(fl, leaf, idxs, node)) for n, leaf in enumerate(obj.items)]
    if isinstance(parts[0], ScalarV):
        return build_element(obj.t.elt, iter(parts))
    return StructArrayV(ArrayT(obj.t.elt, parts[0].t.shape), tuple(parts))


def _leaf_access(fl: Lowering, n: int, access: Callable[[], Value | None]) -> Value | None:
    """Index the n-th array of an array of structs: the indices are checked at the first one only."""
    if not n:
        return access()
    fl.inbounds += 1
    try:
        return access()
    finally:
        fl.inbounds -= 1


def _tuple_slice(fl: Lowering, tup: TupleV, r: RangeV, node: A.Node) -> TupleV:
    """`t[2:end]`: a tuple of the items at the range's positions, which must be known at compile time
    (they decide the result's type)."""
    if not (r.t.elt.info.is_integer and r.start.is_const and r.step.is_const and r.stop.is_const):
        raise fl.error("a tuple sliced with a range known only at run time: the positions decide the type of "
                       "the result, so they must be compile-time constants", node)
    step = r.step.const
    positions = range(r.start.const, r.stop.const + (1 if step > 0 else -1), step)
    for k in positions:
        if not 1 <= k <= len(tup.items):
            raise fl.error(f"BoundsError: attempt to access {tup.t.julia()} at index [{k}]", node)
    items = tuple(tup.items[k - 1] for k in positions)
    return TupleV(TupleT(tuple(i.t for i in items)), items)


def _tuple_element(fl: Lowering, tup: TupleV | StructV | ArrayListV, k: ScalarV, node: A.Node) -> Value:
    """`t[k]` with k known only at run time: the items must have one type (else Julia's result would
    be a Union); numbers are selected, arrays become the item's own array (merge.CondBox)."""
    items = list(tup.items)
    if len({i.t for i in items}) != 1:
        raise fl.error(f"indexing a tuple of differently typed items ({tup.t.julia()}) with an index known only at "
                       f"run time would give a value of a Union type, which jlhlo does not support", node)
    fl.check(arith(fl, "&", arith(fl, ">=", k, ScalarV(INT64, 1)), arith(fl, "<=", k, ScalarV(INT64, len(items)))),
             node, f"BoundsError: attempt to access {tup.t.julia()} at an index outside 1:{len(items)} (at run time)",
             bounds=True)
    if k.batch:
        raise LaneConflict()           # a different item per lane: element by element
    if len(items) == 1:
        return items[0]
    per_item = [list(leaf_pairs(items[0], item)) for item in items]
    picks = [arith(fl, "==", k, ScalarV(k.t, m + 1)) for m in range(len(items) - 1)]

    def chosen(position: int) -> Value:
        leaves = [pairs[position][1] for pairs in per_item]
        if isinstance(leaves[0], ArrayV):
            box = leaves[-1].box
            for pick, leaf in zip(picks[::-1], leaves[-2::-1]):
                box = CondBox(fl.materialize(pick), leaf.box, box)
            return ArrayV(leaves[0].t, box)
        # items may be one number per lane or one for all (`(x, 1.0)` in a broadcast function)
        batch = next((leaf.batch for leaf in leaves if leaf.batch), ())
        value = B.broadcast(fl.materialize(leaves[-1]), batch)
        for pick, leaf in zip(picks[::-1], leaves[-2::-1]):
            value = hlo.select(fl.materialize(pick), B.broadcast(fl.materialize(leaf), batch), value)
        return ScalarV(leaves[0].t, None, value, batch)
    positions = iter(range(len(per_item[0])))
    return map_leaves(items[0], lambda _: chosen(next(positions)), constants=True)


def _lane_window(fl: Lowering, arr: ArrayV, idxs: list[Value]) -> tuple[list[DimIndex], list[int]] | None:
    """Indices `i + c` of vectorized loop variables (and lane-invariant scalars) select a window:
    its dimensions and, per window dimension, the lane dimension it runs along."""
    if len(idxs) != arr.t.ndims:
        return None
    dims, lane_dims = [], []
    for d, i in enumerate(idxs):
        if not isinstance(i, ScalarV) or i.t != INT64:
            return None
        if not i.batch:
            if i.is_const and not 1 <= i.const <= arr.t.shape[d]:
                return None
            dims.append(DimIndex(ScalarV(INT64, i.const - 1) if i.is_const else
                                 ScalarV(INT64, None, hlo.subtract(i.ir, H.constant(INT64, 1))), 1, drop=True))
            continue
        base, k = i.affine()
        if base.lane is None or base.lane[0] in lane_dims:
            return None
        dim, first = base.lane
        size = i.batch[dim]
        lo, hi = first + k, first + k + size - 1
        if not (1 <= lo and hi <= arr.t.shape[d]):
            return None                  # out of bounds: the general path reports it
        dims.append(DimIndex(ScalarV(INT64, lo - 1), size))
        lane_dims.append(dim)
    return dims, lane_dims


def _window_to_lanes(value, lane_dims: list[int], lanes: tuple[int, ...]):
    """A window (its lane-indexed dimensions in array order) laid out along the lane dimensions."""
    order = sorted(range(len(lane_dims)), key=lambda j: lane_dims[j])
    value = B.reshape(value, tuple(lanes[lane_dims[j]] for j in range(len(lane_dims))))
    if order != list(range(len(order))):
        value = hlo.transpose(value, order)
    return B.broadcast(value, lanes, sorted(lane_dims))


def _lane_gather(fl: Lowering, arr: ArrayV, idxs: list[Value], node: A.Node) -> ScalarV:
    """`x[i]` where `i` differs per lane (inside a comprehension or broadcast function): a gather,
    or a slice where the indices are vectorized loop variables plus constants."""
    if not all(isinstance(i, ScalarV) and i.t.info.is_integer and i.t.info.kind != "bool" for i in idxs):
        raise LaneConflict()           # a slice per lane: an array per element
    window = _lane_window(fl, arr, idxs)
    if window is not None:
        dims, lane_dims = window
        lanes = next(i.batch for i in idxs if isinstance(i, ScalarV) and i.batch)
        return ScalarV(arr.t.elt, None, _window_to_lanes(_gather_window(fl, arr, dims), lane_dims, lanes), lanes)
    if len(idxs) == 1 and arr.t.ndims > 1:
        arr = reshape_colmajor(fl, arr, (int(np.prod(arr.t.shape, dtype=np.int64)),))
    if len(idxs) != arr.t.ndims:
        raise fl.error(f"indexing a {arr.t.ndims}-dimensional array with {len(idxs)} per-element indices is not "
                       f"supported", node)
    lanes = next(i.batch for i in idxs if i.batch)
    columns = []
    for d, i in enumerate(idxs):
        i = convert_scalar(fl, i, INT64)
        check_within(fl, i, i, arr.t.shape[d], arr.t.shape, d, node)
        zero_based = fl.materialize(i)
        zero_based = hlo.subtract(B.broadcast(zero_based, lanes), H.constant(INT64, 1, lanes))
        columns.append(B.reshape(zero_based, lanes + (1,)))
    indices = hlo.concatenate(columns, len(lanes)) if len(columns) > 1 else columns[0]
    nd = arr.t.ndims
    dnums = hlo.GatherDimensionNumbers.get(offset_dims=[], collapsed_slice_dims=list(range(nd)),
                                           operand_batching_dims=[], start_indices_batching_dims=[],
                                           start_index_map=list(range(nd)), index_vector_dim=len(lanes))
    value = hlo.gather(arr.ir, indices, dnums, [1] * nd)
    return ScalarV(arr.t.elt, None, value, lanes)


def _plan(fl: Lowering, arr: ArrayV, idxs: list[Value], node: A.Node) -> tuple[ArrayV, list[DimIndex]]:
    """Reshape for linear indexing as needed and describe each dimension's index."""
    shape = arr.t.shape
    n = len(idxs)
    if n == 0:
        raise fl.error("indexing with no indices is only valid for 0-dimensional arrays", node)
    mask = idxs[0]
    if n == 1 and isinstance(mask, ArrayV) and mask.t.elt.info.kind == "bool" and mask.t.shape == shape:
        return arr, [DimIndex(ScalarV(INT64, 0), int(np.prod(shape, dtype=np.int64)), mask=mask)]
    if n < len(shape):   # the last index runs linearly over the remaining dimensions (column-major)
        arr = reshape_colmajor(fl, arr, shape[:n - 1] + (int(np.prod(shape[n - 1:], dtype=np.int64)),))
        shape = arr.t.shape
    elif n > len(shape):
        # trailing dimensions of length 1, which a colon or range keeps: `v[1:3, :]` is a 3×1 Matrix
        arr = reshape_colmajor(fl, arr, shape + (1,) * (n - len(shape)))
        shape = arr.t.shape
    dims = [_dim_index(fl, ix, shape[d], d, n, shape, node) for d, ix in enumerate(idxs)]
    return arr, dims


def _summary(shape) -> str:
    return f"{shape[0]}-element array" if len(shape) == 1 else f"{'×'.join(map(str, shape))} array"


def _bounds_error(fl, shape, node, what) -> Exception:
    return fl.error(f"BoundsError: attempt to access {_summary(shape)} at index [{what}]", node)


def _fails_when_reached(fl, shape, node, what, placeholder_fits: bool) -> None:
    """A constant index out of bounds: Julia throws only if this code runs, which a branch may
    decide at run time, so it is a check that always fails (reported after a run that reaches it).
    Where no in-bounds placeholder of that shape exists, it is a compile error instead."""
    if not placeholder_fits:
        raise _bounds_error(fl, shape, node, what)
    fl.check(ScalarV(BOOL, False), node, f"BoundsError: attempt to access {_summary(shape)} at index [{what}]",
             bounds=True)


def _dim_index(fl: Lowering, ix: Value, size: int, d: int, n: int, shape, node: A.Node) -> DimIndex:
    if isinstance(ix, ScalarV):
        if ix.t.info.kind == "bool" or not ix.t.info.is_integer:
            raise fl.error(f"ArgumentError: invalid index of type {ix.t.julia()} (indices must be integers)", node)
        if ix.batch:
            raise LaneConflict()
        if ix.is_const:
            if not 1 <= ix.const <= size:
                _fails_when_reached(fl, shape, node, ix.const, size >= 1)
                return DimIndex(ScalarV(INT64, 0), 1, drop=True)     # never used: the run reports the error
            return DimIndex(ScalarV(INT64, ix.const - 1), 1, drop=True)
        i = convert_scalar(fl, ix, INT64)
        check_within(fl, i, i, size, shape, d, node)
        return DimIndex(arith(fl, "-", i, ScalarV(INT64, 1)), 1, drop=True)
    if getattr(ix.t, "name", None) == "Colon":
        return DimIndex(ScalarV(INT64, 0), size)
    if isinstance(ix, RangeV):
        if any(v.batch for v in (ix.start, ix.step, ix.stop)):
            raise LaneConflict()       # a slice per lane: an array per element
        length = range_length(fl, ix)
        if not length.is_const:
            raise StaticValueNeeded("a range index must have a length known at compile time (e.g. `i:i+3`, not `i:n`)",
                                    node.span)
        if not ix.step.is_const:
            raise fl.error("a range index needs a constant step", node)
        step = int(ix.step.const)
        if length.const == 0:
            return DimIndex(ScalarV(INT64, 0), 0)
        if ix.start.is_const:
            first, last = ix.start.const, ix.start.const + (length.const - 1) * step
            if not (1 <= first <= size and 1 <= last <= size):
                what = f"{first}:{step}:{last}" if step != 1 else f"{first}:{last}"
                _fails_when_reached(fl, shape, node, what, step > 0 and (length.const - 1) * step < size)
                return DimIndex(ScalarV(INT64, 0), length.const, stride=step)    # never used, as above
        if step > 0:
            if not ix.start.is_const:
                last = arith(fl, "+", ix.start, ScalarV(INT64, (length.const - 1) * step))
                check_within(fl, ix.start, last, size, shape, d, node)
            return DimIndex(arith(fl, "-", ix.start, ScalarV(INT64, 1)), length.const, stride=step)
        ix = collect_range(fl, ix, node)
    if isinstance(ix, ArrayV) and ix.t.ndims == 1 and ix.t.elt.info.is_integer and ix.t.elt.info.kind != "bool":
        picks = _constant_vector(ix)
        if picks is not None:
            for p in picks:
                if not 1 <= p <= size:
                    raise _bounds_error(fl, shape, node, p)
        else:
            _check_all_within(fl, ix, size, shape, d, node)
        positions = hlo.subtract(H.convert(ix.ir, INT64), H.constant(INT64, 1, ix.t.shape))
        return DimIndex(ScalarV(INT64, 0), ix.t.shape[0], positions=positions)
    if isinstance(ix, ArrayV) and ix.t.elt.info.kind == "bool":
        if ix.t.shape != (size,):
            raise fl.error(f"BoundsError: a Bool mask of size {ix.t.shape} does not match the indexed "
                           f"dimensions {shape}", node)
        return DimIndex(ScalarV(INT64, 0), size, mask=ix)
    raise fl.error(f"ArgumentError: invalid index of type {ix.t.julia()}", node)


def check_within(fl: Lowering, first: ScalarV, last: ScalarV, size: int, shape, d: int,
                  node: A.Node) -> None:
    """A run-time check that indices first..last lie in 1:size (none where their bounds prove it)."""
    lo, hi = first.bounds(), last.bounds()
    if lo is not None and hi is not None and lo[0] >= 1 and hi[1] <= size:
        return
    ok = arith(fl, "&", arith(fl, ">=", first, ScalarV(INT64, 1)), arith(fl, "<=", last, ScalarV(INT64, size)))
    fl.check(ok, node, f"BoundsError: attempt to access {_summary(shape)} at an index outside 1:{size}"
                       + (f" in dimension {d + 1}" if len(shape) > 1 else "") + " (at run time)", bounds=True)


def _check_all_within(fl: Lowering, ix: ArrayV, size: int, shape, d: int, node: A.Node) -> None:
    if fl.inbounds or not fl.mod.check_bounds:
        return
    n = ix.t.shape
    v = H.convert(ix.ir, INT64)
    ok = hlo.and_(H.compare("GE", v, H.constant(INT64, 1, n), "int"), H.compare("LE", v, H.constant(INT64, size, n),
                                                                             "int"))
    ok = B.reduce(ok, H.constant(BOOL, True), [0], hlo.and_)
    fl.check(ScalarV(BOOL, None, ok), node, f"BoundsError: attempt to access {_summary(shape)} with an index vector "
                                            f"that has an entry outside 1:{size}" +
             (f" in dimension {d + 1}" if len(shape) > 1 else "") + " (at run time)", bounds=True)


def _constant_vector(v: ArrayV) -> list[int] | None:
    """The values of an index vector built from constants (`[1, 3]`), if it was."""
    op = v.ir.owner
    if not isinstance(op, ir.Operation) and hasattr(op, "operation"):
        op = op.operation
    if getattr(op, "name", "") != "stablehlo.constant":
        return None
    attr = ir.DenseElementsAttr(op.attributes["value"])
    return [int(x) for x in np.array(attr, copy=True).reshape(-1)] if not attr.is_splat else \
        [int(np.array(attr.get_splat_value()).item())] * v.t.shape[0]


def _gather_window(fl: Lowering, arr: ArrayV, dims: list[DimIndex]) -> ir.Value:
    """The indexed elements, one dimension of the result per dimension of `arr`."""
    if any(d.positions is not None for d in dims):
        return _gather_points(fl, arr, dims)
    value = arr.ir
    spans = [(d.size - 1) * d.stride + 1 if d.size else 0 for d in dims]
    if all(d.start.is_const for d in dims):
        starts = [d.start.const for d in dims]
        return hlo.slice(value, starts, [s + sp for s, sp in zip(starts, spans)], [d.stride for d in dims])
    value = hlo.dynamic_slice(value, [fl.materialize(d.start) for d in dims], spans)
    if any(d.stride != 1 for d in dims):
        value = hlo.slice(value, [0] * len(dims), spans, [d.stride for d in dims])
    return value


def _point_indices(fl: Lowering, dims: list[DimIndex]) -> ir.Value:
    """The 0-based coordinates of every indexed element: a tensor region × ndims."""
    region = tuple(d.size for d in dims)
    columns = []
    for k, d in enumerate(dims):
        if d.positions is not None:
            pos = d.positions
        else:
            pos = H.iota(INT64, (d.size,), 0)
            if d.stride != 1:
                pos = hlo.multiply(pos, H.constant(INT64, d.stride, (d.size,)))
            pos = hlo.add(pos, B.broadcast(fl.materialize(d.start), (d.size,)))
        columns.append(B.reshape(B.broadcast(pos, region, [k]), region + (1,)))
    return hlo.concatenate(columns, len(region)) if len(columns) > 1 else columns[0]


def _gather_points(fl: Lowering, arr: ArrayV, dims: list[DimIndex]) -> ir.Value:
    nd = len(dims)
    dnums = hlo.GatherDimensionNumbers.get(offset_dims=[], collapsed_slice_dims=list(range(nd)),
                                           operand_batching_dims=[], start_indices_batching_dims=[],
                                           start_index_map=list(range(nd)), index_vector_dim=nd)
    return hlo.gather(arr.ir, _point_indices(fl, dims), dnums, [1] * nd)


def _scatter_points(fl: Lowering, arr: ArrayV, dims: list[DimIndex], update: ir.Value) -> ir.Value:
    """arr with the indexed elements replaced by `update` (shaped like the region)."""
    nd = len(dims)
    dnums = hlo.ScatterDimensionNumbers.get(update_window_dims=[], inserted_window_dims=list(range(nd)),
                                            input_batching_dims=[], scatter_indices_batching_dims=[],
                                            scattered_dims_to_operand_dims=list(range(nd)), index_vector_dim=nd)
    op = hlo.ScatterOp([arr.ir.type], [arr.ir], _point_indices(fl, dims), [update], dnums)
    scalar = H.tensor_type(arr.t.elt)
    block = op.regions[0].blocks.append(scalar, scalar)
    with ir.InsertionPoint(block):
        hlo.ReturnOp([block.arguments[1]])      # the new value replaces the old one
    return op.results[0]


def linear_element(fl: Lowering, arr: ArrayV, k: ScalarV, node: A.Node) -> ScalarV:
    """arr[k + 1] in column-major linear order (k counted from 0, known to be in range: it comes
    from iterating over the array itself)."""
    if k.is_const or k.batch:
        fl.inbounds += 1
        try:
            return index_value(fl, arr, [arith(fl, "+", k, ScalarV(INT64, 1))], node)
        finally:
            fl.inbounds -= 1
    start = _column_major_position(k, arr.t.shape)
    element = hlo.dynamic_slice(arr.ir, start, [1] * arr.t.ndims)
    return ScalarV(arr.t.elt, None, B.reshape(element, ()))


def store_linear(fl: Lowering, arr: ArrayV, k: ScalarV, v: ScalarV, node: A.Node) -> None:
    """arr[k + 1] = v in column-major linear order (k counted from 0, a run-time index in range)."""
    update = B.reshape(fl.materialize(convert_scalar(fl, v, arr.t.elt, node)), (1,) * arr.t.ndims)
    fl.write(arr, hlo.dynamic_update_slice(arr.ir, update, _column_major_position(k, arr.t.shape)), node)


def _column_major_position(k: ScalarV, shape: tuple[int, ...]) -> list[ir.Value]:
    """The 0-based index in each dimension of the element at column-major position k."""
    out = []
    rest = k.ir
    for d, size in enumerate(shape):
        if d == len(shape) - 1:
            out.append(rest)
        else:
            out.append(hlo.remainder(rest, H.constant(INT64, size)))
            rest = hlo.divide(rest, H.constant(INT64, size))
    return out


def lower_setindex(fl: Lowering, target: A.Index, v: Value, node: A.Node, broadcast: bool) -> None:
    obj = fl.expr(target.obj)
    if isinstance(obj, ArrayListV):
        if not broadcast:
            raise fl.error(f"replacing an item of a {obj.t.julia()} is not supported (jlhlo keeps a vector of "
                           f"arrays' items fixed); to write into the item, use `.=`", node)
        write_into_array(fl, index_value(fl, obj, _index_args(fl, obj, target), node), v, node)
        return
    if isinstance(obj, StructV) and getattr(obj.t, "name", None) == "RefValue" and not target.indices:
        set_field(fl, obj, "x", v, node)                          # r[] = v
        return
    if isinstance(obj, StructArrayV):
        _struct_array_store(fl, obj, _index_args(fl, obj, target), v, node, broadcast)
        return
    if not isinstance(obj, ArrayV):
        raise fl.error(f"setindex!: cannot assign into a value of type {obj.t.julia()} (tuples and structs "
                       f"are immutable)", node)
    idxs = _index_args(fl, obj, target)
    if not broadcast and isinstance(v, ScalarV) and not all(isinstance(i, ScalarV) for i in idxs):
        raise fl.error("ArgumentError: indexed assignment with a single value to possibly many locations is not "
                       "supported; perhaps use broadcasting `.=` instead?", node)
    store_index(fl, obj, idxs, v, node)


def _struct_array_store(fl: Lowering, obj: StructArrayV, idxs: list[Value], v: Value, node: A.Node,
                        broadcast: bool) -> None:
    """`ps[i] = p` (p converted to the element type, as Julia's setindex! does) or `ps[r] = qs` of
    an array of tuples or structs: each of its arrays written."""
    if isinstance(v, StructArrayV) and v.t.elt == obj.t.elt:
        parts: list[Value] = list(v.items)
    elif isinstance(v, (TupleV, StructV)) and not broadcast \
            and all(isinstance(i, ScalarV) and i.t.info.is_integer for i in idxs):
        parts = convert_element(fl, v, obj.t.elt, node)
    else:
        raise fl.error(f"assigning a {v.t.julia()} into a {obj.t.julia()} is not supported (assign one element "
                       f"`ps[i] = p`, or an array of the same element type)", node)
    for n, (leaf, part) in enumerate(zip(obj.items, parts)):
        _leaf_access(fl, n, lambda: store_index(fl, leaf, idxs, part, node))


def store_index(fl: Lowering, obj: ArrayV, idxs: list[Value], v: Value, node: A.Node) -> None:
    """`obj[idxs...] = v` (or `.= v`) into an array of numbers."""
    if any(isinstance(i, ScalarV) and i.batch for i in idxs):
        _lane_store(fl, obj, idxs, v, node)
        return
    arr, dims = _plan(fl, obj, idxs, node)
    masks = [d for d in dims if d.mask is not None]
    if masks:
        if len(dims) != 1 and len(masks) != 1:
            raise fl.error("only one Bool mask index is supported in an assignment", node)
        mask = masks[0].mask
        if mask.t.shape != arr.t.shape:
            raise fl.error("a Bool mask in an assignment must have the array's shape", node)
        if not (isinstance(v, ScalarV) or isinstance(v, ArrayV) and v.t.shape == arr.t.shape):
            raise fl.error("`x[mask] .= v` needs a number (or an array of x's shape) on the right", node)
        new = hlo.select(mask.ir, fit_to_shape(fl, v, arr.t, node), arr.ir)
        _store(fl, obj, arr, new, node)
        return
    region = tuple(d.size for d in dims)
    kept = tuple(d.size for d in dims if not d.drop)
    update = fit_to_shape(fl, v, ArrayT(arr.t.elt, kept), node)
    update = B.reshape(update, region)
    if any(d.positions is not None or d.stride != 1 for d in dims):
        new = _scatter_points(fl, arr, dims, update)
    else:
        new = hlo.dynamic_update_slice(arr.ir, update, [fl.materialize(d.start) for d in dims])
    _store(fl, obj, arr, new, node)


def _lane_store(fl: Lowering, obj: ArrayV, idxs: list[Value], v: Value, node: A.Node) -> None:
    """`x[i, j] = value` in a vectorized loop nest: every lane writes its element at once."""
    window = _lane_window(fl, obj, idxs)
    lanes = next(i.batch for i in idxs if isinstance(i, ScalarV) and i.batch)
    if window is None or sorted(window[1]) != list(range(len(lanes))) or not isinstance(v, ScalarV):
        raise LaneConflict()           # not one element per lane: a loop writes them one by one
    dims, lane_dims = window
    value = fl.materialize(convert_scalar(fl, v, obj.t.elt, node))
    value = B.broadcast(value, lanes, list(range(len(v.batch))) if v.batch else [])
    if lane_dims != sorted(lane_dims):   # lane order → the array's order of those dimensions
        value = hlo.transpose(value, lane_dims)
    region = tuple(d.size for d in dims)
    fl.write(obj, hlo.dynamic_update_slice(obj.ir, B.reshape(value, region), [fl.materialize(d.start) for d in dims]),
             node)


def _store(fl: Lowering, obj: ArrayV, arr: ArrayV, new: ir.Value, node: A.Node) -> None:
    if arr is not obj:   # written through a linear-index reshape: reshape back
        new = reshape_colmajor(fl, ArrayV(arr.t, Box(new)), obj.t.shape).ir
    fl.write(obj, new, node)


__all__ = ["lower_index", "index_value", "make_view", "ViewBox", "linear_element", "store_linear", "lower_setindex",
           "store_index"]
