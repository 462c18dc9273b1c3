"""`push!` onto a vector that a loop builds: `v = Float64[]; for x in xs; ...; push!(v, f(x)); end`.

jlhlo arrays have sizes fixed when compiling, so a vector cannot grow. Where a `for` loop pushes
onto a vector made empty just before it a fixed number of times per iteration (each `push!` a
statement of the loop body itself, not inside an `if` or an inner loop, and no `break`, `continue`
or `return` in the body that could skip one), the final length is that number times the
iteration count. The vector is then allocated with that length right before the loop and each
`push!` writes the next element, converted to the element type as `push!` converts. The vector
must not be mentioned between its creation and the loop, nor in the loop other than as the
`push!` target (such a read would see the allocated length). Every other `push!` stays what jlhlo
cannot compile, with the message calls.py gives.

The rewrite is on the AST of each method body, before lowering: plain data in, plain data out.
"""
from __future__ import annotations

import itertools
from collections.abc import Iterator

from . import ast as A

_fresh = itertools.count(1)


def preallocate_pushes(node: A.Node) -> None:
    """Rewrite, in place, every loop in `node` that builds a vector by `push!` as described above."""
    for block in _blocks(node):
        _rewrite_block(block)


def _blocks(node: object) -> Iterator[A.Block]:
    if isinstance(node, A.Block):
        yield node
    if isinstance(node, A.Node):
        for value in node.__dict__.values():
            yield from _blocks(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from _blocks(value)


def _rewrite_block(block: A.Block) -> None:
    k = 0
    while k < len(block.stmts):
        created = _empty_vector(block.stmts[k])
        if created is not None:
            name, elt = created
            loop_at = _next_loop(block.stmts, k + 1, name)
            if loop_at is not None:
                _rewrite_loop(block, loop_at, name, elt)
        k += 1


def _empty_vector(stmt: A.Node) -> tuple[str, A.Expr] | None:
    """`v = T[]` or `v = Vector{T}()`: the name and the element type expression."""
    if not (isinstance(stmt, A.Assign) and stmt.op is None and not stmt.dotted and isinstance(stmt.target, A.Name)):
        return None
    value = stmt.value
    if isinstance(value, A.Index) and not value.indices and isinstance(value.obj, (A.Name, A.Curly)):
        return stmt.target.id, value.obj
    if isinstance(value, A.Call) and not value.args and not value.kwargs and isinstance(value.func, A.Curly) \
            and isinstance(value.func.base, A.Name) and value.func.base.id == "Vector" and len(value.func.params) == 1:
        return stmt.target.id, value.func.params[0]
    return None


def _next_loop(stmts: list[A.Node], start: int, name: str) -> int | None:
    """The index of the first statement after `start` that mentions `name`, if it is a `for` loop."""
    for k in range(start, len(stmts)):
        if _mentions(stmts[k], name):
            return k if isinstance(stmts[k], A.For) else None
    return None


def _rewrite_loop(block: A.Block, at: int, name: str, elt: A.Expr) -> None:
    loop = block.stmts[at]
    if len(loop.iters) != 1 or _mentions(loop.iters[0], name) or _exits(loop.body):
        return                         # (the loop variable itself named `name` would hide the vector)
    pushes = [k for k, s in enumerate(loop.body.stmts) if _push_onto(s, name) is not None]
    others = [s for k, s in enumerate(loop.body.stmts) if k not in pushes]
    if not pushes or any(_mentions(s, name) for s in others) \
            or any(_mentions(_push_onto(loop.body.stmts[k], name), name) for k in pushes):
        return
    n = next(_fresh)
    original = loop.iters[0][1]
    iterable, count = A.Name(f"#iterable{n}"), A.Name(f"#pushed{n}")
    span = loop.span
    length = A.Call(A.Name("length", span=span), [iterable], span=span)
    total = length if len(pushes) == 1 else A.Call(A.Name("*", span=span), [A.IntLit(len(pushes)), length], span=span)
    allocate = A.Call(A.Curly(A.Name("Vector", span=span), [elt], span=span), [A.Name("undef", span=span), total],
                      span=span)
    body = []
    for k, stmt in enumerate(loop.body.stmts):
        if k not in pushes:
            body.append(stmt)
            continue
        at_push = stmt.span
        body.append(A.Assign(count, A.IntLit(1, span=at_push), op="+", span=at_push))
        body.append(A.Assign(A.Index(A.Name(name, span=at_push), [count], span=at_push), _push_onto(stmt, name),
                             span=at_push))
    loop.body.stmts = body
    loop.iters = [(loop.iters[0][0], iterable)]
    block.stmts[at:at] = [A.Assign(iterable, original, span=span),
                          A.Assign(A.Name(name, span=span), allocate, span=span),
                          A.Assign(count, A.IntLit(0, span=span), span=span)]


def _push_onto(stmt: A.Node, name: str) -> A.Expr | None:
    """The pushed value of a statement `push!(name, value)`."""
    call = stmt.expr if isinstance(stmt, A.ExprStmt) else None
    if isinstance(call, A.Call) and isinstance(call.func, A.Name) and call.func.id == "push!" \
            and len(call.args) == 2 and not call.kwargs and isinstance(call.args[0], A.Name) \
            and call.args[0].id == name and not isinstance(call.args[1], A.Splat):
        return call.args[1]
    return None


def _mentions(node: object, name: str) -> bool:
    if isinstance(node, A.Name):
        return node.id == name
    if isinstance(node, A.Node):
        return any(_mentions(v, name) for v in node.__dict__.values())
    if isinstance(node, (list, tuple)):
        return any(_mentions(v, name) for v in node)
    return False


def _exits(node: object) -> bool:
    """A `break`, `continue` or `return` anywhere inside (inner loops included: conservative)."""
    if isinstance(node, (A.Break, A.Continue, A.Return)):
        return True
    if isinstance(node, A.Lambda):
        return False                   # a `return` inside a closure leaves the closure only
    if isinstance(node, A.Node):
        return any(_exits(v) for v in node.__dict__.values())
    if isinstance(node, (list, tuple)):
        return any(_exits(v) for v in node)
    return False
