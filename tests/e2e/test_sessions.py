"""Two browser contexts training at once keep separate runs."""

import re

from .conftest import AppPage, train_trace, wait_for


def _train_page(browser, url: str, hidden: int, epochs: int):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    app = AppPage(context.new_page(), url)
    app.open()
    app.nav("Train")
    app.set_number("hidden", hidden)
    app.set_number("epochs", epochs)
    return context, app


def test_two_contexts_keep_separate_runs(browser, server):
    a_ctx, a = _train_page(browser, server.url, hidden=5, epochs=80)
    b_ctx, b = _train_page(browser, server.url, hidden=9, epochs=50)
    try:
        a.click("train_start")
        b.click("train_start")
        # B started while A was still training: the two ran at the same time.
        assert "finished" not in a.status()
        for app, epochs, hidden in ((a, 80, 5), (b, 50, 9)):
            if not wait_for(lambda app=app: "finished" in app.status(), 120):
                app.screenshot("session-not-finished")
                raise AssertionError(  # what each page shows, to tell why
                    [(tab.status(), tab.exceptions(), tab.console_errors) for tab in (a, b)]
                )
            app.nav("Train")
            progress = app.page.get_by_text(re.compile(r"^Epoch \d+ / \d+")).first.inner_text()
            assert progress.startswith(f"Epoch {epochs} / {epochs}")
            assert train_trace(app)["n"] == epochs
            params = 3 * (hidden + hidden * hidden + 2 * hidden) + hidden + 1
            assert app.page.get_by_text(re.compile(rf"\b{params}\b")).count() >= 1
            assert app.exceptions() == []
        a.screenshot("session-a")
        b.screenshot("session-b")
    finally:
        a_ctx.close()
        b_ctx.close()
