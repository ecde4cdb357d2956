"""Links in a real browser: a link's settings open with it and follow changes, bad values are
named, Copy link copies the settings without the workspace, and a lesson link opens its run."""

from urllib.parse import parse_qs, urlparse

import pytest

from gru_core.config import PRESETS
from gru_core.i18n import t

from .conftest import AppPage, epochs_drawn, wait_for


@pytest.fixture
def tab(browser, server):
    """A tab whose page may read and write the clipboard (Copy link writes to it)."""
    context = browser.new_context(
        viewport={"width": 1400, "height": 900}, permissions=["clipboard-read", "clipboard-write"]
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield AppPage(page, server.url)
    context.close()


def _query(app: AppPage) -> dict[str, list[str]]:
    return parse_qs(urlparse(app.page.url).query)


def _value(app: AppPage, key: str) -> str:
    return app.key(key).locator("input").first.input_value()


def _open(app: AppPage, path: str, toast: str | None = None) -> None:
    """Load `path`; with `toast`, first wait for a toast holding it (it shows for 10 s)."""
    app.page.goto(app.base_url + path)
    if toast is not None:
        toasts = app.page.locator("[data-testid='stToast']")
        assert wait_for(lambda: toast in " ".join(toasts.all_inner_texts()), 120), toast
    app.wait_for_run(120_000)  # a fresh server's first page warms torch: on a busy machine, slow


def test_a_link_opens_with_its_settings_and_the_url_follows_changes(tab):
    _open(tab, "/train?hidden=4&lr=0.01&seq_len=abc&points=300&standardize=true", "seq_len=abc")
    assert wait_for(lambda: _value(tab, "hidden") == "4", 10)
    assert wait_for(lambda: "0.01" in tab.key("lr").inner_text(), 10)  # drawn after the box
    fast = PRESETS["fast"]
    assert _value(tab, "seq_len") == str(fast.train.seq_len)  # the bad value: the default kept
    assert tab.key("standardize").locator("input").is_checked()
    assert "300 points" in tab.page.locator("[data-testid='stSidebar']").inner_text()
    query = _query(tab)
    assert query["hidden"] == ["4"] and query["lr"] == ["0.01"] and "seq_len" not in query
    tab.set_number("epochs", 7)
    assert wait_for(lambda: _query(tab).get("epochs") == ["7"], 10), tab.page.url
    tab.set_number("hidden", fast.model.hidden_size)  # back to the preset's: out of the URL
    assert wait_for(lambda: "hidden" not in _query(tab), 10), tab.page.url
    tab.screenshot("link-settings")
    assert tab.exceptions() == []


def _preset_after_a_link(tab, wait: bool) -> None:
    """A link, a setting typed and one set back, then a preset (after the page has finished
    its run, or at once); the preset sets every setting, so none differs from it: none of
    the replaced settings may stay in the URL."""
    _open(tab, "/train?hidden=4&lr=0.01&seq_len=abc&points=300&standardize=true", "seq_len=abc")
    assert wait_for(lambda: _value(tab, "hidden") == "4", 10)
    tab.set_number("epochs", 7)
    assert wait_for(lambda: _query(tab).get("epochs") == ["7"], 10), tab.page.url
    tab.set_number("hidden", PRESETS["fast"].model.hidden_size)
    assert wait_for(lambda: "hidden" not in _query(tab), 10), tab.page.url
    if wait:
        tab.wait_for_run()
    tab.select("preset", "seed")
    assert wait_for(lambda: _query(tab).get("preset") == ["seed"], 10)
    assert wait_for(lambda: not {"epochs", "lr"} & set(_query(tab)), 10), tab.page.url


def test_a_preset_clears_the_settings_it_replaces_from_the_url(tab):
    _preset_after_a_link(tab, wait=True)


@pytest.mark.xfail(
    reason="known bug: a preset chosen while the page still reruns for the setting before"
    " (the URL already changed, the script not yet finished) leaves the replaced settings in"
    " the address bar, though the widgets hold the preset's: about 1 run in 5. Streamlit"
    " updates a bound widget's parameter itself; st.query_params may not delete one",
    strict=False,
)
def test_a_preset_chosen_at_once_clears_the_settings_it_replaces_from_the_url(tab):
    _preset_after_a_link(tab, wait=False)


def test_copy_link_copies_the_settings_but_not_the_workspace(tab, browser, server):
    _open(tab, "/train?hidden=5&data_seed=7")
    assert wait_for(lambda: _value(tab, "hidden") == "5", 10)
    tab.set_number("epochs", 9)
    assert "ws" in _query(tab)  # the page's own address holds the private workspace id
    tab.page.locator(".gru-copy-link").click()
    assert wait_for(lambda: tab.page.get_by_text(t("share.copied")).is_visible(), 5)
    copied = tab.page.evaluate("navigator.clipboard.readText()")
    link = urlparse(copied)
    query = parse_qs(link.query)
    assert link.path == "/train" and "ws" not in query
    assert query == {"hidden": ["5"], "epochs": ["9"], "data_seed": ["7"]}
    # the copied link opens the same settings in another browser, in a workspace of its own
    other = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        page = other.new_page()
        page.set_default_timeout(30_000)
        second = AppPage(page, server.url)
        page.goto(copied)
        second.wait_for_run()
        assert wait_for(lambda: _value(second, "epochs") == "9", 10)
        assert _value(second, "hidden") == "5"
        assert "seed 7" in page.locator("[data-testid='stSidebar']").inner_text()
        assert _query(second)["ws"] != _query(tab)["ws"]
    finally:
        other.close()


def test_a_lesson_link_opens_its_run(tab):
    _open(tab, "/lessons?lesson=rnn_forgets")
    main = tab.page.locator("[data-testid='stMain']")
    assert wait_for(lambda: "Run #" in main.inner_text(), 15)
    assert "lesson" not in _query(tab)  # opened once: a reload does not import it again
    tab.screenshot("lesson-opened")
    tab.page.get_by_role("link", name=t("lesson.rnn_forgets.next")).click()
    tab.page.wait_for_url(lambda url: urlparse(url).path == "/memory", wait_until="commit")
    tab.wait_for_run()
    tab.nav("Train")
    assert wait_for(lambda: epochs_drawn(tab) == PRESETS["fast"].train.epochs, 15)
    assert "finished" in tab.status()
    assert tab.key("models").get_by_text("RNN").is_visible()
    assert tab.exceptions() == []
