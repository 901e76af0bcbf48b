"""The extra fields' machinery: declarations -> dicts, JSON, extended XML and its schema.

Relations are given by hand here (the Windows and Unix rule tests check what the rules derive
from real data); every declared field is exercised, and the extended document of the real
Windows snapshot is validated against the shipped schema.
"""

import json
from collections.abc import Iterable
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from guestinspect.api import Inspector
from guestinspect.cli import cli
from guestinspect.datalog import Program
from guestinspect.inspection.driver import load_program
from guestinspect.inspection.extras import ARITY, NAMESPACE, Attr, ExtraField, field_value
from guestinspect.inspection.fields import EXTRA_FIELDS
from guestinspect.inspection.results import (
    CORE_FIELDS,
    FIELD_RELATIONS,
    build_inspections,
    without_extras,
)
from guestinspect.reporting.json import from_json, to_json
from guestinspect.reporting.schema import extended_schema
from guestinspect.reporting.xml import to_xml
from tests.oracles import ROOT, SCHEMA

EXTENDED_SCHEMA = ROOT / "schema" / "guestinspect-extended.rng"
SNAPSHOTS = [ROOT / "facts" / "windows", ROOT / "facts" / "debian"]


class Relations:
    def __init__(self) -> None:
        self.data: dict[str, set[tuple[object, ...]]] = {}

    def add(self, name: str, *t: object) -> None:
        self.data.setdefault(name, set()).add(t)

    def tuples(self, name: str) -> Iterable[tuple[object, ...]]:
        return self.data.get(name, set())


def validate(xml: str, schema: Path) -> None:
    rng = etree.RelaxNG(etree.parse(str(schema)))
    doc = etree.fromstring(xml.encode())
    assert rng.validate(doc), rng.error_log


def sample() -> Relations:
    r = Relations()
    root = "/dev/sda2"
    r.add("Root", root)
    r.add("OsType", root, "windows")
    r.add("Mountpoint", root, "/", root)
    r.add("RootFilesystem", root, root)
    r.add("Timezone", root, "name", 0, "Pacific Standard Time")
    r.add("Timezone", root, "bias", 0, "480")
    r.add("Timezone", root, "bogus", 0, "left out")
    r.add("InstallDate", root, "date", 0, "2017-10-12T08:40:21Z")
    r.add("Users", root, "S-1-5-21-1-2-3-1000", "name", 0, "alice")
    r.add("Users", root, "S-1-5-21-1-2-3-1000", "rid", 0, "1000")
    r.add("Users", root, "S-1-5-21-1-2-3-1000", "disabled", 0, "false")
    r.add("Users", root, "S-1-5-21-1-2-3-500", "name", 0, "Administrator")
    r.add("Users", root, "S-1-5-21-1-2-3-500", "rid", 0, "500")
    r.add("Users", root, "S-1-5-21-1-2-3-500", "rid", 0, "not a number")
    r.add("Users", root, "S-1-5-21-1-2-3-500", "disabled", 0, "true")
    r.add("Network", root, "{A}", "addresses", 1, "10.0.0.6/8")
    r.add("Network", root, "{A}", "addresses", 0, "10.0.0.5/8")
    r.add("Network", root, "{A}", "dns", 0, "9.9.9.9")
    r.add("Network", root, "{A}", "dns", 1, "1.1.1.1")
    r.add("Network", root, "{A}", "dhcp", 0, "false")
    r.add("VirtioDrivers", root, "viostor")
    r.add("VirtioDrivers", root, "netkvm")
    r.add("Extra", root, "edition_id", "Professional")
    return r


EXPECTED = {
    "timezone": {"name": "Pacific Standard Time", "bias": 480},
    "install_date": {"date": "2017-10-12T08:40:21Z"},
    "users": [  # ordered by item id, digit runs as numbers: ...-500 before ...-1000
        {"name": "Administrator", "rid": 500, "disabled": True},
        {"name": "alice", "rid": 1000, "disabled": False},
    ],
    "network": [{"dhcp": False, "addresses": ["10.0.0.5/8", "10.0.0.6/8"],
                 "dns": ["9.9.9.9", "1.1.1.1"]}],
    "virtio_drivers": ["netkvm", "viostor"],
    "edition_id": "Professional",
}


def test_dicts_from_relations() -> None:
    (os,) = build_inspections(sample())
    assert {k: v for k, v in os.items() if k not in CORE_FIELDS} == EXPECTED
    assert without_extras(os) == {k: v for k, v in os.items() if k in CORE_FIELDS}


def test_shapes() -> None:
    spec = ExtraField("x", "X", "records", attrs=(Attr("a", "int"), Attr("b", multi=True)))
    assert field_value(spec, [("i2", "a", 0, "2"), ("i10", "a", 0, "10"), ("i1", "b", 0, "x")]) \
        == [{"b": ["x"]}, {"a": 2}, {"a": 10}]
    assert field_value(spec, [("i", "c", 0, "undeclared")]) is None
    scalar = ExtraField("y", "Y", "scalar", type="int")
    assert field_value(scalar, [("7",), ("3",), ("x",)]) == 3  # the least, if several
    assert field_value(ExtraField("z", "Z", "values"), []) is None


def test_default_xml_unchanged_and_extended_valid() -> None:
    (os,) = build_inspections(sample())
    assert to_xml([os]) == to_xml([without_extras(os)])
    validate(to_xml([os]), SCHEMA)
    xml = to_xml([os], extended=True)
    validate(xml, EXTENDED_SCHEMA)
    doc = etree.fromstring(xml.encode())
    ns = {"gi": NAMESPACE}
    assert doc.xpath("//gi:users/gi:user[gi:rid=500]/gi:name/text()", namespaces=ns) \
        == ["Administrator"]
    assert doc.xpath("//gi:network/gi:interface/gi:dns/text()", namespaces=ns) \
        == ["9.9.9.9", "1.1.1.1"]
    assert doc.xpath("//gi:extra[@name='edition_id']/text()", namespaces=ns) == ["Professional"]
    assert doc.xpath("//gi:timezone/gi:bias/text()", namespaces=ns) == ["480"]
    assert to_xml([], extended=True) == \
        f'<?xml version="1.0"?>\n<operatingsystems xmlns:gi="{NAMESPACE}"/>\n'


def test_extended_rejects_a_wrong_document() -> None:
    """The schema is not lax: an undeclared element, or a bad integer, fails it."""
    (os,) = build_inspections(sample())
    xml = to_xml([os], extended=True)
    with pytest.raises(AssertionError):
        validate(xml.replace("<gi:bias>480</gi:bias>", "<gi:bias>x</gi:bias>"), EXTENDED_SCHEMA)
    with pytest.raises(AssertionError):
        validate(xml.replace("<gi:bias>", "<gi:nonsense/><gi:bias>"), EXTENDED_SCHEMA)


def test_json_round_trip() -> None:
    (os,) = build_inspections(sample())
    back = from_json(to_json([os]))
    assert back == [os]
    assert to_xml(back, extended=True) == to_xml([os], extended=True)


def test_shipped_schema_is_generated() -> None:
    assert EXTENDED_SCHEMA.read_text() == extended_schema(), \
        "run: python -m guestinspect.reporting.schema > schema/guestinspect-extended.rng"


@pytest.fixture(scope="module")
def program() -> Program:
    return load_program()


def test_declarations_match_the_rules(program: Program) -> None:
    """Each declared field: a declared .output relation of its shape's columns, a unique key
    that is no virt-inspector field, and it is --explain-able."""
    keys = [f.key for f in EXTRA_FIELDS]
    assert len(set(keys)) == len(keys)
    assert not set(keys) & CORE_FIELDS
    outputs = program.output_relations()
    for spec in EXTRA_FIELDS:
        assert FIELD_RELATIONS[spec.key] == spec.relation
        columns = program.declarations[spec.relation]
        assert len(columns) == ARITY[spec.shape], spec.relation
        types = [t for _, t in columns]
        assert types[0] == "symbol" and types[-1] in ("symbol", "number"), spec.relation
        if spec.shape in ("record", "records"):
            assert types[-2] == "number" and set(types[:-2]) == {"symbol"}, spec.relation
        assert spec.relation in outputs, spec.relation
        assert (spec.shape in ("scalar", "values")) == (not spec.attrs), spec.key


@pytest.mark.parametrize("snapshot", SNAPSHOTS, ids=lambda p: p.name)
def test_snapshot_extended_is_valid(snapshot: Path) -> None:
    """Every extra key of the JSON is one element of the extended XML, which validates; the
    plain XML is the same document without them."""
    result = CliRunner().invoke(cli, ["--facts", str(snapshot), "--extended"])
    assert result.exit_code == 0, result.output
    validate(result.stdout, EXTENDED_SCHEMA)
    oses = from_json(CliRunner().invoke(cli, ["--facts", str(snapshot), "--json"]).stdout)
    parser = etree.XMLParser(remove_blank_text=True)
    doc = etree.fromstring(result.stdout.encode(), parser)
    for os, element in zip(oses, doc, strict=True):
        extras = [e for e in element if e.tag.startswith(f"{{{NAMESPACE}}}")]
        assert len(extras) == len(set(os) - CORE_FIELDS)
        for e in extras:
            element.remove(e)
    etree.cleanup_namespaces(doc)
    plain = CliRunner().invoke(cli, ["--facts", str(snapshot)]).stdout
    assert "xmlns:gi" not in plain
    assert etree.tostring(doc) == etree.tostring(etree.fromstring(plain.encode(), parser))


def test_no_extras() -> None:
    debian = SNAPSHOTS[1]
    with Inspector.from_facts(debian) as insp:
        full = insp.inspect()
    with Inspector.from_facts(debian, extras=False) as insp:
        bare = insp.inspect()
    assert [without_extras(os) for os in full] == bare
    assert any(set(os) - CORE_FIELDS for os in full)
    out = CliRunner().invoke(cli, ["--facts", str(debian), "--json", "--no-extras"])
    assert out.exit_code == 0
    assert all(set(os) <= CORE_FIELDS for os in json.loads(out.stdout))
    bad = CliRunner().invoke(cli, ["--facts", str(debian), "--extended", "--no-extras"])
    assert bad.exit_code != 0 and "--extended cannot be used with --no-extras" in bad.output
