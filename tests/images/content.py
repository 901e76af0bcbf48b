"""File contents the phony guests are made of: binaries, hives, package databases.

Everything here runs on the host, before the appliance is launched; each helper writes into a
scratch directory and returns the path of the file to upload.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from collections.abc import Iterable
from pathlib import Path

# The host-side pieces the package's sample guest needs too (guestinspect/phony/content.py).
from guestinspect.phony.content import data_file
from guestinspect.phony.content import host_x86_64_elf as host_x86_64_elf


def pe32_i386_executable() -> bytes:
    """A minimal, well-formed PE32 console executable for i386 (one .text section: `ret`)."""
    file_align = 0x200
    section_align = 0x1000
    pe_offset = 0x40

    dos = bytearray(pe_offset)
    dos[0:2] = b"MZ"
    struct.pack_into("<I", dos, 0x3C, pe_offset)

    machine_i386 = 0x014C
    characteristics = 0x0002 | 0x0100  # EXECUTABLE_IMAGE | 32BIT_MACHINE
    coff = struct.pack("<HHIIIHH", machine_i386, 1, 0x4D3C2B1A, 0, 0, 0xE0, characteristics)

    optional = bytearray(0xE0)
    struct.pack_into(
        "<HBBIIIIIIIIIHHHHHHIIIIHHIIIIII",
        optional,
        0,
        0x010B,  # PE32 magic
        14,  # linker version
        0,
        file_align,  # SizeOfCode
        0,  # SizeOfInitializedData
        0,  # SizeOfUninitializedData
        section_align,  # AddressOfEntryPoint
        section_align,  # BaseOfCode
        section_align,  # BaseOfData
        0x00400000,  # ImageBase
        section_align,
        file_align,
        6,  # OS version 6.1 (Windows 7)
        1,
        0,  # image version
        0,
        6,  # subsystem version
        1,
        0,  # Win32VersionValue
        2 * section_align,  # SizeOfImage
        file_align,  # SizeOfHeaders
        0,  # CheckSum
        3,  # Subsystem: Windows console
        0x8140,  # DllCharacteristics: NX_COMPAT | DYNAMIC_BASE | TERMINAL_SERVER_AWARE
        0x100000,  # stack reserve
        0x1000,  # stack commit
        0x100000,  # heap reserve
        0x1000,  # heap commit
        0,  # LoaderFlags
        16,  # NumberOfRvaAndSizes (the 16 data directories stay zero)
    )

    section = struct.pack(
        "<8sIIIIIIHHI",
        b".text",
        1,  # VirtualSize
        section_align,  # VirtualAddress
        file_align,  # SizeOfRawData
        file_align,  # PointerToRawData
        0,
        0,
        0,
        0,
        0x60000020,  # CODE | EXECUTE | READ
    )

    headers = bytes(dos) + b"PE\0\0" + coff + bytes(optional) + section
    headers += b"\0" * (file_align - len(headers))
    text = b"\xc3" + b"\0" * (file_align - 1)
    return headers + text


def make_hive(workdir: Path, reg_text: str, prefix: str, name: str) -> Path:
    """Merge a .reg text into a copy of the minimal hive with hivexregedit."""
    hive = workdir / name
    shutil.copyfile(data_file("minimal-hive"), hive)
    hive.chmod(0o644)
    reg = workdir / f"{name}.reg"
    reg.write_text(reg_text, encoding="utf-8")
    subprocess.run(
        ["hivexregedit", "--merge", "--prefix", prefix, str(hive), str(reg)],
        check=True,
        capture_output=True,
    )
    return hive


def software_hive(workdir: Path) -> Path:
    text = data_file("windows-software.reg").read_text(encoding="utf-8")
    return make_hive(workdir, text, "HKEY_LOCAL_MACHINE\\SOFTWARE", "SOFTWARE")


def system_hive(workdir: Path, mounted_c: bytes | None = None) -> Path:
    """The SYSTEM hive; `mounted_c` replaces the MountedDevices value of \\DosDevices\\C:."""
    text = data_file("windows-system.reg").read_text(encoding="utf-8")
    if mounted_c is not None:
        lines = []
        for line in text.splitlines():
            if line.startswith('"\\\\DosDevices\\\\C:"='):
                line = '"\\\\DosDevices\\\\C:"=hex(3):' + ",".join(f"{b:02x}" for b in mounted_c)
            lines.append(line)
        text = "\n".join(lines) + "\n"
    return make_hive(workdir, text, "HKEY_LOCAL_MACHINE\\SYSTEM", "SYSTEM")


def mbr_mounted_device(disk_signature: bytes, partition_offset: int) -> bytes:
    """MountedDevices data of an MBR volume: the disk signature, then the byte offset (LE)."""
    return disk_signature + struct.pack("<Q", partition_offset)


def gpt_mounted_device(partition_guid: str) -> bytes:
    """MountedDevices data of a GPT volume: "DMIO:ID:" then the partition GUID in binary."""
    import uuid

    return b"DMIO:ID:" + uuid.UUID(partition_guid).bytes_le


def fedora_rpmdb(workdir: Path) -> Path:
    """Fedora's /var/lib/rpm/rpmdb.sqlite, made from the SQL dump."""
    db = workdir / "rpmdb.sqlite"
    if db.exists():
        return db
    sql = subprocess.run(
        ["xzcat", str(data_file("fedora-db.sql.xz"))], check=True, capture_output=True
    ).stdout
    subprocess.run(["sqlite3", str(db)], input=sql, check=True, capture_output=True)
    return db


# --- PE files with resources, and bitmaps (Windows icons) ---------------------------------------

RT_BITMAP = 2


def bitmap(width: int, height: int, bits: int = 24, top_down: bool = False, core: bool = False,
           bitfields: tuple[int, int, int] | None = None) -> bytes:
    """A DIB (a bitmap resource: BMP without its file header) with a deterministic pattern:
    pixel (x, y), top row 0, has colour ((7x + 3y) mod 256, (5x * y) mod 256, (x ^ 11y) mod 256),
    mapped through a palette of all 2**bits colours for 1, 4 and 8 bits, or bit fields for 16
    and 32 (``bitfields`` masks: then BI_BITFIELDS, else the default 5-5-5 / 8-8-8)."""
    def colour(x: int, y: int) -> tuple[int, int, int]:
        return (7 * x + 3 * y) % 256, (5 * x * y) % 256, (x ^ (11 * y)) % 256

    palette = b""
    if bits <= 8:
        count = 1 << bits
        entries = [((i * 97) % 256, (i * 31 + 50) % 256, (255 - i * 13) % 256)
                   for i in range(count)]
        palette = b"".join(bytes((b, g, r)) + (b"" if core else b"\0") for r, g, b in entries)
    stride = (width * bits + 31) // 32 * 4
    masks = bitfields or {16: (0x7C00, 0x03E0, 0x001F), 32: (0xFF0000, 0xFF00, 0xFF)}.get(bits)
    rows = []
    for y in range(height):
        if bits <= 8:
            value = 0
            for x in range(width):
                value = (value << bits) | ((x * 3 + y * 5) % (1 << bits))
            value <<= stride * 8 - width * bits
            rows.append(value.to_bytes(stride, "big"))
            continue
        line = bytearray()
        for x in range(width):
            r, g, b = colour(x, y)
            if bits == 24:
                line += bytes((b, g, r))
                continue
            assert masks is not None
            packed = 0
            for c, m in zip((r, g, b), masks, strict=True):
                top = m >> ((m & -m).bit_length() - 1)
                packed |= (c * top // 255) << ((m & -m).bit_length() - 1)
            line += packed.to_bytes(bits // 8, "little")
        rows.append(bytes(line) + b"\0" * (stride - len(line)))
    pixels = b"".join(rows if top_down else rows[::-1])
    if core:
        header = struct.pack("<IHHHH", 12, width, height, 1, bits)
    else:
        header = struct.pack("<IiiHHIIiiII", 40, width, -height if top_down else height, 1, bits,
                             3 if bitfields else 0, len(pixels), 2835, 2835, 0, 0)
        if bitfields:
            header += struct.pack("<III", *bitfields)
    return header + palette + pixels


def pe_with_resources(resources: dict[tuple[int | str, int | str], bytes],
                      machine: int = 0x014C) -> bytes:
    """A PE file (PE32 for i386, PE32+ otherwise) whose only section is .rsrc, holding each
    ``(type, name) -> data`` in language 1033; a str type or name is a named entry."""
    file_align, rva = 0x200, 0x1000
    tree: dict[int | str, dict[int | str, bytes]] = {}
    for (kind, name), data in resources.items():
        tree.setdefault(kind, {})[name] = data

    def ordered(idents: Iterable[int | str]) -> list[int | str]:  # named entries first
        return sorted(idents, key=lambda i: (0, i, 0) if isinstance(i, str) else (1, "", i))

    types = ordered(tree)
    leaves = [(t, n) for t in types for n in ordered(tree[t])]
    # The section: the root directory, one per type, one (a language) per resource, the data
    # entries, the names of named entries, then the data. A directory is 16 bytes + 8 an entry.
    type_at = {t: 16 + 8 * len(types) + sum(16 + 8 * len(tree[u]) for u in types[:i])
               for i, t in enumerate(types)}
    lang_at = {leaf: 16 + 8 * len(types) + sum(16 + 8 * len(tree[t]) for t in types) + 24 * i
               for i, leaf in enumerate(leaves)}
    entry_at = {leaf: max(lang_at.values(), default=16) + 24 + 16 * i
                for i, leaf in enumerate(leaves)}
    section = bytearray(max(entry_at.values(), default=16) + 16)
    name_at: dict[str, int] = {}
    for ident in [*types, *(n for _, n in leaves)]:
        if isinstance(ident, str) and ident not in name_at:
            name_at[ident] = len(section)
            section += struct.pack("<H", len(ident)) + ident.encode("utf-16-le")

    def directory(at: int, children: list[tuple[int | str, int]]) -> None:
        named = sum(isinstance(c, str) for c, _ in children)
        struct.pack_into("<IIHHHH", section, at, 0, 0, 4, 0, named, len(children) - named)
        for i, (child, target) in enumerate(children):
            ident = name_at[child] | 0x80000000 if isinstance(child, str) else child
            struct.pack_into("<II", section, at + 16 + 8 * i, ident, target)

    sub = 0x80000000
    directory(0, [(t, type_at[t] | sub) for t in types])
    for t in types:
        directory(type_at[t], [(n, lang_at[(t, n)] | sub) for n in ordered(tree[t])])
    for t, n in leaves:
        directory(lang_at[(t, n)], [(1033, entry_at[(t, n)])])
        section += bytes(-len(section) % 8)
        data = tree[t][n]
        struct.pack_into("<IIII", section, entry_at[(t, n)], rva + len(section), len(data), 0, 0)
        section += data
    raw_size = len(section) + (-len(section) % file_align)

    plus = machine != 0x014C
    optional = bytearray(0xF0 if plus else 0xE0)
    struct.pack_into("<H", optional, 0, 0x20B if plus else 0x10B)
    struct.pack_into("<II", optional, 32, 0x1000, file_align)  # section and file alignment
    dirs_at = 112 if plus else 96
    struct.pack_into("<I", optional, dirs_at - 4, 16)  # NumberOfRvaAndSizes
    struct.pack_into("<II", optional, dirs_at + 8 * 2, rva, len(section))  # the resource table
    dos = bytearray(0x40)
    dos[0:2] = b"MZ"
    struct.pack_into("<I", dos, 0x3C, 0x40)
    coff = struct.pack("<HHIIIHH", machine, 1, 0x4D3C2B1A, 0, 0, len(optional), 0x0002)
    header = struct.pack("<8sIIIIIIHHI", b".rsrc", len(section), rva, raw_size, file_align,
                         0, 0, 0, 0, 0x40000040)  # INITIALIZED_DATA | READ
    headers = bytes(dos) + b"PE\0\0" + coff + bytes(optional) + header
    padding = bytes(file_align - len(headers))
    return headers + padding + bytes(section) + bytes(raw_size - len(section))
