"""What every collector provides: base facts at start, then answers to the rules' requests."""

from dataclasses import dataclass, field
from typing import Protocol

from guestinspect.collectors.answerers.table import ANSWERERS
from guestinspect.collectors.factset import Fact, FactSet, merge

__all__ = ["WANT_RELATIONS", "Collector", "CollectorStats", "Fact", "FactSet", "merge"]

#: The request relations the rules derive (rules/wants.dl); a collector answers them
#: (collectors/answerers/table.py, the one list).
WANT_RELATIONS = tuple(row.relation for row in ANSWERERS)


@dataclass
class CollectorStats:
    """How much work reading the image took."""

    guestfs_calls: int = 0
    seconds: float = 0.0
    launch_seconds: float = 0.0
    rounds: int = 0
    warnings: list[str] = field(default_factory=list)
    #: phase (``devices``, ``filesystems``, ``mount``, ``paths``, …) -> libguestfs calls
    phase_calls: dict[str, int] = field(default_factory=dict)
    #: phase -> seconds spent in it (``launch`` included)
    phase_seconds: dict[str, float] = field(default_factory=dict)
    #: filesystem -> the backend that answered the requests about it (``direct``,
    #: ``appliance``), for a collector that mixes them (backends/auto.py)
    backends: dict[str, str] = field(default_factory=dict)
    #: what a mixing collector decided and why (the appliance launched for …), for ``-v``
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line: calls, rounds, seconds, and the same per phase."""
        phases = ", ".join(
            f"{name} {secs:.2f}s" if name.startswith("direct ")  # no libguestfs calls there
            else f"{name} {self.phase_calls.get(name, 0)} calls {secs:.1f}s"
            for name, secs in self.phase_seconds.items()
        )
        line = (
            f"{self.guestfs_calls} libguestfs calls, {self.rounds} rounds, "
            f"{self.seconds:.1f}s (appliance launch {self.launch_seconds:.1f}s)"
        )
        line = f"{line}; {phases}" if phases else line
        if self.backends:
            by: dict[str, list[str]] = {}
            for fs, backend in sorted(self.backends.items()):
                by.setdefault(backend, []).append(fs)
            line += "; answered by " + "; ".join(
                f"{b}: {', '.join(fss)}" for b, fss in sorted(by.items()))
        return "; ".join([line, *self.notes])


class Collector(Protocol):
    """A source of base facts (docs/facts.md)."""

    def initial_facts(self) -> FactSet:
        """Devices, partitions, volume managers and filesystems."""
        ...

    def answer(self, wants: FactSet) -> FactSet:
        """Fetch, in as few round trips as possible, what the Want… tuples ask for."""
        ...

    def stats(self) -> CollectorStats: ...

    def close(self) -> None: ...

