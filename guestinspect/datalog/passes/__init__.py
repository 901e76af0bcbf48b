"""The static checks of a parsed program, as passes of a pipeline (see :mod:`.pipeline`)."""

from .context import Analysis, Context, RuleJob
from .pipeline import check, transform

__all__ = ["Analysis", "Context", "RuleJob", "check", "transform"]
