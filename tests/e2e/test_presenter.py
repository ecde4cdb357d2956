"""Presenter mode in a real browser: `?present=1` opens the app with large type, the sidebar
collapsed and charts drawn with thicker lines; the sidebar's toggle turns it all off again."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from .conftest import wait_for
from .test_layouts import set_sidebar

# The smallest text of the page's paragraphs (captions and labels included), in px.
BODY_TEXT = """() => Math.min(...[...document.querySelectorAll("[data-testid='stMain'] p")]
    .filter(p => p.getClientRects().length && p.textContent.trim())
    .map(p => parseFloat(getComputedStyle(p).fontSize)))"""


def _stroke(app, key: str) -> float:
    """The drawn width (px) of the first line trace of the Plotly chart with this key."""
    return app.page.evaluate(
        """(key) => {
            const path = document.querySelector(`.st-key-${key} .scatterlayer .trace path.js-line`);
            return path ? parseFloat(getComputedStyle(path).strokeWidth) : 0;
        }""",
        key,
    )


def _collapsed(app) -> bool:
    sidebar = app.page.locator("[data-testid='stSidebar']")
    return sidebar.get_attribute("data-collapsed") == "true"


def test_present_in_the_url_gives_large_type_bold_lines_and_a_collapsed_sidebar(app):
    app.page.goto(f"{app.base_url}/?present=1")
    app.wait_for_run(timeout=90_000)  # a fresh server's first page warms torch first
    assert wait_for(lambda: _stroke(app, "overview_ambiguity") > 0, 15), "the chart is missing"
    assert app.page.evaluate(BODY_TEXT) >= 20
    assert wait_for(lambda: _collapsed(app), 10), "the sidebar is open"
    assert _stroke(app, "overview_ambiguity") >= 5  # the plain look draws the sine 3 px wide
    assert app.page.locator("[data-testid='stMainMenu']").is_hidden()  # a minimal toolbar
    assert parse_qs(urlparse(app.page.url).query).get("present") == ["1"]
    app.screenshot("presenter-overview")

    set_sidebar(app, True)
    app.key("present").locator("label").click()
    app.wait_for_run()
    assert wait_for(lambda: app.page.evaluate(BODY_TEXT) < 20, 10), "the large type stayed"
    assert wait_for(lambda: 0 < _stroke(app, "overview_ambiguity") < 5, 10), "the bold lines stayed"
    assert "present" not in parse_qs(urlparse(app.page.url).query)
    assert not _collapsed(app)
    assert app.exceptions() == [] and app.console_errors == []
