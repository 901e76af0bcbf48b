"""Disk image detection and the qcow2 backing file name (fleet/detect.py): the first bytes of
a file found in a directory given to ``guestinspect fleet``, as hostile as any guest's."""

from __future__ import annotations

from fuzz.targets import target
from guestinspect.fleet.detect import HEAD, DetectError, detect, qcow2_backing
from tests.fleet.samples import images, not_images, qcow2


def _seeds() -> list[bytes]:
    heads = [head + tail for head, tail, _ in images().values()]
    return [*heads, *not_images().values(), qcow2(b"../base.qcow2", version=2, offset=72)]


@target("fleet.detect", _seeds, (DetectError,), max_len=HEAD + 512)
def run(data: bytes) -> None:
    fmt = detect(data[:HEAD], data[-512:] if len(data) >= 512 else b"")
    assert fmt in (None, "qcow2", "vmdk", "vhd", "vhdx", "vdi", "raw")
    name = qcow2_backing(data)
    assert name is None or (0 < len(name.encode("utf-8", "surrogateescape")) <= 1023
                            and "\0" not in name)
