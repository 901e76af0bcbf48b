"""Decoders of the SAM hive's binary values (the local accounts of a Windows guest).

The layouts, as documented publicly (e.g. libyal's winreg-kb, "Security Accounts Manager
keys"), all little-endian:

* ``SAM\\Domains\\Account\\Users\\<RID>\\F`` (80 bytes): last logon FILETIME at 8, password
  last set at 24, account expiry at 32, RID (u32) at 48, account flags (u16) at 56 (0x0001:
  disabled, 0x0004: no password required), failed logons (u16) at 64, logons (u16) at 66.
* ``…\\Users\\<RID>\\V``: a table of 12-byte entries (offset u32, length u32, unused u32) from
  byte 0, the data they point to starting at byte 0xCC. Entry 1 is the user name, 2 the full
  name, 3 the comment, 6 the home directory (UTF-16LE, no terminator), 14 the NT password
  hash: a 4-byte header (PEK id u16, revision u16), then 16 bytes (revision 1), or 20 more
  header bytes and the AES-encrypted hash (revision 2). Only whether a hash is there is read.
* ``SAM\\Domains\\Account\\V``: ends with the machine's SID (24 bytes: revision 1, 4 sub-
  authorities, authority 5, sub-authorities 21, a, b, c).

Each value is a guest's: every read is bounds-checked and whatever does not fit the layout
raises :class:`SamError` (the rules' relation is then skipped with a warning), nothing else.
Values come as the hex text of ``RegistryValue`` facts and are at most ``MAX_VALUE`` bytes.
"""

import struct
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from guestinspect.datalog import PyRelation

#: Longest F or V value decoded (a V value is a few hundred bytes; the hive cell limit is 1 MiB).
MAX_VALUE = 64 * 1024
#: Longest string taken from a V value, in bytes.
MAX_STRING = 1024

F_SIZE = 0x44  # up to and with the logon count
V_HEADER = 0xCC
_V_ENTRY = 12
_V_FIELDS = {1: "name", 2: "full_name", 3: "comment", 6: "home"}
_V_NT_HASH = 14
_SID_BYTES = 24

#: Account flags (F at 56) the rules get, by name.
FLAGS = {0x0001: "disabled", 0x0004: "password_not_required"}

_FILETIME_NEVER = 0x7FFFFFFFFFFFFFFF
_EPOCH_1601 = datetime(1601, 1, 1, tzinfo=UTC)


class SamError(ValueError):
    """A SAM value that does not have the documented layout."""


def hex_bytes(hex_text: str, limit: int, error: type[ValueError]) -> bytes:
    """A registry binary value (as the hex text the rules hold) of at most ``limit`` bytes,
    or ``error`` saying why not (the SAM's and the LSA policy's decoders)."""
    if len(hex_text) > 2 * limit:
        raise error(f"value of {len(hex_text) // 2} bytes, more than {limit}")
    try:
        return bytes.fromhex(hex_text)
    except ValueError as e:
        raise error("not a binary value") from e


def _bytes(hex_text: str) -> bytes:
    return hex_bytes(hex_text, MAX_VALUE, SamError)


def filetime_iso(ft: int) -> str | None:
    """A FILETIME (100 ns since 1601, UTC) as ``YYYY-MM-DDTHH:MM:SSZ``; None for 0, "never"
    and values past year 9999."""
    if ft <= 0 or ft >= _FILETIME_NEVER:
        return None
    try:
        when = _EPOCH_1601 + timedelta(microseconds=ft // 10)
    except OverflowError:
        return None
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def user_f(hex_text: str) -> dict[str, str]:
    """The fields of a user's F value: ``rid``, ``logon_count``, a ``True``/``False`` text
    per flag of :data:`FLAGS`, and ``last_login`` / ``password_last_set`` when set."""
    data = _bytes(hex_text)
    if len(data) < F_SIZE:
        raise SamError(f"F value of {len(data)} bytes, less than {F_SIZE}")
    last_logon, = struct.unpack_from("<Q", data, 8)
    pwd_set, = struct.unpack_from("<Q", data, 24)
    rid, = struct.unpack_from("<I", data, 48)
    flags, = struct.unpack_from("<H", data, 56)
    logons, = struct.unpack_from("<H", data, 66)
    out = {"rid": str(rid), "logon_count": str(logons)}
    for bit, name in FLAGS.items():
        out[name] = "true" if flags & bit else "false"
    for name, ft in (("last_login", last_logon), ("password_last_set", pwd_set)):
        if (iso := filetime_iso(ft)) is not None:
            out[name] = iso
    return out


def _entry(data: bytes, index: int) -> bytes:
    """The data of entry ``index`` of a V value's table."""
    offset, length = struct.unpack_from("<II", data, index * _V_ENTRY)
    start = V_HEADER + offset
    if length > len(data) or start + length > len(data):
        raise SamError(f"entry {index} ({length} bytes at {start}) past the end of the value")
    return data[start : start + length]


def user_v(hex_text: str) -> dict[str, str]:
    """The fields of a user's V value: ``name`` (required), ``full_name``, ``comment``,
    ``home`` when not empty, and ``nt_hash``: ``present`` or ``absent``."""
    data = _bytes(hex_text)
    if len(data) < V_HEADER:
        raise SamError(f"V value of {len(data)} bytes, less than its {V_HEADER}-byte header")
    out: dict[str, str] = {}
    for index, name in _V_FIELDS.items():
        raw = _entry(data, index)
        if len(raw) > MAX_STRING or len(raw) % 2:
            raise SamError(f"{name}: a string of {len(raw)} bytes")
        text = raw.decode("utf-16-le", "replace")
        if text:
            out[name] = text
    if "name" not in out:
        raise SamError("no user name")
    nt_hash = _entry(data, _V_NT_HASH)
    revision = struct.unpack_from("<H", nt_hash, 2)[0] if len(nt_hash) >= 4 else 0
    header = 24 if revision == 2 else 4
    out["nt_hash"] = "present" if len(nt_hash) >= header + 16 else "absent"
    return out


def domain_sid(hex_text: str) -> str:
    """The machine SID at the end of ``SAM\\Domains\\Account``'s V value."""
    data = _bytes(hex_text)
    if len(data) < _SID_BYTES:
        raise SamError(f"V value of {len(data)} bytes: no SID at its end")
    sid = data[-_SID_BYTES:]
    revision, count = sid[0], sid[1]
    authority = int.from_bytes(sid[2:8], "big")
    subs = struct.unpack_from("<4I", sid, 8)
    if revision != 1 or count != 4 or authority != 5 or subs[0] != 21:
        raise SamError("no machine SID (S-1-5-21-…) at the end of the value")
    return "S-1-5-" + "-".join(str(s) for s in subs)


def _pairs(decode: Callable[[str], dict[str, str]]) -> Callable[[str], Iterator[tuple[str, str]]]:
    def relation(hex_text: str) -> Iterator[tuple[str, str]]:
        yield from decode(hex_text).items()

    return relation


def _domain_sid(hex_text: str) -> Iterator[tuple[str]]:
    yield (domain_sid(hex_text),)


FUNCTORS: dict[str, Callable[..., Any]] = {}
RELATIONS: dict[str, PyRelation] = {
    "SamUserF": PyRelation(_pairs(user_f), "bff"),
    "SamUserV": PyRelation(_pairs(user_v), "bff"),
    "SamDomainSid": PyRelation(_domain_sid, "bf"),
}
