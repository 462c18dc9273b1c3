"""Reverse-mode AD (`jlhlo.mlir_passes.autodiff.build_vjp`): every VJP rule against jax.vjp of the
same function in float64 (lowered by JAX, re-parsed into our context), control flow in the shape the
frontend emits, second derivatives, errors, and the optimization pipeline on the result."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax
from jax.extend.mlir import ir
from jax.extend.mlir.dialects import func
from jax.extend.mlir.dialects import stablehlo as hlo
from jlhlo.mlir_passes import optimize
from jlhlo.mlir_passes.autodiff import build_vjp
from jlhlo.runtime import Executable, make_context

RTOL, ATOL = 1e-9, 1e-12


def _func_type(module: ir.Module, name: str) -> ir.FunctionType:
    for op in module.body.operations:
        if op.operation.name == "func.func" and ir.StringAttr(op.attributes["sym_name"]).value == name:
            return ir.FunctionType(ir.TypeAttr(op.attributes["function_type"]).value)
    raise KeyError(name)


def add_wrapper(module: ir.Module, name: str, callee: str, select: list[int] | None = None,
                extra: list[float] | None = None) -> None:
    """A func `@name` that calls `@callee` on its args (then the constants `extra`, scalars of the
    callee's next input types) and returns the results numbered `select` (all by default)."""
    ft = _func_type(module, callee)
    extra = extra or []
    n_args = len(ft.inputs) - len(extra)
    results = list(ft.results)
    select = list(range(len(results))) if select is None else select
    with ir.InsertionPoint(module.body):
        f = func.FuncOp(name, ir.FunctionType.get(list(ft.inputs)[:n_args], [results[i] for i in select]))
        if name != "main":
            f.attributes["sym_visibility"] = ir.StringAttr.get("private")
        entry = f.add_entry_block()
        with ir.InsertionPoint(entry):
            consts = [hlo.constant(ir.DenseElementsAttr.get_splat(
                t, ir.FloatAttr.get(ir.RankedTensorType(t).element_type, v)))
                for t, v in zip(list(ft.inputs)[n_args:], extra)]
            call = func.CallOp(results, ir.FlatSymbolRefAttr.get(callee), list(entry.arguments) + consts)
            func.ReturnOp([call.results[i] for i in select])


def jax_text(f, *args) -> str:
    """`f` lowered by JAX, its entry renamed to a private `@f`."""
    text = str(jax.jit(f).lower(*args).compiler_ir("stablehlo"))
    return text.replace("func.func public @main(", "func.func private @f(")


def run_vjp(text: str, args, cts, wrt=None, name="f", level: int | None = None):
    with make_context(), ir.Location.unknown():
        module = ir.Module.parse(text)
        vjp = build_vjp(module, name, wrt or [True] * len(args))
        add_wrapper(module, "main", vjp)
        module.operation.verify()
        if level is not None:
            optimize(module, level)
        return Executable(module)(*args, *cts)


def check_against_jax(f, *args, level=None):
    out, pullback = jax.vjp(f, *args)
    outs = out if isinstance(out, tuple) else (out,)
    rng = np.random.default_rng(0)
    cts = [rng.standard_normal(np.shape(o)) for o in outs]
    expected = pullback(tuple(cts) if isinstance(out, tuple) else cts[0])
    got = run_vjp(jax_text(f, *args), args, cts, level=level)
    assert len(got) == len(outs) + len(args)
    for a, b in zip(got, list(outs) + list(expected)):
        if b.dtype == jax.dtypes.float0:    # integer argument: zero cotangent
            assert not np.any(a)
        else:
            np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)


_rng = np.random.default_rng(1)


def _r(*s):
    return _rng.standard_normal(s)


def _p(*s):
    return _rng.uniform(0.5, 2.0, s)


def _conv(strides, padding, lhs_dil, rhs_dil, dn, groups=1):
    return lambda x, w: lax.conv_general_dilated(x, w, strides, padding, lhs_dil, rhs_dil, dn,
                                                 feature_group_count=groups)


# name -> (function, arguments): one record per rule (or family of rules)
CASES = {
    "add_sub_mul_neg": (lambda x, y: x * y - x + (-y) * x, (_r(3, 4), _r(3, 4))),
    "div": (lambda x, y: x / y, (_r(3, 4), _p(3, 4))),
    "exp_log": (lambda x: jnp.exp(x) * jnp.log(x) + jnp.log1p(x) + jnp.expm1(x), (_p(5),)),
    "sqrt_rsqrt_cbrt": (lambda x: jnp.sqrt(x) + lax.rsqrt(x) + jnp.cbrt(x), (_p(5),)),
    "tanh_sin_cos": (lambda x: jnp.tanh(x) + jnp.sin(x) * jnp.cos(x), (_r(5),)),
    "tan": (lambda x: lax.tan(x), (_r(5) * 0.5,)),
    "power": (lambda x, y: x ** y, (_p(5), _r(5))),
    "abs_logistic": (lambda x: jnp.abs(x) * jax.nn.sigmoid(x), (_r(6),)),
    "max_min": (lambda x, y: jnp.maximum(x, y) * jnp.minimum(x, 2 * y), (_r(6), _r(6))),
    "max_tie": (lambda x, y: jnp.maximum(x, y), (np.array([1.0, 2.0]), np.array([1.0, 3.0]))),
    "atan2_rem": (lambda x, y: jnp.arctan2(x, y) + lax.rem(x, y), (_r(5), _p(5))),
    "select_compare": (lambda x, y: jnp.where(x > y, x * y, jnp.sin(y)), (_r(6), _r(6))),
    "clamp": (lambda x: lax.clamp(-0.5, x, 0.5) * x, (_r(8),)),
    "convert": (lambda x, i: (x.astype(jnp.float32) * 2).astype(jnp.float64) + i, (_r(4), np.int64(3))),
    "broadcast_in_dim": (lambda x, y: x[:, None] * y[None, :] + x.sum(), (_r(3), _r(4))),
    "broadcast_size1": (lambda x: jnp.broadcast_to(x, (2, 3, 4)) * 2, (_r(3, 1),)),
    "reshape_transpose": (lambda x: jnp.transpose(x, (2, 0, 1)).reshape(4, 6) * 2, (_r(2, 3, 4),)),
    "reverse": (lambda x: x[::-1] * jnp.arange(4.0), (_r(4),)),
    "reduce_sum_max_min": (lambda x: jnp.sum(x, 1) * jnp.max(x, 0).sum() + jnp.min(x), (_r(3, 4),)),
    "dot_matmul": (lambda a, b: a @ b, (_r(3, 4), _r(4, 5))),
    "dot_matvec": (lambda a, b: a @ b, (_r(3, 4), _r(4))),
    "dot_batched": (lambda a, b: jnp.einsum("bij,bkj->bki", a, b), (_r(2, 3, 4), _r(2, 5, 4))),
    "slice": (lambda x: x[1:3, ::2] * x[0:2, 1::2], (_r(4, 4),)),
    "concatenate": (lambda x, y: jnp.concatenate([x, y * 2, x], 0), (_r(2, 3), _r(1, 3))),
    "pad": (lambda x, v: lax.pad(x, v, [(1, 2, 1), (-1, 0, 0)]), (_r(3, 4), _r())),
    "dynamic_slice": (lambda x, i: lax.dynamic_slice(x, (i, 1), (2, 2)), (_r(4, 4), np.int64(1))),
    "dynamic_update_slice": (lambda x, u, i: lax.dynamic_update_slice(x, u * u, (i, 1)),
                             (_r(4, 4), _r(2, 2), np.int64(1))),
    "gather": (lambda x, i: x[i] * 2, (_r(5, 3), np.array([0, 3, 3, 1]))),
    "scatter_add": (lambda x, i, u: x.at[i].add(u * u), (_r(5, 3), np.array([0, 3, 3]), _r(3, 3))),
    "scatter_set": (lambda x, i, u: x.at[i].set(u * u) * x, (_r(5, 3), np.array([0, 4, 3]), _r(3, 3))),
    "max_pool": (lambda x: lax.reduce_window(x, -jnp.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID"),
                 (_r(2, 6, 6, 3),)),
    "sum_pool": (lambda x: lax.reduce_window(x, 0.0, lax.add, (1, 3, 3, 1), (1, 2, 2, 1), "SAME"),
                 (_r(2, 7, 7, 3),)),
    "conv_stride_pad": (_conv((2, 1), [(1, 2), (0, 1)], (1, 1), (1, 1), ("NCHW", "OIHW", "NCHW")),
                        (_r(2, 3, 9, 8), _r(4, 3, 3, 2))),
    "conv_rhs_dilation": (_conv((1, 1), [(0, 0), (1, 1)], (1, 1), (2, 1), ("NCHW", "OIHW", "NCHW")),
                          (_r(2, 3, 9, 8), _r(4, 3, 3, 2))),
    "conv_lhs_dilation_nhwc": (_conv((1, 1), [(1, 1), (1, 1)], (2, 1), (1, 1), ("NHWC", "HWIO", "NHWC")),
                               (_r(2, 5, 6, 3), _r(3, 3, 3, 4))),
    "conv_groups": (_conv((1, 2), [(0, 0), (1, 1)], (1, 1), (1, 1), ("NCHW", "OIHW", "NCHW"), groups=2),
                    (_r(2, 4, 6, 7), _r(6, 2, 3, 3))),
    "fori_loop": (lambda a, y: lax.fori_loop(0, 5, lambda i, y: a * y + jnp.sin(y), y), (_r(), _r(3))),
    "nested_loops": (lambda a, y: lax.fori_loop(0, 3, lambda i, y: lax.fori_loop(
        0, 2, lambda j, z: jnp.sin(z * a) + y, y), y), (_r(), _r(2))),
    "cond_true": (lambda a, y: lax.cond(a > 0, lambda y: y * a * a, lambda y: jnp.sin(y) + a, y),
                  (np.float64(0.7), _r(3))),
    "cond_false": (lambda a, y: lax.cond(a > 0, lambda y: y * a * a, lambda y: jnp.sin(y) + a, y),
                   (np.float64(-0.7), _r(3))),
    "switch": (lambda i, y: lax.switch(i, [jnp.sin, jnp.cos, lambda v: v * v], y), (np.int32(2), _r(3))),
    "call": (lambda x: jax.jit(lambda v: jnp.sin(v) * v)(x) * jax.jit(lambda v: jnp.sin(v) * v)(2 * x), (_r(3),)),
    "multiple_results": (lambda x, y: (x * y, jnp.sum(x)), (_r(3), _r(3))),
}


@pytest.mark.parametrize("name", list(CASES))
def test_vjp_matches_jax(name):
    f, args = CASES[name]
    check_against_jax(f, *args)


def test_optimized_vjp_keeps_results():
    f = lambda a, y, w: lax.fori_loop(0, 4, lambda i, y: jnp.tanh(w @ y) * a, y)
    check_against_jax(f, _r(), _r(3), _r(3, 3), level=2)


# The shape the frontend emits for `for i in 1:5; y = a*y + sin(y); end; if y > 0; y = y*2; end`:
# the loop captures %arg0, the `if` captures the loop's result.
FRONTEND_LOOP = """
module {
  func.func private @f(%arg0: tensor<f64>, %arg1: tensor<f64>) -> tensor<f64> {
    %c = stablehlo.constant dense<0> : tensor<i64> loc("t.jl":2:5)
    %0:2 = stablehlo.while(%iterArg = %arg1, %iterArg_0 = %c) : tensor<f64>, tensor<i64>
    cond {
      %c_1 = stablehlo.constant dense<5> : tensor<i64>
      %3 = stablehlo.compare LT, %iterArg_0, %c_1, SIGNED : (tensor<i64>, tensor<i64>) -> tensor<i1>
      stablehlo.return %3 : tensor<i1>
    } do {
      %5 = stablehlo.multiply %arg0, %iterArg : tensor<f64> loc("t.jl":3:13)
      %6 = stablehlo.sine %iterArg : tensor<f64> loc("t.jl":3:19)
      %7 = stablehlo.add %5, %6 : tensor<f64> loc("t.jl":3:13)
      %c_3 = stablehlo.constant dense<1> : tensor<i64>
      %8 = stablehlo.add %iterArg_0, %c_3 : tensor<i64>
      stablehlo.return %7, %8 : tensor<f64>, tensor<i64>
    } loc("t.jl":2:5)
    %cst = stablehlo.constant dense<0.000000e+00> : tensor<f64>
    %1 = stablehlo.compare GT, %0#0, %cst, FLOAT : (tensor<f64>, tensor<f64>) -> tensor<i1>
    %2 = "stablehlo.if"(%1) ({
      %cst_0 = stablehlo.constant dense<2.000000e+00> : tensor<f64>
      %3 = stablehlo.multiply %0#0, %cst_0 : tensor<f64>
      stablehlo.return %3 : tensor<f64>
    }, {
      stablehlo.return %0#0 : tensor<f64>
    }) : (tensor<i1>) -> tensor<f64> loc("t.jl":5:5)
    return %2 : tensor<f64>
  }
}
"""


def _frontend_reference(a, y):
    for _ in range(5):
        y = a * y + jnp.sin(y)
    return jnp.where(y > 0, y * 2, y)


@pytest.mark.parametrize("a, y", [(0.9, 0.3), (0.5, -1.2)])
def test_frontend_shaped_loop_and_if(a, y):
    value, grads = jax.value_and_grad(_frontend_reference, argnums=(0, 1))(a, y)
    got = run_vjp(FRONTEND_LOOP, [a, y], [1.0])
    np.testing.assert_allclose(got[0], value, rtol=RTOL)
    np.testing.assert_allclose(got[1:], grads, rtol=RTOL)
    # central finite differences
    f = lambda a, y: float(_frontend_reference(a, y))
    h = 1e-6
    fd = [(f(a + h, y) - f(a - h, y)) / (2 * h), (f(a, y + h) - f(a, y - h)) / (2 * h)]
    np.testing.assert_allclose(got[1:], fd, rtol=1e-6)


def test_wrt_subset_and_integer_result():
    text = jax_text(lambda x, y: (x * y, jnp.sum(x > 0).astype(jnp.int64)), _r(3), _r(3))
    x, y = _r(3), _r(3)
    got = run_vjp(text, [x, y], [np.ones(3), np.int64(0)], wrt=[False, True])
    assert len(got) == 3
    np.testing.assert_allclose(got[2], x, rtol=RTOL)


def _hvp_module(text: str, n_args: int) -> tuple[ir.Module, str]:
    """`@g(x...) = gradient of f at x` (f has one scalar result), and its VJP."""
    module = ir.Module.parse(text)
    vjp = build_vjp(module, "f", [True] * n_args)
    add_wrapper(module, "g", vjp, select=list(range(1, 1 + n_args)), extra=[1.0])
    return module, build_vjp(module, "g", [True] * n_args)


@pytest.mark.parametrize("f, args", [
    (lambda x, w: jnp.sum(jnp.tanh(w @ x) ** 2) + jnp.max(x * x), (_r(3), _r(3, 3))),
    (lambda a, y: jnp.sum(lax.fori_loop(0, 4, lambda i, y: a * y + jnp.sin(y), y)), (_r(), _r(2))),
    (lambda a, y: jnp.sum(lax.cond(a > 0, lambda y: jnp.exp(y * a), lambda y: y, y)), (np.float64(0.3), _r(2))),
])
def test_second_derivative_hvp(f, args):
    vs = [_r(*np.shape(a)) for a in args]
    _, hvp = jax.vjp(jax.grad(f, argnums=tuple(range(len(args)))), *args)
    expected = hvp(tuple(vs))
    with make_context(), ir.Location.unknown():
        module, name = _hvp_module(jax_text(f, *args), len(args))
        add_wrapper(module, "main", name)
        module.operation.verify()
        got = Executable(module)(*args, *vs)
    for a, b in zip(got[len(args):], expected):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)


DATA_DEPENDENT_LOOP = """
module {
  func.func private @f(%arg0: tensor<f64>) -> tensor<f64> {
    %0 = stablehlo.while(%y = %arg0) : tensor<f64>
    cond {
      %c = stablehlo.constant dense<1.000000e+01> : tensor<f64>
      %1 = stablehlo.compare LT, %y, %c, FLOAT : (tensor<f64>, tensor<f64>) -> tensor<i1>
      stablehlo.return %1 : tensor<i1>
    } do {
      %2 = stablehlo.multiply %y, %y : tensor<f64>
      stablehlo.return %2 : tensor<f64>
    } loc("newton.jl":7:5)
    return %0 : tensor<f64>
  }
}
"""


@pytest.mark.parametrize("y0, squarings", [(2.0, 2), (1.5, 3), (20.0, 0)])
def test_data_dependent_loop_recomputes_each_iteration(y0, squarings):
    """y ← y² until y ≥ 10: N squarings give y0^(2^N), whose derivative is 2^N y0^(2^N - 1); N depends
    on y0, so the VJP counts the iterations and recomputes each one's input from the loop's entry."""
    p = 2 ** squarings
    got = run_vjp(DATA_DEPENDENT_LOOP, [y0], [1.0])
    np.testing.assert_allclose(got, [y0 ** p, p * y0 ** (p - 1)], rtol=1e-12)


def test_loop_off_the_gradient_path_is_fine():
    # floor has a zero derivative: the loop needs no cotangent, so its trip count does not matter
    text = DATA_DEPENDENT_LOOP.replace("return %0 : tensor<f64>", """%3 = stablehlo.floor %0 : tensor<f64>
    %4 = stablehlo.multiply %arg0, %3 : tensor<f64>
    return %4 : tensor<f64>""")
    got = run_vjp(text, [2.0], [1.0])
    np.testing.assert_array_equal(got, [32.0, 16.0])


ZERO_TRIP_LOOP = """
module {
  func.func private @f(%arg0: tensor<f64>) -> tensor<f64> {
    %c0 = stablehlo.constant dense<3> : tensor<i64>
    %0:2 = stablehlo.while(%y = %arg0, %k = %c0) : tensor<f64>, tensor<i64>
    cond {
      %c = stablehlo.constant dense<3> : tensor<i64>
      %1 = stablehlo.compare LT, %k, %c, SIGNED : (tensor<i64>, tensor<i64>) -> tensor<i1>
      stablehlo.return %1 : tensor<i1>
    } do {
      %2 = stablehlo.multiply %y, %y : tensor<f64>
      %one = stablehlo.constant dense<1> : tensor<i64>
      %3 = stablehlo.add %k, %one : tensor<i64>
      stablehlo.return %2, %3 : tensor<f64>, tensor<i64>
    }
    %4 = stablehlo.multiply %0#0, %arg0 : tensor<f64>
    return %4 : tensor<f64>
  }
}
"""


def test_counted_loop_that_never_runs_passes_cotangents_through():
    # the tape of a loop with trip count 0 would be a zero-length stack: the loop is the identity
    got = run_vjp(ZERO_TRIP_LOOP, [3.0], [1.0])
    np.testing.assert_array_equal(got, [9.0, 6.0])


def test_vjp_is_cached_and_callees_get_their_own():
    f = lambda x: jax.jit(lambda v: jnp.sin(v) * v)(x) * 2
    with make_context(), ir.Location.unknown():
        module = ir.Module.parse(jax_text(f, _r(3)))
        first = build_vjp(module, "f", [True])
        assert build_vjp(module, "f", [True]) == first == "f_vjp"
        names = [ir.StringAttr(op.attributes["sym_name"]).value for op in module.body.operations]
        assert sum(n.endswith("_vjp") for n in names) == 2


JULIA_LOSS = """
function layer(W, x)
    return tanh.(W * x)
end
function loss(W, x, y)
    for i in 1:3
        x = layer(W, x)
    end
    d = x .- y
    return sum(d .* d)
end
"""


@pytest.mark.parametrize("level", [0, 2])
def test_frontend_function_end_to_end(tmp_path, level):
    import jlhlo
    path = tmp_path / "loss.jl"
    path.write_text(JULIA_LOSS)
    W, x, y = _r(3, 3) * 0.5, _r(3), _r(3)

    def reference(W, x, y):
        for _ in range(3):
            x = jnp.tanh(W @ x)
        return jnp.sum((x - y) ** 2)
    expected = jax.grad(reference, argnums=(0, 1, 2))(W, x, y)
    text = jlhlo.load(str(path)).function("loss").lower(W, x, y, optimize_level=level).as_text()
    text = text.replace("func.func @main(", "func.func private @f(")
    with make_context(), ir.Location.unknown():
        module = ir.Module.parse(text)
        add_wrapper(module, "main", build_vjp(module, "f", [True] * 3))
        results = _func_type(module, "f").results
        optimize(module, 2)
        cts = [1.0] + [np.zeros(ir.RankedTensorType(t).shape, np.int32) for t in list(results)[1:]]
        got = Executable(module)(W, x, y, *cts)
    for a, b in zip(got[len(results):], expected):
        np.testing.assert_allclose(a, b, rtol=RTOL)
