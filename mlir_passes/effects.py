"""Effects in program order: a value threaded through every op with an effect, in the order the
program runs them, as JAX threads a token through its ordered effects.

`thread_effects` passes one value (a `!stablehlo.token`, or the state of a random number
generator) through the effect ops of a module: each effect op is rewritten to take the value and
give the next, and every function, loop and branch that contains such an op (directly or through a
call) passes it in and out (a private function gains an argument and a result; `@main` makes the
first value itself). Two users:

* `thread_host_calls`: the prints of frontend/printing.py (`custom_call @jlhlo.print`, with a side
  effect and no results), which XLA keeps but may reorder, ordered by a token and pointed at the
  platform's Python callback (which finds its Python function by the call's `index`); the runtime
  applies it just before compiling.
* `rng.py`: the random draws of a program that calls `Random.seed!`, from a generator state.
"""
from __future__ import annotations

from collections.abc import Callable

from jax.extend.mlir import ir
from jax.extend.mlir.dialects import func
from jax.extend.mlir.dialects import stablehlo as hlo

from ..core.ops import PRINT_TARGET

# (an effect op, the value before it) -> the value after it; it replaces (and erases) the op
Rewrite = Callable[[ir.Operation, ir.Value], ir.Value]


def is_print(op: ir.Operation) -> bool:
    """A print of frontend/printing.py (before `thread_host_calls`)."""
    return op.name == "stablehlo.custom_call" and \
        ir.StringAttr(op.attributes["call_target_name"]).value == PRINT_TARGET


def _symbol(op: ir.Operation) -> str:
    return ir.StringAttr(op.attributes["sym_name"]).value


def _callee(op: ir.Operation) -> str:
    return ir.FlatSymbolRefAttr(op.attributes["callee"]).value


def walk_ops(op: ir.Operation, visit: Callable[[ir.Operation], None]) -> None:
    """`visit` every op nested in `op` (and `op` itself)."""
    def step(o: ir.Operation) -> ir.WalkResult:
        visit(o.operation)
        return ir.WalkResult.ADVANCE
    op.walk(step)


def has_host_calls(module: ir.Module) -> bool:
    found = []
    walk_ops(module.operation, lambda o: found.append(o) if is_print(o) else None)
    return bool(found)


def functions_with(module: ir.Module, is_effect: Callable[[ir.Operation], bool]) -> set[str]:
    """The functions that contain an effect op, directly or through the functions they call."""
    funcs = {_symbol(op.operation): op.operation for op in module.body.operations if op.operation.name == "func.func"}
    found: set[str] = set()
    calls: dict[str, set[str]] = {}
    for name, f in funcs.items():
        callees: set[str] = set()

        def visit(o: ir.Operation, name: str = name, callees: set[str] = callees) -> None:
            if is_effect(o):
                found.add(name)
            elif o.name == "func.call":
                callees.add(_callee(o))
        walk_ops(f, visit)
        calls[name] = callees
    changed = True
    while changed:
        changed = False
        for name, callees in calls.items():
            if name not in found and callees & found:
                found.add(name)
                changed = True
    return found


def printing_functions(module: ir.Module) -> set[str]:
    return functions_with(module, is_print)


def thread_effects(module: ir.Module, is_effect: Callable[[ir.Operation], bool], state: ir.Type,
                   start: Callable[[], ir.Value], rewrite: Rewrite) -> None:
    """Thread a value of type `state` through the effect ops of `module` in program order: `start()`
    makes the first one at the top of `@main` (at the insertion point given), `rewrite` each step."""
    with module.context, ir.Location.unknown():
        threader = _Threader(functions_with(module, is_effect), is_effect, state, rewrite)
        for op in list(module.body.operations):
            f = op.operation
            if f.name != "func.func" or _symbol(f) not in threader.funcs:
                continue
            block = f.regions[0].blocks[0]
            ftype = ir.FunctionType(ir.TypeAttr(f.attributes["function_type"]).value)
            public = "sym_visibility" not in f.attributes or \
                ir.StringAttr(f.attributes["sym_visibility"]).value == "public"
            ops = [o.operation for o in block.operations]      # (not what `start` makes)
            if public:
                with ir.InsertionPoint(ops[0]), f.location:
                    first = start()
            else:
                first = block.add_argument(state, f.location)
            end = threader.block(block, first, ops)
            if not public:
                ret = block.operations[len(block.operations) - 1]
                with ir.InsertionPoint(ret), ret.location:
                    func.ReturnOp([*ret.operands, end])
                ret.erase()
                f.attributes["function_type"] = ir.TypeAttr.get(ir.FunctionType.get(
                    [*ftype.inputs, state], [*ftype.results, state]))


def thread_host_calls(module: ir.Module, target: str) -> None:
    """Order the prints of `module` by a token and point them at the custom call `target`."""
    def call(op: ir.Operation, token: ir.Value) -> ir.Value:
        with ir.InsertionPoint(op), op.location:
            new = hlo.CustomCallOp([token.type], [token, *op.operands], target, has_side_effect=True)
            new.attributes["mhlo.backend_config"] = op.attributes["mhlo.backend_config"]
        op.erase()
        return new.results[0]
    with module.context:
        token = hlo.TokenType.get()
    thread_effects(module, is_print, token, lambda: hlo.AfterAllOp([]).result, call)


class _Threader:
    def __init__(self, funcs: set[str], is_effect: Callable[[ir.Operation], bool], state: ir.Type,
                 rewrite: Rewrite):
        self.funcs, self.is_effect, self.state, self.rewrite = funcs, is_effect, state, rewrite

    def _contains(self, op: ir.Operation) -> bool:
        found = []
        walk_ops(op, lambda o: found.append(o) if self.is_effect(o) or o.name == "func.call" and
                 _callee(o) in self.funcs else None)
        return bool(found)

    def block(self, block: ir.Block, value: ir.Value, ops: list[ir.Operation] | None = None) -> ir.Value:
        """Thread `value` through the ops of `block` (or those `ops` of it) in order; the value after
        its last effect."""
        for op in ops if ops is not None else [o.operation for o in block.operations]:
            if self.is_effect(op):
                value = self.rewrite(op, value)
            elif op.name == "func.call" and _callee(op) in self.funcs:
                value = self._call(op, value)
            elif op.regions and op.name in ("stablehlo.while", "stablehlo.if", "stablehlo.case") and self._contains(op):
                value = self._region_op(op, value)
        return value

    def _call(self, op: ir.Operation, value: ir.Value) -> ir.Value:
        with ir.InsertionPoint(op), op.location:
            new = func.CallOp([*(r.type for r in op.results), self.state], ir.FlatSymbolRefAttr.get(_callee(op)),
                              [*op.operands, value])
        return self._replace(op, new.operation)

    def _region_op(self, op: ir.Operation, value: ir.Value) -> ir.Value:
        types = [*(r.type for r in op.results), self.state]
        with ir.InsertionPoint(op), op.location:
            if op.name == "stablehlo.while":
                new = hlo.WhileOp(types, [*op.operands, value])
            elif op.name == "stablehlo.if":
                new = hlo.IfOp(types, op.operands[0])
            else:
                new = hlo.CaseOp(types, op.operands[0], len(op.regions))
        for i, (old_region, region) in enumerate(zip(op.regions, new.regions)):
            block = old_region.blocks[0]
            block.append_to(region)
            if op.name == "stablehlo.while":
                start = block.add_argument(self.state, op.location)
                if i == 0:
                    continue                   # the condition passes the value through untouched
            else:
                start = value                  # a branch reads the value from before the op
            end = self.block(block, start)
            ret = block.operations[len(block.operations) - 1]
            with ir.InsertionPoint(ret), ret.location:
                hlo.ReturnOp([*ret.operands, end])
            ret.erase()
        return self._replace(op, new.operation)

    @staticmethod
    def _replace(op: ir.Operation, new: ir.Operation) -> ir.Value:
        for old, r in zip(op.results, new.results):
            old.replace_all_uses_with(r)
        op.erase()
        return new.results[len(new.results) - 1]
