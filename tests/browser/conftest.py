"""The dashboard in a real headless Chromium (Debian's, driven by Playwright: never a browser
download), against a real `tracking serve`. Screenshots of each page go to
`.artifacts/screenshots/` (TRACKING_TEST_ARTIFACTS to put them elsewhere)."""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.e2e.processes import ADMIN_KEY, JWT_SECRET, Server, Tracking

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without the background-networking flags, Chromium's calls home pile up on a closed network.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(
    os.environ.get("TRACKING_TEST_ARTIFACTS", Path(__file__).parents[2] / ".artifacts")
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Per module, not per session: Playwright's sync API runs an event loop in this thread
    while it is open, and the asyncio tests that follow could not run theirs."""
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"no Chromium at {CHROMIUM}: install Debian's (apt-get install chromium), as .ci/run"
            " does; the browser tests never download one"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    runner = Tracking(tmp_path_factory.mktemp("dashboard"))
    env = {"TRACKING_ADMIN_API_KEY": ADMIN_KEY, "TRACKING_JWT_SECRET": JWT_SECRET}
    try:
        yield runner.serve("--storage", "memory", env=env)
    finally:
        runner.clean_up()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    opened = context.new_page()
    opened.set_default_timeout(10_000)
    yield opened
    context.close()


def shot(page: Page, name: str) -> Path:
    """A screenshot of the whole page, kept as a test artifact."""
    target = ARTIFACTS / "screenshots" / f"{name}.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=target, full_page=True)
    return target


def sign_in(page: Page, server: Server, key: str = ADMIN_KEY) -> None:
    page.goto(f"{server.url}/dashboard")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()


def client_key(server: Server, name: str) -> str:
    answer = httpx.post(
        f"{server.url}/api/clients", headers={"X-API-Key": ADMIN_KEY}, json={"name": name}
    )
    assert answer.status_code == 201, answer.text
    key: str = answer.json()["api_key"]
    return key
