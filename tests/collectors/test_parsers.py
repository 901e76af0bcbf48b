"""Package database parsers on real data (no appliance)."""

import lzma
import sqlite3
import struct
from pathlib import Path

import pytest

from guestinspect.collectors import packages
from tests.oracles import SHARED

PHONY = SHARED / "testdata" / "libguestfs-phony"


@pytest.fixture(scope="module")
def rpmdb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rpm") / "rpmdb.sqlite"
    con = sqlite3.connect(path)
    con.executescript(lzma.decompress((PHONY / "fedora-db.sql.xz").read_bytes()).decode())
    con.close()
    return path


def test_dpkg_status() -> None:
    records = packages.parse_dpkg_status((PHONY / "debian-packages").read_bytes())
    assert [r["package"] for r in records] == ["test1", "test2", "test3"]
    r = records[0]
    assert r["version"] == "1.2.3-1"
    assert r["status"] == "installed ok"
    assert r["architecture"] == "amd64"
    assert r["homepage"] == "http://libguestfs.org/"
    assert r["description"].split("\n") == [
        "this is a test package",
        " This is a test package.",
        " .",
        " Don't confuse it with a real package.",
    ]


def test_dpkg_non_utf8_and_crlf() -> None:
    records = packages.parse_dpkg_status(b"Package: a\xff\r\nVersion: 1\r\n\r\n\r\nPackage: b\n")
    assert records == [{"package": "a\ufffd", "version": "1"}, {"package": "b"}]


def test_rpm_sqlite(rpmdb: Path) -> None:
    records = packages.read_rpm_sqlite(rpmdb)
    assert len(records) == 172
    by_name = {r["name"]: r for r in records}
    gmp = by_name["gmp"]
    assert gmp["epoch"] == "1"
    assert (gmp["version"], gmp["release"], gmp["arch"]) == ("6.2.1", "2.fc36", "x86_64")
    assert gmp["url"] == "https://gmplib.org/"
    assert gmp["sourcerpm"] == "gmp-6.2.1-2.fc36.src.rpm"
    assert gmp["summary"] == "GNU arbitrary precision library"
    assert "epoch" not in by_name["bash"]


def test_rpm_header_rejects_garbage() -> None:
    with pytest.raises(packages.RpmHeaderError):
        packages.parse_rpm_header(b"\x00\x00\xff\xff\x00\x00\x00\x10garbage")


def test_rpm_bdb_hash(rpmdb: Path) -> None:
    """A hand-made Berkeley DB hash file holding two real headers (one on overflow pages)."""
    con = sqlite3.connect(rpmdb)
    every = sorted((bytes(b) for (b,) in con.execute("SELECT blob FROM Packages")), key=len)
    con.close()
    blobs = [every[0], every[-1]]
    ps = 8192
    meta = bytearray(ps)
    struct.pack_into("<III", meta, 12, 0x061561, 9, ps)
    small = blobs[0] if len(blobs[0]) < len(blobs[1]) else blobs[1]
    big = blobs[1] if small is blobs[0] else blobs[0]
    assert len(small) < ps - 100
    # page 1: a hash page with two pairs: key1 -> small (inline), key2 -> big (off-page)
    page = bytearray(ps)
    items = [b"\x01" + struct.pack("<I", 1), b"\x01" + small,
             b"\x01" + struct.pack("<I", 2), b"\x03\0\0\0" + struct.pack("<II", 2, len(big))]
    offsets, end = [], ps
    for item in items:
        end -= len(item)
        page[end : end + len(item)] = item
        offsets.append(end)
    struct.pack_into("<H", page, 20, len(items))
    page[25] = 13
    struct.pack_into(f"<{len(items)}H", page, 26, *offsets)
    # overflow pages 2, 3, …
    chunks = [big[i : i + ps - 26] for i in range(0, len(big), ps - 26)]
    over = []
    for n, chunk in enumerate(chunks):
        p = bytearray(ps)
        nxt = 3 + n if n + 1 < len(chunks) else 0
        struct.pack_into("<IxxH", p, 16, nxt, len(chunk))
        p[25] = 7
        p[26 : 26 + len(chunk)] = chunk
        over.append(bytes(p))
    data = bytes(meta) + bytes(page) + b"".join(over)
    names = sorted(r["name"] for r in packages.read_rpm_bdb(data))
    assert names == sorted(packages.parse_rpm_header(b)["name"] for b in blobs)


def test_rpm_bdb_rejects_other_files() -> None:
    with pytest.raises(packages.BdbError, match="not a Berkeley DB file"):
        packages.read_rpm_bdb(b"SQLite format 3\0" + bytes(4096))


def test_pacman_desc() -> None:
    r = packages.parse_pacman_desc((PHONY / "archlinux-package").read_bytes())
    assert r == {
        "name": "test-package",
        "version": "1:0.1-1",
        "desc": "Test package for libguestfs",
        "url": "http://libguestfs.org/",
        "arch": "x86_64",
    }


def test_pacman_multiline() -> None:
    r = packages.parse_pacman_desc(b"%NAME%\nfoo\n\n%LICENSE%\nGPL\nMIT\n\n")
    assert r == {"name": "foo", "license": "GPL\nMIT"}


def test_apk_installed() -> None:
    data = b"C:Q1x=\nP:musl\nV:1.2.4-r2\nA:x86_64\nU:https://musl.libc.org/\nT:the C library\n" \
        b"F:lib\nR:ld-musl.so.1\n\nP:busybox\nV:1.36.1-r5\n"
    assert packages.parse_apk_installed(data) == [
        {"name": "musl", "version": "1.2.4-r2", "arch": "x86_64",
         "url": "https://musl.libc.org/", "summary": "the C library"},
        {"name": "busybox", "version": "1.36.1-r5"},
    ]


def test_records_to_facts() -> None:
    facts = packages.records_to_facts("/dev/sda1", "dpkg", [{"package": "a"}, {"package": "b"}])
    assert facts == {"PackageField": {("/dev/sda1", "dpkg", "0", "package", "a"),
                                      ("/dev/sda1", "dpkg", "1", "package", "b")}}
