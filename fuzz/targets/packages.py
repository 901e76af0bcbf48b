"""Package databases (collectors/packages.py): dpkg, pacman, apk, rpm headers, rpmdb.sqlite,
Berkeley DB. Seeds are the phony guests' real files (../shared/testdata/libguestfs-phony) and
databases built here around real Fedora headers; the builders serve the unit tests too."""

from __future__ import annotations

import functools
import lzma
import os
import sqlite3
import struct
import tempfile
from pathlib import Path

from fuzz.targets import target
from guestinspect.collectors import packages

ROOT = Path(__file__).resolve().parents[2]
PHONY = Path(os.environ.get("GUESTINSPECT_SHARED", ROOT.parent / "shared")) / "testdata" / \
    "libguestfs-phony"

_DPKG = b"""Package: test1
Status: install ok installed
Architecture: amd64
Version: 1:1.2.3-1
Description: this is a test package
 This is a test package.
 .
 Don't confuse it with a real package.
Homepage: http://libguestfs.org/

Package: test2
Status: deinstall ok config-files
Version: 2.0
"""
_PACMAN = b"%NAME%\ntest-package\n\n%VERSION%\n1:0.1-1\n\n%DESC%\nTest package\n\n" \
    b"%LICENSE%\nGPL\nMIT\n\n%ARCH%\nx86_64\n"
_APK = b"C:Q1x=\nP:musl\nV:1.2.4-r2\nA:x86_64\nU:https://musl.libc.org/\nT:the C library\n" \
    b"F:lib\nR:ld-musl.so.1\n\nP:busybox\nV:1.36.1-r5\no:busybox\nL:GPL-2.0-only\n"


def _file(name: str) -> list[bytes]:
    path = PHONY / name
    return [path.read_bytes()] if path.is_file() else []


def rpm_header(fields: dict[int, str | int]) -> bytes:
    """An rpmdb header blob (no magic) of string and int32 tags."""
    index, store = b"", b""
    for tag, value in fields.items():
        if isinstance(value, int):
            store += bytes(-len(store) % 4)
            index += struct.pack(">IIII", tag, 4, len(store), 1)
            store += struct.pack(">I", value)
        else:
            index += struct.pack(">IIII", tag, 6, len(store), 1)
            store += value.encode() + b"\0"
    return struct.pack(">II", len(fields), len(store)) + index + store


@functools.cache
def fedora_headers() -> tuple[bytes, ...]:
    """The 8 smallest header blobs of the phony Fedora guest's rpmdb.sqlite, smallest first
    (or two made-up headers when the shared test data is not there)."""
    dump = PHONY / "fedora-db.sql.xz"
    if not dump.is_file():
        return (rpm_header({1000: "bash", 1001: "5.1", 1002: "1.fc36", 1022: "x86_64"}),
                rpm_header({1000: "gmp", 1003: 1, 1001: "6.2.1", 1002: "2.fc36"}))
    st = dump.stat()
    cache = Path(tempfile.gettempdir()) / f"guestinspect-fuzz-rpm-{st.st_size}-{st.st_mtime_ns}"
    if cache.is_file():  # decompressing the dump takes 2 s: once per machine, not per worker
        data = cache.read_bytes()
        return tuple(data[i + 4 : i + 4 + n] for i, n in _lengths(data))
    blobs = []
    with lzma.open(dump, "rt") as sql:  # the Packages rows come first: stop after them
        for line in sql:
            if line.startswith("INSERT INTO Packages VALUES("):
                blobs.append(bytes.fromhex(line.split("X'", 1)[1].split("'", 1)[0]))
            elif blobs:
                break
    blobs = sorted(blobs, key=len)[:8]
    tmp = cache.with_suffix(f".{os.getpid()}")
    tmp.write_bytes(b"".join(struct.pack(">I", len(b)) + b for b in blobs))
    tmp.replace(cache)
    return tuple(blobs)


def _lengths(data: bytes) -> list[tuple[int, int]]:
    """(offset, length) of each length-prefixed blob of a cache file."""
    out, i = [], 0
    while i + 4 <= len(data):
        (n,) = struct.unpack_from(">I", data, i)
        out.append((i, n))
        i += 4 + n
    return out


def rpm_sqlite(path: Path, blobs: list[object], schema: str = "") -> Path:
    """An rpmdb.sqlite at ``path`` whose Packages rows hold ``blobs`` (any sqlite values), or
    made by ``schema`` (SQL) instead when given."""
    con = sqlite3.connect(path)
    if schema:
        con.executescript(schema)
    else:
        con.execute("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB)")
        con.executemany("INSERT INTO Packages (blob) VALUES (?)", [(b,) for b in blobs])
    con.commit()
    con.close()
    return path


def bdb_hash(blobs: list[bytes], pagesize: int = 4096, endian: str = "<") -> bytes:
    """A Berkeley DB hash file: page 0 the meta page, page 1 a hash page of key/data pairs;
    a blob that does not fit on it goes to a chain of overflow pages after it."""
    meta = bytearray(pagesize)
    struct.pack_into(endian + "III", meta, 12, 0x061561, 9, pagesize)
    page = bytearray(pagesize)
    over: list[bytes] = []
    items: list[bytes] = []
    for n, blob in enumerate(blobs):
        items.append(b"\x01" + struct.pack(endian + "I", n + 1))
        if len(blob) < pagesize // (2 * len(blobs)):
            items.append(b"\x01" + blob)
            continue
        first = 2 + len(over)
        chunks = [blob[i : i + pagesize - 26] for i in range(0, len(blob), pagesize - 26)]
        for k, chunk in enumerate(chunks):
            p = bytearray(pagesize)
            nxt = first + k + 1 if k + 1 < len(chunks) else 0
            struct.pack_into(endian + "IxxH", p, 16, nxt, len(chunk))
            p[25] = 7
            p[26 : 26 + len(chunk)] = chunk
            over.append(bytes(p))
        items.append(b"\x03\0\0\0" + struct.pack(endian + "II", first, len(blob)))
    offsets, end = [], pagesize
    for item in items:
        end -= len(item)
        page[end : end + len(item)] = item
        offsets.append(end)
    struct.pack_into(endian + "H", page, 20, len(items))
    page[25] = 13
    struct.pack_into(endian + f"{len(items)}H", page, 26, *offsets)
    return bytes(meta) + bytes(page) + b"".join(over)


def bdb_btree(blobs: list[bytes], pagesize: int = 4096) -> bytes:
    """A Berkeley DB btree file: page 0 the meta page, page 1 a leaf page of key/data pairs
    (each blob inline)."""
    meta = bytearray(pagesize)
    struct.pack_into("<III", meta, 12, 0x053162, 9, pagesize)
    page = bytearray(pagesize)
    items: list[bytes] = []
    for n, blob in enumerate(blobs):
        key = struct.pack("<I", n + 1)
        items += [struct.pack("<HB", len(key), 1) + key, struct.pack("<HB", len(blob), 1) + blob]
    offsets, end = [], pagesize
    for item in items:
        end -= len(item) + len(item) % 2
        page[end : end + len(item)] = item
        offsets.append(end)
    struct.pack_into("<H", page, 20, len(items))
    page[25] = 5
    struct.pack_into(f"<{len(items)}H", page, 26, *offsets)
    return bytes(meta) + bytes(page)


_EXPECTED = (packages.PackageDbError,)


@target("packages.dpkg", lambda: [_DPKG, *_file("debian-packages")], _EXPECTED)
def dpkg(data: bytes) -> None:
    for record in packages.parse_dpkg_status(data):
        assert all(isinstance(v, str) for v in record.values())
    packages.parse_dpkg_status(data, len(data) + 1)  # as if cut at the cap: raises DpkgError


@target("packages.pacman", lambda: [_PACMAN, *_file("archlinux-package")], _EXPECTED)
def pacman(data: bytes) -> None:
    assert all(isinstance(v, str) for v in packages.parse_pacman_desc(data).values())


@target("packages.apk", lambda: [_APK], _EXPECTED)
def apk(data: bytes) -> None:
    for record in packages.parse_apk_installed(data):
        assert set(record) <= set(packages.APK_FIELDS.values())


@target("packages.rpm_header", lambda: list(fedora_headers()[:4]), _EXPECTED)
def rpm_header_target(data: bytes) -> None:
    record = packages.parse_rpm_header(data)
    assert set(record) <= set(packages.RPM_TAGS.values())


def _sqlite_seeds() -> list[bytes]:
    small = list(fedora_headers()[:3])
    out = []
    with tempfile.TemporaryDirectory() as d:
        for i, rows in enumerate([small, [small[0], None, 42, b"", small[1]]]):
            out.append(rpm_sqlite(Path(d) / f"{i}.sqlite", rows).read_bytes())
        view = ("CREATE TABLE t (hnum INTEGER, blob BLOB); "
                "CREATE VIEW Packages AS SELECT hnum, blob FROM t;")
        out.append(rpm_sqlite(Path(d) / "view.sqlite", [], view).read_bytes())
    return out


@target("packages.rpm_sqlite", _sqlite_seeds, _EXPECTED, cost=4)
def rpm_sqlite_target(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "rpmdb.sqlite"
        path.write_bytes(data)
        packages.read_rpm_sqlite(path, seconds=2.0)


def _bdb_seeds() -> list[bytes]:
    small = list(fedora_headers()[:3])
    return [bdb_hash(small[:2], 4096), bdb_hash(small[:1] + small[2:3], 1024),
            bdb_hash(small[:2], 4096, ">"), bdb_btree(small[:1])]


@target("packages.bdb", _bdb_seeds, _EXPECTED)
def bdb(data: bytes) -> None:
    for record in packages.read_rpm_bdb(data):
        assert "name" in record
