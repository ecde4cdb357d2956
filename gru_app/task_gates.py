"""The Gates page's parts for window, classify and text runs (Streamlit only).

A window or classify run picks one window to trace (`window_picker`, `gate_view`); the rest
of the page is the forecast run's. A text run shows its own view (`text_units`): a passage
of the held-out text coloured by one unit, the units ranked by what they track.
"""

from __future__ import annotations

import streamlit as st

from gru_app import state
from gru_core.i18n import t
from gru_core.job import Snapshot
from gru_core.views import gates as gate_views
from gru_core.views import task_gates

WINDOW_KEY = "gates_window"


def window_picker(snap: Snapshot) -> tuple[int, int]:
    """Choose the window to trace (default: the first test window); say what is traced.

    Returns the window's steps as a [start, end) segment.
    """
    ss = st.session_state
    windows, train, steps = task_gates.window_shape(snap)
    if not isinstance(ss.get(WINDOW_KEY), int) or not 0 <= ss[WINDOW_KEY] < windows:
        ss[WINDOW_KEY] = train
    st.number_input(
        t("gates.window.label"),
        0,
        windows - 1,
        key=WINDOW_KEY,
        help=t("gates.window.help", last=train - 1, windows=windows),
    )
    part = t("gates.window.train") if ss[WINDOW_KEY] < train else t("gates.window.test")
    st.caption(t("gates.window.caption", window=ss[WINDOW_KEY], part=part))
    if snap.spec.options.get("bidirectional"):
        st.caption(t("gates.window.backward"))
    return 0, steps


def gate_view(snap: Snapshot, start: int, end: int, name: str, layer: int) -> gate_views.GateView:
    """The gates the page shows: over series[start:end] for a forecast run, over the chosen
    window for a window or classify run."""
    if snap.spec.task in task_gates.WINDOW_TASKS:
        return task_gates.window_gate_view(snap, st.session_state[WINDOW_KEY], name, layer)
    return gate_views.gate_view(snap, start, end, name=name, layer=layer)


RANKINGS = ("line", "punctuation")


def text_units(name: str, layer: int, running: bool) -> None:
    """A text run's units: a passage coloured by one of them, ranked by line position or
    punctuation; redrawn while the run trains."""
    ss = st.session_state
    st.subheader(t("gates.text.subheader"))
    st.caption(t("gates.text.intro"))
    held = len(task_gates.held_out_text(state.viewed_snapshot()))
    start, length, rank = st.columns([1, 1, 2])
    start.number_input(
        t("gates.text.start"),
        0,
        max(0, held - 1),
        0,
        key="gates_text_start",
        help=t("gates.text.start.help", chars=held),
    )
    length.number_input(
        t("gates.text.length"),
        20,
        task_gates.MAX_PASSAGE,
        task_gates.DEFAULT_PASSAGE,
        key="gates_text_length",
        help=t("gates.text.length.help", most=task_gates.MAX_PASSAGE),
    )
    rank.radio(
        t("gates.text.rank"),
        RANKINGS,
        key=state.translated("gates_text_rank"),
        horizontal=True,
        format_func=lambda r: t(f"gates.text.rank.{r}"),
    )

    @st.fragment(run_every=state.SLOW_POLL_SECONDS if running else None)
    def coloured() -> None:
        snap = state.viewed_snapshot()
        text = task_gates.passage(snap, ss["gates_text_start"], ss["gates_text_length"])
        acts = task_gates.text_activations(snap, text, name, layer)
        ranking = task_gates.unit_ranking(acts, ss["gates_text_rank"])
        r = dict(zip(ranking["unit"], ranking["correlation"], strict=True))
        if ss.get("gates_text_unit") not in r:
            ss["gates_text_unit"] = int(ranking["unit"].iloc[0])
        st.caption(t("gates.text.caption", epoch=snap.epoch, epochs=snap.epochs))
        st.selectbox(
            t("gates.text.unit"),
            [int(u) for u in ranking["unit"]],
            key=state.translated("gates_text_unit"),
            format_func=lambda u: t("gates.text.unit_option", unit=u, r=f"{r[u]:+.2f}"),
            help=t("gates.text.unit.help"),
        )
        st.html(task_gates.activation_html(text, acts.unit(ss["gates_text_unit"])))
        st.dataframe(
            ranking.head(10).rename(
                columns={"unit": t("gates.text.col.unit"), "correlation": t("gates.text.col.r")}
            ),
            hide_index=True,
            key="gates_text_ranking",
            column_config={t("gates.text.col.r"): st.column_config.NumberColumn(format="%+.3f")},
        )

    coloured()
