"""``postcart synth generate | check | calibrate``: the synthetic DESCAR-T-like registry.

Exit codes: 0 success; 1 ``check --strict`` when the goals are not met, or an error while
generating/analysing; 2 usage errors.
"""

from __future__ import annotations

import signal
from enum import StrEnum
from pathlib import Path

import typer

from postcart.errors import PostcartError
from postcart.synth.parameters import SynthParameters, load_parameters

synth_app = typer.Typer(
    help="Synthetic DESCAR-T-like registry: generate, check against the paper, calibrate.",
    no_args_is_help=True,
)


def _params(path: Path | None) -> SynthParameters:
    return load_parameters(path)


@synth_app.command("generate")
def generate_cmd(
    out: Path = typer.Option(..., "--out", help="Folder to write the extract into (<table>.csv files)."),
    n: int = typer.Option(680, "--n", min=1, help="Number of registered patients."),
    seed: int = typer.Option(20210412, "--seed", help="Seed of numpy.random.default_rng."),
    params: Path | None = typer.Option(
        None, "--params", help="Parameter file (default: the calibrated one)."
    ),
) -> None:
    """Simulate a registry and write it in the import format."""
    from postcart.synth.generate import generate_registry

    try:
        reg = generate_registry(n, seed=seed, params=_params(params))
        reg.write(out)
    except (PostcartError, FileExistsError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    rows = ", ".join(f"{k} {len(v)}" for k, v in reg.tables.items())
    typer.echo(f"wrote {out} ({rows})")


@synth_app.command("check")
def check_cmd(
    n_scale: int = typer.Option(1, "--n-scale", min=1, help="Registry size in multiples of the paper's 680."),
    seed: int = typer.Option(20210412, "--seed", help="Seed of the simulated registry."),
    params: Path | None = typer.Option(
        None, "--params", help="Parameter file (default: the calibrated one)."
    ),
    strict: bool = typer.Option(
        False, "--strict", help="Exit 1 unless the goal is met (>= 90% at paper size; all assessed at 100x)."
    ),
    csv: Path | None = typer.Option(None, "--csv", help="Also write the check table as CSV."),
    self_check_pairs: int = typer.Option(
        0,
        "--self-check",
        min=0,
        help="Also check the model against this many pseudo-papers drawn from itself: the "
        "paper-size pass rate of a correctly specified, uncalibrated model (always at the paper's "
        "size, on its own seeds; about 2 s per pair).",
    ),
) -> None:
    """Analyse a simulated registry with the real pipeline and compare every target with the paper."""
    from postcart.synth.check import format_check, run_check
    from postcart.synth.selfcheck import self_check

    try:
        result = run_check(
            scale=n_scale, seed=seed, params=_params(params), progress=lambda s: typer.echo(s, err=True)
        )
    except PostcartError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(format_check(result))
    if csv is not None:
        result.to_frame().to_csv(csv, index=False)
    if self_check_pairs:
        reference = self_check(
            self_check_pairs, params=_params(params), progress=lambda s: typer.echo(s, err=True)
        )
        typer.echo(reference.summary())
    goal = 0.9 if n_scale < 100 else 1.0
    if strict and result.pass_rate < goal:
        raise typer.Exit(1)


class CalibrationMethod(StrEnum):
    """``--method`` of ``postcart synth calibrate``."""

    lm = "lm"
    fixed_point = "fixed-point"


@synth_app.command("calibrate")
def calibrate_cmd(
    scale: int = typer.Option(
        100, "--scale", min=1, help="Simulated size per simulation (x 680 registered)."
    ),
    iterations: int = typer.Option(
        20, "--iterations", min=1, help="fixed-point: maximum number of simulations (iterations)."
    ),
    seed: list[int] = typer.Option(
        [1],
        "--seed",
        help="Seed of the common random numbers. lm: repeat it (--seed 1 --seed 14) to simulate "
        "every point on each seed and fit the mean of their losses.",
    ),
    from_start: bool = typer.Option(False, "--from-start", help="Start from the hand-set start values."),
    out: Path | None = typer.Option(None, "--out", help="Parameter file to write (default: the package's)."),
    method: CalibrationMethod = typer.Option(
        CalibrationMethod.lm,
        "--method",
        help="lm: joint least squares on every 100x target (postcart.synth.fit); "
        "fixed-point: one parameter per target (postcart.synth.calibrate).",
    ),
    jacobians: int = typer.Option(
        6, "--jacobians", min=1, help="lm: trust-region iterations (each ~75 simulations per seed)."
    ),
    margin_weight: float = typer.Option(
        0.0,
        "--margin-weight",
        min=0.0,
        help="lm: weight of the hinge that pushes every target inside 0.8 of its 100x tolerance "
        "(0 = plain Huber; use for refining near the optimum, e.g. 3).",
    ),
    workers: int = typer.Option(2, "--workers", min=1, help="lm: parallel worker processes."),
) -> None:
    """Fit the model parameters by simulation and write parameters.yaml (takes minutes; lm at
    100x: about 5 minutes per Jacobian on 2 cores)."""
    from postcart.synth.calibrate import calibrate, write_calibrated
    from postcart.synth.fit import fit
    from postcart.synth.parameters import PARAMETERS_FILE

    if len(seed) > 1 and method is not CalibrationMethod.lm:
        raise typer.BadParameter("several seeds need --method lm", param_hint="--seed")
    if len(set(seed)) != len(seed):
        raise typer.BadParameter(f"the seeds must be distinct, got {seed}", param_hint="--seed")
    start = SynthParameters.start_values() if from_start else None

    def say(s: str) -> None:
        typer.echo(s, err=True)

    if method is CalibrationMethod.lm:
        # a run started in the background by a shell script inherits SIGINT ignored; restore
        # Python's handler so that `kill -INT PID` stops it and keeps its best point, as Ctrl-C does
        signal.signal(signal.SIGINT, signal.default_int_handler)
        result = fit(
            start=start,
            scale=scale,
            seed=tuple(seed),
            max_jacobians=jacobians,
            margin_weight=margin_weight,
            workers=workers,
            progress=say,
        )
    else:
        result = calibrate(start=start, scale=scale, seed=seed[0], iterations=iterations, progress=say)
    path = write_calibrated(result, out or PARAMETERS_FILE)
    k = max(1, len(result.seeds))
    n = result.iterations
    sims = f"{n} simulations" if k == 1 else f"{n} points on {k} seeds, {n * k} simulations"
    took = f"{sims} ({result.method}, {result.elapsed_seconds:.0f} s)"
    typer.echo(f"wrote {path} after {took}")


def register(app: typer.Typer) -> None:
    """Add the ``synth`` group to ``app``."""
    app.add_typer(synth_app, name="synth")
