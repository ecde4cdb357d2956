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

STAT_KEYS = {  # data_stats' names -> their texts
    "points": "data.stat.points",
    "train points": "data.stat.train_points",
    "test points": "data.stat.test_points",
    "mean": "data.stat.mean",
    "std": "data.stat.std",
    "min": "data.stat.min",
    "max": "data.stat.max",
}

st.title(t("page.data"))
st.caption(t("data.intro"))

st.selectbox(
    t("data.task"),
    TASK_NAMES,
    format_func=task_views.TASK_LABELS.get,
    key=state.translated(state.TASK_KEY),
    on_change=state.set_task,
    **widgets.BOUND,
    help=t("data.task.help"),
)
if state.task() != "forecast":
    task_data.settings(state.task())
    st.stop()

source = st.segmented_control(
    t("data.source"),
    state.SOURCES,
    format_func=lambda s: t(f"data.source.{state.SOURCES.index(s)}"),
    key=state.translated(state.SOURCE_KEY),
    required=True,
    persist_state="session",
)
k = state.DATA_KEYS
fraction = st.session_state[state.FRACTION_KEY]  # its slider is drawn below the source
if source == state.SOURCES[0]:
    points, periods, noise, seed = layout.columns(4, key="data_sine", min_width="8rem")
    number = widgets.config_number
    number(points, t("data.points"), k["points"], DataConfig, "points", t("data.points.help"), 100)
    number(
        periods, t("data.periods"), k["periods"], DataConfig, "periods", t("data.periods.help"), 0.5
    )
    number(noise, t("data.noise"), k["noise"], DataConfig, "noise", t("data.noise.help"), 0.05)
    number(seed, t("data.seed"), k["seed"], DataConfig, "seed", t("data.seed.help"))
    try:
        state.set_dataset(state.generated(state.chosen_data_config()))
    except ConfigError as exc:
        st.error(str(exc))
else:
    upload = st.file_uploader(
        t("data.upload"),
        type=["csv", "txt", "tsv"],
        key="data_upload",
        help=t("data.upload.help", least=MIN_POINTS),
    )
    columns = None if upload is None else state.upload_columns(upload)
    if upload is None:
        st.info(t("data.upload.none", data=data_views.shown_label(state.dataset())))
    elif isinstance(columns, str):  # the file cannot be read at all
        st.error(columns)
        st.caption(t("data.stays", data=data_views.shown_label(state.dataset())))
    else:
        column = None
        if len(columns) > 1:
            column = st.selectbox(
                t("data.column"),
                columns,
                index=None,
                key="data_column",
                placeholder=t("data.column.placeholder"),
                help=t("data.column.help"),
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
            st.caption(t("data.stays", data=data_views.shown_label(state.dataset())))
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
    t("data.fraction"),
    float(lo),
    float(hi),
    DataConfig().train_fraction,
    step=0.05,
    key=state.FRACTION_KEY,
    **widgets.BOUND,
    format="%.2f",
    help=t("data.fraction.help"),
)

data = state.dataset()
if data.train_fraction != fraction:  # e.g. an upload that failed: keep its series, new split
    data = data.with_fraction(fraction)
    state.set_dataset(data)

snap = state.snapshot()
if snap is not None and not data.same_as(snap.series, snap.n_train):
    st.info(t("data.next_run"))

st.subheader(data_views.shown_label(data))
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
    column.metric(t(STAT_KEYS[label]), value, border=True)
st.download_button(
    t("data.download"),
    functools.partial(data_views.series_csv, data.series),  # made on click, not on every run
    file_name="series.csv",
    mime="text/csv",
    key="data_download",
    icon=":material/download:",
    on_click="ignore",
)
