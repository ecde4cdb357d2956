"""Runs: every run of the workspace in a table; several side by side; bundles in and out."""

import streamlit as st

from gru_app import layout, present, state, sweeps
from gru_core import bundle
from gru_core.i18n import t
from gru_core.store import StoreError
from gru_core.views import runs as views

st.title(t("page.runs"))
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
        t("runs.undo", n=len(ss["runs_deleted"])),
        key="runs_undo",
        icon=":material/undo:",
        on_click=state.undo_delete,
    )

all_runs = state.runs()
labels = views.auto_labels(all_runs)
by_id = {r.id: r for r in all_runs}

with st.expander(t("runs.import")):
    upload = st.file_uploader(
        t("runs.bundle"),
        type=["zip"],
        key="runs_upload",
        help=t("runs.bundle.help", mb=bundle.MAX_BUNDLE_BYTES // 2**20),
    )
    if upload is not None:
        state.import_bundle(upload)
        if ss.get("runs_error") or ss.get("runs_notice"):
            st.rerun()

if not all_runs:
    st.info(t("runs.none"))
    st.page_link("app_pages/train.py", label=t("runs.go_train"), icon=":material/model_training:")
    st.stop()

search, order = st.columns([3, 2])
text = search.text_input(
    t("runs.filter"), key="runs_filter", placeholder=t("runs.filter.placeholder")
)
sort = order.selectbox(
    t("runs.sort"),
    ["newest", "oldest", "name", "status"],
    key=state.translated("runs_sort"),
    format_func=lambda s: t(f"runs.sort.{s}"),
)
table = views.filter_table(views.runs_table(all_runs, labels), text)
if sort != "newest" and not table.empty:
    if sort == "oldest":
        table = table.iloc[::-1]
    else:
        table = table.sort_values(views.column(sort), kind="stable")
every = st.toggle(t("runs.all_columns"), key="runs_all_columns", help=t("runs.all_columns.help"))
st.dataframe(
    table,
    key="runs_table",
    width="stretch",
    height=min(400, 38 + 35 * len(table)),
    column_order=None if every else views.compact_columns(table),
)
metrics = sorted({views.main_metric(r) for r in all_runs})
st.caption(
    t("runs.caption", n=len(all_runs), metrics=", ".join(views.metric_label(m) for m in metrics))
)

ids = list(reversed(by_id))  # newest first


def name(run_id: int) -> str:
    return views.numbered(by_id[run_id], labels)


ss["runs_compare"] = [r for r in ss.get("runs_compare", ids[:2]) if r in by_id]
chosen = st.multiselect(t("runs.compare"), ids, key="runs_compare", format_func=name)
if chosen:
    picked = [by_id[r] for r in chosen]
    curves, table_tab, forecasts = st.tabs(
        [t("runs.tab.curves"), t("runs.tab.settings"), t("runs.tab.forecasts")]
    )
    with curves:
        present.plotly_chart(
            st,
            views.overlay_figure(
                [(name(r.id), views.main_metric(r), state.run_history(r.id)) for r in picked]
            ),
            key="runs_overlay",
            width="stretch",
        )
        st.caption(t("runs.curves.caption"))
    with table_tab:
        only = st.toggle(t("runs.only_differences"), key="runs_only_differences", value=True)
        st.dataframe(views.settings_table(picked, labels, only), width="stretch")
    with forecasts:
        shown, skipped = state.same_data_snapshots(chosen)
        if skipped:
            st.caption(t("runs.skipped.data", runs=", ".join(skipped)))
        others = [name(r) for r, snap in shown if snap.spec.task != "forecast"]
        if others:
            st.caption(t("runs.skipped.task", runs=", ".join(others)))
        shown = [(r, snap) for r, snap in shown if snap.spec.task == "forecast"]
        if shown:
            present.plotly_chart(
                st,
                views.forecasts_figure([(name(r), snap) for r, snap in shown]),
                key="runs_forecasts",
                width="stretch",
            )

st.subheader(t("runs.one"))
one = st.selectbox(t("runs.one.pick"), ids, key="runs_one", format_func=name)
run = by_id[one]
status = t(f"status.{run.status}")
st.caption(f"{status}: {run.message}" if run.message else status)
left, right = st.columns([3, 1])
ss.setdefault(f"runs_name_{one}", run.name)
left.text_input(
    t("runs.name"),
    key=f"runs_name_{one}",
    on_change=state.rename_run,
    args=(one,),
    placeholder=labels[one],
    help=t("runs.name.help"),
)
ss.setdefault(f"runs_pin_{one}", run.pinned)
right.toggle(t("runs.pinned"), key=f"runs_pin_{one}", on_change=state.pin_run, args=(one,))
again, resume, delete, download = layout.columns(4, key="runs_actions", min_width="12rem")
again.button(
    t("runs.again"),
    key="runs_again",
    icon=":material/replay:",
    on_click=state.train_again,
    args=(one,),
    width="stretch",
    help=t("runs.again.help"),
)
resume.button(
    t("runs.resume"),
    key="runs_resume",
    icon=":material/resume:",
    disabled=run.status not in ("stopped", "interrupted") or state.is_running(),
    on_click=state.resume_saved,
    args=(one,),
    width="stretch",
    help=t("runs.resume.help"),
)
delete.button(
    t("runs.delete"),
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
        t("runs.download"),
        data,
        file_name=bundle.filename(views.name_of(run, labels)),
        mime="application/zip",
        key="runs_download",
        icon=":material/download:",
        width="stretch",
        on_click="ignore",
    )
if ss.get("train_loaded") == one:
    st.page_link("app_pages/train.py", label=t("runs.loaded"), icon="➡️")
