"""The session's data, its training job and the click actions, for every page.

Pages get the data and the job only through these functions, so they all see the
same things the same way. Everything lives in `st.session_state` (one browser
session, never shared); the job is also registered in a session-scoped resource
cache whose release hook stops it, and ends its process, when the session ends.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import streamlit as st

from gru_core import store as stores
from gru_core.config import (
    DEFAULT_PRESETS,
    PRESETS,
    TASK_NAMES,
    ConfigError,
    DataConfig,
    ModelConfig,
    TrainConfig,
)
from gru_core.data import DataError, csv_columns, make_sine
from gru_core.job import MAX_CONCURRENT, JobSlot, Snapshot, TrainingJob, running_jobs
from gru_core.spec import Dataset, RunSpec, task_options
from gru_core.views import data as data_views
from gru_core.views import tasks as task_views
from gru_core.views import train as train_views

# How often live views redraw while a run is going. Each redraw costs the browser (Streamlit
# re-renders the page, Plotly rebuilds a chart) and, on a laptop running both, the training:
# pages with charts and the sidebar redraw every two seconds, the Overview's status every one.
POLL_SECONDS = 1.0
SLOW_POLL_SECONDS = 2.0
STOP_WAIT_SECONDS = 1.0  # how long Stop waits for the current epoch before redrawing

TRAIN_KEYS = {name: f"train_{name}" for name in train_views.SETTINGS}
DATA_FIELDS = ("points", "periods", "noise", "seed")
DATA_KEYS = {name: f"data_{name}" for name in DATA_FIELDS}
FRACTION_KEY = "data_fraction"
SOURCE_KEY = "data_source"
SOURCES = ("Generate a noisy sine", "Upload a CSV")
TASK_KEY = "task"  # the task the next run learns (the Data page's picker)
OPTIONS_KEY = "task_options"  # task -> its options, as the Data page set them


def init() -> None:
    """Give every setting its default once per session (before any widget shows it)."""
    ss = st.session_state
    ss.setdefault("train_preset", train_views.DEFAULT_PRESET)
    for name, value in train_views.preset_settings(ss["train_preset"]).items():
        ss.setdefault(TRAIN_KEYS[name], value)
    default = DataConfig()
    for name, key in DATA_KEYS.items():
        ss.setdefault(key, getattr(default, name))
    ss.setdefault(FRACTION_KEY, default.train_fraction)
    ss.setdefault(SOURCE_KEY, SOURCES[0])
    ss.setdefault(TASK_KEY, "forecast")
    ss.setdefault(OPTIONS_KEY, {t: task_views.default_options(t) for t in TASK_NAMES})


# -- the task ---------------------------------------------------------------------------------


def task() -> str:
    """The task the next run learns."""
    return st.session_state[TASK_KEY]


def set_task() -> None:
    """The task picker's callback: the Train page's settings become the task's own preset."""
    st.session_state["train_preset"] = DEFAULT_PRESETS[task()]
    apply_preset()


def options() -> dict:
    """The current task's options (its data settings)."""
    return st.session_state[OPTIONS_KEY][task()]


def set_options(values: dict) -> str | None:
    """Make `values` the current task's options; the ConfigError message if they do not fit."""
    try:
        task_options(task(), values)
    except ConfigError as exc:
        return str(exc)
    st.session_state[OPTIONS_KEY][task()] = dict(values)
    return None


# -- the workspace ----------------------------------------------------------------------------

WS_PARAM = "ws"  # the URL's query parameter holding the workspace id


@st.cache_resource(show_spinner=False)
def store() -> stores.Store:
    """The process's one workspace store (under GRU_LAB_HOME).

    Opening it marks the runs a stopped server left training as interrupted.
    """
    opened = stores.Store()
    opened.recover_interrupted()
    return opened


def workspace() -> str:
    """The session's workspace id: the URL's `ws` when it names one, else a new workspace.

    The id is written back to the URL, so a reload, a new tab or a shared link reaches the
    same workspace. An id that is malformed or unknown here opens a new, empty workspace
    (and says so once): there is no way to list or guess other workspaces.
    """
    ss = st.session_state
    ws = ss.get("workspace")
    if ws is None:
        asked = st.query_params.get(WS_PARAM)
        if asked is not None and store().workspace_exists(asked):
            ws = asked
        else:
            ws = store().create_workspace()
            if asked is not None:
                ss["workspace_notice"] = (
                    "The workspace in this link does not exist on this server; this is a new one."
                )
        ss["workspace"] = ws
    if st.query_params.get(WS_PARAM) != ws:
        st.query_params[WS_PARAM] = ws
    return ws


# -- data -------------------------------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=32)
def _sine(points: int, periods: float, noise: float, seed: int) -> np.ndarray:
    """Generated series are a pure function of their settings: one cache for all sessions."""
    return make_sine(DataConfig(points, periods, noise, seed))


def generated(cfg: DataConfig) -> Dataset:
    return data_views.generated_dataset(cfg, _sine(cfg.points, cfg.periods, cfg.noise, cfg.seed))


def dataset() -> Dataset:
    """The data the next run trains on (the tutorial's series until the user changes it)."""
    if "dataset" not in st.session_state:
        st.session_state["dataset"] = generated(DataConfig())
    return st.session_state["dataset"]


def set_dataset(data: Dataset) -> None:
    st.session_state["dataset"] = data


def chosen_data_config() -> DataConfig:
    """The Data page's generator settings; ConfigError if one is out of range."""
    ss = st.session_state
    values = {name: ss[key] for name, key in DATA_KEYS.items()}
    return DataConfig(**values, train_fraction=ss[FRACTION_KEY])


def use_data_config(cfg: DataConfig) -> None:
    """Generate `cfg`'s series and show its settings on the Data page."""
    ss = st.session_state
    for name, key in DATA_KEYS.items():
        ss[key] = getattr(cfg, name)
    ss[FRACTION_KEY] = cfg.train_fraction
    ss[SOURCE_KEY] = SOURCES[0]
    set_dataset(generated(cfg))


def upload_columns(file) -> list[str] | str:
    """The numeric columns of an uploaded file, or the DataError message (read once per file)."""
    memo = st.session_state.setdefault("upload_columns", {})
    if file.file_id not in memo:
        try:
            memo.clear()
            memo[file.file_id] = csv_columns(file.getvalue())
        except DataError as exc:
            memo[file.file_id] = str(exc)
    return memo[file.file_id]


def load_upload(file, column: str | None, train_fraction: float) -> str | None:
    """Make the uploaded file the current data; the DataError message if it cannot be used.

    On an error the previous data stays. Each (file, column) is parsed only once.
    """
    memo = st.session_state.setdefault("upload_series", {})
    key = (file.file_id, column)
    if key not in memo:
        memo.clear()
        try:
            memo[key] = data_views.uploaded_dataset(
                file.getvalue(), file.name, column, train_fraction
            )
        except DataError as exc:
            memo[key] = str(exc)
    result = memo[key]
    if isinstance(result, str):
        return result
    set_dataset(result.with_fraction(train_fraction))
    return None


# -- the job ----------------------------------------------------------------------------------


@st.cache_resource(scope="session", on_release=JobSlot.release, show_spinner=False)
def _session_guard(_slot: JobSlot) -> JobSlot:
    """Registers the session's slot so that the session's end stops its job."""
    return _slot


def slot() -> JobSlot:
    s = st.session_state.setdefault("job_slot", JobSlot())
    _session_guard(s)
    return s


def job() -> TrainingJob | None:
    return slot().job


def snapshot() -> Snapshot | None:
    return slot().snapshot()


def is_running() -> bool:
    snap = snapshot()
    return snap is not None and snap.running


def server_load() -> tuple[int, int]:
    """(jobs training now in this process, the most that may)."""
    return running_jobs(), MAX_CONCURRENT


# -- training settings and actions ------------------------------------------------------------


def chosen_settings() -> dict[str, object]:
    return {name: st.session_state[key] for name, key in TRAIN_KEYS.items()}


def chosen_configs() -> tuple[ModelConfig, TrainConfig]:
    """The Train page's settings as configs; ConfigError says which one is wrong."""
    return train_views.build_configs(chosen_settings(), st.session_state["train_preset"])


def chosen_spec() -> RunSpec:
    """The run the Train page's settings describe on the current data; ConfigError if none."""
    spec = train_views.run_spec(dataset(), *chosen_configs())
    return dataclasses.replace(spec, task=task(), options=dict(options())).validate()


def apply_preset() -> None:
    """Set every training widget to the selected preset's value (the preset box's callback)."""
    for name, value in train_views.preset_settings(st.session_state["train_preset"]).items():
        st.session_state[TRAIN_KEYS[name]] = value


def start_run(replace: bool = False) -> None:
    """Start a new job on the current data, unless one is already going (or `replace`).

    Quick repeated clicks reach here before the page has redrawn the button as
    disabled; a run already going ignores them. Every Streamlit call comes before
    the job changes hands, so a rerun interrupting this callback leaves no job half set up.
    """
    holder = slot()
    st.session_state.pop("run_error", None)
    if holder.busy() and not replace:
        return
    try:
        new = train_views.make_job(chosen_spec())
    except ConfigError as exc:
        st.session_state["run_error"] = str(exc)
        return
    holder.start(new, replace=replace)


def stop_run() -> None:
    current = job()
    if current is not None:
        current.stop()
        # An epoch is short: waiting for it lets this very rerun show the run as stopped.
        current.join(STOP_WAIT_SECONDS)


def resume_run() -> None:
    current = job()
    if current is not None:
        current.resume()


def reset_run() -> None:
    slot().clear()
    st.session_state.pop("run_error", None)


def train_with_defaults() -> None:
    """The Overview's one click: the default preset on the current data, started."""
    st.session_state["train_preset"] = train_views.DEFAULT_PRESET
    apply_preset()
    start_run(replace=True)  # as the button says: a run already going is replaced


def preset_data() -> DataConfig:
    return PRESETS[st.session_state["train_preset"]].data


def data_differs_from_preset() -> bool:
    """Whether the current data is not the series the selected preset was made for."""
    preset = generated(preset_data())
    return not dataset().same_as(preset.series, preset.n_train)
