"""VJP functions of a module: `ModuleAD.vjp_of(name)` adds `@name_vjp`, which recomputes `@name`
and returns its results and the cotangents of its arguments, built by one `Sweep` (sweep.py) over
the function's body with the VJP rules of rules.py."""
from __future__ import annotations

from jax.extend.mlir import ir
from jax.extend.mlir.dialects import func

from ...core import builder as B
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

    def vjp_of(self, name: str, wrt: list[bool] | None = None) -> str:
        funcs = _funcs(self.module)
        if name not in funcs:
            raise ValueError(f"the module has no function @{name}")
        src = funcs[name]
        ftype = ir.FunctionType(ir.TypeAttr(src.attributes["function_type"]).value)
        ins, outs = list(ftype.inputs), list(ftype.results)
        wrt = [True] * len(ins) if wrt is None else list(wrt)
        if len(wrt) != len(ins):
            raise ValueError(f"@{name} takes {len(ins)} arguments; wrt has {len(wrt)} entries")
        key = str(_wrt_attr(wrt))
        for fname, f in funcs.items():
            attrs = f.attributes
            if ("jlhlo.vjp_of" in attrs and ir.StringAttr(attrs["jlhlo.vjp_of"]).value == name
                    and str(attrs["jlhlo.vjp_wrt"]) == key):
                return fname
        if name in self.building:
            raise ADError(f"cannot differentiate the recursive function @{name}", str(src.location))
        vjp_name = f"{name}_vjp"
        n = 1
        while vjp_name in funcs:
            n += 1
            vjp_name = f"{name}_vjp{n}"
        self.building.add(name)
        try:
            self._build(src, vjp_name, ins, outs, wrt)
        finally:
            self.building.discard(name)
        return vjp_name

    def _build(self, src: ir.Operation, vjp_name: str, ins: list[ir.Type], outs: list[ir.Type],
               wrt: list[bool]) -> None:
        grads = [t for t, w in zip(ins, wrt) if w]
        with ir.InsertionPoint(self.module.body), src.location:
            f = func.FuncOp(vjp_name, ir.FunctionType.get(ins + outs, outs + grads))
            f.attributes["sym_visibility"] = ir.StringAttr.get("private")
            f.attributes["jlhlo.vjp_of"] = ir.StringAttr.get(ir.StringAttr(src.attributes["sym_name"]).value)
            f.attributes["jlhlo.vjp_wrt"] = _wrt_attr(wrt)
            entry = f.add_entry_block()
        src_block = src.regions[0].blocks[0]
        args = list(entry.arguments)
        with ir.InsertionPoint(entry):
            sweep = Sweep(self, dict(zip(src_block.arguments, args[:len(ins)])))
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
