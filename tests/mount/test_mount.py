"""``guestinspect mount`` on test images, end to end through FUSE (one appliance launch per
test): files read through the mount are the ones the guest builder wrote, each filesystem at
its mountpoint, writes fail with EROFS and leave the image as it was, and ``guestinspect
umount`` (or SIGTERM) ends the command with exit status 0 and an empty mountpoint."""

import errno
import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

from guestinspect.cli import cli
from guestinspect.mount.umount import mount_type
from tests.oracles import ROOT

pytestmark = pytest.mark.appliance

#: Seconds the inspection and the mount may take (appliance launches are slow when loaded).
READY_TIMEOUT = 600


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "guestinspect.cli", *args]


def _env() -> dict[str, str]:
    env = dict(os.environ, LIBGUESTFS_BACKEND_SETTINGS="force_tcg")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def _fingerprint(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest(), path.stat().st_mtime_ns


@contextmanager
def mounted(disk: Path, mnt: Path, *options: str) -> Iterator[subprocess.Popen[str]]:
    """``guestinspect mount`` running in the background, its mount ready on ``mnt``;
    whatever happens, unmounted and stopped afterwards."""
    pid_file = mnt.parent / f"{mnt.name}.pid"
    proc = subprocess.Popen(
        _command("mount", "-a", str(disk), "--pid-file", str(pid_file), *options, str(mnt)),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(),
    )
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while not (pid_file.is_file() and pid_file.read_text()):
            if proc.poll() is not None:
                pytest.fail(f"mount exited {proc.returncode}: {proc.stderr.read()}")  # type: ignore[union-attr]
            if time.monotonic() > deadline:
                pytest.fail("the mount was not ready in time")
            time.sleep(0.5)
        assert int(pid_file.read_text()) == proc.pid
        yield proc
    finally:
        if mount_type(mnt) is not None:
            subprocess.run(["fusermount", "-u", "-z", str(mnt)], check=False)
        if proc.poll() is None:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextmanager
def _holding(directory: Path) -> Iterator[None]:
    """A process whose working directory is ``directory`` (which keeps its mount busy)."""
    holder = subprocess.Popen(["sleep", "600"], cwd=directory)
    try:
        yield
    finally:
        holder.kill()
        holder.wait()


def test_mount_debian(tmp_path: Path) -> None:
    from guestinspect.phony.debian import DEBIAN_FSTAB
    from tests.images import content, image

    disk = image("debian")
    before = _fingerprint(disk)
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    with mounted(disk, mnt) as proc:
        assert mount_type(mnt) == "fuse"
        # / (the root LV)
        assert (mnt / "etc/fstab").read_text() == DEBIAN_FSTAB
        assert (mnt / "etc/hostname").read_text() == "debian.invalid"
        assert (mnt / "bin/ls").read_bytes()[:4] == b"\x7fELF"
        # the other filesystems at their mountpoints (each has its own lost+found)
        assert sorted(os.listdir(mnt / "boot")) == ["grub", "lost+found"]
        assert (mnt / "boot/grub/grub.conf").read_bytes() == b""
        assert (mnt / "var/log/syslog").read_text() == (
            "Jan  1 00:00:00 debian kernel: phony guest\n")
        assert (mnt / "var/lib/dpkg/status").read_bytes() == (
            content.data_file("debian-packages").read_bytes())
        assert os.listdir(mnt / "usr") == ["lost+found"]
        assert os.listdir(mnt / "home") == ["lost+found"]
        assert not (mnt / "no-such-file").exists()
        # read-only, three ways
        for write in (lambda: (mnt / "etc/new").write_text("x"),
                      lambda: (mnt / "etc/hostname").open("r+"),
                      lambda: (mnt / "var/newdir").mkdir(),
                      lambda: (mnt / "etc/fstab").unlink()):
            with pytest.raises(OSError) as e:
                write()
            assert e.value.errno == errno.EROFS
        # busy (a process inside /var): retried, then exit status 2 and one error line
        with _holding(mnt / "var"):
            umount = subprocess.run(_command("umount", "--retry", "1", str(mnt)),
                                    capture_output=True, text=True, env=_env(), timeout=120,
                                    check=False)
        assert umount.returncode == 2, umount.stderr
        assert umount.stderr.splitlines() == [
            f"guestinspect: {mnt}: Device or resource busy; retrying in 1s",
            f"guestinspect: error: {mnt}: cannot unmount: Device or resource busy"]
        assert mount_type(mnt) == "fuse" and proc.poll() is None
        umount = subprocess.run(_command("umount", str(mnt)), capture_output=True, text=True,
                                env=_env(), timeout=120, check=False)
        assert (umount.returncode, umount.stderr) == (0, "")
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert err == ""  # no warning, and no libguestfs error for the missing file
    assert mount_type(mnt) is None
    assert os.listdir(mnt) == []
    assert _fingerprint(disk) == before  # bytes and mtime
    # nothing mounted there any more
    result = CliRunner().invoke(cli, ["umount", str(mnt)])
    assert (result.exit_code, result.stderr) == (3, f"guestinspect: error: {mnt}: not mounted\n")


def test_mount_multiboot(tmp_path: Path) -> None:
    from tests.images import image
    from tests.images.guests import DEBIAN12_OS_RELEASE

    disk = image("multiboot")
    before = _fingerprint(disk)
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    # several operating systems and no --root: one line naming them, nothing mounted
    proc = subprocess.run(_command("mount", "-a", str(disk), str(mnt)), capture_output=True,
                          text=True, env=_env(), timeout=READY_TIMEOUT, check=False)
    assert (proc.returncode, proc.stderr.splitlines()[-1:]) == (1, [
        "guestinspect: error: the disks hold 2 operating systems (/dev/sda1, /dev/sda2): "
        "choose one with --root ROOT"])
    assert "Traceback" not in proc.stderr and mount_type(mnt) is None
    # --root chooses Debian (sda2), here with a FUSE option; SIGTERM unmounts
    with mounted(disk, mnt, "--root", "/dev/sda2", "-o", "allow_other") as proc2:
        assert (mnt / "etc/hostname").read_text() == "multiboot.invalid\n"
        assert (mnt / "etc/os-release").read_text() == DEBIAN12_OS_RELEASE
        assert not (mnt / "Windows").exists()
        info = Path("/proc/self/mountinfo").read_text()
        (line,) = [line for line in info.splitlines() if f" {mnt} " in line]
        assert "allow_other" in line.split(" - ")[1]
        assert {"nosuid", "nodev"} <= set(line.split()[5].split(","))
        with _holding(mnt / "etc"):  # busy: unmounted lazily, with a warning
            proc2.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 60
            while mount_type(mnt) is not None and time.monotonic() < deadline:
                time.sleep(0.2)
            assert mount_type(mnt) is None  # detached at once; the loop ends after the holder
        _, err = proc2.communicate(timeout=60)
        assert proc2.returncode == 0, err
        assert err == (f"guestinspect: warning: {mnt}: cannot unmount: Device or resource "
                       "busy; unmounted lazily: the appliance stops when the processes using "
                       "it let go (interrupt again to stop it now)\n")
    assert mount_type(mnt) is None and os.listdir(mnt) == []
    assert _fingerprint(disk) == before
