"""The one exception the engine raises for a bad program or bad input."""

from __future__ import annotations


class DatalogError(Exception):
    """A list of errors, each one line formatted ``file:line:col: message``."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__(errors[0] if errors else "unknown error")
        self.errors = list(errors)

    def __str__(self) -> str:
        return self.errors[0] if self.errors else "unknown error"
