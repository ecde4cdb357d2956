"""Overview: what a GRU is, why the MLP fails on a sine, and a one-click first run."""

import streamlit as st

from gru_app import overview, present, render, state
from gru_core import figures
from gru_core.i18n import t
from gru_core.views import data as data_views
from gru_core.views import train as train_views

start, status = overview.top()
with start:
    overview.train_button(state.ask_train_with_defaults)
    if st.session_state.get(state.CONFIRM_DEFAULTS_KEY):
        changed, running = state.defaults_would_replace()
        lost = [t("overview.confirm.settings", names=", ".join(changed))] if changed else []
        lost += [t("overview.confirm.run")] if running else []
        st.warning(t("overview.confirm", lost="; ".join(lost)), icon=":material/warning:")
        yes, no = st.columns(2)
        yes.button(
            t("overview.confirm.yes"),
            key="overview_confirm_yes",
            type="primary",
            on_click=state.train_with_defaults,
        )
        no.button(
            t("overview.confirm.no"),
            key="overview_confirm_no",
            on_click=state.cancel_train_with_defaults,
        )
    if st.session_state.get("run_error"):
        st.error(st.session_state["run_error"])
    elif st.session_state.pop(state.STARTED_KEY, False):
        st.switch_page("app_pages/train.py")
    st.caption(
        t(
            "overview.train_defaults.caption",
            preset=train_views.DEFAULT_PRESET,
            data=data_views.shown_label(state.dataset()),
        )
    )

running = state.is_running()


@st.fragment(run_every=state.POLL_SECONDS if running else None)
def current_run() -> None:
    snap = state.snapshot()
    st.subheader(t("app.current_run"))
    render.status_block(snap)
    if snap is None:
        return
    # The lesson in a few numbers: each model's test error (the GRU's against the MLP's).
    cards = train_views.metric_cards(snap)[: len(snap.names)]
    render.metric_cards(snap, per_row=len(cards), cards=cards)
    st.caption(t("overview.cards.caption"))


with status:
    current_run()

overview.lesson(
    lambda: present.plotly_chart(
        st, figures.ambiguity_figure(), key="overview_ambiguity", width="stretch"
    )
)
