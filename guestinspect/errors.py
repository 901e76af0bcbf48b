"""Every error guestinspect reports to its user, each as one line (no traceback).

This module imports nothing of the package: every layer (collectors, inspection, the API,
the commands) raises these, and ``guestinspect.cli`` prints any of them as
``guestinspect: error: MESSAGE``. The Datalog engine, which knows nothing of the rest, has its
own ``DatalogError``; the API turns it into :class:`RuleError` or :class:`FactsError`.
"""


class GuestinspectError(Exception):
    """An error with a message fit to print as is (no traceback)."""


class UsageError(GuestinspectError):
    """The command line or API call asks for something impossible (bad option, bad field)."""


class UriError(UsageError):
    """An ``-a`` URI that is malformed or not accepted; the message is one line."""


class RuleError(GuestinspectError):
    """A rule file is wrong; the message is the engine's ``file:line:col: message``.

    ``errors`` holds every error the static checks found, one line each.
    """

    def __init__(self, message: str, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.errors = list(errors) if errors else [message]


class FactsError(GuestinspectError):
    """A fact snapshot directory is missing or cannot be read."""


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


class UnmountError(GuestinspectError):
    """A mountpoint that could not be unmounted; ``exit_code`` is the command's exit status."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


__all__ = [
    "CollectorError",
    "FactsError",
    "GuestinspectError",
    "ImageError",
    "KeySpecError",
    "LaunchError",
    "ParseError",
    "RuleError",
    "UnmountError",
    "UriError",
    "UsageError",
]
