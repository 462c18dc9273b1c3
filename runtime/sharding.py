"""One executable over a mesh of devices, partitioned by XLA's SPMD partitioner.

jlhlo has no distribution layer of its own. A `ShardingPlan` names a device mesh (`data=4,model=2`)
and, for each flat input of `@main`, which mesh axis splits each dimension (the rest is whole on
every device). `annotated` writes the plan into a copy of the optimized module as Shardy attributes
(`sdy.mesh`, an `sdy.sharding` on every argument and result) just before XLA compiles it with one
partition per device; XLA propagates the shardings through the program and inserts the collectives
(the all-reduce of a gradient summed over a split batch). Results are replicated: every device, so
every process, ends with the whole value, which is what the one-device path returns.

A `Placement` binds a plan to the devices of a platform (of all processes, after
`xla_bridge.initialize_distributed`): the `jax.sharding.NamedSharding` of each input, and the global
arrays built from the slices of a host value that this process's own devices hold.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import jax
import numpy as np
from jax.extend.mlir import ir

from ..core.ops import SHARDING_TARGET
from ..mlir_passes.rewrite import collect_ops
from . import xla_bridge

# Per dimension of an array: the mesh axis that splits it, or None where every device holds it whole.
Spec = tuple[str | None, ...]

# Axis names go into Shardy attribute text: plain identifiers only.
_AXIS_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class ShardingError(ValueError):
    """A mesh or sharding that cannot apply to the entry or to this machine (bad usage)."""


@dataclass(frozen=True)
class Mesh:
    """Named mesh axes and their sizes, in order (the device array is their row-major product)."""

    axes: tuple[tuple[str, int], ...]

    @classmethod
    def of(cls, mesh: Mapping[str, int] | str) -> Mesh:
        """From `{"data": 4}` or the CLI's `data=4,model=2`."""
        if isinstance(mesh, str):
            pairs = []
            for part in mesh.split(","):
                name, eq, size = part.strip().partition("=")
                if not eq or not size.strip().lstrip("-").isdigit():
                    raise ShardingError(f"mesh {mesh!r}: expected AXIS=SIZE[,AXIS=SIZE...], e.g. data=4,model=2")
                pairs.append((name.strip(), int(size)))
        else:
            pairs = list(mesh.items())
        if not pairs:
            raise ShardingError("the mesh has no axes: give at least one, e.g. data=4")
        for name, size in pairs:
            if not isinstance(name, str) or not _AXIS_NAME.match(name):
                raise ShardingError(f"mesh axis name {name!r}: use letters, digits and _ (e.g. data, model)")
            if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
                raise ShardingError(f"mesh axis `{name}` has size {size!r}: a size is a positive integer")
        names = [name for name, _ in pairs]
        if len(set(names)) != len(names):
            raise ShardingError(f"mesh {cls._text(pairs)}: an axis is named twice")
        return cls(tuple((name, int(size)) for name, size in pairs))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.axes)

    @property
    def sizes(self) -> tuple[int, ...]:
        return tuple(size for _, size in self.axes)

    @property
    def size(self) -> int:
        """The number of devices the mesh takes."""
        return int(np.prod(self.sizes))

    def __str__(self) -> str:
        return self._text(self.axes)

    @staticmethod
    def _text(pairs: Sequence[tuple[str, int]]) -> str:
        return ",".join(f"{name}={size}" for name, size in pairs)


def parse_spec(text: str) -> Spec:
    """The CLI's `_,_,_,data`: one entry per dimension, a mesh axis or `_` (not split); `` is a scalar's."""
    if not text.strip():
        return ()
    return tuple(None if part.strip() == "_" else part.strip() for part in text.split(","))


def as_spec(spec: Sequence[str | None] | str) -> Spec:
    """An API sharding (`(None, "data")`, or the CLI's text form) as a Spec."""
    if isinstance(spec, str):
        return parse_spec(spec)
    items = tuple(spec)
    if not all(a is None or isinstance(a, str) for a in items):
        raise ShardingError(f"sharding {spec!r}: give per dimension a mesh axis name or None")
    return items


@dataclass(frozen=True)
class ShardingPlan:
    """A mesh, and the Spec of each flat input of `@main` (replicated: all None)."""

    mesh: Mesh
    inputs: tuple[Spec, ...]


def plan(mesh: Mesh, shardings: Mapping[str, Spec], leaves: Sequence[tuple[str, tuple[int, ...]]]) -> ShardingPlan:
    """The plan for an entry whose flat inputs are `leaves` (name as the CLI's `--inputs` spells it,
    shape), given Specs by leaf name; a leaf no Spec names is replicated. Each Spec must name a leaf,
    have one entry per dimension, use axes of the mesh (each at most once), and split only dimensions
    that its axis's size divides (partitions of unequal size would need padding, which XLA's
    partitioner does but which the host's slicing of inputs here does not)."""
    index = {name: i for i, (name, _) in enumerate(leaves)}
    specs: list[Spec] = [(None,) * len(shape) for _, shape in leaves]
    sizes = dict(mesh.axes)
    for name, spec in shardings.items():
        if name not in index:
            raise ShardingError(_unknown_leaf(name, [leaf for leaf, _ in leaves]))
        shape = leaves[index[name]][1]
        if len(spec) != len(shape):
            kind = "a scalar" if not shape else f"an array of size {'×'.join(map(str, shape))}"
            raise ShardingError(f"sharding of `{name}`: it is {kind} with {len(shape)} dimension(s); the "
                                f"sharding gives {len(spec)} ({_spec_text(spec) or 'none'})")
        used: set[str] = set()
        for dim, (axis, extent) in enumerate(zip(spec, shape), start=1):
            if axis is None:
                continue
            if axis not in sizes:
                raise ShardingError(f"sharding of `{name}`: the mesh {mesh} has no axis `{axis}`")
            if axis in used:
                raise ShardingError(f"sharding of `{name}`: axis `{axis}` splits two dimensions")
            used.add(axis)
            if extent % sizes[axis]:
                raise ShardingError(f"sharding of `{name}`: dimension {dim} has size {extent}, which the "
                                    f"{sizes[axis]} devices of axis `{axis}` do not divide")
        specs[index[name]] = spec
    return ShardingPlan(mesh, tuple(specs))


def _unknown_leaf(name: str, names: list[str]) -> str:
    inside = [leaf for leaf in names if leaf.startswith(name + ".")]
    if inside:
        return (f"sharding of `{name}`: it is a tuple or struct; shard its arrays one by one "
                f"({_listing(inside)})")
    return f"sharding of `{name}`: the entry has no parameter or leaf `{name}`; its arrays are {_listing(names)}"


def _listing(names: list[str], most: int = 12) -> str:
    return ", ".join(names[:most]) + (f", ... ({len(names)} in all)" if len(names) > most else "") \
        if names else "(none)"


def _spec_text(spec: Spec) -> str:
    return ",".join("_" if axis is None else axis for axis in spec)


# ----------------------------------------------------------------------------- the module


def annotated(module: ir.Module, sharding: ShardingPlan) -> ir.Module:
    """A copy of `module` with the mesh as `sdy.mesh`, each `@main` argument's Spec and replicated
    results as `sdy.sharding` attributes: what XLA's partitioner reads."""
    with module.context, ir.Location.unknown():
        copy = ir.Module.parse(module.operation.get_asm(enable_debug_info=True))
        symbols = ir.SymbolTable(copy.operation)
        name = "jlhlo_mesh"
        while name in symbols:         # a user function of that name: the mesh takes another
            name += "_"
        axes = ", ".join(f'"{axis}"={size}' for axis, size in sharding.mesh.axes)
        ir.InsertionPoint.at_block_begin(copy.body).insert(ir.Operation.parse(f"sdy.mesh @{name} = <[{axes}]>"))
        main = symbols["main"]
        ftype = ir.FunctionType(ir.TypeAttr(main.attributes["function_type"]).value)
        if len(ftype.inputs) != len(sharding.inputs):
            raise ValueError(f"the plan has {len(sharding.inputs)} inputs; @main takes {len(ftype.inputs)}")
        results = [(None,) * ir.RankedTensorType(t).rank for t in ftype.results]
        for key, specs in (("arg_attrs", sharding.inputs), ("res_attrs", results)):
            old = list(ir.ArrayAttr(main.attributes[key])) if key in main.attributes else [None] * len(specs)
            main.attributes[key] = ir.ArrayAttr.get([_with_sharding(attrs, name, spec)
                                                     for attrs, spec in zip(old, specs)])
        for hint in _hints(copy):      # `with_sharding_constraint` in the program
            _constrain(hint, name, sharding.mesh)
    return copy


def _hints(module: ir.Module) -> list[ir.Operation]:
    return [op for op in collect_ops(module.operation) if op.name == "stablehlo.custom_call"
            and ir.StringAttr(op.attributes["call_target_name"]).value == SHARDING_TARGET]


def _constrain(hint: ir.Operation, mesh_name: str, mesh: Mesh) -> None:
    """A `with_sharding_constraint` as `sdy.sharding_constraint`, checked against the mesh."""
    sizes = dict(mesh.axes)
    axes = ir.StringAttr(hint.attributes["backend_config"]).value.split(",")
    shape = ir.RankedTensorType(hint.operands[0].type).shape
    at = re.search(r'"([^"]+)":(\d+):(\d+)', str(hint.location))
    where = f"{at.group(1)}:{at.group(2)}:{at.group(3)}: " if at else ""
    for d, (axis, n) in enumerate(zip(axes, shape)):
        if axis != "_" and axis not in sizes:
            raise ShardingError(f"{where}with_sharding_constraint names the mesh axis `{axis}`; the mesh {mesh} has "
                                f"{', '.join(sizes)}")
        if axis != "_" and n % sizes[axis]:
            raise ShardingError(f"{where}with_sharding_constraint splits dimension {d + 1} (size {n}) over `{axis}` "
                                f"({sizes[axis]} devices), which does not divide it")
    dims = ", ".join("{}" if axis == "_" else '{"' + axis + '"}' for axis in axes)
    with ir.InsertionPoint(hint), hint.location:
        constraint = ir.Operation.create(
            "sdy.sharding_constraint", results=[hint.results[0].type], operands=[hint.operands[0]],
            attributes={"sharding": ir.Attribute.parse(f"#sdy.sharding<@{mesh_name}, [{dims}]>")})
    hint.results[0].replace_all_uses_with(constraint.results[0])
    hint.erase()


def without_hints(module: ir.Module) -> ir.Module:
    """`module` for one device (or for JAX, or a portable artifact): each `with_sharding_constraint` is
    its operand. A copy where there was one, else `module` itself."""
    with module.context:
        if not _hints(module):
            return module
        copy = ir.Module.parse(module.operation.get_asm(enable_debug_info=True))
        for hint in _hints(copy):
            hint.results[0].replace_all_uses_with(hint.operands[0])
            hint.erase()
    return copy


def _with_sharding(attrs: ir.Attribute | None, mesh: str, spec: Spec) -> ir.DictAttr:
    entries = {} if attrs is None else {a.name: a.attr for a in (ir.DictAttr(attrs)[i]
                                                                 for i in range(len(ir.DictAttr(attrs))))}
    # `{}` is a closed dimension: replicated, and the partitioner may not split it on its own.
    dims = ", ".join("{}" if axis is None else '{"' + axis + '"}' for axis in spec)
    entries["sdy.sharding"] = ir.Attribute.parse(f"#sdy.sharding<@{mesh}, [{dims}]>")
    return ir.DictAttr.get(entries)


# ----------------------------------------------------------------------------- devices


class Placement:
    """A plan bound to the first `mesh.size` devices of a platform (across all processes)."""

    def __init__(self, sharding: ShardingPlan, platform: str):
        devices = xla_bridge.global_devices(platform)
        wanted = sharding.mesh.size
        if wanted > len(devices):
            how = (f"; for more host devices set XLA_FLAGS=--xla_force_host_platform_device_count={wanted} "
                   f"before starting" if platform == "cpu" else "")
            raise ShardingError(f"the mesh {sharding.mesh} needs {wanted} {platform} devices; there are "
                                f"{len(devices)}{how}")
        if xla_bridge.process_count() > 1 and wanted != len(devices):
            # A process without a device in the mesh would have no part of the results to return.
            raise ShardingError(f"with {xla_bridge.process_count()} processes the mesh must take all "
                                f"{len(devices)} of their {platform} devices; {sharding.mesh} takes {wanted}")
        self.devices = devices[:wanted]
        mesh = jax.sharding.Mesh(np.array(self.devices, dtype=object).reshape(sharding.mesh.sizes),
                                 sharding.mesh.names)
        self.inputs = [jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec(*spec))
                       for spec in sharding.inputs]
        self.replicated = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec())

    def put(self, index: int, host: np.ndarray) -> jax.Array:
        """Input `index` as a global array: this process copies only its own devices' slices of `host`."""
        sharding = self.inputs[index]
        shards = [jax.device_put(np.asarray(host[where]), device)
                  for device, where in sharding.addressable_devices_indices_map(host.shape).items()]
        return jax.make_array_from_single_device_arrays(host.shape, sharding, shards)

    def adopt(self, index: int, value: jax.Array) -> jax.Array:
        """A jax array given as input `index`: used in place when already laid out so, else moved."""
        sharding = self.inputs[index]
        if value.sharding.is_equivalent_to(sharding, value.ndim):
            return value
        if not value.is_fully_addressable:
            raise ShardingError(f"argument {index}: a global array laid out as {value.sharding}; the "
                                f"executable takes {sharding}")
        return jax.device_put(value, sharding)

    def results(self, shards: list[list[jax.Array]], shapes: list[tuple[int, ...]]) -> list[jax.Array]:
        """The replicated results as global arrays, from each output's shards on this process's devices."""
        return [jax.make_array_from_single_device_arrays(shape, self.replicated, local)
                for local, shape in zip(shards, shapes)]
