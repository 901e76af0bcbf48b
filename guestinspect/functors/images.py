"""Images for the icon rules: a Windows bitmap (DIB) turned into a PNG.

A bitmap resource of a PE file is a DIB: a BITMAPCOREHEADER (12 bytes) or BITMAPINFOHEADER
(40 bytes or more), a palette for 1, 4 and 8 bits a pixel, then rows padded to 4 bytes, bottom
row first unless the height is negative. Uncompressed DIBs of 1, 4, 8, 16, 24 and 32 bits a
pixel are decoded (bit fields included; RLE is not). The PNG is 8-bit RGB, as virt-inspector's
``bmptopnm | pnmtopng`` gives it (any alpha is dropped).

A DIB comes from a guest's PE file: every field is bounds-checked, the size is capped
(MAX_SIDE, MAX_PIXELS) and anything undecodable is a :class:`DibError`, which gives no PNG
(docs/security.md, "Parsers of guest bytes").
"""

import base64
import struct
import zlib
from collections.abc import Iterator

from guestinspect.datalog import PyRelation
from guestinspect.errors import ParseError

_CORE_HEADER = 12
_INFO_HEADER = 40
_BI_RGB, _BI_BITFIELDS, _BI_ALPHABITFIELDS = 0, 3, 6
#: Refuse images larger than this many pixels a side (an icon is at most 1024: results.py).
MAX_SIDE = 1024
#: Refuse images of more pixels than this (512x512: encoding takes about half a second).
MAX_PIXELS = 512 * 512
_DEFAULT_MASKS = {16: (0x7C00, 0x03E0, 0x001F), 32: (0xFF0000, 0xFF00, 0xFF)}

Pixels = list[bytes]  # rows, top first, 3 bytes (R, G, B) a pixel


class DibError(ParseError):
    """A bitmap that cannot be decoded (damaged, too large, or of a kind not supported)."""


def _palette(dib: bytes, start: int, count: int, entry: int) -> list[bytes]:
    raw = dib[start : start + count * entry]
    if len(raw) < count * entry:
        raise DibError("truncated palette")
    return [bytes((raw[i + 2], raw[i + 1], raw[i])) for i in range(0, len(raw), entry)]


def _bgr_rows(rows: list[bytes], width: int) -> Pixels:
    out = []
    for row in rows:
        line = bytearray(3 * width)
        end = 3 * width
        line[0::3], line[1::3], line[2::3] = row[2:end:3], row[1:end:3], row[0:end:3]
        out.append(bytes(line))
    return out


def _channel(mask: int) -> tuple[int, int]:
    """(shift, maximum) of a bit field mask."""
    if mask == 0:
        return 0, 0
    shift = (mask & -mask).bit_length() - 1
    return shift, mask >> shift


def _masked_rows(rows: list[bytes], bits: int, masks: tuple[int, int, int]) -> Pixels:
    fields = [_channel(m) for m in masks]
    step = bits // 8
    out = []
    for row in rows:
        line = bytearray()
        for i in range(0, len(row), step):
            value = int.from_bytes(row[i : i + step], "little")
            for shift, top in fields:
                line.append(((value >> shift) & top) * 255 // top if top else 0)
        out.append(bytes(line))
    return out


def _indexed_rows(rows: list[bytes], bits: int, width: int, palette: list[bytes]) -> Pixels:
    per_byte = 8 // bits
    top = (1 << bits) - 1
    out = []
    for row in rows:
        line = bytearray()
        for x in range(width):
            byte = row[x // per_byte]
            index = (byte >> (8 - bits * (x % per_byte + 1))) & top
            if index >= len(palette):
                raise DibError("pixel outside the palette")
            line += palette[index]
        out.append(bytes(line))
    return out


def decode_dib(dib: bytes) -> Pixels:
    """The pixels of a DIB, top row first. Raises DibError for what it cannot decode."""
    if len(dib) < _CORE_HEADER:
        raise DibError("too short for a bitmap")
    (header,) = struct.unpack_from("<I", dib)
    compression, colors_used = _BI_RGB, 0
    if header == _CORE_HEADER:
        width, height, _planes, bits = struct.unpack_from("<HHHH", dib, 4)
        entry = 3
    elif _INFO_HEADER <= header <= len(dib):
        width, height, _planes, bits, compression = struct.unpack_from("<iiHHI", dib, 4)
        (colors_used,) = struct.unpack_from("<I", dib, 32)
        entry = 4
    else:
        raise DibError("unknown bitmap header")
    top_down = height < 0
    height = abs(height)
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE) or width * height > MAX_PIXELS:
        raise DibError(f"bitmap of {width}x{height}")
    start = header
    masks = _DEFAULT_MASKS.get(bits)
    if compression in (_BI_BITFIELDS, _BI_ALPHABITFIELDS) and bits in (16, 32):
        # The masks follow a 40-byte header, or are its fields 40..51 in a longer one.
        if _INFO_HEADER + 12 > len(dib):
            raise DibError("truncated bit fields")
        masks = struct.unpack_from("<III", dib, _INFO_HEADER)
        if header == _INFO_HEADER:
            start += 12 if compression == _BI_BITFIELDS else 16
    elif compression != _BI_RGB:
        raise DibError(f"compressed bitmap ({compression})")
    palette: list[bytes] = []
    if bits in (1, 4, 8):
        palette = _palette(dib, start, colors_used or 1 << bits, entry)
        start += len(palette) * entry
    elif bits not in (16, 24, 32):
        raise DibError(f"{bits} bits a pixel")
    stride = (width * bits + 31) // 32 * 4
    if start + stride * height > len(dib):
        raise DibError("truncated pixels")
    rows = [dib[start + y * stride : start + (y + 1) * stride] for y in range(height)]
    if not top_down:
        rows.reverse()
    if palette:
        return _indexed_rows(rows, bits, width, palette)
    if bits == 24:
        return _bgr_rows(rows, width)
    assert masks is not None
    return _masked_rows([row[: width * bits // 8] for row in rows], bits, masks)


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def _filtered(row: bytes, prior: bytes, bpp: int = 3) -> bytes:
    """The row with the PNG filter (None, Sub, Up, Average, Paeth) whose output has the
    smallest sum of absolute values (libpng's heuristic), its type byte first."""
    left = bytes(bpp) + row[:-bpp]
    upleft = bytes(bpp) + prior[:-bpp]
    candidates = [
        row,
        bytes((x - a) & 0xFF for x, a in zip(row, left, strict=True)),
        bytes((x - b) & 0xFF for x, b in zip(row, prior, strict=True)),
        bytes((x - (a + b) // 2) & 0xFF for x, a, b in zip(row, left, prior, strict=True)),
        bytes((x - _paeth(a, b, c)) & 0xFF
              for x, a, b, c in zip(row, left, prior, upleft, strict=True)),
    ]
    cost = [sum(v if v < 128 else 256 - v for v in line) for line in candidates]
    best = cost.index(min(cost))
    return bytes((best,)) + candidates[best]


def encode_png(pixels: Pixels) -> bytes:
    """An 8-bit RGB PNG of ``pixels`` (rows of R, G, B bytes, all of one width)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    width, height = len(pixels[0]) // 3, len(pixels)
    priors = [bytes(3 * width), *pixels[:-1]]
    raw = b"".join(_filtered(row, prior) for row, prior in zip(pixels, priors, strict=True))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b""))


def dib_png(dib_base64: str, rows: int) -> Iterator[tuple[str]]:
    """The base64 PNG of a base64 DIB, cut to its top ``rows`` rows (0: all of them); nothing
    when the bitmap cannot be decoded or has fewer rows."""
    try:
        dib = base64.b64decode(dib_base64, validate=True)
    except ValueError:  # binascii.Error, or a str that is not ASCII
        return
    try:
        pixels = decode_dib(dib)
    except DibError:
        return
    if rows < 0 or rows > len(pixels):
        return
    yield (base64.b64encode(encode_png(pixels[: rows or None])).decode("ascii"),)


RELATIONS: dict[str, PyRelation] = {
    "DibPng": PyRelation(dib_png, "bbf"),
}
