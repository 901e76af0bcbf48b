"""Opening disk images with libguestfs: checks before launch, a counting handle, watchdogs.

The drives are always added with ``readonly=True`` (docs/security.md, "Read-only").
"""

import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import guestfs

from guestinspect.collectors.deadline import NO_DEADLINE, Deadline
from guestinspect.collectors.errors import ImageError, LaunchError

LAUNCH_HINTS = (
    "run libguestfs-test-tool to see why, or set LIBGUESTFS_BACKEND_SETTINGS=force_tcg "
    "where KVM hangs"
)


#: Calls that still run after the deadline: they cancel, stop or clean up.
_ALWAYS = frozenset({"user_cancel", "shutdown", "close", "kill_subprocess", "get_pid"})


class CountingHandle:
    """A guestfs handle that counts the calls made through it (in all, and per phase).

    Once ``deadline`` has passed, every call raises DeadlineExceeded instead of running.
    """

    def __init__(self, g: Any, deadline: Deadline = NO_DEADLINE) -> None:
        self._g = g
        self.deadline = deadline
        self.calls = 0
        self.phase = "start"
        self.phase_calls: dict[str, int] = {}
        #: The appliance's processes (qemu), killed by the deadline's watchdog.
        self.qemu_pids: set[int] = set()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._g, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            if name not in _ALWAYS:
                self.deadline.check()
            self.calls += 1
            self.phase_calls[self.phase] = self.phase_calls.get(self.phase, 0) + 1
            return attr(*args, **kwargs)

        return call


def first_line(e: BaseException) -> str:
    lines = str(e).strip().splitlines()
    return lines[0] if lines else type(e).__name__


def probe_disk(path: Path, format: str | None) -> str | None:
    """Check that ``path`` is a disk image qemu can read; return its format (or ``format``).

    Raises ImageError with a one-line message for a missing file, an image qemu cannot open,
    or something that is plainly not a disk image (a text file).
    """
    try:
        mode = path.stat().st_mode
    except FileNotFoundError as e:
        raise ImageError(f"{path}: no such file") from e
    except OSError as e:  # a symlink loop, permission denied…
        raise ImageError(f"{path}: {(e.strerror or 'cannot stat').lower()}") from e
    if stat.S_ISDIR(mode):
        raise ImageError(f"{path}: is a directory, not a disk image")
    if not (stat.S_ISREG(mode) or stat.S_ISBLK(mode)):  # a FIFO would hang qemu-img
        raise ImageError(f"{path}: not a regular file or a block device, not a disk image")
    if not os.access(path, os.R_OK):
        raise ImageError(f"{path}: permission denied")
    if path.is_file() and path.stat().st_size == 0:
        raise ImageError(f"{path}: empty file, not a disk image")
    fmt, size = format, None
    cmd = ["qemu-img", "info", "-U", "--output=json", *(["-f", format] if format else []), "--"]
    try:
        proc = subprocess.run(
            [*cmd, str(path)], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        proc = None  # no qemu-img: let libguestfs find out
    if proc is not None:
        if proc.returncode != 0:
            err = proc.stderr.strip().splitlines()
            why = err[-1].removeprefix("qemu-img: ") if err else "qemu-img info failed"
            raise ImageError(f"{path}: not a readable disk image: {why}")
        info = json.loads(proc.stdout)
        fmt = format or info.get("format")
        size = info.get("virtual-size")
    if size is not None and size < 512:
        raise ImageError(f"{path}: not a disk image (only {size} bytes)")
    if fmt == "raw" and path.is_file():
        with path.open("rb") as f:
            head = f.read(65536)
        if b"\0" not in head:
            raise ImageError(f"{path}: not a disk image (looks like a text file)")
    return fmt


def _qemu_children() -> set[int]:
    """Processes whose parent is this process and whose name starts with qemu."""
    me, found = os.getpid(), set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        comm = stat[stat.find("(") + 1 : stat.rfind(")")]
        ppid = int(stat[stat.rfind(")") + 2 :].split()[1])
        if ppid == me and comm.startswith("qemu"):
            found.add(int(entry))
    return found


def launch(
    disks: Sequence[tuple[Path, str | None]],
    progress: bool,
    timeout: float,
    deadline: Deadline = NO_DEADLINE,
) -> tuple[CountingHandle, float]:
    """Add the disks read-only and launch the appliance; return the handle and seconds taken.

    The launch is killed after ``timeout`` seconds or at the ``deadline``, if sooner.
    """
    left = deadline.remaining()
    by_deadline = left is not None and left < timeout
    if left is not None:
        timeout = min(timeout, left)
    g = guestfs.GuestFS(python_return_dict=True, close_on_exit=False)
    for path, fmt in disks:
        try:
            g.add_drive_opts(str(path), readonly=True, format=fmt)
        except RuntimeError as e:
            g.close()
            raise ImageError(f"{path}: {first_line(e)}") from e
    before = _qemu_children()
    done = threading.Event()
    timed_out = threading.Event()
    show = progress and sys.stderr.isatty()
    start = time.monotonic()

    def watchdog() -> None:
        while not done.wait(1.0):
            elapsed = time.monotonic() - start
            if show:
                sys.stderr.write(f"\rguestinspect: starting the appliance… {elapsed:.0f}s")
                sys.stderr.flush()
            if elapsed > timeout:
                timed_out.set()
                for pid in _qemu_children() - before:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass

    thread = threading.Thread(target=watchdog, daemon=True)
    thread.start()
    try:
        g.launch()
    except RuntimeError as e:
        _stop(done, thread, show)
        g.close()
        if timed_out.is_set() and by_deadline:
            raise LaunchError(
                f"{deadline.describe()} before the libguestfs appliance started "
                "(raise --timeout)"
            ) from e
        if timed_out.is_set():
            raise LaunchError(
                f"the libguestfs appliance did not start within {timeout:.0f}s and was killed; "
                + LAUNCH_HINTS
            ) from e
        raise LaunchError(
            f"cannot start the libguestfs appliance: {first_line(e)}; {LAUNCH_HINTS}"
        ) from e
    _stop(done, thread, show)
    handle = CountingHandle(g, deadline)
    handle.qemu_pids = _qemu_children() - before
    return handle, time.monotonic() - start


class DeadlineWatchdog:
    """Kills the appliance's processes when the deadline passes (unless stopped before).

    A libguestfs call stuck in the appliance then fails at once with a RuntimeError, and
    the next call through the CountingHandle raises DeadlineExceeded.
    """

    def __init__(self, handle: CountingHandle) -> None:
        self._handle = handle
        self._stopped = threading.Event()
        self.fired = False
        self._thread = threading.Thread(target=self._watch, daemon=True)
        if handle.deadline.remaining() is not None:
            self._thread.start()

    def _watch(self) -> None:
        left = self._handle.deadline.remaining()
        if left is None or self._stopped.wait(left):
            return
        self.fired = True
        # still our qemu children (not a reused pid of a process that ended before)
        for pid in self._handle.qemu_pids & _qemu_children():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass

    def stop(self) -> None:
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join()


def _stop(done: threading.Event, thread: threading.Thread, show: bool) -> None:
    done.set()
    thread.join()
    if show:
        sys.stderr.write("\r\033[K")
        sys.stderr.flush()


def call_or(default: Any, fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)``, or ``default`` if libguestfs reports an error."""
    try:
        return fn(*args)
    except RuntimeError:
        return default
