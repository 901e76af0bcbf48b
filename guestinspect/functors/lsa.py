"""Decoders of the SECURITY hive's LSA policy values (the domain or workgroup of a Windows
guest).

The layouts, as documented publicly (ReactOS's LSA server, regipy's ``domain_sid`` plugin,
Microsoft's MS-DTYP for SIDs), all little-endian:

* ``SECURITY\\Policy\\PolPrDmN`` (default value, REG_NONE): the primary domain's NetBIOS
  name, or the workgroup's, as a self-relative UNICODE_STRING: length in bytes (u16),
  maximum length (u16), the offset of the characters from the start of the value (u32,
  8 on the versions seen), then the UTF-16LE characters (a NUL may follow them).
* ``SECURITY\\Policy\\PolPrDmS`` (default value): the primary domain's SID when the machine
  is a domain member, empty otherwise: revision (u8, 1), number of sub-authorities (u8, at
  most 15), the identifier authority (6 bytes, big-endian), then the sub-authorities (u32).

Each value is a guest's: every read is bounds-checked and whatever does not fit the layout
raises :class:`LsaError` (the rules' relation is then skipped with a warning), nothing else.
Values come as the hex text of ``RegistryValue`` facts and are at most ``MAX_VALUE`` bytes.
"""

import struct
from collections.abc import Callable, Iterator
from typing import Any

from guestinspect.datalog import PyRelation
from guestinspect.functors.sam import hex_bytes

#: Longest value decoded (a name is at most a few hundred bytes).
MAX_VALUE = 4096
#: Longest name taken, in bytes (a DNS name has at most 255 characters).
MAX_NAME = 512
_HEADER = 8
_MAX_SUBAUTHORITIES = 15


class LsaError(ValueError):
    """An LSA policy value that does not have the documented layout."""


def _bytes(hex_text: str) -> bytes:
    return hex_bytes(hex_text, MAX_VALUE, LsaError)


def policy_name(hex_text: str) -> str:
    """The name held by a self-relative UNICODE_STRING value (PolPrDmN): may be empty."""
    data = _bytes(hex_text)
    if len(data) < _HEADER:
        raise LsaError(f"value of {len(data)} bytes, less than its {_HEADER}-byte header")
    length, maximum, offset = struct.unpack_from("<HHI", data, 0)
    if length % 2 or length > maximum:
        raise LsaError(f"a name of {length} bytes (at most {maximum})")
    if length > MAX_NAME:
        raise LsaError(f"a name of {length} bytes, more than {MAX_NAME}")
    if offset < _HEADER or offset + length > len(data):
        raise LsaError(f"the name ({length} bytes at {offset}) is not within the "
                       f"{len(data)}-byte value")
    name = data[offset : offset + length].decode("utf-16-le", "replace")
    return name.rstrip("\x00")


def sid_text(hex_text: str) -> str:
    """A binary SID (PolPrDmS) as text: ``S-1-5-21-a-b-c``."""
    data = _bytes(hex_text)
    if len(data) < _HEADER:
        raise LsaError(f"SID of {len(data)} bytes, less than {_HEADER}")
    revision, count = data[0], data[1]
    if revision != 1:
        raise LsaError(f"SID revision {revision}, not 1")
    if count > _MAX_SUBAUTHORITIES or len(data) != _HEADER + 4 * count:
        raise LsaError(f"SID of {len(data)} bytes with {count} sub-authorities")
    authority = int.from_bytes(data[2:8], "big")
    subs = struct.unpack_from(f"<{count}I", data, _HEADER)
    return "-".join(["S-1", str(authority), *(str(s) for s in subs)])


def _one(decode: Callable[[str], str]) -> Callable[[str], Iterator[tuple[str]]]:
    def relation(hex_text: str) -> Iterator[tuple[str]]:
        yield (decode(hex_text),)

    return relation


FUNCTORS: dict[str, Callable[..., Any]] = {}
RELATIONS: dict[str, PyRelation] = {
    "LsaPolicyName": PyRelation(_one(policy_name), "bf"),
    "LsaSid": PyRelation(_one(sid_text), "bf"),
}
