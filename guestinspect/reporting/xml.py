"""virt-inspector's XML, byte for byte.

virt-inspector writes with libxml2's ``xmlTextWriter``, indented by two spaces. This module
reproduces that output: the element order (that of the declarations in
``guestinspect/inspection/fields.py``, one writer per kind of field), the sort orders, the
``<?xml version="1.0"?>`` header, empty elements as ``<x/>``, and the writer's escaping (text:
``& < > "`` and CR; attributes: also TAB and LF, and non-ASCII characters as hexadecimal
character references).

One difference, on purpose: libxml2's writer copies characters that XML 1.0 forbids (C0
controls other than TAB, LF and CR; lone surrogates; U+FFFE and U+FFFF) into the document,
which is then not well-formed. Here each such character of a guest's text is written as
U+FFFD REPLACEMENT CHARACTER (docs/compatibility.md), so that the output always parses.

With ``extended=True`` the document also holds the extra fields (``guestinspect/inspection/
fields.py``), as elements of their own namespace at the end of each ``<operatingsystem>``
(``guestinspect.reporting.extended``; validated by ``schema/guestinspect-extended.rng``).
"""

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from guestinspect.inspection.core import CoreField, Kind
from guestinspect.inspection.extras import NAMESPACE, PREFIX
from guestinspect.inspection.fields import VIRT_INSPECTOR_FIELDS
from guestinspect.inspection.results import (
    CORE_FIELDS,
    DriveMapping,
    Mountpoint,
    application_order,
    drive_order,
    mountpoint_order,
)
from guestinspect.reporting.extended import Element, extra_elements
from guestinspect.reporting.surrogates import replace_surrogates

HEADER = '<?xml version="1.0"?>\n'

#: Icons are written in base64 lines of this many characters, separated by CR LF.
_BASE64_LINE = 72


#: Characters XML 1.0 does not allow, not even as a character reference.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
REPLACEMENT = "\ufffd"


def xml_chars(s: str) -> str:
    """``s`` with every character XML 1.0 forbids replaced by U+FFFD."""
    return _NOT_XML.sub(REPLACEMENT, s)


def escape_text(s: str) -> str:
    """Escape element content as libxml2's writer does (forbidden characters: U+FFFD)."""
    return (
        xml_chars(s).replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("\r", "&#13;")
    )


def escape_attribute(s: str) -> str:
    """Escape an attribute value as libxml2's writer does (it has no document encoding);
    forbidden characters become U+FFFD (``&#xFFFD;``)."""
    out: list[str] = []
    for c in xml_chars(s):
        if c == "&":
            out.append("&amp;")
        elif c == "<":
            out.append("&lt;")
        elif c == ">":
            out.append("&gt;")
        elif c == '"':
            out.append("&quot;")
        elif c in "\n\r\t":
            out.append(f"&#{ord(c)};")
        elif ord(c) >= 0x80:
            out.append(f"&#x{ord(c):X};")
        else:
            out.append(c)
    return "".join(out)


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def leaf(self, depth: int, tag: str, text: str, attrs: str = "") -> None:
        pad = "  " * depth
        if text == "":
            self.lines.append(f"{pad}<{tag}{attrs}/>")
        else:
            self.lines.append(f"{pad}<{tag}{attrs}>{escape_text(text)}</{tag}>")

    def open(self, depth: int, tag: str, attrs: str = "") -> None:
        self.lines.append(f"{'  ' * depth}<{tag}{attrs}>")

    def close(self, depth: int, tag: str) -> None:
        self.lines.append(f"{'  ' * depth}</{tag}>")

    def empty(self, depth: int, tag: str, attrs: str = "") -> None:
        self.lines.append(f"{'  ' * depth}<{tag}{attrs}/>")

    def group(self, depth: int, tag: str, children: Sequence[Any], child: Any) -> None:
        """``<tag>`` with one ``child(depth + 1, item)`` per item, or ``<tag/>`` if none."""
        if not children:
            self.empty(depth, tag)
            return
        self.open(depth, tag)
        for item in children:
            child(depth + 1, item)
        self.close(depth, tag)


def _attr(name: str, value: str) -> str:
    return f' {name}="{escape_attribute(value)}"'


def _text(value: object) -> str:
    return str(value)


# ---- one writer per kind (inspection/core.py), called in the declarations' order ----------

def _root(w: _Writer, f: CoreField, os: Mapping[str, Any]) -> None:
    if f.key in os:
        w.leaf(2, f.xml_name, os[f.key])


def _text_leaf(w: _Writer, f: CoreField, os: Mapping[str, Any]) -> None:
    if os.get(f.key) not in (None, "", "unknown"):
        w.leaf(2, f.xml_name, _text(os[f.key]))


def _number(w: _Writer, f: CoreField, os: Mapping[str, Any]) -> None:
    w.leaf(2, f.xml_name, str(os.get(f.key, 0)))


def _flag(w: _Writer, f: CoreField, os: Mapping[str, Any]) -> None:
    if os.get(f.key):
        w.empty(2, f.xml_name)


def _mountpoints(w: _Writer, f: CoreField, os: Mapping[str, Any]) -> None:
    def mountpoint(depth: int, m: Mountpoint) -> None:
        w.leaf(depth, f.item_element, m["path"], _attr("dev", m["dev"]))

    w.group(2, f.xml_name, sorted(os.get(f.key, []), key=mountpoint_order), mountpoint)


def _filesystems(w: _Writer, f: CoreField, os: Mapping[str, Any]) -> None:
    def filesystem(depth: int, fs: Mapping[str, str]) -> None:
        attrs = _attr("dev", fs["dev"])
        inner = _Writer()
        if fs.get("type"):
            version = fs.get("version") if fs["type"] == "xfs" else None
            inner.leaf(depth + 1, "type", fs["type"], _attr("version", version) if version else "")
        for key in ("label", "uuid"):
            if fs.get(key):
                inner.leaf(depth + 1, key, fs[key])
        if inner.lines:
            w.open(depth, f.item_element, attrs)
            w.lines.extend(inner.lines)
            w.close(depth, f.item_element)
        else:
            w.empty(depth, f.item_element, attrs)

    filesystems = sorted(os.get(f.key, []), key=lambda fs: fs["dev"])
    w.group(2, f.xml_name, filesystems, filesystem)


def _drive_mappings(w: _Writer, f: CoreField, os: Mapping[str, Any]) -> None:
    def drive(depth: int, d: DriveMapping) -> None:
        w.leaf(depth, f.item_element, d["dev"], _attr("name", d["name"]))

    drives = sorted(os.get(f.key, []), key=drive_order)
    if drives:
        w.group(2, f.xml_name, drives, drive)


def _applications(w: _Writer, f: CoreField, os: Mapping[str, Any]) -> None:
    def application(depth: int, app: Mapping[str, Any]) -> None:
        w.open(depth, f.item_element)
        for attr in f.attrs:
            value = app.get(attr.name)
            if value:  # an epoch of 0 is left out, as virt-inspector does
                w.leaf(depth + 1, attr.xml_name, _text(value))
        w.close(depth, f.item_element)

    if f.key in os:
        apps = sorted(os[f.key], key=application_order)
        w.group(2, f.xml_name, apps, application)


def _icon(w: _Writer, f: CoreField, os: Mapping[str, Any]) -> None:
    icon = os.get(f.key)
    if icon:
        text = str(icon)
        chunks = [text[i : i + _BASE64_LINE] for i in range(0, len(text), _BASE64_LINE)]
        w.lines.append(f"    <{f.xml_name}>" + "\r\n".join(chunks) + f"</{f.xml_name}>")


_WRITERS: dict[Kind, Callable[[_Writer, CoreField, Mapping[str, Any]], None]] = {
    "root": _root,
    "text": _text_leaf,
    "number": _number,
    "flag": _flag,
    "icon": _icon,
    "mountpoints": _mountpoints,
    "filesystems": _filesystems,
    "drive_mappings": _drive_mappings,
    "applications": _applications,
}


def _write_root(w: _Writer, os: Mapping[str, Any], extended: bool = False) -> None:
    w.open(1, "operatingsystem")
    for field in VIRT_INSPECTOR_FIELDS:
        _WRITERS[field.kind](w, field, os)
    if extended:
        for element in extra_elements(os, CORE_FIELDS):
            _write_element(w, 2, element)
    w.close(1, "operatingsystem")


def _write_element(w: _Writer, depth: int, e: Element) -> None:
    attrs = "".join(_attr(k, v) for k, v in e.attrs.items())
    if e.children:
        w.open(depth, e.tag, attrs)
        for child in e.children:
            _write_element(w, depth + 1, child)
        w.close(depth, e.tag)
    else:
        w.leaf(depth, e.tag, e.text, attrs)


def to_xml(inspections: Sequence[Mapping[str, Any]], extended: bool = False) -> str:
    """The whole document virt-inspector prints for these inspections; ``extended``: with the
    extra fields, in the namespace ``NAMESPACE``."""
    w = _Writer()
    attrs = _attr(f"xmlns:{PREFIX}", NAMESPACE) if extended else ""
    if not inspections:
        w.empty(0, "operatingsystems", attrs)
    else:
        w.open(0, "operatingsystems", attrs)
        for os in inspections:
            _write_root(w, replace_surrogates(os), extended)
        w.close(0, "operatingsystems")
    return HEADER + "\n".join(w.lines) + "\n"
