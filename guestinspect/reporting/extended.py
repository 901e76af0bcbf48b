"""The extra fields of an inspection dict as XML elements (``--extended``), by their
declarations (``guestinspect/inspection/fields.py``).

Each field is one element named ``PREFIX:element`` at the end of ``<operatingsystem>``:

- a scalar: ``<gi:machine_id>4c4c…</gi:machine_id>``
- a values list: ``<gi:virtio_drivers><gi:driver>netkvm</gi:driver>…</gi:virtio_drivers>``
- a record: ``<gi:timezone><gi:name>…</gi:name><gi:bias>480</gi:bias></gi:timezone>``
- records: ``<gi:users><gi:user><gi:name>…</gi:name>…</gi:user>…</gi:users>``

An attribute holding a list is one element per value. Booleans are ``true``/``false``.
The ``Extra`` relation's string fields follow as ``<gi:extra name="edition_id">…</gi:extra>``.
Values of the wrong type (a hand-written JSON read back) are left out, never an error.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

from guestinspect.inspection.extras import PREFIX, Attr, ExtraField
from guestinspect.inspection.fields import EXTRA_FIELDS


@dataclass
class Element:
    """An element of the extended XML: text, or children (never both)."""

    tag: str
    text: str = ""
    children: list["Element"] = field(default_factory=list)
    attrs: dict[str, str] = field(default_factory=dict)


def _tag(name: str) -> str:
    return f"{PREFIX}:{name}"


def _text(value: object) -> str | None:
    """A scalar as XML text; None for anything but str, int and bool."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | str):
        return str(value)
    return None


def _record(attrs: tuple[Attr, ...], record: object) -> list[Element]:
    if not isinstance(record, Mapping):
        return []
    out: list[Element] = []
    for attr in attrs:
        value = record.get(attr.name)
        values = value if attr.multi and isinstance(value, list) else [value]
        if attr.multi and not isinstance(value, list):
            continue
        for v in values:
            text = _text(v)
            if text is not None:
                out.append(Element(_tag(attr.xml_name), text))
    return out


def field_element(spec: ExtraField, value: object) -> Element | None:
    """The element of one extra field's dict value (None when it does not fit the
    declaration)."""
    tag = _tag(spec.xml_name)
    if spec.shape == "scalar":
        text = _text(value)
        return Element(tag, text) if text is not None else None
    if spec.shape == "values":
        if not isinstance(value, list):
            return None
        texts = [t for v in value if (t := _text(v)) is not None]
        return Element(tag, children=[Element(_tag(spec.item_element), t) for t in texts])
    if spec.shape == "record":
        return Element(tag, children=_record(spec.attrs, value))
    if not isinstance(value, list):
        return None
    items = [Element(_tag(spec.item_element), children=_record(spec.attrs, v))
             for v in value if isinstance(v, Mapping)]
    return Element(tag, children=items)


def extra_elements(os: Mapping[str, object], core: frozenset[str]) -> list[Element]:
    """The elements of every extra field of ``os`` (``core``: virt-inspector's keys)."""
    out: list[Element] = []
    declared = {spec.key for spec in EXTRA_FIELDS}
    for spec in EXTRA_FIELDS:
        if spec.key in os and (e := field_element(spec, os[spec.key])) is not None:
            out.append(e)
    for key in sorted(os):
        if key in core or key in declared:
            continue
        text = _text(os[key])
        if text is not None:
            out.append(Element(_tag("extra"), text, attrs={"name": key}))
    return out
