"""One guest filesystem as the answerers see it: a :class:`~view.FsView` plus a stat cache,
symlinks resolved within the filesystem (an absolute symlink means this filesystem's root,
``..`` stops at it), lstat batched per directory, level by level, and a case-insensitive
lookup for Windows paths.
"""

import posixpath
from collections import defaultdict
from collections.abc import Callable, Iterable

from guestinspect.collectors.view import MISSING, FsView, ReadError, Stat

#: Symlinks followed while resolving one path before giving up (a loop).
MAX_SYMLINKS = 40

#: A backend's own case-insensitive lookup (the appliance's ``case_sensitive_path``): the
#: path as stored, or None if there is none.
CaseLookup = Callable[[str], str | None]


def norm(path: str) -> str:
    """An absolute normalized path (``..`` in it is kept for the resolver to follow)."""
    parts = [p for p in path.split("/") if p and p != "."]
    return "/" + "/".join(parts)


def join(directory: str, name: str) -> str:
    return posixpath.join(directory, name) if directory != "/" else "/" + name


class GuestFilesystem:
    """The filesystem ``name`` (``/dev/sda1``) read through ``view``."""

    def __init__(self, name: str, view: FsView, case_lookup: CaseLookup | None = None) -> None:
        self.name = name
        self.view = view
        self._case_lookup = case_lookup
        #: resolved guest path (or a path asked for and answered) -> its lstat
        self._stat: dict[str, Stat] = {"/": Stat("dir", 0)}

    # ---- the stat cache ----

    def cached(self, path: str) -> Stat | None:
        return self._stat.get(path)

    def remember(self, path: str, st: Stat, replace: bool = False) -> Stat:
        """Put ``st`` in the cache for ``path`` (unless known, without ``replace``); the
        cached value."""
        if replace:
            self._stat[path] = st
        return self._stat.setdefault(path, st)

    def _real_dir(self, path: str) -> bool:
        """Whether ``path`` and all its ancestors are known directories (no symlink on the
        way), so that the view can be given it."""
        while path != "/":
            st = self._stat.get(path)
            if st is None or st.kind != "dir":
                return False
            path = posixpath.dirname(path)
        return True

    def _lstat_dir(self, directory: str, names: list[str]) -> None:
        try:
            results = self.view.lstat_names(directory, names)
        except ReadError:
            results = [MISSING] * len(names)
        for name, st in zip(names, results, strict=True):
            self._stat[join(directory, name)] = st

    def lstat_many(self, paths: Iterable[str]) -> None:
        """lstat normalized guest paths into the cache: ancestors first, level by level, one
        ``lstat_names`` per directory of a level. A path below a symlink is resolved by
        :meth:`resolve` (rare)."""
        todo = {p for p in paths if p not in self._stat}
        levels: dict[int, set[str]] = defaultdict(set)
        for p in todo:
            while p != "/":
                levels[p.count("/")].add(p)
                p = posixpath.dirname(p)
        for depth in sorted(levels):
            by_dir: dict[str, list[str]] = defaultdict(list)
            for p in levels[depth]:
                if p in self._stat:
                    continue
                parent = posixpath.dirname(p)
                pst = self._stat.get(parent)
                if pst is MISSING or (pst is not None and pst.kind in ("file", "other")):
                    self._stat[p] = MISSING  # nothing below a missing path or a file
                elif self._real_dir(parent):
                    by_dir[parent].append(posixpath.basename(p))
            for d, names in sorted(by_dir.items()):
                self._lstat_dir(d, sorted(names))
        for path in sorted(todo):
            if path in self._stat:
                continue
            # Below a symlink: follow it inside the guest filesystem.
            real = self.resolve(posixpath.dirname(path))
            if real is None or self.get(real).kind != "dir":
                self._stat[path] = MISSING
            else:
                self._stat[path] = self.get(join(real, posixpath.basename(path)))

    def get(self, path: str) -> Stat:
        """The lstat of a path whose ancestors are resolved (no symlinks in them)."""
        if path not in self._stat:
            d, name = posixpath.dirname(path), posixpath.basename(path)
            try:
                (st,) = self.view.lstat_names(d, [name])
            except (ReadError, ValueError):
                st = MISSING
            self._stat[path] = st
        return self._stat[path]

    # ---- symlinks ----

    def readlink(self, path: str) -> str | None:
        """The target of the symlink ``path`` (ancestors resolved), None if unreadable."""
        try:
            (target,) = self.view.readlinks(posixpath.dirname(path), [posixpath.basename(path)])
        except (ReadError, ValueError):
            return None
        return target or None

    def symlink_targets(self, links: Iterable[str]) -> dict[str, str]:
        """asked path -> target for each of ``links`` (lstat'ed symlinks) whose target can
        be read, one ``readlinks`` per directory."""
        by_dir: dict[str, list[str]] = defaultdict(list)
        for p in links:
            by_dir[posixpath.dirname(p)].append(posixpath.basename(p))
        out: dict[str, str] = {}
        for d, names in by_dir.items():
            real = self.resolve(d)
            if real is None:
                continue
            try:
                targets = self.view.readlinks(real, names)
            except ReadError:
                targets = [None] * len(names)
            out.update((join(d, n), t) for n, t in zip(names, targets, strict=True) if t)
        return out

    def resolve(self, path: str, follow_last: bool = True) -> str | None:
        """The path inside this filesystem that ``path`` names, symlinks followed within it
        (``..`` stops at its root); None if it does not exist or loops."""
        todo = [p for p in path.split("/") if p and p != "."]
        todo.reverse()
        cur, hops = "/", 0
        while todo:
            comp = todo.pop()
            if comp == "..":
                cur = posixpath.dirname(cur)
                continue
            cand = join(cur, comp)
            st = self.get(cand)
            if st is MISSING:
                return None
            if st.kind == "symlink" and (todo or follow_last):
                hops += 1
                target = self.readlink(cand)
                if target is None or hops > MAX_SYMLINKS:
                    return None
                if target.startswith("/"):
                    cur = "/"
                todo.extend(reversed([p for p in target.split("/") if p and p != "."]))
                continue
            if todo and st.kind != "dir":
                return None
            cur = cand
        return cur

    def target(self, path: str) -> tuple[str, Stat] | None:
        """The resolved path and lstat of what ``path`` leads to, symlinks followed."""
        real = self.resolve(path)
        return None if real is None else (real, self.get(real))

    # ---- case-insensitive lookup ----

    def case_path(self, path: str) -> str | None:
        """``path`` as stored, each component matched without regard to case (Windows
        paths); an exact match is preferred. None if there is no such path."""
        if self._case_lookup is not None:
            return self._case_lookup(norm(path))
        cur = "/"
        for comp in [p for p in path.split("/") if p and p != "."]:
            real = self.resolve(cur)
            if real is None or self.get(real).kind != "dir":
                return None
            try:
                names = self.view.listdir(real)
            except ReadError:
                return None
            if comp not in names:
                folded = comp.casefold()
                comp = next((n for n in sorted(names) if n.casefold() == folded), "")
                if not comp:
                    return None
            cur = join(cur, comp)
        return cur
