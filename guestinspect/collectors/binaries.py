"""The architecture of an ELF or PE binary, decoded from its first bytes.

libguestfs's ``file_architecture`` calls every PE32+ file ``x86_64``; reading the PE header's
Machine field tells ARM64 apart. The names are libguestfs's.
"""

import struct

#: How many bytes of a binary to read: enough for the DOS stub and the PE or ELF header.
HEADER_BYTES = 4096

_PE_MACHINES = {0x14C: "i386", 0x8664: "x86_64", 0xAA64: "aarch64", 0x1C0: "arm", 0x1C4: "arm",
                0x200: "ia64"}

# ELF e_machine -> (name for 32-bit class, name for 64-bit class)
_ELF_MACHINES = {
    3: ("i386", "i386"),
    62: ("x86_64", "x86_64"),
    183: ("aarch64", "aarch64"),
    40: ("arm", "arm"),
    20: ("ppc", "ppc"),
    21: ("ppc64", "ppc64"),
    22: ("s390", "s390x"),
    243: ("riscv32", "riscv64"),
    2: ("sparc", "sparc64"),
    43: ("sparc64", "sparc64"),
    50: ("ia64", "ia64"),
    8: ("mips", "mips64"),
    258: ("loongarch32", "loongarch64"),
}


def pe_arch(data: bytes) -> str | None:
    """The architecture of a PE file, or None when ``data`` is not one we know."""
    if len(data) < 0x40 or data[:2] != b"MZ":
        return None
    (offset,) = struct.unpack_from("<I", data, 0x3C)
    if offset + 6 > len(data) or data[offset : offset + 4] != b"PE\0\0":
        return None
    (machine,) = struct.unpack_from("<H", data, offset + 4)
    return _PE_MACHINES.get(machine)


def elf_arch(data: bytes) -> str | None:
    """The architecture of an ELF file, or None when ``data`` is not one we know."""
    if len(data) < 20 or data[:4] != b"\x7fELF":
        return None
    is64 = data[4] == 2
    little = data[5] == 1
    (machine,) = struct.unpack_from("<H" if little else ">H", data, 18)
    names = _ELF_MACHINES.get(machine)
    if names is None:
        return None
    name = names[1] if is64 else names[0]
    if name == "ppc64" and little:
        return "ppc64le"
    return name


def binary_arch(data: bytes) -> str | None:
    """The architecture of an ELF or PE binary from its first bytes."""
    return elf_arch(data) or pe_arch(data)
