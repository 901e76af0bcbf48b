"""File contents the phony guests are made of: binaries, hives, package databases.

Everything here runs on the host, before the appliance is launched; each helper writes into a
scratch directory and returns the path of the file to upload.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
from pathlib import Path

from tests.oracles import SHARED

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
