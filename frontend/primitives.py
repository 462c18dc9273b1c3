"""Primitives: the functions implemented in Python because each maps onto StableHLO ops.

Everything else in the library is Julia source in `prelude/`. A rule has the shape
`rule(fl, args, kwargs, node) -> Value`; it receives values whose types inference already knows,
folds compile-time constants with NumPy (exact dtypes, so integer overflow wraps as in Julia), and
otherwise emits ops. A rule that does not apply to its argument types raises `NoMethod`, which the
caller reports as Julia's `MethodError`. All rules are registered in the one table `PRIMITIVES`.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from jax.extend.mlir import ir
from jax.extend.mlir.dialects import stablehlo as hlo

from ..core import builder as B
from ..core.ops import NO_GRADIENT, SEED_TARGET, SHARDING_TARGET
from . import ast as A
from . import hlo as H
from .arrays import adjoint_view, concatenate, fit_to_shape, matmul, reshape_colmajor, shared_reshape, vect
from .broadcast import broadcast_call
from .calls import call_value, default_construct
from .dispatch import PAny, Pat, PScalar
from .exceptions import Threw, fail, show_number
from .indexing import index_value, make_view
from .mutable import is_mutable, same_object
from .ranges import collect_range, make_range, range_length
from .registry import NeedsStatic, NoMethod, const_int, expect_args, prim, scalar_arg, shape_str
from .scalars import (
    ARITH,
    arith,
    as_ir,
    as_np,
    as_py,
    complex_parts,
    convert_scalar,
    get_field,
    make_tuple,
    needs_power_by_squaring,
    signedness_differs,
    type_arg,
)
from .struct_arrays import blank, from_lanes, is_record
from .types import (
    BOOL,
    FLOAT32,
    FLOAT64,
    INT64,
    NOTHING,
    SYMBOL,
    ArrayT,
    JType,
    NamedTupleT,
    Scalar,
    StructT,
    TupleT,
    promote,
)
from .values import (
    ArrayListV,
    ArrayV,
    Box,
    FuncV,
    LaneConflict,
    RangeV,
    ScalarV,
    SingletonV,
    StructArrayV,
    StructV,
    TupleV,
    TypeV,
    Value,
    colon,
    map_leaves,
    nothing,
)

if TYPE_CHECKING:
    from .context import Lowering


# ============================================================================ structure queries
@prim("size")
def _size(fl, args, kwargs, node):
    x = args[0]
    shape = _shape(x)
    if len(args) == 1:
        items = tuple(ScalarV(INT64, d) for d in shape)
        return TupleV(TupleT(tuple(i.t for i in items)), items)
    return _dim_size(fl, shape, scalar_arg(args[1]), node)


def _dim_size(fl: Lowering, shape: tuple[int, ...], d: ScalarV, node: A.Node) -> ScalarV:
    """size(x, d): the size of dimension d, 1 beyond the last; d may be known only at run time."""
    if not d.t.info.is_integer or d.t.info.kind == "bool":
        raise NoMethod()
    if d.is_const:
        if d.const < 1:
            raise NoMethod(f"ArgumentError: dimension out of range (got {d.const})")
        return ScalarV(INT64, shape[d.const - 1] if d.const <= len(shape) else 1)
    d = convert_scalar(fl, d, INT64)
    fl.check(arith(fl, ">=", d, ScalarV(INT64, 1)), node, "ArgumentError: dimension out of range (at run time)")
    sizes = H.array_constant(INT64, np.array(list(shape) + [1], dtype=np.int64))
    k = hlo.clamp(H.constant(INT64, 0), hlo.subtract(d.ir, H.constant(INT64, 1)), H.constant(INT64, len(shape)))
    size = B.reshape(hlo.dynamic_slice(sizes, [k], [1]), ())
    return ScalarV(INT64, None, size, interval=(min((1, *shape)), max((1, *shape))))


def _shape(x: Value) -> tuple[int, ...]:
    if isinstance(x, (ArrayV, StructArrayV)):
        return x.t.shape
    if isinstance(x, ScalarV):
        return ()
    if isinstance(x, RangeV):
        n = range_length(None, x) if x.start.is_const and x.stop.is_const and x.step.is_const else None
        if n is None or not n.is_const:
            raise NeedsStatic("the length of a range with run-time bounds is not known at compile time")
        return (n.const,)
    if isinstance(x, (TupleV, ArrayListV)):
        return (len(x.items),)
    raise NoMethod()


@prim("length")
def _length(fl, args, kwargs, node):
    (x,) = expect_args(args, 1)
    if isinstance(x, RangeV) and not (x.start.is_const and x.stop.is_const and x.step.is_const):
        return range_length(fl, x)
    if isinstance(x, StructV):
        if isinstance(x.t, StructT):   # a struct has a length only where a method defines one
            raise NoMethod()
        return ScalarV(INT64, len(x.items))
    return ScalarV(INT64, int(np.prod(_shape(x), dtype=np.int64)))


@prim("ndims")
def _ndims(fl, args, kwargs, node):
    return ScalarV(INT64, len(_shape(expect_args(args, 1)[0])))


@prim("eltype")
def _eltype(fl, args, kwargs, node):
    (x,) = expect_args(args, 1)
    return TypeV(x.t.elt if isinstance(x, StructArrayV) else type_arg(x))


@prim("isempty")
def _isempty(fl, args, kwargs, node):
    return arith(fl, "==", _length(fl, args, kwargs, node), ScalarV(INT64, 0))


@prim("typeof")
def _typeof(fl, args, kwargs, node):
    return TypeV(expect_args(args, 1)[0].t)


def _type_pattern(fl, t: TypeV) -> Pat:
    return t.of if isinstance(t.of, Pat) else fl.program.universe.pattern(
        A.Name(str(t.of) if isinstance(t.of, str) else t.of.julia()), {})


@prim("isa")
def _isa(fl, args, kwargs, node):
    v, t = expect_args(args, 2)
    if not isinstance(t, TypeV):
        raise NoMethod()
    return ScalarV(BOOL, fl.program.universe.matches(_type_pattern(fl, t), v.t, {}))


@prim("<:", ">:")
def _subtype(fl, args, kwargs, node, name):
    """`T <: AbstractFloat`, decided when compiling (types are compile-time values). A concrete type
    has no subtype but itself; array types compare without their static sizes (Julia's types have none)."""
    a, b = expect_args(args, 2)
    if not (isinstance(a, TypeV) and isinstance(b, TypeV)):
        raise NoMethod()
    if name == ">:":
        a, b = b, a
    universe = fl.program.universe
    if isinstance(b.of, JType):
        return ScalarV(BOOL, isinstance(a.of, JType) and a.of.julia() == b.of.julia())
    if isinstance(a.of, JType):
        return ScalarV(BOOL, universe.matches(_type_pattern(fl, b), a.of, {}))
    return ScalarV(BOOL, universe.pat_le(_type_pattern(fl, a), _type_pattern(fl, b)))


@prim("tuple")
def _tuple_prim(fl, args, kwargs, node):
    return make_tuple(args)


@prim("tail")
def _tail(fl, args, kwargs, node):
    (t,) = expect_args(args, 1)
    if not isinstance(t, TupleV) or not t.items:
        raise NoMethod()
    return make_tuple(t.items[1:])


@prim("first", "last")
def _first_last(fl, args, kwargs, node, name):
    (t,) = expect_args(args, 1)
    which = name
    if isinstance(t, (TupleV, ArrayListV)):
        if not t.items:
            raise NoMethod("BoundsError: attempt to access an empty tuple")
        return t.items[0 if which == "first" else -1]
    if isinstance(t, RangeV):
        return t.start if which == "first" else t.stop
    if isinstance(t, (ArrayV, StructArrayV)):
        n = int(np.prod(t.t.shape))
        if not n:
            raise NoMethod(f"BoundsError: attempt to access {t.t.summary()} at index [{1 if which == 'first' else 0}]")
        return index_value(fl, t, [ScalarV(INT64, 1 if which == "first" else n)], node)
    raise NoMethod()


@prim("ntuple")
def _ntuple(fl, args, kwargs, node):
    f, n = expect_args(args, 2)
    n = const_int(n, "ntuple(f, n): n")
    if n < 0:
        raise NoMethod(f"ArgumentError: tuple length should be ≥ 0, got {n}")
    return make_tuple(call_value(fl, f, [ScalarV(INT64, i)], {}, node) for i in range(1, n + 1))


@prim("view")
def _view(fl, args, kwargs, node):
    if not args:
        raise NoMethod()
    return make_view(fl, args[0], list(args[1:]), node)


@prim("eachcol", "eachrow")
def _eachcol(fl, args, kwargs, node, name):
    """The columns (rows) of a matrix as views: a static number of arrays that write through to it."""
    (a,) = expect_args(args, 1)
    if not isinstance(a, ArrayV) or len(a.t.shape) != 2:
        raise NoMethod()
    return _slices(fl, a, 2 if name == "eachcol" else 1, name, node)


@prim("eachslice", keywords=("dims",))
def _eachslice(fl, args, kwargs, node):
    """eachslice(A; dims=d): A[:, ..., k, ..., :] for each k along dimension d, as views."""
    (a,) = expect_args(args, 1)
    if not isinstance(a, ArrayV) or "dims" not in kwargs:
        raise NoMethod()
    dims = kwargs["dims"]
    if isinstance(dims, TupleV) and len(dims.items) == 1:
        dims = dims.items[0]
    d = const_int(dims, "eachslice's `dims`") if isinstance(dims, ScalarV) else None
    if d is None or not 1 <= d <= a.t.ndims:
        raise NoMethod(f"eachslice needs one dimension of the {a.t.ndims}-dimensional array as `dims`")
    return _slices(fl, a, d, "eachslice", node)


def _slices(fl, a: ArrayV, d: int, name: str, node) -> ArrayListV:
    count = a.t.shape[d - 1]
    if count == 0:
        raise NoMethod(f"{name} of an array with no slices along dimension {d} is not supported")
    picks = [[ScalarV(INT64, k) if i == d - 1 else colon() for i in range(a.t.ndims)] for k in range(1, count + 1)]
    items = tuple(make_view(fl, a, pick, node) for pick in picks)
    return ArrayListV(ArrayT(items[0].t, (count,)), items)


@prim("getindex")
def _getindex(fl, args, kwargs, node):
    return index_value(fl, args[0], args[1:], node)


# ============================================================================ ranges
@prim(":")
def _colon_call(fl, args, kwargs, node):
    if len(args) == 2:
        return make_range(fl, args[0], None, args[1], node)
    if len(args) == 3:
        return make_range(fl, args[0], args[1], args[2], node)
    raise NoMethod()


@prim("eachindex")
def _eachindex(fl, args, kwargs, node):
    """eachindex(x, ys...): 1:length(x); the others must have the same linear indices."""
    if not args:
        raise NoMethod()
    n = _length(fl, [args[0]], {}, node)
    for y in args[1:]:
        m = _length(fl, [y], {}, node)
        if n.is_const and m.is_const and n.const != m.const:
            raise NoMethod(f"DimensionMismatch: all inputs to eachindex must have the same indices, got "
                           f"Base.OneTo({n.const}) and Base.OneTo({m.const})")
        if not (n.is_const and m.is_const):
            fl.check(arith(fl, "==", n, m), node, "DimensionMismatch: all inputs to eachindex must have the same "
                                                  "indices (at run time)")
    return make_range(fl, ScalarV(INT64, 1), None, n, node)


@prim("axes")
def _axes(fl, args, kwargs, node):
    shape = _shape(args[0])
    if len(args) == 2:
        return make_range(fl, ScalarV(INT64, 1), None, _dim_size(fl, shape, scalar_arg(args[1]), node), node)
    return make_tuple(make_range(fl, ScalarV(INT64, 1), None, ScalarV(INT64, d), node) for d in shape)


@prim("firstindex")
def _firstindex(fl, args, kwargs, node):
    return ScalarV(INT64, 1)


@prim("lastindex")
def _lastindex(fl, args, kwargs, node):
    x = args[0]
    if isinstance(x, StructV) and isinstance(x.t, StructT):
        # Base's fallbacks: its length, or its size along a dimension (methods of the struct's own)
        return fl.call_function("length" if len(args) == 1 else "size", list(args), {}, node)
    if len(args) == 2:
        return _dim_size(fl, _shape(x), scalar_arg(args[1]), node)
    return _length(fl, [x], {}, node)


def last_index(fl: Lowering, arr: Value, dim: int, nidx: int, node: A.Node) -> ScalarV:
    """What `end` means in dimension `dim` of an index expression with `nidx` indices."""
    if isinstance(arr, StructV) and isinstance(arr.t, StructT):
        # a struct's `end` is its `lastindex` (a Flux Chain's last layer), as Julia lowers it
        return fl.call_function("lastindex", [arr] if nidx == 1 else [arr, ScalarV(INT64, dim + 1)], {}, node)
    if isinstance(arr, (TupleV, StructV, ArrayListV)):
        return ScalarV(INT64, len(arr.items))
    shape = _shape(arr)
    if nidx == 1:
        return ScalarV(INT64, int(np.prod(shape, dtype=np.int64)))
    if dim == nidx - 1 and nidx < len(shape):
        return ScalarV(INT64, int(np.prod(shape[dim:], dtype=np.int64)))
    return ScalarV(INT64, shape[dim] if dim < len(shape) else 1)


# ============================================================================ reductions
_REDUCERS = {  # op name -> (hlo body, init value for a type)
    "+": (hlo.add, lambda t: 0), "add_sum": (hlo.add, lambda t: 0), "*": (hlo.multiply, lambda t: 1),
    "max": (hlo.maximum, lambda t: -math.inf if t.info.is_float else _np_info(t, "min")),
    "min": (hlo.minimum, lambda t: math.inf if t.info.is_float else _np_info(t, "max")),
    "&": (hlo.and_, lambda t: True), "|": (hlo.or_, lambda t: False),
}


def _np_info(t: Scalar, which: str):
    if t.info.kind == "bool":
        return which == "max"
    return int(getattr(np.iinfo(t.info.np), which))


def _dims_of(fl: Lowering, dims: Value, nd: int) -> list[int] | None:
    """None for `:` (all dimensions); 0-based dimensions otherwise (beyond ndims: ignored, as Julia)."""
    if isinstance(dims, SingletonV):
        return None
    vals = dims.items if isinstance(dims, TupleV) else (dims,)
    out = []
    for d in vals:
        d = const_int(d, "`dims`")
        if d < 1:
            raise NoMethod(f"ArgumentError: dimension must be ≥ 1, got {d}")
        if d <= nd:
            out.append(d - 1)
    return sorted(set(out))


@prim("_reduce")
def _reduce(fl, args, kwargs, node):
    """_reduce(op, x, dims): `op` is +, *, max, min, &, |; dims is `:` (a scalar) or kept as size 1."""
    op, x, dims = expect_args(args, 3)
    if not isinstance(op, FuncV) or op.name not in _REDUCERS:
        raise NoMethod(f"reduce with `{getattr(op, 'name', op.t.julia())}` is not supported (use +, *, max, min, "
                       f"&, |)")
    if isinstance(x, RangeV):
        x = collect_range(fl, x, node)
    if isinstance(x, ScalarV):
        return x
    if not isinstance(x, ArrayV):
        raise NoMethod()
    t = x.t.elt
    if t.info.is_complex and op.name in ("max", "min", "&", "|"):
        raise NoMethod(f"MethodError: no method matching isless(::{t.julia()}, ::{t.julia()}) (complex numbers "
                       f"have no order)" if op.name in ("max", "min") else "")
    if op.name in ("+", "add_sum") and t.info.kind == "bool" or \
            op.name in ("+", "*", "add_sum") and t.info.kind in ("int", "uint") and t.info.bits < 64:
        t = INT64 if t.info.kind != "uint" else Scalar("UInt64")        # Julia widens small integer sums
    body, init = _REDUCERS[op.name]
    value = H.convert(x.ir, t)
    nd = x.t.ndims
    axes = _dims_of(fl, dims, nd)
    if axes == []:
        return ArrayV(ArrayT(t, x.t.shape), Box(value))
    if 0 in x.t.shape and op.name in ("max", "min"):    # an error when reached (a branch may skip it)
        fl.check(ScalarV(BOOL, False), node, "ArgumentError: reducing over an empty collection is not allowed")
    start = init(t)
    if axes is None and op.name in ("+", "add_sum") and t.info.is_float and x.t.shape and 0 not in x.t.shape:
        # Julia's whole-array sum starts from the first element, so all -0.0 sums to -0.0: start
        # from -0.0, the identity of IEEE addition. Base's `dims` sums start from zero(T).
        start = -0.0
    reduced = B.reduce(value, H.constant(t, start), list(range(nd)) if axes is None else axes, body)
    if axes is None:
        return ScalarV(t, None, reduced)
    kept = tuple(1 if i in axes else d for i, d in enumerate(x.t.shape))
    return ArrayV(ArrayT(t, kept), Box(B.reshape(reduced, kept)))


# ============================================================================ arrays
def _dims_args(fl: Lowering, args: list[Value], node: A.Node) -> tuple[int, ...]:
    if len(args) == 1 and isinstance(args[0], TupleV):
        args = list(args[0].items)
    dims = []
    for a in args:
        if not isinstance(a, ScalarV) or not a.t.info.is_integer:
            raise NoMethod()
        if a.batch:
            raise LaneConflict()       # an array per lane, of a size per lane
        if not a.is_const:
            raise NeedsStatic("array sizes must be known at compile time (jlhlo arrays have static shapes); "
                           "this size depends on a run-time value")
        dims.append(int(a.const))
    return tuple(dims)


@prim("zeros", "ones")
def _zeros_ones(fl, args, kwargs, node, name):
    t = FLOAT64
    if args and isinstance(args[0], TypeV):
        t = type_arg(args[0])
        args = args[1:]
    shape = _dims_args(fl, args, node)
    return ArrayV(ArrayT(t, shape), Box(H.constant(t, 0 if name == "zeros" else 1, shape)))


@prim("_array_constructor")
def _array_constructor(fl, args, kwargs, node):
    """`Vector{T}()`, `Vector{T}(undef, n)`, `Matrix{T}(undef, m, n)`, `Array{T,N}(undef, dims...)` (contents
    undefined in Julia: zeros here), `Matrix{T}(I, m, n)` and `Vector{T}(x)`/`Matrix(x)` (a new
    array with x's elements converted to T). `args[0]` is the array type as written."""
    pat, rest = args[0].of, args[1:]
    no_method = NoMethod(f"MethodError: no method matching {pat.show()}({', '.join('::' + a.t.julia() for a in rest)})")
    elt = Scalar(pat.elt.name) if isinstance(pat.elt, PScalar) else None
    record = None if elt is not None or isinstance(pat.elt, PAny) else fl.program.universe.concrete(pat.elt)
    ndims = pat.ndims if isinstance(pat.ndims, int) else None
    if pat.kind == "Array" and not rest and ndims == 1 and elt is not None:   # `Vector{Float64}()`: empty
        return ArrayV(ArrayT(elt, (0,)), Box(H.constant(elt, 0, (0,))))
    if pat.kind != "Array" or not rest or not (elt is not None or record is not None or isinstance(pat.elt, PAny)):
        raise no_method
    first = rest[0]
    if isinstance(first, StructV) and first.t.name in ("UndefInitializer", "UniformScaling"):
        shape = _dims_args(fl, rest[1:], node)
        if ndims is not None and len(shape) != ndims or not shape:
            raise no_method
        if record is not None and first.t.name == "UndefInitializer":     # `Vector{Particle}(undef, n)`
            return blank(fl, record, shape, node)
        if record is not None:
            raise no_method
        if first.t.name == "UndefInitializer":
            if elt is None:
                raise NoMethod("the element type is needed: `Vector{Float64}(undef, n)` (Julia's `Vector(undef, n)` "
                               "is a Vector{Any}, which jlhlo cannot compile)")
            return ArrayV(ArrayT(elt, shape), Box(H.constant(elt, 0, shape)))
        if len(shape) != 2:
            raise no_method
        λ = first.items[0]
        t = elt or λ.t
        eye = H.convert(_eye(shape), t)
        return ArrayV(ArrayT(t, shape), Box(hlo.multiply(eye, B.broadcast(fl.materialize(convert_scalar(fl, λ, t)),
                                                                           shape))))
    if len(rest) != 1 or record is not None:
        raise no_method
    x = collect_range(fl, first, node) if isinstance(first, RangeV) else first
    if not isinstance(x, ArrayV) or ndims is not None and x.t.ndims != ndims or isinstance(x.t.elt, ArrayT):
        raise no_method
    if elt is None or elt == x.t.elt:
        return ArrayV(ArrayT(x.t.elt, x.t.shape), Box(x.ir))
    converted = broadcast_call(fl, TypeV(elt), [x], {}, node)     # T.(x): InexactError where Julia has one
    return ArrayV(ArrayT(elt, x.t.shape), converted.box)


def _eye(shape: tuple[int, int]) -> ir.Value:
    """The identity pattern of a matrix of this shape, as Bool."""
    return H.compare("EQ", H.iota(INT64, shape, 0), H.iota(INT64, shape, 1), "int")


# ============================================================================ random numbers
# Two kinds of draws. `rand`/`randn` without a generator lower to `stablehlo.rng`, which XLA keeps
# stateful (mlir_passes/rng.py replaces them by a threaded Threefry state once the program calls
# `Random.seed!`). An explicit generator (`Xoshiro(seed)`, prelude/random.jl) is a struct around a
# two-word `Vector{UInt64}`, the Threefry state (key, counter) of `stablehlo.rng_bit_generator`:
# `rand(rng, ...)`/`randn(rng, ...)` draw bits from it and write the advanced state back into the
# array, so the generator changes like any mutated array, for every alias, through calls, loops and
# branches (a `while` condition that draws is lowered inside the body, where changes are carried).
# Each word's counter is used once, so the draws of one seed never overlap and different seeds are
# different keys. The helpers turn bits into numbers the same way for both kinds, so
# `Random.seed!(n)` followed by draws gives the numbers `Xoshiro(n)` gives (neither is Julia's
# Xoshiro256++ stream). No gradient flows through a draw (bits are integers; `convert` from an
# integer has no cotangent), and recomputing one in reverse mode gives the same numbers.

RNG_COUNTER = 0x9E3779B97F4A7C15 >> 1   # the counter word of a seeded state (below 2^63); the key is the seed
UINT64 = Scalar("UInt64")


def rng_seeded_state(seed: ir.Value) -> ir.Value:
    """The state [seed, RNG_COUNTER] (tensor<2xui64>) of an Int64 seed (0-d)."""
    u64 = ir.IntegerType.get_unsigned(64)
    key = hlo.bitcast_convert(ir.RankedTensorType.get([1], u64), B.reshape(seed, (1,)))
    counter = B.dense_constant(np.array([RNG_COUNTER], np.uint64), ir.RankedTensorType.get([1], u64))
    return hlo.concatenate([key, counter], 0)


def rng_fresh_state() -> ir.Value:
    """A state from XLA's stateful generator (`stablehlo.rng`): new on every run."""
    i64 = ir.IntegerType.get_signless(64)
    lo, hi = (B.dense_constant(np.array(v, np.int64), ir.RankedTensorType.get([], i64))
              for v in (np.iinfo(np.int64).min, np.iinfo(np.int64).max))
    words = hlo.rng(lo, hi, B.dense_constant(np.array([2], np.int64), ir.RankedTensorType.get([1], i64)),
                    hlo.RngDistributionAttr.get("UNIFORM"))
    return hlo.bitcast_convert(ir.RankedTensorType.get([2], ir.IntegerType.get_unsigned(64)), words)


def rng_bits(state: ir.Value, dims: tuple[int, ...], width: int) -> tuple[ir.Value, ir.Value]:
    """The state after drawing, and unsigned `width`-bit (32 or 64) random words of shape `dims`."""
    out = ir.RankedTensorType.get(list(dims), ir.IntegerType.get_unsigned(width))
    new, bits = hlo.rng_bit_generator(state.type, out, hlo.RngAlgorithmAttr.get("THREE_FRY"), state)
    return new, bits


def rng_uniform(state: ir.Value, dims: tuple[int, ...], element: ir.Type) -> tuple[ir.Value, ir.Value]:
    """Uniform in [0, 1) of the float type `element`, as Julia makes them from random words: the top
    p bits (p the precision of `element`, 53 for Float64) as an integer, times 2^-p; computed
    exactly (in Float32 for narrower floats, then converted without rounding)."""
    f64 = isinstance(element, ir.F64Type)
    width, work = (64, ir.F64Type.get()) if f64 else (32, ir.F32Type.get())
    p = 53 if f64 else 11 if isinstance(element, ir.F16Type) else 24
    new, bits = rng_bits(state, dims, width)
    top = B.convert(hlo.shift_right_logical(bits, B.full(bits.type, width - p)), work)
    return new, B.convert(hlo.multiply(top, B.full(top.type, 2.0 ** -p)), element)


def rng_normal(state: ir.Value, dims: tuple[int, ...], element: ir.Type) -> tuple[ir.Value, ir.Value]:
    """Standard normal numbers of the float type `element` by Box–Muller (in Float32 for narrower
    floats), two uniforms per number; 1 - u1 is in (0, 1], so the log is finite."""
    work = element if isinstance(element, ir.F64Type) else ir.F32Type.get()
    new, u = rng_uniform(state, (2, *dims), work)
    u1, u2 = (B.reshape(B.slice_(u, [k] + [0] * len(dims), [k + 1, *dims]), dims) for k in (0, 1))
    radius = hlo.sqrt(hlo.multiply(B.full(u1.type, -2.0), hlo.log_plus_one(hlo.negate(u1))))
    z = hlo.multiply(radius, hlo.cosine(hlo.multiply(B.full(u2.type, 2 * math.pi), u2)))
    return new, B.convert(z, element)


def rng_below(state: ir.Value, span: ir.Value, dims: tuple[int, ...]) -> tuple[ir.Value, ir.Value]:
    """Int64s uniform in [0, span) for a 0-d Int64 span ≥ 1 (or one that wraps to a span up to
    2^64): the remainder of 64 random bits (bias below 2^-40 for spans below 2^24)."""
    u64 = ir.IntegerType.get_unsigned(64)
    new, bits = rng_bits(state, dims, 64)
    n = hlo.bitcast_convert(ir.RankedTensorType.get([], u64), span)
    offset = hlo.remainder(bits, B.broadcast(n, dims))
    return new, hlo.bitcast_convert(ir.RankedTensorType.get(list(dims), ir.IntegerType.get_signless(64)), offset)


def rng_words(state: ir.Value, dims: tuple[int, ...], t: Scalar) -> tuple[ir.Value, ir.Value]:
    """Integers of every value of the integer type `t` (Bool: true or false) equally likely."""
    bits = t.info.bits if t.info.kind != "bool" else 1
    new, words = rng_bits(state, dims, 64 if bits == 64 else 32)
    if t.info.kind == "bool":
        one = B.full(words.type, 1)
        return new, B.compare(hlo.and_(words, one), one, "EQ")
    if bits < 32:
        words = B.convert(words, ir.IntegerType.get_unsigned(bits))
    return new, hlo.bitcast_convert(H.tensor_type(t, dims), words)


# the structs of prelude/random.jl that hold a state; TaskLocalRNG (the default generator) is not one
GENERATORS = ("Xoshiro", "MersenneTwister", "StableRNG")


def _generator_state(fl: Lowering, v: Value) -> ArrayV | None:
    """The state array of a generator value (prelude/random.jl), None for other values."""
    if not isinstance(v, StructV) or not isinstance(v.t, StructT) or v.t.name not in GENERATORS:
        return None
    state = v.get("state")
    if not isinstance(state, ArrayV) or state.t.elt != UINT64 or state.t.shape != (2,):
        return None
    fl.note_draw()
    return state


@prim("_rng_seeded")
def _rng_seeded(fl, args, kwargs, node):
    """_rng_seeded(seed): a generator state fixed by the integer seed (prelude/random.jl)."""
    (seed,) = expect_args(args, 1)
    if not isinstance(seed, ScalarV) or not seed.t.info.is_integer or seed.t.info.kind == "bool" or seed.batch:
        raise NoMethod("a generator's seed must be an integer (jlhlo does not seed from arrays or strings)")
    state = rng_seeded_state(fl.materialize(convert_scalar(fl, seed, INT64)))
    return ArrayV(ArrayT(UINT64, (2,)), Box(state))


@prim("_rng_fresh")
def _rng_fresh(fl, args, kwargs, node):
    """_rng_fresh(): a generator state drawn from XLA's own generator, new on every run."""
    expect_args(args, 0)
    fl.note_draw()
    return ArrayV(ArrayT(UINT64, (2,)), Box(rng_fresh_state()))


def _draw_from(fl: Lowering, state: ArrayV, name: str, args: list[Value], node: A.Node) -> Value:
    """rand(rng, [T | collection], dims...) and randn(rng, [T], dims...): the numbers, and `state`
    advanced in place."""
    t, pool = FLOAT64, None
    if args and isinstance(args[0], TypeV):
        t, args = type_arg(args[0]), args[1:]
    elif args and isinstance(args[0], (RangeV, ArrayV)) and name == "rand":
        pool, args = args[0], args[1:]
    if pool is None and (not isinstance(t, Scalar) or t.info.is_complex or t.info.kind != "float" and (
            name == "randn" or not t.info.is_integer and t.info.kind != "bool")):
        what = "floating-point numbers" if name == "randn" else "floating-point numbers, integers and Bool"
        raise NoMethod(f"{name}(rng, {t.julia()}) is not supported (jlhlo draws {what})")
    if any(not isinstance(a, (ScalarV, TupleV)) for a in args):
        raise NoMethod(f"{name}(rng, ...) takes a type{' or a collection' if name == 'rand' else ''} and sizes")
    shape = _dims_args(fl, args, node)
    if pool is None:
        if t.info.kind == "float":
            new, value = (rng_uniform if name == "rand" else rng_normal)(state.ir, shape, H.elt_type(t))
        else:
            new, value = rng_words(state.ir, shape, t)
    else:
        t, new, value = _draw_element(fl, state, pool, shape, node)
    fl.write(state, new, node)
    return ArrayV(ArrayT(t, shape), Box(value)) if shape else ScalarV(t, None, value)


def _draw_element(fl: Lowering, state: ArrayV, pool: RangeV | ArrayV, shape: tuple[int, ...],
                  node: A.Node) -> tuple[Scalar, ir.Value, ir.Value]:
    """Elements of a range or an array, each equally likely: the index by the remainder of 64
    random bits. The element type, the state after, the elements."""
    if isinstance(pool, ArrayV) and (not isinstance(pool.t.elt, Scalar) or pool.t.wrapper is not None):
        raise NoMethod()
    n = range_length(fl, pool) if isinstance(pool, RangeV) else ScalarV(INT64, int(np.prod(pool.t.shape)))
    if n.batch:
        raise LaneConflict()
    fl.check(arith(fl, ">=", n, ScalarV(INT64, 1)), node, "ArgumentError: collection must be non-empty")
    new, k = rng_below(state.ir, fl.materialize(n), shape)
    if isinstance(pool, RangeV) and pool.t.elt.info.is_integer:
        start, step = (B.broadcast(H.convert(fl.materialize(v), INT64), shape) for v in (pool.start, pool.step))
        return pool.t.elt, new, H.convert(hlo.add(start, hlo.multiply(step, k)), pool.t.elt)
    table = collect_range(fl, pool, node) if isinstance(pool, RangeV) else pool
    flat = reshape_colmajor(fl, table, (int(np.prod(table.t.shape)),))
    return table.t.elt, new, B.gather_1d(flat.ir, k)


@prim("_argsort", keywords=("rev",))
def _argsort(fl, args, kwargs, node):
    """_argsort(keys; rev=false): the permutation (1-based) that sorts the vector `keys` by isless,
    ties in index order (sortperm's default, randperm)."""
    (keys,) = expect_args(args, 1)
    if not isinstance(keys, ArrayV) or keys.t.ndims != 1 or keys.t.elt.info.kind not in ("int", "uint", "float"):
        raise NoMethod()
    (n,) = keys.t.shape
    order = _stable_sort(keys, [H.iota(INT64, (n,), 0)], _rev(kwargs, "sortperm"))[1]
    return ArrayV(ArrayT(INT64, (n,)), Box(hlo.add(order, H.constant(INT64, 1, (n,)))))


@prim("rand", "randn")
def _rand(fl, args, kwargs, node, name):
    """rand([T], dims...) draws uniformly from [0, 1), randn([T], dims...) from the standard normal
    distribution, from the default generator. They lower to `stablehlo.rng`, which XLA keeps stateful:
    every execution, loop iteration and call draws new numbers, as Julia's global RNG does (not its
    stream, though: the numbers differ from Julia's). A program that calls Random.seed! draws from one
    threaded generator state instead (mlir_passes/rng.py). With a generator first (`rand(rng, ...)`),
    `_draw_from` draws from it."""
    state = _generator_state(fl, args[0]) if args else None
    if state is not None:
        return _draw_from(fl, state, name, args[1:], node)
    t = FLOAT64
    if args and isinstance(args[0], TypeV):
        t = type_arg(args[0])
        args = args[1:]
    if not isinstance(t, Scalar) or t.info.kind != "float":
        raise NoMethod(f"{name}({t.julia()}) is not supported (jlhlo's default generator draws floating-point "
                       f"numbers only; an explicit one, `rand(Xoshiro(seed), {t.julia()})`, draws integers too)")
    if any(not isinstance(a, (ScalarV, TupleV)) for a in args):
        raise NoMethod(f"{name}(collection) is not supported; use {name}([rng,] [T,] dims...)"
                       + (" or rand([rng,] range, dims...)" if name == "rand" else ""))
    shape = _dims_args(fl, args, node)
    fl.note_draw()
    low, high = (0.0, 1.0)             # UNIFORM: [low, high); NORMAL: mean and standard deviation
    dims = H.array_constant(INT64, np.array(shape, dtype=np.int64))
    kind = hlo.RngDistributionAttr.get("UNIFORM" if name == "rand" else "NORMAL")
    # Float16 is drawn as Float32: XLA's Float16 uniforms round up to 1.0 (one in 4000), so those
    # keep 11 bits (multiples of 2^-11, exact in Float16, below 1)
    work = FLOAT32 if t.info.bits == 16 else t
    drawn = hlo.rng(H.constant(work, low), H.constant(work, high), dims, kind)
    if work != t:
        if name == "rand":
            scale = H.constant(work, 2048.0, shape)
            drawn = hlo.divide(hlo.floor(hlo.multiply(drawn, scale)), scale)
        drawn = H.convert(drawn, t)
    if shape:
        return ArrayV(ArrayT(t, shape), Box(drawn))
    return ScalarV(t, None, drawn)


@prim("seed!")
def _seed(fl, args, kwargs, node):
    """Random.seed!(n): the numbers drawn after it are a fixed stream of n (mlir_passes/rng.py
    threads a generator state through the program's draws); not Julia's stream.
    `seed!(rng, n)` is prelude/random.jl's."""
    if len(args) != 1 or not isinstance(args[0], ScalarV) or not args[0].t.info.is_integer:
        raise NoMethod("Random.seed!(n) with an integer n is supported, and Random.seed!(rng, n) (not seed!())")
    fl.note_draw()                     # in program order with the draws
    hlo.CustomCallOp([], [fl.materialize(convert_scalar(fl, args[0], INT64))], SEED_TARGET, has_side_effect=True)
    return nothing()


@prim("with_sharding_constraint")
def _with_sharding_constraint(fl, args, kwargs, node):
    """with_sharding_constraint(x, (nothing, :data)): x, which a run over a device mesh splits as the
    spec says (per dimension a mesh axis as a Symbol, or `nothing` or `:_` to keep it whole), like
    JAX's; a run on one device ignores it (runtime/sharding.py)."""
    x, spec = expect_args(args, 2)
    if not isinstance(x, ArrayV) or not isinstance(spec, TupleV):
        raise NoMethod("with_sharding_constraint(x::AbstractArray, spec::Tuple) is supported")
    axes = []
    for item in spec.items:
        if not isinstance(item, SingletonV) or item.t not in (SYMBOL, NOTHING):
            raise fl.error(f"with_sharding_constraint: each entry of the spec is a mesh axis (`:data`) or `nothing`, "
                           f"got {item.t.julia()}", node)
        axes.append("_" if item.t == NOTHING else item.name)
    if len(axes) != len(x.t.shape):
        raise fl.error(f"with_sharding_constraint: the spec has {len(axes)} entries for an array of "
                       f"{len(x.t.shape)} dimensions", node)
    if fl.lanes:
        raise LaneConflict()
    value = x.box.value
    hinted = hlo.CustomCallOp([value.type], [value], SHARDING_TARGET, has_side_effect=False,
                              backend_config=ir.StringAttr.get(",".join(axes))).result
    return ArrayV(ArrayT(x.t.elt, x.t.shape), Box(hinted))


@prim("_rand_below")
def _rand_below(fl, args, kwargs, node):
    """_rand_below(n, dims...): Int64s drawn uniformly from 0:n-1 (n ≥ 1), for `rand(range, dims...)`."""
    n = scalar_arg(args[0])
    if n.t != INT64:
        raise NoMethod()
    shape = _dims_args(fl, args[1:], node)
    fl.note_draw()
    dims = H.array_constant(INT64, np.array(shape, dtype=np.int64))
    drawn = hlo.rng(H.constant(INT64, 0), fl.materialize(n), dims, hlo.RngDistributionAttr.get("UNIFORM"))
    return ArrayV(ArrayT(INT64, shape), Box(drawn)) if shape else ScalarV(INT64, None, drawn)


@prim("fill")
def _fill(fl, args, kwargs, node):
    if args and is_record(args[0]):   # `fill((0.0, 1), n)`: an array of tuples, all equal
        return from_lanes(fl, args[0], _dims_args(fl, args[1:], node), node)
    v = scalar_arg(args[0])
    shape = _dims_args(fl, args[1:], node)
    if v.batch:
        raise LaneConflict()
    return ArrayV(ArrayT(v.t, shape), Box(B.broadcast(fl.materialize(v), shape)))


@prim("similar")
def _similar(fl, args, kwargs, node):
    x = args[0]
    if not isinstance(x, (ArrayV, StructArrayV)):
        raise NoMethod()
    t = x.t.elt
    rest = args[1:]
    if rest and isinstance(rest[0], TypeV):
        t = rest[0].of if isinstance(rest[0].of, (TupleT, NamedTupleT, StructT)) else type_arg(rest[0])
        rest = rest[1:]
    shape = _dims_args(fl, rest, node) if rest else x.t.shape
    if not isinstance(t, Scalar):      # `similar(ps)`, `similar(x, Tuple{Float64, Int64})`
        return blank(fl, t, shape, node)
    # Julia leaves the contents undefined; zeros are one valid choice. A row stays a row.
    return ArrayV(ArrayT(t, shape, None if rest else x.t.wrapper), Box(H.constant(t, 0, shape)))


@prim("_stop_gradient")
def _stop_gradient(fl, args, kwargs, node):
    """`x` itself, through which reverse mode passes no gradient (a `stablehlo.optimization_barrier`
    marked NO_GRADIENT, which the pipeline removes after differentiation). For the prelude, where a
    library's own derivative rule leaves a term out (NNlib's softmax rules ignore the shift by the
    maximum, which cancels); the value is a new array, so it is not exposed to user code, where
    `ignore_derivatives(x)` would be `x` itself."""
    (x,) = expect_args(args, 1)
    if isinstance(x, ScalarV) and x.is_const:
        return x
    if not isinstance(x, (ScalarV, ArrayV)):
        raise NoMethod()
    barrier = hlo.OptimizationBarrierOp([x.ir])
    barrier.operation.attributes[NO_GRADIENT] = ir.UnitAttr.get()
    if isinstance(x, ScalarV):
        return ScalarV(x.t, None, barrier.results[0], x.batch)
    return ArrayV(x.t, Box(barrier.results[0]))


@prim("copy")
def _copy(fl, args, kwargs, node):
    (x,) = expect_args(args, 1)
    if isinstance(x, ArrayV):
        return ArrayV(x.t, Box(x.ir))
    if isinstance(x, StructArrayV):
        return StructArrayV(x.t, tuple(ArrayV(leaf.t, Box(leaf.ir)) for leaf in x.items))
    return x


@prim("deepcopy")
def _deepcopy(fl, args, kwargs, node):
    """Every array inside `x` copied; one array reached twice stays one array in the copy."""
    (x,) = expect_args(args, 1)
    copies: dict[int, Box] = {}

    def copied(leaf: Value) -> Value:
        if not isinstance(leaf, ArrayV):
            return leaf
        return ArrayV(leaf.t, copies.setdefault(id(leaf.box), Box(leaf.ir)))
    return map_leaves(x, copied)


@prim("collect")
def _collect(fl, args, kwargs, node):
    (x,) = expect_args(args, 1)
    if isinstance(x, RangeV):
        return collect_range(fl, x, node)
    if isinstance(x, ArrayV):               # an Array: a row vector becomes a 1×n Matrix
        return ArrayV(ArrayT(x.t.elt, x.t.shape), Box(x.ir))
    if isinstance(x, TupleV):
        return vect(fl, list(x.items), node)
    if isinstance(x, StructArrayV):
        return _copy(fl, [x], {}, node)
    raise NoMethod()


@prim("fill!")
def _fill_bang(fl, args, kwargs, node):
    x, v = expect_args(args, 2)
    if not isinstance(x, ArrayV):
        raise NoMethod()
    fl.write(x, fit_to_shape(fl, v, x.t, node), node)
    return x


@prim("copyto!")
def _copyto(fl, args, kwargs, node):
    dst, src = expect_args(args, 2)
    if not isinstance(dst, ArrayV) or not isinstance(src, ArrayV):
        raise NoMethod()
    n, total = int(np.prod(src.t.shape)), int(np.prod(dst.t.shape))
    if n > total:
        raise NoMethod(f"BoundsError: copyto! of {shape_str(src.t.shape)} into {shape_str(dst.t.shape)}")
    if n < total:                      # Julia overwrites the first n elements (in memory order) only
        head = fit_to_shape(fl, reshape_colmajor(fl, src, (n,)), ArrayT(dst.t.elt, (n,)), node)
        rest = B.slice_(reshape_colmajor(fl, dst, (total,)).ir, [n], [total])
        src = ArrayV(ArrayT(dst.t.elt, (total,)), Box(hlo.concatenate([head, rest], 0)))
    if dst.t.shape != src.t.shape:
        src = reshape_colmajor(fl, src, dst.t.shape)
    fl.write(dst, fit_to_shape(fl, src, dst.t, node), node)
    return dst


@prim("reshape")
def _reshape(fl, args, kwargs, node):
    x = args[0]
    if not isinstance(x, ArrayV):
        raise NoMethod()
    dims = list(args[1].items) if len(args) == 2 and isinstance(args[1], TupleV) else args[1:]
    total = int(np.prod(x.t.shape, dtype=np.int64))
    shape, free = [], None
    for i, d in enumerate(dims):
        if isinstance(d, SingletonV) and d.t.name == "Colon":
            if free is not None:
                raise NoMethod("reshape allows at most one `:`")
            free = i
            shape.append(1)
        else:
            shape.append(_dims_args(fl, [d], node)[0])
    if free is not None:
        known = int(np.prod(shape, dtype=np.int64))
        if known == 0 or total % known:
            raise NoMethod(f"DimensionMismatch: array of size {shape_str(x.t.shape)} cannot be reshaped with a `:`"
                           f" to fit {len(shape)} dimensions")
        shape[free] = total // known
    if int(np.prod(shape, dtype=np.int64)) != total:
        raise NoMethod(f"DimensionMismatch: new dimensions {shape_str(shape)} must be consistent with array size "
                       f"{total}")
    return shared_reshape(x, tuple(shape))


@prim("vec")
def _vec(fl, args, kwargs, node):
    (x,) = expect_args(args, 1)
    if isinstance(x, RangeV):
        return collect_range(fl, x, node)
    if not isinstance(x, ArrayV):
        raise NoMethod()
    if x.t.ndims == 1:
        return x                       # vec of a vector is the vector itself
    return shared_reshape(x, (int(np.prod(x.t.shape, dtype=np.int64)),))


@prim("permutedims")
def _permutedims(fl, args, kwargs, node):
    x = args[0]
    if not isinstance(x, ArrayV):
        raise NoMethod()
    if len(args) == 1:
        if x.t.ndims == 1:
            perm = None
        elif x.t.ndims == 2:
            perm = (1, 0)
        else:
            raise NoMethod()
    else:
        p = args[1]
        items = p.items if isinstance(p, TupleV) else ()
        perm = tuple(const_int(i, "permutedims(x, perm): the permutation") - 1 for i in items)
        if sorted(perm) != list(range(x.t.ndims)):
            raise NoMethod(f"ArgumentError: {tuple(i + 1 for i in perm)} is not a valid permutation of "
                           f"{x.t.ndims} dimensions")
    if perm is None:
        return reshape_colmajor(fl, x, (1, x.t.shape[0]))
    shape = tuple(x.t.shape[i] for i in perm)
    return ArrayV(ArrayT(x.t.elt, shape), Box(hlo.transpose(x.ir, list(perm))))


@prim("transpose", "adjoint")
def _transpose(fl, args, kwargs, node, name):
    (x,) = expect_args(args, 1)
    if isinstance(x, ScalarV):
        return complex_parts(fl, [x], {}, node, name="conj") if name == "adjoint" else x
    if not isinstance(x, ArrayV) or x.t.ndims > 2:
        raise NoMethod()
    return adjoint_view(x, conj=name == "adjoint")


@prim("hcat", "vcat", "cat", keywords=("dims",))
def _cat(fl, args, kwargs, node, name):
    if name == "cat":
        dims = kwargs.get("dims")
        if dims is None:
            raise NoMethod("cat needs a `dims` keyword")
        dim = const_int(dims, "cat's `dims`") - 1
    else:
        dim = 1 if name == "hcat" else 0
    if args and all(isinstance(a, StructArrayV) for a in args):
        # arrays of tuples or structs of one element type: each of their arrays concatenated
        if len({a.t.elt for a in args}) != 1:
            raise NoMethod(f"concatenating arrays of different element types ({', '.join(a.t.julia() for a in args)}) "
                           f"is not supported")
        parts = [concatenate(fl, list(leaves), dim, node) for leaves in zip(*(a.items for a in args))]
        return StructArrayV(ArrayT(args[0].t.elt, parts[0].t.shape), tuple(parts))
    return concatenate(fl, args, dim, node)


@prim("reverse", keywords=("dims",))
def _reverse(fl, args, kwargs, node):
    (x,) = expect_args(args, 1)
    if isinstance(x, RangeV):
        x = collect_range(fl, x, node)
    if isinstance(x, StructArrayV):
        return StructArrayV(x.t, tuple(_reverse(fl, [leaf], kwargs, node) for leaf in x.items))
    if not isinstance(x, ArrayV):
        raise NoMethod()
    dims = kwargs.get("dims")
    axes = None if dims is None else _dims_of(fl, dims, x.t.ndims)
    return ArrayV(x.t, Box(hlo.reverse(x.ir, list(range(x.t.ndims)) if axes is None else axes)))   # dims=: is all


@prim("_sort", keywords=("rev",))
def _sort(fl, args, kwargs, node):
    """_sort(v; rev=false), `sort` of a real vector in the default order (prelude/collections.jl):
    ascending (NaN last, as Julia's isless) with `stablehlo.sort`."""
    (x,) = expect_args(args, 1)
    if not isinstance(x, ArrayV) or x.t.ndims != 1 or x.t.elt.info.is_complex:
        raise NoMethod("sort is supported for real vectors")
    return ArrayV(x.t, Box(_stable_sort(x, [], _rev(kwargs, "sort"))[0]))


def _rev(kwargs: dict, name: str) -> bool:
    rev = kwargs.get("rev", ScalarV(BOOL, False))
    if not isinstance(rev, ScalarV) or not rev.is_const:
        raise NoMethod(f"{name}'s `rev` must be a compile-time constant")
    return bool(rev.const)


def _stable_sort(keys: ArrayV, others: list[ir.Value], rev: bool) -> list[ir.Value]:
    """`keys` (a vector) and `others` sorted by the keys in Julia's `isless` order (-0.0 before
    0.0, every NaN last whatever its sign), equal keys keeping their order, also with `rev`."""
    op = hlo.SortOp([keys.ir.type, *(o.type for o in others)], [keys.ir, *others], dimension=0, is_stable=True)
    types = [H.tensor_type(keys.t.elt)] + [ir.RankedTensorType.get([], B.tensor(o).element_type) for o in others]
    block = op.regions[0].blocks.append(*(t for t in types for _ in (0, 1)))
    with ir.InsertionPoint(block):
        a, b = block.arguments[0], block.arguments[1]
        if rev:
            a, b = b, a
        kind = keys.t.elt.info.kind
        if kind == "float":            # NaNs made one positive NaN: the total order puts it last
            nan = H.constant(keys.t.elt, float("nan"))
            a, b = (hlo.select(H.compare("NE", v, v, "float"), nan, v) for v in (a, b))
        hlo.ReturnOp([H.compare("LT", a, b, "totalorder" if kind == "float" else kind)])
    return list(op.results)


@prim("_linear_indices")
def _linear_indices(fl, args, kwargs, node):
    """The column-major linear index (1-based) of every element of x, shaped like x."""
    (x,) = expect_args(args, 1)
    if not isinstance(x, (ArrayV, StructArrayV)):
        raise NoMethod()
    strides = np.cumprod((1,) + x.t.shape[:-1])
    value = H.constant(INT64, 1, x.t.shape)
    for d, stride in enumerate(strides):
        term = hlo.multiply(H.iota(INT64, x.t.shape, d), H.constant(INT64, int(stride), x.t.shape))
        value = hlo.add(value, term)
    return ArrayV(ArrayT(INT64, x.t.shape), Box(value))


@prim("_broadcast_map")
def _broadcast_map(fl, args, kwargs, node):
    """map(f, xs...) and f.(xs...) share the broadcast machinery; `map` requires equal shapes."""
    f, *xs = args
    shapes = {tuple(_shape(x)) for x in xs if isinstance(x, (ArrayV, RangeV))}
    if len(shapes) > 1:
        raise NoMethod("DimensionMismatch: map over arrays of different sizes " +
                       ", ".join(shape_str(s) for s in sorted(shapes)))
    if all(isinstance(x, TupleV) for x in xs) and xs:
        return make_tuple(call_value(fl, f, list(items), {}, node) for items in zip(*(x.items for x in xs)))
    if all(isinstance(x, ArrayListV) for x in xs) and xs:
        if len({len(x.items) for x in xs}) > 1:
            raise NoMethod("DimensionMismatch: map over vectors of different lengths")
        # a vector of arrays (`eachcol(A)`): f of each array, as Julia's map
        return vect(fl, [call_value(fl, f, list(items), {}, node) for items in zip(*(x.items for x in xs))], node)
    return broadcast_call(fl, f, list(xs), {}, node)


@prim("_foldl")
def _foldl(fl, args, kwargs, node):
    """reduce over a tuple, or with an operator that is not a built-in reducer, left to right."""
    op, x = expect_args(args, 2)
    if isinstance(x, TupleV):
        items = list(x.items)
    else:
        raise NoMethod()
    if not items:
        raise NoMethod("ArgumentError: reducing over an empty collection is not allowed")
    acc = items[0]
    for it in items[1:]:
        acc = call_value(fl, op, [acc, it], {}, node)
    return acc


@prim("factorial")
def _factorial(fl, args, kwargs, node):
    """factorial(n::Int64) from Base's table: a DomainError below 0 and an OverflowError above 20,
    checked at run time for a run-time n (reported after the run)."""
    n = scalar_arg(expect_args(args, 1)[0])
    if n.t != INT64:
        raise NoMethod()
    if n.is_const and not 0 <= n.const <= 20:
        raise NoMethod(f"DomainError with {n.const}: `n` must not be negative." if n.const < 0 else
                       f"OverflowError: {n.const} is too large to look up in the table; consider using "
                       f"`factorial(big({n.const}))` instead")
    if n.is_const:
        return ScalarV(INT64, math.factorial(n.const))
    fl.check(arith(fl, ">=", n, ScalarV(INT64, 0)), node, "DomainError: factorial of a negative number (at run time)")
    fl.check(arith(fl, "<=", n, ScalarV(INT64, 20)), node,
             "OverflowError: factorial(n) of an Int64 n > 20 is too large to look up in the table (at run time)")
    index = hlo.clamp(H.constant(INT64, 0, n.batch), n.ir, H.constant(INT64, 20, n.batch))
    table = H.array_constant(INT64, np.array([math.factorial(k) for k in range(21)], dtype=np.int64))
    return ScalarV(INT64, None, B.gather_1d(table, index), n.batch)


@prim("step")
def _step(fl, args, kwargs, node):
    (r,) = expect_args(args, 1)
    if not isinstance(r, RangeV):
        raise NoMethod()
    return r.step


@prim("_runtime_length")
def _runtime_length(fl, args, kwargs, node):
    """Whether the length of a range is known only at run time (the prelude then reduces it in a loop)."""
    (r,) = expect_args(args, 1)
    return ScalarV(BOOL, isinstance(r, RangeV) and not range_length(fl, r).is_const)


@prim("_check_nonempty")
def _check_nonempty(fl, args, kwargs, node):
    """Julia's error for reducing an empty collection without `init`, checked at run time."""
    (r,) = expect_args(args, 1)
    fl.check(arith(fl, ">", range_length(fl, r), ScalarV(INT64, 0)), node,
             "ArgumentError: reducing over an empty collection is not allowed; consider supplying `init` to the "
             "reducer")
    return nothing()


@prim("_is_builtin_reducer")
def _is_builtin_reducer(fl, args, kwargs, node):
    (op,) = expect_args(args, 1)
    return ScalarV(BOOL, isinstance(op, FuncV) and op.name in _REDUCERS)


@prim("Symbol")
def _symbol(fl, args, kwargs, node):
    raise NoMethod("Symbol values are not supported")


@prim("nothing_value")
def _nothing(fl, args, kwargs, node):
    return nothing()




@prim("-")
def _minus(fl, args, kwargs, node):
    if len(args) == 1:
        a = args[0]
        if isinstance(a, ArrayV):
            return _elementwise(fl, "-", args, node)
        a = scalar_arg(a)
        t = a.t if a.t.info.kind != "bool" else INT64
        if a.is_const:
            return ScalarV(t, as_py(as_np(t, -as_np(t, a.const))))
        return ScalarV(t, None, hlo.negate(as_ir(fl, a, t, a.batch)), a.batch)
    return _binary_prim("-")(fl, args, kwargs, node)


@prim("+")
def _plus(fl, args, kwargs, node):
    if len(args) == 1:
        return args[0]
    if len(args) > 2:
        out = args[0]
        for a in args[1:]:
            out = _plus(fl, [out, a], kwargs, node)
        return out
    return _binary_prim("+")(fl, args, kwargs, node)


def _elementwise(fl: Lowering, op: str, args: list[Value], node: A.Node) -> Value:
    return broadcast_call(fl, FuncV(op), args, {}, node)


_INTEGER_DIVISIONS = ("÷", "div", "%", "rem", "mod")
_REAL_ONLY = frozenset(("<", "<=", ">", ">=", "≤", "≥", "isless", "÷", "div", "%", "rem", "mod", "max", "min",
                        "&", "|", "xor", "⊻", "<<", ">>", ">>>"))


def _check_divisor(fl: Lowering, op: str, a: ScalarV, b: ScalarV, node: A.Node) -> None:
    """Integer division by zero, and `typemin ÷ -1` (whose quotient does not fit), throw Julia's
    DivideError. Certain to fail (a constant zero): the expression throws (`exceptions.Threw`)."""
    t = promote(a.t, b.t)
    a, b = convert_scalar(fl, a, t), convert_scalar(fl, b, t)
    bad = arith(fl, "==", b, ScalarV(t, 0))
    if op in ("÷", "div") and t.info.kind == "int":
        lowest = ScalarV(t, int(np.iinfo(t.info.np).min))
        bad = arith(fl, "|", bad, arith(fl, "&", arith(fl, "==", a, lowest), arith(fl, "==", b, ScalarV(t, -1))))
    if bad.is_const and bad.const:
        fail(fl, "DivideError: integer division error", node)
        raise Threw()
    fl.check(fl.scalar_not(bad), node, "DivideError: integer division error")


def _check_promotes_to_unsigned(fl: Lowering, a: ScalarV, b: ScalarV, node: A.Node) -> None:
    """max/min of a signed and an unsigned integer promote both to the unsigned type (Base's
    `max(x::Real, y::Real) = max(promote(x, y)...)`), which for a negative value is Julia's
    InexactError (arithmetic wraps with `%` instead)."""
    s, unsigned = (a if a.t.info.kind == "int" else b), promote(a.t, b.t).name
    if s.is_const:                     # signedness_differs: a constant here is negative
        fail(fl, f"InexactError: convert({unsigned}, {show_number(s)})", node)
        raise Threw()
    fl.check(arith(fl, ">=", s, ScalarV(s.t, 0)), node,
             f"InexactError: convert({unsigned}, x) with x a negative {s.t.name}")


def _check_real_power(fl: Lowering, a: ScalarV, b: ScalarV, node: A.Node) -> None:
    """`x^y` of a negative x and a finite non-integral y is Julia's DomainError (XLA gives NaN)."""
    t = promote(a.t, b.t)
    x, y = convert_scalar(fl, a, t), convert_scalar(fl, b, t)
    fractional = arith(fl, "&", fl.call_function("isfinite", [y], {}, node),
                       arith(fl, "!=", y, fl.call_function("trunc", [y], {}, node)))
    bad = arith(fl, "&", arith(fl, "<", x, ScalarV(t, 0)), fractional)
    shown = f"DomainError with {show_number(x)}:\n" if x.is_const else "DomainError: "
    fl.check(fl.scalar_not(bad), node, shown + "Exponentiation yielding a complex result requires a complex argument.\n"
             "Replace x^y with (x+0im)^y, Complex(x)^y, or similar.")


def _binary_prim(op: str):
    def rule(fl, args, kwargs, node):
        if len(args) != 2:
            if op in ("max", "min", "*", "&", "|") and len(args) > 2:
                out = args[0]
                for a in args[1:]:
                    out = rule(fl, [out, a], kwargs, node)
                return out
            raise NoMethod()
        a, b = args
        if isinstance(a, ScalarV) and isinstance(b, ScalarV):
            if op in _REAL_ONLY and (a.t.info.is_complex or b.t.info.is_complex):
                raise NoMethod()       # Julia: MethodError (complex numbers have no order)
            if op in _INTEGER_DIVISIONS and promote(a.t, b.t).info.is_integer:
                _check_divisor(fl, op, a, b, node)
            if op == "^" and b.t.info.is_float and promote(a.t, b.t).info.is_float:
                _check_real_power(fl, a, b, node)
            if op in ("max", "min") and signedness_differs(a, b):
                _check_promotes_to_unsigned(fl, a, b, node)
            if op == "^" and needs_power_by_squaring(a, b):
                base = convert_scalar(fl, a, INT64) if a.t == BOOL else a
                return fl.call_function("_integer_power", [base, b], {}, node)
            return arith(fl, op, a, b)
        if op in ("+", "-") and isinstance(a, ArrayV) and isinstance(b, ArrayV):
            if a.t.shape != b.t.shape:
                raise NoMethod(f"DimensionMismatch: a has size {shape_str(a.t.shape)}, b has size "
                               f"{shape_str(b.t.shape)}, mismatch in `{op}` (use `.{op}` to broadcast)")
            return _elementwise(fl, op, args, node)
        if op in ("*",) and (isinstance(a, ScalarV) and isinstance(b, ArrayV) or
                             isinstance(a, ArrayV) and isinstance(b, ScalarV)):
            return _elementwise(fl, op, args, node)
        if op in ("/",) and isinstance(a, ArrayV) and isinstance(b, ScalarV):
            return _elementwise(fl, op, args, node)
        if op == "*" and isinstance(a, ArrayV) and isinstance(b, ArrayV):
            return matmul(fl, a, b, node)
        if op in ("==", "!=", "===", "!==", "≡", "isequal") and not (isinstance(a, ScalarV) and isinstance(b, ScalarV)):
            eq = _values_equal(fl, a, b, node, {"!=": "==", "!==": "===", "≡": "==="}.get(op, op))
            return eq if op in ("==", "===", "≡", "isequal") else fl.scalar_not(eq)
        if _is_uniform_scaling(a) or _is_uniform_scaling(b):
            return _uniform_scaling(fl, op, a, b, node)
        raise NoMethod()
    return rule


def _is_uniform_scaling(v: Value) -> bool:
    return isinstance(v, StructV) and isinstance(v.t, StructT) and v.t.name == "UniformScaling"


def _uniform_scaling(fl: Lowering, op: str, a: Value, b: Value, node: A.Node) -> Value:
    """LinearAlgebra's `I`: λI scales, and A ± λI adds λ on the diagonal of a square matrix."""
    if op == "*" and isinstance(a, ScalarV) and _is_uniform_scaling(b):
        return default_construct(fl, "UniformScaling", [arith(fl, "*", a, b.items[0])], node)
    if op in ("*", "/") and _is_uniform_scaling(a) and isinstance(b, ScalarV):
        return default_construct(fl, "UniformScaling", [arith(fl, op, a.items[0], b)], node)
    if op == "*" and _is_uniform_scaling(a) and isinstance(b, ArrayV):
        return _elementwise(fl, "*", [a.items[0], b], node)
    if op == "*" and isinstance(a, ArrayV) and _is_uniform_scaling(b):
        return _elementwise(fl, "*", [a, b.items[0]], node)
    if op in ("+", "-"):
        matrix, scaling = (a, b) if isinstance(a, ArrayV) else (b, a)
        if isinstance(matrix, ArrayV) and _is_uniform_scaling(scaling) and matrix.t.ndims == 2:
            n, m = matrix.t.shape
            if n != m:
                raise NoMethod(f"DimensionMismatch: a matrix of size {shape_str(matrix.t.shape)} is not square, "
                               f"so `{op} I` is not defined")
            λ = scaling.items[0]
            t = promote(matrix.t.elt, λ.t)
            eye = H.convert(_eye((n, n)), t)
            diag = ArrayV(ArrayT(t, (n, n)), Box(hlo.multiply(eye, B.broadcast(fl.materialize(
                convert_scalar(fl, λ, t)), (n, n)))))
            if op == "+":
                return _elementwise(fl, "+", [matrix, diag], node)
            return _elementwise(fl, "-", [a, diag] if a is matrix else [diag, b], node)
    raise NoMethod()


def _values_equal(fl: Lowering, a: Value, b: Value, node: A.Node, op: str) -> ScalarV:
    """`==`, `===` and `isequal` (op) beyond numbers: types, functions and symbols compare at compile
    time; arrays element by element, except `===`, which asks whether they are the same array;
    tuples item by item; a struct's fields with `===` (Julia's default `==` for structs)."""
    if isinstance(a, TypeV) and isinstance(b, TypeV):
        same = fl.program.universe.same_type(a.of, b.of)
        if same is None:
            raise NoMethod("comparing these types is not supported (one has free type parameters)")
        return ScalarV(BOOL, same)
    if isinstance(a, (FuncV, SingletonV)) or isinstance(b, (FuncV, SingletonV)):
        return ScalarV(BOOL, type(a) is type(b) and a.t == b.t and getattr(a, "name", None) == getattr(b, "name", None))
    if op != "===" and (isinstance(a, RangeV) or isinstance(b, RangeV)) \
            and isinstance(a, (ArrayV, RangeV)) and isinstance(b, (ArrayV, RangeV)):
        a, b = (collect_range(fl, v, node) if isinstance(v, RangeV) else v for v in (a, b))
    if isinstance(a, (ArrayV, StructArrayV)) and isinstance(b, (ArrayV, StructArrayV)):
        if op == "===":
            box_a, box_b = (v.box if isinstance(v, ArrayV) else v.items[0].box for v in (a, b))
            if box_a is box_b or not (box_a.derived or box_b.derived):
                return ScalarV(BOOL, box_a is box_b)
            raise NoMethod("`===` of a view or a branch-dependent array is not supported")
        if a.t.shape != b.t.shape:
            return ScalarV(BOOL, False)
        # element by element; an array of tuples or structs compares them as `==` of two elements does
        return _reduce(fl, [FuncV("&"), broadcast_call(fl, FuncV(op), [a, b], {}, node), colon()], {}, node)
    if isinstance(a, ArrayListV) and isinstance(b, ArrayListV) and op != "===":
        if a.t.shape != b.t.shape:
            return ScalarV(BOOL, False)
        out = ScalarV(BOOL, True)
        for x, y in zip(a.items, b.items):
            out = arith(fl, "&", out, fl.call_function(op, [x, y], {}, node))
        return out
    if isinstance(a, StructV) and isinstance(b, StructV) and (is_mutable(fl, a.t) or is_mutable(fl, b.t)):
        same = same_object(a, b)       # Julia's `==` and `===` of mutable structs: the same object
        if same is None:
            raise NoMethod("whether two mutable structs that come from different branches are the same object "
                           "cannot be decided when compiling")
        return ScalarV(BOOL, same)
    if isinstance(a, (TupleV, StructV)) and isinstance(b, (TupleV, StructV)):
        if a.t.__class__ is not b.t.__class__ or len(a.items) != len(b.items) or op == "===" and a.t != b.t:
            return ScalarV(BOOL, False)
        item_op = "===" if isinstance(a.t, StructT) else op
        out = ScalarV(BOOL, True)
        for x, y in zip(a.items, b.items):
            part = fl.call_function(item_op, [x, y], {}, node)
            out = arith(fl, "&", out, part)
        return out
    if a.t != b.t and not all(isinstance(v, (ArrayV, StructArrayV, ArrayListV, RangeV)) for v in (a, b)):
        return ScalarV(BOOL, False)    # Julia's fallback `x === y`: values of different types differ
    raise NoMethod(f"comparing a {a.t.julia()} and a {b.t.julia()} with `{op}` is not supported")


for _op in ARITH:
    if _op not in ("+", "-"):
        prim(_op)(_binary_prim(_op))


# ============================================================================ the fields of a struct
# Functors.jl's view of any struct or named tuple (prelude/functors.jl): its children are its fields,
# and it is rebuilt from new ones by its default constructor.
def _field_names(v: Value) -> tuple[str, ...] | None:
    if isinstance(v, StructV):
        return tuple(v.t.field_names) if isinstance(v.t, StructT) else tuple(v.t.names)
    return None


@prim("_field_values")
def _field_values(fl, args, kwargs, node):
    """_field_values(v, x): the values v holds under x's field names, in x's order (v is x, its
    gradient or its optimiser state: a struct or named tuple with those names)."""
    v, x = expect_args(args, 2)
    names = _field_names(x)
    if names is None or _field_names(v) is None:
        raise NoMethod()
    return make_tuple(get_field(fl, v, name, node) for name in names)


@prim("_with_fields")
def _with_fields(fl, args, kwargs, node):
    """_with_fields(x, values): a value of x's struct (its type parameters from the new values) or a
    named tuple with x's names, holding `values`."""
    x, values = expect_args(args, 2)
    if not isinstance(values, TupleV) or _field_names(x) is None:
        raise NoMethod()
    if isinstance(x.t, StructT):
        return default_construct(fl, x.t.name, list(values.items), node)
    return _named_like(fl, [x, values], {}, node)


@prim("_named_like")
def _named_like(fl, args, kwargs, node):
    """_named_like(x, values): the named tuple of x's field names and `values`."""
    x, values = expect_args(args, 2)
    names = _field_names(x)
    if names is None or not isinstance(values, TupleV) or len(values.items) != len(names):
        raise NoMethod()
    return StructV(NamedTupleT(names, tuple(v.t for v in values.items)), tuple(values.items))
