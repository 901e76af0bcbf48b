"""Windows icons as virt-inspector makes them (icoutils and netpbm: libguestfs's pipeline), to
compare guestinspect's pixels with; images are compared as PPM, whatever their PNG encoding."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path


def libguestfs_icon(exe: Path, name: int, rows: int) -> bytes:
    """The PPM of what libguestfs makes of bitmap ``name`` of ``exe`` (``rows`` = 0: all)."""
    cut = f" | pamcut -bottom {rows - 1}" if rows else ""
    pipeline = f"wrestool -x --type=2 --name={name} '{exe}' | bmptopnm{cut} | pnmtopng | pngtopnm"
    done = subprocess.run(pipeline, shell=True, capture_output=True, check=True)
    return done.stdout


def ppm(png_base64: str) -> bytes:
    """The PPM of a base64 PNG."""
    png = base64.b64decode(png_base64)
    return subprocess.run(["pngtopnm"], input=png, capture_output=True, check=True).stdout
