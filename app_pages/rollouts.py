"""Rollouts: how the GRU and the MLP forecast the test part, fed the truth or their own output."""

import functools

import streamlit as st

from gru_app import layout, present, render, replay, state
from gru_core import figures
from gru_core.views import rollouts
from gru_core.views.status import format_metric

st.title("Rollouts")
snap = render.need_run()
render.need_forecast(snap)
running = snap.running
replay.control(snap, "rollouts")
lo, hi = rollouts.start_range(snap)
ss = st.session_state
ss["rollouts_start"] = min(max(ss.get("rollouts_start", lo), lo), hi)
if hi > lo:  # a slider needs a range: a 2-point test part has a single start
    st.slider(
        "Forecast from (steps into the test part)",
        lo,
        hi,
        key="rollouts_start",
        help="The models read the series up to this point, then forecast the rest of the test"
        " part.",
    )


@st.fragment(run_every=state.SLOW_POLL_SECONDS if running else None)
def rollouts_view(offset: int) -> None:
    snap = replay.shown(state.viewed_snapshot())
    f = rollouts.forecasts_from(snap, offset)
    how = (
        "the state training left, then the series from where that state stopped up to the start"
        if f.carried
        else f"the {f.n_read} points up to the start, from a fresh state"
    )
    st.caption(
        f"Epoch {snap.epoch} of {snap.epochs}. Both models read {how}, then forecast"
        f" {len(f.index)} steps (positions {f.index[0]}–{f.index[-1]})."
    )
    present.plotly_chart(
        st,
        figures.rollout_figure(
            f.context_index,
            f.context,
            f.index,
            f.truth,
            f.free_run,
            title="Free-running: each model fed its own predictions",
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
        "Forecasts (CSV)",
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
            title="One-step: each model fed the true value every step",
            times=snap.spec.data.times,
        ),
        key="rollouts_one_step",
        width="stretch",
    )
    errors = rollouts.horizon_errors(snap)
    present.plotly_chart(
        st,
        figures.horizon_figure(
            errors.steps, errors.mse, title="Error by horizon: how fast forecasts drift"
        ),
        key="rollouts_horizon",
        width="stretch",
    )
    st.caption(
        f"Mean over {errors.starts} free-running forecasts started across the test part, each"
        f" after reading the {errors.warmup} points before its start from a fresh state."
    )


rollouts_view(ss["rollouts_start"])
