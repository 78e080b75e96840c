"""The browser fixture itself: a page loads, its text and console errors are read."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tests.browser.conftest import console_errors, screenshot

if TYPE_CHECKING:
    from selenium.webdriver import Chrome as WebDriver


def test_a_local_page_renders_and_its_console_errors_are_seen(
    browser: WebDriver, tmp_path: Path
) -> None:
    page = tmp_path / "page.html"
    page.write_text("<p id=greeting>hello</p><script>console.error('broken')</script>")
    browser.get(page.as_uri())
    assert browser.find_element("id", "greeting").text == "hello"
    errors = console_errors(browser)
    assert len(errors) == 1
    assert "broken" in errors[0]["message"]
    assert screenshot(browser, tmp_path, "page").stat().st_size > 0
