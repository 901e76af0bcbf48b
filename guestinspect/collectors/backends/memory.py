"""An in-memory guest filesystem: a :class:`~view.FsView` over a dict of paths, for tests
(the rule tests' fake collector runs the real answerers and parsers over it).

A node is a file's bytes (a ``str`` is taken as UTF-8), ``None`` for a directory, or
``("symlink", target)``. Parent directories are implied; ``/`` always exists.
"""

import posixpath
from collections.abc import Mapping, Sequence
from pathlib import Path

from guestinspect.collectors.view import MISSING, ReadError, Stat

Node = bytes | str | None | tuple[str, str]


def _kind(node: Node) -> str:
    if node is None:
        return "dir"
    return "symlink" if isinstance(node, tuple) else "file"


class MemoryView:
    """The filesystem ``nodes`` (absolute path -> node); ``arch`` gives the architecture of
    binaries :func:`binaries.binary_arch` cannot tell (as the appliance's
    ``file_architecture`` would)."""

    def __init__(self, nodes: Mapping[str, Node], arch: Mapping[str, str] | None = None) -> None:
        self._nodes: dict[str, Node] = {"/": None}
        self._children: dict[str, dict[str, str]] = {"/": {}}
        self._arch = dict(arch or {})
        for path in sorted(nodes, key=lambda p: p.count("/")):
            self._add(posixpath.normpath("/" + path.lstrip("/")), nodes[path])

    def _add(self, path: str, node: Node) -> None:
        parent = posixpath.dirname(path)
        if parent not in self._nodes:
            self._add(parent, None)
        self._nodes[path] = node
        self._children.setdefault(parent, {})[posixpath.basename(path)] = _kind(node)
        if node is None:
            self._children.setdefault(path, {})

    def _node(self, path: str) -> Node:
        if path not in self._nodes:
            raise ReadError(f"{path}: No such file or directory")
        return self._nodes[path]

    def _file(self, path: str) -> bytes:
        node = self._node(path)
        if node is None or isinstance(node, tuple):
            raise ReadError(f"{path}: not a regular file")
        return node.encode() if isinstance(node, str) else node

    def lstat_names(self, directory: str, names: Sequence[str]) -> list[Stat]:
        out = []
        for name in names:
            path = posixpath.join(directory, name)
            if path not in self._nodes:
                out.append(MISSING)
                continue
            node = self._nodes[path]
            size = len(self._file(path)) if _kind(node) == "file" else 0
            out.append(Stat(_kind(node), size))
        return out

    def readlinks(self, directory: str, names: Sequence[str]) -> list[str | None]:
        nodes = [self._nodes.get(posixpath.join(directory, n)) for n in names]
        return [n[1] if isinstance(n, tuple) else None for n in nodes]

    def listdir(self, directory: str) -> dict[str, str]:
        if self._node(directory) is not None:
            raise ReadError(f"{directory}: not a directory")
        return dict(self._children[directory])

    def read(self, path: str, offset: int, size: int) -> bytes:
        return self._file(path)[offset : offset + max(size, 0)]

    def copy_out(self, path: str, local: Path, limit: int) -> None:
        local.write_bytes(self._file(path)[:limit])

    def file_architecture(self, path: str) -> str | None:
        return self._arch.get(path)

