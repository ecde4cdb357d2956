"""First impressions in the browser: an upload says it is standardised and draws its dates as
the x axis; Reset can be undone; a fresh server's first page comes before its engine."""

import math
from datetime import date, timedelta

from gru_app.loading import KEY as LOADING
from scripts.harness import AppServer

from .conftest import AppPage, wait_for


def _temperatures(days: int = 150) -> bytes:
    start = date(2024, 1, 1)
    rows = "".join(
        f"{start + timedelta(days=d)},{15 + 8 * math.sin(d / 9):.3f}\n" for d in range(days)
    )
    return ("date,temperature\n" + rows).encode()


def _x_axis(app, key: str) -> dict | None:
    """The drawn chart's x axis: its type and the first and last x of its first trace."""
    return app.page.evaluate(
        """(key) => {
            const el = document.querySelector(`.st-key-${key} .js-plotly-plot`);
            if (!el || !el._fullLayout) return null;
            const x = el._fullData[0].x;
            return {type: el._fullLayout.xaxis.type, first: String(x[0]),
                    ticks: Array.from(el.querySelectorAll('.xtick text')).map(t => t.textContent)};
        }""",
        key,
    )


def test_an_upload_is_standardised_and_its_dates_are_the_x_axis(app):
    app.open()
    app.nav("Data")
    app.key("data_source").get_by_text("Upload a CSV").click()
    app.wait_for_run()
    app.key("data_upload").locator("input[type='file']").set_input_files(
        {"name": "temperatures.csv", "mimeType": "text/csv", "buffer": _temperatures()}
    )
    app.wait_for_run()
    note = app.page.locator("[data-testid='stAlertContentInfo']").filter(
        has_text="Standardised for training"
    )
    assert wait_for(lambda: note.count() == 1, 15)
    assert "own units" in note.inner_text()
    toggle = app.key("data_standardize").locator("input[type='checkbox']")
    assert toggle.is_checked()
    assert wait_for(lambda: (_x_axis(app, "data_series") or {}).get("type") == "date", 15)
    axis = _x_axis(app, "data_series")
    assert axis["first"].startswith("2024-01-01")
    assert any("2024" in tick or "Feb" in tick or "Mar" in tick for tick in axis["ticks"])
    app.screenshot("first-impressions-upload")
    # Turned off, the page warns instead, and the Train page's setting follows.
    app.key("data_standardize").locator("label").first.click()
    app.wait_for_run()
    warning = app.page.locator("[data-testid='stAlertContentWarning']")
    assert wait_for(lambda: "Not standardised" in " ".join(warning.all_inner_texts()), 10)
    app.nav("Train")
    app.page.get_by_text("More settings").click()
    assert not app.key("standardize").locator("input[type='checkbox']").is_checked()
    assert app.exceptions() == []


def test_reset_can_be_undone(app):
    app.open()
    app.nav("Train")
    app.click("train_start")
    assert wait_for(lambda: "finished" in app.status(), 90)
    app.wait_for_run()
    app.click("train_reset")
    app.wait_for_run()
    assert wait_for(lambda: "no run" in app.status(), 10)  # the first click resets...
    undo = app.key("reset_undo")
    assert undo.count() == 1
    app.screenshot("first-impressions-reset")
    app.click("reset_undo")  # ...and Undo brings the run back
    app.wait_for_run()
    assert wait_for(lambda: "finished" in app.status(), 10)
    # The sidebar is drawn before the page: the Undo offer goes when the rerun reaches it.
    assert wait_for(lambda: app.key("reset_undo").count() == 0, 10)
    assert app.exceptions() == []


def test_a_fresh_server_draws_the_overview_at_once_and_a_click_meanwhile_starts_the_run(browser):
    """The first visitor of a fresh server gets the Overview while the engine loads (its
    marker on the page), and "Train with defaults" clicked then runs once the engine is in."""
    server = AppServer()
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        app = AppPage(context.new_page(), server.url)
        app.page.set_default_timeout(60_000)
        app.page.goto(server.url)
        button = app.key("overview_train").locator("button").first
        button.wait_for()
        assert app.key(LOADING).count() == 1, "the first page waited for the engine"
        assert app.page.locator("h1", has_text="GRU Lab").count() == 1
        app.screenshot("first-page-loading")
        button.click()
        app.wait_for_run(timeout=120_000)  # the engine, then the whole app (no marker left)
        assert app.key(LOADING).count() == 0
        assert wait_for(lambda: "finished" in app.status(), 120), app.status()
        assert app.page.locator("h1").first.inner_text() == "Train"
        assert app.exceptions() == [] and app.console_errors == []
    finally:
        context.close()
        server.close()
