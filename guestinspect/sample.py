"""``python -m guestinspect.sample``: inspect a small Debian guest and print the XML.

From a checkout, the phony ``debian`` test image is built (or taken from the cache) with
``tests.images`` and inspected through libguestfs. Without the image machinery (an installed
wheel), the shipped fact snapshot ``facts/debian/`` is inspected instead (no appliance).
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
    if str(CHECKOUT) not in sys.path:
        sys.path.insert(0, str(CHECKOUT))
    try:
        from tests.images import image
    except ImportError:
        return None
    print("building (or reusing) the phony debian image…", file=sys.stderr)
    return Path(image("debian"))


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
            print("guestinspect.sample: no test images and no facts/debian snapshot",
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
