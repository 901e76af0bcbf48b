"""LSA policy values of a SECURITY hive built from the documented layout (functors/lsa.py's
docstring): PolPrDmN as a self-relative UNICODE_STRING, PolPrDmS as a binary SID."""

from __future__ import annotations

import struct

from tests.rules.windows.samdata import sid_bytes

__all__ = ["DOMAIN_SID", "policy_name", "sid_bytes"]

#: A domain's SID (S-1-5-21 and three random sub-authorities, as Windows makes them).
DOMAIN_SID = "S-1-5-21-3623811015-3361044348-30300820"


def policy_name(name: str, terminated: bool = True) -> bytes:
    """PolPrDmN's value for ``name``: length, maximum length (with the NUL), offset 8, then
    the UTF-16LE name and (as Windows writes it) its NUL."""
    text = name.encode("utf-16-le")
    return struct.pack("<HHI", len(text), len(text) + 2, 8) + text + (
        b"\0\0" if terminated else b"")
