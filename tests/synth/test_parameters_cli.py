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
        app, ["synth", "calibrate", "--scale", "1", "--iterations", "1", "--seed", "5", "--out", str(out)]
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


def test_calibration_returns_the_best_point_evaluated_and_backtracks_from_it() -> None:
    from postcart.synth.calibrate import calibrate

    result = calibrate(scale=1, iterations=4, seed=5)
    losses = [row["loss"] for row in result.trace]
    assert len(losses) == result.iterations == 4
    assert result.params.meta["best_mean_squared_gap"] == round(min(losses), 5)
    # every proposal after a rejection starts from the best point: a rejected point never becomes
    # the origin, so the best loss so far never increases and the returned values are the best's
    best_index = losses.index(min(losses))
    for name in ("logit_relapse", "mu_refractory_days"):
        assert result.params[name] == result.trace[best_index][name]
