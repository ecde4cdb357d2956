"""The Gates page of a text run and of a window run, in a real browser."""

from .conftest import wait_for
from .test_tasks import _train


def _titles(app) -> list[str]:
    return app.page.locator(".unit-char").evaluate_all("els => els.map(e => e.title)")


def test_text_run_colours_the_text_by_the_chosen_unit(app):
    _train(app, "text", hidden=16, epochs=2)
    app.nav("Gates")
    assert wait_for(lambda: len(_titles(app)) == 400, 30), "no coloured passage"
    first = _titles(app)
    assert all(t[0] in "+-" and float(t) == float(t) for t in first)
    # another unit colours the same characters differently
    box = app.key("gates_text_unit").locator("input, [role='combobox']").first
    box.click()
    options = app.page.get_by_role("option")
    assert options.count() == 16
    options.nth(5).click()
    app.wait_for_run()
    assert wait_for(lambda: _titles(app) != first and len(_titles(app)) == 400, 20)
    # ranking by punctuation, and a shorter passage
    app.key("gates_text_rank").get_by_text("punctuation").click()
    app.wait_for_run()
    app.set_number("gates_text_length", 60)
    assert wait_for(lambda: len(_titles(app)) == 60, 20)
    app.screenshot("gates-text")
    assert app.exceptions() == [] and app.console_errors == []


def test_window_run_shows_the_gates_of_one_window(app):
    _train(app, "window", hidden=8, epochs=3)
    app.nav("Gates")
    assert wait_for(lambda: app.chart_data("gates_heatmaps"), 30), "no heatmaps"
    heatmaps = [t for t in app.chart_data("gates_heatmaps") if t["type"] == "heatmap"]
    assert len(heatmaps) == 4 and all(t["n"] == 8 for t in heatmaps)  # 8 units each
    app.set_number("gates_window", 7)
    caption = app.page.get_by_text("Window 7 (a training window)")
    assert wait_for(caption.is_visible, 30)  # once the page has redrawn with window 7
    app.screenshot("gates-window")
    assert app.exceptions() == [] and app.console_errors == []
