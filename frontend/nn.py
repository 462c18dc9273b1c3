"""NNlib primitives: convolution, pooling and batched matrix products (the Flux-style layers built
on them are Julia, in `prelude/layers.jl`, as is `dropout`, in `prelude/nnlib.jl`).

Arrays keep Julia's dimension order as the tensor's dimension order, so a WHCN activation
`x[w, h, c, n]` is `tensor<W x H x C x N>` and a kernel `w[kw, kh, cin, cout]` is
`tensor<kW x kH x Cin x Cout>`. Convolutions and pools map onto `stablehlo.convolution` and
`stablehlo.reduce_window` with dimension numbers that say so (`[0, 1, f, b] x [0, 1, i, o] ->
[0, 1, f, b]` in two dimensions): the activations are never transposed. NNlib's default is a true
convolution (the kernel reversed in every spatial dimension); see `conv` for how the reversal is
placed so that XLA:CPU does not pay for it. `flipped=true` gives the cross-correlation. Flux's
ConvTranspose is `_conv_transpose`, the same op with the input dilated by the stride.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from jax.extend.mlir import ir
from jax.extend.mlir.dialects import stablehlo as hlo

from ..core import builder as B
from . import ast as A
from . import hlo as H
from .registry import NoMethod, const_int, prim, shape_str
from .types import BOOL, ArrayT, Scalar, promote
from .values import ArrayV, Box, ScalarV, TupleV, Value

if TYPE_CHECKING:
    from .context import Lowering

FLOAT32 = Scalar("Float32")


# ============================================================================ argument helpers
def _array(v: Value, what: str) -> ArrayV:
    if not isinstance(v, ArrayV):
        raise NoMethod()
    return v


def _const_int(v: Value, what: str) -> int:
    if not isinstance(v, ScalarV) or not v.t.info.is_integer or v.t.info.kind == "bool":
        raise NoMethod(f"`{what}` must be an integer or a tuple of integers, got {v.t.julia()}")
    return const_int(v, f"`{what}`")


def _ints(v: Value | None, n: int, what: str, default: int) -> tuple[int, ...]:
    """An integer (the same in every spatial dimension) or a tuple of `n` integers."""
    if v is None:
        return (default,) * n
    if isinstance(v, TupleV):
        vals = tuple(_const_int(i, what) for i in v.items)
        if len(vals) != n:
            raise NoMethod(f"`{what}` has {len(vals)} entries; the arrays have {n} spatial dimensions")
        return vals
    return (_const_int(v, what),) * n


def _pads(v: Value | None, n: int) -> list[tuple[int, int]]:
    """NNlib's `pad`: an integer, one integer per spatial dimension, or (lo, hi) per dimension
    in the order (w_lo, w_hi, h_lo, h_hi, ...)."""
    if v is None:
        return [(0, 0)] * n
    if isinstance(v, TupleV) and len(v.items) == 2 * n and n > 0:
        vals = [_const_int(i, "pad") for i in v.items]
        return [(vals[2 * i], vals[2 * i + 1]) for i in range(n)]
    return [(p, p) for p in _ints(v, n, "pad", 0)]


def _flag(v: Value | None, what: str) -> bool:
    if v is None:
        return False
    if not isinstance(v, ScalarV) or v.t != BOOL or not v.is_const:
        raise NoMethod(f"`{what}` must be a compile-time `true` or `false`")
    return bool(v.const)


def _out_size(size: int, lo: int, hi: int, window: int, stride: int, dilation: int) -> int:
    return (size + lo + hi - (dilation * (window - 1) + 1)) // stride + 1


# ============================================================================ convolution
@prim("conv", keywords=("stride", "pad", "dilation", "groups", "flipped"))
def _conv(fl: Lowering, args: list[Value], kwargs: dict[str, Value], node: A.Node) -> Value:
    """NNlib.conv(x, w; stride=1, pad=0, dilation=1, groups=1, flipped=false), any number of
    spatial dimensions: x is (spatial..., Cin, N), w is (k..., Cin ÷ groups, Cout)."""
    if len(args) != 2:
        raise NoMethod()
    x, w = _array(args[0], "x"), _array(args[1], "w")
    nd = x.t.ndims
    n = nd - 2
    if n < 1 or w.t.ndims != nd:
        raise NoMethod(f"conv needs an input and a kernel with the same number (≥ 3) of dimensions, got "
                       f"{shape_str(x.t.shape)} and {shape_str(w.t.shape)}")
    t = promote(x.t.elt, w.t.elt)
    if not t.info.is_float:
        raise NoMethod(f"conv is defined for floating-point arrays, got {x.t.elt.name} and {w.t.elt.name}")
    stride = _ints(kwargs.get("stride"), n, "stride", 1)
    dilation = _ints(kwargs.get("dilation"), n, "dilation", 1)
    pads = _pads(kwargs.get("pad"), n)
    groups = _const_int(kwargs["groups"], "groups") if "groups" in kwargs else 1
    flipped = _flag(kwargs.get("flipped"), "flipped")
    cin, batch = x.t.shape[n], x.t.shape[n + 1]
    kcin, cout = w.t.shape[n], w.t.shape[n + 1]
    if groups < 1 or cin % groups or cout % groups or kcin * groups != cin:
        raise NoMethod(f"DimensionMismatch: conv of an input with {cin} channels and a kernel "
                       f"{shape_str(w.t.shape)} in {groups} group{'s' if groups > 1 else ''}: the kernel's "
                       f"input channels times groups must equal the input channels, and groups must divide "
                       f"the output channels")
    if min(stride + dilation) < 1 or min(p for lohi in pads for p in lohi) < 0:
        raise NoMethod("conv needs stride ≥ 1, dilation ≥ 1 and pad ≥ 0")
    spatial = tuple(_out_size(x.t.shape[i], *pads[i], w.t.shape[i], stride[i], dilation[i]) for i in range(n))
    if min(spatial) < 1:
        raise NoMethod(f"DimensionMismatch: the kernel {shape_str(w.t.shape[:n])} (dilation "
                       f"{shape_str(dilation)}) does not fit the padded input {shape_str(x.t.shape[:n])}")
    out_shape = spatial + (cout, batch)
    lhs, rhs = H.convert(x.ir, t), H.convert(w.ir, t)
    sp = list(range(n))
    # A true convolution is a cross-correlation with the kernel reversed. Reversing the kernel on
    # every call is not free on XLA:CPU (the convolution then reads a fresh kernel buffer instead of
    # the parameter: +20% for VGG19 at batch 1), so where the windows line up we reverse the input
    # and the output instead: conv(x, rev(w)) = rev(xcorr(rev(x), w)) with the padding mirrored.
    # Those reverses fuse into the neighbouring elementwise ops (bias, activation) and cancel
    # between consecutive layers in XLA's loop fusions.
    mirrored = None
    if not flipped:
        rem = [(x.t.shape[i] + pads[i][0] + pads[i][1] - 1 - dilation[i] * (w.t.shape[i] - 1)) % stride[i]
               for i in range(n)]
        if all(rem[i] <= pads[i][1] for i in range(n)):
            mirrored = [(pads[i][1] - rem[i], pads[i][0]) for i in range(n)]
        else:
            rhs = hlo.reverse(rhs, sp)
    if mirrored is not None:
        lhs = hlo.reverse(lhs, sp)
        pads = mirrored
    dnums = hlo.ConvDimensionNumbers.get(
        input_batch_dimension=n + 1, input_feature_dimension=n, input_spatial_dimensions=sp,
        kernel_input_feature_dimension=n, kernel_output_feature_dimension=n + 1, kernel_spatial_dimensions=sp,
        output_batch_dimension=n + 1, output_feature_dimension=n, output_spatial_dimensions=sp)
    padding = ir.DenseIntElementsAttr.get(np.array(pads, dtype=np.int64).reshape(n, 2))
    op = hlo.ConvolutionOp(H.tensor_type(t, out_shape), lhs, rhs, dnums, groups, 1,
                           window_strides=list(stride), padding=padding, rhs_dilation=list(dilation))
    value = op.result if mirrored is None else hlo.reverse(op.result, sp)
    return ArrayV(ArrayT(t, out_shape), Box(value))


@prim("_conv_transpose", keywords=("stride", "pad", "dilation", "groups"))
def _conv_transpose(fl: Lowering, args: list[Value], kwargs: dict[str, Value], node: A.Node) -> Value:
    """_conv_transpose(x, w, outsize; stride, pad, dilation, groups): NNlib.∇conv_data(x, w, cdims)
    for the cdims of an input of spatial size `outsize`, the transpose (adjoint) of the true
    convolution `conv(·, w; stride, pad, dilation, groups)`; Flux's ConvTranspose. x is
    (spatial..., Cout, N), w is (k..., Cin ÷ groups, Cout), the result (outsize..., Cin, N).
    One `stablehlo.convolution` with the input dilated by the stride (lhs_dilation), the kernel's
    feature dimensions swapped and not reversed (the forward convolution reverses it, its transpose
    reverses it back), padding k_eff - 1 - pad (negative where pad > k_eff - 1: a crop)."""
    if len(args) != 3:
        raise NoMethod()
    x, w = _array(args[0], "x"), _array(args[1], "w")
    nd = x.t.ndims
    n = nd - 2
    if n < 1 or w.t.ndims != nd:
        raise NoMethod(f"a transposed convolution needs an input and a kernel with the same number (≥ 3) of "
                       f"dimensions, got {shape_str(x.t.shape)} and {shape_str(w.t.shape)}")
    outsize = _ints(args[2], n, "output size", 1)
    t = promote(x.t.elt, w.t.elt)
    if not t.info.is_float:
        raise NoMethod(f"a transposed convolution is defined for floating-point arrays, got {x.t.elt.name} and "
                       f"{w.t.elt.name}")
    stride = _ints(kwargs.get("stride"), n, "stride", 1)
    dilation = _ints(kwargs.get("dilation"), n, "dilation", 1)
    pads = _pads(kwargs.get("pad"), n)
    groups = _const_int(kwargs["groups"], "groups") if "groups" in kwargs else 1
    cout, batch = x.t.shape[n], x.t.shape[n + 1]
    kcin, kcout = w.t.shape[n], w.t.shape[n + 1]
    if groups < 1 or kcout != cout or cout % groups:
        raise NoMethod(f"DimensionMismatch: transposed convolution of an input with {cout} channels and a kernel "
                       f"{shape_str(w.t.shape)} in {groups} group{'s' if groups > 1 else ''}: the kernel's last "
                       f"dimension must equal the input channels, and groups must divide them")
    if min(stride + dilation) < 1 or min(p for lohi in pads for p in lohi) < 0:
        raise NoMethod("a transposed convolution needs stride ≥ 1, dilation ≥ 1 and pad ≥ 0")
    window = [dilation[i] * (w.t.shape[i] - 1) + 1 for i in range(n)]
    # NNlib's check_dims: the convolution of the result must have the input's size
    back = tuple(_out_size(outsize[i], *pads[i], w.t.shape[i], stride[i], dilation[i]) for i in range(n))
    if min(outsize) < 1 or back != x.t.shape[:n]:
        raise NoMethod(f"DimensionMismatch: a transposed convolution to spatial size {shape_str(outsize)} with "
                       f"kernel {shape_str(w.t.shape[:n])}, stride {shape_str(stride)}, pad {pads} and dilation "
                       f"{shape_str(dilation)} takes an input of spatial size {shape_str(back)}, got "
                       f"{shape_str(x.t.shape[:n])}")
    cin = kcin * groups
    out_shape = outsize + (cin, batch)
    lhs, rhs = H.convert(x.ir, t), H.convert(w.ir, t)
    sp = list(range(n))
    if groups > 1:
        # (k..., Cin÷g, Cout) -> (k..., Cin÷g, g, Cout÷g) -> (k..., g, Cin÷g, Cout÷g) -> (k..., Cin, Cout÷g):
        # group j's kernel feeds output channels j·Cin÷g + (0:Cin÷g-1), as NNlib's groups do
        ks = list(w.t.shape[:n])
        rhs = B.reshape(rhs, ks + [kcin, groups, cout // groups])
        rhs = B.transpose(rhs, sp + [n + 1, n, n + 2])
        rhs = B.reshape(rhs, ks + [cin, cout // groups])
    lo = [window[i] - 1 - pads[i][0] for i in range(n)]
    hi = [outsize[i] + window[i] - 2 - (x.t.shape[i] - 1) * stride[i] - lo[i] for i in range(n)]
    dnums = hlo.ConvDimensionNumbers.get(
        input_batch_dimension=n + 1, input_feature_dimension=n, input_spatial_dimensions=sp,
        kernel_input_feature_dimension=n + 1, kernel_output_feature_dimension=n, kernel_spatial_dimensions=sp,
        output_batch_dimension=n + 1, output_feature_dimension=n, output_spatial_dimensions=sp)
    padding = ir.DenseIntElementsAttr.get(np.array(list(zip(lo, hi)), dtype=np.int64).reshape(n, 2))
    op = hlo.ConvolutionOp(H.tensor_type(t, out_shape), lhs, rhs, dnums, groups, 1, window_strides=[1] * n,
                           padding=padding, lhs_dilation=list(stride), rhs_dilation=list(dilation))
    return ArrayV(ArrayT(t, out_shape), Box(op.result))


# ============================================================================ pooling
def _pool(fl: Lowering, args: list[Value], kwargs: dict[str, Value], name: str) -> Value:
    if len(args) != 2:
        raise NoMethod()
    x = _array(args[0], "x")
    n = x.t.ndims - 2
    if n < 1:
        raise NoMethod(f"{name} needs an array of ≥ 3 dimensions (spatial..., channels, batch), got "
                       f"{shape_str(x.t.shape)}")
    k = _ints(args[1], n, "window", 1)
    stride = _ints(kwargs.get("stride"), n, "stride", 1) if "stride" in kwargs else k
    dilation = _ints(kwargs.get("dilation"), n, "dilation", 1)
    pads = _pads(kwargs.get("pad"), n)
    if min(k + stride + dilation) < 1 or min(p for lohi in pads for p in lohi) < 0:
        raise NoMethod(f"{name} needs window ≥ 1, stride ≥ 1, dilation ≥ 1 and pad ≥ 0")
    spatial = tuple(_out_size(x.t.shape[i], *pads[i], k[i], stride[i], dilation[i]) for i in range(n))
    if min(spatial) < 1:
        raise NoMethod(f"DimensionMismatch: the window {shape_str(k)} does not fit the padded input "
                       f"{shape_str(x.t.shape[:n])}")
    t = x.t.elt
    if name == "meanpool" and not t.info.is_float:
        raise NoMethod(f"meanpool is defined for floating-point arrays, got {t.name}")
    if t.info.is_float:
        init = -np.inf if name == "maxpool" else 0.0
    elif t.info.kind == "bool":
        init = False
    else:
        init = int(np.iinfo(t.info.np).min)
    out_shape = spatial + x.t.shape[n:]
    body = hlo.maximum if name == "maxpool" else hlo.add
    value = _reduce_window(x.ir, H.constant(t, init), out_shape, k + (1, 1), stride + (1, 1), dilation + (1, 1),
                           pads + [(0, 0), (0, 0)], body)
    if name == "meanpool":
        # NNlib divides by the whole window, padding included
        value = hlo.divide(value, H.constant(t, float(np.prod(k)), out_shape))
    return ArrayV(ArrayT(t, out_shape), Box(value))


def _reduce_window(v: ir.Value, init: ir.Value, out_shape, window, strides, dilations, pads, body_op) -> ir.Value:
    et = ir.RankedTensorType(v.type).element_type
    padding = ir.DenseIntElementsAttr.get(np.array(pads, dtype=np.int64).reshape(len(pads), 2))
    op = hlo.ReduceWindowOp([ir.RankedTensorType.get(list(out_shape), et)], [v], [init], list(window),
                            window_strides=list(strides), window_dilations=list(dilations), padding=padding)
    scalar = ir.RankedTensorType.get([], et)
    block = op.regions[0].blocks.append(scalar, scalar)
    with ir.InsertionPoint(block):
        hlo.return_([body_op(*block.arguments)])
    return op.results[0]


@prim("maxpool", "meanpool", keywords=("pad", "stride", "dilation"))
def _pool_rule(fl, args, kwargs, node, name):
    """maxpool(x, k; pad=0, stride=k, dilation=1) and meanpool(...), k a tuple of window sizes."""
    return _pool(fl, args, kwargs, name)


# ============================================================================ batched_mul
@prim("batched_mul", "⊠")
def _batched_mul(fl, args, kwargs, node):
    """NNlib.batched_mul: (m, k, b) ⊠ (k, n, b) -> (m, n, b); a matrix, or a batch of size 1, is
    used for every item of the other operand's batch."""
    if len(args) != 2 or kwargs:
        raise NoMethod()
    a, b = _array(args[0], "A"), _array(args[1], "B")
    if a.t.ndims not in (2, 3) or b.t.ndims not in (2, 3) or a.t.ndims == b.t.ndims == 2:
        raise NoMethod("batched_mul needs 3-dimensional arrays (a matrix for at most one of them)")
    t = promote(a.t.elt, b.t.elt)
    av, bv = H.convert(a.ir, t), H.convert(b.ir, t)
    sa, sb = a.t.shape, b.t.shape
    if len(sa) == 3 and len(sb) == 3 and sa[2] != sb[2] and 1 in (sa[2], sb[2]):
        if sa[2] == 1:
            av, sa = B.reshape(av, sa[:2]), sa[:2]
        else:
            bv, sb = B.reshape(bv, sb[:2]), sb[:2]
    if sa[1] != sb[0] or len(sa) == len(sb) == 3 and sa[2] != sb[2]:
        raise NoMethod(f"DimensionMismatch: batched_mul of {shape_str(sa)} and {shape_str(sb)}")
    m, n = sa[0], sb[1]
    if len(sa) == 3 and len(sb) == 3:
        nb = sa[2]
        value = B.dot_general(av, bv, ([1], [0]), ([2], [2]), (nb, m, n))          # (b, m, n)
        value = hlo.transpose(value, [1, 2, 0])
    elif len(sa) == 3:
        nb = sa[2]
        value = B.dot_general(av, bv, ([1], [0]), ([], []), (m, nb, n))          # (m, b, n)
        value = hlo.transpose(value, [0, 2, 1])
    else:
        nb = sb[2]
        value = B.dot_general(av, bv, ([1], [0]), ([], []), (m, n, nb))          # (m, n, b)
    return ArrayV(ArrayT(t, (m, n, nb)), Box(value))


