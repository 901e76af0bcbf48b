"""The direct backend's filesystem views: ext2/3/4, xfs, ntfs and vfat read in-process by the
libyal libraries from a :class:`~guestinspect.collectors.volumes.base.BlockDevice`.

``open_view(vfs, dev, warn)`` opens one filesystem and gives an
:class:`~guestinspect.collectors.view.FsView` over it; keep it (one handle per filesystem) and
``close()`` it at the end. What each library does differently, and how it is made to answer as
the Linux driver the appliance mounts the filesystem with: :mod:`.libyal_fs`.

Every byte read comes from a guest image: a read returns at most what was asked (and no more
than the file holds), a listing stops at :data:`MAX_ENTRIES` names (with a warning), paths are
walked iteratively, and every library error is a one-line :class:`ReadError`.
"""

from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from guestinspect.collectors.backends import ext_names, ntfs_links, xfs_meta_uuid, xfs_names
from guestinspect.collectors.backends.libyal_fs import FLAVOURS, Flavour, ntfs_reparse
from guestinspect.collectors.view import MISSING, ReadError, Stat, Warn, is_utf8, not_utf8
from guestinspect.collectors.volumes.base import BlockDevice

#: The blkid TYPEs this module reads.
READABLE_TYPES = frozenset(FLAVOURS)
#: The most names one listing gives (then a warning): a hostile directory costs no more.
MAX_ENTRIES = 100_000
#: A listing of a directory of n entries costs about n / LOOKUPS_PER_LISTING lookups by path
#: in it (bench/direct_fs.py: 27 us an entry listed, 0.8 ms a lookup in 2,000 entries).
LOOKUPS_PER_LISTING = 30
#: copy_out's read size.
CHUNK = 1 << 20
#: How many names of directory listings (name -> lstat) are kept for the lookups that follow.
NAMES_KEPT = 200_000
#: How many file entries found by path are kept.
_ENTRIES_KEPT = 4096
#: Words of the libyal clause that names why a call failed.
_CAUSES = ("unsupported", "invalid", "out of bounds", "mismatch", "missing")
#: What a libyal call raises on a damaged or unexpected structure.
_LIBRARY_ERRORS = (OSError, ValueError, TypeError, MemoryError, OverflowError)


class UnsupportedFilesystem(ReadError):
    """A filesystem type the direct backend does not read (btrfs, ufs, …)."""


def why(e: BaseException) -> str:
    """libyal's error as one short line: the clause that names the cause if one does, else
    the first, without the function's name (``pyfsext_volume_open: unable to open volume.
    libfsext_superblock_read_data: unsupported incompatible features flags: 0x000042c2. …``
    -> ``unsupported incompatible features flags: 0x000042c2``)."""
    lines = str(e).strip().splitlines()
    text = lines[0] if lines else type(e).__name__
    clauses = []
    for clause in text.split(". "):
        head, sep, rest = clause.partition(": ")
        clauses.append(rest if sep and " " not in head else clause)
    cause = next((c for c in clauses if any(w in c for w in _CAUSES)), clauses[0])
    return cause.strip().rstrip(".")[:200]


def open_view(vfs: str, dev: BlockDevice, warn: Warn, fs: str = "",
              mount_point: str = "") -> "LibyalView":
    """A view of the ``vfs`` filesystem on ``dev`` (UnsupportedFilesystem for a type not in
    READABLE_TYPES, ReadError when the library refuses it). Its warnings and errors name the
    path as ``fs:path`` (the appliance's form) when given the filesystem's name ``fs``, else
    as ``path``. ``mount_point``: where the appliance would mount it (``/fs/<n>``), which
    ntfs-3g puts in front of an NTFS link's absolute target (:mod:`.ntfs_links`)."""
    flavour = FLAVOURS.get(vfs)
    if flavour is None:
        raise UnsupportedFilesystem(f"{vfs} filesystems are not read by the direct backend")
    try:
        if vfs == "xfs":
            dev = xfs_meta_uuid.for_libfsxfs(dev)
        volume = flavour.library().volume()
        volume.open_file_object(dev)
    except _LIBRARY_ERRORS as e:
        raise ReadError(f"cannot read the {vfs} filesystem: {why(e)}") from None
    return LibyalView(vfs, flavour, volume, dev, warn, fs, mount_point)


def _split(path: str) -> tuple[str, str]:
    parent, _, name = path.rpartition("/")
    return parent or "/", name


def _join(directory: str, name: str) -> str:
    return directory + name if directory.endswith("/") else f"{directory}/{name}"


class LibyalView:
    """One guest filesystem read by a libyal library (an FsView)."""

    def __init__(self, vfs: str, flavour: Flavour, volume: Any, dev: BlockDevice,
                 warn: Warn, fs: str = "", mount_point: str = "") -> None:
        self.vfs = vfs
        self.fs = fs
        self.mount_point = mount_point
        self._flavour = flavour
        self._volume = volume
        self._dev = dev
        self._warn = warn
        self._entries: OrderedDict[str, Any] = OrderedDict()
        self._listings: OrderedDict[str, dict[str, Stat | None]] = OrderedDict()
        self._names_kept = 0

    def close(self) -> None:
        self._entries.clear()
        self._listings.clear()
        try:
            self._volume.close()
        except _LIBRARY_ERRORS:
            pass

    def _where(self, path: str) -> str:
        return f"{self.fs}:{path}" if self.fs else path

    # ---- looking entries up ----

    def _native(self, path: str) -> str:
        return path.replace("/", self._flavour.separator) if path != "/" else path

    def _entry(self, path: str) -> Any | None:
        """The file entry at ``path`` (its ancestors real directories), None if missing."""
        entry = self._entries.get(path)
        if entry is not None:
            self._entries.move_to_end(path)
            return entry
        directory, name = _split(path)
        if path == "/":
            entry = self._call(path, self._volume.get_root_directory)
        elif self._flavour.separator in name:  # a name with a backslash on ntfs/vfat
            entry = self._find(directory, name)
        else:
            entry = self._call(path, self._volume.get_file_entry_by_path, self._native(path))
            if entry is not None and self._flavour.folds_case and entry.name != name:
                entry = self._find(directory, name)  # only an exact match, as ntfs-3g
        if entry is not None:
            self._entries[path] = entry
            if len(self._entries) > _ENTRIES_KEPT:
                self._entries.popitem(last=False)
        return entry

    def _find(self, directory: str, name: str) -> Any | None:
        """The child of ``directory`` named exactly ``name``, looked for entry by entry (for
        what a lookup by path cannot find: a backslash in a name, a name that differs only
        in case from the one the library matched)."""
        parent = self._entry(directory)
        if parent is None:
            return None
        count = self._call(directory, getattr, parent, "number_of_sub_file_entries")
        for i in range(min(count, MAX_ENTRIES)):
            child = self._call(directory, parent.get_sub_file_entry, i)
            try:
                if child.name == name:
                    return child
            except _LIBRARY_ERRORS:
                continue
        return None

    def _lookup(self, path: str) -> Stat:
        """The lstat of ``path``: from its directory's listing if that is kept, else by path."""
        directory, name = _split(path)
        listing = self._listings.get(directory)
        if listing is not None and (name in listing or not self._flavour.found_beyond_listing):
            return listing.get(name) or MISSING
        entry = self._entry(path)
        return MISSING if entry is None else self._call(path, self._stat, entry)

    def _call(self, path: str, call: Callable[..., Any], *args: Any) -> Any:
        """``call(*args)``, a library error turned into a ReadError naming ``path``."""
        try:
            return call(*args)
        except _LIBRARY_ERRORS as e:
            raise ReadError(f"{self._where(path)}: {why(e)}") from None

    def _stat(self, entry: Any) -> Stat:
        kind = self._flavour.kind(entry)
        return Stat(kind, int(entry.size) if kind in ("file", "symlink") else 0)

    def _file(self, path: str) -> Any:
        entry = self._entry(path)
        if entry is None:
            raise ReadError(f"{self._where(path)}: no such file")
        if self._call(path, self._flavour.kind, entry) != "file":
            raise ReadError(f"{self._where(path)}: not a regular file")
        return entry

    # ---- listing ----

    def _maybe_list(self, directory: str, lookups: int) -> None:
        """List ``directory`` first when that is cheaper than ``lookups`` lookups by path
        (each of which reads the directory again: a listing costs about what
        :data:`LOOKUPS_PER_LISTING` lookups in it do)."""
        if directory in self._listings or lookups < 2:
            return
        entry = self._entry(directory)
        if entry is None or self._call(directory, self._stat, entry).kind != "dir":
            return
        count = self._call(directory, getattr, entry, "number_of_sub_file_entries")
        if lookups * LOOKUPS_PER_LISTING > count:
            self._listing(directory)

    def _listing(self, directory: str) -> dict[str, Stat | None]:
        """name -> lstat of each child of ``directory`` (kept for the lookups that follow,
        :data:`NAMES_KEPT` names at most in all)."""
        kept = self._listings.get(directory)
        if kept is not None:
            self._listings.move_to_end(directory)
            return kept
        entry = self._entry(directory)
        if entry is None or self._call(directory, self._stat, entry).kind != "dir":
            raise ReadError(f"{self._where(directory)}: not a directory")
        listing: dict[str, Stat | None] = self._call(directory, self._children, directory,
                                                     entry)
        self._listings[directory] = listing
        self._names_kept += len(listing)
        while self._names_kept > NAMES_KEPT and len(self._listings) > 1:
            self._names_kept -= len(self._listings.popitem(last=False)[1])
        return listing

    def _children(self, directory: str, entry: Any) -> dict[str, Stat | None]:
        """name -> lstat; a name that is not UTF-8 is decoded with replacement and maps to
        None (kind ``other``, not found by name: as the appliance lists it)."""
        count = entry.number_of_sub_file_entries
        if count > MAX_ENTRIES:
            self._warn(f"{self._where(directory)}: {count} entries, only the first "
                       f"{MAX_ENTRIES} listed")
        children: dict[str, Stat | None] = {}
        raw: dict[int, list[bytes]] | None = None
        for i in range(min(count, MAX_ENTRIES)):
            child = entry.get_sub_file_entry(i)
            try:
                name = str(child.name)
            except _LIBRARY_ERRORS:
                if raw is None:
                    raw = self._raw_names(entry)
                undecodable = self._undecodable(directory, child, raw)
                if undecodable is not None:
                    children[undecodable] = None
                continue
            if self._flavour.hidden(child):  # still found by name: found_beyond_listing
                continue
            try:
                children[name] = self._stat(child)
            except _LIBRARY_ERRORS as e:
                self._warn(f"{self._where(_join(directory, name))}: {why(e)}")
                children[name] = Stat("other", 0)
        return children

    def _raw_names(self, entry: Any) -> dict[int, list[bytes]]:
        """inode -> the names (bytes) of a directory's entries, read from the directory
        (ext and xfs: libfsext and libfsxfs give no name that is not UTF-8)."""
        if self._flavour.module == "pyfsext":
            return ext_names.names_by_inode(_extents(entry), self._dev.pread)
        if self._flavour.module == "pyfsxfs":
            return xfs_names.names_by_inode(int(entry.inode_number), _extents(entry),
                                            self._dev.pread)
        return {}

    def _undecodable(self, directory: str, child: Any,
                     raw: dict[int, list[bytes]]) -> str | None:
        """A name the library cannot decode, decoded with replacement (kind ``other``), as
        Linux lists an ext or xfs name; None (left out, as ntfs-3g leaves out a name it
        cannot convert) on NTFS and vfat, or when the bytes cannot be found."""
        inode = int(getattr(child, "inode_number", 0) or 0)
        bad = [n for n in raw.get(inode, []) if not is_utf8(n)]
        if not bad:
            self._warn(f"{self._where(directory)}: a file name cannot be read; left out")
            return None
        raw[inode] = bad[1:]
        name = bad[0].decode("utf-8", "replace")
        self._warn(not_utf8(self._where(directory), name))
        return name

    # ---- FsView ----

    def lstat_names(self, directory: str, names: Sequence[str]) -> list[Stat]:
        try:
            self._maybe_list(directory, len(names))
        except ReadError:
            pass  # a damaged listing: each name by path
        stats = []
        for name in names:
            path = _join(directory, name)
            try:  # one damaged entry costs that name only, as lstatnslist's does
                stats.append(self._lookup(path))
            except ReadError as e:
                self._warn(str(e))
                stats.append(MISSING)
        return stats

    def readlinks(self, directory: str, names: Sequence[str]) -> list[str | None]:
        targets: list[str | None] = []
        for name in names:
            path = _join(directory, name)
            entry = self._entry(path)
            try:
                is_link = entry is not None and self._flavour.kind(entry) == "symlink"
                targets.append(self._target(entry) if is_link else None)
            except _LIBRARY_ERRORS as e:
                self._warn(f"{self._where(path)}: cannot read the link: {why(e)}")
                targets.append(None)
        return targets

    def _target(self, entry: Any) -> str | None:
        reparse = ntfs_reparse(entry) if self.vfs == "ntfs" else None
        if reparse is None:
            return self._flavour.target(entry)
        return ntfs_links.link_target(*reparse, self.mount_point, self._stored_path)

    def _stored_path(self, path: str) -> str | None:
        """``path`` found without regard to case, each component as stored (libfsntfs's
        lookups fold case), at most 255 components; None if there is none."""
        parts = [p for p in path.split("/") if p][:255]
        stored = ""
        for i in range(len(parts)):
            native = self._native("/" + "/".join(parts[:i + 1]))
            entry = self._call(path, self._volume.get_file_entry_by_path, native)
            if entry is None:
                return None
            stored += "/" + str(entry.name)
        return stored or "/"

    def listdir(self, directory: str) -> dict[str, str]:
        # None: a name that is not UTF-8
        return {name: "other" if st is None else st.kind
                for name, st in self._listing(directory).items()}

    def read(self, path: str, offset: int, size: int) -> bytes:
        entry = self._file(path)
        size = max(0, min(size, int(entry.size) - offset))
        if size == 0 or offset < 0:
            return b""
        data = self._call(path, entry.read_buffer_at_offset, size, offset)
        return bytes(data[:size])

    def copy_out(self, path: str, local: Path, limit: int) -> None:
        entry = self._file(path)
        end = min(limit, int(entry.size))
        with local.open("wb") as out:
            offset = 0
            while offset < end:
                n = min(CHUNK, end - offset)
                chunk = self._call(path, entry.read_buffer_at_offset, n, offset)
                if not chunk:
                    raise ReadError(f"{self._where(path)}: cut short at {offset} bytes")
                out.write(chunk[:n])
                offset += len(chunk[:n])

    def file_architecture(self, path: str) -> str | None:
        return None


def _extents(entry: Any) -> list[tuple[int, int]]:
    """(offset, size) of each extent of a file entry's data; none for data kept in the inode
    (libfsxfs fails on such a directory's extents)."""
    try:
        return [entry.get_extent(i)[:2] for i in range(entry.number_of_extents)]
    except (*_LIBRARY_ERRORS, AttributeError):  # AttributeError: releases before 2021
        return []
