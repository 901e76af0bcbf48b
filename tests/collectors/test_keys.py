"""--key / --keys-from-stdin parsing."""

import io
from pathlib import Path

import pytest

from guestinspect.collectors.keys import KeySpec
from guestinspect.errors import KeySpecError


def test_order_of_candidates() -> None:
    spec = KeySpec.parse(["all:key:generic", "/dev/sda2:key:pa:ss", "UUID-1:key:byuuid"])
    assert list(spec.candidates("/dev/sda2", "UUID-9")) == ["pa:ss", "generic"]
    assert list(spec.candidates("/dev/sdb1", "UUID-1")) == ["byuuid", "generic"]


def test_stdin_one_line_per_container() -> None:
    spec = KeySpec.parse([], keys_from_stdin=True, stdin=io.StringIO("first\nsecond\n"))
    assert list(spec.candidates("/dev/sda1", "u1")) == ["first"]
    assert list(spec.candidates("/dev/sda2", "u2")) == ["second"]
    assert list(spec.candidates("/dev/sda3", "u3")) == []


def test_key_file(tmp_path: Path) -> None:
    (tmp_path / "k").write_text("from-file\n")
    spec = KeySpec.parse([f"/dev/sda1:file:{tmp_path / 'k'}"])
    assert list(spec.candidates("/dev/sda1", "")) == ["from-file"]


@pytest.mark.parametrize("bad", ["nocolon", "/dev/sda1:key", "/dev/sda1:clevis:x", ":key:x"])
def test_bad_selectors(bad: str) -> None:
    with pytest.raises(KeySpecError):
        KeySpec.parse([bad])
