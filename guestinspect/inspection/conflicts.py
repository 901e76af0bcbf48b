"""Single-valued fields the rules gave several values: one warning each.

A single-valued field (``core.SINGLE_VALUED``: ``distro``, ``hostname``, ``major_version``,
``icon`` …; an extra ``scalar`` field; a single attribute of an extra record) must have at
most one value per root. Should the rules give it several, the inspection dict keeps the least
(the output stays deterministic) and :func:`conflicts` names the field, the root and the
values, for ``Inspector.warnings()`` and the invariant tests.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from guestinspect.inspection.core import CoreField
from guestinspect.inspection.extras import (
    ExtraField,
    TupleSource,
    convert,
    declared_tuples,
    value_order,
)
from guestinspect.inspection.fields import EXTRA_FIELDS, VIRT_INSPECTOR_FIELDS

#: Values shown in a warning, and characters of each (an icon is kilobytes of base64).
_SHOWN_VALUES = 4
_SHOWN_CHARS = 60


@dataclass(frozen=True)
class Conflict:
    """A single-valued ``field`` of ``root`` with several ``values`` (the kept one first)."""

    root: str
    field: str
    relation: str
    values: tuple[object, ...]

    def message(self) -> str:
        """``root: field (Relation) has 2 values, 'a' and 'b'; 'a' is kept``."""
        shown = [_show(v) for v in self.values[:_SHOWN_VALUES]]
        if len(self.values) > _SHOWN_VALUES:
            shown.append(f"{len(self.values) - _SHOWN_VALUES} more")
        listed = ", ".join(shown[:-1]) + " and " + shown[-1]
        return (f"{self.root}: single-valued field {self.field} ({self.relation}) has "
                f"{len(self.values)} values, {listed}; {shown[0]} is kept")


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 1] + "…"


def _sorted(values: Iterable[object]) -> tuple[object, ...]:
    """The distinct values, the one kept (``extras.least``) first."""
    return tuple(sorted(set(values), key=value_order))


def _grouped(rows: Iterable[tuple[object, ...]]) -> dict[tuple[object, ...], list[object]]:
    """``(*key, value)`` rows: key -> its values."""
    out: dict[tuple[object, ...], list[object]] = {}
    for *key, value in rows:
        out.setdefault(tuple(key), []).append(value)
    return out


def _several(
    field: str, relation: str, groups: dict[tuple[object, ...], list[object]]
) -> list[Conflict]:
    out: list[Conflict] = []
    for key, values in sorted(groups.items(), key=lambda kv: tuple(map(str, kv[0]))):
        distinct = _sorted(values)
        if len(distinct) > 1:
            label = field if len(key) == 1 else f"{field} of item {key[1]}"
            out.append(Conflict(str(key[0]), label, relation, distinct))
    return out


def _core(source: TupleSource, f: CoreField) -> list[Conflict]:
    return _several(f.key, f.relation, _grouped(declared_tuples(source, f.relation)))


def _extra(source: TupleSource, spec: ExtraField) -> list[Conflict]:
    """A scalar's values, and each single attribute of a record (or of an item of
    records); values that do not convert are not values (the dict leaves them out)."""
    if spec.shape == "scalar":
        pairs = ((t[0], convert(t[1], spec.type)) for t in declared_tuples(source, spec.relation))
        return _several(spec.key, spec.relation, _grouped(p for p in pairs if p[1] is not None))
    if spec.shape == "values":
        return []
    by_attr: dict[str, list[tuple[object, ...]]] = {}
    for t in declared_tuples(source, spec.relation):
        *key, attr_name, _n, value = t
        attr = spec.attr(str(attr_name))
        if attr is None or attr.multi or (v := convert(value, attr.type)) is None:
            continue
        by_attr.setdefault(attr.name, []).append((*key, v))
    out: list[Conflict] = []
    for name, attr_rows in sorted(by_attr.items()):
        out.extend(_several(f"{spec.key}.{name}", spec.relation, _grouped(attr_rows)))
    return out


def conflicts(source: TupleSource) -> list[Conflict]:
    """Every single-valued field with several values, by field then root."""
    out: list[Conflict] = []
    for f in VIRT_INSPECTOR_FIELDS:
        if f.single_valued:
            out.extend(_core(source, f))
    for spec in EXTRA_FIELDS:
        out.extend(_extra(source, spec))
    return out
