"""Windows registry hives read with hivex, as facts (docs/facts.md, "Registry conventions").

Everything here works on a local hive file: the image collector downloads each hive once and
reads it in a child process (collectors/isolate.py), as hivex may crash on a damaged hive.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import hivex

if TYPE_CHECKING:  # at run time this module imports nothing of guestinspect: it is also
    # loaded alone by the isolated hive reader (collectors/hive_child.py), which starts fast.
    from guestinspect.collectors.factset import FactSet

# hivex value types
_REG_NONE, _REG_SZ, _REG_EXPAND_SZ, _REG_BINARY = 0, 1, 2, 3
_REG_DWORD, _REG_MULTI_SZ, _REG_QWORD = 4, 7, 11


def _utf16(data: bytes) -> str:
    """A UTF-16LE string up to its first NUL (Windows leaves junk after it at times)."""
    end = len(data) - len(data) % 2
    for i in range(0, end, 2):
        if data[i] == 0 and data[i + 1] == 0:
            end = i
            break
    return data[:end].decode("utf-16-le", "replace")


def decode_value(vtype: int, data: bytes) -> tuple[str, str]:
    """The ``(type, data)`` columns of a RegistryValue fact for a raw value."""
    if vtype in (_REG_SZ, _REG_EXPAND_SZ):
        return ("sz" if vtype == _REG_SZ else "expand_sz"), _utf16(data)
    if vtype == _REG_MULTI_SZ:
        text = data[: len(data) - len(data) % 2].decode("utf-16-le", "replace")
        return "multi_sz", "\n".join(s for s in text.split("\x00") if s)
    if vtype == _REG_DWORD and len(data) == 4:
        return "dword", str(int.from_bytes(data, "little"))
    if vtype == _REG_QWORD and len(data) == 8:
        return "qword", str(int.from_bytes(data, "little"))
    name = {_REG_NONE: "none", _REG_BINARY: "binary"}.get(vtype, "other")
    return name, data.hex()


def open_hive(path: Path) -> tuple[Any, str | None]:
    """Open a hive read-only: ``(handle, None)``, or after an error ``(handle, message)``
    opened in hivex's lenient mode, or ``(None, message)`` if even that failed."""
    # libhivexmod is used directly: a failed hivex.Hivex() leaves a half object that complains
    # when collected.
    from hivex import libhivexmod

    message: str | None = None
    for flags in (0, 8):  # 8 = HIVEX_OPEN_UNSAFE: heuristics for damaged hives
        try:
            handle = libhivexmod.open(str(path), flags)
        except Exception as e:  # hivex raises RuntimeError with strerror text
            message = message or f"damaged hive ({e}); read what could be recovered"
            continue
        h = hivex.Hivex.__new__(hivex.Hivex)
        h._o = handle
        return h, message
    return None, (message or "cannot open hive").replace("; read what could be recovered", "")


def _find(h: Any, key: str) -> int | None:
    node: int = h.root()
    for part in (p for p in key.split("\\") if p):
        child = h.node_get_child(node, part)  # case-insensitive in hivex
        if not child:
            return None
        node = child
    return node


def read_key(h: Any, fs: str, hive: str, key: str) -> FactSet:
    """Facts for one WantRegistryKey(fs, hive, key) on an open hive handle ``h``."""
    facts: FactSet = {}

    def add(rel: str, *cols: str) -> None:
        facts.setdefault(rel, set()).add((fs, hive, *cols))

    try:
        node = _find(h, key)
    except Exception as e:
        add("HiveError", f"cannot look up {key}: {e}")
        return facts
    if node is None:
        add("RegistryKeyMissing", key)
        return facts
    add("RegistryKeyFound", key)
    try:
        children = h.node_children(node)
    except Exception as e:
        add("HiveError", f"cannot list subkeys of {key}: {e}")
        children = []
    for child in children:
        try:
            add("RegistrySubkey", key, h.node_name(child))
        except Exception as e:
            add("HiveError", f"bad subkey of {key}: {e}")
    try:
        values = h.node_values(node)
    except Exception as e:
        add("HiveError", f"cannot list values of {key}: {e}")
        values = []
    for v in values:
        try:
            name = h.value_key(v).lower()
            vtype, data = h.value_value(v)
        except Exception as e:
            add("HiveError", f"bad value in {key}: {e}")
            continue
        add("RegistryValue", key, name, *decode_value(vtype, data))
    return facts


def read_keys(path: Path, fs: str, hive: str, keys: Iterable[str]) -> FactSet:
    """Facts for several keys of the local hive file ``path`` (opened once)."""
    facts: FactSet = {}
    h, message = open_hive(path)
    if message is not None:
        facts.setdefault("HiveError", set()).add((fs, hive, message))
    if h is None:
        return facts
    for key in keys:  # base.merge, written out: this module imports nothing of guestinspect
        for rel, tuples in read_key(h, fs, hive, key).items():
            facts.setdefault(rel, set()).update(tuples)
    return facts
