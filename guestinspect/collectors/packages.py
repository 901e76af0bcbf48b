"""Package databases as records of fields: pure functions over bytes (docs/facts.md).

A record is a dict ``field -> value``; :func:`records_to_facts` makes PackageField facts of
them, ``pkg`` being the record's ordinal.

Every reader takes bytes from a guest nobody vouches for: each format has one error type
(a :class:`PackageDbError`), raised for any damage and carrying the records read before or
besides it; reads are bounds-checked and the work is linear in the input's size
(docs/security.md, "Parsers of guest bytes").
"""

import io
import sqlite3
import struct
import tarfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from guestinspect.collectors.factset import FactSet
from guestinspect.errors import ParseError

Record = dict[str, str]

#: A package database (a file, or pacman's whole ``local`` directory) is read up to this many
#: bytes; past it the collector reports PackageDbError and what it could read.
DB_LIMIT = 256 * 1024 * 1024
#: Seconds an rpmdb.sqlite query may run (sqlite's progress handler interrupts it after).
SQLITE_SECONDS = 10.0
#: Index entries of one rpm header at most (rpm's own HEADER_TAGS_MAX).
RPM_MAX_TAGS = 0xFFFF
#: A string field of an rpm header is looked for a terminating NUL this far at most.
RPM_MAX_STRING = 1024 * 1024


class PackageDbError(ParseError):
    """A package database that cannot be read whole. ``records`` are those that could be read
    (before the damage, or besides the damaged ones)."""

    def __init__(self, message: str, records: Iterable[Record] = ()) -> None:
        super().__init__(message)
        self.records = list(records)


class DpkgError(PackageDbError):
    """/var/lib/dpkg/status cannot be read whole."""


class ApkError(PackageDbError):
    """/lib/apk/db/installed cannot be read whole."""


class PacmanError(PackageDbError):
    """A pacman ``desc`` file or the ``local`` directory cannot be read whole."""


class RpmHeaderError(PackageDbError):
    """An rpm header blob is damaged."""


class RpmSqliteError(PackageDbError):
    """rpmdb.sqlite is not a readable rpm database, or has damaged rows."""


class BdbError(PackageDbError):
    """A Berkeley DB ``Packages`` file is not one, or is damaged."""


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def _lines(data: bytes) -> Iterator[str]:
    """The lines of ``data`` one at a time (no copy of the whole file as text)."""
    for raw in io.BytesIO(data):
        yield _text(raw).rstrip("\n").rstrip("\r")


def records_to_facts(fs: str, kind: str, records: Iterable[Record]) -> FactSet:
    """PackageField(fs, kind, pkg, field, value) for every field of every record."""
    tuples: set[tuple[str | int, ...]] = set()
    for n, record in enumerate(records):
        for name, value in record.items():
            tuples.add((fs, kind, str(n), name, value))
    return {"PackageField": tuples}


def _truncated(error: type[PackageDbError], records: list[Record], size: int) -> None:
    """The records of the first DB_LIMIT bytes of a ``size``-byte text database: the last
    one may be cut, it is dropped."""
    kept = records[:-1]
    raise error(f"larger than {DB_LIMIT} bytes ({size}): read the first {len(kept)} records "
                "only", kept)


# ---- dpkg: /var/lib/dpkg/status ----


def parse_dpkg_status(data: bytes, size: int | None = None) -> list[Record]:
    """Records split on blank lines; ``Key: value`` fields; continuation lines (starting with
    a space or tab) are appended verbatim after a newline. Linear in ``len(data)``.

    ``size`` is the file's size when ``data`` is only its start: DpkgError then carries every
    record but the last (it may be cut)."""
    records: list[Record] = []
    record: dict[str, list[str]] = {}
    last: list[str] | None = None

    def flush() -> None:
        if record:
            records.append({k: "\n".join(v) for k, v in record.items()})

    for line in _lines(data):
        if not line.strip():
            flush()
            record, last = {}, None
        elif line[0] in " \t":
            if last is not None:
                last.append(line)
        elif ":" in line:
            key, _, value = line.partition(":")
            last = record[key.strip().lower()] = [value.strip()]
    flush()
    if size is not None and size > len(data):
        _truncated(DpkgError, records, size)
    return records


# ---- pacman: /var/lib/pacman/local/*/desc ----


def parse_pacman_desc(data: bytes) -> Record:
    """``%NAME%`` sections; a section's lines are joined by newlines."""
    record: Record = {}
    section: str | None = None
    lines: list[str] = []

    def flush() -> None:
        if section is not None:
            record[section] = "\n".join(lines)

    for line in _lines(data):
        if len(line) > 2 and line.startswith("%") and line.endswith("%"):
            flush()
            section, lines = line[1:-1].lower(), []
        elif not line:
            flush()
            section, lines = None, []
        elif section is not None:
            lines.append(line)
    flush()
    return record


def read_pacman_tar(tar: Path, complete: bool = True) -> list[Record]:
    """The records of the ``*/desc`` files of a tar of pacman's ``local`` directory, in the
    order of their paths. ``complete`` is False when the tar was cut at DB_LIMIT bytes: the
    descs before the cut are read, then PacmanError carries them. A tar that cannot be read
    is a PacmanError too (with the records before the damage)."""
    descs: list[tuple[str, bytes]] = []
    damage = "" if complete else f"larger than {DB_LIMIT} bytes: read the first descs only"
    try:
        with tarfile.open(tar) as tf:
            for member in tf:
                if not (member.isfile() and member.name.endswith("/desc")):
                    continue
                f = tf.extractfile(member)
                if f is not None:
                    descs.append((member.name, f.read(DB_LIMIT)))
    except (tarfile.TarError, OSError, EOFError, ValueError) as e:
        if complete:
            damage = f"cannot read the tar of the local directory: {e}"
    records = [parse_pacman_desc(data) for _, data in sorted(descs)]
    if damage:
        raise PacmanError(damage, records)
    return records


# ---- apk: /lib/apk/db/installed ----

APK_FIELDS = {
    "P": "name",
    "V": "version",
    "A": "arch",
    "U": "url",
    "T": "summary",
    "o": "origin",
    "L": "license",
    "m": "maintainer",
    "t": "build_time",
}


def parse_apk_installed(data: bytes, size: int | None = None) -> list[Record]:
    """Records split on blank lines, ``X:value`` lines; only the letters of APK_FIELDS are
    kept (file lists and checksums are not). ``size`` as for :func:`parse_dpkg_status`."""
    records: list[Record] = []
    record: Record = {}
    for line in _lines(data):
        if not line:
            if record:
                records.append(record)
            record = {}
        elif len(line) >= 2 and line[1] == ":" and line[0] in APK_FIELDS:
            record.setdefault(APK_FIELDS[line[0]], line[2:])
    if record:
        records.append(record)
    if size is not None and size > len(data):
        _truncated(ApkError, records, size)
    return records


# ---- rpm: header blobs ----

RPM_TAGS = {
    1000: "name",
    1001: "version",
    1002: "release",
    1003: "epoch",
    1004: "summary",
    1005: "description",
    1020: "url",
    1022: "arch",
    1044: "sourcerpm",
}
_RPM_INT32, _RPM_STRING, _RPM_STRING_ARRAY, _RPM_I18NSTRING = 4, 6, 8, 9
_RPM_STRINGS = (_RPM_STRING, _RPM_STRING_ARRAY, _RPM_I18NSTRING)
_RPM_MAGIC = b"\x8e\xad\xe8"


def parse_rpm_header(blob: bytes) -> Record:
    """The fields of RPM_TAGS from a header blob (as stored in rpmdb: no magic; big-endian
    index count and data length, 16-byte index entries, then the data store).

    Each wanted tag is decoded once (its first entry), a string looked for its NUL at most
    RPM_MAX_STRING bytes far: the cost is linear in the blob's size. Raises RpmHeaderError if
    the blob is not a header or an entry points outside it."""
    if blob[:3] == _RPM_MAGIC:  # a header with its magic (rpm files, some databases)
        blob = blob[8:]
    if len(blob) < 8:
        raise RpmHeaderError(f"rpm header of {len(blob)} bytes")
    il, dl = struct.unpack_from(">II", blob)
    store = 8 + 16 * il
    if il > RPM_MAX_TAGS or store + dl > len(blob):
        raise RpmHeaderError(f"not an rpm header ({il} entries, {dl} data bytes in a "
                             f"{len(blob)}-byte blob)")
    data = memoryview(blob)[store : store + dl]
    record: Record = {}
    for tag, typ, offset, count in struct.iter_unpack(">IIII", blob[8:store]):
        name = RPM_TAGS.get(tag)
        if name is None or name in record:
            continue
        if offset >= dl:
            raise RpmHeaderError(f"rpm tag {tag} at {offset}, outside the {dl}-byte data")
        if typ == _RPM_INT32 and count >= 1:
            if offset + 4 > dl:
                raise RpmHeaderError(f"rpm tag {tag}: truncated integer")
            record[name] = str(int.from_bytes(data[offset : offset + 4], "big"))
        elif typ in _RPM_STRINGS:
            window = bytes(data[offset : offset + RPM_MAX_STRING])
            end = window.find(b"\x00")
            if end < 0:
                raise RpmHeaderError(f"rpm tag {tag}: string without its NUL")
            record[name] = _text(window[:end])
    return record


class _Headers:
    """Records of header blobs; a damaged blob is left out and remembered."""

    def __init__(self) -> None:
        self.records: list[Record] = []
        self.damaged: list[str] = []

    def add(self, where: str, blob: bytes | str) -> None:
        """One blob, or (a str) why there is none. Headers without a name are not packages."""
        if isinstance(blob, str):
            self.damaged.append(f"{where}: {blob}")
            return
        try:
            record = parse_rpm_header(blob)
        except RpmHeaderError as e:
            self.damaged.append(f"{where}: {e}")
            return
        if "name" in record:
            self.records.append(record)

    def done(self, error: type[PackageDbError], *damage: str) -> list[Record]:
        """The records, or ``error`` with them if anything was damaged."""
        damaged = [*damage, *self.damaged]
        if damaged:
            raise error(f"{len(damaged)} damaged part(s), first {damaged[0]}", self.records)
        return self.records


# ---- rpm: rpmdb.sqlite ----


def read_rpm_sqlite(path: Path, seconds: float = SQLITE_SECONDS) -> list[Record]:
    """Every header of the ``Packages`` table of an rpmdb.sqlite (a local copy).

    The file is opened read-only and immutable (no journal replayed, no file made, no lock;
    with a ``-wal`` beside it, read-only only, so that the WAL's pages are read), with
    ``trusted_schema`` off, and the query is interrupted after ``seconds``. A value that is
    not a blob, or is larger than DB_LIMIT, is a damaged header. Raises RpmSqliteError, with
    the records read, for anything else than a good database."""
    wal = path.with_name(path.name + "-wal").exists()
    uri = path.resolve().as_uri() + ("?mode=ro" if wal else "?mode=ro&immutable=1")
    deadline = time.monotonic() + seconds
    headers = _Headers()
    try:
        con = sqlite3.connect(uri, uri=True, timeout=0)
    except (sqlite3.Error, ValueError) as e:
        raise RpmSqliteError(f"cannot open rpmdb.sqlite: {e}") from None
    try:
        con.set_progress_handler(lambda: int(time.monotonic() > deadline), 1000)
        con.text_factory = bytes
        con.execute("PRAGMA trusted_schema = OFF")
        con.execute("PRAGMA query_only = ON")
        cursor = con.execute(
            "SELECT hnum, typeof(blob), length(blob), "
            "CASE WHEN typeof(blob) = 'blob' AND length(blob) <= ? THEN blob END "
            "FROM Packages ORDER BY hnum", (DB_LIMIT,))
        for hnum, kind, length, blob in cursor:
            where = f"hnum {str(hnum)[:20]}" if isinstance(hnum, int) else "a row"
            if kind != b"blob":
                headers.add(where, f"{_text(bytes(kind))} instead of a header")
            elif not isinstance(blob, bytes):
                headers.add(where, f"blob of {length} bytes")
            else:
                headers.add(where, blob)
    except (sqlite3.Error, ValueError) as e:  # ValueError: an error message not in UTF-8
        why = f"took longer than {seconds:g} s" if time.monotonic() > deadline else (
            str(e) if isinstance(e, sqlite3.Error) else "damaged database (text not UTF-8)")
        raise RpmSqliteError(f"rpmdb.sqlite: {why}", headers.records) from None
    finally:
        con.close()
    return headers.done(RpmSqliteError)


# ---- rpm: Berkeley DB "Packages" (hash or btree) ----

_DB_HASH_MAGIC, _DB_BTREE_MAGIC = 0x061561, 0x053162
_P_HASH_UNSORTED, _P_LBTREE, _P_OVERFLOW, _P_HASH = 2, 5, 7, 13
_H_KEYDATA, _H_OFFPAGE = 1, 3
_B_KEYDATA, _B_OVERFLOW = 1, 3
#: The page header of every page type read here.
_PAGE_HEADER = 26


def read_rpm_bdb(data: bytes) -> list[Record]:
    """Every header stored in a Berkeley DB ``Packages`` file (hash or btree access method).

    Every page and item is bounds-checked; an overflow page serves one item at most (a chain
    shared by several items, or looping, ends there), so the work is linear in the file's
    size. Raises BdbError if it is not a Berkeley DB file, or, with every header that could be
    read, if pages or items are damaged."""
    if len(data) < 512:
        raise BdbError("not a Berkeley DB file")
    for endian in ("<", ">"):
        magic, _version, pagesize = struct.unpack_from(endian + "III", data, 12)
        if magic in (_DB_HASH_MAGIC, _DB_BTREE_MAGIC):
            break
    else:
        raise BdbError("not a Berkeley DB file")
    if pagesize < 512 or pagesize > 65536 or pagesize & (pagesize - 1):
        raise BdbError(f"bad Berkeley DB page size {pagesize}")
    reader = _Bdb(data, endian, pagesize)
    headers = _Headers()
    for where, blob in reader.values():
        headers.add(where, blob)
    return headers.done(BdbError, *reader.damage)


class _Bdb:
    def __init__(self, data: bytes, endian: str, pagesize: int) -> None:
        self.data = memoryview(data)
        self.endian = endian
        self.pagesize = pagesize
        self.pages = len(data) // pagesize
        self.used_overflow: set[int] = set()
        self.damage: list[str] = []

    def page(self, pgno: int) -> memoryview:
        return self.data[pgno * self.pagesize : (pgno + 1) * self.pagesize]

    def overflow(self, pgno: int, total: int) -> bytes | None:
        """The ``total`` bytes of the overflow chain from ``pgno``; None (and a damage noted)
        if the chain is cut, loops, or crosses a page another item used."""
        out = bytearray()
        first = pgno
        while len(out) < total:
            if not 0 < pgno < self.pages or pgno in self.used_overflow:
                why = "used twice" if pgno in self.used_overflow else "outside the file"
                self.damage.append(f"overflow chain from page {first}: page {pgno} {why}")
                return None
            self.used_overflow.add(pgno)
            page = self.page(pgno)
            next_pgno, used = struct.unpack_from(self.endian + "IxxH", page, 16)
            if page[25] != _P_OVERFLOW or used > self.pagesize - _PAGE_HEADER:
                self.damage.append(f"overflow chain from page {first}: bad page {pgno}")
                return None
            out += page[_PAGE_HEADER : _PAGE_HEADER + used]
            if next_pgno == 0:
                break
            pgno = next_pgno
        if len(out) < total:
            self.damage.append(f"overflow chain from page {first}: {len(out)} of {total} bytes")
            return None
        return bytes(out[:total])

    def values(self) -> Iterator[tuple[str, bytes]]:
        """(where, header blob) of every data item of every hash or leaf page."""
        for pgno in range(1, self.pages):
            page = self.page(pgno)
            ptype = page[25]
            if ptype not in (_P_HASH, _P_HASH_UNSORTED, _P_LBTREE):
                continue
            (entries,) = struct.unpack_from(self.endian + "H", page, 20)
            top = _PAGE_HEADER + 2 * entries
            if top > self.pagesize:
                self.damage.append(f"page {pgno}: {entries} entries do not fit")
                continue
            offsets = struct.unpack_from(self.endian + f"{entries}H", page, _PAGE_HEADER)
            for i in range(1, entries, 2):  # items alternate key, data
                item = self._item(page, ptype, offsets, i, top)
                if item is None:
                    self.damage.append(f"page {pgno}: item {i} is damaged")
                elif item:
                    yield f"page {pgno} item {i}", item

    def _item(self, page: memoryview, ptype: int, offsets: tuple[int, ...], i: int,
              top: int) -> bytes | None:
        """The data item ``i`` of a page; b"" for items that hold no header (deleted,
        duplicates), None for a damaged one."""
        off, size = offsets[i], self.pagesize
        if not top <= off < size:
            return None
        itype = page[off + 2] if ptype == _P_LBTREE and off + 3 <= size else page[off]
        if ptype == _P_LBTREE:
            if off + 3 > size:
                return None
            (length,) = struct.unpack_from(self.endian + "H", page, off)
            if itype & 0x7F == _B_KEYDATA:
                return bytes(page[off + 3 : off + 3 + length]) if off + 3 + length <= size \
                    else None
            if itype & 0x7F != _B_OVERFLOW:
                return b""
        elif itype == _H_KEYDATA:
            end = offsets[i - 1]
            return bytes(page[off + 1 : end]) if off < end <= size else None
        elif itype != _H_OFFPAGE:
            return b""
        if off + 12 > size:
            return None
        opg, tlen = struct.unpack_from(self.endian + "II", page, off + 4)
        if tlen > len(self.data):
            return None
        return self.overflow(opg, tlen)
