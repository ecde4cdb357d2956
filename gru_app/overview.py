"""The Overview's prose, equations and one-click button: drawn alike by its page and by the
first page a fresh server shows while the engine loads (`gru_app.loading`). No torch here."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from gru_app import layout
from gru_core.i18n import t
from gru_core.views.overview import GRU_EQUATIONS

CHART_HEIGHT = 360  # px, the ambiguity figure's (`figures.ambiguity_figure`)


def top() -> list:
    """The title and the lead; returns the row's two columns: the button's, the run's."""
    st.title("GRU Lab")
    st.markdown(t("overview.intro"))
    return layout.columns([2, 3], key="overview_top", min_width="20rem", gap="large")


def train_button(on_click: Callable[[], None]) -> None:
    st.subheader(t("overview.try"))
    st.button(
        t("overview.train_defaults"),
        key="overview_train",
        type="primary",
        icon=":material/play_arrow:",
        on_click=on_click,
        help=t("overview.train_defaults.help"),
    )


def lesson(chart: Callable[[], None]) -> None:
    """The equations and why a window of one value is not enough; `chart` draws the figure."""
    st.divider()
    equations, why = layout.columns(2, key="overview_lesson", min_width="24rem", gap="large")
    with equations:
        st.subheader(t("overview.inside"))
        st.markdown(t("overview.inside.lead"))
        for equation in GRU_EQUATIONS:
            st.latex(equation)
        st.markdown(t("overview.gates"))
    with why:
        st.subheader(t("overview.why"))
        chart()
        st.markdown(t("overview.why.text"))
