"""Turn the output relations (rules/output.dl) into one inspection dict per root.

The dicts use virt-inspector's field names (docs/api.md). A field the rules did not conclude
is absent, never ``None``. Lists are ordered as virt-inspector prints them. Which fields there
are, and their relations, come from their declarations (``fields.py``): one builder per kind
(``core.py``) makes each field's value. The TypedDicts below are for type checkers and
``tests/reporting/test_fields.py`` checks them against the declarations.
"""

import base64
import struct
from collections.abc import Callable, Iterable
from typing import Protocol, TypedDict, cast

from guestinspect.inspection.core import CoreField, Kind, dict_order
from guestinspect.inspection.extras import build_extras, least
from guestinspect.inspection.fields import EXTRA_FIELDS, VIRT_INSPECTOR_FIELDS


class Mountpoint(TypedDict):
    """A filesystem mounted at ``path`` in the guest."""

    dev: str
    path: str


class _FilesystemRequired(TypedDict):
    dev: str


class Filesystem(_FilesystemRequired, total=False):
    """A filesystem of the guest (from its fstab, or the root alone)."""

    type: str
    label: str
    uuid: str
    version: str


class DriveMapping(TypedDict):
    """A Windows drive letter (``name``, e.g. ``C``) and its device."""

    name: str
    dev: str


# ``class`` is a Python keyword, hence the functional syntax.
Application = TypedDict(
    "Application",
    {
        "name": str,
        "display_name": str,
        "epoch": int,
        "version": str,
        "release": str,
        "arch": str,
        "install_path": str,
        "publisher": str,
        "url": str,
        "source_package": str,
        "summary": str,
        "description": str,
        "class": str,
    },
    total=False,
)


class Inspection(TypedDict, total=False):
    """One operating system found in the disk images.

    Fields the rules add beyond virt-inspector are merged in at top level: the declared extra
    fields (``guestinspect/inspection/fields.py``: ``users``, ``timezone``, ``network`` …)
    and the ``Extra`` relation's string fields; they never replace the fields below.
    """

    root: str
    name: str
    arch: str
    distro: str
    product_name: str
    product_variant: str
    major_version: int
    minor_version: int
    package_format: str
    package_management: str
    windows_systemroot: str
    windows_current_control_set: str
    windows_group_policy: bool
    hostname: str
    build_id: str
    osinfo: str
    mountpoints: list[Mountpoint]
    filesystems: list[Filesystem]
    drive_mappings: list[DriveMapping]
    applications: list[Application]
    icon: str


class TupleSource(Protocol):
    """What this module needs of a ``guestinspect.datalog.Database``."""

    def tuples(self, name: str) -> Iterable[tuple[object, ...]]: ...


#: Single-valued string fields: inspection field -> output relation (columns root, value).
STRING_FIELDS: dict[str, str] = {
    f.key: f.relation for f in VIRT_INSPECTOR_FIELDS if f.kind == "text"
}

#: Single-valued number fields.
NUMBER_FIELDS: dict[str, str] = {
    f.key: f.relation for f in VIRT_INSPECTOR_FIELDS if f.kind == "number"
}

#: Every field and the output relation it comes from (used by ``--explain``).
FIELD_RELATIONS: dict[str, str] = {
    **{f.key: f.relation for f in VIRT_INSPECTOR_FIELDS},
    **{f.key: f.relation for f in EXTRA_FIELDS},
}

#: The keys virt-inspector has (everything else in an inspection dict is an extra).
CORE_FIELDS = frozenset(f.key for f in VIRT_INSPECTOR_FIELDS)

#: The fields of an application, in the order virt-inspector prints them.
APPLICATION_FIELDS: tuple[str, ...] = next(
    tuple(a.name for a in f.attrs) for f in VIRT_INSPECTOR_FIELDS if f.kind == "applications"
)


def mountpoint_order(m: Mountpoint) -> tuple[int, str]:
    """virt-inspector's order: shortest mount path first, then by path."""
    return (len(m["path"].encode()), m["path"])


def drive_order(d: DriveMapping) -> tuple[str, str]:
    """virt-inspector's order: drive letter, ignoring ASCII case."""
    return (_ascii_lower(d["name"]), d["name"])


def application_order(a: Application) -> str:
    """virt-inspector's order: by name (a stable sort keeps equal names as they come)."""
    return a.get("name", "")


def _ascii_lower(s: str) -> str:
    return "".join(c.lower() if c.isascii() else c for c in s)


class _Index:
    """The tuples of each relation, grouped by their first column (the root)."""

    def __init__(self, source: TupleSource) -> None:
        self.source = source
        self.cache: dict[str, dict[str, list[tuple[object, ...]]]] = {}

    def rows(self, relation: str, root: str) -> list[tuple[object, ...]]:
        if relation not in self.cache:
            grouped: dict[str, list[tuple[object, ...]]] = {}
            for t in self.source.tuples(relation):
                grouped.setdefault(str(t[0]), []).append(t[1:])
            self.cache[relation] = grouped
        return self.cache[relation].get(root, [])

    def value(self, relation: str, root: str) -> object | None:
        """The one value of a single-valued relation: the least, should the rules give
        several (``conflicts.py`` warns of that)."""
        values = [r[0] for r in self.rows(relation, root)]
        return least(values) if values else None


class _Reader:
    """What the builders read of one database: the output relations by root, and (once)
    the base facts and icons of every root."""

    def __init__(self, source: TupleSource) -> None:
        self.source = source
        self.index = _Index(source)
        self._base: dict[str, dict[str, str]] = {}
        self._icons: dict[str, dict[str, str]] = {}

    def base(self, relation: str) -> dict[str, str]:
        if relation not in self._base:
            self._base[relation] = _base_facts(self.source, relation)
        return self._base[relation]

    def icons(self, relation: str) -> dict[str, str]:
        if relation not in self._icons:
            self._icons[relation] = _icons(self.source, relation)
        return self._icons[relation]


def _number(v: object) -> int:
    return v if isinstance(v, int) else int(str(v))


def _base_facts(source: TupleSource, relation: str) -> dict[str, str]:
    """A base relation ``(fs, value)`` as a dict (the least value if there are several)."""
    out: dict[str, str] = {}
    for fs, value in sorted((str(t[0]), str(t[1])) for t in source.tuples(relation)):
        out.setdefault(fs, value)
    return out


def png_icon(data: str) -> bool:
    """Whether base64 ``data`` is a PNG of 16..1024 pixels a side (what libguestfs accepts)."""
    try:
        raw = base64.b64decode(data[:64] + "=" * (-len(data[:64]) % 4), validate=True)
    except ValueError:
        return False
    if raw[:8] != b"\x89PNG\r\n\x1a\n" or raw[12:16] != b"IHDR" or len(raw) < 24:
        return False
    width, height = struct.unpack(">II", raw[16:24])
    return bool(16 <= width <= 1024 and 16 <= height <= 1024)


def _icons(source: TupleSource, relation: str) -> dict[str, str]:
    """root -> base64 of its icon, when that is a PNG of a size libguestfs takes."""
    icons: dict[str, str] = {}
    for root, data in sorted((str(a), str(b)) for a, b in source.tuples(relation)):
        if png_icon(data):
            icons.setdefault(root, data)
    return icons


# ---- one builder per kind (core.py): the dict value of a field for a root, None if absent --

def _root(r: _Reader, f: CoreField, root: str) -> object | None:
    return root


def _text(r: _Reader, f: CoreField, root: str) -> object | None:
    v = r.index.value(f.relation, root)
    return str(v) if v is not None and str(v) != "" else None


def _number_value(r: _Reader, f: CoreField, root: str) -> object | None:
    v = r.index.value(f.relation, root)
    return _number(v) if v is not None else None


def _flag(r: _Reader, f: CoreField, root: str) -> object | None:
    return True if r.index.rows(f.relation, root) else None


def _icon(r: _Reader, f: CoreField, root: str) -> object | None:
    return r.icons(f.relation).get(root)


def _mountpoints(r: _Reader, f: CoreField, root: str) -> object | None:
    mountpoints = [
        Mountpoint(dev=str(dev), path=str(path)) for path, dev in r.index.rows(f.relation, root)
    ]
    return sorted(mountpoints, key=mountpoint_order)


def _filesystems(r: _Reader, f: CoreField, root: str) -> object | None:
    vfs_type = r.base("Filesystem")
    filesystems: list[Filesystem] = []
    for dev in sorted({str(row[0]) for row in r.index.rows(f.relation, root)}):
        fs = Filesystem(dev=dev)
        # "unknown" is the collector's word for no signature: no type, as virt-inspector.
        if vfs_type.get(dev) not in (None, "", "unknown"):
            fs["type"] = vfs_type[dev]
        if label := r.base("FsLabel").get(dev):
            fs["label"] = label
        if uuid := r.base("FsUuid").get(dev):
            fs["uuid"] = uuid
        if version := r.base("FsVersion").get(dev):
            fs["version"] = version
        filesystems.append(fs)
    return filesystems


def _drive_mappings(r: _Reader, f: CoreField, root: str) -> object | None:
    drives = [
        DriveMapping(name=str(letter), dev=str(dev))
        for letter, dev in r.index.rows(f.relation, root)
    ]
    return sorted(drives, key=drive_order) or None


def _applications(r: _Reader, f: CoreField, root: str) -> object | None:
    """``Application(root, key)``: ``key`` identifies one application. Its name is the
    ``name`` field if the rules give one (two packages may share a name), else the key.
    Applications with the same name are ordered by key."""
    apps: dict[str, dict[str, object]] = {}
    for (key,) in r.index.rows(f.relation, root):
        apps[str(key)] = {}
    detail = f.detail[0] if f.detail else ""
    rows = sorted((str(k), str(a), str(v)) for k, a, v in r.index.rows(detail, root))
    int_attrs = f.int_attrs
    for key, field, value in rows:
        app = apps.get(key)
        if app is None or field in app:
            continue
        if field in int_attrs:
            try:
                app[field] = int(value)
            except ValueError:
                continue
        else:
            app[field] = value
    result: list[Application] = []
    names = [a.name for a in f.attrs]
    for key in sorted(apps, key=lambda k: (str(apps[k].get("name", k)), k)):
        app = {"name": key, **apps[key]}
        known = {name: app[name] for name in names if name in app}
        result.append(cast(Application, {**known, **app}))
    return result


_Builder = Callable[[_Reader, CoreField, str], object | None]

_BUILDERS: dict[Kind, _Builder] = {
    "root": _root,
    "text": _text,
    "number": _number_value,
    "flag": _flag,
    "icon": _icon,
    "mountpoints": _mountpoints,
    "filesystems": _filesystems,
    "drive_mappings": _drive_mappings,
    "applications": _applications,
}

#: The fields in the order of the dict's keys.
_DICT_ORDER = dict_order(VIRT_INSPECTOR_FIELDS)

#: The ``root`` field's declaration (its relation: one inspection per tuple).
ROOT_FIELD = next(f for f in VIRT_INSPECTOR_FIELDS if f.kind == "root")


def build_inspections(source: TupleSource) -> list[Inspection]:
    """One inspection dict per root, ordered by root device; its keys in the order of
    ``core.dict_order`` (the JSON's order), then the extra fields, then ``Extra``'s."""
    reader = _Reader(source)
    roots = sorted({str(t[0]) for t in source.tuples(ROOT_FIELD.relation)})
    extras = build_extras(EXTRA_FIELDS, source, roots)

    inspections: list[Inspection] = []
    for root in roots:
        d: dict[str, object] = {}
        for f in _DICT_ORDER:
            value = _BUILDERS[f.kind](reader, f, root)
            if value is not None:
                d[f.key] = value
        for key, extra in extras[root].items():
            d.setdefault(key, extra)
        for field, value in sorted((str(f), str(v)) for f, v in reader.index.rows("Extra", root)):
            d.setdefault(field, value)
        inspections.append(cast(Inspection, d))
    return inspections


def without_extras(inspection: Inspection) -> Inspection:
    """The inspection with virt-inspector's fields only (``--no-extras``)."""
    return cast(Inspection, {k: v for k, v in inspection.items() if k in CORE_FIELDS})
