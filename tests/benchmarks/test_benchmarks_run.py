"""The benchmark command runs (numbers are not asserted: timings live in benchmarks, not tests)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_benchmarks_main_discovers_bench_modules() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--list"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert "stats" in proc.stdout.split()


@pytest.mark.slow
def test_bench_stats_runs_every_task_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [
            sys.executable, "-m", "benchmarks", "--only", "stats", "--sizes", "2000", "--repeat", "1",
            "--peers=", "--json", str(out),
        ],
        cwd=ROOT, capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(out.read_text())["rows"]
    assert [(r["task"], r["impl"]) for r in rows] == [
        ("km_by_group", "postcart"),
        ("logrank", "postcart"),
        ("cox_breslow", "postcart"),
        ("cox_breslow", "postcart+C"),
        ("cox_efron", "postcart"),
        ("cox_efron", "postcart+C"),
    ]
    assert all(r["seconds"] is not None and r["seconds"] > 0 for r in rows), rows
    assert "ratio = peer seconds / postcart seconds" in proc.stdout
