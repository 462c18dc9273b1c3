"""Convolutions inside loops and branches in the layout XLA:CPU's fast convolution takes.

XLA's CPU backend runs a convolution through Eigen only in one layout: the input
`[batch, spatial..., feature]`, the kernel `[spatial..., in, out]`, the output like the input
(`PotentiallyImplementedAsEigenConvolution`). Its ConvCanonicalization pass puts the others into
that layout with transposes, but it walks only the entry computation: a convolution in a while body
or a conditional branch (a training loop, a recurrent cell over time) stays as it is and runs as
XLA's unoptimized elemental loop nest, 2-6x slower on LeNet's convolutions and their gradients.

jlhlo's convolutions keep Julia's WHCN order (`[0, 1, f, b]`, see frontend/nn.py) and its gradients
swap the roles of batch and feature, so inside a loop this pass does what XLA does in the entry
computation: transposes into the canonical layout, the convolution there, a transpose back. Outside
loops and branches nothing changes (XLA canonicalizes those, and VGG19's reverse → convolution →
reverse there stays in the form XLA's CPU backend recognises). Run after transpose_fold, which would
fold the transposes back into the dimension numbers.
"""
from __future__ import annotations

from jax.extend.mlir import ir

from ..core.builder import transpose
from .rewrite import REGION_OPS, make_pass
from .transpose_fold import conv_dims, conv_dims_attr, inverse_permutation


def _in_loop_or_branch(op: ir.Operation) -> bool:
    parent = op.parent
    while parent is not None and parent.name != "func.func":
        if parent.name in REGION_OPS:
            return True
        parent = parent.parent
    return False


def _canonical_conv(op: ir.Operation) -> ir.Value | None:
    d = conv_dims(op)
    n = len(d.input_spatial_dimensions)
    reversed_window = "window_reversal" in op.attributes and any(op.attributes["window_reversal"])
    if n == 0 or reversed_window or not _in_loop_or_branch(op):
        return None                    # Eigen takes no window reversal: nothing to gain
    lhs_perm = [d.input_batch_dimension, *d.input_spatial_dimensions, d.input_feature_dimension]
    rhs_perm = [*d.kernel_spatial_dimensions, d.kernel_input_feature_dimension, d.kernel_output_feature_dimension]
    out_perm = [d.output_batch_dimension, *d.output_spatial_dimensions, d.output_feature_dimension]
    identity = list(range(n + 2))
    if lhs_perm == rhs_perm == out_perm == identity:
        return None
    with ir.InsertionPoint(op), op.location:
        lhs, rhs = transpose(op.operands[0], lhs_perm), transpose(op.operands[1], rhs_perm)
        conv = op.clone(ip=ir.InsertionPoint(op))
        conv.operands[0], conv.operands[1] = lhs, rhs
        conv.attributes["dimension_numbers"] = conv_dims_attr(
            d, input_batch_dimension=0, input_feature_dimension=n + 1, input_spatial_dimensions=list(range(1, n + 1)),
            kernel_input_feature_dimension=n, kernel_output_feature_dimension=n + 1,
            kernel_spatial_dimensions=list(range(n)),
            output_batch_dimension=0, output_feature_dimension=n + 1, output_spatial_dimensions=list(range(1, n + 1)))
        out_type = ir.RankedTensorType(op.result.type)
        shape = [out_type.shape[k] for k in out_perm]
        conv.result.set_type(ir.RankedTensorType.get(shape, out_type.element_type))
        return transpose(conv.result, inverse_permutation(out_perm))


conv_layout = make_pass({"stablehlo.convolution": _canonical_conv})
