#!/usr/bin/env bash
# Run sora-mock's benchmarks from a fresh clone: sets up .venv if missing (make install),
# installs wrk from Debian's packages if missing, builds .venv-bench with the `fast` extra
# (uvicorn[standard]) for the httptools stack, then runs `python -m bench "$@"`.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  make install
fi
exec .venv/bin/python -m bench "$@"
