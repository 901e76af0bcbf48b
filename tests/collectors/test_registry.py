"""Registry facts from real hives, read locally with hivex (no appliance)."""

import lzma
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from guestinspect.collectors import isolate, registry
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


# ---- the isolated reader (collectors/isolate.py): a child process per batch of keys ----

KEYS = ["Select", "ControlSet001\\Control\\ComputerName\\ComputerName", "MountedDevices", ""]


def _segfaulting_hive(tmp: Path, system: Path) -> Path:
    """Windows 7's SYSTEM cut so that hivex (1.3.x) dies of SIGSEGV reading it in its unsafe
    mode (found by fuzz/targets/registry.py; the hostile-hive-crash test guest carries it)."""
    from tests.images.hostile import segfaulting_system_hive

    return segfaulting_system_hive(tmp)


@pytest.mark.parametrize("name", ["SYSTEM", "SYSTEM_WIN_10_1709", "corrupted_system_hive",
                                  "NTUSER.DAT"])
def test_isolated_reads_what_hivex_reads(tmp_path_factory: pytest.TempPathFactory,
                                         name: str) -> None:
    path = _unxz(tmp_path_factory, name)
    isolated = isolate.read_keys_isolated(path, FS, HIVE, KEYS)
    assert isolated == registry.read_keys(path, FS, HIVE, KEYS)
    assert isolated.get("RegistryKeyFound")


def test_real_segfault_costs_that_hive_only(tmp_path: Path, system: Path,
                                            tmp_path_factory: pytest.TempPathFactory) -> None:
    bad = _segfaulting_hive(tmp_path, system)
    # in this process, the same read would kill pytest: check that it really crashes hivex
    probe = subprocess.run(
        [sys.executable, "-c", "import sys; from pathlib import Path; "
         "from guestinspect.collectors import registry; "
         "registry.read_keys(Path(sys.argv[1]), 'fs', 'h', sys.argv[2:])", str(bad), *KEYS],
        capture_output=True, check=False,
    )
    assert probe.returncode == -signal.SIGSEGV
    facts = isolate.read_keys_isolated(bad, FS, HIVE, KEYS)
    assert facts == {"HiveError": {
        (FS, HIVE, "the hive reader crashed (SIGSEGV); nothing read from this hive")}}
    # the next hive (and the rest of the inspection) reads on
    good = _unxz(tmp_path_factory, "SYSTEM_WIN_10_1709")
    soft = "/Windows/System32/config/SOFTWARE"
    facts = isolate.read_keys_isolated(good, FS, soft, ["Select"])
    assert "HiveError" not in facts
    assert any(t[3] == "current" for t in facts["RegistryValue"])


@pytest.mark.parametrize(
    ("fault", "limits", "message"),
    [
        ("segv", isolate.Limits(),
         "the hive reader crashed (SIGSEGV); nothing read from this hive"),
        ("hang", isolate.Limits(seconds=1.5), "the hive reader took longer than 2s and was killed"),
        ("memory", isolate.Limits(memory=64 << 20), "the hive reader failed: out of memory"),
        ("cpu", isolate.Limits(seconds=60, cpu_seconds=1),
         "the hive reader used more than 1s of CPU and was killed"),
        ("garbage", isolate.Limits(), "the hive reader gave a malformed RegistryValue fact"),
    ],
)
def test_child_faults_become_hive_errors(system: Path, fault: str, limits: isolate.Limits,
                                         message: str) -> None:
    t0 = time.monotonic()
    facts = isolate.read_keys_isolated(system, FS, HIVE, KEYS, limits=limits, fault=fault)
    assert facts == {"HiveError": {(FS, HIVE, message)}}
    assert time.monotonic() - t0 < limits.seconds + 10


def test_deadline_shortens_the_wait(system: Path) -> None:
    t0 = time.monotonic()
    facts = isolate.read_keys_isolated(system, FS, HIVE, KEYS, timeout=0.5, fault="hang")
    assert facts == {"HiveError": {(FS, HIVE, "the hive reader took longer than 0s and was "
                                              "killed")}}
    assert time.monotonic() - t0 < 5


def test_missing_hive_file(tmp_path: Path) -> None:
    facts = isolate.read_keys_isolated(tmp_path / "none", FS, HIVE, KEYS)
    assert facts == {"HiveError": {(FS, HIVE, "the hive reader failed: cannot read the hive: "
                                              "No such file or directory")}}


def test_collector_reads_each_hive_in_its_own_child(
    tmp_path: Path, system: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The image collector's registry answer (hives already downloaded): the SYSTEM hive
    that kills hivex costs that hive only, the SOFTWARE hive of the same round reads on."""
    from collections import defaultdict

    from guestinspect.collectors.answerers.context import AnswerContext
    from guestinspect.collectors.answerers.registry import answer_registry

    soft = "/Windows/System32/config/SOFTWARE"
    # no appliance: the hives are local, already copied
    ctx = AnswerContext({}, lambda w: None, tmp_path)
    ctx.hives.update({
        (FS, HIVE): _segfaulting_hive(tmp_path, system),
        (FS, soft): _unxz(tmp_path_factory, "SYSTEM_WIN_10_1709"),
        ("/dev/sda3", HIVE): "hive not found",
    })
    wants = {(FS, HIVE, k) for k in KEYS} | {(FS, soft, "Select"), ("/dev/sda3", HIVE, "Select")}
    facts: dict[str, set[tuple[str | int, ...]]] = defaultdict(set)
    answer_registry(ctx, {"WantRegistryKey": wants}, facts)
    assert facts["HiveError"] == {
        (FS, HIVE, "the hive reader crashed (SIGSEGV); nothing read from this hive"),
        ("/dev/sda3", HIVE, "hive not found"),
    }
    assert {t[:3] for t in facts["RegistryKeyFound"]} == {(FS, soft, "Select")}
    assert any(t[1] == soft and t[3] == "current" for t in facts["RegistryValue"])
