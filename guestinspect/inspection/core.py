"""virt-inspector's fields ("core" fields), each declared once (see ``fields.py``).

A :class:`CoreField` says which output relation of ``rules/output.dl`` a field comes from, its
key in the inspection dict, its kind and its XML element. The order of the declarations is
the order of the elements in virt-inspector's ``<operatingsystem>``. From the declarations
come the dict builder (``results.py``), the XML writer (``reporting/xml.py``), ``--explain
FIELD``, the warning for a single-valued field with two values (``conflicts.py``), the
invariant tests and the check of docs/api.md's table.

The kinds, with the columns of their relation (the root first, as every output):

``root``            ``Root(root)``: the root itself, ``<root>``.
``text``            ``R(root, value: symbol)``: one string; absent when empty.
``number``          ``R(root, n: number)``: one int; the XML prints 0 when absent.
``flag``            ``R(root)``: ``True`` or absent; an empty element.
``icon``            ``R(root, png: symbol)``: base64 of a PNG of 16..1024 pixels a side.
``mountpoints``     ``R(root, path, dev)``: a list of ``{dev, path}``.
``filesystems``     ``R(root, dev)``: a list of ``{dev, type?, label?, uuid?, version?}``
                    (type, label, uuid, version from the base facts of the device).
``drive_mappings``  ``R(root, letter, dev)``: a list of ``{name, dev}``; absent when empty.
``applications``    ``R(root, key)`` and ``R…Field(root, key, field, value)``: a list of
                    dicts, the attributes in the declared order.

``text``, ``number`` and ``icon`` are single-valued: the rules must give at most one value per
root. Should they give more, the least is kept (output stays deterministic) and a warning
names the field, the root and the values.
"""

from dataclasses import dataclass
from typing import Literal

from guestinspect.inspection.extras import Attr

Kind = Literal[
    "root", "text", "number", "flag", "icon",
    "mountpoints", "filesystems", "drive_mappings", "applications",
]

#: The column types of each kind's relation (the root's included).
COLUMNS: dict[Kind, tuple[str, ...]] = {
    "root": ("symbol",),
    "text": ("symbol", "symbol"),
    "number": ("symbol", "number"),
    "flag": ("symbol",),
    "icon": ("symbol", "symbol"),
    "mountpoints": ("symbol", "symbol", "symbol"),
    "filesystems": ("symbol", "symbol"),
    "drive_mappings": ("symbol", "symbol", "symbol"),
    "applications": ("symbol", "symbol"),
}

#: The Python type of each kind's dict value (docs/api.md's "type" column starts with it).
PYTHON_TYPE: dict[Kind, type] = {
    "root": str, "text": str, "number": int, "flag": bool, "icon": str,
    "mountpoints": list, "filesystems": list, "drive_mappings": list, "applications": list,
}

#: The kinds with at most one value per root.
SINGLE_VALUED: frozenset[Kind] = frozenset({"text", "number", "icon"})

#: The order of the keys in the dict (and so in the JSON), by kind: the root, the strings,
#: the numbers, the flag, then the rest; in declaration order within a kind.
_DICT_RANK: dict[Kind, int] = {"root": 0, "text": 1, "number": 2, "flag": 3}


@dataclass(frozen=True)
class CoreField:
    """One of virt-inspector's fields (see the module's docstring for the kinds)."""

    key: str
    relation: str
    kind: Kind
    #: The XML element (default: ``key``)
    element: str = ""
    #: The XML element of each item of a list
    item_element: str = ""
    #: A second relation the field reads, with its column types (``ApplicationField``)
    detail: tuple[str, tuple[str, ...]] | None = None
    #: The attributes of each item, in XML order (applications)
    attrs: tuple[Attr, ...] = ()

    @property
    def xml_name(self) -> str:
        return self.element or self.key

    @property
    def single_valued(self) -> bool:
        return self.kind in SINGLE_VALUED

    @property
    def int_attrs(self) -> frozenset[str]:
        return frozenset(a.name for a in self.attrs if a.type == "int")

    @property
    def columns(self) -> tuple[str, ...]:
        return COLUMNS[self.kind]


def dict_order(fields: tuple[CoreField, ...]) -> tuple[CoreField, ...]:
    """The fields in the order their keys have in an inspection dict."""
    return tuple(sorted(fields, key=lambda f: _DICT_RANK.get(f.kind, 4)))


def relation_columns(fields: tuple[CoreField, ...]) -> dict[str, tuple[str, ...]]:
    """Every relation the fields read, with its declared column types."""
    out: dict[str, tuple[str, ...]] = {}
    for f in fields:
        out[f.relation] = f.columns
        if f.detail is not None:
            out[f.detail[0]] = f.detail[1]
    return out
