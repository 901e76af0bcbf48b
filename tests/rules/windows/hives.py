"""Build real registry hives for the tests: .reg text merged into copies of libguestfs's
minimal hive with hivexregedit (tests.images.content.make_hive)."""

from __future__ import annotations

import lzma
import struct
import uuid
from dataclasses import dataclass
from pathlib import Path

from tests.images import content
from tests.oracles import SHARED


@dataclass(frozen=True)
class Qword:
    """A REG_QWORD value."""

    value: int


@dataclass(frozen=True)
class ExpandSz:
    """A REG_EXPAND_SZ value."""

    text: str


@dataclass(frozen=True)
class MultiSz:
    """A REG_MULTI_SZ value."""

    items: tuple[str, ...]


@dataclass(frozen=True)
class RegNone:
    """A REG_NONE value (its bytes as they are)."""

    data: bytes


RegValue = str | int | bytes | Qword | ExpandSz | MultiSz | RegNone
RegKeys = dict[str, dict[str, RegValue]]

SOFTWARE = "HKEY_LOCAL_MACHINE\\SOFTWARE"
SYSTEM = "HKEY_LOCAL_MACHINE\\SYSTEM"
SAM = "HKEY_LOCAL_MACHINE\\SAM"
SECURITY = "HKEY_LOCAL_MACHINE\\SECURITY"
REAL_HIVES = SHARED / "testdata" / "real-hives"


def _quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _hex(type_: str, data: bytes) -> str:
    return f"hex({type_}):" + ",".join(f"{b:02x}" for b in data)


def _value(v: RegValue) -> str:
    if isinstance(v, Qword):
        return _hex("b", struct.pack("<Q", v.value))
    if isinstance(v, RegNone):
        return _hex("0", v.data)
    if isinstance(v, ExpandSz):
        return "str(2):" + _quote(v.text)
    if isinstance(v, MultiSz):
        return _hex("7", "".join(f"{i}\0" for i in v.items).encode("utf-16-le") + b"\0\0")
    if isinstance(v, str):
        return "str(1):" + _quote(v)
    if isinstance(v, int):
        return f"dword:{v:08x}"
    return "hex(3):" + ",".join(f"{b:02x}" for b in v)


def reg_text(prefix: str, keys: RegKeys) -> str:
    """A .reg file setting ``keys`` (paths relative to the hive root) and their ancestors."""
    every: dict[str, dict[str, RegValue]] = {}
    for key, values in keys.items():
        parts = key.split("\\")
        for i in range(1, len(parts)):
            every.setdefault("\\".join(parts[:i]), {})
        every.setdefault(key, {}).update(values)
    out = []
    for key in sorted(every, key=lambda k: k.count("\\")):
        out.append(f"[{prefix}\\{key}]")
        out.extend(f"{_quote(name) if name else '@'}={_value(v)}"  # "": the default value
                   for name, v in every[key].items())
        out.append("")
    return "\n".join(out)


def make(workdir: Path, name: str, prefix: str, keys: RegKeys) -> Path:
    """A hive file ``workdir/name`` holding ``keys``."""
    workdir.mkdir(parents=True, exist_ok=True)
    return content.make_hive(workdir, reg_text(prefix, keys), prefix, name)


def phony(workdir: Path, which: str) -> Path:
    """libguestfs's phony Windows 7 SOFTWARE or SYSTEM hive, from the shared .reg files."""
    workdir.mkdir(parents=True, exist_ok=True)
    if which == "software":
        return content.software_hive(workdir)
    return content.system_hive(workdir)


def real(workdir: Path, name: str) -> Path:
    """A real hive from the shared test data, decompressed."""
    out = workdir / name
    if not out.exists():
        workdir.mkdir(parents=True, exist_ok=True)
        out.write_bytes(lzma.decompress((REAL_HIVES / f"{name}.xz").read_bytes()))
    return out


def mbr_blob(signature: bytes, offset: int) -> bytes:
    return signature + struct.pack("<Q", offset)


def gpt_blob(guid: str) -> bytes:
    return b"DMIO:ID:" + uuid.UUID(guid).bytes_le
