"""A persistent cache of loaded programs: a second process skips parsing, checking and code
generation.

An entry is a :class:`Program` (parsed, checked, stratified) and the code of the rules it
compiled while it ran (marshalled code objects), written at the process's exit, pickled under
``$XDG_CACHE_HOME/guestinspect/programs/`` (``~/.cache/...``). Its name is a hash of what
determines the program before any file is read: the rule files' names as given and resolved,
the include directories, the limits, the functor and relation tables (names, modes, the
source of the modules that define them), the engine's own source and the Python version.
The entry records every file the loader read (device, inode, SHA-256 of the content) and every
``#include`` candidate it looked for; a hit reads and hashes them again and is used only if
all are the same.

The cache is an optimisation only: a missing, stale, unreadable or corrupt entry (each one
ends with the SHA-256 of its payload) is compiled afresh and written again, silently.
Entries are written atomically (temporary file, rename). Loading a pickle runs code, so the
directory is created 0700 and not used when it (or its parent) is not the user's own or is
writable by group or others, nor an entry that is (docs/security.md). Set
``GUESTINSPECT_NO_PROGRAM_CACHE=1`` to turn it off.
"""

from __future__ import annotations

import atexit
import hashlib
import io
import marshal
import os
import pickle
import stat
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .codegen import factory_code
from .files import FileRefused, digest, read_regular
from .limits import DEFAULT_LIMITS, MAX_SOURCE_BYTES, Limits
from .program import Functors, Program, PyRelations

#: Changes whenever the entry's layout does.
FORMAT = b"guestinspect-program-cache 1\n"
#: Entries larger than this are not read.
MAX_ENTRY_BYTES = 64 << 20
#: Entries kept (the least recently written go first).
MAX_ENTRIES = 16
#: Compiled rules an entry keeps at most.
MAX_RULES = 20_000

_engine_hash: str | None = None


def cache_dir() -> Path | None:
    """The cache directory, None when the cache is off."""
    if os.environ.get("GUESTINSPECT_NO_PROGRAM_CACHE", "") not in ("", "0"):
        return None
    base = os.environ.get("XDG_CACHE_HOME", "")
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".cache"
    return root / "guestinspect" / "programs"


def _safe_dir(path: Path) -> bool:
    """Whether ``path`` is a directory (not a link) of this user, not writable by others."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid() and \
        not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _usable_dir(create: bool) -> Path | None:
    directory = cache_dir()
    if directory is None:
        return None
    if create:
        try:
            directory.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            directory.mkdir(mode=0o700, exist_ok=True)
        except OSError:
            return None
    if not (_safe_dir(directory.parent) and _safe_dir(directory)):
        return None
    return directory


def _engine() -> str:
    """A hash of the engine's own source (this package's ``.py`` files)."""
    global _engine_hash
    if _engine_hash is None:
        here = Path(__file__).parent
        h = hashlib.sha256()
        for p in sorted(here.rglob("*.py")):
            h.update(str(p.relative_to(here)).encode() + b"\0" + p.read_bytes() + b"\0")
        _engine_hash = h.hexdigest()
    return _engine_hash


def _module_source(module: str) -> str:
    found = sys.modules.get(module)
    name = getattr(found, "__file__", None)
    if not name:
        return module
    try:
        return digest(Path(name).read_bytes())
    except OSError:
        return module


def _key(paths: Sequence[Path], include_dirs: Sequence[Path], functors: Functors,
         relations: PyRelations, limits: Limits) -> str:
    modules: set[str] = set()
    table: list[object] = []
    for name, fn in sorted(functors.items()):
        table.append(("functor", name, fn.__module__, fn.__qualname__))
        modules.add(fn.__module__)
    for name, rel in sorted(relations.items()):
        table.append(("relation", name, rel.fn.__module__, rel.fn.__qualname__, rel.modes,
                      rel.patterns))
        modules.add(rel.fn.__module__)
    parts = [
        FORMAT.decode(), sys.version, sys.implementation.cache_tag, _engine(), repr(limits),
        [(str(p), str(p.resolve())) for p in paths],
        [(str(d), str(d.resolve())) for d in include_dirs],
        table, sorted((m, _module_source(m)) for m in modules),
    ]
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def _unchanged(inputs: Iterable[tuple[object, ...]]) -> bool:
    """Whether the loader would read the same files, and find the same includes, again."""
    for item in inputs:
        if item[0] == "probe":
            _, name, exists = item
            try:
                Path(str(name)).stat()
                found = True
            except (OSError, ValueError):
                found = False
            if found != exists:
                return False
        else:
            _, name, dev, ino, sha = item
            try:
                data, st = read_regular(Path(str(name)), MAX_SOURCE_BYTES)
            except FileRefused:
                if sha != "":
                    return False
                continue
            if (st.st_dev, st.st_ino, digest(data)) != (dev, ino, sha):
                return False
    return True


class _Pickler(pickle.Pickler):
    """Functors and Python relations are stored by name: the caller gives them again."""

    def __init__(self, file: Any, functors: Functors, relations: PyRelations) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.by_id: dict[int, tuple[str, str]] = {id(f): ("f", n) for n, f in functors.items()}
        self.by_id.update({id(r): ("r", n) for n, r in relations.items()})

    def persistent_id(self, obj: Any) -> tuple[str, str] | None:
        return self.by_id.get(id(obj))


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: Any, functors: Functors, relations: PyRelations) -> None:
        super().__init__(file)
        self.functors = functors
        self.relations = relations

    def persistent_load(self, pid: Any) -> Any:
        kind, name = pid
        return self.functors[name] if kind == "f" else self.relations[name]


def _read(path: Path) -> bytes | None:
    """The payload of the entry at ``path`` if it is whole and safe to load."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) |
                     getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid() or \
                st.st_mode & (stat.S_IWGRP | stat.S_IWOTH) or st.st_size > MAX_ENTRY_BYTES:
            return None
        data = f.read(MAX_ENTRY_BYTES + 1)
    head = len(FORMAT)
    if len(data) < head + 32 or not data.startswith(FORMAT):
        return None
    payload = data[head + 32:]
    if hashlib.sha256(payload).digest() != data[head:head + 32]:
        return None
    return payload


def _write(path: Path, payload: bytes) -> None:
    import tempfile  # here, not at the top: a hit writes nothing (start-up time)

    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(FORMAT + hashlib.sha256(payload).digest() + payload)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    entries = sorted(path.parent.glob("*.pickle"), key=lambda p: p.stat().st_mtime_ns)
    for old in entries[:-MAX_ENTRIES]:
        old.unlink(missing_ok=True)


def _save(program: Program, path: Path, key: str, functors: Functors,
          relations: PyRelations) -> None:
    """Write ``program`` and its compiled rules (those of the entry it came from too)."""
    rules = dict(program.cached_rules)
    sources = dict(program.cached_sources)
    for code_key, compiled in list(program._code.items()):
        if code_key in rules or len(rules) >= MAX_RULES:
            continue
        found = factory_code(compiled.source)
        if found is None:
            continue
        if compiled.source not in sources:
            sources[compiled.source] = (marshal.dumps(found[0]), found[1])
        rules[code_key] = (compiled.bindings, compiled.where, compiled.source, compiled.consts,
                           compiled.needs)
    state = program.__getstate__()
    buffer = io.BytesIO()
    _Pickler(buffer, functors, relations).dump(
        {"key": key, "inputs": program.inputs, "state": state, "rules": rules,
         "sources": sources})
    _write(path, buffer.getvalue())
    program.cached_rules = rules
    program.cached_sources = sources


def _load(path: Path, key: str, functors: Functors, relations: PyRelations) -> Program | None:
    payload = _read(path)
    if payload is None:
        return None
    entry = _Unpickler(io.BytesIO(payload), functors, relations).load()
    if not isinstance(entry, dict) or entry.get("key") != key or \
            not _unchanged(entry["inputs"]):
        return None
    program = Program.__new__(Program)
    program.__dict__.update(entry["state"])
    program.cached_rules = entry["rules"]
    program.cached_sources = entry["sources"]
    return program


def load_files(paths: Iterable[str | Path], functors: Functors | None = None,
               relations: PyRelations | None = None, include_dirs: Iterable[str | Path] = (),
               limits: Limits = DEFAULT_LIMITS) -> Program:
    """:meth:`Program.from_files`, from the cache when it holds this program; a program
    compiled afresh is written to it at exit, with the rules it compiled (and so is one whose
    entry lacks rules it compiled)."""
    files = [Path(p) for p in paths]
    dirs = [Path(d) for d in include_dirs]
    functors = functors or {}
    relations = relations or {}
    directory = _usable_dir(create=False)
    program: Program | None = None
    path: Path | None = None
    key = ""
    try:
        if directory is not None or cache_dir() is not None:
            key = _key(files, dirs, functors, relations, limits)
        if directory is not None:
            path = directory / f"{key}.pickle"
            program = _load(path, key, functors, relations)
    except Exception:  # a corrupt or foreign entry: compiled afresh
        program = None
    if program is None:
        program = Program.from_files(files, functors, relations, dirs, limits)
        if not key:
            return program
        directory = _usable_dir(create=True)
        if directory is None:
            return program
        path = directory / f"{key}.pickle"
        fresh = True
    else:
        fresh = False
    assert path is not None
    if not _pending:
        atexit.register(_save_pending)
    _pending[path] = (program, key, functors, relations, fresh)
    return program


#: The programs this process loaded, by entry: written at exit (once, with the rules they
#: compiled) if they were compiled afresh or compiled rules their entry does not hold.
_pending: dict[Path, tuple[Program, str, Functors, PyRelations, bool]] = {}


def _save_pending() -> None:
    for path, (program, key, functors, relations, fresh) in list(_pending.items()):
        if fresh or (any(k not in program.cached_rules for k in program._code) and
                     len(program.cached_rules) < MAX_RULES):
            _quietly(_save, program, path, key, functors, relations)
    _pending.clear()


def _quietly(fn: Any, *args: Any) -> None:
    try:
        fn(*args)
    except Exception:  # the cache is an optimisation: a failure to write it is no error
        pass
