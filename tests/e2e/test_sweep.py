"""A sweep in a real browser: start a small one, watch the heatmap fill, select a cell and
see its band, reload and find the sweep again."""

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

    app.key("sweep_cell").click()
    app.page.get_by_role("option", name="hidden=8, lr=0.03").click()
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
