"""The Train page's live view: chart, cards and the sidebar's status drawn from one snapshot.

Each redraw takes one snapshot and draws everything from it, so the sidebar, the page's
progress, the loss chart and the metric cards always show the same epoch. While a run trains
the view is polled every `POLL_SECONDS`; a poll that finds the same epoch and status as the
one before reuses the chart it built then (the browser gets the same chart data and changes
nothing), so the fast poll costs little. The chart is a Vega-Lite chart with one spec per run
(`gru_core.live_chart`): Streamlit swaps its data in place, and hover and zoom keep working.
"""

from __future__ import annotations

import streamlit as st

from gru_app import present, render, state
from gru_core import estimate, figures, live_chart
from gru_core.i18n import language, t
from gru_core.job import Snapshot
from gru_core.spec import RunSpec
from gru_core.tasks import parameter_counts
from gru_core.views import tasks as task_views
from gru_core.views.status import format_duration

# Fast enough that the first epoch and the end show within half a second of happening (the
# job sends its first epoch at once and its end as it ends); each poll that finds nothing new
# re-sends what the page already shows.
POLL_SECONDS = 0.2
STATUS_BOX = "live_status_box"  # session key: the sidebar container the status is drawn in
SELF_DRAWN = ("train",)  # pages that draw the sidebar's status from their own snapshot
_CHART = "live_chart_cache"  # session key: (what the chart was built from, its spec)


def sidebar_status(snap: Snapshot | None) -> None:
    """The sidebar's 'Current run' block, in the container app.py made for it."""
    box = st.session_state.get(STATUS_BOX)
    with box if box is not None else st.sidebar:
        st.markdown(f"**{t('live.current_run')}**")
        render.status_block(snap, summary=True)


def _identity(snap: Snapshot) -> tuple:
    """What the chart's data depends on: the run, how far it is, the language."""
    return (snap.run, id(snap.spec), snap.epoch, len(snap.history), snap.status, language())


def loss_chart(snap: Snapshot, marker_epoch: int | None = None) -> dict:
    """The loss chart's spec for `snap` (built once per epoch and status)."""
    key = (_identity(snap), marker_epoch)
    cached = st.session_state.get(_CHART)
    if cached is not None and cached[0] == key:
        return cached[1]
    chart = task_views.chart(snap.spec.task)
    spec = live_chart.loss_chart(
        snap.history,
        {n: snap.label(n) for n in snap.names},
        chart.styles,
        chart.y_title,
        chart.log,
        marker_epoch,
    )
    st.session_state[_CHART] = (key, spec)
    return spec


def draw_loss_chart(snap: Snapshot, marker_epoch: int | None = None) -> None:
    """The loss chart, and a line under it when values were clipped off its top."""
    spec = loss_chart(snap, marker_epoch)
    if present.presenting():
        spec = live_chart.restyle(spec, figures.PRESENTER)
    with st.container(key="train_losses"):  # the key names the chart for the browser tests
        st.vega_lite_chart(spec, width="stretch", alt=t("live.chart.alt"))
    ceiling = live_chart.clipped_above(spec)
    if ceiling is not None:
        st.caption(t("live.chart.clipped", ceiling=f"{ceiling:.3g}"))


def cards(snap: Snapshot) -> None:
    """The metric cards, headed by the epoch they show."""
    st.caption(t("live.cards_epoch", epoch=snap.epoch, epochs=snap.epochs))
    render.metric_cards(snap)


LONG_RUN_SECONDS = 60.0  # runs estimated to take longer than this say so before they start


def duration_note(spec: RunSpec) -> str | None:
    """'About 3 min 20 s (paced on 4 earlier runs here)' for a run longer than a minute."""
    earlier = [
        estimate.Measured(estimate.spec_work(r.spec, r.params), r.seconds, r.epoch)
        for r in state.runs()
        if r.epoch and r.params
    ]
    if not earlier:
        return None
    n_train = spec.data.n_train
    work = estimate.epoch_work(
        parameter_counts(spec), n_train, len(spec.data.series) - n_train, spec.train.eval_every
    )
    found = estimate.estimate(work, spec.train.epochs, earlier)
    if found is None or found.seconds <= LONG_RUN_SECONDS:
        return None
    return t("live.estimate", duration=format_duration(found.seconds), runs=found.runs)
