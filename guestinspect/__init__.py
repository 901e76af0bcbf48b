"""guestinspect: inspect virtual machine disk images with Datalog rules.

The public API (docs/api.md)::

    import guestinspect
    oses = guestinspect.inspect(["disk.img"])          # one dict per operating system
    with guestinspect.Inspector(["disk.img"]) as insp:  # keeps the appliance open
        insp.inspect(); insp.explain("distro"); insp.write_facts("facts/mine")
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from guestinspect.api import Inspector, inspect
    from guestinspect.errors import FactsError, GuestinspectError, ImageError, RuleError, UsageError
    from guestinspect.inspection.results import (
        Application,
        DriveMapping,
        Filesystem,
        Inspection,
        Mountpoint,
    )
    from guestinspect.reporting.json import to_json
    from guestinspect.reporting.xml import to_xml

#: Where each public name is defined: imported on first use (PEP 562), so that a command
#: that needs none of them (``guestinspect datalog``) does not import the whole inspector.
_HOMES = {
    "Inspector": "guestinspect.api", "inspect": "guestinspect.api",
    "FactsError": "guestinspect.errors", "GuestinspectError": "guestinspect.errors",
    "ImageError": "guestinspect.errors", "RuleError": "guestinspect.errors",
    "UsageError": "guestinspect.errors",
    "Application": "guestinspect.inspection.results",
    "DriveMapping": "guestinspect.inspection.results",
    "Filesystem": "guestinspect.inspection.results",
    "Inspection": "guestinspect.inspection.results",
    "Mountpoint": "guestinspect.inspection.results",
    "to_json": "guestinspect.reporting.json", "to_xml": "guestinspect.reporting.xml",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'guestinspect' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


__all__ = [
    "Application",
    "DriveMapping",
    "FactsError",
    "Filesystem",
    "GuestinspectError",
    "ImageError",
    "Inspection",
    "Inspector",
    "Mountpoint",
    "RuleError",
    "UsageError",
    "inspect",
    "to_json",
    "to_xml",
]
