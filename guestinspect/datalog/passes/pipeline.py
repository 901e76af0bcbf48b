"""The static checks as a pipeline of passes, run in this order:

1. ``TRANSFORMS``: rewrites of the parsed module into the core language (Soufflé's
   components are expanded here), each returning the new module and its errors.
2. ``MODULE_PASSES``: checks of the whole program (its declarations).
3. ``RULE_PASSES``: per rule, in source order: references, lowering to the IR, witnesses
   of nested aggregates, aggregate scopes, safety, types. A pass returns False to stop that
   rule's passes (lowering does when the rule has errors so far); a rule with errors is
   dropped from the program.

A pass is a function of a :class:`Context` (and, for a rule pass, a :class:`RuleJob`) that
reports errors with ``ctx.error(loc, message)``; adding one is adding it to a list here.
Errors keep the order they were found in (per rule, pass after pass).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..limits import DEFAULT_LIMITS, Limits
from ..syntax import Module
from .aggregates import scope_aggregates
from .context import Analysis, Context, RuleJob
from .declarations import check_declarations
from .lowering import lower_rule
from .references import check_references
from .safety import check_safety
from .types import check_types
from .witnesses import ground_witnesses

Transform = Callable[[Module, Limits], tuple[Module, list[str]]]
ModulePass = Callable[[Context], None]
RulePass = Callable[[Context, RuleJob], bool]



def expand_components(module: Module,
                      limits: Limits = DEFAULT_LIMITS) -> tuple[Module, list[str]]:
    """components.expand_components, imported only for a program that has components."""
    if not (module.components or module.inits or module.overrides):
        return module, []
    from ..components import expand_components as expand  # here, not at the top: start-up time
    return expand(module, limits)


TRANSFORMS: list[Transform] = [expand_components]
MODULE_PASSES: list[ModulePass] = [check_declarations]
RULE_PASSES: list[RulePass] = [check_references, lower_rule, ground_witnesses,
                               scope_aggregates, check_safety, check_types]


def transform(module: Module, limits: Limits = DEFAULT_LIMITS) -> tuple[Module, list[str]]:
    """Run the transforms; the core-language module and their errors."""
    errors: list[str] = []
    for t in TRANSFORMS:
        module, more = t(module, limits)
        errors.extend(more)
    return module, errors


def check(module: Module, functors: Mapping[str, Callable[..., Any]],
          modes: Mapping[str, str], patterns: Mapping[str, tuple[int, ...]] | None = None,
          ) -> Analysis:
    """Run the module passes, then the rule passes on each rule (of a core-language module:
    see :func:`transform`)."""
    ctx = Context(module, functors, modes, patterns or {})
    for p in MODULE_PASSES:
        p(ctx)
    for index, rule in enumerate(module.rules):
        job = RuleJob(index, rule, len(ctx.analysis.errors))
        if all(p(ctx, job) for p in RULE_PASSES) and job.norm is not None \
                and not job.failed(ctx):
            ctx.analysis.rules.append(job.norm)
    return ctx.analysis
