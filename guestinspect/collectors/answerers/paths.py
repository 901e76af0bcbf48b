"""WantPath, WantContent, WantBlob, WantArch, WantPeResource: what one path of a filesystem
is (Entry, FileSize, Symlink, Missing), and its bytes, architecture or PE resources."""

import base64
from collections import defaultdict

from guestinspect.collectors import binaries, resources
from guestinspect.collectors.answerers.context import AnswerContext, one_line
from guestinspect.collectors.factset import FactSet
from guestinspect.collectors.resolver import GuestFilesystem, norm
from guestinspect.collectors.view import MISSING, ReadError, Stat

#: At most this much of a file is read for Content.
CONTENT_LIMIT = 1024 * 1024
#: Files larger than this give no Blob.
BLOB_LIMIT = 1024 * 1024
#: The requests about one path, answered together (WantPeResource's extra columns apart).
PATH_WANTS = ("WantPath", "WantContent", "WantArch", "WantBlob")


def _add(facts: FactSet, name: str, t: tuple[str | int, ...]) -> None:
    facts.setdefault(name, set()).add(t)


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def entry_facts(fs: str, path: str, st: Stat, facts: FactSet) -> None:
    if st is MISSING:
        _add(facts, "Missing", (fs, path))
        return
    _add(facts, "Entry", (fs, path, st.kind))
    if st.kind == "file":
        _add(facts, "FileSize", (fs, path, st.size))


def answer_paths(ctx: AnswerContext, wants: FactSet, facts: FactSet) -> None:
    by_fs: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for name in (*PATH_WANTS, "WantPeResource"):
        for t in wants.get(name, ()):
            fs, path = str(t[0]), str(t[1])
            if fs in ctx.filesystems:
                by_fs[fs][name].add(norm(path))
    for fs, asked in by_fs.items():
        gfs = ctx.filesystems[fs]
        every = set().union(*asked.values())
        _entries(gfs, every, facts)
        for path in asked.get("WantContent", ()):
            _content(ctx, gfs, path, facts)
        for path in asked.get("WantArch", ()):
            _arch(ctx, gfs, path, facts)
        for path in asked.get("WantBlob", ()):
            _blob(ctx, gfs, path, facts)
    for t in wants.get("WantPeResource", ()):
        if str(t[0]) in ctx.filesystems:
            gfs = ctx.filesystems[str(t[0])]
            _pe_resource(ctx, gfs, str(t[1]), int(t[2]), int(t[3]), facts)


def _entries(gfs: GuestFilesystem, paths: set[str], facts: FactSet) -> None:
    gfs.lstat_many(paths)
    links = []
    for path in paths:
        st = gfs.cached(path) or MISSING
        entry_facts(gfs.name, path, st, facts)
        if st.kind == "symlink":
            links.append(path)
    for path, target in gfs.symlink_targets(links).items():
        _add(facts, "Symlink", (gfs.name, path, target))


def _file(gfs: GuestFilesystem, path: str) -> tuple[str, Stat] | None:
    found = gfs.target(path)
    return found if found is not None and found[1].kind == "file" else None


def _read_all(ctx: AnswerContext, gfs: GuestFilesystem, path: str, real: str,
              size: int) -> bytes | None:
    """The first ``size`` bytes of ``real``; None (and a warning) if it cannot be read."""
    if size <= 0:
        return b""
    try:
        return gfs.view.read(real, 0, size)
    except ReadError as e:
        ctx.warn(f"{gfs.name}:{path}: cannot read: {one_line(e)}")
        return None


def _content(ctx: AnswerContext, gfs: GuestFilesystem, path: str, facts: FactSet) -> None:
    found = _file(gfs, path)
    if found is None:
        return
    real, st = found
    data = _read_all(ctx, gfs, path, real, min(st.size, CONTENT_LIMIT))
    if data is None:
        return
    _add(facts, "Content", (gfs.name, path, _text(data)))
    if st.size > CONTENT_LIMIT:
        _add(facts, "ContentTruncated", (gfs.name, path))


def _blob(ctx: AnswerContext, gfs: GuestFilesystem, path: str, facts: FactSet) -> None:
    found = _file(gfs, path)
    if found is None or found[1].size > BLOB_LIMIT:
        return
    data = _read_all(ctx, gfs, path, found[0], found[1].size)
    if data is not None:
        _add(facts, "Blob", (gfs.name, path, base64.b64encode(data).decode("ascii")))


def _pe_resource(ctx: AnswerContext, gfs: GuestFilesystem, path: str, kind: int, name: int,
                 facts: FactSet) -> None:
    found = _file(gfs, path)
    if found is None:
        return
    real, size = found[0], found[1].size

    def read(offset: int, count: int) -> bytes:
        count = min(count, size - offset)
        return gfs.view.read(real, offset, count) if count > 0 else b""

    try:
        data = resources.pe_resource(read, kind, name)
    except resources.PeError as e:  # not a PE file, or a damaged one: no such resource
        ctx.warn(f"{gfs.name}:{path}: no resource {kind}/{name}: {e}")
        return
    except ReadError as e:
        ctx.warn(f"{gfs.name}:{path}: cannot read: {one_line(e)}")
        return
    if data is not None:
        b64 = base64.b64encode(data).decode("ascii")
        _add(facts, "PeResource", (gfs.name, path, kind, name, b64))


def _arch(ctx: AnswerContext, gfs: GuestFilesystem, path: str, facts: FactSet) -> None:
    found = _file(gfs, path)
    if found is None:
        _add(facts, "Missing", (gfs.name, path))
        return
    try:
        header = gfs.view.read(found[0], 0, binaries.HEADER_BYTES)
        arch = binaries.binary_arch(header) or gfs.view.file_architecture(found[0])
    except ReadError as e:
        ctx.warn(f"{gfs.name}:{path}: no architecture: {one_line(e)}")
        return
    if arch is None:
        ctx.warn(f"{gfs.name}:{path}: no architecture: not a binary this backend can read")
        return
    _add(facts, "BinaryArch", (gfs.name, path, arch))
