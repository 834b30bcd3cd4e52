"""The exceptions and warnings of postcart.

::

    PostcartError
    ├── RegistryError
    │   ├── SchemaError              a file or sheet cannot be read as a registry table at all
    │   │                            (missing file, unknown or identifying column)
    │   └── RegistryValidationError  rows break rules; carries every ValidationIssue found
    ├── EndpointError                a derivation cannot be made from the records
    ├── StatsError                   bad input to a statistic (lengths, negative times, ...)
    │   └── ConvergenceError         an iterative fit did not converge
    └── SpecError                    an analysis or report specification is invalid

    StatisticalWarning (RuntimeWarning)
    └── MonotoneLikelihoodWarning    a Cox coefficient runs to +/- infinity (HR not estimable)

Messages name the place of the fault (file, row, patient, field, value, rule) and, where one
exists, the next thing to try.
"""

from __future__ import annotations


class PostcartError(Exception):
    """Base class of every error raised by postcart."""


class RegistryError(PostcartError):
    """A problem with registry data or storage."""


class SchemaError(RegistryError):
    """A file or sheet cannot be read as a registry table."""


class RegistryValidationError(RegistryError):
    """Rows of an extract break validation rules.

    ``issues`` holds every problem found (the import collects them all before raising).
    """

    def __init__(self, message: str, issues: list[object] | None = None) -> None:
        super().__init__(message)
        self.issues = list(issues or [])


class EndpointError(PostcartError):
    """An endpoint cannot be derived from the registry records."""


class StatsError(PostcartError, ValueError):
    """Invalid input to a statistical function."""


class ConvergenceError(StatsError):
    """An iterative estimation did not converge."""


class SpecError(PostcartError):
    """An analysis or report specification is invalid."""


class StatisticalWarning(RuntimeWarning):
    """A statistical result needs care in interpretation."""


class MonotoneLikelihoodWarning(StatisticalWarning):
    """A Cox partial likelihood is monotone: a coefficient diverges and its HR is not estimable."""
