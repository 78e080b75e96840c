"""The benchmark's own setup: wrk and valgrind from Debian's packages, uvicorn[standard]
in its own venv.

The project's ``.venv`` stays as ``make install`` made it (pure-Python h11 and asyncio), so
installing the fast extra for a benchmark never changes what the test suite runs on.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from bench.common import ROOT, log, run

FAST_VENV = ROOT / ".venv-bench"
_STAMP = FAST_VENV / ".installed-stamp"


def ensure_wrk() -> str:
    """The path of ``wrk``, installing Debian's package first when it is missing."""
    return _ensure_debian_program("wrk", "wrk")


def ensure_valgrind() -> str:
    """The path of ``valgrind`` (with ``callgrind_control``), installed likewise."""
    _ensure_debian_program("callgrind_control", "valgrind")
    return _ensure_debian_program("valgrind", "valgrind")


def _ensure_debian_program(program: str, package: str) -> str:
    found = shutil.which(program)
    if found:
        return found
    if not shutil.which("apt-get"):
        raise SystemExit(f"bench: {program} is missing and apt-get is not available")
    prefix = [] if os.geteuid() == 0 else ["sudo", "-n"]
    log(f"{program} is missing: installing {package} from Debian's packages (apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for step in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", package]):
        done = subprocess.run([*prefix, *step], env=env, check=False, capture_output=True)
        if done.returncode != 0:
            tail = done.stderr.decode(errors="replace").strip()[-400:]
            raise SystemExit(f"bench: {' '.join(step)} failed: {tail}")
    found = shutil.which(program)
    if not found:
        raise SystemExit(f"bench: apt-get installed {package} but {program} is not on PATH")
    return found


def fast_python() -> Path:
    """A Python whose uvicorn has httptools and uvloop (the project's ``fast`` extra)."""
    python = FAST_VENV / "bin" / "python"
    pyproject = ROOT / "pyproject.toml"
    fresh = _STAMP.exists() and _STAMP.stat().st_mtime >= pyproject.stat().st_mtime
    if python.exists() and fresh:
        return python
    log(f"creating {FAST_VENV.name} with the 'fast' extra (uvicorn[standard])")
    if not python.exists():
        run([sys.executable, "-m", "venv", str(FAST_VENV)])
    run([str(python), "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[fast]"])
    run([str(python), "-c", "import httptools, uvloop"])
    _STAMP.touch()
    return python


def project_python() -> Path:
    """The interpreter running the benchmark (the project's ``.venv``)."""
    return Path(sys.executable)
