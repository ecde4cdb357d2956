"""Gates: r, z, n and h of the GRU over a stretch of the series, and the equations in numbers."""

import streamlit as st

from gru_app import render, state
from gru_core import figures
from gru_core.views import gates

st.title("Gates")
snap = render.need_run()
render.need_forecast(snap)
n_points, n_train = len(snap.series), snap.n_train
gated = snap.recurrent()[0]  # the first model with gates
hidden = snap.spec.model(gated).hidden_size
running = snap.running

st.session_state["gates_segment"] = gates.clamp_segment(
    st.session_state.get("gates_segment"), n_points, n_train
)
st.slider(
    "Segment (time steps)",
    0,
    n_points,
    key="gates_segment",
    help=f"The stretch of the series to look at (at most {gates.MAX_SEGMENT} steps); the test"
    f" part starts at {n_train}. The state is first warmed on up to"
    f" {snap.train_cfg.eval_warmup} points before it.",
)
start, end = gates.clamp_segment(st.session_state["gates_segment"], n_points, n_train)


@st.fragment(run_every=state.SLOW_POLL_SECONDS if running else None)
def gates_view() -> None:
    snap = state.snapshot()
    view = gates.gate_view(snap, start, end, name=gated)
    note = f" ({view.layer_note})" if view.layer_note else ""
    st.caption(
        f"Epoch {snap.epoch} of {snap.epochs}{note}. Steps {start}–{end - 1}; the state was"
        f" warmed on the {view.warmup} points before. Each heatmap row is one unit."
    )
    ss = st.session_state
    ss["gates_t"] = min(max(ss.get("gates_t", n_train), start), end - 1)
    ss["gates_unit"] = min(ss.get("gates_unit", 0), hidden - 1)
    shown_units = list(range(min(hidden, 64)))
    st.plotly_chart(
        figures.gates_figure(
            view.index,
            view.signal,
            view.gates,
            units=shown_units,
            mark=(ss["gates_t"], ss["gates_unit"]),
        ),
        key="gates_heatmaps",
        width="stretch",
    )
    if hidden > len(shown_units):
        st.caption(f"Heatmaps show units 0–{len(shown_units) - 1} of {hidden}.")

    st.subheader("Units over time")
    if "gates_units" not in ss:
        ss["gates_units"] = gates.default_units(view)
    ss["gates_units"] = [u for u in ss["gates_units"] if u < hidden]
    chosen = st.multiselect(
        "Units",
        list(range(hidden)),
        key="gates_units",
        help="Preselected: the units with the longest memory.",
    )
    if chosen:
        st.plotly_chart(
            figures.unit_lines_figure(view.index, view.gates, chosen),
            key="gates_units_lines",
            width="stretch",
        )

    summary = gates.unit_summary(view)
    bars, table = st.columns([3, 2])
    bars.plotly_chart(
        figures.memory_figure(summary["mean z"].to_numpy(), summary["memory (steps)"].to_numpy()),
        key="gates_memory",
        width="stretch",
    )
    table.dataframe(
        summary,
        hide_index=True,
        key="gates_table",
        height=380,
        column_config={
            c: st.column_config.NumberColumn(format="%.3f")
            for c in ("mean r", "mean z", "memory (steps)")
        },
    )

    st.subheader("The equations, in numbers")
    pick_t, pick_unit = st.columns([3, 1])
    pick_t.slider("Time step", start, end - 1, key="gates_t")
    pick_unit.selectbox("Unit", list(range(hidden)), key="gates_unit")
    terms = gates.equation_terms(view, ss["gates_t"], ss["gates_unit"])
    scaled = " (standardised, as the model reads it)" if snap.train_cfg.standardize else ""
    st.markdown(
        f"At step {terms.position}, unit {terms.unit}: input $x_t = {terms.x:.3f}${scaled},"
        f" previous state $h_{{t-1}} = {terms.h_prev:.3f}$. Products with $h_{{t-1}}$ sum over"
        f" all {hidden} units."
    )
    for equation in gates.equation_latex(terms):
        st.latex(equation)


gates_view()
