"""SAM values built from their documented layout (guestinspect/functors/sam.py says where each
field is), for hives the tests make with hivexregedit: no real SAM hive is in the test data.

A user's F value is 80 bytes; its V value a 0xCC-byte table of (offset, length, 0) entries
followed by the data (UTF-16LE strings, 4-byte aligned) and the password hash entries, as
Windows writes them: an NT hash entry of 24 bytes (AES header and salt, no hash: an empty
password) or 56 (with the AES-encrypted hash), or 4 / 20 in the older RC4 form.
"""

from __future__ import annotations

import struct
from datetime import UTC, datetime

V_ENTRIES = 17
MACHINE_SID = "S-1-5-21-2427235442-1848113437-3035442112"
DISABLED, PASSWORD_NOT_REQUIRED, NORMAL_ACCOUNT, DONT_EXPIRE = 0x0001, 0x0004, 0x0010, 0x0200


def filetime(when: datetime | None) -> int:
    """A FILETIME (100 ns since 1601-01-01 UTC); 0 for None."""
    if when is None:
        return 0
    delta = when - datetime(1601, 1, 1, tzinfo=UTC)
    return (delta.days * 86400 + delta.seconds) * 10_000_000 + delta.microseconds * 10


def user_f(rid: int, flags: int, last_logon: datetime | None = None,
           password_set: datetime | None = None, logons: int = 0) -> bytes:
    f = bytearray(80)
    struct.pack_into("<HH", f, 0, 2, 1)  # format version
    struct.pack_into("<Q", f, 8, filetime(last_logon))
    struct.pack_into("<Q", f, 24, filetime(password_set))
    struct.pack_into("<Q", f, 32, 0x7FFFFFFFFFFFFFFF)  # account never expires
    struct.pack_into("<I", f, 48, rid)
    struct.pack_into("<I", f, 52, 0x201)  # primary group: Domain Users
    struct.pack_into("<H", f, 56, flags)
    struct.pack_into("<H", f, 66, logons)
    return bytes(f)


def nt_hash(kind: str) -> bytes:
    """The NT hash entry: ``aes`` / ``aes-empty`` (Windows 10 1607 on), ``rc4`` / ``rc4-empty``."""
    if kind.startswith("aes"):
        head = struct.pack("<HHI", 1, 2, 0x10) + bytes(range(16))  # PEK id, revision, salt
        return head if kind == "aes-empty" else head + bytes(range(0x40, 0x60))
    head = struct.pack("<HH", 1, 1)
    return head if kind == "rc4-empty" else head + bytes(range(0x80, 0x90))


def user_v(name: str, full_name: str = "", comment: str = "", home: str = "",
           password: str = "aes") -> bytes:
    """A V value: entry 0 the account type, 1 name, 2 full name, 3 comment, 6 home
    directory, 13 the LM hash (4-byte header only), 14 the NT hash; the others empty."""
    fields: dict[int, bytes] = {
        1: name.encode("utf-16-le"), 2: full_name.encode("utf-16-le"),
        3: comment.encode("utf-16-le"), 6: home.encode("utf-16-le"),
        11: b"\xff" * 21 + b"\0" * 3,  # logon hours: any time
        13: struct.pack("<HH", 1, 2), 14: nt_hash(password),
    }
    table = bytearray(V_ENTRIES * 12)
    struct.pack_into("<III", table, 0, 0, 0xBC, 0)  # the type entry: a user account
    data = bytearray()
    for i in range(1, V_ENTRIES):
        raw = fields.get(i, b"")
        struct.pack_into("<III", table, i * 12, len(data), len(raw), 0)
        data += raw + b"\0" * (-len(raw) % 4)
    assert len(table) == 0xCC
    return bytes(table + data)


def sid_bytes(sid: str) -> bytes:
    """A binary SID (S-1-5-21-a-b-c)."""
    parts = [int(p) for p in sid.split("-")[1:]]
    revision, authority, subs = parts[0], parts[1], parts[2:]
    return (bytes([revision, len(subs)]) + authority.to_bytes(6, "big")
            + b"".join(struct.pack("<I", s) for s in subs))


def account_v(sid: str = MACHINE_SID) -> bytes:
    """SAM\\Domains\\Account's V value: a security descriptor's worth of bytes, then the SID."""
    return bytes(range(0x60)) * 2 + sid_bytes(sid)


def rid_key(rid: int) -> str:
    return f"{rid:08X}"
