"""``postcart report`` and ``postcart compare-paper`` end to end on a small synthetic registry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from postcart.cli.main import app
from postcart.registry import import_extract
from postcart.synth.generate import generate_registry


@pytest.fixture(scope="module")
def small_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    tmp = tmp_path_factory.mktemp("db")
    folder = generate_registry(250, seed=11).write(tmp / "extract")
    db = tmp / "registry.sqlite"
    import_extract(folder, str(db))
    return str(db)


@pytest.mark.slow
def test_report_command_writes_the_report_and_compare_paper_reads_it(small_db: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    runner = CliRunner()
    res = runner.invoke(app, ["report", "--db", small_db, "--out", str(out), "--profile", "r"])
    assert res.exit_code == 0, res.output
    doc = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert doc["conventions"]["profile"] == "r" and doc["conventions"]["ties"] == "efron"
    assert doc["targets"]["pop_registered"]["value"] == 250
    assert doc["data"]["cutoff"] is not None
    # no patient id of the registry appears in any output file
    from postcart.registry import load_registry

    ids = set(load_registry(small_db).patients["patient_id"].astype(str))
    for path in out.rglob("*"):
        if path.suffix in (".html", ".json", ".csv", ".svg"):
            text = path.read_text(encoding="utf-8")
            assert not any(pid in text for pid in ids), path.name
    cmp = runner.invoke(app, ["compare-paper", str(out)])
    assert cmp.exit_code == 0, cmp.output
    assert "surv_os2_median" in cmp.output and "compared targets inside" in cmp.output


def test_report_command_rejects_a_bad_cutoff(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["report", "--cutoff", "2021-13-01", "--out", str(tmp_path / "o")])
    assert res.exit_code != 0
    assert "2021-13-01" in res.output
