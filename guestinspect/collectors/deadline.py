"""The deadline of one inspection (``--timeout``): what is left of it, and what happens after.

The driver checks it between rounds of the rules' requests; the image collector checks it
before every libguestfs call and, from a watchdog thread, kills the appliance when it passes,
so that a call stuck in libguestfs (a filesystem the guest kernel loops on) returns.
"""

import time

#: Seconds an inspection may take by default (the appliance launch included).
DEFAULT_TIMEOUT = 600.0


class DeadlineExceeded(Exception):
    """The inspection's deadline passed (on purpose not a RuntimeError, the type of
    libguestfs's errors, which the collectors catch: nothing must swallow this one)."""


class Deadline:
    """A point in time ``seconds`` from now (never, for None)."""

    def __init__(self, seconds: float | None) -> None:
        if seconds is not None and not seconds > 0:
            raise ValueError(f"a deadline must be a positive number of seconds, not {seconds}")
        self.seconds = seconds
        self._end = None if seconds is None else time.monotonic() + seconds

    def remaining(self) -> float | None:
        """Seconds left (0 when passed), or None for no deadline."""
        return None if self._end is None else max(0.0, self._end - time.monotonic())

    def expired(self) -> bool:
        return self._end is not None and time.monotonic() >= self._end

    def check(self) -> None:
        """Raise DeadlineExceeded if the deadline has passed."""
        if self.expired():
            raise DeadlineExceeded(self.describe())

    def describe(self) -> str:
        return f"the deadline of {self.seconds:g}s was reached"


NO_DEADLINE = Deadline(None)
