"""Browser fixtures: headless Chromium (Debian's, not a Playwright download) over the real platform.

Each test saves a screenshot into `artifacts/screenshots/` at the repository root, so a person
can look at what a customer would have seen (CI keeps the folder as an artifact). Every page a
test opens is watched for console errors and failed requests (a missing favicon counts).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
TIMEOUT_MS = 20_000      # 2 cores shared by several test runs: generous, and every wait is for a condition
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 740}


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (.ci/run does)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def open_page(browser, request):
    """open_page(viewport=…, locale=…) → a fresh page (own cookies); each gets a screenshot at the end.

    `page.problems` collects console errors and 4xx/5xx answers the page's own loads met.
    """
    contexts = []

    def make(viewport=None, locale="en-US"):
        context = browser.new_context(viewport=viewport or DESKTOP, locale=locale)
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        page.problems = []
        # "Failed to load resource" repeats a response's status (a 422 form page is one on purpose):
        # the response handler below judges those by what was loaded.
        page.on("console", lambda msg: msg.type == "error" and not msg.text.startswith("Failed to load resource")
                and page.problems.append(f"console: {msg.text}"))
        page.on("response", lambda resp: resp.status >= 400 and resp.request.resource_type != "fetch"
                and resp.request.resource_type != "document" and page.problems.append(f"{resp.status} {resp.url}"))
        contexts.append((context, page))
        return page

    yield make
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    for i, (context, page) in enumerate(contexts):
        suffix = f"-{i + 1}" if len(contexts) > 1 else ""
        try:
            page.screenshot(path=str(SCREENSHOTS / f"{name}{suffix}.png"), full_page=True)
        finally:
            context.close()


def shot(page, name: str) -> None:
    """A screenshot of a moment in the middle of a flow (the fixture takes the last one)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
