"""Disk image formats of the direct volume layer (collectors/volumes/images.py): one small
guest disk (an MBR, an ext4 partition, a LUKS1 partition) converted by qemu-img to qcow2, vmdk
(monolithic and split), vhd and vhdx gives the same start facts as the raw disk; a qcow2
backing chain reads through to its base, resolved beside the overlay as qemu does."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from guestinspect.collectors.keys import KeySpec
from guestinspect.collectors.volumes.direct import DirectVolumes, open_volumes
from guestinspect.collectors.volumes.images import UnsupportedImage, detect
from guestinspect.collectors.volumes.qcow2 import Qcow2Image, has_compressed_clusters
from guestinspect.errors import ImageError
from tests.collectors.test_partitions import mbr

PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
MIB = 1 << 20
FS_UUID = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"


def _run(*args: str, stdin: bytes | None = None) -> None:
    subprocess.run(args, check=True, capture_output=True, input=stdin,
                   env={**os.environ, "PATH": PATH})


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 24 MiB disk: sda1 ext4 (label ROOT) from 1 MiB, sda2 LUKS1 (key k) from 17 MiB."""
    d = tmp_path_factory.mktemp("images")
    fs, luks = d / "fs.img", d / "luks.img"
    for f, size in ((fs, 16), (luks, 6)):
        with f.open("wb") as out:
            out.truncate(size * MIB)
    _run("mkfs.ext4", "-q", "-F", "-L", "ROOT", "-U", FS_UUID, str(fs))
    _run("cryptsetup", "luksFormat", "-q", "--type", "luks1", "--pbkdf-force-iterations",
         "1000", "--key-file", "-", str(luks), stdin=b"k")
    disk = d / "disk.raw"
    with disk.open("wb") as out:
        out.truncate(24 * MIB)
        out.write(mbr([(0x83, 2048, 16 * 2048), (0x83, 17 * 2048, 6 * 2048)]))
        out.seek(MIB)
        out.write(fs.read_bytes())
        out.seek(17 * MIB)
        out.write(luks.read_bytes())
    return disk


def _facts(path: Path, format: str | None = None, keys: tuple[str, ...] = ()) -> \
        dict[str, set[tuple[str | int, ...]]]:
    with open_volumes([path], format, KeySpec.parse(keys), lambda m: None) as vols:
        return vols.facts


def _convert(raw: Path, fmt: str, name: str, *options: str) -> Path:
    out = raw.parent / name
    if not out.exists():
        _run("qemu-img", "convert", "-q", "-f", "raw", "-O", fmt, *options, str(raw), str(out))
    return out


def test_raw_disk_facts(raw: Path) -> None:
    facts = _facts(raw)
    assert facts["Disk"] == {("/dev/sda", 0, 24 * MIB)}
    assert facts["Partition"] == {("/dev/sda1", "/dev/sda", 1, MIB, 16 * MIB),
                                  ("/dev/sda2", "/dev/sda", 2, 17 * MIB, 6 * MIB)}
    assert facts["Filesystem"] == {("/dev/sda1", "ext4"), ("/dev/sda2", "crypto_LUKS")}
    assert facts["FsUuid"] >= {("/dev/sda1", FS_UUID)}
    assert facts["LuksLocked"] == {("/dev/sda2", "no key")}
    # LUKS1 through pyluksde: the right key opens it (what is inside is random: unknown)
    opened = _facts(raw, "raw", ("/dev/sda2:key:k",))
    (uuid,) = {u for _, u in opened["LuksContainer"]}
    assert opened["LuksOpened"] == {("/dev/sda2", f"/dev/mapper/luks-{uuid}")}
    assert (f"/dev/mapper/luks-{uuid}", "unknown") in opened["Filesystem"]
    assert _facts(raw, None, ("all:key:nope",))["LuksLocked"] == {("/dev/sda2", "wrong key")}


@pytest.mark.parametrize(("fmt", "name", "options", "found"), [
    ("qcow2", "disk.qcow2", (), "qcow2"),
    ("vmdk", "disk.vmdk", (), "vmdk"),
    ("vmdk", "split.vmdk", ("-o", "subformat=twoGbMaxExtentSparse"), "vmdk"),
    ("vmdk", "stream.vmdk", ("-o", "subformat=streamOptimized"), "vmdk"),
    ("vpc", "fixed.vhd", ("-o", "subformat=fixed,force_size=on"), "vhd"),
    ("vpc", "dynamic.vhd", ("-o", "force_size=on"), "vhd"),
    ("vhdx", "disk.vhdx", (), "vhdx"),
])
def test_formats_read_as_the_raw_disk(raw: Path, fmt: str, name: str,
                                      options: tuple[str, ...], found: str) -> None:
    image = _convert(raw, fmt, name, *options)
    assert detect(image) == found
    expected = _facts(raw)
    assert _facts(image) == expected
    assert _facts(image, fmt) == expected


def test_qcow2_backing_chain(raw: Path, tmp_path: Path) -> None:
    base = _convert(raw, "qcow2", "disk.qcow2")
    # overlays in another directory, named relative to it as qemu-img writes them
    (tmp_path / "base.qcow2").symlink_to(base)
    mid, top = tmp_path / "mid.qcow2", tmp_path / "top.qcow2"
    _run("qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", "base.qcow2", str(mid))
    label = MIB + 1024 + 0x78  # sda1's ext4 label
    _run("qemu-io", "-f", "qcow2", "-c", f"write -P 0x4e {label} 8", str(mid))
    _run("qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", "mid.qcow2", str(top))
    facts = _facts(top)
    assert ("/dev/sda1", "NNNNNNNN") in facts["FsLabel"]
    assert facts["FsUuid"] == _facts(raw)["FsUuid"]
    with open_volumes([top], None, KeySpec(), lambda m: None) as vols:
        assert isinstance(vols, DirectVolumes) and vols.formats == {"/dev/sda": "qcow2"}


def test_compressed_qcow2_reads_as_the_raw_disk(raw: Path) -> None:
    """libqcow 20260703 gives zeros for some zlib-compressed clusters (qemu-img convert -c):
    such an image is read by collectors/volumes/qcow2.py, byte for byte as the raw disk."""
    image = _convert(raw, "qcow2", "disk-z.qcow2", "-c")
    assert _facts(image) == _facts(raw)
    data, expected = image.read_bytes(), raw.read_bytes()
    for path in (image, _convert(raw, "qcow2", "disk.qcow2")):
        data = path.read_bytes()
        qcow = Qcow2Image(lambda off, n, data=data: data[off : off + n], len(data))
        assert has_compressed_clusters(qcow) == (path == image)
        assert qcow.size == len(expected)
        for offset in range(0, len(expected), 1 << 20):
            assert qcow.pread(offset, 1 << 20) == expected[offset : offset + (1 << 20)]
        assert qcow.pread(12345, 70000) == expected[12345 : 12345 + 70000]


def test_qcow2_over_raw(raw: Path, tmp_path: Path) -> None:
    over = tmp_path / "over.qcow2"
    _run("qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", str(raw), str(over))
    assert _facts(over) == _facts(raw)
    _run("qemu-io", "-f", "qcow2", "-c", f"write -P 0x52 {MIB + 1024 + 0x78} 3", str(over))
    assert ("/dev/sda1", "RRRT") in _facts(over)["FsLabel"]  # over ROOT


def test_refused_images(raw: Path, tmp_path: Path) -> None:
    gone = tmp_path / "gone.qcow2"
    _run("qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", "nowhere.qcow2",
         "-u", str(gone), "24M")
    with pytest.raises(ImageError, match="backing file nowhere.qcow2: no such file"):
        _facts(gone)
    with pytest.raises(ImageError, match="not a qcow2 image"):
        _facts(raw, "qcow2")
    with pytest.raises(UnsupportedImage, match="format 'qed'"):
        _facts(raw, "qed")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(ImageError, match="not a regular file"):
        _facts(fifo)
    # a qcow2 read as raw (the user said so): one unpartitioned disk of unknown content
    assert _facts(_convert(raw, "qcow2", "disk.qcow2"), "raw")["Filesystem"] == {
        ("/dev/sda", "unknown")}


def _luks_disk(tmp_path: Path, *options: str) -> Path:
    """A disk whose one partition (from 1 MiB) is a LUKS container made with ``options``
    (passphrase k)."""
    luks, disk = tmp_path / "luks.img", tmp_path / "disk.raw"
    with luks.open("wb") as out:
        out.truncate(20 * MIB)
    _run("cryptsetup", "luksFormat", "-q", "--pbkdf", "pbkdf2", "--pbkdf-force-iterations",
         "1000", *options, "--key-file", "-", str(luks), stdin=b"k")
    with disk.open("wb") as out:
        out.write(mbr([(0x83, 2048, 40 * 1024)]))
        out.seek(MIB)
        out.write(luks.read_bytes())
    return disk


@pytest.mark.parametrize("options", [("--type", "luks2"),
                                     ("--type", "luks2", "--sector-size", "4096"),
                                     ("--type", "luks2", "--cipher", "aes-xts-plain64",
                                      "--key-size", "256")])
def test_luks2_with_pbkdf2_opens(tmp_path: Path, options: tuple[str, ...]) -> None:
    disk = _luks_disk(tmp_path, *options)
    facts = _facts(disk, "raw", ("all:key:k",))
    (uuid,) = {u for _, u in facts["LuksContainer"]}
    assert facts["LuksOpened"] == {("/dev/sda1", f"/dev/mapper/luks-{uuid}")}
    assert _facts(disk, "raw", ("all:key:K",))["LuksLocked"] == {("/dev/sda1", "wrong key")}


def test_luks2_cipher_not_read_here_is_for_the_appliance(tmp_path: Path) -> None:
    disk = _luks_disk(tmp_path, "--type", "luks2", "--cipher", "aes-cbc-essiv:sha256",
                      "--key-size", "256")
    warnings: list[str] = []
    with open_volumes([disk], "raw", KeySpec.parse(["all:key:k"]), warnings.append) as vols:
        assert vols.unreadable == {
            "/dev/sda1": "LUKS: cipher aes-cbc-essiv:sha256 not supported by the direct backend"}
        assert warnings == ["/dev/sda1: LUKS container not opened by the direct backend "
                            "(cipher aes-cbc-essiv:sha256 not supported by the direct backend)"]
        assert "LuksLocked" not in vols.facts and "LuksOpened" not in vols.facts
        assert "Filesystem" not in vols.facts  # not a locked container: one left to read


def test_damaged_partition_table_is_for_the_appliance(tmp_path: Path) -> None:
    disk = tmp_path / "gpt.raw"
    head = bytearray(4 * MIB)
    head[:512] = mbr([(0xEE, 1, 8191)])
    head[512:520] = b"EFI PART"
    head[512 + 72 : 512 + 88] = (2).to_bytes(8, "little") + (4).to_bytes(4, "little") + \
        (100).to_bytes(4, "little")  # entries of 100 bytes
    disk.write_bytes(bytes(head))
    warnings: list[str] = []
    with open_volumes([disk], None, KeySpec(), warnings.append) as vols:
        assert list(vols.unreadable) == ["/dev/sda"]
        assert "Filesystem" not in vols.facts and vols.devices == {}
        assert warnings == ["/dev/sda: damaged partition table (GPT of 4 entries of 100 "
                            "bytes): left to the appliance"]


def test_a_read_the_image_refuses_is_an_image_error(raw: Path, tmp_path: Path) -> None:
    """A qcow2 (on a raw file: read by qcow2.py) whose first cluster lies past its end."""
    over = tmp_path / "over.qcow2"
    _run("qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", str(raw), str(over))
    _run("qemu-io", "-f", "qcow2", "-c", "write -P 0x11 0 512", str(over))
    data = bytearray(over.read_bytes())
    l1 = int.from_bytes(data[40:48], "big")
    l2 = int.from_bytes(data[l1 : l1 + 8], "big") & 0x00FFFFFFFFFFFE00
    data[l2 : l2 + 8] = ((1 << 63) | (1 << 40)).to_bytes(8, "big")
    over.write_bytes(bytes(data))
    with pytest.raises(ImageError, match=r"over.qcow2: cannot read: qcow2: cluster at "
                                         r"1099511627776, past the end of the file"):
        _facts(over)


def test_luks2_with_4096_byte_sectors_decrypts(tmp_path: Path) -> None:
    """An ext4 inside a LUKS2 container of 4096-byte sectors, encrypted as dm-crypt does it
    (aes-xts-plain64, the IV counting 512-byte sectors: checked once against dm-crypt in the
    appliance, whose table for such a container has ``sector_size:4096`` and no
    ``iv_large_sectors``); the volume key from ``cryptsetup luksDump --dump-volume-key``."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    disk = _luks_disk(tmp_path, "--type", "luks2", "--sector-size", "4096")
    dump = subprocess.run(["cryptsetup", "luksDump", "-q", "--dump-volume-key", "--key-file",
                           "-", str(tmp_path / "luks.img")], input=b"k", check=True,
                          capture_output=True, env={**os.environ, "PATH": PATH}).stdout.decode()
    key = bytes.fromhex("".join(dump.split("MK dump:", 1)[1].split()))
    fs = tmp_path / "fs.img"
    with fs.open("wb") as out:
        out.truncate(3 * MIB)
    _run("mkfs.ext4", "-q", "-F", "-L", "SECT4K", str(fs))
    plain, cipher = fs.read_bytes(), bytearray()
    for i in range(0, len(plain), 4096):
        tweak = (i // 512).to_bytes(16, "little")
        cipher += Cipher(algorithms.AES(key), modes.XTS(tweak)).encryptor().update(
            plain[i : i + 4096])
    with disk.open("r+b") as out:
        out.seek(MIB + 16 * MIB)  # the partition, then the data segment's offset
        out.write(bytes(cipher))
    facts = _facts(disk, "raw", ("all:key:k",))
    ((mapped,),) = {(m,) for _, m in facts["LuksOpened"]}
    assert (mapped, "ext4") in facts["Filesystem"] and (mapped, "SECT4K") in facts["FsLabel"]
