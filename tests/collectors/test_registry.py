"""Registry facts from real hives, read locally with hivex (no appliance)."""

import lzma
from pathlib import Path

import pytest

from guestinspect.collectors import registry
from tests.oracles import SHARED

HIVES = SHARED / "testdata" / "real-hives"
FS, HIVE = "/dev/sda2", "/Windows/System32/config/SYSTEM"


def _unxz(tmp: pytest.TempPathFactory, name: str) -> Path:
    path = tmp.mktemp("hive") / name
    path.write_bytes(lzma.decompress((HIVES / f"{name}.xz").read_bytes()))
    return path


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _unxz(tmp_path_factory, "SYSTEM")


def _read(path: Path, *keys: str) -> dict[str, set[tuple[str | int, ...]]]:
    return registry.read_keys(path, FS, HIVE, keys)


def test_select_current(system: Path) -> None:
    facts = _read(system, "Select")
    assert (FS, HIVE, "Select") in facts["RegistryKeyFound"]
    assert (FS, HIVE, "Select", "current", "dword", "1") in facts["RegistryValue"]
    assert "HiveError" not in facts


def test_computer_name_case_insensitive(system: Path) -> None:
    key = "controlset001\\CONTROL\\ComputerName\\ComputerName"
    facts = _read(system, key)
    assert (FS, HIVE, key, "computername", "sz", "WKS-WIN732BITA") in facts["RegistryValue"]
    assert (FS, HIVE, "ControlSet001", "Control") not in facts.get("RegistrySubkey", set())


def test_subkeys_and_missing(system: Path) -> None:
    facts = _read(system, "", "No\\Such\\Key")
    children = {t[3] for t in facts["RegistrySubkey"]}
    assert {"ControlSet001", "MountedDevices", "Select"} <= children
    assert (FS, HIVE, "No\\Such\\Key") in facts["RegistryKeyMissing"]


def test_mounted_devices_binary(system: Path) -> None:
    facts = _read(system, "MountedDevices")
    values = {t[3]: (t[4], t[5]) for t in facts["RegistryValue"]}
    assert values["\\dosdevices\\c:"] == ("binary", "3ea0be5c0000100000000000")
    assert all(v[0] == "binary" for v in values.values())
    assert len(values) > 3


def test_windows10_hive(tmp_path_factory: pytest.TempPathFactory) -> None:
    path = _unxz(tmp_path_factory, "SYSTEM_WIN_10_1709")
    facts = registry.read_keys(path, FS, HIVE, ["Select"])
    assert any(t[3] == "current" and t[4] == "dword" for t in facts["RegistryValue"])


def test_corrupt_hive_gives_error_fact(tmp_path_factory: pytest.TempPathFactory) -> None:
    path = _unxz(tmp_path_factory, "corrupted_system_hive")
    facts = registry.read_keys(path, FS, HIVE, ["Select", "ControlSet001\\Control"])
    assert facts["HiveError"]
    # whatever can be read still is
    assert (FS, HIVE, "Select", "current", "dword", "1") in facts["RegistryValue"]


def test_not_a_hive(tmp_path: Path) -> None:
    path = tmp_path / "junk"
    path.write_bytes(b"regf" + bytes(100))
    facts = registry.read_keys(path, FS, HIVE, ["Select"])
    assert list(facts) == ["HiveError"]


@pytest.mark.parametrize(
    ("vtype", "data", "expected"),
    [
        (1, "héllo\0".encode("utf-16-le") + b"junk", ("sz", "héllo")),
        (2, "%SystemRoot%\0\0".encode("utf-16-le"), ("expand_sz", "%SystemRoot%")),
        (7, "a\0b\0\0".encode("utf-16-le"), ("multi_sz", "a\nb")),
        (4, (7).to_bytes(4, "little"), ("dword", "7")),
        (11, (2**40).to_bytes(8, "little"), ("qword", str(2**40))),
        (3, b"\x01\xab", ("binary", "01ab")),
        (0, b"", ("none", "")),
        (5, b"\x00\x00\x00\x01", ("other", "00000001")),
        (1, b"a\x00b", ("sz", "a")),  # odd length
    ],
)
def test_decode_value(vtype: int, data: bytes, expected: tuple[str, str]) -> None:
    assert registry.decode_value(vtype, data) == expected
