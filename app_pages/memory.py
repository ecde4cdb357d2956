"""Memory: how far back each recurrent model reaches, at the start and now, and an experiment."""

import streamlit as st

from gru_app import layout, present, render, replay, state
from gru_core import cells, figures, memory
from gru_core.views import memory as memory_views

st.title("Memory")
snap = render.need_run()
render.need_forecast(snap)
if not snap.recurrent():
    st.info("This run has no recurrent model: add an RNN, LSTM or GRU on the Train page.")
    st.stop()
running = snap.running
ss = st.session_state
replay.control(snap, "memory")


@st.fragment(run_every=state.SLOW_POLL_SECONDS if running else None)
def measures() -> None:
    snap = replay.shown(state.viewed_snapshot())
    memories = [memory_views.model_memory(snap, n) for n in snap.recurrent()]
    st.caption(
        f"Epoch {snap.epoch} of {snap.epochs}. Dotted or faint: the weights training started"
        f" from; solid: now. Measured on the last {memory_views.PROBE_STEPS} (gradients) and"
        f" {memory_views.TRACE_STEPS} (gates) points of the training part, first layer."
    )
    st.markdown("**How much the last forecast owes to the input k steps back**")
    present.plotly_chart(
        st,
        figures.influence_figure(
            {m.name: (m.initial.influence, m.current.influence) for m in memories}
        ),
        key="memory_influence",
        width="stretch",
    )
    st.caption(
        "The size of d y_T / d x_(T-k): a vanilla RNN's falls off geometrically (vanishing"
        " gradients); gates that keep the state let older inputs still count."
    )
    keeping = [m for m in memories if m.keep_gate is not None]
    left, right = layout.columns([3, 2], key="memory_scales", min_width="22rem")
    if keeping:
        left.markdown("**Each unit's time scale**, 1 / (1 - mean keep gate)")
        present.plotly_chart(
            left,
            figures.time_scale_figure(
                {m.name: (m.initial.time_scales, m.current.time_scales) for m in keeping}
            ),
            key="memory_time_scales",
            width="stretch",
        )
        gates_used = ", ".join(f"{snap.label(m.name)}: {m.keep_gate}" for m in keeping)
        left.caption(f"Time scale 1 / (1 - mean keep gate) per unit ({gates_used}).")
    else:
        left.info("None of these models has a gate that keeps its state (z or f).")
    right.markdown("**Gate saturation** (values below 0.05 or above 0.95)")
    right.dataframe(
        memory_views.saturation_table(memories, snap.label),
        hide_index=True,
        key="memory_saturation",
        column_config={
            c: st.column_config.NumberColumn(format="percent") for c in ("at the start", "now")
        },
    )


measures()

st.subheader("Experiment: the same task at growing sequence lengths")
st.caption(
    "Each cell trains one model of each kind on windows of the given length, each read from"
    f" a fresh state ({memory_views.EXPERIMENT_BATCH} windows a step, Adam"
    f" {memory_views.EXPERIMENT_LR:g} cosine-decayed), and keeps its best free-running test"
    " error. Longer windows let a model learn to use more of the past."
)
kinds = [m.kind for m in snap.spec.models if m.kind in cells.KINDS]
ss.setdefault("memory_kinds", kinds)
pick_kinds, pick_lengths, pick_epochs = st.columns([3, 2, 1])
pick_kinds.multiselect(
    "Kinds", list(cells.KINDS), key="memory_kinds", format_func=lambda k: cells.KINDS[k].label
)
pick_lengths.multiselect(
    "Sequence lengths",
    memory_views.LENGTH_OPTIONS,
    default=list(memory_views.LENGTHS),
    key="memory_lengths",
)
pick_epochs.number_input("Epochs", 1, 200, memory_views.EXPERIMENT_EPOCHS, key="memory_epochs")
cells_to_train = len(ss["memory_kinds"]) * len(ss["memory_lengths"])
if st.button(
    f"Run the experiment ({cells_to_train} trainings)",
    key="memory_run",
    icon=":material/science:",
    disabled=cells_to_train == 0,
):
    bar = st.progress(0.0, text="Training…")
    done = []

    def progress(row: dict) -> None:
        done.append(row)
        bar.progress(
            len(done) / cells_to_train,
            text=f"{cells.KINDS[row['model']].label} at length {row['length']}:"
            f" best test MSE {row[memory.BEST]:.4f}",
        )

    ss["memory_experiment"] = memory_views.length_experiment(
        snap.spec,
        ss["memory_kinds"],
        sorted(ss["memory_lengths"]),
        int(ss["memory_epochs"]),
        on_row=progress,
    )
    bar.empty()

table = ss.get("memory_experiment")
if table is not None:
    wide = memory.by_length(table)
    chart, numbers = layout.columns([3, 2], key="memory_lengths", min_width="22rem")
    chart.markdown("**Best test error at each sequence length**")
    present.plotly_chart(
        chart, figures.length_figure(wide), key="memory_lengths_chart", width="stretch"
    )
    numbers.dataframe(
        wide.rename(columns=lambda k: cells.KINDS[k].label).reset_index(),
        hide_index=True,
        key="memory_lengths_table",
    )
