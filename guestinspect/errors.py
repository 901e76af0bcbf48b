"""The base of every error guestinspect reports to its user as one line."""


class GuestinspectError(Exception):
    """An error with a message fit to print as is (no traceback)."""
