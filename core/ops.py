"""The one table of what the passes need to know about each op: whether it has an effect beyond its
results, whether it is elementwise, and what moving it out of a loop costs or saves. Passes ask
`traits(name)`; an op missing here gets the conservative answer (it has an effect: never erased,
merged or moved), so forgetting a new op costs speed, never correctness. An op's VJP rule is
registered with the rule itself (mlir_passes/autodiff/rules.py); an op without one is reported by
name when a gradient needs it."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OpTraits:
    effect: bool = False               # does more than compute its results (I/O, RNG state, calls)
    elementwise: bool = False          # result[i] depends on operands[i] only
    expensive: bool = False            # worth a loop-carried value when hoisted out of a loop on its own
    fused_for_free: bool = False       # XLA fuses it into its users: hoisted, it would cost a carried tensor


_UNKNOWN = OpTraits(effect=True)

_ELEMENTWISE = (
    "add", "subtract", "multiply", "divide", "remainder", "power", "maximum", "minimum", "atan2",
    "and", "or", "xor", "shift_left", "shift_right_arithmetic", "shift_right_logical", "compare", "select",
    "negate", "abs", "sign", "not", "exponential", "exponential_minus_one", "log", "log_plus_one", "logistic",
    "sqrt", "rsqrt", "cbrt", "tanh", "sine", "cosine", "tan", "floor", "ceil", "round_nearest_afz",
    "round_nearest_even", "is_finite", "convert", "clamp", "real", "imag", "complex", "popcnt",
    "count_leading_zeros",
)
# transcendental or division-like: each element costs more than XLA's overhead per carried value
_EXPENSIVE = ("exponential", "exponential_minus_one", "log", "log_plus_one", "logistic", "tanh", "power", "sqrt",
              "rsqrt", "cbrt", "divide", "remainder", "sine", "cosine", "tan", "atan2", "dot_general", "convolution")
_FUSED_FOR_FREE = ("constant", "broadcast_in_dim", "reshape", "iota")
_STRUCTURAL = (
    "constant", "iota", "broadcast_in_dim", "reshape", "transpose", "concatenate", "slice", "dynamic_slice",
    "dynamic_update_slice", "reverse", "pad", "dot_general", "convolution", "reduce", "reduce_window", "gather",
    "scatter", "sort", "select_and_scatter", "bitcast_convert", "get_tuple_element", "tuple", "rng_bit_generator",
    "cholesky", "triangular_solve", "while", "if", "case", "return",
)
# effects of their own (the effects of ops nested in a region op count for it: see the passes)
_EFFECTFUL = (
    "custom_call", "infeed", "outfeed", "send", "recv", "all_reduce", "all_gather", "all_to_all",
    "collective_permute", "collective_broadcast", "reduce_scatter", "after_all", "optimization_barrier",
    "rng",                             # stateful in XLA: each execution draws new numbers
)

OPS: dict[str, OpTraits] = {}
for _name in (*_STRUCTURAL, *_ELEMENTWISE):
    OPS["stablehlo." + _name] = OpTraits(elementwise=_name in _ELEMENTWISE, expensive=_name in _EXPENSIVE,
                                         fused_for_free=_name in _FUSED_FOR_FREE)
for _name in _EFFECTFUL:
    OPS["stablehlo." + _name] = OpTraits(effect=True)
OPS["func.call"] = OpTraits(effect=True)      # the callee may have effects; inlining exposes them
OPS["func.return"] = OpTraits()


# A discardable attribute on a `stablehlo.select` that joins the two arms of a branch taken per
# lane (a user function broadcast over arrays): both arms ran on every lane, but in Julia only one
# ran, so reverse mode gives what an arm computed no gradient at all on the lanes that did not take
# it (not zero times a derivative that may be infinite there). The pipeline drops it.
BRANCH_SELECT = "jlhlo.branch"
# A discardable attribute on a `stablehlo.optimization_barrier` that only stops reverse mode
# (`ignore_derivatives(x)`, frontend/primitives.py): its operands get no cotangent. The pipeline
# removes the barrier, which is the identity.
NO_GRADIENT = "jlhlo.no_gradient"
# A discardable attribute on an op whose value is its first operand wherever a derivative exists
# (exp's repair `max(exp(x), x)`, frontend/scalars.py): reverse mode passes the whole cotangent to
# operand 0 and none to the others, without the masks of the op's own rule. The pipeline drops it.
PASS_FIRST = "jlhlo.pass_first"
# The custom call of a print (frontend/printing.py): the runtime points it at its host callback.
PRINT_TARGET = "jlhlo.print"
# The custom call of `Random.seed!` (frontend/primitives.py), replaced by mlir_passes/rng.py.
SEED_TARGET = "jlhlo.rng_seed"
# The custom call of `with_sharding_constraint(x, spec)` (frontend/primitives.py), its operand with
# the spec ("_,data") as backend_config: runtime/sharding.py makes it an `sdy.sharding_constraint`
# on a mesh and drops it for one device.
SHARDING_TARGET = "jlhlo.sharding_constraint"


def traits(name: str) -> OpTraits:
    """The traits of the op named `name` (e.g. "stablehlo.add"); conservative for unknown ops."""
    return OPS.get(name, _UNKNOWN)
