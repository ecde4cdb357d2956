"""The Data page's settings of the window, classify and text tasks (Streamlit only).

Each widget starts from the task's current options and writes them back through
`state.set_options`, which validates them; a bad value shows one line and keeps the last
good options.
"""

from __future__ import annotations

import dataclasses

import streamlit as st

from gru_app import state
from gru_core import text as chars
from gru_core.config import bounds
from gru_core.i18n import t
from gru_core.spec import task_options
from gru_core.tasks.classify import ClassifyConfig
from gru_core.tasks.text import MAX_PREFIX, TextOptions
from gru_core.tasks.window import WindowConfig

# The windows' numeric fields; each one's label and help are the texts `windows.<field>`
# and `windows.<field>.help`.
_WINDOW_FIELDS = ("windows", "steps", "train_windows", "noise", "seed")


def _numbers(cls: type, current: object, task: str) -> dict:
    values = {}
    for column, name in zip(st.columns(len(_WINDOW_FIELDS)), _WINDOW_FIELDS, strict=True):
        lo, hi = bounds(cls, name)
        value = getattr(current, name)
        cast = float if isinstance(value, float) else int
        values[name] = column.number_input(
            t(f"windows.{name}"),
            cast(lo),
            cast(hi),
            value,
            key=f"{task}_{name}",
            help=t(f"windows.{name}.help"),
        )
    return values


def _choice(label: str, current: str, key: str, names: dict[str, str]) -> str:
    """A horizontal radio over `names`' keys, shown by their values."""
    options = tuple(names)
    return st.radio(
        label,
        options,
        index=options.index(current),
        horizontal=True,
        key=state.translated(key),
        format_func=names.get,
    )


def _window(current: WindowConfig) -> dict:
    values = _numbers(WindowConfig, current, "window")
    target = _choice(
        t("windows.target"),
        current.target,
        "window_target",
        {"next": t("windows.target.next"), "last": t("windows.target.last")},
    )
    if target == "last":
        st.warning(t("windows.target.last.warning", next=t("windows.target.next")))
    bidirectional = st.toggle(
        t("windows.bidirectional"),
        current.bidirectional,
        key="window_bidirectional",
        help=t("windows.bidirectional.help"),
    )
    return {**values, "target": target, "bidirectional": bidirectional}


def _classify(current: ClassifyConfig) -> dict:
    values = _numbers(ClassifyConfig, current, "classify")
    label = _choice(
        t("classify.label"),
        current.label,
        "classify_label",
        {"direction": t("classify.label.direction"), "frequency": t("classify.label.frequency")},
    )
    classes = current.classes
    if label == "frequency":
        lo, hi = bounds(ClassifyConfig, "classes")
        classes = st.number_input(t("classify.bands"), lo, hi, classes, key="classify_classes")
    st.caption(t("classify.mlp"))
    return {**values, "label": label, "classes": classes}


def _text(current: TextOptions) -> dict:
    names = {
        "tang": t("text.corpus.tang"),
        "shakespeare": "Tiny Shakespeare",
        "upload": t("text.corpus.upload"),
    }
    corpus = _choice(t("text.corpus"), current.corpus, "text_corpus", names)
    text = current.text
    if corpus == "upload":
        file = st.file_uploader(
            t("text.file"),
            type=["txt"],
            key="text_upload",
            help=t("text.file.help", mib=chars.MAX_UPLOAD_BYTES // 2**20),
        )
        if file is not None:
            try:
                text = chars.read_upload(file.getvalue())
            except chars.TextError as exc:
                st.error(str(exc))
        if not text:
            st.info(t("text.file.none"))
            return dataclasses.asdict(current)
    else:
        text = ""
    prefix, temperature, length = st.columns(3)
    return {
        **dataclasses.asdict(current),
        "corpus": corpus,
        "text": text,
        "prefix": prefix.text_input(
            t("text.prefix"),
            current.prefix,
            max_chars=MAX_PREFIX,
            key="text_prefix",
            help=t("text.prefix.help"),
        ),
        "temperature": temperature.number_input(
            t("text.temperature"),
            0.0,
            10.0,
            current.temperature,
            0.1,
            key="text_temperature",
            help=t("text.temperature.help"),
        ),
        "sample_length": length.number_input(
            t("text.sample_length"), 1, 2000, current.sample_length, key="text_sample_length"
        ),
    }


_SETTINGS = {"window": _window, "classify": _classify, "text": _text}


def settings(task: str) -> None:
    """The task's data settings; valid ones become the task's options for the next run."""
    current = task_options(task, state.options())
    error = state.set_options(_SETTINGS[task](current))
    if error:
        st.error(error)
    else:
        st.caption(t("task_data.next_run"))
