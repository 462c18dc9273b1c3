"""The CLI's `.npz` naming: dotted keys for the parts of tuples and structs.

Inputs: `x` is an array; `p.1`, `p.2` are the items of a tuple `p`; `m.W`, `m.b` the fields of a
struct `m`; nesting adds dots (`m.layer1.W`). Outputs: `out` for one value, `out.1`, `out.2` for a
tuple, `out.field` for a struct or named tuple, nested the same way.
"""
from __future__ import annotations

import dataclasses

import numpy as np


def group_inputs(arrays: dict[str, np.ndarray]) -> dict[str, object]:
    """Arrays by parameter: dotted keys become tuples (numeric parts) or dicts (named parts)."""
    tree: dict[str, dict] = {}
    for key, array in arrays.items():
        parts = key.split(".")
        if not all(parts):
            raise ValueError(f"input key {key!r} has an empty part")
        for i in range(1, len(parts)):
            if ".".join(parts[:i]) in arrays:
                raise ValueError(f"input {'.'.join(parts[:i])!r} is given both as an array and in parts ({key!r})")
        node = tree
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = array
    return {name: _build(name, node) for name, node in tree.items()}


def _build(path: str, node: object) -> object:
    if not isinstance(node, dict):
        return node
    names = list(node)
    numeric = [name.isdigit() for name in names]
    if all(numeric):
        positions = sorted(int(name) for name in names)
        if positions != list(range(1, len(names) + 1)):
            raise ValueError(f"tuple {path!r} must have items {path}.1 to {path}.{len(names)}, got {sorted(names)}")
        return tuple(_build(f"{path}.{i}", node[str(i)]) for i in positions)
    if any(numeric):
        raise ValueError(f"{path!r} mixes tuple items and struct fields: {', '.join(f'{path}.{n}' for n in names)}")
    return {name: _build(f"{path}.{name}", child) for name, child in node.items()}


def flatten_outputs(value: object, prefix: str = "out") -> dict[str, np.ndarray]:
    """`value` as `.npz` entries under `prefix`; scalars become 0-d arrays of their exact dtype.

    Tuples number their items from 1; dicts, named tuples and dataclasses use their field names in
    order; `None` (Julia's `nothing`) holds no data and gives no entries.
    """
    if value is None:
        return {}
    if hasattr(value, "_fields"):  # a named tuple: fields, not positions
        value = value._asdict()
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        parts = value.items()
    elif isinstance(value, tuple):
        parts = ((str(i), item) for i, item in enumerate(value, start=1))
    else:
        array = np.asarray(value)
        if array.dtype == object:
            raise TypeError(f"{prefix}: cannot store a {type(value).__name__} in an .npz file")
        return {prefix: array}
    flat: dict[str, np.ndarray] = {}
    for name, item in parts:
        flat.update(flatten_outputs(item, f"{prefix}.{name}"))
    return flat
