"""guestinspect: inspect virtual machine disk images with Datalog rules.

The public API (docs/api.md)::

    import guestinspect
    oses = guestinspect.inspect(["disk.img"])          # one dict per operating system
    with guestinspect.Inspector(["disk.img"]) as insp:  # keeps the appliance open
        insp.inspect(); insp.explain("distro"); insp.write_facts("facts/mine")
"""

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
