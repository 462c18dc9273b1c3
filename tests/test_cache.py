"""The persistent compile cache: a second process skips the XLA compile (`--timings` says so), the
key separates what changes the executable, damaged entries are rebuilt, `--no-cache` bypasses it, and
the Python API uses it too (`cache=False` to bypass)."""
from __future__ import annotations

import hashlib
import os
import shutil

import numpy as np
import pytest
from conftest import assert_same, cli, cli_subprocess, load_npz, save_npz, write_jl
from jlhlo.core.cache_dir import cache_directory
from jlhlo.frontend import program
from jlhlo.runtime import CompileCache, cache, executable

import jlhlo

PROGRAM = """
function f(x::Vector{Float64}, k::Int64)
    s = 0.0
    for i in 1:k
        s += sum(x .* i)
    end
    return (s, x .* 2)
end
"""


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    """An empty directory of executables. The parsed prelude and the parser's tables are copied in,
    as a user's earlier runs would have left them: these tests are about the executables, and a
    process started here would otherwise spend its time parsing the prelude again."""
    directory = tmp_path / "cache"
    program._prelude()                 # stored in the session's directory, if it was not already
    for kept in ("prelude", "lark"):
        if (cache_directory() / kept).is_dir():
            shutil.copytree(cache_directory() / kept, directory / kept)
    monkeypatch.setenv("JLHLO_CACHE_DIR", str(directory))
    monkeypatch.setattr(executable, "_COMPILED", type(executable._COMPILED)())   # nothing in memory
    return directory


def run(tmp_path, x, *extra, process=cli):
    """One `transpile --run --timings`; in-process runs start with nothing compiled in memory, as a
    new process does."""
    executable._COMPILED.clear()
    path = write_jl(tmp_path, PROGRAM)
    inputs = save_npz(tmp_path / "in.npz", x=x, k=np.int64(3))
    r = process(path, "--entry", "f", "--inputs", inputs, "--run", "--timings", "--outputs", tmp_path / "o.npz", *extra)
    assert r.status == 0, r
    return r, load_npz(tmp_path / "o.npz")


def expected(x):
    return {"out.1": np.float64(sum((x * i).sum() for i in (1, 2, 3))), "out.2": x * 2}


def test_second_process_hits_the_cache(tmp_path, cache_dir, rng) -> None:
    """Written by this process, read by a new one."""
    x = rng.standard_normal(5)
    first, out1 = run(tmp_path, x)
    assert "compile cache: miss" in first.stderr, first
    entries = list(cache_dir.glob("*.xla"))
    assert len(entries) == 1
    second, out2 = run(tmp_path, x, process=cli_subprocess)
    assert "compile cache: hit" in second.stderr, second
    for out in (out1, out2):
        assert_same(tuple(out[k] for k in sorted(out)), tuple(expected(x)[k] for k in sorted(out)))


def test_key_separates_types_and_options(tmp_path, cache_dir, rng) -> None:
    x = rng.standard_normal(5)
    run(tmp_path, x)
    run(tmp_path, rng.standard_normal(7))          # another size
    run(tmp_path, x, "-O1")                        # another option
    assert len(list(cache_dir.glob("*.xla"))) == 3


@pytest.mark.parametrize("damage", ["garbage", "truncated", "flipped", "empty"])
def test_damaged_entry_is_rebuilt(tmp_path, cache_dir, rng, damage) -> None:
    x = rng.standard_normal(4)
    run(tmp_path, x)
    (entry,) = cache_dir.glob("*.xla")
    data = entry.read_bytes()
    entry.write_bytes({"garbage": b"not an executable" * 10, "truncated": data[:len(data) // 2],
                       "flipped": data[:-10] + bytes(b ^ 0xFF for b in data[-10:]), "empty": b""}[damage])
    r, out = run(tmp_path, x)
    assert "compile cache: damaged entry" in r.stderr and "Traceback" not in r.stderr, r
    assert_same(out["out.2"], x * 2)
    assert entry.read_bytes() == data or len(entry.read_bytes()) > 100       # replaced by a whole entry
    r, _ = run(tmp_path, x)
    assert "compile cache: hit" in r.stderr, r


def test_entry_from_another_compiler_is_rebuilt(tmp_path, cache_dir, rng) -> None:
    """An entry with a valid checksum that PJRT refuses (written by another XLA build) is rebuilt."""
    x = rng.standard_normal(4)
    run(tmp_path, x)
    (entry,) = cache_dir.glob("*.xla")
    payload = b"an executable from elsewhere"
    entry.write_bytes(cache._TAG + hashlib.sha256(payload).digest() + payload)
    r, out = run(tmp_path, x)
    assert "compile cache: damaged entry" in r.stderr, r
    assert_same(out["out.2"], x * 2)


def test_no_cache_bypasses_it(tmp_path, cache_dir, rng) -> None:
    r, out = run(tmp_path, rng.standard_normal(3), "--no-cache")
    assert "compile cache: off" in r.stderr and not list(cache_dir.glob("*.xla")), r


def test_unwritable_directory_still_compiles(tmp_path, monkeypatch, rng) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("JLHLO_CACHE_DIR", str(blocker / "cache"))      # under a file: cannot be made
    monkeypatch.setattr(executable, "_COMPILED", type(executable._COMPILED)())
    x = rng.standard_normal(3)
    r, out = run(tmp_path, x)
    assert_same(out["out.2"], x * 2)


def test_default_directory(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("JLHLO_CACHE_DIR", str(tmp_path / "here"))
    assert cache_directory() == tmp_path / "here"
    monkeypatch.delenv("JLHLO_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_directory() == tmp_path / "xdg" / "jlhlo"


def test_eviction_keeps_recent_entries(tmp_path, monkeypatch) -> None:
    store = CompileCache(tmp_path)
    for i, age in enumerate((300, 200, 100)):
        p = tmp_path / f"{i}.xla"
        p.write_bytes(b"x" * 100)
        os.utime(p, (1e9 - age, 1e9 - age))
    monkeypatch.setattr(cache, "MAX_BYTES", 250)
    store._evict()
    assert sorted(p.name for p in tmp_path.glob("*.xla")) == ["1.xla", "2.xla"]


def test_storing_lists_the_directory_rarely_and_keeps_it_under_the_limit(tmp_path, monkeypatch) -> None:
    store = CompileCache(tmp_path)
    listings = []
    evict = CompileCache._evict
    monkeypatch.setattr(CompileCache, "_evict", lambda self: (listings.append(1), evict(self)))
    for i in range(10):
        store._store(tmp_path / f"{i}.xla", b"x" * 100)
    assert len(listings) == 1                      # the first store learns the size; the others add to it
    monkeypatch.setattr(cache, "MAX_BYTES", 400)   # now each entry (100 bytes + header) may overflow it
    for i in range(10, 20):
        store._store(tmp_path / f"{i}.xla", b"x" * 100)
        assert sum(p.stat().st_size for p in tmp_path.glob("*.xla")) <= 400
    assert (tmp_path / "19.xla").exists()


def test_python_api_uses_the_cache(cache_dir, rng) -> None:
    x = rng.standard_normal(6)
    f = jlhlo.load(PROGRAM).function("f")
    assert_same(f(x, 2), (np.float64(x.sum() * 3), x * 2))
    assert len(list(cache_dir.glob("*.xla"))) == 1
    g = jlhlo.load(PROGRAM).function("f", cache=False)
    assert_same(g(x, 2)[1], x * 2)
    exe = f.lower(x, 2).compile("cpu")
    assert exe.cache_outcome == "memory"
    executable._COMPILED.clear()
    assert f.lower(x, 2).compile("cpu").cache_outcome == "hit"
    executable._COMPILED.clear()
    assert f.lower(x, 2).compile("cpu", cache=False).cache_outcome == "off"


# ----------------------------------------------------------------------------- the parsed prelude
@pytest.fixture
def fresh_prelude(tmp_path, monkeypatch):
    """`program._prelude` with an empty cache directory and a parse that counts its calls. The parse
    hands back this process's ASTs of the same files (these tests are about what is stored and read
    back; parsing the prelude for real would only cost time)."""
    parsed = {name: module for name, _, module in program._prelude()}
    monkeypatch.setenv("JLHLO_CACHE_DIR", str(tmp_path))
    parses = []
    monkeypatch.setattr(program, "parse", lambda text, name: (parses.append(name), parsed[name])[1])
    program._prelude.cache_clear()
    yield parses
    program._prelude.cache_clear()


def test_prelude_is_parsed_once_and_then_read_back(fresh_prelude, tmp_path) -> None:
    first = program._prelude()
    assert len(fresh_prelude) == len(first) > 5
    assert len(list((tmp_path / "prelude").glob("*.pickle"))) == 1
    program._prelude.cache_clear()
    assert program._prelude() == first
    assert len(fresh_prelude) == len(first)        # the second process (as it were) parsed nothing


def test_damaged_or_unwritable_prelude_store_parses_again(fresh_prelude, tmp_path, monkeypatch) -> None:
    first = program._prelude()
    (stored,) = (tmp_path / "prelude").glob("*.pickle")
    stored.write_bytes(b"not a pickle")
    program._prelude.cache_clear()
    assert program._prelude() == first
    assert len(fresh_prelude) == 2 * len(first)
    assert stored.read_bytes() != b"not a pickle"  # rewritten
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("JLHLO_CACHE_DIR", str(blocker / "cache"))
    program._prelude.cache_clear()
    assert program._prelude() == first


def test_parser_tables_are_kept_in_the_cache_directory(tmp_path, monkeypatch) -> None:
    from jlhlo.frontend import parser
    monkeypatch.setenv("JLHLO_CACHE_DIR", str(tmp_path / "c"))
    assert parser._lark_cache_file() == str(tmp_path / "c" / "lark" / "julia-lalr.cache")
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("JLHLO_CACHE_DIR", str(tmp_path / "file" / "c"))
    assert parser._lark_cache_file() is False      # no directory: Lark builds its tables, nothing stored
