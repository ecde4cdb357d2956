"""Gates: every gate of a chosen recurrent model over a stretch of the series, in numbers."""

import streamlit as st

from gru_app import layout, present, render, replay, state, task_gates
from gru_core import cells, figures
from gru_core.i18n import t
from gru_core.views import gates


def summary_column(name: str) -> str:
    """A column of `gates.unit_summary` as the table heads it ("mean z": the gate's mean)."""
    if name.startswith("mean "):
        return t("gates.col.mean", gate=name.removeprefix("mean "))
    keys = {
        "unit": "gates.col.unit",
        "memory (steps)": "gates.col.memory",
        "activity": "gates.col.activity",
    }
    return t(keys[name])


st.title(t("page.gates"))
snap = render.need_run()
n_points, n_train = len(snap.series), snap.n_train
recurrent = snap.recurrent()
if not recurrent:
    st.info(t("gates.no_recurrent"))
    st.stop()
running = snap.running
ss = st.session_state
replay.control(snap, "gates")

if ss.get("gates_model") not in recurrent:
    ss["gates_model"] = recurrent[0]
pick_model, pick_layer = st.columns([3, 1])
pick_model.selectbox(
    t("gates.model"),
    recurrent,
    key="gates_model",
    format_func=snap.label,
    help=t("gates.model.help"),
)
name = ss["gates_model"]
spec = snap.spec.model(name)
hidden, layers = spec.hidden_size, spec.num_layers
layer_options = list(range(layers))
if ss.get("gates_layer") not in layer_options:
    ss["gates_layer"] = 0
pick_layer.selectbox(
    t("gates.layer"),
    layer_options,
    key=state.translated("gates_layer"),
    format_func=lambda k: t("gates.layer.option", layer=k + 1, layers=layers),
    disabled=layers == 1,
    help=t("gates.layer.help"),
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
        t("gates.segment"),
        0,
        n_points,
        key="gates_segment",
        help=t(
            "gates.segment.help",
            most=gates.MAX_SEGMENT,
            test=n_train,
            warmup=snap.train_cfg.eval_warmup,
        ),
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
        t(
            "gates.caption",
            epoch=snap.epoch,
            epochs=snap.epochs,
            note=note,
            start=start,
            end=end - 1,
            warmup=view.warmup,
        )
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
        st.caption(t("gates.heatmap_units", shown=len(shown_units), hidden=hidden))

    st.subheader(t("gates.unit.subheader"))
    pick_unit, pick_t = st.columns([1, 3])
    pick_unit.selectbox(
        t("gates.unit"),
        list(range(hidden)),
        key="gates_unit",
        help=t("gates.unit.help"),
    )
    pick_t.slider(t("gates.time_step"), start, end - 1, key="gates_t")
    unit = ss["gates_unit"]
    present.plotly_chart(
        st,
        figures.unit_over_input_figure(view.index, view.signal, view.gates, unit, spans),
        key="gates_unit_over_input",
        width="stretch",
    )
    terms = gates.equation_terms(view, ss["gates_t"], unit)
    scaled = t("gates.scaled") if snap.train_cfg.standardize else ""
    reads = (
        t("gates.reads.input", x=f"{terms.x:.3f}", scaled=scaled)
        if view.layer == 0
        else t("gates.reads.layer", hidden=hidden, layer=view.layer)
    )
    st.markdown(
        t(
            "gates.equations",
            position=terms.position,
            unit=terms.unit,
            reads=reads,
            h_prev=f"{terms.h_prev:.3f}",
            hidden=hidden,
        )
    )
    for equation in gates.equation_latex(terms):
        st.latex(equation)

    st.subheader(t("gates.units.subheader"))
    picked_for = (name, ss["gates_layer"])
    if "gates_units" not in ss or ss.get("gates_units_for") != picked_for:
        ss["gates_units"] = gates.default_units(view)
        ss["gates_units_for"] = picked_for
    ss["gates_units"] = [u for u in ss["gates_units"] if u < hidden]
    chosen = st.multiselect(
        t("gates.units"),
        list(range(hidden)),
        key="gates_units",
        help=t("gates.units.help"),
    )
    if chosen:
        present.plotly_chart(
            st,
            figures.unit_lines_figure(view.index, view.gates, chosen),
            key="gates_units_lines",
            width="stretch",
        )

    summary = gates.unit_summary(view)
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
    shown = summary.rename(columns=summary_column)
    numbers = {
        summary_column(c): st.column_config.NumberColumn(format="%.3f")
        for c in summary
        if c != "unit"
    }
    table.dataframe(shown, hide_index=True, key="gates_table", height=380, column_config=numbers)


gates_view()
