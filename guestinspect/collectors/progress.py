"""What the collector is doing, as a spinner on stderr while it works (a terminal only).

``starting the appliance… 7 s``, then ``reading devices… 31 s`` and so on: the phase and the
seconds since the collector started. Nothing at all is written when disabled (the API's
default, ``-v``, the fleet's own progress bar) or when stderr is not a terminal. The line is
erased whenever control returns to the caller (:meth:`Progress.stop`), so that warnings and
results print on a clean line.
"""

import sys
import time
from typing import TextIO

from rich.console import Console
from rich.status import Status


class _Line:
    """The spinner's text, rendered afresh at every refresh (the seconds tick)."""

    def __init__(self, start: float) -> None:
        self.start = start
        self.text = ""

    def __rich__(self) -> str:
        return f"{self.text}… {time.monotonic() - self.start:.0f} s"


class Progress:
    """A transient status line on ``stream`` (stderr), shown only where it is a terminal."""

    def __init__(self, enabled: bool = True, stream: TextIO | None = None) -> None:
        stream = stream if stream is not None else sys.stderr
        self.enabled = enabled and stream.isatty()
        self._line = _Line(time.monotonic())
        self._status: Status | None = None
        self._console = Console(file=stream, stderr=True) if self.enabled else None

    def show(self, text: str) -> None:
        """Show ``text`` (``starting the appliance``) as what is going on now."""
        self._line.text = text
        if self._console is not None and self._status is None:
            self._status = Status(self._line, console=self._console)
            self._status.start()

    def stop(self) -> None:
        """Erase the line (it comes back at the next :meth:`show`)."""
        if self._status is not None:
            self._status.stop()
            self._status = None


#: A Progress that shows nothing.
QUIET = Progress(enabled=False)
