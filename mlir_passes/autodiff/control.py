"""VJP rules for control flow: `stablehlo.while`, `if`/`case`, and `func.call`.

A loop `for k in 0:N-1: c = body(c)` with a constant trip count N is cloned forward as the same loop
that also writes each iteration's incoming carried values `c_k` into buffers of shape `[N, ...]`
(dynamic_update_slice). Its VJP is a loop over k = N-1 … 0 that reads `c_k` back (dynamic_slice),
recomputes that one iteration and sweeps it backwards: the cotangents of the carried values are the
loop state, plus one accumulator per float value the body captures from outside. Both loops have the
`counter = 0; counter < N; counter += 1` shape this module recognises, so VJPs differentiate again.

A loop whose trip count depends on data (a `while` until convergence) has no buffer of known size:
the forward clone counts its iterations N, and the VJP gets each `c_k` by running the body k times
again from the loop's initial values (recomputation from the one checkpoint at the loop's entry). It
stores nothing per iteration, at the cost of N(N-1)/2 extra body evaluations: fine for the tens of
iterations of a solver, quadratic for long loops.
"""
from __future__ import annotations

import functools

from jax.extend.mlir import ir
from jax.extend.mlir.dialects import func
from jax.extend.mlir.dialects import stablehlo as hlo

from ...core import builder as B
from ..rewrite import trip_count
from .sweep import Ctx, Sweep, add_cotangents, body_ops, captured, clone_op, clone_ops, terminator


def forward_while(sweep: Sweep, src: ir.Operation) -> tuple[ir.Operation, object]:
    """Clone a loop forward; with a constant trip count, also stack each iteration's carried values;
    with a trip count that depends on data, also count the iterations."""
    operands = [sweep.value(v) for v in src.operands]
    if not any(B.is_float(v) for v in operands):
        return clone_op(src, sweep.env, sweep.quiet), None
    n = trip_count(src)
    if n == 0:                                 # never runs: its results are its operands
        return clone_op(src, sweep.env, sweep.quiet), (0, [])
    k = len(operands)
    bufs = [] if n is None else [B.zeros(B.with_shape(v, (n, *B.shape(v)))) for v in operands]
    loop, results = _clone_counting(sweep, src, operands, bufs)
    sweep.env.update(zip(src.results, results[:k]))
    return loop, ("counted", results[-1]) if n is None else (n, results[k:2 * k])


def _clone_counting(sweep: Sweep, src: ir.Operation, operands: list[ir.Value], bufs: list[ir.Value]
                    ) -> tuple[ir.Operation, list[ir.Value]]:
    """The loop cloned with more carried values: `bufs` (one per carried value, or none), into which
    each iteration writes its incoming carried values at its index, and that index, whose final
    value (the last result) is the number of iterations."""
    k = len(operands)
    types = [v.type for v in operands + bufs] + [B.i64(0).type]
    loop = hlo.WhileOp(types, operands + bufs + [B.i64(0)])
    src_cond, src_body = src.regions[0].blocks[0], src.regions[1].blocks[0]
    cond = loop.regions[0].blocks.append(*types)
    with ir.InsertionPoint(cond):
        env = {**sweep.env, **dict(zip(src_cond.arguments, list(cond.arguments)[:k]))}
        clone_ops(body_ops(src_cond), env, sweep.quiet)
        hlo.return_([env.get(v, v) for v in terminator(src_cond).operands])
    body = loop.regions[1].blocks.append(*types)
    with ir.InsertionPoint(body):
        args = list(body.arguments)
        env = {**sweep.env, **dict(zip(src_body.arguments, args[:k]))}
        clone_ops(body_ops(src_body), env, sweep.quiet)
        yields = [env.get(v, v) for v in terminator(src_body).operands]
        index = args[-1]
        stacked = [hlo.dynamic_update_slice(buf, B.reshape(v, (1, *B.shape(v))),
                                            [index] + [B.i64(0)] * len(B.shape(v)))
                   for v, buf in zip(args[:k], args[k:k + len(bufs)])]
        hlo.return_(yields + stacked + [hlo.add(index, B.i64(1))])
    return loop.operation, list(loop.results)


def _recomputed(ctx: Ctx, initial: list[ir.Value], j: ir.Value) -> list[ir.Value]:
    """The carried values entering iteration j: the source body run j times from `initial`."""
    src_body = ctx.source.regions[1].blocks[0]
    types = [v.type for v in initial] + [B.i64(0).type]
    loop = hlo.WhileOp(types, initial + [B.i64(0)])
    cond = loop.regions[0].blocks.append(*types)
    with ir.InsertionPoint(cond):
        hlo.return_([B.compare(cond.arguments[len(initial)], j, "LT")])
    body = loop.regions[1].blocks.append(*types)
    with ir.InsertionPoint(body):
        args = list(body.arguments)
        env = {**ctx.sweep.env, **dict(zip(src_body.arguments, args[:-1]))}
        clone_ops(body_ops(src_body), env, ctx.sweep.module.quiet)
        hlo.return_([env.get(v, v) for v in terminator(src_body).operands] + [hlo.add(args[-1], B.i64(1))])
    return list(loop.results)[:-1]


def while_rule(ctx: Ctx, op: ir.Operation, cts: list[ir.Value | None]) -> list[ir.Value | None]:
    src = ctx.source
    k = len(src.operands)
    if ctx.tape is None:                       # nothing differentiable is carried
        return [None] * len(op.operands)
    if ctx.tape[0] == "counted":
        n, bufs = ctx.tape[1], None
    else:
        n, bufs = ctx.tape
    if isinstance(n, int) and n == 0:
        return list(cts)
    operands = list(op.operands)[:k]
    floats = [i for i in range(k) if B.is_float(operands[i])]
    caps = [ctx.sweep.value(v) for v in captured([src.regions[1]])]
    caps = [v for v in caps if B.is_float(v)]
    count = B.i64(n) if isinstance(n, int) else n      # defined before the loop that reads it
    init = [B.i64(0)] + [cts[i] or B.zeros(operands[i]) for i in floats] + [B.zeros(c) for c in caps]
    types = [v.type for v in init]
    loop = hlo.WhileOp(types, init)
    cond = loop.regions[0].blocks.append(*types)
    with ir.InsertionPoint(cond):
        hlo.return_([B.compare(cond.arguments[0], count, "LT")])
    body = loop.regions[1].blocks.append(*types)
    src_body = src.regions[1].blocks[0]
    with ir.InsertionPoint(body):
        args = list(body.arguments)
        step, ct_carried, ct_caps = args[0], args[1:1 + len(floats)], args[1 + len(floats):]
        j = hlo.subtract(hlo.subtract(count, B.i64(1)), step)
        if bufs is None:
            carried = _recomputed(ctx, operands, j)
        else:
            carried = []
            for buf in bufs:
                dims = B.shape(buf)[1:]
                window = B.dynamic_slice(buf, [j] + [B.i64(0)] * len(dims), (1, *dims))
                carried.append(B.reshape(window, dims))
        inner = ctx.sweep.nested(dict(zip(src_body.arguments, carried)))
        inner.forward(body_ops(src_body))
        yields = [inner.value(v) for v in terminator(src_body).operands]
        for i, c in zip(floats, ct_carried):
            inner.accum(yields[i], c)
        inner.backward()
        new_carried = [inner.ct.get(carried[i]) or B.zeros(carried[i]) for i in floats]
        new_caps = [add_cotangents(acc, inner.ct.get(c)) for acc, c in zip(ct_caps, caps)]
        hlo.return_([hlo.add(step, B.i64(1))] + new_carried + new_caps)
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
    caps = [v for v in (ctx.sweep.value(c) for c in captured(src.regions)) if B.is_float(v)]
    if not caps:
        return [None] * len(op.operands)
    types = [c.type for c in caps]
    if op.name == "stablehlo.if":
        new = hlo.IfOp(types, op.operands[0])
    else:
        new = hlo.CaseOp(types, op.operands[0], len(src.regions))
    reached: list[list[int]] = [[] for _ in caps]      # per captured value, the branches that give it a cotangent
    for i, (src_region, region) in enumerate(zip(src.regions, new.regions)):
        src_block = src_region.blocks[0]
        block = region.blocks.append()
        with ir.InsertionPoint(block):
            inner = ctx.sweep.nested({})
            inner.forward(body_ops(src_block))
            for v, c in zip(terminator(src_block).operands, cts):
                inner.accum(inner.value(v), c)
            inner.backward()
            for k, c in enumerate(caps):
                if c in inner.ct:
                    reached[k].append(i)
            hlo.return_([inner.ct.get(c) or B.zeros(c) for c in caps])
    for c, r, taken in zip(caps, new.results, reached):
        if taken:
            # computed for a branch that did not run, a value has no gradient (Zygote's `nothing`),
            # not zero times its derivative: `y = log(x); x > 0 ? y : 0.0` at x = 0 is 0, not NaN
            ctx.accum(c, r, _taking(op, taken, B.shape(c)) if len(taken) < len(src.regions) else None)
    return [None] * len(op.operands)


def _taking(op: ir.Operation, branches: list[int], dims: tuple[int, ...]) -> ir.Value:
    """Whether the `if`/`case` took one of `branches`, as an i1 tensor of shape `dims`."""
    selector = op.operands[0]
    if op.name == "stablehlo.if":
        taken = selector if branches == [0] else hlo.not_(selector)
    else:
        taken = functools.reduce(hlo.or_, [B.compare(selector, B.full(selector, i), "EQ") for i in branches])
    return B.broadcast(taken, dims)


def call_rule(ctx: Ctx, op: ir.Operation, cts: list[ir.Value | None]) -> list[ir.Value | None]:
    """`func.call @f`: call `@f_vjp`, which recomputes `f` and returns the cotangents of all its args."""
    callee = ir.FlatSymbolRefAttr(op.attributes["callee"]).value
    name = ctx.sweep.module.vjp_of(callee, silent=True)    # the forward pass made the call (and its prints)
    results, operands = list(op.results), list(op.operands)
    full = [c or B.zeros(r) for r, c in zip(results, cts)]
    call = func.CallOp([r.type for r in results] + [v.type for v in operands],
                       ir.FlatSymbolRefAttr.get(name), operands + full)
    return list(call.results)[len(results):]
