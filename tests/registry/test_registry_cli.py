"""The ``import``/``export``/``registry`` commands: exit codes, reports, defaults."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from postcart.cli.main import app

BROKEN = Path(__file__).resolve().parents[2] / "examples" / "broken"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_import_then_export_through_the_cli(runner: CliRunner, sample: Path, tmp_path: Path) -> None:
    db = str(tmp_path / "r.sqlite")
    ok = runner.invoke(app, ["import", str(sample), "--db", db])
    assert ok.exit_code == 0, ok.output
    out = tmp_path / "out"
    exp = runner.invoke(app, ["export", "--format", "csv", "--out", str(out), "--db", db])
    assert exp.exit_code == 0, exp.output
    assert (out / "patients.csv").read_text().startswith("patient_id,centre_id,sex,")


def test_validation_errors_exit_1_with_a_json_report(runner: CliRunner, tmp_path: Path) -> None:
    db = tmp_path / "r.sqlite"
    report = tmp_path / "report.json"
    res = runner.invoke(
        app,
        [
            "import",
            str(BROKEN / "date"),
            "--db",
            str(db),
            "--report-format",
            "json",
            "--report-out",
            str(report),
        ],
    )
    assert res.exit_code == 1
    issues = json.loads(report.read_text())
    assert [(i["file"], i["row"], i["field"], i["rule"]) for i in issues] == [
        ("patients.csv", 4, "decision_date", "date")
    ]
    assert not db.exists()  # nothing written, not even an empty database


def test_file_level_errors_exit_1_with_a_csv_report(runner: CliRunner, tmp_path: Path) -> None:
    res = runner.invoke(
        app,
        [
            "import",
            str(BROKEN / "identifier_column"),
            "--db",
            str(tmp_path / "r.sqlite"),
            "--report-format",
            "csv",
        ],
    )
    assert res.exit_code == 1
    assert "identifier_column" in res.stdout.splitlines()[1]


def test_usage_errors_exit_2(runner: CliRunner, tmp_path: Path) -> None:
    assert runner.invoke(app, ["import", str(tmp_path / "nope")]).exit_code == 2
    assert runner.invoke(app, ["import", str(tmp_path), "--report-format", "pdf"]).exit_code == 2
    assert runner.invoke(app, ["export", "--format", "xlsx", "--out", str(tmp_path / "x.csv")]).exit_code == 2


def test_default_database_is_postcart_db_env_then_dot_postcart(
    runner: CliRunner, sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("POSTCART_DB", raising=False)
    assert runner.invoke(app, ["import", str(sample)]).exit_code == 0
    assert (tmp_path / ".postcart" / "registry.sqlite").exists()
    monkeypatch.setenv("POSTCART_DB", str(tmp_path / "env.sqlite"))
    assert runner.invoke(app, ["import", str(sample), "--dry-run"]).exit_code == 0
    assert not (tmp_path / "env.sqlite").exists()  # a dry run creates nothing
    assert runner.invoke(app, ["import", str(sample)]).exit_code == 0
    assert (tmp_path / "env.sqlite").exists()


def test_warnings_are_reported_and_do_not_block(runner: CliRunner, tmp_path: Path) -> None:
    res = runner.invoke(app, ["import", str(BROKEN / "after_cutoff"), "--db", str(tmp_path / "r.sqlite")])
    assert res.exit_code == 0
    assert "[rule: after_cutoff]" in res.stdout


def test_an_unreachable_database_is_a_clear_error_not_a_traceback(runner: CliRunner, sample: Path) -> None:
    res = runner.invoke(app, ["import", str(sample), "--db", "postgresql+psycopg://u:secret@127.0.0.1:1/x"])
    assert res.exit_code == 1
    assert res.exception is None or isinstance(res.exception, SystemExit)
    assert "cannot open the registry database postgresql+psycopg://u:***@127.0.0.1:1/x" in res.stderr
    assert "secret" not in res.output


def test_export_without_a_registry_says_to_import_first(runner: CliRunner, tmp_path: Path) -> None:
    res = runner.invoke(app, ["export", "--out", str(tmp_path / "o"), "--db", str(tmp_path / "none.sqlite")])
    assert res.exit_code == 1
    assert "import an extract first" in res.stderr


def test_registry_check_validates_without_a_database(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    bad = runner.invoke(app, ["registry", "check", str(BROKEN / "range")])
    assert bad.exit_code == 1
    assert "[rule: range]" in bad.stdout
    good = runner.invoke(app, ["registry", "check", str(BROKEN / "after_cutoff")])
    assert good.exit_code == 0
    assert "0 error(s), 1 warning(s), 12 patient(s)" in good.stderr
    assert not (tmp_path / ".postcart").exists()
