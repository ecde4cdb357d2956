"""Setting widgets, each made from its setting's one declaration (gru_core.config metadata).

The label, help text, range and widget kind come from the config field; the value lives
in session state under `gru_app.state.TRAIN_KEYS[key]`. Nothing here repeats a range.
"""

from __future__ import annotations

import dataclasses

import streamlit as st

from gru_app.state import TRAIN_KEYS
from gru_core.config import MODEL_KINDS, PRESETS, bounds
from gru_core.i18n import shown
from gru_core.views import train as train_views


def config_number(
    column, label: str, key: str, cls: type, field: str, help: str, step: float | None = None
) -> None:
    """A number box whose range is the config field's own, so widget and validation agree."""
    lo, hi = bounds(cls, field)
    cast = float if isinstance(st.session_state[key], float) else int
    column.number_input(
        label, cast(lo), cast(hi), step=step, key=key, persist_state="session", help=help
    )


def setting(column, name: str) -> None:
    """The widget for one training setting, in `column`; its value lives in session state."""
    s = dataclasses.replace(
        train_views.SETTINGS[name],
        label=shown(train_views.SETTINGS[name].label),
        help=shown(train_views.SETTINGS[name].help),
    )
    key = TRAIN_KEYS[name]
    common = dict(key=key, help=s.help, persist_state="session")
    if s.widget == "lr":
        lrs = train_views.lr_options(st.session_state[key], *(p.train.lr for p in PRESETS.values()))
        column.select_slider(s.label, lrs, format_func=train_views.format_lr, **common)
    elif s.widget == "device":
        column.selectbox(s.label, train_views.device_options(), **common)
    elif s.widget == "radio":
        column.radio(s.label, s.choices, horizontal=True, **common)
    elif s.widget == "select":
        column.selectbox(s.label, s.choices, **common)
    elif s.widget == "multiselect":
        column.multiselect(s.label, s.choices, format_func=MODEL_KINDS.get, **common)
    elif s.widget == "text":
        column.text_input(s.label, **common)
    elif s.widget == "toggle":
        column.toggle(s.label, **common)
    else:
        lo, hi = s.range
        cast = float if isinstance(st.session_state[key], float) else int
        column.number_input(s.label, cast(lo), cast(hi), step=s.step, **common)
