"""The direct backend's collector (a child process per guest, requests per filesystem) and
``--backend auto``'s routing between it and the appliance.

The child is made to crash or hang on purpose (GUESTINSPECT_TEST_DIRECT_FAULT) to show that
this costs one filesystem, never the inspection. The routing is tested over a stand-in direct
side and a stand-in appliance (in memory); the real images are read at the end (the debian
guest directly, without any appliance; the btrfs guest under ``auto``, one appliance launch).
"""

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from guestinspect.collectors import isolate
from guestinspect.collectors.backends import direct, wire
from guestinspect.collectors.backends.auto import AutoCollector, needs_appliance
from guestinspect.collectors.backends.direct import (
    DirectCollector,
    DirectFailed,
    Opened,
)
from guestinspect.collectors.base import CollectorStats, FactSet
from guestinspect.errors import LaunchError

#: Limits that make a hang cost a few seconds (the memory as by default: a package database is
#: read with read(DB_LIMIT), which allocates that much at once).
FAST = isolate.Limits(seconds=6.0, cpu_seconds=2, memory=direct.DEFAULT_LIMITS.memory)


@pytest.fixture()
def fault(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(direct.FAULT_ENV, raising=False)
    yield


# ---- the wire: what the parent takes from the child --------------------------------------


def test_the_wire_takes_only_declared_facts_about_the_filesystem_asked() -> None:
    ok = wire.facts_in({"Entry": [["/dev/sda1", "/etc", "dir"]],
                        "FileSize": [["/dev/sda1", "/etc/hostname", 7]]},
                       direct.ANSWER_RELATIONS, ("/dev/sda1",))
    assert ok == {"Entry": {("/dev/sda1", "/etc", "dir")},
                  "FileSize": {("/dev/sda1", "/etc/hostname", 7)}}
    bad = [
        {"Entry": [["/dev/sda2", "/etc", "dir"]]},  # another filesystem
        {"Entry": [["/dev/sda1", "/etc"]]},  # a column short
        {"FileSize": [["/dev/sda1", "/etc/hostname", "7"]]},  # a number as a string
        {"FileSize": [["/dev/sda1", "/etc/hostname", True]]},  # a bool is not a number
        {"Mounted": [["/dev/sda1"]]},  # a start fact in an answer
        {"WantPath": [["/dev/sda1", "/etc"]]},  # a request
        {"NoSuchRelation": []},
        [["Entry"]],
    ]
    for data in bad:
        with pytest.raises(wire.WireError):
            wire.facts_in(data, direct.ANSWER_RELATIONS, ("/dev/sda1",))
    with pytest.raises(wire.WireError):
        wire.decode(b"[1, 2]")
    with pytest.raises(wire.WireError):
        wire.decode(b"{" * 100_000)


def test_what_is_no_disk_image_is_refused_as_the_appliance_refuses_it(tmp_path: Path) -> None:
    from guestinspect.errors import ImageError

    text, empty = tmp_path / "notes.txt", tmp_path / "empty.img"
    text.write_text("hello\n" * 100)
    empty.touch()
    for path, message in [(text, "not a disk image (looks like a text file)"),
                          (empty, "empty file, not a disk image"),
                          (tmp_path, "is a directory, not a disk image"),
                          (tmp_path / "none.img", "no such file")]:
        with pytest.raises(ImageError, match=re.escape(f"{path}: {message}")):
            DirectCollector([path])


# ---- the child: a crash, a hang or a limit at start ---------------------------------------


@pytest.mark.parametrize(("what", "message"), [
    ("segv", "the direct reader crashed (SIGSEGV)"),
    ("cpu", "the direct reader used more than 1s of CPU and was killed"),
    ("memory", "the direct reader failed: out of memory"),
])
def test_a_child_that_fails_while_opening_is_one_error(
    what: str, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    disk = tmp_path / "disk.img"
    disk.write_bytes(bytes(1 << 20))
    monkeypatch.setenv(direct.FAULT_ENV, f"{what}:open")
    limits = {"cpu": isolate.Limits(seconds=60, cpu_seconds=1),
              "memory": isolate.Limits(seconds=60, memory=256 << 20)}.get(what, FAST)
    t0 = time.monotonic()
    with DirectCollector([disk], limits=limits) as c, pytest.raises(DirectFailed) as e:
        c.initial_facts()
    assert str(e.value).startswith(message)
    assert time.monotonic() - t0 < 30


def test_the_child_starts_with_the_inspector_and_ends_with_it(tmp_path: Path) -> None:
    """(its interpreter starts while the rules load)"""
    from guestinspect.api import Inspector

    disk = tmp_path / "disk.img"
    disk.write_bytes(bytes(1 << 20))
    insp = Inspector([disk], backend="direct")
    child = insp._child
    assert child is not None and child.proc.poll() is None
    insp.close()
    assert child.proc.poll() is not None
    with Inspector([disk], backend="direct") as insp:
        assert insp.inspect() == []
        assert insp._child is None  # the collector's now, closed with it
    assert Inspector([disk], backend="appliance")._child is None


# ---- auto's routing, over stand-ins -------------------------------------------------------


class FakeDirect:
    """The direct side: ``views`` as opened; ``crash``: filesystems whose reader fails."""

    def __init__(self, views: dict[str, str | None], unreadable: dict[str, str] | None = None,
                 crash: tuple[str, ...] = ()) -> None:
        facts: FactSet = {"Filesystem": {(fs, "ext4") for fs in views}}
        self.opened = Opened(facts, views, unreadable or {}, ["a direct warning"])
        self.crash = crash
        self.lost: dict[str, str] = {}
        self.asked: list[str] = []
        self._stats = CollectorStats()

    def open(self) -> Opened:
        return self.opened

    def initial_facts(self) -> FactSet:
        self._stats.warnings.extend(self.opened.warnings)
        return {**self.opened.facts, "Mounted": {(fs,) for fs in self.opened.readable()}}

    def answer_fs(self, fs: str, wants: FactSet) -> FactSet | None:
        self.asked.append(fs)
        if fs in self.crash:
            self.lost[fs] = "the direct reader crashed (SIGSEGV)"
            self._stats.warnings.append(f"{fs}: crashed")
            return None
        return {"Entry": {(fs, str(t[1]), "direct") for t in wants.get("WantPath", ())}}

    def stats(self) -> CollectorStats:
        return self._stats

    def close(self) -> None:
        pass


class FakeAppliance:
    def __init__(self, mounted: tuple[str, ...], fail: bool = False) -> None:
        self.mounted = mounted
        self.fail = fail
        self.started = 0
        self.asked: list[FactSet] = []
        self._stats = CollectorStats(warnings=["an appliance start warning"],
                                     launch_seconds=1.5, phase_seconds={"launch": 1.5})

    def initial_facts(self) -> FactSet:
        self.started += 1
        if self.fail:
            raise LaunchError("no KVM, no TCG")
        return {"Mounted": {(fs,) for fs in self.mounted}, "Filesystem": {("appliance", "x")}}

    def answer(self, wants: FactSet) -> FactSet:
        self.asked.append(wants)
        return {"Entry": {(str(t[0]), str(t[1]), "appliance") for t in wants["WantPath"]}}

    def stats(self) -> CollectorStats:
        return self._stats

    def close(self) -> None:
        pass


def _wants(*fss: str) -> FactSet:
    return {"WantPath": {(fs, "/etc") for fs in fss}}


def _auto(fake: FakeDirect, appliance: FakeAppliance) -> AutoCollector:
    return AutoCollector(fake, lambda: appliance)  # type: ignore[arg-type]


def test_auto_reads_directly_and_launches_nothing_when_it_can() -> None:
    fake, appliance = FakeDirect({"/dev/sda1": None, "/dev/sda2": None}), FakeAppliance(())
    auto = _auto(fake, appliance)
    assert auto.initial_facts()["Mounted"] == {("/dev/sda1",), ("/dev/sda2",)}
    facts = auto.answer(_wants("/dev/sda1", "/dev/sda2"))
    assert {t[2] for t in facts["Entry"]} == {"direct"}
    assert appliance.started == 0
    assert auto.stats().warnings == ["a direct warning"]
    assert auto.stats().backends == {"/dev/sda1": "direct", "/dev/sda2": "direct"}


def test_auto_launches_the_appliance_at_start_for_a_filesystem_it_cannot_read() -> None:
    fake = FakeDirect({"/dev/sda1": None, "/dev/sda2": "btrfs is not read directly"})
    appliance = FakeAppliance(("/dev/sda1", "/dev/sda2"))
    auto = _auto(fake, appliance)
    assert needs_appliance(fake.opened) == ["/dev/sda2: btrfs is not read directly"]
    facts = auto.initial_facts()
    assert ("appliance", "x") in facts["Filesystem"]  # the appliance's start facts
    answered = auto.answer(_wants("/dev/sda1", "/dev/sda2"))
    assert answered["Entry"] == {("/dev/sda1", "/etc", "direct"),
                                 ("/dev/sda2", "/etc", "appliance")}
    assert appliance.asked == [_wants("/dev/sda2")]
    stats = auto.stats()
    assert stats.backends == {"/dev/sda1": "direct", "/dev/sda2": "appliance"}
    assert stats.warnings == ["an appliance start warning"]  # not the direct side's
    assert "answered by appliance: /dev/sda2; direct: /dev/sda1" in stats.summary()
    assert "btrfs is not read directly" in stats.summary()


def test_a_crash_while_opening_a_filesystem_is_a_warning_under_auto_too() -> None:
    crash = "the direct reader crashed (SIGSEGV)"
    fake = FakeDirect({"/dev/sda1": None, "/dev/sda2": crash})
    fake.lost["/dev/sda2"] = crash
    auto = _auto(fake, FakeAppliance(("/dev/sda1", "/dev/sda2")))
    auto.initial_facts()
    assert f"/dev/sda2: {crash}; the appliance reads it" in auto.stats().warnings
    assert auto.stats().backends == {"/dev/sda1": "direct", "/dev/sda2": "appliance"}


def test_an_unreadable_volume_under_a_filesystem_needs_the_appliance() -> None:
    fake = FakeDirect({"/dev/sda1": None}, unreadable={"/dev/sdb1": "md RAID member"})
    assert needs_appliance(fake.opened) == ["/dev/sdb1: md RAID member"]
    fake = FakeDirect({}, unreadable={"/dev/sda1": "swap"})
    fake.opened.facts["Filesystem"] = {("/dev/sda1", "swap")}  # not mounted by anyone
    assert needs_appliance(fake.opened) == []


def test_a_crash_sends_that_filesystem_to_the_appliance_launched_then() -> None:
    fake = FakeDirect({"/dev/sda1": None, "/dev/sda2": None}, crash=("/dev/sda2",))
    appliance = FakeAppliance(("/dev/sda1", "/dev/sda2"))
    auto = _auto(fake, appliance)
    auto.initial_facts()
    assert appliance.started == 0
    answered = auto.answer(_wants("/dev/sda1", "/dev/sda2"))
    assert answered["Entry"] == {("/dev/sda1", "/etc", "direct"),
                                 ("/dev/sda2", "/etc", "appliance")}
    assert appliance.started == 1
    auto.answer(_wants("/dev/sda2"))  # from now on the appliance's
    assert fake.asked == ["/dev/sda1", "/dev/sda2"]
    assert len(appliance.asked) == 2
    stats = auto.stats()
    assert stats.backends["/dev/sda2"] == "appliance"
    assert "/dev/sda2: crashed" in stats.warnings
    assert "an appliance start warning" not in stats.warnings  # its start facts are unused
    assert stats.launch_seconds == 1.5


@pytest.mark.parametrize("unsupported", [True, False])
def test_images_the_direct_side_cannot_open_are_the_appliances(unsupported: bool) -> None:
    fake, appliance = FakeDirect({}), FakeAppliance(("/dev/sda1",))

    def fail() -> Opened:
        raise DirectFailed("a qcow2 over a raw backing file", unsupported=unsupported)

    fake.open = fail  # type: ignore[method-assign]
    auto = _auto(fake, appliance)
    assert ("appliance", "x") in auto.initial_facts()["Filesystem"]
    assert auto.answer(_wants("/dev/sda1"))["Entry"] == {("/dev/sda1", "/etc", "appliance")}
    stats = auto.stats()
    message = ("the direct backend cannot read the images: a qcow2 over a raw backing file; "
               "the appliance reads them")
    # an image it does not read is no one's fault (-v says it); a failure is a warning
    assert (message in stats.notes, message in stats.warnings) == (unsupported, not unsupported)


def test_without_an_appliance_auto_reports_what_the_direct_side_reads() -> None:
    fake = FakeDirect({"/dev/sda1": None, "/dev/sda2": "btrfs is not read directly"},
                      crash=("/dev/sda1",))
    appliance = FakeAppliance((), fail=True)
    auto = _auto(fake, appliance)
    facts = auto.initial_facts()  # the direct side's start facts, not an error
    assert facts["Mounted"] == {("/dev/sda1",)}
    for _ in range(2):
        assert auto.answer(_wants("/dev/sda1", "/dev/sda2")) == {}
    assert appliance.started == 1  # not tried again
    stats = auto.stats()
    assert [w for w in stats.warnings if "appliance" in w] == [
        "the appliance could not be started (no KVM, no TCG); only what the direct backend "
        "reads is reported",
        "/dev/sda1: not read (no appliance: no KVM, no TCG)",
    ]
    assert "/dev/sda1" not in stats.backends


def test_the_driver_adds_to_the_stats_in_place() -> None:
    auto = _auto(FakeDirect({"/dev/sda1": None}), FakeAppliance(()))
    stats = auto.stats()
    auto.initial_facts()
    stats.warnings.append("the driver's")
    stats.rounds += 1
    assert auto.stats() is stats and "the driver's" in stats.warnings and stats.rounds == 1


# ---- the real images --------------------------------------------------------------------

pieces = pytest.mark.skipif(
    not all((Path(__file__).parents[2] / "guestinspect" / "collectors" / p).exists()
            for p in ("answerers", "volumes/direct.py", "backends/direct_fs.py")),
    reason="the direct backend's parts have not landed yet")


def _no_appliance(monkeypatch: pytest.MonkeyPatch) -> None:
    from guestinspect.collectors import appliance

    def launch(*args: object, **kwargs: object) -> None:
        raise AssertionError("an appliance was launched")

    monkeypatch.setattr(appliance, "launch", launch)


def _inspect(args: list[str]) -> tuple[str, str]:
    from guestinspect.cli import cli

    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.stderr
    return result.stdout, result.stderr


@pieces
def test_direct_on_debian_gives_the_oracle_without_a_vm(
    monkeypatch: pytest.MonkeyPatch, fault: None
) -> None:
    from tests.cli.test_end_to_end import expected, normalise
    from tests.images import image

    _no_appliance(monkeypatch)
    monkeypatch.delenv("LIBGUESTFS_DEBUG", raising=False)  # (-v sets it: restored after)
    for backend in ("direct", "auto"):
        xml, stderr = _inspect(["--backend", backend, "-a", str(image("debian")), "-v"])
        assert normalise(xml) == expected("debian")
        (summary,) = stderr.splitlines()  # no warning; the figures of -v
        assert summary.startswith("guestinspect: 0 libguestfs calls, 4 rounds, ")
        assert "direct start " in summary and "direct packages " in summary
        assert summary.endswith("answered by direct: /dev/debian/home, /dev/debian/root, "
                                "/dev/debian/usr, /dev/debian/var, /dev/sda1")


@pieces
@pytest.mark.parametrize(("fault", "warning"), [
    ("segv:/dev/debian/usr", "the direct reader crashed (SIGSEGV); nothing more read from "
     "this filesystem"),
    ("hang:/dev/debian/usr", "the direct reader took longer than 6s and was killed; nothing "
     "more read from this filesystem"),
    ("garbage:/dev/debian/usr", "the direct reader gave a Entry fact about another filesystem "
     "than the one asked about; nothing more read from this filesystem"),
    # while its view is opened, at the start: it is not mounted
    ("segv:view:/dev/debian/usr", "cannot mount: the direct reader crashed (SIGSEGV); "
     "--backend auto reads it with the appliance"),
])
def test_a_crash_on_one_filesystem_costs_that_filesystem(
    fault: str, warning: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from guestinspect.api import Inspector
    from tests.images import image

    _no_appliance(monkeypatch)
    monkeypatch.setattr(direct, "DEFAULT_LIMITS", FAST)
    monkeypatch.setenv(direct.FAULT_ENV, fault)
    with Inspector([image("debian")], backend="direct") as insp:
        (os_,) = insp.inspect()
        warnings = insp.warnings()
        facts = insp.database()
        tmp = insp._collector._tmp  # type: ignore[union-attr]
        assert tmp.is_dir()
    assert not tmp.exists()  # what the killed children left there too
    assert os_["distro"] == "debian" and os_["hostname"] == "debian.invalid"
    assert os_["applications"], warnings  # the dpkg database, on /var, read by a fresh child
    assert warnings == [f"/dev/debian/usr: {warning}"]
    mounted = {t[0] for t in facts.tuples("Mounted")}
    assert mounted == {"/dev/debian/home", "/dev/debian/root", "/dev/debian/var", "/dev/sda1",
                       *(["/dev/debian/usr"] if "view:" not in fault else [])}


@pieces
def test_direct_on_btrfs_warns_and_reads_the_rest(
    monkeypatch: pytest.MonkeyPatch, fault: None
) -> None:
    from tests.images import image

    _no_appliance(monkeypatch)
    stdout, stderr = _inspect(["--backend", "direct", "-a", str(image("fedora-btrfs"))])
    assert ("guestinspect: warning: /dev/sda2: cannot mount: btrfs (its subvolumes need the "
            "appliance); --backend auto reads it with the appliance") in stderr
    assert "<operatingsystems/>" in stdout  # (the root is on the btrfs: no OS found)


@pieces
@pytest.mark.appliance
def test_auto_on_btrfs_gives_the_appliance_document(monkeypatch: pytest.MonkeyPatch) -> None:
    """One launch: the btrfs root needs the appliance at start; a crash of the direct reader
    of /boot (sda1, ext2, read directly) sends it there too; the document is the one the
    recorded appliance facts give."""
    from guestinspect.api import Inspector
    from guestinspect.reporting.xml import to_xml
    from tests.cli.test_end_to_end import snapshot
    from tests.images import image

    os.environ.setdefault("LIBGUESTFS_BACKEND_SETTINGS", "force_tcg")
    monkeypatch.setenv(direct.FAULT_ENV, "segv:/dev/sda1")
    with Inspector([image("fedora-btrfs")], backend="auto") as insp:
        xml = to_xml(insp.inspect())
        warnings = insp.warnings()
        stats = insp.stats()
    assert xml == to_xml(Inspector.from_facts(snapshot("fedora-btrfs")).inspect())
    assert stats is not None and stats.launch_seconds > 0
    assert stats.backends["/dev/sda1"] == "appliance"
    assert "/dev/sda1: the direct reader crashed (SIGSEGV); the appliance reads it" in warnings
