"""`Random.seed!`: after it, the random numbers a program draws are a fixed stream of its seed.

The frontend draws with `stablehlo.rng`, which XLA keeps stateful (new numbers on every run, the
same stream in every new process). A program that calls `Random.seed!(n)` (a `custom_call
@jlhlo.rng_seed(n)`) instead draws from a Threefry generator whose state `thread_rng_state` threads
through every draw in program order (mlir_passes/effects.py): `seed!` sets the state from `n`, and
each draw takes `stablehlo.rng_bit_generator` bits and turns them into what the draw asks for:
uniform in [0, 1) from the top mantissa bits, normal by Box–Muller, integers in [a, b) by
remainder. Before the first `seed!`, the state comes from XLA's own generator. The stream is not
Julia's (Xoshiro256++): the same seed gives the same numbers here, not Julia's numbers.

The state, its seeding and the bits-to-numbers conversions are the frontend's (primitives.py), which
uses them for explicit generators (`Xoshiro(n)`, a state in an array the program carries): after
`Random.seed!(n)`, the default generator's draws are those of `Xoshiro(n)`, as in Julia.
"""
from __future__ import annotations

from jax.extend.mlir import ir
from jax.extend.mlir.dialects import stablehlo as hlo

from ..core import builder as B
from ..core.ops import SEED_TARGET
from ..frontend.primitives import rng_below, rng_fresh_state, rng_normal, rng_seeded_state, rng_uniform
from .effects import thread_effects, walk_ops


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
    thread_effects(module, _is_rng_effect, state, rng_fresh_state, _step)


def _step(op: ir.Operation, state: ir.Value) -> ir.Value:
    with ir.InsertionPoint(op), op.location:
        if _is_seed(op):
            new = rng_seeded_state(B.convert(op.operands[0], ir.IntegerType.get_signless(64)))
        else:
            new, value = _draw(op, state)
            op.results[0].replace_all_uses_with(value)
    op.erase()
    return new


def _draw(op: ir.Operation, state: ir.Value) -> tuple[ir.Value, ir.Value]:
    """The state after `op` (a stablehlo.rng) and the numbers it draws."""
    a, b = op.operands[0], op.operands[1]
    result = ir.RankedTensorType(op.results[0].type)
    dims, element = tuple(result.shape), result.element_type
    if isinstance(element, ir.IntegerType):
        # integers in [a, b)
        i64 = ir.IntegerType.get_signless(64)
        new, offset = rng_below(state, B.convert(hlo.subtract(b, a), i64), dims)
        return new, B.convert(hlo.add(offset, B.broadcast(B.convert(a, i64), dims)), element)
    if "NORMAL" not in str(op.attributes["rng_distribution"]):
        new, u = rng_uniform(state, dims, element)
        return new, hlo.add(B.broadcast(a, dims), hlo.multiply(B.broadcast(hlo.subtract(b, a), dims), u))
    new, z = rng_normal(state, dims, element)       # a: the mean, b: the standard deviation
    return new, hlo.add(B.broadcast(a, dims), hlo.multiply(B.broadcast(b, dims), z))
