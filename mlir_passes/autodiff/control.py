"""VJP rules for control flow: `stablehlo.while` (constant trip count), `if`/`case`, and `func.call`.

A loop `for k in 0:N-1: c = body(c)` is cloned forward as the same loop that also writes each
iteration's incoming carried values `c_k` into buffers of shape `[N, ...]` (dynamic_update_slice).
Its VJP is a loop over k = N-1 … 0 that reads `c_k` back (dynamic_slice), recomputes that one
iteration and sweeps it backwards: the cotangents of the carried values are the loop state, plus
one accumulator per float value the body captures from outside. Both loops have the
`counter = 0; counter < N; counter += 1` shape this module recognises, so VJPs differentiate again.
"""
from __future__ import annotations

from jax.extend.mlir import ir
from jax.extend.mlir.dialects import func
from jax.extend.mlir.dialects import stablehlo as hlo

from . import emit
from .errors import ADError
from .sweep import Ctx, Sweep, body_ops, captured, clone_op, clone_ops, terminator


def _constant_int(v: ir.Value) -> int | None:
    if not isinstance(v, ir.OpResult):
        return None
    owner = ir.OpResult(v).owner.operation
    if owner.name != "stablehlo.constant" or not isinstance(emit.tensor(v).element_type, ir.IntegerType):
        return None
    attr = ir.DenseIntElementsAttr(owner.attributes["value"])
    return int(attr[0]) if len(attr) == 1 else None


def trip_count(op: ir.Operation) -> int | None:
    """N for a loop `counter = c0 (constant); while counter < bound (constant); counter += step (constant)`."""
    cond, body = op.regions[0].blocks[0], op.regions[1].blocks[0]
    pred = terminator(cond).operands[0]
    if not isinstance(pred, ir.OpResult):
        return None
    cmp = ir.OpResult(pred).owner.operation
    if cmp.name != "stablehlo.compare" or "LT" not in str(cmp.attributes["comparison_direction"]):
        return None
    counter, bound = cmp.operands
    args = list(cond.arguments)
    if counter not in args:
        return None
    p = args.index(counter)
    init, limit = _constant_int(op.operands[p]), _constant_int(bound)
    update = terminator(body).operands[p]
    if init is None or limit is None or not isinstance(update, ir.OpResult):
        return None
    add = ir.OpResult(update).owner.operation
    if add.name != "stablehlo.add":
        return None
    a, b = add.operands
    step = _constant_int(b) if a == body.arguments[p] else _constant_int(a) if b == body.arguments[p] else None
    if step is None or step <= 0:
        return None
    return max(0, -(-(limit - init) // step))


def forward_while(sweep: Sweep, src: ir.Operation) -> tuple[ir.Operation, object]:
    """Clone a loop forward; with a constant trip count, also stack each iteration's carried values."""
    operands = [sweep.value(v) for v in src.operands]
    n = trip_count(src)
    if n is None or not any(emit.is_float(v) for v in operands):
        return clone_op(src, sweep.env), None
    k = len(operands)
    bufs = [emit.zeros(emit.with_shape(v, (n, *emit.shape(v)))) for v in operands]
    types = [v.type for v in operands + bufs] + [emit.i64(0).type]
    loop = hlo.WhileOp(types, operands + bufs + [emit.i64(0)])
    src_cond, src_body = src.regions[0].blocks[0], src.regions[1].blocks[0]
    cond = loop.regions[0].blocks.append(*types)
    with ir.InsertionPoint(cond):
        env = {**sweep.env, **dict(zip(src_cond.arguments, list(cond.arguments)[:k]))}
        clone_ops(body_ops(src_cond), env)
        hlo.return_([env.get(v, v) for v in terminator(src_cond).operands])
    body = loop.regions[1].blocks.append(*types)
    with ir.InsertionPoint(body):
        args = list(body.arguments)
        env = {**sweep.env, **dict(zip(src_body.arguments, args[:k]))}
        clone_ops(body_ops(src_body), env)
        yields = [env.get(v, v) for v in terminator(src_body).operands]
        index = args[-1]
        stacked = [hlo.dynamic_update_slice(buf, emit.reshape(v, (1, *emit.shape(v))),
                                            [index] + [emit.i64(0)] * len(emit.shape(v)))
                   for v, buf in zip(args[:k], args[k:2 * k])]
        hlo.return_(yields + stacked + [hlo.add(index, emit.i64(1))])
    sweep.env.update(zip(src.results, list(loop.results)[:k]))
    return loop.operation, (n, list(loop.results)[k:2 * k])


def while_rule(ctx: Ctx, op: ir.Operation, cts: list[ir.Value | None]) -> list[ir.Value | None]:
    src = ctx.source
    if ctx.tape is None:
        raise ADError("cannot differentiate this loop: its trip count is not a compile-time constant "
                      "(only loops `counter = c0; while counter < N; counter += step` with constant c0, N "
                      "and step are differentiable)", str(op.location))
    n, bufs = ctx.tape
    k = len(src.operands)
    operands = list(op.operands)[:k]
    floats = [i for i in range(k) if emit.is_float(operands[i])]
    caps = [ctx.sweep.value(v) for v in captured([src.regions[1]])]
    caps = [v for v in caps if emit.is_float(v)]
    init = [emit.i64(0)] + [cts[i] or emit.zeros(operands[i]) for i in floats] + [emit.zeros(c) for c in caps]
    types = [v.type for v in init]
    loop = hlo.WhileOp(types, init)
    cond = loop.regions[0].blocks.append(*types)
    with ir.InsertionPoint(cond):
        hlo.return_([emit.compare(cond.arguments[0], emit.i64(n), "LT")])
    body = loop.regions[1].blocks.append(*types)
    src_body = src.regions[1].blocks[0]
    with ir.InsertionPoint(body):
        args = list(body.arguments)
        step, ct_carried, ct_caps = args[0], args[1:1 + len(floats)], args[1 + len(floats):]
        j = hlo.subtract(emit.i64(n - 1), step)
        carried = []
        for buf in bufs:
            dims = emit.shape(buf)[1:]
            window = emit.dynamic_slice(buf, [j] + [emit.i64(0)] * len(dims), (1, *dims))
            carried.append(emit.reshape(window, dims))
        inner = ctx.sweep.nested(dict(zip(src_body.arguments, carried)))
        inner.forward(body_ops(src_body))
        yields = [inner.value(v) for v in terminator(src_body).operands]
        for i, c in zip(floats, ct_carried):
            inner.accum(yields[i], c)
        inner.backward()
        new_carried = [inner.ct.get(carried[i]) or emit.zeros(carried[i]) for i in floats]
        new_caps = [emit.add(acc, inner.ct.get(c)) for acc, c in zip(ct_caps, caps)]
        hlo.return_([hlo.add(step, emit.i64(1))] + new_carried + new_caps)
    results = list(loop.results)
    out: list[ir.Value | None] = [None] * len(op.operands)
    for pos, i in enumerate(floats):
        out[i] = results[1 + pos]
    for c, r in zip(caps, results[1 + len(floats):]):
        ctx.accum(c, r)
    return out


def branches_rule(ctx: Ctx, op: ir.Operation, cts: list[ir.Value | None]) -> list[ir.Value | None]:
    """`if`/`case`: the same branch, differentiated, computes the cotangents of what it captures."""
    src = ctx.source
    caps = [v for v in (ctx.sweep.value(c) for c in captured(src.regions)) if emit.is_float(v)]
    if not caps:
        return [None] * len(op.operands)
    types = [c.type for c in caps]
    if op.name == "stablehlo.if":
        new = hlo.IfOp(types, op.operands[0])
    else:
        new = hlo.CaseOp(types, op.operands[0], len(src.regions))
    for src_region, region in zip(src.regions, new.regions):
        src_block = src_region.blocks[0]
        block = region.blocks.append()
        with ir.InsertionPoint(block):
            inner = ctx.sweep.nested({})
            inner.forward(body_ops(src_block))
            for v, c in zip(terminator(src_block).operands, cts):
                inner.accum(inner.value(v), c)
            inner.backward()
            hlo.return_([inner.ct.get(c) or emit.zeros(c) for c in caps])
    for c, r in zip(caps, new.results):
        ctx.accum(c, r)
    return [None] * len(op.operands)


def call_rule(ctx: Ctx, op: ir.Operation, cts: list[ir.Value | None]) -> list[ir.Value | None]:
    """`func.call @f`: call `@f_vjp`, which recomputes `f` and returns the cotangents of all its args."""
    callee = ir.FlatSymbolRefAttr(op.attributes["callee"]).value
    name = ctx.sweep.module.vjp_of(callee)
    results, operands = list(op.results), list(op.operands)
    full = [c or emit.zeros(r) for r, c in zip(results, cts)]
    call = func.CallOp([r.type for r in results] + [v.type for v in operands],
                       ir.FlatSymbolRefAttr.get(name), operands + full)
    return list(call.results)[len(results):]
