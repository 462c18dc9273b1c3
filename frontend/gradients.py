"""Zygote's interface in the language: `gradient`, `withgradient` and `pullback`.

The function being differentiated is specialized like any call (one `func.func`), then the
reverse-mode pass of `mlir_passes.autodiff` adds its VJP function to the module and the call site
calls that. Every construct the frontend can lower is thereby differentiable, with no per-feature
work here; this module only maps Julia values to and from the flat arguments of the VJP.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator

from jax.extend.mlir import ir
from jax.extend.mlir.dialects import func as func_d

from ..core import builder as B
from ..core.dtypes import element_info
from ..core.errors import LocatedError
from . import ast as A
from . import hlo as H
from . import printing
from .calls import call_value, lambda_method
from .diagnostics import PRELUDE_PREFIX, JuliaError, Span
from .dispatch import select_method
from .program import CALL
from .registry import NoMethod, prim
from .scalars import convert_scalar
from .types import BOOL, NamedTupleT, Scalar, StructT, TupleT
from .values import (
    ArrayV,
    Box,
    ClosureV,
    FuncV,
    ScalarV,
    StructV,
    TupleV,
    Value,
    leaf_pairs,
    map_leaves,
    nothing,
    runtime_leaves,
)

if TYPE_CHECKING:
    from .context import Lowering, Specialization


@contextmanager
def _differentiating(fl: Lowering) -> Iterator[None]:
    """Lower what is inside as code being differentiated (see `within_gradient`)."""
    fl.mod.differentiating += 1
    try:
        yield
    finally:
        fl.mod.differentiating -= 1


def _specialize_callee(fl: Lowering, f: Value, args: list[Value], node: A.Node
                       ) -> tuple[Specialization, list[Value]]:
    """The specialization `f(args...)` calls, and the full argument list it takes (a closure or a
    callable struct comes first)."""
    if isinstance(f, FuncV) and f.name not in fl.program.methods:
        f = ClosureV(_primitive_wrapper(f.name, node), {})      # `gradient(sin, x)`: wrap the primitive
    if isinstance(f, ClosureV):
        method, bindings, full = lambda_method(f.lam, fl.program.universe), {}, [f] + args
    else:
        name, full = (f.name, args) if isinstance(f, FuncV) else (CALL, [f] + args)
        methods = fl.program.methods.get(name, [])
        chosen = select_method(fl.program.universe, methods, [a.t for a in full])
        if chosen is None or isinstance(chosen, list):
            raise fl.error(f"gradient: `{getattr(f, 'name', f.t.julia())}` must be a Julia function defined in the "
                           f"program (or a closure); no method applies to "
                           f"({', '.join('::' + a.t.julia() for a in args)})", node)
        method, bindings = chosen
    with _differentiating(fl):
        spec = fl.mod.specialize(method, full, {}, getattr(node, "span", None), bindings=bindings)
    return spec, full


_WRAPPERS: dict[str, A.Lambda] = {}


def _primitive_wrapper(name: str, node: A.Node) -> A.Lambda:
    """`(xs...) -> name(xs...)`: a primitive as a function with a body, so it can be specialized."""
    if name not in _WRAPPERS:
        span = getattr(node, "span", None)
        call = A.Call(A.Name(name, span=span), [A.Splat(A.Name("xs", span=span), span=span)], span=span)
        _WRAPPERS[name] = A.Lambda([A.Param("xs", splat=True, span=span)],
                                   A.Block([A.Return(call, span=span)], span=span), span=span)
    return _WRAPPERS[name]


def _differentiable(v: Value) -> bool:
    t = v.t if isinstance(v, ScalarV) else v.t.elt
    return t.info.is_float


def _as_input(fl: Lowering, leaf: Value, originals: dict[int, ArrayV]) -> Value:
    """A leaf of an argument to differentiate: every array its own input (`gradient(f, x, x)`
    differentiates with respect to each argument separately; `originals` maps its box back to the
    caller's array, which sees what the function changes in place), a float constant an input too.
    Integer and Bool constants stay constants: Zygote gives them no gradient (`nothing`), and a
    layer's stride, padding or size must stay known at compile time inside the function."""
    if isinstance(leaf, ArrayV):
        own = ArrayV(leaf.t, Box(leaf.ir))
        originals[id(own.box)] = leaf
        return own
    if isinstance(leaf, ScalarV) and leaf.is_const and _differentiable(leaf):
        return fl.materialize_all(leaf)
    return leaf


def vjp_call(fl: Lowering, f: Value, args: list[Value], seed: Value | None, node: A.Node, replay: bool = False
             ) -> tuple[Value, list[Value]]:
    """Value of f(args...) and the cotangent of each argument for the output cotangent `seed`
    (1 for a scalar loss when None); `replay`: f(args...) has run already (pullback's `back`), so
    its prints stay out of the VJP's recomputation."""
    for a in args:
        if isinstance(a, ScalarV) and a.t.info.kind in ("int", "uint"):
            raise fl.error(f"gradient with respect to an integer argument ({a.t.julia()}): Zygote treats an "
                           f"integer as a real number and returns a Float64 gradient for it, which jlhlo does "
                           f"not compute; pass it as a float, or capture it in the function instead "
                           f"(`gradient(x -> f(x, n), x)`)", node)
    originals: dict[int, ArrayV] = {}
    args = [map_leaves(a, lambda leaf: _as_input(fl, leaf, originals), constants=True) for a in args]
    spec, full = _specialize_callee(fl, f, args, node)
    if spec.err_always or spec.never_returns:
        fl.call_spec(spec, full, node)       # it throws on every path: so does the gradient (raises Threw)
    leaves = [leaf for a in full for leaf in runtime_leaves(a)]
    n_own = sum(1 for a in args for _ in runtime_leaves(a))      # the arguments' leaves come last
    wrt = [k >= len(leaves) - n_own and _differentiable(leaf) for k, leaf in enumerate(leaves)]
    if seed is None:
        if not (isinstance(spec.result, ScalarV) and spec.result.t.info.is_float) or spec.result.batch:
            raise fl.error(f"gradient: the function must return a real number (a scalar loss), not "
                           f"{spec.result.t.julia()}; use `pullback` for other outputs", node)
    try:
        vjp_name = fl.mod.differentiate(fl.mod.module, spec.name, wrt, replay)
    except LocatedError as e:
        span = Span(e.file, e.line, e.col) if e.file is not None else getattr(node, "span", None)
        if span is not None and span.file.startswith(PRELUDE_PREFIX) and getattr(node, "span", None) is not None:
            # inside the library (Dropout's `rand`): the user's `gradient` call, the library's place a note
            raise JuliaError(f"gradient: {e.message}", node.span, [f"at {span}"]) from None
        raise JuliaError(f"gradient: {e.message}", span) from None
    # cotangents for every func result: the seed for the value's leaves, zeros elsewhere
    cotangents = [H.constant(Scalar(element_info(B.tensor(t).element_type).name), 0, B.shape(t))
                  for t in spec.result_types]
    if seed is None:
        for _, idx, *_ in spec.result_leaves[:1]:    # none when the loss is a constant: zero gradients
            cotangents[idx] = H.constant(spec.result.t, 1.0, spec.result.batch)
    else:
        if seed.t != spec.result.t and not (isinstance(seed, ScalarV) and isinstance(spec.result, ScalarV)):
            raise fl.error(f"pullback: the cotangent must have the type of the function's value, "
                           f"{spec.result.t.julia()}; got {seed.t.julia()}", node)
        where = iter(spec.result_leaves)
        for leaf, s in leaf_pairs(spec.result, seed):
            if isinstance(leaf, ScalarV) and leaf.is_const:
                continue                   # a constant part of the value: no func result, no cotangent
            kind, idx, *_ = next(where)
            if kind == "out":
                cotangents[idx] = s.ir if isinstance(s, ArrayV) else \
                    B.broadcast(fl.materialize(convert_scalar(fl, s, leaf.t, node)), leaf.batch)
    if spec.prints and not replay:
        printing.checkpoint(fl, node)     # the VJP's forward pass prints: stopped by a failure before it
    operands = [leaf.box.value if isinstance(leaf, ArrayV) else leaf.ir for leaf in leaves]
    vjp_types = list(spec.result_types) + [_leaf_type(leaf) for leaf, w in zip(leaves, wrt) if w]
    call = func_d.CallOp(vjp_types, ir.FlatSymbolRefAttr.get(vjp_name), operands + cotangents)
    results = list(call.results)
    for j, k in spec.mutated:           # BatchNorm's running statistics, updated in the forward pass
        leaf = leaves[j]
        fl.write(originals.get(id(leaf.box), leaf), results[k], node)
    value = fl.call_result(spec, leaves, results, node)
    grads = iter(results[len(spec.result_types):])
    own_grads = iter([next(grads) if w else None for w in wrt][len(leaves) - n_own:])
    return value, [_gradient_value(a, own_grads) for a in args]


def _leaf_type(leaf: Value) -> ir.Type:
    if isinstance(leaf, ArrayV):
        return H.tensor_type(leaf.t.elt, leaf.t.shape)
    return H.tensor_type(leaf.t, leaf.batch)


def _gradient_value(arg: Value, grads: Iterator[ir.Value | None]) -> Value:
    """Zygote's shape for a gradient: a number or array for one, a tuple for a tuple, a named tuple
    with the field names for a struct, `nothing` where nothing is differentiable. `grads` holds, per
    runtime leaf of `arg` in order, its gradient or None."""
    if isinstance(arg, ArrayV):
        g = next(grads)
        return ArrayV(arg.t, Box(g)) if g is not None else nothing()
    if isinstance(arg, ScalarV):
        g = next(grads) if not arg.is_const else None
        return ScalarV(arg.t, None, g, arg.batch) if g is not None else nothing()
    if isinstance(arg, (TupleV, StructV)):
        items = tuple(_gradient_value(c, grads) for c in arg.items)
        if isinstance(arg, StructV) and isinstance(arg.t, StructT):
            # a mutable struct's number field is a cell (frontend/mutable.py): its gradient is a number
            items = tuple(ScalarV(f, None, i.box.value) if isinstance(f, Scalar) and isinstance(i, ArrayV) else i
                          for f, i in zip(arg.t.field_types, items))
        if all(getattr(i.t, "name", "") == "Nothing" for i in items):
            return nothing()
        if isinstance(arg, TupleV):
            return TupleV(TupleT(tuple(i.t for i in items)), items)
        names = arg.t.field_names if isinstance(arg.t, StructT) else arg.t.names
        return StructV(NamedTupleT(tuple(names), tuple(i.t for i in items)), items)
    for _ in runtime_leaves(arg):      # ranges, closures: no gradient, but their leaves take places
        next(grads)
    return nothing()


def _tuple(items: list[Value]) -> TupleV:
    return TupleV(TupleT(tuple(i.t for i in items)), tuple(items))


@prim("within_gradient")
def _within_gradient(fl, args, kwargs, node):
    """NNlib.within_gradient(x): whether this code runs inside `gradient`/`withgradient`/`pullback`,
    known at compile time (each function is specialized separately for the two cases)."""
    if len(args) != 1:
        raise NoMethod()
    return ScalarV(BOOL, fl.mod.differentiating > 0)


@prim("gradient")
def _gradient(fl, args, kwargs, node):
    if not args:
        raise NoMethod()
    _, grads = vjp_call(fl, args[0], list(args[1:]), None, node)
    return _tuple(grads)


@prim("withgradient")
def _withgradient(fl, args, kwargs, node):
    if not args:
        raise NoMethod()
    value, grads = vjp_call(fl, args[0], list(args[1:]), None, node)
    grad = _tuple(grads)
    return StructV(NamedTupleT(("val", "grad"), (value.t, grad.t)), (value, grad))


__all__ = ["vjp_call"]


_PULLBACKS = A.NodeMemo()


def _pullback_lambda(node: A.Node) -> A.Lambda:
    """`dy -> _pullback_apply(f, args, dy)`: the back function `pullback` returns, an ordinary closure
    over the function and its arguments (so it can be passed around and called later)."""
    lam = _PULLBACKS.get(node)
    if lam is None:
        span = getattr(node, "span", None)
        body = A.Call(A.Name("_pullback_apply", span=span),
                      [A.Name("%f", span=span), A.Name("%args", span=span), A.Name("dy", span=span)], span=span)
        lam = A.Lambda([A.Param("dy", span=span)], A.Block([A.Return(body, span=span)], span=span), span=span)
        _PULLBACKS.put(node, lam)
    return lam


@prim("pullback")
def _pullback(fl, args, kwargs, node):
    if not args:
        raise NoMethod()
    f, fargs = args[0], [fl.materialize_all(a) for a in args[1:]]
    with _differentiating(fl):         # the forward pass Zygote runs: BatchNorm in training mode
        value = call_value(fl, f, list(fargs), {}, node)
    back = ClosureV(_pullback_lambda(node), {"%f": f, "%args": _tuple(fargs)})
    return _tuple([value, back])


@prim("_pullback_apply")
def _pullback_apply(fl, args, kwargs, node):
    f, fargs, dy = args
    _, grads = vjp_call(fl, f, list(fargs.items), dy, node, replay=True)
    return _tuple(grads)
