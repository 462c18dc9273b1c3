"""`mutable struct`: fields that can be assigned (`p.x = v`, `p.x += 1`), seen through every alias.

A number field of a mutable struct lives in a cell: a 0-dimensional array (`ArrayV` of shape (), its
own `Box`), so the machinery that already carries array mutation through aliases, calls, loops,
branches and closures carries field assignment too (`q = p; q.x = 1.0` changes `p.x`; a function
that sets a field changes its caller's struct). The struct's type keeps the declared number types
(`StructT.field_types`); reading a field (`StructV.field`) gives the number the cell holds now. Array fields are
shared as arrays always are (`p.W .= 0` writes through); assigning a new array or other value to a
field would make the struct point elsewhere, which jlhlo does not model, and is refused. Julia's
`==` and `===` for mutable structs ask whether two values are the same object.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from . import ast as A
from .scalars import as_ir, convert_scalar
from .types import ArrayT, Scalar, StructT
from .values import ArrayV, Box, LaneConflict, ScalarV, StructV, Value

if TYPE_CHECKING:
    from .context import Lowering


def is_mutable(fl: Lowering, t: object) -> bool:
    info = fl.program.universe.structs.get(t.name) if isinstance(t, StructT) else None
    return bool(info is not None and info.node is not None and info.node.mutable)


def with_cells(fl: Lowering, values: list[Value]) -> list[Value]:
    """The fields of a new mutable struct: each number in a fresh cell."""
    return [_cell(fl, v) if isinstance(v, ScalarV) else v for v in values]


def _cell(fl: Lowering, v: ScalarV) -> ArrayV:
    if v.batch:                        # one struct per lane: made element by element instead
        raise LaneConflict()
    return ArrayV(ArrayT(v.t, ()), Box(as_ir(fl, v, v.t, ())))


def is_cell(obj: StructV, k: int) -> bool:
    return isinstance(obj.t, StructT) and isinstance(obj.t.field_types[k], Scalar) and isinstance(obj.items[k], ArrayV)


def set_field(fl: Lowering, obj: StructV, name: str, v: Value, node: A.Node) -> None:
    """`obj.name = v` for a mutable struct: the value converted to the field's type, as `setfield!`
    does, written into the field's cell."""
    names = list(obj.t.field_names)
    if name not in names:
        raise fl.error(f"FieldError: type {obj.t.name} has no field `{name}`", node)
    k = names.index(name)
    if not is_cell(obj, k):
        raise fl.error(f"assigning field `{name}` of a mutable struct is supported for number fields only: this "
                       f"one holds a {obj.items[k].t.julia()}; change its contents in place instead "
                       f"(`.=` for an array)", node)
    t = obj.t.field_types[k]
    if not isinstance(v, ScalarV):
        raise fl.error(f"setfield!: field `{name}` of {obj.t.julia()} holds a {t.julia()}; cannot assign a "
                       f"{v.t.julia()}", node)
    if v.t != t:
        declared = fl.program.universe.structs[obj.t.name].field_types[k]
        if declared is None:           # an untyped field: Julia would change its type
            raise fl.error(f"field `{name}` of {obj.t.julia()} has type {t.julia()} here (jlhlo fixes an untyped "
                           f"field's type when the struct is made); assigning a {v.t.julia()} is not supported",
                           node)
        v = convert_scalar(fl, v, t, node, exact=t.info.is_integer)
    if v.batch or fl.lanes:            # each element would assign in turn: lowered as a loop instead
        raise LaneConflict()
    fl.write(obj.items[k], as_ir(fl, v, t, ()), node)


def same_object(a: StructV, b: StructV) -> bool | None:
    """Whether two mutable struct values are one object (None: jlhlo cannot tell at compile time)."""
    if a.t != b.t:
        return False
    boxes = [(x.box, y.box) for x, y in zip(a.items, b.items) if isinstance(x, ArrayV) and isinstance(y, ArrayV)]
    if not boxes:
        return True if a is b else None
    x, y = boxes[0]
    if x is y:
        return True
    return None if x.derived or y.derived else False


__all__ = ["is_mutable", "with_cells", "is_cell", "set_field", "same_object"]
