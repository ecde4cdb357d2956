"""Browser: the browser's language picks the app's, the sidebar's switch changes it, and
`?lang=zh` opens the app in 简体中文 whatever the browser's language."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from gru_core.strings.en import EN
from gru_core.strings.zh import ZH
from tests.e2e.conftest import ARTIFACTS, AppPage, wait_for

VIEWPORT = {"width": 1400, "height": 900}


def _tab(browser, server, locale: str) -> tuple[object, AppPage]:
    context = browser.new_context(viewport=VIEWPORT, locale=locale)
    page = context.new_page()
    page.set_default_timeout(30_000)
    return context, AppPage(page, server.url)


def _open(tab: AppPage, query: str = "") -> None:
    """Load the app; the first page of a fresh server can take long on a busy machine."""
    tab.page.goto(f"{tab.base_url}/{query}")
    tab.wait_for_run(timeout=120_000)


def _nav_links(tab: AppPage) -> list[str]:
    return tab.page.locator("[data-testid='stSidebarNav'] a").all_inner_texts()


def _main_text(tab: AppPage) -> str:
    return tab.page.locator("[data-testid='stMain']").inner_text()


def _speaks(tab: AppPage, table: dict[str, str]) -> bool:
    """The page titles in the sidebar and the Overview's button are those of `table`."""
    links = " ".join(_nav_links(tab))
    pages = ("page.overview", "page.train", "page.runs", "page.sweep")
    return all(table[k] in links for k in pages) and table["overview.train_defaults"] in (
        _main_text(tab)
    )


def test_a_chinese_browser_gets_chinese_and_the_sidebar_switches_to_english(browser, server):
    context, tab = _tab(browser, server, "zh-CN")
    try:
        _open(tab)
        assert wait_for(lambda: _speaks(tab, ZH), 90), (_nav_links(tab), _main_text(tab))
        assert not _speaks(tab, EN)
        assert EN["overview.why"] not in _main_text(tab)
        assert ZH["overview.why"] in _main_text(tab)
        assert ZH["status.none"] in tab.status()

        # A first run, then the Overview as a Chinese reader sees it (the README's screenshot).
        tab.page.get_by_role("button", name=ZH["overview.train_defaults"]).click()
        tab.wait_for_run()
        assert wait_for(lambda: ZH["status.finished"] in tab.status(), 60, 0.5), tab.status()
        tab.page.locator("[data-testid='stSidebarNav']").get_by_role(
            "link", name=ZH["page.overview"]
        ).click()
        tab.wait_for_run()
        assert wait_for(lambda: ZH["card.test"].format(model="GRU") in _main_text(tab), 30)
        tab.page.wait_for_timeout(1500)  # the charts finish drawing
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        tab.page.screenshot(path=str(ARTIFACTS / "overview-zh.png"))

        tab.select("lang", "English")
        assert wait_for(lambda: _speaks(tab, EN), 90)
        assert not _speaks(tab, ZH) and EN["status.finished"] in tab.status()
        assert "lang" in parse_qs(urlparse(tab.page.url).query)  # kept in the URL
        tab.page.reload()
        tab.wait_for_run()
        assert wait_for(lambda: _speaks(tab, EN), 90)  # the URL's choice beats the browser's
        assert tab.exceptions() == []
    finally:
        context.close()


def test_lang_zh_in_the_url_opens_chinese_in_an_english_browser(browser, server):
    context, tab = _tab(browser, server, "en-US")
    try:
        _open(tab)
        assert wait_for(lambda: _speaks(tab, EN), 90)  # the control: this browser gets English
        _open(tab, "?lang=zh")
        assert wait_for(lambda: _speaks(tab, ZH), 90) and not _speaks(tab, EN)
        # Another page, another run of the script: still Chinese (the choice is kept).
        tab.page.locator("[data-testid='stSidebarNav']").get_by_role(
            "link", name=ZH["page.runs"]
        ).click()
        tab.wait_for_run()
        title = tab.page.locator("h1").first
        assert wait_for(lambda: title.inner_text().strip() == ZH["page.runs"], 60)
        assert ZH["page.overview"] in " ".join(_nav_links(tab))
        assert tab.exceptions() == []
    finally:
        context.close()


def test_a_language_switch_keeps_the_choices_it_relabels(browser, server):
    """A choice box shows its option in the new language and keeps it at the next click
    (Streamlit keeps a choice as its label: the old language's would match no option)."""
    context, tab = _tab(browser, server, "en-US")
    try:
        _open(tab, "sweep")
        seq_len = f"{EN['setting.seq_len.label']} (seq-len)"
        tab.select("sweep_setting_2", seq_len)
        tab.select("lang", "简体中文")
        second = tab.key("sweep_setting_2").locator("input").first
        shown = f"{ZH['setting.seq_len.label']} (seq-len)"
        assert wait_for(lambda: second.input_value() == shown, 30), second.input_value()
        box = tab.key("sweep_values_hidden").locator("input").first  # another click
        box.fill("4, 8")
        box.press("Enter")
        # 2 hidden sizes x 3 sequence lengths x 3 seeds: the second setting is still seq-len
        assert wait_for(lambda: "共 18 个运行" in _main_text(tab), 30), _main_text(tab)
        tab.wait_for_run()
        assert second.input_value() == shown
        assert tab.exceptions() == []
    finally:
        context.close()
