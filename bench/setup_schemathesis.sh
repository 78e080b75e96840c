#!/usr/bin/env bash
# Installs Schemathesis for the benchmark only, in its own venv (never a sora-mock dependency).
set -euo pipefail
cd "$(dirname "$0")"
PYTHON="${PYTHON:-python3}"
test -x .venv-schemathesis/bin/python || "$PYTHON" -m venv .venv-schemathesis
.venv-schemathesis/bin/python -m pip install --quiet --upgrade pip
.venv-schemathesis/bin/python -m pip install --quiet "schemathesis>=4,<5"
.venv-schemathesis/bin/schemathesis --version
