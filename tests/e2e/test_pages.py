"""Every page loads in a real browser with no exception box and no console error."""

import pytest

PAGES = {"Overview": "GRU Lab", "Data": "Data", "Train": "Train", "Gates": "Gates"}
PAGES["Rollouts"] = "Rollouts"


@pytest.mark.parametrize("title", list(PAGES))
def test_page_loads_cleanly(app, title):
    app.open()
    app.nav(title)
    app.screenshot(f"page-{title.lower()}")
    assert app.page.locator("h1").first.inner_text().strip() == PAGES[title]
    assert app.exceptions() == []
    assert app.console_errors == []
