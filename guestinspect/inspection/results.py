"""Turn the output relations (rules/output.dl) into one inspection dict per root.

The dicts use virt-inspector's field names (docs/api.md). A field the rules did not conclude
is absent, never ``None``. Lists are ordered as virt-inspector prints them.
"""

import base64
import struct
from collections.abc import Iterable
from typing import Protocol, TypedDict, cast

from guestinspect.inspection.extras import build_extras
from guestinspect.inspection.fields import EXTRA_FIELDS


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
    "name": "OsType",
    "arch": "Arch",
    "distro": "OsDistro",
    "product_name": "ProductName",
    "product_variant": "ProductVariant",
    "package_format": "PackageFormat",
    "package_management": "PackageManagement",
    "windows_systemroot": "WindowsSystemroot",
    "windows_current_control_set": "WindowsCurrentControlSet",
    "hostname": "Hostname",
    "build_id": "BuildId",
    "osinfo": "Osinfo",
}

#: Single-valued number fields.
NUMBER_FIELDS: dict[str, str] = {
    "major_version": "MajorVersion",
    "minor_version": "MinorVersion",
}

#: Every field and the output relation it comes from (used by ``--explain``).
FIELD_RELATIONS: dict[str, str] = {
    "root": "Root",
    **STRING_FIELDS,
    **NUMBER_FIELDS,
    "windows_group_policy": "WindowsGroupPolicy",
    "mountpoints": "Mountpoint",
    "filesystems": "RootFilesystem",
    "drive_mappings": "DriveMapping",
    "applications": "Application",
    "icon": "Icon",
    **{f.key: f.relation for f in EXTRA_FIELDS},
}

#: The keys virt-inspector has (everything else in an inspection dict is an extra).
CORE_FIELDS = frozenset(Inspection.__annotations__)

#: The fields of an application, in the order virt-inspector prints them.
APPLICATION_FIELDS = (
    "name",
    "display_name",
    "epoch",
    "version",
    "release",
    "arch",
    "install_path",
    "publisher",
    "url",
    "source_package",
    "summary",
    "description",
    "class",
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


def _first(values: Iterable[object]) -> object:
    """The one value of a single-valued relation (the least, should the rules give several)."""
    return min(values, key=lambda v: (str(type(v)), v))


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
        values = [r[0] for r in self.rows(relation, root)]
        return _first(values) if values else None


def _number(v: object) -> int:
    return v if isinstance(v, int) else int(str(v))


def _base_facts(source: TupleSource, relation: str) -> dict[str, str]:
    """A base relation ``(fs, value)`` as a dict (the least value if there are several)."""
    out: dict[str, str] = {}
    for fs, value in sorted((str(t[0]), str(t[1])) for t in source.tuples(relation)):
        out.setdefault(fs, value)
    return out


def _applications(index: _Index, root: str) -> list[Application]:
    """``Application(root, key)``: ``key`` identifies one application. Its name is the
    ``name`` field if the rules give one (two packages may share a name), else the key.
    Applications with the same name are ordered by key."""
    apps: dict[str, dict[str, object]] = {}
    for (key,) in index.rows("Application", root):
        apps[str(key)] = {}
    fields = sorted((str(k), str(f), str(v)) for k, f, v in index.rows("ApplicationField", root))
    for key, field, value in fields:
        app = apps.get(key)
        if app is None or field in app:
            continue
        if field == "epoch":
            try:
                app[field] = int(value)
            except ValueError:
                continue
        else:
            app[field] = value
    result: list[Application] = []
    for key in sorted(apps, key=lambda k: (str(apps[k].get("name", k)), k)):
        app = {"name": key, **apps[key]}
        known = {f: app[f] for f in APPLICATION_FIELDS if f in app}
        result.append(cast(Application, {**known, **app}))
    return result


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


def _icons(source: TupleSource) -> dict[str, str]:
    """root -> base64 of its icon (``Icon``), when that is a PNG of a size libguestfs takes."""
    icons: dict[str, str] = {}
    for root, data in sorted((str(a), str(b)) for a, b in source.tuples("Icon")):
        if png_icon(data):
            icons.setdefault(root, data)
    return icons


def build_inspections(source: TupleSource) -> list[Inspection]:
    """One inspection dict per ``Root``, ordered by root device."""
    index = _Index(source)
    vfs_type = _base_facts(source, "Filesystem")
    labels = _base_facts(source, "FsLabel")
    uuids = _base_facts(source, "FsUuid")
    versions = _base_facts(source, "FsVersion")
    icons = _icons(source)
    roots = sorted({str(t[0]) for t in source.tuples("Root")})
    extras = build_extras(EXTRA_FIELDS, source, roots)

    inspections: list[Inspection] = []
    for root in roots:
        d: dict[str, object] = {"root": root}
        for field, relation in STRING_FIELDS.items():
            v = index.value(relation, root)
            if v is not None and str(v) != "":
                d[field] = str(v)
        for field, relation in NUMBER_FIELDS.items():
            v = index.value(relation, root)
            if v is not None:
                d[field] = _number(v)
        if index.rows("WindowsGroupPolicy", root):
            d["windows_group_policy"] = True

        mountpoints = [
            Mountpoint(dev=str(dev), path=str(path))
            for path, dev in index.rows("Mountpoint", root)
        ]
        d["mountpoints"] = sorted(mountpoints, key=mountpoint_order)

        filesystems: list[Filesystem] = []
        for dev in sorted({str(r[0]) for r in index.rows("RootFilesystem", root)}):
            fs = Filesystem(dev=dev)
            # "unknown" is the collector's word for no signature: no type, as virt-inspector.
            if vfs_type.get(dev) not in (None, "", "unknown"):
                fs["type"] = vfs_type[dev]
            if labels.get(dev):
                fs["label"] = labels[dev]
            if uuids.get(dev):
                fs["uuid"] = uuids[dev]
            if versions.get(dev):
                fs["version"] = versions[dev]
            filesystems.append(fs)
        d["filesystems"] = filesystems

        drives = [
            DriveMapping(name=str(letter), dev=str(dev))
            for letter, dev in index.rows("DriveMapping", root)
        ]
        if drives:
            d["drive_mappings"] = sorted(drives, key=drive_order)

        d["applications"] = _applications(index, root)
        if root in icons:
            d["icon"] = icons[root]

        for key, extra in extras[root].items():
            d.setdefault(key, extra)
        for field, value in sorted((str(f), str(v)) for f, v in index.rows("Extra", root)):
            d.setdefault(field, value)
        inspections.append(cast(Inspection, d))
    return inspections


def without_extras(inspection: Inspection) -> Inspection:
    """The inspection with virt-inspector's fields only (``--no-extras``)."""
    return cast(Inspection, {k: v for k, v in inspection.items() if k in CORE_FIELDS})
