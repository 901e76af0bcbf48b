"""Disk images recognized by content (guestinspect/fleet/detect.py), and the qcow2 backing
file name read from a header; no VM."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from guestinspect.fleet.detect import (
    QCOW2_NAME_MAX,
    DetectError,
    backing_file,
    detect,
    detect_file,
    qcow2_backing,
)
from tests.fleet.samples import images, not_images, qcow2


@pytest.mark.parametrize("name", sorted(images()))
def test_images_are_recognized(name: str, tmp_path: Path) -> None:
    head, tail, fmt = images()[name]
    assert detect(head, tail) == fmt
    path = tmp_path / "disk.bin"  # the name says nothing: content decides
    if tail:  # a fixed VHD: the footer is the file's last 512 bytes
        path.write_bytes(head + bytes(8192) + tail)
    else:
        path.write_bytes(head + bytes(8192))
    assert detect_file(path) == fmt


@pytest.mark.parametrize("name", sorted(not_images()))
def test_other_files_are_not(name: str, tmp_path: Path) -> None:
    data = not_images()[name]
    assert detect(data, data[-512:] if len(data) >= 512 else b"") is None
    path = tmp_path / "disk.img"  # an image's extension, not an image's content
    path.write_bytes(data)
    assert detect_file(path) is None


def test_qcow2_backing_names() -> None:
    assert qcow2_backing(qcow2()) is None
    assert qcow2_backing(qcow2(b"base.qcow2")) == "base.qcow2"
    assert qcow2_backing(qcow2(b"../images/base.img", version=2, offset=72)) == \
        "../images/base.img"


@pytest.mark.parametrize(("header", "message"), [
    (b"QFI\xfb\0\0\0\3", "truncated"),
    (qcow2(b"x", version=7), "version 7"),
    (qcow2(b"x" * (QCOW2_NAME_MAX + 1), offset=100), "at most"),
    (qcow2(b"base\0.img"), "NUL"),
    (b"RIFF" + bytes(100), "not a qcow2"),
])
def test_damaged_qcow2_headers(header: bytes, message: str) -> None:
    with pytest.raises(DetectError, match=message):
        qcow2_backing(header)


def test_name_outside_the_header() -> None:
    head = bytearray(qcow2())
    struct.pack_into(">QI", head, 8, 1 << 40, 10)  # a terabyte away
    with pytest.raises(DetectError, match="outside the header"):
        qcow2_backing(bytes(head))
    struct.pack_into(">QI", head, 8, 4090, 100)  # past the end of what was read
    with pytest.raises(DetectError, match="past the end"):
        qcow2_backing(bytes(head))


def test_backing_file_reads_past_the_first_4k(tmp_path: Path) -> None:
    data = bytearray(qcow2())
    name = b"far/away/base.qcow2"
    struct.pack_into(">QI", data, 8, 10000, len(name))
    data += bytes(20000)
    data[10000 : 10000 + len(name)] = name
    path = tmp_path / "overlay"
    path.write_bytes(bytes(data))
    assert backing_file(path) == "far/away/base.qcow2"
    raw = tmp_path / "raw"
    raw.write_bytes(images()["mbr"][0])
    assert backing_file(raw) is None


def test_unreadable_things_raise_one_error(tmp_path: Path) -> None:
    with pytest.raises(DetectError, match="No such file"):
        detect_file(tmp_path / "missing")
    with pytest.raises(DetectError, match="not a regular file"):
        detect_file(tmp_path)
    with pytest.raises(DetectError):
        detect("text", b"")  # type: ignore[arg-type]
