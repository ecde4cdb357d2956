"""Memory: how far back each recurrent model reaches, at the start and now, and an experiment."""

import streamlit as st

from gru_app import layout, present, render, replay, state
from gru_core import cells, figures, memory
from gru_core.i18n import t
from gru_core.views import memory as memory_views

st.title(t("page.memory"))
snap = render.need_run()
render.need_forecast(snap)
if not snap.recurrent():
    st.info(t("gates.no_recurrent"))
    st.stop()
running = snap.running
ss = st.session_state
replay.control(snap, "memory")


@st.fragment(run_every=state.SLOW_POLL_SECONDS if running else None)
def measures() -> None:
    snap = replay.shown(state.viewed_snapshot())
    memories = [memory_views.model_memory(snap, n) for n in snap.recurrent()]
    st.caption(
        t(
            "memory.caption",
            epoch=snap.epoch,
            epochs=snap.epochs,
            probe=memory_views.PROBE_STEPS,
            trace=memory_views.TRACE_STEPS,
        )
    )
    st.markdown(t("memory.influence"))
    present.plotly_chart(
        st,
        figures.influence_figure(
            {m.name: (m.initial.influence, m.current.influence) for m in memories}
        ),
        key="memory_influence",
        width="stretch",
    )
    st.caption(t("memory.influence.caption"))
    keeping = [m for m in memories if m.keep_gate is not None]
    left, right = layout.columns([3, 2], key="memory_scales", min_width="22rem")
    if keeping:
        left.markdown(t("memory.time_scales"))
        present.plotly_chart(
            left,
            figures.time_scale_figure(
                {m.name: (m.initial.time_scales, m.current.time_scales) for m in keeping}
            ),
            key="memory_time_scales",
            width="stretch",
        )
        gates_used = ", ".join(f"{snap.label(m.name)}: {m.keep_gate}" for m in keeping)
        left.caption(t("memory.time_scales.caption", gates=gates_used))
    else:
        left.info(t("memory.no_keep_gate"))
    right.markdown(t("memory.saturation"))
    right.dataframe(
        memory_views.shown_columns(memory_views.saturation_table(memories, snap.label)),
        hide_index=True,
        key="memory_saturation",
        column_config={
            memory_views.shown_column(c): st.column_config.NumberColumn(format="percent")
            for c in ("at the start", "now")
        },
    )


measures()

st.subheader(t("memory.experiment"))
st.caption(
    t(
        "memory.experiment.caption",
        batch=memory_views.EXPERIMENT_BATCH,
        lr=f"{memory_views.EXPERIMENT_LR:g}",
    )
)
kinds = [m.kind for m in snap.spec.models if m.kind in cells.KINDS]
ss.setdefault("memory_kinds", kinds)
pick_kinds, pick_lengths, pick_epochs = st.columns([3, 2, 1])
pick_kinds.multiselect(
    t("memory.kinds"),
    list(cells.KINDS),
    key="memory_kinds",
    format_func=lambda k: cells.KINDS[k].label,
)
pick_lengths.multiselect(
    t("memory.lengths"),
    memory_views.LENGTH_OPTIONS,
    default=list(memory_views.LENGTHS),
    key="memory_lengths",
)
pick_epochs.number_input(
    t("memory.epochs"), 1, 200, memory_views.EXPERIMENT_EPOCHS, key="memory_epochs"
)
cells_to_train = len(ss["memory_kinds"]) * len(ss["memory_lengths"])
if st.button(
    t("memory.run", count=cells_to_train),
    key="memory_run",
    icon=":material/science:",
    disabled=cells_to_train == 0,
):
    bar = st.progress(0.0, text=t("memory.training"))
    done = []

    def progress(row: dict) -> None:
        done.append(row)
        bar.progress(
            len(done) / cells_to_train,
            text=t(
                "memory.progress",
                kind=cells.KINDS[row["model"]].label,
                length=row["length"],
                mse=f"{row[memory.BEST]:.4f}",
            ),
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
    chart.markdown(t("memory.by_length"))
    present.plotly_chart(
        chart, figures.length_figure(wide), key="memory_lengths_chart", width="stretch"
    )
    numbers.dataframe(
        memory_views.shown_columns(
            wide.rename(columns=lambda k: cells.KINDS[k].label).reset_index()
        ),
        hide_index=True,
        key="memory_lengths_table",
    )
