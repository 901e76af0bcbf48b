"""The LSA policy value decoders (functors/lsa.py) on mutated PolPrDmN names and PolPrDmS
SIDs, built from the documented layout as the tests build them (tests/rules/windows/lsadata.py).
They may raise only LsaError."""

from __future__ import annotations

from fuzz.targets import target
from guestinspect.functors import lsa


def _seeds() -> list[bytes]:
    from tests.rules.windows import lsadata

    return [
        lsadata.policy_name("WORKGROUP"),
        lsadata.policy_name("CORP"),
        lsadata.policy_name("x" * 200),
        lsadata.sid_bytes(lsadata.DOMAIN_SID),
        lsadata.sid_bytes("S-1-5-32-544"),
    ]


@target("lsa.values", _seeds, expected=(lsa.LsaError,))
def run(data: bytes) -> None:
    text = data.hex()
    try:
        assert isinstance(lsa.policy_name(text), str)
    except lsa.LsaError:
        pass
    try:
        assert lsa.sid_text(text).startswith("S-1-")
    except lsa.LsaError:
        pass
