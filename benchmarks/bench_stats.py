"""Speed and memory of the survival engine against lifelines, statsmodels and R.

Tasks (issue 3, "Speed"), each on the same generated data with heavily tied integer-day times:

* ``km_by_group``: Kaplan-Meier in each of 3 groups (postcart ``kaplan_meier`` per group;
  lifelines ``KaplanMeierFitter`` per group; statsmodels ``SurvfuncRight`` per group; R
  ``survfit(Surv(time, status) ~ group, conf.type = "log-log")``).
* ``logrank``: 3-group log-rank (postcart ``logrank_test``; lifelines
  ``multivariate_logrank_test``; statsmodels ``survdiff``; R ``survdiff``).
* ``cox_breslow`` / ``cox_efron``: Cox model with 5 covariates (postcart ``cox_ph`` without the
  concordance, the ratio base, as lifelines (lazy C) and statsmodels (no C); ``postcart+C`` with
  Harrell's C and its SE, postcart's default, as R's ``coxph`` which computes C too; lifelines
  ``CoxPHFitter`` in batch mode, Efron only; statsmodels ``PHReg``; R ``coxph``).

Every measurement runs in its own subprocess (``python -m benchmarks.bench_stats --worker``):
the data are generated there (not timed), then the task runs ``--repeat`` times (default: up
to 5 runs while their total stays under 2 s) and the best wall time is kept. Peak memory is the
rise of the process's peak resident set (VmHWM, reset through ``/proc/self/clear_refs`` just
before the task) over its resident set before the task, so it counts what the task itself
allocated. For R, the time is ``system.time`` elapsed and the memory
is the rise of ``gc()``'s "max used" (R's heap), both measured inside one Rscript per size.

Usage: ``python -m benchmarks --only stats [--sizes 1e4,1e5,1e6] [--repeat N]
[--peers lifelines,statsmodels,r] [--tasks km_by_group,logrank,cox_breslow,cox_efron]
[--json out.json]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TASKS = ("km_by_group", "logrank", "cox_breslow", "cox_efron")
PY_IMPLS = ("postcart", "postcart+C", "lifelines", "statsmodels")
COVARIATES = ("x1", "x2", "x3", "x4", "x5")


def make_data(n: int, seed: int = 20221215) -> dict[str, np.ndarray]:  # type: ignore[type-arg]
    """Synthetic survival data with heavily tied integer-day times.

    5 covariates (two normal, one binary, one 0-3 score, one age-like uniform), exponential event
    times with hazard exp(x'beta)/365 per day, uniform censoring up to 5 years, times rounded up
    to whole days (at most 1826 distinct times: at N = 1e6 several hundred events per day), and
    3 groups independent of the covariates.
    """
    rng = np.random.default_rng(seed)
    x = np.column_stack(
        [
            rng.normal(size=n),
            rng.normal(size=n),
            rng.integers(0, 2, size=n).astype(float),
            rng.integers(0, 4, size=n).astype(float),
            rng.uniform(40.0, 80.0, size=n),
        ]
    )
    beta = np.array([0.3, -0.2, 0.5, 0.15, 0.02])
    lp = (x - x.mean(axis=0)) @ beta
    t_event = rng.exponential(365.0 / np.exp(lp))
    t_cens = rng.uniform(0.0, 5 * 365.25, size=n)
    time_ = np.ceil(np.minimum(t_event, t_cens))
    event = t_event <= t_cens
    group = rng.integers(0, 3, size=n)
    return {"time": time_, "event": event, "group": group, "X": x}


# ----------------------------------------------------------------------------- python tasks


def _postcart(task: str, d: dict[str, Any], *, concordance: bool = False) -> Callable[[], object]:
    from postcart import stats

    t, e, g, x = d["time"], d["event"], d["group"], d["X"]
    if task == "km_by_group":
        masks = [g == level for level in np.unique(g)]
        return lambda: [stats.kaplan_meier(t[m], e[m]) for m in masks]
    if task == "logrank":
        return lambda: stats.logrank_test(t, e, g)
    ties = task.removeprefix("cox_")
    return lambda: stats.cox_ph(x, t, e, names=list(COVARIATES), ties=ties, concordance=concordance)


def _postcart_c(task: str, d: dict[str, Any]) -> Callable[[], object] | None:
    """The Cox fit with Harrell's C and its SE (postcart's default; R's coxph computes C too)."""
    return _postcart(task, d, concordance=True) if task.startswith("cox_") else None


def _lifelines(task: str, d: dict[str, Any]) -> Callable[[], object] | None:
    import pandas as pd
    from lifelines import CoxPHFitter, KaplanMeierFitter
    from lifelines.statistics import multivariate_logrank_test

    t, e, g, x = d["time"], d["event"], d["group"], d["X"]
    if task == "km_by_group":
        masks = [g == level for level in np.unique(g)]
        return lambda: [KaplanMeierFitter().fit(t[m], e[m]) for m in masks]
    if task == "logrank":
        return lambda: multivariate_logrank_test(t, g, e)
    if task == "cox_breslow":
        return None  # lifelines has Efron ties only
    frame = pd.DataFrame(x, columns=list(COVARIATES))
    frame["time"] = t
    frame["event"] = e.astype(int)
    return lambda: CoxPHFitter().fit(frame, "time", "event", batch_mode=True)


def _statsmodels(task: str, d: dict[str, Any]) -> Callable[[], object]:
    from statsmodels.duration.hazard_regression import PHReg
    from statsmodels.duration.survfunc import SurvfuncRight, survdiff

    t, e, g, x = d["time"], d["event"], d["group"], d["X"]
    ei = e.astype(int)
    if task == "km_by_group":
        masks = [g == level for level in np.unique(g)]
        return lambda: [SurvfuncRight(t[m], ei[m]) for m in masks]
    if task == "logrank":
        return lambda: survdiff(t, ei, g)
    ties = task.removeprefix("cox_")
    return lambda: PHReg(t, x, status=ei, ties=ties).fit()


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def worker(task: str, impl: str, n: int, seed: int, repeat: int) -> dict[str, Any]:
    """One measurement in this process (called in a fresh subprocess)."""
    import warnings

    warnings.simplefilter("ignore")
    d = make_data(n, seed)
    builders: dict[str, Callable[[str, dict[str, Any]], Callable[[], object] | None]] = {
        "postcart": _postcart,
        "postcart+C": _postcart_c,
        "lifelines": _lifelines,
        "statsmodels": _statsmodels,
    }
    build = builders[impl]
    fn = build(task, d)
    if fn is None:
        return {"seconds": None, "peak_mb": None, "note": "not available"}
    best = float("inf")
    peak: float | None = None
    runs = 0
    spent = 0.0
    # repeat > 0: exactly that many runs; 0 (auto): up to 5 runs while the total stays under 2 s
    while runs < (repeat or 5) and (repeat or spent < 2.0 or runs == 0):
        can_reset = _reset_peak()
        base = _status_kb("VmRSS")
        start = time.perf_counter()
        fn()
        elapsed = time.perf_counter() - start
        best = min(best, elapsed)
        spent += elapsed
        runs += 1
        if can_reset:
            peak = max(peak or 0.0, (_status_kb("VmHWM") - base) / 1024)
    return {"seconds": best, "peak_mb": peak, "runs": runs}


def _run_worker(task: str, impl: str, n: int, seed: int, repeat: int, timeout: float) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "benchmarks.bench_stats", "--worker", task, impl, str(n)]
    cmd += ["--seed", str(seed), "--repeat", str(repeat)]
    try:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"seconds": None, "peak_mb": None, "note": f"timeout {timeout:g} s"}
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return {"seconds": None, "peak_mb": None, "note": f"failed: {last[:120]}"}
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


# -------------------------------------------------------------------------------------- R


def _have_r() -> bool:
    if shutil.which("Rscript") is None:
        return False
    probe = subprocess.run(["Rscript", "-e", "library(survival)"], capture_output=True, check=False)
    return probe.returncode == 0


def _run_r(n: int, seed: int, repeat: int, tasks: list[str], timeout: float) -> dict[str, dict[str, Any]]:
    d = make_data(n, seed)
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "data.csv"
        cols = {"time": d["time"], "status": d["event"].astype(int), "group": d["group"]}
        cols.update({name: d["X"][:, j] for j, name in enumerate(COVARIATES)})
        header = ",".join(cols)
        body = np.column_stack([np.asarray(v, dtype=float) for v in cols.values()])
        np.savetxt(csv, body, delimiter=",", header=header, comments="", fmt="%.17g")
        cmd = ["Rscript", str(HERE / "r" / "bench_stats.R"), str(csv), str(repeat), ",".join(tasks)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return {t: {"seconds": None, "peak_mb": None, "note": f"timeout {timeout:g} s"} for t in tasks}
    out: dict[str, dict[str, Any]] = {}
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[0] == "RESULT":
            out[parts[1]] = {"seconds": float(parts[2]), "peak_mb": float(parts[3])}
    for t in tasks:
        out.setdefault(t, {"seconds": None, "peak_mb": None, "note": f"R failed: {proc.stderr[-120:]}"})
    return out


# ----------------------------------------------------------------------------------- report


def _fmt(x: float | None, spec: str) -> str:
    width = int(spec.split(".")[0] or 0)
    return "-".rjust(width) if x is None else format(x, spec)


def render(rows: list[dict[str, Any]]) -> str:
    """The results table: seconds, ratio peer/postcart (> 1: postcart is faster), peak MB."""
    header = f"{'task':<12} {'N':>9} {'implementation':<14} {'seconds':>10} {'ratio':>8} {'peak MB':>9}  note"
    lines = [header, "-" * len(header)]
    base: dict[tuple[str, int], float | None] = {
        (r["task"], r["n"]): r["seconds"] for r in rows if r["impl"] == "postcart"
    }
    for r in rows:
        ours = base.get((r["task"], r["n"]))
        ratio = None if (r["seconds"] is None or not ours) else r["seconds"] / ours
        lines.append(
            f"{r['task']:<12} {r['n']:>9,} {r['impl']:<14} {_fmt(r['seconds'], '10.4f')} "
            f"{_fmt(ratio, '8.1f')} {_fmt(r['peak_mb'], '9.1f')}  {r.get('note', '')}".rstrip()
        )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    """Run the benchmark (options: see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks --only stats")
    parser.add_argument("--sizes", default="1e4,1e5,1e6", help="comma-separated N (default 1e4,1e5,1e6)")
    parser.add_argument(
        "--repeat", type=int, default=0, help="runs per measurement, best kept (0 = auto: up to 5 within 2 s)"
    )
    parser.add_argument("--peers", default="lifelines,statsmodels,r", help="peers to compare with")
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--seed", type=int, default=20221215)
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per measurement")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args, _ = parser.parse_known_args(argv)
    sizes = [int(float(s)) for s in args.sizes.split(",") if s.strip()]
    tasks = [t for t in args.tasks.split(",") if t]
    bad = [t for t in tasks if t not in TASKS]
    if bad:
        parser.error(f"unknown task(s) {bad}; tasks are {list(TASKS)}")
    peers = [p for p in args.peers.split(",") if p]
    use_r = "r" in peers and _have_r()
    if "r" in peers and not use_r:
        print("(R with survival not found: R column skipped)")
    impls = ["postcart", "postcart+C"] + [p for p in peers if p in PY_IMPLS]
    rows: list[dict[str, Any]] = []
    for n in sizes:
        repeat = args.repeat
        r_results = _run_r(n, args.seed, repeat, tasks, args.timeout) if use_r else {}
        for task in tasks:
            for impl in impls:
                if impl == "postcart+C" and not task.startswith("cox_"):
                    continue
                res = _run_worker(task, impl, n, args.seed, repeat, args.timeout)
                rows.append({"task": task, "n": n, "impl": impl, **res})
                print(f"  {task} N={n:,} {impl}: {_fmt(res['seconds'], '.4f')} s", flush=True)
            if use_r:
                rows.append({"task": task, "n": n, "impl": "R survival", **r_results[task]})
    rows.sort(key=lambda r: (TASKS.index(r["task"]), r["n"]))
    print()
    print(render(rows))
    print(
        "\nratio = peer seconds / postcart seconds (> 1: postcart faster); best of the runs; "
        "peak MB = rise of peak RSS during the task (R: rise of gc() max used)."
    )
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "cpu_count": os.cpu_count()}, indent=2))
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        p = argparse.ArgumentParser()
        p.add_argument("task")
        p.add_argument("impl")
        p.add_argument("n", type=int)
        p.add_argument("--seed", type=int, default=20221215)
        p.add_argument("--repeat", type=int, default=0)
        a = p.parse_args(sys.argv[2:])
        print(json.dumps(worker(a.task, a.impl, a.n, a.seed, a.repeat)))
    else:
        sys.exit(main(sys.argv[1:]))
