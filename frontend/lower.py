"""Type inference, dispatch and lowering in one walk: an abstract interpreter over the AST that
emits StableHLO as it goes, one `func.func` per (method, argument types) specialization.

Compile-time constants are folded while walking (sizes, constant conditions, tuple indices), so a
constant branch emits only the taken side. Runtime control flow becomes `stablehlo.if` and
`stablehlo.while`; early exits (`return`, `break`, `continue`) are flags held in the environment
like ordinary variables (`%ret`, `%brk`, `%cont`), so the same merge and loop-carry machinery
handles them: after a statement that may exit at run time, the rest of the block is guarded.
"""
from __future__ import annotations

import contextlib
import itertools
from dataclasses import dataclass
from typing import Callable

import numpy as np
from jax.extend.mlir import ir
from jax.extend.mlir.dialects import func as func_d
from jax.extend.mlir.dialects import stablehlo as hlo

from ..core import builder as B

# gradients, nn, primitives and scalars are imported for their rules, which register in PRIMITIVES
from . import assign, broadcast, calls, exceptions, gradients, loops, merge, nn, primitives, printing, scalars, unions  # noqa: F401
from . import ast as A
from . import hlo as H
from .arrays import vect
from .calls import default_construct
from .comprehensions import comprehension
from .context import BROKE, CONTINUED, ERR, ERROR_CODE, FLAGS, RETURN_VALUE, RETURNED, Differentiate, Specialization
from .diagnostics import PRELUDE_PREFIX, Diagnostic, InternalError, JuliaError, Span, StaticValueNeeded, relocate
from .dispatch import Method, Pat, PConst, PScalar, applicable, select_method
from .indexing import lower_index
from .loops import assigned_names, contains
from .merge import reachable_boxes
from .primitives import last_index
from .program import CALL, Program
from .ranges import collect_range, make_range
from .registry import PRIMITIVES, NeedsStatic, NoMethod
from .scalars import IRRATIONALS, get_field
from .types import BOOL, FLOAT64, INT64, INT_ALIASES, SCALARS, JType, NamedTupleT, Scalar, StructT, TupleT
from .values import (
    ArrayListV,
    ArrayV,
    Box,
    ClosureV,
    FuncV,
    LaneConflict,
    RangeV,
    Redo,
    ScalarV,
    SingletonV,
    StructV,
    TupleV,
    TypeV,
    Undef,
    Value,
    alias_key,
    colon,
    describe,
    map_leaves,
    nothing,
    runtime_leaves,
    spec_key,
    symbol,
)

_NO_OPS = (A.Name, A.IntLit, A.FloatLit, A.BoolLit, A.ColonAll, A.SymbolLit)   # expressions that emit no op
MAX_SPECIALIZATION_DEPTH = 200   # nested specializations of one method (recursion on constants)
# exceptions that are not compiler bugs: errors in the program, lowering redone another way, and the
# recursion limit (reported by the CLI as nesting too deep)
_PASS_THROUGH = (Diagnostic, Redo, RecursionError, exceptions.Threw)


@dataclass
class Checkpoint:
    """Where lowering stood: the ops of the current block, the variables and the arrays' contents.
    `restore` erases what was emitted since and puts the rest back, so a construct can be lowered
    another way (a vectorized loop nest that turns out not to be, as an ordinary loop)."""
    fl: FunctionLowering
    block: ir.Block
    n_ops: int
    env: dict[str, object]
    boxes: list[Box]
    box_values: list[ir.Value]

    def restore(self) -> None:
        for op in list(self.block.operations)[self.n_ops:][::-1]:
            op.erase()
        self.fl.env = dict(self.env)
        for b, v in zip(self.boxes, self.box_values):
            b.value = v


class ModuleLowering:
    """Owns the MLIR module being built and the cache of specializations."""

    def __init__(self, program: Program, context: ir.Context, *, differentiate: Differentiate,
                 check_bounds: bool = True, reassociate: bool = True,
                 vectorize: bool = True):
        self.program = program
        self.differentiate = differentiate    # reverse mode, for `gradient` (see context.Differentiate)
        self.context = context
        self.module = ir.Module.create(ir.Location.unknown(context))
        self.specs: dict[object, Specialization] = {}
        self.in_progress: set[object] = set()           # specializations being lowered (recursion)
        self.depth_of_method: dict[int, int] = {}       # how many of them per method
        self.names = itertools.count()
        self.typed_log: list[tuple[str, str, list[tuple[str, str]], str]] = []
        self.check_bounds = check_bounds
        self.reassociate = reassociate        # floating-point folds in loops may reorder (see vectorize.py)
        self.vectorize = vectorize            # loop nests may run as array operations (see vectorize.py)
        self.loop_notes: dict[tuple[Span, str], None] = {}   # what each loop became, for --explain-loops
        self.locations: dict[Span, ir.Location] = {}
        self.check_sites: list[tuple[Span | None, str, tuple[str, ...]]] = []   # (where, message, notes)
        self.print_sites: list[printing.PrintSite] = []    # what each `custom_call @jlhlo.print` writes
        # > 0 while lowering code that `gradient` or `pullback` differentiates: NNlib's within_gradient,
        # which switches Flux's BatchNorm and Dropout to training mode there, as Zygote does
        self.differentiating = 0

    def add_check_site(self, span: Span | None, message: str, notes: tuple[str, ...] = ()) -> int:
        self.check_sites.append((span, message, notes))
        return len(self.check_sites)

    def specialize(self, method: Method, args: list[Value], kwargs: dict[str, Value], call_span: Span | None,
                   *, public_name: str | None = None, bindings: dict[str, object] | None = None) -> Specialization:
        key = (id(method), tuple(spec_key(a) for a in args), tuple((k, spec_key(v)) for k, v in sorted(kwargs.items())),
               alias_key([*args, *(v for _, v in sorted(kwargs.items()))]), public_name, self.differentiating > 0)
        if key in self.specs:
            return self.specs[key]
        if key in self.in_progress:
            raise JuliaError(f"recursion in `{method.name}` cannot be resolved at compile time: it calls itself with "
                             f"the same argument types ({', '.join(describe(a) for a in args)}); only recursion "
                             f"that ends on types or constant arguments compiles", call_span)
        if self.depth_of_method.get(key[0], 0) > MAX_SPECIALIZATION_DEPTH:
            raise JuliaError(f"recursion in `{method.name}` is too deep to unfold at compile time "
                             f"(more than {MAX_SPECIALIZATION_DEPTH} nested calls)", call_span)
        sym = public_name or f"{_mangle(method.name)}_{next(self.names)}"
        self.in_progress.add(key)
        self.depth_of_method[key[0]] = self.depth_of_method.get(key[0], 0) + 1
        try:
            spec = FunctionLowering(self, method, sym, bindings or {}).lower(args, kwargs, public=bool(public_name))
        except Diagnostic as err:
            relocate(err, call_span, method.name)
            raise
        finally:
            self.in_progress.discard(key)
            self.depth_of_method[key[0]] -= 1
        self.specs[key] = spec
        return spec


def _mangle(name: str) -> str:
    out = "".join(c if c.isalnum() or c == "_" else f"_{ord(c):x}" for c in name)
    return out or "f"


class FunctionLowering:
    """Lowers one specialization of one method into a func.func."""

    def __init__(self, mod: ModuleLowering, method: Method, sym: str, bindings: dict[str, object]):
        self.mod = mod
        self.program = mod.program
        self.method = method
        self.sym = sym
        self.bindings = bindings
        self.sites: set[int] = set()           # the check sites %err can name (see Specialization.sites)
        self.env: dict[str, object] = {}
        self.index_stack: list[tuple[Value, int | None, int | None]] = []   # (array, dimension, ndims) for `end`
        self.inbounds = 0
        self.declared: dict[str, TypeV] = {}   # `x::T = v`, `local x::T`: every assignment to x converts to T
        self.views = 0                     # inside @views / @view: slices are views
        self.lanes: tuple[int, ...] = ()   # the lane shape when this function is broadcast over arrays
        self.never_returns = False         # every path through the body throws (see run_body)
        self.lane_arms = 0                 # inside arms of a branch taken per lane (merge.select_branches)
        self.variables: dict[str, Value] = {}   # the last value of each variable, for --emit typed
        self.draws = 0                 # random draws emitted so far, directly or by calls
        self.prints = 0                # prints emitted so far, directly or by calls (see printing.py)
        self.public = False
        self.param_boxes: dict[int, Box] = {}   # the arrays the caller passed in (it sees their changes)
        # a loop body's own arrays for variables that may still be an array from before the loop
        # (loops._Rebound): branches must not merge them into copies, which would lose that
        self.pinned_boxes: dict[int, Box] = {}
        self.loop_facts: dict[int, object] = {}   # per loop node: what lowering it taught (loops.LoopFacts)
        self.promoted: dict[str, tuple[frozenset[str], Scalar]] = {}   # variable -> (its Union's members, promotion)

    # ------------------------------------------------------------------ function boundary
    def lower(self, args: list[Value], kwargs: dict[str, Value], public: bool) -> Specialization:
        # keyword arguments are parameters too (after the positional ones, by name): their run-time
        # values come in as function arguments like any other
        kw_names = sorted(kwargs)
        args = [*args, *(kwargs[k] for k in kw_names)]
        self.public = public           # the entry: what it returns goes to the host, by value
        in_leaves = [leaf for a in args for leaf in runtime_leaves(a)]
        in_types = [_leaf_type(leaf) for leaf in in_leaves]
        with ir.InsertionPoint(self.mod.module.body), self.loc(self.method.fdef):
            fop = func_d.FuncOp(self.sym, (in_types, []))
            if not public:
                fop.attributes["sym_visibility"] = ir.StringAttr.get("private")
            entry = fop.add_entry_block()
        # bind parameters to fresh values made from the block arguments; arguments that share an array
        # share it here too (the specialization is keyed by that aliasing)
        block_args = list(entry.arguments)
        fresh_boxes: dict[int, Box] = {}
        fresh_leaves: list[Value] = []
        for leaf, barg in zip(in_leaves, block_args):
            if isinstance(leaf, ArrayV):
                fresh_leaves.append(ArrayV(leaf.t, fresh_boxes.setdefault(id(leaf.box), Box(barg))))
            else:
                fresh_leaves.append(ScalarV(leaf.t, None, barg, leaf.batch))
        fresh = iter(fresh_leaves)
        params = [map_leaves(a, lambda _: next(fresh)) for a in args]
        params, kwargs = params[:len(params) - len(kw_names)], dict(zip(kw_names, params[len(params) - len(kw_names):]))
        self.param_boxes = {id(b): b for b in fresh_boxes.values()}
        self.lanes = next((leaf.batch for leaf in in_leaves if isinstance(leaf, ScalarV) and leaf.batch), ())
        try:
            return self._lower_body(fop, entry, block_args, in_types, fresh_leaves, params, kwargs, public)
        except BaseException:
            fop.operation.erase()          # a caller may recover (a broadcast lowered again as a loop)
            raise

    def _lower_body(self, fop: func_d.FuncOp, entry: ir.Block, block_args: list[ir.Value], in_types: list[ir.Type],
                    fresh_leaves: list[Value], params: list[Value], kwargs: dict[str, Value],
                    public: bool) -> Specialization:
        with ir.InsertionPoint(entry), self.loc(self.method.fdef):
            self.bind_params(params, kwargs)
            result = self.run_body()
            # results: the runtime leaves of the returned value (an array returned twice is one result,
            # so the caller sees one array), then arrays the callee mutated
            box_of_param: dict[int, int] = {}
            for j, leaf in enumerate(fresh_leaves):
                if isinstance(leaf, ArrayV):
                    box_of_param.setdefault(id(leaf.box), j)
            outs: list[ir.Value] = []
            out_of: dict[int, int] = {}

            def out(key: object, value: ir.Value) -> tuple[str, int]:
                if id(key) not in out_of:
                    out_of[id(key)] = len(outs)
                    outs.append(value)
                return ("out", out_of[id(key)])

            def describe_box(box: Box) -> tuple:
                """How the caller rebuilds an array result: an argument's array, a new one, or a
                derived one (a view, one of two arrays) from its parts — so aliasing survives the call."""
                if id(box) in box_of_param:
                    return ("param", box_of_param[id(box)])
                if box.derived:
                    values, boxes = box.parts()
                    return ("derived", box, [out(v, v)[1] for v in values], [describe_box(b) for b in boxes])
                return out(box, box.value)
            if public:
                result = self.materialize_all(self.for_host(result))
            result_leaves: list[tuple] = []
            for leaf in runtime_leaves(result):
                if public:                 # the host gets each leaf's value
                    result_leaves.append(("out", len(outs)))
                    outs.append(_leaf_ir(leaf))
                elif isinstance(leaf, ArrayV):
                    result_leaves.append(describe_box(leaf.box))
                else:
                    result_leaves.append(out(leaf, leaf.ir))
            mutated = []
            if not public:
                for j in sorted(set(box_of_param.values())):
                    if fresh_leaves[j].box.value is not block_args[j]:
                        mutated.append((j, len(outs)))
                        outs.append(fresh_leaves[j].box.value)
            err_result = None
            err = self.env[ERROR_CODE]
            if public and err.is_const and err.const:
                # a check that fails on every path through the program: a compile error, as it would
                # be reported by every run (one a branch may skip is reported after a run reaching it)
                span, message, notes = self.mod.check_sites[err.const - 1]
                raise JuliaError(message, span, list(notes))
            if public and self.mod.check_sites or not (err.is_const and err.const == 0):
                err_result = len(outs)
                outs.append(self.materialize(self.first_failure(err) if public else err))
            func_d.ReturnOp(outs)
        fop.attributes["function_type"] = ir.TypeAttr.get(ir.FunctionType.get(in_types, [o.type for o in outs]))
        def union(name: str) -> str:
            return "  (promoted from Union{" + ", ".join(sorted(self.promoted[name][0])) + "})"
        variables = [(name, describe(v) + (union(name) if name in self.promoted else ""))
                     for name, v in self.variables.items()]
        variables += [(name, t.julia() + union(name)) for name, (_, t) in self.promoted.items() if name.startswith("(")]
        returned = describe(result) + (union(RETURN_VALUE) if RETURN_VALUE in self.promoted else "")
        self.mod.typed_log.append((self.sym, self.method.signature(), variables, returned))
        return Specialization(self.sym, result, result_leaves, mutated, [o.type for o in outs], err_result,
                              variables, draws=self.draws > 0, prints=self.prints > 0,
                              err_always=err.const if err.is_const else 0,
                              never_returns=self.never_returns,
                              sites=frozenset(self.sites), library=self.method.origin == "prelude",
                              function=self.method.name)

    def note_draw(self) -> None:
        """Count a random draw. Lane-wise code computes what does not depend on the lanes once for
        all of them, which for a draw would give every element the same number: it becomes a loop."""
        if self.lanes:
            raise LaneConflict()
        self.draws += 1

    def bind_params(self, params: list[Value], kwargs: dict[str, Value]) -> None:
        m = self.method
        names = m.param_names
        self.env.update({f: ScalarV(BOOL, False) for f in FLAGS})
        self.env[ERROR_CODE] = ScalarV(ERR, 0)     # which bounds check failed first (0: none)
        self.bind_static_params(self.bindings)
        if isinstance(m.fdef, A.Lambda):     # the closure itself comes first: bind what it captured
            self.env.update(params[0].captured)
            if m.fdef.name and m.fdef.name not in self.env:
                self.env[m.fdef.name] = params[0]      # a local function sees itself: it may recurse
            params, names = params[1:], names[1:]
        n_fixed = len(names) - (1 if m.vararg else 0)
        for name, v in zip(names[:n_fixed], params[:n_fixed]):
            if name is not None:
                self.assign_name(name, v)
        if m.vararg:
            rest = tuple(params[n_fixed:])
            self.assign_name(names[-1], TupleV(TupleT(tuple(v.t for v in rest)), rest))
        if m.full is not None:
            # `f(x, b::T=2.0) where T` called as f(x): the omitted parameters take their defaults, in
            # order, and the call is then the full method's (Julia defines f(x) = f(x, 2.0)): the
            # defaults must match its signature and bind its static parameters
            declared = ([m.fdef.self_param] if m.fdef.self_param else []) + list(m.fdef.params)
            defaults = []
            for p in declared[len(m.param_names):]:
                defaults.append(self.expr(p.default))
                if p.name is not None:
                    self.assign_name(p.name, defaults[-1])
            full_bindings = applicable(self.program.universe, m.full, [v.t for v in params + defaults])
            if full_bindings is None:
                raise JuliaError(f"MethodError: no method matching {m.name}("
                                 f"{', '.join('::' + v.t.julia() for v in params + defaults)}): a default "
                                 f"value does not match its parameter's type", m.fdef.span)
            self.bind_static_params({tv: v for tv, v in full_bindings.items() if self.bindings.get(tv) is None})
        rest = m.kwparams[-1] if m.kwparams and m.kwparams[-1].splat else None
        for kp in m.kwparams:
            if kp is rest:       # `kws...` collects the other keywords, in order, as a named tuple
                named = [n for n in kwargs if n not in {p.name for p in m.kwparams}]
                items = tuple(kwargs[n] for n in named)
                self.assign_name(kp.name, StructV(NamedTupleT(tuple(named), tuple(v.t for v in items)), items))
            elif kp.name in kwargs:
                self.assign_name(kp.name, kwargs[kp.name])
            elif kp.default is not None:
                self.assign_name(kp.name, self.expr(kp.default))
            else:
                raise JuliaError(f"UndefKeywordError: keyword argument `{kp.name}` not assigned", kp.span)
        unknown = set(kwargs) - {kp.name for kp in m.kwparams}
        if unknown and rest is None:
            raise JuliaError(f"MethodError: {m.name} got unsupported keyword argument `{sorted(unknown)[0]}`",
                             m.fdef.span)

    def bind_static_params(self, bindings: dict[str, object]) -> None:
        """A method's static parameters (`T` of `where T`) are values in its body, as in Julia."""
        for tv, val in bindings.items():
            if tv.startswith("<:") or val is None:     # unbound: using it is an UndefVarError, as in Julia
                continue
            if isinstance(val, JType):
                self.env[tv] = TypeV(val)
            elif isinstance(val, (bool, int, float)):  # a value parameter, `N` of NTuple{N} or Val{N}
                self.env[tv] = ScalarV(BOOL if isinstance(val, bool) else INT64 if isinstance(val, int) else FLOAT64,
                                       val)

    def run_body(self) -> Value:
        if isinstance(self.method.fdef, A.StructDef):     # the entry is a struct's default constructor
            return default_construct(self, self.method.fdef.name,
                                     [self.env[n] for n in self.method.param_names], self.method.fdef)
        body = self.method.fdef.body
        stmts = with_implicit_return(body.stmts, body.span)
        self.block(stmts)
        ret = self.env.get(RETURN_VALUE)
        if ret is None or isinstance(ret, Undef):
            # no path reached a `return` (the body ends in an implicit one): every path threw (the
            # checks that failed may differ, so it is not one `err_always` site); a call throws too
            self.never_returns = ret is None
            return nothing()
        return ret

    def checkpoint(self) -> Checkpoint:
        """The state to return to if an attempt at lowering something fails (see Checkpoint)."""
        block = ir.InsertionPoint.current.block
        boxes = reachable_boxes(self.env)
        return Checkpoint(self, block, len(block.operations), dict(self.env), boxes, [b.value for b in boxes])

    def dry_run(self, fn: Callable[[], Value]) -> Value:
        """Lower `fn` into a scratch region that is then discarded, with the variables and arrays put
        back: what it returns tells the *type* of a value before the real lowering (its IR is gone)."""
        saved = self.checkpoint()
        scratch = hlo.WhileOp([], [])
        try:
            with ir.InsertionPoint(scratch.regions[1].blocks.append()):
                return fn()
        finally:
            scratch.operation.erase()
            saved.restore()

    # ------------------------------------------------------------------ locations and errors
    def loc(self, node: A.Node | None):
        span = getattr(node, "span", None)
        if span is None:
            return contextlib.nullcontext()
        loc = self.mod.locations.get(span)
        if loc is None:
            loc = self.mod.locations[span] = ir.Location.file(span.file, span.line, span.col)
        return loc

    def error(self, message: str, node: A.Node | None) -> JuliaError:
        return JuliaError(message, getattr(node, "span", None))

    # ------------------------------------------------------------------ variables
    def assign_name(self, name: str, v: Value) -> None:
        self.env[name] = v
        if not name.startswith("%"):
            self.variables[name] = v
            self.refresh_closures(name, v)

    def refresh_closures(self, name: str, v: Value) -> None:
        """Julia closures capture variables, not values: a closure made here sees later assignments
        to the variables it mentions."""
        for k, c in list(self.env.items()):
            if isinstance(c, ClosureV) and c.origin == id(self) and k != name and name in free_names(c.lam):
                if name not in c.captured or c.captured[name] is not v:
                    self.env[k] = ClosureV(c.lam, {**c.captured, name: v}, origin=c.origin)

    def _local_names(self) -> set[str]:
        """The local variables of the function being lowered: its parameters, what it assigns
        anywhere (Julia decides a function's locals for its whole body), and (in a closure) what
        it captured."""
        fdef = self.method.fdef
        names = {n for n in self.env if not n.startswith("%")}
        names |= {p.name for p in fdef.params + fdef.kwparams if p.name}
        return names | assigned_names(fdef.body.stmts)

    def lookup(self, node: A.Name) -> Value:
        name = node.id
        v = self.env.get(name)
        if isinstance(v, Undef):
            raise self.error(f"UndefVarError: `{name}` not defined on every path to this use ({v.why})", node)
        if v is not None:
            return v
        return self.global_value(name, node)

    def global_value(self, name: str, node: A.Node) -> Value:
        prog = self.program
        if name in prog.consts:
            return self.eval_const(name)
        if name in ("nothing",):
            return nothing()
        if name in IRRATIONALS:
            return ScalarV(Scalar("Float64"), IRRATIONALS[name], irrational=True)
        if name in ("Inf", "NaN"):
            return ScalarV(Scalar("Float64"), float(name.lower()))
        if name in ("Inf32", "NaN32"):
            return ScalarV(Scalar("Float32"), float(name[:-2].lower()))
        if name == "im":
            return ScalarV(Scalar("ComplexF32"), 1j)   # Complex{Bool} in Julia: it does not widen Float32
        if name in ("true", "false"):
            return ScalarV(BOOL, name == "true")
        tname = INT_ALIASES.get(name, name)
        if tname in SCALARS:
            return TypeV(Scalar(tname))
        if prog.universe.is_type_name(name):
            return TypeV(name)
        if name in prog.methods or name in PRIMITIVES or name in prog.unusable:
            return FuncV(name)
        if prog.is_module(name):
            return SingletonV(symbol(name).t, name)
        raise self.error(f"UndefVarError: `{name}` not defined", node)

    def eval_const(self, name: str) -> Value:
        cache = self.program.const_values
        if name in cache:
            return cache[name]
        expr = self.program.consts[name]
        v = self.expr(expr)
        if isinstance(v, ScalarV) and not v.is_const:
            raise self.error(f"global `{name}` must be a compile-time constant", expr)
        if not any(True for _ in runtime_leaves(v)):
            cache[name] = v            # numbers and tuples of numbers fold; arrays are rebuilt at each use
        for box in reachable_boxes({name: v}):
            box.global_name = name     # so each use is a fresh copy, which must not be written (write_box)
        return v

    # ------------------------------------------------------------------ statements
    def block(self, stmts: list[A.Node]) -> None:
        for i, s in enumerate(stmts):
            flags = [self.env[f] for f in FLAGS]
            if any(f.is_const and f.const for f in flags):
                return                                     # unconditionally exited: the rest is dead code
            if any(not f.is_const for f in flags):
                rest = stmts[i:]
                self.guard(lambda: self.block(rest), rest[0])
                return
            with self.loc(s):
                self.stmt(s)

    def guard(self, body: Callable[[], None], node: A.Node) -> None:
        """Run `body` only where no exit flag is set."""
        exiting = self.scalar_or(*[self.env[f] for f in FLAGS])

        def not_exited() -> None:
            # on this arm no flag is set: say so, so the body's own statements are not guarded again
            self.env.update({f: ScalarV(BOOL, False) for f in FLAGS})
            body()
        self.branch(self.scalar_not(exiting), not_exited, lambda: None, node)

    def stmt(self, s: A.Node) -> None:
        method = getattr(self, "stmt_" + type(s).__name__, None)
        if method is None:
            raise self.error(f"unsupported statement: {type(s).__name__}", s)
        try:
            method(s)
        except exceptions.Threw:
            pass                       # the statement throws: the function has exited (RETURNED)
        except _PASS_THROUGH:
            raise
        except Exception as exc:       # noqa: BLE001 - a compiler bug: reported at the construct
            raise InternalError.wrap(exc, getattr(s, "span", None)) from exc

    def stmt_ExprStmt(self, s: A.ExprStmt) -> None:
        e = s.expr
        if isinstance(e, (A.And, A.Or)):
            # `cond && (n += 1)` as a statement: the right side runs for its effect, any type
            c = self.condition(e.left)
            taken = isinstance(e, A.And)          # the value of the left side that runs the right

            def action() -> None:
                unions.narrow(self, e.left, taken)
                self.stmt(A.ExprStmt(e.right, span=e.right.span))
            if taken:
                self.branch(c, action, lambda: None, s)
            else:
                self.branch(c, lambda: None, action, s)
            return
        self.expr(e)

    def stmt_Block(self, s: A.Block) -> None:
        self.block(s.stmts)

    def stmt_Return(self, s: A.Return) -> None:
        if isinstance(s.value, A.If):      # `return if c; a else b end`: each branch returns its value
            self.stmt(ending_with_value([s.value], s.span, lambda value, at: A.Return(value, span=at))[0])
            return
        v = self.expr(s.value) if s.value is not None else nothing()
        self.env[RETURN_VALUE] = v
        self.env[RETURNED] = ScalarV(BOOL, True)

    def stmt_Break(self, s: A.Break) -> None:
        self.env[BROKE] = ScalarV(BOOL, True)

    def stmt_Continue(self, s: A.Continue) -> None:
        self.env[CONTINUED] = ScalarV(BOOL, True)

    def stmt_Global(self, s: A.Global) -> None:
        """`global x` to read a top-level variable is what reading it does anyway; assigning one from a
        function would change state that outlives the call, which a compiled program does not have."""
        body = self.method.fdef.body
        assigned = s.names if s.assign is not None else set(s.names) & assigned_names(
            body.stmts if isinstance(body, A.Block) else [])
        if assigned:
            raise self.error(f"assigning the global variable `{sorted(assigned)[0]}` inside a function is not "
                             f"supported: a compiled program has no state that outlives the call (pass it in as "
                             f"an argument and return the new value)", s)
        for name in s.names:
            if name in self.env:
                raise self.error(f"`{name}` is declared global after it was used as a local variable", s)

    def stmt_Assign(self, s: A.Assign) -> None:
        if isinstance(s.value, A.If) and s.op is None and not s.dotted:
            # `y = if c; a else b end`, whose branches may also return, break or continue
            assign.bind_target(self, s.target, self.if_value(s.value), s)
            return
        assign.assign(self, s)

    def stmt_If(self, s: A.If) -> None:
        (cond, body), rest = s.branches[0], s.branches[1:]
        c = self.condition(cond)

        def orelse() -> None:
            if rest:                   # `elseif`: an `if` in the else arm
                self.stmt_If(A.If(rest, s.orelse, span=rest[0][0].span))
            elif s.orelse is not None:
                self.block(s.orelse.stmts)
        self.branch(c, lambda: (unions.narrow(self, cond, True), self.block(body.stmts)),
                    lambda: (unions.narrow(self, cond, False), orelse()), s)

    def stmt_MacroCall(self, s: A.MacroCall) -> None:
        self.macro(s, statement=True)

    def stmt_While(self, s: A.While) -> None:
        loops.lower_while(self, s)

    def stmt_For(self, s: A.For) -> None:
        loops.lower_for(self, s)

    def stmt_FunctionDef(self, s: A.FunctionDef) -> None:
        """A function defined inside another is a closure bound to its name (one method only)."""
        if s.name is None or s.where or any(p.default is not None for p in s.params):
            raise self.error("a function defined inside another function may not have default values or "
                             "`where` clauses; define it at top level", s)
        if isinstance(self.env.get(s.name), ClosureV):
            raise self.error(f"a second local method of `{s.name}`: local functions have one method; define "
                             f"it at top level for multiple dispatch", s)
        lam = _local_function_lambda(s)
        self.assign_name(s.name, self.expr_Lambda(lam))

    def condition(self, cond: A.Expr) -> ScalarV:
        c = self.expr(cond)
        if not (isinstance(c, ScalarV) and c.t == BOOL):
            raise self.error(f"TypeError: non-boolean ({describe(c)}) used in boolean context", cond)
        return c

    def macro(self, m: A.MacroCall, statement: bool) -> Value:
        if m.name == "assert":
            exceptions.lower_assert(self, m)
            return nothing()
        if m.name in printing.PRINTING_MACROS:
            return printing.lower_print_macro(self, m)
        if m.name == "evalpoly":         # Base's macro is `evalpoly(z, (c...,))`
            if len(m.args) < 2:
                raise self.error("@evalpoly needs a point and at least one coefficient: `@evalpoly(z, c0, c1)`", m)
            z, *coefs = m.args
            return self.expr(A.Call(A.Name("evalpoly", span=m.span), [z, A.TupleExpr(coefs, span=m.span)],
                                    span=m.span))
        # hints that do not change a correct program's result; `@threads`/`@turbo` loops have independent
        # iterations (otherwise the program races in Julia), so running them in order is one of its schedules
        if m.name in ("inbounds", "simd", "inline", "views", "view", "fastmath", "noinline", "propagate_inbounds",
                      "threads", "turbo", "avx"):
            self.inbounds += m.name == "inbounds"
            self.views += m.name in ("views", "view")
            try:
                out: Value = nothing()
                for a in m.args:
                    if isinstance(a, (A.Assign, A.For, A.While, A.If, A.Return, A.Block, A.ExprStmt, A.Break,
                                      A.Continue)):
                        self.stmt(a)
                    else:
                        out = self.expr(a)
                return out
            finally:
                self.inbounds -= m.name == "inbounds"
                self.views -= m.name in ("views", "view")
        raise self.error(f"macro @{m.name} is not supported (accepted: @assert @inbounds @simd @views @view "
                         f"@evalpoly @threads @.)", m)

    # ------------------------------------------------------------------ branches
    def branch(self, c: ScalarV, then: Callable[[], None], orelse: Callable[[], None], node: A.Node) -> None:
        """Lower `if c then else` where the arms mutate the environment."""
        if c.is_const:
            (then if c.const else orelse)()
            return
        if c.batch:
            merge.select_branches(self, c, then, orelse, node)
        else:
            merge.if_branches(self, c, then, orelse, node)

    # ------------------------------------------------------------------ expressions
    def expr(self, e: A.Expr) -> Value:
        method = getattr(self, "expr_" + type(e).__name__, None)
        if method is None:
            raise self.error(f"unsupported expression: {type(e).__name__}", e)
        try:
            if isinstance(e, _NO_OPS):         # emits nothing: keep the enclosing location
                return method(e)
            with self.loc(e):
                return method(e)
        except _PASS_THROUGH:
            raise
        except Exception as exc:       # noqa: BLE001 - a compiler bug: reported at the construct
            raise InternalError.wrap(exc, getattr(e, "span", None)) from exc

    def expr_IntLit(self, e: A.IntLit) -> Value:
        if e.type_name not in SCALARS:
            article = "an" if e.type_name.startswith("I") else "a"
            raise self.error(f"the literal {e.value} is {article} {e.type_name} in Julia; jlhlo's integers have at "
                             f"most 64 bits", e)
        return ScalarV(Scalar(e.type_name), e.value)

    def expr_FloatLit(self, e: A.FloatLit) -> Value:
        return ScalarV(Scalar(e.type_name), float(np.dtype(Scalar(e.type_name).info.np).type(e.value)))

    def expr_BoolLit(self, e: A.BoolLit) -> Value:
        return ScalarV(BOOL, bool(e.value))

    def expr_StringLit(self, e: A.StringLit) -> Value:
        raise self.error("strings are not supported by jlhlo (no string values exist in compiled programs)", e)

    def expr_Interpolated(self, e: A.Interpolated) -> Value:
        raise self.error(f"{e.what} is not supported", e)

    def expr_SymbolLit(self, e: A.SymbolLit) -> Value:
        return symbol(e.name)

    def expr_Name(self, e: A.Name) -> Value:
        return self.lookup(e)

    def expr_ColonAll(self, e: A.ColonAll) -> Value:
        return colon()

    def expr_End(self, e: A.End) -> Value:
        if not self.index_stack:
            raise self.error("`end` used outside of indexing", e)
        arr, dim, nidx = self.index_stack[-1]
        if dim is None:
            raise self.error("`end` among indices that are splatted (`A[I..., end]`) is not supported: write the "
                             "index with `lastindex(A, d)`", e)
        return last_index(self, arr, dim, nidx, e)

    def expr_Begin(self, e: A.Begin) -> Value:
        if not self.index_stack:
            raise self.error("`begin` used outside of indexing", e)
        arr, dim, nidx = self.index_stack[-1]
        if dim is None:
            raise self.error("`begin` among indices that are splatted is not supported: write `firstindex(A, d)`", e)
        if isinstance(arr, StructV) and isinstance(arr.t, StructT):     # a user container's firstindex
            return self.call_function("firstindex", [arr] if nidx == 1 else [arr, ScalarV(INT64, dim + 1)], {}, e)
        return ScalarV(INT64, 1)         # every other indexable value of jlhlo starts at 1

    def expr_For(self, e: A.For) -> Value:
        """A loop as an expression (`(s = 0; for v in x; s += v; end; s)`): run, its value `nothing`."""
        self.stmt(e)
        return nothing()

    expr_While = expr_For

    def expr_If(self, e: A.If) -> Value:
        """`(if c; a else b end) * 2`: the value of the branch taken (`nothing` without an `else`). As
        an assignment's or a `return`'s whole value it is lowered as a statement (stmt_Assign)."""
        if contains([e], (A.Return, A.Break, A.Continue), into_loops=False):
            raise self.error("`return`, `break` or `continue` inside an `if` that is part of a larger expression is "
                             "not supported: assign the `if` to a variable first", e)
        return self.if_value(e, inside_expression=True)

    def if_value(self, e: A.If, inside_expression: bool = False) -> Value:
        result = f"%if{id(e)}"

        def assign(value: A.Expr | None, at: Span | None) -> A.Node:
            return A.Assign(A.Name(result, span=at), value or A.Name("nothing", span=at), span=at)
        self.stmt(ending_with_value([e], e.span, assign)[0])
        if not isinstance(self.env.get(result), Value) and any(
                self.env[f].is_const and self.env[f].const for f in FLAGS):
            self.env.pop(result, None)
            if inside_expression:      # every branch threw (nothing else may exit there): so does the
                raise exceptions.Threw()   # expression around it (`s -= if c; error(m) else ... end`)
            return nothing()           # every branch returned, broke or threw: what follows is not run
        value = self.lookup(A.Name(result, span=e.span))
        del self.env[result]           # a temporary: no loop or branch after this carries it
        return value

    def expr_TupleExpr(self, e: A.TupleExpr) -> Value:
        items = tuple(self.splat_args(e.items))
        return TupleV(TupleT(tuple(v.t for v in items)), items)

    def expr_NamedTupleExpr(self, e: A.NamedTupleExpr) -> Value:
        items = tuple(self.expr(v) for v in e.values)
        return StructV(NamedTupleT(tuple(e.names), tuple(v.t for v in items)), items)

    def expr_Ternary(self, e: A.Ternary) -> Value:
        c = self.condition(e.cond)
        if c.is_const:
            return self.expr(e.then if c.const else e.orelse)
        return self.value_branch(c, lambda: (unions.narrow(self, e.cond, True), self.expr(e.then))[1],
                                 lambda: (unions.narrow(self, e.cond, False), self.expr(e.orelse))[1], e)

    def value_branch(self, c: ScalarV, then: Callable[[], Value], orelse: Callable[[], Value], node: A.Node) -> Value:
        """An `if` whose arms produce a value, lowered through the statement machinery."""
        slot = f"%value{id(node)}"

        def arm(f: Callable[[], Value]) -> Callable[[], None]:
            def run() -> None:
                value = f()            # first: an inner branch replaces self.env (a throw: no value)
                self.env[slot] = value
            return run
        self.branch(c, arm(then), arm(orelse), node)
        if slot not in self.env:
            raise exceptions.Threw()   # both arms throw
        return self.env.pop(slot)

    # `a && b` is b (any value: `x > 0 && (n += 1)`) where a holds, else false; `a || b` likewise
    def expr_And(self, e: A.And) -> Value:
        left = self.condition(e.left)
        if left.is_const:
            return self.expr(e.right) if left.const else left
        return self.value_branch(left, lambda: (unions.narrow(self, e.left, True), self.expr(e.right))[1],
                                 lambda: ScalarV(BOOL, False), e)

    def expr_Or(self, e: A.Or) -> Value:
        left = self.condition(e.left)
        if left.is_const:
            return left if left.const else self.expr(e.right)
        return self.value_branch(left, lambda: ScalarV(BOOL, True),
                                 lambda: (unions.narrow(self, e.left, False), self.expr(e.right))[1], e)

    def expr_Comparison(self, e: A.Comparison) -> Value:
        # a < b <= c is (a < b) && (b <= c), with b evaluated once
        values = [self.expr(o) for o in e.operands]
        result: Value | None = None
        for op, a, b in zip(e.ops, values, values[1:]):
            part = self.call_function(op, [a, b], {}, e)
            result = part if result is None else self.call_function("&", [result, part], {}, e)
        return result

    def expr_Call(self, e: A.Call) -> Value:
        return calls.lower_call(self, e)

    def expr_Broadcast(self, e: A.Broadcast) -> Value:
        f = self.callee_value(e.func)
        args = calls.literal_pow(e, list(self.splat_args(e.args)),
                                 lambda x: broadcast.broadcast_call(self, FuncV("inv"), [x], {}, e))
        kwargs = self.keyword_args(e.kwargs)
        return broadcast.broadcast_call(self, f, args, kwargs, e)

    def expr_Field(self, e: A.Field) -> Value:
        if self.names_module(e.obj):
            return self.global_value(e.name, e)
        obj = self.expr(e.obj)
        return get_field(self, obj, e.name, e)

    def expr_Index(self, e: A.Index) -> Value:
        return lower_index(self, e)

    def expr_Range(self, e: A.Range) -> Value:
        start = self.expr(e.start)
        stop = self.expr(e.stop)
        step = self.expr(e.step) if e.step is not None else None
        return make_range(self, start, step, stop, e)

    def expr_Lambda(self, e: A.Lambda) -> Value:
        shared = sorted(_rebound_names(e) & self._local_names())
        if shared:
            name = shared[0]
            raise self.error(f"a closure that assigns to `{name}`, a local variable of the function around it, is "
                             f"not supported: in Julia the two share `{name}` (the function sees what the closure "
                             f"assigns), and jlhlo compiles a closure with copies of the variables it captures. "
                             f"Keep the value in a `Ref` (`{name} = Ref(...)`, then `{name}[] = ...` in the closure) "
                             f"or an array, or return it from the closure", e)
        free = free_names(e)
        captured = {n: v for n, v in self.env.items() if n in free and not isinstance(v, Undef)}
        return ClosureV(e, captured, origin=id(self))

    def expr_Vect(self, e: A.Vect) -> Value:
        return vect(self, list(self.splat_args(e.items)), e)

    def expr_HCat(self, e: A.HCat) -> Value:
        return self.call_function("hcat", [self.expr(i) for i in e.items], {}, e)

    def expr_VCat(self, e: A.VCat) -> Value:
        rows = []
        for row in e.rows:
            vals = [self.expr(i) for i in row]
            rows.append(vals[0] if len(vals) == 1 else self.call_function("hcat", vals, {}, e))
        return self.call_function("vcat", rows, {}, e)

    def expr_Generator(self, e: A.Generator) -> Value:
        return comprehension(self, e)

    def expr_Curly(self, e: A.Curly) -> Value:
        # a method's static parameters are types in its body: `Vector{T}` with T bound to Float32
        bound: dict[str, Pat] = {n: PScalar(v.of.name) for n, v in self.env.items()
                                 if isinstance(v, TypeV) and isinstance(v.of, Scalar)}
        # and its value parameters are constants: `Val{N}()` with N bound to 3 (or a local `k = 3`)
        for p in e.params:
            v = self.env.get(p.id) if isinstance(p, A.Name) else None
            if isinstance(v, ScalarV):
                if not (v.is_const and isinstance(v.const, (bool, int))):
                    raise self.error(f"the type parameter `{p.id}` must be an integer or Bool known when compiling; "
                                     f"here it is a run-time {v.t.julia()}", p)
                bound[p.id] = PConst(v.const)
        pat = self.program.universe.pattern(e, bound)
        return TypeV(Scalar(pat.name) if isinstance(pat, PScalar) else pat)     # `Complex{Float64}`

    def expr_TypeAssert(self, e: A.TypeAssert) -> Value:
        v = self.expr(e.value)
        pat = self.program.universe.pattern(e.type, {})
        if not self.program.universe.matches(pat, v.t, {}):
            raise self.error(f"TypeError: typeassert: expected {pat.show()}, got a value of type {v.t.julia()}", e)
        return v

    def expr_MacroCall(self, e: A.MacroCall) -> Value:
        return self.macro(e, statement=False)

    def expr_BlockExpr(self, e: A.BlockExpr) -> Value:
        stmts = e.body.stmts
        if not stmts:
            return nothing()
        self.block(stmts[:-1])
        last = stmts[-1]
        if isinstance(last, A.ExprStmt):
            return self.expr(last.expr)
        self.stmt(last)
        if isinstance(last, A.Assign) and isinstance(last.target, A.Name):
            return self.lookup(last.target)
        return nothing()

    def expr_Let(self, e: A.Let) -> Value:
        saved = dict(self.env)
        for b in e.bindings:
            self.stmt(b)
        out = self.expr_BlockExpr(A.BlockExpr(e.body, span=e.span))
        # the bindings are local to the `let`; other assignments in it reach the enclosing variables
        local = assigned_names(e.bindings)
        inner = self.env
        self.env = {k: v if k in local else inner.get(k, v) for k, v in saved.items()}
        return out

    def expr_Splat(self, e: A.Splat) -> Value:
        raise self.error("splatting `...` is only supported in call arguments and tuples", e)

    def expr_Kwarg(self, e: A.Kwarg) -> Value:
        raise self.error("keyword argument outside of a call", e)

    def splat_args(self, items: list[A.Expr]):
        for it in items:
            if isinstance(it, A.Splat):
                v = self.expr(it.value)
                if isinstance(v, (TupleV, ArrayListV)):
                    yield from v.items
                elif isinstance(v, StructV) and isinstance(v.t, NamedTupleT):
                    yield from v.items
                elif isinstance(v, (ArrayV, RangeV)):
                    yield from self.splat_elements(v, it)
                else:
                    raise self.error(f"splatting a value of type {v.t.julia()} is not supported (only tuples, "
                                     f"named tuples, arrays and ranges)", it)
            else:
                yield self.expr(it)

    def splat_elements(self, v: ArrayV | RangeV, node: A.Node) -> list[Value]:
        """`f(xs...)` of an array or range passes its elements in iteration (column-major) order;
        how many arguments that is must be known when compiling."""
        n = self.call_function("length", [v], {}, node)
        if not n.is_const:
            raise self.error(f"splatting a {v.t.julia()} whose length is known only at run time: the number of "
                             f"arguments of a call must be known when compiling", node)
        if n.const > 64:
            raise self.error(f"splatting {n.const} elements into a call is not supported (at most 64: "
                             f"reduce the array instead, e.g. `maximum(xs)` for `max(xs...)`)", node)
        return [self.call_function("getindex", [v, ScalarV(INT64, k)], {}, node) for k in range(1, n.const + 1)]

    def keyword_args(self, kwargs: list[A.Kwarg]) -> dict[str, Value]:
        """A call's keyword arguments by name; `; kws...` passes each field of a named tuple (the
        keywords a method collected with `kws...`), and a later keyword replaces an earlier one."""
        out: dict[str, Value] = {}
        for k in kwargs:
            if k.name is not None:
                out[k.name] = self.expr(k.value)
                continue
            v = self.expr(k.value)
            if not (isinstance(v, StructV) and isinstance(v.t, NamedTupleT)):
                raise self.error(f"keyword arguments splatted with `...` must be a named tuple, not a "
                                 f"{v.t.julia()}", k)
            out.update(zip(v.t.names, v.items))
        return out

    def callee_value(self, f: A.Expr) -> Value:
        if isinstance(f, A.Name) and f.id not in self.env:
            if f.id in self.program.methods or f.id in PRIMITIVES or f.id in self.program.unusable:
                return FuncV(f.id)
        if isinstance(f, A.Field) and self.names_module(f.obj):
            return self.callee_value(A.Name(f.name, span=f.span))
        return self.expr(f)

    def names_module(self, e: A.Expr) -> bool:
        """`LinearAlgebra`, `Main.Geometry`: a module (one namespace: `M.f` is `f`)."""
        if isinstance(e, A.Name):
            return self.program.is_module(e.id) and e.id not in self.env
        return isinstance(e, A.Field) and self.program.is_module(e.name) and self.names_module(e.obj)

    # ------------------------------------------------------------------ calls
    def call_function(self, name: str, args: list[Value], kwargs: dict[str, Value], node: A.Node) -> Value:
        """Dispatch `name(args...; kwargs...)`: Julia methods (user and prelude) first, then primitives."""
        split = unions.split_call(self, args, kwargs, lambda a, k: self.call_function(name, a, k, node), node)
        if split is not None:
            return split
        methods = self.program.methods.get(name, [])
        if methods:
            chosen = select_method(self.program.universe, methods, [a.t for a in args])
            if isinstance(chosen, list):
                raise self.error(f"MethodError: {name}({', '.join('::' + a.t.julia() for a in args)}) is ambiguous. "
                                 f"Candidates:\n" + "\n".join(f"  {m.signature()}" for m in chosen), node)
            if chosen is not None:
                method, bindings = chosen
                return self.invoke(method, bindings, args, kwargs, node)
        prim = PRIMITIVES.get(name)
        if prim is not None:
            try:
                return prim(self, args, kwargs, node)
            except NeedsStatic as nm:
                raise StaticValueNeeded(nm.args[0], getattr(node, "span", None)) from None
            except NoMethod as nm:
                # the primitive's own reason is the better message, even where Julia methods of the
                # name exist (the prelude's `size` of a Symmetric leaves `size(x, 0)` a primitive's error)
                if not nm.args or not nm.args[0]:
                    raise self.no_method(name, args, methods, node) from None
                raise self.error(nm.args[0], node) from None
        unusable = self.program.unusable.get(name)
        if unusable:                   # the method the call needs names a type jlhlo lacks
            e = unusable[0]
            raise JuliaError(f"{e.message} (in the signature of a method of `{name}`, at {e.span}); no other method "
                             f"of `{name}` takes ({', '.join('::' + a.t.julia() for a in args)})",
                             getattr(node, "span", None))
        if not methods:
            raise self.error(f"UndefVarError: `{name}` not defined", node)
        raise self.no_method(name, args, methods, node)

    def no_method(self, name: str, args: list[Value], methods: list[Method], node: A.Node) -> JuliaError:
        shown = "(" + name + ")" if name == CALL else name
        msg = f"MethodError: no method matching {shown}({', '.join('::' + a.t.julia() for a in args)})"
        if methods:
            msg += "\nClosest candidates are:\n" + "\n".join(
                f"  {m.signature()}" + (f" at {m.fdef.span}" if m.origin == "user" and m.fdef.span else "")
                for m in methods[:8])
        return self.error(msg, node)

    def invoke(self, method: Method, bindings: dict[str, object], args: list[Value], kwargs: dict[str, Value],
               node: A.Node | None) -> Value:
        if isinstance(method.fdef, A.StructDef):          # a default constructor: no code, just the fields
            if kwargs:
                raise self.error(f"MethodError: the default constructor of {method.name} takes no keyword "
                                 f"arguments", node)
            return default_construct(self, method.fdef.name, args, node)
        spec = self.mod.specialize(method, args, kwargs, getattr(node, "span", None), bindings=bindings)
        return self.call_spec(spec, [*args, *(kwargs[k] for k in sorted(kwargs))], node)

    def call_spec(self, spec: Specialization, args: list[Value], node: A.Node | None) -> Value:
        if spec.draws:
            self.note_draw()
        if spec.prints:
            printing.checkpoint(self, node)
        if spec.mutated and self.lanes:
            # lowered once for all lanes, a call that changes an array would change it once, not once
            # per iteration or element (difftest seed 3022): a loop instead
            raise LaneConflict()
        in_leaves = [leaf for a in args for leaf in runtime_leaves(a)]
        _check_views_apart(self, in_leaves, {j for j, _ in spec.mutated}, node)
        operands = [_leaf_ir(leaf) for leaf in in_leaves]
        call = func_d.CallOp(spec.result_types, ir.FlatSymbolRefAttr.get(spec.name), operands)
        results = list(call.results)
        for j, k in spec.mutated:
            self.write(in_leaves[j], results[k], node)
        out = self.call_result(spec, in_leaves, results, node)
        if spec.err_always or spec.never_returns:
            self.env[RETURNED] = ScalarV(BOOL, True)
            raise exceptions.Threw()   # the callee throws on every path: so does this call
        return out

    def call_result(self, spec: Specialization, in_leaves: list[Value], results: list[ir.Value],
                    node: A.Node | None = None) -> Value:
        """The callee's result rebuilt from the results of a call to it (or to its VJP, whose first
        results are the same); the callee's check code joins ours."""
        renamed = self._user_sites(spec, node)
        self.sites |= {renamed.get(s, s) for s in spec.sites}
        if spec.err_always:
            # known to fail: a constant, so callers know too
            self.merge_error(ScalarV(ERR, renamed.get(spec.err_always, spec.err_always)))
        elif spec.err_result is not None:
            code = results[spec.err_result]
            batch = tuple(B.shape(code))
            for old, new in renamed.items():
                code = hlo.select(H.compare("EQ", code, H.constant(ERR, old, batch), "int"),
                                  H.constant(ERR, new, batch), code)
            self.merge_error(ScalarV(ERR, None, code, batch))
        boxes: dict[int, Box] = {}         # one box per array result, however often it is returned

        def rebuilt_box(where: tuple) -> Box:
            if where[0] == "param":
                return in_leaves[where[1]].box
            if where[0] == "derived":
                _, template, values, parts = where
                return template.rebuilt([results[k] for k in values], [rebuilt_box(p) for p in parts])
            return boxes.setdefault(where[1], Box(results[where[1]]))

        def rebuilt(leaf: Value, where: tuple) -> Value:
            if isinstance(leaf, ArrayV):
                return ArrayV(leaf.t, rebuilt_box(where))
            # bounds the callee proved hold for every call (its parameters come in unbounded: they
            # rest on its constants, which its specialization is keyed by): `clamp(k, 1, n)`
            return ScalarV(leaf.t, None, results[where[1]], leaf.batch, interval=leaf.interval)
        where = iter(spec.result_leaves)
        return map_leaves(spec.result, lambda leaf: rebuilt(leaf, next(where)))

    def _user_sites(self, spec: Specialization, node: A.Node | None) -> dict[int, int]:
        """A check that fails inside the library (the prelude) is the user's failure at the call that
        led there, with the library's place as a note, as Julia's stack traces show it: user code
        calling a library function gets a site of its own for each of the callee's library sites."""
        call_span = getattr(node, "span", None)
        if not spec.library or self.method.origin == "prelude" or call_span is None:
            return {}
        renamed = {}
        for site in sorted(spec.sites):
            span, message, notes = self.mod.check_sites[site - 1]
            if span is not None and span.file.startswith(PRELUDE_PREFIX):
                where = (f"in `{spec.function}`, at {span}",)
                renamed[site] = self.mod.add_check_site(call_span, message, notes + where)
        return renamed

    def write(self, array: ArrayV, value: ir.Value, node: A.Node | None) -> None:
        """Change an array in place: every variable that shares it sees the new contents."""
        self.write_box(array.box, value, node)

    def write_box(self, box: Box, value: ir.Value, node: A.Node | None) -> None:
        name = box.global_name
        if name is not None:
            raise self.error(f"changing the contents of the global `{name}` is not supported: a compiled program "
                             f"keeps no state between its functions' uses of a global (each use is a fresh copy); "
                             f"make it a local variable and pass it to the functions that change it", node)
        if box.derived:
            box.write(self, value, node)   # a view or a branch-dependent array: the storage behind it changes
        else:
            box.value = value

    # ------------------------------------------------------------------ run-time bounds checks
    def check(self, ok: ScalarV, node: A.Node, message: str, bounds: bool = False) -> None:
        """Record that `ok` must hold at run time; the first failure is reported after execution as a
        Julia error at `node` (XLA has no exceptions). `@inbounds` and --check-bounds=no skip a
        bounds check, and only those (as in Julia)."""
        if bounds and (self.inbounds or not self.mod.check_bounds) or (ok.is_const and ok.const):
            return
        site = self.mod.add_check_site(getattr(node, "span", None), message)
        self.sites.add(site)
        if ok.is_const:                # fails whenever it is reached, which a branch may decide at run time
            self.merge_error(ScalarV(ERR, site))
            return
        self.merge_error(ScalarV(ERR, None, hlo.select(ok.ir, H.constant(ERR, 0, ok.batch),
                                                       H.constant(ERR, site, ok.batch)), ok.batch))

    def merge_error(self, new: ScalarV) -> None:
        """%err keeps the first failure: an existing nonzero code wins over a new one. It has one code
        per lane only in a function lowered for all lanes of a broadcast; elsewhere a check made
        lane-wise (a broadcast's elements) is one code, that of a failing element."""
        if new.batch and new.batch != self.lanes and (self.lanes or not self.lane_arms):
            # (in a per-lane arm outside a function lowered for lanes, a comprehension's, the branch masks
            # the lanes first; inside one, a batch other than the lanes is an array's elements)
            new = self.first_failure(new)
        err = self.env[ERROR_CODE]
        if err.is_const and err.const == 0:
            self.env[ERROR_CODE] = new
            return
        if err.is_const:
            return                     # an earlier check fails on every path here: it is the first failure
        batch = err.batch or new.batch
        old = B.broadcast(self.materialize(err), batch)
        merged = hlo.select(H.compare("EQ", old, H.constant(ERR, 0, batch), "int"),
                            B.broadcast(self.materialize(new), batch), old)
        self.env[ERROR_CODE] = ScalarV(ERR, None, merged, batch)

    def first_failure(self, codes: ScalarV) -> ScalarV:
        """One error code from one per lane: that of the first failing lane in column-major order,
        the element at which Julia's broadcast would have thrown."""
        if not codes.batch or codes.is_const:
            return codes
        batch, dims = codes.batch, list(range(len(codes.batch)))
        single = _one_check(codes.ir)
        if single is not None:           # one check's codes (`check`'s select): which lane fails is moot
            ok, site = single
            all_ok = B.reduce(ok, H.constant(BOOL, True), dims, hlo.and_)
            return ScalarV(ERR, None, hlo.select(all_ok, H.constant(ERR, 0), H.constant(ERR, site)))
        position = H.constant(INT64, 0, batch)
        stride = 1
        for d, size in enumerate(batch):
            position = hlo.add(position, hlo.multiply(H.iota(INT64, batch, d), H.constant(INT64, stride, batch)))
            stride *= size
        failed = H.compare("NE", codes.ir, H.constant(ERR, 0, batch), "int")
        key = hlo.select(failed, position, H.constant(INT64, stride, batch))
        first = B.reduce(key, H.constant(INT64, stride), dims, hlo.minimum)
        # that lane's code, read at its coordinates (one pass over the lanes, not two)
        starts, rest = [], first
        for size in batch:
            starts.append(hlo.remainder(rest, H.constant(INT64, size)))
            rest = hlo.divide(rest, H.constant(INT64, size))
        code = B.reshape(hlo.dynamic_slice(codes.ir, starts, [1] * len(batch)), ())
        none = H.compare("EQ", first, H.constant(INT64, stride), "int")
        return ScalarV(ERR, None, hlo.select(none, H.constant(ERR, 0), code))

    # ------------------------------------------------------------------ scalar helpers used everywhere
    def materialize(self, v: ScalarV) -> ir.Value:
        if not v.is_const:
            return v.ir
        return H.constant(v.t, v.const, v.batch)

    def for_host(self, v: Value) -> Value:
        """The entry's result as the host gets it: ranges collected into vectors."""
        if isinstance(v, RangeV):
            return collect_range(self, v, self.method.fdef)
        if isinstance(v, TupleV):
            items = tuple(self.for_host(c) for c in v.items)
            return TupleV(TupleT(tuple(i.t for i in items)), items)
        if isinstance(v, StructV):
            return StructV(v.t, tuple(self.for_host(c) for c in v.items))
        return v

    def materialize_all(self, v: Value) -> Value:
        """A copy of `v` with every constant scalar leaf turned into a runtime value."""
        if isinstance(v, ScalarV):
            return ScalarV(v.t, None, self.materialize(v), v.batch) if v.is_const else v
        if isinstance(v, TupleV):
            return TupleV(v.t, tuple(self.materialize_all(c) for c in v.items))
        if isinstance(v, StructV):
            return StructV(v.t, tuple(self.materialize_all(c) for c in v.items))
        if isinstance(v, RangeV):
            return RangeV(v.t, *(self.materialize_all(c) for c in v.parts))
        if isinstance(v, ClosureV):
            return ClosureV(v.lam, {k: self.materialize_all(c) for k, c in v.captured.items()}, v.origin)
        return v

    def scalar_not(self, v: ScalarV) -> ScalarV:
        if v.is_const:
            return ScalarV(BOOL, not v.const)
        return ScalarV(BOOL, None, hlo.not_(v.ir), v.batch)

    def scalar_or(self, *vs: ScalarV) -> ScalarV:
        out = ScalarV(BOOL, False)
        for v in vs:
            if v.is_const:
                if v.const:
                    return ScalarV(BOOL, True)
                continue
            if out.is_const:
                out = v
            else:
                batch = out.batch or v.batch
                out = ScalarV(BOOL, None, hlo.or_(B.broadcast(out.ir, batch), B.broadcast(v.ir, batch)), batch)
        return out


def _one_check(codes: ir.Value) -> tuple[ir.Value, int] | None:
    """(ok, site) when per-lane error codes are `select(ok, 0, site)` with constant 0 and site, as one
    `check` makes them."""
    op = codes.owner
    if not isinstance(op, ir.OpView) or op.operation.name != "stablehlo.select":
        return None
    ok, zero, site = op.operands
    values = []
    for v in (zero, site):
        const = v.owner
        if not isinstance(const, ir.OpView) or const.operation.name != "stablehlo.constant":
            return None
        attr = ir.DenseIntElementsAttr(const.attributes["value"])
        if not attr.is_splat:
            return None
        values.append(ir.IntegerAttr(attr.get_splat_value()).value)
    return (ok, values[1]) if values[0] == 0 and values[1] != 0 else None


def _check_views_apart(fl: FunctionLowering, leaves: list[Value], mutated: set[int], node: A.Node | None) -> None:
    """A callee gets each argument's contents: inside it, a view and the array it looks into (or two
    views of one array) are separate arrays. That is only visible if the callee changes one of them."""
    sharing: dict[int, list[int]] = {}     # storage -> the arguments that reach it
    for j, leaf in enumerate(leaves):
        if isinstance(leaf, ArrayV):
            for root in {id(r): r for r in leaf.box.roots()}:
                sharing.setdefault(root, []).append(j)
    for js in sharing.values():
        if len(js) > 1 and any(leaves[j].box.derived for j in js) and any(j in mutated for j in js):
            raise fl.error("this function changes an array that it also gets as a view (or two views of one array "
                           "are passed to it); jlhlo does not support that", node)


def _leaf_type(leaf: Value) -> ir.Type:
    if isinstance(leaf, ArrayV):
        return H.tensor_type(leaf.t.elt, leaf.t.shape)
    return H.tensor_type(leaf.t, leaf.batch)


def _leaf_ir(leaf: Value) -> ir.Value:
    return leaf.box.value if isinstance(leaf, ArrayV) else leaf.ir


def with_implicit_return(stmts: list[A.Node], span: Span | None) -> list[A.Node]:
    """Julia returns the value of the last statement: make that an explicit `return`."""
    return ending_with_value(stmts, span, lambda value, at: A.Return(value, span=at))


def ending_with_value(stmts: list[A.Node], span: Span | None,
                      sink: Callable[[A.Expr | None, Span | None], A.Node]) -> list[A.Node]:
    """`stmts` whose last statement's value (None: `nothing`) goes to `sink(value, span)`, a statement
    that returns it or assigns it; a last `if` passes on the value of the branch taken."""
    if not stmts:
        return [sink(None, span)]
    *init, last = stmts
    if isinstance(last, A.ExprStmt):
        return init + [sink(last.expr, last.span)]
    if isinstance(last, A.Return):
        return stmts
    if isinstance(last, A.If):
        branches = [(c, A.Block(ending_with_value(b.stmts, b.span, sink), span=b.span)) for c, b in last.branches]
        orelse = A.Block(ending_with_value(last.orelse.stmts if last.orelse else [], last.span, sink), span=last.span)
        return init + [A.If(branches, orelse, span=last.span)]
    if isinstance(last, A.Assign) and isinstance(last.target, A.Index) and not last.dotted:
        # the value of `A[i] = v` is v itself; `A[i] += v` is `A[i] = A[i] + v`
        value = last.value if last.op is None else A.Call(A.Name(last.op, span=last.span), [last.target, last.value],
                                                          span=last.span)
        tmp = A.Name(f"%assigned{id(last)}", span=last.span)
        return init + [A.Assign(tmp, value, span=last.span), A.Assign(last.target, tmp, span=last.span),
                       sink(tmp, last.span)]
    if isinstance(last, A.Assign):
        return stmts + [sink(last.target, last.span)]      # `x = v`, `x += v`, `x .= v`: x
    if isinstance(last, A.MacroCall) and len(last.args) == 1 and not isinstance(last.args[0], (A.For, A.While)):
        inner = last.args[0]
        if isinstance(inner, A.Node) and not isinstance(inner, (A.Assign, A.If, A.Return, A.Block)):
            return init + [sink(last, last.span)]
    return stmts + [sink(None, last.span)]


_LOCAL_FUNCTIONS = A.NodeMemo()


def _local_function_lambda(s: A.FunctionDef) -> A.Lambda:
    lam = _LOCAL_FUNCTIONS.get(s)
    if lam is None:
        params = [A.Param(p.name, p.type, None, p.splat, span=p.span) for p in s.params]
        lam = _LOCAL_FUNCTIONS.put(s, A.Lambda(params, s.body, s.name, s.kwparams, span=s.span))
    return lam


_FREE_NAMES = A.NodeMemo()


def _rebound_names(lam: A.Lambda) -> set[str]:
    """The names a lambda (or a lambda inside it) assigns that are not its own: neither parameters
    nor declared `local` in it. In Julia they are the variables of the enclosing function, if it
    has them. (A local function inside it is checked when it is made.)"""
    declared = {p.name for p in lam.params + lam.kwparams}
    nested: list[A.Lambda] = []

    def walk(n: object) -> None:
        if isinstance(n, A.Lambda):        # its own parameters and `local`s are not this lambda's
            nested.append(n)
            return
        if isinstance(n, A.FunctionDef):
            return
        if isinstance(n, A.Assign) and n.local and isinstance(n.target, A.Name):
            declared.add(n.target.id)
        for c in A.children(n):
            walk(c)
    walk(lam.body)
    inner = set(assigned_names(lam.body.stmts)).union(*map(_rebound_names, nested))
    return {n for n in inner - declared if not n.startswith("%")}     # not the lowering's own temporaries


def free_names(node: A.Node) -> set[str]:
    """Every identifier a lambda mentions except its parameters (a superset of its free variables,
    which is all capture needs; a parameter shadows the variable of the same name outside)."""
    cached = _FREE_NAMES.get(node)
    if cached is not None:
        return cached
    out: set[str] = set()
    _FREE_NAMES.put(node, out)

    def walk(n: object) -> None:
        if isinstance(n, A.Name):
            out.add(n.id)
        for c in A.children(n):
            walk(c)
    walk(node)
    if isinstance(node, A.Lambda):
        out -= {p.name for p in node.params + node.kwparams}
    return out
