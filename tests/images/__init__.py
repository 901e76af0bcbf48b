"""Phony guest disk images for the tests, built on demand and cached.

    from tests.images import image, images, GUESTS
    path = image("debian")          # builds if missing or stale, returns the cached path
    disks = images("fedora-md")     # every disk of a multi-disk guest, in order

The cache is `$GUESTINSPECT_IMAGE_CACHE`, else `~/.cache/guestinspect/images/`.
Building needs the libguestfs Python bindings, hivexregedit, sqlite3 and xzcat.
"""

from __future__ import annotations

from pathlib import Path

from guestinspect.phony.build import BuildError, Guest, build, cache_dir, disk_paths, is_fresh
from tests.images.guests import GUESTS, UNSUPPORTED


def _register_extras() -> None:
    """The guests of issue 13's extra fields and issue 11's direct backend, registered here so
    that guests.py (whose source is in every image's hash) stays as it is; imported here, not
    at the top, to keep the import cycle of guests.py and hostile.py as mypy orders it."""
    from tests.images.direct import DIRECT
    from tests.images.linux_extras import EXTRAS

    GUESTS.update({guest.name: guest for guest in [*EXTRAS, *DIRECT]})


_register_extras()

__all__ = [
    "GUESTS",
    "UNSUPPORTED",
    "BuildError",
    "Guest",
    "build_images",
    "cache_dir",
    "image",
    "images",
    "is_fresh",
]


def _guest(name: str) -> Guest:
    if name in UNSUPPORTED:
        raise BuildError(f"{name}: not built: {UNSUPPORTED[name]}")
    try:
        return GUESTS[name]
    except KeyError:
        raise KeyError(f"unknown guest {name!r}; known: {', '.join(GUESTS)}") from None


def build_images(names: list[str], force: bool = False) -> dict[str, list[Path]]:
    """Build the named guests (sharing appliance launches); return their disk paths."""
    guests = [_guest(name) for name in names]
    build(guests, force=force)
    return {guest.name: disk_paths(guest) for guest in guests}


def images(name: str) -> list[Path]:
    """All disks of guest `name`, in the order they are to be added (built if needed)."""
    return build_images([name])[name]


def image(name: str) -> Path:
    """The (first) disk of guest `name` (built if needed)."""
    return images(name)[0]
