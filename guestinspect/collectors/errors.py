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
