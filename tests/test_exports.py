from __future__ import annotations

import importlib
import inspect
import subprocess
import sys

import pytest

import sora_mock


def test_all_matches_the_public_names() -> None:
    public = {name for name in dir(sora_mock) if not name.startswith("_")} | {"__version__"}
    assert set(sora_mock.__all__) == public
    for name in sora_mock.__all__:
        assert getattr(sora_mock, name) is not None


def test_importing_the_package_is_light() -> None:
    code = (
        "import sys, sora_mock; heavy = {'uvicorn', 'openapi_core', 'jsonschema_rs', 'httpx', "
        "'hypothesis', 'yaml'} & set(sys.modules); print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_all_lists_exactly_the_lazy_exports() -> None:
    assert set(sora_mock.__all__) - {"__version__"} == set(sora_mock._EXPORTS)


LAYERS = ("contract", "engine", "server", "inprocess", "checker", "conformance")


@pytest.mark.parametrize("layer", LAYERS)
def test_each_layer_exports_exactly_what_its_init_imports(layer: str) -> None:
    package = importlib.import_module(f"sora_mock.{layer}")
    public = {
        name
        for name, value in vars(package).items()
        if not name.startswith("_") and not inspect.ismodule(value) and name != "annotations"
    }
    lazy = set(getattr(package, "_EXPORTS", {}))  # a package that loads names on first use
    assert set(package.__all__) == public | lazy
    for name in package.__all__:
        assert getattr(package, name) is not None
