"""One ``guestinspect -a IMAGE --facts-out DIR`` run of a hostile guest (tests/images/hostile.py),
made once a session by the ``inspected`` fixture (tests/cli/conftest.py) that
test_hostile_guests.py and test_direct_backend.py share."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

GUESTINSPECT = Path(sys.executable).parent / "guestinspect"
#: No hostile guest may take longer than this (a hang fails the test instead of the suite).
CLI_TIMEOUT = 900
WARNING = "guestinspect: warning: "


@dataclass(frozen=True)
class Run:
    """One ``guestinspect -a IMAGE --facts-out DIR`` run."""

    returncode: int
    xml: str
    stderr: str
    seconds: float
    facts: Path

    @property
    def warnings(self) -> list[str]:
        return [line[len(WARNING):] for line in self.stderr.splitlines()
                if line.startswith(WARNING)]

    def os(self) -> dict[str, Any]:
        """The fields of the one <operatingsystem> of the XML."""
        (os_,) = etree.fromstring(self.xml.encode()).findall("operatingsystem")
        fields: dict[str, Any] = {child.tag: child.text for child in os_
                                  if len(child) == 0 and child.tag != "icon"}
        fields["mountpoints"] = sorted((m.get("dev"), m.text)
                                       for m in os_.findall("mountpoints/mountpoint"))
        fields["filesystems"] = sorted(f.get("dev") for f in os_.findall("filesystems/filesystem"))
        fields["drive_mappings"] = sorted((d.get("name"), d.text)
                                          for d in os_.findall("drive_mappings/drive_mapping"))
        fields["applications"] = sorted(a.findtext("name") or ""
                                        for a in os_.findall("applications/application"))
        fields["icon"] = os_.findtext("icon")
        return fields
