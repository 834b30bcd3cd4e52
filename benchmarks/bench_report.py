"""Benchmark of ``postcart report``: wall time and peak memory, start-up included.

Scenarios (``--sizes``, default ``680,100000``):

* ``680`` (the paper's size): the README's command, ``postcart report`` on the built-in
  synthetic registry, first run (cold: the registry is generated and imported, in an empty
  cache) and second run (warm: cached registry). Goal: under 15 s.
* any other N: a synthetic registry of N patients is generated and imported into a SQLite file
  (timed separately, not part of the report), then ``postcart report --db FILE`` is timed.
  Goal at 100,000: under 3 minutes.

Each timed run is a fresh ``postcart`` process (the CLI app in a new interpreter), so the times
include interpreter start-up and imports; peak memory is the child's maximum resident set size.

Usage: ``python -m benchmarks --only report [--sizes 680,100000] [--keep DIR]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOALS_S = {680: 15.0, 100_000: 180.0}


def _run(cmd: list[str], env: dict[str, str]) -> tuple[float, float, float, int]:
    """(wall seconds, CPU seconds, peak RSS in MB, exit code) of a child process.

    The child runs under ``/usr/bin/time``-like accounting: ``wait4`` gives its own rusage.
    """
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read() if proc.stderr else ""
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.stderr.write(err[-3000:])
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024.0, code


def _make_db(n: int, folder: Path) -> tuple[Path, float]:
    from postcart.registry import import_extract
    from postcart.synth.generate import generate_registry

    t0 = time.perf_counter()
    extract = generate_registry(n, seed=20210412).write(folder / f"extract-{n}")
    db = folder / f"registry-{n}.sqlite"
    import_extract(extract, str(db))
    return db, time.perf_counter() - t0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench_report", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="680,100000", help="registry sizes (comma-separated)")
    parser.add_argument("--keep", default=None, help="keep the outputs in this folder")
    args, _ = parser.parse_known_args(argv)
    sizes = [int(float(s)) for s in args.sizes.split(",") if s.strip()]
    status = 0
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp_s:
        tmp = Path(args.keep) if args.keep else Path(tmp_s)
        tmp.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, POSTCART_CACHE=str(tmp / "cache"), MPLBACKEND="Agg")
        base = [
            sys.executable,
            "-c",
            "from postcart.cli.main import app; app(prog_name='postcart')",
            "report",
        ]
        print(f"{'scenario':<34} {'wall s':>8} {'CPU s':>7} {'peak MB':>9} {'goal s':>7}  ok")
        for n in sizes:
            goal = GOALS_S.get(n)
            if n == 680:
                runs = [
                    ("680, built-in registry, cold", base + ["--out", str(tmp / "out-680-cold")]),
                    ("680, built-in registry, warm", base + ["--out", str(tmp / "out-680-warm")]),
                ]
            else:
                db, t_db = _make_db(n, tmp)
                print(f"{f'{n}: generate + import (untimed)':<34} {t_db:>8.1f}")
                runs = [(f"{n}, --db SQLite", base + ["--db", str(db), "--out", str(tmp / f"out-{n}")])]
            for label, cmd in runs:
                wall, cpu, peak, code = _run(cmd, env)
                ok = code == 0 and (goal is None or wall <= goal)
                status = status or (0 if code == 0 else 1)
                goal_s = "-" if goal is None else f"{goal:.0f}"
                verdict = "yes" if ok else "NO"
                print(f"{label:<34} {wall:>8.1f} {cpu:>7.1f} {peak:>9.0f} {goal_s:>7}  {verdict}", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
