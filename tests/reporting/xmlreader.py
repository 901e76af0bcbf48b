"""Read virt-inspector XML back into inspection dicts (test helper)."""

from pathlib import Path
from typing import Any

from lxml import etree

NUMBERS = {"major_version", "minor_version"}


def _filesystem(el: Any) -> dict[str, Any]:
    fs: dict[str, Any] = {"dev": el.get("dev")}
    for child in el:
        fs[child.tag] = child.text or ""
        if child.tag == "type" and child.get("version") is not None:
            fs["version"] = child.get("version")
    return fs


def _application(el: Any) -> dict[str, Any]:
    app: dict[str, Any] = {}
    for child in el:
        if isinstance(child.tag, str):
            app[child.tag] = int(child.text) if child.tag == "epoch" else (child.text or "")
    return app


def read_xml(data: bytes) -> list[dict[str, Any]]:
    root = etree.fromstring(data)
    assert root.tag == "operatingsystems"
    result: list[dict[str, Any]] = []
    for os in root:
        d: dict[str, Any] = {}
        for el in os:
            if not isinstance(el.tag, str):
                continue
            if el.tag == "mountpoints":
                d["mountpoints"] = [{"dev": m.get("dev"), "path": m.text} for m in el]
            elif el.tag == "filesystems":
                d["filesystems"] = [_filesystem(f) for f in el]
            elif el.tag == "drive_mappings":
                d["drive_mappings"] = [{"name": m.get("name"), "dev": m.text} for m in el]
            elif el.tag == "applications":
                d["applications"] = [
                    _application(a) for a in el if isinstance(a.tag, str)
                ]
            elif el.tag == "windows_group_policy":
                d["windows_group_policy"] = True
            elif el.tag == "icon":
                d["icon"] = "".join((el.text or "").split())
            elif el.tag in NUMBERS:
                d[el.tag] = int(el.text)
            else:
                d[el.tag] = el.text or ""
        result.append(d)
    return result


def read_xml_file(path: Path) -> list[dict[str, Any]]:
    return read_xml(path.read_bytes())
