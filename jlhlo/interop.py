"""jlhlo inside JAX, and jlhlo modules for programs without jlhlo.

`to_jax(f)` makes a jlhlo `Function` a JAX callable. Each call binds the primitive `jlhlo_call`,
whose lowering moves the entry's optimized StableHLO into the module JAX is building
(`jax.interpreters.mlir.merge_mlir_modules`) and calls it with `func.call`: inside `jax.jit` XLA
compiles it with the rest of the program, on jax arrays, with no host round trip. `jax.grad` goes
through a `jax.custom_vjp` whose backward pass is a second module, the entry's VJP built by jlhlo's
own reverse mode (`mlir_passes.autodiff.build_vjp`). `jax.vmap` maps the call over the batch with a
loop (`jax.custom_batching.sequential_vmap`).

`portable_artifact` / `portable_signature`: `--emit portable`, a versioned StableHLO artifact and
the JSON that says what its arguments and results are.
"""
from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.custom_batching import sequential_vmap
from jax.extend.core import Primitive
from jax.extend.mlir import ir
from jax.extend.mlir.dialects import func, stablehlo
from jax.interpreters import mlir as jax_mlir

from .api import Function, Lowered, UsageError, _frozen, abstract, flatten_host, lower_entry, to_host
from .core.errors import LocatedError
from .frontend.diagnostics import JuliaError, Span
from .frontend.program import Program
from .mlir_passes import optimize
from .mlir_passes.autodiff import build_vjp
from .runtime import Executable, default_cache, flatten_outputs, make_context, module_signature
from .runtime.sharding import without_hints

# ----------------------------------------------------------------------------- the primitive


@dataclass(eq=False)                   # a jax parameter: hashed by identity, one per module
class _Callee:
    """One StableHLO module with a public `@main`, as the `jlhlo_call` primitive calls it."""
    name: str
    text: str
    in_avals: tuple[jax.core.ShapedArray, ...]
    out_avals: tuple[jax.core.ShapedArray, ...]
    _executables: dict[str, Executable] = field(default_factory=dict)

    @classmethod
    def of(cls, name: str, module: ir.Module) -> _Callee:
        module = without_hints(module)     # inside JAX, JAX's own shardings apply
        with module.context:
            inputs, outputs = module_signature(module)
        return cls(name, module.operation.get_asm(enable_debug_info=False),
                   tuple(jax.core.ShapedArray(s.shape, s.dtype) for s in inputs),
                   tuple(jax.core.ShapedArray(s.shape, s.dtype) for s in outputs))

    def executable(self, platform: str) -> Executable:
        """The module compiled on its own, for calls outside `jax.jit`."""
        if platform not in self._executables:
            context = make_context()
            with context:
                self._executables[platform] = Executable(ir.Module.parse(self.text), platform, default_cache())
        return self._executables[platform]

    def __str__(self) -> str:          # how jax names the parameter in jaxprs and locations
        return f"jlhlo:{self.name}"

    def __post_init__(self) -> None:
        self.call = sequential_vmap(lambda *args: jlhlo_call_p.bind(*args, callee=self))


jlhlo_call_p = Primitive("jlhlo_call")
jlhlo_call_p.multiple_results = True


def _abstract_eval(*avals: jax.core.ShapedArray, callee: _Callee) -> tuple[jax.core.ShapedArray, ...]:
    for i, (got, want) in enumerate(zip(avals, callee.in_avals)):
        if (got.shape, got.dtype) != (want.shape, want.dtype):
            raise TypeError(f"{callee.name}: argument {i + 1} is {got.str_short()}, the module takes "
                            f"{want.str_short()}")
    return callee.out_avals


def _impl(*args: jax.Array, callee: _Callee) -> list[jax.Array]:
    return callee.executable(jax.default_backend()).call_device(*args)


def _lowering(ctx: jax_mlir.LoweringRuleContext, *args: ir.Value, callee: _Callee) -> list[ir.Value]:
    with ctx.module_context.context:
        module = ir.Module.parse(callee.text)
        result_types = _results(module, "main")
    name = jax_mlir.merge_mlir_modules(ctx.module_context.module, f"jlhlo_{callee.name}", module,
                                       dst_symtab=ctx.module_context.symbol_table)
    return func.CallOp(result_types, ir.FlatSymbolRefAttr.get(name), list(args)).results


jlhlo_call_p.def_abstract_eval(_abstract_eval)
jlhlo_call_p.def_impl(_impl)
jax_mlir.register_lowering(jlhlo_call_p, _lowering)


# ----------------------------------------------------------------------------- to_jax


def to_jax(fn: Function, *, unchecked: bool = False) -> Callable[..., Any]:
    """`fn` as a function of jax arrays (numbers, tuples and dicts of them, as `fn` takes), usable
    inside `jax.jit`, `jax.grad` and `jax.vmap`. Results are jax arrays in `fn`'s structure.

    JAX has no exceptions, so inside JAX Julia's run-time checks (an index out of bounds, a
    `throw`) cannot be reported. An entry that has any is refused, naming the first check, unless
    `unchecked=True` asks to run it without them (as with `--check-bounds=no`, and a `throw` that
    would fail is not reported): a silent wrong answer only where the caller chose it. An integer
    argument that decides an array size cannot be a traced value.

    A function made with a `mesh` is refused: inside JAX, JAX's own shardings place the values."""
    if fn.mesh is not None:
        raise UsageError(f"to_jax: `{fn.name}` was made with a mesh; inside JAX, shard with JAX's own "
                         f"shardings (jax.jit's in_shardings, jax.device_put) and pass a function made without one")
    entries: dict[object, _JaxEntry] = {}

    def call(*args: Any) -> Any:
        args = jax.tree_util.tree_map(jnp.asarray, args)
        specs = [abstract(a) for a in args]
        key = _frozen(tuple(specs))
        if key not in entries:
            entries[key] = _JaxEntry.lower(fn, specs, unchecked)
        return entries[key](args)
    call.__name__ = call.__qualname__ = fn.name
    call.__doc__ = f"jlhlo `{fn.name}` of {fn.loaded.program.filename}, as a JAX function"
    return call


class _JaxEntry:
    """One specialization of an entry for JAX: its forward module, and its VJP module once a
    gradient asks for it."""

    def __init__(self, name: str, lowered: Lowered, unoptimized: str):
        self.result, self.params = lowered.result, lowered.params
        self.forward = _Callee.of(name, lowered.module)
        self._name, self._unoptimized = name, unoptimized
        self._backward: _Callee | None = None
        self.differentiable = [np.issubdtype(a.dtype, np.inexact) for a in self.forward.in_avals]
        self.apply = jax.custom_vjp(lambda *leaves: self.forward.call(*leaves))
        self.apply.defvjp(lambda *leaves: (self.forward.call(*leaves), leaves), self._vjp)

    @classmethod
    def lower(cls, fn: Function, specs: list[object], unchecked: bool) -> _JaxEntry:
        lowered = lower_entry(fn.loaded.program, fn.name, specs, check_bounds=not unchecked)
        _refuse_prints(lowered, "to_jax")
        if lowered.check_sites and not unchecked:
            span, message, _ = lowered.check_sites[0]
            raise JuliaError(f"to_jax: `{fn.name}` makes run-time checks that JAX cannot report (this "
                             f"one can fail with {message.partition(chr(10))[0]}); pass "
                             f"`to_jax(f, unchecked=True)` to run it without them", span)
        if lowered.check_sites:        # unchecked: the error code result is dropped
            _keep_results(lowered.module, "main", range(len(_results(lowered.module, "main")) - 1))
        unoptimized = lowered.as_text(debug_info=True)     # locations: what autodiff refuses is named by line
        return cls(fn.name, lowered.optimize(), unoptimized)

    def __call__(self, args: tuple) -> Any:
        flat = self.apply(*flatten_host(args, self.params))
        return to_host(self.result, iter(flat), leaf=lambda x: x)

    def _vjp(self, leaves: tuple, cotangents: tuple) -> tuple:
        if not any(self.differentiable):
            return tuple(None for _ in leaves)
        cts = [ct if np.issubdtype(a.dtype, np.inexact) else jnp.zeros(a.shape, a.dtype)
               for ct, a in zip(cotangents, self.forward.out_avals)]
        grads = iter(self.backward().call(*leaves, *cts))
        return tuple(next(grads) if d else None for d in self.differentiable)

    def backward(self) -> _Callee:
        """The module `@main(args..., result cotangents...) -> cotangents of the float arguments`."""
        if self._backward is None:
            with make_context() as context, ir.Location.unknown(context):
                module = ir.Module.parse(self._unoptimized)
                n_results = len(_results(module, "main"))
                try:
                    vjp = build_vjp(module, "main", self.differentiable)
                except LocatedError as e:
                    span = Span(e.file, e.line, e.col) if e.file is not None else None
                    raise JuliaError(f"jax.grad of `{self._name}`: {e.message}", span) from None
                symbols = ir.SymbolTable(module.operation)
                primal = symbols["main"]
                symbols.set_symbol_name(primal, "main_primal")
                ir.SymbolTable.replace_all_symbol_uses("main", "main_primal", module.operation)
                primal.attributes["sym_visibility"] = ir.StringAttr.get("private")
                derivative = symbols[vjp]
                symbols.set_symbol_name(derivative, "main")
                ir.SymbolTable.replace_all_symbol_uses(vjp, "main", module.operation)
                derivative.attributes["sym_visibility"] = ir.StringAttr.get("public")
                _keep_results(module, "main", range(n_results, n_results + sum(self.differentiable)))
                optimize(module, 2)
                self._backward = _Callee.of(f"{self._name}_vjp", module)
        return self._backward


def _results(module: ir.Module, name: str) -> list[ir.Type]:
    with module.context:
        return list(ir.FunctionType(ir.TypeAttr(ir.SymbolTable(module.operation)[name].attributes["function_type"])
                                    .value).results)


def _keep_results(module: ir.Module, name: str, keep: range) -> None:
    """Make `@name` return only its results at the positions `keep` (the rest become dead code)."""
    with module.context, ir.Location.unknown():
        fn = ir.SymbolTable(module.operation)[name]
        ftype = ir.FunctionType(ir.TypeAttr(fn.attributes["function_type"]).value)
        for block in fn.regions[0].blocks:
            ret = block.operations[len(block.operations) - 1]
            if ret.operation.name == "func.return":
                with ir.InsertionPoint(ret):
                    func.ReturnOp([ret.operands[i] for i in keep])
                ret.operation.erase()
        fn.attributes["function_type"] = ir.TypeAttr.get(
            ir.FunctionType.get(list(ftype.inputs), [ftype.results[i] for i in keep]))
        if "res_attrs" in fn.attributes:
            del fn.attributes["res_attrs"]


# ----------------------------------------------------------------------------- portable artifacts


def _refuse_prints(lowered: Lowered, what: str) -> None:
    """A print is a call back into this Python process (frontend/printing.py): JAX's jit and other
    StableHLO consumers cannot make it."""
    if lowered.print_sites:
        raise JuliaError(f"{what} cannot hold a program that prints (println, @show, @printf, ...): the text "
                         f"is written by jlhlo's runtime while it runs; remove the prints or run it with jlhlo",
                         lowered.print_sites[0].span)


def portable_artifact(lowered: Lowered, portable: bool = True) -> tuple[bytes, str]:
    """The module as a StableHLO portable artifact and the StableHLO version it is written in: with
    `portable`, the version every StableHLO consumer of the last 12 weeks reads (as `jax.export`
    chooses), else the current one."""
    _refuse_prints(lowered, "a portable artifact")
    version = (stablehlo.get_version_from_compatibility_requirement(
        stablehlo.StablehloCompatibilityRequirement.WEEK_12) if portable else stablehlo.get_current_version())
    text = without_hints(lowered.module).operation.get_asm(enable_debug_info=False)
    return stablehlo.serialize_portable_artifact_str(text, version), version


def portable_signature(program: Program, entry: str, lowered: Lowered,
                       version: str) -> dict[str, Any]:
    """What the artifact's `@main` takes and returns, for a program that runs it without jlhlo:
    each argument with its `--inputs` name (`x`, `p.1`, `m.W`) and Julia type, each result with its
    `--outputs` name, and which trailing result is the run-time error code (0: no error)."""
    with lowered.module.context:
        _, outputs = module_signature(lowered.module)
    result_names = list(flatten_outputs(to_host(lowered.result, itertools.count(), leaf=int)))
    if lowered.check_sites:
        result_names.append("error_code")
    return {
        "format": "StableHLO portable artifact",
        "stablehlo_version": version,
        "entry": entry,
        "source": program.filename,
        "arguments": [{"name": n, "julia_type": v.t.julia(), "dtype": str(s.dtype), "shape": list(s.shape)}
                      for n, v, s in lowered.inputs()],
        "results": [{"name": n, "dtype": str(s.dtype), "shape": list(s.shape)} for n, s in zip(result_names, outputs)],
        "specialized": {name: value for name, value, _ in lowered.specialized},
        "error_codes": [f"{span}: {message.partition(chr(10))[0]}" for span, message, _ in lowered.check_sites],
    }


__all__ = ["jlhlo_call_p", "portable_artifact", "portable_signature", "to_jax"]
