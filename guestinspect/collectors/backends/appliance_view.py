"""The appliance's view of one guest filesystem, mounted read-only at ``/fs/N``.

Each method is one libguestfs call (a batch: ``lstatnslist``, ``readlinklist``), so the
answerers cost the appliance what they cost before the split. The appliance's kernel is never
asked to follow a symlink: the resolver gives real directories only.
"""

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from guestinspect.collectors import packages
from guestinspect.collectors.answerers.context import one_line
from guestinspect.collectors.resolver import CaseLookup
from guestinspect.collectors.view import MISSING, ReadError, Stat, Warn, is_utf8, not_utf8

_KINDS = {0o100000: "file", 0o040000: "dir", 0o120000: "symlink"}
_READDIR_KINDS = {"r": "file", "d": "dir", "l": "symlink"}


def _kind(mode: int) -> str:
    return _KINDS.get(mode & 0o170000, "other")


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def _stat(st: dict[str, int]) -> Stat:
    return MISSING if st["st_ino"] == -1 else Stat(_kind(st["st_mode"]), st["st_size"])


class ApplianceView:
    """The filesystem ``name`` mounted at ``mount`` in the appliance of handle ``g``."""

    def __init__(self, g: Any, name: str, mount: str, tmp: Path, warn: Warn) -> None:
        self.g, self.name, self.mount, self._tmp, self._warn = g, name, mount, tmp, warn
        #: path -> size of every regular file lstat'ed (copy_out picks its call by it)
        self._sizes: dict[str, int] = {}

    def _at(self, path: str) -> str:
        return self.mount + path

    def lstat_names(self, directory: str, names: Sequence[str]) -> list[Stat]:
        try:
            results = self.g.lstatnslist(self._at(directory), list(names))
        except RuntimeError as e:
            raise ReadError(one_line(e)) from e
        stats = [_stat(st) for st in results]
        base = directory.rstrip("/")
        for name, st in zip(names, stats, strict=True):
            if st.kind == "file":
                self._sizes[f"{base}/{name}"] = st.size
        return stats

    def readlinks(self, directory: str, names: Sequence[str]) -> list[str | None]:
        base = directory.rstrip("/")
        if len(names) != 1:
            try:
                return [t or None for t in self.g.readlinklist(self._at(directory), list(names))]
            except (RuntimeError, UnicodeDecodeError):
                pass
        return [self._readlink(f"{base}/{name}") for name in names]

    def _readlink(self, path: str) -> str | None:
        try:
            return str(self.g.readlink(self._at(path))) or None
        except (RuntimeError, UnicodeDecodeError):
            return None

    def listdir(self, directory: str) -> dict[str, str]:
        try:
            return {
                e["name"]: _READDIR_KINDS.get(e["ftyp"], "other")
                for e in self.g.readdir(self._at(directory))
                if e["name"] not in (".", "..")
            }
        except UnicodeDecodeError:
            pass  # a name that is not UTF-8: list the raw names, stat the readable ones
        except RuntimeError as e:
            raise ReadError(one_line(e)) from e
        try:
            return self._listdir_raw(directory)
        except RuntimeError as e:
            raise ReadError(one_line(e)) from e

    def _listdir_raw(self, directory: str) -> dict[str, str]:
        local = self._tmp / "ls0"
        self.g.ls0(self._at(directory), str(local))
        raw = [n for n in local.read_bytes().split(b"\0") if n and n not in (b".", b"..")]
        good = [n.decode() for n in raw if is_utf8(n)]
        stats = self.g.lstatnslist(self._at(directory), good) if good else []
        kinds = {n: _kind(st["st_mode"]) for n, st in zip(good, stats, strict=True)}
        for n in raw:
            if not is_utf8(n):
                kinds[_text(n)] = "other"
                self._warn(not_utf8(f"{self.name}:{directory}", _text(n)))
        return kinds

    def read(self, path: str, offset: int, size: int) -> bytes:
        try:
            return bytes(self.g.pread(self._at(path), size, offset))
        except RuntimeError as e:
            raise ReadError(one_line(e)) from e

    def copy_out(self, path: str, local: Path, limit: int) -> None:
        size = self._sizes.get(path)
        try:
            if size is None:  # (never lstat'ed: the resolver always does first)
                (st,) = self.g.lstatnslist(self._at(path.rsplit("/", 1)[0] or "/"),
                                           [path.rsplit("/", 1)[1]])
                size = _stat(st).size
            if size > limit:
                self.g.download_offset(self._at(path), str(local), 0, limit)
            else:
                self.g.download(self._at(path), str(local))
        except RuntimeError as e:
            raise ReadError(one_line(e)) from e

    def file_architecture(self, path: str) -> str | None:
        try:
            return str(self.g.file_architecture(self._at(path)))
        except RuntimeError as e:
            raise ReadError(one_line(e)) from e

    def archive_dir(self, directory: str, tar: Path, excludes: list[str]) -> bool:
        """``tar_out`` of a directory, cancelled once the tar passes packages.DB_LIMIT bytes
        (checked every 50 ms); False if it was cut."""
        stop, cut = threading.Event(), threading.Event()

        def watch() -> None:
            while not stop.wait(0.05):
                if tar.exists() and tar.stat().st_size > packages.DB_LIMIT:
                    cut.set()
                    self.g.user_cancel()
                    return

        watcher = threading.Thread(target=watch, name="tar-out-cap", daemon=True)
        watcher.start()
        try:
            self.g.tar_out(self._at(directory), str(tar), excludes=excludes)
        except RuntimeError:
            if not cut.is_set():
                raise
        finally:
            stop.set()
            watcher.join()
        return not cut.is_set()


def case_lookup(g: Any, mount: str) -> CaseLookup:
    """The appliance's case-insensitive lookup under ``mount`` (one call)."""

    def lookup(path: str) -> str | None:
        try:
            return str(g.case_sensitive_path(mount + path))[len(mount):]
        except RuntimeError:
            return None

    return lookup
