"""How much a program may cost: expanded rules at parse time, tuples and time when it runs.

A rule file is user input: a counting rule (``N(x+1) :- N(x).``), a cross product or a rule of
24 disjunctions (2^24 rules once expanded) would otherwise run until the machine runs out of
memory. Each limit ends parsing or evaluation with one clear line naming it.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The defaults: generous, far above what the shipped rules need.
MAX_TUPLES = 20_000_000
MAX_RULES_PER_CLAUSE = 10_000
MAX_RULES = 100_000
#: The largest rule file read (the shipped rules are 100 KiB in all; each token costs memory).
MAX_SOURCE_BYTES = 4 << 20


@dataclass(frozen=True)
class Limits:
    """``max_tuples``: tuples held by the database (base facts and derived);
    ``max_rules_per_clause`` / ``max_rules``: rules after expanding disjunctions, for one
    clause and for the whole program; ``max_seconds``: evaluation time of one ``run()``
    (None: no limit)."""

    max_tuples: int = MAX_TUPLES
    max_rules_per_clause: int = MAX_RULES_PER_CLAUSE
    max_rules: int = MAX_RULES
    max_seconds: float | None = None


DEFAULT_LIMITS = Limits()


class LimitExceeded(BaseException):
    """Raised inside compiled rules when a limit is reached.

    A BaseException, so that no ``except Exception`` in a functor or Python relation swallows
    it; the database turns it into a DatalogError."""


#: The command-line option of each limit (``guestinspect datalog``).
OPTIONS = {
    "max_tuples": "--max-tuples",
    "max_rules_per_clause": "--max-rules-per-clause",
    "max_rules": "--max-rules",
    "max_seconds": "--max-seconds",
}


def limit_hint(name: str) -> str:
    """How to raise a limit: ``raise it with --max-tuples or Limits(max_tuples=...)``."""
    return f"raise it with {OPTIONS[name]} or Limits({name}=...)"
