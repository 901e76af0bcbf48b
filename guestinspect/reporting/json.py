"""The inspection dicts as one JSON document: a list with one object per operating system.

Every string is kept as it is (control characters are written as ``\\u0001`` escapes), except
lone surrogates (undecodable bytes of a guest's text), which no UTF-8 document can hold:
they become U+FFFD REPLACEMENT CHARACTER, as in the XML (docs/compatibility.md).
"""

import json
from collections.abc import Mapping, Sequence
from typing import Any, cast

from guestinspect.inspection.results import Inspection
from guestinspect.reporting.surrogates import replace_surrogates


def to_json(inspections: Sequence[Mapping[str, Any]], ensure_ascii: bool = False) -> str:
    """A JSON array of the inspection dicts, indented by two spaces, ending with a newline."""
    data = replace_surrogates(list(inspections))
    return json.dumps(data, indent=2, ensure_ascii=ensure_ascii) + "\n"


def from_json(text: str) -> list[Inspection]:
    """Read back what :func:`to_json` wrote."""
    data = json.loads(text)
    if not isinstance(data, list) or not all(isinstance(d, dict) for d in data):
        raise ValueError("expected a JSON array of objects")
    return cast(list[Inspection], data)
