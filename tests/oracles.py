"""Where the upstream virt-inspector outputs and the schema are (shared test data)."""

from pathlib import Path

# the read-only shared material beside the checkout (or $GUESTINSPECT_SHARED)
from guestinspect.phony.content import SHARED

ROOT = Path(__file__).resolve().parents[1]
ORACLES = SHARED / "oracles" / "libguestfs"
SCHEMA = ROOT / "schema" / "virt-inspector.rng"


def expected_files() -> list[Path]:
    """Upstream's expected-GUEST.img.xml test oracles."""
    return sorted(ORACLES.glob("expected-*.img.xml"))


def example_files() -> list[Path]:
    """Upstream's documentation examples (real guests)."""
    return sorted((ORACLES / "examples").glob("example-*.xml"))


def guest_of(path: Path) -> str:
    """``expected-fedora-lvm-on-luks.img.xml`` -> ``fedora-lvm-on-luks``."""
    return path.name.removeprefix("expected-").removesuffix(".img.xml")
