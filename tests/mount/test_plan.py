"""What ``guestinspect mount`` decides before mounting, on the recorded fact snapshots of the
test guests (no appliance): the OS, the mount order, the mountpoint, the FUSE options."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from guestinspect.api import Inspector
from guestinspect.cli import cli
from guestinspect.errors import UsageError
from guestinspect.inspection.results import Inspection
from guestinspect.mount.plan import (
    check_mountpoint,
    choose_root,
    fuse_options,
    guest_path,
    mount_order,
)
from tests.oracles import ROOT


def inspections(guest: str) -> list[Inspection]:
    return Inspector.from_facts(ROOT / "facts" / guest, applications=False).inspect()


def test_debian_mounts_parents_first() -> None:
    chosen = choose_root(inspections("debian"), None)
    mounts, warnings = mount_order(chosen)
    assert mounts == [
        ("/", "/dev/debian/root"),
        ("/boot", "/dev/sda1"),
        ("/home", "/dev/debian/home"),
        ("/usr", "/dev/debian/usr"),
        ("/var", "/dev/debian/var"),
    ]
    assert warnings == []


def test_btrfs_subvolumes_are_mounted_by_their_mountable() -> None:
    mounts, _ = mount_order(choose_root(inspections("opensuse-tumbleweed"), None))
    assert mounts[0] == ("/", "/dev/sda2")
    assert ("/var", "btrfsvol:/dev/sda2/@/var") in mounts


def test_multiboot_needs_root() -> None:
    oses = inspections("multiboot")
    with pytest.raises(UsageError) as e:
        choose_root(oses, None)
    assert str(e.value) == ("the disks hold 2 operating systems (/dev/sda1, /dev/sda2): "
                            "choose one with --root ROOT")
    assert choose_root(oses, "/dev/sda2")["distro"] == "debian"
    assert choose_root(oses, "/dev/sda1")["distro"] == "windows"
    with pytest.raises(UsageError, match=r"^--root /dev/sdb1: not an operating system of the "
                       r"disks \(roots: /dev/sda1, /dev/sda2\)$"):
        choose_root(oses, "/dev/sdb1")
    with pytest.raises(UsageError, match=r"^--root /dev/x\\n: "):
        choose_root(oses, "/dev/x\n")


def test_no_operating_system() -> None:
    with pytest.raises(UsageError, match="no operating system was found"):
        choose_root(inspections("blank-fs"), None)


def test_hostile_mountpoints_are_skipped() -> None:
    os_ = Inspection(root="/dev/sda1")  # type: ignore[typeddict-item]
    os_["mountpoints"] = [
        {"dev": "/dev/sda1", "path": "/"},
        {"dev": "/dev/sda2", "path": "/var/../../etc"},
        {"dev": "/dev/sda3", "path": "//usr/./local/"},
        {"dev": "/dev/sda4", "path": "/usr/local"},
        {"dev": "/dev/sda5", "path": "/a\nb"},
        {"dev": "/dev/sda6", "path": "/usr"},
    ]
    mounts, warnings = mount_order(os_)
    assert mounts == [("/", "/dev/sda1"), ("/usr", "/dev/sda6"), ("/usr/local", "/dev/sda3")]
    assert warnings == [
        "/dev/sda2: mountpoint '/var/../../etc' is not a plain absolute path: not mounted",
        "/dev/sda4: /usr/local is already /dev/sda3's: not mounted",
        "/dev/sda5: mountpoint '/a\\\\nb' is not a plain absolute path: not mounted",
    ]
    os_["mountpoints"] = [{"dev": "/dev/sda2", "path": "/boot"}]
    with pytest.raises(UsageError, match="no filesystem for /"):
        mount_order(os_)


@pytest.mark.parametrize(("path", "normal"), [
    ("/", "/"), ("/boot/", "/boot"), ("//a//b/.", "/a/b"), ("boot", None), ("/a/../b", None),
    ("", None), ("/a\x00", None),
])
def test_guest_path(path: str, normal: str | None) -> None:
    assert guest_path(path) == normal


def test_mountpoint_must_be_an_empty_directory(tmp_path: Path) -> None:
    assert check_mountpoint(tmp_path) == tmp_path
    with pytest.raises(UsageError, match=r"nope: no such directory \(the mountpoint must exist\)"):
        check_mountpoint(tmp_path / "nope")
    (tmp_path / "f").write_text("x")
    with pytest.raises(UsageError, match=r"/f: not a directory$"):
        check_mountpoint(tmp_path / "f")
    with pytest.raises(UsageError, match=r"not empty \(the mountpoint must be an empty"):
        check_mountpoint(tmp_path)


def test_fuse_options() -> None:
    assert fuse_options(()) is None
    assert fuse_options(("allow_other", "default_permissions,uid=0", " ")) == (
        "allow_other,default_permissions,uid=0")
    for bad in ("rw", "suid", "allow_other,dev"):
        with pytest.raises(UsageError, match=r"^-o \w+: refused: "):
            fuse_options((bad,))
    with pytest.raises(UsageError, match="control characters"):
        fuse_options(("a\nb",))


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stderr


def test_mount_errors_are_one_line_before_any_launch(tmp_path: Path) -> None:
    disk = ROOT / "README.md"  # never opened: every check below fails first
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("")
    empty = tmp_path / "empty"
    empty.mkdir()
    for args, message in [
        (["mount", "-a", str(disk), str(tmp_path / "none")],
         f"{tmp_path}/none: no such directory (the mountpoint must exist)"),
        (["mount", "-a", str(disk), str(tmp_path / "full")],
         f"{tmp_path}/full: not empty (the mountpoint must be an empty directory)"),
        (["mount", "-a", str(disk), "-o", "suid", str(empty)],
         "-o suid: refused: the guest's setuid files are never setuid on the host"),
        (["mount", "-a", str(disk), "--fd", "987", str(empty)],
         "--fd 987: not an open file descriptor"),
        (["mount", "-a", str(tmp_path / "missing.img"), str(empty)],
         f"{tmp_path}/missing.img: no such file"),
        (["mount", str(empty)], "Missing option '-a' / '--add'."),
    ]:
        code, err = run(*args)
        assert (code, err) == (1 if "Missing" not in message else 2,
                               f"guestinspect: error: {message}\n"), args


def test_umount_of_what_is_not_a_fuse_mount(tmp_path: Path) -> None:
    assert run("umount", str(tmp_path)) == (3, f"guestinspect: error: {tmp_path}: not mounted\n")
    assert run("umount", str(tmp_path / "nope")) == (
        3, f"guestinspect: error: {tmp_path}/nope: not mounted\n")
    code, err = run("umount", "/proc")
    assert code == 1
    assert err == ("guestinspect: error: /proc: not a FUSE mount (proc): guestinspect umount "
                   "only unmounts what guestinspect mount (or another FUSE program) mounted\n")
