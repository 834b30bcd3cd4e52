"""Generate a synthetic DESCAR-T-like registry: the public entry points of ``postcart.synth``."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from postcart.synth.model import DEFAULT_CUTOFF, SimulatedCohort, simulate_cohort
from postcart.synth.observe import ObservedCohort, observe
from postcart.synth.parameters import SynthParameters, load_parameters
from postcart.synth.tables import build_tables, write_extract

#: Registered patients of the default registry (the paper's 680).
DEFAULT_N = 680
#: Seed of the default registry.
DEFAULT_SEED = 20210412


@dataclass(frozen=True, slots=True)
class SyntheticRegistry:
    """A simulated registry: raw tables in the import format plus the latent truth behind them."""

    tables: dict[str, pa.Table]
    cohort: SimulatedCohort
    observed: ObservedCohort
    seed: int | None
    parameters: SynthParameters

    def write(self, out: Path) -> Path:
        """Write the tables as ``<table>.csv`` files into folder ``out`` (atomically)."""
        return write_extract(self.tables, out)


def simulate(
    n: int = DEFAULT_N,
    *,
    rng: np.random.Generator,
    params: SynthParameters | None = None,
    cutoff: _dt.date = DEFAULT_CUTOFF,
    tables: bool = True,
    seed: int | None = None,
) -> SyntheticRegistry:
    """Simulate ``n`` registered patients with generator ``rng``.

    ``tables=False`` skips building the raw tables (calibration only needs the truth).
    The tables' own random details (centres, units, regimen names) come from a stream spawned
    from ``rng``, so they never shift the cohort's draws (common random numbers).
    """
    if not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n must be a positive integer number of registered patients, got {n!r}")
    params = load_parameters() if params is None else params
    cohort = simulate_cohort(params, int(n), rng, cutoff=cutoff)
    obs = observe(cohort)
    built = (
        build_tables(
            obs,
            rng.spawn(1)[0],
            extract_id=f"synthetic-descar-t-n{n}" + ("" if seed is None else f"-seed{seed}"),
            alt_unit_share=params["p_alt_unit"],
        )
        if tables
        else {}
    )
    return SyntheticRegistry(tables=built, cohort=cohort, observed=obs, seed=seed, parameters=params)


def generate_registry(
    n: int = DEFAULT_N,
    *,
    seed: int = DEFAULT_SEED,
    params: SynthParameters | None = None,
    cutoff: _dt.date = DEFAULT_CUTOFF,
) -> SyntheticRegistry:
    """The synthetic registry of ``n`` registered patients for ``seed`` (``numpy.random.default_rng``)."""
    return simulate(n, rng=np.random.default_rng(seed), params=params, cutoff=cutoff, seed=seed)
