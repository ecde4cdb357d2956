"""Runs: every run of the workspace in a table; several side by side; bundles in and out."""

import streamlit as st

from gru_app import state, sweeps
from gru_core import bundle
from gru_core.i18n import t
from gru_core.store import StoreError
from gru_core.views import runs as views

st.title("Runs")
ss = st.session_state
if ss.get("runs_notice"):
    st.info(ss.pop("runs_notice"))
if ss.get("runs_error"):
    st.error(ss.pop("runs_error"))
from_sweep = sweeps.take_runs_selection()
if from_sweep:
    st.info(t("runs.from_sweep", count=len(from_sweep["runs"]), cell=from_sweep["filter"]))
if ss.get("runs_deleted"):
    st.button(
        f"Undo: bring back the {len(ss['runs_deleted'])} deleted run(s)",
        key="runs_undo",
        icon=":material/undo:",
        on_click=state.undo_delete,
    )

all_runs = state.runs()
labels = views.auto_labels(all_runs)
by_id = {r.id: r for r in all_runs}

with st.expander("Add a run from a bundle (.zip)"):
    upload = st.file_uploader(
        "Run bundle",
        type=["zip"],
        key="runs_upload",
        help=f"A .zip downloaded from this page or written by `python -m gru_core train --save`"
        f" (at most {bundle.MAX_BUNDLE_BYTES // 2**20} MB). Nothing in it is ever run.",
    )
    if upload is not None:
        state.import_bundle(upload)
        if ss.get("runs_error") or ss.get("runs_notice"):
            st.rerun()

if not all_runs:
    st.info("No runs yet: each run you start on the Train page is kept here.")
    st.page_link("app_pages/train.py", label="Go to Train", icon=":material/model_training:")
    st.stop()

search, order = st.columns([3, 2])
text = search.text_input("Filter", key="runs_filter", placeholder="name, status, task, model")
sort = order.selectbox("Sort by", ["newest", "oldest", "name", "status"], key="runs_sort")
table = views.filter_table(views.runs_table(all_runs, labels), text)
if sort != "newest" and not table.empty:
    table = table.iloc[::-1] if sort == "oldest" else table.sort_values(sort, kind="stable")
st.dataframe(table, key="runs_table", width="stretch", height=min(400, 38 + 35 * len(table)))
metrics = sorted({views.main_metric(r) for r in all_runs})
st.caption(
    f"{len(all_runs)} runs (at most 200 are kept; pin a run to keep it). Best and last:"
    f" {', '.join(m.replace('_', ' ') for m in metrics)}."
)

ids = list(reversed(by_id))  # newest first


def name(run_id: int) -> str:
    return f"#{run_id} {views.name_of(by_id[run_id], labels)}"


ss["runs_compare"] = [r for r in ss.get("runs_compare", ids[:2]) if r in by_id]
chosen = st.multiselect("Compare runs", ids, key="runs_compare", format_func=name)
if chosen:
    picked = [by_id[r] for r in chosen]
    curves, table_tab, forecasts = st.tabs(["Loss curves", "Settings", "Forecasts"])
    with curves:
        st.plotly_chart(
            views.overlay_figure(
                [(name(r.id), views.main_metric(r), state.run_history(r.id)) for r in picked]
            ),
            key="runs_overlay",
            width="stretch",
        )
        st.caption("One colour per run. Line style: each model's train loss, then its test error.")
    with table_tab:
        only = st.toggle("Only the differences", key="runs_only_differences", value=True)
        st.dataframe(views.settings_table(picked, labels, only), width="stretch")
    with forecasts:
        shown, skipped = state.same_data_snapshots(chosen)
        if skipped:
            st.caption(f"Not drawn (other data than the first run): {', '.join(skipped)}.")
        others = [name(r) for r, snap in shown if snap.spec.task != "forecast"]
        if others:
            st.caption(f"Not drawn (not forecasting runs; see Results): {', '.join(others)}.")
        shown = [(r, snap) for r, snap in shown if snap.spec.task == "forecast"]
        if shown:
            st.plotly_chart(
                views.forecasts_figure([(name(r), snap) for r, snap in shown]),
                key="runs_forecasts",
                width="stretch",
            )

st.subheader("One run")
one = st.selectbox("Run", ids, key="runs_one", format_func=name)
run = by_id[one]
st.caption(f"{run.status}: {run.message}" if run.message else run.status)
left, right = st.columns([3, 1])
ss.setdefault(f"runs_name_{one}", run.name)
left.text_input(
    "Name",
    key=f"runs_name_{one}",
    on_change=state.rename_run,
    args=(one,),
    placeholder=labels[one],
    help="Empty: the automatic label, made of the settings in which it differs from the others.",
)
ss.setdefault(f"runs_pin_{one}", run.pinned)
right.toggle("Pinned", key=f"runs_pin_{one}", on_change=state.pin_run, args=(one,))
again, resume, delete, download = st.columns(4)
again.button(
    "Train again with these settings",
    key="runs_again",
    icon=":material/replay:",
    on_click=state.train_again,
    args=(one,),
    width="stretch",
    help="Loads its settings and its data into the Train page.",
)
resume.button(
    "Resume",
    key="runs_resume",
    icon=":material/resume:",
    disabled=run.status not in ("stopped", "interrupted") or state.is_running(),
    on_click=state.resume_saved,
    args=(one,),
    width="stretch",
    help="Continue from its last saved epoch, in this tab.",
)
delete.button(
    "Delete",
    key="runs_delete",
    icon=":material/delete:",
    on_click=state.delete_run,
    args=(one,),
    width="stretch",
)
try:
    data = state.run_bundle(one, run.updated)
except StoreError as exc:
    download.caption(str(exc))
else:
    download.download_button(
        "Download (.zip)",
        data,
        file_name=bundle.filename(views.name_of(run, labels)),
        mime="application/zip",
        key="runs_download",
        icon=":material/download:",
        width="stretch",
        on_click="ignore",
    )
if ss.get("train_loaded") == one:
    st.page_link("app_pages/train.py", label="Its settings are on the Train page", icon="➡️")
