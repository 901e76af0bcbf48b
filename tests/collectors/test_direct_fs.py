"""The direct backend's filesystem views (collectors/backends/direct_fs.py) answer as the
appliance did: every Entry, FileSize, Symlink, Content, Listed and Missing fact of the recorded
snapshots ``facts/<guest>/`` (the appliance's answers on the cached test images) is asked again
of a view opened on the same filesystem of the same image, and compared.

The filesystems are found by the direct volume layer (partitions, LVs, LUKS containers opened
with the snapshot's keys). A guest whose image is not in the cache is skipped (building needs
the appliance). Filesystems made here (``mke2fs -d``, ``mkfs.xfs -p``) from a host directory check
what the test images do not have (xfs, non-UTF-8 names, FIFOs, dangling links) against the
host's own lstat.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import struct
import subprocess
from collections import defaultdict
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pyfsntfs
import pytest

from guestinspect.collectors.backends import ntfs_links, xfs_meta_uuid
from guestinspect.collectors.backends.direct_fs import (
    MAX_ENTRIES,
    READABLE_TYPES,
    LibyalView,
    UnsupportedFilesystem,
    open_view,
)
from guestinspect.collectors.keys import KeySpec
from guestinspect.collectors.resolver import GuestFilesystem
from guestinspect.collectors.view import MISSING, ReadError, Stat, is_utf8
from guestinspect.collectors.volumes.base import BlockDevice
from guestinspect.collectors.volumes.direct import open_volumes
from guestinspect.collectors.volumes.images import FileDevice
from guestinspect.datalog.factfiles import read_facts
from guestinspect.phony.build import disk_paths, is_fresh
from tests.images import GUESTS
from tests.snapshots import FACTS, SNAPSHOTS

CONTENT_LIMIT = 1 << 20
S, N = "symbol", "number"
#: The snapshot guests with a filesystem the direct views read (the others: md RAID, btrfs,
#: ufs, no filesystem). fedora-lvm-on-luks and fedora-luks-on-lvm (the same filesystems as
#: fedora's, inside LUKS: 412 facts each, no difference) are left to
#: ``GUESTINSPECT_DIRECT_FS_ALL=1``: their key derivation costs 6 s of CI.
GUEST_NAMES = ("windows", "windows-gpt", "archlinux", "alpine", "ubuntu", "debian", "coreos",
               "fedora", "multiboot", "split-usr-by-uuid", "blank-fs", "ubuntu-server",
               "rhel-server", "debian-sysv", "fedora-btrfs") + (
    ("fedora-lvm-on-luks", "fedora-luks-on-lvm") if os.environ.get("GUESTINSPECT_DIRECT_FS_ALL")
    else ())


class Resolver(GuestFilesystem):
    """The collectors' resolver (symlinks followed within the filesystem, lstat cached) over
    one direct view, with the lstat of a path whose last component is not followed."""

    def lstat(self, path: str) -> Stat:
        """lstat of ``path``, its directory resolved."""
        real = self.resolve(path, follow_last=False)
        return MISSING if real is None else self.get(real)


def _facts(guest: str, relation: str, kinds: list[str]) -> list[tuple[Any, ...]]:
    path = FACTS / guest / f"{relation}.facts"
    return read_facts(path, kinds) if path.exists() else []


def _open_filesystems(guest: str, stack: ExitStack) -> dict[str, tuple[str, BlockDevice]]:
    """fs name -> (type, block device) of each filesystem the direct volume layer opens
    (partitions, LVs, LUKS containers) whose type the direct views read."""
    snap = SNAPSHOTS[guest]
    vols = stack.enter_context(open_volumes(disk_paths(GUESTS[snap.guest]), snap.format,
                                            KeySpec.parse(snap.keys), lambda m: None))
    types = dict(_facts(guest, "Filesystem", [S, S]))
    return {fs: (types[fs], dev) for fs, dev in vols.devices.items()
            if types.get(fs) in READABLE_TYPES}


def _cached(guest: str) -> bool:
    snap = SNAPSHOTS[guest]
    return snap.guest in GUESTS and is_fresh(GUESTS[snap.guest]) and snap.directory.is_dir()


class Comparison:
    """The snapshot's facts of one guest asked again of the direct views."""

    def __init__(self, guest: str, stack: ExitStack) -> None:
        self.guest = guest
        self.warnings: list[str] = []
        self.views = {fs: open_view(vfs, dev, self.warnings.append, fs=fs)
                      for fs, (vfs, dev) in _open_filesystems(guest, stack).items()}
        self.resolvers = {fs: Resolver(fs, view) for fs, view in self.views.items()}
        self.entries = {(r[0], r[1]): r[2] for r in self.facts("Entry", [S, S, S])}
        self.diffs: list[str] = []
        self.checked = 0

    def facts(self, relation: str, kinds: list[str]) -> list[tuple[Any, ...]]:
        """The snapshot's facts of ``relation`` on the filesystems read here."""
        return [r for r in _facts(self.guest, relation, kinds) if r[0] in self.views]

    def differ(self, what: str, fs: str, path: str, theirs: object, ours: object) -> None:
        self.checked += 1
        if theirs != ours:
            self.diffs.append(f"{what} {fs}:{path}: appliance {theirs!r}, direct {ours!r}")

    def entry_facts(self) -> None:
        sizes = {(r[0], r[1]): r[2] for r in self.facts("FileSize", [S, S, N])}
        for (fs, path), kind in sorted(self.entries.items()):
            if fs in self.views:
                st = self.resolvers[fs].lstat(path)
                self.differ("Entry", fs, path, kind, st.kind)
                self.differ("FileSize", fs, path, sizes.get((fs, path)),
                            st.size if st.kind == "file" else None)
        for fs, path in self.facts("Missing", [S, S]):
            if (fs, path) not in self.entries:  # else a WantDir/WantArch miss
                self.differ("Missing", fs, path, "missing", self.resolvers[fs].lstat(path).kind)

    def link_and_content_facts(self) -> None:
        for fs, path, target in self.facts("Symlink", [S, S, S]):
            r = self.resolvers[fs]
            parent = r.resolve(posixpath.dirname(path)) or "/"
            ours = r.view.readlinks(parent, [posixpath.basename(path)])[0]
            self.differ("Symlink", fs, path, target, ours)
        for fs, path, text in self.facts("Content", [S, S, S]):
            r = self.resolvers[fs]
            real = r.resolve(path)
            data = r.view.read(real, 0, CONTENT_LIMIT) if real else b""
            self.differ("Content", fs, path, text, data.decode("utf-8", "replace"))

    def listed_facts(self) -> None:
        children: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
        for (fs, path), kind in self.entries.items():
            if path != "/":
                children[(fs, posixpath.dirname(path))][posixpath.basename(path)] = kind
        for fs, path in self.facts("Listed", [S, S]):
            r = self.resolvers[fs]
            listing = r.view.listdir(r.resolve(path) or "/")
            self.differ("Listed", fs, path, children.get((fs, path), {}), listing)

    def run(self) -> tuple[int, list[str]]:
        """(facts checked, differences and warnings)."""
        self.entry_facts()
        self.link_and_content_facts()
        self.listed_facts()
        for view in self.views.values():
            view.close()
        return self.checked, self.diffs + [f"warning: {w}" for w in self.warnings]


def compare(guest: str) -> tuple[int, list[str]]:
    """(facts checked, differences) between the snapshot and the direct views."""
    with ExitStack() as stack:
        return Comparison(guest, stack).run()


@pytest.mark.parametrize("guest", GUEST_NAMES)
def test_views_answer_as_the_appliance(guest: str) -> None:
    if not _cached(guest):
        pytest.skip(f"{guest}: image not in the cache")
    checked, diffs = compare(guest)
    assert diffs == []
    assert checked > 0


# ---- a filesystem made here, against the host's view of the directory it was made from ----

BIG = 3 * (1 << 20) + 5


def _tree(src: Path) -> None:
    (src / "etc" / "deep" / "er").mkdir(parents=True)
    (src / "etc" / "hostname").write_text("made\n")
    (src / "etc" / "deep" / "er" / "f").write_bytes(b"\0\1\2")
    (src / "big").write_bytes(bytes(range(256)) * (BIG // 256) + b"x" * (BIG % 256))
    (src / "empty").write_bytes(b"")
    (src / "ünïcode").write_text("u")
    os.symlink("etc/hostname", src / "rel")
    os.symlink("/etc/deep", src / "abs")
    os.symlink("nowhere", src / "dangling")
    os.symlink("loop", src / "loop")
    os.link(src / "etc" / "hostname", src / "hardlink")
    os.mkfifo(src / "fifo")
    (Path(os.fsdecode(bytes(src) + b"/bad\xffname"))).write_text("bad")
    Path(os.fsdecode(bytes(src) + b"/dir\xfe")).mkdir()
    (src / "many").mkdir()  # directory blocks, not a short list in the inode (xfs)
    for i in range(300):
        (src / "many" / f"a-file-with-a-longer-name-{i:03d}").write_bytes(b"")
    Path(os.fsdecode(bytes(src) + b"/many/x\xff")).write_bytes(b"")


def _protofile(src: Path) -> str:
    """An ``mkfs.xfs -p`` prototype of the tree ``src`` (mode uid gid, then a file's source,
    a link's target; ``$`` ends a directory)."""
    lines = ["/dev/null", "0 0", "d--755 0 0"]

    def walk(directory: bytes, depth: int) -> None:
        for entry in sorted(os.scandir(directory), key=lambda e: e.name):
            name = os.fsdecode(entry.name)
            if entry.is_symlink():
                lines.append(f"{name} l--777 0 0 {os.fsdecode(os.readlink(entry.path))}")
            elif entry.is_dir():
                lines.append(f"{name} d--755 0 0")
                walk(entry.path, depth + 1)
            elif entry.is_file():
                lines.append(f"{name} ---644 0 0 {os.fsdecode(entry.path)}")
            else:
                lines.append(f"{name} p--644 0 0")
        lines.append("$")

    walk(bytes(src), 0)
    return "\n".join(lines) + "\n"


def _make(vfs: str, src: Path, img: Path) -> None:
    with img.open("wb") as f:
        f.truncate((320 if vfs.startswith("xfs") else 32) << 20)
    if vfs == "ext4":
        subprocess.run(["mke2fs", "-q", "-F", "-t", "ext4", "-d", str(src), str(img)],
                       check=True)
        return
    proto = img.with_suffix(".proto")
    proto.write_bytes(os.fsencode(_protofile(src)))
    subprocess.run(["mkfs.xfs", "-q", "-f", "-p", str(proto), str(img)], check=True)
    if vfs == "xfs-new-uuid":  # META_UUID set, as after a clone: libfsxfs refuses it alone
        subprocess.run(["xfs_admin", "-U", "generate", str(img)], check=True,
                       capture_output=True)
        assert xfs_meta_uuid.ag_bytes(img.read_bytes()[:512]) is not None


@pytest.fixture(scope="module", params=["ext4", "xfs", "xfs-new-uuid"])
def made(request: pytest.FixtureRequest,
         tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, Path]:
    """(type, source directory, filesystem image made from it: mke2fs -d, mkfs.xfs -p, and
    that xfs given a new UUID by xfs_admin)."""
    vfs = str(request.param)
    tool = {"ext4": "mke2fs", "xfs": "mkfs.xfs", "xfs-new-uuid": "xfs_admin"}[vfs]
    if shutil.which(tool) is None:
        pytest.skip(f"no {tool}")
    base = tmp_path_factory.mktemp(f"direct_fs_{vfs}")
    src, img = base / "src", base / f"{vfs}.img"
    src.mkdir()
    _tree(src)
    _make(vfs, src, img)
    return vfs, src, img


def _made_view(made: tuple[str, Path, Path], warnings: list[str]) -> LibyalView:
    vfs, _, img = made
    vfs = vfs.removesuffix("-new-uuid")
    return open_view(vfs, FileDevice(img), warnings.append, fs="/dev/sdz1")


def _host_kind(path: bytes) -> str:
    mode = os.lstat(path).st_mode
    import stat

    for test, kind in ((stat.S_ISREG, "file"), (stat.S_ISDIR, "dir"), (stat.S_ISLNK, "symlink")):
        if test(mode):
            return kind
    return "other"


def test_made_as_the_host_sees_it(made: tuple[str, Path, Path]) -> None:
    vfs, src, _ = made
    warnings: list[str] = []
    view = _made_view(made, warnings)
    root = bytes(src)
    for dirpath, dirnames, filenames in os.walk(root):
        rel = dirpath[len(root):].decode("utf-8", "replace") or "/"
        if any(not is_utf8(n) for n in dirpath[len(root):].split(b"/")):
            continue
        names = [n for n in dirnames + filenames if n != b"lost+found"]
        expected = {n.decode("utf-8", "replace"):
                    _host_kind(os.path.join(dirpath, n)) if is_utf8(n) else "other" for n in names}
        assert {k: v for k, v in view.listdir(rel).items() if k != "lost+found"} == expected
        good = sorted(n.decode() for n in names if is_utf8(n))
        stats = view.lstat_names(rel, good)
        for name, st in zip(good, stats, strict=True):
            host = os.lstat(os.path.join(dirpath, name.encode()))
            assert st.kind == _host_kind(os.path.join(dirpath, name.encode()))
            if st.kind == "file":
                assert st.size == host.st_size
        links = [n for n in good if expected[n] == "symlink"]
        assert view.readlinks(rel, links) == [
            os.readlink(os.path.join(dirpath, n.encode())).decode() for n in links]
    assert view.lstat_names("/", ["nope", "bad\ufffdname"]) == [MISSING, MISSING]
    assert view.lstat_names("/etc", ["hostname"]) == [Stat("file", 5)]
    # as collectors/image.py words it
    assert sorted(warnings) == ["/dev/sdz1:/: file name is not UTF-8: 'bad\ufffdname'",
                                "/dev/sdz1:/: file name is not UTF-8: 'dir\ufffd'",
                                "/dev/sdz1:/many: file name is not UTF-8: 'x\ufffd'"]
    view.close()


def test_reads_are_bounded_by_what_was_asked(made: tuple[str, Path, Path],
                                             tmp_path: Path) -> None:
    view = _made_view(made, [])
    src = made[1]
    data = (src / "big").read_bytes()
    assert view.read("/big", 0, 10) == data[:10]
    assert view.read("/big", BIG - 5, 1 << 20) == data[-5:]
    assert view.read("/big", BIG, 10) == b""
    assert view.read("/big", 1 << 20, 1 << 20) == data[1 << 20:2 << 20]
    assert view.read("/empty", 0, 10) == b""
    view.copy_out("/big", tmp_path / "all", 1 << 30)
    assert (tmp_path / "all").read_bytes() == data
    view.copy_out("/big", tmp_path / "some", (1 << 20) + 7)
    assert (tmp_path / "some").read_bytes() == data[:(1 << 20) + 7]
    for path in ("/etc", "/fifo", "/rel", "/nope"):
        with pytest.raises(ReadError):
            view.read(path, 0, 10)
    view.close()


def test_a_listing_stops_at_the_cap(made: tuple[str, Path, Path],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("guestinspect.collectors.backends.direct_fs.MAX_ENTRIES", 3)
    warnings: list[str] = []
    view = _made_view(made, warnings)
    assert len(view.listdir("/")) <= 3
    assert any("only the first 3 listed" in w for w in warnings)
    view.close()


def test_what_is_not_read(tmp_path: Path) -> None:
    empty, zeros = tmp_path / "empty", tmp_path / "zeros"
    empty.write_bytes(b"")
    zeros.write_bytes(bytes(1 << 20))
    with pytest.raises(UnsupportedFilesystem):
        open_view("btrfs", FileDevice(empty), print)
    for vfs in sorted(READABLE_TYPES):
        with pytest.raises(ReadError) as e:
            open_view(vfs, FileDevice(zeros), print)
        assert "\n" not in str(e.value)
    assert MAX_ENTRIES == 100_000


def test_vfat_names_as_linux_shows_them(tmp_path: Path) -> None:
    """Linux's vfat (shortname=mixed, the default) shows a long name as stored, a short name
    in upper case unless its case bits say lower (Windows NT's, which mtools writes for
    ``readme.txt``), and looks names up without regard to case."""
    if not (shutil.which("mkfs.fat") and shutil.which("mcopy") and shutil.which("mmd")):
        pytest.skip("no mkfs.fat or mtools")
    img, one = tmp_path / "fat.img", tmp_path / "one"
    one.write_bytes(b"hi\n")
    subprocess.run(["mkfs.fat", "-C", str(img), "8192"], check=True, capture_output=True)
    for name in ("readme.txt", "README2.TXT", "MixedCase.Txt", "long file name.txt", "ABC.d"):
        subprocess.run(["mcopy", "-i", str(img), str(one), f"::{name}"], check=True)
    for name in ("efi", "EFI2", "EFI2/Boot"):
        subprocess.run(["mmd", "-i", str(img), f"::{name}"], check=True)
    view = open_view("vfat", FileDevice(img), print)
    assert view.listdir("/") == {"readme.txt": "file", "README2.TXT": "file",
                                 "MixedCase.Txt": "file", "long file name.txt": "file",
                                 "ABC.d": "file", "efi": "dir", "EFI2": "dir"}
    assert view.listdir("/EFI2") == {"Boot": "dir"}
    assert view.lstat_names("/", ["README.TXT", "mixedcase.txt", "EFI", "nope"]) == [
        Stat("file", 3), Stat("file", 3), Stat("dir", 0), MISSING]
    assert view.lstat_names("/efi2", ["BOOT"]) == [Stat("dir", 0)]
    assert view.readlinks("/", ["readme.txt"]) == [None]
    assert view.read("/README.TXT", 1, 100) == b"i\n"
    view.close()


def test_ntfs_as_ntfs3g_shows_it() -> None:
    """The metadata files are not listed but found by name, lookups are case-sensitive,
    a lookup after the listing answers the same as before it."""
    if not _cached("windows"):
        pytest.skip("windows: image not in the cache")
    with ExitStack() as stack:
        vfs, dev = _open_filesystems("windows", stack)["/dev/sda2"]
        names = ["$MFT", "$Extend", "windows", "Windows", "autoexec.bat", "AUTOEXEC.BAT"]
        expected = ["file", "dir", "missing", "dir", "file", "missing"]
        for list_first in (False, True):
            view = open_view(vfs, dev, print)
            if list_first:
                assert view.listdir("/") == {"Program Files": "dir", "Windows": "dir",
                                             "autoexec.bat": "file"}
            stats = view.lstat_names("/", names)
            assert [st.kind for st in stats] == expected
            assert stats[0].size > 0  # $MFT
            assert view.read("/Windows/System32/Config/SYSTEM", 0, 4) == b"regf"
            assert view.lstat_names("/Windows/System32", ["config"]) == [MISSING]
            view.close()


def _set_ntfs_attributes(img: Path, record: int, flags: int) -> None:
    """OR ``flags`` into the file attributes of MFT record ``record``'s
    $STANDARD_INFORMATION (what ntfs-3g's lstat reads), in a fresh mkntfs image."""
    with img.open("r+b") as f:
        boot = f.read(512)
        cluster = struct.unpack_from("<H", boot, 0x0B)[0] * boot[0x0D]
        per_record = struct.unpack_from("<b", boot, 0x40)[0]
        size = cluster * per_record if per_record > 0 else 1 << -per_record
        offset = struct.unpack_from("<q", boot, 0x30)[0] * cluster + record * size
        f.seek(offset)
        data = bytearray(f.read(size))
        assert data[:4] == b"FILE"
        pos = struct.unpack_from("<H", data, 0x14)[0]
        while struct.unpack_from("<I", data, pos)[0] != 0x10:  # $STANDARD_INFORMATION
            pos += struct.unpack_from("<I", data, pos + 4)[0]
        where = pos + struct.unpack_from("<H", data, pos + 0x14)[0] + 0x20
        struct.pack_into("<I", data, where, struct.unpack_from("<I", data, where)[0] | flags)
        f.seek(offset)
        f.write(data)


def test_ntfs_interix_files_as_ntfs3g_reads_them(tmp_path: Path) -> None:
    """What ntfs-3g writes for a FIFO, a socket, a device or a symlink (libguestfs's mkfifo,
    ln_s on NTFS) is one again when read: a system file, by its size or magic (checked
    against the appliance once: docs/architecture.md)."""
    if not (shutil.which("mkntfs") and shutil.which("ntfscp")):
        pytest.skip("no mkntfs or ntfscp")
    img = tmp_path / "ntfs.img"
    with img.open("wb") as f:
        f.truncate(16 << 20)
    subprocess.run(["mkntfs", "-q", "-F", "-f", str(img)], check=True, capture_output=True)
    files = {"fifo": b"", "socket": b"x", "hidden-empty": b"", "plain-empty": b"",
             "link": b"IntxLNK\x01" + "../target/x".encode("utf-16-le"),
             "chr": b"IntxCHR\x00" + bytes(16), "text": b"IntxLNX not a link"}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        subprocess.run(["ntfscp", "-q", "-f", str(img), str(tmp_path / name), name],
                       check=True, capture_output=True)
    volume = pyfsntfs.volume()
    volume.open(str(img))
    records = {name: volume.get_file_entry_by_path("\\" + name).file_reference & 0xFFFFFFFFFFFF
               for name in files}
    volume.close()
    for name, record in records.items():
        if name != "plain-empty":
            _set_ntfs_attributes(img, record, 0x4 | (0x2 if name == "hidden-empty" else 0))
    view = open_view("ntfs", FileDevice(img), print)
    assert view.listdir("/") == {"fifo": "other", "socket": "other", "hidden-empty": "file",
                                 "plain-empty": "file", "link": "symlink", "chr": "other",
                                 "text": "file"}
    assert view.readlinks("/", ["link", "text"]) == ["../target/x", None]
    assert view.lstat_names("/", ["text"]) == [Stat("file", len(files["text"]))]
    view.close()


@pytest.mark.parametrize(("tag", "substitute", "expected"), [
    # the first four: what ntfs-3g's readlink gave in the appliance (mounted at /sysroot) for
    # reparse points written with setfattr system.ntfs_reparse_data (a junction, absolute and
    # relative symlinks, a link to another drive); then a junction to a missing path (assumed
    # as an absolute symlink) and a WOF-compressed file (ntfs-3g's text without a plugin)
    (0xA0000003, "\\??\\C:\\users", "/sysroot/Users"),
    (0xA000000C, "\\??\\C:\\Users\\Public", "/sysroot/.NTFS-3G/C:/Users/Public"),
    (0xA000000C, "Users\\Public\\x.txt", "Users/Public/x.txt"),
    (0xA000000C, "\\??\\D:\\data", "/sysroot/.NTFS-3G/D:/data"),
    (0xA0000003, "\\??\\C:\\nowhere", "/sysroot/.NTFS-3G/C:/nowhere"),
    (0x80000017, "", "unsupported reparse tag 0x80000017"),
])
def test_ntfs_links_as_ntfs3g_reads_them(tag: int, substitute: str, expected: str) -> None:
    stored = {"/users": "/Users"}
    assert ntfs_links.link_target(tag, substitute, "/sysroot",
                                  lambda p: stored.get(p.lower())) == expected


def test_a_refusal_names_its_cause(tmp_path: Path) -> None:
    """An ext4 feature libfsext does not read (large_dir) is a one-line error naming it."""
    if shutil.which("mke2fs") is None:
        pytest.skip("no mke2fs")
    img = tmp_path / "large_dir.img"
    with img.open("wb") as f:
        f.truncate(16 << 20)
    subprocess.run(["mke2fs", "-q", "-F", "-t", "ext4", "-O", "large_dir", str(img)],
                   check=True)
    with pytest.raises(ReadError) as e:
        open_view("ext4", FileDevice(img), print)
    assert str(e.value).startswith("cannot read the ext4 filesystem: unsupported "
                                   "incompatible features flags: 0x")  # 0x4000 among them
    assert int(str(e.value).rsplit("0x", 1)[1], 16) & 0x4000
