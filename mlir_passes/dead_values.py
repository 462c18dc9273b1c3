"""Dead-value elimination across region boundaries, which upstream canonicalize does not do for
StableHLO: while-carried values nobody needs and `if`/`case` results nobody uses.

A `while` carried value is live if the loop's result is used, if the condition reads it, or if a
live carried value (or an op with side effects) in the body depends on it; the rest only feed
themselves and go, with the body ops that computed them. A carried value that the body passes
through unchanged is loop-invariant: every use of it, and of the loop's result, is its initial
value, so it is forwarded and then dropped as dead. Two carried values that start equal and are
updated alike are one value: the second is merged into the first.
"""
from __future__ import annotations

from collections.abc import Sequence

from jax.extend.mlir import ir

from ..core.ops import traits
from .rewrite import REGION_OPS, collect_ops, named_attributes


def has_effects(op: ir.Operation) -> bool:
    """Whether `op`, or an op nested in it, does more than compute its results (core/ops.py):
    never erased, and what it reads stays live."""
    if not len(op.regions):            # the common case, without a walk
        return traits(op.name).effect
    return any(traits(o.name).effect for o in collect_ops(op))


def _reads(op: ir.Operation) -> list[ir.Value]:
    """The values `op` depends on: its operands and those of every op nested in it."""
    if not len(op.regions):
        return list(op.operands)
    return [v for o in collect_ops(op) for v in o.operands]


def _owner_op(value: ir.Value) -> ir.Operation | None:
    return value.owner.operation if isinstance(value, ir.OpResult) else None


def _erase_unused(block: ir.Block) -> None:
    """Erase ops of `block` (and of blocks nested in it) whose results nobody uses, users first."""
    for op in reversed(list(block.operations)):
        op = op.operation
        for region in op.regions:
            for inner in region.blocks:
                _erase_unused(inner)
        if op.results and not has_effects(op) and not any(len(list(r.uses)) for r in op.results):
            op.erase()


def _rebuild(op: ir.Operation, keep_results: Sequence[int], operands: Sequence[ir.Value],
             keep_args: Sequence[int] | None) -> ir.Operation:
    """A copy of the region op `op` with only the results `keep_results` (and, for a while, only the
    block arguments `keep_args`), its regions' ops moved over; `op` is erased."""
    results = list(op.results)
    new = ir.Operation.create(op.name, results=[results[i].type for i in keep_results], operands=list(operands),
                              attributes=named_attributes(op), regions=len(op.regions),
                              loc=op.location, ip=ir.InsertionPoint(op))
    for index, (old_region, new_region) in enumerate(zip(op.regions, new.regions)):
        old_block = old_region.blocks[0]
        old_args = list(old_block.arguments)
        kept_args = [old_args[i] for i in keep_args] if keep_args is not None else []
        new_block = new_region.blocks.append(*[a.type for a in kept_args], arg_locs=[a.location for a in kept_args])
        for old_arg, new_arg in zip(kept_args, new_block.arguments):
            old_arg.replace_all_uses_with(new_arg)
        ops = [o.operation for o in old_block.operations]
        for o in ops[:-1]:
            new_block.append(o)
        term = ops[-1]
        returned = list(term.operands)
        # A while's condition returns the predicate; the other regions return one value per result.
        is_condition = op.name == "stablehlo.while" and index == 0
        keep_returned = returned if is_condition else [returned[i] for i in keep_results]
        ir.Operation.create(term.name, operands=keep_returned, loc=term.location, ip=ir.InsertionPoint(new_block))
        term.erase()
        _erase_unused(new_block)
    for i, r in zip(keep_results, new.results):
        results[i].replace_all_uses_with(r)
    op.erase()
    return new


def forward_invariants(op: ir.Operation) -> None:
    """Replace every use of a carried value that the body of the while `op` returns unchanged (in
    the condition, the body and after the loop) by its initial value. The body still returns the
    block argument, so the carried value is left dead."""
    cond, body = op.regions[0].blocks[0], op.regions[1].blocks[0]
    init = list(op.operands)
    cond_args, body_args = list(cond.arguments), list(body.arguments)
    term = list(body.operations)[-1].operation
    for i, returned in enumerate(list(term.operands)):
        if returned == body_args[i]:
            for v in (op.results[i], cond_args[i], body_args[i]):
                v.replace_all_uses_with(init[i])
            term.operands[i] = body_args[i]  # replace_all_uses_with rewrote the return too


def _attribute_text(op: ir.Operation) -> dict[str, str]:
    return {name: str(attr) for name, attr in named_attributes(op).items()}


def _same_update(a: ir.Value, b: ir.Value, first: ir.Value, second: ir.Value, depth: int = 24) -> bool:
    """Whether `b` is computed as `a` is, with the block argument `second` where `a` reads `first`."""
    if a == b or a == first and b == second:
        return True
    if depth == 0 or not (isinstance(a, ir.OpResult) and isinstance(b, ir.OpResult)) \
            or a.result_number != b.result_number:
        return False
    x, y = a.owner.operation, b.owner.operation
    if x.name != y.name or len(x.regions) or len(y.regions) or traits(x.name).effect \
            or len(x.operands) != len(y.operands) or _attribute_text(x) != _attribute_text(y) \
            or [str(r.type) for r in x.results] != [str(r.type) for r in y.results]:
        return False
    return all(_same_update(u, v, first, second, depth - 1) for u, v in zip(x.operands, y.operands))


def merge_duplicates(op: ir.Operation) -> None:
    """Two carried values of the while `op` that start from the same value and are updated by the
    same computation (each of its own previous value) are equal in every iteration: the second's
    uses become the first's, which leaves it dead. Optimisers' Adam keeps β₁ᵗ and β₂ᵗ per
    parameter array; a training loop carries one pair instead of one per array."""
    cond, body = op.regions[0].blocks[0], op.regions[1].blocks[0]
    init, returned = list(op.operands), list(list(body.operations)[-1].operation.operands)
    cond_args, body_args = list(cond.arguments), list(body.arguments)
    merged: set[int] = set()
    for j in range(len(init)):
        for i in range(j):
            if i in merged or init[i] != init[j] or body_args[i].type != body_args[j].type \
                    or not _same_update(returned[i], returned[j], body_args[i], body_args[j]):
                continue
            for gone, kept in ((op.results[j], op.results[i]), (cond_args[j], cond_args[i]),
                               (body_args[j], body_args[i])):
                gone.replace_all_uses_with(kept)
            merged.add(j)
            break


def _simplify_while(op: ir.Operation) -> bool:
    merge_duplicates(op)
    forward_invariants(op)
    cond, body = op.regions[0].blocks[0], op.regions[1].blocks[0]
    init = list(op.operands)
    cond_args, body_args = list(cond.arguments), list(body.arguments)
    term = list(body.operations)[-1].operation
    returned = list(term.operands)
    n = len(init)
    live = {i for i in range(n) if len(list(op.results[i].uses)) or len(list(cond_args[i].uses))}
    index = {arg: i for i, arg in enumerate(body_args)}
    body_ops = [o.operation for o in body.operations][:-1]
    roots = [v for o in body_ops if has_effects(o) for v in _reads(o)]
    work = list(roots) + [returned[i] for i in live]
    seen: set[ir.Value] = set()
    while work:
        v = work.pop()
        if v in seen:
            continue
        seen.add(v)
        if v in index:
            i = index[v]
            if i not in live:
                live.add(i)
                work.append(returned[i])
            continue
        owner = _owner_op(v)
        if owner is not None:
            work += _reads(owner)
    if len(live) == n:
        return False
    keep = sorted(live)
    _rebuild(op, keep, [init[i] for i in keep], keep)
    return True


def _simplify_branches(op: ir.Operation) -> bool:
    results = list(op.results)
    keep = [i for i, r in enumerate(results) if len(list(r.uses))]
    if len(keep) == len(results):
        return False
    if not keep and not has_effects(op):
        op.erase()
        return True
    _rebuild(op, keep, list(op.operands), None)
    return True


def dead_values(module: ir.Operation, pass_: object = None) -> None:
    # Innermost first (post-order), so an outer loop sees its inner loops already pruned; a region
    # op rebuilt is gone, so the list is taken again after every change.
    # Rebuilding an op erases only that op and ops nested in it (already visited), so one list
    # serves a whole sweep; a sweep that changed something may have freed values further out.
    changed = True
    while changed:
        changed = False
        for op in [o for o in _post_order(module) if o.name in REGION_OPS]:
            if _simplify_while(op) if op.name == "stablehlo.while" else _simplify_branches(op):
                changed = True


def _post_order(root: ir.Operation) -> list[ir.Operation]:
    out: list[ir.Operation] = []

    def visit(o: ir.Operation) -> ir.WalkResult:
        out.append(o)
        return ir.WalkResult.ADVANCE

    root.walk(visit, ir.WalkOrder.POST_ORDER)
    return out
