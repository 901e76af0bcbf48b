"""UFS: which `ufstype` Linux needs, read from the superblock, and the mount that uses it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from guestinspect.collectors import ufs
from guestinspect.collectors.backends.appliance_volumes import ApplianceVolumes
from guestinspect.collectors.keys import KeySpec
from tests.images.bsd import makefs_ufs

needs_makefs = pytest.mark.skipif(shutil.which("makefs") is None, reason="makefs not installed")


def _reader(data: bytes) -> ufs.Reader:
    return lambda offset, size: data[offset : offset + size]


@needs_makefs
@pytest.mark.parametrize(("version", "expected"), [(1, "44bsd"), (2, "ufs2")])
def test_ufs_type_of_real_filesystems(tmp_path: Path, version: int, expected: str) -> None:
    """makefs's UFS1, and its UFS2 with the superblock at 64 KiB as FreeBSD's newfs puts it."""
    tree = tmp_path / "tree"
    (tree / "etc").mkdir(parents=True)
    (tree / "etc" / "rc.conf").write_text('hostname="x"\n')
    image = makefs_ufs(tree, tmp_path / "fs.img", version, 8 << 20, "0123456789abcdef")
    data = image.read_bytes()
    assert ufs.ufs_type(_reader(data)) == expected
    assert ufs.mount_types(_reader(data))[0] == expected
    blkid = subprocess.run(["blkid", "-p", "-o", "export", str(image)], capture_output=True,
                           text=True)
    if blkid.returncode == 0:  # the UUID that the builder fixed is what blkid reports
        assert "UUID=0123456789abcdef" in blkid.stdout.splitlines()


@pytest.mark.parametrize("data", [b"", b"\0" * 70000, b"\xff" * 300000])
def test_no_superblock(data: bytes) -> None:
    assert ufs.ufs_type(_reader(data)) is None
    assert ufs.mount_types(_reader(data)) == list(ufs.OTHER_TYPES)


def test_big_endian_ufs1() -> None:
    data = bytearray(70000)
    data[8192 + ufs.MAGIC_OFFSET : 8192 + ufs.MAGIC_OFFSET + 4] = (0x011954).to_bytes(4, "big")
    assert ufs.ufs_type(_reader(bytes(data))) == "44bsd"


class _Guestfs:
    """The two calls the UFS mount makes, on a device holding `data`."""

    def __init__(self, data: bytes, mountable: set[str]) -> None:
        self.data, self.mountable, self.tried = data, mountable, []

    def pread_device(self, device: str, size: int, offset: int) -> bytes:
        return self.data[offset : offset + size]

    def mount_options(self, options: str, device: str, directory: str) -> None:
        self.tried.append(options)
        if options.removeprefix("ro,ufstype=") not in self.mountable:
            raise RuntimeError(f"mount_options: mount exited with status 32: {options}\nmore")


def _collector(g: _Guestfs) -> ApplianceVolumes:
    return ApplianceVolumes(g, KeySpec(), lambda w: None)  # no appliance: a fake handle


def _ufs2() -> bytes:
    data = bytearray(70000)
    at = 65536 + ufs.MAGIC_OFFSET
    data[at : at + 4] = (0x19540119).to_bytes(4, "little")
    return bytes(data)


def test_mount_uses_the_superblock_type_first() -> None:
    g = _Guestfs(_ufs2(), {"ufs2", "old"})
    assert _collector(g).mount("/dev/sda2", "ufs", "/fs/0") is None
    assert g.tried == ["ro,ufstype=ufs2"]


def test_mount_falls_back_and_says_what_it_tried() -> None:
    g = _Guestfs(_ufs2(), set())
    error = _collector(g).mount("/dev/sda2", "ufs", "/fs/0")
    assert g.tried == [f"ro,ufstype={t}" for t in ("ufs2", "44bsd", "sun", "sunx86", "old")]
    assert error == ("mount_options: mount exited with status 32: ro,ufstype=ufs2 "
                     "(tried ufstype=ufs2,44bsd,sun,sunx86,old)")
