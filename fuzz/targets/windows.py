"""The Windows functors and Python relations (functors/windows.py) on guest text: registry
blobs as hex, version strings, numbers, FILETIMEs, netmasks, address lists, key paths,
boot.ini. None may raise."""

from __future__ import annotations

from fuzz.targets import target
from guestinspect.functors import windows

_BOOT_INI = b"""[boot loader]
timeout=30
default=multi(0)disk(0)rdisk(0)partition(1)\\WINDOWS
[operating systems]
multi(0)disk(0)rdisk(0)partition(1)\\WINDOWS="Microsoft Windows XP Professional" /fastdetect
scsi(0)disk(1)rdisk(0)partition(2)\\WINNT="Windows 2000"
"""


def _seeds() -> list[bytes]:
    return [b"6.1", b"10.0", b"7601", b" 5", _BOOT_INI, b"01020304" + b"00" * 7 + b"10",
            (b"DMIO:ID:" + bytes(range(16))).hex().encode(), b"4" * 5000,
            b"132457215881234567", b"255.255.255.0", b"10.0.0.1,10.0.0.2 1.1.1.1",
            b"ControlSet001\\Services\\viostor", b"4294967236"]


@target("windows.functors", _seeds)
def run(data: bytes) -> None:
    text = data.decode("utf-8", "replace")
    number = int.from_bytes(data[:8].ljust(8, b"\0"), "little", signed=True)
    for name, relation in windows.RELATIONS.items():
        arg: object = number if name == "WinUnixTime" else text  # its one number column
        for row in relation.fn(arg):
            assert isinstance(row, tuple), name
    assert len(windows.guid_from_bytes_le(data[:16].ljust(16, b"\0"))) == 36
