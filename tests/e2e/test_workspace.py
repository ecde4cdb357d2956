"""Workspaces in a real browser: a run, its curves, the data and the settings outlive a reload,
reach another browser through the link (and no other workspace), and a run interrupted by a
server restart resumes to its end."""

import re
from urllib.parse import parse_qs, urlparse

import pytest

from gru_core.store import Store
from gru_core.views.tasks import TASK_LABELS
from scripts.harness import AppServer

from .conftest import AppPage, epochs_drawn, train_trace, wait_for


def _ws(app) -> str:
    return parse_qs(urlparse(app.page.url).query)["ws"][0]


def _tab(browser, url: str, width: int = 1400, height: int = 900):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(30_000)
    return context, AppPage(page, url)


def _visit(tab: AppPage, base: str, ws: str | None, page: str = "Overview") -> None:
    """Open the link (with its workspace, if any) and go to `page` through the sidebar."""
    tab.page.goto(f"{base}/" + (f"?ws={ws}" if ws else ""))
    tab.wait_for_run()
    tab.nav(page)


def _value(app, key: str) -> str:
    return app.key(key).locator("input").input_value()


def _shows_the_run(app, base: str, ws: str) -> None:
    _visit(app, base, ws, "Train")
    assert wait_for(lambda: epochs_drawn(app) == 6, 15), "the run's curves are not there"
    assert wait_for(lambda: _value(app, "hidden") == "5", 10)
    assert "finished" in app.status()
    assert "Run #" in app.page.locator("[data-testid='stMain']").inner_text()
    sidebar = app.page.locator("[data-testid='stSidebar']").inner_text()
    assert "300 points" in sidebar  # the data
    _visit(app, base, ws, "Data")
    assert wait_for(lambda: _value(app, "points") == "300", 10), _value(app, "points")


def test_a_run_its_data_and_settings_outlive_a_reload_and_travel_with_the_link(
    app, browser, server
):
    app.open()
    app.nav("Data")
    app.set_number("points", 300)
    app.nav("Train")
    app.set_number("hidden", 5)
    app.set_number("epochs", 6)
    app.click("train_start")
    assert wait_for(lambda: "finished" in app.status(), 60)
    ws = _ws(app)

    app.page.reload()  # on /train?ws=...: the very URL, as a visitor's reload
    app.wait_for_run()
    assert _ws(app) == ws
    # Loading a page's own path makes Streamlit probe /train/_stcore/... first: its 404s
    # (see AppPage.nav) say nothing about the app.
    app.console_errors[:] = [e for e in app.console_errors if "404" not in e]
    _shows_the_run(app, server.url, ws)

    context, other = _tab(browser, server.url)  # another browser, the same link
    try:
        _shows_the_run(other, server.url, ws)
        assert other.exceptions() == [] and other.console_errors == []
    finally:
        context.close()

    context, stranger = _tab(browser, server.url)  # no link: a workspace of its own
    try:
        _visit(stranger, server.url, None, "Train")
        assert _ws(stranger) != ws
        assert stranger.page.get_by_text("Choose settings and press Start").count() == 1
        stranger.nav("Runs")
        assert stranger.page.get_by_text("No runs yet").count() == 1
    finally:
        context.close()
    assert app.exceptions() == [] and app.console_errors == []


def test_the_runs_page_at_projector_and_desktop_sizes(app, browser, server):
    app.open()
    app.nav("Train")
    app.set_number("epochs", 6)
    app.click("train_start")
    assert wait_for(lambda: "finished" in app.status(), 60)
    app.set_number("hidden", 8)
    app.click("train_start")
    assert wait_for(lambda: "finished" in app.status(), 60)
    ws = _ws(app)
    for width, height in ((1280, 720), (1920, 1080)):
        context, tab = _tab(browser, server.url, width, height)
        try:
            _visit(tab, server.url, ws, "Runs")
            assert wait_for(lambda tab=tab: tab.chart_data("runs_overlay"), 15)
            tab.page.locator("[data-testid='stDataFrame'] canvas").first.wait_for()
            tab.key("runs_filter").locator("input").wait_for()
            names = {t["name"] for t in tab.chart_data("runs_overlay")}
            assert any(re.match(r"#\d+ hidden 8: gru train loss", n) for n in names), names
            tab.screenshot(f"runs-{width}x{height}")
            assert tab.exceptions() == [] and tab.console_errors == []
        finally:
            context.close()


def _saved_epochs(home, ws: str) -> int:
    """How many epochs of the workspace's one run the store on disk holds."""
    store = Store(home)
    try:
        (run,) = store.runs(ws)
        return len(store.history(ws, run.id))
    finally:
        store.close()


@pytest.fixture
def home(tmp_path):
    return tmp_path / "home"


def test_a_run_interrupted_by_a_server_restart_resumes_to_its_end(browser, home):
    first = AppServer(env={"GRU_LAB_HOME": str(home)})
    context, app = _tab(browser, first.url)
    try:
        app.open()
        app.nav("Train")
        app.set_number("epochs", 300)
        app.click("train_start")
        assert wait_for(lambda: epochs_drawn(app) >= 60, 60), "the run did not get going"
        ws = _ws(app)
        # Past the first save (every 2 s; a fast machine draws 60 epochs sooner), before the end.
        assert wait_for(lambda: 0 < _saved_epochs(home, ws) < 300, 30), _saved_epochs(home, ws)
    finally:
        first.proc.kill()  # the server dies mid-run, as in a crash or a power cut
        first.proc.wait(10)
        first.close()
        context.close()

    second = AppServer(env={"GRU_LAB_HOME": str(home)})
    context, app = _tab(browser, second.url)
    try:
        _visit(app, second.url, ws, "Train")
        assert "interrupted" in app.status()
        # the chart may draw a moment after the status: wait for it, then it must be partial
        assert wait_for(lambda: epochs_drawn(app) > 0, 15), "the saved epochs are not drawn"
        assert epochs_drawn(app) < 300
        app.click("train_resume")
        assert wait_for(lambda: "finished" in app.status(), 120), app.status()
        app.page.reload()
        app.wait_for_run()
        app.console_errors[:] = [e for e in app.console_errors if "404" not in e]  # as above
        assert wait_for(lambda: epochs_drawn(app) == 300, 15)
        trace = train_trace(app)
        assert trace["last_x"] == 300  # epochs 1..300, the lost ones trained again once
        assert app.exceptions() == [] and app.console_errors == []
    finally:
        context.close()
        second.close()


def test_the_task_and_its_data_settings_outlive_a_reload(app):
    app.open()
    app.nav("Data")
    app.select("task", TASK_LABELS["window"])
    app.key("window_target").get_by_text("the window's own last point").click()
    app.wait_for_run()
    app.set_number("window_steps", 20)
    ws = _ws(app)

    app.page.reload()  # on /data?ws=...
    app.wait_for_run()
    app.console_errors[:] = [e for e in app.console_errors if "404" not in e]  # see above
    assert _ws(app) == ws
    shown = app.key("task").locator("input").first
    assert wait_for(lambda: shown.input_value() == TASK_LABELS["window"], 10), shown.input_value()
    assert wait_for(lambda: _value(app, "window_steps") == "20", 10), _value(app, "window_steps")
    last = app.key("window_target").get_by_role("radio", name="the window's own last point")
    assert last.is_checked()
    assert app.page.get_by_text("has just read").count() == 1  # the target's warning
    assert app.exceptions() == [] and app.console_errors == []
