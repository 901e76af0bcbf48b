"""Lone surrogates (undecodable bytes of a guest's text) cannot be written as UTF-8: both
writers replace each with U+FFFD REPLACEMENT CHARACTER (docs/compatibility.md)."""

import re
from collections.abc import Mapping
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def replace_surrogates(value: Any) -> Any:
    """``value`` with lone surrogates replaced in every string, keys included; mappings and
    lists are copied (as dicts and lists), other values returned as they are."""
    if isinstance(value, str):
        return value if value.isascii() else _SURROGATE.sub(REPLACEMENT, value)
    if isinstance(value, Mapping):
        return {replace_surrogates(k): replace_surrogates(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [replace_surrogates(v) for v in value]
    return value
