"""Package databases as records of fields: pure functions over bytes (docs/facts.md).

A record is a dict ``field -> value``; :func:`records_to_facts` makes PackageField facts of
them, ``pkg`` being the record's ordinal.
"""

import sqlite3
import struct
from collections.abc import Iterable, Iterator
from pathlib import Path

from guestinspect.collectors.base import FactSet

Record = dict[str, str]


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def records_to_facts(fs: str, kind: str, records: Iterable[Record]) -> FactSet:
    """PackageField(fs, kind, pkg, field, value) for every field of every record."""
    tuples: set[tuple[str | int, ...]] = set()
    for n, record in enumerate(records):
        for name, value in record.items():
            tuples.add((fs, kind, str(n), name, value))
    return {"PackageField": tuples}


# ---- dpkg: /var/lib/dpkg/status ----


def parse_dpkg_status(data: bytes) -> list[Record]:
    """Records split on blank lines; ``Key: value`` fields; continuation lines (starting with
    a space or tab) are appended verbatim after a newline."""
    records: list[Record] = []
    record: Record = {}
    last: str | None = None
    for line in _text(data).split("\n"):
        line = line.rstrip("\r")
        if not line.strip():
            if record:
                records.append(record)
            record, last = {}, None
        elif line[0] in " \t":
            if last is not None:
                record[last] += "\n" + line
        elif ":" in line:
            key, _, value = line.partition(":")
            last = key.strip().lower()
            record[last] = value.strip()
    if record:
        records.append(record)
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

    for line in _text(data).split("\n"):
        line = line.rstrip("\r")
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


def parse_apk_installed(data: bytes) -> list[Record]:
    """Records split on blank lines, ``X:value`` lines; only the letters of APK_FIELDS are
    kept (file lists and checksums are not)."""
    records: list[Record] = []
    record: Record = {}
    for line in _text(data).split("\n"):
        line = line.rstrip("\r")
        if not line:
            if record:
                records.append(record)
            record = {}
        elif len(line) >= 2 and line[1] == ":" and line[0] in APK_FIELDS:
            record.setdefault(APK_FIELDS[line[0]], line[2:])
    if record:
        records.append(record)
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


def parse_rpm_header(blob: bytes) -> Record:
    """The fields of RPM_TAGS from a header blob (as stored in rpmdb: no magic; big-endian
    index count and data length, 16-byte index entries, then the data store).
    Raises ValueError if the blob is not a header."""
    if blob[:3] == b"\x8e\xad\xe8":  # a header with its magic (rpm files, some databases)
        blob = blob[8:]
    if len(blob) < 8:
        raise ValueError("rpm header too short")
    il, dl = struct.unpack(">II", blob[:8])
    store = 8 + 16 * il
    if il > 100_000 or store + dl > len(blob):
        raise ValueError("not an rpm header")
    data = blob[store : store + dl]
    record: Record = {}
    for i in range(il):
        tag, typ, offset, count = struct.unpack(">IIII", blob[8 + 16 * i : 24 + 16 * i])
        name = RPM_TAGS.get(tag)
        if name is None or offset >= len(data):
            continue
        if typ == _RPM_INT32 and count >= 1 and offset + 4 <= len(data):
            record[name] = str(struct.unpack(">I", data[offset : offset + 4])[0])
        elif typ in (_RPM_STRING, _RPM_STRING_ARRAY, _RPM_I18NSTRING):
            end = data.find(b"\x00", offset)
            record[name] = _text(data[offset : end if end >= 0 else len(data)])
    return record


def read_rpm_sqlite(path: Path) -> list[Record]:
    """Every header of the ``Packages`` table of an rpmdb.sqlite (a local copy)."""
    con = sqlite3.connect(str(path))
    try:
        rows = con.execute("SELECT blob FROM Packages ORDER BY hnum").fetchall()
    finally:
        con.close()
    return _headers(bytes(r[0]) for r in rows)


def _headers(blobs: Iterable[bytes]) -> list[Record]:
    records = []
    for blob in blobs:
        try:
            record = parse_rpm_header(blob)
        except (ValueError, struct.error):
            continue
        if "name" in record:
            records.append(record)
    return records


# ---- rpm: Berkeley DB "Packages" (hash or btree) ----

_DB_HASH_MAGIC, _DB_BTREE_MAGIC = 0x061561, 0x053162
_P_HASH_UNSORTED, _P_LBTREE, _P_OVERFLOW, _P_HASH = 2, 5, 7, 13
_H_KEYDATA, _H_OFFPAGE = 1, 3
_B_KEYDATA, _B_OVERFLOW = 1, 3


def read_rpm_bdb(data: bytes) -> list[Record]:
    """Every header stored in a Berkeley DB ``Packages`` file (hash or btree access method).
    Raises ValueError if it is not a Berkeley DB file."""
    if len(data) < 512:
        raise ValueError("not a Berkeley DB file")
    for endian in ("<", ">"):
        magic, _version, pagesize = struct.unpack(endian + "III", data[12:24])
        if magic in (_DB_HASH_MAGIC, _DB_BTREE_MAGIC):
            break
    else:
        raise ValueError("not a Berkeley DB file")
    if pagesize < 512 or pagesize > 65536:
        raise ValueError("bad Berkeley DB page size")
    return _headers(_bdb_values(data, endian, pagesize))


def _bdb_overflow(data: bytes, endian: str, pagesize: int, pgno: int, total: int) -> bytes:
    out = bytearray()
    seen: set[int] = set()
    while pgno and pgno not in seen and len(out) < total:
        seen.add(pgno)
        page = data[pgno * pagesize : (pgno + 1) * pagesize]
        if len(page) < 26 or page[25] != _P_OVERFLOW:
            break
        next_pgno, used = struct.unpack(endian + "IxxH", page[16:24])
        out += page[26 : 26 + used]
        pgno = next_pgno
    return bytes(out[:total])


def _bdb_values(data: bytes, endian: str, pagesize: int) -> Iterator[bytes]:
    for pgno in range(1, len(data) // pagesize):
        page = data[pgno * pagesize : (pgno + 1) * pagesize]
        ptype = page[25]
        if ptype not in (_P_HASH, _P_HASH_UNSORTED, _P_LBTREE):
            continue
        (entries,) = struct.unpack(endian + "H", page[20:22])
        offsets = struct.unpack(endian + f"{entries}H", page[26 : 26 + 2 * entries])
        for i in range(1, entries, 2):  # items alternate key, data
            off = offsets[i]
            if off + 12 > pagesize and not (ptype != _P_LBTREE and off < pagesize):
                continue
            if ptype == _P_LBTREE:
                length, itype = struct.unpack(endian + "HB", page[off : off + 3])
                if itype & 0x7F == _B_KEYDATA:
                    yield page[off + 3 : off + 3 + length]
                elif itype & 0x7F == _B_OVERFLOW:
                    opg, tlen = struct.unpack(endian + "II", page[off + 4 : off + 12])
                    yield _bdb_overflow(data, endian, pagesize, opg, tlen)
            else:
                itype = page[off]
                if itype == _H_KEYDATA:
                    end = offsets[i - 1] if i > 0 else pagesize
                    yield page[off + 1 : end]
                elif itype == _H_OFFPAGE:
                    opg, tlen = struct.unpack(endian + "II", page[off + 4 : off + 12])
                    yield _bdb_overflow(data, endian, pagesize, opg, tlen)
