# The two commands of the README:
#   make report   set up, then build the study report on the built-in synthetic registry -> out/report/
#   make test     set up (Python, R, PostgreSQL, Chromium), lint (ruff, mypy --strict), run every test
.PHONY: report test lint bench setup

setup:
	scripts/setup.sh

report: setup
	.venv/bin/postcart report --out out/report

test:
	scripts/setup.sh --system
	.venv/bin/ruff check src tests benchmarks
	.venv/bin/mypy
	scripts/with-postgres.sh .venv/bin/python -m pytest -q

lint:
	scripts/setup.sh
	.venv/bin/ruff check src tests benchmarks
	.venv/bin/mypy

bench: setup
	.venv/bin/python -m benchmarks
