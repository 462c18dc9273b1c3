"""The persistent compile cache: XLA executables on disk, so that a second process compiling the same
module skips the XLA compile.

An entry is keyed by the SHA-256 of the module's bytecode (which is everything the source, the entry,
its argument types and sizes, the compiler options and a mesh's shardings decide) and
`xla_bridge.compiler_identity` (jaxlib version, platform, device kind, host CPU), and for an executable
partitioned over several devices by `xla_bridge.assignment_identity` (which devices, which process).
Its file holds a format tag, the SHA-256 of the payload, and the payload (PJRT's serialized
executable). An entry whose tag or checksum does not match, or that PJRT cannot load, is reported as
`corrupt` and rebuilt; the cache never makes a compile fail (a directory it cannot write is skipped
the same way). Writes go to a temporary file renamed into place, so concurrent processes see whole
entries or none. When the directory holds more than `MAX_BYTES`, the least recently used entries go.
Listing the directory costs a `stat` per entry, so a process does it once, then counts what it stores
itself and lists again only when that count reaches the limit or `RESCAN_STORES` stores have passed
(what other processes store meanwhile is seen then).

Where: `$JLHLO_CACHE_DIR`, else `$XDG_CACHE_HOME/jlhlo`, else `~/.cache/jlhlo`.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..core.cache_dir import cache_directory
from . import xla_bridge

_TAG = b"jlhlo-xla-executable-1\n"
_DIGEST_BYTES = 32
MAX_BYTES = 4 << 30
RESCAN_STORES = 256


@dataclass
class _Usage:
    """What a process knows of a cache directory's size: bytes at its last listing plus what it
    stored since, and how many stores ago that listing was."""
    bytes: int = 0
    stores_since_listing: int = RESCAN_STORES


_USAGE: dict[Path, _Usage] = {}


@dataclass
class CompileCache:
    directory: Path

    def path(self, module_bytecode: bytes, platform: str, devices: list | None = None) -> Path:
        key = hashlib.sha256()
        key.update(hashlib.sha256(module_bytecode).digest())
        key.update(xla_bridge.compiler_identity(platform).encode())
        if devices is not None:
            key.update(xla_bridge.assignment_identity(devices).encode())
        return self.directory / f"{key.hexdigest()}.xla"

    def compile(self, module_bytecode: bytes, platform: str,
                devices: list | None = None) -> tuple[xla_bridge.LoadedExecutable, str]:
        """The executable for a module (for one device, or partitioned over `devices`, see
        `xla_bridge.compile`), and how it was found: `hit`, `miss` (compiled and stored), or
        `corrupt` (a damaged entry compiled again and replaced)."""
        path = self.path(module_bytecode, platform, devices)
        outcome = "miss"
        payload = _read(path)
        if payload is not None:
            try:
                exe = xla_bridge.deserialize_executable(payload, platform, devices) if payload else None
            except Exception:          # noqa: BLE001 - whatever PJRT says, the entry is unusable
                exe = None
            if exe is not None:
                os.utime(path)         # recently used: evicted last
                return exe, "hit"
            outcome = "corrupt"
        exe = xla_bridge.compile(module_bytecode, platform, devices)
        self._store(path, xla_bridge.serialize_executable(exe))
        return exe, outcome

    def _store(self, path: Path, payload: bytes) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
            with os.fdopen(fd, "wb") as fh:
                fh.write(_TAG + hashlib.sha256(payload).digest() + payload)
            os.replace(tmp, path)
            usage = _USAGE.setdefault(self.directory, _Usage())
            usage.bytes += len(payload) + len(_TAG) + _DIGEST_BYTES
            usage.stores_since_listing += 1
            if usage.bytes > MAX_BYTES or usage.stores_since_listing >= RESCAN_STORES:
                self._evict()
        except OSError:                # a read-only or full disk: run without storing
            return

    def _evict(self) -> None:
        """List the directory and remove the least recently used entries beyond `MAX_BYTES`."""
        entries = []
        for e in self.directory.glob("*.xla"):
            try:
                st = e.stat()
            except OSError:            # removed by another process meanwhile
                continue
            entries.append((st.st_mtime, st.st_size, e))
        total = sum(size for _, size, _ in entries)
        for _, size, entry in sorted(entries, key=lambda e: e[0]):
            if total <= MAX_BYTES:
                break
            entry.unlink(missing_ok=True)
            total -= size
        _USAGE[self.directory] = _Usage(total, 0)


def _read(path: Path) -> bytes | None:
    """The payload of an entry; None where there is none, b"" where it is damaged."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    head, digest = data[:len(_TAG)], data[len(_TAG):len(_TAG) + _DIGEST_BYTES]
    payload = data[len(_TAG) + _DIGEST_BYTES:]
    if head != _TAG or hashlib.sha256(payload).digest() != digest:
        return b""
    return payload


def default_cache() -> CompileCache:
    """The cache in `cache_directory()` (read again each time: `JLHLO_CACHE_DIR` may change)."""
    return CompileCache(cache_directory())
