"""Any text from a guest comes out as well-formed, schema-valid XML 1.0 and valid JSON
(issue 10, class 6): characters XML forbids become U+FFFD, lone surrogates too."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from guestinspect.inspection.driver import load_program, run_collector
from guestinspect.inspection.results import build_inspections
from guestinspect.reporting.json import to_json
from guestinspect.reporting.xml import to_xml
from tests.oracles import SCHEMA, expected_files
from tests.reporting.xmlreader import read_xml_file
from tests.rules.unix.guests import fedora

#: C0 controls XML 1.0 forbids, a lone surrogate (an undecodable guest byte), U+FFFE, and
#: characters that are allowed and must stay (TAB, a non-BMP character, markup).
HOSTILE = "a\x01b\x0bc\x00d\udc80e\ufffef\uffffg\x1fh<&\">\ttab\U0001f600"
AS_XML = "a\ufffdb\ufffdc\ufffdd\ufffde\ufffdf\ufffdg\ufffdh<&\">\ttab\U0001f600"
AS_JSON = "a\x01b\x0bc\x00d\ufffde\ufffef\uffffg\x1fh<&\">\ttab\U0001f600"


def hostile_inspections() -> list[dict[str, Any]]:
    [os] = read_xml_file(next(p for p in expected_files() if "fedora.img" in p.name))
    os["hostname"] = HOSTILE
    os["product_name"] = HOSTILE
    os["mountpoints"][0]["dev"] = HOSTILE  # an attribute
    os["applications"][0]["description"] = HOSTILE
    return [os]


def check_xml(xml: str, tmp_path: Path) -> Any:
    data = xml.encode("utf-8")  # strict: no lone surrogate left
    doc = etree.fromstring(data)
    schema = etree.RelaxNG(etree.parse(str(SCHEMA)))
    assert schema.validate(doc), schema.error_log
    path = tmp_path / "out.xml"
    path.write_bytes(data)
    lint = subprocess.run(["xmllint", "--noout", str(path)], capture_output=True, text=True,
                          timeout=60, check=False)
    assert lint.returncode == 0 and lint.stderr == "", lint.stderr
    return doc


def test_forbidden_characters_are_replaced_in_text_and_attributes(tmp_path: Path) -> None:
    doc = check_xml(to_xml(hostile_inspections()), tmp_path)
    os = doc.find("operatingsystem")
    assert os.findtext("hostname") == AS_XML
    assert os.findtext("product_name") == AS_XML
    assert os.find("mountpoints/mountpoint").get("dev") == AS_XML
    assert os.find("applications/application/description").text == AS_XML


@pytest.mark.parametrize("ensure_ascii", [False, True])
def test_json_is_valid_and_keeps_all_but_lone_surrogates(ensure_ascii: bool) -> None:
    text = to_json(hostile_inspections(), ensure_ascii=ensure_ascii)
    text.encode("utf-8")  # strict
    [os] = json.loads(text)
    assert os["hostname"] == AS_JSON
    assert os["mountpoints"][0]["dev"] == AS_JSON
    assert os["applications"][0]["description"] == AS_JSON


def test_a_hostile_hostname_through_the_rules(tmp_path: Path) -> None:
    """(The collectors decode guest bytes with "replace": no lone surrogate comes from them.)"""
    guest = fedora()
    root = next(dev for (dev, path) in guest.files if path == "/etc/sysconfig/network")
    guest.write(root, "/etc/sysconfig/network", "HOSTNAME=x\x01y\x0bz\ufffe.\x1binvalid\n")
    [os] = build_inspections(run_collector(load_program(), guest.collector()))
    assert os["hostname"] == "x\x01y\x0bz\ufffe.\x1binvalid"
    assert os["distro"] == "fedora" and os["major_version"] == 14
    doc = check_xml(to_xml([os]), tmp_path)
    assert doc.find("operatingsystem").findtext("hostname") == "x\ufffdy\ufffdz\ufffd.\ufffdinvalid"
    assert json.loads(to_json([os]))[0]["hostname"] == "x\x01y\x0bz\ufffe.\x1binvalid"
