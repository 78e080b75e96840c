"""The plugin's spec: ``--sora-spec``, the ``sora_spec`` ini key, ``SORA_MOCK_SPEC``, the marker."""

from __future__ import annotations

import os

import pytest

from tests.made_up import BODY, FILE_NAME, MODEL, write_made_up_model

BUNDLED_MODELS = ["sora-character", "sora-2-preview"]

USES_THE_SPEC = f"""
import httpx
import pytest

BODY = {BODY!r}
AUTH = {{"Authorization": "Bearer sk-user-12345678"}}


def test_the_fixtures_mock_the_spec(sora_spec, sora_api, sora_server, expected_models):
    assert list(sora_spec.tasks.models) == expected_models
    for api in (sora_api, sora_server):
        assert api.contract is sora_spec
        url = f"{{api.base_url}}/v1/videos/generations"
        assert httpx.post(url, json=BODY, headers=AUTH).status_code == 200
"""


def _expect(pytester: pytest.Pytester, models: list[str]) -> None:
    pytester.makeconftest(
        f"""
        import pytest

        @pytest.fixture
        def expected_models():
            return {models!r}
        """
    )
    pytester.makepyfile(USES_THE_SPEC)


def test_the_option_names_the_spec(pytester: pytest.Pytester) -> None:
    write_made_up_model(pytester.path)
    _expect(pytester, [MODEL])
    result = pytester.runpytest(f"--sora-spec={FILE_NAME}", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_the_option_repeats_and_bundled_names_the_shipped_documents(
    pytester: pytest.Pytester,
) -> None:
    write_made_up_model(pytester.path)
    _expect(pytester, [*BUNDLED_MODELS, MODEL])
    result = pytester.runpytest("--sora-spec=bundled", f"--sora-spec={FILE_NAME}")
    result.assert_outcomes(passed=1)


def test_the_ini_key_names_the_spec_relative_to_the_ini_file(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_made_up_model(pytester.mkdir("specs"))
    pytester.makeini(f"[pytest]\nsora_spec =\n    bundled\n    specs/{FILE_NAME}\n")
    _expect(pytester, [*BUNDLED_MODELS, MODEL])
    monkeypatch.chdir(pytester.mkdir("elsewhere"))  # not where the ini file is
    result = pytester.runpytest(str(pytester.path))
    result.assert_outcomes(passed=1)
    # The option wins over the ini key (relative to where pytest runs).
    write_made_up_model(pytester.path / "elsewhere")
    _expect(pytester, [MODEL])
    result = pytester.runpytest(f"--sora-spec={FILE_NAME}", str(pytester.path))
    result.assert_outcomes(passed=1)


def test_the_environment_names_the_default_spec(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = write_made_up_model(pytester.path)
    monkeypatch.setenv("SORA_MOCK_SPEC", os.pathsep.join(["bundled", str(spec)]))
    _expect(pytester, [*BUNDLED_MODELS, MODEL])
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)


def test_the_marker_names_a_spec_for_one_test(pytester: pytest.Pytester) -> None:
    write_made_up_model(pytester.path)
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.mark.sora(spec="{FILE_NAME}")
        def test_marked(sora_api, sora_server, sora_spec):
            for api in (sora_api, sora_server):
                assert list(api.contract.tasks.models) == ["{MODEL}"]
            assert list(sora_spec.tasks.models) == {BUNDLED_MODELS!r}

        def test_unmarked(sora_api):
            assert list(sora_api.contract.tasks.models) == {BUNDLED_MODELS!r}
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=2)


def test_a_missing_spec_file_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--sora-spec=nope.yaml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--sora-spec: no such file: *nope.yaml*"])
    pytester.makeini("[pytest]\nsora_spec = gone.yaml\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*the sora_spec ini key: no such file: *gone.yaml*"])


def test_a_broken_spec_fails_the_tests_that_use_it_naming_its_place(
    pytester: pytest.Pytester,
) -> None:
    pytester.makefile(".yaml", broken="openapi: 3.1.0\ninfo:\n  title: [x\n")
    pytester.makepyfile(
        """
        def test_uses_the_mock(sora_api):
            pass

        def test_does_not(sora_seed):
            pass
        """
    )
    result = pytester.runpytest("--sora-spec=broken.yaml")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*SpecError: *broken.yaml:4:*"])
