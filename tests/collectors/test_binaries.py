"""Architecture decoding from real binaries and hand-made headers."""

import struct
from pathlib import Path

import pytest

from guestinspect.collectors.binaries import HEADER_BYTES, binary_arch, elf_arch, pe_arch


def pe_header(machine: int, offset: int = 0x80) -> bytes:
    data = bytearray(offset + 24)
    data[:2] = b"MZ"
    struct.pack_into("<I", data, 0x3C, offset)
    data[offset : offset + 4] = b"PE\0\0"
    struct.pack_into("<H", data, offset + 4, machine)
    return bytes(data)


def elf_header(machine: int, is64: bool, little: bool = True) -> bytes:
    data = bytearray(64)
    data[:4] = b"\x7fELF"
    data[4] = 2 if is64 else 1
    data[5] = 1 if little else 2
    struct.pack_into("<H" if little else ">H", data, 18, machine)
    return bytes(data)


@pytest.mark.parametrize(
    ("machine", "arch"), [(0x14C, "i386"), (0x8664, "x86_64"), (0xAA64, "aarch64")]
)
def test_pe_machine(machine: int, arch: str) -> None:
    assert pe_arch(pe_header(machine)) == arch
    assert binary_arch(pe_header(machine)) == arch


@pytest.mark.parametrize(
    ("machine", "is64", "little", "arch"),
    [
        (3, False, True, "i386"),
        (62, True, True, "x86_64"),
        (183, True, True, "aarch64"),
        (21, True, True, "ppc64le"),
        (21, True, False, "ppc64"),
        (22, True, False, "s390x"),
        (243, True, True, "riscv64"),
    ],
)
def test_elf_machine(machine: int, is64: bool, little: bool, arch: str) -> None:
    assert elf_arch(elf_header(machine, is64, little)) == arch


def test_this_hosts_ls_is_x86_64() -> None:
    data = Path("/bin/ls").read_bytes()[:HEADER_BYTES]
    assert binary_arch(data) == "x86_64"


@pytest.mark.parametrize(
    "data", [b"", b"MZ", b"MZ" + b"\0" * 100, b"\x7fELF", b"#!/bin/sh\n", pe_header(0x1234)]
)
def test_not_a_known_binary(data: bytes) -> None:
    assert binary_arch(data) is None


def test_pe_offset_past_the_data() -> None:
    data = bytearray(pe_header(0x14C))
    struct.pack_into("<I", data, 0x3C, 10_000)
    assert pe_arch(bytes(data)) is None
