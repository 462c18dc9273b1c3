"""What the lowering modules and primitive rules see of the function being lowered.

`lower.FunctionLowering` implements `Lowering`; every other module of the frontend is written
against this interface, so none of them imports `lower.py` (which imports them all). The members
fall into four groups: the program and the module being built (`program`, `mod`), evaluating
source (`expr`, `stmt`, `block`, `condition`, calls), the state of the function (variables in
`env`, arrays shared with the caller, loop and lane state) and emitting effects (writes into
arrays, run-time checks, errors with their source location).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterator, Protocol

from jax.extend.mlir import ir

from . import ast as A
from .diagnostics import JuliaError
from .types import Scalar
from .values import ArrayV, Box, ScalarV, Value

if TYPE_CHECKING:
    from .dispatch import Method
    from .program import Program

# The names of the control-flow state a function keeps next to its variables in `Lowering.env`:
RETURNED, BROKE, CONTINUED = "%ret", "%brk", "%cont"     # Bool flags: the rest of the body is skipped
RETURN_VALUE = "%retval"       # the value an early `return` inside a loop or branch produced
ERROR_CODE = "%err"            # Int32: the first failed run-time check's site (0: none failed)
ERR = Scalar("Int32")          # the type of ERROR_CODE
FLAGS = (RETURNED, BROKE, CONTINUED)


@dataclass
class Specialization:
    """A method lowered for one tuple of argument types: a func.func and how to read its results."""
    name: str                          # the func.func symbol
    result: Value                      # the callee-side result (its runtime leaves are func results)
    result_leaves: list[tuple]         # per runtime leaf of `result`: ("out", k), or for arrays also
    #                                    ("param", j) or ("derived", box, outs, parts) (see describe_box)
    mutated: list[tuple[int, int]]     # (param leaf j, func result k): arrays the callee mutated
    result_types: list[ir.Type]
    err_result: int | None             # the func result holding the callee's bounds-check code, if any
    variables: list[tuple[str, str]] = field(default_factory=list)   # for --emit typed
    draws: bool = False                # draws random numbers (see Lowering.note_draw)
    prints: bool = False               # prints, directly or in a callee (see printing.py)
    err_always: int = 0                # a check site that fails on every path through the callee
    never_returns: bool = False        # every path through the callee throws (maybe at different checks)
    sites: frozenset[int] = frozenset()   # the check sites its error code can name (callees' included)
    library: bool = False              # a method of the prelude: its checks are reported at the user's call
    function: str = ""                 # the Julia function's name


# The reverse-mode transform the driver hands to the frontend (`mlir_passes.autodiff.build_vjp`):
# (module, function symbol, which arguments to differentiate, whether the forward pass has run
# already: pullback's `back`) -> the symbol of its VJP function.
# It raises `core.errors.LocatedError` for an op it cannot differentiate.
Differentiate = Callable[[ir.Module, str, list[bool], bool], str]


class ModuleContext(Protocol):
    """The module being built (`lower.ModuleLowering`)."""
    module: ir.Module
    check_bounds: bool
    reassociate: bool                  # a loop may fold floating-point `+`/`*` in another order (@simd's licence)
    vectorize: bool                    # loop nests may run as array operations at all
    loop_notes: dict[tuple[object, str], None]   # (loop span, what it became), in order, for --explain-loops
    differentiate: Differentiate
    differentiating: int               # > 0 inside code being differentiated (NNlib's within_gradient)
    print_sites: list                  # printing.PrintSite per `custom_call @jlhlo.print`, by index

    def specialize(self, method: Method, args: list[Value], kwargs: dict[str, Value], call_span: object,
                   public_name: str | None = None, bindings: dict[str, object] | None = None) -> Specialization: ...
    def add_check_site(self, span: object, message: str, notes: tuple[str, ...] = ()) -> int: ...


class Checkpoint(Protocol):
    def restore(self) -> None: ...


class Lowering(Protocol):
    """One function being lowered (`lower.FunctionLowering`)."""
    program: Program
    mod: ModuleContext
    env: dict[str, object]                       # variables, and the control-flow state named above
    index_stack: list[tuple[Value, int | None, int | None]]    # (array, dimension, ndims) for `end`; None: splat
    inbounds: int                                # inside @inbounds: no bounds checks
    views: int                                   # inside @views: slices are views
    lanes: tuple[int, ...]                       # the lane shape when broadcast over arrays
    lane_arms: int                               # inside arms of a branch taken per lane
    draws: int                                   # random draws emitted so far
    prints: int                                  # prints emitted so far (printing.py)
    public: bool                                 # the entry function (its results go to the host)
    param_boxes: dict[int, Box]                  # the arrays the caller passed in
    pinned_boxes: dict[int, Box]                 # loop-body arrays branches must not copy (loops._Rebound)
    loop_facts: dict[int, object]                # per loop node: what lowering it taught
    promoted: dict[str, tuple[frozenset[str], object]]   # variable -> (Union members, promoted type), --emit typed

    # evaluating source
    def expr(self, e: A.Expr) -> Value: ...
    def stmt(self, s: A.Node) -> None: ...
    def block(self, stmts: list[A.Node]) -> None: ...
    def condition(self, cond: A.Expr) -> ScalarV: ...
    def guard(self, body: Callable[[], None], node: A.Node) -> None: ...
    def splat_args(self, items: list[A.Expr]) -> Iterator[Value]: ...
    def callee_value(self, f: A.Expr) -> Value: ...
    def call_function(self, name: str, args: list[Value], kwargs: dict[str, Value], node: A.Node) -> Value: ...
    def invoke(self, method: Method, bindings: dict[str, object], args: list[Value], kwargs: dict[str, Value],
               node: A.Node | None) -> Value: ...
    def call_spec(self, spec: Specialization, args: list[Value], node: A.Node | None) -> Value: ...
    def call_result(self, spec: Specialization, in_leaves: list[Value], results: list[ir.Value],
                    node: A.Node | None = None) -> Value: ...
    def no_method(self, name: str, args: list[Value], methods: list[Method], node: A.Node) -> JuliaError: ...

    # variables and trial lowering
    def assign_name(self, name: str, v: Value) -> None: ...
    def refresh_closures(self, name: str, v: Value) -> None: ...
    def checkpoint(self) -> Checkpoint: ...
    def dry_run(self, fn: Callable[[], Value]) -> Value: ...

    # emitting
    def loc(self, node: A.Node | None) -> ir.Location: ...
    def error(self, message: str, node: A.Node | None) -> JuliaError: ...
    def materialize(self, v: ScalarV) -> ir.Value: ...
    def materialize_all(self, v: Value) -> Value: ...
    def write(self, array: ArrayV, value: ir.Value, node: A.Node | None) -> None: ...
    def write_box(self, box: Box, value: ir.Value, node: A.Node | None) -> None: ...
    def check(self, ok: ScalarV, node: A.Node, message: str, bounds: bool = False) -> None: ...
    def merge_error(self, new: ScalarV) -> None: ...
    def branch(self, c: ScalarV, then: Callable[[], None], orelse: Callable[[], None], node: A.Node) -> None: ...
    def value_branch(self, c: ScalarV, then: Callable[[], Value], orelse: Callable[[], Value],
                     node: A.Node) -> Value: ...
    def first_failure(self, codes: ScalarV) -> ScalarV: ...
    def note_draw(self) -> None: ...
    def scalar_not(self, v: ScalarV) -> ScalarV: ...
    def scalar_or(self, *vs: ScalarV) -> ScalarV: ...
