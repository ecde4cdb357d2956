"""The two string tables agree, every key in them is used, and `t` switches per thread."""

from __future__ import annotations

import ast
import threading
from pathlib import Path

import pytest

from gru_core import i18n
from gru_core.strings.en import EN
from gru_core.strings.zh import ZH

ROOT = Path(__file__).resolve().parent.parent


def _sources() -> list[Path]:
    files = [ROOT / "app.py"]
    for folder in ("app_pages", "gru_app", "gru_core"):
        files += sorted(p for p in (ROOT / folder).rglob("*.py") if "strings" not in p.parts)
    return files


def _literal_keys() -> set[str]:
    """Every string literal in the code that looks like a key of the tables."""
    found = set()
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.add(node.value)
    return found


def test_both_tables_have_the_same_keys():
    assert sorted(set(EN) - set(ZH)) == [], "missing in 简体中文"
    assert sorted(set(ZH) - set(EN)) == [], "missing in English"


def test_translations_keep_their_placeholders():
    wrong = {k: (EN[k], ZH[k]) for k in EN if i18n.placeholders(EN[k]) != i18n.placeholders(ZH[k])}
    assert wrong == {}


def test_no_text_is_left_empty_or_untranslated():
    assert [k for k, v in {**EN, **ZH}.items() if not v.strip()] == []
    # A Chinese text identical to the English one was copied, not translated (names excepted).
    same = [k for k in EN if EN[k] == ZH[k] and any(c.islower() for c in EN[k])]
    assert same == []


def test_every_key_is_used_somewhere_in_the_code():
    literals = _literal_keys()
    # A key built from a prefix and a name (f"setting.{name}.label") counts when its prefix is used.
    prefixes = {s for s in literals if s.endswith(".")}
    unused = [k for k in EN if k not in literals and not any(k.startswith(p) for p in prefixes)]
    assert unused == []


def test_every_key_the_code_asks_for_exists():
    asked = set()
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", None)) == "t"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                asked.add((node.args[0].value, path.name))
    assert sorted(a for a in asked if a[0] not in EN) == []


def test_t_speaks_the_chosen_language_and_fills_placeholders():
    i18n.set_language("zh")
    try:
        assert i18n.t("app.language.help") == ZH["app.language.help"]
    finally:
        i18n.set_language("en")
    assert i18n.t("app.language.help") == EN["app.language.help"]
    with pytest.raises(KeyError):
        i18n.t("no.such.key")
    with pytest.raises(ValueError, match="en, zh"):
        i18n.set_language("fr")


def test_language_is_per_thread():
    i18n.set_language("en")
    seen = []

    def other() -> None:
        i18n.set_language("zh")
        seen.append(i18n.t("app.language.help"))

    worker = threading.Thread(target=other)
    worker.start()
    worker.join()
    assert seen == [ZH["app.language.help"]]
    assert (
        i18n.t("app.language.help") == EN["app.language.help"]
    )  # the other thread's choice did not leak here


@pytest.mark.parametrize(
    ("locale", "code"),
    [("zh-CN", "zh"), ("zh-TW", "zh"), ("ZH", "zh"), ("en-GB", "en"), ("de", "en"), (None, "en")],
)
def test_the_browser_locale_picks_the_default(locale, code):
    assert i18n.pick_language(locale) == code


def test_texts_follow_the_language_of_the_moment():
    table = i18n.Texts("status.", ("running", "finished"))
    assert list(table) == ["running", "finished"] and len(table) == 2
    assert table["running"] == EN["status.running"]
    i18n.set_language("zh")
    try:
        assert table["running"] == ZH["status.running"] != EN["status.running"]
        assert table.get("queued") is None  # a name not in the table, though its key exists
    finally:
        i18n.set_language("en")


def test_a_thread_that_set_no_language_follows_the_source():
    # Streamlit redraws a fragment in a fresh thread that never ran the app's set_language.
    seen = []

    def fragment() -> None:
        seen.append(i18n.t("app.language.help"))

    def run_in_fresh_thread() -> None:
        worker = threading.Thread(target=fragment)
        worker.start()
        worker.join()

    run_in_fresh_thread()
    i18n.follow(lambda: "zh")
    try:
        run_in_fresh_thread()
        i18n.follow(lambda: None)  # a source that knows nothing: English
        run_in_fresh_thread()
    finally:
        i18n.follow(None)
    assert seen == [EN["app.language.help"], ZH["app.language.help"], EN["app.language.help"]]


@pytest.mark.parametrize("table", ["en.py", "zh.py"])
def test_no_key_is_written_twice_in_a_table(table):
    # A dict literal keeps the last of two equal keys silently: the first text would be lost.
    tree = ast.parse((ROOT / "gru_core" / "strings" / table).read_text(encoding="utf-8"))
    literal = next(n for n in ast.walk(tree) if isinstance(n, ast.Dict))
    keys = [k.value for k in literal.keys]
    assert sorted({k for k in keys if keys.count(k) > 1}) == []


@pytest.mark.parametrize("code", ["zh", "en"])
def test_errors_a_user_reads_speak_the_chosen_language(code):
    from gru_core.bundle import BundleError, read_bundle
    from gru_core.data import DataError, load_series

    table = i18n.TABLES[code]
    i18n.set_language(code)
    try:
        with pytest.raises(DataError) as empty:
            load_series(b"\n\n")
        with pytest.raises(DataError) as text:
            load_series(b"value\n1\n2\nabc\n3\n")
        with pytest.raises(BundleError) as not_zip:
            read_bundle(b"plain text, not a zip")
    finally:
        i18n.set_language("en")
    assert str(empty.value) == table["data.error.empty"]
    assert str(text.value) == table["data.error.not_number"].format(
        line=4, cell="'abc'", where="", more=""
    )
    assert str(not_zip.value) == table["bundle.error.zip_archive_run"]
