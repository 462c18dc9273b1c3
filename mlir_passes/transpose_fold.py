"""Transposes absorbed into their neighbours: dot_general and convolution dimension numbers,
broadcast_in_dim and reduce dimensions, and each other.

The frontend lowers Julia's column-major arrays onto row-major StableHLO, so `reshape` becomes
`transpose(reversed) → reshape → transpose(reversed)` and `W' * x` a transpose feeding a
dot_general. A transpose costs a full copy in XLA unless it ends up in a layout, so this pass moves
transposes towards each other (sinking them through elementwise ops and past reshapes that only
add or drop size-1 dims) until they cancel, or into an op whose dimension numbers can name the
permuted dims directly. Every rewrite only renames dims: the arithmetic, and so every result bit,
is unchanged.

A permutation `perm` follows StableHLO: result dim i of `transpose(x, perm)` is dim perm[i] of x.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from jax.extend.mlir import ir
from jax.extend.mlir.dialects import stablehlo

from ..core.builder import reshape, splat, tensor, transpose, with_shape
from ..core.ops import OPS
from . import simplify
from .rewrite import Rule, defining_op, make_pass, splat_attr

RULES: dict[str, Rule] = {}


def _rules(name: str, *rules: Rule) -> None:
    """File rules for `stablehlo.<name>`; the first that rewrites wins."""

    def first(op: ir.Operation) -> ir.Value | None:
        for rule in rules:
            out = rule(op)
            if out is not None:
                return out
        return None

    RULES["stablehlo." + name] = first


# --- helpers ---------------------------------------------------------------------------------------
def _perm(op: ir.Operation) -> list[int]:
    return list(op.attributes["permutation"])


def inverse_permutation(perm: Sequence[int]) -> list[int]:
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return inv


def _shape(value: ir.Value) -> list[int]:
    return list(tensor(value).shape)


def _single_use(value: ir.Value) -> bool:
    return len(list(value.uses)) == 1


def _sunk_by_every_use(value: ir.Value, op: ir.Operation) -> bool:
    """A transpose used twice by one elementwise chain (`max(exp(t), t)`, exp's lowering): `op` and
    the other use are the same elementwise op, or one of them feeds the other directly, so once
    both have moved it below them the original transpose is dead (no work duplicated)."""
    users = [u.owner for u in value.uses]
    if len(users) != 2:
        return False
    other = users[0] if users[1] == op else users[1] if users[0] == op else None
    if other is None:
        return users[0] == users[1] == op
    def feeds(a: ir.Operation, b: ir.Operation) -> bool:
        return any(u.owner == b for r in a.results for u in r.uses)
    return OPS.get(other.name) is not None and OPS[other.name].elementwise and (feeds(op, other) or feeds(other, op))


def _transposed_operand(value: ir.Value) -> tuple[ir.Value, list[int]] | None:
    """(x, perm) when `value` is `transpose(x, perm)`."""
    t = defining_op(value, "stablehlo.transpose")
    return None if t is None else (t.operands[0], _perm(t))


def _i64_array(values: Sequence[int]) -> ir.Attribute:
    return ir.DenseI64ArrayAttr.get([int(v) for v in values])


def _clone(op: ir.Operation, operands: Sequence[ir.Value], result_type: ir.Type | None = None,
           **attributes: ir.Attribute) -> ir.Value:
    """A copy of `op` (regions included) just before it, on new operands, with some attributes and
    its result type replaced."""
    new = op.clone(ip=ir.InsertionPoint(op))
    for i, v in enumerate(operands):
        new.operands[i] = v
    for name, attr in attributes.items():
        new.attributes[name] = attr
    if result_type is not None:
        new.result.set_type(result_type)
    return new.result


# --- transpose -------------------------------------------------------------------------------------
def _non_unit_order_kept(shape: Sequence[int], perm: Sequence[int]) -> bool:
    moved = [p for p in perm if shape[p] != 1]
    return moved == sorted(moved)


def _transpose_as_reshape(op: ir.Operation) -> ir.Value | None:
    """A transpose that only moves size-1 dims reorders no data: it is a reshape."""
    x = op.operands[0]
    if not _non_unit_order_kept(_shape(x), _perm(op)):
        return None
    return stablehlo.ReshapeOp(op.result.type, x).result


def _transpose_of_splat(op: ir.Operation) -> ir.Value | None:
    scalar = splat_attr(op.operands[0])
    return None if scalar is None else splat(scalar, tensor(op.result))


def _transpose_of_broadcast(op: ir.Operation) -> ir.Value | None:
    b = defining_op(op.operands[0], "stablehlo.broadcast_in_dim")
    if b is None or not _single_use(b.result):
        return None
    inv = inverse_permutation(_perm(op))
    dims = [inv[d] for d in b.attributes["broadcast_dimensions"]]
    return stablehlo.BroadcastInDimOp(op.result.type, b.operands[0], dims).result


def _merge_groups(src: Sequence[int], dst: Sequence[int]) -> list[list[int]] | None:
    """For a reshape that only merges consecutive dims (row-major), the `src` dims that make up
    each `dst` dim (empty for an added size-1 dim); None for any other reshape."""
    groups, i = [], 0
    for size in dst:
        group, prod = [], 1
        while i < len(src) and (prod < size or (prod == size and src[i] == 1 and size == 1 and not group)):
            prod *= src[i]
            group.append(i)
            i += 1
        if prod != size:
            return None
        groups.append(group)
    return groups if i == len(src) else None


def _transpose_of_merging_reshape(op: ir.Operation) -> ir.Value | None:
    """transpose(reshape(transpose(x))) where the reshape merges dims → reshape(transpose(x)): the
    column-major reshape's two transposes become one (a `flatten` is one transpose and a free
    reshape)."""
    r = defining_op(op.operands[0], "stablehlo.reshape")
    if r is None or _transposed_operand(r.operands[0]) is None:
        return None
    groups = _merge_groups(_shape(r.operands[0]), _shape(r.result))
    if groups is None:
        return None
    perm = [d for p in _perm(op) for d in groups[p]]
    return stablehlo.ReshapeOp(op.result.type, transpose(r.operands[0], perm)).result


_rules("transpose", simplify.RULES["stablehlo.transpose"], _transpose_as_reshape, _transpose_of_splat,
       _transpose_of_broadcast, _transpose_of_merging_reshape)


# --- reshape ---------------------------------------------------------------------------------------
def _only_unit_dims_change(a: Sequence[int], b: Sequence[int]) -> bool:
    return [d for d in a if d != 1] == [d for d in b if d != 1]


def _reshape_of_transpose(op: ir.Operation) -> ir.Value | None:
    """reshape(transpose(x)) where the reshape only adds or drops size-1 dims → transpose(reshape(x)),
    so that the transpose meets whatever consumes the reshape."""
    found = _transposed_operand(op.operands[0])
    if found is None:
        return None
    x, perm = found
    t_shape, r_shape, x_shape = _shape(op.operands[0]), _shape(op.result), _shape(x)
    if not _only_unit_dims_change(t_shape, r_shape):
        return None
    # x' holds x's non-unit dims in x's order, then as many size-1 dims as the result has.
    kept = [d for d in range(len(x_shape)) if x_shape[d] != 1]
    position = {d: i for i, d in enumerate(kept)}
    units = iter(range(len(kept), len(kept) + r_shape.count(1)))
    sources = iter(p for p in perm if x_shape[p] != 1)  # the result's non-unit dims, in order
    new_perm = [next(units) if size == 1 else position[next(sources)] for size in r_shape]
    x2 = reshape(x, [x_shape[d] for d in kept] + [1] * r_shape.count(1))
    return transpose(x2, new_perm)


_rules("reshape", simplify.RULES["stablehlo.reshape"], _reshape_of_transpose)


# --- broadcast_in_dim ------------------------------------------------------------------------------
def _broadcast_of_transpose(op: ir.Operation) -> ir.Value | None:
    found = _transposed_operand(op.operands[0])
    if found is None:
        return None
    x, perm = found
    dims = list(op.attributes["broadcast_dimensions"])
    # Operand dim i (x's dim perm[i]) goes to result dim dims[i].
    new_dims = [0] * len(dims)
    for i, p in enumerate(perm):
        new_dims[p] = dims[i]
    return stablehlo.BroadcastInDimOp(op.result.type, x, new_dims).result


def _broadcast_of_unit_reshape(op: ir.Operation) -> ir.Value | None:
    """broadcast_in_dim(reshape(y)) where the reshape only adds or drops size-1 dims → one
    broadcast_in_dim of y (as a bias `reshape(b, 1, :, 1, 1)` broadcast over an image)."""
    r = defining_op(op.operands[0], "stablehlo.reshape")
    if r is None:
        return None
    y = r.operands[0]
    y_shape, x_shape = _shape(y), _shape(op.operands[0])
    if not _only_unit_dims_change(y_shape, x_shape):
        return None
    dims = list(op.attributes["broadcast_dimensions"])
    targets = iter(dims[i] for i, size in enumerate(x_shape) if size != 1)
    fixed = [None if size == 1 else next(targets) for size in y_shape]
    # y's size-1 dims may go to any unused result dim; pick them so the dims stay increasing where
    # the fixed ones allow it.
    free = sorted(set(range(len(_shape(op.result)))) - {d for d in fixed if d is not None})
    if len(free) < fixed.count(None):
        return None
    new_dims, last = [], -1
    for i, d in enumerate(fixed):
        if d is None:
            later = next((f for f in fixed[i + 1:] if f is not None), len(_shape(op.result)))
            choice = next((f for f in free if last < f < later), free[0])
            free.remove(choice)
            d = choice
        new_dims.append(d)
        last = d
    return stablehlo.BroadcastInDimOp(op.result.type, y, new_dims).result


_rules("broadcast_in_dim", _broadcast_of_transpose, _broadcast_of_unit_reshape)


# --- dot_general -----------------------------------------------------------------------------------
def _dot_dims(op: ir.Operation) -> list[list[int]]:
    """[lhs batch, rhs batch, lhs contracting, rhs contracting]."""
    d = stablehlo.DotDimensionNumbers(op.attributes["dot_dimension_numbers"])
    return [list(d.lhs_batching_dimensions), list(d.rhs_batching_dimensions),
            list(d.lhs_contracting_dimensions), list(d.rhs_contracting_dimensions)]


def _dot_attr(dims: list[list[int]]) -> ir.Attribute:
    return stablehlo.DotDimensionNumbers.get(
        lhs_batching_dimensions=dims[0], rhs_batching_dimensions=dims[1],
        lhs_contracting_dimensions=dims[2], rhs_contracting_dimensions=dims[3])


def _free_dims(rank: int, batch: list[int], contracting: list[int]) -> list[int]:
    return [d for d in range(rank) if d not in batch and d not in contracting]


def _dot_of_transpose(op: ir.Operation) -> ir.Value | None:
    """dot_general(transpose(a), b) → dot_general(a, b) with a's dims named in the dimension numbers.

    The result lists the free dims in operand order; when the transpose reordered them, the result
    needs a transpose of its own, which is only worth it when the result is smaller than the
    operand whose transpose goes."""
    dims = _dot_dims(op)
    operands = list(op.operands)
    for side in (0, 1):
        found = _transposed_operand(operands[side])
        if found is None:
            continue
        x, perm = found
        batch, contracting = dims[side], dims[side + 2]
        free = _free_dims(len(perm), batch, contracting)
        new_free = sorted(perm[d] for d in free)
        moved = [perm[d] for d in free]
        needs_result_transpose = moved != new_free
        result_size = np.prod(_shape(op.result))
        if needs_result_transpose and result_size >= np.prod(_shape(x)):
            continue
        new_dims = [list(d) for d in dims]
        new_dims[side] = [perm[d] for d in batch]
        new_dims[side + 2] = [perm[d] for d in contracting]
        new_operands = list(operands)
        new_operands[side] = x
        if not needs_result_transpose:
            return _clone(op, new_operands, dot_dimension_numbers=_dot_attr(new_dims))
        # Result: batch dims, lhs free dims, rhs free dims. The new op lists this side's free dims
        # by x's order (new_free); the old one by the transposed order (moved).
        n_batch = len(batch)
        other_free = len(_shape(op.result)) - n_batch - len(free)
        offset = n_batch if side == 0 else n_batch + other_free
        order = list(range(len(_shape(op.result))))
        block = [offset + new_free.index(m) for m in moved]
        order[offset:offset + len(free)] = block
        shape = _shape(op.result)
        new_shape = list(shape)
        for k, src in enumerate(block):
            new_shape[src] = shape[offset + k]
        inner = _clone(op, new_operands, with_shape(op.result, new_shape), dot_dimension_numbers=_dot_attr(new_dims))
        return transpose(inner, order)
    return None


def _dot_of_merging_reshape(op: ir.Operation) -> ir.Value | None:
    """dot_general(a, reshape(transpose(x))) where the reshape merges dims into one contracting dim
    (a column-major `flatten`): split a's matching dim the same way (a free row-major reshape) and
    contract the pieces pairwise, so that the transpose can fold into the dimension numbers."""
    dims = _dot_dims(op)
    operands = list(op.operands)
    for side in (0, 1):
        r = defining_op(operands[side], "stablehlo.reshape")
        if r is None or _transposed_operand(r.operands[0]) is None:
            continue
        t_shape, r_shape = _shape(r.operands[0]), _shape(operands[side])
        for pos, k in enumerate(dims[side + 2]):
            group_len = len(t_shape) - len(r_shape) + 1
            if group_len < 2 or t_shape[:k] != r_shape[:k] or t_shape[k + group_len:] != r_shape[k + 1:]:
                continue
            group = t_shape[k:k + group_len]
            other = 1 - side
            m = dims[other + 2][pos]
            o_shape = _shape(operands[other])
            new_other = reshape(operands[other], o_shape[:m] + group + o_shape[m + 1:])

            def shift(ds: list[int], at: int, grow: int = group_len - 1) -> list[int]:
                return [d + grow if d > at else d for d in ds]

            new_dims = [[], [], [], []]
            for s, at in ((side, k), (other, m)):
                new_dims[s] = shift(dims[s], at)
                contracting = []
                for d in dims[s + 2]:
                    contracting += [at + j for j in range(group_len)] if d == at else shift([d], at)
                new_dims[s + 2] = contracting
            new_operands = [None, None]
            new_operands[side], new_operands[other] = r.operands[0], new_other
            return _clone(op, new_operands, dot_dimension_numbers=_dot_attr(new_dims))
    return None


def _transpose_of_dot(op: ir.Operation) -> ir.Value | None:
    """transpose(dot_general(a, b)) that puts b's free dims before a's → dot_general(b, a) (the
    transposed product (AB)ᵀ = BᵀAᵀ, as backpropagation through a dense layer asks for), also
    through a reshape that only adds size-1 dims in between."""
    inner = op.operands[0]
    r = defining_op(inner, "stablehlo.reshape")
    if r is not None:
        if not _single_use(inner) or not _only_unit_dims_change(_shape(r.operands[0]), _shape(inner)):
            return None
        inner = r.operands[0]
    dot = defining_op(inner, "stablehlo.dot_general")
    if dot is None or not _single_use(inner) or (r is not None and 1 in _shape(inner)):
        return None
    dims = _dot_dims(dot)
    a, b = dot.operands
    nb = len(dims[0])
    nl = len(_free_dims(len(_shape(a)), dims[0], dims[2]))
    nr = len(_shape(inner)) - nb - nl
    t_shape = _shape(op.operands[0])
    rank_of = {d: k for k, d in enumerate(i for i in range(len(t_shape)) if t_shape[i] != 1 or r is None)}
    order = [rank_of[p] for p in _perm(op) if p in rank_of]
    if order != list(range(nb)) + list(range(nb + nl, nb + nl + nr)) + list(range(nb, nb + nl)):
        return None
    shape = _shape(inner)
    swapped = _clone(dot, [b, a], with_shape(inner, [shape[k] for k in order]),
                     dot_dimension_numbers=_dot_attr([dims[1], dims[0], dims[3], dims[2]]))
    if "precision_config" in dot.attributes:
        swapped.owner.attributes["precision_config"] = ir.ArrayAttr.get(list(dot.attributes["precision_config"])[::-1])
    return reshape(swapped, _shape(op.result))


_rules("dot_general", _dot_of_transpose, _dot_of_merging_reshape)


# --- convolution -----------------------------------------------------------------------------------
def conv_dims(op: ir.Operation) -> stablehlo.ConvDimensionNumbers:
    return stablehlo.ConvDimensionNumbers(op.attributes["dimension_numbers"])


def conv_dims_attr(d: stablehlo.ConvDimensionNumbers, **changes: object) -> ir.Attribute:
    fields = {name: getattr(d, name) for name in (
        "input_batch_dimension", "input_feature_dimension", "input_spatial_dimensions",
        "kernel_input_feature_dimension", "kernel_output_feature_dimension", "kernel_spatial_dimensions",
        "output_batch_dimension", "output_feature_dimension", "output_spatial_dimensions")}
    fields.update(changes)
    return stablehlo.ConvDimensionNumbers.get(**{k: list(v) if isinstance(v, list) else v for k, v in fields.items()})


def _conv_of_transpose(op: ir.Operation) -> ir.Value | None:
    """convolution(transpose(x), transpose(k)) → convolution(x, k), the dims renamed."""
    d = conv_dims(op)
    lhs, rhs = op.operands[0], op.operands[1]
    changes: dict[str, object] = {}
    found = _transposed_operand(lhs)
    if found is not None:
        lhs, p = found
        changes.update(input_batch_dimension=p[d.input_batch_dimension],
                       input_feature_dimension=p[d.input_feature_dimension],
                       input_spatial_dimensions=[p[s] for s in d.input_spatial_dimensions])
    found = _transposed_operand(rhs)
    if found is not None:
        rhs, p = found
        changes.update(kernel_input_feature_dimension=p[d.kernel_input_feature_dimension],
                       kernel_output_feature_dimension=p[d.kernel_output_feature_dimension],
                       kernel_spatial_dimensions=[p[s] for s in d.kernel_spatial_dimensions])
    if not changes:
        return None
    return _clone(op, [lhs, rhs], dimension_numbers=conv_dims_attr(d, **changes))


def _transpose_of_conv(op: ir.Operation) -> ir.Value | None:
    """transpose(convolution(...)) → convolution(...) writing its output dims in the permuted order."""
    conv = defining_op(op.operands[0], "stablehlo.convolution")
    if conv is None or not _single_use(conv.result):
        return None
    d = conv_dims(conv)
    inv = inverse_permutation(_perm(op))
    attr = conv_dims_attr(d, output_batch_dimension=inv[d.output_batch_dimension],
                      output_feature_dimension=inv[d.output_feature_dimension],
                      output_spatial_dimensions=[inv[s] for s in d.output_spatial_dimensions])
    new = conv.clone(ip=ir.InsertionPoint(conv))
    new.attributes["dimension_numbers"] = attr
    new.result.set_type(op.result.type)
    return new.result


def _attr_list(op: ir.Operation, name: str, default: list[int]) -> list[int]:
    return list(op.attributes[name]) if name in op.attributes else default


def _reverse_around_conv(op: ir.Operation) -> ir.Value | None:
    """reverse(convolution(reverse(x))) over all spatial dims → convolution(x, reverse(kernel)) with
    each spatial padding's low and high swapped: a true convolution (NNlib's `conv` flips the kernel)
    costs two full passes over the activations, one flip of the small kernel instead. Exact for unit
    strides and input dilation, any kernel dilation."""
    conv = defining_op(op.operands[0], "stablehlo.convolution")
    if conv is None or not _single_use(conv.result):
        return None
    inner = defining_op(conv.operands[0], "stablehlo.reverse")
    if inner is None:
        return None
    d = conv_dims(conv)
    n = len(d.input_spatial_dimensions)
    if (sorted(op.attributes["dimensions"]) != sorted(d.output_spatial_dimensions)
            or sorted(inner.attributes["dimensions"]) != sorted(d.input_spatial_dimensions)
            or _attr_list(conv, "window_strides", [1] * n) != [1] * n
            or _attr_list(conv, "lhs_dilation", [1] * n) != [1] * n
            or any(_attr_list(conv, "window_reversal", [])) or n == 0):
        return None
    kernel = conv.operands[1]
    flipped = stablehlo.ReverseOp(kernel, list(d.kernel_spatial_dimensions)).result
    new = conv.clone(ip=ir.InsertionPoint(op))
    new.operands[0] = inner.operands[0]
    new.operands[1] = flipped
    if "padding" in conv.attributes:
        pads = np.asarray(ir.DenseIntElementsAttr(conv.attributes["padding"]), dtype=np.int64).reshape(n, 2)
        new.attributes["padding"] = ir.DenseIntElementsAttr.get(
            np.ascontiguousarray(pads[:, ::-1]), type=ir.RankedTensorType.get([n, 2], ir.IntegerType.get_signless(64)))
    return new.result


_rules("convolution", _conv_of_transpose)


# --- reduce ----------------------------------------------------------------------------------------
def _reduce_of_transpose(op: ir.Operation) -> ir.Value | None:
    """reduce(transpose(x), dims) → reduce(x, perm[dims]), then a transpose of the (smaller) result
    if the kept dims come out in another order."""
    if len(op.operands) != 2 or len(op.results) != 1:
        return None
    found = _transposed_operand(op.operands[0])
    if found is None:
        return None
    x, perm = found
    dims = list(op.attributes["dimensions"])
    new_dims = sorted(perm[d] for d in dims)
    kept = [perm[d] for d in range(len(perm)) if d not in dims]  # x dims, in the old result's order
    in_x_order = sorted(kept)
    x_shape = _shape(x)
    inner = _clone(op, [x, op.operands[1]], with_shape(op.result, [x_shape[d] for d in in_x_order]),
                   dimensions=_i64_array(new_dims))
    return transpose(inner, [in_x_order.index(d) for d in kept])


_rules("reduce", _reduce_of_transpose)


# --- elementwise ops: sink transposes below them ---------------------------------------------------
def _sink_transposes(op: ir.Operation) -> ir.Value | None:
    """f(transpose(a, p), transpose(b, p), splat) → transpose(f(a, b, splat'), p): moves transposes
    down towards each other (where they cancel) and towards dot_general, convolution, reduce and
    broadcast, which absorb them. Each transpose moved must have no other use, so no work is
    duplicated; scalar operands (as `select`'s predicate or `clamp`'s bounds may be) stay."""
    rank = len(_shape(op.result))
    perm = None
    moved = 0
    for v in op.operands:
        found = _transposed_operand(v)
        if found is not None:
            if perm is not None and found[1] != perm or not (_single_use(v) or _sunk_by_every_use(v, op)):
                return None
            perm = found[1]
            moved += 1
    if perm is None:
        return None
    inv = inverse_permutation(perm)
    new_operands = []
    for v in op.operands:
        if len(_shape(v)) != rank:
            new_operands.append(v)  # a scalar
            continue
        found = _transposed_operand(v)
        if found is not None:
            new_operands.append(found[0])
            continue
        scalar = splat_attr(v)
        if scalar is not None:
            new_operands.append(splat(scalar, with_shape(v, [_shape(v)[i] for i in inv])))
            continue
        b = defining_op(v, "stablehlo.broadcast_in_dim")
        if b is not None and _single_use(v):
            # b's dim j is the new broadcast's dim perm[j] (transpose(new, perm) == b)
            dims = [perm[d] for d in b.attributes["broadcast_dimensions"]]
            new_operands.append(stablehlo.BroadcastInDimOp(
                with_shape(v, [_shape(v)[i] for i in inv]), b.operands[0], dims).result)
            continue
        return None
    shape = _shape(op.result)
    inner = _clone(op, new_operands, with_shape(op.result, [shape[i] for i in inv]))
    return transpose(inner, perm)


for _name, _traits in OPS.items():
    if _traits.elementwise:
        _rules(_name.removeprefix("stablehlo."), _sink_transposes)


# A transpose of a convolution's result folds into it as well; chained after the others.
_transpose_rule = RULES["stablehlo.transpose"]
_rules("transpose", _transpose_rule, _transpose_of_conv, _transpose_of_dot)

transpose_fold = make_pass(RULES)

# Not part of transpose_fold: XLA's CPU backend runs reverse → convolution → reverse (which it
# recognises) about 1.7× faster than the convolution on a reversed kernel that this gives (VGG19
# at 64×64), so the rewrite is only a pass of its own, by name.
conv_reverse_fold = make_pass({"stablehlo.reverse": _reverse_around_conv})
