"""``guestinspect fleet`` end to end on a fleet of test guests: two copies of debian, windows,
the two-disk fedora-md (``a+b``), a corrupt image and a missing path.

Appliance launches: 4 for the first run (the copies are distinct images to the cache), 1 for
the single-image API on windows, 1 for fedora-md when a user rule wants a file no shipped rule
reads; everything else (reruns, resume, Dask, Ctrl-C's completion) is answered from the fact
cache, without opening an image.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.oracles import ROOT

pytestmark = pytest.mark.appliance

GRUB_RULE = """\
// A user's rule reading a file no shipped rule reads, of fedora-md's root only (asked on a
// base fact: a guest without that filesystem asks nothing new).
RootWant(r, "/boot/grub/grub.conf") :- Filesystem(r, _), r = "/dev/VG/Root".
.decl FleetGrubConf(root: symbol, text: symbol)
FleetGrubConf(r, t) :- RootText(r, "/boot/grub/grub.conf", t).
"""


@dataclass
class Run:
    code: int
    records: list[dict[str, Any]]
    stdout: str
    stderr: str
    seconds: float

    def by_image(self) -> dict[str, dict[str, Any]]:
        return {r["image"]: r for r in self.records}


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("LIBGUESTFS_BACKEND_SETTINGS", "force_tcg")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def fleet(*args: str | Path, stdin: str | None = None) -> Run:
    """The real command, in a process of its own."""
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "guestinspect.cli", "fleet", *map(str, args)],
                          input=stdin, capture_output=True, text=True, env=_env(),
                          timeout=1800)
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    return Run(proc.returncode, records, proc.stdout, proc.stderr, time.monotonic() - started)


def _link(src: Path, dst: Path) -> Path:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)
    return dst


@dataclass
class Fleet:
    dir: Path
    listing: Path
    cache: Path
    inventory: Path
    names: dict[str, str]  # role -> image name as given
    first: Run


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Fleet:
    from tests.images import build_images

    paths = build_images(["debian", "windows", "fedora-md"])
    d = tmp_path_factory.mktemp("fleet")
    debian1 = _link(paths["debian"][0], d / "debian-1.img")
    debian2 = _link(paths["debian"][0], d / "debian-2.img")
    windows = _link(paths["windows"][0], d / "windows.img")
    md1 = _link(paths["fedora-md"][0], d / "md-1.img")
    md2 = _link(paths["fedora-md"][1], d / "md-2.img")
    corrupt = d / "corrupt.qcow2"
    corrupt.write_bytes(b"QFI\xfb\0\0\0\3" + b"\xff" * 504)  # a damaged qcow2 header
    missing = d / "missing.img"
    names = {"debian1": str(debian1), "debian2": str(debian2), "windows": str(windows),
             "md": f"{md1}+{md2}", "corrupt": str(corrupt), "missing": str(missing)}
    listing = d / "fleet.txt"
    listing.write_text("# the test fleet\n" + "\n".join(names.values()) + "\n")
    cache, inventory = d / "cache", d / "fleet.db"
    first = fleet("--from", listing, "--cache-dir", cache, "--inventory", inventory, "-j", "2")
    return Fleet(d, listing, cache, inventory, names, first)


def _rows(db: Path, sql: str, *args: object) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return conn.execute(sql, args).fetchall()


def _facts(db: Path, image: str) -> set[tuple[str, int, str]]:
    return set(_rows(db, "SELECT relation, derived, tuple FROM facts JOIN images "
                         "ON images.id = image_id WHERE image = ?", image))


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Two records alike but for timings and where the facts came from."""
    strip = {"seconds", "cached"}
    return {k: v for k, v in a.items() if k not in strip} == \
        {k: v for k, v in b.items() if k not in strip}


def test_one_record_per_image(built: Fleet) -> None:
    run, n = built.first, built.names
    assert run.code == 1, run.stderr  # two images have errors
    assert sorted(run.by_image()) == sorted(n.values())
    recs = run.by_image()
    for role in ("debian1", "debian2", "windows", "md"):
        assert recs[n[role]]["status"] == "ok", recs[n[role]]
        assert recs[n[role]]["cached"] is False
    assert [os["distro"] for os in recs[n["debian1"]]["inspections"]] == ["debian"]
    assert [os["product_name"] for os in recs[n["windows"]]["inspections"]] == [
        "Microsoft Windows 7 Phony Edition"]
    md = recs[n["md"]]
    assert md["disks"] == n["md"].split("+")
    assert [(os["root"], os["distro"]) for os in md["inspections"]] == [
        ("/dev/VG/Root", "fedora")]
    assert recs[n["missing"]]["error"] == f"{n['missing']}: no such file"
    assert recs[n["corrupt"]]["status"] == "error"
    for role in ("missing", "corrupt"):  # the line the single-image command prints
        single = subprocess.run([sys.executable, "-m", "guestinspect.cli", "-a", n[role]],
                                capture_output=True, text=True, env=_env(), timeout=600)
        assert single.stderr == f"guestinspect: error: {recs[n[role]]['error']}\n"
    assert "Traceback" not in run.stderr
    assert f"] {n['windows']} ok" in run.stderr  # plain progress lines (not a terminal)


def test_the_inventory_holds_the_records_and_every_fact(built: Fleet) -> None:
    run, n, db = built.first, built.names, built.inventory
    rows = _rows(db, "SELECT image, status, error, record FROM images")
    assert {r[0]: json.loads(r[3]) for r in rows} == run.by_image()
    assert {r[0]: r[1] for r in rows} == {r["image"]: r["status"] for r in run.records}
    assert _rows(db, "SELECT value FROM meta WHERE key = 'schema_version'") == [("1",)]
    assert sorted(run.stdout.splitlines()) == sorted(r[3] for r in rows)  # as printed
    debian = _facts(db, n["debian1"])
    assert ("OsDistro", 1, '["/dev/debian/root", "debian"]') in debian
    assert any(rel == "Filesystem" and derived == 0 for rel, derived, _ in debian)
    assert debian == _facts(db, n["debian2"])  # the same image twice: the same facts
    assert _facts(db, n["missing"]) == set()


def test_the_inventory_has_what_the_single_image_api_gives(built: Fleet) -> None:
    from guestinspect.api import Inspector
    from guestinspect.fleet.worker import database_facts

    n, db = built.names, built.inventory
    with Inspector([n["windows"]]) as insp:  # the one launch of the API
        assert built.first.by_image()[n["windows"]]["inspections"] == insp.inspect()
        expected = {(rel, int(derived), json.dumps(list(t)))
                    for rel, derived, t in database_facts(insp.database())}
    assert _facts(db, n["windows"]) == expected


def test_a_rerun_answers_from_the_cache(built: Fleet) -> None:
    n = built.names
    again = fleet("--from", built.listing, "--cache-dir", built.cache, "-j", "2")
    assert again.code == 1
    first, recs = built.first.by_image(), again.by_image()
    for role in ("debian1", "debian2", "windows", "md"):
        assert recs[n[role]]["cached"] is True  # no image opened
        assert _same(recs[n[role]], first[n[role]])
        assert recs[n[role]]["seconds"]["collect"] == 0
    assert recs[n["corrupt"]]["error"] == first[n["corrupt"]]["error"]


def test_the_cache_opens_no_image(built: Fleet, monkeypatch: pytest.MonkeyPatch) -> None:
    """In process, with the image collector replaced by one that fails if opened."""
    from guestinspect.collectors import image
    from guestinspect.fleet.inputs import Guest
    from guestinspect.fleet.worker import Options, inspect_guest

    opened: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        opened.append(args)
        raise AssertionError("the image was opened")

    monkeypatch.setattr(image, "ImageCollector", refuse)
    guest = Guest(tuple(built.names["md"].split("+")))
    outcome = inspect_guest(guest, Options(cache_dir=str(built.cache)))
    assert (outcome.status, outcome.opened, opened) == ("ok", 0, [])
    assert _same(outcome.record, built.first.by_image()[built.names["md"]])
    assert {(r, int(d), json.dumps(list(t))) for r, d, t in outcome.facts} == _facts(
        built.inventory, built.names["md"])
    refreshed = inspect_guest(guest, Options(cache_dir=str(built.cache), refresh=True))
    assert refreshed.status == "error" and "the image was opened" in str(refreshed.record)
    assert len(opened) == 1


def test_a_rerun_resumes_the_inventory(built: Fleet) -> None:
    copy = built.dir / "resumed.db"
    shutil.copyfile(built.inventory, copy)
    run = fleet("--from", built.listing, "--cache-dir", built.cache, "--inventory", copy)
    assert run.code == 1
    ok = [r for r in built.first.records if r["status"] == "ok"]
    assert len(ok) == 4
    for rec in ok:  # kept from the inventory, printed as recorded
        assert f"{rec['image']} already in the inventory" in run.stderr
        assert json.dumps(rec, ensure_ascii=False) in run.stdout.splitlines()
    assert run.stderr.count("already in the inventory") == 4  # the errors are tried again


def test_a_new_rule_opens_only_the_images_it_must(built: Fleet) -> None:
    rules = built.dir / "grub.dl"
    rules.write_text(GRUB_RULE)
    db = built.dir / "grub.db"
    run = fleet("--from", built.listing, "--cache-dir", built.cache, "--inventory", db,
                "--rules", rules, "-j", "2")
    n, recs = built.names, run.by_image()
    assert run.code == 1, run.stderr
    assert {role: recs[n[role]]["cached"] for role in ("debian1", "debian2", "windows", "md")} \
        == {"debian1": True, "debian2": True, "windows": True, "md": False}
    grub = [json.loads(t) for (t,) in _rows(
        db, "SELECT tuple FROM facts WHERE relation = 'FleetGrubConf' AND derived = 1")]
    assert len(grub) == 1 and grub[0][0] == "/dev/VG/Root" and "title" in grub[0][1]
    again = fleet("--from", built.listing, "--cache-dir", built.cache, "--rules", rules)
    assert all(r["cached"] for r in again.records if r["status"] == "ok")  # now in the cache


def test_an_answer_no_rule_asks_for_is_left_out(built: Fleet,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """After the rule above is gone, fedora-md's entry holds grub.conf: the inspection is
    the one with the rule (its conclusions), without the rule's answer when that is a batch
    of its own, still without opening the image."""
    from guestinspect.api import program
    from guestinspect.collectors import image
    from guestinspect.fleet.cache import FactCache
    from guestinspect.fleet.inputs import Guest
    from guestinspect.fleet.worker import Options, inspect_guest

    assert (built.dir / "grub.db").exists(), "needs test_a_new_rule_opens_only_the_images_it_must"
    monkeypatch.setattr(image, "ImageCollector", None)  # calling it would fail
    guest = Guest(tuple(built.names["md"].split("+")))
    outcome = inspect_guest(guest, Options(cache_dir=str(built.cache)))
    assert (outcome.status, outcome.opened) == ("ok", 0)
    facts = {(r, int(d), json.dumps(list(t))) for r, d, t in outcome.facts}
    # (md arrays are numbered anew at each launch: compared with the run that read grub.conf)
    with_rule = _facts(built.dir / "grub.db", built.names["md"])
    grub = {f for f in with_rule if "grub.conf" in f[2] and f[0] in ("Content", "RootText")}
    assert grub and not any(f[0] == "FleetGrubConf" for f in facts)
    entry = FactCache(built.cache).load(outcome.key or "", program())
    assert entry is not None
    (batch,) = [b for b in entry.batches
                if any(w[0] == "WantContent" and w[1][1] == "/grub/grub.conf" for w in b.wants)]
    if len(batch.wants) == 1:  # read for the rule alone (if the entry was kept, see below)
        assert not grub & facts
    # else: the md arrays were numbered otherwise at the rule's launch, the entry was read
    # afresh with the rule, its answer shares a batch with others (docs/fleet.md) and stays
    assert facts < with_rule
    (line,) = _rows(built.dir / "grub.db", "SELECT record FROM images WHERE image = ?",
                    built.names["md"])
    assert _same(outcome.record, json.loads(line[0]))


def test_the_same_inventory_on_a_dask_cluster(built: Fleet) -> None:
    from distributed import LocalCluster

    db, local = built.dir / "dask.db", built.dir / "local.db"
    assert fleet("--from", built.listing, "--cache-dir", built.cache, "--inventory",
                 local).code == 1  # from the cache, as it is now
    with LocalCluster(processes=True, n_workers=2, threads_per_worker=1, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        run = fleet("--from", built.listing, "--cache-dir", built.cache, "--inventory", db,
                    "--dask", cluster.scheduler_address)
    assert run.code == 1, run.stderr
    first = {image: json.loads(r) for image, r in _rows(local, "SELECT image, record FROM images")}
    assert sorted(run.by_image()) == sorted(first)
    for image, rec in run.by_image().items():
        assert _same(rec, first[image])
        assert _facts(db, image) == _facts(local, image)


def _holders(directory: Path, wait: float = 15.0) -> list[str]:
    """Other processes with a disk image of ``directory`` open (after up to ``wait``
    seconds): a worker or an appliance left behind."""
    end = time.monotonic() + wait
    while True:
        found = []
        for fd in Path("/proc").glob("[0-9]*/fd/*"):
            if fd.parts[2] == str(os.getpid()):
                continue
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith(str(directory)) and target.endswith(".img"):
                found.append(f"{fd}: {target}")
        if not found or time.monotonic() > end:
            return found
        time.sleep(0.5)


def test_ctrl_c_leaves_a_consistent_inventory(built: Fleet) -> None:
    db = built.dir / "interrupted.db"
    listing = built.dir / "errors-first.txt"  # two quick records, then appliances to stop
    n = built.names
    listing.write_text("\n".join([n["corrupt"], n["missing"], n["debian1"], n["debian2"],
                                  n["windows"], n["md"]]))
    proc = subprocess.Popen(
        [sys.executable, "-m", "guestinspect.cli", "fleet", "--from", str(listing),
         "--cache-dir", str(built.cache), "--inventory", str(db), "--refresh", "-j", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
    assert proc.stdout is not None
    first_line = proc.stdout.readline()  # a missing or corrupt image: done at once
    time.sleep(1)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and err.endswith("guestinspect: error: interrupted\n")
    done = {r["image"]: r for r in map(json.loads, [first_line, *out.splitlines()])}
    recorded = {image: json.loads(r)
                for image, r in _rows(db, "SELECT image, record FROM images")}
    assert done.items() <= recorded.items()  # (one more if stopped between the two writes)
    assert len(recorded) < len(built.names)
    for image in recorded:  # each image recorded whole: its facts with it
        assert _facts(db, image) == _facts(built.dir / "local.db", image) or \
            image == built.names["md"]  # (read afresh by --refresh: md numbered anew)
    assert _holders(built.dir) == []  # no worker, no appliance left with an image open
    rerun = fleet("--from", built.listing, "--cache-dir", built.cache, "--inventory", db)
    assert rerun.code == 1
    assert {i for (i,) in _rows(db, "SELECT image FROM images")} == set(built.names.values())
    ref = built.dir / "complete.db"
    assert fleet("--from", built.listing, "--cache-dir", built.cache, "--inventory",
                 ref).code == 1
    for image in built.names.values():
        assert _facts(db, image) == _facts(ref, image)
