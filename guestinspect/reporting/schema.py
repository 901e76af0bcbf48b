"""The RELAX NG schema of the extended XML, generated from the extra fields' declarations.

``python -m guestinspect.reporting.schema > schema/guestinspect-extended.rng`` writes it; a
test checks that the shipped file is what this prints. It includes ``virt-inspector.rng``
(next to it) and fills that schema's hook ``guestinspect.extended`` (empty there, so that a
default document validates against it as against virt-inspector's) with the extra elements.
"""

from xml.sax.saxutils import escape, quoteattr

from guestinspect.inspection.extras import NAMESPACE, Attr, ExtraField, ValueType
from guestinspect.inspection.fields import EXTRA_FIELDS

_TYPES: dict[ValueType, str] = {
    "str": "<text/>",
    "int": '<data type="integer"/>',
    "bool": "<choice><value>true</value><value>false</value></choice>",
}


def _element(name: str, content: str) -> str:
    return f"<element name={quoteattr(name)}>{content}</element>"


def _attrs(attrs: tuple[Attr, ...], indent: str) -> list[str]:
    lines = [f"{indent}<interleave>"]
    for a in attrs:
        wrap = "zeroOrMore" if a.multi else "optional"
        lines.append(f"{indent}  <{wrap}>{_element(a.xml_name, _TYPES[a.type])}</{wrap}>")
    if not attrs:
        lines.append(f"{indent}  <empty/>")
    lines.append(f"{indent}</interleave>")
    return lines


def _field(spec: ExtraField) -> list[str]:
    name = quoteattr(spec.xml_name)
    if spec.shape == "scalar":
        return [f"      <optional>{_element(spec.xml_name, _TYPES[spec.type])}</optional>"]
    if spec.shape == "values":
        item = _element(spec.item_element, _TYPES[spec.type])
        return [f"      <optional><element name={name}>",
                f"        <zeroOrMore>{item}</zeroOrMore>",
                "      </element></optional>"]
    if spec.shape == "record":
        return [f"      <optional><element name={name}>",
                *_attrs(spec.attrs, "        "),
                "      </element></optional>"]
    return [f"      <optional><element name={name}>",
            f"        <zeroOrMore><element name={quoteattr(spec.item_element)}>",
            *_attrs(spec.attrs, "          "),
            "        </element></zeroOrMore>",
            "      </element></optional>"]


def extended_schema() -> str:
    """The text of ``schema/guestinspect-extended.rng``."""
    lines = [
        '<?xml version="1.0"?>',
        "<!-- The RELAX NG schema of guestinspect's extended XML (guestinspect's option extended):",
        "     virt-inspector's document plus the extra fields, as elements in the namespace",
        f"     {escape(NAMESPACE)} at the end of each <operatingsystem>.",
        "     Generated from guestinspect/inspection/fields.py by",
        "     python -m guestinspect.reporting.schema; do not edit by hand.",
        "     Validate with xmllint's option relaxng: see docs/cli.md. -->",
        "<grammar xmlns=\"http://relaxng.org/ns/structure/1.0\"",
        '  datatypeLibrary="http://www.w3.org/2001/XMLSchema-datatypes">',
        '  <include href="virt-inspector.rng">',
        f"    <define name=\"guestinspect.extended\" ns={quoteattr(NAMESPACE)}>",
        "     <interleave>",
    ]
    for spec in EXTRA_FIELDS:
        lines.extend(_field(spec))
    lines += [
        "      <zeroOrMore><element name=\"extra\">"
        "<attribute name=\"name\" ns=\"\"><text/></attribute><text/></element></zeroOrMore>",
        "     </interleave>",
        "    </define>",
        "  </include>",
        "</grammar>",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(extended_schema(), end="")
