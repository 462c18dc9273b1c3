"""A compiled StableHLO module that takes host or device values and returns NumPy arrays."""
from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import jax
import numpy as np
from jax.extend.mlir import ir

from ..core.dtypes import numpy_dtype
from ..mlir_passes.effects import has_host_calls, thread_host_calls
from . import xla_bridge
from .cache import CompileCache
from .sharding import Placement, ShardingError, ShardingPlan, annotated, without_hints


@dataclass(frozen=True)
class TensorSpec:
    """The shape and dtype of one parameter or result of `@main`."""

    shape: tuple[int, ...]
    dtype: np.dtype

    def __str__(self) -> str:
        return f"{self.dtype} scalar" if not self.shape else f"{self.dtype}[{','.join(map(str, self.shape))}]"


def _spec(t: ir.Type) -> TensorSpec:
    tensor = ir.RankedTensorType(t)
    dtype = numpy_dtype(tensor.element_type)
    if dtype is None or not tensor.has_static_shape:
        raise TypeError(f"@main takes or returns {t}, which the runtime cannot exchange with NumPy")
    return TensorSpec(tuple(tensor.shape), dtype)


def module_signature(module: ir.Module) -> tuple[list[TensorSpec], list[TensorSpec]]:
    for op in module.body.operations:
        # `.operation`: the func.func op view's own `name` is its symbol.
        if op.operation.name == "func.func" and ir.StringAttr(op.attributes["sym_name"]).value == "main":
            ft = ir.FunctionType(ir.TypeAttr(op.attributes["function_type"]).value)
            return [_spec(t) for t in ft.inputs], [_spec(t) for t in ft.results]
    raise ValueError("the module has no @main function")


# Compiling is by far the slowest step, and the frontend emits the same module again for every
# call with the same types: the most recently used executables are kept, by (module, platform,
# devices of a partitioned one).
_COMPILED: OrderedDict[tuple[str, str, str], xla_bridge.LoadedExecutable] = OrderedDict()
_COMPILED_KEPT = 64

# Python scalars carry no width. Like JAX's weak types, they take the parameter's dtype when their
# kind (bool, integer, float, complex) fits it; NumPy values must match exactly.
_PYTHON_SCALAR_KINDS = {bool: "b", int: "iu", float: "f", complex: "c"}


class Executable:
    """`@main` of a StableHLO module compiled for one device of `platform`, or partitioned over a
    mesh of its devices (`sharding`).

    Call it with one value per parameter: NumPy arrays or scalars, Python scalars, or jax arrays
    (used where they are, without a trip through the host, when already on the right device or laid
    out as the mesh takes them).
    """

    def __init__(self, module: ir.Module, platform: str = "cpu", cache: CompileCache | None = None,
                 printers: list[Printer] | None = None, sharding: ShardingPlan | None = None):
        """Compile `module`, or take it from this process's recent executables or from `cache` on
        disk; `cache_outcome` says which: `memory`, `hit`, `miss`, `corrupt` (an entry rebuilt), or
        `off` (compiled, no disk cache given). A module that prints (`custom_call @jlhlo.print`,
        see frontend/printing.py) needs `printers`, one per print site by index: it is compiled
        with them as host callbacks, each time (an executable holds its callbacks).

        With `sharding`, the module is compiled as one SPMD program over the mesh's devices (see
        runtime/sharding.py): inputs are split as the plan says, results come back replicated.
        Raises ShardingError where the platform has too few devices."""
        self.platform = platform
        self.device = xla_bridge.default_device(platform)
        self.placement = None if sharding is None else Placement(sharding, platform)
        with module.context:
            self.inputs, self.outputs = module_signature(module)
            prints = has_host_calls(module)
        if prints and sharding is not None:
            # A host callback in a partitioned program would run once per device, on its part of
            # the values; the driver refuses such an entry first, naming the print.
            raise ShardingError("a module that prints cannot be partitioned over a mesh")
        if sharding is None:           # `with_sharding_constraint` means nothing on one device
            module = without_hints(module)
        if prints:
            if printers is None:
                raise ValueError("the module prints: give the printers of its print sites")
            self.output = HostOutput(printers)
            self.cache_outcome = "off"
            self.loaded = xla_bridge.compile_with_callbacks(_threaded(module, platform), platform,
                                                            self.output.callbacks())
            return
        self.output = None
        devices = None if self.placement is None else self.placement.devices
        # The plan is in the module itself (its Shardy attributes), so the bytecode keys it.
        bytecode = xla_bridge.module_to_bytecode(module if sharding is None else annotated(module, sharding))
        key = (hashlib.sha256(bytecode).hexdigest(), platform,
               "" if devices is None else xla_bridge.assignment_identity(devices))
        self.cache_outcome = "memory"
        if key not in _COMPILED:
            if cache is None:
                _COMPILED[key], self.cache_outcome = xla_bridge.compile(bytecode, platform, devices), "off"
            else:
                _COMPILED[key], self.cache_outcome = cache.compile(bytecode, platform, devices)
            if len(_COMPILED) > _COMPILED_KEPT:
                _COMPILED.popitem(last=False)
        _COMPILED.move_to_end(key)
        self.loaded = _COMPILED[key]

    def __call__(self, *args: object) -> list[np.ndarray]:
        """Run on `args`; one NumPy array per result (0-d for a scalar)."""
        # A copy: np.asarray would give a read-only view of the device buffer, and results are the
        # caller's own arrays, free to mutate as in Julia. A partitioned executable's results are
        # replicated: any device's copy (one of this process's) is the whole value.
        return [np.array(out.addressable_data(0)) for out in self.call_device(*args)]

    def call_device(self, *args: object) -> list[jax.Array]:
        """Run on `args`, leaving the results on the device (on a mesh: global arrays, replicated)."""
        on_device = self.put(*args)
        if self.output is not None:
            self.output.start()
        if self.placement is not None:
            shards = xla_bridge.execute_sharded(self.loaded, on_device)
            return self.placement.results(shards, [spec.shape for spec in self.outputs])
        return xla_bridge.execute(self.loaded, on_device)

    def put(self, *args: object) -> list[jax.Array]:
        """`args` where `call_device` takes them (on a mesh: global arrays split as the plan says),
        to keep them there between calls."""
        if len(args) != len(self.inputs):
            raise TypeError(f"expected {len(self.inputs)} arguments, got {len(args)}")
        return [self._to_device(i, value, spec) for i, (value, spec) in enumerate(zip(args, self.inputs))]

    def xla_hlo_text(self) -> str:
        """XLA's optimized HLO for this executable."""
        return xla_bridge.optimized_hlo_text(self.loaded)

    def _to_device(self, index: int, value: object, spec: TensorSpec) -> jax.Array:
        if isinstance(value, jax.Array):
            _check(index, TensorSpec(value.shape, value.dtype), spec)
            if self.placement is not None:
                return self.placement.adopt(index, value)
            return value if value.devices() == {self.device} else jax.device_put(value, self.device)
        kinds = _PYTHON_SCALAR_KINDS.get(type(value))
        try:
            host = np.asarray(value, dtype=spec.dtype if kinds and spec.dtype.kind in kinds else None)
        except OverflowError as e:
            raise TypeError(f"argument {index}: {e}") from e
        _check(index, TensorSpec(host.shape, host.dtype), spec)
        if self.placement is not None:
            return self.placement.put(index, host)
        return jax.device_put(host, self.device)


# A print site's writer: the values it shows -> None; it writes the text.
Printer = Callable[[list[np.ndarray]], None]


class HostOutput:
    """The host side of a run's prints: each print calls its site's printer in program order, until
    one reports a failed check (a nonzero error code), after which Julia would have thrown and
    printed nothing more."""

    def __init__(self, printers: list[Printer]):
        self.printers = printers
        self.stopped = False

    def start(self) -> None:
        self.stopped = False

    def callbacks(self) -> list[Callable]:
        def site(printer: Printer) -> Callable:
            def callback(token: object, err: np.ndarray, *values: np.ndarray) -> tuple:
                if not self.stopped:
                    if int(err):
                        self.stopped = True
                    else:
                        printer([np.asarray(v) for v in values])
                return (token,)
            return callback
        return [site(p) for p in self.printers]


def _threaded(module: ir.Module, platform: str) -> ir.Module:
    """A copy of `module` whose prints are ordered by a token and call the platform's Python callback."""
    with module.context:
        copy = ir.Module.parse(module.operation.get_asm(enable_debug_info=True))
    target = "xla_ffi_python_gpu_callback" if platform == "gpu" else "xla_ffi_python_cpu_callback"
    thread_host_calls(copy, target)
    return copy


def _check(index: int, got: TensorSpec, expected: TensorSpec) -> None:
    if got != expected:
        raise TypeError(f"argument {index}: expected {expected}, got {got}")
