"""Where the files shipped with sora-mock live (the spec, the JSON Schemas, the live page)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

_PACKAGE = Path(__file__).resolve().parent.parent


def spec_dir() -> Path:
    """The folder holding the OpenAPI files: ``sora_mock/_spec`` in a wheel, else ``spec/``."""
    bundled = _PACKAGE / "_spec"
    return bundled if bundled.is_dir() else _PACKAGE.parent / "spec"


#: The bundled OpenAPI documents, one per model, merged in this order.
BUNDLED_SPECS = ("sora-character.yaml", "sora-2-preview.yaml")


def spec_paths() -> tuple[Path, ...]:
    """The bundled OpenAPI documents (the default contract is their merge)."""
    return tuple(spec_dir() / name for name in BUNDLED_SPECS)


def spec_path() -> Path:
    """The first bundled OpenAPI document."""
    return spec_paths()[0]


def defaults_path() -> Path:
    """The mock's declarative behaviour defaults."""
    return spec_dir() / "mock-defaults.yaml"


def admin_spec_path() -> Path:
    """The OpenAPI description of the mock's own routes under ``/__mock/``."""
    return spec_dir() / "mock-admin.yaml"


@cache
def sample_video() -> bytes:
    """The small real MP4 shipped in ``sora_mock/data``, which video file links serve."""
    return (_PACKAGE / "data" / "sample.mp4").read_bytes()


#: The files of the live page the mock serves under ``/__mock/`` (in ``sora_mock/data/live``).
LIVE_PAGE_FILES = ("index.html", "live.js", "live.css")


@cache
def live_page_file(name: str) -> bytes:
    """A file of the live page (one of :data:`LIVE_PAGE_FILES`), read once."""
    if name not in LIVE_PAGE_FILES:
        raise ValueError(f"the live page has no file {name!r}")
    return (_PACKAGE / "data" / "live" / name).read_bytes()


def builtin_scenarios_path() -> Path:
    """The YAML file of built-in scenarios beyond the documented errors."""
    return _PACKAGE / "data" / "builtin-scenarios.yaml"


def example_scenarios_path() -> Path:
    """The example scenario file ``sora-mock scenarios example`` prints (the repository's
    ``examples/scenarios/unhappy-paths.yaml`` holds the same text)."""
    return _PACKAGE / "data" / "example-scenarios.yaml"


@cache
def json_schema(name: str) -> dict[str, Any]:
    """A JSON Schema shipped in ``sora_mock/schemas`` (``name`` without ``.schema.json``)."""
    path = _PACKAGE / "schemas" / f"{name}.schema.json"
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded
