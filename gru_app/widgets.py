"""Setting widgets, each made from its setting's one declaration (gru_core.config metadata).

The label, help text, range and widget kind come from the config field; the value lives
in session state under `gru_app.state.TRAIN_KEYS[key]`. Nothing here repeats a range.
Every setting widget is bound to the URL's query parameter of its key (the command line's
flag): a value that differs from its default (the preset's) is kept in the link.
"""

from __future__ import annotations

import streamlit as st

from gru_app.state import PRESET_KEY, TRAIN_KEYS
from gru_core import links
from gru_core.config import MODEL_KINDS, PRESETS, bounds
from gru_core.views import train as train_views

BOUND = dict(bind="query-params", persist_state="session")  # every setting: in the URL


def config_number(
    column, label: str, key: str, cls: type, field: str, help: str, step: float | None = None
) -> None:
    """A number box whose range is the config field's own, so widget and validation agree.

    Its default (left out of the URL) is the field's own default.
    """
    lo, hi = bounds(cls, field)
    cast = float if isinstance(st.session_state[key], float) else int
    default = cast(getattr(cls(), field))
    column.number_input(label, cast(lo), cast(hi), default, step=step, key=key, help=help, **BOUND)


def setting(column, name: str) -> None:
    """The widget for one training setting, in `column`; its value lives in session state.

    Its default, which the URL leaves out, is the chosen preset's value.
    """
    s = train_views.SETTINGS[name]
    key = TRAIN_KEYS[name]
    default = train_views.preset_settings(st.session_state[PRESET_KEY])[name]
    common = dict(key=key, help=s.help, **BOUND)
    if s.widget == "lr":
        lrs = train_views.lr_options(st.session_state[key], *(p.train.lr for p in PRESETS.values()))
        column.select_slider(s.label, lrs, value=default, format_func=links.lr_text, **common)
    elif s.widget == "device":
        options = train_views.device_options()
        column.selectbox(s.label, options, index=_index(options, default), **common)
    elif s.widget == "radio":
        column.radio(
            s.label, s.choices, index=_index(s.choices, default), horizontal=True, **common
        )
    elif s.widget == "select":
        column.selectbox(s.label, s.choices, index=_index(s.choices, default), **common)
    elif s.widget == "multiselect":
        column.multiselect(s.label, s.choices, default, format_func=MODEL_KINDS.get, **common)
    elif s.widget == "text":
        column.text_input(s.label, default, **common)
    elif s.widget == "toggle":
        column.toggle(s.label, default, **common)
    else:
        lo, hi = s.range
        cast = float if isinstance(st.session_state[key], float) else int
        column.number_input(s.label, cast(lo), cast(hi), cast(default), step=s.step, **common)


def _index(options, value) -> int:
    return list(options).index(value) if value in options else 0
