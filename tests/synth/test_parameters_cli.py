"""The parameter file (one documented file, produced by calibration) and the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from postcart.cli.main import app
from postcart.errors import SpecError
from postcart.synth.parameters import (
    PARAMETER_SPECS,
    PARAMETERS_FILE,
    SynthParameters,
    dump_parameters,
    load_parameters,
)


def test_packaged_parameter_file_says_it_was_produced_by_calibration() -> None:
    text = PARAMETERS_FILE.read_text(encoding="utf-8")
    assert "PRODUCED BY CALIBRATION" in text.splitlines()[1]
    params = load_parameters()
    assert "calibrate" in str(params.meta["produced_by"])
    assert set(params.values) == {s.name for s in PARAMETER_SPECS}


def test_every_parameter_is_documented_in_the_file() -> None:
    doc = yaml.safe_load(PARAMETERS_FILE.read_text(encoding="utf-8"))
    assert all(entry["doc"] for entry in doc["parameters"].values())


def test_unknown_missing_and_out_of_bounds_parameters_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    dump_parameters(SynthParameters.start_values(), path, header="test")
    doc = yaml.safe_load(path.read_text())
    doc["parameters"]["nonsense"] = {"value": 1.0}
    del doc["parameters"]["p_male"]
    doc["parameters"]["age_sd"]["value"] = -3.0
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(SpecError) as err:
        load_parameters(path)
    msg = str(err.value)
    assert "unknown parameter 'nonsense'" in msg
    assert "missing parameter 'p_male'" in msg
    assert "parameter 'age_sd': -3.0 outside [1.0, 30.0]" in msg


def test_fill_missing_takes_the_start_value(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    dump_parameters(SynthParameters.start_values(), path, header="test")
    doc = yaml.safe_load(path.read_text())
    del doc["parameters"]["p_male"]
    path.write_text(yaml.safe_dump(doc))
    assert load_parameters(path, fill_missing=True)["p_male"] == 0.64


def test_cli_generate_writes_every_table(tmp_path: Path) -> None:
    out = tmp_path / "extract"
    result = CliRunner().invoke(app, ["synth", "generate", "--n", "60", "--seed", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f"{t}.csv"
        for t in (
            "extract",
            "centres",
            "patients",
            "characteristics",
            "bridging",
            "infusions",
            "assessments",
            "toxicities",
            "disease_events",
            "treatment_lines",
            "vital_status",
        )
    )


def test_cli_generate_refuses_to_overwrite_a_folder_with_other_files(tmp_path: Path) -> None:
    out = tmp_path / "extract"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    result = CliRunner().invoke(app, ["synth", "generate", "--n", "10", "--out", str(out)])
    assert result.exit_code == 1
    assert "notes.txt" in result.output
    assert (out / "notes.txt").read_text() == "keep me"


def test_cli_calibrate_writes_a_parameter_file_headed_as_calibrated(tmp_path: Path) -> None:
    out = tmp_path / "params.yaml"
    result = CliRunner().invoke(
        app,
        [
            "synth",
            "calibrate",
            "--method",
            "fixed-point",
            "--scale",
            "1",
            "--iterations",
            "1",
            "--seed",
            "5",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "PRODUCED BY CALIBRATION" in text and "seed 5" in text
    params = load_parameters(out)
    assert params.meta["seed"] == 5 and params.meta["iterations"] == 1


def test_docs_parameter_table_matches_the_committed_parameters() -> None:
    import re
    from pathlib import Path

    from postcart.synth.calibrate import parameter_table

    doc = (Path(__file__).resolve().parents[2] / "docs" / "synth.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- BEGIN parameters -->\n(.*?)\n<!-- END parameters -->", doc, re.S)
    assert block is not None, "docs/synth.md has no parameters block"
    assert block.group(1) == parameter_table(), (
        "docs/synth.md is stale: run `.venv/bin/python scripts/synth_docs.py --params-only`"
    )


def _toy_evaluator(theta_star: float, k: float):  # type: ignore[no-untyped-def]
    """A stand-in for the pipeline: the infused share answers logit_dropout k times too steeply."""
    import math

    from postcart.synth.check import TargetCheck

    paper = 80.9
    lp = math.log(paper / (100 - paper))

    def evaluate(params):  # type: ignore[no-untyped-def]
        x = lp - k * (params["logit_dropout"] - theta_star)
        sim = 100 / (1 + math.exp(-x))
        return (TargetCheck("pop_infused", "count", "", "", "", "", None, paper, sim),)

    return evaluate


def test_calibration_backtracks_from_the_best_point_and_clips_before_halving() -> None:
    from postcart.synth.calibrate import calibrate
    from postcart.synth.parameters import load_parameters

    start = load_parameters()
    theta_star = start["logit_dropout"] - 0.12  # the start is 0.12 too high
    result = calibrate(start=start, iterations=6, evaluate=_toy_evaluator(theta_star, k=3.0))
    moves = [row["logit_dropout"] - start["logit_dropout"] for row in result.trace]
    accepted = [bool(row["accepted"]) for row in result.trace]
    # step 1: gap 3 * 0.12 = 0.36, clipped to the largest move 0.3 -> error -0.18, worse: rejected
    assert moves[1] == pytest.approx(-0.3) and accepted[1] is False
    # step 2: the clipped step halved, from the start again (not -0.18: clip first, then halve)
    assert moves[2] == pytest.approx(-0.15) and accepted[2] is True
    # step 3: from the new best (error -0.03): +0.09 scaled by the factor 0.75 -> error +0.0375
    assert moves[3] == pytest.approx(-0.15 + 0.75 * 0.09) and accepted[3] is False
    # step 4: retried from the best point at half that factor
    assert moves[4] == pytest.approx(-0.15 + 0.375 * 0.09)
    best = min(range(len(moves)), key=lambda i: result.trace[i]["loss"])
    assert result.params["logit_dropout"] == pytest.approx(start["logit_dropout"] + moves[best])
    assert result.accepted_steps == sum(accepted[1:])
    assert result.params.meta["best_mean_squared_gap"] == round(min(r["loss"] for r in result.trace), 5)


def test_calibration_counts_a_target_it_cannot_estimate_as_a_large_gap() -> None:
    from postcart.synth.calibrate import CALIBRATION_MAP, MISSING_PENALTY, _gaps
    from postcart.synth.check import TargetCheck

    present = (TargetCheck("pop_infused", "count", "", "", "", "", None, 80.9, 80.9),)
    missing = (TargetCheck("pop_infused", "count", "", "", "", "", None, 80.9, None),)
    # every other mapped target is absent in both; pop_infused fits exactly (gap 0) or is lost
    loss_present, loss_missing = _gaps(present)[0], _gaps(missing)[0]
    assert loss_missing - loss_present == pytest.approx(MISSING_PENALTY / len(CALIBRATION_MAP))
    assert [step.param for step, _ in _gaps(present)[3]] == ["logit_dropout"]
    assert _gaps(missing)[3] == []  # no move on a target the simulation could not estimate


def test_cli_calibrate_refuses_an_unknown_method(tmp_path: Path) -> None:
    out = tmp_path / "params.yaml"
    result = CliRunner().invoke(app, ["synth", "calibrate", "--method", "newton", "--out", str(out)])
    assert result.exit_code == 2  # a usage error, before any simulation
    assert "newton" in result.output and "fixed-point" in result.output
    assert not out.exists()


def test_cli_calibrate_refuses_several_seeds_without_the_joint_fit_or_a_seed_twice(tmp_path: Path) -> None:
    out = tmp_path / "params.yaml"
    args = ["synth", "calibrate", "--method", "fixed-point", "--seed", "1", "--seed", "2", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2  # a usage error, before any simulation
    assert "several seeds need --method lm" in result.output
    assert not out.exists()
    twice = CliRunner().invoke(app, ["synth", "calibrate", "--seed", "3", "--seed", "3", "--out", str(out)])
    assert twice.exit_code == 2 and "distinct" in twice.output
    assert not out.exists()


@pytest.mark.parametrize("seeds", [("5",), ("5", "6")])
def test_cli_lm_calibration_started_in_the_background_stops_on_sigint_and_writes_its_best_point(
    tmp_path: Path, seeds: tuple[str, ...]
) -> None:
    """End to end, ``postcart synth calibrate --method lm`` as a shell script's background job
    runs: SIGINT is ignored at start (what ``cmd &`` does without job control). ``kill -INT``
    must still stop it, during its first Jacobian, and write the best point evaluated so far
    (the start, the only point finished), marked as interrupted. With ``--seed`` repeated the
    file says which seeds, and its loss is the mean of the seeds' losses at the start."""
    import signal
    import subprocess
    import sys

    out = tmp_path / "p.yaml"
    code = "from postcart.cli.main import app; app()"
    seed_args = [a for s in seeds for a in ("--seed", s)]
    args = ["synth", "calibrate", "--scale", "1", "--jacobians", "1", *seed_args, "--out", str(out)]
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if line.startswith("Jacobian:"):
            proc.send_signal(signal.SIGINT)
            break
    stdout, rest = proc.communicate(timeout=600)
    assert proc.returncode == 0, "".join(seen) + rest
    assert "interrupted" in rest and f"wrote {out}" in stdout
    params = load_parameters(out)
    assert "interrupted" in str(params.meta["stopped"]) and params.meta["iterations"] == 1
    if len(seeds) > 1:
        from postcart.synth.calibrate import pipeline_evaluator
        from postcart.synth.check import load_paper_targets
        from postcart.synth.fit import objective, residual_ids, scaled_residuals

        assert params.meta["seeds"] == [5, 6] and "seeds 5, 6" in out.read_text(encoding="utf-8")
        # the loss written is the mean over the seeds of each seed's own loss (margin weight 0);
        # each seed's registry is simulated afresh here, in this process
        paper = load_paper_targets()
        losses = []
        for s in (5, 6):
            checks = pipeline_evaluator(1, s)(params)
            losses.append(objective(scaled_residuals(checks, residual_ids(checks), paper)))
        assert params.meta["start_huber_loss"] == pytest.approx(sum(losses) / 2, abs=2e-3)
    committed = load_parameters()
    for name, value in committed.values.items():
        # the fit starts strictly inside the bounds (a value on a bound moves in by ~1e-6)
        assert params[name] == pytest.approx(value, rel=1e-5, abs=1e-5), name
