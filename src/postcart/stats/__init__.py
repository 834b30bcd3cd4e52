"""Survival and categorical statistics on arrays: no files, databases, registry columns or plots.

Every result is an immutable object that records the conventions that produced it
(``Conventions``) and converts to a tidy DataFrame with ``.to_frame()``.
"""

from postcart.stats.conventions import Conventions, resolve_conventions

__all__ = ["Conventions", "resolve_conventions"]
