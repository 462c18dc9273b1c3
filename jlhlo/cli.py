"""`transpile FILE.jl ...`: the command-line contract of DESIGN.md.

Exit status: 0 on success, 1 for an error in the program (reported as `FILE.jl:LINE:COL: error:`
with the source line and a caret), 2 for bad usage. An internal compiler error is reported as
such, with its location, and never as a Python traceback.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from typing import Any

import numpy as np

EXIT_OK, EXIT_PROGRAM_ERROR, EXIT_USAGE = 0, 1, 2
EMITS = ("ast", "typed", "stablehlo", "optimized", "bytecode", "portable", "xla-hlo")
# A phase that takes longer than this names itself on stderr, when stderr is a terminal.
PROGRESS_AFTER_S = 2.0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="transpile", description="Compile a Julia-subset program to StableHLO "
                                "and optionally run it with XLA.")
    p.add_argument("file", help="the .jl program")
    p.add_argument("--entry", help="the function to compile (default: main, or the one --call names)")
    p.add_argument("--args", nargs="+", action="extend", default=[], metavar="TYPE",
                   help="entry argument types, e.g. Float32[3,4] Int64; Int64=8 also gives an integer's value, "
                        "compiled in where it decides an array size")
    p.add_argument("--inputs", metavar="IN.npz", help="entry arguments by parameter name (p.1, m.W for nesting)")
    p.add_argument("--call", metavar="'f(ARGS)'", help="the entry and its arguments as a Julia call of literals, "
                        "e.g. 'newton_sqrt(2.0)', 'f([1.0, 2.0], Float32[1 2; 3 4], (1, 2f0))'")
    p.add_argument("--run", action="store_true", help="run the entry and print its results as Julia displays them")
    p.add_argument("--outputs", metavar="OUT.npz", help="write the results (out, out.1, out.field ...)")
    p.add_argument("--emit", choices=EMITS, default="optimized", help="what to print without --run (portable: a "
                        "versioned StableHLO artifact to -o FILE, with FILE.json naming its arguments and results)")
    p.add_argument("-o", dest="output", metavar="PATH", help="write the emitted text or bytes here")
    p.add_argument("--device", choices=("cpu", "gpu", "tpu"), default="cpu")
    p.add_argument("-O", dest="opt", type=int, choices=(0, 1, 2), default=2, help="-O0, -O1 or -O2 (default)")
    p.add_argument("--timings", action="store_true", help="print the time of each phase on stderr")
    p.add_argument("--no-cache", action="store_true", help="compile without the persistent compile cache "
                   "($JLHLO_CACHE_DIR, default ~/.cache/jlhlo)")
    p.add_argument("--passes", metavar="A,B,C", help="run exactly these passes, in order, instead of an -O level")
    p.add_argument("--print-after-each", action="store_true", help="print the IR after each pass (on stderr)")
    p.add_argument("--precision", choices=("f32", "bf16"), default="f32",
                   help="bf16: convolutions and matrix products on bf16 operands with f32 results")
    p.add_argument("--check-bounds", choices=("yes", "no"), default="yes",
                   help="check run-time indices and report BoundsError after the run (default yes)")
    p.add_argument("--strict-fp", action="store_true", help="keep floating-point sums and products in loops in "
                   "source order (by default a loop that only accumulates them is one reduction, as with @simd)")
    p.add_argument("--no-vectorize", action="store_true", help="lower every loop as a sequential loop (to tell "
                   "whether a result depends on how a loop was vectorized)")
    p.add_argument("--explain-loops", action="store_true", help="say on stderr, for each loop, whether it became "
                   "array operations (which) or stayed a sequential loop (why)")
    g = p.add_argument_group("several devices and processes")
    g.add_argument("--mesh", metavar="AXIS=SIZE[,AXIS=SIZE...]", help="run partitioned over a mesh of that many "
                   "devices by XLA's SPMD partitioner, e.g. data=4 or data=2,model=2")
    g.add_argument("--shard", action="append", default=[], metavar="PARAM=SPEC",
                   help="split a parameter or a leaf of one (x, m.layers.1.W, p.2) over mesh axes: SPEC gives per "
                        "dimension an axis or _ (whole), e.g. x=_,_,_,data; unsharded arguments are replicated")
    g.add_argument("--coordinator", metavar="HOST:PORT", help="with --mesh over several processes: where process 0 "
                   "runs the coordination service (default $JLHLO_COORDINATOR)")
    g.add_argument("--num-processes", type=int, metavar="N", help="how many processes the mesh spans "
                   "(default $JLHLO_NUM_PROCESSES)")
    g.add_argument("--process-id", type=int, metavar="I", help="this process, 0 to N-1 (default $JLHLO_PROCESS_ID); "
                   "process 0 prints and writes the results")
    g.add_argument("--local-processes", type=int, metavar="N", help="start N processes of this command on this "
                   "machine (127.0.0.1) as one distributed run, each with the devices XLA_FLAGS gives it")
    return p


def _explain_loops(lowered: Any) -> None:
    """One line per loop of the user's program (loops of the prelude are its own business)."""
    from .frontend.diagnostics import PRELUDE_PREFIX
    for span, text in sorted(lowered.loop_notes, key=lambda note: (note[0].file, note[0].line, note[0].col)):
        if not span.file.startswith(PRELUDE_PREFIX):
            print(f"{span}: loop: {text}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    args = build_parser().parse_args(argv)
    try:
        if args.local_processes is not None:
            return _launch(argv, args)
        return _run(args)
    except SystemExit:
        raise
    except BaseException as exc:       # noqa: BLE001 - the CLI boundary: never a traceback
        return _report(exc, args)


def _report(exc: BaseException, args: argparse.Namespace) -> int:
    from .api import UsageError
    from .frontend.diagnostics import Diagnostic
    if isinstance(exc, Diagnostic):
        print(exc.render(_SOURCES), file=sys.stderr)
        return EXIT_PROGRAM_ERROR
    if isinstance(exc, UsageError):
        print(f"transpile: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if isinstance(exc, KeyboardInterrupt):
        return 130
    if isinstance(exc, RecursionError):
        print(f"{os.path.basename(args.file)}: error: the program nests too deeply for the compiler "
              f"(expression or call nesting beyond Python's recursion limit)", file=sys.stderr)
        return EXIT_PROGRAM_ERROR
    from .runtime import DeviceUnavailable
    from .runtime.sharding import ShardingError
    if isinstance(exc, (DeviceUnavailable, ShardingError)):      # a mesh the program or machine cannot take
        print(f"transpile: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    frames = traceback.extract_tb(exc.__traceback__)
    where = f"{os.path.basename(frames[-1].filename)}:{frames[-1].lineno}" if frames else "?"
    print(f"{os.path.basename(args.file)}: internal error, please report: {type(exc).__name__}: {exc} "
          f"(in jlhlo {where})", file=sys.stderr)
    return EXIT_PROGRAM_ERROR


_SOURCES: dict[str, str] = {}


def _run(args: argparse.Namespace) -> int:
    from .api import UsageError, abstract, entry_param_names, input_specs_from_npz, load, lower_entry
    from .frontend.types import parse_type_string
    timings: dict[str, float] = {}
    mesh, shardings = _mesh_options(args)
    distributed = _distributed_options(args, mesh is not None)
    if not os.path.exists(args.file):
        raise UsageError(f"no such file: {args.file}")
    with _phase("parse", timings):
        try:
            with open(args.file, encoding="utf-8") as fh:
                source = fh.read()
        except (UnicodeDecodeError, OSError) as e:
            raise UsageError(f"cannot read {args.file}: {e}") from None
        filename = os.path.basename(args.file)
        _SOURCES[filename] = source
        loaded = load(source, filename=filename)
        _SOURCES.update(loaded.program.sources)
    if args.emit == "ast" and not args.run:
        _emit_text(args, _ast_text(loaded.program.ast))
        return EXIT_OK
    host_args: list[Any] | None = None
    entry = args.entry or "main"
    if args.call:
        if args.inputs or args.args:
            raise UsageError("--call gives the entry's arguments: use it without --inputs and --args")
        entry, host_args = _parse_call(args.call)
        if args.entry and args.entry != entry:
            raise UsageError(f"--entry {args.entry} and --call {args.call!r} name different functions")
        specs, values = [abstract(a) for a in host_args], host_args
    elif args.inputs:
        from .runtime import group_inputs
        try:
            with np.load(args.inputs) as z:
                arrays = {k: z[k] for k in z.files}
        except (OSError, ValueError) as e:
            raise UsageError(f"cannot read --inputs {args.inputs}: {e}") from None
        try:
            grouped = group_inputs(arrays)
        except ValueError as e:
            raise UsageError(f"--inputs {args.inputs}: {e}") from None
        specs, host_args = input_specs_from_npz(loaded.program, entry, grouped)
        values = host_args
    else:
        specs, values = _specs_from_args(args.args, parse_type_string)
        if args.run and entry in loaded.program.methods:
            if specs or not any(not names for names in entry_param_names(loaded.program, entry)):
                raise UsageError(f"--run needs the arguments of `{entry}`: give them with --inputs IN.npz "
                                 f"or --call '{entry}(...)' (--args gives only their types)")
            host_args = []
    if entry not in loaded.program.methods:
        raise UsageError(f"no function `{entry}` is defined in {filename}")
    with _phase("infer+lower", timings):
        lowered = lower_entry(loaded.program, entry, specs, check_bounds=args.check_bounds == "yes",
                              strict_fp=args.strict_fp, vectorize=not args.no_vectorize, values=values)
    if args.explain_loops:
        _explain_loops(lowered)
    if args.timings:
        for name, value, why in lowered.specialized:
            print(f"specialized on {name} = {value}: {why}", file=sys.stderr)
    if not args.run and args.emit in ("typed", "stablehlo"):
        _emit_text(args, lowered.typed_text() if args.emit == "typed" else lowered.as_text(debug_info=True))
        _print_timings(args, timings)
        return EXIT_OK
    pass_times: dict[str, float] = {}
    options: dict[str, Any] = {"timings": pass_times}
    if args.passes:
        options["passes"] = [p.strip() for p in args.passes.split(",") if p.strip()]
    if args.print_after_each:
        options["print_after_each"] = lambda name, text: print(f"// ----- IR after {name}\n{text}", file=sys.stderr)
    if args.precision != "f32":
        options["precision"] = args.precision
    with _phase("passes", timings):
        try:
            lowered.optimize(args.opt, **options)
        except ValueError as e:            # an unknown pass name
            raise UsageError(str(e)) from None
    timings.update({f"  {name}": secs for name, secs in pass_times.items()})
    # Checked here, before the processes of a distributed run connect: a sharding that does not fit
    # fails in every process alike, instead of leaving the others waiting for it.
    sharding = lowered.sharding_plan(mesh, shardings) if mesh is not None else None
    if not args.run and args.emit == "optimized":
        if sharding is not None:           # what XLA's partitioner is given
            from .runtime.sharding import annotated
            _emit_text(args, annotated(lowered.module, sharding).operation.get_asm(enable_debug_info=True))
        else:
            _emit_text(args, lowered.as_text(debug_info=True))
        _print_timings(args, timings)
        return EXIT_OK
    if not args.run and args.emit in ("bytecode", "portable"):
        from .interop import portable_artifact, portable_signature
        if args.emit == "portable" and not args.output:
            raise UsageError("--emit portable writes a file and its .json signature: give -o FILE")
        artifact, version = portable_artifact(lowered, portable=args.emit == "portable")
        if args.output:
            with open(args.output, "wb") as fh:
                fh.write(artifact)
        else:
            sys.stdout.buffer.write(artifact)
        if args.emit == "portable":
            signature = portable_signature(loaded.program, entry, lowered, version)
            with open(args.output + ".json", "w", encoding="utf-8") as fh:
                json.dump(signature, fh, indent=2)
                fh.write("\n")
        _print_timings(args, timings)
        return EXIT_OK
    if distributed is not None:
        from .api import initialize_distributed
        initialize_distributed(*distributed)
    with _phase("XLA compile", timings):
        exe = lowered.compile(args.device, cache=not args.no_cache, mesh=mesh, shardings=shardings)
    # In a distributed run every process has the whole results (they are replicated); one writes them.
    writes = distributed is None or distributed[2] == 0
    if not args.run:            # xla-hlo
        if writes:
            _emit_text(args, exe.xla_hlo_text())
            _print_timings(args, timings, exe.cache_outcome)
        return EXIT_OK
    with _phase("run", timings):
        flat = exe(*lowered.host_inputs(host_args))
    result = lowered.outputs(flat)
    if not writes:
        return EXIT_OK
    from .display import display
    print(display(lowered.result, result))
    if args.outputs:
        from .runtime import flatten_outputs
        np.savez(args.outputs, **flatten_outputs(result if result is not None else ()))
    _print_timings(args, timings, exe.cache_outcome)
    return EXIT_OK


def _mesh_options(args: argparse.Namespace) -> tuple[Any, dict[str, tuple[str | None, ...]]]:
    """`--mesh` and `--shard` as the API takes them: a Mesh (None without --mesh) and Specs by leaf."""
    from .api import UsageError
    from .runtime.sharding import Mesh, ShardingError, parse_spec
    if args.mesh is None:
        if args.shard:
            raise UsageError("--shard needs --mesh AXIS=SIZE[,AXIS=SIZE...] (e.g. --mesh data=4)")
        return None, {}
    if not args.run and args.emit not in ("optimized", "xla-hlo"):
        raise UsageError(f"--mesh applies to --run, --emit optimized and --emit xla-hlo, not --emit {args.emit}")
    try:
        mesh = Mesh.of(args.mesh)
    except ShardingError as e:
        raise UsageError(f"--mesh: {e}") from None
    shardings: dict[str, tuple[str | None, ...]] = {}
    for text in args.shard:
        name, eq, spec = text.partition("=")
        name = name.strip()
        if not eq or not name:
            raise UsageError(f"--shard {text!r}: expected PARAM=SPEC, e.g. x=_,data")
        if name in shardings:
            raise UsageError(f"--shard: `{name}` is given twice")
        shardings[name] = parse_spec(spec)
    return mesh, shardings


def _distributed_options(args: argparse.Namespace, meshed: bool) -> tuple[str, int, int] | None:
    """(coordinator, process count, process id) of a run over several processes, from the options or,
    with --mesh, from $JLHLO_COORDINATOR, $JLHLO_NUM_PROCESSES and $JLHLO_PROCESS_ID; None for one
    process. The environment is read only with --mesh, so that a shell that exports it for sharded
    runs still compiles other programs as usual."""
    from .api import UsageError
    given = {"--coordinator": args.coordinator, "--num-processes": args.num_processes,
             "--process-id": args.process_id}
    if not meshed:
        named = [option for option, value in given.items() if value is not None]
        if named:
            raise UsageError(f"{named[0]} runs a mesh over several processes: give --mesh too")
        return None
    env = {"--coordinator": "JLHLO_COORDINATOR", "--num-processes": "JLHLO_NUM_PROCESSES",
           "--process-id": "JLHLO_PROCESS_ID"}
    for option, variable in env.items():
        if given[option] is None and os.environ.get(variable):
            given[option] = os.environ[variable]
    if all(value is None for value in given.values()):
        return None
    missing = [f"{option} (or ${env[option]})" for option, value in given.items() if value is None]
    if missing:
        raise UsageError(f"a run over several processes needs {', '.join(missing)}")
    try:
        count, index = int(given["--num-processes"]), int(given["--process-id"])
    except ValueError:
        raise UsageError("the process count and id are integers") from None
    coordinator = str(given["--coordinator"])
    if ":" not in coordinator:
        raise UsageError(f"--coordinator {coordinator!r}: expected HOST:PORT")
    if count < 1 or not 0 <= index < count:
        raise UsageError(f"process id {index} of {count} processes: the id is 0 to {count - 1}")
    if not args.run and args.emit != "xla-hlo":
        raise UsageError("a run over several processes needs --run (or --emit xla-hlo)")
    return coordinator, count, index


def _launch(argv: list[str], args: argparse.Namespace) -> int:
    """`--local-processes N`: this command N times on this machine, as processes 0..N-1 of one
    distributed run with a coordinator on a free local port. Process 0's output is the command's;
    a process that fails stops the others (which would otherwise wait for it) and its error is shown."""
    from .api import UsageError
    n = args.local_processes
    if n < 1:
        raise UsageError(f"--local-processes {n}: give a number of processes, at least 1")
    if args.mesh is None:
        raise UsageError("--local-processes runs a mesh over several processes: give --mesh too")
    if any(v is not None for v in (args.coordinator, args.num_processes, args.process_id)):
        raise UsageError("--local-processes chooses the coordinator, process count and ids itself")
    rest, skip = [], False
    for token in argv:
        if skip:
            skip = False
        elif token == "--local-processes":
            skip = True
        elif not token.startswith("--local-processes="):
            rest.append(token)
    if build_parser().parse_args(rest).local_processes is not None:      # an abbreviation argparse took
        raise UsageError("write --local-processes in full")
    with socket.socket() as s:     # a port free now; the coordinator binds it a moment later
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    procs: list[subprocess.Popen] = []
    logs: list[Any] = []
    stopped: set[int] = set()          # processes this launcher ended: their exit status is not theirs
    try:
        for i in range(n):
            log = None if i == 0 else tempfile.TemporaryFile(mode="w+", encoding="utf-8")
            command = [sys.executable, "-m", "jlhlo.cli", *rest, "--coordinator", f"127.0.0.1:{port}",
                       "--num-processes", str(n), "--process-id", str(i)]
            procs.append(subprocess.Popen(command, stdout=None if i == 0 else subprocess.DEVNULL, stderr=log))
            logs.append(log)
        deadline = None
        while any(p.poll() is None for p in procs):
            if deadline is None and any(p.poll() not in (None, 0) for p in procs):
                # The others stop by themselves when the failure is one they share (a sharding that
                # does not fit); given a moment, process 0 reports it once, as one process would.
                deadline = time.monotonic() + _LAUNCH_GRACE_S
            if deadline is not None and time.monotonic() > deadline:
                break
            time.sleep(0.05)
    finally:
        for i, p in enumerate(procs):
            if p.poll() is None:
                stopped.add(i)
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        failed = [i for i, p in enumerate(procs) if p.returncode != 0 and i not in stopped]
        if failed and failed[0] != 0:      # process 0's stderr is the command's; another's when only it failed
            logs[failed[0]].seek(0)
            for line in logs[failed[0]].read().splitlines():
                print(f"process {failed[0]}: {line}", file=sys.stderr)
        for log in logs[1:]:
            log.close()
    return procs[failed[0]].returncode if failed else EXIT_OK


# How long the processes of a `--local-processes` run get to end by themselves after one fails.
_LAUNCH_GRACE_S = 5.0


@contextlib.contextmanager
def _phase(name: str, timings: dict[str, float]):
    """Time a phase into `timings`; one that lasts over PROGRESS_AFTER_S names itself on stderr while
    it runs, when stderr is a terminal (the line is cleared when it ends)."""
    stream = sys.stderr
    shown = threading.Event()

    def announce() -> None:
        stream.write(f"transpile: {name}...")
        stream.flush()
        shown.set()
    timer = threading.Timer(PROGRESS_AFTER_S, announce) if stream.isatty() else None
    if timer is not None:
        timer.daemon = True
        timer.start()
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[name] = time.perf_counter() - start
        if timer is not None:
            timer.cancel()
            timer.join()
            if shown.is_set():
                stream.write("\r\033[K")
                stream.flush()


# The literals `--call` accepts besides numbers: Julia's constants, by name.
_CALL_CONSTANTS = {"Inf": np.float64(np.inf), "NaN": np.float64(np.nan), "Inf32": np.float32(np.inf),
                   "NaN32": np.float32(np.nan), "pi": np.float64(np.pi), "π": np.float64(np.pi)}


def _parse_call(text: str) -> tuple[str, list[Any]]:
    """`--call 'f(2.0, [1, 2])'`: the entry's name and its arguments as host values, read from Julia
    literals (numbers, true/false, Inf/NaN/pi, arrays, typed arrays, tuples, named tuples, and
    conversions such as Float32(2))."""
    from .api import UsageError
    from .frontend import ast as A
    from .frontend.diagnostics import Diagnostic
    from .frontend.parser import parse
    try:
        items = parse(text, "--call").items
    except Diagnostic as e:
        raise UsageError(f"--call {text!r}: {e.message.partition(chr(10))[0]}") from None
    call = items[0].expr if len(items) == 1 and isinstance(items[0], A.ExprStmt) else None
    if not isinstance(call, A.Call) or not isinstance(call.func, A.Name) or call.kwargs:
        raise UsageError(f"--call {text!r}: expected one call of the entry, like 'f(2.0, [1, 2])' "
                         f"(positional arguments only)")
    try:
        return call.func.id, [_literal(a) for a in call.args]
    except ValueError as e:
        raise UsageError(f"--call {text!r}: {e}") from None


def _literal(node: Any) -> Any:
    """A host value for a literal argument of `--call`; ValueError for anything else."""
    from .core.dtypes import SCALARS
    from .frontend import ast as A
    if isinstance(node, (A.IntLit, A.FloatLit)):
        return SCALARS[node.type_name].np(node.value)
    if isinstance(node, A.BoolLit):
        return np.bool_(node.value)
    if isinstance(node, A.Name) and node.id in _CALL_CONSTANTS:
        return _CALL_CONSTANTS[node.id]
    if isinstance(node, A.Call) and isinstance(node.func, A.Name) and len(node.args) == 1 and not node.kwargs:
        if node.func.id in ("-", "+"):
            value = _literal(node.args[0])
            return -value if node.func.id == "-" else value
        if node.func.id in SCALARS:                      # Float32(2)
            return _converted(node.func.id, _literal(node.args[0]))
    if isinstance(node, A.TupleExpr):
        return tuple(_literal(i) for i in node.items)
    if isinstance(node, A.NamedTupleExpr):
        return {name: _literal(v) for name, v in zip(node.names, node.values)}
    if isinstance(node, A.Vect):
        return _array([_literal(i) for i in node.items], (len(node.items),))
    if isinstance(node, A.HCat):
        return _array([_literal(i) for i in node.items], (1, len(node.items)))
    if isinstance(node, A.VCat):
        if all(len(row) == 1 for row in node.rows):      # [1; 2] is a vector
            return _array([_literal(row[0]) for row in node.rows], (len(node.rows),))
        widths = {len(row) for row in node.rows}
        if len(widths) != 1:
            raise ValueError("the rows of a matrix literal have different lengths")
        return _array([_literal(i) for row in node.rows for i in row], (len(node.rows), widths.pop()))
    typed = (isinstance(node, A.Index) and isinstance(node.obj, A.Name) and node.obj.id in SCALARS
             and A.Vect(node.indices)) or \
        (isinstance(node, A.Broadcast) and isinstance(node.func, A.Name) and node.func.id in SCALARS
         and len(node.args) == 1 and node.args[0])
    if typed:                                            # Float32[1, 2], Float32[1 2; 3 4]
        return _converted((node.obj if isinstance(node, A.Index) else node.func).id, _literal(typed))
    raise ValueError("arguments must be literals: numbers, true/false, arrays such as [1.0, 2.0] or [1 2; 3 4], "
                     "typed arrays such as Float32[1, 2], tuples and named tuples")


def _array(items: list[Any], shape: tuple[int, ...]) -> np.ndarray:
    """An array literal's items, promoted to one element type as Julia does: a float type wins over
    integers and keeps its own width (`[1f0, 2]` is Vector{Float32})."""
    if not items:
        raise ValueError("an empty array literal has no element type: write Float64[] as an --inputs array")
    if any(np.ndim(i) for i in items):
        raise ValueError("array literals hold numbers (nested arrays are not arguments jlhlo takes)")
    dtypes = [np.asarray(i).dtype for i in items]
    floats = [d for d in dtypes if d.kind in "fc"]
    dtype = np.result_type(*floats) if floats else np.result_type(*dtypes)
    return np.array(items, dtype=dtype).reshape(shape)


def _converted(type_name: str, value: Any) -> Any:
    """`T(x)` or `T[...]`: the value with element type T, refusing what Julia's conversion refuses
    (InexactError for 2.5 to an integer)."""
    from .core.dtypes import SCALARS
    target = np.dtype(SCALARS[type_name].np)
    array = np.asarray(value)
    converted = array.astype(target)
    rounds = target.kind in "fc" and array.dtype.kind in "fc"       # Float32[0.1]: rounded, as Julia does
    if not rounds and not np.array_equal(converted.astype(array.dtype), array):
        raise ValueError(f"InexactError: {type_name}({value}) does not convert exactly")
    return converted[()] if converted.ndim == 0 else converted


def _specs_from_args(texts: list[str], parse_type_string) -> tuple[list[object], list[Any]]:
    """`--args Float32[3,4] Int64=8`: types, and the values given for integers (specialized on where
    they decide a size)."""
    from .api import UsageError
    specs, values = [], []
    for text in texts:
        type_text, eq, value_text = text.partition("=")
        try:
            t = parse_type_string(type_text)
        except ValueError as e:
            raise UsageError(f"--args: {e}") from None
        value = None
        if eq:
            if getattr(getattr(t, "info", None), "kind", None) not in ("int", "uint"):
                raise UsageError(f"--args {text}: only an integer argument can be given a value (Int64=8)")
            try:
                value = int(value_text)
            except ValueError:
                raise UsageError(f"--args {text}: {value_text!r} is not an integer") from None
        specs.append(t)
        values.append(value)
    return specs, values


def _emit_text(args: argparse.Namespace, text: str) -> None:
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _print_timings(args: argparse.Namespace, timings: dict[str, float], cache_outcome: str | None = None) -> None:
    """Each phase's time; after a compile, whether the persistent compile cache had the executable."""
    if args.timings:
        for phase, secs in timings.items():
            print(f"{phase:>12}: {secs * 1000:9.2f} ms", file=sys.stderr)
        if cache_outcome is not None:
            print(f"compile cache: {_CACHE_OUTCOMES[cache_outcome]}", file=sys.stderr)


_CACHE_OUTCOMES = {"hit": "hit (XLA compile skipped)", "miss": "miss (compiled and stored)",
                   "corrupt": "damaged entry (compiled again and replaced)", "off": "off (--no-cache)",
                   "memory": "hit in this process"}


def _ast_text(node: Any, indent: int = 0) -> str:
    from .frontend import ast as A
    pad = "  " * indent
    if isinstance(node, A.Node):
        fields = {k: v for k, v in node.__dict__.items() if k != "span"}
        simple = {k: v for k, v in fields.items() if not isinstance(v, (A.Node, list, tuple))}
        nested = {k: v for k, v in fields.items() if k not in simple}
        head = type(node).__name__ + ("(" + ", ".join(f"{k}={v!r}" for k, v in simple.items()) + ")" if simple else "")
        loc = f"  @{node.span.line}:{node.span.col}" if node.span else ""
        lines = [pad + head + loc]
        for k, v in nested.items():
            if isinstance(v, (list, tuple)) and not v:
                continue
            lines.append(pad + f"  {k}:")
            lines.append(_ast_text(v, indent + 2))
        return "\n".join(lines)
    if isinstance(node, (list, tuple)):
        return "\n".join(_ast_text(v, indent) for v in node)
    return pad + repr(node)


if __name__ == "__main__":
    sys.exit(main())
