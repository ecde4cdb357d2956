"""Browser tests: a real `streamlit run app.py` on a free local port, driven by Chromium.

Follows Streamlit's own e2e suite: wait for /_stcore/health, then for the app to
be connected and its script not running. Chromium is Debian's (/usr/bin/chromium);
Playwright only drives it. Where no Chromium can be found the tests skip with one
line of reason, except in CI (CI=true), where a missing browser is a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
import waiting

from scripts.harness import APP_READY_JS, CHROMIUM_ARGS, AppServer, chromium_path
from scripts.harness import ARTIFACTS as ARTIFACT_ROOT

ARTIFACTS = ARTIFACT_ROOT / "e2e"


def pytest_collection_modifyitems(items):
    for item in items:
        if Path(str(item.fspath)).parent == Path(__file__).parent:
            item.add_marker(pytest.mark.e2e)


def _missing(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser tests cannot run in CI: {reason}", pytrace=False)
    pytest.skip(reason)


def wait_for(predicate, timeout: float, step: float = 0.1) -> bool:
    """Poll `predicate` until it is true (True) or `timeout` seconds pass (False)."""
    return waiting.wait_for(predicate, timeout, step)


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright is not installed (pip install -r requirements-dev.txt)")
    path = chromium_path()
    if path is None:
        _missing("no Chromium found (apt-get install chromium, or set GRU_LAB_CHROMIUM)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def server() -> Iterator[AppServer]:
    srv = AppServer()
    yield srv
    srv.close()


class AppPage:
    """A browser tab on the app, with Streamlit-aware waits and console error capture."""

    def __init__(self, page, base_url: str):
        self.page = page
        self.base_url = base_url
        self.console_errors: list[str] = []
        page.on(
            "console",
            lambda msg: self.console_errors.append(msg.text) if msg.type == "error" else None,
        )
        page.on("pageerror", lambda exc: self.console_errors.append(str(exc)))

    def open(self) -> None:
        """Load the app at its root, as a visitor does."""
        self.page.goto(self.base_url)
        self.wait_for_run()

    def nav(self, title: str) -> None:
        """Go to a page through the sidebar navigation (loading /page directly makes
        Streamlit probe /page/_stcore/... first, which logs 404s in the console)."""
        if not self.page.url.startswith(self.base_url):
            self.open()
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        path = "" if title == "Overview" else title.lower()

        def there(url: str) -> bool:  # the page's path, whatever the query (?ws=...)
            return urlparse(url).path.strip("/") == path

        if there(self.page.url):
            self.wait_for_run()  # already there: a click would only start a racing rerun
            return
        link = self.page.locator("[data-testid='stSidebarNav']").get_by_role("link", name=title)
        for attempt in range(3):  # a click that lands during a rerun can be dropped: retry
            link.click()
            try:
                self.page.wait_for_url(there, wait_until="commit", timeout=10_000)
                break
            except PlaywrightTimeout:
                if attempt == 2:
                    raise
        self.wait_for_run()

    def wait_for_run(self, timeout: float = 30_000) -> None:
        """Connected, the script not running, and the app whole (not a fresh server's first
        page drawn while its engine loads: `gru_app.loading`)."""
        app = self.page.locator("[data-testid='stApp']")
        app.and_(self.page.locator("[data-test-connection-state='CONNECTED']")).wait_for(
            timeout=timeout
        )
        self.page.wait_for_function(APP_READY_JS, timeout=timeout)

    def key(self, key: str):
        """The element a widget or chart with this `key=` renders in."""
        return self.page.locator(f".st-key-{key}")

    def click(self, key: str) -> None:
        self.key(key).locator("button").first.click()

    def chart_data(self, key: str) -> list[dict] | None:
        """The traces plotly drew in the chart with this key: name, type, points, last x."""
        return self.page.evaluate(
            """(key) => {
                const el = document.querySelector(`.st-key-${key} .js-plotly-plot`);
                if (!el || !el._fullData) return null;
                return el._fullData.map(t => {
                    const x = t.x || [], z = t.z || [];
                    const n = t.type === 'heatmap' ? z.length : (t._length ?? x.length);
                    return {name: t.name || '', type: t.type, n: n,
                            last_x: x.length ? Number(x[x.length - 1]) : null};
                });
            }""",
            key,
        )

    def status(self) -> str:
        """The run's status badge in the sidebar ('' before any run)."""
        badge = self.page.locator("[data-testid='stSidebar'] [data-testid='stMarkdownContainer']")
        return " ".join(badge.all_inner_texts())

    def set_number(self, key: str, value: float) -> None:
        box = self.key(key).locator("input")
        box.fill(str(value))
        box.press("Enter")
        self.wait_for_run()

    def select(self, key: str, option: str) -> None:
        """Choose `option` (its shown text) in the selectbox with this key."""
        box = self.key(key)
        box.locator("input, [role='combobox']").first.click()
        choice = self.page.get_by_role("option", name=option)
        if not wait_for(lambda: choice.count() > 0, 2, step=0.1):
            box.locator("svg").last.click()  # some open from their arrow only, not the text
        choice.click()
        self.wait_for_run()

    def exceptions(self) -> list[str]:
        return self.page.locator("[data-testid='stException']").all_inner_texts()

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


def loss_curves(app: AppPage) -> dict[str, list[tuple[int, float]]]:
    """The Train page's loss chart as drawn: curve name ("GRU train") -> [(epoch, value)].

    Read from the descriptions Vega gives the chart's per-epoch hover rules
    ("epoch 12; GRU train: 0.031; MLP train: 0.9"), which are in its SVG.
    """
    labels = app.page.evaluate(
        """() => Array.from(document.querySelectorAll(
                '.st-key-train_losses svg .mark-rule[aria-roledescription] > path,'
                + ' .st-key-train_losses svg .mark-rule[aria-roledescription] > line'))
            .map(e => e.getAttribute('aria-label') || '')"""
    )
    curves: dict[str, list[tuple[int, float]]] = {}
    for label in labels:
        head, *parts = label.split("; ")
        if not head.startswith("epoch "):
            continue
        epoch = int(head.split()[1])
        for part in parts:
            name, value = part.rsplit(": ", 1)
            curves.setdefault(name, []).append((epoch, float(value)))
    return {name: sorted(points) for name, points in curves.items()}


def train_trace(app: AppPage) -> dict | None:
    """The Train page's GRU training-loss curve, as drawn: its points and last epoch."""
    points = loss_curves(app).get("GRU train")
    return None if not points else {"n": len(points), "last_x": points[-1][0]}


def epochs_drawn(app: AppPage) -> int:
    """How many epochs the Train page's loss chart draws."""
    trace = train_trace(app)
    return 0 if trace is None else trace["n"]


def _safe_name(nodeid: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in nodeid.split("::")[-1])


@pytest.fixture
def app(browser, server, request) -> Iterator[AppPage]:
    """A fresh browser context on the module's server; its last state is saved as a PNG."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    tab = AppPage(page, server.url)
    yield tab
    try:
        tab.screenshot(f"end-{_safe_name(request.node.nodeid)}")
    finally:
        context.close()
