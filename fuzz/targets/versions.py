"""``@version_cmp`` (functors/versions.py) on hostile version texts: dpkg's and rpm's orders.

The two versions come from one input (split at the first NUL, else in the middle). Only
ValueError may be raised (a refused version: the engine skips the tuple); a result is -1, 0
or 1, antisymmetric, and 0 when a version is compared with itself.
"""

from __future__ import annotations

from fuzz.targets import target
from guestinspect.functors.versions import version_cmp


def _seeds() -> list[bytes]:
    return [b"1:2.3.4-5~deb12u1\x001:2.3.4-5", b"1.0~rc1^git1\x001.0^20160101",
            b"3.0.7-27.el9\x003.0.7-28.el9_4", b"10.0001\x0010.1", b"xyz.4\x008",
            b"1.0a\x001.0.1", b"9" * 600 + b"\x00" + b"9" * 599 + b"8", b"~~~a\x00~~a",
            b"\xff\xfe1.\xc3(\x001.0", b"+_\x00_+"]


def _text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


@target("versions.cmp", _seeds, expected=(ValueError,))
def cmp(data: bytes) -> None:
    a, sep, b = data.partition(b"\0")
    if not sep:
        a, b = data[: len(data) // 2], data[len(data) // 2:]
    x, y = _text(a), _text(b)
    for kind in ("dpkg", "rpm"):
        try:
            r = version_cmp(kind, x, y)
        except ValueError:
            continue
        assert r in (-1, 0, 1), r
        assert version_cmp(kind, y, x) == -r, (kind, x, y)
        assert version_cmp(kind, x, x) == 0, (kind, x)
