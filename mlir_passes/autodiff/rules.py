"""VJP rules, one table: op name -> `rule(ctx, op, cts) -> [cotangent of each operand or None]`.

`op` is the forward op (its operands and results are values of the function being built), `cts`
the cotangents of its results (None: zero; never all None). Elementwise ops share `_unary` /
`_binary`, given the partial derivatives; structural ops emit the transposed structural op.
The location of emitted ops is the differentiated op's, set by the sweep.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from jax.extend.mlir import ir
from jax.extend.mlir.dialects import stablehlo as hlo

from ...core import builder as B
from ...core.builder import attr, int_list, shape
from ...core.ops import NO_GRADIENT, PASS_FIRST, SHARDING_TARGET
from . import control
from .errors import ADError
from .sweep import Ctx, body_ops, terminator

Cts = list["ir.Value | None"]
Rule = Callable[[Ctx, ir.Operation, Cts], Cts]
RULES: dict[str, Rule] = {}


def _one(x: ir.Value, v: float = 1.0) -> ir.Value:
    return B.full(x, v)


# ---- elementwise ------------------------------------------------------------------------------

def _unary(deriv: Callable[[ir.Value, ir.Value], ir.Value]) -> Rule:
    """y = f(x): x̄ = ȳ · f'(x), with f'(x) given from x and y."""
    def rule(ctx: Ctx, op: ir.Operation, cts: Cts) -> Cts:
        return [hlo.multiply(cts[0], deriv(op.operands[0], op.results[0]))]
    return rule


def _binary(da: Callable | None, db: Callable | None) -> Rule:
    """y = f(a, b): ā = ȳ · ∂f/∂a, b̄ = ȳ · ∂f/∂b, each partial given from (a, b, y); None: no gradient."""
    def rule(ctx: Ctx, op: ir.Operation, cts: Cts) -> Cts:
        a, b = op.operands
        y, g = op.results[0], cts[0]
        return [hlo.multiply(g, d(a, b, y)) if d and B.is_float(v) else None for d, v in ((da, a), (db, b))]
    return rule


def _balanced(x: ir.Value, other: ir.Value, y: ir.Value) -> ir.Value:
    """1 where x alone is the max/min, ½ on a tie, 0 elsewhere (as JAX splits ties)."""
    half = hlo.select(B.compare(other, y, "EQ"), _one(x, 0.5), _one(x))
    return hlo.select(B.compare(x, y, "EQ"), half, B.zeros(x))


def _pow_da(a: ir.Value, b: ir.Value, y: ir.Value) -> ir.Value:
    bf = B.convert(b, a)
    d = hlo.multiply(bf, hlo.power(a, hlo.subtract(bf, _one(bf))))
    return hlo.select(B.compare(bf, B.zeros(bf), "EQ"), B.zeros(a), d)


def _pow_db(a: ir.Value, b: ir.Value, y: ir.Value) -> ir.Value:
    safe = hlo.select(B.compare(a, B.zeros(a), "EQ"), _one(a), a)
    return hlo.multiply(y, hlo.log(safe))


def _atan2_denominator(a: ir.Value, b: ir.Value) -> ir.Value:
    return hlo.add(hlo.multiply(a, a), hlo.multiply(b, b))


_maximum = _binary(lambda a, b, y: _balanced(a, b, y), lambda a, b, y: _balanced(b, a, y))

RULES.update({
    "stablehlo.exponential": _unary(lambda x, y: y),
    "stablehlo.exponential_minus_one": _unary(lambda x, y: hlo.add(y, _one(y))),
    "stablehlo.log": _unary(lambda x, y: hlo.divide(_one(x), x)),
    "stablehlo.log_plus_one": _unary(lambda x, y: hlo.divide(_one(x), hlo.add(_one(x), x))),
    "stablehlo.sqrt": _unary(lambda x, y: hlo.divide(_one(y, 0.5), y)),
    "stablehlo.rsqrt": _unary(lambda x, y: hlo.multiply(_one(x, -0.5), hlo.divide(y, x))),
    "stablehlo.cbrt": _unary(lambda x, y: hlo.divide(_one(y, 1 / 3), hlo.multiply(y, y))),
    "stablehlo.tanh": _unary(lambda x, y: hlo.subtract(_one(y), hlo.multiply(y, y))),
    "stablehlo.sine": _unary(lambda x, y: hlo.cosine(x)),
    "stablehlo.cosine": _unary(lambda x, y: hlo.negate(hlo.sine(x))),
    "stablehlo.tan": _unary(lambda x, y: hlo.add(_one(y), hlo.multiply(y, y))),
    "stablehlo.logistic": _unary(lambda x, y: hlo.multiply(y, hlo.subtract(_one(y), y))),
    "stablehlo.abs": _unary(lambda x, y: hlo.sign(x)),
    "stablehlo.multiply": _binary(lambda a, b, y: b, lambda a, b, y: a),
    "stablehlo.divide": _binary(lambda a, b, y: hlo.divide(_one(b), b),
                                lambda a, b, y: hlo.negate(hlo.divide(y, b))),
    "stablehlo.power": _binary(_pow_da, _pow_db),
    "stablehlo.maximum": lambda ctx, op, cts: [cts[0], None] if PASS_FIRST in op.attributes else _maximum(ctx, op, cts),
    "stablehlo.minimum": _binary(lambda a, b, y: _balanced(a, b, y), lambda a, b, y: _balanced(b, a, y)),
    "stablehlo.remainder": _binary(lambda a, b, y: _one(a), lambda a, b, y: hlo.negate(
        hlo.multiply(hlo.sign(hlo.divide(a, b)), hlo.floor(hlo.abs(hlo.divide(a, b)))))),
    "stablehlo.atan2": _binary(lambda a, b, y: hlo.divide(b, _atan2_denominator(a, b)),
                               lambda a, b, y: hlo.negate(hlo.divide(a, _atan2_denominator(a, b)))),
})


def _linear(*signs: int) -> Rule:
    """Ops linear in each operand with coefficient ±1 (negate, add, subtract)."""
    def rule(ctx: Ctx, op: ir.Operation, cts: Cts) -> Cts:
        return [cts[0] if s > 0 else hlo.negate(cts[0]) for s in signs]
    return rule


def _no_gradient(ctx: Ctx, op: ir.Operation, cts: Cts) -> Cts:
    """Piecewise-constant or non-differentiable ops (and constants): zero cotangents."""
    return [None] * len(op.operands)


RULES.update({
    "stablehlo.negate": _linear(-1), "stablehlo.add": _linear(1, 1), "stablehlo.subtract": _linear(1, -1),
})
for _name in ("constant", "iota", "floor", "ceil", "sign", "round_nearest_even", "round_nearest_afz", "compare",
              "and", "or", "not", "xor", "is_finite", "shift_left", "shift_right_logical",
              "shift_right_arithmetic", "popcnt", "count_leading_zeros", "rng_bit_generator"):
    RULES["stablehlo." + _name] = _no_gradient


def _select(ctx: Ctx, op: ir.Operation, cts: Cts) -> Cts:
    p, g = op.operands[0], cts[0]
    zero = B.zeros(g)
    return [None, hlo.select(p, g, zero), hlo.select(p, zero, g)]


def _clamp(ctx: Ctx, op: ir.Operation, cts: Cts) -> Cts:
    lo, x, hi = op.operands
    g, dims = cts[0], shape(x)
    lob, hib = (v if shape(v) == dims else B.broadcast(v, dims, []) for v in (lo, hi))
    zero = B.zeros(g)
    inside = hlo.and_(B.compare(x, lob, "GT"), B.compare(x, hib, "LT"))
    return [B.sum_to_shape(hlo.select(B.compare(lob, x, "GE"), g, zero), shape(lo)),
            hlo.select(inside, g, zero),
            B.sum_to_shape(hlo.select(B.compare(hib, x, "LE"), g, zero), shape(hi))]


def _convert(ctx: Ctx, op: ir.Operation, cts: Cts) -> Cts:
    x = op.operands[0]
    return [B.convert(cts[0], x) if B.is_float(x) else None]


RULES.update({"stablehlo.select": _select, "stablehlo.clamp": _clamp, "stablehlo.convert": _convert})


# ---- shapes -----------------------------------------------------------------------------------

def _broadcast_in_dim(ctx: Ctx, op: ir.Operation, cts: Cts) -> Cts:
    x, g = op.operands[0], cts[0]
    dims = int_list(op.attributes["broadcast_dimensions"])
    summed = B.reduce_sum(g, [d for d in range(len(shape(g))) if d not in dims])
    order = sorted(dims)
    perm = [order.index(d) for d in dims]
    return [B.sum_to_shape(B.transpose(summed, perm), shape(x))]


def _transpose(ctx: Ctx, op: ir.Operation, cts: Cts) -> Cts:
    perm = int_list(op.attributes["permutation"])
    return [B.transpose(cts[0], list(np.argsort(perm)))]


def _slice(ctx: Ctx, op: ir.Operation, cts: Cts) -> Cts:
    x, g = op.operands[0], cts[0]
    start, strides = int_list(op.attributes["start_indices"]), int_list(op.attributes["strides"])
    if 0 in shape(g):
        return [B.zeros(x)]
    high = [n - (s + (m - 1) * k + 1) for n, s, m, k in zip(shape(x), start, shape(g), strides)]
    return [B.pad(g, start, high, [k - 1 for k in strides])]


def _pad(ctx: Ctx, op: ir.Operation, cts: Cts) -> Cts:
    g = cts[0]
    lo, hi = int_list(op.attributes["edge_padding_low"]), int_list(op.attributes["edge_padding_high"])
    interior = int_list(op.attributes["interior_padding"])
    unpadded = B.pad(g, [-v for v in lo], [-v for v in hi], [0] * len(lo))
    gx = B.slice_(unpadded, [0] * len(lo), shape(unpadded), [v + 1 for v in interior])
    everything = range(len(lo))
    gpad = hlo.subtract(B.reduce_sum(g, everything), B.reduce_sum(gx, everything))
    return [gx, gpad]


def _concatenate(ctx: Ctx, op: ir.Operation, cts: Cts) -> Cts:
    g, axis = cts[0], ir.IntegerAttr(op.attributes["dimension"]).value
    out, offset = [], 0
    for v in op.operands:
        size = shape(v)[axis]
        start = [0] * len(shape(g))
        start[axis] = offset
        limit = list(shape(g))
        limit[axis] = offset + size
        out.append(B.slice_(g, start, limit) if B.is_float(v) else None)
        offset += size
    return out


def _dynamic_slice(ctx: Ctx, op: ir.Operation, cts: Cts) -> Cts:
    x, *starts = op.operands
    return [hlo.dynamic_update_slice(B.zeros(x), cts[0], starts)] + [None] * len(starts)


def _dynamic_update_slice(ctx: Ctx, op: ir.Operation, cts: Cts) -> Cts:
    _, u, *starts = op.operands
    g = cts[0]
    return [hlo.dynamic_update_slice(g, B.zeros(u), starts),
            B.dynamic_slice(g, starts, shape(u))] + [None] * len(starts)


RULES.update({
    "stablehlo.broadcast_in_dim": _broadcast_in_dim,
    "stablehlo.reshape": lambda ctx, op, cts: [B.reshape(cts[0], shape(op.operands[0]))],
    "stablehlo.transpose": _transpose,
    "stablehlo.reverse": lambda ctx, op, cts: [hlo.reverse(cts[0], int_list(op.attributes["dimensions"]))],
    "stablehlo.slice": _slice,
    "stablehlo.pad": _pad,
    "stablehlo.concatenate": _concatenate,
    "stablehlo.dynamic_slice": _dynamic_slice,
    "stablehlo.dynamic_update_slice": _dynamic_update_slice,
})


# ---- reductions -------------------------------------------------------------------------------

def _reducer(op: ir.Operation, region: int = 0) -> str:
    """The op a reducer region applies: `stablehlo.add`, `stablehlo.maximum`, ... or `replace`."""
    block = op.regions[region].blocks[0]
    ops = body_ops(block)
    result = terminator(block).operands[0]
    if not ops and result == block.arguments[len(block.arguments) // 2]:
        return "replace"
    if len(ops) == 1 and result == ops[0].results[0]:
        return ops[0].name
    return "?"


def _unsupported(op: ir.Operation, what: str) -> ADError:
    return ADError(f"cannot differentiate `{op.name}`: {what}", str(op.location))


def _reduce(ctx: Ctx, op: ir.Operation, cts: Cts) -> Cts:
    if len(op.operands) != 2:
        raise _unsupported(op, "variadic reductions (argmax, argmin) have no VJP rule")
    x, _ = op.operands
    g, y = cts[0], op.results[0]
    dims = int_list(op.attributes["dimensions"])
    kept = [d for d in range(len(shape(x))) if d not in dims]
    kind = _reducer(op)
    if kind == "stablehlo.add":
        return [B.broadcast(g, shape(x), kept), B.reduce_sum(g, range(len(shape(g))))]
    if kind in ("stablehlo.maximum", "stablehlo.minimum"):
        hits = hlo.select(B.compare(x, B.broadcast(y, shape(x), kept), "EQ"), _one(x), B.zeros(x))
        share = hlo.divide(g, B.reduce_sum(hits, dims))
        return [hlo.multiply(hits, B.broadcast(share, shape(x), kept)), None]
    raise _unsupported(op, f"reductions with `{kind}` have no VJP rule (sum, max and min do)")


def _dilate(dims: Sequence[int], dilation: Sequence[int]) -> list[int]:
    return [0 if d == 0 else 1 + r * (d - 1) for d, r in zip(dims, dilation)]


def _vjp_lhs_padding(in_shape, window, strides, out_shape, padding, lhs_dilation, rhs_dilation):
    """Padding of the transposed convolution / window reduction (as JAX computes it)."""
    lhs_d, rhs_d, out_d = _dilate(in_shape, lhs_dilation), _dilate(window, rhs_dilation), _dilate(out_shape, strides)
    before = [r - lo - 1 for r, (lo, _) in zip(rhs_d, padding)]
    after = [ld + r - 1 - o - b for ld, r, o, b in zip(lhs_d, rhs_d, out_d, before)]
    return list(zip(before, after))


def _padding_attr(pairs: Sequence[tuple[int, int]]) -> ir.Attribute:
    return ir.DenseIntElementsAttr.get(np.array(pairs, dtype=np.int64).reshape(len(pairs), 2))


def _reduce_window(ctx: Ctx, op: ir.Operation, cts: Cts) -> Cts:
    if len(op.operands) != 2:
        raise _unsupported(op, "variadic window reductions have no VJP rule")
    x, g = op.operands[0], cts[0]
    n = len(shape(x))
    window = int_list(op.attributes["window_dimensions"])
    strides = int_list(attr(op, "window_strides"), [1] * n)
    base = int_list(attr(op, "base_dilations"), [1] * n)
    wdil = int_list(attr(op, "window_dilations"), [1] * n)
    flat = int_list(attr(op, "padding"), [0] * 2 * n)
    padding = list(zip(flat[::2], flat[1::2]))
    kind = _reducer(op)
    if kind == "stablehlo.add":
        pads = _vjp_lhs_padding(shape(x), window, strides, shape(g), padding, base, wdil)
        padded = B.pad(g, [lo for lo, _ in pads], [hi for _, hi in pads], [s - 1 for s in strides])
        out = hlo.ReduceWindowOp([x.type], [padded], [B.scalar_like(g, 0)], window, window_strides=base,
                                 window_dilations=wdil)
        B.scalar_region(out.regions[0], B.tensor(x).element_type, hlo.add)
        return [out.results[0], None]
    if kind in ("stablehlo.maximum", "stablehlo.minimum"):
        if any(d != 1 for d in base + wdil):
            raise _unsupported(op, "max/min pooling with dilation has no VJP rule")
        out = hlo.SelectAndScatterOp(x.type, x, g, B.scalar_like(g, 0), window_dimensions=window,
                                     window_strides=strides, padding=_padding_attr(padding))
        choose = "GE" if kind == "stablehlo.maximum" else "LE"
        B.scalar_region(out.regions[0], B.tensor(x).element_type, lambda a, b: B.compare(a, b, choose))
        B.scalar_region(out.regions[1], B.tensor(x).element_type, hlo.add)
        return [out.results[0], None]
    raise _unsupported(op, f"window reductions with `{kind}` have no VJP rule (sum, max and min do)")


RULES.update({"stablehlo.reduce": _reduce, "stablehlo.reduce_window": _reduce_window})


# ---- contractions -----------------------------------------------------------------------------

def _dot(a: ir.Value, b: ir.Value, contract: tuple[list[int], list[int]], batch: tuple[list[int], list[int]],
         like: ir.Value) -> ir.Value:
    (ca, cb), (ba, bb) = contract, batch
    free_a = [d for i, d in enumerate(shape(a)) if i not in ca and i not in ba]
    free_b = [d for i, d in enumerate(shape(b)) if i not in cb and i not in bb]
    dims = [shape(a)[i] for i in ba] + free_a + free_b
    dn = hlo.DotDimensionNumbers.get(list(map(int, ba)), list(map(int, bb)), list(map(int, ca)), list(map(int, cb)))
    return hlo.dot_general(B.with_shape(like, dims), a, b, dn)


def _ranges_like(*xs: Sequence[int]) -> list[list[int]]:
    out, start = [], 0
    for x in xs:
        out.append(list(range(start, start + len(x))))
        start += len(x)
    return out


def _dot_transpose_lhs(g, x, y, x_contract, y_contract, x_batch, y_batch, swap_ans=False):
    """JAX's `_dot_general_transpose_lhs`: the cotangent of x in dot_general(x, y)."""
    x_kept = [i for i in range(len(shape(x))) if i not in x_contract and i not in x_batch]
    y_kept = [i for i in range(len(shape(y))) if i not in y_contract and i not in y_batch]
    if swap_ans:
        ans_batch, ans_y, _ = _ranges_like(x_batch, y_kept, x_kept)
    else:
        ans_batch, _, ans_y = _ranges_like(x_batch, x_kept, y_kept)
    x_contract_by_y = [x_contract[i] for i in np.argsort(y_contract)]
    out_axes = np.argsort(list(x_batch) + x_kept + x_contract_by_y)
    return B.transpose(_dot(g, y, (ans_y, y_kept), (ans_batch, list(y_batch)), x), [int(a) for a in out_axes])


def _dot_general(ctx: Ctx, op: ir.Operation, cts: Cts) -> Cts:
    x, y = op.operands
    g = cts[0]
    dn = hlo.DotDimensionNumbers(op.attributes["dot_dimension_numbers"])
    xc, yc = list(dn.lhs_contracting_dimensions), list(dn.rhs_contracting_dimensions)
    xb, yb = list(dn.lhs_batching_dimensions), list(dn.rhs_batching_dimensions)
    gx = _dot_transpose_lhs(g, x, y, xc, yc, xb, yb) if B.is_float(x) else None
    gy = _dot_transpose_lhs(g, y, x, yc, xc, yb, xb, swap_ans=True) if B.is_float(y) else None
    return [gx and B.convert(gx, x), gy and B.convert(gy, y)]


def _reshape_axis_out_of(src: int, size1: int, x: ir.Value) -> ir.Value:
    dims = list(shape(x))
    dims[src:src + 1] = [size1, dims[src] // size1]
    return B.reshape(x, dims)


def _reshape_axis_into(src: int, dst: int, x: ir.Value) -> ir.Value:
    perm = [i for i in range(len(shape(x))) if i != src]
    perm.insert(dst, src)
    dims = [d for i, d in enumerate(shape(x)) if i != src]
    dims[dst] *= shape(x)[src]
    return B.reshape(B.transpose(x, perm), dims)


def _conv(lhs, rhs, like, strides, padding, lhs_dilation, rhs_dilation, specs, fgc, bgc) -> ir.Value:
    (lb, lf, *ls), (ko, ki, *ks), (ob, of, *os_) = specs
    dn = hlo.ConvDimensionNumbers.get(lb, lf, ls, ki, ko, ks, ob, of, os_)
    return hlo.convolution(like.type, lhs, rhs, dn, fgc, bgc, window_strides=list(strides),
                           padding=_padding_attr(padding), lhs_dilation=list(lhs_dilation),
                           rhs_dilation=list(rhs_dilation))


def _swap01(spec: Sequence[int]) -> list[int]:
    return [spec[1], spec[0], *spec[2:]]


def _convolution(ctx: Ctx, op: ir.Operation, cts: Cts) -> Cts:
    """JAX's `_conv_general_dilated_transpose_lhs` / `_rhs`."""
    lhs, rhs = op.operands
    g = cts[0]
    d = hlo.ConvDimensionNumbers(op.attributes["dimension_numbers"])
    lhs_spec = [d.input_batch_dimension, d.input_feature_dimension, *d.input_spatial_dimensions]
    rhs_spec = [d.kernel_output_feature_dimension, d.kernel_input_feature_dimension, *d.kernel_spatial_dimensions]
    out_spec = [d.output_batch_dimension, d.output_feature_dimension, *d.output_spatial_dimensions]
    n = len(lhs_spec) - 2
    strides = int_list(attr(op, "window_strides"), [1] * n)
    lhs_dil = int_list(attr(op, "lhs_dilation"), [1] * n)
    rhs_dil = int_list(attr(op, "rhs_dilation"), [1] * n)
    flat = int_list(attr(op, "padding"), [0] * 2 * n)
    padding = list(zip(flat[::2], flat[1::2]))
    fgc = ir.IntegerAttr(op.attributes["feature_group_count"]).value
    bgc = ir.IntegerAttr(op.attributes["batch_group_count"]).value
    reversal = attr(op, "window_reversal")
    if bgc != 1 or (reversal is not None and any(ir.DenseBoolArrayAttr(reversal))):
        raise _unsupported(op, "batch_group_count > 1 and window reversal have no VJP rule")

    def sp(v, spec):
        return [shape(v)[i] for i in spec[2:]]

    gl = gr = None
    if B.is_float(lhs):
        w = rhs
        if fgc > 1:
            w = _reshape_axis_into(rhs_spec[0], rhs_spec[1], _reshape_axis_out_of(rhs_spec[0], fgc, w))
        pads = _vjp_lhs_padding(sp(lhs, lhs_spec), sp(w, rhs_spec), strides, sp(g, out_spec), padding,
                                lhs_dil, rhs_dil)
        flipped = hlo.reverse(w, rhs_spec[2:])
        gl = _conv(g, flipped, lhs, lhs_dil, pads, strides, rhs_dil, (out_spec, _swap01(rhs_spec), lhs_spec),
                   fgc, 1)
    if B.is_float(rhs) and 0 not in shape(g):
        lhs_d, rhs_d = _dilate(sp(lhs, lhs_spec), lhs_dil), _dilate(sp(rhs, rhs_spec), rhs_dil)
        out_d = _dilate(sp(g, out_spec), strides)
        pads = [(lo, (o - ln) + (r - lo - 1)) for (lo, _), ln, r, o in zip(padding, lhs_d, rhs_d, out_d)]
        gr = _conv(lhs, g, rhs, rhs_dil, pads, lhs_dil, strides,
                   (_swap01(lhs_spec), _swap01(out_spec), _swap01(rhs_spec)), 1, fgc)
    return [gl, gr]


RULES.update({"stablehlo.dot_general": _dot_general, "stablehlo.convolution": _convolution})


# ---- gather / scatter -------------------------------------------------------------------------

def _scatter_region(op: ir.Operation, element: ir.Type, kind: str) -> None:
    B.scalar_region(op.regions[0], element, hlo.add if kind == "add" else (lambda a, b: b))


def _gather(ctx: Ctx, op: ir.Operation, cts: Cts) -> Cts:
    x, idx = op.operands
    d = hlo.GatherDimensionNumbers(op.attributes["dimension_numbers"])
    sd = hlo.ScatterDimensionNumbers.get(list(d.offset_dims), list(d.collapsed_slice_dims),
                                         list(d.operand_batching_dims), list(d.start_indices_batching_dims),
                                         list(d.start_index_map), d.index_vector_dim)
    out = hlo.ScatterOp([x.type], [B.zeros(x)], idx, [cts[0]], sd)
    _scatter_region(out, B.tensor(x).element_type, "add")
    return [out.results[0], None]


def _scatter(ctx: Ctx, op: ir.Operation, cts: Cts) -> Cts:
    if len(op.operands) != 3:
        raise _unsupported(op, "variadic scatter has no VJP rule")
    x, idx, u = op.operands
    g = cts[0]
    kind = {"stablehlo.add": "add", "replace": "replace"}.get(_reducer(op))
    if kind is None:
        raise _unsupported(op, "only scatter-add and scatter-replace have VJP rules")
    d = hlo.ScatterDimensionNumbers(op.attributes["scatter_dimension_numbers"])
    skipped = set(d.inserted_window_dims) | set(d.input_batching_dims)
    windows = iter(d.update_window_dims)
    sizes = [1 if i in skipped else shape(u)[next(windows)] for i in range(len(shape(x)))]
    gd = hlo.GatherDimensionNumbers.get(list(d.update_window_dims), list(d.inserted_window_dims),
                                        list(d.input_batching_dims), list(d.scatter_indices_batching_dims),
                                        list(d.scattered_dims_to_operand_dims), d.index_vector_dim)
    gu = hlo.GatherOp(g, idx, gd, sizes, results=[u.type]).result
    if kind == "add":
        return [g, None, gu]
    cleared = hlo.ScatterOp([x.type], [g], idx, [B.zeros(u)], op.attributes["scatter_dimension_numbers"])
    _scatter_region(cleared, B.tensor(x).element_type, "replace")
    return [cleared.results[0], None, gu]


RULES.update({"stablehlo.gather": _gather, "stablehlo.scatter": _scatter})


# ---- control flow -----------------------------------------------------------------------------

def _custom_call(ctx: Ctx, op: ir.Operation, cts: Cts) -> Cts:
    """Only `with_sharding_constraint` has results to differentiate: its cotangent is split alike."""
    target = ir.StringAttr(op.attributes["call_target_name"]).value
    if target != SHARDING_TARGET:
        raise ADError(f"no gradient for the custom call {target}")
    return [hlo.CustomCallOp([cts[0].type], [cts[0]], SHARDING_TARGET, has_side_effect=False,
                             backend_config=op.attributes["backend_config"]).result]


RULES.update({
    "stablehlo.custom_call": _custom_call,
    "stablehlo.while": control.while_rule,
    "stablehlo.if": control.branches_rule,
    "stablehlo.case": control.branches_rule,
    "func.call": control.call_rule,
    "stablehlo.optimization_barrier": lambda ctx, op, cts: [None] * len(cts) if NO_GRADIENT in op.attributes
    else list(cts),
})
