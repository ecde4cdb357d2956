"""The words the user reads, in English or 简体中文: `t("key")` gives one in the chosen language.

Each language has one table, `gru_core/strings/<code>.py` (`EN`, `ZH`: key -> text), so a
translator works in one file. Keys are short dotted names (`"train.start"`); a text may hold
`{placeholders}`, filled by `t(key, name=value)`. Where a text is declared before the language
is known (a setting's label in `config`), its key is stored and `t` is called where it is shown.

The language is per caller, not global: the app sets it at the top of each rerun
(`set_language`), and each browser session runs in its own thread, so one session's choice never
leaks into another's. `tests/test_i18n.py` fails when a key is missing in either table, unused,
or a translation drops or invents a placeholder. This module knows nothing of Streamlit.
"""

from __future__ import annotations

import contextvars
import string

from gru_core.strings.en import EN
from gru_core.strings.zh import ZH

LANGUAGES = {"en": "English", "zh": "简体中文"}  # code -> its own name, for the switch
DEFAULT_LANGUAGE = "en"
TABLES: dict[str, dict[str, str]] = {"en": EN, "zh": ZH}

_language: contextvars.ContextVar[str] = contextvars.ContextVar("language", default="en")


def set_language(code: str) -> None:
    """Use `code` ("en" or "zh") for every `t` call in this thread from now on."""
    if code not in LANGUAGES:
        raise ValueError(f"unknown language {code!r}; choose one of {', '.join(LANGUAGES)}")
    _language.set(code)


def language() -> str:
    """The language `t` speaks now."""
    return _language.get()


def t(key: str, /, **values: object) -> str:
    """The text for `key` in the current language, its `{placeholders}` filled from `values`.

    A key missing from the current table falls back to English (the tests keep that from
    shipping); a key missing from both raises KeyError, so a typo fails at once.
    """
    text = TABLES[_language.get()].get(key)
    if text is None:
        text = EN[key]
    return text.format(**values) if values else text


def shown(text: str) -> str:
    """A declared text as shown: its translation where it is a key of the tables (a setting's
    label or help in `gru_core.config`), else the text itself."""
    return t(text) if text in EN else text


def placeholders(text: str) -> set[str]:
    """The `{names}` a text expects."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def pick_language(locale: str | None) -> str:
    """The language for a browser's locale ("zh-CN", "zh-TW", "en-GB", None): Chinese or English."""
    if locale and locale.strip().lower().startswith("zh"):
        return "zh"
    return DEFAULT_LANGUAGE
