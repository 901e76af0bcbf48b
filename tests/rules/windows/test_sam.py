"""The SAM value decoders (guestinspect/functors/sam.py) on values built from the documented
layout, and on hostile ones: every malformed value is a SamError, never another error."""

from __future__ import annotations

import struct
from datetime import UTC, datetime

import pytest

from guestinspect.functors import sam
from tests.rules.windows import samdata

WHEN = datetime(2024, 3, 5, 9, 41, 7, tzinfo=UTC)


def test_user_f() -> None:
    f = samdata.user_f(1001, samdata.NORMAL_ACCOUNT | samdata.DISABLED, WHEN, None, 42)
    assert sam.user_f(f.hex()) == {"rid": "1001", "logon_count": "42", "disabled": "true",
                                   "password_not_required": "false",
                                   "last_login": "2024-03-05T09:41:07Z"}


def test_user_v_and_password_hash_forms() -> None:
    v = samdata.user_v("alice", "Alice Liddell", "", "H:\\", password="aes")
    assert sam.user_v(v.hex()) == {"name": "alice", "full_name": "Alice Liddell",
                                   "home": "H:\\", "nt_hash": "present"}
    for kind, found in (("aes-empty", "absent"), ("rc4", "present"), ("rc4-empty", "absent")):
        assert sam.user_v(samdata.user_v("x", password=kind).hex())["nt_hash"] == found


def test_domain_sid() -> None:
    assert sam.domain_sid(samdata.account_v().hex()) == samdata.MACHINE_SID


def test_filetime() -> None:
    assert sam.filetime_iso(samdata.filetime(WHEN)) == "2024-03-05T09:41:07Z"
    assert sam.filetime_iso(0) is None
    assert sam.filetime_iso(0x7FFFFFFFFFFFFFFF) is None
    assert sam.filetime_iso(0x7FFFFFFFFFFFFFFE) is None  # past year 9999


def _v_with_entry(index: int, offset: int, length: int) -> bytes:
    v = bytearray(samdata.user_v("alice"))
    struct.pack_into("<II", v, index * 12, offset, length)
    return bytes(v)


@pytest.mark.parametrize(("value", "message"), [
    (b"", "F value of 0 bytes"),
    (bytes(0x43), "F value of 67 bytes"),
], ids=["empty", "one-short"])
def test_hostile_f(value: bytes, message: str) -> None:
    with pytest.raises(sam.SamError, match=message):
        sam.user_f(value.hex())


@pytest.mark.parametrize(("value", "message"), [
    (bytes(0xCB), "less than its 204-byte header"),
    (_v_with_entry(1, 0xFFFFFFF0, 0x20), "entry 1 .* past the end"),
    (_v_with_entry(2, 0, 0xFFFFFFFF), "entry 2 .* past the end"),
    (_v_with_entry(14, 0x7FFFFFFF, 4), "entry 14 .* past the end"),
    (_v_with_entry(1, 0, 3), "name: a string of 3 bytes"),
    (_v_with_entry(1, 0, 0), "no user name"),
    (bytes(0xCC) + b"\0" * 4096, "no user name"),
], ids=["short", "offset", "length", "hash-offset", "odd", "empty-name", "zeros"])
def test_hostile_v(value: bytes, message: str) -> None:
    with pytest.raises(sam.SamError, match=message):
        sam.user_v(value.hex())


@pytest.mark.parametrize("value", [
    b"", b"\x01" * 23, bytes(64),
    bytes(0x60) + b"\x02" + samdata.sid_bytes(samdata.MACHINE_SID)[1:],  # revision 2
    samdata.sid_bytes("S-1-5-32-544") + bytes(8),
], ids=["empty", "short", "zeros", "revision", "builtin"])
def test_hostile_sid(value: bytes) -> None:
    with pytest.raises(sam.SamError):
        sam.domain_sid(value.hex())


def test_not_hex_and_too_big() -> None:
    with pytest.raises(sam.SamError, match="not a binary value"):
        sam.user_f("zz")
    with pytest.raises(sam.SamError, match="more than 65536"):
        sam.user_v("00" * (sam.MAX_VALUE + 1))
