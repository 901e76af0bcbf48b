"""The per-inspection deadline (issue 10, class 11): past it, what was read is reported with a
warning saying what was not; a libguestfs call stuck in the appliance is interrupted."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from guestinspect.collectors.base import CollectorStats, FactSet
from guestinspect.collectors.deadline import Deadline, DeadlineExceeded
from guestinspect.datalog import Program
from guestinspect.errors import LaunchError
from guestinspect.inspection.driver import run_collector
from tests.reporting.xmlreader import read_xml

WANTS = Path(__file__).resolve().parents[2] / "rules" / "wants.dl"
# Each round wants the next path: /0, /1, /2 … (Found(n) for each path read).
PROGRAM = WANTS.read_text() + """
.decl Start(fs: symbol)
.input Start
.decl Found(fs: symbol, n: number)
.input Found
.output Found
WantPath(fs, cat("/", to_string(n + 1))) :- Found(fs, n), n < 9.
WantPath(fs, "/0") :- Start(fs).
"""


class SlowCollector:
    """A collector whose answer to the round ``stuck_at`` takes ``seconds`` (and is then
    checked by the deadline, as the image collector's libguestfs calls are)."""

    def __init__(self, deadline: Deadline, stuck_at: int, seconds: float) -> None:
        self.deadline, self.stuck_at, self.seconds = deadline, stuck_at, seconds
        self.rounds = 0
        self._stats = CollectorStats()

    def initial_facts(self) -> FactSet:
        return {"Start": {("/dev/sda1",)}}

    def answer(self, wants: FactSet) -> FactSet:
        self.rounds += 1
        if self.rounds == self.stuck_at:
            time.sleep(self.seconds)
            self.deadline.check()
        (fs, path), = wants["WantPath"]
        return {"Found": {(fs, int(str(path)[1:]))}}

    def stats(self) -> CollectorStats:
        return self._stats

    def close(self) -> None:
        pass


def _program() -> Program:
    return Program.from_text(PROGRAM, "deadline.dl")


def test_no_deadline_reads_everything() -> None:
    deadline = Deadline(None)
    collector = SlowCollector(deadline, stuck_at=0, seconds=0)
    db = run_collector(_program(), collector, deadline)
    assert {n for _, n in db.tuples("Found")} == set(range(10))
    assert collector.stats().warnings == []


def test_deadline_stops_a_stuck_round_and_keeps_the_earlier_ones() -> None:
    program = _program()  # compiled before the deadline starts: a loaded machine compiles slowly
    deadline = Deadline(1.0)
    collector = SlowCollector(deadline, stuck_at=4, seconds=1.5)
    t0 = time.monotonic()
    db = run_collector(program, collector, deadline)
    assert time.monotonic() - t0 < 5
    # rounds 1-3 answered /0 /1 /2; round 4 (/3) was given up
    assert {n for _, n in db.tuples("Found")} == {0, 1, 2}
    assert collector.stats().warnings == [
        "the deadline of 1s was reached; not read: 1 paths; the report shows what was read "
        "before"
    ]


def test_answers_completed_after_the_deadline_are_dropped() -> None:
    program = _program()  # compiled before the deadline starts
    deadline = Deadline(2.0)

    class Late(SlowCollector):
        def answer(self, wants: FactSet) -> FactSet:
            time.sleep(2.5)  # answers, but after the deadline (the appliance may be dead)
            return super().answer(wants)

    collector = Late(deadline, stuck_at=0, seconds=0)
    db = run_collector(program, collector, deadline)
    assert set(db.tuples("Found")) == set()
    assert "not read: 1 paths" in collector.stats().warnings[0]


def test_deadline_during_initial_facts() -> None:
    deadline = Deadline(0.2)

    class Stuck(SlowCollector):
        def initial_facts(self) -> FactSet:
            time.sleep(0.3)
            raise DeadlineExceeded(deadline.describe())

    collector = Stuck(deadline, stuck_at=0, seconds=0)
    db = run_collector(_program(), collector, deadline)
    assert set(db.tuples("Found")) == set()
    assert collector.stats().warnings == [
        "the deadline of 0.2s was reached while reading the devices and filesystems; "
        "nothing inspected"
    ]


def test_deadline_values() -> None:
    assert Deadline(None).remaining() is None and not Deadline(None).expired()
    d = Deadline(100)
    assert 99 < (d.remaining() or 0) <= 100
    for bad in (0, -1, float("nan")):
        with pytest.raises(ValueError):
            Deadline(bad)


@pytest.mark.appliance
def test_cli_stuck_libguestfs_call_is_interrupted() -> None:
    """A libguestfs call that never returns (the test hook runs ``sleep 3600`` in the
    appliance when the packages are read): the watchdog kills the appliance at the deadline
    and the CLI prints everything read before, exit 0, with a warning."""
    from tests.images import image

    disk = image("debian")
    env = dict(os.environ, GUESTINSPECT_TEST_STALL_PHASE="packages",
               LIBGUESTFS_BACKEND_SETTINGS="force_tcg")
    # The deadline counts from the start, the appliance's launch included (15 s on an idle
    # machine, up to a minute on a busy one): 60 s first, and 150 s only when the launch and
    # the first rounds did not fit in 60 (the stuck call was not reached).
    for timeout in (60, 150):
        t0 = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-m", "guestinspect.cli", "-a", str(disk),
             "--timeout", str(timeout)],
            capture_output=True, timeout=timeout + 120, env=env, check=False,
        )
        took = time.monotonic() - t0
        err = proc.stderr.decode()
        if "1 package databases" in err:
            break
    assert proc.returncode == 0, err
    assert timeout - 5 < took < timeout + 60
    assert "Traceback" not in err
    (warning,) = [line for line in err.splitlines() if "deadline" in line]
    # the round of the stuck call also asked for the architecture of /bin/ls: not read either
    assert warning.startswith(
        f"guestinspect: warning: the deadline of {timeout}s was reached; not read: "
    )
    assert "1 package databases" in warning
    assert warning.endswith("; the report shows what was read before")
    (os_,) = read_xml(proc.stdout)
    assert os_["distro"] == "debian" and os_["hostname"]  # read before the deadline
    assert not os_.get("applications")  # the stuck part


def test_error_of_a_call_cut_short_by_the_deadline() -> None:
    """The appliance killed at the deadline makes the stuck call fail with a RuntimeError:
    that is the deadline too, not an error of the image; before the deadline it is one."""
    deadline = Deadline(0.5)

    class Killed(SlowCollector):
        def answer(self, wants: FactSet) -> FactSet:
            if self.rounds == 2:
                time.sleep(0.7)
                raise RuntimeError("qemu killed by signal 9 (Killed)")
            return super().answer(wants)

    collector = Killed(deadline, stuck_at=0, seconds=0)
    db = run_collector(_program(), collector, deadline)
    assert {n for _, n in db.tuples("Found")} == {0, 1}
    assert "not read: 1 paths" in collector.stats().warnings[0]

    class Broken(SlowCollector):
        def answer(self, wants: FactSet) -> FactSet:
            raise RuntimeError("a real error")

    with pytest.raises(RuntimeError, match="a real error"):
        run_collector(_program(), Broken(Deadline(60), 0, 0), Deadline(60))


def test_appliance_not_started_before_the_deadline_is_an_error() -> None:
    deadline = Deadline(0.1)

    class NoLaunch(SlowCollector):
        def initial_facts(self) -> FactSet:
            time.sleep(0.2)
            raise LaunchError("the deadline of 0.1s was reached before the libguestfs "
                              "appliance started (raise --timeout)")

    with pytest.raises(LaunchError, match="before the libguestfs appliance started"):
        run_collector(_program(), NoLaunch(deadline, 0, 0), deadline)


@pytest.mark.appliance
def test_cli_deadline_before_the_appliance_started() -> None:
    from tests.images import image

    disk = image("debian")
    env = dict(os.environ, LIBGUESTFS_BACKEND_SETTINGS="force_tcg")
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "guestinspect.cli", "-a", str(disk), "--timeout", "2"],
        capture_output=True, timeout=120, env=env, check=False,
    )
    assert time.monotonic() - t0 < 30
    assert proc.returncode == 1
    assert proc.stdout == b""
    assert proc.stderr.decode().splitlines() == [
        "guestinspect: error: the deadline of 2s was reached before the libguestfs appliance "
        "started (raise --timeout)"
    ]
