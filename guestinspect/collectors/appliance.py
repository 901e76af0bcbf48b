"""Opening disk images with libguestfs: checks before launch, a counting handle, watchdogs.

The drives are always added with ``readonly=True`` (docs/security.md, "Read-only").
"""

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import guestfs

from guestinspect.collectors.console import (
    DEFAULT_STALL,
    STALL_ENV,
    ApplianceConsole,
    StallClock,
)
from guestinspect.collectors.console import EVENTS as CONSOLE_EVENTS
from guestinspect.collectors.deadline import NO_DEADLINE, Deadline
from guestinspect.collectors.local_disk import check_local_disk
from guestinspect.collectors.progress import QUIET, Progress
from guestinspect.collectors.uri import RemoteDisk, drive_args
from guestinspect.errors import ImageError, LaunchError

#: What makes libguestfs skip KVM (the retry's warning says to export it).
TCG_SETTING = "LIBGUESTFS_BACKEND_SETTINGS=force_tcg"
LAUNCH_HINTS = f"run libguestfs-test-tool to see why, or set {TCG_SETTING} where KVM hangs"


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
    check_local_disk(path)  # (a FIFO would hang qemu-img)
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


@dataclass
class Launched:
    """A started appliance: the handle, the seconds its start took, warnings about it."""

    handle: CountingHandle
    seconds: float
    warnings: list[str] = field(default_factory=list)


class _Failed(Exception):
    """One launch attempt stalled, or failed before the appliance's kernel ran; if it ran
    under KVM, one retry under TCG may work."""

    def __init__(self, why: str, kvm: bool, stalled: bool, cause: BaseException) -> None:
        super().__init__(why)
        self.why, self.kvm, self.stalled, self.cause = why, kvm, stalled, cause

    def hint(self) -> str:
        slow = f"raise --stall-timeout or {STALL_ENV} on a slow host, or " if self.stalled else ""
        return f"{slow}run libguestfs-test-tool to see why"


def _cpu_seconds(pids: set[int]) -> float:
    """The CPU time (user and system) the processes ``pids`` have used, in seconds."""
    ticks = 0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / _CLOCK_TICKS


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _waited_seconds(pids: set[int]) -> float:
    """Seconds the threads of ``pids`` spent runnable but waiting for a CPU (the second
    field of each thread's ``schedstat``; 0 where the kernel does not keep it)."""
    ns = 0
    for pid in pids:
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                fields = Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()
                ns += int(fields[1])
            except (OSError, IndexError, ValueError):
                continue
    return ns / 1e9


def launch(
    disks: Sequence[tuple[Path | RemoteDisk, str | None]],
    timeout: float,
    deadline: Deadline = NO_DEADLINE,
    progress: Progress = QUIET,
    stall: float | None = DEFAULT_STALL,
) -> Launched:
    """Add the disks read-only and launch the appliance.

    The launch is killed after ``timeout`` seconds or at the ``deadline``, if sooner, and
    when it ``stall``s (console.py): a launch under KVM that stalled, or whose qemu failed
    before the kernel printed a line, is retried once under TCG, with a warning.
    """
    start = time.monotonic()
    try:
        handle = _attempt(disks, start + timeout, deadline, progress, stall, tcg=False)
        return Launched(handle, time.monotonic() - start)
    except _Failed as first:
        if not first.kvm:
            raise LaunchError(
                f"the libguestfs appliance did not start: {first.why}; {first.hint()}"
            ) from first.cause
        kvm_why = first.why
    progress.show("starting the appliance under TCG (KVM did not start it)")
    try:
        handle = _attempt(disks, start + timeout, deadline, progress, stall, tcg=True)
    except _Failed as second:
        raise LaunchError(
            f"the libguestfs appliance did not start: under KVM, {kvm_why}; under TCG, "
            f"{second.why}; {second.hint()}"
        ) from second.cause
    warning = (
        f"KVM did not start the libguestfs appliance ({kvm_why}); it was started under TCG, "
        f"which is slower: to skip the KVM attempt, export {TCG_SETTING}"
    )
    return Launched(handle, time.monotonic() - start, [warning])


def _kill(pids: set[int]) -> None:
    """SIGKILL to each of ``pids`` (those gone already are no error)."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def _handle(disks: Sequence[tuple[Path | RemoteDisk, str | None]]) -> Any:
    """A fresh libguestfs handle with ``disks`` added read-only (ImageError if one is refused)."""
    g = guestfs.GuestFS(python_return_dict=True, close_on_exit=False)
    for path, fmt in disks:
        name, options = drive_args(path)
        try:
            g.add_drive_opts(name, readonly=True, format=fmt, **options)
        except RuntimeError as e:
            g.close()
            raise ImageError(f"{path}: {first_line(e)}") from e
    return g


def _launch_error(e: RuntimeError, console: ApplianceConsole, stalled: list[str],
                  under_kvm: bool) -> Exception:
    """What a launch that failed (not killed at its time limit) raises: a stalled console or a
    qemu that failed before the kernel ran may be retried (``_Failed``), the rest is final."""
    if stalled:
        what = "its console was silent" if console.kernel_started else "its kernel was silent"
        return _Failed(f"{what} {stalled[0]}", under_kvm, True, e)
    if console.qemu_started and not console.kernel_started:
        why = console.qemu_error or first_line(e)
        return _Failed(f"qemu failed before the kernel started: {why}", under_kvm, False, e)
    return LaunchError(f"cannot start the libguestfs appliance: {first_line(e)}; {LAUNCH_HINTS}")


def _attempt(
    disks: Sequence[tuple[Path | RemoteDisk, str | None]],
    end: float,
    deadline: Deadline,
    progress: Progress,
    stall: float | None,
    tcg: bool,
) -> CountingHandle:
    """One launch on a fresh handle (under TCG if ``tcg``), killed at ``end``, at the
    deadline or when it stalls."""
    timeout = end - time.monotonic()
    left = deadline.remaining()
    by_deadline = left is not None and left < timeout
    if left is not None:
        timeout = min(timeout, left)
    g = _handle(disks)
    settings = list(g.get_backend_settings())
    forced = "force_tcg" in settings
    if tcg and not forced:
        g.set_backend_settings([*settings, "force_tcg"])
    # The console, from the kernel's first line on, reaches ApplianceConsole, not stderr
    # (unless the user asked for libguestfs's debug output).
    console = ApplianceConsole(g.get_hv(), echo=bool(g.get_verbose()))
    g.set_event_callback(console.event, CONSOLE_EVENTS)
    g.set_verbose(True)
    if not tcg:
        progress.show("starting the appliance")
    before = _qemu_children()
    done = threading.Event()
    timed_out = threading.Event()
    stalled: list[str] = []  # how long the console was silent, when it stalled
    start = time.monotonic()

    def kill() -> None:
        _kill(_qemu_children() - before)

    def watchdog() -> None:
        clock = None
        while not done.wait(0.25):
            now = time.monotonic()
            qemu = _qemu_children() - before
            if qemu:
                console.qemu_seen()
            if qemu and clock is None and stall is not None:  # libguestfs knows if KVM works
                clock = StallClock(console, stall, tcg=tcg or forced or console.kvm is False)
            if now - start > timeout:
                timed_out.set()
                kill()
            elif clock and (silent := clock.stalled(
                now, _cpu_seconds(qemu) if qemu else None, _waited_seconds(qemu)
            )):
                stalled.append(silent)
                kill()

    thread = threading.Thread(target=watchdog, daemon=True)
    thread.start()
    try:
        g.launch()
    except RuntimeError as e:
        done.set()
        thread.join()
        g.close()
        under_kvm = not (tcg or forced or console.kvm is False)
        if timed_out.is_set():
            killed = (f"{deadline.describe()} before the libguestfs appliance started "
                      "(raise --timeout)") if by_deadline else (
                f"the libguestfs appliance did not start within {timeout:.0f}s and was killed; "
                + LAUNCH_HINTS)
            raise LaunchError(killed) from e
        raise _launch_error(e, console, stalled, under_kvm) from e
    done.set()
    thread.join()
    if not console.echo:
        g.set_verbose(False)  # the appliance's debug output still arrives, and is dropped
    handle = CountingHandle(g, deadline)
    handle.qemu_pids = _qemu_children() - before
    return handle


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


def call_or(default: Any, fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)``, or ``default`` if libguestfs reports an error."""
    try:
        return fn(*args)
    except RuntimeError:
        return default
