"""The one module that touches non-public jax/jaxlib entry points, so a jax upgrade changes one file.

Everything else in jlhlo goes through these functions: an MLIR context with the StableHLO dialect
and passes, module serialization, PJRT backends, compilation and execution.
"""
from __future__ import annotations

import functools
import os
import platform as host_platform
import re

import jax
import numpy as np
from jax._src.interpreters import mlir as jax_mlir
from jax._src.lib import mosaic_gpu_dialect, xla_client
from jax.extend import backend as jax_backend
from jax.extend.mlir import ir
from jax.extend.mlir.dialects import stablehlo

Client = xla_client.Client
LoadedExecutable = xla_client.LoadedExecutable


class DeviceUnavailable(RuntimeError):
    """The requested platform (cpu, gpu, tpu) has no device in this process."""


@functools.cache
def _register_passes() -> None:
    stablehlo.register_stablehlo_passes()


def make_context() -> ir.Context:
    """A fresh MLIR context with every dialect jax uses loaded and the StableHLO passes registered."""
    _register_passes()
    context = jax_mlir.make_ir_context()
    # jax's contexts lack the func dialect's inliner interface, without which the upstream `inline`
    # pass silently leaves every func.call in place. jaxlib exposes that registration only through
    # its Mosaic GPU dialect module, which registers the upstream inliner interfaces.
    mosaic_gpu_dialect.register_inliner_extensions(context)
    return context


def module_to_bytecode(module: ir.Module) -> bytes:
    """The module as MLIR bytecode, the form PJRT compiles."""
    return jax_mlir.module_to_bytecode(module)


def get_backend(platform: str) -> Client:
    """The PJRT client for `platform` ("cpu", "gpu" or "tpu"); raises DeviceUnavailable if absent."""
    try:
        return jax_backend.get_backend(platform)
    except RuntimeError as e:
        raise DeviceUnavailable(f"no {platform} device available: {e}") from e


def default_device(platform: str) -> jax.Device:
    """The device a single-device executable for `platform` runs on."""
    return get_backend(platform).devices()[0]


def compile(bytecode: bytes, platform: str, devices: list[jax.Device] | None = None) -> LoadedExecutable:
    """Compile a StableHLO module (bytecode) for one device of `platform`, or, given `devices`, for
    those devices as one SPMD program: one partition each, split by XLA's partitioner as the
    module's Shardy annotations say (runtime/sharding.py).

    XLA's CPU fusion emitters fail on some loop fusions with "Unknown MLIR failure" (difftest seed
    30240058780 after `unroll`); that module is compiled again with XLA's older emitters."""
    try:
        return _compile(bytecode, platform, devices, [])
    except jax.errors.JaxRuntimeError as e:
        if platform != "cpu" or "Unknown MLIR failure" not in str(e):
            raise
        return _compile(bytecode, platform, devices, [("xla_cpu_use_fusion_emitters", False)])


def _compile(bytecode: bytes, platform: str, devices: list[jax.Device] | None,
             overrides: list[tuple[str, object]]) -> LoadedExecutable:
    backend = get_backend(platform)
    if devices is None:
        devices = [default_device(platform)]
        options = jax_backend.get_compile_options(num_replicas=1, num_partitions=1)
    else:
        options = jax_backend.get_compile_options(num_replicas=1, num_partitions=len(devices),
                                                  device_assignment=np.array([[d.id for d in devices]]))
        options.executable_build_options.use_spmd_partitioning = True
    if overrides:
        options.env_option_overrides = overrides
    try:
        return backend.compile_and_load(bytecode, xla_client.DeviceList(tuple(devices)), options)
    except TypeError:  # jaxlib versions that take a plain list of devices
        return backend.compile_and_load(bytecode, devices, options)


def compile_with_callbacks(module: ir.Module, platform: str, callbacks: list) -> LoadedExecutable:
    """Compile `module` whose custom calls reach Python: callback `i` answers the call with `index = i`."""
    backend = get_backend(platform)
    options = jax_backend.get_compile_options(num_replicas=1, num_partitions=1)
    with module.context:
        return backend.compile_and_load(module, executable_devices=xla_client.DeviceList((default_device(platform),)),
                                        compile_options=options, host_callbacks=callbacks)


def serialize_executable(exe: LoadedExecutable) -> bytes:
    """The compiled executable as bytes (PJRT's own format), for the persistent compile cache."""
    return exe.client.serialize_executable(exe)


def deserialize_executable(data: bytes, platform: str, devices: list[jax.Device] | None = None) -> LoadedExecutable:
    """An executable that `serialize_executable` wrote, loaded onto the devices `compile` used (by
    default its one device); raises on bytes PJRT cannot read (an entry written by another XLA
    build, a damaged file)."""
    chosen = xla_client.DeviceList(tuple(devices) if devices is not None else (default_device(platform),))
    return get_backend(platform).deserialize_executable(data, chosen)


def assignment_identity(devices: list[jax.Device]) -> str:
    """What a partitioned executable depends on besides its module and `compiler_identity`: which
    devices run its partitions, and in which process of how many this one is."""
    return f"devices {[d.id for d in devices]}; process {process_index()} of {process_count()}"


@functools.cache
def compiler_identity(platform: str) -> str:
    """What an executable compiled here depends on besides its module: the jaxlib build, the PJRT
    platform and its version, the device kind, and for the CPU the host's instruction set (XLA
    compiles for the features of the CPU it runs on, so a cache shared between machines must not
    hand one machine's code to another)."""
    backend = get_backend(platform)
    identity = f"jaxlib {jax.lib.__version__}; {backend.platform} {backend.platform_version}; " \
               f"{default_device(platform).device_kind}; XLA_FLAGS={os.environ.get('XLA_FLAGS', '')}"
    if platform == "cpu":
        identity += f"; {host_platform.machine()} {_cpu_flags()}"
    return identity


def _cpu_flags() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            return next((line.split(":", 1)[1].strip() for line in fh if line.startswith("flags")), "")
    except OSError:                    # not Linux: the machine name above is what is known
        return ""


def execute(exe: LoadedExecutable, args: list[jax.Array]) -> list[jax.Array]:
    """Run `exe` on arguments already on its device; the outputs stay there."""
    return exe.execute(args)


def execute_sharded(exe: LoadedExecutable, args: list[jax.Array]) -> list[list[jax.Array]]:
    """Run a partitioned `exe` on global arrays laid out as it takes them; per output, its shards on
    this process's devices."""
    return exe.execute_sharded(args).disassemble_into_single_device_arrays()


def global_devices(platform: str) -> list[jax.Device]:
    """Every device of `platform`, those of other processes included (after `initialize_distributed`)."""
    return list(get_backend(platform).devices())


def process_index() -> int:
    return jax.process_index()


def process_count() -> int:
    return jax.process_count()


def initialize_distributed(coordinator: str, num_processes: int, process_id: int) -> None:
    """Join the devices of `num_processes` processes into one set, through XLA's distributed
    runtime (a coordination service that process 0 starts at `coordinator`, HOST:PORT). It must run
    before anything uses a backend. Collectives between processes go through gloo on the CPU (on
    GPUs, NCCL, which XLA picks itself)."""
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(coordinator, num_processes=num_processes, process_id=process_id)


def optimized_hlo_text(exe: LoadedExecutable) -> str:
    """XLA's HLO after its own optimizations, as text."""
    return "\n".join(module.to_string() for module in exe.hlo_modules())


# An HLO instruction line: `%name = type op(...)`, optionally `ROOT`.
_INSTRUCTION = re.compile(r"^\s*(ROOT\s+)?%\S+\s*=", re.MULTILINE)


def hlo_instruction_count(exe: LoadedExecutable) -> int:
    """The number of instructions in XLA's optimized HLO, fused computations included."""
    return len(_INSTRUCTION.findall(optimized_hlo_text(exe)))
