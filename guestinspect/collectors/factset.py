"""Facts as collectors give them: relation name -> set of tuples."""

Fact = tuple[str | int, ...]
FactSet = dict[str, set[Fact]]


def merge(into: FactSet, more: FactSet) -> FactSet:
    """Add every tuple of ``more`` to ``into`` and return ``into``."""
    for name, tuples in more.items():
        into.setdefault(name, set()).update(tuples)
    return into
