"""The SAM value decoders (functors/sam.py) on mutated F and V values of local accounts, built
from the documented layout as the tests build them (tests/rules/windows/samdata.py). They may
raise only SamError."""

from __future__ import annotations

from datetime import UTC, datetime

from fuzz.targets import target
from guestinspect.functors import sam


def _seeds() -> list[bytes]:
    from tests.rules.windows import samdata

    when = datetime(2024, 3, 5, 9, 41, 7, tzinfo=UTC)
    return [
        samdata.user_f(1001, samdata.NORMAL_ACCOUNT, when, when, 42),
        samdata.user_f(500, samdata.DISABLED),
        samdata.user_v("alice", "Alice Liddell", "Wonderland", "\\\\srv\\alice", "aes"),
        samdata.user_v("Guest", password="rc4-empty"),
        samdata.user_v("x" * 300, password="aes-empty"),
        samdata.account_v(),
    ]


@target("sam.values", _seeds, expected=(sam.SamError,))
def run(data: bytes) -> None:
    text = data.hex()
    for decode in (sam.user_f, sam.user_v):
        try:
            fields = decode(text)
        except sam.SamError:
            continue
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in fields.items())
    try:
        assert sam.domain_sid(text).startswith("S-1-5-21-")
    except sam.SamError:
        pass
    sam.filetime_iso(int.from_bytes(data[:8].ljust(8, b"\0"), "little"))
