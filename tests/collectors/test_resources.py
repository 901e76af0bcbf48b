"""PE resources (guestinspect/collectors/resources.py) against icoutils's wrestool, which reads
the same files independently; and what a damaged or foreign file gives."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from guestinspect.collectors.resources import PeError, pe_resource
from tests.images.content import RT_BITMAP, bitmap, pe_with_resources

RESOURCES: dict[tuple[int | str, int | str], bytes] = {
    (RT_BITMAP, 6801): bitmap(48, 110),
    (RT_BITMAP, 143): bitmap(48, 48, 8),
    (RT_BITMAP, "NAMED"): b"a named bitmap",
    (3, 1): bitmap(16, 16, 4),
    ("PNG", 7): b"\x89PNG not really",
}


def reader(data: bytes):  # type: ignore[no-untyped-def]
    return lambda offset, size: data[offset : offset + size]


@pytest.mark.parametrize("machine", [0x014C, 0x8664], ids=["pe32", "pe32+"])
def test_same_as_wrestool(tmp_path: Path, machine: int) -> None:
    exe = tmp_path / "explorer.exe"
    exe.write_bytes(pe_with_resources(RESOURCES, machine))
    for kind, name in [(RT_BITMAP, 6801), (RT_BITMAP, 143), (3, 1)]:
        theirs = subprocess.run(
            ["wrestool", "-x", "--raw", f"--type={kind}", f"--name={name}", str(exe)],
            capture_output=True, check=True).stdout
        ours = pe_resource(reader(exe.read_bytes()), kind, name)
        assert ours == theirs == RESOURCES[(kind, name)]


def test_absent_resources() -> None:
    data = pe_with_resources(RESOURCES)
    assert pe_resource(reader(data), RT_BITMAP, 6802) is None
    assert pe_resource(reader(data), 14, 1) is None  # no such type
    assert pe_resource(reader(pe_with_resources({})), RT_BITMAP, 143) is None


def test_reads_only_what_it_needs() -> None:
    big = bitmap(200, 200)
    data = pe_with_resources({(RT_BITMAP, 1): bytes(300_000), (RT_BITMAP, 2): big})
    reads: list[tuple[int, int]] = []

    def read(offset: int, size: int) -> bytes:
        reads.append((offset, size))
        return data[offset : offset + size]

    assert pe_resource(read, RT_BITMAP, 2) == big
    assert sum(size for _, size in reads) < 4096 + 200 + len(big)


@pytest.mark.parametrize("data", [b"", b"MZ", b"\x7fELF" + bytes(200), bytes(4096),
                                  b"MZ" + bytes(0x3A) + b"\xff\xff\xff\x00" + bytes(100)])
def test_not_a_pe_file(data: bytes) -> None:
    with pytest.raises(PeError):
        pe_resource(reader(data), RT_BITMAP, 143)


def test_truncated_pe_file() -> None:
    data = pe_with_resources(RESOURCES)
    for cut in (0x300, 0x1000, len(data) - 600):
        try:
            found = pe_resource(reader(data[:cut]), RT_BITMAP, 6801)
        except PeError:
            continue
        assert found is None or found == RESOURCES[(RT_BITMAP, 6801)]
