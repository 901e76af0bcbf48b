"""The declarations of virt-inspector's fields (inspection/fields.py) against what must agree
with them: the TypedDicts, rules/output.dl, and the dicts' key order."""

import re
from typing import get_args, get_origin, get_type_hints

from guestinspect.inspection import results
from guestinspect.inspection.core import COLUMNS, PYTHON_TYPE, Kind, dict_order, relation_columns
from guestinspect.inspection.driver import load_program
from guestinspect.inspection.fields import (
    EXTRA_FIELDS,
    OTHER_OUTPUTS,
    VIRT_INSPECTOR_FIELDS,
)
from guestinspect.inspection.results import Application, Inspection, build_inspections
from guestinspect.reporting import xml
from tests.oracles import ROOT, expected_files
from tests.reporting.test_results import relations_of
from tests.reporting.xmlreader import read_xml_file


def test_keys_and_elements_are_unique() -> None:
    keys = [f.key for f in VIRT_INSPECTOR_FIELDS] + [f.key for f in EXTRA_FIELDS]
    assert len(set(keys)) == len(keys)
    elements = [f.xml_name for f in VIRT_INSPECTOR_FIELDS]
    assert len(set(elements)) == len(elements)
    kinds = set(get_args(Kind))
    assert set(COLUMNS) == set(PYTHON_TYPE) == kinds
    # every kind has its dict builder and its XML writer
    assert set(results._BUILDERS) == set(xml._WRITERS) == kinds


def test_the_typed_dicts_are_the_table() -> None:
    assert list(Inspection.__annotations__) == [f.key for f in VIRT_INSPECTOR_FIELDS]
    hints = get_type_hints(Inspection)
    for f in VIRT_INSPECTOR_FIELDS:
        assert (get_origin(hints[f.key]) or hints[f.key]) is PYTHON_TYPE[f.kind], f.key
    [apps] = [f for f in VIRT_INSPECTOR_FIELDS if f.kind == "applications"]
    app_hints = get_type_hints(Application)
    assert list(app_hints) == [a.name for a in apps.attrs]
    assert {a.name: app_hints[a.name] for a in apps.attrs} == {
        a.name: int if a.type == "int" else str for a in apps.attrs
    }


def test_output_dl_declares_the_table() -> None:
    """Every relation a field reads is a declared .output of the declared columns, and
    rules/output.dl declares nothing else."""
    program = load_program()
    outputs = set(program.output_relations())
    wanted = {**relation_columns(VIRT_INSPECTOR_FIELDS), **OTHER_OUTPUTS}
    for relation, columns in wanted.items():
        assert relation in outputs, relation
        assert tuple(t for _, t in program.declarations[relation]) == columns, relation
    text = (ROOT / "rules" / "output.dl").read_text()
    assert set(re.findall(r"^\.decl\s+(\w+)", text, re.MULTILINE)) == set(wanted)
    assert set(re.findall(r"^\.output\s+(\w+)", text, re.MULTILINE)) == set(wanted)


def test_the_dict_keys_keep_their_order() -> None:
    """The JSON's key order, as it has always been: root, the strings, the numbers, the
    flag, then the lists and the icon."""
    assert [f.key for f in dict_order(VIRT_INSPECTOR_FIELDS)] == [
        "root", "name", "arch", "distro", "product_name", "product_variant", "package_format",
        "package_management", "windows_systemroot", "windows_current_control_set", "hostname",
        "build_id", "osinfo", "major_version", "minor_version", "windows_group_policy",
        "mountpoints", "filesystems", "drive_mappings", "applications", "icon",
    ]
    order = [f.key for f in dict_order(VIRT_INSPECTOR_FIELDS)]
    for path in expected_files():
        for os in build_inspections(relations_of(read_xml_file(path))):
            assert list(os) == [k for k in order if k in os], path.name
