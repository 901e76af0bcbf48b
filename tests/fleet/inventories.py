"""Inventories for the query tests, written by the fleet's own writer
(``guestinspect.fleet.inventory.Inventory``) from recorded fact snapshots evaluated through
the public API: the shipped program over real facts, each snapshot standing for an image.

``windows-d.img`` is the windows snapshot with one more MountedDevices value, ``\\DosDevices\\D:``
naming the first partition (disk signature 31323334, offset 32768): a Windows guest with a D:
drive, which no recorded guest has.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from guestinspect.api import Inspector
from guestinspect.fleet.inputs import Guest
from guestinspect.fleet.inventory import Inventory, record_line
from guestinspect.fleet.worker import Outcome, database_facts, error_outcome, record
from tests.oracles import ROOT

#: image name -> snapshot (under facts/, or "windows-d": see above)
FLEET = {
    "/srv/debian-1.img": "debian",
    "/srv/debian-2.img": "debian",
    "/srv/ubuntu.img": "ubuntu",
    "/srv/fedora.img": "fedora",
    "/srv/archlinux.img": "archlinux",
    "/srv/windows.img": "windows",
    "/srv/windows-d.img": "windows-d",
    "/srv/windows-gpt.img+/srv/data.img": "windows-gpt",
}
MISSING = "/srv/missing.img"


def windows_with_d(directory: Path) -> Path:
    """The windows snapshot plus a D: drive on /dev/sda1."""
    target = directory / "windows-d"
    shutil.copytree(ROOT / "facts" / "windows", target)
    values = target / "RegistryValue.facts"
    line = next(ln for ln in values.read_text().splitlines() if "dosdevices\\\\c:" in ln)
    d = line.replace("dosdevices\\\\c:", "dosdevices\\\\d:").replace(
        "313233340000001000000000", "313233340080000000000000")
    assert d != line
    values.write_text(values.read_text() + d + "\n")
    return target


def build(path: Path, work: Path) -> Path:
    """The test fleet's inventory at ``path`` (``work``: a scratch directory)."""
    inventory = Inventory(path, "test", "rules-hash")
    try:
        for image, snapshot in FLEET.items():
            facts = windows_with_d(work) if snapshot == "windows-d" else \
                ROOT / "facts" / snapshot
            with Inspector.from_facts(facts) as insp:
                inspections = insp.inspect()
                warnings = insp.warnings()
                db = insp.database()
            guest = Guest(tuple(image.split("+")))
            rec = record(guest, status="partial" if warnings else "ok",
                         inspections=inspections, warnings=warnings, cached=True)
            outcome = Outcome(guest, rec, database_facts(db), key=f"key-{snapshot}")
            inventory.write(outcome, record_line(rec))
        gone = error_outcome(Guest((MISSING,)), f"{MISSING}: No such file or directory")
        inventory.write(gone, record_line(gone.record))
    finally:
        inventory.close()
    return path
