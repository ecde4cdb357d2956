"""Data: generate a noisy sine or upload a CSV; see the train/test split and download it."""

import functools

import streamlit as st

from gru_app import layout, present, render, state, task_data, widgets
from gru_core import figures
from gru_core.config import TASK_NAMES, ConfigError, DataConfig, bounds
from gru_core.data import MIN_POINTS
from gru_core.i18n import t
from gru_core.views import data as data_views
from gru_core.views import tasks as task_views

st.title("Data")
st.caption(
    "The series both models learn from. The first part trains them; the rest is held out"
    " to test how well they forecast."
)

st.selectbox(
    "Task",
    TASK_NAMES,
    format_func=task_views.TASK_LABELS.get,
    key=state.TASK_KEY,
    on_change=state.set_task,
    **widgets.BOUND,
    help="What the next run learns; the Train page takes this task's preset.",
)
if state.task() != "forecast":
    task_data.settings(state.task())
    st.stop()

source = st.segmented_control(
    "Source", state.SOURCES, key=state.SOURCE_KEY, required=True, persist_state="session"
)
k = state.DATA_KEYS
fraction = st.session_state[state.FRACTION_KEY]  # its slider is drawn below the source
if source == state.SOURCES[0]:
    points, periods, noise, seed = layout.columns(4, key="data_sine", min_width="8rem")
    number = widgets.config_number
    number(points, "Points", k["points"], DataConfig, "points", "Samples in the series.", 100)
    number(periods, "Periods", k["periods"], DataConfig, "periods", "Sine periods covered.", 0.5)
    number(
        noise, "Noise (std)", k["noise"], DataConfig, "noise", "Std of the Gaussian noise.", 0.05
    )
    number(seed, "Seed", k["seed"], DataConfig, "seed", "The same seed gives the same noise.")
    try:
        state.set_dataset(state.generated(state.chosen_data_config()))
    except ConfigError as exc:
        st.error(str(exc))
else:
    upload = st.file_uploader(
        "Upload a CSV",
        type=["csv", "txt", "tsv"],
        key="data_upload",
        help=f"One number a line, or a table with a header (choose the column). At least"
        f" {MIN_POINTS} values. Files up to 10 MB.",
    )
    columns = None if upload is None else state.upload_columns(upload)
    if upload is None:
        st.info(
            f"Choose a CSV file (up to 10 MB). Until then the data stays: {state.dataset().label}."
        )
    elif isinstance(columns, str):  # the file cannot be read at all
        st.error(columns)
        st.caption(f"The data stays: {state.dataset().label}.")
    else:
        column = None
        if len(columns) > 1:
            column = st.selectbox(
                "Column",
                columns,
                index=None,
                key="data_column",
                placeholder="automatic: the first column that is not an index or time axis",
                help="The file has several numeric columns; choose the series to forecast.",
            )
        times = state.upload_time_columns(upload)
        time_column = None
        if times:
            time_column = (
                st.selectbox(
                    t("data.time.label"),
                    ["", *times],  # "": none, the x axis counts steps
                    index=1,
                    key="data_time_column",
                    format_func=lambda name: name or t("data.time.none"),
                    help=t("data.time.help"),
                )
                or None
            )
        error = state.load_upload(upload, column, fraction, time_column)
        if error:
            st.error(error)
            st.caption(f"The data stays: {state.dataset().label}.")
    render.undo("data")
    if state.dataset().source == "upload":
        st.session_state["data_standardize"] = st.session_state[state.STANDARDIZE_KEY]
        st.toggle(
            t("data.standardize.label"),
            key="data_standardize",
            on_change=state.set_standardize,
            args=("data_standardize",),
            help=t("data.standardize.help"),
        )
        standardized = st.session_state[state.STANDARDIZE_KEY]
        note = data_views.standardize_note(state.dataset().with_fraction(fraction), standardized)
        (st.info if standardized else st.warning)(note, icon=":material/straighten:")

lo, hi = bounds(DataConfig, "train_fraction")
st.slider(
    "Training share",
    float(lo),
    float(hi),
    DataConfig().train_fraction,
    step=0.05,
    key=state.FRACTION_KEY,
    **widgets.BOUND,
    format="%.2f",
    help="The leading share of the series used for training; the rest is the test part.",
)

data = state.dataset()
if data.train_fraction != fraction:  # e.g. an upload that failed: keep its series, new split
    data = data.with_fraction(fraction)
    state.set_dataset(data)

snap = state.snapshot()
if snap is not None and not data.same_as(snap.series, snap.n_train):
    st.info("The current run keeps the data it started with; this data is for the next run.")

st.subheader(data.label)
present.plotly_chart(
    st,
    figures.series_figure(data.series, data.n_train, times=data.times),
    key="data_series",
    width="stretch",
)
stats = data_views.data_stats(data)
for column, (label, value) in zip(
    layout.columns(len(stats), key="data_stats", min_width="7.5rem"), stats.items(), strict=True
):
    column.metric(label, value, border=True)
st.download_button(
    "Download the series (CSV)",
    functools.partial(data_views.series_csv, data.series),  # made on click, not on every run
    file_name="series.csv",
    mime="text/csv",
    key="data_download",
    icon=":material/download:",
    on_click="ignore",
)
