"""The Train page's live view: chart, cards and the sidebar's status, all at the same epoch.

Three fragments draw them (each in its own place: a fragment that writes into a container
made outside it can leave the browser with a page it cannot patch, which then goes blank).
While a run trains they poll every `POLL_SECONDS` in its first seconds and its last (so
its first epoch and its end show at once), every `CALM_POLL_SECONDS` in between (each poll
costs the training CPU on a small machine; `poll_interval`), and each draws `paced()`: the
snapshot taken by the first of them in the current poll, so they all show the same epoch.
A poll that finds the same epoch and status as the one before reuses the chart it built then
(the browser gets the same chart data and changes nothing). The chart is a Vega-Lite chart
with one spec per run (`gru_core.live_chart`): Streamlit swaps its data in place, and hover
and zoom keep working.
"""

from __future__ import annotations

import streamlit as st

from gru_app import present, render, state
from gru_core import estimate, figures, live_chart
from gru_core.i18n import language, t
from gru_core.job import Snapshot
from gru_core.spec import RunSpec
from gru_core.tasks import parameter_counts
from gru_core.views import status as status_views
from gru_core.views import tasks as task_views
from gru_core.views.status import format_duration

# Fast enough that the first epoch and the end show within half a second of happening (the
# job sends its first epoch at once and its end as it ends); each poll that finds nothing new
# re-sends what the page already shows.
POLL_SECONDS = 0.2
PAGE = "train"  # the page (url path) with the live view; its sidebar status keeps its pace
_CHART = "live_chart_cache"  # session key: (what the chart was built from, its spec)
_SHOWN = "live_shown"  # session key: (monotonic time, the snapshot) the view last drew
_POLL = "live_poll"  # session key: this script run's `decide_poll`
START_SECONDS = 2.0  # a run's first seconds: polled fast (its first epoch shows at once)
END_SECONDS = 3.0  # a run's last seconds, as estimated: polled fast (its end shows at once)
CALM_POLL_SECONDS = 1.0  # in between
# A long history costs the server and the browser more at each redraw (the chart's data
# grow with every epoch), and on a small machine that time is taken from the training and
# from the clicks: while a run trains, a view of a long run is redrawn at most every
# `redraw_interval(epochs)` seconds, everything on it from the same snapshot.
SHORT_HISTORY = 200  # epochs drawn at the full pace
MAX_REDRAW_SECONDS = 2.0


def redraw_interval(epochs: int) -> float:
    """Least seconds between two redraws of a running view with `epochs` epochs drawn:
    `POLL_SECONDS` up to `SHORT_HISTORY` epochs, then growing with the history, at most
    `MAX_REDRAW_SECONDS`."""
    return min(MAX_REDRAW_SECONDS, POLL_SECONDS * max(1.0, epochs / SHORT_HISTORY))


def pace(shown: tuple | None, snap: Snapshot | None, now: float) -> tuple[float, Snapshot | None]:
    """What to draw at time `now` after `shown` (the (time, snapshot) drawn last, or None):
    `snap` now, or the last one again while the same run goes on in the same status and its
    redraw interval, less half a poll, has not passed. A change of run or status is drawn at
    once."""
    if snap is not None and shown is not None:
        at, last = shown
        same = last is not None and last.run == snap.run and last.status == snap.status
        # The fragments of one poll run within hundredths of a second of each other: half a
        # poll short of the interval, a snapshot is shared within its poll, never into the next.
        soon = same and now - at < redraw_interval(len(last.history)) - POLL_SECONDS / 2
        if soon and snap.running:
            return shown
    return (now, snap)


def poll_interval(snap: Snapshot | None, current: float | None = None) -> float | None:
    """How often the Train page's live views poll for `snap` (None: not at all, it is not
    training): every `POLL_SECONDS` in its first `START_SECONDS` and from `END_SECONDS` before
    its expected end (so its first epoch and its end show within half a second), every
    `CALM_POLL_SECONDS` in between (each poll takes CPU from the training on a small
    machine). `current`, the interval the views poll at now, keeps a fast poll near the end
    from flickering back to calm on a changing estimate."""
    if snap is None or not snap.running:
        return None
    eta = status_views.eta_seconds(snap)
    if snap.elapsed < START_SECONDS or eta is None or eta <= END_SECONDS:
        return POLL_SECONDS
    if current == POLL_SECONDS and snap.elapsed >= START_SECONDS and eta <= 2 * END_SECONDS:
        return POLL_SECONDS
    return CALM_POLL_SECONDS


def decide_poll() -> float | None:
    """`poll_interval` for this session's Train page, decided once a script run (app.py,
    before the page): the sidebar's and the page's fragments all poll alike, or none."""
    st.session_state[_POLL] = poll_interval(state.snapshot(), st.session_state.get(_POLL))
    return st.session_state[_POLL]


def poll() -> float | None:
    """What `decide_poll` decided for this script run."""
    return st.session_state.get(_POLL)


def repoll(snap: Snapshot | None, polling: float | None) -> None:
    """Rerun the app when the views polling at `polling` should poll otherwise for `snap`:
    the run ended (redraw every part once, stop polling) or its pace changes."""
    if polling is not None and poll_interval(snap, polling) != polling:
        st.rerun()


def paced(now: float) -> Snapshot | None:
    """`pace` for this session's Train page: the snapshot its live views draw at `now`."""
    st.session_state[_SHOWN] = pace(st.session_state.get(_SHOWN), state.snapshot(), now)
    return st.session_state[_SHOWN][1]


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
    lengths: dict[int, int] = {}  # dataset id -> points: a stored upload keeps its values apart

    def points(run) -> int | None:
        """The length of the run's series (None: not known)."""
        data = run.spec["data"]
        if data.get("sine") is not None:
            return data["sine"]["points"]
        if "values" in data:
            return len(data["values"])
        if run.dataset is None:
            return None
        if run.dataset not in lengths:
            lengths[run.dataset] = len(state.store().dataset(state.workspace(), run.dataset).series)
        return lengths[run.dataset]

    earlier = [
        estimate.Measured(estimate.spec_work(r.spec, r.params, n), r.seconds, r.epoch)
        for r in state.runs()
        if r.epoch and r.params and (n := points(r)) is not None
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
