"""The Python API: `prog = jlhlo.load(path_or_source)`, `f = prog.function("name")`, `f(*args)`,
`f.lower(*args).as_text()`. Also the driver the CLI uses: host values → entry types → StableHLO
module → optimized module → executable → host values."""
from __future__ import annotations

import contextlib
import gc
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np
from jax.extend.mlir import ir

from .display import printed
from .frontend.diagnostics import JuliaError, Span, StaticValueNeeded
from .frontend.dispatch import PAbstract, PStruct, PTypeVar, PUnion, select_method
from .frontend.lower import ModuleLowering
from .frontend.printing import PrintSite
from .frontend.program import Program
from .frontend.types import ArrayT, JType, NamedTupleT, Scalar, StructT, TupleT, type_of_array
from .frontend.values import ArrayV, Box, MaybeV, ScalarV, StructArrayV, StructV, TupleV, Value, runtime_leaves
from .mlir_passes import optimize
from .mlir_passes.autodiff import build_vjp
from .mlir_passes.rng import thread_rng_state
from .runtime import Executable, default_cache, module_signature, xla_bridge
from .runtime.executable import Printer
from .runtime.sharding import Mesh, ShardingError, ShardingPlan, as_spec, plan


class UsageError(Exception):
    """A problem with how the compiler was called (not with the program): CLI exit status 2."""


@contextlib.contextmanager
def _without_gc():
    """Compiling allocates many small objects and frees them by reference counting; the cyclic
    collector only slows it down (about 10% of compile time), so it pauses meanwhile."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load(path_or_source: str, filename: str | None = None) -> LoadedProgram:
    """Parse a program from a `.jl` path or from source text; raises JuliaError on errors in it."""
    if "\n" not in path_or_source and path_or_source.endswith(".jl") and os.path.exists(path_or_source):
        with open(path_or_source, encoding="utf-8") as fh:
            source = fh.read()
        filename = filename or os.path.basename(path_or_source)
    else:
        source = path_or_source
        filename = filename or "main.jl"
    with _without_gc():
        return LoadedProgram(Program.from_source(source, filename))


@dataclass
class LoadedProgram:
    program: Program

    def function(self, name: str = "main", *, check_bounds: bool = True, strict_fp: bool = False,
                 vectorize: bool = True, cache: bool = True, mesh: Mapping[str, int] | None = None,
                 shardings: Mapping[str, Sequence[str | None]] | None = None) -> Function:
        """The entry `name`; its executables come from the persistent compile cache unless `cache`
        is False. With `mesh` (`{"data": 4}`), each call runs partitioned over that many devices,
        its arguments split as `shardings` says (by parameter or leaf: `{"x": (None, "data")}`,
        `{"m.layers.1.W": ("model", None)}`; the others replicated): see `Lowered.compile`."""
        if name not in self.program.methods or all(m.origin != "user" for m in self.program.methods[name]):
            raise UsageError(f"no function `{name}` is defined in {self.program.filename}")
        return Function(self, name, check_bounds, cache, strict_fp, vectorize,
                        *_mesh_and_specs(mesh, shardings))


@dataclass(frozen=True)
class Specialized:
    """An entry argument whose value is compiled in: an integer that decides an array size."""
    t: Scalar
    value: int


@dataclass
class Lowered:
    """A specialization of an entry function, lowered to a StableHLO module."""
    module: ir.Module
    result: Value                      # the entry's result; its runtime leaves are the module's results
    typed: list[tuple[str, str, list[tuple[str, str]], str]]
    timings: dict[str, float] = field(default_factory=dict)
    optimized: bool = False
    check_sites: list = field(default_factory=list)   # (span, message, notes) per run-time check
    # entry arguments compiled in as values: (parameter, value, the construct that needs it)
    specialized: list[tuple[str, int, str]] = field(default_factory=list)
    runtime_args: list[int] | None = None     # positions of the arguments the executable takes (None: all)
    params: list[Value] = field(default_factory=list)    # the entry's arguments, as lowering saw them
    loop_notes: list[tuple[Span, str]] = field(default_factory=list)   # per loop: what it became (--explain-loops)
    print_sites: list[PrintSite] = field(default_factory=list)   # what each print writes (frontend/printing.py)
    param_names: list[str] = field(default_factory=list)   # the entry's parameters (`arg3` where unnamed)

    def runtime_inputs(self, args: tuple) -> tuple:
        """The host arguments the executable takes: all but the specialized ones."""
        return args if self.runtime_args is None else tuple(args[i] for i in self.runtime_args)

    def host_inputs(self, args: tuple) -> list[Any]:
        """The executable's flat inputs for the entry's host arguments `args`."""
        params = self.params if self.runtime_args is None else [self.params[i] for i in self.runtime_args]
        return flatten_host(self.runtime_inputs(tuple(args)), params or None)

    def as_text(self, debug_info: bool = False) -> str:
        return self.module.operation.get_asm(enable_debug_info=debug_info)

    def optimize(self, level: int = 2, **options: Any) -> Lowered:
        with self.module.context, _without_gc():
            optimize(self.module, level, **options)
        self.optimized = True
        return self

    def typed_text(self) -> str:
        lines = [f"# specialized on {name} = {value}: {why}" for name, value, why in self.specialized]
        for sym, sig, variables, result in self.typed:
            lines.append(f"{sig}  →  @{sym}")
            for name, t in variables:
                lines.append(f"    {name}::{t}")
            lines.append(f"    return::{result}")
        return "\n".join(lines) + "\n"

    def compile(self, platform: str = "cpu", cache: bool = True, *, mesh: Mapping[str, int] | Mesh | None = None,
                shardings: Mapping[str, Sequence[str | None]] | None = None) -> Executable:
        """The XLA executable, from the persistent compile cache (`runtime/cache.py`) where it holds
        this module, unless `cache` is False.

        With `mesh` (axis name → size), it is one SPMD program over the first that many devices
        of `platform`, partitioned by XLA: each argument split as `shardings` says, by parameter
        name or dotted leaf (`x`, `m.layers.1.W`, `p.2`) with per dimension a mesh axis or None,
        the others replicated; results come back whole (`exe(...)` gives NumPy arrays,
        `exe.call_device(...)` global jax arrays, replicated). Raises UsageError for a sharding
        that does not fit (see `sharding_plan`) or a mesh larger than the devices there are."""
        sharding = None
        if mesh is not None or shardings:
            sharding = self.sharding_plan(*_mesh_and_specs(mesh, shardings))
        try:
            return Executable(self.module, platform, default_cache() if cache else None,
                              printers=[_printer(site) for site in self.print_sites], sharding=sharding)
        except ShardingError as e:
            raise UsageError(str(e)) from None

    def input_leaves(self) -> list[tuple[str, tuple[int, ...]]]:
        """The executable's inputs: each one's name (`x`, `p.1`, `m.layers.2.W`, as `--inputs` and
        shardings spell it) and shape."""
        return [(name, spec.shape) for name, _, spec in self.inputs()]

    def inputs(self) -> list[tuple[str, Value, Any]]:
        """Each input of the executable: its name, the entry's value it passes (its Julia type) and
        its shape and dtype (a jax ShapeDtypeStruct)."""
        runtime = range(len(self.params)) if self.runtime_args is None else self.runtime_args
        leaves = [leaf for i in runtime for leaf in _named_leaves(self.params[i], self.param_names[i])]
        with self.module.context:
            inputs, _ = module_signature(self.module)
        if len(leaves) != len(inputs):
            raise RuntimeError(f"@main takes {len(inputs)} inputs for {len(leaves)} argument leaves")
        return [(name, v, spec) for (name, v), spec in zip(leaves, inputs)]

    def sharding_plan(self, mesh: Mesh, shardings: Mapping[str, tuple[str | None, ...]]) -> ShardingPlan:
        """Where each input goes on `mesh`; UsageError for a sharding that does not fit: an unknown
        parameter or leaf, a wrong number of dimensions, an axis the mesh lacks, a dimension the
        axis does not divide. Prints are refused: a host callback in a partitioned program would
        run on every device with its part of the values."""
        if self.print_sites:
            raise UsageError(f"{self.print_sites[0].span}: this entry prints (println, @show, @printf, ...), "
                             f"which jlhlo runs on one device only: remove the prints to run it on a mesh")
        try:
            return plan(mesh, shardings, self.input_leaves())
        except ShardingError as e:
            raise UsageError(str(e)) from None

    def outputs(self, flat: list[np.ndarray]) -> Any:
        """The entry's result from the executable's outputs; a failed run-time check raises its error."""
        if self.check_sites:
            code = int(np.asarray(flat[-1]))
            if code:
                span, message, notes = self.check_sites[code - 1]
                raise JuliaError(message, span, list(notes))
            flat = flat[:-1]
        return to_host(self.result, iter(flat))


class Function:
    def __init__(self, loaded: LoadedProgram, name: str, check_bounds: bool = True, cache: bool = True,
                 strict_fp: bool = False, vectorize: bool = True, mesh: Mesh | None = None,
                 shardings: Mapping[str, tuple[str | None, ...]] | None = None):
        self.loaded = loaded
        self.name = name
        self.check_bounds = check_bounds
        self.strict_fp = strict_fp
        self.vectorize = vectorize
        self.cache = cache
        self.mesh = mesh                       # None: one device
        self.shardings = dict(shardings or {})
        self._cache: dict[tuple, tuple[Lowered, Executable]] = {}    # by types and specialized values
        self._static: dict[tuple, tuple[int, ...]] = {}     # by types: the arguments specialized on

    def lower(self, *args: Any, optimize_level: int = 2, **optimize_options: Any) -> Lowered:
        lowered = lower_entry(self.loaded.program, self.name, [abstract(a) for a in args],
                              check_bounds=self.check_bounds, strict_fp=self.strict_fp,
                              vectorize=self.vectorize, values=list(args))
        if optimize_level is not None:
            lowered.optimize(optimize_level, **optimize_options)
        return lowered

    def __call__(self, *args: Any, device: str = "cpu") -> Any:
        types = (_frozen(tuple(abstract(a) for a in args)), device)
        static = self._static.get(types, ())
        key = (types, tuple(int(args[i]) for i in static))
        if key not in self._cache:
            lowered = self.lower(*args)
            compiled = (lowered, lowered.compile(device, self.cache, mesh=self.mesh, shardings=self.shardings))
            if lowered.runtime_args is not None:      # specialized on some arguments' values
                static = self._static[types] = tuple(i for i in range(len(args)) if i not in lowered.runtime_args)
                key = (types, tuple(int(args[i]) for i in static))
            self._cache[key] = compiled
        lowered, exe = self._cache[key]
        flat = exe(*lowered.host_inputs(args))
        return lowered.outputs(flat)


def _mesh_and_specs(mesh: Mapping[str, int] | Mesh | None,
                    shardings: Mapping[str, Sequence[str | None]] | None) -> tuple[Mesh | None, dict]:
    """The API's `mesh` and `shardings`, checked for form (UsageError); None without a mesh."""
    if mesh is None:
        if shardings:
            raise UsageError("shardings need a mesh: give mesh={\"data\": 4} (axis name → number of devices)")
        return None, {}
    try:
        return (mesh if isinstance(mesh, Mesh) else Mesh.of(mesh),
                {name: as_spec(spec) for name, spec in (shardings or {}).items()})
    except ShardingError as e:
        raise UsageError(str(e)) from None


def _named_leaves(v: Value, name: str) -> list[tuple[str, Value]]:
    """A parameter's run-time leaves with their names, in the executable's order (`runtime_leaves`):
    tuple items numbered from 1, struct and named-tuple fields by name, as `--inputs` names them."""
    if isinstance(v, TupleV):
        return [leaf for i, item in enumerate(v.items, 1) for leaf in _named_leaves(item, f"{name}.{i}")]
    if isinstance(v, StructV):
        fields = v.t.field_names if isinstance(v.t, StructT) else v.t.names
        return [leaf for f, item in zip(fields, v.items) for leaf in _named_leaves(item, f"{name}.{f}")]
    return [(name, v)] if list(runtime_leaves(v)) else []


def initialize_distributed(coordinator: str, num_processes: int, process_id: int) -> None:
    """Make this process one of `num_processes` whose devices form one set (one mesh spans them):
    call it in every process, with the same `coordinator` (HOST:PORT, where process 0 listens),
    before anything runs. Each process then calls the same functions with the same arguments; each
    copies only its own devices' slices of them, and every process gets the whole results."""
    if num_processes < 1 or not 0 <= process_id < num_processes:
        raise UsageError(f"process id {process_id} of {num_processes} processes: the id is 0 to "
                         f"{num_processes - 1}")
    try:
        xla_bridge.initialize_distributed(coordinator, num_processes, process_id)
    except (RuntimeError, ValueError) as e:
        raise UsageError(f"cannot join the processes at {coordinator}: {e}") from None


# ----------------------------------------------------------------------------- host values <-> types
def _frozen(spec: object) -> object:
    """A hashable form of `abstract`'s result (dicts become tuples of items), for cache keys."""
    if isinstance(spec, tuple):
        return ("tuple",) + tuple(_frozen(x) for x in spec)
    if isinstance(spec, dict):
        return ("dict",) + tuple((k, _frozen(v)) for k, v in spec.items())
    return spec


def abstract(a: Any) -> object:
    """The type structure of a host argument: a JType, or nested tuples/dicts of them."""
    if isinstance(a, tuple):
        return tuple(abstract(x) for x in a)
    if isinstance(a, dict):
        return {k: abstract(v) for k, v in a.items()}
    if isinstance(a, bool):
        return Scalar("Bool")
    if isinstance(a, int):
        return Scalar("Int64")
    if isinstance(a, float):
        return Scalar("Float64")
    if isinstance(a, complex):
        return Scalar("ComplexF64")
    if hasattr(a, "dtype") and hasattr(a, "shape"):
        return type_of_array(np.empty(a.shape, a.dtype))
    raise UsageError(f"cannot pass a {type(a).__name__} to a compiled function (numbers, arrays, tuples, dicts)")


def flatten_host(args: Any, params: list[Value] | None = None) -> list[Any]:
    """The executable's flat inputs for host arguments. Given the entry's parameter values
    (`Lowered.params`), a struct's fields go in the struct's order whatever the dict's order (jax's
    tree functions sort dict keys); without them, in the dict's order."""
    out: list[Any] = []

    def walk(a: Any, v: Value | None) -> None:
        if isinstance(a, tuple):
            for i, x in enumerate(a):
                walk(x, v.items[i] if isinstance(v, TupleV) else None)
        elif isinstance(a, dict):
            if isinstance(v, StructV) and isinstance(v.t, StructT) and set(a) == set(v.t.field_names):
                for name, item in zip(v.t.field_names, v.items):
                    walk(a[name], item)
            else:
                for i, x in enumerate(a.values()):
                    walk(x, v.items[i] if isinstance(v, StructV) else None)
        elif isinstance(a, (bool, int, float, complex)):
            out.append(np.asarray(a, dtype=abstract(a).info.np))     # Julia's Bool, Int64, Float64, ComplexF64
        else:
            out.append(a)
    for i, a in enumerate(args if isinstance(args, tuple) and params is not None else (args,)):
        walk(a, params[i] if params is not None else None)
    return out


def _entry_args(program: Program, methods: list, specs: list[object]) -> tuple[list[Value], object]:
    """The entry's argument values and the method they select. A dict argument becomes the struct
    that a method's annotation names (or, for an abstract type, the one subtype with the dict's
    field names); each method that takes that many arguments is tried in turn, so a struct argument
    works with several methods too. A dict where no annotation names a struct is a named tuple."""
    n = len(specs)
    candidates = [m for m in methods if len(m.patterns) == n or m.vararg]
    tries = [m.patterns for m in candidates] if any(isinstance(s, dict) for s in specs) else []
    first_error, unmatched = None, None
    for patterns in tries + [[None] * n]:
        try:
            args = [_entry_value(program, patterns[i] if i < len(patterns) else None, s, _param_label(candidates, i))
                    for i, s in enumerate(specs)]
        except UsageError as e:
            first_error = first_error or e
            continue
        chosen = select_method(program.universe, methods, [a.t for a in args])
        if chosen is not None:             # a method, or the candidates of an ambiguity
            return args, chosen
        unmatched = unmatched or args
    if first_error is not None:            # a dict without the fields of the struct a method names
        raise first_error
    return unmatched, None


def _struct_for_dict(program: Program, pattern, names: tuple[str, ...], where: str) -> str | None:
    """The struct a dict argument with fields `names` stands for where the parameter's annotation
    is `pattern`: the struct it names, or the one struct under the abstract type it names whose
    fields are those names. None: no struct (the dict is a named tuple)."""
    universe = program.universe
    while isinstance(pattern, PTypeVar):
        pattern = pattern.upper
    if isinstance(pattern, PStruct) and pattern.name in universe.structs:
        info = universe.structs[pattern.name]
        if set(names) != set(info.field_names):
            raise UsageError(f"{where}: struct {pattern.name} has fields {', '.join(info.field_names)}; "
                             f"got {', '.join(names)}")
        return pattern.name
    members = pattern.members if isinstance(pattern, PUnion) else (pattern,)
    abstract = [m.name for m in members if isinstance(m, PAbstract) and m.name in universe.abstract_parents]
    structs = [m.name for m in members if isinstance(m, PStruct)]
    fits = [s for s, info in universe.structs.items()
            if set(info.field_names) == set(names)
            and (s in structs or any(a in universe.abstract_chain(info.supertype) for a in abstract))]
    if len(fits) > 1:
        raise UsageError(f"{where}: a dict with fields {', '.join(names) or '(none)'} could be any of "
                         f"{', '.join(fits)}; pass it to a method whose annotation names one of them")
    return fits[0] if fits else None


def _entry_value(program: Program, pattern, spec: object, where: str) -> Value:
    """A runtime value (no IR yet) of the shape `spec` describes, for an entry parameter."""
    if isinstance(spec, Scalar):
        return ScalarV(spec, None, None)
    if isinstance(spec, Specialized):
        return ScalarV(spec.t, spec.value)
    if isinstance(spec, ArrayT):
        return ArrayV(spec, Box(None))
    if isinstance(spec, tuple):
        items = tuple(_entry_value(program, None, s, f"{where}.{i + 1}") for i, s in enumerate(spec))
        return TupleV(TupleT(tuple(i.t for i in items)), items)
    if isinstance(spec, dict):
        names = tuple(spec)
        struct = _struct_for_dict(program, pattern, names, where) if pattern is not None else None
        if struct is None:
            items = tuple(_entry_value(program, None, s, f"{where}.{k}") for k, s in spec.items())
            return StructV(NamedTupleT(names, tuple(i.t for i in items)), items)
        info = program.universe.structs[struct]
        typevars = {tv.name: PTypeVar(tv.name, program.universe.pattern(tv.upper, {})) for tv in info.typevars}
        items = tuple(_entry_value(program, program.universe.pattern(ft, typevars) if ft is not None else None,
                                   spec[f], f"{where}.{f}") for f, ft in zip(info.field_names, info.field_types))
        return _struct_value(program, struct, list(items))
    raise UsageError(f"{where}: unsupported input")


def _struct_value(program: Program, name: str, items: list[Value]) -> Value:
    info = program.universe.structs[name]
    t = StructT(name, _struct_params(program, name, items), tuple(info.field_names), tuple(i.t for i in items))
    if info.node is not None and info.node.mutable:      # number fields live in cells (frontend/mutable.py)
        items = [ArrayV(ArrayT(i.t, ()), Box(None)) if isinstance(i, ScalarV) else i for i in items]
    return StructV(t, tuple(items))


def _struct_params(program: Program, name: str, items: list[Value]) -> tuple:
    from .frontend.dispatch import PAny, PTypeVar
    info = program.universe.structs[name]
    typevars = {tv.name: PTypeVar(tv.name, program.universe.pattern(tv.upper, {})) for tv in info.typevars}
    env: dict[str, object] = {}
    for ftype, v in zip(info.field_types, items):
        pat = program.universe.pattern(ftype, typevars) if ftype is not None else PAny()
        program.universe.matches(pat, v.t, env)
    return tuple(env.get(tv.name) for tv in info.typevars)


def entry_param_names(program: Program, name: str) -> list[list[str | None]]:
    return [m.param_names for m in program.methods.get(name, []) if m.origin == "user"]


@dataclass(frozen=True)
class LowerOptions:
    check_bounds: bool = True          # run-time index checks
    strict_fp: bool = False            # loops keep floating-point `+`/`*` folds in source order
    vectorize: bool = True             # loop nests may run as array operations (False: every loop sequential)


def lower_entry(program: Program, name: str, specs: list[object], *, check_bounds: bool = True,
                strict_fp: bool = False, vectorize: bool = True, values: list[Any] | None = None) -> Lowered:
    """Lower the entry `name` for arguments described by `specs` (JTypes, nested tuples/dicts);
    run-time index checks are emitted unless `check_bounds` is False; a loop's floating-point sum
    or product is reordered (lowered as one reduction) unless `strict_fp`, and no loop is lowered as
    array operations if not `vectorize`. Given the arguments' `values`
    (None where unknown), an integer argument whose value decides an array size (`zeros(n)`) is
    compiled in as that value: see `Lowered.specialized`."""
    t0 = time.perf_counter()
    options = LowerOptions(check_bounds, strict_fp, vectorize)
    with _without_gc():
        try:
            return _on_deep_stack(_lower_entry, program, name, specs, options)
        except StaticValueNeeded as need:
            lowered = _specialize(program, name, specs, values or [], options, need)
            lowered.timings["infer+lower"] = time.perf_counter() - t0
            return lowered


def _specialize(program: Program, name: str, specs: list[object], values: list[Any], options: LowerOptions,
                need: StaticValueNeeded) -> Lowered:
    """Lower again with integer arguments compiled in as their values: first all of them, then
    without each one in turn where that still works, so only those a size needs are specialized
    (`lowered` always belongs to the current `chosen`: a failed attempt changes neither)."""
    labels = [_param_label([m for m in program.methods.get(name, []) if m.origin == "user"], i)
              for i in range(len(specs))]
    candidates = [i for i, s in enumerate(specs) if isinstance(s, Scalar) and s.info.kind in ("int", "uint")
               and i < len(values) and values[i] is not None]
    if not candidates:
        integers = [labels[i] for i, s in enumerate(specs) if isinstance(s, Scalar) and s.info.kind in ("int", "uint")]
        if integers:
            need.notes.append(f"jlhlo specializes on the value of an integer argument ({', '.join(integers)}) "
                              f"when it is given: pass the arguments (--inputs, or --args Int64=8 on the command "
                              f"line, or call the function from Python)")
        raise need

    def attempt(chosen: set[int]) -> Lowered:
        trial = [Specialized(s, int(values[i])) if i in chosen else s for i, s in enumerate(specs)]
        return _on_deep_stack(_lower_entry, program, name, trial, options)
    chosen = set(candidates)
    try:
        lowered = attempt(chosen)
    except StaticValueNeeded:
        raise need from None           # the size does not come from an integer argument
    reasons = {candidates[0]: need} if len(candidates) == 1 else {}
    for i in candidates if len(candidates) > 1 else ():
        try:
            lowered = attempt(chosen - {i})
            chosen.discard(i)
        except StaticValueNeeded as e:
            reasons[i] = e
    lowered.specialized = [(labels[i], int(values[i]), _why(program, reasons[i])) for i in sorted(chosen)]
    lowered.runtime_args = [i for i in range(len(specs)) if i not in chosen]
    return lowered


# Lowering recurses through the program's call graph (one specialization inside another): a chain
# of a thousand calls needs far more stack than Python's default, so lowering runs on a thread with
# a large stack and a raised recursion limit.
_STACK_BYTES = 512 * 1024 * 1024
_RECURSION_LIMIT = 200_000


def _on_deep_stack(fn, *args: Any) -> Any:
    outcome: dict[str, Any] = {}

    def target() -> None:
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, _RECURSION_LIMIT))
        try:
            outcome["value"] = fn(*args)
        except BaseException as exc:     # noqa: BLE001 - re-raised on the calling thread
            outcome["error"] = exc
        finally:
            sys.setrecursionlimit(limit)
    old = threading.stack_size()
    threading.stack_size(_STACK_BYTES)
    try:
        worker = threading.Thread(target=target, name="jlhlo-lower")
        worker.start()
    finally:
        threading.stack_size(old)
    worker.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _lower_entry(program: Program, name: str, specs: list[object], options: LowerOptions) -> Lowered:
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    ctx = xla_bridge.make_context()
    with ctx, ir.Location.unknown():
        methods = [m for m in program.methods.get(name, [])]
        if not methods:
            raise UsageError(f"no function `{name}` is defined in {program.filename}")
        args, chosen = _entry_args(program, methods, specs)
        if chosen is None or isinstance(chosen, list):
            shown = ", ".join("::" + a.t.julia() for a in args)
            cands = "\n".join("  " + m.signature() for m in methods)
            if isinstance(chosen, list):
                raise JuliaError(f"MethodError: {name}({shown}) is ambiguous. Candidates:\n{cands}",
                                 chosen[0].fdef.span)
            raise JuliaError(f"MethodError: no method matching {name}({shown})\nClosest candidates are:\n{cands}",
                             methods[0].fdef.span)
        method, bindings = chosen
        mod = ModuleLowering(program, ctx, differentiate=build_vjp, check_bounds=options.check_bounds,
                             reassociate=not options.strict_fp, vectorize=options.vectorize)
        result = mod.specialize(method, args, {}, None, public_name="main", bindings=bindings).result
        thread_rng_state(mod.module)       # a program that calls Random.seed!: its draws from one state
        timings["infer+lower"] = time.perf_counter() - t0
        if not mod.module.operation.verify():
            raise RuntimeError("the lowered module does not verify")
    names = _param_names(method, len(args))
    return Lowered(mod.module, result, mod.typed_log, timings, check_sites=list(mod.check_sites), params=args,
                   loop_notes=list(mod.loop_notes), print_sites=list(mod.print_sites), param_names=names)


def _param_names(method, n: int) -> list[str]:
    """Names for the entry's `n` arguments: the parameter's, `xs.1`, `xs.2` for those a vararg
    `xs...` gathers (a tuple in Julia), `arg3` for an unnamed one (`::Int`)."""
    names = list(method.param_names)
    if method.vararg and names:
        gather = names.pop()
        names += [f"{gather}.{k}" if gather else None for k in range(1, n - len(names) + 1)]
    return [(names[i] if i < len(names) else None) or f"arg{i + 1}" for i in range(n)]


def _printer(site: PrintSite) -> Printer:
    """The host side of one print site: its text, with the values of this run, to stdout or stderr."""
    def write(values: list[np.ndarray]) -> None:
        flat = iter(values)
        text = "".join(p if isinstance(p, str) else printed(p.template, to_host(p.template, flat), p.how)
                       for p in site.pieces)
        stream = sys.stderr if site.stream == "stderr" else sys.stdout
        stream.write(text)
        stream.flush()
    return write


def _why(program: Program, err: StaticValueNeeded) -> str:
    """`zeros(n)` at f.jl:3:9 — the message: the construct that needs an argument's value."""
    span, first = err.span, err.message.partition("\n")[0]
    if span is None:
        return first
    lines = program.sources.get(span.file, "").splitlines()
    text = lines[span.line - 1] if 0 < span.line <= len(lines) else ""
    end = span.end_col if span.end_line == span.line and span.end_col > span.col else len(text) + 1
    snippet = text[span.col - 1:end - 1].strip()
    return (f"`{snippet}` at {span}" if snippet else str(span)) + f" ({first})"


def _param_label(methods, i: int) -> str:
    for m in methods:
        if i < len(m.param_names) and m.param_names[i]:
            return m.param_names[i]
    return f"argument {i + 1}"


def to_host(v: Value, flat, leaf: Callable[[Any], Any] = np.asarray) -> Any:
    """Rebuild the entry's result from the executable's flat outputs: tuples stay tuples, structs
    and named tuples become dicts (field order kept), numbers are 0-d arrays; `leaf` makes each
    array (NumPy by default; `to_jax` keeps jax arrays)."""
    if isinstance(v, (ArrayV, ScalarV)):
        return leaf(next(flat))
    if isinstance(v, TupleV):
        return tuple(to_host(i, flat, leaf) for i in v.items)
    if isinstance(v, StructV):
        names = v.t.field_names if isinstance(v.t, StructT) else v.t.names
        return {n: to_host(i, flat, leaf) for n, i in zip(names, v.items)}
    if isinstance(v, StructArrayV):
        columns = [to_host(i, flat, leaf) for i in v.items]
        if leaf is np.asarray:         # an array of records: ps[0] is the first element
            return _records(v.t, columns)
        return _columns(v.t.elt, iter(columns))
    if isinstance(v, MaybeV):          # Union{Nothing, T}: None, or the T
        present = bool(np.asarray(to_host(v.present, flat, leaf)))
        value = to_host(v.value, flat, leaf)
        return value if present else None
    if list(runtime_leaves(v)):
        raise UsageError(f"the entry returns a {v.t.julia()}, which cannot be passed back to Python "
                         f"(return numbers, arrays, tuples, named tuples or structs)")
    return None                        # nothing, functions, types: no runtime value


def _field_names(t: JType) -> list[str]:
    """The names of an element's parts: a struct's fields, a named tuple's names, `f0`, `f1`... for a
    tuple's items (NumPy's names)."""
    if isinstance(t, StructT):
        return list(t.field_names)
    if isinstance(t, NamedTupleT):
        return list(t.names)
    return [f"f{k}" for k in range(len(t.items))]


def _parts(t: JType) -> tuple[JType, ...]:
    return t.field_types if isinstance(t, StructT) else t.items


def _record_dtype(t: JType, columns: Iterator[np.ndarray]) -> np.dtype:
    if isinstance(t, Scalar):
        return next(columns).dtype
    return np.dtype([(name, _record_dtype(u, columns)) for name, u in zip(_field_names(t), _parts(t))])


def _records(t: ArrayT, columns: list[np.ndarray]) -> np.ndarray:
    """An array of tuples or structs (stored as one array per number) as a NumPy structured array."""
    out = np.empty(t.shape, _record_dtype(t.elt, iter(columns)))
    it = iter(columns)

    def fill(view: np.ndarray, u: JType) -> None:
        if isinstance(u, Scalar):
            view[...] = next(it)
        for name, part in ([] if isinstance(u, Scalar) else zip(_field_names(u), _parts(u))):
            fill(view[name], part)
    fill(out, t.elt)
    return out


def _columns(t: JType, columns: Iterator[Any]) -> Any:
    """An array of tuples or structs as the element's structure with an array per number."""
    if isinstance(t, Scalar):
        return next(columns)
    parts = [_columns(u, columns) for u in _parts(t)]
    return tuple(parts) if isinstance(t, TupleT) else dict(zip(_field_names(t), parts))


def input_specs_from_npz(program: Program, entry: str, grouped: dict[str, Any]) -> tuple[list[object], list[Any]]:
    """The entry's argument types and values, from `--inputs` grouped by parameter name."""
    names_options = entry_param_names(program, entry)
    for names in names_options:
        if set(n for n in names if n) == set(grouped) and all(n for n in names):
            return [abstract(grouped[n]) for n in names], [grouped[n] for n in names]
    expected = " or ".join("(" + ", ".join(str(n) for n in names) + ")" for names in names_options)
    raise UsageError(f"--inputs has keys {sorted(grouped)}; the parameters of `{entry}` are {expected}")


__all__ = ["load", "LoadedProgram", "Function", "Lowered", "UsageError", "initialize_distributed", "lower_entry",
           "to_host"]
