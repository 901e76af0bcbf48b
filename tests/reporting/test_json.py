"""The JSON document round-trips, and carries what the XML carries."""

import json
from pathlib import Path

import pytest

from guestinspect.reporting.json import from_json, to_json
from guestinspect.reporting.xml import to_xml
from tests.oracles import expected_files
from tests.reporting.xmlreader import read_xml_file


@pytest.mark.parametrize("path", expected_files(), ids=lambda p: p.name)
def test_json_round_trip(path: Path) -> None:
    inspections = read_xml_file(path)
    text = to_json(inspections)
    assert text.endswith("]\n")
    back = from_json(text)
    assert back == inspections
    assert to_xml(back).encode() == path.read_bytes()


def test_empty_is_an_empty_list() -> None:
    assert to_json([]) == "[]\n"
    assert from_json("[]") == []


def test_non_ascii_kept_and_extras_pass_through() -> None:
    os = {"root": "/dev/sda1", "hostname": "héte", "edition_id": "Professional"}
    text = to_json([os])
    assert "héte" in text
    assert json.loads(text)[0]["edition_id"] == "Professional"


def test_not_a_list_is_rejected() -> None:
    with pytest.raises(ValueError):
        from_json('{"root": "/dev/sda1"}')
