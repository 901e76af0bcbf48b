"""The errors guestinspect reports to its user, each as one line (no traceback)."""


class GuestinspectError(Exception):
    """An error with a message fit to print as is (no traceback)."""


class UsageError(GuestinspectError):
    """The command line or API call asks for something impossible (bad option, bad field)."""


class RuleError(GuestinspectError):
    """A rule file is wrong; the message is the engine's ``file:line:col: message``.

    ``errors`` holds every error the static checks found, one line each.
    """

    def __init__(self, message: str, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.errors = list(errors) if errors else [message]


class FactsError(GuestinspectError):
    """A fact snapshot directory is missing or cannot be read."""


def __getattr__(name: str) -> type[GuestinspectError]:
    """``ImageError`` is defined by the collectors (guestinspect.collectors.errors) and is
    re-exported here, lazily to avoid an import cycle, so that every error is in one module."""
    if name == "ImageError":
        from guestinspect.collectors.errors import ImageError

        return ImageError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["FactsError", "GuestinspectError", "ImageError", "RuleError", "UsageError"]  # noqa: F822
