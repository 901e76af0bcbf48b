"""Progress of a fleet on stderr: a ``rich`` progress bar on a terminal (images done, failed,
rate, ETA), plain lines otherwise (``[12/40] a.img ok 14.2s``)."""

import sys
import time
from typing import Any, TextIO

from guestinspect.fleet.worker import Outcome


class Progress:
    """Use as a context manager; :meth:`done` after each image."""

    def __init__(self, total: int, stream: TextIO | None = None, quiet: bool = False) -> None:
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.quiet = quiet
        self.count = 0
        self.failed = 0
        self.skipped_count = 0
        self.started = time.monotonic()
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> "Progress":
        if not self.quiet and self.stream.isatty():
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.progress import (
                Progress as RichProgress,
            )

            self._bar = RichProgress(
                TextColumn("[bold]fleet"), BarColumn(), MofNCompleteColumn(),
                TextColumn("[red]{task.fields[failed]} failed"),
                TextColumn("{task.fields[rate]}"), TimeElapsedColumn(),
                TextColumn("ETA"), TimeRemainingColumn(),
                console=Console(file=self.stream), transient=False)
            self._bar.start()
            self._task = self._bar.add_task("fleet", total=self.total, failed=0,
                                            rate="- images/min")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def rate(self) -> float:
        """Images per minute so far."""
        elapsed = time.monotonic() - self.started
        done = self.count - self.skipped_count
        return 60.0 * done / elapsed if elapsed > 0 else 0.0

    def skipped(self, image: str) -> None:
        """An image whose record the inventory has already (a resumed run)."""
        self.count += 1
        self.started = time.monotonic()  # the rate counts the images inspected
        self.skipped_count += 1
        self._show(f"{image} already in the inventory")

    def done(self, outcome: Outcome) -> None:
        self.count += 1
        if outcome.status == "error":
            self.failed += 1
        seconds = outcome.record.get("seconds", {}).get("total", 0.0)
        line = f"{outcome.record['image']} {outcome.status} {seconds:.1f}s"
        if outcome.record.get("cached"):
            line += " (cached facts)"
        if outcome.status == "error":
            line += f": {outcome.record.get('error')}"
        self._show(line)

    def _show(self, line: str) -> None:
        if self.quiet:
            return
        if self._bar is not None:
            self._bar.update(self._task, completed=self.count, failed=self.failed,
                             rate=f"{self.rate():.1f} images/min")
            return
        print(f"[{self.count}/{self.total}] {line}", file=self.stream, flush=True)
