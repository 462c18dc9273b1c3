"""VJP functions of a module: `ModuleAD.vjp_of(name)` adds `@name_vjp`, which recomputes `@name`
and returns its results and the cotangents of its arguments, built by one `Sweep` (sweep.py) over
the function's body with the VJP rules of rules.py."""
from __future__ import annotations

from jax.extend.mlir import ir
from jax.extend.mlir.dialects import func

from ...core import builder as B
from ..effects import is_print, printing_functions
from .control import forward_while
from .errors import ADError
from .rules import RULES
from .sweep import Sweep, body_ops, terminator


def _funcs(module: ir.Module) -> dict[str, ir.Operation]:
    return {ir.StringAttr(op.attributes["sym_name"]).value: op.operation
            for op in module.body.operations if op.operation.name == "func.func"}


def _wrt_attr(wrt: list[bool]) -> ir.Attribute:
    return ir.ArrayAttr.get([ir.BoolAttr.get(bool(w)) for w in wrt])


class ModuleAD:
    """Builds VJP functions in one module; a function's VJP is built once (found again by its
    `jlhlo.vjp_of` / `jlhlo.vjp_wrt` attributes)."""

    rules = RULES
    forward_while = staticmethod(forward_while)

    def __init__(self, module: ir.Module):
        self.module = module
        self.building: set[str] = set()
        self.printing = printing_functions(module)
        self.quieted: dict[str, str] = {}

    def quiet(self, name: str) -> str:
        """A copy of `@name` without prints (its callees' copies too), for recomputations; `name`
        itself when it prints nothing."""
        if name not in self.printing:
            return name
        quiet_name = f"{name}_quiet"
        funcs = _funcs(self.module)
        if quiet_name in funcs:                        # made by an earlier VJP of this module
            self.quieted[name] = quiet_name
        if name not in self.quieted:
            with ir.InsertionPoint(self.module.body):
                copy = funcs[name].clone()
            copy.attributes["sym_name"] = ir.StringAttr.get(quiet_name)
            copy.attributes["sym_visibility"] = ir.StringAttr.get("private")
            self.quieted[name] = quiet_name
            with ir.InsertionPoint(copy.regions[0].blocks[0]):
                prints: list[ir.Operation] = []

                def visit(o: ir.Operation) -> ir.WalkResult:
                    if is_print(o):
                        prints.append(o)
                    elif o.name == "func.call":
                        callee = ir.FlatSymbolRefAttr(o.attributes["callee"]).value
                        o.attributes["callee"] = ir.FlatSymbolRefAttr.get(self.quiet(callee))
                    return ir.WalkResult.ADVANCE
                copy.walk(visit)
                for o in prints:
                    o.erase()
        return self.quieted[name]

    def vjp_of(self, name: str, wrt: list[bool] | None = None, silent: bool = False) -> str:
        """`@name_vjp` for arguments `wrt`; `silent`: its forward pass is a recomputation (the
        caller ran `@name` already), so it leaves out the prints (see sweep.clone_op)."""
        funcs = _funcs(self.module)
        if name not in funcs:
            raise ValueError(f"the module has no function @{name}")
        src = funcs[name]
        ftype = ir.FunctionType(ir.TypeAttr(src.attributes["function_type"]).value)
        ins, outs = list(ftype.inputs), list(ftype.results)
        wrt = [True] * len(ins) if wrt is None else list(wrt)
        if len(wrt) != len(ins):
            raise ValueError(f"@{name} takes {len(ins)} arguments; wrt has {len(wrt)} entries")
        silent = silent and name in self.printing       # (one VJP serves both when nothing prints)
        key = str(_wrt_attr(wrt))
        for fname, f in funcs.items():
            attrs = f.attributes
            if ("jlhlo.vjp_of" in attrs and ir.StringAttr(attrs["jlhlo.vjp_of"]).value == name
                    and str(attrs["jlhlo.vjp_wrt"]) == key and ("jlhlo.vjp_silent" in attrs) == silent):
                return fname
        if name in self.building:
            raise ADError(f"cannot differentiate the recursive function @{name}", str(src.location))
        vjp_name = f"{name}_vjp" + ("_quiet" if silent else "")
        n = 1
        while vjp_name in funcs:
            n += 1
            vjp_name = f"{name}_vjp{n}"
        self.building.add(name)
        try:
            self._build(src, vjp_name, ins, outs, wrt, silent)
        finally:
            self.building.discard(name)
        return vjp_name

    def _build(self, src: ir.Operation, vjp_name: str, ins: list[ir.Type], outs: list[ir.Type],
               wrt: list[bool], silent: bool) -> None:
        grads = [t for t, w in zip(ins, wrt) if w]
        with ir.InsertionPoint(self.module.body), src.location:
            f = func.FuncOp(vjp_name, ir.FunctionType.get(ins + outs, outs + grads))
            f.attributes["sym_visibility"] = ir.StringAttr.get("private")
            f.attributes["jlhlo.vjp_of"] = ir.StringAttr.get(ir.StringAttr(src.attributes["sym_name"]).value)
            f.attributes["jlhlo.vjp_wrt"] = _wrt_attr(wrt)
            if silent:
                f.attributes["jlhlo.vjp_silent"] = ir.UnitAttr.get()
            entry = f.add_entry_block()
        src_block = src.regions[0].blocks[0]
        args = list(entry.arguments)
        with ir.InsertionPoint(entry):
            sweep = Sweep(self, dict(zip(src_block.arguments, args[:len(ins)])), silent=silent)
            sweep.forward(body_ops(src_block))
            ret = terminator(src_block)
            results = [sweep.value(v) for v in ret.operands]
            with ret.location:
                for r, c in zip(results, args[len(ins):]):
                    sweep.accum(r, c)
            sweep.backward()
            with ret.location:
                out = [sweep.ct.get(a) or B.zeros(a) for a, w in zip(args, wrt) if w]
                func.ReturnOp(results + out)
