"""A relation's tuples, with hash indexes built on demand and kept up to date."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from operator import itemgetter
from typing import Any

Row = tuple[Any, ...]
Index = dict[Any, list[Row]]


class Relation:
    """A set of tuples plus indexes ``columns -> {key: [tuples]}``.

    A key is the column's value for a one-column index and a tuple of values otherwise.
    """

    __slots__ = ("name", "arity", "tuples", "indexes", "_getters")

    def __init__(self, name: str, arity: int) -> None:
        self.name = name
        self.arity = arity
        self.tuples: set[Row] = set()
        self.indexes: dict[tuple[int, ...], Index] = {}
        self._getters: dict[tuple[int, ...], Callable[[Row], Any]] = {}

    def __len__(self) -> int:
        return len(self.tuples)

    def index(self, columns: tuple[int, ...]) -> Index:
        idx = self.indexes.get(columns)
        if idx is None:
            idx = {}
            get = itemgetter(*columns)
            self._getters[columns] = get
            _fill(idx, get, self.tuples)
            self.indexes[columns] = idx
        return idx

    def add_new(self, new: set[Row]) -> None:
        """Add tuples known not to be present yet."""
        if not new:
            return
        self.tuples |= new
        for columns, idx in self.indexes.items():
            _fill(idx, self._getters[columns], new)

    def add(self, rows: Iterable[Row]) -> set[Row]:
        """Add tuples; return those that were new."""
        if not self.tuples:  # (the common case of a relation's first tuples: no difference)
            new = rows if isinstance(rows, set) else set(rows)
        else:
            new = (rows if isinstance(rows, set) else set(rows)) - self.tuples
        self.add_new(new)
        return new

    def clear(self) -> None:
        """Remove every tuple, keeping the index objects (compiled rules hold them)."""
        self.tuples.clear()
        for idx in self.indexes.values():
            idx.clear()


def _fill(idx: Index, get: Callable[[Row], Any], rows: Iterable[Row]) -> None:
    if not isinstance(rows, list | set):
        rows = list(rows)
    lookup = idx.get
    for k, t in zip(map(get, rows), rows, strict=True):  # the keys computed at C speed
        bucket = lookup(k)
        if bucket is None:
            idx[k] = [t]
        else:
            bucket.append(t)
