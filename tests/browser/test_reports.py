"""The HTML reports in a real browser: they load offline with no console error, the matrix
and the timelines render, and what the server said shows as text, never as markup."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from sora_mock.checker import html_page as check_html
from sora_mock.conformance import html_page as conform_html
from tests.browser.conftest import console_errors, screenshot
from tests.html.reports import SCRIPT, ScriptInErrors, checked, ignores_retry_after

if TYPE_CHECKING:
    from selenium.webdriver import Chrome as WebDriver

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("reports")
    found = {
        "check": folder / "check.html",
        "conform": folder / "conform.html",
    }
    found["check"].write_text(check_html(checked(ScriptInErrors())), encoding="utf-8")
    found["conform"].write_text(conform_html(ignores_retry_after()), encoding="utf-8")
    return found


@pytest.mark.parametrize("report", ["check", "conform"])
def test_a_report_renders_its_matrix_and_timelines_offline(
    report: str, pages: dict[str, Path], browser: WebDriver, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    console_errors(browser)  # empty the log of earlier pages
    browser.get(pages[report].as_uri())
    assert console_errors(browser) == []
    cells = browser.find_elements(By.CSS_SELECTOR, "table.matrix td")
    assert cells
    broken = browser.find_elements(By.CSS_SELECTOR, "table.matrix td.broken")
    assert broken
    assert all(cell.text == "✗ broken" for cell in broken)
    assert all(cell.size["width"] > 0 and cell.size["height"] > 0 for cell in broken)
    timelines = browser.find_elements(By.CSS_SELECTOR, "svg.timeline")
    assert timelines
    for svg in timelines:
        assert svg.size["width"] > 0
        assert svg.size["height"] > 0
    mark = browser.find_element(By.CSS_SELECTOR, "svg.timeline circle.mark")
    assert mark.size["width"] > 0
    # Nothing is fetched: no script, no resource, no src/href off the page.
    assert browser.execute_script("return document.scripts.length") == 0
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
    references = browser.execute_script(
        "return [...document.querySelectorAll('[src],[href]')]"
        ".map(e => e.getAttribute('src') || e.getAttribute('href'))"
    )
    assert all(ref.startswith("#") for ref in references), references
    assert screenshot(browser, tmp_path, report).stat().st_size > 0


def test_a_script_the_server_sent_shows_as_text(pages: dict[str, Path], browser: WebDriver) -> None:
    from selenium.webdriver.common.by import By

    browser.get(pages["check"].as_uri())
    responses = browser.find_elements(By.CSS_SELECTOR, "pre.response")
    assert any(SCRIPT in block.text for block in responses)
    assert console_errors(browser) == []
