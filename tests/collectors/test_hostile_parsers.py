"""Parsers of guest bytes fed hostile inputs built here: each raises its one error type (with
what it could still read), in time linear in the input, and the collector turns the error into
PackageDbError plus the good records (docs/security.md, "Parsers of guest bytes")."""

from __future__ import annotations

import io
import os
import sqlite3
import struct
import tarfile
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from fuzz.targets.packages import bdb_btree, bdb_hash, fedora_headers, rpm_header, rpm_sqlite
from guestinspect.collectors import packages
from guestinspect.collectors.answerers import AnswerContext, answer
from guestinspect.collectors.backends.appliance_view import ApplianceView
from guestinspect.collectors.partitions import SECTOR, PartitionTableError, read_table
from guestinspect.collectors.resolver import GuestFilesystem
from guestinspect.collectors.resources import PeError, pe_resource
from guestinspect.functors.images import DibError, decode_dib, dib_png
from guestinspect.functors.windows import decimal, version_parts
from tests.images.content import RT_BITMAP, bitmap, pe_with_resources

GOOD = rpm_header({1000: "bash", 1001: "5.2", 1002: "1.fc39", 1022: "x86_64"})
OTHER = rpm_header({1000: "gmp", 1003: 1, 1001: "6.2.1", 1002: "2.fc36"})


def _names(records: list[packages.Record]) -> list[str]:
    return [r["name"] for r in records]


# ---- rpmdb.sqlite ----


def test_sqlite_not_a_database(tmp_path: Path) -> None:
    (tmp_path / "rpmdb.sqlite").write_bytes(b"SQLite format 3\0" + b"\xff" * 4000)
    with pytest.raises(packages.RpmSqliteError, match="not a database|malformed"):
        packages.read_rpm_sqlite(tmp_path / "rpmdb.sqlite")


def test_sqlite_without_packages_table(tmp_path: Path) -> None:
    db = rpm_sqlite(tmp_path / "rpmdb.sqlite", [], "CREATE TABLE Name (key TEXT, hnum INT);")
    with pytest.raises(packages.RpmSqliteError, match="no such table: Packages"):
        packages.read_rpm_sqlite(db)


@pytest.mark.parametrize(("value", "why"), [
    (None, "hnum 2: null instead of a header"),
    (1 << 62, "hnum 2: integer instead of a header"),
    ("text", "hnum 2: text instead of a header"),
    (struct.pack(">II", 0x7FFFFFFF, 0x7FFFFFFF) + bytes(8), "hnum 2: not an rpm header"),
])
def test_sqlite_bad_value_keeps_the_good_rows(tmp_path: Path, value: object, why: str) -> None:
    db = rpm_sqlite(tmp_path / "rpmdb.sqlite", [GOOD, value, OTHER])
    with pytest.raises(packages.RpmSqliteError, match=why) as e:
        packages.read_rpm_sqlite(db)
    assert _names(e.value.records) == ["bash", "gmp"]


def test_sqlite_blob_over_the_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(packages, "DB_LIMIT", 1000)
    db = rpm_sqlite(tmp_path / "rpmdb.sqlite", [GOOD, GOOD + bytes(2000)])
    with pytest.raises(packages.RpmSqliteError, match=r"hnum 2: blob of \d+ bytes") as e:
        packages.read_rpm_sqlite(db)
    assert _names(e.value.records) == ["bash"]


def test_sqlite_recursive_view_ends_at_the_deadline(tmp_path: Path) -> None:
    db = rpm_sqlite(tmp_path / "rpmdb.sqlite", [], """
        CREATE VIEW Packages AS WITH RECURSIVE c(hnum, blob) AS
            (SELECT 1, x'00' UNION ALL SELECT hnum + 1, blob FROM c)
        SELECT hnum, blob FROM c WHERE hnum < 0;""")
    start = time.monotonic()
    with pytest.raises(packages.RpmSqliteError, match="took longer than 0.5 s"):
        packages.read_rpm_sqlite(db, seconds=0.5)
    assert time.monotonic() - start < 3


def test_sqlite_opened_read_only_and_immutable(tmp_path: Path) -> None:
    db = rpm_sqlite(tmp_path / "rpmdb.sqlite", [GOOD])
    (tmp_path / "rpmdb.sqlite-journal").write_bytes(b"a hot journal that must not be replayed")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert _names(packages.read_rpm_sqlite(db)) == ["bash"]
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_sqlite_rows_still_in_the_wal_are_read(tmp_path: Path) -> None:
    """A guest copied while rpm ran: rows only in rpmdb.sqlite-wal (no -shm copied)."""
    live = tmp_path / "live"
    live.mkdir()
    con = sqlite3.connect(live / "rpmdb.sqlite")
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("PRAGMA wal_autocheckpoint = 0")
    con.execute("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB)")
    con.executemany("INSERT INTO Packages (blob) VALUES (?)", [(GOOD,), (OTHER,)])
    con.commit()
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("rpmdb.sqlite", "rpmdb.sqlite-wal"):
        (copy / name).write_bytes((live / name).read_bytes())
    con.close()
    assert _names(packages.read_rpm_sqlite(copy / "rpmdb.sqlite")) == ["bash", "gmp"]


# ---- rpm headers ----


def test_header_cost_is_linear() -> None:
    """65,535 entries all pointing at one 1 MiB string: each tag is decoded once."""
    data = b"a" * (packages.RPM_MAX_STRING - 1) + b"\0"
    index = struct.pack(">IIII", 1000, 6, 0, 1) * 0xFFFF
    blob = struct.pack(">II", 0xFFFF, len(data)) + index + data
    start = time.perf_counter()
    assert packages.parse_rpm_header(blob) == {"name": "a" * (packages.RPM_MAX_STRING - 1)}
    assert time.perf_counter() - start < 0.5


@pytest.mark.parametrize("blob", [
    b"", b"\x8e\xad\xe8\x01", struct.pack(">II", 1 << 31, 1 << 31),
    struct.pack(">II", 1, 4) + struct.pack(">IIII", 1000, 6, 4, 1) + b"abc\0",  # outside
    struct.pack(">II", 1, 3) + struct.pack(">IIII", 1000, 6, 0, 1) + b"abc",  # no NUL
    struct.pack(">II", 1, 2) + struct.pack(">IIII", 1003, 4, 0, 1) + b"ab",  # short int
])
def test_header_damage(blob: bytes) -> None:
    with pytest.raises(packages.RpmHeaderError):
        packages.parse_rpm_header(blob)


# ---- Berkeley DB ----


def test_bdb_hash_page_claiming_more_entries_than_it_holds() -> None:
    data = bytearray(bdb_hash([GOOD, OTHER], 1024) + bdb_hash([OTHER], 1024)[1024:])
    struct.pack_into("<H", data, 1024 + 20, 5000)  # page 1: 5000 entries of 2 bytes
    with pytest.raises(packages.BdbError, match="page 1: 5000 entries do not fit") as e:
        packages.read_rpm_bdb(bytes(data))
    assert _names(e.value.records) == ["gmp"]  # page 2 is still read


def _shared_overflow(items: int, chain: int, ps: int = 4096) -> bytes:
    """A hash file whose ``items`` data items all point at one chain of ``chain`` pages."""
    meta = bytearray(ps)
    struct.pack_into("<III", meta, 12, 0x061561, 9, ps)
    pages = [bytes(meta)]
    per_page = (ps - 26) // (2 * 2 + 5 + 12)
    hash_pages = -(-items // per_page)
    first = 1 + hash_pages
    for h in range(hash_pages):
        page = bytearray(ps)
        n = min(per_page, items - h * per_page)
        body = [b"\x01\0\0\0\0", b"\x03\0\0\0" + struct.pack("<II", first, chain * (ps - 26))]
        offsets, end = [], ps
        for _ in range(n):
            for item in body:
                end -= len(item)
                page[end : end + len(item)] = item
                offsets.append(end)
        struct.pack_into("<H", page, 20, len(offsets))
        page[25] = 13
        struct.pack_into(f"<{len(offsets)}H", page, 26, *offsets)
        pages.append(bytes(page))
    for k in range(chain):
        page = bytearray(ps)
        struct.pack_into("<IxxH", page, 16, first + k + 1 if k + 1 < chain else 0, ps - 26)
        page[25] = 7
        pages.append(bytes(page))
    return b"".join(pages)


def test_bdb_shared_overflow_chain_is_read_once() -> None:
    """2,000 items sharing one 256-page chain: the old reader followed it 2,000 times."""
    data = _shared_overflow(2000, 256)
    start = time.perf_counter()
    with pytest.raises(packages.BdbError, match="used twice"):
        packages.read_rpm_bdb(data)
    assert time.perf_counter() - start < 1.0


def test_bdb_overflow_loop() -> None:
    data = bytearray(bdb_hash([GOOD, fedora_headers()[-1]], 4096))
    # the big header's chain starts at page 2: make page 2 point to itself
    struct.pack_into("<I", data, 2 * 4096 + 16, 2)
    with pytest.raises(packages.BdbError, match="overflow chain from page 2") as e:
        packages.read_rpm_bdb(bytes(data))
    assert _names(e.value.records) == ["bash"]


def test_bdb_btree_item_past_the_page() -> None:
    data = bytearray(bdb_btree([GOOD, OTHER], 4096))
    (off,) = struct.unpack_from("<H", data, 4096 + 26 + 2 * 3)  # item 3: OTHER's data
    struct.pack_into("<H", data, 4096 + off, 60000)
    with pytest.raises(packages.BdbError, match="page 1: item 3 is damaged") as e:
        packages.read_rpm_bdb(bytes(data))
    assert _names(e.value.records) == ["bash"]


# ---- text databases ----


def test_dpkg_continuation_lines_are_linear() -> None:
    """160k continuation lines: the quadratic parser took about 4 s, this one 0.3 s."""
    data = b"Package: big\nStatus: install ok installed\nDescription: x\n" + b" y\n" * 160_000
    start = time.perf_counter()
    (record,) = packages.parse_dpkg_status(data)
    assert time.perf_counter() - start < 1.0
    assert record["description"].count("\n") == 160_000


def test_dpkg_cut_at_the_cap_keeps_whole_records() -> None:
    data = b"Package: a\nVersion: 1\n\nPackage: b\nVersion: 2\n\nPackage: c\nVers"
    with pytest.raises(packages.DpkgError, match="read the first 2 records only") as e:
        packages.parse_dpkg_status(data, size=1 << 30)
    assert e.value.records == [{"package": "a", "version": "1"}, {"package": "b", "version": "2"}]


def test_apk_cut_at_the_cap() -> None:
    with pytest.raises(packages.ApkError) as e:
        packages.parse_apk_installed(b"P:musl\nV:1\n\nP:busy", size=1 << 30)
    assert e.value.records == [{"name": "musl", "version": "1"}]


def _tar(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return out.getvalue()


def test_pacman_tar_cut(tmp_path: Path) -> None:
    tar = _tar({"./a-1/desc": b"%NAME%\na\n", "./b-1/desc": b"%NAME%\nb\n\n%DESC%\n" + b"x" * 5000})
    (tmp_path / "t.tar").write_bytes(tar[:2000])
    with pytest.raises(packages.PacmanError, match="larger than") as e:
        packages.read_pacman_tar(tmp_path / "t.tar", complete=False)
    assert e.value.records == [{"name": "a"}]
    (tmp_path / "t.tar").write_bytes(tar)
    assert _names(packages.read_pacman_tar(tmp_path / "t.tar")) == ["a", "b"]


# ---- the collector: an error is a PackageDbError fact plus the records ----


class _Guest:
    """A guestfs handle over a local directory mounted at /fs/0 (the calls the package
    readers make), whose tar_out writes slowly and honours user_cancel."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.cancelled = threading.Event()

    def _local(self, path: str) -> Path:
        assert path.startswith("/fs/0")
        return self.root / path[len("/fs/0") :].lstrip("/")

    def lstatnslist(self, d: str, names: list[str]) -> list[dict[str, int]]:
        out = []
        for n in names:
            try:
                st = os.lstat(self._local(d) / n)
                out.append({"st_ino": st.st_ino, "st_mode": st.st_mode, "st_size": st.st_size})
            except FileNotFoundError:
                out.append({"st_ino": -1})
        return out

    def download(self, path: str, local: str) -> None:
        Path(local).write_bytes(self._local(path).read_bytes())

    def download_offset(self, path: str, local: str, offset: int, size: int) -> None:
        with self._local(path).open("rb") as f:
            f.seek(offset)
            Path(local).write_bytes(f.read(size))

    def tar_out(self, path: str, local: str, excludes: list[str]) -> None:
        data = _tar({f"./{p.parent.name}/desc": p.read_bytes()
                     for p in sorted(self._local(path).glob("*/desc"))})
        with open(local, "wb") as f:
            for i in range(0, len(data), 4096):
                if self.cancelled.is_set():
                    raise RuntimeError("tar_out: operation cancelled by user")
                f.write(data[i : i + 4096])
                f.flush()
                time.sleep(0.002)

    def user_cancel(self) -> None:
        self.cancelled.set()


class _Answering:
    """The appliance's answerers over the fake handle: an ApplianceView of /fs/0."""

    def __init__(self, root: Path, tmp: Path) -> None:
        self.g = _Guest(root)
        self.warnings: list[str] = []
        view = ApplianceView(self.g, "/dev/sda1", "/fs/0", tmp, self.warnings.append)
        self.ctx = AnswerContext({"/dev/sda1": GuestFilesystem("/dev/sda1", view)},
                                 self.warnings.append, tmp)


def _collector(root: Path, tmp: Path) -> _Answering:
    return _Answering(root, tmp)


def _answer(c: _Answering, kind: str, path: str) -> tuple[list[str], set[tuple[Any, ...]]]:
    facts = answer(c.ctx, {"WantPackages": {("/dev/sda1", kind, path)}})
    names = sorted(str(t[4]) for t in facts.get("PackageField", ())
                   if t[3] in ("name", "package"))
    return names, facts.get("PackageDbError", set())


def test_collector_keeps_records_of_a_damaged_rpmdb(tmp_path: Path) -> None:
    (tmp_path / "g/var/lib/rpm").mkdir(parents=True)
    rpm_sqlite(tmp_path / "g/var/lib/rpm/rpmdb.sqlite", [GOOD, None, OTHER])
    c = _collector(tmp_path / "g", tmp_path)
    names, errors = _answer(c, "rpm", "/var/lib/rpm")
    assert names == ["bash", "gmp"]
    ((_, kind, path, message),) = errors
    assert (kind, path) == ("rpm", "/var/lib/rpm") and "null instead of a header" in message
    assert c.warnings == [f"/dev/sda1:/var/lib/rpm: rpm database: {message}"]


def test_collector_caps_dpkg_status(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(packages, "DB_LIMIT", 1000)
    (tmp_path / "g/var/lib/dpkg").mkdir(parents=True)
    status = b"".join(b"Package: p%d\nStatus: install ok installed\n\n" % i for i in range(100))
    (tmp_path / "g/var/lib/dpkg/status").write_bytes(status)
    names, errors = _answer(_collector(tmp_path / "g", tmp_path), "dpkg", "/var/lib/dpkg/status")
    assert 0 < len(names) < 100 and names[0] == "p0"
    ((*_, message),) = errors
    assert message == f"larger than 1000 bytes ({len(status)}): read the first {len(names)} " \
        "records only"


def test_collector_cancels_a_tar_out_past_the_cap(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(packages, "DB_LIMIT", 64 * 1024)
    local = tmp_path / "g/var/lib/pacman/local"
    for i in range(400):
        (local / f"p{i:03}-1").mkdir(parents=True)
        (local / f"p{i:03}-1/desc").write_bytes(b"%%NAME%%\np%03d\n\n" % i + b"#" * 500)
    c = _collector(tmp_path / "g", tmp_path)
    names, errors = _answer(c, "pacman", "/var/lib/pacman/local")
    assert c.g.cancelled.is_set()
    assert 0 < len(names) < 400 and names[0] == "p000"
    ((*_, message),) = errors
    assert message == f"larger than {64 * 1024} bytes: read the first descs only"


# ---- PE resources, bitmaps, partition tables, Windows functors ----


def test_short_explorer_exe() -> None:
    """Every prefix of a PE file with a bitmap: the bitmap, nothing, or PeError."""
    want = bitmap(8, 12)
    data = pe_with_resources({(RT_BITMAP, 6801): want, (RT_BITMAP, 143): bitmap(4, 4, 8)})
    outcomes = set()
    for cut in range(0, len(data), 7):
        short = data[:cut]
        try:
            found = pe_resource(lambda o, n, d=short: d[o : o + n], RT_BITMAP, 6801)
        except PeError as e:
            outcomes.add("PeError")
            assert str(e)
            continue
        assert found in (None, want)
        outcomes.add("found" if found else "none")
    assert "PeError" in outcomes and "found" in outcomes


def test_pe_header_far_away() -> None:
    data = bytearray(pe_with_resources({}))
    struct.pack_into("<I", data, 0x3C, 0x7FFFFFF0)
    asked: list[int] = []

    def read(offset: int, size: int) -> bytes:
        asked.append(size)
        return bytes(data[offset : offset + size])

    with pytest.raises(PeError, match="PE header at 0x7ffffff0"):
        pe_resource(read, RT_BITMAP, 1)
    assert max(asked) <= 4096


@pytest.mark.parametrize(("width", "height"), [(1024, 1024), (600, 600), (1 << 30, 2)])
def test_absurd_bitmap_sizes(width: int, height: int) -> None:
    dib = bytearray(bitmap(4, 4))
    struct.pack_into("<ii", dib, 4, width, height)
    with pytest.raises(DibError, match=f"bitmap of {width}x{height}"):
        decode_dib(bytes(dib))


def test_dib_png_yields_nothing_on_damage() -> None:
    import base64

    good = base64.b64encode(bitmap(4, 4)).decode()
    assert len(list(dib_png(good, 2))) == 1
    assert list(dib_png(good, -1)) == []
    assert list(dib_png("é" * 8, 0)) == []
    assert list(dib_png(base64.b64encode(bitmap(4, 4)[:50]).decode(), 0)) == []


def _mbr(entries: list[tuple[int, int, int]]) -> bytearray:
    s = bytearray(SECTOR)
    for i, (ptype, start, count) in enumerate(entries):
        struct.pack_into("<B3xB3xII", s, 0x1BE + 16 * i, 0, ptype, start, count)
    s[510:512] = b"\x55\xaa"
    return s


@pytest.mark.parametrize(("lba", "count", "esize", "match"), [
    (2, 128, 1 << 31, "GPT of 128 entries of 2147483648 bytes"),
    (2, 1 << 30, 128, "GPT of 1073741824 entries"),
    (0, 128, 128, "GPT entries at sector 0"),
    (1 << 60, 128, 128, "GPT entries at sector"),
])
def test_garbage_gpt(lba: int, count: int, esize: int, match: str) -> None:
    disk = bytearray(64 * 1024)
    disk[:SECTOR] = _mbr([(0xEE, 1, 127)])
    disk[SECTOR : SECTOR + 92] = b"EFI PART" + bytes(64) + struct.pack("<QII", lba, count, esize)
    reads: list[int] = []

    def read(n: int, off: int) -> bytes:
        reads.append(n)
        return bytes(disk[off : off + n])

    with pytest.raises(PartitionTableError, match=match):
        read_table(bytes(disk), read)
    assert reads == []


def test_gpt_entry_ending_before_it_starts() -> None:
    disk = bytearray(64 * 1024)
    disk[:SECTOR] = _mbr([(0xEE, 1, 127)])
    disk[SECTOR : SECTOR + 92] = b"EFI PART" + bytes(64) + struct.pack("<QII", 2, 4, 128)
    disk[2 * SECTOR : 2 * SECTOR + 48] = b"\x01" * 32 + struct.pack("<QQ", 100, 50)
    with pytest.raises(PartitionTableError, match="GPT entry 1 ends before it starts"):
        read_table(bytes(disk), lambda n, off: bytes(disk[off : off + n]))


def test_extended_chain_of_many_ebrs_is_bounded() -> None:
    """Each EBR points to the next one: the chain is cut at MAX_LOGICAL partitions."""
    disk = bytearray(2000 * SECTOR)
    disk[:SECTOR] = _mbr([(0x05, 1, 1999)])
    for k in range(1, 1999):
        disk[k * SECTOR : (k + 1) * SECTOR] = _mbr([(0x83, 0, 1), (0x05, k, 1)])
    reads = 0

    def read(n: int, off: int) -> bytes:
        nonlocal reads
        reads += 1
        return bytes(disk[off : off + n])

    table = read_table(bytes(disk[: 64 * 1024]), read)
    assert table is not None and len(table.parts) == 1 + 256 and reads == 256


def test_windows_numbers_of_thousands_of_digits() -> None:
    assert list(version_parts("9" * 5000)) == []
    assert list(version_parts("6." + "1" * 5000)) == []
    assert list(decimal("7" * 5000)) == []
    assert list(version_parts("\u0661\u0662.3")) == []  # Arabic-Indic digits are not ASCII
    assert list(version_parts("10.0")) == [(10, 0)]
    assert list(decimal(" 7601 ")) == [(7601,)]
