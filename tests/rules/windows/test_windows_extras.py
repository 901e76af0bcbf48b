"""The Windows extra fields (users, timezone, install_date, domain, network, services,
virtio_drivers) derived by the shipped rules from real registry hives: the real SYSTEM hives
of Windows 7 and Windows 10 (../shared/testdata/real-hives), and SAM and SOFTWARE hives built
with hivexregedit whose binary F and V values follow the documented layout (samdata.py; no
real SAM hive is in the test data)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from guestinspect.datalog import Database, Program
from guestinspect.inspection.results import CORE_FIELDS, build_inspections
from guestinspect.reporting.explain import explain_field
from tests.rules.windows import hives, samdata
from tests.rules.windows.fakereg import FakeDisk, FakeGuest
from tests.rules.windows.guests import AMD64, MiB, phony_guest, run, windows_fs
from tests.rules.windows.samdata import MACHINE_SID, rid_key, user_f, user_v

MakeHive = Callable[[str, str, hives.RegKeys], Path]
USERS = "SAM\\Domains\\Account\\Users"
CURRENT_VERSION = "Microsoft\\Windows NT\\CurrentVersion"
PROFILES = CURRENT_VERSION + "\\ProfileList"


def extras(db: Database, root: str) -> dict[str, Any]:
    (os,) = [os for os in build_inspections(db) if os["root"] == root]
    return {k: v for k, v in os.items() if k not in CORE_FIELDS}


@pytest.fixture(scope="module")
def win7(program: Program, phony_software: Path, real_hive: Callable[[str], Path]) -> Database:
    disk = FakeDisk("/dev/sda", "msdos", bytes.fromhex("3ea0be5c"), [(1, MiB, 4096 * MiB)])
    guest = FakeGuest([disk], {"/dev/sda1": windows_fs(phony_software, real_hive("SYSTEM"))})
    return run(program, guest)


@pytest.fixture(scope="module")
def win10(program: Program, phony_software: Path, real_hive: Callable[[str], Path]) -> Database:
    disk = FakeDisk("/dev/sda", "msdos", bytes.fromhex("ae4645df"), [(1, MiB, 20000 * MiB)])
    fs = windows_fs(phony_software, real_hive("SYSTEM_WIN_10_1709"), cmd=AMD64)
    return run(program, FakeGuest([disk], {"/dev/sda1": fs}))


# ---- The real Windows 7 SYSTEM hive ----------------------------------------------------------


def test_windows_7_timezone_domain_network(win7: Database) -> None:
    got = extras(win7, "/dev/sda1")
    assert got["timezone"] == {"name": "Eastern Standard Time", "bias": 300,
                               "standard_name": "@tzres.dll,-112",
                               "daylight_name": "@tzres.dll,-111"}
    assert got["domain"] == {"name": "shieldbase.local", "type": "domain"}
    # Two static adapters; the third Interfaces key ({e29ac6c2-…}) has no settings.
    assert got["network"] == [
        {"name": "{6AAFC9A9-0542-4DB2-8760-CCFFA953737C}",
         "display_name": "Local Area Connection", "dhcp": False,
         "addresses": ["192.168.1.123/24"], "gateways": ["192.168.1.1"],
         "dns": ["192.168.1.112"]},
        {"name": "{698E50A9-4F58-4D86-B61D-F42E58DCACF6}",
         "display_name": "Local Area Connection 2", "dhcp": False,
         "addresses": ["10.3.58.5/24"], "gateways": ["10.3.58.1"], "dns": ["10.3.58.4"]},
    ]
    assert "virtio_drivers" not in got  # a VMware guest
    assert "users" not in got and "install_date" not in got  # no SAM; phony SOFTWARE


def test_windows_7_services(win7: Database) -> None:
    services = {s["name"]: s for s in extras(win7, "/dev/sda1")["services"]}
    assert len(services) == 417  # of 467 Services subkeys, those with a Start value
    assert services["Tcpip"] == {
        "name": "Tcpip", "display_name": "@%SystemRoot%\\system32\\tcpipcfg.dll,-50003",
        "start": "boot", "type": "kernel_driver", "image": "System32\\drivers\\tcpip.sys"}
    assert services["Dhcp"]["start"] == "automatic"
    assert services["Dhcp"]["type"] == "shared_service"
    assert services["vmci"]["start"] == "manual"
    assert services["vmci"]["display_name"] == "VMware VMCI Bus Driver"
    starts = {s.get("start") for s in services.values()}
    assert starts == {"boot", "system", "automatic", "manual", "disabled"}


# ---- The real Windows 10 1709 SYSTEM hive ----------------------------------------------------


def test_windows_10_timezone_and_dhcp_network(win10: Database) -> None:
    got = extras(win10, "/dev/sda1")
    assert got["timezone"] == {"name": "Pacific Standard Time", "bias": 480,
                               "standard_name": "@tzres.dll,-212",
                               "daylight_name": "@tzres.dll,-211"}
    assert "domain" not in got  # Tcpip's Domain is empty: no domain joined
    assert got["network"] == [
        {"name": "{3f215cb0-2d43-4c99-825f-0142c4fafab5}",
         "display_name": "Bluetooth Network Connection", "dhcp": True},
        # The last lease: address, gateway, DNS server and domain from DHCP.
        {"name": "{5f3f359e-9d52-4566-9bec-37efdfb25abe}", "display_name": "Ethernet0",
         "dhcp": True, "gateways": ["192.168.146.2"], "dns": ["192.168.146.2"],
         "domain": "localdomain", "dhcp_address": "192.168.146.128/24"},
        {"name": "{ba46ceee-2c68-4162-822d-c9ef268d2390}",
         "display_name": "Ethernet (Kernel Debugger)", "dhcp": True},
    ]


def test_windows_10_services(win10: Database) -> None:
    services = {s["name"]: s for s in extras(win10, "/dev/sda1")["services"]}
    assert len(services) == 682
    assert "vmxnet3ndis6" not in services  # a leftover key, only an installer's value
    assert services["vmhgfs"] == {
        "name": "vmhgfs", "display_name": "VMware Host Guest Client Redirector",
        "start": "manual", "type": "filesystem_driver", "image": "system32\\DRIVERS\\vmhgfs.sys"}
    assert services["AarSvc"]["type"] == "user_shared_service"  # 0x60
    assert services["AarSvc"]["start"] == "manual"
    assert services["EventLog"] == {
        "name": "EventLog", "display_name": "@%SystemRoot%\\system32\\wevtsvc.dll,-200",
        "start": "automatic", "type": "shared_service",
        "image": "%SystemRoot%\\System32\\svchost.exe -k LocalServiceNetworkRestricted -p"}


def test_explain_timezone_and_network_show_registry_values(win10: Database) -> None:
    text = explain_field(win10, "timezone")
    assert "TimeZoneInformation" in text and "Pacific Standard Time" in text
    text = explain_field(win10, "network")
    assert "Interfaces" in text and "192.168.146.2" in text


# ---- A SAM hive, ProfileList and install date (hives built from the documented layout) -------

LOGON = datetime(2024, 3, 5, 9, 41, 7, tzinfo=UTC)
PWSET = datetime(2023, 11, 20, 17, 2, 33, tzinfo=UTC)
DOMAIN_USER = "S-1-5-21-1004336348-1177238915-682003330-1105"

SAM_KEYS: hives.RegKeys = {
    "SAM\\Domains\\Account": {"F": bytes(0x90), "V": samdata.account_v()},
    f"{USERS}\\Names\\Administrator": {},
    f"{USERS}\\{rid_key(500)}": {
        "F": user_f(500, samdata.DISABLED | samdata.NORMAL_ACCOUNT | samdata.DONT_EXPIRE),
        "V": user_v("Administrator", comment="Built-in account for administering the computer",
                    password="aes-empty")},
    f"{USERS}\\{rid_key(501)}": {
        "F": user_f(501, samdata.DISABLED | samdata.PASSWORD_NOT_REQUIRED),
        "V": user_v("Guest", password="rc4-empty")},
    f"{USERS}\\{rid_key(1001)}": {
        "F": user_f(1001, samdata.NORMAL_ACCOUNT, LOGON, PWSET, logons=42),
        "V": user_v("alice", full_name="Alice Liddell", comment="Wonderland", password="aes")},
    f"{USERS}\\{rid_key(1002)}": {
        "F": user_f(1002, samdata.NORMAL_ACCOUNT, password_set=PWSET),
        "V": user_v("bob", home="\\\\files\\home\\bob", password="rc4")},
}

SOFTWARE_KEYS: hives.RegKeys = {
    CURRENT_VERSION: {"ProductName": "Windows 10 Pro", "CurrentVersion": "6.3",
                      "CurrentBuildNumber": "19045", "InstallationType": "Client",
                      "InstallDate": 1_600_000_000,
                      "InstallTime": hives.Qword(samdata.filetime(
                          datetime(2020, 9, 13, 12, 26, 40, 123456, tzinfo=UTC)))},
    f"{PROFILES}\\S-1-5-18": {
        "ProfileImagePath": hives.ExpandSz("%systemroot%\\system32\\config\\systemprofile")},
    f"{PROFILES}\\S-1-5-19": {
        "ProfileImagePath": hives.ExpandSz("%systemroot%\\ServiceProfiles\\LocalService")},
    f"{PROFILES}\\{MACHINE_SID}-1001": {"ProfileImagePath": hives.ExpandSz("C:\\Users\\alice")},
    f"{PROFILES}\\{MACHINE_SID}-1001.bak": {"ProfileImagePath": "C:\\Users\\TEMP"},
    f"{PROFILES}\\{DOMAIN_USER}": {"ProfileImagePath": "C:\\Users\\carol.CORP"},
}


@pytest.fixture(scope="module")
def accounts(program: Program, make_hive: MakeHive, phony_system: Path) -> Database:
    sam = make_hive("sam-accounts", "sam", SAM_KEYS)
    software = make_hive("software-accounts", "software", SOFTWARE_KEYS)
    return run(program, phony_guest(software, phony_system, sam=sam))


def test_users_from_sam_and_profiles(accounts: Database) -> None:
    got = extras(accounts, "/dev/sda2")
    sid = MACHINE_SID
    assert got["users"] == [
        {"name": "SYSTEM", "sid": "S-1-5-18",
         "home": "%systemroot%\\system32\\config\\systemprofile"},
        {"name": "LOCAL SERVICE", "sid": "S-1-5-19",
         "home": "%systemroot%\\ServiceProfiles\\LocalService"},
        {"sid": DOMAIN_USER, "home": "C:\\Users\\carol.CORP"},  # a domain account's profile
        {"name": "Administrator", "rid": 500, "sid": f"{sid}-500",
         "comment": "Built-in account for administering the computer", "disabled": True,
         "password": "none", "login_count": 0},
        {"name": "Guest", "rid": 501, "sid": f"{sid}-501", "disabled": True,
         "password": "none", "login_count": 0},
        {"name": "alice", "rid": 1001, "sid": f"{sid}-1001", "full_name": "Alice Liddell",
         "comment": "Wonderland", "home": "C:\\Users\\alice", "disabled": False,
         "password": "set", "last_password_change": "2023-11-20T17:02:33Z",
         "last_login": "2024-03-05T09:41:07Z", "login_count": 42},
        {"name": "bob", "rid": 1002, "sid": f"{sid}-1002", "disabled": False,
         "password": "set", "last_password_change": "2023-11-20T17:02:33Z",
         "login_count": 0},
    ]
    assert accounts.tuples("Warning") == set() and accounts.failures.messages() == []


def test_install_date_prefers_install_time(accounts: Database) -> None:
    assert extras(accounts, "/dev/sda2")["install_date"] == {
        "date": "2020-09-13T12:26:40Z", "source": "registry InstallTime"}


def test_install_date_from_install_date(
    program: Program, make_hive: MakeHive, phony_system: Path
) -> None:
    """Before Windows 10 there is no InstallTime: InstallDate's Unix seconds."""
    software = make_hive("software-installdate", "software", {
        CURRENT_VERSION: {"ProductName": "Windows 7 Professional", "CurrentVersion": "6.1",
                          "InstallDate": 1_300_000_000}})
    db = run(program, phony_guest(software, phony_system))
    assert extras(db, "/dev/sda2")["install_date"] == {
        "date": "2011-03-13T07:06:40Z", "source": "registry InstallDate"}


def test_explain_users_shows_the_sam_values(accounts: Database) -> None:
    text = explain_field(accounts, "users")
    assert "SAM\\Domains\\Account\\Users\\000003E9" in text
    assert "ProfileList" in text


def test_damaged_sam_values_warn_and_keep_the_others(
    program: Program, make_hive: MakeHive, phony_software: Path, phony_system: Path
) -> None:
    """A V value cut short and an F value too short: that user is left out, with one
    warning each; the others, and the machine SID, stay."""
    keys = dict(SAM_KEYS)
    keys[f"{USERS}\\{rid_key(1001)}"] = {"F": user_f(1001, 0x10), "V": user_v("alice")[:0xD0]}
    keys[f"{USERS}\\{rid_key(1002)}"] = {"F": bytes(20), "V": user_v("bob")}
    db = run(program, phony_guest(phony_software, phony_system,
                                  sam=make_hive("sam-damaged", "sam", keys)))
    names = [u.get("name") for u in extras(db, "/dev/sda2")["users"]]
    assert names == ["Administrator", "Guest"]
    messages = db.failures.messages()
    assert len(messages) == 2
    assert any("SamUserV" in m and "past the end" in m for m in messages)
    assert any("SamUserF" in m and "F value of 20 bytes" in m for m in messages)


def test_sam_without_machine_sid(
    program: Program, make_hive: MakeHive, phony_software: Path, phony_system: Path
) -> None:
    """No machine SID (a damaged Account V): users are still listed, by RID, without SID."""
    keys = dict(SAM_KEYS)
    keys["SAM\\Domains\\Account"] = {"V": b"\x01\x02\x03"}
    db = run(program, phony_guest(phony_software, phony_system,
                                  sam=make_hive("sam-nosid", "sam", keys)))
    users = extras(db, "/dev/sda2")["users"]
    assert [(u["name"], u["rid"], "sid" in u) for u in users] == [
        ("Administrator", 500, False), ("Guest", 501, False), ("alice", 1001, False),
        ("bob", 1002, False)]


# ---- Virtio drivers, a negative bias, XP's time zone name --------------------------------------

CCS = "ControlSet001"


def service(start: int, type_: int, image: str) -> dict[str, hives.RegValue]:
    return {"Start": start, "Type": type_, "ImagePath": hives.ExpandSz(image)}


def test_virtio_drivers_and_time_zone(program: Program, make_hive: MakeHive,
                                      phony_software: Path) -> None:
    system = make_hive("system-virtio", "system", {
        "Select": {"Current": 1, "Default": 1},
        f"{CCS}\\Control\\TimeZoneInformation": {
            "Bias": 0xFFFFFFC4, "StandardName": "W. Europe Standard Time",
            "DaylightName": "W. Europe Daylight Time"},
        f"{CCS}\\Services\\viostor": service(0, 1, "System32\\drivers\\viostor.sys"),
        f"{CCS}\\Services\\netkvm": service(3, 1, "System32\\drivers\\netkvm.sys"),
        f"{CCS}\\Services\\VirtIO-FS Service": service(4, 16, "C:\\Program Files\\virtiofs.exe"),
        f"{CCS}\\Services\\Balloon": service(3, 1, "System32\\drivers\\balloon.sys"),
        f"{CCS}\\Services\\BalloonService": {"Start": 2, "Type": 0x10},
        f"{CCS}\\Services\\Odd": {"Start": 9, "Type": 0x1234},
        f"{CCS}\\Services\\Tcpip\\Parameters\\Interfaces\\{{AA}}": {
            "EnableDHCP": 0, "IPAddress": hives.MultiSz(("10.0.0.5", "10.0.1.5")),
            "SubnetMask": hives.MultiSz(("255.255.255.0", "255.255.0.0")),
            "DefaultGateway": hives.MultiSz(("10.0.0.1",)), "NameServer": "9.9.9.9,1.1.1.1"},
    })
    db = run(program, phony_guest(phony_software, system))
    got = extras(db, "/dev/sda2")
    assert got["virtio_drivers"] == ["balloon", "netkvm", "viostor"]
    assert got["timezone"] == {"name": "W. Europe Standard Time", "bias": -60,
                               "standard_name": "W. Europe Standard Time",
                               "daylight_name": "W. Europe Daylight Time"}
    assert got["services"] == [
        {"name": "Balloon", "start": "manual", "type": "kernel_driver",
         "image": "System32\\drivers\\balloon.sys"},
        {"name": "BalloonService", "start": "automatic", "type": "service"},
        {"name": "netkvm", "start": "manual", "type": "kernel_driver",
         "image": "System32\\drivers\\netkvm.sys"},
        {"name": "Odd", "type": "4660"},  # unknown start and type numbers
        {"name": "viostor", "start": "boot", "type": "kernel_driver",
         "image": "System32\\drivers\\viostor.sys"},
        {"name": "VirtIO-FS Service", "start": "disabled", "type": "service",
         "image": "C:\\Program Files\\virtiofs.exe"},
    ]
    assert got["network"] == [{"name": "{AA}", "dhcp": False,
                               "addresses": ["10.0.0.5/24", "10.0.1.5/16"],
                               "gateways": ["10.0.0.1"], "dns": ["9.9.9.9", "1.1.1.1"]}]


def test_corrupt_system_hive_gives_what_it_can(
    program: Program, phony_software: Path, real_hive: Callable[[str], Path]
) -> None:
    """The damaged real SYSTEM hive: the time zone, three adapters and 180 services are
    still read (the keys hivex cannot read are warnings: test_windows_rules.py)."""
    db = run(program, phony_guest(phony_software, real_hive("corrupted_system_hive")))
    got = extras(db, "/dev/sda2")
    assert got["timezone"] == {"name": "Eastern Standard Time", "bias": 300,
                               "standard_name": "Eastern Standard Time",
                               "daylight_name": "Eastern Daylight Time"}
    assert len(got["network"]) == 3
    assert len(got["services"]) == 180


def test_cli_on_a_snapshot_of_it(
    program: Program, make_hive: MakeHive, real_hive: Callable[[str], Path], tmp_path: Path
) -> None:
    """The real Windows 10 SYSTEM hive with the SAM and SOFTWARE above, recorded as a fact
    snapshot and given to the command: --json has the fields, --no-extras none, the default
    XML none, --extended validates against the shipped schema, --explain users works."""
    import json

    from click.testing import CliRunner
    from lxml import etree

    from guestinspect.cli import cli
    from guestinspect.inspection.extras import NAMESPACE
    from tests.oracles import ROOT

    sam = make_hive("sam-accounts", "sam", SAM_KEYS)
    software = make_hive("software-accounts", "software", SOFTWARE_KEYS)
    disk = FakeDisk("/dev/sda", "msdos", bytes.fromhex("ae4645df"), [(1, MiB, 20000 * MiB)])
    fs = windows_fs(software, real_hive("SYSTEM_WIN_10_1709"), cmd=AMD64, sam=sam)
    run(program, FakeGuest([disk], {"/dev/sda1": fs})).write_facts_dir(tmp_path / "facts")
    facts = str(tmp_path / "facts")

    def invoke(*args: str) -> str:
        result = CliRunner().invoke(cli, ["--facts", facts, *args])
        assert result.exit_code == 0, result.output
        return result.stdout

    (os,) = json.loads(invoke("--json"))
    assert [u.get("name") for u in os["users"]][3:] == ["Administrator", "Guest", "alice", "bob"]
    assert os["timezone"]["name"] == "Pacific Standard Time"
    assert os["install_date"]["date"] == "2020-09-13T12:26:40Z"
    assert len(os["services"]) == 682 and len(os["network"]) == 3
    (bare,) = json.loads(invoke("--json", "--no-extras"))
    assert set(bare) <= CORE_FIELDS
    assert "gi:" not in invoke()
    xml = invoke("--extended")
    schema = etree.RelaxNG(etree.parse(str(ROOT / "schema" / "guestinspect-extended.rng")))
    doc = etree.fromstring(xml.encode())
    assert schema.validate(doc), schema.error_log
    ns = {"gi": NAMESPACE}
    assert doc.xpath("//gi:user[gi:rid=1001]/gi:last_login/text()", namespaces=ns) == [
        "2024-03-05T09:41:07Z"]
    assert invoke("--extended", "--xpath", "//gi:timezone/gi:bias/text()") == "480\n"
    explained = invoke("--explain", "users")
    assert "alice" in explained and "SAM" in explained


def test_the_image_collectors_reader_reads_the_sam(make_hive: MakeHive) -> None:
    """The SAM hive through the isolated reader the image collector uses (a child process):
    the users' keys and their binary F and V values, as the rules above get them."""
    from guestinspect.collectors.isolate import read_keys_isolated

    hive = "/Windows/System32/config/SAM"
    sam = make_hive("sam-accounts", "sam", SAM_KEYS)
    keys = [USERS, f"{USERS}\\{rid_key(1001)}", "SAM\\Domains\\Account"]
    facts = read_keys_isolated(sam, "/dev/sda2", hive, keys)
    assert "HiveError" not in facts
    subkeys = {t[3] for t in facts["RegistrySubkey"] if t[2] == USERS}
    assert subkeys == {"Names", "000001F4", "000001F5", "000003E9", "000003EA"}
    values = {(t[2], t[3]): (t[4], t[5]) for t in facts["RegistryValue"]}
    assert values[(f"{USERS}\\000003E9", "v")] == ("binary", user_v(
        "alice", full_name="Alice Liddell", comment="Wonderland", password="aes").hex())
    assert values[("SAM\\Domains\\Account", "v")] == ("binary", samdata.account_v().hex())
