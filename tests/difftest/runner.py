"""Run generated programs through jlhlo at -O0/-O1/-O2 and classify each one.

Outcomes: `ok`; `mismatch` (a wrong value, dtype or shape, or a run-time error such as
BoundsError that Julia would not raise); `rejected` (jlhlo raised its `JuliaError` at compile
time: a clear error, but a program inside the subset should compile); `internal` (any other
exception at any stage, a failed MLIR verification or pass, or a timeout).

Compiling costs far more than running, so programs are compiled in batches: K programs render
into one file (`render.batch_source`) whose `main` returns the tuple of their results. A batch
that fails at some level is split in halves and rerun, down to single programs, so each failure is
attributed to the program that causes it (a failure that only a combination shows is reported for
that group). Batches run in worker processes (one per core): they run in parallel, a hung
compile can be killed, and this module is the only one that imports jlhlo (in the workers)."""
from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import re
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

from . import jlref as R
from . import model as M
from .compare import compare
from .features import Features
from .gen import generate
from .reference import Expected, evaluate
from .render import batch_source, julia_source

LEVELS = (0, 1, 2)
KINDS = ("ok", "mismatch", "rejected", "internal")
_SEVERITY = {"ok": 0, "rejected": 1, "mismatch": 2, "internal": 3}
MAX_ATTEMPTS = 20          # generation attempts per program slot before giving up on it


# ----------------------------------------------------------------------------- programs
@dataclass
class Case:
    """A generated program with its expected answer."""
    prog: M.Program
    expected: Expected

    @property
    def julia(self) -> str:
        return julia_source(self.prog)


def program_seed(base: int, index: int, attempt: int) -> int:
    """The generator seed of program `index` of a run with seed `base` (attempt: after discards)."""
    return base * 10_000_000 + index * MAX_ATTEMPTS + attempt


@dataclass
class GenStats:
    """Programs the reference discarded, by reason (a high rate means a generator problem)."""
    discarded: dict[str, int] = field(default_factory=dict)
    model_errors: list[str] = field(default_factory=list)


def try_case(seed: int, features: Features, stats: GenStats) -> Case | None:
    """The program of one generator seed with its expected answer; None if the reference discards
    it (counted by reason) or fails (a difftest bug: recorded, and the run goes on)."""
    prog = generate(seed, features)
    try:
        return Case(prog, evaluate(prog))
    except R.Discard as e:
        stats.discarded[type(e).__name__] = stats.discarded.get(type(e).__name__, 0) + 1
    except Exception as e:                # noqa: BLE001
        stats.model_errors.append(f"seed {seed}: {type(e).__name__}: {e}")
    return None


def make_case(base: int, index: int, features: Features, stats: GenStats) -> Case | None:
    """Program `index` of a run (a discarded program is replaced by the next attempt's seed)."""
    for attempt in range(MAX_ATTEMPTS):
        case = try_case(program_seed(base, index, attempt), features, stats)
        if case is not None:
            return case
    return None


def make_cases(base: int, count: int, features: Features, stats: GenStats, first: int = 0) -> list[Case]:
    return [c for c in (make_case(base, i, features, stats) for i in range(first, first + count)) if c is not None]


# ----------------------------------------------------------------------------- one compile job (in a worker)
@dataclass
class LevelRun:
    """What one optimization level gave: `value` (the outputs), or an error `kind` with its
    message and grouping key."""
    kind: str                 # "value" | "rejected" | "internal" | "raised" | "skipped"
    value: Any = None
    message: str = ""
    key: str = ""


_COMPILER_DIRS = ("frontend", "mlir_passes", "runtime", "jlhlo", "grammar")


def _compiler_frame(tb: Any) -> str:
    """The innermost traceback frame inside the compiler, as `dir/file.py:function`."""
    where = "?"
    for frame in traceback.extract_tb(tb):
        parts = frame.filename.replace("\\", "/").split("/")
        for k in range(len(parts) - 1, -1, -1):
            if parts[k] in _COMPILER_DIRS and "difftest" not in frame.filename:
                where = f"{'/'.join(parts[k:])}:{frame.name}"
                break
    return where


def normalize_message(msg: str) -> str:
    """A rejection message with program-specific names and numbers blanked, for grouping."""
    first = msg.strip().splitlines()[0] if msg.strip() else ""
    first = re.sub(r"\bp\d+_", "", first)
    first = re.sub(r"\b([A-Za-z_]+?)\d+(!?)\b", r"\1#\2", first)
    first = re.sub(r"\b\d+(\.\d+)?\b", "N", first)
    return first[:160]


def compile_and_run(src: str, args: tuple, levels: tuple[int, ...]) -> list[LevelRun]:
    """Load `src` and lower `main` for `args` at each level; only if every level lowers, compile,
    run and read the outputs at each. Lowering is cheap and XLA compiling is not: when a level
    fails to lower, the other levels come back `skipped`, so bisecting a batch with a rejected
    program compiles nothing until the culprit is isolated."""
    from jlhlo.frontend.diagnostics import JuliaError

    import jlhlo

    def failure(e: Exception, stage: str) -> LevelRun:
        if isinstance(e, JuliaError):
            return LevelRun("raised" if stage == "outputs" else "rejected", message=str(e),
                            key=normalize_message(e.message))
        return LevelRun("internal", message=f"{type(e).__name__} at {stage}: {str(e)[:2000]}",
                        key=f"{type(e).__name__} in {_compiler_frame(e.__traceback__)}")

    try:
        fn = jlhlo.load(src, filename="difftest.jl").function("main")
    except Exception as e:                 # noqa: BLE001 - classified, not raised
        return [failure(e, "parse") for _ in levels]
    lowered: dict[int, Any] = {}
    failed: dict[int, LevelRun] = {}
    for level in levels:
        try:
            lowered[level] = fn.lower(*args, optimize_level=level)
        except Exception as e:             # noqa: BLE001
            failed[level] = failure(e, "lower")
    if failed:
        return [failed.get(level, LevelRun("skipped")) for level in levels]
    out = []
    for level in levels:
        stage = "compile"
        try:
            exe = lowered[level].compile("cpu")
            stage = "run"
            flat = exe(*lowered[level].host_inputs(args))
            stage = "outputs"
            out.append(LevelRun("value", value=lowered[level].outputs(flat)))
        except Exception as e:             # noqa: BLE001
            out.append(failure(e, stage))
    return out


def _worker(conn: multiprocessing.connection.Connection) -> None:
    """A worker process: compile jobs until the pipe closes."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        src, args, levels = job
        conn.send(compile_and_run(src, args, levels))


# ----------------------------------------------------------------------------- worker pool
@dataclass
class Job:
    src: str
    args: tuple
    levels: tuple[int, ...]
    timeout: float
    tag: Any = None


class Pool:
    """Worker processes running `compile_and_run` jobs in parallel; a job past its timeout is an
    internal error (`Timeout`) and its worker is replaced."""

    def __init__(self, workers: int | None = None):
        self.ctx = multiprocessing.get_context("spawn")
        self.n = workers or max(1, os.cpu_count() or 1)
        self.procs: list[tuple[Any, Any] | None] = [None] * self.n
        for k in range(self.n):            # start now: their imports overlap the caller's generation
            self._start(k)

    def _start(self, k: int) -> tuple[Any, Any]:
        parent, child = self.ctx.Pipe()
        proc = self.ctx.Process(target=_worker, args=(child,), daemon=True)
        proc.start()
        child.close()
        self.procs[k] = (proc, parent)
        return self.procs[k]

    def _get(self, k: int) -> tuple[Any, Any]:
        p = self.procs[k]
        if p is None or not p[0].is_alive():
            p = self._start(k)
        return p

    def close(self) -> None:
        for k, p in enumerate(self.procs):
            if p is not None:
                p[1].close()
                p[0].join(timeout=5)
                if p[0].is_alive():
                    p[0].kill()
                self.procs[k] = None

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run(self, jobs: list[Job], on_result: Callable[[Job, list[LevelRun]], list[Job]]) -> None:
        """Run jobs; `on_result` may return follow-up jobs (bisection of a failing batch)."""
        pending = list(jobs)
        busy: dict[int, tuple[Job, float]] = {}
        while pending or busy:
            for k in range(self.n):
                if k not in busy and pending:
                    job = pending.pop(0)
                    _, conn = self._get(k)
                    conn.send((job.src, job.args, job.levels))
                    busy[k] = (job, time.monotonic() + job.timeout)
            conns = {self.procs[k][1]: k for k in busy}
            timeout = max(0.0, min(d for _, d in busy.values()) - time.monotonic())
            ready = multiprocessing.connection.wait(list(conns), timeout=timeout)
            for conn in ready:
                k = conns[conn]
                job, _ = busy.pop(k)
                try:
                    result = conn.recv()
                except (EOFError, ConnectionResetError):     # the worker died (a crash inside XLA)
                    self.procs[k] = None
                    result = [LevelRun("internal", message="the compiler process died", key="WorkerCrash")
                              for _ in job.levels]
                pending += on_result(job, result)
            now = time.monotonic()
            for k, (job, deadline) in list(busy.items()):
                if now > deadline:
                    proc, conn = self.procs[k]
                    proc.kill()
                    proc.join()
                    self.procs[k] = None
                    busy.pop(k)
                    result = [LevelRun("internal", message=f"no result after {job.timeout:.0f} s", key="Timeout")
                              for _ in job.levels]
                    pending += on_result(job, result)


# ----------------------------------------------------------------------------- classification
@dataclass
class LevelOutcome:
    kind: str                 # ok | mismatch | rejected | internal
    message: str = ""
    key: str = ""


@dataclass
class Result:
    """A program's outcome at each level, and overall (the most severe)."""
    case: Case
    levels: dict[int, LevelOutcome] = field(default_factory=dict)

    @property
    def worst(self) -> LevelOutcome:
        return max(self.levels.values(), key=lambda o: _SEVERITY[o.kind])

    @property
    def kind(self) -> str:
        return self.worst.kind

    @property
    def key(self) -> str:
        if self.kind == "mismatch":
            bad = [lv for lv, o in sorted(self.levels.items()) if o.kind == "mismatch"]
            return self.worst.key + " at " + ",".join(f"-O{lv}" for lv in bad)
        return self.worst.key

    @property
    def message(self) -> str:
        return self.worst.message


@dataclass
class GroupFailure:
    """A batch that fails although each half passes: the combination is the reproducer."""
    cases: list[Case]
    level: int
    outcome: LevelOutcome

    @property
    def source(self) -> str:
        return batch_source([c.prog for c in self.cases])


def classify(case: Case, run: LevelRun) -> LevelOutcome:
    thrown = case.expected.thrown
    if thrown is not None:
        if run.kind in ("raised", "rejected") and run.message == thrown:
            return LevelOutcome("ok")       # Julia's exception, at run time or (always thrown) compile time
        if run.kind in ("value", "raised", "rejected"):
            got = "a value" if run.kind == "value" else repr(run.message)
            return LevelOutcome("mismatch", f"expected Julia's exception {thrown!r}, got {got}", "missed exception")
        return LevelOutcome(run.kind, run.message, run.key)
    if run.kind == "value":
        problems = compare(run.value, case.expected.value, case.expected.max_mag)
        if not problems:
            return LevelOutcome("ok")
        kind = "dtype/shape" if any("wrong dtype/shape" in p for p in problems) else "value"
        return LevelOutcome("mismatch", "\n".join(problems), f"wrong {kind}")
    if run.kind == "raised":
        return LevelOutcome("mismatch", "raised at run time: " + run.message, "raised " + run.key.split(":")[0])
    return LevelOutcome(run.kind, run.message, run.key)


@dataclass
class _Group:
    """A batch in the bisection tree: the levels at which it failed as a whole, and how many of its
    halves are still running."""
    cases: list[Case]
    parent: _Group | None = None
    failed: dict[int, LevelOutcome] = field(default_factory=dict)
    pending: int = 0
    combination_failed: set[int] = field(default_factory=set)


def _job(group: _Group, levels: tuple[int, ...]) -> Job:
    args = tuple(x for c in group.cases for x in c.prog.input_values())
    return Job(batch_source([c.prog for c in group.cases]), args, levels, timeout=60 + 15 * len(group.cases),
               tag=group)


def run_cases(cases: list[Case], pool: Pool, levels: tuple[int, ...] = LEVELS,
              batch_size: int = 10) -> tuple[list[Result], list[GroupFailure]]:
    """Classify every case at every level (batched; a failing batch is bisected)."""
    results = {id(c): Result(c) for c in cases}
    combos: list[GroupFailure] = []

    def ok_at(c: Case, level: int) -> bool:
        return results[id(c)].levels[level].kind == "ok"

    def finished(g: _Group) -> None:
        """g and all its halves are done: report levels where only the combination fails."""
        for level, outcome in g.failed.items():
            halves_explain = any(not ok_at(c, level) for c in g.cases)
            if not halves_explain and not g.combination_failed & {level}:
                combos.append(GroupFailure(g.cases, level, outcome))
                g.combination_failed.add(level)
        if g.parent is not None:
            g.parent.combination_failed |= g.combination_failed
            g.parent.pending -= 1
            if g.parent.pending == 0:
                finished(g.parent)

    def on_result(job: Job, runs: list[LevelRun]) -> list[Job]:
        g: _Group = job.tag
        retry: list[int] = []
        for level, run in zip(job.levels, runs):
            if run.kind == "value":
                outs = run.value if isinstance(run.value, tuple) else (run.value,)
                for c, out in zip(g.cases, outs):
                    results[id(c)].levels[level] = classify(c, LevelRun("value", value=out))
            elif run.kind == "skipped":
                retry.append(level)
            elif len(g.cases) == 1:
                results[id(g.cases[0])].levels[level] = classify(g.cases[0], run)
            else:
                g.failed[level] = classify(g.cases[0], run)
                retry.append(level)
        if not retry:
            finished(g)
            return []
        if len(g.cases) == 1:              # levels skipped because another level did not lower
            return [_job(g, tuple(retry))]
        half = len(g.cases) // 2
        g.pending = 2
        return [_job(_Group(part, parent=g), tuple(retry)) for part in (g.cases[:half], g.cases[half:])]

    # a program that throws stops its whole batch: it runs alone
    alone = [c for c in cases if c.expected.thrown is not None]
    batched = [c for c in cases if c.expected.thrown is None]
    groups = [_Group(batched[k:k + batch_size]) for k in range(0, len(batched), batch_size)]
    groups += [_Group([c]) for c in alone]
    pool.run([_job(g, levels) for g in groups], on_result)
    return [results[id(c)] for c in cases], combos


def compile_and_run_batch(cases: list[Case], pool: Pool, level: int) -> LevelOutcome:
    """The outcome of the batch of `cases` as a whole at one level (no bisection): `ok` when it
    ran, whatever the values."""
    out: list[LevelRun] = []
    pool.run([_job(_Group(cases), (level,))], lambda job, runs: out.extend(runs) or [])
    run = out[0]
    if run.kind in ("value", "skipped"):
        return LevelOutcome("ok")
    return classify(cases[0], run)


def check_case(case: Case, pool: Pool, levels: tuple[int, ...] = LEVELS) -> Result:
    """Classify one program at the given levels (unbatched)."""
    results, _ = run_cases([case], pool, levels, batch_size=1)
    return results[0]


@dataclass
class Campaign:
    """The outcome of running `count` programs of one seed."""
    results: list[Result]
    combos: list[GroupFailure]
    gen: GenStats
    seconds: float

    def failures(self) -> list[Result]:
        return [r for r in self.results if r.kind != "ok"]

    def counts(self) -> dict[str, int]:
        out = {k: 0 for k in KINDS}
        for r in self.results:
            out[r.kind] += 1
        return out


def run_campaign(base: int, count: int, features: Features, levels: tuple[int, ...] = LEVELS,
                 batch_size: int = 10, workers: int | None = None, program_seeds: list[int] | None = None,
                 first: int = 0) -> Campaign:
    """Generate `count` programs from seed `base`, starting at program `first` (or exactly the
    programs of `program_seeds`), and classify each at each level. Programs are numbered per seed,
    so runs of 0..999 and of 1000..1999 together are the run of 2000."""
    t0 = time.monotonic()
    with Pool(workers) as pool:            # the workers import jlhlo while the programs are generated
        stats = GenStats()
        if program_seeds:
            cases = [c for c in (try_case(s, features, stats) for s in program_seeds) if c is not None]
        else:
            cases = make_cases(base, count, features, stats, first)
        results, combos = run_cases(cases, pool, levels, batch_size)
    return Campaign(results, combos, stats, time.monotonic() - t0)
