"""The extents of a directory's data, read at most :data:`MAX_DIRECTORY_BYTES` in all: what the
readers of raw directory names (ext_names.py, xfs_names.py) read, whatever the directory
claims."""

from collections.abc import Iterator, Sequence

#: The most bytes of a directory read (a hostile directory costs no more).
MAX_DIRECTORY_BYTES = 32 << 20


def bounded(extents: Sequence[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    """(offset, size) of each extent in order, the sizes cut so that they add up to at most
    MAX_DIRECTORY_BYTES; none after an empty extent, one at a negative offset, or the last
    byte allowed."""
    budget = MAX_DIRECTORY_BYTES
    for offset, size in extents:
        size = min(int(size), budget)
        if size <= 0 or offset < 0:
            return
        budget -= size
        yield int(offset), size
