"""Fields beyond virt-inspector ("extras"), each declared once.

An :class:`ExtraField` says which output relation of ``rules/`` a field comes from, its key in
the inspection dict, its shape, the attributes of its items and their XML element names. From
the declarations alone come the dicts (:func:`build_extras`), the JSON (the dicts as they
are), the extended XML (``guestinspect.reporting.xml``, ``extended=True``), its RELAX NG
schema (``guestinspect.reporting.schema``, shipped as ``schema/guestinspect-extended.rng``),
``--explain FIELD`` (``FIELD_RELATIONS``) and the checks of ``tests/rules/test_invariants.py``.
The declarations themselves are in ``guestinspect/inspection/fields.py``; docs/writing-rules.md
("Adding an extra field") says how to add one.

The four shapes and the columns of their relation (the root first, as every output):

``scalar``   ``R(root, value)``: one value per root, e.g. ``"machine_id": "4c4c…"``.
``values``   ``R(root, value)``: a sorted list of values, e.g. ``["netkvm", "viostor"]``.
``record``   ``R(root, attr, n, value)``: one dict, e.g. ``"timezone": {"name": …}``.
``records``  ``R(root, item, attr, n, value)``: a list of dicts, one per ``item`` (an id the
             rules choose, never shown), ordered by item id (digit runs compared as numbers).

In records, ``attr`` names a declared :class:`Attr`; ``n`` is 0 for a single-valued attribute
and the position (0, 1, …) of each value of a ``multi`` one (a list, in ``n`` order).
``value`` is a symbol: ``int`` attributes hold decimal digits (``to_string(n)``), ``bool`` ones
``"true"`` or ``"false"``; a value that does not convert is left out. An attribute the
declaration does not name is left out too (the invariant tests reject it).
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Shape = Literal["scalar", "values", "record", "records"]
ValueType = Literal["str", "int", "bool"]

#: The XML namespace of the extended document's extra elements (docs/cli.md, "--extended").
#: A name, not a document: nothing is fetched from it. Version 1 as long as the elements only
#: grow; a change that breaks readers gets a new URI.
NAMESPACE = "https://guestinspect.example/ns/extended/1"
#: The prefix the extended XML binds :data:`NAMESPACE` to.
PREFIX = "gi"

#: Number of columns of each shape's relation, the root included.
ARITY: dict[Shape, int] = {"scalar": 2, "values": 2, "record": 4, "records": 5}


@dataclass(frozen=True)
class Attr:
    """One attribute of a record: its dict key, type, and XML element name."""

    name: str
    type: ValueType = "str"
    #: A list of values (``n`` gives their order) rather than one
    multi: bool = False
    #: The XML element of each value (default: ``name``; a multi attribute is one element
    #: per value, so give it the singular: ``Attr("addresses", multi=True, element="address")``)
    element: str = ""
    doc: str = ""

    @property
    def xml_name(self) -> str:
        return self.element or self.name


@dataclass(frozen=True)
class ExtraField:
    """One extra field of the inspection dict (see the module's docstring for the shapes)."""

    key: str
    relation: str
    shape: Shape
    #: The type of a scalar's or a values list's values
    type: ValueType = "str"
    #: The attributes of a record or of each item of records, in XML order
    attrs: tuple[Attr, ...] = ()
    #: The XML element of the field (default: ``key``)
    element: str = ""
    #: The XML element of each item of ``records`` or each value of ``values``
    item_element: str = "item"
    #: One line for docs/api.md: what it is and where it comes from
    doc: str = ""
    _by_name: dict[str, Attr] = field(default_factory=dict, init=False, repr=False,
                                      compare=False)

    def __post_init__(self) -> None:
        self._by_name.update((a.name, a) for a in self.attrs)

    @property
    def xml_name(self) -> str:
        return self.element or self.key

    def attr(self, name: str) -> Attr | None:
        return self._by_name.get(name)


class TupleSource(Protocol):
    """What this module needs of a ``guestinspect.datalog.Database``."""

    def tuples(self, name: str) -> Iterable[tuple[object, ...]]: ...


def convert(value: object, type_: ValueType) -> object | None:
    """A relation's value as the declared type; None when it does not convert."""
    if type_ == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        text = str(value)
        return int(text) if re.fullmatch(r"-?\d{1,30}", text) else None
    if type_ == "bool":
        return {"true": True, "false": False}.get(str(value))
    return str(value)


def _natural(text: str) -> tuple[tuple[int, int | str], ...]:
    """A sort key comparing digit runs as numbers: ``user2`` before ``user10``."""
    return tuple((0, int(p)) if p.isdigit() else (1, p)
                 for p in re.findall(r"\d{1,30}|\D+", text))


def value_order(value: object) -> tuple[str, object]:
    """The sort key of values of one field (ints before strs: a type's name first)."""
    return (str(type(value)), value)


def least(values: list[object]) -> object:
    """The value kept of several given for one value: the least (deterministic)."""
    return min(values, key=value_order)


def _record(spec: ExtraField, rows: Iterable[tuple[object, ...]]) -> dict[str, object]:
    """``(attr, n, value)`` rows as one dict (single attributes: the least value)."""
    single: dict[str, list[object]] = {}
    multi: dict[str, dict[int, list[object]]] = {}
    for attr_name, n, value in rows:
        attr = spec.attr(str(attr_name))
        if attr is None:
            continue
        v = convert(value, attr.type)
        if v is None:
            continue
        if attr.multi:
            pos = n if isinstance(n, int) else 0
            multi.setdefault(attr.name, {}).setdefault(pos, []).append(v)
        else:
            single.setdefault(attr.name, []).append(v)
    out: dict[str, object] = {}
    for attr in spec.attrs:
        if attr.name in single:
            out[attr.name] = least(single[attr.name])
        elif attr.name in multi:
            by_pos = multi[attr.name]
            values: list[object] = []
            for pos in sorted(by_pos):
                for v in sorted(by_pos[pos], key=value_order):
                    if v not in values:
                        values.append(v)
            out[attr.name] = values
    return out


def field_value(spec: ExtraField, rows: list[tuple[object, ...]]) -> object | None:
    """The dict value of one root's rows of ``spec.relation`` (root column removed); None
    when the rows give nothing."""
    if spec.shape == "scalar":
        values = [v for (value,) in rows if (v := convert(value, spec.type)) is not None]
        return least(values) if values else None
    if spec.shape == "values":
        converted = {v for (value,) in rows if (v := convert(value, spec.type)) is not None}
        return sorted(converted, key=value_order) or None
    if spec.shape == "record":
        record = _record(spec, [(a, n, v) for a, n, v in rows])
        return record or None
    items: dict[str, list[tuple[object, ...]]] = {}
    for item, attr, n, value in rows:
        items.setdefault(str(item), []).append((attr, n, value))
    out = [r for item in sorted(items, key=lambda i: (_natural(i), i))
           if (r := _record(spec, items[item]))]
    return out or None


def build_extras(
    fields: Iterable[ExtraField], source: TupleSource, roots: Iterable[str]
) -> dict[str, dict[str, object]]:
    """root -> {key: value} of every extra field the rules concluded for it."""
    out: dict[str, dict[str, object]] = {root: {} for root in roots}
    for spec in fields:
        grouped: dict[str, list[tuple[object, ...]]] = {}
        for t in declared_tuples(source, spec.relation):
            if len(t) == ARITY[spec.shape]:
                grouped.setdefault(str(t[0]), []).append(t[1:])
        for root, rows in grouped.items():
            if root in out and (value := field_value(spec, rows)) is not None:
                out[root][spec.key] = value
    return out


def declared_tuples(source: TupleSource, relation: str) -> Iterable[tuple[object, ...]]:
    """The relation's tuples; none when the program does not declare it."""
    relations: Mapping[str, Any] | None = getattr(source, "relations", None)
    if relations is not None and relation not in relations:
        return ()
    return source.tuples(relation)
