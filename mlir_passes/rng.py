"""`Random.seed!`: after it, the random numbers a program draws are a fixed stream of its seed.

The frontend draws with `stablehlo.rng`, which XLA keeps stateful (new numbers on every run, the
same stream in every new process). A program that calls `Random.seed!(n)` (a `custom_call
@jlhlo.rng_seed(n)`) instead draws from a Threefry generator whose state `thread_rng_state` threads
through every draw in program order (mlir_passes/effects.py): `seed!` sets the state from `n`, and
each draw takes `stablehlo.rng_bit_generator` bits and turns them into what the draw asks for:
uniform in [0, 1) from the top mantissa bits, normal by Box–Muller, integers in [a, b) by
remainder. Before the first `seed!`, the state comes from XLA's own generator. The stream is not
Julia's (Xoshiro256++): the same seed gives the same numbers here, not Julia's numbers.
"""
from __future__ import annotations

import math

import numpy as np
from jax.extend.mlir import ir
from jax.extend.mlir.dialects import stablehlo as hlo

from ..core import builder as B
from ..core.ops import SEED_TARGET
from .effects import thread_effects, walk_ops

_GOLDEN = 0x9E3779B97F4A7C15 >> 1      # the second state word of a seeded generator (below 2^63)


def _is_seed(op: ir.Operation) -> bool:
    return op.name == "stablehlo.custom_call" and \
        ir.StringAttr(op.attributes["call_target_name"]).value == SEED_TARGET


def _is_rng_effect(op: ir.Operation) -> bool:
    return op.name == "stablehlo.rng" or _is_seed(op)


def thread_rng_state(module: ir.Module) -> None:
    """If `module` seeds the generator, make all its draws come from one threaded state."""
    seeds: list[ir.Operation] = []
    walk_ops(module.operation, lambda o: seeds.append(o) if _is_seed(o) else None)
    if not seeds:
        return
    with module.context:
        u64 = ir.IntegerType.get_unsigned(64)
        state = ir.RankedTensorType.get([2], u64)
    thread_effects(module, _is_rng_effect, state, lambda: _unseeded(state), _step)


def _unseeded(state: ir.Type) -> ir.Value:
    """A state from XLA's stateful generator: a new one on every run."""
    lo, hi = (B.dense_constant(np.array(v, np.int64), _tensor((), _i64()))
              for v in (np.iinfo(np.int64).min, np.iinfo(np.int64).max))
    words = hlo.rng(lo, hi, B.dense_constant(np.array([2], np.int64), _tensor((1,), _i64())),
                    hlo.RngDistributionAttr.get("UNIFORM"))
    return hlo.bitcast_convert(state, words)


def _step(op: ir.Operation, state: ir.Value) -> ir.Value:
    with ir.InsertionPoint(op), op.location:
        if _is_seed(op):
            seed = hlo.bitcast_convert(_tensor((1,), _u64()), B.reshape(B.convert(op.operands[0], _i64()), (1,)))
            golden = B.dense_constant(np.array([_GOLDEN], np.uint64), _tensor((1,), _u64()))
            new = hlo.concatenate([seed, golden], 0)
        else:
            new, value = _draw(op, state)
            op.results[0].replace_all_uses_with(value)
    op.erase()
    return new


def _u64() -> ir.Type:
    return ir.IntegerType.get_unsigned(64)


def _i64() -> ir.Type:
    return ir.IntegerType.get_signless(64)


def _tensor(dims: tuple[int, ...], element: ir.Type) -> ir.RankedTensorType:
    return ir.RankedTensorType.get(list(dims), element)


def _bits(state: ir.Value, dims: tuple[int, ...], width: int) -> tuple[ir.Value, ir.Value]:
    """The state after drawing, and `width`-bit random words of shape `dims`."""
    new, bits = hlo.rng_bit_generator(state.type, _tensor(dims, ir.IntegerType.get_unsigned(width)),
                                      hlo.RngAlgorithmAttr.get("THREE_FRY"), state)
    return new, bits


def _unit(state: ir.Value, dims: tuple[int, ...], element: ir.Type) -> tuple[ir.Value, ir.Value]:
    """Uniform in [0, 1) of `element` (computed in Float32 for narrower floats): a float in [1, 2)
    made of random mantissa bits, minus one."""
    f64 = isinstance(element, ir.F64Type)
    width, mantissa, one_bits = (64, 52, 0x3FF0000000000000) if f64 else (32, 23, 0x3F800000)
    new, bits = _bits(state, dims, width)
    mantissa_bits = hlo.shift_right_logical(bits, B.full(bits.type, width - mantissa))
    in_1_2 = hlo.bitcast_convert(_tensor(dims, ir.F64Type.get() if f64 else ir.F32Type.get()),
                                 hlo.or_(mantissa_bits, B.full(bits.type, one_bits)))
    return new, B.convert(hlo.subtract(in_1_2, B.full(in_1_2.type, 1.0)), element)


def _draw(op: ir.Operation, state: ir.Value) -> tuple[ir.Value, ir.Value]:
    """The state after `op` (a stablehlo.rng) and the numbers it draws."""
    a, b = op.operands[0], op.operands[1]
    result = ir.RankedTensorType(op.results[0].type)
    dims, element = tuple(result.shape), result.element_type
    if isinstance(element, ir.IntegerType):
        # integers in [a, b): the remainder of 64 random bits (bias below 2^-40 for ranges below 2^24)
        new, bits = _bits(state, dims, 64)
        span = hlo.bitcast_convert(_tensor((), _u64()), B.convert(hlo.subtract(b, a), _i64()))
        offset = hlo.bitcast_convert(_tensor(dims, _i64()), hlo.remainder(bits, B.broadcast(span, dims)))
        return new, B.convert(hlo.add(offset, B.broadcast(B.convert(a, _i64()), dims)), element)
    if "NORMAL" not in str(op.attributes["rng_distribution"]):
        new, u = _unit(state, dims, element)
        return new, hlo.add(B.broadcast(a, dims), hlo.multiply(B.broadcast(hlo.subtract(b, a), dims), u))
    # Box–Muller, two uniforms per number (a: the mean, b: the standard deviation); 1 - u1 is in
    # (0, 1], so the log is finite
    new, u = _unit(state, (2, *dims), element)
    u1, u2 = (B.reshape(B.slice_(u, [k] + [0] * len(dims), [k + 1, *dims]), dims) for k in (0, 1))
    radius = hlo.sqrt(hlo.multiply(B.full(u1.type, -2.0), hlo.log_plus_one(hlo.negate(u1))))
    z = hlo.multiply(radius, hlo.cosine(hlo.multiply(B.full(u2.type, 2 * math.pi), u2)))
    return new, hlo.add(B.broadcast(a, dims), hlo.multiply(B.broadcast(b, dims), z))
