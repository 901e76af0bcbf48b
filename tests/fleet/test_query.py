"""``guestinspect query`` over an inventory written by the fleet's writer from recorded
snapshots (tests/fleet/inventories.py), through the real command line; the worked examples
of docs/fleet.md are run as they are written there."""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from guestinspect.cli import cli
from tests.fleet import inventories
from tests.oracles import ROOT

WINDOWS = {"/srv/windows.img", "/srv/windows-d.img", "/srv/windows-gpt.img+/srv/data.img"}


@pytest.fixture(scope="module")
def inventory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("fleet")
    return inventories.build(work / "fleet.db", work)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["query", *args])
    return result.exit_code, result.stdout, result.stderr


def query(inventory: Path, *args: str) -> str:
    code, out, err = run("--inventory", str(inventory), *args)
    assert code == 0, err
    return out


def json_rows(inventory: Path, *args: str) -> dict[str, list[dict[str, object]]]:
    result: dict[str, list[dict[str, object]]] = json.loads(query(inventory, "--json", *args))
    return result


def doc_examples() -> list[str]:
    text = (ROOT / "docs" / "fleet.md").read_text()
    section = text[text.index("## Queries"):]
    return re.findall(r"```dl\n(.*?)```", section, re.DOTALL)


# ---- the worked examples of docs/fleet.md -------------------------------------------------


def test_the_docs_have_the_three_examples() -> None:
    assert len(doc_examples()) == 3


def _example(tmp_path: Path, n: int) -> str:
    path = tmp_path / f"example{n}.dl"
    path.write_text(doc_examples()[n])
    return str(path)


def test_windows_guests_without_a_d_drive(inventory: Path, tmp_path: Path) -> None:
    rows = json_rows(inventory, _example(tmp_path, 0))["NoDriveD"]
    assert {r["image"] for r in rows} == WINDOWS - {"/srv/windows-d.img"}
    assert all(r["hostname"] == "windows.invalid" for r in rows)
    # the guest left out does have the D: drive (on its first partition)
    d = json_rows(inventory, "-e", 'D(img, dev) :- DriveMapping(img, _, "D", dev).')["D"]
    assert d == [{"img": "/srv/windows-d.img", "dev": "/dev/sda1"}]


def test_debian_guests_with_an_old_package(inventory: Path, tmp_path: Path) -> None:
    program = _example(tmp_path, 1)
    rows = json_rows(inventory, program)["Outdated"]
    assert sorted((r["image"], r["version"]) for r in rows) == [
        ("/srv/debian-1.img", "1.2.3-1"), ("/srv/debian-2.img", "1.2.3-1"),
        ("/srv/ubuntu.img", "1.2.3-1")]
    # dpkg's order, not the text's: 1.2.3-1 is not older than 1.2.3 nor than 1.2.3-1~
    for bound, older in (("1.2.3", False), ("1.2.3-1~", False), ("1.2.3-1", False),
                         ("1.2.3-2", True), ("1:0.1", True), ("1.2.3.0", True)):
        text = Path(program).read_text().replace("1.2.10-1", bound)
        Path(program).write_text(text)
        got = json_rows(inventory, program)["Outdated"]
        assert bool(got) == older, bound
        text = text.replace(bound, "1.2.10-1")
        Path(program).write_text(text)


def test_images_whose_hostname_appears_twice(inventory: Path, tmp_path: Path) -> None:
    rows = json_rows(inventory, _example(tmp_path, 2))["SameName"]
    assert sorted((r["image"], r["hostname"], r["images"]) for r in rows) == [
        ("/srv/debian-1.img", "debian.invalid", 2),
        ("/srv/debian-2.img", "debian.invalid", 2),
        ("/srv/windows-d.img", "windows.invalid", 3),
        ("/srv/windows-gpt.img+/srv/data.img", "windows.invalid", 3),
        ("/srv/windows.img", "windows.invalid", 3),
    ]


# ---- relations, formats ------------------------------------------------------------------


def test_the_inventory_holds_what_the_api_returns(inventory: Path) -> None:
    """Base and derived facts are both there, and the records are the API's dicts."""
    rows = json_rows(inventory, "-e", "P(img, dev, t) :- Filesystem(img, dev, t).",
                     "-e", 'R(img, d) :- OsDistro(img, _, d).')
    assert ("/srv/fedora.img", "/dev/VG/Root", "ext2") in {
        (r["img"], r["dev"], r["t"]) for r in rows["P"]}
    assert {(r["img"], r["d"]) for r in rows["R"]} >= {
        ("/srv/debian-1.img", "debian"), ("/srv/fedora.img", "fedora"),
        ("/srv/windows.img", "windows"), ("/srv/archlinux.img", "archlinux")}
    with sqlite3.connect(inventory) as db:
        record = json.loads(db.execute("SELECT record FROM images WHERE image = ?",
                                       ("/srv/fedora.img",)).fetchone()[0])
    assert record["inspections"][0]["distro"] == "fedora"


def test_relations_of_a_component_instance(inventory: Path) -> None:
    """An instance's relations (rules/windows/paths.dl: WinPaths.Path) are in the inventory
    under their qualified names, and a query reads them so."""
    rows = json_rows(inventory, "-e", 'C(img, p) :- WinPaths.Path(img, _, "/windows/system32/'
                     'cmd.exe", p, "file").')["C"]
    assert ("/srv/windows.img", "/Windows/System32/cmd.exe") in {(r["img"], r["p"]) for r in rows}


def test_images_relation(inventory: Path) -> None:
    rows = json_rows(inventory, "-e", "I(img, s, k, e) :- Image(img, s, k, e).")["I"]
    assert len(rows) == len(inventories.FLEET) + 1
    failed = [r for r in rows if r["s"] == "error"]
    assert failed == [{"img": inventories.MISSING, "s": "error", "k": "",
                       "e": f"{inventories.MISSING}: No such file or directory"}]


def test_table_and_csv(inventory: Path) -> None:
    rule = 'N(img, n) :- OsType(img, _, "linux"), n = count : { Application(img, _, _) }.'
    table = query(inventory, "-e", rule)
    lines = table.splitlines()
    assert lines[0].split() == ["img", "n"]
    assert set(lines[1]) == {"-", " "}
    fedora = next(ln for ln in lines if ln.startswith("/srv/fedora.img"))
    n = int(fedora.split()[-1])
    assert n > 100
    assert len(fedora) == len(lines[1])  # numbers aligned to the right
    rows = list(csv.reader(io.StringIO(query(inventory, "-e", rule, "--csv"))))
    assert rows[0] == ["img", "n"]
    assert ["/srv/fedora.img", str(n)] in rows
    assert len(rows) == 1 + 5  # every Linux image


def test_several_outputs(inventory: Path) -> None:
    program = ".decl A(i: symbol)\n.output A\n.decl B(i: symbol, n: number)\n.output B\n" \
        'A(i) :- Image(i, "error", _, _).\nB(i, 1) :- Image(i, "ok", _, _), A(_).\n'
    out = query(inventory, "-e", program)
    assert out.startswith("A (1 row)\n")
    assert "\nB (8 rows)\n" in out
    rows = list(csv.reader(io.StringIO(query(inventory, "-e", program, "--csv"))))
    assert rows[0] == ["A", "i"] and rows[1] == ["A", inventories.MISSING]
    assert rows[2] == [] and rows[3] == ["B", "i", "n"] and len(rows) == 4 + 8


def test_hostile_values_are_escaped_in_a_table(inventory: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.db"
    copy.write_bytes(inventory.read_bytes())
    with sqlite3.connect(copy) as db:
        db.execute("UPDATE facts SET tuple = ? WHERE relation = 'Hostname' AND image_id = 1",
                   (json.dumps(["/dev/debian/root", "evil\x1b[2Jname\nx"]),))
    out = query(copy, "-e", "H(img, h) :- Hostname(img, _, h).")
    assert "\x1b" not in out and "evil\\x1b[2Jname\\nx" in out
    assert json.loads(query(copy, "--json", "-e", "H(img, h) :- Hostname(img, _, h)."))[
        "H"][0]["h"] in ("evil\x1b[2Jname\nx", "archlinux.test")


def test_explain(inventory: Path) -> None:
    out = query(inventory, "-e", 'W(img) :- OsType(img, _, "windows"), '
                "!DriveMapping(img, _, \"D\", _).", "--explain", "W")
    assert out.count("W(/srv/") == 2
    assert "<-e>:1" in out
    assert "OsType(/srv/windows.img, /dev/sda2, windows)  (in the inventory: derived by " \
        "the image's rules)" in out
    out = query(inventory, "-e", "F(img, d) :- Filesystem(img, d, \"ntfs\").", "--explain",
                "F")
    assert "a base fact of the image" in out


# ---- hostile inventories and errors ------------------------------------------------------


def test_bad_rows_are_skipped_with_a_warning(inventory: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.db"
    copy.write_bytes(inventory.read_bytes())
    with sqlite3.connect(copy) as db:
        image_id = db.execute("SELECT id FROM images WHERE image = '/srv/fedora.img'"
                              ).fetchone()[0]
        db.executemany("INSERT INTO facts VALUES (?, 'Hostname', 1, ?)", [
            (image_id, "[1, 2]"), (image_id, '["a"]'), (image_id, "not json"),
            (image_id, "[" * 100_000), (image_id, json.dumps(["r", "x" * 100])),
            (9999, '["r", "h"]')])
    code, out, err = run("--inventory", str(copy), "-e", "H(i, h) :- Hostname(i, _, h).")
    assert code == 0
    assert "5 row(s) of 'Hostname' skipped" in err
    assert ("/srv/fedora.img", "x" * 100) in {tuple(ln.split()) for ln in out.splitlines()}


@pytest.mark.parametrize(("setup", "message"), [
    ("missing", "no such inventory"),
    ("text", "not an inventory"),
    ("empty-sqlite", "not an inventory (no table 'meta')"),
    ("view", "not an inventory (no table 'facts')"),
    ("version", "schema version '2', but this guestinspect reads version 1"),
])
def test_not_an_inventory(inventory: Path, tmp_path: Path, setup: str, message: str) -> None:
    path = tmp_path / "x.db"
    if setup == "text":
        path.write_text("hello\n" * 100)
    elif setup == "empty-sqlite":
        sqlite3.connect(path).execute("CREATE TABLE t(x)").connection.close()
    elif setup in ("view", "version"):
        path.write_bytes(inventory.read_bytes())
        with sqlite3.connect(path) as db:
            if setup == "view":
                db.execute("DROP TABLE facts")
                db.execute("CREATE VIEW facts AS SELECT 1 AS image_id, 'A' AS relation, "
                           "0 AS derived, '[]' AS tuple")
            else:
                db.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    code, out, err = run("--inventory", str(path), "-e", "A(i) :- Image(i, _, _, _).")
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith("guestinspect: error: --inventory ")
    assert message in err


def test_rule_errors_are_one_line(inventory: Path, tmp_path: Path) -> None:
    bad = tmp_path / "q.dl"
    bad.write_text(".decl A(i: symbol)\n.output A\nA(i) :- Distros(i, _, _).\n")
    code, out, err = run("--inventory", str(inventory), str(bad))
    assert code == 1 and out == ""
    assert err == f"guestinspect: error: {bad}:3:9: undeclared relation 'Distros'\n"
    code, _, err = run("--inventory", str(inventory), "-e", "A(i) :- Image(i, _, _).")
    assert code == 1 and err.startswith("guestinspect: error: <-e>:1:9: ")
    code, _, err = run("--inventory", str(inventory), "-e", ".decl Hostname(x: symbol)")
    assert code == 1 and "declared twice" in err and "<inventory>" in err
    code, _, err = run("--inventory", str(inventory))
    assert code == 1 and "no rules given" in err
    code, _, err = run("--inventory", str(inventory), "-e", "A(i) :- Image(i, _, _, _).",
                       "--explain", "Nope")
    assert code == 1 and err == "guestinspect: error: --explain Nope: no such relation\n"
