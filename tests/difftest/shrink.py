"""Reduce a failing program to a minimal one that still fails the same way.

Greedy reduction over the model: drop functions, statements (chunks first, then single ones),
unwrap `if`/`for`/`while` into their bodies, replace subexpressions with a same-typed child or a
literal, keep one item of main's result, drop unused arguments and the gradient check. A candidate
is kept when it is smaller (shorter Julia text), its reference still evaluates (well-defined, not
fragile, every function it calls still defined) and jlhlo still fails the same way at the highest
level where the original failed: the same class, and the same kind of mismatch, the same rejection
message or the same internal exception type. `shrink_group` does the same for a failure that only
a batch of several programs shows."""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from . import model as M
from .gen_expr import walk
from .jtypes import BOOL, F32, F64, INT, Arr, Scalar, Tup
from .reference import evaluate
from .render import julia_source
from .runner import Case, GroupFailure, LevelOutcome, Pool, Result, check_case, compile_and_run_batch


def _key(outcome: LevelOutcome) -> str:
    """What must stay the same: the mismatch kind, the rejection message, the exception type."""
    return outcome.key.split(" ")[0] if outcome.kind == "internal" else outcome.key


@dataclass
class Signature:
    """What "fails the same way" means for the program being shrunk: the same outcome class and
    key at one level where it failed (the highest: one compile per candidate, not three)."""
    kind: str
    level: int
    key: str

    @classmethod
    def of(cls, result: Result) -> Signature:
        level = max(lv for lv, o in result.levels.items() if o.kind == result.kind)
        return cls(result.kind, level, _key(result.levels[level]))

    def matches(self, result: Result) -> bool:
        got = result.levels.get(self.level)
        return got is not None and got.kind == self.kind and _key(got) == self.key


def _stmt_lists(node: Any) -> Iterator[list[M.Stmt]]:
    """Every statement list (function bodies, branches, loop bodies), outermost first."""
    if isinstance(node, M.Program):
        for f in node.functions + [node.main]:
            yield from _stmt_lists(f)
        return
    if isinstance(node, list):
        for x in node:
            yield from _stmt_lists(x)
        return
    if not isinstance(node, M.Node):
        return
    for name, v in node.child_fields():
        if isinstance(v, list) and (name in ("body", "orelse")):
            yield v
        yield from _stmt_lists(v)


def _expr_slots(node: Any) -> Iterator[tuple[Any, str, int | None]]:
    """Every place holding an expression: (owner, field, index in a list or None), outer first."""
    if isinstance(node, M.Program):
        for f in node.functions + [node.main]:
            yield from _expr_slots(f)
        return
    if not isinstance(node, M.Node):
        return
    for name, v in node.child_fields():
        items = list(enumerate(v)) if isinstance(v, list) else [(None, v)]
        for k, x in items:
            if isinstance(x, M.Expr):
                yield node, name, k
            yield from _expr_slots(x)


def _get(owner: Any, name: str, k: int | None) -> Any:
    v = getattr(owner, name)
    return v if k is None else v[k]


def _set(owner: Any, name: str, k: int | None, value: Any) -> None:
    if k is None:
        setattr(owner, name, value)
    else:
        getattr(owner, name)[k] = value


def _simple_literal(t: Scalar) -> M.Lit:
    return M.Lit(t=t, value={"Bool": True, "Int64": 1, "Float32": 1.0, "Float64": 1.0}[t.name])


def _first_of(it: M.Expr) -> M.Expr | None:
    """An expression for the first value a `for` loop over `it` binds (to unwrap the loop)."""
    if isinstance(it, M.RangeE):
        return it.start
    if isinstance(it, M.TupleE):
        return it.items[0]
    if isinstance(it, M.Call) and it.fn in ("eachindex", "axes"):
        return M.Lit(t=INT, value=1)
    if isinstance(it, M.Var) and isinstance(it.t, Arr):
        return M.Index(t=it.t.elt, base=it, idxs=[M.Lit(t=INT, value=1)])
    return None


Edit = Callable[[M.Program], bool]


def _edits(prog: M.Program) -> Iterator[Edit]:
    """Candidate edits, biggest first; each applies to a fresh copy and says whether it applied."""
    for k in range(len(prog.functions)):
        yield lambda p, k=k: bool(p.functions.pop(k))
    for k in range(len(prog.structs)):
        yield lambda p, k=k: bool(p.structs.pop(k))
    for k in range(len(prog.abstracts)):
        yield lambda p, k=k: bool(p.abstracts.pop(k)) and not any(s.supertype for s in p.structs)
    if prog.grad is not None:
        yield lambda p: setattr(p, "grad", None) is None
    ret = prog.main.ret
    if isinstance(ret, Tup) and len(ret.items) > 1:
        for k in range(len(ret.items)):
            yield lambda p, k=k: _keep_result_item(p, k)
    lists = list(_stmt_lists(prog))
    for li, body in enumerate(lists):
        n = len(body)
        chunk = n // 2
        while chunk >= 2:
            for start in range(0, n - chunk + 1, chunk):
                yield lambda p, li=li, start=start, chunk=chunk: _delete(p, li, start, chunk)
            chunk //= 2
    for li, body in enumerate(lists):
        for i, s in enumerate(body):
            yield lambda p, li=li, i=i: _delete(p, li, i, 1)
            for k in range(len(s.branches) + 1 if isinstance(s, M.If) else 1):
                yield lambda p, li=li, i=i, k=k: _unwrap(p, li, i, k)
    for k in range(len(prog.main.params)):
        yield lambda p, k=k: _drop_param(p, k)
    n_slots = sum(1 for _ in _expr_slots(prog))
    for si in range(n_slots):
        yield lambda p, si=si: _simplify(p, si, 0)
        yield lambda p, si=si: _simplify(p, si, 1)
        yield lambda p, si=si: _simplify(p, si, 2)


def _function_bodies(p: M.Program) -> set[int]:
    return {id(f.body) for f in p.functions + [p.main]} | {
        id(n.fdef.body) for n in walk(p.functions + [p.main]) if isinstance(n, M.LocalFunc)}


def _delete(p: M.Program, li: int, start: int, n: int) -> bool:
    """Delete statements; a function's final `return` stays (without it Julia would return the
    last statement's value, another program)."""
    body = list(_stmt_lists(p))[li]
    if id(body) in _function_bodies(p) and start + n >= len(body):
        return False
    del body[start:start + n]
    return True


def _unwrap(p: M.Program, li: int, i: int, k: int = 0) -> bool:
    """Replace statement i by its body: for an `if`, the body of branch k (k = the number of
    branches: the `else` body); a `for` binds its variable to the first value first."""
    body = list(_stmt_lists(p))[li]
    s = body[i]
    if isinstance(s, M.If):
        inner = s.branches[k].body if k < len(s.branches) else s.orelse
        if inner is None:
            return False
        body[i:i + 1] = list(inner)
        return True
    if isinstance(s, M.For):
        first = _first_of(s.iter)
        if first is None:
            return False
        body[i:i + 1] = [M.Assign(name=s.var, value=first)] + list(s.body)
        return True
    if isinstance(s, M.While):
        body[i:i + 1] = list(s.body)
        return True
    return False


def _returns(node: Any) -> Iterator[M.Return]:
    """The `return` statements of a function body (not those of local functions inside it), also
    inside the branches of `if` expressions."""
    if isinstance(node, list):
        for x in node:
            yield from _returns(x)
        return
    if not isinstance(node, M.Node) or isinstance(node, M.LocalFunc):
        return
    if isinstance(node, M.Return):
        yield node
    for _, v in node.child_fields():
        yield from _returns(v)


def _keep_result_item(p: M.Program, k: int) -> bool:
    """Keep only item k of main's result tuple (in every `return` of main)."""
    t = p.main.ret
    for node in _returns(p.main.body):
        if not isinstance(node.value, M.TupleE):
            return False
        node.value = M.TupleE(t=Tup((t.items[k],)), items=[node.value.items[k]])
    p.main.ret = Tup((t.items[k],))
    return True


def _drop_param(p: M.Program, k: int) -> bool:
    name = p.main.params[k].name
    if any(isinstance(n, M.Var) and n.name == name for n in walk(p.main.body)):
        return False
    if p.grad is not None and name in p.grad.args:
        return False
    del p.main.params[k]
    del p.inputs[name]
    return True


def _simplify(p: M.Program, si: int, variant: int) -> bool:
    """Replace the expression in slot si: variant 0 by a literal, 1 by its first same-typed
    child, 2 by its last same-typed child."""
    owner, name, k = list(_expr_slots(p))[si]
    e = _get(owner, name, k)
    if isinstance(e, (M.Lit, M.Colon, M.End, M.TypeLit)) or e.t is None:
        return False
    if variant == 0:
        if isinstance(e.t, Scalar) and e.t in (BOOL, INT, F32, F64):
            _set(owner, name, k, _simple_literal(e.t))
            return True
        return False
    kids = [x for _, v in e.child_fields() for x in (v if isinstance(v, list) else [v])
            if isinstance(x, M.Expr) and x.t == e.t]
    if not kids:
        return False
    _set(owner, name, k, kids[0] if variant == 1 else kids[-1])
    return True


def reduce(prog: M.Program, fails: Callable[[M.Program], bool], time_limit: float,
           log: Callable[[str], None] | None = None) -> M.Program:
    """Greedy reduction: apply the first edit whose result is smaller and still `fails`, repeat
    until no edit applies or time runs out."""
    best, best_size = prog, len(julia_source(prog))
    seen: set[str] = set()
    deadline = time.monotonic() + time_limit
    progress = True
    while progress and time.monotonic() < deadline:
        progress = False
        for edit in _edits(best):
            if time.monotonic() > deadline:
                break
            cand = copy.deepcopy(best)
            try:
                if not edit(cand):
                    continue
                src = julia_source(cand)
            except (IndexError, AttributeError, KeyError, TypeError):
                continue
            if len(src) >= best_size or src in seen:
                continue
            seen.add(src)
            if fails(cand):
                best, best_size, progress = cand, len(src), True
                if log:
                    log(f"  shrunk to {best_size} chars")
                break
    return best


def _names_resolve(prog: M.Program) -> bool:
    """Every user function or struct the program mentions is still defined (Julia only complains
    when a call runs, so a deleted function called from dead code would go unnoticed, and confuse)."""
    defined = {f.name for f in prog.functions} | {s.name for s in prog.structs}
    if prog.grad is not None:
        defined.add("main_body")
    for n in walk(prog.functions + [prog.main]):
        if isinstance(n, M.Call) and n.user and n.fn not in defined:
            return False
        if isinstance(n, M.FuncRef) and n.user and n.name not in defined:
            return False
    return True


def _valid_case(prog: M.Program) -> Case | None:
    """The candidate with its expected answer, if its reference evaluates (well-defined, not
    fragile, no undefined names left by a deletion)."""
    if not _names_resolve(prog):
        return None
    try:
        return Case(prog, evaluate(prog))
    except Exception:                          # noqa: BLE001 - any failure makes the candidate invalid
        return None


def shrink(case: Case, result: Result, pool: Pool, time_limit: float = 300.0,
           log: Callable[[str], None] | None = None) -> Result:
    """The result of the smallest variant of `case` (found within the time limit) that fails
    like `result`."""
    sig = Signature.of(result)

    def fails(prog: M.Program) -> bool:
        cand = _valid_case(prog)
        return cand is not None and sig.matches(check_case(cand, pool, (sig.level,)))

    small = reduce(case.prog, fails, time_limit, log)
    if small is case.prog:
        return result
    final = _valid_case(small)
    return check_case(final, pool, tuple(sorted(result.levels))) if final is not None else result


def shrink_group(group: GroupFailure, pool: Pool, time_limit: float = 300.0) -> GroupFailure:
    """A failure that only a batch of programs shows: drop programs while the batch still fails
    at that level with the same key, then reduce each remaining program in turn."""
    deadline = time.monotonic() + time_limit

    def batch_fails(cases: list[Case]) -> bool:
        got = compile_and_run_batch(cases, pool, group.level)
        return got.kind == group.outcome.kind and _key(got) == _key(group.outcome)

    cases = list(group.cases)
    k = 0
    while k < len(cases) and len(cases) > 1 and time.monotonic() < deadline:
        rest = cases[:k] + cases[k + 1:]
        if batch_fails(rest):
            cases = rest
        else:
            k += 1
    for k in range(len(cases)):
        def fails(prog: M.Program, k: int = k) -> bool:
            cand = _valid_case(prog)
            return cand is not None and batch_fails(cases[:k] + [cand] + cases[k + 1:])
        small = reduce(cases[k].prog, fails, max(0.0, deadline - time.monotonic()) / (len(cases) - k))
        cases[k] = _valid_case(small) or cases[k]
    return GroupFailure(cases, group.level, group.outcome)
