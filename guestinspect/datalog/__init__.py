"""guestinspect's Datalog engine: a subset of Soufflé evaluated semi-naively in Python.

It knows nothing of disks. See docs/rule-language.md for the language.
"""

from .database import Database
from .errors import DatalogError
from .explain import Derivation
from .limits import Limits
from .program import Program, PyRelation, check_files

__all__ = ["Database", "DatalogError", "Derivation", "Limits", "Program", "PyRelation",
           "check_files"]
