"""A real headless browser for the page tests: Debian's Chromium driven by Playwright.

Every page a test opens is checked the same way: no console error, no Content-Security-
Policy violation, and no serious or critical axe-core finding. A failing test leaves a
screenshot under var/test-screenshots/ (git ignores var/).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import ROOT, require

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = ROOT / "var" / "test-screenshots"
# Recorded before any page script runs; DevTools injects it, so the page's CSP does not apply.
CSP_WATCH = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


_FAILED = pytest.StashKey[bool]()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    require(Path(CHROMIUM).is_file(), f"Chromium is not at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - a dev dependency
        require(False, "Playwright for Python is not installed (pip install -r requirements-dev.txt)")
    # Playwright's sync API keeps an event loop open in this thread; Django refuses ORM calls
    # from a thread with a running loop unless told that this one is safe (it is: the loop
    # only waits for the browser).
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


class Watched:
    """A page plus what it reported: console errors, uncaught exceptions, CSP violations."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[tuple[str, str]] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append((f"uncaught: {error}", page.url)))
        page.add_init_script(CSP_WATCH)

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append((message.text, message.location.get("url", "")))

    def check(self, status: int = 200) -> None:
        """The page as it is now: clean console, no CSP violation, no serious axe finding.
        An error page (`status`) may only log its own status, as Chromium always does."""
        from axe_playwright_python.sync_playwright import Axe

        violations = self.page.evaluate("window.__cspViolations || []")
        assert violations == [], f"CSP violations on {self.page.url}: {violations}"
        own = f"the server responded with a status of {status}"
        errors = [text for text, url in self.errors if not (status != 200 and url == self.page.url and own in text)]
        self.errors.clear()
        assert errors == [], f"console errors on {self.page.url}: {errors}"
        results = Axe().run(self.page)
        serious = [
            f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert serious == [], f"axe on {self.page.url}: {serious}"


@pytest.fixture
def web(browser: Any, live_server: Any, request: pytest.FixtureRequest, settings: Any) -> Iterator[tuple[Watched, str]]:
    """A fresh browser context on the live server; recomputes run inline, as in `make run`."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    watched = Watched(page)
    yield watched, live_server.url
    if request.node.stash.get(_FAILED, False):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{request.node.name}.png"), full_page=True)
    context.close()


def log_in(watched: Watched, base: str, username: str, password: str) -> None:
    page = watched.page
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/")
