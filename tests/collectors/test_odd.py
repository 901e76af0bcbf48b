"""Bad input on the odd scratch disk (sdb of the shared scratch launch): 64 GPT partitions,
a filesystem that cannot be mounted, a Latin-1 file, a directory symlink loop, an icon.
Each gives facts and at most a one-line warning, never an exception or a hang."""

import base64
import time
from pathlib import Path

import pytest

from guestinspect.collectors.base import FactSet
from guestinspect.collectors.image import ImageCollector
from guestinspect.errors import LaunchError
from tests.collectors import scratch

pytestmark = pytest.mark.appliance

ODD, BROKEN = "/dev/sdb1", "/dev/sdb2"
Scratch = tuple[ImageCollector, FactSet]


def test_64_gpt_partitions(scratch_collector: Scratch) -> None:
    _, f = scratch_collector
    parts = {t[0]: t for t in f["Partition"] if t[1] == "/dev/sdb"}
    assert len(parts) == scratch.ODD_PARTS
    assert parts["/dev/sdb64"][2:] == (64, (20 + 62) * 1024 * 1024, 1024 * 1024)
    names = {t[0]: t[1] for t in f["PartitionName"]}
    assert names[ODD] == "odd" and names["/dev/sdb64"] == "p64"
    guids = {str(t[0]): str(t[1]) for t in f["PartitionGptGuid"]
             if str(t[0]).startswith("/dev/sdb")}
    assert len(set(guids.values())) == scratch.ODD_PARTS
    assert all(g == g.upper() and len(g) == 36 for g in guids.values())
    linux = "0FC63DAF-8483-4772-8E79-3D69D8477DE4"
    assert {t[1] for t in f["PartitionGptType"] if str(t[0]).startswith("/dev/sdb")} == {linux}
    assert ("/dev/sdb64", "unknown") in f["Filesystem"]  # empty: listed, not mounted


def test_unmountable_filesystem(scratch_collector: Scratch) -> None:
    c, f = scratch_collector
    # blkid calls an ext2 with an unknown incompatible feature ext4; the kernel refuses it.
    assert {t[1] for t in f["Filesystem"] if t[0] == BROKEN} <= {"ext2", "ext4"}
    assert (BROKEN,) not in f["Mounted"]
    ((fs, message),) = f["MountFailed"]
    assert fs == BROKEN and message and "\n" not in str(message)
    warnings = [w for w in c.stats().warnings if w.startswith(BROKEN)]
    assert len(warnings) == 1 and "\n" not in warnings[0]
    # Requests for it get no answer, one warning, no error.
    got = c.answer({"WantContent": {(BROKEN, "/etc/hostname")}})
    assert not got.get("Content") and not got.get("Missing")
    assert any("not mounted" in w for w in c.stats().warnings if w.startswith(BROKEN))


def test_non_utf8_content_and_symlink_loops(scratch_collector: Scratch) -> None:
    c, _ = scratch_collector
    t0 = time.monotonic()
    got = c.answer({
        "WantContent": {(ODD, "/etc/latin1.conf"), (ODD, "/etc/a")},
        "WantPath": {(ODD, "/etc/a/x"), (ODD, "/etc/a/b/c")},
        "WantDir": {(ODD, "/etc/a")},
        "WantArch": {(ODD, "/etc/b")},
    })
    assert time.monotonic() - t0 < 60
    content = {t[1]: t[2] for t in got["Content"]}
    assert content == {"/etc/latin1.conf": scratch.LATIN1.decode("utf-8", "replace")}
    assert {(ODD, p) for p in ("/etc/a/x", "/etc/a/b/c", "/etc/a", "/etc/b")} <= got["Missing"]
    assert (ODD, "/etc/a", "symlink") in got["Entry"]


def test_blob(scratch_collector: Scratch) -> None:
    c, _ = scratch_collector
    got = c.answer({"WantBlob": {(ODD, scratch.ICON_PATH), (ODD, "/etc/nope.png"),
                                 (ODD, "/etc/a")}})
    ((fs, path, data),) = got["Blob"]
    assert (fs, path) == (ODD, scratch.ICON_PATH)
    assert base64.b64decode(str(data)) == scratch.ICON
    assert (ODD, scratch.ICON_PATH, len(scratch.ICON)) in got["FileSize"]
    assert (ODD, "/etc/nope.png") in got["Missing"]


def test_phase_stats(scratch_collector: Scratch) -> None:
    c, _ = scratch_collector
    s = c.stats()
    assert {"launch", "devices", "filesystems", "mount"} <= set(s.phase_seconds)
    assert sum(s.phase_calls.values()) == s.guestfs_calls
    assert s.phase_calls["devices"] <= 12  # no parted call per partition (64 of them)
    assert "libguestfs calls" in s.summary() and "\n" not in s.summary()


def test_launch_timeout_is_one_line(odd_image: Path) -> None:
    t0 = time.monotonic()
    c = ImageCollector([odd_image], format="raw", progress=False, launch_timeout=0.5)
    with pytest.raises(LaunchError) as info:
        c.initial_facts()
    c.close()
    message = str(info.value)
    assert "did not start within" in message and "\n" not in message
    assert time.monotonic() - t0 < 60
