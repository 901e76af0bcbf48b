"""The inspection dicts as one JSON document: a list with one object per operating system."""

import json
from collections.abc import Mapping, Sequence
from typing import Any, cast

from guestinspect.inspection.results import Inspection


def to_json(inspections: Sequence[Mapping[str, Any]]) -> str:
    """A JSON array of the inspection dicts, indented by two spaces, ending with a newline."""
    return json.dumps(list(inspections), indent=2, ensure_ascii=False) + "\n"


def from_json(text: str) -> list[Inspection]:
    """Read back what :func:`to_json` wrote."""
    data = json.loads(text)
    if not isinstance(data, list) or not all(isinstance(d, dict) for d in data):
        raise ValueError("expected a JSON array of objects")
    return cast(list[Inspection], data)
