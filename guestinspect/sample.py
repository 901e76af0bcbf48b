"""``python -m guestinspect.sample``: inspect a small Debian guest and print the XML.

The phony ``debian`` image is built (or taken from the cache) by the package's own image
machinery (``guestinspect.phony``) and inspected through libguestfs. Where it cannot be built
(no libguestfs phony-guest data beside the checkout, as in an installed wheel), the shipped fact
snapshot ``facts/debian/`` is inspected instead (no appliance).
"""

import os
import sys
from pathlib import Path

from guestinspect.api import Inspector
from guestinspect.errors import GuestinspectError
from guestinspect.reporting.xml import to_xml

CHECKOUT = Path(__file__).resolve().parents[1]


def _snapshot() -> Path | None:
    for base in (CHECKOUT / "facts", Path(__file__).resolve().parent / "facts"):
        if (base / "debian").is_dir():
            return base / "debian"
    return None


def _image() -> Path | None:
    """The sample image, built if it is not cached; None (and why) if it cannot be."""
    from guestinspect.phony.build import build, disk_paths
    from guestinspect.phony.debian import DEBIAN

    print("building (or reusing) the phony debian image…", file=sys.stderr)
    try:
        build([DEBIAN])
    except (RuntimeError, OSError, ImportError) as e:  # no phony data, no libguestfs…
        print(f"guestinspect.sample: cannot build the image: {e}", file=sys.stderr)
        return None
    return disk_paths(DEBIAN)[0]


def main() -> int:
    os.environ.setdefault("LIBGUESTFS_BACKEND_SETTINGS", "force_tcg")
    try:
        disk = _image()
        if disk is not None:
            print(f"inspecting {disk}", file=sys.stderr)
            with Inspector([disk], format="raw") as inspector:
                sys.stdout.write(to_xml(inspector.inspect()))
            return 0
        snapshot = _snapshot()
        if snapshot is None:
            print("guestinspect.sample: no sample image and no facts/debian snapshot",
                  file=sys.stderr)
            return 1
        print(f"inspecting the fact snapshot {snapshot}", file=sys.stderr)
        with Inspector.from_facts(snapshot) as inspector:
            sys.stdout.write(to_xml(inspector.inspect()))
        return 0
    except GuestinspectError as e:
        print(f"guestinspect.sample: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
