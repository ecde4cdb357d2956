"""Gates: every gate of a chosen recurrent model over a stretch of the series, in numbers."""

import streamlit as st

from gru_app import layout, present, render, replay, state, task_gates
from gru_core import cells, figures
from gru_core.views import gates

st.title("Gates")
snap = render.need_run()
n_points, n_train = len(snap.series), snap.n_train
recurrent = snap.recurrent()
if not recurrent:
    st.info("This run has no recurrent model: add an RNN, LSTM or GRU on the Train page.")
    st.stop()
running = snap.running
ss = st.session_state
replay.control(snap, "gates")

if ss.get("gates_model") not in recurrent:
    ss["gates_model"] = recurrent[0]
pick_model, pick_layer = st.columns([3, 1])
pick_model.selectbox(
    "Model", recurrent, key="gates_model", format_func=snap.label, help="Whose gates to show."
)
name = ss["gates_model"]
spec = snap.spec.model(name)
hidden, layers = spec.hidden_size, spec.num_layers
layer_options = list(range(layers))
if ss.get("gates_layer") not in layer_options:
    ss["gates_layer"] = 0
pick_layer.selectbox(
    "Layer",
    layer_options,
    key="gates_layer",
    format_func=lambda k: f"{k + 1} of {layers}",
    disabled=layers == 1,
    help="Which layer of the stack; the ones below feed it (in eval mode, without dropout).",
)
if snap.spec.task == "text":
    task_gates.text_units(name, ss["gates_layer"], running)
    st.stop()
info = cells.KINDS[spec.kind]
st.info(
    f"**{info.label}.** {info.convention} {gates.LOOK_FOR[spec.kind]}", icon=":material/lightbulb:"
)

if snap.spec.task == "forecast":
    ss["gates_segment"] = gates.clamp_segment(ss.get("gates_segment"), n_points, n_train)
    st.slider(
        "Segment (time steps)",
        0,
        n_points,
        key="gates_segment",
        help=f"The stretch of the series to look at (at most {gates.MAX_SEGMENT} steps); the"
        f" test part starts at {n_train}. The state is first warmed on up to"
        f" {snap.train_cfg.eval_warmup} points before it.",
    )
    start, end = gates.clamp_segment(ss["gates_segment"], n_points, n_train)
else:
    start, end = task_gates.window_picker(snap)


@st.fragment(run_every=state.SLOW_POLL_SECONDS if running else None)
def gates_view() -> None:
    snap = replay.shown(state.viewed_snapshot())
    view = task_gates.gate_view(snap, start, end, name, ss["gates_layer"])
    spans = gates.slope_spans(view.signal)
    note = f" ({view.layer_note})" if view.layer_note else ""
    st.caption(
        f"Epoch {snap.epoch} of {snap.epochs}{note}. Steps {start}–{end - 1}; the state was"
        f" warmed on the {view.warmup} points before. Shaded: where the input rises (green)"
        " and falls (orange). Each heatmap row is one unit."
    )
    ss["gates_t"] = min(max(ss.get("gates_t", n_train), start), end - 1)
    if ss.get("gates_unit") not in range(hidden):
        ss["gates_unit"] = gates.default_units(view, 1)[0]
    shown_units = gates.heatmap_units(view)
    present.plotly_chart(
        st,
        figures.gates_figure(
            view.index,
            view.signal,
            view.gates,
            units=shown_units,
            mark=(ss["gates_t"], ss["gates_unit"]),
            spans=spans,
        ),
        key="gates_heatmaps",
        width="stretch",
    )
    if hidden > len(shown_units):
        st.caption(
            f"Heatmaps show the {len(shown_units)} most active of {hidden} units (largest"
            " spread of h first); pick any unit below."
        )

    st.subheader("One unit, step by step")
    pick_unit, pick_t = st.columns([1, 3])
    pick_unit.selectbox(
        "Unit",
        list(range(hidden)),
        key="gates_unit",
        help="Any unit; the first shown has the longest memory (or is the most active).",
    )
    pick_t.slider("Time step", start, end - 1, key="gates_t")
    unit = ss["gates_unit"]
    present.plotly_chart(
        st,
        figures.unit_over_input_figure(view.index, view.signal, view.gates, unit, spans),
        key="gates_unit_over_input",
        width="stretch",
    )
    terms = gates.equation_terms(view, ss["gates_t"], unit)
    scaled = " (standardised, as the model reads it)" if snap.train_cfg.standardize else ""
    reads = (
        f"input $x_t = {terms.x:.3f}${scaled}"
        if view.layer == 0
        else f"the {hidden} outputs of layer {view.layer} below"
    )
    st.markdown(
        f"**The equations, in numbers.** At step {terms.position}, unit {terms.unit}: {reads},"
        f" previous state $h_{{t-1}} = {terms.h_prev:.3f}$. Products with $h_{{t-1}}$ sum over"
        f" all {hidden} units."
    )
    for equation in gates.equation_latex(terms):
        st.latex(equation)

    st.subheader("Units over time")
    picked_for = (name, ss["gates_layer"])
    if "gates_units" not in ss or ss.get("gates_units_for") != picked_for:
        ss["gates_units"] = gates.default_units(view)
        ss["gates_units_for"] = picked_for
    ss["gates_units"] = [u for u in ss["gates_units"] if u < hidden]
    chosen = st.multiselect(
        "Units",
        list(range(hidden)),
        key="gates_units",
        help="Preselected: the units with the longest memory (or the most active).",
    )
    if chosen:
        present.plotly_chart(
            st,
            figures.unit_lines_figure(view.index, view.gates, chosen),
            key="gates_units_lines",
            width="stretch",
        )

    summary = gates.unit_summary(view)
    numbers = {c: st.column_config.NumberColumn(format="%.3f") for c in summary if c != "unit"}
    if info.keep_gate is not None:
        bars, table = layout.columns([3, 2], key="gates_memory", min_width="22rem")
        keep = info.keep_gate
        present.plotly_chart(
            bars,
            figures.memory_figure(
                summary[f"mean {keep}"].to_numpy(), summary["memory (steps)"].to_numpy(), keep
            ),
            key="gates_memory",
            width="stretch",
        )
    else:
        table = st
    table.dataframe(summary, hide_index=True, key="gates_table", height=380, column_config=numbers)


gates_view()
