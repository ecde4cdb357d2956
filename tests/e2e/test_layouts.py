"""Layouts that hold at a projector's sizes: every page at 1024x768, 1280x720 and 1920x1080,
sidebar open and closed, with a finished run (so the Train page has its chart and cards).

Each view is measured in the DOM (see layout_checks): no button or label whose text does not
fit, no word split across lines, no legend entries on top of each other, no table or page
that scrolls sideways. Screenshots of every view are kept under artifacts/layouts/.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from scripts.harness import ARTIFACTS

from .conftest import AppPage, wait_for
from .layout_checks import layout_problems

SIZES = [(1024, 768), (1280, 720), (1920, 1080)]
PAGES = ["Overview", "Data", "Train", "Gates", "Memory", "Rollouts", "Results", "Runs", "Sweep"]
SHOTS = ARTIFACTS / "layouts"


def set_sidebar(app: AppPage, expanded: bool) -> None:
    """Open or close the sidebar with its own buttons, and wait for it to get there."""
    sidebar = app.page.locator("[data-testid='stSidebar']")

    def state() -> bool:
        return sidebar.get_attribute("data-collapsed") == "false"

    if state() != expanded:
        if expanded:
            app.page.locator("[data-testid='stExpandSidebarButton']").click()
        else:
            sidebar.hover()
            app.page.locator("[data-testid='stSidebarCollapseButton'] button").click()
    assert wait_for(lambda: state() == expanded, 10), f"the sidebar did not {expanded=}"
    time.sleep(0.6)  # its slide, and the charts' redraw at the new width


def shoot(app: AppPage, path) -> None:
    """A screenshot of the whole page: the window made as tall as the page for a moment."""
    size = app.page.viewport_size
    tall = app.page.evaluate(
        "() => document.querySelector(\"[data-testid='stMain']\").scrollHeight"
    )
    app.page.set_viewport_size({"width": size["width"], "height": max(size["height"], tall)})
    app.page.wait_for_timeout(500)
    app.page.screenshot(path=str(path))
    app.page.set_viewport_size(size)


@pytest.fixture(scope="module")
def trained(browser, server) -> Iterator[AppPage]:
    """One tab for the whole module, with a short finished run (4 models) to show."""
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    page.set_default_timeout(90_000)  # a fresh server's first pages warm torch and the engine
    app = AppPage(page, server.url)
    page.goto(server.url)
    app.wait_for_run(timeout=90_000)
    app.nav("Train")
    page.set_default_timeout(30_000)
    for label in ("RNN", "LSTM"):  # four models: the longest legends and the most cards
        app.key("models").locator("input").first.click()
        page.get_by_role("option", name=label, exact=True).click()
        app.wait_for_run()
        page.keyboard.press("Escape")
    app.set_number("epochs", 6)
    app.click("train_start")
    assert wait_for(lambda: "finished" in app.status(), 120), (
        f"the run did not finish: {app.status()}"
    )
    yield app
    context.close()


def _visit(app: AppPage, title: str) -> None:
    """Go to a page; on a busy machine a page's first visit may take more than 30 s."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        app.nav(title)
    except PlaywrightTimeout:
        app.wait_for_run(timeout=120_000)


def _settle(app: AppPage) -> None:
    app.wait_for_run()
    app.page.wait_for_timeout(800)  # charts are drawn after the script's last message


@pytest.mark.parametrize("expanded", [True, False], ids=["sidebar-open", "sidebar-closed"])
@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_every_page_holds_its_layout(trained, size, expanded):
    app = trained
    width, height = size
    app.page.set_viewport_size({"width": width, "height": height})
    SHOTS.mkdir(parents=True, exist_ok=True)
    found = {}
    for title in PAGES:
        set_sidebar(app, True)  # the navigation is in the sidebar
        _visit(app, title)
        set_sidebar(app, expanded)
        _settle(app)
        tag = f"{title.lower()}-{width}x{height}-{'open' if expanded else 'closed'}"
        problems = layout_problems(app.page)
        shoot(app, SHOTS / f"{tag}.png")
        if problems:
            found[title] = problems
    assert found == {}, "\n".join(f"{t}: {p}" for t, ps in found.items() for p in ps)
    assert app.exceptions() == []


def test_two_models_legend_holds_in_a_narrow_window(browser, server):
    # The default run (GRU and MLP) lays its legend out in a row above the chart: at the
    # narrowest size, sidebar open, its entries must not run into each other.
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    page = context.new_page()
    page.set_default_timeout(30_000)
    app = AppPage(page, server.url)
    try:
        page.goto(server.url)
        app.wait_for_run(timeout=90_000)
        app.nav("Train")
        app.set_number("epochs", 4)
        app.click("train_start")
        assert wait_for(lambda: "finished" in app.status(), 120), (
            f"the run did not finish: {app.status()}"
        )
        for title in ("Train", "Rollouts", "Runs"):
            _visit(app, title)
            set_sidebar(app, True)
            _settle(app)
            shoot(app, SHOTS / f"two-models-{title.lower()}-1024x768-open.png")
            assert layout_problems(app.page) == [], title
    finally:
        context.close()
