"""postcart: CAR T-cell registry data, derived endpoints after CAR-T failure, survival statistics
and the DESCAR-T study report.

Sub-packages follow the flow of the data::

    registry -> endpoints -> stats -> study -> reporting
                                   (synth feeds registry; cli and web sit on top)
"""

from postcart.errors import (
    ConvergenceError,
    EndpointError,
    MonotoneLikelihoodWarning,
    PostcartError,
    RegistryError,
    RegistryValidationError,
    SchemaError,
    SpecError,
    StatisticalWarning,
    StatsError,
)

__version__ = "0.1.0"

__all__ = [
    "ConvergenceError",
    "EndpointError",
    "MonotoneLikelihoodWarning",
    "PostcartError",
    "RegistryError",
    "RegistryValidationError",
    "SchemaError",
    "SpecError",
    "StatisticalWarning",
    "StatsError",
    "__version__",
]
