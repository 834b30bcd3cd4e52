#!/usr/bin/env bash
# Set up everything postcart needs on a fresh Debian machine.
#   scripts/setup.sh            Python virtual environment in .venv with postcart and its extras
#   scripts/setup.sh --system   also the Debian packages the test suite uses:
#                               R + survival + cmprsk (live comparisons), PostgreSQL (storage tests),
#                               Chromium (browser test of report.html)
# Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${1:-}" == "--system" ]]; then
  need=()
  command -v Rscript >/dev/null || need+=(r-base-core r-cran-survival r-cran-cmprsk)
  if command -v Rscript >/dev/null && ! Rscript -e 'library(survival); library(cmprsk)' >/dev/null 2>&1; then
    need+=(r-cran-survival r-cran-cmprsk)
  fi
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
  command -v chromium >/dev/null || need+=(chromium)
  fc-list 2>/dev/null | grep -qi dejavu || need+=(fonts-dejavu-core)
  if ((${#need[@]})); then
    if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; else SUDO=; fi
    echo "setup: installing Debian packages: ${need[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
  fi
fi

if [[ ! -x .venv/bin/python ]]; then
  echo "setup: creating .venv"
  python3 -m venv .venv
fi
stamp=.venv/.postcart-installed
if [[ ! -f $stamp || pyproject.toml -nt $stamp ]]; then
  echo "setup: installing postcart and its Python dependencies into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[dev]"
  touch "$stamp"
fi
