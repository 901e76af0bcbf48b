"""Decoders for the Windows rules (rules/windows/): registry blobs, version strings, boot.ini.

They only turn bytes and text into columns; every decision is made by the rules. The text is
a guest's: each decoder yields nothing for what it cannot read and never raises (a number of
more than MAX_DIGITS digits is not one).
"""

import ipaddress
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from guestinspect.datalog import PyRelation
from guestinspect.functors.sam import filetime_iso

#: ``MountedDevices`` data of an MBR volume: 4-byte disk signature + 8-byte LE byte offset.
_MBR_BLOB_BYTES = 12
#: ``MountedDevices`` data of a GPT volume: this prefix, then the 16-byte partition GUID.
_GPT_PREFIX = b"DMIO:ID:"
#: Longest decimal number read (a 64-bit value; Python refuses to convert over 4,300 digits).
MAX_DIGITS = 19


def _bytes(hex_text: str) -> bytes | None:
    try:
        return bytes.fromhex(hex_text)
    except ValueError:
        return None


def mounted_device_mbr(hex_text: str) -> Iterator[tuple[str, int]]:
    """``(disk signature as 8 hex digits in on-disk order, partition start in bytes)``."""
    blob = _bytes(hex_text)
    if blob is not None and len(blob) == _MBR_BLOB_BYTES:
        yield blob[:4].hex(), int.from_bytes(blob[4:], "little")


def guid_from_bytes_le(raw: bytes) -> str:
    """The canonical uppercase text of a GUID stored in Microsoft's mixed-endian layout
    (first three fields little-endian, the last eight bytes in order)."""
    text = (
        raw[3::-1].hex() + "-" + raw[5:3:-1].hex() + "-" + raw[7:5:-1].hex() + "-"
        + raw[8:10].hex() + "-" + raw[10:16].hex()
    )
    return text.upper()


def mounted_device_gpt(hex_text: str) -> Iterator[tuple[str]]:
    """``(partition GUID, canonical uppercase)`` of a ``DMIO:ID:`` blob."""
    blob = _bytes(hex_text)
    if blob is not None and len(blob) >= 24 and blob.startswith(_GPT_PREFIX):
        yield (guid_from_bytes_le(blob[8:24]),)


_MAJOR_MINOR = re.compile(r"\s*([0-9]+)(?:\.([0-9]+))?")


def version_parts(text: str) -> Iterator[tuple[int, int]]:
    """``(major, minor)`` of a ``CurrentVersion`` string: ``6.1`` gives (6, 1), ``5`` (5, 0)."""
    m = _MAJOR_MINOR.match(text)
    if m and len(m.group(1)) <= MAX_DIGITS and len(m.group(2) or "") <= MAX_DIGITS:
        yield int(m.group(1)), int(m.group(2) or 0)


def decimal(text: str) -> Iterator[tuple[int]]:
    """The number a string of decimal digits stands for (nothing for anything else)."""
    stripped = text.strip()
    if stripped.isascii() and stripped.isdigit() and len(stripped) <= MAX_DIGITS:
        yield (int(stripped),)


_BOOT_INI_OS = re.compile(
    r"(?:multi|scsi)\(\d+\)disk\(\d+\)rdisk\(\d+\)partition\(\d+\)([^=]+)=",
    re.IGNORECASE | re.ASCII
)


def boot_ini_systemroots(text: str) -> Iterator[tuple[int, str]]:
    """``(ordinal, path)`` of each entry of boot.ini's ``[operating systems]`` section, the
    path with ``/`` separators (``multi(0)disk(0)rdisk(0)partition(1)\\WINDOWS="..."`` gives
    ``/WINDOWS``)."""
    in_section = False
    n = 0
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("["):
            in_section = line.lower() == "[operating systems]"
            continue
        m = _BOOT_INI_OS.match(line) if in_section else None
        if m is None:
            continue
        path = m.group(1).strip().replace("\\", "/").rstrip("/")
        n += 1
        yield n, path if path.startswith("/") else "/" + path


def filetime(text: str) -> Iterator[tuple[str]]:
    """A FILETIME in decimal (a QWORD's data) as ISO 8601 UTC; nothing for 0 or out of range."""
    for (n,) in decimal(text):
        if (iso := filetime_iso(n)) is not None:
            yield (iso,)


#: Unix times taken: 1980 (before any Windows NT) up to 2200.
_UNIX_RANGE = (315532800, 7258118400)


def unix_time(seconds: int) -> Iterator[tuple[str]]:
    """Seconds since 1970 (``InstallDate``) as ISO 8601 UTC; nothing outside 1980..2200."""
    if _UNIX_RANGE[0] <= seconds < _UNIX_RANGE[1]:
        yield (datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),)


def signed_dword(text: str) -> Iterator[tuple[int]]:
    """A DWORD's data (decimal, 0..2**32-1) read as a signed 32-bit number (``Bias``)."""
    for (n,) in decimal(text):
        if n < 1 << 32:
            yield (n - (1 << 32) if n >= 1 << 31 else n,)


def netmask_prefix(text: str) -> Iterator[tuple[int]]:
    """The prefix length of an IPv4 netmask (``255.255.255.0``: 24); nothing for others."""
    try:
        net = ipaddress.IPv4Network(f"0.0.0.0/{text.strip()}")
    except ValueError:
        return
    yield (net.prefixlen,)


_ADDRESS_SEPARATORS = re.compile(r"[\s,;]+")


def address_list(text: str) -> Iterator[tuple[int, str]]:
    """``(n, address)`` of a list of addresses separated by commas, spaces or newlines
    (``NameServer``, ``DhcpNameServer``, a MULTI_SZ), numbered from 1; at most 64."""
    items = [a for a in _ADDRESS_SEPARATORS.split(text[:4096]) if a][:64]
    yield from enumerate(items, start=1)


def key_split(key: str) -> Iterator[tuple[str, str]]:
    """``(parent, name)`` of a registry key path: ``A\\B\\C`` gives (``A\\B``, ``C``)."""
    parent, sep, name = key.rpartition("\\")
    if sep and parent and name:
        yield parent, name


FUNCTORS: dict[str, Callable[..., Any]] = {}
RELATIONS: dict[str, PyRelation] = {
    "WinMountedDeviceMbr": PyRelation(mounted_device_mbr, "bff"),
    "WinMountedDeviceGpt": PyRelation(mounted_device_gpt, "bf"),
    "WinVersionParts": PyRelation(version_parts, "bff"),
    "WinDecimal": PyRelation(decimal, "bf"),
    "WinBootIniSystemroot": PyRelation(boot_ini_systemroots, "bff"),
    "WinFiletime": PyRelation(filetime, "bf"),
    "WinUnixTime": PyRelation(unix_time, "bf"),
    "WinSignedDword": PyRelation(signed_dword, "bf"),
    "WinNetmaskPrefix": PyRelation(netmask_prefix, "bf"),
    "WinAddressList": PyRelation(address_list, "bff"),
    "WinKeySplit": PyRelation(key_split, "bff"),
}
