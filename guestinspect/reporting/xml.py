"""virt-inspector's XML, byte for byte.

virt-inspector writes with libxml2's ``xmlTextWriter``, indented by two spaces. This module
reproduces that output: the element order, the sort orders, the ``<?xml version="1.0"?>``
header, empty elements as ``<x/>``, and the writer's escaping (text: ``& < > "`` and CR;
attributes: also TAB and LF, and non-ASCII characters as hexadecimal character references).

One difference, on purpose: libxml2's writer copies characters that XML 1.0 forbids (C0
controls other than TAB, LF and CR; lone surrogates; U+FFFE and U+FFFF) into the document,
which is then not well-formed. Here each such character of a guest's text is written as
U+FFFD REPLACEMENT CHARACTER (docs/compatibility.md), so that the output always parses.

With ``extended=True`` the document also holds the extra fields (``guestinspect/inspection/
fields.py``), as elements of their own namespace at the end of each ``<operatingsystem>``
(``guestinspect.reporting.extended``; validated by ``schema/guestinspect-extended.rng``).
"""

import re
from collections.abc import Mapping, Sequence
from typing import Any

from guestinspect.inspection.extras import NAMESPACE, PREFIX
from guestinspect.inspection.results import (
    APPLICATION_FIELDS,
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

#: Single-valued fields, in virt-inspector's order; ``windows_group_policy`` goes between
#: ``windows_current_control_set`` and ``hostname``.
_HEAD_FIELDS = (
    "name",
    "arch",
    "distro",
    "product_name",
    "product_variant",
    "major_version",
    "minor_version",
    "package_format",
    "package_management",
    "windows_systemroot",
    "windows_current_control_set",
    "windows_group_policy",
    "hostname",
    "build_id",
    "osinfo",
)

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


def _write_root(w: _Writer, os: Mapping[str, Any], extended: bool = False) -> None:
    w.open(1, "operatingsystem")
    if "root" in os:
        w.leaf(2, "root", os["root"])
    for field in _HEAD_FIELDS:
        if field == "windows_group_policy":
            if os.get(field):
                w.empty(2, field)
        elif field in ("major_version", "minor_version"):
            w.leaf(2, field, str(os.get(field, 0)))
        elif os.get(field) not in (None, "", "unknown"):
            w.leaf(2, field, _text(os[field]))

    def mountpoint(depth: int, m: Mountpoint) -> None:
        w.leaf(depth, "mountpoint", m["path"], _attr("dev", m["dev"]))

    w.group(2, "mountpoints", sorted(os.get("mountpoints", []), key=mountpoint_order), mountpoint)

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
            w.open(depth, "filesystem", attrs)
            w.lines.extend(inner.lines)
            w.close(depth, "filesystem")
        else:
            w.empty(depth, "filesystem", attrs)

    filesystems = sorted(os.get("filesystems", []), key=lambda f: f["dev"])
    w.group(2, "filesystems", filesystems, filesystem)

    def drive(depth: int, d: DriveMapping) -> None:
        w.leaf(depth, "drive_mapping", d["dev"], _attr("name", d["name"]))

    drives = sorted(os.get("drive_mappings", []), key=drive_order)
    if drives:
        w.group(2, "drive_mappings", drives, drive)

    def application(depth: int, app: Mapping[str, Any]) -> None:
        w.open(depth, "application")
        for key in APPLICATION_FIELDS:
            value = app.get(key)
            if key == "epoch":
                if value:
                    w.leaf(depth + 1, key, str(value))
            elif value:
                w.leaf(depth + 1, key, _text(value))
        w.close(depth, "application")

    if "applications" in os:
        apps = sorted(os["applications"], key=application_order)
        w.group(2, "applications", apps, application)

    icon = os.get("icon")
    if icon:
        text = str(icon)
        chunks = [text[i : i + _BASE64_LINE] for i in range(0, len(text), _BASE64_LINE)]
        w.lines.append("    <icon>" + "\r\n".join(chunks) + "</icon>")
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
