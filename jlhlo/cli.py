"""`transpile FILE.jl ...`: the command-line contract of DESIGN.md.

Exit status: 0 on success, 1 for an error in the program (reported as `FILE.jl:LINE:COL: error:`
with the source line and a caret), 2 for bad usage. An internal compiler error is reported as
such, with its location, and never as a Python traceback.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from typing import Any

import numpy as np

EXIT_OK, EXIT_PROGRAM_ERROR, EXIT_USAGE = 0, 1, 2
EMITS = ("ast", "typed", "stablehlo", "optimized", "bytecode", "xla-hlo")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="transpile", description="Compile a Julia-subset program to StableHLO "
                                "and optionally run it with XLA.")
    p.add_argument("file", help="the .jl program")
    p.add_argument("--entry", default="main", help="the function to compile (default: main)")
    p.add_argument("--args", nargs="+", action="extend", default=[], metavar="TYPE",
                   help="entry argument types, e.g. Float32[3,4] Int64; Int64=8 also gives an integer's value, "
                        "compiled in where it decides an array size")
    p.add_argument("--inputs", metavar="IN.npz", help="entry arguments by parameter name (p.1, m.W for nesting)")
    p.add_argument("--run", action="store_true", help="run the entry and print its results")
    p.add_argument("--outputs", metavar="OUT.npz", help="write the results (out, out.1, out.field ...)")
    p.add_argument("--emit", choices=EMITS, default="optimized", help="what to print without --run")
    p.add_argument("-o", dest="output", metavar="PATH", help="write the emitted text or bytes here")
    p.add_argument("--device", choices=("cpu", "gpu", "tpu"), default="cpu")
    p.add_argument("-O", dest="opt", type=int, choices=(0, 1, 2), default=2, help="-O0, -O1 or -O2 (default)")
    p.add_argument("--timings", action="store_true", help="print the time of each phase on stderr")
    p.add_argument("--passes", metavar="A,B,C", help="run exactly these passes, in order, instead of an -O level")
    p.add_argument("--print-after-each", action="store_true", help="print the IR after each pass (on stderr)")
    p.add_argument("--precision", choices=("f32", "bf16"), default="f32",
                   help="bf16: convolutions and matrix products on bf16 operands with f32 results")
    p.add_argument("--check-bounds", choices=("yes", "no"), default="yes",
                   help="check run-time indices and report BoundsError after the run (default yes)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
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
    if isinstance(exc, DeviceUnavailable):
        print(f"transpile: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    frames = traceback.extract_tb(exc.__traceback__)
    where = f"{os.path.basename(frames[-1].filename)}:{frames[-1].lineno}" if frames else "?"
    print(f"{os.path.basename(args.file)}: internal error, please report: {type(exc).__name__}: {exc} "
          f"(in jlhlo {where})", file=sys.stderr)
    return EXIT_PROGRAM_ERROR


_SOURCES: dict[str, str] = {}


def _run(args: argparse.Namespace) -> int:
    from .api import UsageError, input_specs_from_npz, load, lower_entry
    from .frontend.types import parse_type_string
    timings: dict[str, float] = {}
    if not os.path.exists(args.file):
        raise UsageError(f"no such file: {args.file}")
    t = time.perf_counter()
    try:
        with open(args.file, encoding="utf-8") as fh:
            source = fh.read()
    except (UnicodeDecodeError, OSError) as e:
        raise UsageError(f"cannot read {args.file}: {e}") from None
    filename = os.path.basename(args.file)
    _SOURCES[filename] = source
    loaded = load(source, filename=filename)
    _SOURCES.update(loaded.program.sources)
    timings["parse"] = time.perf_counter() - t
    if args.emit == "ast" and not args.run:
        _emit_text(args, _ast_text(loaded.program.ast))
        return EXIT_OK
    host_args: list[Any] | None = None
    if args.inputs:
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
        specs, host_args = input_specs_from_npz(loaded.program, args.entry, grouped)
        values = host_args
    else:
        specs, values = _specs_from_args(args.args, parse_type_string)
        if args.run:
            raise UsageError("--run needs --inputs IN.npz with the entry's arguments")
    if args.entry not in loaded.program.methods:
        raise UsageError(f"no function `{args.entry}` is defined in {filename}")
    lowered = lower_entry(loaded.program, args.entry, specs, check_bounds=args.check_bounds == "yes", values=values)
    timings["infer+lower"] = lowered.timings["infer+lower"]
    if args.timings:
        for name, value, why in lowered.specialized:
            print(f"specialized on {name} = {value}: {why}", file=sys.stderr)
    if not args.run and args.emit in ("typed", "stablehlo"):
        _emit_text(args, lowered.typed_text() if args.emit == "typed" else lowered.as_text(debug_info=True))
        _print_timings(args, timings)
        return EXIT_OK
    t = time.perf_counter()
    pass_times: dict[str, float] = {}
    options: dict[str, Any] = {"timings": pass_times}
    if args.passes:
        options["passes"] = [p.strip() for p in args.passes.split(",") if p.strip()]
    if args.print_after_each:
        options["print_after_each"] = lambda name, text: print(f"// ----- IR after {name}\n{text}", file=sys.stderr)
    if args.precision != "f32":
        options["precision"] = args.precision
    try:
        lowered.optimize(args.opt, **options)
    except ValueError as e:            # an unknown pass name
        raise UsageError(str(e)) from None
    timings["passes"] = time.perf_counter() - t
    timings.update({f"  {name}": secs for name, secs in pass_times.items()})
    if not args.run and args.emit == "optimized":
        _emit_text(args, lowered.as_text(debug_info=True))
        _print_timings(args, timings)
        return EXIT_OK
    if not args.run and args.emit == "bytecode":
        from jax.extend.mlir.dialects import stablehlo
        art = stablehlo.serialize_portable_artifact_str(lowered.as_text(), stablehlo.get_current_version())
        if args.output:
            with open(args.output, "wb") as fh:
                fh.write(art)
        else:
            sys.stdout.buffer.write(art)
        _print_timings(args, timings)
        return EXIT_OK
    t = time.perf_counter()
    exe = lowered.compile(args.device)
    timings["XLA compile"] = time.perf_counter() - t
    if not args.run:            # xla-hlo
        _emit_text(args, exe.xla_hlo_text())
        _print_timings(args, timings)
        return EXIT_OK
    t = time.perf_counter()
    flat = exe(*lowered.host_inputs(host_args))
    timings["run"] = time.perf_counter() - t
    result = lowered.outputs(flat)
    _print_result(result)
    if args.outputs:
        from .runtime import flatten_outputs
        np.savez(args.outputs, **flatten_outputs(result if result is not None else ()))
    _print_timings(args, timings)
    return EXIT_OK


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


def _print_timings(args: argparse.Namespace, timings: dict[str, float]) -> None:
    if args.timings:
        for phase, secs in timings.items():
            print(f"{phase:>12}: {secs * 1000:9.2f} ms", file=sys.stderr)


def _print_result(result: Any, prefix: str = "out") -> None:
    from .runtime import flatten_outputs
    if result is None:
        print("nothing")
        return
    for key, value in flatten_outputs(result, prefix).items():
        with np.printoptions(precision=6, threshold=50, edgeitems=3):
            print(f"{key} = {value!r}")


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
