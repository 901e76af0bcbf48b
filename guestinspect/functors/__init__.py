"""Python functors and Python relations the inspection rules call.

They only parse and decode (lines of a file, KEY=value pairs, version strings, UTF-16,
registry blobs, bitmaps); every decision is made by the rules in ``rules/``.
"""

from collections.abc import Callable
from typing import Any

from guestinspect.datalog import PyRelation
from guestinspect.functors import images, lsa, sam, text, unixconf, versions, windows

FUNCTORS: dict[str, Callable[..., Any]] = {
    **text.FUNCTORS, **windows.FUNCTORS, **versions.FUNCTORS, **unixconf.FUNCTORS
}
RELATIONS: dict[str, PyRelation] = {
    **text.RELATIONS, **windows.RELATIONS, **images.RELATIONS, **unixconf.RELATIONS,
    **sam.RELATIONS, **lsa.RELATIONS,
}
