"""Windows icons as virt-inspector makes them (icoutils and netpbm: libguestfs's pipeline), to
compare guestinspect's pixels with; images are compared as PPM, whatever their PNG encoding."""

from __future__ import annotations

import base64
import struct
import subprocess
import tempfile
from pathlib import Path


def libguestfs_icon(exe: bytes, name: int, rows: int) -> bytes:
    """The PPM of what libguestfs makes of bitmap ``name`` of the PE file ``exe`` (``rows`` =
    0: all rows)."""
    cut = f" | pamcut -bottom {rows - 1}" if rows else ""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "explorer.exe"
        path.write_bytes(exe)
        pipeline = (f"wrestool -x --type=2 --name={name} '{path}' | bmptopnm{cut} | pnmtopng"
                    " | pngtopnm")
        done = subprocess.run(pipeline, shell=True, capture_output=True, check=True)
    return done.stdout


def ppm(png_base64: str) -> bytes:
    """The PPM of a base64 PNG."""
    png = base64.b64decode(png_base64)
    return subprocess.run(["pngtopnm"], input=png, capture_output=True, check=True).stdout


def bmptopnm(dib: bytes, palette_entries: int = 0) -> bytes:
    """netpbm's PPM of a DIB given a correct BMP file header (``palette_entries`` entries of 3
    bytes (OS/2) or 4 between the header and the pixels)."""
    (header,) = struct.unpack_from("<I", dib)
    offset = 14 + header + palette_entries * (3 if header == 12 else 4)
    bmp = b"BM" + struct.pack("<IHHI", 14 + len(dib), 0, 0, offset) + dib
    return subprocess.run(["bmptopnm"], input=bmp, capture_output=True, check=True).stdout
