"""Benchmark: generate 1,000,000 registered patients and write the extract (goal < 60 s, < 4 GB).

Run: ``.venv/bin/python -m benchmarks --only synth [--synth-n N]`` (or
``.venv/bin/python benchmarks/bench_synth.py [--synth-n N]``). Prints the wall time of each phase
(simulation, table building, CSV writing) and the peak resident memory of the process
(``resource.getrusage``; Linux reports kilobytes).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from postcart.synth.model import simulate_cohort
from postcart.synth.observe import observe
from postcart.synth.parameters import load_parameters
from postcart.synth.tables import build_tables, write_extract


def run(n: int = 1_000_000, seed: int = 1) -> None:
    """Generate ``n`` registered patients, write them, print the timings and peak memory."""
    params = load_parameters()
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    cohort = simulate_cohort(params, n, rng)
    t1 = time.perf_counter()
    tables = build_tables(observe(cohort), rng, extract_id="bench", alt_unit_share=params["p_alt_unit"])
    t2 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        out = write_extract(tables, Path(tmp) / "extract")
        size = sum(p.stat().st_size for p in out.iterdir())
        t3 = time.perf_counter()
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    rows = sum(len(v) for v in tables.values())
    print(f"registered patients: {n:,}; rows written: {rows:,}; CSV size: {size / 1e6:.0f} MB")
    print(f"simulate {t1 - t0:.1f} s, build tables {t2 - t1:.1f} s, write CSV {t3 - t2:.1f} s")
    print(f"total {t3 - t0:.1f} s (goal < 60 s); peak memory {peak_gb:.2f} GB (goal < 4 GB)")


def main(argv: list[str]) -> int:
    """Entry point of ``python -m benchmarks`` (unknown options are ignored)."""
    parser = argparse.ArgumentParser(prog="bench_synth")
    parser.add_argument("--synth-n", type=int, default=1_000_000, help="registered patients")
    parser.add_argument("--synth-seed", type=int, default=1)
    args, _ = parser.parse_known_args(argv)
    run(args.synth_n, args.synth_seed)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
