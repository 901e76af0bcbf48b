"""Fixtures for the Unix rule tests: the shipped program, loaded once a session."""

import pytest

from guestinspect.datalog import Program
from guestinspect.inspection.driver import load_program


@pytest.fixture(scope="session")
def program() -> Program:
    return load_program()
