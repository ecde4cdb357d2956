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
from collections.abc import Callable, Iterable, Iterator, Mapping

from gru_core.strings.en import EN
from gru_core.strings.zh import ZH

LANGUAGES = {"en": "English", "zh": "简体中文"}  # code -> its own name, for the switch
DEFAULT_LANGUAGE = "en"
TABLES: dict[str, dict[str, str]] = {"en": EN, "zh": ZH}

_language: contextvars.ContextVar[str | None] = contextvars.ContextVar("language", default=None)
_source: Callable[[], str | None] | None = None


def set_language(code: str) -> None:
    """Use `code` ("en" or "zh") for every `t` call in this thread from now on."""
    if code not in LANGUAGES:
        raise ValueError(f"unknown language {code!r}; choose one of {', '.join(LANGUAGES)}")
    _language.set(code)


def follow(source: Callable[[], str | None] | None) -> None:
    """Where a thread that set no language asks for one: `source()` gives a code, or None.

    The app's pages run some parts (fragments that redraw on their own) in fresh threads that
    never ran the app's top, where `set_language` is called; the app points this at the
    session's choice so those parts speak it too. None: ask nothing (English).
    """
    global _source
    _source = source


def language() -> str:
    """The language `t` speaks now: this thread's, else the followed source's, else English."""
    code = _language.get()
    if code is None and _source is not None:
        code = _source()
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


def t(key: str, /, **values: object) -> str:
    """The text for `key` in the current language, its `{placeholders}` filled from `values`.

    A key missing from the current table falls back to English (the tests keep that from
    shipping); a key missing from both raises KeyError, so a typo fails at once.
    """
    text = TABLES[language()].get(key)
    if text is None:
        text = EN[key]
    return text.format(**values) if values else text


class Texts(Mapping[str, str]):
    """name -> the text `<prefix><name>` in the language of the moment, looked up when read.

    For a table declared at import time (gate names, task labels) that must follow the
    language: `Texts("gate.", ("r", "z"))["r"]` is `t("gate.r")`; unknown names raise KeyError.
    """

    def __init__(self, prefix: str, names: Iterable[str]) -> None:
        self._prefix = prefix
        self._names = tuple(names)

    def __getitem__(self, name: str) -> str:
        if name not in self._names:
            raise KeyError(name)
        return t(self._prefix + name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def placeholders(text: str) -> set[str]:
    """The `{names}` a text expects."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def pick_language(locale: str | None) -> str:
    """The language for a browser's locale ("zh-CN", "zh-TW", "en-GB", None): Chinese or English."""
    if locale and locale.strip().lower().startswith("zh"):
        return "zh"
    return DEFAULT_LANGUAGE
