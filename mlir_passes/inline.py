"""Inline every call into the public functions, top-down.

MLIR's upstream `inline` pass works bottom-up over the call graph: it first inlines into every
callee, so a chain of n functions costs O(n²) copies (each function ends up holding all the ones
below it, before symbol-dce throws them away). The frontend emits one private function per
specialization and only `@main` survives, so this pass starts at the public functions and
splices callee bodies in as it meets their calls: each op is copied once per call site that
reaches it, and the private functions are left for symbol-dce.
"""
from __future__ import annotations

from jax.extend.mlir import ir


def _functions(module: ir.Operation) -> dict[str, ir.Operation]:
    out = {}
    for op in module.regions[0].blocks[0].operations:
        if op.operation.name == "func.func":
            out[ir.StringAttr(op.attributes["sym_name"]).value] = op.operation
    return out


def _is_public(func: ir.Operation) -> bool:
    return "sym_visibility" not in func.attributes or \
        ir.StringAttr(func.attributes["sym_visibility"]).value == "public"


def _calls_in(op: ir.Operation) -> list[ir.Operation]:
    found = []

    def visit(o: ir.Operation) -> ir.WalkResult:
        if o.name == "func.call":
            found.append(o)
        return ir.WalkResult.ADVANCE
    op.walk(visit)
    return found


def _remap(op: ir.Operation, mapping: dict[ir.Value, ir.Value], calls: list[ir.Operation] | None = None) -> None:
    """Point the operands of `op` and of every op nested in it at the inlined values (and collect
    the calls among them into `calls`, in the same walk)."""
    def visit(o: ir.Operation) -> ir.WalkResult:
        operands = o.operands
        for i, v in enumerate(operands):
            new = mapping.get(v)
            if new is not None:
                operands[i] = new
        if calls is not None and o.name == "func.call":
            calls.append(o)
        return ir.WalkResult.ADVANCE
    op.walk(visit)


def _inline_call(call: ir.Operation, callee: ir.Operation) -> list[ir.Operation]:
    """Replace `call` by a copy of the callee's body; returns the calls the copy contains."""
    blocks = callee.regions[0].blocks
    block = blocks[0]
    mapping: dict[ir.Value, ir.Value] = dict(zip(block.arguments, call.operands))
    new_calls: list[ir.Operation] = []
    ops = list(block.operations)
    ip = ir.InsertionPoint(call)
    for op in ops[:-1]:
        copy = op.clone(ip=ip)
        _remap(copy, mapping, new_calls)
        for old, new in zip(op.results, copy.results):
            mapping[old] = new
    for result, returned in zip(call.results, ops[-1].operands):
        result.replace_all_uses_with(mapping.get(returned, returned))
    call.erase()
    return new_calls


def inline(module: ir.Operation, pass_: object = None) -> None:
    functions = _functions(module)
    for func in list(functions.values()):
        if not _is_public(func):
            continue
        worklist = _calls_in(func)
        while worklist:
            call = worklist.pop()
            name = ir.FlatSymbolRefAttr(call.attributes["callee"]).value
            callee = functions.get(name)
            if callee is None or len(callee.regions[0].blocks) != 1:
                continue                      # external or multi-block: leave the call
            worklist += _inline_call(call, callee)
