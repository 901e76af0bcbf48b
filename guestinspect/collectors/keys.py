"""LUKS keys, given as virt-inspector takes them: ``--key``, ``--keys-from-stdin``."""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from guestinspect.errors import KeySpecError

#: A key file larger than this is refused (cryptsetup's own limit for a key file).
MAX_KEY_FILE = 8 << 20
#: At most this much of standard input is read for ``--keys-from-stdin``.
MAX_STDIN_KEYS = 1 << 20


@dataclass(frozen=True)
class KeySelector:
    """One ``--key ID:key:PASSPHRASE`` or ``--key ID:file:FILENAME``; ``ID`` may be ``all``."""

    device: str  # a device name, a LUKS UUID, or "all"
    passphrase: str

    def matches(self, device: str, uuid: str) -> bool:
        return self.device in (device, uuid)

    @classmethod
    def parse(cls, text: str) -> "KeySelector":
        parts = text.split(":", 2)
        if len(parts) != 3 or not parts[0]:
            raise KeySpecError(
                f"--key {text!r}: expected DEVICE:key:PASSPHRASE or DEVICE:file:FILENAME"
            )
        device, kind, value = parts
        if kind == "key":
            return cls(device, value)
        if kind == "file":
            # imported here: the datalog package is large, and the direct backend's child
            # process needs keys without it
            from guestinspect.datalog.files import FileRefused, read_regular

            try:
                data, _ = read_regular(Path(value), MAX_KEY_FILE)
            except FileRefused as e:  # a FIFO would block, /dev/zero never end
                raise KeySpecError(f"--key {device}:file: cannot read {value}: {e}") from e
            return cls(device, data.decode("utf-8", "replace").rstrip("\n"))
        raise KeySpecError(f"--key {text!r}: unsupported key type {kind!r} (use key or file)")


@dataclass
class KeySpec:
    """The keys to try on LUKS containers.

    Keys selected by device name or UUID are tried first, then ``all`` keys, then (with
    ``--keys-from-stdin``) the next line of standard input, one line per locked container.
    """

    selectors: list[KeySelector] = field(default_factory=list)
    stdin_lines: list[str] | None = None

    @classmethod
    def parse(
        cls, keys: Iterable[str] = (), keys_from_stdin: bool = False, stdin: TextIO | None = None
    ) -> "KeySpec":
        selectors = [KeySelector.parse(k) for k in keys]
        lines: list[str] | None = None
        if keys_from_stdin:
            if stdin is None:
                import sys

                stdin = sys.stdin
            text = stdin.read(MAX_STDIN_KEYS + 1)
            if len(text) > MAX_STDIN_KEYS:
                raise KeySpecError(
                    f"--keys-from-stdin: more than {MAX_STDIN_KEYS} characters on standard input"
                )
            lines = [line.rstrip("\r") for line in text.split("\n")]
            if lines and lines[-1] == "":
                lines.pop()
        return cls(selectors, lines)

    def candidates(self, device: str, uuid: str) -> Iterator[str]:
        """Passphrases to try on the container ``device`` (whose LUKS UUID is ``uuid``)."""
        for sel in self.selectors:
            if sel.matches(device, uuid):
                yield sel.passphrase
        for sel in self.selectors:
            if sel.device == "all":
                yield sel.passphrase
        if self.stdin_lines:
            yield self.stdin_lines.pop(0)

    def __bool__(self) -> bool:
        return bool(self.selectors) or bool(self.stdin_lines)
