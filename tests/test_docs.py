"""The docs name every relation the code declares (docs must stay true to the code)."""

import re

import pytest

from tests.oracles import ROOT


def declared(path: str) -> list[str]:
    return re.findall(r"^\.decl\s+(\w+)", (ROOT / path).read_text(), re.MULTILINE)


@pytest.mark.parametrize(
    ("rules", "doc"),
    [("rules/facts.dl", "docs/facts.md"), ("rules/wants.dl", "docs/facts.md"),
     ("rules/output.dl", "docs/architecture.md")],
)
def test_every_relation_is_documented(rules: str, doc: str) -> None:
    text = (ROOT / doc).read_text()
    names = declared(rules)
    assert names
    assert [n for n in names if f"`{n}`" not in text and f"`{n}(" not in text] == []


def test_every_want_relation_is_answered() -> None:
    from guestinspect.collectors.base import WANT_RELATIONS

    assert sorted(WANT_RELATIONS) == sorted(declared("rules/wants.dl"))


def _table(doc: str, heading: str) -> list[list[str]]:
    """The cells of the first table under ``heading`` (its header row and rule left out)."""
    lines = (ROOT / doc).read_text().split(heading, 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows: list[list[str]] = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip("|").split("|")])
    return rows[2:]


def test_api_md_lists_every_virt_inspector_field() -> None:
    """docs/api.md's table of the inspection dict: one row per declared field (or pair),
    with its relation and the type of its kind; no key that is not declared."""
    from guestinspect.inspection.core import PYTHON_TYPE
    from guestinspect.inspection.fields import VIRT_INSPECTOR_FIELDS

    documented: dict[str, tuple[list[str], str]] = {}
    for key_cell, type_cell, relation_cell, *_ in _table("docs/api.md", "## The inspection dict"):
        for key in re.findall(r"`(\w+)`", key_cell):
            documented[key] = (re.findall(r"`(\w+)`", relation_cell), type_cell)
    for f in VIRT_INSPECTOR_FIELDS:
        assert f.key in documented, f.key
        relations, type_cell = documented[f.key]
        assert f.relation in relations, f.key
        assert type_cell.startswith(PYTHON_TYPE[f.kind].__name__), (f.key, type_cell)
    assert set(documented) == {f.key for f in VIRT_INSPECTOR_FIELDS}


def test_architecture_md_gives_each_field_its_element() -> None:
    """docs/architecture.md's table of output relations: each field's relation with its
    declared XML element (the item's, for a list)."""
    from guestinspect.inspection.fields import VIRT_INSPECTOR_FIELDS

    rows = _table("docs/architecture.md", "## Output relations")
    for f in VIRT_INSPECTOR_FIELDS:
        cells = [r[2] for r in rows if f"`{f.relation}`" in r[0]]
        assert cells, f.relation
        assert f"<{f.item_element or f.xml_name}" in cells[0], (f.relation, cells[0])
