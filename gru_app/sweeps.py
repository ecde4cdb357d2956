"""The Sweep page's background sweeps: started, cancelled, continued, found again.

A sweep runs in a background thread of the server (`gru_core.sweep_runs.SweepJob`), its
runs saved into the session's workspace as they finish. The server keeps its running
sweeps by id, so a reload (a new session on the same workspace) finds a sweep still
going; a sweep whose server stopped shows as interrupted and can be continued. One sweep
trains at a time on a server, on at most `workers()` worker processes of its own (not
the training jobs' slots), or on Ray when `GRU_LAB_RAY_ADDRESS` names a cluster.
"""

from __future__ import annotations

import os
import threading

import streamlit as st

from gru_app import state
from gru_core.i18n import t
from gru_core.sweep_runs import RAY_ADDRESS_ENV, Sweep, SweepJob, make_executor
from gru_core.views import sweep as sweep_views

WORKERS_ENV = "GRU_LAB_SWEEP_WORKERS"  # worker processes a sweep may use on this server
# The local workers' priority below the server's: they take the CPU the pages leave, so that
# switching pages stays quick while a sweep keeps every core busy.
WORKER_NICE = 10
SHOWN_KEY = "sweep_shown"  # session state: the id of the sweep the page shows
ERROR_KEY = "sweep_error"  # session state: why the last Start or Continue did not start
# Session state the Runs page reads to open a sweep's runs: {"sweep": id, "runs": [run ids]}.
RUNS_SELECTION_KEY = "runs_selection"


def workers() -> int:
    """Worker processes a sweep uses here: $GRU_LAB_SWEEP_WORKERS, else up to 2 cores."""
    text = os.environ.get(WORKERS_ENV)
    return max(1, int(text)) if text else max(1, min(2, os.cpu_count() or 1))


def backend() -> str:
    return "ray" if os.environ.get(RAY_ADDRESS_ENV) else "local"


@st.cache_resource(show_spinner=False)
def _running() -> tuple[dict[str, SweepJob], threading.Lock]:
    """The server's sweeps by id (all sessions), and the lock that guards starting one."""
    return {}, threading.Lock()


def job(sweep_id: str | None) -> SweepJob | None:
    return _running()[0].get(sweep_id) if sweep_id else None


def busy() -> bool:
    """Whether a sweep is training on this server now."""
    return any(j.running for j in _running()[0].values())


def start(plan: Sweep, sweep_id: str | None = None) -> None:
    """Start `plan` as a new sweep (or, with `sweep_id`, its runs not yet done); the page
    shows it. Why it cannot start now goes to `ERROR_KEY`."""
    jobs, lock = _running()
    store, ws = state.store(), state.workspace()
    st.session_state.pop(ERROR_KEY, None)
    with lock:
        if busy():
            st.session_state[ERROR_KEY] = t("sweep.another")
            return
        if sweep_id is None:
            sweep_id = sweep_views.new_sweep_id()
            ids = sweep_views.create_runs(store, ws, plan, sweep_id)
            todo = plan.runs
        else:
            _, runs = sweep_views.load(store.runs(ws), sweep_id)
            left = sweep_views.not_done(runs)
            ids = {r.index: r.run_id for r in left}
            todo = [plan.runs[r.index] for r in left]
            for r in left:
                store.update_run(ws, r.run_id, status="queued", message="", claim=True)

        def saved(result: dict) -> None:
            sweep_views.save_result(store, ws, ids[result["index"]], result)

        def alive() -> None:  # queued runs write nothing: say their owner is alive
            store.beat(ws, ids.values())

        executor = make_executor(backend(), workers(), nice=WORKER_NICE)
        jobs[sweep_id] = SweepJob(plan, executor, todo, saved, alive).start()
    st.session_state[SHOWN_KEY] = sweep_id


def cancel(sweep_id: str) -> None:
    """Stop the sweep: finished runs stay; the others are marked stopped (Continue runs them)."""
    running = job(sweep_id)
    if running is None:
        return
    running.cancel()
    running.join(10)
    store, ws = state.store(), state.workspace()
    _, runs = sweep_views.load(store.runs(ws), sweep_id)
    for r in sweep_views.not_done(runs):
        store.update_run(ws, r.run_id, status="stopped", message=t("sweep.cancelled"))


def open_on_runs_page(sweep_id: str, run_ids: list[int], filter_text: str = "") -> None:
    """Go to the Runs page with the cell's runs compared and its table filtered to them."""
    st.session_state[RUNS_SELECTION_KEY] = {
        "sweep": sweep_id,
        "runs": list(run_ids),
        "filter": filter_text,
    }
    st.switch_page("app_pages/runs.py")


def take_runs_selection() -> dict | None:
    """On the Runs page, before its widgets: the runs a sweep's cell sent become the compared
    runs and the filter finds them (once; the user's own choices follow). What was sent."""
    ss = st.session_state
    picked = ss.pop(RUNS_SELECTION_KEY, None)
    if picked:
        ss["runs_compare"] = list(picked["runs"])
        ss["runs_filter"] = picked.get("filter", "")
        ss["runs_one"] = picked["runs"][0]  # "One run" shows one of them, not the newest
    return picked


CLICKED_KEY = "sweep_clicked"  # the cell the heatmap's selection last chose


def pick_clicked_cell(cell: int | None, labels: list[str]) -> None:
    """A click on the heatmap chooses the cell in the Cell box (whose options are the cells'
    `labels`), once per new click: the box stays free for the user after (the chart keeps
    its selection across reruns)."""
    ss = st.session_state
    if cell is not None and cell != ss.get(CLICKED_KEY):
        ss["sweep_cell"] = labels[cell]
    ss[CLICKED_KEY] = cell
