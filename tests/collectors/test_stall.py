"""A launch that makes no progress (issue 14, "KVM that hangs"): detected from the appliance's
console, retried once under TCG with a warning, or a one-line error within a minute; and the
spinner on stderr, on a terminal only.

On this project's machine KVM cannot boot the appliance (qemu fails before the kernel
starts: ``failed to set MSR 0x10a``): the first appliance test meets that for real. The
second makes both launches hang the way a hanging KVM does, from outside: a qemu wrapper starts
the guest paused (``-S``) when libguestfs asks for KVM, and the TCG launch gets a stall time
too short for its kernel.
"""

import os
import pty
import re
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from guestinspect.collectors.console import (
    DEFAULT_STALL,
    STALL_ENV,
    ApplianceConsole,
    StallClock,
    stall_seconds,
)
from guestinspect.collectors.image import ImageCollector
from guestinspect.collectors.progress import Progress
from guestinspect.errors import UsageError

QEMU = "/usr/bin/qemu-system-x86_64"

# The console of launches on this machine, as libguestfs delivered it (EVENT_APPLIANCE
# buffers, cut as they came): supermin building, qemu's command line, qemu under KVM failing,
# SeaBIOS, the kernel's first lines under TCG.
SUPERMIN = "supermin: ext2: creating minimal initrd '/var/tmp/.guestfs-0/appliance.d.6qrs/initrd'\n"
CMDLINE = f"{QEMU}\n"
CMDLINE_REST = " \\\n    -machine accel=kvm:tcg,graphics=off \\\n    -cpu max,la57=off \\\n"
IMAGE_WARNING = "WARNING: Image format was not specified for '/tmp/libguestfsbJO4pH/overlay1.qcow2'"
CPU_WARNING = ("qemu-system-x86_64: warning: host doesn't support requested feature: "
               "CPUID.01H:ECX.pni [bit 0]\n")
MSR = (
    "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69\n"
    "qemu-system-x86_64: ../../target/i386/kvm/kvm.c:3183: kvm_buf_set_msrs: Assertion "
    "`ret == cpu->kvm_msr_buf->nmsrs' failed.\n"
)
SEABIOS = ["\x1bc\x1b[?7l\x1b[2J", "\x1b[0mSeaBIOS ", "(version ", "1.16.2-de", ")\n",
           "Booting from ROM..\n"]
KERNEL = ["[    0.000000] Linux version 6.1.0-57-amd64 (debian-kernel@lists.debian.org)\n",
          "[    0.000000] BIOS-e820: ", "[m", "em 0x0000000000100000-0x000000004ffdcfff] usable\n"]


def _feed(console: ApplianceConsole, *buffers: str, library: bool = False) -> None:
    import guestfs

    event = guestfs.EVENT_LIBRARY if library else guestfs.EVENT_APPLIANCE
    for buf in buffers:
        console.event(event, 0, buf, [])


def test_console_of_a_kvm_that_fails_before_the_kernel() -> None:
    console = ApplianceConsole(QEMU)
    _feed(console, "qemu KVM: enabled", library=True)
    _feed(console, SUPERMIN)
    assert not console.qemu_started  # supermin is not qemu
    _feed(console, CMDLINE, CMDLINE_REST, IMAGE_WARNING, CPU_WARNING, MSR)
    assert console.kvm is True and console.qemu_started and not console.kernel_started
    assert console.qemu_error == "failed to set MSR 0x10a to 0x69"
    assert console.output == 0


def test_console_of_a_booting_kernel() -> None:
    console = ApplianceConsole(QEMU)
    _feed(console, "qemu KVM: disabled", library=True)
    _feed(console, CMDLINE, CMDLINE_REST, *SEABIOS)
    assert console.kvm is False and not console.kernel_started  # the firmware is no kernel
    _feed(console, *KERNEL)
    assert console.kernel_started and console.output == len(KERNEL)
    assert console.qemu_error is None


def test_stall_clock_counts_seconds_under_kvm_and_cpu_seconds_under_tcg() -> None:
    console = ApplianceConsole(QEMU)
    kvm = StallClock(console, 5.0, tcg=False)
    tcg = StallClock(console, 5.0, tcg=True)
    for clock in (kvm, tcg):
        assert clock.stalled(0.0, None) is None  # qemu not running yet: no clock
        assert clock.stalled(1.0, 0.0) is None  # qemu seen: the clock starts
    # a loaded host: 20 s pass, qemu gets 4 s of CPU
    assert kvm.stalled(21.0, 4.0) == "for 5s" and tcg.stalled(21.0, 4.0) is None
    assert tcg.stalled(40.0, 6.5) == "for 5 s of qemu's CPU time"
    _feed(console, CMDLINE, KERNEL[0])  # output: both clocks start again
    assert kvm.stalled(41.0, 7.0) is None and tcg.stalled(41.0, 7.0) is None
    assert kvm.stalled(45.0, 11.0) is None and tcg.stalled(45.0, 11.0) is None
    assert kvm.stalled(46.5, 12.5) and tcg.stalled(46.5, 12.5)


def test_stall_clock_under_tcg_sees_an_idle_qemu() -> None:
    """A TCG guest halted uses no CPU: silent that long with qemu idle is a stall too; a qemu
    starved by the host's load (here 10 % of a CPU) is not."""
    idle = StallClock(ApplianceConsole(QEMU), 5.0, tcg=True)
    starved = StallClock(ApplianceConsole(QEMU), 5.0, tcg=True)
    assert idle.stalled(0.0, 1.0) is None and starved.stalled(0.0, 1.0) is None
    assert idle.stalled(4.9, 1.1) is None
    assert idle.stalled(5.5, 1.1) == "for 5s, qemu idle"
    assert starved.stalled(5.5, 1.55) is None and starved.stalled(30.0, 4.0) is None
    assert starved.stalled(60.0, 7.0) == "for 5 s of qemu's CPU time"


def test_stall_clock_under_tcg_a_qemu_waiting_for_a_cpu_is_not_idle() -> None:
    """At a load of 15 on 2 cores qemu may get under 5 % of a CPU: its threads are runnable
    and wait for one (schedstat's run delay), which a halted guest's never do."""
    clock = StallClock(ApplianceConsole(QEMU), 5.0, tcg=True)
    assert clock.stalled(0.0, 1.0, 10.0) is None
    assert clock.stalled(30.0, 1.2, 35.0) is None  # 0.2 s of CPU, 25 s waiting: starved
    halted = StallClock(ApplianceConsole(QEMU), 5.0, tcg=True)
    assert halted.stalled(0.0, 1.0, 10.0) is None
    assert halted.stalled(30.0, 1.2, 10.1) == "for 5s, qemu idle"  # neither ran nor waited


def test_waited_seconds_of_a_busy_process() -> None:
    """The run delay is read from every thread of the processes (0 for a missing one)."""
    from guestinspect.collectors.appliance import _waited_seconds

    assert _waited_seconds({os.getpid()}) >= 0.0
    assert _waited_seconds({2**22 + 7}) == 0.0


def test_stall_time_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(STALL_ENV, raising=False)
    assert stall_seconds() == DEFAULT_STALL
    assert stall_seconds(7) == 7 and stall_seconds(0) is None
    monkeypatch.setenv(STALL_ENV, "45")
    assert stall_seconds() == 45 and stall_seconds(3) == 3
    monkeypatch.setenv(STALL_ENV, "0")
    assert stall_seconds() is None
    for bad in ("soon", "-1", "nan", "inf"):
        monkeypatch.setenv(STALL_ENV, bad)
        with pytest.raises(UsageError) as info:
            ImageCollector([tmp_path / "disk.img"], progress=False)
        assert STALL_ENV in str(info.value) or "stall time" in str(info.value)
        assert "\n" not in str(info.value)


def _read_all(fd: int, proc: subprocess.Popen[bytes] | None = None) -> bytes:
    out = b""
    while True:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # EIO: the other side closed
                break
            if not chunk:
                break
            out += chunk
        elif proc is None or proc.poll() is not None:
            break
    return out


def test_progress_on_a_terminal_and_not_on_a_pipe() -> None:
    master, slave = pty.openpty()
    with open(slave, "w", closefd=True) as term:
        progress = Progress(True, stream=term)
        progress.show("starting the appliance")
        time.sleep(1.2)
        progress.show("reading devices")
        time.sleep(0.3)
        progress.stop()
    shown = _read_all(master).decode("utf-8", "replace")
    os.close(master)
    assert "starting the appliance… 0 s" in shown and "reading devices… 1 s" in shown
    assert "\x1b[" in shown  # the line is redrawn, then erased

    read, write = os.pipe()
    with open(write, "w", closefd=True) as pipe:
        progress = Progress(True, stream=pipe)
        progress.show("starting the appliance")
        time.sleep(0.3)
        progress.stop()
    assert _read_all(read) == b""
    os.close(read)
    assert not Progress(False).enabled


# ---- appliance launches --------------------------------------------------------------------


def _env(**more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("LIBGUESTFS_BACKEND_SETTINGS", STALL_ENV, "LIBGUESTFS_DEBUG")}
    return {**env, **more}


def _kvm_usable() -> bool:
    return os.access("/dev/kvm", os.R_OK | os.W_OK)


@pytest.mark.appliance
def test_kvm_that_cannot_boot_the_appliance_is_retried_under_tcg() -> None:
    """``guestinspect -a`` without force_tcg, as a new user runs it: KVM fails here, the
    launch is retried under TCG, the XML is virt-inspector's, one warning says how to skip
    KVM, and nothing else reaches stderr (a pipe: no spinner)."""
    from tests.cli.test_end_to_end import expected, normalise
    from tests.images import image

    if not _kvm_usable():
        pytest.skip("no usable /dev/kvm: libguestfs runs TCG straight away")
    disk = image("debian")
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "guestinspect.cli", "-a", str(disk), "--stall-timeout", "20"],
        capture_output=True, timeout=500, env=_env(), check=False,
    )
    took = time.monotonic() - t0
    err = proc.stderr.decode()
    assert proc.returncode == 0, err
    assert normalise(proc.stdout.decode()) == expected("debian")
    if not err:
        pytest.skip(f"KVM boots the appliance on this host ({took:.0f} s): nothing to retry")
    (warning,) = err.splitlines()
    assert warning.startswith("guestinspect: warning: KVM did not start the libguestfs "
                              "appliance (")
    assert warning.endswith("); it was started under TCG, which is slower: to skip the KVM "
                            "attempt, export LIBGUESTFS_BACKEND_SETTINGS=force_tcg")
    assert "\x1b" not in err
    # one TCG launch and the inspection, not the 600 s wait of a launch nobody watches
    # (measured: 86 s at a load of 10 on 2 cores, 209 s at 15)
    assert took < 400


def _qemu_paused_under_kvm(directory: Path) -> Path:
    """A qemu that, when libguestfs asks for KVM, starts the guest paused (``-S``; and with
    ``-cpu qemu64``, as some KVM hosts reject ``max`` at once): a launch whose console stays
    silent, the way a hanging KVM looks from outside. Under TCG it is qemu itself."""
    real = shutil.which("qemu-system-x86_64")
    if real is None:
        pytest.skip("qemu-system-x86_64 is not installed")
    wrapper = directory / "qemu-paused-under-kvm"
    wrapper.write_text(f"""#!/bin/bash
args=() kvm=no prev=
for a in "$@"; do
  case "$a" in accel=kvm*) kvm=yes ;; esac
  [ "$prev" = -cpu ] && a=qemu64
  args+=("$a") prev=$a
done
[ $kvm = yes ] && exec {real} -S "${{args[@]}}"
exec {real} "$@"
""")
    wrapper.chmod(0o755)
    return wrapper


@pytest.mark.appliance
def test_launch_stalled_under_kvm_and_tcg_is_one_line_within_a_minute(tmp_path: Path) -> None:
    """Both launches stall (KVM: the paused guest; TCG: 2 s of qemu's CPU time is too short
    for its kernel): one error line well within a minute; on a terminal, the spinner showed
    the launch's phase and seconds while it ran, and was erased."""
    from tests.images import image

    if not _kvm_usable():
        pytest.skip("no usable /dev/kvm: libguestfs runs TCG straight away")
    disk = image("debian")
    env = _env(LIBGUESTFS_HV=str(_qemu_paused_under_kvm(tmp_path)), COLUMNS="200")
    master, slave = pty.openpty()
    t0 = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "guestinspect.cli", "-a", str(disk), "--stall-timeout", "2"],
        stdout=subprocess.PIPE, stderr=slave, env=env,
    )
    os.close(slave)
    try:
        terminal = _read_all(master, proc).decode("utf-8", "replace")
        out, _ = proc.communicate(timeout=120)
    finally:
        os.close(master)
        proc.kill()
    took = time.monotonic() - t0
    assert proc.returncode == 1 and out == b""
    assert took < 60
    assert "starting the appliance… " in terminal
    assert "starting the appliance under TCG (KVM did not start it)… " in terminal
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", terminal).replace("\r", "\n")
    errors = [line for line in plain.splitlines() if line.startswith("guestinspect:")]
    assert errors == [
        "guestinspect: error: the libguestfs appliance did not start: under KVM, its kernel "
        "was silent for 2s; under TCG, its kernel was silent for 2 s of qemu's CPU time; "
        f"raise --stall-timeout or {STALL_ENV} on a slow host, or run libguestfs-test-tool "
        "to see why"
    ]
