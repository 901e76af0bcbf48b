"""The fact cache's keys and entries (fleet/cache.py), read as hostile input; no VM."""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

import pytest

from guestinspect import api
from guestinspect.datalog import Program
from guestinspect.fleet.cache import MAX_CHAIN, Batch, CacheError, Entry, FactCache, image_key
from tests.fleet.samples import qcow2

OPTS = {"applications": True, "format": None}


@functools.cache
def program() -> Program:
    return api.program()


def test_the_key_follows_the_identity(tmp_path: Path) -> None:
    disk = tmp_path / "a.img"
    disk.write_bytes(bytes(1024))
    key = image_key([str(disk)], OPTS)
    assert key == image_key([str(disk)], dict(OPTS))
    assert key != image_key([str(disk)], {**OPTS, "applications": False})
    copy = tmp_path / "b.img"
    os.link(disk, copy)  # the same inode, another path: another guest
    assert image_key([str(copy)], OPTS) != key
    os.utime(disk, ns=(1, 1))
    assert image_key([str(disk)], OPTS) != key
    with pytest.raises(CacheError, match="No such file"):
        image_key([str(tmp_path / "missing.img")], OPTS)
    with pytest.raises(CacheError, match="remote"):
        image_key(["nbd://localhost/x"], OPTS)


def test_the_key_follows_the_backing_chain(tmp_path: Path) -> None:
    base = tmp_path / "base.qcow2"
    base.write_bytes(qcow2())
    (tmp_path / "sub").mkdir()
    top = tmp_path / "sub" / "top.qcow2"
    top.write_bytes(qcow2(b"../base.qcow2"))  # relative to the overlay's directory
    key = image_key([str(top)], OPTS)
    base.write_bytes(qcow2() + b"more")  # the base changed: so did the guest
    assert image_key([str(top)], OPTS) != key
    base.unlink()
    with pytest.raises(CacheError, match="No such file"):
        image_key([str(top)], OPTS)
    loop = tmp_path / "loop.qcow2"
    loop.write_bytes(qcow2(b"loop.qcow2"))
    with pytest.raises(CacheError, match=f"deeper than {MAX_CHAIN}"):
        image_key([str(loop)], OPTS)


def test_entries_round_trip(tmp_path: Path) -> None:
    prog = program()
    entry = Entry()
    entry.initial = {"Filesystem": {("/dev/sda1", "ext4")}}
    entry.batches = [Batch({("WantPath", ("/dev/sda1", "/etc/hostname"))},
                           {"Missing": {("/dev/sda1", "/etc/hostname")}}, ["not there"])]
    entry.warnings = ["a warning \udcff kept as is"]
    cache = FactCache(tmp_path)
    cache.save("ab" * 32, entry)
    back = cache.load("ab" * 32, prog)
    assert back is not None
    assert (back.initial, back.batches, back.warnings) == (
        entry.initial, entry.batches, entry.warnings)
    assert cache.load("cd" * 32, prog) is None
    assert [p.name for p in (tmp_path / "ab").iterdir()] == ["ab" * 32 + ".json"]  # no tmp


def _entry(**parts: object) -> str:
    data = {"format": 2, "initial": {}, "warnings": [], "batches": []}
    data.update(parts)
    return json.dumps(data)


@pytest.mark.parametrize(("text", "message"), [
    ("not json", "not JSON"),
    ("[1, 2]", "not a cache entry"),
    ('{"format": 1}', "not a cache entry"),
    (_entry(initial=[]), "not an object"),
    (_entry(initial={"NoSuchRelation": [["x"]]}), "not declared"),
    (_entry(initial={"NoSuchRelation": []}), "not declared"),  # found by fleet.cache_entry
    (_entry(initial={"Filesystem": [["x"]]}), "not a list of 2 values"),
    (_entry(initial={"Filesystem": [["x", 1]]}), "not a symbol"),
    (_entry(initial={"Filesystem": [["x", True]]}), "not a symbol"),
    (_entry(warnings=[1]), "warnings"),
    (_entry(batches={}), "no list of batches"),
    (_entry(batches=[7]), "not an object"),
    (_entry(batches=[{"wants": [7], "facts": {}, "warnings": []}]), "relation, tuple"),
    (_entry(batches=[{"wants": [["WantPath", ["a", 1]]], "facts": {}, "warnings": []}]),
     "not a symbol"),
    (_entry(batches=[{"wants": [], "facts": [], "warnings": []}]), "not an object"),
    ("[" * 100000, "not JSON"),
])
def test_damaged_entries_are_refused(tmp_path: Path, text: str, message: str) -> None:
    cache = FactCache(tmp_path)
    path = cache.path("ee" * 32)
    path.parent.mkdir()
    path.write_text(text)
    with pytest.raises(CacheError, match=message):
        cache.load("ee" * 32, program())
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(CacheError, match="not UTF-8"):
        cache.load("ee" * 32, program())


def test_an_entry_is_json_of_the_facts(tmp_path: Path) -> None:
    entry = Entry()
    entry.initial = {"Filesystem": {("/dev/sda1", "ext4")}}
    entry.batches = [Batch({("WantPath", ("/dev/sda1", "/x"))}, {"Missing": {("/dev/sda1", "/x")}})]
    data = json.loads(entry.to_json())
    assert data["initial"] == {"Filesystem": [["/dev/sda1", "ext4"]]}
    assert data["batches"] == [{"wants": [["WantPath", ["/dev/sda1", "/x"]]],
                                "facts": {"Missing": [["/dev/sda1", "/x"]]}, "warnings": []}]
