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
from gru_core.spec import task_options
from gru_core.tasks.classify import ClassifyConfig
from gru_core.tasks.text import TextOptions
from gru_core.tasks.window import WindowConfig

_WINDOW_FIELDS = {  # field -> (label, help)
    "windows": ("Windows", "How many windows of noisy sine."),
    "steps": ("Points per window", "What a model reads before it answers."),
    "train_windows": ("Training windows", "The leading windows train; the rest test."),
    "noise": ("Noise (std)", "Std of the Gaussian noise on every point."),
    "seed": ("Seed", "The same seed gives the same windows."),
}


def _numbers(cls: type, current: object, task: str) -> dict:
    values = {}
    for column, (name, (label, help)) in zip(
        st.columns(len(_WINDOW_FIELDS)), _WINDOW_FIELDS.items(), strict=True
    ):
        lo, hi = bounds(cls, name)
        value = getattr(current, name)
        cast = float if isinstance(value, float) else int
        values[name] = column.number_input(
            label, cast(lo), cast(hi), value, key=f"{task}_{name}", help=help
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
        key=key,
        format_func=names.get,
    )


def _window(current: WindowConfig) -> dict:
    values = _numbers(WindowConfig, current, "window")
    target = _choice(
        "Target",
        current.target,
        "window_target",
        {
            "next": "the value after the window (a forecast)",
            "last": "the window's own last point (the tutorial's)",
        },
    )
    if target == "last":
        st.warning(
            "The tutorial's target is the window's last point, which the model has just read:"
            " copying its last input is enough. A low error here shows memory of one step, not"
            " forecasting; choose 'the value after the window' to see forecasting."
        )
    bidirectional = st.toggle(
        "Bidirectional",
        current.bidirectional,
        key="window_bidirectional",
        help="Recurrent models also read each window backwards.",
    )
    return {**values, "target": target, "bidirectional": bidirectional}


def _classify(current: ClassifyConfig) -> dict:
    values = _numbers(ClassifyConfig, current, "classify")
    label = _choice(
        "Label",
        current.label,
        "classify_label",
        {"direction": "rising or falling at the window's end", "frequency": "which frequency band"},
    )
    classes = current.classes
    if label == "frequency":
        lo, hi = bounds(ClassifyConfig, "classes")
        classes = st.number_input("Bands", lo, hi, classes, key="classify_classes")
    st.caption(
        "The MLP sees only the window's last value (its input window on the Train page):"
        " one value cannot tell whether the sine is going up or coming down."
    )
    return {**values, "label": label, "classes": classes}


def _text(current: TextOptions) -> dict:
    names = {
        "tang": "唐诗三百首 (Tang poems)",
        "shakespeare": "Tiny Shakespeare",
        "upload": "your own .txt",
    }
    corpus = _choice("Corpus", current.corpus, "text_corpus", names)
    text = current.text
    if corpus == "upload":
        file = st.file_uploader(
            "A UTF-8 text file",
            type=["txt"],
            key="text_upload",
            help=f"Plain UTF-8 text, up to {chars.MAX_UPLOAD_BYTES // 2**20} MiB.",
        )
        if file is not None:
            try:
                text = chars.read_upload(file.getvalue())
            except chars.TextError as exc:
                st.error(str(exc))
        if not text:
            st.info("Choose a text file; until then the corpus stays as it was.")
            return dataclasses.asdict(current)
    else:
        text = ""
    prefix, temperature, length = st.columns(3)
    return {
        **dataclasses.asdict(current),
        "corpus": corpus,
        "text": text,
        "prefix": prefix.text_input(
            "Sample prefix",
            current.prefix,
            key="text_prefix",
            help="What samples continue; empty: the corpus's own (床前, ROMEO:).",
        ),
        "temperature": temperature.number_input(
            "Temperature",
            0.0,
            10.0,
            current.temperature,
            0.1,
            key="text_temperature",
            help="0: always the likeliest character; higher: bolder, stranger text.",
        ),
        "sample_length": length.number_input(
            "Sample length", 1, 2000, current.sample_length, key="text_sample_length"
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
        st.caption("These settings apply to the next run you start on the Train page.")
