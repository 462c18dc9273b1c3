"""Algebraic simplification of StableHLO: one small rule per op name, each exact for every input.

Floats need care where integers do not: x + (+0.0) turns x = -0.0 into +0.0, so only -0.0 is an
additive identity, and only +0.0 a subtractive one. Multiplying or dividing by 1 is exact.
"""
from __future__ import annotations

import math

from jax.extend.mlir import ir
from jax.extend.mlir.dialects import stablehlo

from ..core.builder import splat, tensor
from ..core.dtypes import element_info, exact_float_widening
from .rewrite import Rule, apply_rules, defining_op, registrar, splat_attr, splat_value

RULES: dict[str, Rule] = {}
_rule = registrar(RULES)


def _is_float(value: ir.Value) -> bool:
    return isinstance(tensor(value).element_type, ir.FloatType)


def _is_zero(value: ir.Value, *, float_sign: int) -> bool:
    """A splat zero; for floats only the zero whose sign is `float_sign` (+1 or -1) counts."""
    c = splat_value(value)
    return c is not None and c == 0 and (not _is_float(value) or math.copysign(1.0, c) == float_sign)


def _is_one(value: ir.Value) -> bool:
    c = splat_value(value)
    return c is not None and c == 1


def _forward(value: ir.Value, op: ir.Operation) -> ir.Value | None:
    """`value` as the replacement of `op`'s result, if the types agree (they may not, e.g. when a
    scalar predicate picks between tensors)."""
    return value if value.type == op.result.type else None


@_rule("add")
def _add(op: ir.Operation) -> ir.Value | None:
    lhs, rhs = op.operands
    if _is_zero(rhs, float_sign=-1):
        return lhs
    if _is_zero(lhs, float_sign=-1):
        return rhs
    return None


@_rule("subtract")
def _subtract(op: ir.Operation) -> ir.Value | None:
    lhs, rhs = op.operands
    return lhs if _is_zero(rhs, float_sign=+1) else None


@_rule("multiply")
def _multiply(op: ir.Operation) -> ir.Value | None:
    lhs, rhs = op.operands
    if _is_one(rhs):
        return lhs
    if _is_one(lhs):
        return rhs
    return None


@_rule("divide")
def _divide(op: ir.Operation) -> ir.Value | None:
    lhs, rhs = op.operands
    return lhs if _is_one(rhs) else None


@_rule("negate")
def _negate(op: ir.Operation) -> ir.Value | None:
    inner = defining_op(op.operands[0], "stablehlo.negate")
    return inner.operands[0] if inner is not None else None


def _int_range(t: ir.Type) -> tuple[int, int] | None:
    if not isinstance(t, ir.IntegerType):
        return None
    it = ir.IntegerType(t)
    if it.width == 1 or it.is_unsigned:  # i1 converts to and from integers as 0 / 1
        return 0, 2**it.width - 1
    return -(2 ** (it.width - 1)), 2 ** (it.width - 1) - 1


def _converts_exactly(src: ir.Type, dst: ir.Type) -> bool:
    """Whether every value of element type `src` is unchanged by conversion to `dst` (an integer
    type converts exactly to a float type whose significand covers its magnitude)."""
    src_range = _int_range(src)
    if src_range is None:
        return exact_float_widening(src, dst)
    dst_range = _int_range(dst)
    if dst_range is not None:
        return dst_range[0] <= src_range[0] and src_range[1] <= dst_range[1]
    info = element_info(dst)
    return info is not None and info.digits is not None and max(-src_range[0], src_range[1]) <= 2**info.digits


@_rule("convert")
def _convert(op: ir.Operation) -> ir.Value | None:
    x = op.operands[0]
    if x.type == op.result.type:
        return x
    # convert(convert(y: A -> B) -> A) is y when A -> B loses nothing.
    inner = defining_op(x, "stablehlo.convert")
    if inner is None or inner.operands[0].type != op.result.type:
        return None
    y = inner.operands[0]
    return y if _converts_exactly(tensor(y).element_type, tensor(x).element_type) else None


@_rule("transpose")
def _transpose(op: ir.Operation) -> ir.Value | None:
    x = op.operands[0]
    perm = list(op.attributes["permutation"])
    inner = defining_op(x, "stablehlo.transpose")
    if inner is not None:
        # Result dim i is inner's dim perm[i], which is x's dim inner_perm[perm[i]].
        inner_perm = list(inner.attributes["permutation"])
        x, perm = inner.operands[0], [inner_perm[p] for p in perm]
    if perm == list(range(len(perm))):
        return x
    return stablehlo.TransposeOp(x, perm, results=[op.result.type]).result if inner is not None else None


@_rule("reshape")
def _reshape(op: ir.Operation) -> ir.Value | None:
    x = op.operands[0]
    inner = defining_op(x, "stablehlo.reshape")
    if inner is not None:
        x = inner.operands[0]  # row-major reshapes compose: only the final shape matters
    if x.type == op.result.type:
        return x
    return stablehlo.ReshapeOp(op.result.type, x).result if inner is not None else None


@_rule("broadcast_in_dim")
def _broadcast_in_dim(op: ir.Operation) -> ir.Value | None:
    x = op.operands[0]
    scalar = splat_attr(x)
    if scalar is not None:
        return splat(scalar, tensor(op.result))
    dims = list(op.attributes["broadcast_dimensions"])
    return _forward(x, op) if dims == list(range(len(dims))) else None


@_rule("select")
def _select(op: ir.Operation) -> ir.Value | None:
    pred, on_true, on_false = op.operands
    # Only a splat predicate picks a whole operand; a mixed constant one is for `fold`.
    c = splat_value(pred)
    if c is not None:
        return _forward(on_true if c else on_false, op)
    if on_true == on_false:
        return _forward(on_true, op)
    x = _picked_itself(pred, on_true, on_false)
    return None if x is None else _forward(x, op)


def _same_constant(a: ir.Value, b: ir.Value) -> bool:
    ca = splat_value(a)
    return a == b or ca is not None and ca == splat_value(b) and a.type == b.type


def _picked_itself(pred: ir.Value, on_true: ir.Value, on_false: ir.Value) -> ir.Value | None:
    """`select(x == c, c, x)` and `select(x != c, x, c)` are `x` (integers only: -0.0 == +0.0). An
    error code merged with a check that folded to "passed" has this form; a chain of them, one per
    unrolled iteration, is more than XLA's own simplifier resolves before it gives up (difftest
    seed 3005: "Unknown MLIR failure")."""
    compare = defining_op(pred, "stablehlo.compare")
    if compare is None or _is_float(on_false):
        return None
    direction = stablehlo.ComparisonDirectionAttr(compare.attributes["comparison_direction"]).value
    if direction == "EQ":
        x, c = on_false, on_true
    elif direction == "NE":
        x, c = on_true, on_false
    else:
        return None
    lhs, rhs = compare.operands
    return x if (lhs == x and _same_constant(rhs, c)) or (rhs == x and _same_constant(lhs, c)) else None


@_rule("dynamic_slice")
def _dynamic_slice(op: ir.Operation) -> ir.Value | None:
    # Constant start indices (an unrolled loop's) make it a static slice. Like XLA, clamp each
    # start so that the slice stays in bounds.
    x, starts = op.operands[0], [splat_value(v) for v in list(op.operands)[1:]]
    if any(c is None for c in starts):
        return None
    sizes = list(op.attributes["slice_sizes"])
    begin = [max(0, min(int(c), dim - size)) for c, dim, size in zip(starts, tensor(x).shape, sizes)]
    end = [b + size for b, size in zip(begin, sizes)]
    return stablehlo.SliceOp(x, begin, end, [1] * len(sizes)).result


@_rule("dynamic_update_slice")
def _dynamic_update_slice(op: ir.Operation) -> ir.Value | None:
    # An update as large as the operand replaces all of it: its starts are clamped to 0.
    update = op.operands[1]
    return _forward(update, op) if tensor(update).shape == tensor(op.operands[0]).shape else None


def _bool_splat(value: ir.Value) -> bool | None:
    return splat_value(value) if str(tensor(value).element_type) == "i1" else None


def _logical(identity: bool):
    """`and` (identity true, absorbing false) or `or` (identity false, absorbing true) on i1."""

    def rule(op: ir.Operation) -> ir.Value | None:
        lhs, rhs = op.operands
        for x, c in ((lhs, rhs), (rhs, lhs)):
            b = _bool_splat(c)
            if b is not None:
                return _forward(x if b == identity else c, op)
        return None

    return rule


_rule("and")(_logical(identity=True))
_rule("or")(_logical(identity=False))

def inline_decided_branches(root: ir.Operation) -> int:
    """`stablehlo.if` on a constant predicate (and `case` on a constant index) → the ops of the
    branch it takes, in its place (a check an unrolled loop decided, a flag folded to false); returns
    how many. Innermost first, so a branch moved out is already free of decided ones."""
    decided = []

    def visit(op: ir.Operation) -> ir.WalkResult:
        if op.name in ("stablehlo.if", "stablehlo.case") and splat_value(op.operands[0]) is not None:
            decided.append(op)
        return ir.WalkResult.ADVANCE
    root.walk(visit, ir.WalkOrder.POST_ORDER)
    for op in decided:
        k = int(splat_value(op.operands[0]))
        # if: region 0 when true; case: region k, an index out of range takes the last (the spec's default)
        region = op.regions[(0 if k else 1) if op.name == "stablehlo.if" else k if 0 <= k < len(op.regions) else -1]
        block = region.blocks[0]
        *body, terminator = list(block.operations)
        for inner in body:
            inner.operation.move_before(op)
        for result, value in zip(op.results, terminator.operands):
            result.replace_all_uses_with(value)
        op.erase()
    return len(decided)


def apply_with_decided_branches(root: ir.Operation, rules: dict[str, Rule]) -> None:
    """`rules`, then the branches they decided inlined, until neither changes anything."""
    apply_rules(root, rules)
    while inline_decided_branches(root):
        apply_rules(root, rules)


def simplify(op: ir.Operation, pass_: object = None) -> None:
    apply_with_decided_branches(op, RULES)
