"""The -O2 passes beyond simplify and fold: transpose_fold, dead_values, licm, unroll and the
mixed-precision pass. Each rewrite has a golden test (CHECK lines over the printed module, beside
the IR that produced it) that also runs the module before and after on random inputs; then Julia
programs go through the frontend at -O0 and -O2, and VGG19 is held to the issue's bar."""
from __future__ import annotations

import importlib.util
import os
import re

import numpy as np
import pytest
from jax.extend.mlir import ir
from jlhlo.frontend.diagnostics import JuliaError
from jlhlo.mlir_passes import PASSES, op_counts, optimize
from jlhlo.mlir_passes.pipeline import LEVELS
from jlhlo.mlir_passes.unroll import make_unroll
from jlhlo.runtime import Executable, make_context

import jlhlo
from jlhlo.api import flatten_host

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def ctx() -> ir.Context:
    return make_context()


def parse(ctx: ir.Context, text: str) -> ir.Module:
    with ctx, ir.Location.unknown():
        return ir.Module.parse(text)


def filecheck(text: str, checks: str) -> None:
    """`CHECK: s` lines must match in order (as substrings of successive lines); `CHECK-NOT: s`
    must not occur anywhere."""
    lines = text.splitlines()
    at = 0
    for raw in checks.strip().splitlines():
        kind, _, pattern = raw.strip().partition(": ")
        if kind == "CHECK-NOT":
            assert pattern not in text, f"unexpected {pattern!r} in\n{text}"
            continue
        assert kind == "CHECK", raw
        while at < len(lines) and pattern not in lines[at]:
            at += 1
        assert at < len(lines), f"{pattern!r} not found (in order) in\n{text}"
        at += 1


def random_args(module: ir.Module, rng: np.random.Generator) -> list[np.ndarray]:
    exe = Executable(module)
    args = []
    for spec in exe.inputs:
        if spec.dtype.kind == "f":
            args.append(rng.standard_normal(spec.shape).astype(spec.dtype))
        elif spec.dtype.kind == "b":
            args.append(rng.random(spec.shape) < 0.5)
        else:
            args.append(rng.integers(-5, 5, spec.shape).astype(spec.dtype))
    return args


def assert_same(got: list[np.ndarray], want: list[np.ndarray], exact: bool) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        if exact:
            np.testing.assert_array_equal(g.view(f"u{g.itemsize}"), w.view(f"u{w.itemsize}"))
        else:
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)


def golden(ctx, text: str, passes: list[str] | None, checks: str, *, exact: bool = True, level: int = 2) -> ir.Module:
    """Optimize `text`, check the printed result, and run before against after."""
    before, after = parse(ctx, text), parse(ctx, text)
    optimize(after, level, passes=passes)
    optimize(before, 0)                # ieee_exact only, as every module jlhlo runs: XLA keeps its divisions
    filecheck(str(after), checks)
    args = random_args(before, np.random.default_rng(0))
    assert_same(Executable(after)(*args), Executable(before)(*args), exact)
    return after


def main(params: str, results: str, body: str) -> str:
    return f"func.func public @main({params}) -> {results} {{\n{body}\n}}"


# --- transpose_fold --------------------------------------------------------------------------------
def test_transpose_folds_into_dot_general(ctx):
    # Julia's W' * x.
    golden(ctx, main("%w: tensor<3x4xf32>, %x: tensor<3x5xf32>", "tensor<4x5xf32>", """
        %t = stablehlo.transpose %w, dims = [1, 0] : (tensor<3x4xf32>) -> tensor<4x3xf32>
        %r = stablehlo.dot_general %t, %x, contracting_dims = [1] x [0] : (tensor<4x3xf32>, tensor<3x5xf32>) -> tensor<4x5xf32>
        return %r : tensor<4x5xf32>"""), ["transpose_fold"], """
        CHECK-NOT: stablehlo.transpose
        CHECK: stablehlo.dot_general %arg0, %arg1, contracting_dims = [0] x [0]""")


def test_transpose_of_free_dims_moves_to_the_smaller_result(ctx):
    golden(ctx, main("%a: tensor<5x4x30xf32>, %b: tensor<30x2xf32>", "tensor<4x5x2xf32>", """
        %t = stablehlo.transpose %a, dims = [1, 0, 2] : (tensor<5x4x30xf32>) -> tensor<4x5x30xf32>
        %r = stablehlo.dot_general %t, %b, contracting_dims = [2] x [0] : (tensor<4x5x30xf32>, tensor<30x2xf32>) -> tensor<4x5x2xf32>
        return %r : tensor<4x5x2xf32>"""), ["transpose_fold"], """
        CHECK: stablehlo.dot_general %arg0, %arg1, contracting_dims = [2] x [0] : (tensor<5x4x30xf32>, tensor<30x2xf32>) -> tensor<5x4x2xf32>
        CHECK: stablehlo.transpose %0, dims = [1, 0, 2] : (tensor<5x4x2xf32>) -> tensor<4x5x2xf32>""")


def test_column_major_flatten_becomes_one_transpose(ctx):
    # reshape(x, :, size(x, 4)) on a WHCN array, as the frontend lowers it.
    golden(ctx, main("%x: tensor<2x3x4x5xf32>", "tensor<24x5xf32>", """
        %0 = stablehlo.transpose %x, dims = [3, 2, 1, 0] : (tensor<2x3x4x5xf32>) -> tensor<5x4x3x2xf32>
        %1 = stablehlo.reshape %0 : (tensor<5x4x3x2xf32>) -> tensor<5x24xf32>
        %2 = stablehlo.transpose %1, dims = [1, 0] : (tensor<5x24xf32>) -> tensor<24x5xf32>
        return %2 : tensor<24x5xf32>"""), ["transpose_fold"], """
        CHECK: stablehlo.transpose %arg0, dims = [2, 1, 0, 3] : (tensor<2x3x4x5xf32>) -> tensor<4x3x2x5xf32>
        CHECK: stablehlo.reshape %0 : (tensor<4x3x2x5xf32>) -> tensor<24x5xf32>
        CHECK-NOT: dims = [1, 0]""")


def test_flatten_into_dense_layer_leaves_no_transpose(ctx):
    # W * reshape(x, :, N): the weight's columns split (a free row-major reshape) and contracted
    # against x's W, H, C dims directly.
    golden(ctx, main("%w: tensor<7x24xf32>, %x: tensor<2x3x4x5xf32>", "tensor<7x5xf32>", """
        %0 = stablehlo.transpose %x, dims = [3, 2, 1, 0] : (tensor<2x3x4x5xf32>) -> tensor<5x4x3x2xf32>
        %1 = stablehlo.reshape %0 : (tensor<5x4x3x2xf32>) -> tensor<5x24xf32>
        %2 = stablehlo.transpose %1, dims = [1, 0] : (tensor<5x24xf32>) -> tensor<24x5xf32>
        %r = stablehlo.dot_general %w, %2, contracting_dims = [1] x [0] : (tensor<7x24xf32>, tensor<24x5xf32>) -> tensor<7x5xf32>
        return %r : tensor<7x5xf32>"""), ["transpose_fold"], """
        CHECK-NOT: stablehlo.transpose
        CHECK: stablehlo.reshape %arg0 : (tensor<7x24xf32>) -> tensor<7x4x3x2xf32>
        CHECK: contracting_dims = [1, 2, 3] x [2, 1, 0]""", exact=False)


CONV = ("dim_numbers = [b, 0, 1, f]x[0, 1, i, o]->[b, 0, 1, f], window = {stride = [1, 1], pad = [[1, 0], [1, 1]]}"
        " {batch_group_count = 1 : i64, feature_group_count = 1 : i64}")


def test_transposes_fold_into_convolution(ctx):
    # An NCHW input and a kernel stored OIHW, transposed to the conv's NHWC / HWIO; the result
    # transposed back to NCHW.
    golden(ctx, main("%x: tensor<2x3x6x6xf32>, %k: tensor<4x3x3x3xf32>", "tensor<2x4x5x6xf32>", f"""
        %xt = stablehlo.transpose %x, dims = [0, 2, 3, 1] : (tensor<2x3x6x6xf32>) -> tensor<2x6x6x3xf32>
        %kt = stablehlo.transpose %k, dims = [2, 3, 1, 0] : (tensor<4x3x3x3xf32>) -> tensor<3x3x3x4xf32>
        %c = stablehlo.convolution(%xt, %kt) {CONV} : (tensor<2x6x6x3xf32>, tensor<3x3x3x4xf32>) -> tensor<2x5x6x4xf32>
        %r = stablehlo.transpose %c, dims = [0, 3, 1, 2] : (tensor<2x5x6x4xf32>) -> tensor<2x4x5x6xf32>
        return %r : tensor<2x4x5x6xf32>"""), ["transpose_fold"], """
        CHECK-NOT: stablehlo.transpose
        CHECK: stablehlo.convolution(%arg0, %arg1) dim_numbers = [b, f, 0, 1]x[o, i, 0, 1]->[b, f, 0, 1]""")


def test_reverses_around_convolution_flip_the_kernel(ctx):
    # NNlib's true convolution, as the frontend lowers it: input and output flipped spatially.
    golden(ctx, main("%x: tensor<2x6x6x3xf32>, %k: tensor<3x3x3x4xf32>", "tensor<2x5x6x4xf32>", f"""
        %xr = stablehlo.reverse %x, dims = [1, 2] : tensor<2x6x6x3xf32>
        %c = stablehlo.convolution(%xr, %k) {CONV} : (tensor<2x6x6x3xf32>, tensor<3x3x3x4xf32>) -> tensor<2x5x6x4xf32>
        %r = stablehlo.reverse %c, dims = [1, 2] : tensor<2x5x6x4xf32>
        return %r : tensor<2x5x6x4xf32>"""), ["conv_reverse_fold"], """
        CHECK: stablehlo.reverse %arg1, dims = [0, 1] : tensor<3x3x3x4xf32>
        CHECK: stablehlo.convolution(%arg0, %0) dim_numbers = [b, 0, 1, f]x[0, 1, i, o]->[b, 0, 1, f], window = {stride = [1, 1], pad = [[0, 1], [1, 1]]}
        CHECK-NOT: stablehlo.reverse %arg0""", exact=False)


def test_transpose_of_dot_general_swaps_its_operands(ctx):
    # The backward pass of a dense layer: (Wᵀ δ)ᵀ as δᵀ W, through a reshape adding size-1 dims.
    # Swapping the operands changes XLA's summation order: equal up to rounding, not bit for bit.
    golden(ctx, main("%d: tensor<10x2xf32>, %w: tensor<10x32xf32>", "tensor<32x1x2xf32>", """
        %g = stablehlo.dot_general %d, %w, contracting_dims = [0] x [0] : (tensor<10x2xf32>, tensor<10x32xf32>) -> tensor<2x32xf32>
        %r1 = stablehlo.reshape %g : (tensor<2x32xf32>) -> tensor<2x1x32xf32>
        %r = stablehlo.transpose %r1, dims = [2, 1, 0] : (tensor<2x1x32xf32>) -> tensor<32x1x2xf32>
        return %r : tensor<32x1x2xf32>"""), ["transpose_fold"], """
        CHECK-NOT: stablehlo.transpose
        CHECK: stablehlo.dot_general %arg1, %arg0, contracting_dims = [0] x [0] : (tensor<10x32xf32>, tensor<10x2xf32>) -> tensor<32x2xf32>
        CHECK: stablehlo.reshape %0 : (tensor<32x2xf32>) -> tensor<32x1x2xf32>""", exact=False)


def test_bias_reshape_and_transpose_become_one_broadcast(ctx):
    # A bias b reshaped to (1, C, 1, 1) column-major, broadcast over a WHCN image.
    golden(ctx, main("%b: tensor<64xf32>, %x: tensor<4x4x64x2xf32>", "tensor<4x4x64x2xf32>", """
        %0 = stablehlo.reshape %b : (tensor<64xf32>) -> tensor<1x64x1x1xf32>
        %1 = stablehlo.transpose %0, dims = [3, 2, 1, 0] : (tensor<1x64x1x1xf32>) -> tensor<1x1x64x1xf32>
        %2 = stablehlo.broadcast_in_dim %1, dims = [0, 1, 2, 3] : (tensor<1x1x64x1xf32>) -> tensor<4x4x64x2xf32>
        %r = stablehlo.add %x, %2 : tensor<4x4x64x2xf32>
        return %r : tensor<4x4x64x2xf32>"""), ["transpose_fold"], """
        CHECK-NOT: stablehlo.transpose
        CHECK-NOT: stablehlo.reshape
        CHECK: stablehlo.broadcast_in_dim %arg0, dims = [2] : (tensor<64xf32>) -> tensor<4x4x64x2xf32>""")


def test_broadcast_of_transpose_permutes_its_dims(ctx):
    golden(ctx, main("%x: tensor<2x3xf32>", "tensor<3x4x2xf32>", """
        %t = stablehlo.transpose %x, dims = [1, 0] : (tensor<2x3xf32>) -> tensor<3x2xf32>
        %r = stablehlo.broadcast_in_dim %t, dims = [0, 2] : (tensor<3x2xf32>) -> tensor<3x4x2xf32>
        return %r : tensor<3x4x2xf32>"""), ["transpose_fold"], """
        CHECK-NOT: stablehlo.transpose
        CHECK: stablehlo.broadcast_in_dim %arg0, dims = [2, 0]""")


def test_transpose_sinks_past_a_broadcast_operand_with_a_cyclic_permutation(ctx):
    # softmax-like `s ./ sum(s; dims=1)` after batched_mul: the broadcast operand must be permuted
    # with the inverse of what a transpose *of* a broadcast needs (a 3-cycle tells them apart).
    golden(ctx, main("%x: tensor<6x5x5xf32>, %y: tensor<6x5xf32>", "tensor<5x5x6xf32>", """
        %t = stablehlo.transpose %x, dims = [1, 2, 0] : (tensor<6x5x5xf32>) -> tensor<5x5x6xf32>
        %b = stablehlo.broadcast_in_dim %y, dims = [2, 1] : (tensor<6x5xf32>) -> tensor<5x5x6xf32>
        %r = stablehlo.divide %t, %b : tensor<5x5x6xf32>
        return %r : tensor<5x5x6xf32>"""), ["transpose_fold"], """
        CHECK: stablehlo.broadcast_in_dim %arg1, dims = [0, 2] : (tensor<6x5xf32>) -> tensor<6x5x5xf32>
        CHECK: stablehlo.divide %arg0
        CHECK: stablehlo.transpose""")


def test_reduce_over_transpose(ctx):
    golden(ctx, main("%x: tensor<2x3x4xf32>", "tensor<4x2xf32>", """
        %z = stablehlo.constant dense<0.0> : tensor<f32>
        %t = stablehlo.transpose %x, dims = [2, 1, 0] : (tensor<2x3x4xf32>) -> tensor<4x3x2xf32>
        %r = stablehlo.reduce(%t init: %z) applies stablehlo.add across dimensions = [1] : (tensor<4x3x2xf32>, tensor<f32>) -> tensor<4x2xf32>
        return %r : tensor<4x2xf32>"""), ["transpose_fold"], """
        CHECK: stablehlo.reduce(%arg0 init: %cst) applies stablehlo.add across dimensions = [1] : (tensor<2x3x4xf32>, tensor<f32>) -> tensor<2x4xf32>
        CHECK: stablehlo.transpose %0, dims = [1, 0] : (tensor<2x4xf32>) -> tensor<4x2xf32>""")


def test_transposes_sink_through_elementwise_ops_and_cancel(ctx):
    golden(ctx, main("%x: tensor<2x3xf32>, %y: tensor<2x3xf32>", "tensor<2x3xf32>", """
        %tx = stablehlo.transpose %x, dims = [1, 0] : (tensor<2x3xf32>) -> tensor<3x2xf32>
        %ty = stablehlo.transpose %y, dims = [1, 0] : (tensor<2x3xf32>) -> tensor<3x2xf32>
        %c = stablehlo.constant dense<2.0> : tensor<3x2xf32>
        %a = stablehlo.add %tx, %ty : tensor<3x2xf32>
        %m = stablehlo.multiply %a, %c : tensor<3x2xf32>
        %e = stablehlo.exponential %m : tensor<3x2xf32>
        %r = stablehlo.transpose %e, dims = [1, 0] : (tensor<3x2xf32>) -> tensor<2x3xf32>
        return %r : tensor<2x3xf32>"""), ["transpose_fold"], """
        CHECK-NOT: stablehlo.transpose
        CHECK: stablehlo.add %arg0, %arg1 : tensor<2x3xf32>
        CHECK: stablehlo.multiply
        CHECK: stablehlo.exponential""")


def test_transposes_that_move_unit_dims_or_splats_are_free(ctx):
    golden(ctx, main("%x: tensor<1x5x1xf32>", "(tensor<5x1x1xf32>, tensor<3x2xf32>)", """
        %t = stablehlo.transpose %x, dims = [1, 0, 2] : (tensor<1x5x1xf32>) -> tensor<5x1x1xf32>
        %c = stablehlo.constant dense<1.5> : tensor<2x3xf32>
        %ct = stablehlo.transpose %c, dims = [1, 0] : (tensor<2x3xf32>) -> tensor<3x2xf32>
        return %t, %ct : tensor<5x1x1xf32>, tensor<3x2xf32>"""), ["transpose_fold"], """
        CHECK-NOT: stablehlo.transpose
        CHECK: stablehlo.reshape %arg0 : (tensor<1x5x1xf32>) -> tensor<5x1x1xf32>
        CHECK: stablehlo.constant dense<1.500000e+00> : tensor<3x2xf32>""")


def test_shared_transpose_is_not_duplicated(ctx):
    # %t has two users: sinking it below `negate` would add a transpose, not move one.
    golden(ctx, main("%x: tensor<2x3xf32>", "(tensor<3x2xf32>, tensor<3x2xf32>)", """
        %t = stablehlo.transpose %x, dims = [1, 0] : (tensor<2x3xf32>) -> tensor<3x2xf32>
        %n = stablehlo.negate %t : tensor<3x2xf32>
        return %t, %n : tensor<3x2xf32>, tensor<3x2xf32>"""), ["transpose_fold"], """
        CHECK: stablehlo.transpose %arg0
        CHECK: stablehlo.negate %0""")


# --- dead_values -----------------------------------------------------------------------------------
LOOP = main("%n: tensor<i64>, %x: tensor<f32>, %w: tensor<4xf32>", "tensor<f32>", """
    %c0 = stablehlo.constant dense<0> : tensor<i64>
    %c1 = stablehlo.constant dense<1> : tensor<i64>
    %z = stablehlo.constant dense<0.0> : tensor<4xf32>
    %r:4 = stablehlo.while(%i = %c0, %acc = %x, %junk = %z, %inv = %w) : tensor<i64>, tensor<f32>, tensor<4xf32>, tensor<4xf32>
      cond {
        %p = stablehlo.compare LT, %i, %n, SIGNED : (tensor<i64>, tensor<i64>) -> tensor<i1>
        stablehlo.return %p : tensor<i1>
      } do {
        %i2 = stablehlo.add %i, %c1 : tensor<i64>
        %junk2 = stablehlo.add %junk, %inv : tensor<4xf32>
        %s = stablehlo.slice %inv [0:1] : (tensor<4xf32>) -> tensor<1xf32>
        %s0 = stablehlo.reshape %s : (tensor<1xf32>) -> tensor<f32>
        %e = stablehlo.exponential %s0 : tensor<f32>
        %acc2 = stablehlo.multiply %acc, %e : tensor<f32>
        stablehlo.return %i2, %acc2, %junk2, %inv : tensor<i64>, tensor<f32>, tensor<4xf32>, tensor<4xf32>
      }
    return %r#1 : tensor<f32>""")


def test_dead_values_drops_unused_and_invariant_carried_values(ctx):
    # %junk only feeds itself; %inv is passed through unchanged, so its uses become %w.
    golden(ctx, LOOP, ["dead_values"], """
        CHECK: stablehlo.while(%iterArg = %c, %iterArg_1 = %arg1) : tensor<i64>, tensor<f32>
        CHECK: stablehlo.slice %arg2 [0:1]
        CHECK: stablehlo.return %1, %5 : tensor<i64>, tensor<f32>
        CHECK-NOT: tensor<4xf32>, tensor<4xf32>""")


def test_dead_values_keeps_what_the_condition_reads(ctx):
    module = parse(ctx, LOOP.replace("%p = stablehlo.compare LT, %i, %n", "%p = stablehlo.compare LT, %i, %n")
                   .replace("return %r#1", "return %r#1").replace("%inv = %w)", "%inv = %w)"))
    optimize(module, passes=["dead_values"])
    # The counter is read by the condition: it stays even though no one uses %r#0.
    assert "tensor<i64>, tensor<f32>" in str(module)


def test_dead_values_can_empty_a_loop(ctx):
    # Nothing carried is needed; the loop itself stays, as it might not terminate (here it runs
    # zero times, so that the semantics check can run it).
    golden(ctx, main("%x: tensor<f32>", "tensor<f32>", """
        %no = stablehlo.constant dense<false> : tensor<i1>
        %r = stablehlo.while(%a = %x) : tensor<f32>
          cond { stablehlo.return %no : tensor<i1> } do {
            %b = stablehlo.exponential %a : tensor<f32>
            stablehlo.return %b : tensor<f32> }
        return %x : tensor<f32>"""), ["dead_values"], """
        CHECK: stablehlo.while()
        CHECK: stablehlo.return %c : tensor<i1>
        CHECK-NOT: exponential""")


IF = main("%p: tensor<i1>, %x: tensor<3xf32>", "tensor<3xf32>", """
    %r:2 = "stablehlo.if"(%p) ({
      %a = stablehlo.exponential %x : tensor<3xf32>
      %b = stablehlo.negate %x : tensor<3xf32>
      stablehlo.return %a, %b : tensor<3xf32>, tensor<3xf32>
    }, {
      %c = stablehlo.log %x : tensor<3xf32>
      stablehlo.return %x, %c : tensor<3xf32>, tensor<3xf32>
    }) : (tensor<i1>) -> (tensor<3xf32>, tensor<3xf32>)
    return %r#0 : tensor<3xf32>""")


def test_dead_values_drops_unused_if_results(ctx):
    golden(ctx, IF, ["dead_values"], """
        CHECK: "stablehlo.if"(%arg0)
        CHECK: stablehlo.exponential
        CHECK: stablehlo.return %1 : tensor<3xf32>
        CHECK: stablehlo.return %arg1 : tensor<3xf32>
        CHECK: (tensor<i1>) -> tensor<3xf32>
        CHECK-NOT: stablehlo.negate
        CHECK-NOT: stablehlo.log""")


def test_dead_values_erases_an_if_nobody_uses(ctx):
    module = parse(ctx, IF.replace("return %r#0 : tensor<3xf32>", "return %x : tensor<3xf32>"))
    optimize(module, passes=["dead_values"])
    assert "stablehlo.if" not in str(module)


# --- licm ------------------------------------------------------------------------------------------
def test_licm_hoists_invariant_ops_and_keeps_variant_ones(ctx):
    after = golden(ctx, LOOP, ["licm"], """
        CHECK: stablehlo.slice %arg2 [0:1]
        CHECK: stablehlo.exponential
        CHECK: stablehlo.while
        CHECK: do {
        CHECK: stablehlo.add %iterArg, %c_0
        CHECK: stablehlo.add %iterArg_2, %arg2
        CHECK: stablehlo.multiply %iterArg_1""")
    body = str(after).split("do {")[1]
    assert "slice" not in body and "exponential" not in body


def test_licm_moves_ops_out_of_nested_loops(ctx):
    inner = """
        %r2:2 = stablehlo.while(%j = %c0, %t = %acc) : tensor<i64>, tensor<f32>
          cond {
            %q = stablehlo.compare LT, %j, %n, SIGNED : (tensor<i64>, tensor<i64>) -> tensor<i1>
            stablehlo.return %q : tensor<i1>
          } do {
            %k = stablehlo.exponential %x : tensor<f32>
            %j2 = stablehlo.add %j, %c1 : tensor<i64>
            %t2 = stablehlo.add %t, %k : tensor<f32>
            stablehlo.return %j2, %t2 : tensor<i64>, tensor<f32>
          }"""
    text = main("%n: tensor<i64>, %x: tensor<f32>", "tensor<f32>", f"""
    %c0 = stablehlo.constant dense<0> : tensor<i64>
    %c1 = stablehlo.constant dense<1> : tensor<i64>
    %r:2 = stablehlo.while(%i = %c0, %acc = %x) : tensor<i64>, tensor<f32>
      cond {{
        %p = stablehlo.compare LT, %i, %n, SIGNED : (tensor<i64>, tensor<i64>) -> tensor<i1>
        stablehlo.return %p : tensor<i1>
      }} do {{
        {inner}
        %i2 = stablehlo.add %i, %c1 : tensor<i64>
        stablehlo.return %i2, %r2#1 : tensor<i64>, tensor<f32>
      }}
    return %r#1 : tensor<f32>""")
    golden(ctx, text, ["licm"], """
        CHECK: stablehlo.exponential %arg1
        CHECK: stablehlo.while
        CHECK: stablehlo.while""")


# --- unroll ----------------------------------------------------------------------------------------
def counted(trips: int) -> str:
    return main("%x: tensor<8xf32>", "tensor<f32>", f"""
    %c0 = stablehlo.constant dense<0> : tensor<i64>
    %c1 = stablehlo.constant dense<1> : tensor<i64>
    %n = stablehlo.constant dense<{trips}> : tensor<i64>
    %z = stablehlo.constant dense<0.0> : tensor<f32>
    %r:2 = stablehlo.while(%i = %c0, %acc = %z) : tensor<i64>, tensor<f32>
      cond {{
        %p = stablehlo.compare LT, %i, %n, SIGNED : (tensor<i64>, tensor<i64>) -> tensor<i1>
        stablehlo.return %p : tensor<i1>
      }} do {{
        %s = stablehlo.dynamic_slice %x, %i, sizes = [1] : (tensor<8xf32>, tensor<i64>) -> tensor<1xf32>
        %s0 = stablehlo.reshape %s : (tensor<1xf32>) -> tensor<f32>
        %acc2 = stablehlo.add %acc, %s0 : tensor<f32>
        %i2 = stablehlo.add %i, %c1 : tensor<i64>
        stablehlo.return %i2, %acc2 : tensor<i64>, tensor<f32>
      }}
    return %r#1 : tensor<f32>""")


def test_unroll_copies_the_body_of_a_short_counted_loop(ctx):
    after = golden(ctx, counted(3), ["unroll", "fold", "simplify", "canonicalize"], """
        CHECK-NOT: stablehlo.while
        CHECK-NOT: dynamic_slice
        CHECK: stablehlo.slice %arg0 [0:1]
        CHECK: stablehlo.slice %arg0 [1:2]
        CHECK: stablehlo.slice %arg0 [2:3]""")
    assert op_counts(after)["stablehlo.add"] == 3


def test_unroll_of_zero_trips_forwards_the_initial_values(ctx):
    golden(ctx, counted(0), ["unroll", "canonicalize"], """
        CHECK-NOT: stablehlo.while
        CHECK: return %cst""")


def test_unroll_threshold(ctx, monkeypatch):
    module = parse(ctx, counted(40))
    optimize(module, passes=["unroll"])
    assert op_counts(module)["stablehlo.while"] == 1
    monkeypatch.setitem(PASSES, "unroll64", make_unroll(64))
    golden(ctx, counted(40), ["unroll64"], "CHECK-NOT: stablehlo.while")
    # a small body is unrolled up to 32 trips
    golden(ctx, counted(20), ["unroll"], "CHECK-NOT: stablehlo.while")


def test_unroll_leaves_loops_with_a_variable_bound(ctx):
    module = parse(ctx, LOOP)
    optimize(module, passes=["unroll"])
    assert op_counts(module)["stablehlo.while"] == 1


# --- mixed precision -------------------------------------------------------------------------------
DENSE = main("%w: tensor<16x32xf32>, %x: tensor<32x8xf32>", "tensor<8xf32>", """
    %h = stablehlo.dot_general %w, %x, contracting_dims = [1] x [0] : (tensor<16x32xf32>, tensor<32x8xf32>) -> tensor<16x8xf32>
    %z = stablehlo.constant dense<0.0> : tensor<f32>
    %r = stablehlo.reduce(%h init: %z) applies stablehlo.add across dimensions = [0] : (tensor<16x8xf32>, tensor<f32>) -> tensor<8xf32>
    return %r : tensor<8xf32>""")


def test_precision_bf16_converts_operands_only(ctx):
    module = parse(ctx, DENSE)
    optimize(module, passes=[], precision="bf16")
    filecheck(str(module), """
        CHECK: stablehlo.convert %arg1 : (tensor<32x8xf32>) -> tensor<32x8xbf16>
        CHECK: stablehlo.convert %arg0 : (tensor<16x32xf32>) -> tensor<16x32xbf16>
        CHECK: (tensor<16x32xbf16>, tensor<32x8xbf16>) -> tensor<16x8xf32>
        CHECK: (tensor<16x8xf32>, tensor<f32>) -> tensor<8xf32>""")
    args = random_args(module, np.random.default_rng(1))
    (want,), (got,) = Executable(parse(ctx, DENSE))(*args), Executable(module)(*args)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=2e-2, atol=2e-2 * np.abs(want).max())


def test_precision_is_not_part_of_any_level_and_is_checked(ctx):
    assert all(not name.startswith("precision") for names in LEVELS.values() for name in names)
    module = parse(ctx, DENSE)
    optimize(module, level=2)
    assert "bf16" not in str(module)
    with pytest.raises(ValueError, match="unknown precision 'f8'"):
        optimize(module, precision="f8")


# --- pipeline --------------------------------------------------------------------------------------
def test_O2_runs_every_pass_and_O0_none(ctx):
    for name in ("transpose_fold", "dead_values", "licm", "unroll"):
        assert name in LEVELS[2] and name in PASSES
    assert LEVELS[0] == []
    module = parse(ctx, LOOP)
    printed: list[str] = []
    timings: dict[str, float] = {}
    optimize(module, level=2, precision="bf16", print_after_each=lambda name, text: printed.append(name),
             timings=timings)
    # ieee_exact is not an optimization: it runs last at every level (see ieee_exact.py)
    assert printed == LEVELS[2] + ["precision-bf16", "ieee_exact"] and set(timings) == set(printed)


def test_ieee_exact_shields_divisors_xla_would_rewrite(ctx):
    module = parse(ctx, main("%x: tensor<4xf64>, %y: tensor<4xf64>", "tensor<4xf64>", """
        %c = stablehlo.constant dense<1.000000e+01> : tensor<4xf64>
        %two = stablehlo.constant dense<2.000000e+00> : tensor<4xf64>
        %a = stablehlo.divide %x, %c : tensor<4xf64>
        %b = stablehlo.divide %a, %two : tensor<4xf64>
        %s = stablehlo.sqrt %y : tensor<4xf64>
        %r = stablehlo.divide %b, %s : tensor<4xf64>
        return %r : tensor<4xf64>"""))
    before = str(module)
    optimize(module, level=0)
    filecheck(str(module), """
        CHECK: %cst_1 = stablehlo.constant dense<1.000000e+01> : tensor<f64>
        CHECK: %0 = stablehlo.broadcast_in_dim %cst_1
        CHECK: %1 = stablehlo.optimization_barrier %0
        CHECK: %2 = stablehlo.divide %arg0, %1
        CHECK: %3 = stablehlo.optimization_barrier %2
        CHECK: %4 = stablehlo.divide %3, %cst_0
        CHECK: %6 = stablehlo.optimization_barrier %5
        CHECK: %7 = stablehlo.optimization_barrier %4
        CHECK: stablehlo.divide %7, %6""")
    x = np.array([-7.0, 1.0, 3.0, 0.3])
    y = np.array([3.0, 2.0, 5.0, 7.0])
    got = Executable(module)(x, y)[0]
    assert got.tolist() == [((v / 10.0) / 2.0) / np.sqrt(w) for v, w in zip(x, y)]
    assert "optimization_barrier" not in before


def test_ieee_exact_keeps_divisions_by_a_number_and_constant_chains_as_written(rng):
    """XLA divides by a broadcast run-time number through its reciprocal (9367 of 70001 elements
    of (0:70000) ./ 70000 were off by an ulp) and folds `(x + 1.0) + 1.0` into `x + 2.0`."""
    source = "main(x::Vector{Float64}, d::Float64) = (x ./ d, (x .+ 1.0) .+ 1.0, (x .* 3.0) .* 5.0, (x .- 1.0) .- 1.0)\n"
    x, d = np.concatenate([np.arange(0.0, 2001.0), [1e16, 0.1]]), 2000.0
    f = jlhlo.load(source, filename="t.jl").function("main")
    for level in (0, 2):
        lowered = f.lower(x, d, optimize_level=level)
        got = lowered.outputs(lowered.compile("cpu")(*lowered.host_inputs((x, d))))
        want = (x / d, (x + 1.0) + 1.0, (x * 3.0) * 5.0, (x - 1.0) - 1.0)
        for g, w in zip(got, want):
            assert g.tobytes() == w.tobytes(), level


def test_ieee_exact_keeps_plus_zero_from_turning_into_nothing():
    """XLA folds `x + 0.0` and `x - (-0.0)` to `x`, which is -0.0 where IEEE (and Julia) give 0.0."""
    source = """
main(x::Vector{Float64}, s::Float64) = (0.0 + s, s + 0.0, s - (-0.0), zeros(3) .+ x, x .- -0.0, s - 0.0, -0.0 + s)
"""
    x = np.array([-0.0, 2.0, 0.0])
    f = jlhlo.load(source, filename="t.jl").function("main")
    for level in (0, 2):
        lowered = f.lower(x, -0.0, optimize_level=level)
        got = lowered.outputs(lowered.compile("cpu")(*lowered.host_inputs((x, -0.0))))
        signs = [np.signbit(np.asarray(g)).tolist() for g in got]
        assert signs == [False, False, False, [False, False, False], [False, False, False], True, True], level


# --- Julia programs through the frontend: -O0 against -O2 ------------------------------------------
JULIA = """
flat(x::Array{Float32,4}) = reshape(x, :, size(x, 4))
dense_t(W::Matrix{Float32}, x::Matrix{Float32}) = W' * x
dense_flat(W::Matrix{Float32}, x::Array{Float32,4}) = tanh.(W * reshape(x, :, size(x, 4)))
function sum_scaled(x::Vector{Float32}, k::Float32)
    s = 0.0f0
    for i in 1:4
        s += x[i] * k
    end
    s
end
function long_loop(x::Vector{Float32}, n::Int64)
    s = 0.0f0
    t = 0.0f0
    for i in 1:n
        s += x[1 + mod(i, 5)] * exp(x[2])
        t += 1.0f0
    end
    s
end
function branchy(x::Vector{Float32}, c::Bool)
    if c
        a = x .* 2.0f0
        b = exp.(x)
    else
        a = x .+ 1.0f0
        b = x
    end
    a
end
transposes(x::Matrix{Float32}, y::Matrix{Float32}) = permutedims(exp.(permutedims(x) .+ permutedims(y)))
"""

JULIA_CASES = [
    ("flat", lambda r: [r.standard_normal((2, 3, 4, 5), dtype=np.float32)], True),
    ("dense_t", lambda r: [r.standard_normal((3, 4), dtype=np.float32), r.standard_normal((3, 5), dtype=np.float32)],
     True),
    ("dense_flat", lambda r: [r.standard_normal((7, 24), dtype=np.float32),
                              r.standard_normal((2, 3, 4, 5), dtype=np.float32)], False),
    # Unrolled, x[i] * k + s is straight-line code that XLA's CPU backend contracts to a fused
    # multiply-add: the StableHLO is exact, the machine code rounds once less.
    ("sum_scaled", lambda r: [r.standard_normal(4, dtype=np.float32), np.float32(1.5)], False),
    ("long_loop", lambda r: [r.standard_normal(5, dtype=np.float32), np.int64(13)], True),
    ("branchy", lambda r: [r.standard_normal(6, dtype=np.float32), True], True),
    ("transposes", lambda r: [r.standard_normal((3, 4), dtype=np.float32),
                              r.standard_normal((3, 4), dtype=np.float32)], True),
]


@pytest.fixture(scope="module")
def julia():
    return jlhlo.load(JULIA)


@pytest.mark.parametrize("name, make_args, exact", JULIA_CASES, ids=[c[0] for c in JULIA_CASES])
def test_julia_O0_matches_O2(julia, name, make_args, exact):
    rng = np.random.default_rng(3)
    f = julia.function(name)
    args = make_args(rng)
    slow = f.lower(*args, optimize_level=0)
    fast = f.lower(*args, optimize_level=2)
    counts = op_counts(fast.module)
    assert counts["stablehlo.transpose"] <= (1 if name == "flat" else 0), fast.as_text()
    if name == "sum_scaled":
        assert counts["stablehlo.while"] == 0
    if name == "long_loop":
        body = fast.as_text().split("do {")[1]
        assert "exponential" not in body  # hoisted
    for _ in range(2):
        args = make_args(rng)
        assert_same(fast.compile()(*args), slow.compile()(*args), exact)


# --- VGG19: the bar ------------------------------------------------------------------------
def _make_weights():
    spec = importlib.util.spec_from_file_location("make_weights", os.path.join(ROOT, "examples", "make_weights.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def vgg19():
    path = os.path.join(ROOT, "examples", "vgg19.jl")
    if not os.path.exists(path):
        pytest.skip("examples/vgg19.jl not there")
    mw = _make_weights()
    rng = np.random.default_rng(0)
    layers = mw.vgg19_layers(rng, 32, hidden=32, classes=10)
    model, x = mw.nested(layers), mw.example_input("vgg19", rng, 2, 32)
    return jlhlo.load(path).function("main"), model, x, layers


def _jax_op_count(layers, x) -> int:
    import jax
    spec = importlib.util.spec_from_file_location("bench_vgg19", os.path.join(ROOT, "bench", "vgg19.py"))
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    lowered = jax.jit(bench.jax_vgg19).lower(bench.jax_params(layers, 32), bench.to_nhwc(x))
    return sum(op_counts(lowered.compiler_ir("stablehlo")).values())


def test_vgg19_O2_has_no_transposes_and_no_more_ops_than_jax(vgg19):
    f, model, x, layers = vgg19
    slow, fast = f.lower(model, x, optimize_level=0), f.lower(model, x, optimize_level=2)
    counts = op_counts(fast.module)
    assert counts["stablehlo.transpose"] == 0
    # JAX's count, plus the three elementwise ops per matrix product that give a sum of -0.0
    # products Julia's (BLAS's) +0.0 (frontend/arrays.matmul)
    assert sum(counts.values()) <= _jax_op_count(layers, x) + 3 * counts["stablehlo.dot_general"]
    args = flatten_host((model, x))
    (want,), (got,) = slow.compile()(*args), fast.compile()(*args)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    # XLA's own instruction count is no higher after -O2 either.
    count = re.compile(r"^\s*(ROOT\s+)?%\S+\s*=", re.MULTILINE)
    hlo = [len(count.findall(lo.compile().xla_hlo_text())) for lo in (slow, fast)]
    assert hlo[1] <= hlo[0]


def test_lenet_gradient_O0_matches_O2():
    # The backward pass (select_and_scatter, transposed convolutions, dense layers) at -O0 and -O2.
    mw = _make_weights()
    rng = np.random.default_rng(2)
    layers = mw.lenet_layers(rng)
    x = mw.example_input("lenet", rng, 3)
    y = np.eye(10, dtype=np.float32)[:, :3]
    with open(os.path.join(ROOT, "examples", "lenet.jl")) as file:
        src = file.read() + "\ngrad(m, x, y) = gradient(q -> loss(q, x, y), m)[1]\n"
    f = jlhlo.load(src).function("grad")
    model = mw.nested(layers)
    slow, fast = f.lower(model, x, y, optimize_level=0), f.lower(model, x, y, optimize_level=2)
    assert op_counts(fast.module)["stablehlo.transpose"] < op_counts(slow.module)["stablehlo.transpose"]
    args = flatten_host((model, x, y))
    for got, want in zip(fast.compile()(*args), slow.compile()(*args)):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)


def test_vgg19_bf16_within_2e_2_of_f32(vgg19):
    f, model, x, _ = vgg19
    args = flatten_host((model, x))
    (want,) = f.lower(model, x, optimize_level=2).compile()(*args)
    low = f.lower(model, x, optimize_level=2, precision="bf16")
    assert "bf16" in low.as_text()
    (got,) = low.compile()(*args)
    assert got.dtype == np.float32
    assert np.linalg.norm(got - want) / np.linalg.norm(want) < 2e-2


# --- simplify and contract: rules added with the loop vectorizer ---------------------------------
def test_full_size_dynamic_update_slice_is_its_update(ctx):
    golden(ctx, main("%x: tensor<4xf64>, %u: tensor<4xf64>, %i: tensor<i64>", "tensor<4xf64>", """
        %r = stablehlo.dynamic_update_slice %x, %u, %i : (tensor<4xf64>, tensor<4xf64>, tensor<i64>) -> tensor<4xf64>
        return %r : tensor<4xf64>"""), ["simplify"], """
        CHECK-NOT: dynamic_update_slice
        CHECK: return %arg1""")


def test_sum_of_a_broadcast_product_becomes_dot_general(ctx):
    # y[i] = sum_j A[i, j] * x[j], as a vectorized loop nest leaves it; the +0.0 init is added back
    golden(ctx, main("%a: tensor<3x4xf64>, %x: tensor<4xf64>", "tensor<3xf64>", """
        %z = stablehlo.constant dense<0.0> : tensor<f64>
        %b = stablehlo.broadcast_in_dim %x, dims = [1] : (tensor<4xf64>) -> tensor<3x4xf64>
        %p = stablehlo.multiply %a, %b : tensor<3x4xf64>
        %r = stablehlo.reduce(%p init: %z) applies stablehlo.add across dimensions = [1] : (tensor<3x4xf64>, tensor<f64>) -> tensor<3xf64>
        return %r : tensor<3xf64>"""), ["contract"], """
        CHECK-NOT: stablehlo.reduce
        CHECK: stablehlo.dot_general %arg0, %arg1, contracting_dims = [1] x [0]
        CHECK: stablehlo.add""", exact=False)


# --- range_fold ------------------------------------------------------------------------------------
ADAM_LIKE = main("%n: tensor<i64>, %g: tensor<4xf32>", "(tensor<4xf32>, tensor<i1>, tensor<i1>)", """
    %c0 = stablehlo.constant dense<0> : tensor<i64>
    %c1 = stablehlo.constant dense<1> : tensor<i64>
    %z = stablehlo.constant dense<0.0> : tensor<4xf32>
    %b0 = stablehlo.constant dense<0.999> : tensor<f32>
    %r:4 = stablehlo.while(%i = %c0, %v = %z, %bt = %b0, %bad = %z) : tensor<i64>, tensor<4xf32>, tensor<f32>, tensor<4xf32>
      cond {
        %p = stablehlo.compare LT, %i, %n, SIGNED : (tensor<i64>, tensor<i64>) -> tensor<i1>
        stablehlo.return %p : tensor<i1>
      } do {
        %i2 = stablehlo.add %i, %c1 : tensor<i64>
        %b = stablehlo.broadcast_in_dim %b0, dims = [] : (tensor<f32>) -> tensor<4xf32>
        %one = stablehlo.constant dense<1.0> : tensor<4xf32>
        %keep = stablehlo.multiply %b, %v : tensor<4xf32>
        %sq = stablehlo.multiply %g, %g : tensor<4xf32>
        %w = stablehlo.subtract %one, %b : tensor<4xf32>
        %new = stablehlo.multiply %w, %sq : tensor<4xf32>
        %v2 = stablehlo.add %keep, %new : tensor<4xf32>
        %bt2 = stablehlo.multiply %bt, %b0 : tensor<f32>
        %bad2 = stablehlo.subtract %bad, %sq : tensor<4xf32>
        stablehlo.return %i2, %v2, %bt2, %bad2 : tensor<i64>, tensor<4xf32>, tensor<f32>, tensor<4xf32>
      }
    %one = stablehlo.constant dense<1.0> : tensor<f32>
    %d = stablehlo.subtract %one, %r#2 : tensor<f32>
    %db = stablehlo.broadcast_in_dim %d, dims = [] : (tensor<f32>) -> tensor<4xf32>
    %q = stablehlo.divide %r#1, %db : tensor<4xf32>
    %zero = stablehlo.constant dense<0.0> : tensor<4xf32>
    %neg = stablehlo.compare LT, %q, %zero, FLOAT : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xi1>
    %f = stablehlo.constant dense<false> : tensor<i1>
    %any = stablehlo.reduce(%neg init: %f) applies stablehlo.or across dimensions = [0] : (tensor<4xi1>, tensor<i1>) -> tensor<i1>
    %neg2 = stablehlo.compare LT, %r#3, %zero, FLOAT : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xi1>
    %any2 = stablehlo.reduce(%neg2 init: %f) applies stablehlo.or across dimensions = [0] : (tensor<4xi1>, tensor<i1>) -> tensor<i1>
    %s = stablehlo.sqrt %q : tensor<4xf32>
    return %s, %any, %any2 : tensor<4xf32>, tensor<i1>, tensor<i1>""")


def test_range_fold_decides_a_check_on_what_a_loop_keeps_nonnegative(ctx):
    # Adam's v = β v + (1 - β) g² from zero stays ≥ 0 and βᵗ within [0, 1], so v / (1 - βᵗ) < 0 is
    # false in every step (its reduction now reads a constant); a value the loop lowers by g² (%bad)
    # can go below zero: its check stays
    golden(ctx, ADAM_LIKE, ["range_fold", "canonicalize"], """
        CHECK: stablehlo.divide %0#1
        CHECK: stablehlo.reduce(%c_0 init: %c) applies stablehlo.or
        CHECK: stablehlo.compare LT, %0#3, %cst
        CHECK-NOT: stablehlo.compare LT, %4""")


RANGE_PROGRAMS = """
function adam_like(g, n)
    v = zero(g)
    bt = 0.999f0                               # Optimisers' Adam state: β₂ᵗ starts at β₂
    for i in 1:n
        v = 0.999f0 .* v .+ (1 - 0.999f0) .* g .^ 2
        r = sqrt.(v ./ (1 - bt))
        bt *= 0.999f0
    end
    return v
end
function drifts_below(x, n)
    s = 1.0
    for i in 1:n
        s -= 0.3 * x
    end
    return sqrt(s)
end
shifted(x) = sqrt(x * x - 1.0)
near_one(x) = log(exp(x) - 1.0)
"""


@pytest.mark.parametrize("entry, args, throws", [
    ("adam_like", (np.float32([0.5, -2.0, 0.0]), 5), False),
    ("drifts_below", (1.0, 2), False),
    ("drifts_below", (1.0, 5), True),          # s goes below zero in the fourth step
    ("shifted", (0.5,), True),
    ("near_one", (-1.0,), True),
])
def test_range_fold_keeps_every_check_that_can_fail(entry, args, throws):
    f = jlhlo.load(RANGE_PROGRAMS, filename="t.jl").function(entry)
    outcomes = []
    for level in (0, 2):
        lowered = f.lower(*args, optimize_level=level)
        try:
            outcomes.append(lowered.outputs(lowered.compile("cpu")(*lowered.host_inputs(args))))
        except jlhlo.frontend.diagnostics.JuliaError as e:
            outcomes.append(str(e))
    assert isinstance(outcomes[0], str) == throws, outcomes
    if throws:
        assert outcomes[0] == outcomes[1] and "DomainError" in outcomes[0]
    else:
        np.testing.assert_array_equal(outcomes[0], outcomes[1])
    if entry == "adam_like":                   # the sqrt check is decided at -O2: no flag to compute
        check = re.compile(r"stablehlo\.compare\s+LT.*FLOAT")
        assert check.search(f.lower(*args, optimize_level=0).as_text())
        assert not check.search(f.lower(*args, optimize_level=2).as_text())


TWIN_LOOP = main("%n: tensor<i64>, %x: tensor<f32>", "(tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>)", """
    %c0 = stablehlo.constant dense<0> : tensor<i64>
    %c1 = stablehlo.constant dense<1> : tensor<i64>
    %b = stablehlo.constant dense<0.9> : tensor<f32>
    %h = stablehlo.constant dense<0.5> : tensor<f32>
    %r:5 = stablehlo.while(%i = %c0, %p = %b, %q = %b, %u = %b, %v = %b) : tensor<i64>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>
      cond {
        %c = stablehlo.compare LT, %i, %n, SIGNED : (tensor<i64>, tensor<i64>) -> tensor<i1>
        stablehlo.return %c : tensor<i1>
      } do {
        %i2 = stablehlo.add %i, %c1 : tensor<i64>
        %p2 = stablehlo.multiply %p, %b : tensor<f32>
        %q2 = stablehlo.multiply %q, %b : tensor<f32>
        %u2 = stablehlo.multiply %u, %x : tensor<f32>
        %v2 = stablehlo.multiply %v, %h : tensor<f32>
        stablehlo.return %i2, %p2, %q2, %u2, %v2 : tensor<i64>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>
      }
    return %r#1, %r#2, %r#3, %r#4 : tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>""")


def test_dead_values_merges_carried_values_that_start_and_update_alike(ctx):
    # %q is %p in every iteration (β₁ᵗ of two parameter arrays); %u and %v start alike but are
    # updated by another factor (%v by another constant: constants compare by value): they stay
    golden(ctx, TWIN_LOOP, ["dead_values"], """
        CHECK: stablehlo.while(%iterArg = %c, %iterArg_2 = %cst, %iterArg_3 = %cst, %iterArg_4 = %cst) : tensor<i64>, tensor<f32>, tensor<f32>, tensor<f32>
        CHECK: return %0#1, %0#1, %0#2, %0#3""")


def test_value_ranges_bound_only_what_they_can_prove(ctx):
    from jlhlo.core.value_ranges import FULL, Ranges
    module = parse(ctx, main("%x: tensor<4xf32>, %k: tensor<4xi32>", "tensor<4xf32>", """
    %half = stablehlo.constant dense<0.5> : tensor<4xf32>
    %sq = stablehlo.multiply %x, %x : tensor<4xf32>
    %pos = stablehlo.add %sq, %half : tensor<4xf32>
    %q1 = stablehlo.divide %half, %pos : tensor<4xf32>
    %q2 = stablehlo.divide %half, %sq : tensor<4xf32>
    %ksq = stablehlo.multiply %k, %k : tensor<4xi32>
    %kf = stablehlo.convert %ksq : (tensor<4xi32>) -> tensor<4xf32>
    %e = stablehlo.exponential %x : tensor<4xf32>
    %m = stablehlo.subtract %e, %half : tensor<4xf32>
    return %q1 : tensor<4xf32>"""))
    half, sq, pos, q1, q2, ksq, kf, e, m = [op.result for op in
                                            list(module.body.operations[0].regions[0].blocks[0].operations)[:-1]]
    ranges = Ranges()
    assert ranges.of(sq).lo == 0.0 and ranges.of(pos).lo > 0.49               # x², x² + ½
    assert 0 <= ranges.of(q1).lo and ranges.of(q1).hi <= 1.0 + 1e-5          # ½ / (x² + ½)
    assert ranges.of(q2) == FULL     # ½ / x²: x² may be 0 (or -0.0 in general): no sign
    assert ranges.of(kf) == FULL     # Int32 squares wrap around to negative numbers
    assert ranges.of(e).lo == 0.0 and ranges.of(m).lo < -0.49                 # exp(x) - ½ can be negative


CONV_LOOP = """
function main(x, k, k2, n::Int)
    # the same convolutions outside and inside a loop, and the gradients of a loss through them
    outside = conv(x, k; stride=2, pad=1) .+ 0
    s = zeros(Float32, size(outside))
    g = zero(k)
    for i in 1:n
        xi = x .* Float32(i)           # loop-variant: licm would hoist the convolutions otherwise
        s = s .+ conv(xi, k; stride=2, pad=1)
        g = g .+ gradient(q -> sum(abs2, conv(conv(xi, q; pad=(1, 0), dilation=2), k2; groups=2)), k)[1]
    end
    return outside, s, g
end"""


def test_convolutions_in_loops_take_the_layout_of_xlas_fast_path(rng):
    """XLA:CPU canonicalizes convolution layouts only in the entry computation; in a loop body
    jlhlo's WHCN convolutions (and their gradients, batch and feature swapped) ran as XLA's
    unoptimized loop nest, 2-6x slower. At -O2 the ones in loops are in [b, 0, 1, f] x [0, 1, i, o]
    form; the one outside keeps WHCN; every value matches -O0's."""
    x = rng.standard_normal((9, 8, 4, 3)).astype(np.float32)
    k = rng.standard_normal((3, 3, 4, 4)).astype(np.float32)
    k2 = rng.standard_normal((2, 2, 2, 6)).astype(np.float32)
    f = jlhlo.load(CONV_LOOP, filename="t.jl").function("main")
    slow, fast = f.lower(x, k, k2, 3, optimize_level=0), f.lower(x, k, k2, 3, optimize_level=2)
    text = fast.as_text()
    loop = text[text.index("stablehlo.while"):]
    before = text[:text.index("stablehlo.while")]
    dims = re.compile(r"dim_numbers = (\[[^\]]*\]x\[[^\]]*\]->\[[^\]]*\])")
    assert dims.findall(before) == ["[0, 1, f, b]x[0, 1, i, o]->[0, 1, f, b]"]
    inside = dims.findall(loop)
    assert len(inside) >= 4 and set(inside) == {"[b, 0, 1, f]x[0, 1, i, o]->[b, 0, 1, f]"}, inside
    args = flatten_host((x, k, k2, 3))
    for got, want in zip(fast.outputs(fast.compile()(*args)), slow.outputs(slow.compile()(*args))):
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-4)


THROWING_LOOPS = """
const DIMS = (3, 4)
function checked_norm(x::Matrix{Float64})
    for d in 1:length(DIMS)
        size(x, d) == DIMS[d] || throw(DimensionMismatch("size $d"))
    end
    return x ./ sqrt(sum(abs2, x))
end
function positive_sum(v::Vector{Float64})
    s = 0.0
    for i in eachindex(v)
        v[i] < 0 && throw(DomainError(v[i], "negative"))
        s += sqrt(v[i]) * i
    end
    return s
end
grad_positive_sum(v) = gradient(positive_sum, v)[1]
"""


def test_a_counted_loop_that_may_throw_stays_counted(rng):
    """A `for` loop whose only exit is a throw keeps the bare `k < n` test (once it has thrown, the
    rest of its iterations are no-ops): a short one is unrolled and its decided checks and branches
    vanish (Flux's LayerNorm left its whole pass in run-time conditionals), a long one stays a
    counted loop whose VJP tapes it. Errors are still reported, at every level."""
    prog = jlhlo.load(THROWING_LOOPS, filename="t.jl")
    x = rng.standard_normal((3, 4))
    text = prog.function("checked_norm").lower(x).as_text()
    assert "stablehlo.while" not in text and "stablehlo.if" not in text and "stablehlo.case" not in text
    v = rng.uniform(0.5, 2.0, 20)
    for level in (0, 2):
        f = prog.function("checked_norm")
        lo = f.lower(x, optimize_level=level)
        np.testing.assert_allclose(lo.outputs(lo.compile()(*lo.host_inputs((x,)))), x / np.sqrt((x**2).sum()))
        with pytest.raises(JuliaError, match="DimensionMismatch"):
            lo = f.lower(x[:, :3], optimize_level=level)
            lo.outputs(lo.compile()(*lo.host_inputs((x[:, :3],))))
        g = prog.function("grad_positive_sum")
        lo = g.lower(v, optimize_level=level)
        np.testing.assert_allclose(lo.outputs(lo.compile()(*lo.host_inputs((v,)))),
                                   np.arange(1, 21) / (2 * np.sqrt(v)), rtol=1e-12)
        bad = v.copy()
        bad[7] = -1.0
        with pytest.raises(JuliaError, match="DomainError"):
            lo.outputs(lo.compile()(*lo.host_inputs((bad,))))
    assert "stablehlo.while" in prog.function("positive_sum").lower(v).as_text()
