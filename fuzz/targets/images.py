"""DIB -> PNG (functors/images.py): a bitmap resource of a guest's PE file turned into a PNG.
Seeds are bitmaps of every supported depth and header, as Windows's explorer.exe holds them."""

from __future__ import annotations

import base64

from fuzz.targets import target
from guestinspect.functors.images import DibError, decode_dib, dib_png
from tests.images.content import bitmap


def _seeds() -> list[bytes]:
    return [bitmap(12, 20), bitmap(9, 7, 32), bitmap(9, 7, 32, bitfields=(0xFF, 0xFF00, 0xFF0000)),
            bitmap(10, 11, 16), bitmap(16, 20, 8), bitmap(17, 9, 4), bitmap(33, 7, 1),
            bitmap(10, 12, top_down=True), bitmap(13, 9, 8, core=True)]


@target("images.dib", _seeds, (DibError,), max_len=1 << 18)
def decode(data: bytes) -> None:
    pixels = decode_dib(data)
    assert pixels and len({len(row) for row in pixels}) == 1


@target("images.dib_png", _seeds, max_len=1 << 18)
def png(data: bytes) -> None:
    """The functor itself: never raises, whatever the DIB or the row count."""
    text = base64.b64encode(data).decode("ascii")
    for rows in (0, 3, -1):
        for (out,) in dib_png(text, rows):
            assert base64.b64decode(out).startswith(b"\x89PNG")
    list(dib_png(data.decode("latin-1"), 0))  # not base64 at all
