"""The decoders of guestinspect/functors/windows.py (the rules' only Python)."""

from __future__ import annotations

import struct
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from guestinspect.functors import text, windows


def test_mbr_blob() -> None:
    # The phony guest's \DosDevices\C: value.
    assert list(windows.mounted_device_mbr("313233340000001000000000")) == [
        ("31323334", 0x10000000)]
    blob = bytes.fromhex("3ea0be5c") + struct.pack("<Q", 1 << 20)
    assert list(windows.mounted_device_mbr(blob.hex())) == [("3ea0be5c", 1048576)]


@pytest.mark.parametrize("hex_text", ["", "3132", "31323334000000100000000000", "zz" * 12,
                                      (b"DMIO:ID:" + b"\0" * 16).hex()])
def test_not_an_mbr_blob(hex_text: str) -> None:
    assert list(windows.mounted_device_mbr(hex_text)) == []


def test_gpt_blob_mixed_endian() -> None:
    blob = b"DMIO:ID:" + bytes(range(16))
    assert list(windows.mounted_device_gpt(blob.hex())) == [
        ("03020100-0504-0706-0809-0A0B0C0D0E0F",)]


@given(st.uuids())
def test_gpt_blob_round_trip(u: uuid.UUID) -> None:
    blob = b"DMIO:ID:" + u.bytes_le
    assert list(windows.mounted_device_gpt(blob.hex())) == [(str(u).upper(),)]


@pytest.mark.parametrize("blob", [b"", b"DMIO:ID:" + b"\1" * 15, b"\0" * 24, b"1234" + b"\0" * 8])
def test_not_a_gpt_blob(blob: bytes) -> None:
    assert list(windows.mounted_device_gpt(blob.hex())) == []


@pytest.mark.parametrize(("text", "parts"), [
    ("6.1", [(6, 1)]), ("10.0", [(10, 0)]), ("5", [(5, 0)]), (" 6.3 ", [(6, 3)]),
    ("", []), ("six", [])])
def test_version_parts(text: str, parts: list[tuple[int, int]]) -> None:
    assert list(windows.version_parts(text)) == parts


@pytest.mark.parametrize(("text", "out"), [("22631", [(22631,)]), (" 7 ", [(7,)]),
                                           ("", []), ("1a", []), ("-1", []), ("²", [])])
def test_decimal(text: str, out: list[tuple[int]]) -> None:
    assert list(windows.decimal(text)) == out


def test_boot_ini() -> None:
    ini = (
        "[boot loader]\r\ntimeout=30\r\n"
        "default=multi(0)disk(0)rdisk(0)partition(1)\\WINDOWS\r\n"
        "[operating systems]\r\n"
        "multi(0)disk(0)rdisk(0)partition(1)\\WINDOWS=\"Windows XP\" /fastdetect\r\n"
        "scsi(0)disk(1)rdisk(0)partition(2)\\WINNT\\SYS=\"Windows 2000\"\r\n"
        "C:\\CMDCONS\\BOOTSECT.DAT=\"Recovery Console\" /cmdcons\r\n"
        "[other]\r\nmulti(0)disk(0)rdisk(0)partition(1)\\NOPE=\"x\"\r\n"
    )
    assert list(windows.boot_ini_systemroots(ini)) == [(1, "/WINDOWS"), (2, "/WINNT/SYS")]
    assert list(windows.boot_ini_systemroots("[boot loader]\ntimeout=1\n")) == []


@pytest.mark.parametrize(("path", "out"), [
    ("/a/b", [("/a", "b")]), ("/a", [("/", "a")]), ("/Windows/System32/cmd.exe",
                                                    [("/Windows/System32", "cmd.exe")]),
    ("/", []), ("relative", [])])
def test_path_split(path: str, out: list[tuple[str, str]]) -> None:
    assert list(text.path_split(path)) == out
