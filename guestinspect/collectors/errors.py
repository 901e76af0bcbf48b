"""Errors of the collectors: each message is one line naming what failed."""

from guestinspect.errors import GuestinspectError


class CollectorError(GuestinspectError):
    """Something went wrong while reading a guest."""


class ImageError(CollectorError):
    """A disk image is missing, unreadable or not a disk image."""


class LaunchError(CollectorError):
    """The libguestfs appliance could not be started."""


class KeySpecError(CollectorError):
    """A ``--key`` selector could not be understood."""


class ParseError(CollectorError, ValueError):
    """Bytes of a guest (a package database, a PE file, a bitmap, a partition table) that a
    parser cannot read. Each parser has its own subclass and raises only it, whatever the
    input; its message names the damage (docs/security.md, "Parsers of guest bytes")."""
