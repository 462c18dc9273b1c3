"""A parsed program: its definitions sorted into method tables, structs, abstract types and
constants, together with the prelude (the library written in the language itself)."""
from __future__ import annotations

import gc
import hashlib
import importlib.resources
import os
import pickle
import sys
import tempfile
import weakref
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import lark

from ..core.cache_dir import cache_directory
from . import ast as A
from . import diagnostics, parser
from .diagnostics import JuliaError
from .dispatch import Method, PAny, PStruct, PTypeVar, StructInfo, TypeUniverse, expand_defaults
from .growing import preallocate_pushes
from .parser import new_name, parse

# Modules a program may name in `using`/`import` and as qualifiers (`Base.tail`): what they export
# is provided by the compiler's primitives and prelude.
KNOWN_MODULES = {"Base", "Core", "LinearAlgebra", "Statistics", "NNlib", "Flux", "Zygote", "Random", "Printf",
                 "Optimisers", "Losses", "OneHotArrays", "MLUtils", "Iterators", "LogExpFunctions", "StatsFuns"}
CALL = "(call)"                        # the method table of callable structs: `(d::Dense)(x) = ...`


@dataclass
class Program:
    filename: str
    ast: A.ModuleAST
    sources: dict[str, str]
    universe: TypeUniverse = field(default_factory=TypeUniverse)
    methods: dict[str, list[Method]] = field(default_factory=dict)
    consts: dict[str, A.Expr] = field(default_factory=dict)
    const_values: dict[str, object] = field(default_factory=dict)   # folded constants, by name
    # methods whose signature names a type jlhlo lacks (`::Complex{Float64}`, `::Val{N}`), by
    # function: the error is reported only if a call finds no other method
    unusable: dict[str, list[JuliaError]] = field(default_factory=dict)

    def is_module(self, name: str) -> bool:
        """A module name: Julia's packages jlhlo provides, or a `module` block of the program."""
        return name in KNOWN_MODULES or name in self.ast.modules or name == "Main"

    @classmethod
    def from_source(cls, source: str, filename: str = "main.jl") -> Program:
        module = parse(source, filename)
        prelude = _prelude_program()
        prog = cls(filename, module, {filename: source, **prelude.sources}, prelude.universe.copy(),
                   {name: list(table) for name, table in prelude.methods.items()}, dict(prelude.consts),
                   unusable={name: list(errors) for name, errors in prelude.unusable.items()})
        weakref.finalize(prog, A.clear_memos)
        prog._collect(module, "user")
        return prog

    def _collect(self, module: A.ModuleAST, origin: str) -> None:
        self._pending_constructors: list[tuple[A.StructDef, str]] = []
        for item in module.items:
            if isinstance(item, A.StructDef):
                self._add_struct(item, origin)
            elif isinstance(item, A.AbstractTypeDef):
                sup = _type_name(item.supertype) if item.supertype is not None else "Any"
                self.universe.abstract_parents[item.name] = sup
        for s, o in self._pending_constructors:
            self._add_default_constructor(s, o)
        for item in module.items:
            if isinstance(item, A.StructDef):
                for f in item.constructors:    # with inner constructors there is no default one
                    self._add_function(f, origin)
                if item.kwdef:
                    self._add_function(_keyword_constructor(item), origin)
                elif item.defaults:
                    raise JuliaError(f"field defaults in `struct {item.name}` need `Base.@kwdef` before `struct`",
                                     item.span)
            if isinstance(item, A.FunctionDef):
                self._add_function(item, origin)
            elif isinstance(item, A.ConstDef):
                self.universe.aliases[item.name] = (item.params, item.value)
                if not item.params:    # a parametric alias is a type only
                    self.consts[item.name] = item.value
            elif isinstance(item, A.Global) and item.assign is None:
                pass                   # `global x` at top level declares what is global already
            elif (isinstance(item, A.Assign) or isinstance(item, A.Global) and (item := item.assign)) \
                    and isinstance(item.target, A.Name) and item.op is None:
                self.consts[item.target.id] = item.value          # a top-level global, read-only here
            elif isinstance(item, A.Export):
                pass                   # one namespace: every name is visible already
            elif isinstance(item, A.Using):
                for m in item.modules:
                    if not self.is_module(m.split(".")[0]):
                        raise JuliaError(f"ArgumentError: Package {m} not found (jlhlo provides "
                                         f"{', '.join(sorted(KNOWN_MODULES))})", item.span)
            elif isinstance(item, (A.StructDef, A.AbstractTypeDef)):
                pass
            elif isinstance(item, A.ExprStmt) and isinstance(item.expr, A.StringLit):
                pass                   # a docstring (or a string with no effect)
            elif isinstance(item, A.MacroCall) and item.name in _FUNCTOR_MACROS:
                _check_functor_macro(item)         # every struct is a functor already
            elif isinstance(item, A.ExprStmt) and isinstance(item.expr, A.MacroCall):
                raise JuliaError(f"macro @{item.expr.name} at top level is not supported", item.span)
            else:
                raise JuliaError("only definitions (function, struct, const, using) are supported at top level",
                                 item.span)

    def _add_struct(self, s: A.StructDef, origin: str = "user") -> None:
        earlier = self.universe.structs.get(s.name)
        if origin == "user" and earlier is not None and earlier.node is not None \
                and earlier.node.span is not None and earlier.node.span.file == self.filename \
                and getattr(earlier.node, "module", None) not in (None, getattr(s, "module", "Main")):
            raise JuliaError(f"struct `{s.name}` is defined in modules {earlier.node.module} and "
                             f"{getattr(s, 'module', 'Main')}; jlhlo compiles a program's modules as one namespace: "
                             f"rename one", s.span)
        if origin == "user" and s.name in self.universe.structs:
            self._forget_prelude_struct(s.name)
        sup = _type_name(s.supertype) if s.supertype is not None else "Any"
        self.universe.structs[s.name] = StructInfo(s.name, s.params, sup, [f for f, _ in s.fields],
                                                   [t for _, t in s.fields], s)
        self._pending_constructors.append((s, origin))

    def _add_default_constructor(self, s: A.StructDef, origin: str) -> None:
        """The default constructor is a method like any other, so outer constructors (`Chain(xs...) =
        Chain(xs)`) dispatch against it. A field typed by a parameter (`layers::T`) constrains the
        argument; other fields accept anything and convert, as Julia's converting constructor does."""
        typevars = {tv.name: PTypeVar(tv.name, self.universe.pattern(tv.upper, {})) for tv in s.params}
        patterns = [typevars[t.id] if isinstance(t, A.Name) and t.id in typevars else PAny() for _, t in s.fields]
        name = new_name(s.name) if s.constructors else s.name
        m = Method(name, s, [f for f, _ in s.fields], patterns, False, [None] * len(patterns), [], typevars,
                   origin)
        self.methods.setdefault(name, []).append(m)

    def _add_function(self, f: A.FunctionDef, origin: str) -> None:
        if origin == "user":
            preallocate_pushes(f.body)
        params = list(f.params)
        name = f.name
        if f.self_param is not None:
            params = [f.self_param] + params
            name = CALL
        try:
            typevars = {tv.name: PTypeVar(tv.name, self.universe.pattern(tv.upper, {})) for tv in f.where}
            patterns = [self.universe.pattern(p.type, typevars) if p.type is not None else PAny() for p in params]
        except JuliaError as e:
            if origin != "user":
                raise
            self.unusable.setdefault(name, []).append(e)
            return
        if f.self_param is not None and isinstance(patterns[0], PAny):
            raise JuliaError("a callable-struct method needs a typed receiver, as in `(d::Dense)(x)`", f.span)
        m = Method(name, f, [p.name for p in params], patterns, bool(params and params[-1].splat),
                   [p.default for p in params], f.kwparams, typevars, origin)
        table = self.methods.setdefault(name, [])
        for variant in expand_defaults(m):
            # a user method with the very same signature as an earlier one replaces it, as in Julia
            same = [old for old in table if old.patterns == variant.patterns and old.vararg == variant.vararg
                    and old.origin == variant.origin]
            for old in same:
                where = getattr(old.fdef, "module", "Main"), getattr(f, "module", "Main")
                if where[0] != where[1]:
                    raise JuliaError(f"`{name}({', '.join(p.show() for p in variant.patterns)})` is defined in "
                                     f"modules {where[0]} and {where[1]}; jlhlo compiles a program's modules as one "
                                     f"namespace, so these would be one function: rename one", f.span)
            table[:] = [old for old in table if all(old is not s for s in same)]
            table.append(variant)

    def _forget_prelude_struct(self, name: str) -> None:
        """A program's own `struct Dense` replaces the prelude's: its constructors and call methods go."""
        def keep(m: Method) -> bool:
            if m.origin != "prelude":
                return True
            if m.name == name:
                return False
            return not (m.name == CALL and isinstance(m.patterns[0], PStruct) and m.patterns[0].name == name)
        for table in (name, CALL):
            if table in self.methods:
                self.methods[table] = [m for m in self.methods[table] if keep(m)]
        self.universe.structs.pop(name, None)


def _type_name(expr: A.Expr) -> str:
    if isinstance(expr, A.Name):
        return expr.id
    if isinstance(expr, A.Curly) and isinstance(expr.base, A.Name):
        return expr.base.id
    raise JuliaError("unsupported supertype expression", expr.span)


_FUNCTOR_MACROS = ("layer", "functor")


def _check_functor_macro(m: A.MacroCall) -> None:
    """Flux's `@layer T` / Functors' `@functor T`: accepted as they change nothing here; with options
    (`trainable=...`, which children Optimisers may update) they would, so those are refused."""
    if len(m.args) != 1 or not isinstance(m.args[0], A.Name):
        raise JuliaError(f"@{m.name} with options is not supported (jlhlo trains every array field of a struct); "
                         f"write `@{m.name} {getattr(m.args[0], 'id', 'MyLayer') if m.args else 'MyLayer'}`", m.span)


@lru_cache(maxsize=1)
def _prelude_program() -> Program:
    """The prelude's definitions, collected once. A program starts from copies of these tables and
    adds its own (collecting the prelude's ~1200 methods again cost every load tens of milliseconds);
    the methods and structs themselves are shared, as nothing changes them after collection."""
    prog = Program("prelude", A.ModuleAST([]), {})
    for pname, ptext, pmodule in _prelude():
        prog.sources[pname] = ptext
        prog._collect(pmodule, "prelude")
    return prog


PreludeFiles = tuple[tuple[str, str, A.ModuleAST], ...]


@lru_cache(maxsize=1)
def _prelude() -> PreludeFiles:
    """The prelude's files as (name, text, AST), parsed once per process and kept parsed on disk
    between processes (parsing it took about a second of every command's start-up)."""
    folder = importlib.resources.files("jlhlo.frontend") / "prelude"
    texts = [(f"prelude/{entry.name}", entry.read_text(encoding="utf-8"))
             for entry in sorted(folder.iterdir(), key=lambda p: p.name) if entry.name.endswith(".jl")]
    key = hashlib.sha256(repr((texts, _parser_identity())).encode()).hexdigest()[:32]
    stored = _stored_prelude(key)
    if stored is not None:
        return stored
    parsed = tuple((name, text, parse(text, name)) for name, text in texts)
    _store_prelude(key, parsed)
    return parsed


def _parser_identity() -> tuple:
    """What decides the AST a text parses to, besides the text: the grammar and the code that builds
    the AST, and the Python and Lark they run on."""
    grammar = importlib.resources.files("jlhlo.grammar") / "julia.lark"
    code = [Path(m.__file__).read_text(encoding="utf-8") for m in (A, diagnostics, parser)]
    return grammar.read_text(encoding="utf-8"), code, sys.version_info[:2], lark.__version__


_PRELUDE_FOLDER = "prelude"            # inside the cache directory: one pickle per prelude version


def _stored_prelude(key: str) -> PreludeFiles | None:
    """The prelude ASTs stored under `key` by an earlier process, or None (none stored, or unreadable:
    the caller parses again)."""
    path = cache_directory() / _PRELUDE_FOLDER / f"{key}.pickle"
    try:
        data = path.read_bytes()
    except OSError:
        return None
    gc_was_enabled = gc.isenabled()
    gc.disable()                       # many small objects that all stay alive (as in `parse`)
    try:
        stored = pickle.loads(data)
    except Exception:                  # noqa: BLE001 - a damaged or foreign file: parse again
        return None
    finally:
        if gc_was_enabled:
            gc.enable()
    return stored if isinstance(stored, tuple) else None


def _store_prelude(key: str, parsed: PreludeFiles) -> None:
    """Store the parsed prelude for later processes (written whole or not at all; the versions of
    other keys go). A directory that cannot be written is skipped: the next process parses again."""
    folder = cache_directory() / _PRELUDE_FOLDER
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(parsed, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, folder / f"{key}.pickle")
        for old in folder.glob("*.pickle"):
            if old.name != f"{key}.pickle":
                old.unlink(missing_ok=True)
    except (OSError, pickle.PicklingError, RecursionError):
        return


def _keyword_constructor(s: A.StructDef) -> A.FunctionDef:
    """`@kwdef`'s `S(; a = default, b) = S(a, b)`: a field without a default is a required keyword."""
    span = s.span
    kwparams = [A.Param(f, t, s.defaults.get(f), span=span) for f, t in s.fields]
    call = A.Call(A.Name(s.name, span=span), [A.Name(f, span=span) for f, _ in s.fields], span=span)
    body = A.Block([A.Return(call, span=span)], span=span)
    return A.FunctionDef(s.name, [], kwparams, [], body, span=span)
