"""Bad disk images are one-line errors, raised before any appliance is launched."""

import subprocess
from pathlib import Path

import pytest

from guestinspect.collectors.image import ImageCollector
from guestinspect.errors import GuestinspectError, ImageError


def _error(disk: Path, **kw: object) -> str:
    with pytest.raises(ImageError) as info:
        ImageCollector([disk], progress=False, **kw)  # type: ignore[arg-type]
    message = str(info.value)
    assert "\n" not in message
    assert isinstance(info.value, GuestinspectError)
    return message


def test_missing_file(tmp_path: Path) -> None:
    assert _error(tmp_path / "nope.img") == f"{tmp_path / 'nope.img'}: no such file"


def test_text_file(tmp_path: Path) -> None:
    disk = tmp_path / "notes.txt"
    disk.write_text("this is not a disk image\n" * 100)
    assert "not a disk image" in _error(disk)


def test_empty_file(tmp_path: Path) -> None:
    disk = tmp_path / "empty.img"
    disk.touch()
    assert "empty file" in _error(disk)


def test_directory(tmp_path: Path) -> None:
    assert "directory" in _error(tmp_path)


def test_truncated_qcow2(tmp_path: Path, qemu_img: str) -> None:
    disk = tmp_path / "t.qcow2"
    subprocess.run([qemu_img, "create", "-q", "-f", "qcow2", str(disk), "1G"], check=True)
    with disk.open("r+b") as f:
        f.truncate(100)
    message = _error(disk)
    assert message.startswith(f"{disk}: not a readable disk image")


def test_wrong_format(tmp_path: Path, qemu_img: str) -> None:
    disk = tmp_path / "raw.img"
    disk.write_bytes(bytes(1 << 20))
    assert "not a readable disk image" in _error(disk, format="qcow2")
