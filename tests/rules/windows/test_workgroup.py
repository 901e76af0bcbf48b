"""The domain or workgroup of a Windows guest from its SECURITY hive (Policy\\PolPrDmN and
PolPrDmS, decoded by guestinspect/functors/lsa.py): the decoders on values built from the
documented layout and on hostile ones, and the shipped rules over SECURITY hives built with
hivexregedit (no SECURITY hive written by Windows is in the test data)."""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import pytest

from guestinspect.datalog import Database, Program
from guestinspect.functors import lsa
from guestinspect.inspection.results import build_inspections
from guestinspect.reporting.explain import explain_field
from tests.rules.windows import hives
from tests.rules.windows.guests import phony_guest, run
from tests.rules.windows.lsadata import DOMAIN_SID, policy_name, sid_bytes
from tests.rules.windows.test_windows_extras import extras

MakeHive = Callable[[str, str, hives.RegKeys], Path]
NAME = "Policy\\PolPrDmN"
SID = "Policy\\PolPrDmS"
TCPIP = "ControlSet001\\Services\\Tcpip\\Parameters"


# ---- The decoders ------------------------------------------------------------------------------


def test_policy_name() -> None:
    assert policy_name("WORKGROUP").hex() == (
        "12001400" "08000000" + "WORKGROUP\0".encode("utf-16-le").hex())
    assert lsa.policy_name(policy_name("WORKGROUP").hex()) == "WORKGROUP"
    assert lsa.policy_name(policy_name("CORP", terminated=False).hex()) == "CORP"
    assert lsa.policy_name(policy_name("").hex()) == ""


def test_sid_text() -> None:
    assert lsa.sid_text(sid_bytes(DOMAIN_SID).hex()) == DOMAIN_SID
    assert lsa.sid_text(sid_bytes("S-1-5-32-544").hex()) == "S-1-5-32-544"


def _name_header(length: int, maximum: int, offset: int) -> bytes:
    return struct.pack("<HHI", length, maximum, offset) + "CORP".encode("utf-16-le")


@pytest.mark.parametrize(("value", "message"), [
    (b"", "value of 0 bytes, less than its 8-byte header"),
    (_name_header(9, 10, 8)[:8] + bytes(10), "a name of 9 bytes"),
    (_name_header(10, 8, 8), r"a name of 10 bytes \(at most 8\)"),
    (_name_header(8, 8, 0xFFFFFFFF), "is not within the 16-byte value"),
    (_name_header(10, 12, 8), r"\(10 bytes at 8\) is not within"),
    (_name_header(8, 8, 4), r"\(8 bytes at 4\)"),
    (struct.pack("<HHI", 1000, 1002, 8) + bytes(1000), "more than 512"),
], ids=["empty", "odd", "over-maximum", "offset", "past-end", "inside-header", "long"])
def test_hostile_policy_name(value: bytes, message: str) -> None:
    with pytest.raises(lsa.LsaError, match=message):
        lsa.policy_name(value.hex())


@pytest.mark.parametrize(("value", "message"), [
    (b"\x01\x04", "SID of 2 bytes"),
    (b"\x02" + sid_bytes(DOMAIN_SID)[1:], "revision 2"),
    (sid_bytes(DOMAIN_SID)[:-1], "23 bytes with 4 sub-authorities"),
    (sid_bytes(DOMAIN_SID) + b"\0", "25 bytes with 4"),
    (b"\x01\xff" + bytes(6 + 4 * 255), "with 255 sub-authorities"),
], ids=["short", "revision", "cut", "trailing", "too-many"])
def test_hostile_sid(value: bytes, message: str) -> None:
    with pytest.raises(lsa.LsaError, match=message):
        lsa.sid_text(value.hex())


def test_not_hex_and_too_big() -> None:
    with pytest.raises(lsa.LsaError, match="not a binary value"):
        lsa.policy_name("zz")
    with pytest.raises(lsa.LsaError, match="more than 4096"):
        lsa.sid_text("00" * (lsa.MAX_VALUE + 1))


# ---- The rules over built SECURITY hives -------------------------------------------------------


def _guest_db(program: Program, make_hive: MakeHive, name: str, keys: hives.RegKeys,
              software: Path, system: Path) -> Database:
    security = make_hive(name, "security", keys)
    return run(program, phony_guest(software, system, security=security))


@pytest.fixture(scope="module")
def workgroup(program: Program, make_hive: MakeHive, phony_software: Path,
              phony_system: Path) -> Database:
    """A machine in a workgroup: PolPrDmN names it, PolPrDmS is empty (REG_NONE, no bytes)."""
    keys: hives.RegKeys = {NAME: {"": hives.RegNone(policy_name("WORKGROUP"))},
                           SID: {"": hives.RegNone(b"")}}
    return _guest_db(program, make_hive, "security-workgroup", keys, phony_software,
                     phony_system)


def test_workgroup(workgroup: Database) -> None:
    assert extras(workgroup, "/dev/sda2")["domain"] == {
        "name": "WORKGROUP", "type": "workgroup", "netbios_name": "WORKGROUP"}
    assert workgroup.tuples("Warning") == set() and workgroup.failures.messages() == []


def test_explain_domain_shows_the_security_value(workgroup: Database) -> None:
    text = explain_field(workgroup, "domain")
    assert "Policy\\PolPrDmN" in text and "SECURITY" in text


def test_domain_member_without_dns_suffix(
    program: Program, make_hive: MakeHive, phony_software: Path, phony_system: Path
) -> None:
    """A domain member (PolPrDmS holds the domain's SID) whose SYSTEM hive has no primary DNS
    suffix: the NetBIOS name is the name."""
    keys: hives.RegKeys = {NAME: {"": hives.RegNone(policy_name("CORP"))},
                           SID: {"": hives.RegNone(sid_bytes(DOMAIN_SID))}}
    db = _guest_db(program, make_hive, "security-member", keys, phony_software, phony_system)
    assert extras(db, "/dev/sda2")["domain"] == {
        "name": "CORP", "type": "domain", "netbios_name": "CORP", "sid": DOMAIN_SID}
    assert db.failures.messages() == []


def test_domain_member_with_dns_suffix(
    program: Program, make_hive: MakeHive, phony_software: Path, real_hive: Callable[[str], Path]
) -> None:
    """The real Windows 7 SYSTEM hive's primary DNS suffix (shieldbase.local) names the
    domain; SECURITY gives its NetBIOS name and SID."""
    keys: hives.RegKeys = {NAME: {"": hives.RegNone(policy_name("SHIELDBASE"))},
                           SID: {"": hives.RegNone(sid_bytes(DOMAIN_SID))}}
    db = _guest_db(program, make_hive, "security-shieldbase", keys, phony_software,
                   real_hive("SYSTEM"))
    assert extras(db, "/dev/sda2")["domain"] == {
        "name": "shieldbase.local", "type": "domain", "netbios_name": "SHIELDBASE",
        "sid": DOMAIN_SID}


def test_workgroup_wins_over_a_dns_suffix_set_by_hand(
    program: Program, make_hive: MakeHive, phony_software: Path
) -> None:
    """A primary DNS suffix on a machine that is in a workgroup is no domain."""
    system = make_hive("system-suffix", "system", {
        "Select": {"Current": 1, "Default": 1}, TCPIP: {"Domain": "home.example"}})
    keys: hives.RegKeys = {NAME: {"": hives.RegNone(policy_name("HOME"))},
                           SID: {"": hives.RegNone(b"")}}
    db = _guest_db(program, make_hive, "security-home", keys, phony_software, system)
    assert extras(db, "/dev/sda2")["domain"] == {
        "name": "HOME", "type": "workgroup", "netbios_name": "HOME"}


def test_damaged_values_warn_and_keep_the_rest(
    program: Program, make_hive: MakeHive, phony_software: Path, real_hive: Callable[[str], Path]
) -> None:
    """PolPrDmN's name runs past the end of its value and PolPrDmS is a SID cut short: one
    warning each; still a domain member (there is a SID), named by the real Windows 7 SYSTEM
    hive's DNS suffix; the other fields and the core inspection stay."""
    keys: hives.RegKeys = {NAME: {"": hives.RegNone(policy_name("CORP")[:12])},
                           SID: {"": hives.RegNone(sid_bytes(DOMAIN_SID)[:20])}}
    db = _guest_db(program, make_hive, "security-damaged", keys, phony_software,
                   real_hive("SYSTEM"))
    got = extras(db, "/dev/sda2")
    assert got["domain"] == {"name": "shieldbase.local", "type": "domain"}
    assert got["timezone"]["name"] == "Eastern Standard Time"
    messages = db.failures.messages()
    assert len(messages) == 2
    assert any("LsaPolicyName" in m and "is not within the 12-byte value" in m
               for m in messages)
    assert any("LsaSid" in m and "SID of 20 bytes with 4 sub-authorities" in m
               for m in messages)
    (os,) = [os for os in build_inspections(db) if os["root"] == "/dev/sda2"]
    assert os["product_name"] == "Microsoft Windows 7 Phony Edition"


def test_the_image_collectors_reader_reads_the_security_values(make_hive: MakeHive) -> None:
    """The SECURITY hive through the isolated reader the image collector uses (a child
    process): the default values as RegistryValue facts named "", of type none."""
    from guestinspect.collectors.isolate import read_keys_isolated

    hive = "/Windows/System32/config/SECURITY"
    keys: hives.RegKeys = {NAME: {"": hives.RegNone(policy_name("CORP"))},
                           SID: {"": hives.RegNone(sid_bytes(DOMAIN_SID))}}
    security = make_hive("security-member", "security", keys)
    facts = read_keys_isolated(security, "/dev/sda2", hive, [NAME, SID])
    assert "HiveError" not in facts
    assert facts["RegistryValue"] == {
        ("/dev/sda2", hive, NAME, "", "none", policy_name("CORP").hex()),
        ("/dev/sda2", hive, SID, "", "none", sid_bytes(DOMAIN_SID).hex()),
    }
