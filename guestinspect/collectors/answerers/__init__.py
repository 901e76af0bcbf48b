"""The answerers: every request relation (``Want…``) answered once, over the guest
filesystems of whatever backend (collectors/resolver.py); the table of them is
:mod:`.table`. A backend is volumes + views + :func:`answer`."""

from collections import defaultdict

from guestinspect.collectors.answerers.context import AnswerContext
from guestinspect.collectors.answerers.table import ANSWERERS, PHASES
from guestinspect.collectors.factset import FactSet

__all__ = ["AnswerContext", "answer"]


def answer(ctx: AnswerContext, wants: FactSet) -> FactSet:
    """The facts that answer ``wants``, phase by phase (each under ``ctx.phase``)."""
    facts: FactSet = defaultdict(set)
    _check_mounted(ctx, wants)
    for phase in PHASES:
        rows = [row for row in ANSWERERS if row.phase == phase]
        asked = {row.relation: wants[row.relation] for row in rows if wants.get(row.relation)}
        if asked:
            with ctx.phase(phase):
                rows[0].answer(ctx, asked, facts)
    return dict(facts)


def _check_mounted(ctx: AnswerContext, wants: FactSet) -> None:
    """One warning per filesystem asked about but not mounted (not readable)."""
    rows = [row for phase in ("dirs", "paths") for row in ANSWERERS if row.phase == phase]
    for row in rows:
        for t in wants.get(row.relation, ()):
            fs = str(t[0])
            if fs not in ctx.filesystems and fs not in ctx.unmounted:
                ctx.unmounted.add(fs)
                ctx.warn(f"{fs}: requested but not mounted")
