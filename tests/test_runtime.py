"""The runtime: exact dtypes in and out, argument checks, the compile cache, device arrays, and the
CLI's .npz naming."""
from __future__ import annotations

import collections
import dataclasses

import jax
import numpy as np
import pytest
from jax.extend.mlir import ir
from jlhlo.runtime import DeviceUnavailable, Executable, flatten_outputs, group_inputs, make_context, xla_bridge


@pytest.fixture(scope="module")
def ctx() -> ir.Context:
    return make_context()


def parse(ctx: ir.Context, text: str) -> ir.Module:
    with ctx, ir.Location.unknown():
        return ir.Module.parse(text)


def identity(ctx: ir.Context, tensor: str) -> ir.Module:
    return parse(ctx, f"func.func public @main(%x: {tensor}) -> {tensor} {{ return %x : {tensor} }}")


DOUBLE = """
func.func public @main(%x: tensor<3xf32>, %n: tensor<i64>) -> (tensor<3xf32>, tensor<i64>) {
  %0 = stablehlo.add %x, %x : tensor<3xf32>
  %1 = stablehlo.add %n, %n : tensor<i64>
  return %0, %1 : tensor<3xf32>, tensor<i64>
}
"""

EXTREMES = {
    "tensor<2xi64>": np.array([2**62 + 1, -(2**63)], np.int64),
    "tensor<2xui64>": np.array([2**64 - 1, 3], np.uint64),
    "tensor<2xf64>": np.array([0.1, -1e300], np.float64),
    "tensor<2xf32>": np.array([0.1, -0.0], np.float32),
    "tensor<2xf16>": np.array([0.1, 65504], np.float16),
    "tensor<2xi1>": np.array([True, False]),
    "tensor<2xi8>": np.array([-128, 127], np.int8),
    "tensor<2xcomplex<f32>>": np.array([1 + 2j, -0.5j], np.complex64),
    "tensor<2xcomplex<f64>>": np.array([1e-300 + 2j, 3], np.complex128),
    "tensor<i64>": np.array(2**40 + 7, np.int64),
}


@pytest.mark.parametrize("tensor", list(EXTREMES))
def test_values_round_trip_with_exact_dtype(ctx, tensor):
    value = EXTREMES[tensor]
    (out,) = Executable(identity(ctx, tensor))(value)
    assert out.dtype == value.dtype and out.shape == value.shape
    np.testing.assert_array_equal(out, value)
    out[...] = 0  # results are the caller's own, writable arrays


def test_scalars_come_back_as_0d_arrays(ctx):
    x, n = Executable(parse(ctx, DOUBLE))(np.ones(3, np.float32), np.int64(21))
    assert n.shape == () and n.dtype == np.int64 and n == 42
    np.testing.assert_array_equal(x, np.full(3, 2, np.float32))


def test_python_scalars_take_the_parameter_dtype(ctx):
    (out,) = Executable(identity(ctx, "tensor<i32>"))(7)
    assert out.dtype == np.int32 and out == 7
    (out,) = Executable(identity(ctx, "tensor<f32>"))(0.5)
    assert out.dtype == np.float32 and out == 0.5


@pytest.mark.parametrize(
    "tensor, value, message",
    [
        ("tensor<3xf32>", np.zeros(3, np.float64), "argument 0: expected float32[3], got float64[3]"),
        ("tensor<3xf32>", np.zeros(4, np.float32), "argument 0: expected float32[3], got float32[4]"),
        ("tensor<i64>", np.int32(1), "argument 0: expected int64 scalar, got int32 scalar"),
        ("tensor<i32>", 1.5, "argument 0: expected int32 scalar, got float64 scalar"),
        ("tensor<i8>", 300, "argument 0: Python integer 300 out of bounds for int8"),
        ("tensor<2xf32>", jax.numpy.zeros(2, np.float64), "argument 0: expected float32[2], got float64[2]"),
    ],
)
def test_bad_arguments_name_index_expected_and_got(ctx, tensor, value, message):
    with pytest.raises(TypeError, match=message.replace("[", r"\[")):
        Executable(identity(ctx, tensor))(value)


def test_wrong_argument_count(ctx):
    with pytest.raises(TypeError, match="expected 2 arguments, got 1"):
        Executable(parse(ctx, DOUBLE))(np.ones(3, np.float32))


def test_same_module_compiles_once(ctx):
    first, second = Executable(parse(ctx, DOUBLE)), Executable(parse(ctx, DOUBLE))
    assert first.loaded is second.loaded
    assert Executable(identity(ctx, "tensor<3xf32>")).loaded is not first.loaded


def test_device_arrays_pass_straight_through(ctx, monkeypatch):
    exe = Executable(parse(ctx, DOUBLE))
    x, n = exe.call_device(np.ones(3, np.float32), np.int64(1))
    assert isinstance(x, jax.Array) and x.devices() == {exe.device}

    def no_transfers(*args, **kwargs):
        raise AssertionError("a device array went through jax.device_put")

    monkeypatch.setattr(jax, "device_put", no_transfers)
    x, n = exe.call_device(x, n)
    assert n.dtype == np.int64 and int(n) == 4
    np.testing.assert_array_equal(np.asarray(x), np.full(3, 4, np.float32))


def test_xla_hlo_text(ctx):
    exe = Executable(parse(ctx, DOUBLE))
    assert "HloModule" in exe.xla_hlo_text() and "s64[]" in exe.xla_hlo_text()
    assert xla_bridge.hlo_instruction_count(exe.loaded) >= 3


def test_missing_platform_is_device_unavailable(ctx):
    if any(d.platform == "tpu" for d in jax.devices()):
        pytest.skip("this machine has a TPU")
    with pytest.raises(DeviceUnavailable, match="tpu"):
        Executable(parse(ctx, DOUBLE), platform="tpu")


def test_module_without_main(ctx):
    module = parse(ctx, "func.func public @f(%x: tensor<f32>) -> tensor<f32> { return %x : tensor<f32> }")
    with pytest.raises(ValueError, match="no @main"):
        Executable(module)


# --- .npz naming ----------------------------------------------------------------------------------
def test_group_inputs_builds_tuples_and_structs():
    a = {k: np.array(i) for i, k in enumerate(["x", "p.2", "p.1", "m.W", "m.b", "net.layer1.W", "t.1.2", "t.1.1"])}
    grouped = group_inputs(a)
    assert grouped["x"] is a["x"]
    assert grouped["p"] == (a["p.1"], a["p.2"])
    assert grouped["m"] == {"W": a["m.W"], "b": a["m.b"]}
    assert grouped["net"] == {"layer1": {"W": a["net.layer1.W"]}}
    assert grouped["t"] == ((a["t.1.1"], a["t.1.2"]),)


def test_group_inputs_orders_tuple_items_numerically():
    a = {f"p.{i}": np.array(i) for i in [10, 2, 1, 3, 4, 5, 6, 7, 8, 9]}
    assert [int(v) for v in group_inputs(a)["p"]] == list(range(1, 11))


@pytest.mark.parametrize(
    "keys, message",
    [
        (["p.1", "p.W"], "'p' mixes tuple items and struct fields"),
        (["p.1", "p.3"], "tuple 'p' must have items p.1 to p.2"),
        (["p", "p.1"], "'p' is given both as an array and in parts"),
        (["p..1"], "empty part"),
    ],
)
def test_group_inputs_rejects_bad_keys(keys, message):
    with pytest.raises(ValueError, match=message):
        group_inputs({k: np.zeros(1) for k in keys})


def test_flatten_outputs_names_and_dtypes():
    Point = collections.namedtuple("Point", ["y", "x"])

    @dataclasses.dataclass
    class Dense:
        W: np.ndarray
        b: np.ndarray

    W, b = np.ones((2, 2), np.float32), np.zeros(2, np.float32)
    flat = flatten_outputs((np.float32(1.5), 3, (True, Point(1.0, 2.0)), {"layer": Dense(W, b)}))
    assert list(flat) == ["out.1", "out.2", "out.3.1", "out.3.2.y", "out.3.2.x", "out.4.layer.W", "out.4.layer.b"]
    assert flat["out.1"].dtype == np.float32 and flat["out.1"].shape == ()
    assert flat["out.2"].dtype == np.int64 and flat["out.3.1"].dtype == np.bool_
    assert flat["out.4.layer.W"] is W


def test_flatten_outputs_single_value():
    x = np.arange(3)
    assert flatten_outputs(x) == {"out": x}
    assert flatten_outputs(x, prefix="grad")["grad"] is x
    assert flatten_outputs(None) == {}
