"""What the phony guests are made of that comes from the host: the libguestfs phony-guest data
files (read-only, beside the checkout) and a host x86_64 ELF executable.

Everything here runs on the host, before the appliance is launched.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

#: The checkout (``guestinspect/phony/`` is two levels below it).
ROOT = Path(__file__).resolve().parents[2]
#: The read-only shared material beside the checkout (CI lays a copy of it there too).
SHARED = Path(os.environ.get("GUESTINSPECT_SHARED", ROOT.parent / "shared"))

#: Host binaries tried, in order, as the "x86_64 dynamic ELF" the Linux guests carry.
HOST_ELF_CANDIDATES = ("/usr/bin/true", "/bin/true", "/bin/ls")

EM_X86_64 = 62


def data_dir() -> Path:
    """The libguestfs phony-guest data (read-only), from the shared folder."""
    env = os.environ.get("GUESTINSPECT_PHONY_DATA")
    if env:
        return Path(env)
    candidate = SHARED / "testdata" / "libguestfs-phony"
    if candidate.is_dir():
        return candidate
    raise FileNotFoundError(f"libguestfs phony-guest data not found in {candidate}")


def data_file(name: str) -> Path:
    path = data_dir() / name
    if not path.is_file():
        raise FileNotFoundError(path)
    return path


def elf_machine(path: Path) -> int:
    """The e_machine field of an ELF file (-1 if it is not ELF)."""
    with path.open("rb") as f:
        head = f.read(20)
    if len(head) < 20 or head[:4] != b"\x7fELF":
        return -1
    endian = "<" if head[5] == 1 else ">"
    machine: int = struct.unpack(endian + "H", head[18:20])[0]
    return machine


def host_x86_64_elf() -> Path:
    """A small x86_64 ELF executable from the host, standing in for /bin/ls and friends."""
    for name in HOST_ELF_CANDIDATES:
        path = Path(name)
        if path.is_file() and elf_machine(path) == EM_X86_64:
            return path
    raise RuntimeError(
        "no x86_64 ELF executable found on this host (tried "
        + ", ".join(HOST_ELF_CANDIDATES)
        + "); the Linux phony guests need one so that inspection reports arch x86_64"
    )
