"""Rollouts: how the GRU and the MLP forecast the test part, fed the truth or their own output."""

import functools

import streamlit as st

from gru_app import layout, present, render, replay, state
from gru_core import figures
from gru_core.i18n import t
from gru_core.views import rollouts
from gru_core.views.status import format_metric

st.title(t("page.rollouts"))
snap = render.need_run()
render.need_forecast(snap)
running = snap.running
replay.control(snap, "rollouts")
lo, hi = rollouts.start_range(snap)
ss = st.session_state
ss["rollouts_start"] = min(max(ss.get("rollouts_start", lo), lo), hi)
if hi > lo:  # a slider needs a range: a 2-point test part has a single start
    st.slider(
        t("rollouts.start"),
        lo,
        hi,
        key="rollouts_start",
        help=t("rollouts.start.help"),
    )


@st.fragment(run_every=state.SLOW_POLL_SECONDS if running else None)
def rollouts_view(offset: int) -> None:
    snap = replay.shown(state.viewed_snapshot())
    f = rollouts.forecasts_from(snap, offset)
    how = t("rollouts.read.carried") if f.carried else t("rollouts.read.fresh", n=f.n_read)
    st.caption(
        t(
            "rollouts.caption",
            epoch=snap.epoch,
            epochs=snap.epochs,
            how=how,
            steps=len(f.index),
            first=f.index[0],
            last=f.index[-1],
        )
    )
    present.plotly_chart(
        st,
        figures.rollout_figure(
            f.context_index,
            f.context,
            f.index,
            f.truth,
            f.free_run,
            title=t("rollouts.free.title"),
            dash="dash",
            times=snap.spec.data.times,
        ),
        key="rollouts_free",
        width="stretch",
    )
    table, download = layout.columns(
        [4, 1], key="rollouts_metrics", min_width="13rem", vertical_alignment="bottom"
    )
    table.table(rollouts.forecast_metrics(f).map(format_metric))
    download.download_button(
        t("rollouts.download"),
        functools.partial(rollouts.forecasts_csv, f),  # made on click, not on every redraw
        file_name="forecasts.csv",
        mime="text/csv",
        key="rollouts_download",
        icon=":material/download:",
        on_click="ignore",
        width="stretch",
    )
    present.plotly_chart(
        st,
        figures.rollout_figure(
            f.context_index[:0],
            f.context[:0],
            f.index,
            f.truth,
            f.one_step,
            title=t("rollouts.one_step.title"),
            times=snap.spec.data.times,
        ),
        key="rollouts_one_step",
        width="stretch",
    )
    errors = rollouts.horizon_errors(snap)
    present.plotly_chart(
        st,
        figures.horizon_figure(errors.steps, errors.mse, title=t("rollouts.horizon.title")),
        key="rollouts_horizon",
        width="stretch",
    )
    st.caption(t("rollouts.horizon.caption", starts=errors.starts, warmup=errors.warmup))


rollouts_view(ss["rollouts_start"])
