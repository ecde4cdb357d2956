"""Every page loads in a real browser with no exception box and no console error."""

import pytest

PAGES = {"Overview": "GRU Lab", "Data": "Data", "Train": "Train", "Gates": "Gates"}
PAGES["Rollouts"] = "Rollouts"
PAGES["Memory"] = "Memory"


@pytest.mark.parametrize("title", list(PAGES))
def test_page_loads_cleanly(app, title):
    app.open()
    app.nav(title)
    app.screenshot(f"page-{title.lower()}")
    assert app.page.locator("h1").first.inner_text().strip() == PAGES[title]
    assert app.exceptions() == []
    assert app.console_errors == []


@pytest.mark.parametrize("title", ["Train", "Rollouts"])
def test_a_link_to_a_page_opens_that_page_in_the_app(app, title):
    # A bookmark, a shared link, or reloading the tab on a page: a fresh session whose
    # first request is /page. It must run the app around the page (navigation, sidebar,
    # session defaults), not the page's script alone.
    app.page.goto(f"{app.base_url}/{title.lower()}")
    app.wait_for_run()
    assert app.page.locator("h1").first.inner_text().strip() == PAGES[title]
    assert app.exceptions() == []
    nav = app.page.locator("[data-testid='stSidebarNav']").inner_text()
    assert all(name in nav for name in PAGES)
    assert "Current run" in app.page.locator("[data-testid='stSidebar']").inner_text()
