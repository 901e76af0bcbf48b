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
