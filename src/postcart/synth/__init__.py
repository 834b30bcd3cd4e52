"""postcart.synth: a synthetic DESCAR-T-like registry in the import format (docs/synth.md).

``generate_registry(n, seed=...)`` simulates a registry and ``.write(folder)`` writes it as an
extract; ``run_check`` analyses one with the production pipeline and compares it with the
paper; ``fit`` (joint least squares, the default of ``postcart synth calibrate``) and
``calibrate`` (fixed-point map) fit the parameters (``parameters.yaml``) by simulation.
"""

from postcart.synth.generate import DEFAULT_N, DEFAULT_SEED, SyntheticRegistry, generate_registry, simulate
from postcart.synth.parameters import SynthParameters, load_parameters

__all__ = [
    "DEFAULT_N",
    "DEFAULT_SEED",
    "SynthParameters",
    "SyntheticRegistry",
    "generate_registry",
    "load_parameters",
    "simulate",
]
