"""Functors and Python relations for the windows rules."""

from collections.abc import Callable
from typing import Any

from guestinspect.datalog import PyRelation

FUNCTORS: dict[str, Callable[..., Any]] = {}
RELATIONS: dict[str, PyRelation] = {}
