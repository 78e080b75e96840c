"""The live page at /__mock/ in a real browser, against a real ``sora-mock serve``."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.browser.conftest import console_errors, screenshot
from tests.helpers import CREATE_PATH, TOKEN, VALID_BODY, serve_command

if TYPE_CHECKING:
    from selenium.webdriver import Chrome as WebDriver

pytestmark = pytest.mark.slow
EVIL = '<img src=x onerror="document.title=1">'


#: Tasks that stay in each state for an hour of mock time, on a clock at real speed: only the
#: page's "advance clock" moves them.
SLOW = "clock: {speed: 1}\nlifecycle: {pending_seconds: 3600, processing_seconds: 3600}\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    config = tmp_path_factory.mktemp("live-page") / "slow.yaml"
    config.write_text(SLOW)
    with serve_command("--config", str(config)) as (_, url):
        yield url


def _until(what: str, check: Callable[[], bool], seconds: float = 10.0) -> None:
    """Poll ``check`` until it holds, failing the test after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _status_of(browser: WebDriver, task_id: str) -> str:
    """The status cell's text (read in the page: a refresh may replace the row at any time)."""
    script = (
        'const cell = document.querySelector(`#tasks tr[data-task-id="${arguments[0]}"] '
        ".status`); return cell ? cell.textContent : '';"
    )
    text: str = browser.execute_script(script, task_id)
    return text


def _journal_statuses(browser: WebDriver) -> list[str]:
    script = (
        "return [...document.querySelectorAll('#journal tr[data-seq]')]"
        ".map((row) => row.cells[3].textContent);"
    )
    statuses: list[str] = browser.execute_script(script)
    return statuses


def test_the_page_shows_moves_and_resets_a_task(
    browser: WebDriver, server: str, tmp_path: Path
) -> None:
    headers = {"authorization": f"Bearer {TOKEN}"}
    created = httpx.post(server + CREATE_PATH, json=VALID_BODY, headers=headers, timeout=10)
    task_id = created.json()["id"]
    refused = httpx.post(server + CREATE_PATH, json={"model": EVIL}, headers=headers, timeout=10)
    assert refused.status_code == 400

    browser.get(server + "/__mock/")
    _until("the task", lambda: _status_of(browser, task_id) == "pending")
    assert console_errors(browser) == []
    # From here on the page refreshes after each click only, so elements stay put.
    browser.find_element("id", "auto").click()

    # The refused create's bodies (the latest entry), markup in them shown as text, the
    # token masked.
    toggle = browser.find_element("css selector", "#journal tbody tr[data-seq] button")
    toggle.click()
    _until("the bodies", lambda: bool(browser.find_elements("css selector", "pre.body")))
    shown = " ".join(p.text for p in browser.find_elements("css selector", "pre"))
    assert EVIL.replace('"', '\\"') in shown
    assert TOKEN not in browser.page_source
    assert not browser.find_elements("css selector", "#journal img")
    assert browser.title == "sora-mock"

    # Filters go to the journal route: only the create of the task is left.
    browser.find_element("id", "filter-task").send_keys(task_id)
    _until("the filtered journal", lambda: _journal_statuses(browser) == ["200"])
    browser.find_element("id", "filter-task").clear()
    browser.find_element("id", "filter-status").send_keys("4xx")
    _until("the 4xx entries", lambda: _journal_statuses(browser) == ["400"])

    seconds = browser.find_element("id", "advance-seconds")
    seconds.clear()
    seconds.send_keys("3700")
    browser.find_element("id", "advance").click()
    _until("processing", lambda: _status_of(browser, task_id) == "processing")
    seconds.clear()
    seconds.send_keys("3600")
    browser.find_element("id", "advance").click()
    _until("completed", lambda: _status_of(browser, task_id) == "completed")
    assert screenshot(browser, tmp_path, "live-page").stat().st_size > 0

    browser.find_element("id", "reset").click()
    _until("an empty list", lambda: not browser.find_elements("css selector", "#tasks tbody tr"))
    assert browser.find_element("id", "task-count").text == "(0)"
    assert browser.find_element("id", "problem").is_displayed() is False
    assert console_errors(browser) == []
