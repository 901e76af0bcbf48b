"""Functor failures: a functor, a conversion or a Python relation that raised on a value.

Evaluation does not stop for them. The tuple being built is skipped, and the failure is
recorded here (the rule's location, what was called, on which values, and why), so that the
caller can report it: the inspection turns each one into a warning, ``guestinspect datalog``
prints each one on stderr.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: A value in a failure is shown up to this many characters.
MAX_SHOWN = 80
#: At most this many failures are kept per database; the others are only counted.
MAX_KEPT = 100


def show(value: Any) -> str:
    """A value as a short, printable, one-line text (``repr``, truncated to MAX_SHOWN)."""
    if isinstance(value, str) and len(value) > MAX_SHOWN:
        return f"{value[:MAX_SHOWN]!r}... ({len(value)} characters)"
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 256:
        return f"<a number of {value.bit_length()} bits>"
    text = repr(value)
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "..."


def _reason(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    text = lines[0] if lines else ""
    if len(text) > 2 * MAX_SHOWN:
        text = text[:2 * MAX_SHOWN] + "..."
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


@dataclass(frozen=True)
class Failure:
    """One call that raised: ``rule`` is the rule's ``file:line:col``."""

    rule: str
    call: str
    values: tuple[str, ...]
    reason: str

    def __str__(self) -> str:
        return (f"{self.rule}: {self.call}({', '.join(self.values)}) failed "
                f"({self.reason}); that tuple is skipped")


class FailureLog:
    """The failures of one evaluation: the first MAX_KEPT distinct ones, and how many more."""

    def __init__(self) -> None:
        self.failures: list[Failure] = []
        self.dropped = 0  # failures not kept (after MAX_KEPT), repeats not counted
        self._seen: set[Failure] = set()

    def record(self, rule: str, call: str, args: tuple[Any, ...], error: BaseException) -> None:
        failure = Failure(rule, call, tuple(show(a) for a in args), _reason(error))
        if failure in self._seen:
            return
        if len(self.failures) >= MAX_KEPT:
            self.dropped += 1
            return
        self._seen.add(failure)
        self.failures.append(failure)

    def messages(self) -> list[str]:
        """One line per failure kept, and one for those left out."""
        out = [str(f) for f in self.failures]
        if self.dropped:
            out.append(f"{self.dropped} more functor failures not shown")
        return out

    def __len__(self) -> int:
        return len(self.failures) + self.dropped
