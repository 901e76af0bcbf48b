"""The appliance's console during a launch: has its kernel shown life, and has it stalled?

libguestfs delivers the appliance's console (qemu, the kernel, the appliance's init) and its own
debug messages as events; the launch registers :meth:`ApplianceConsole.event` for them (with
the handle's verbose flag on, so that the kernel prints from its first line). Nothing is
printed, unless the user asked for libguestfs's debug output (``-v``, ``LIBGUESTFS_DEBUG=1``).

A launch *stalls* when qemu runs and its console stays silent for the stall time: before the
kernel's first line (what a hanging KVM looks like: the firmware may print, the kernel never
does) or between two lines after it. Under KVM the silence is counted in seconds; under TCG,
which emulates the guest with qemu's own CPU time and slows down with the host's load, in
seconds of qemu's CPU time (:class:`StallClock`).
"""

import os
import re
import sys
import threading

import guestfs

#: Seconds of silence from a running appliance before its launch is called stalled
#: (GUESTINSPECT_STALL_TIMEOUT, --stall-timeout). Under TCG the kernel's first line comes
#: after 5.6-7 s of qemu's CPU time (7 s idle, 14-30 s at a load of 5-16 on 2 cores); under
#: KVM the kernel runs at the host's speed (docs/cli.md, "The appliance's start").
DEFAULT_STALL = 20.0
STALL_ENV = "GUESTINSPECT_STALL_TIMEOUT"

#: Under TCG, qemu using less than this share of a CPU is idle (its guest halted), not slowed
#: down by the host's load (on 2 cores at a load of 14-16 it still got about 20 %).
IDLE_SHARE = 0.05

#: The kernel shows life: a printk timestamp (libguestfs boots it with printk.time=1), its
#: banner, or the appliance's initrd.
_KERNEL = re.compile(r"\[\s*\d+\.\d{6}\]|Linux version|mini initrd starting")
#: An error line of qemu's (why it exited before the kernel started).
_QEMU_ERROR = re.compile(r"qemu-system-\S+: (.*)")
#: The events listened to during the launch.
EVENTS = guestfs.EVENT_APPLIANCE | guestfs.EVENT_LIBRARY


def stall_seconds(value: float | None = None) -> float | None:
    """The stall time: ``value`` if given, else $GUESTINSPECT_STALL_TIMEOUT, else the
    default; None (0 given) for no stall detection."""
    if value is None:
        text = os.environ.get(STALL_ENV, "").strip()
        try:
            value = float(text) if text else DEFAULT_STALL
        except ValueError:
            raise ValueError(f"{STALL_ENV}={text!r}: not a number of seconds") from None
    if not value >= 0 or value == float("inf"):
        raise ValueError(f"a stall time must be a number of seconds >= 0, not {value}")
    return value or None


class ApplianceConsole:
    """What the console of one launch showed, as events arrive (in libguestfs's thread)."""

    def __init__(self, hv: str, echo: bool = False) -> None:
        self._hv = hv  # the qemu binary: its command line, echoed, marks qemu's start
        self.echo = echo
        self._lock = threading.Lock()
        self.qemu_started = False
        self.kernel_started = False
        #: Events from the kernel's first line on (the stall clock restarts at each).
        self.output = 0
        #: False when libguestfs found KVM unusable (qemu then runs under TCG anyway).
        self.kvm: bool | None = None
        #: The first error qemu printed (``failed to set MSR 0x10a to 0x69``), if any.
        self.qemu_error: str | None = None

    def event(self, event: int, handle: int, buf: str | bytes, array: object) -> None:
        """The libguestfs event callback (``set_event_callback(console.event, EVENTS)``)."""
        text = buf.decode("utf-8", "replace") if isinstance(buf, bytes) else str(buf)
        if self.echo:  # the user asked for libguestfs's debug output: as libguestfs prints it
            prefix = "libguestfs: " if event == guestfs.EVENT_LIBRARY else ""
            sys.stderr.write(prefix + text + ("\n" if prefix else ""))
            sys.stderr.flush()
        with self._lock:
            if event == guestfs.EVENT_LIBRARY:
                if "qemu KVM: disabled" in text:
                    self.kvm = False
                elif "qemu KVM: enabled" in text:
                    self.kvm = True
                return
            if not self.qemu_started:
                # before it, supermin building the appliance
                self.qemu_started = text.lstrip().startswith(self._hv)
                return
            for line in text.splitlines():
                found = _QEMU_ERROR.match(line.strip())
                said = found.group(1).strip() if found else "warning:"
                if self.qemu_error is None and not said.startswith("warning:"):
                    self.qemu_error = said.removeprefix("error: ")
            if not self.kernel_started and _KERNEL.search(text):
                self.kernel_started = True
            if self.kernel_started:
                self.output += 1


    def qemu_seen(self) -> None:
        """The watchdog saw qemu running (had its command line not been echoed)."""
        with self._lock:
            self.qemu_started = True


class StallClock:
    """Time since a running appliance's console last showed life: seconds under KVM; under
    TCG seconds of qemu's CPU time, or seconds if qemu was idle meanwhile (a halted guest:
    under TCG it uses no CPU, and none of its threads waits for one). Ticked by the launch's
    watchdog."""

    def __init__(self, console: ApplianceConsole, stall: float, tcg: bool) -> None:
        self.console, self.stall, self.tcg = console, stall, tcg
        # output count, time, CPU seconds, seconds waited for a CPU
        self._mark: tuple[int, float, float, float] | None = None

    def stalled(
        self, now: float, qemu_cpu: float | None, qemu_waited: float = 0.0
    ) -> str | None:
        """How long the console has been silent (``for 20s``) if that is a stall, else None.
        ``qemu_cpu``: qemu's CPU seconds (None while qemu is not seen running);
        ``qemu_waited``: seconds its threads were runnable but waited for a CPU (a loaded
        host starves qemu: that is not a halted guest)."""
        output = self.console.output
        if qemu_cpu is None:
            return None
        if self._mark is None or self._mark[0] != output:
            self._mark = (output, now, qemu_cpu, qemu_waited)
            return None
        wall, cpu = now - self._mark[1], qemu_cpu - self._mark[2]
        waited = qemu_waited - self._mark[3]
        if not self.tcg:
            return f"for {self.stall:g}s" if wall > self.stall else None
        if cpu > self.stall:
            return f"for {self.stall:g} s of qemu's CPU time"
        if wall > self.stall and cpu + waited < IDLE_SHARE * wall:
            return f"for {self.stall:g}s, qemu idle"
        return None
