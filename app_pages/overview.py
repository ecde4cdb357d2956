"""Overview: what a GRU is, why the MLP fails on a sine, and a one-click first run."""

import streamlit as st

from gru_app import layout, present, render, state
from gru_core import figures
from gru_core.i18n import t
from gru_core.views import overview
from gru_core.views import train as train_views

st.title("GRU Lab")
st.markdown(
    "A **gated recurrent unit (GRU)** is a recurrent network: it reads a sequence one value "
    "at a time and carries a *hidden state* $h_t$ — a small vector that summarises what it "
    "has seen so far. Two *gates* decide, unit by unit and step by step, how much of that "
    "memory to use and how much to keep. Here a GRU and a plain MLP learn to forecast a "
    "noisy sine wave, and you can watch both learn, look inside the gates, and see how each "
    "forecasts when it has to feed on its own predictions."
)

start, status = layout.columns([2, 3], key="overview_top", min_width="20rem", gap="large")
with start:
    st.subheader("Try it")
    st.button(
        "Train with defaults",
        key="overview_train",
        type="primary",
        icon=":material/play_arrow:",
        on_click=state.ask_train_with_defaults,
        help="Trains the GRU and the MLP with the 'fast' preset on the current data"
        " and opens the Train page.",
    )
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
        f"The '{train_views.DEFAULT_PRESET}' preset on the current data ({state.dataset().label})."
        " A run already going is replaced."
    )

running = state.is_running()


@st.fragment(run_every=state.POLL_SECONDS if running else None)
def current_run() -> None:
    snap = state.snapshot()
    st.subheader("Current run")
    render.status_block(snap)
    if snap is None:
        return
    # The lesson in a few numbers: each model's test error (the GRU's against the MLP's).
    cards = train_views.metric_cards(snap)[: len(snap.names)]
    render.metric_cards(snap, per_row=len(cards), cards=cards)
    st.caption("Test MSE of each model's free-running forecast of the test part.")


with status:
    current_run()

st.divider()
equations, why = layout.columns(2, key="overview_lesson", min_width="24rem", gap="large")
with equations:
    st.subheader("Inside a GRU")
    st.markdown(
        "At each step $t$ the GRU reads $x_t$ and updates its state (PyTorch's convention):"
    )
    for equation in overview.GRU_EQUATIONS:
        st.latex(equation)
    st.markdown(
        "- The **reset gate** $r_t \\in [0, 1]$ chooses how much of the old state feeds the new"
        " candidate $n_t$: near 0, the unit looks only at the current input.\n"
        "- The **update gate** $z_t \\in [0, 1]$ chooses how much of the old state to keep:"
        " near 1, the unit holds its memory; near 0, it takes the candidate. A unit whose"
        " $z$ averages $\\bar z$ remembers for about $1/(1-\\bar z)$ steps.\n"
        "- $\\sigma$ is the logistic sigmoid and $\\odot$ multiplies element by element."
    )
with why:
    st.subheader("Why the MLP cannot do it")
    present.plotly_chart(st, figures.ambiguity_figure(), key="overview_ambiguity", width="stretch")
    st.markdown(
        "The MLP baseline sees only the current value. A sine passes every value twice per"
        " period, once rising and once falling, so from one value alone the next one is"
        " ambiguous: the best the MLP can learn is an average. Fed its own predictions, its"
        " forecast collapses. The GRU's hidden state remembers where the wave came from, so it"
        " knows which way it is going."
    )
