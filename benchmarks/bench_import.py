"""Import benchmark: validate and load a generated 100,000-patient extract into SQLite.

Usage::

    .venv/bin/python benchmarks/bench_import.py [--patients 100000] [--workdir DIR] [--seed 1]
        [--generator synth|quick]

Generates a valid extract with ``postcart.synth`` (default) or with a quick vectorized generator
of its own (``--generator quick``: plausible dates and codes, about 1 million rows), then runs
``postcart.registry.import_extract`` on it in a child process and prints the wall time, CPU
time and the child's peak resident memory. Goal: < 60 s and < 2 GB on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from postcart.registry import codes


def _dates(days: np.ndarray) -> np.ndarray:
    """ISO strings of day numbers since 1970-01-01."""
    return np.datetime_as_string(days.astype("datetime64[D]"), unit="D")


def generate(n: int, out: Path, rng: np.random.Generator) -> dict[str, int]:
    """Write a valid extract of ``n`` patients as CSV files into ``out``; returns row counts."""
    out.mkdir(parents=True, exist_ok=True)
    pid = np.char.add("BENCH-", np.char.zfill(np.arange(1, n + 1).astype(str), 6))
    base = np.datetime64("2018-07-01").astype(int)
    decision = base + rng.integers(0, 1000, n)
    infused = rng.random(n) < 0.9
    infusion = decision + rng.integers(25, 70, n)
    tables: dict[str, pd.DataFrame] = {}
    tables["extract"] = pd.DataFrame(
        {"extract_id": ["bench"], "data_cutoff": ["2030-12-31"], "source": ["bench_import.py"]}
    )
    n_centres = 60
    tables["centres"] = pd.DataFrame(
        {
            "centre_id": [f"C{i:03d}" for i in range(n_centres)],
            "centre_name": [f"Centre {i}" for i in range(n_centres)],
            "country": "FR",
        }
    )
    tables["patients"] = pd.DataFrame(
        {
            "patient_id": pid,
            "centre_id": np.char.add("C", np.char.zfill(rng.integers(0, n_centres, n).astype(str), 3)),
            "sex": rng.choice(codes.SEX, n),
            "birth_year": rng.integers(1940, 1990, n),
            "age_at_decision": np.round(rng.uniform(20, 80, n), 1),
            "registration_date": _dates(decision - rng.integers(0, 10, n)),
            "decision_date": _dates(decision),
            "indication": "rr_aggressive_bcl",
            "histology": rng.choice(codes.HISTOLOGY[:4], n),
            "prior_lines": rng.integers(2, 6, n),
            "prior_asct": rng.choice(["yes", "no"], n),
            "prior_allo": "no",
            "prior_line_types": "rituximab;cyclophosphamide;doxorubicin;vincristine;steroids",
        }
    )
    ch = pd.DataFrame(
        {
            "patient_id": pid,
            "timepoint": "decision",
            "assessment_date": _dates(decision),
            "ecog": rng.integers(0, 3, n),
            "ann_arbor_stage": rng.integers(1, 5, n),
            "extranodal_sites": rng.integers(0, 4, n),
            "ldh": rng.integers(150, 900, n),
            "ldh_uln": 250,
            "albumin": np.round(rng.uniform(25, 45, n), 1),
            "albumin_unit": "g/L",
            "crp": np.round(rng.uniform(1, 150, n), 1),
            "crp_unit": "mg/L",
            "ferritin": rng.integers(50, 4000, n),
            "ferritin_unit": "ug/L",
            "disease_status": rng.choice(["pd", "sd", "pr"], n),
            "pet_performed": "yes",
        }
    )
    ch_d0 = ch.loc[infused].assign(timepoint="d0", assessment_date=_dates(infusion[infused]))
    tables["characteristics"] = pd.concat([ch, ch_d0], ignore_index=True)
    tables["bridging"] = pd.DataFrame(
        {
            "patient_id": pid,
            "bridging_type": rng.choice(codes.BRIDGING_TYPE, n),
            "regimen": "",
            "start_date": _dates(decision + 5),
        }
    )
    ipid, inf = pid[infused], infusion[infused]
    m = len(ipid)
    tables["infusions"] = pd.DataFrame(
        {
            "patient_id": ipid,
            "product": rng.choice(["axi-cel", "tisa-cel"], m),
            "lymphodepletion_regimen": "flu_cy",
            "lymphodepletion_date": _dates(inf - 5),
            "infusion_date": _dates(inf),
        }
    )
    visits = [("d30", 30), ("d90", 90), ("d180", 180)]
    tables["assessments"] = pd.concat(
        [
            pd.DataFrame(
                {
                    "patient_id": ipid,
                    "visit": v,
                    "planned_date": _dates(inf + d),
                    "assessment_date": _dates(inf + d + rng.integers(0, 3, m)),
                    "response": rng.choice(["cr", "pr", "sd", "pd"], m),
                    "modality": "pet",
                    "deauville": rng.integers(1, 6, m),
                }
            )
            for v, d in visits
        ],
        ignore_index=True,
    )
    tables["toxicities"] = pd.DataFrame(
        {
            "patient_id": ipid,
            "crs_grade": rng.integers(0, 4, m),
            "icans_grade": rng.integers(0, 4, m),
            "cytopenia_d30_grade": rng.integers(0, 5, m),
            "cytopenia_d90_grade": rng.integers(0, 5, m),
        }
    )
    failed = rng.random(m) < 0.45
    event = inf + rng.integers(20, 400, m)
    tables["disease_events"] = pd.DataFrame(
        {
            "patient_id": ipid[failed],
            "event_date": _dates(event[failed]),
            "event_type": rng.choice(codes.EVENT_TYPE, int(failed.sum())),
            "biopsy": "no",
            "next_treatment": "given",
        }
    )
    k = int(failed.sum())
    start = event[failed] + 10
    tables["treatment_lines"] = pd.DataFrame(
        {
            "patient_id": ipid[failed],
            "line_number": 1,
            "start_date": _dates(start),
            "end_date": _dates(start + 60),
            "regimen": "",
            "components": rng.choice(
                ["lenalidomide;rituximab", "glofitamab", "rituximab;gemcitabine;oxaliplatin"], k
            ),
            "radiotherapy_localized": "",
            "in_trial": "no",
            "best_response": rng.choice(["cr", "pr", "pd"], k),
            "best_response_date": _dates(start + 50),
        }
    )
    latest = np.maximum(decision + 20, np.where(infused, infusion + 200, 0))
    last_by_pid = pd.Series(latest, index=pid)
    last_by_pid.loc[ipid[failed]] = np.maximum(last_by_pid.loc[ipid[failed]].to_numpy(), start + 70)
    last = last_by_pid.to_numpy() + rng.integers(0, 300, n)
    dead = rng.random(n) < 0.4
    tables["vital_status"] = pd.DataFrame(
        {
            "patient_id": pid,
            "last_contact_date": _dates(last),
            "death_date": np.where(dead, _dates(last), ""),
            "death_cause": np.where(dead, "lymphoma", ""),
        }
    )
    for name, frame in tables.items():
        frame.to_csv(out / f"{name}.csv", index=False, lineterminator="\n")
    return {name: len(frame) for name, frame in tables.items()}


def _child(extract: Path, db: Path) -> None:
    from postcart.registry import import_extract

    t0, c0 = time.perf_counter(), time.process_time()
    result = import_extract(extract, f"sqlite:///{db}")
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"import (validation + load, one transaction): {wall:.1f} s wall, {cpu:.1f} s CPU, "
        f"peak RSS {peak_kb / 1024:.0f} MiB"
    )
    print(f"load average while running: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"rows inserted: {result.inserted}, warnings: {len(result.issues)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--generator",
        choices=["synth", "quick"],
        default="synth",
        help="synth: postcart.synth.generate_registry (DESCAR-T-like); quick: this file's own generator",
    )
    parser.add_argument("--child", nargs=2, metavar=("EXTRACT", "DB"), help=argparse.SUPPRESS)
    args, _ = parser.parse_known_args(argv)  # options meant for other benchmarks are ignored
    if args.child:
        _child(Path(args.child[0]), Path(args.child[1]))
        return 0
    work = args.workdir or Path(tempfile.mkdtemp(prefix="postcart-bench-"))
    extract, db = work / "extract", work / "bench.sqlite"
    db.unlink(missing_ok=True)
    if extract.exists():
        shutil.rmtree(extract)
    t0 = time.perf_counter()
    if args.generator == "synth":
        from postcart.synth.generate import generate_registry

        generate_registry(args.patients, seed=args.seed).write(extract)
        counts = {p.stem: sum(1 for _ in p.open()) - 1 for p in sorted(extract.glob("*.csv"))}
    else:
        counts = generate(args.patients, extract, np.random.default_rng(args.seed))
    print(
        f"generated {args.patients} patients, {sum(counts.values())} rows in {time.perf_counter() - t0:.1f} s"
    )
    print("  " + ", ".join(f"{k}={v}" for k, v in counts.items()))
    t0 = time.perf_counter()
    subprocess.run([sys.executable, __file__, "--child", str(extract), str(db)], check=True)
    print(f"total in child process (incl. interpreter start and imports): {time.perf_counter() - t0:.1f} s")
    print(f"database: {db} ({db.stat().st_size / 2**20:.0f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
