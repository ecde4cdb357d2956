"""A sweep in a real browser: start a small one, watch the heatmap fill, click a cell and
see its band, reload and find the sweep again, open a cell's runs on the Runs page."""

import re
from urllib.parse import urlparse

from .conftest import wait_for

FILLED = """(key) => {
    const el = document.querySelector(`.st-key-${key} .js-plotly-plot`);
    if (!el || !el._fullData || !el._fullData[0].z) return -1;
    const rows = Array.from(el._fullData[0].z, r => Array.from(r));
    return rows.flat().filter(v => v !== null && Number.isFinite(v)).length;
}"""


def _filled(app) -> int:
    """How many cells of the heatmap hold a value (-1: no heatmap drawn)."""
    return app.page.evaluate(FILLED, "sweep_heatmap")


def _type(app, key: str, text: str) -> None:
    box = app.key(key).locator("input")
    box.fill(text)
    box.press("Enter")
    app.wait_for_run()


def test_a_sweep_fills_its_heatmap_shows_a_band_and_survives_a_reload(app):
    app.open()
    app.nav("Sweep")
    _type(app, "sweep_values_hidden", "4, 8")
    _type(app, "sweep_values_lr", "0.01, 0.03")
    assert wait_for(lambda: "12 runs (2 x 2 x 3 seeds)" in app.page.inner_text("body"), 10)
    app.click("sweep_start")
    seen = []
    assert wait_for(lambda: seen.append(_filled(app)) or seen[-1] == 4, 120), seen
    assert wait_for(lambda: app.page.get_by_text("12 of 12 runs done").count() > 0, 30)
    app.wait_for_run()

    _click_cell(app, column=1, row=1)  # lr 0.03 (right), hidden 8 (top row)
    assert wait_for(lambda: _cell_shown(app) == "hidden=8, lr=0.03", 20), _cell_shown(app)
    app.wait_for_run()
    names = [t["name"] for t in app.chart_data("sweep_band") or []]
    assert "GRU ± 1 std" in names and "GRU mean of 3" in names, names
    assert "MLP ± 1 std" in names
    for width, height in ((1280, 720), (1920, 1080)):
        app.page.set_viewport_size({"width": width, "height": height})
        app.wait_for_run()
        app.screenshot(f"sweep-{width}x{height}")

    assert "ws=" in app.page.url
    assert app.exceptions() == [] and app.console_errors == []
    app.page.reload()
    app.wait_for_run()
    assert wait_for(lambda: _filled(app) == 4, 20)
    assert wait_for(lambda: app.page.get_by_text("12 of 12 runs done").count() > 0, 10)
    # Loading /sweep directly makes Streamlit probe /sweep/_stcore/... first (404s, logged).
    assert app.exceptions() == [] and all("404" in e for e in app.console_errors)

    _click_cell(app, column=0, row=0)  # lr 0.01, hidden 4
    assert wait_for(lambda: _cell_shown(app) == "hidden=4, lr=0.01", 20), _cell_shown(app)
    app.wait_for_run()
    app.click("sweep_open")
    note = app.page.get_by_text("The sweep cell's 3 run(s) are compared below")
    assert wait_for(lambda: note.count() == 1, 60), "the Runs page did not open"
    app.wait_for_run()
    assert wait_for(lambda: urlparse(app.page.url).path.strip("/") == "runs", 10), app.page.url
    assert app.key("runs_filter").locator("input").input_value() == "hidden=4,lr=0.01,"
    # the Compare box's chips: "#1 hidden=4,lr=0.01,seed=0", one per seed of the cell
    chips = app.key("runs_compare").get_by_text(re.compile(r"^#\d+ hidden=4,lr=0\.01,seed=\d$"))
    assert wait_for(lambda: chips.count() == 3, 10), chips.all_inner_texts()
    app.screenshot("sweep-cell-on-runs-page")
    assert app.exceptions() == []


def _click_cell(app, column: int, row: int, columns: int = 2, rows: int = 2) -> None:
    """Click the heatmap's cell (column, row), counted from the left and from the bottom row."""
    plot = app.key("sweep_heatmap").locator(".nsewdrag").first
    plot.scroll_into_view_if_needed()  # a click lands only where the page shows the chart
    box = plot.bounding_box()
    x = box["x"] + box["width"] * (column + 0.5) / columns
    y = box["y"] + box["height"] * (1 - (row + 0.5) / rows)
    app.page.mouse.click(x, y)


def _cell_shown(app) -> str:
    """The Cell box's shown value."""
    return app.key("sweep_cell").locator("input").first.input_value()
