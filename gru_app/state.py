"""The session's data, its training job and the click actions, for every page.

Pages get the data and the job only through these functions, so they all see the
same things the same way. Everything lives in `st.session_state` (one browser
session, never shared); the job is also registered in a session-scoped resource
cache whose release hook stops it, and ends its process, when the session ends.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import functools
from collections.abc import Callable

import numpy as np
import streamlit as st

from gru_core import links
from gru_core import store as stores
from gru_core import workspace as workspaces
from gru_core.bundle import BundleError
from gru_core.config import (
    DEFAULT_PRESETS,
    PRESETS,
    TASK_NAMES,
    ConfigError,
    DataConfig,
    ModelConfig,
    TrainConfig,
    data_params,
    url_param,
)
from gru_core.data import DataError, csv_columns, make_sine, timestamp_columns
from gru_core.i18n import t
from gru_core.job import MAX_CONCURRENT, JobSlot, Snapshot, TrainingJob, running_jobs
from gru_core.spec import Dataset, RunSpec, task_options
from gru_core.views import data as data_views
from gru_core.views import runs as runs_views
from gru_core.views import tasks as task_views
from gru_core.views import train as train_views

# How often live views redraw while a run is going. Each redraw costs the browser (Streamlit
# re-renders the page, Plotly rebuilds a chart) and, on a laptop running both, the training:
# pages with charts and the sidebar redraw every two seconds, the Overview's status every one.
POLL_SECONDS = 1.0
SLOW_POLL_SECONDS = 2.0
STOP_WAIT_SECONDS = 1.0  # how long Stop waits for the current epoch before redrawing
# How long Start waits for the new run's first epoch before redrawing: a small run's comes
# a tenth of a second after Start, so the click's own rerun draws it, not the next poll.
FIRST_EPOCH_WAIT_SECONDS = 0.3

# The settings' keys are their names in the URL too (the widgets are bound to query parameters):
# the command line's flags (`hidden`, `seq_len`, `lr`, ...), declared in gru_core.config.
TRAIN_KEYS = {name: url_param(s.flag, name) for name, s in train_views.SETTINGS.items()}
STANDARDIZE_KEY = TRAIN_KEYS["standardize"]
DATA_FIELDS = ("points", "periods", "noise", "seed")
DATA_KEYS = {name: data_params()[name] for name in DATA_FIELDS}  # the data seed is `data_seed`
FRACTION_KEY = data_params()["train_fraction"]
SOURCE_KEY = "data_source"
PRESET_KEY = "preset"  # the Train page's preset box, `--preset` on the command line
SOURCES = ("Generate a noisy sine", "Upload a CSV")
TASK_KEY = "task"  # the task the next run learns (the Data page's picker)
OPTIONS_KEY = "task_options"  # task -> its options, as the Data page set them


def init() -> None:
    """Give every setting its default once per session (before any widget shows it).

    A session opening a workspace first gets the workspace's saved settings and data.
    """
    ss = st.session_state
    if "workspace_restored" not in ss:
        ss["workspace_restored"] = True
        _restore_workspace()
        _settings_from_link()
    ss.setdefault(PRESET_KEY, train_views.DEFAULT_PRESET)
    source = ss["dataset"].source if "dataset" in ss else "generated"
    for name, value in train_views.preset_settings(ss[PRESET_KEY], source).items():
        ss.setdefault(TRAIN_KEYS[name], value)
    default = DataConfig()
    for name, key in DATA_KEYS.items():
        ss.setdefault(key, getattr(default, name))
    ss.setdefault(FRACTION_KEY, default.train_fraction)
    ss.setdefault(SOURCE_KEY, SOURCES[0])
    ss.setdefault(TASK_KEY, "forecast")
    ss.setdefault(OPTIONS_KEY, {t: task_views.default_options(t) for t in TASK_NAMES})


def link_settings() -> tuple[dict, dict, list[str]]:
    """The URL's settings: (Train settings by key, DataConfig fields, the bad parameters)."""
    query = st.query_params
    available = {"device": train_views.device_options()}
    return links.from_query({k: query.get_all(k) for k in query}, available)


def _settings_from_link() -> None:
    """A link's settings, all of them, when a session opens it.

    Each page's widgets read their own parameters when they are drawn (they are bound to
    the URL); a link to one page may carry the other's settings too, and the preset named
    decides the settings the link leaves out, so all are read here first. Bad ones are left
    out (`gru_app.share` says which).
    """
    ss, query = st.session_state, st.query_params
    asked_task = query.get(TASK_KEY)
    preset = query.get(PRESET_KEY)
    if preset not in PRESETS and asked_task in TASK_NAMES:
        preset = DEFAULT_PRESETS[asked_task]
    if preset in PRESETS:
        ss[PRESET_KEY] = preset
        ss[TASK_KEY] = PRESETS[preset].task
        for name, value in train_views.preset_settings(preset).items():
            ss[TRAIN_KEYS[name]] = value
    train, data, _ = link_settings()
    for name, value in train.items():
        ss[TRAIN_KEYS[name]] = value
    if data:
        use_data_config(dataclasses.replace(DataConfig(), **data))


# -- choices shown in the session's language --------------------------------------------------

TRANSLATED_KEY = "translated_choices"


def translated(key: str) -> str:
    """`key`, noted as the key of a choice widget whose options read in the session's
    language. Streamlit keeps such a widget's choice as its shown label: after a language
    switch the browser still holds the old language's label, matching no option, and the
    choice falls back to the default at the next click (`relabel_choices` prevents it)."""
    st.session_state.setdefault(TRANSLATED_KEY, set()).add(key)
    return key


def relabel_choices() -> None:
    """The language switch's callback: every `translated` choice set again to its value,
    so that the browser shows it in the new language and sends that label back."""
    ss = st.session_state
    for key in ss.get(TRANSLATED_KEY, ()):
        if key in ss:
            ss[key] = ss[key]


# -- the task ---------------------------------------------------------------------------------


def task() -> str:
    """The task the next run learns."""
    return st.session_state[TASK_KEY]


def set_task() -> None:
    """The task picker's callback: the Train page's settings become the task's own preset."""
    st.session_state[PRESET_KEY] = DEFAULT_PRESETS[task()]
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
    if st.session_state[OPTIONS_KEY][task()] != values:
        st.session_state[OPTIONS_KEY][task()] = dict(values)
        save_workspace()  # now: the Data page stops before the end-of-run save
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
                ss["workspace_notice"] = t("state.workspace_missing")
        ss["workspace"] = ws
    if st.query_params.get(WS_PARAM) != ws:
        st.query_params[WS_PARAM] = ws
    return ws


# The task is kept with the preset it goes with, and every task with its data settings.
SAVED_KEYS = (
    PRESET_KEY,
    *TRAIN_KEYS.values(),
    *DATA_KEYS.values(),
    FRACTION_KEY,
    SOURCE_KEY,
    TASK_KEY,
    OPTIONS_KEY,
)


# Workspaces saved before the settings were named as in the URL keep their values.
_RENAMED = {
    **{f"train_{name}": key for name, key in TRAIN_KEYS.items()},
    **{f"data_{name}": key for name, key in DATA_KEYS.items()},
    "train_preset": PRESET_KEY,
    "data_fraction": FRACTION_KEY,
}


def restored_options(saved: object) -> dict:
    """Every task's options from a workspace's saved ones: each task's saved options where
    they are still valid (a newer version may have changed a range), its defaults otherwise."""
    out = {t: task_views.default_options(t) for t in TASK_NAMES}
    for name, values in (saved if isinstance(saved, dict) else {}).items():
        if name not in out or not isinstance(values, dict):
            continue
        try:
            task_options(name, values)
        except (ConfigError, TypeError):
            continue
        out[name] = dict(values)
    return out


def _restore_workspace() -> None:
    """Put the workspace's saved widget values and data into this new session."""
    ss = st.session_state
    saved = store().settings(workspace())
    for old, value in saved.get("widgets", {}).items():
        key = _RENAMED.get(old, old)
        if key == OPTIONS_KEY:
            ss.setdefault(key, restored_options(value))
        elif key in SAVED_KEYS:
            ss.setdefault(key, value)
    if saved.get("dataset") is not None:
        try:
            found = store().dataset(workspace(), saved["dataset"])
        except stores.StoreError:
            return  # removed meanwhile: the default data
        ss["dataset"] = workspaces.stored_data(found)
        ss["saved_dataset"] = (ss["dataset"], saved["dataset"])
    ss["saved_settings"] = saved


def save_workspace() -> None:
    """Save the session's widget values and data in its workspace, when they changed.

    Called at the end of every script run: a reload, a new tab or another browser on the
    same link, or a restarted server, finds them again.
    """
    ss = st.session_state
    data = ss.get("dataset")
    kept = ss.get("saved_dataset")
    if data is not None and (kept is None or not (kept[0] is data or _same_data(kept[0], data))):
        kept = ss["saved_dataset"] = (data, workspaces.add_data(store(), workspace(), data))
    settings = {
        # a copy: the options are changed in place, and the saved ones must not follow
        "widgets": {key: copy.deepcopy(ss[key]) for key in SAVED_KEYS if key in ss},
        "dataset": None if kept is None else kept[1],
    }
    if settings != ss.get("saved_settings"):
        store().save_settings(workspace(), settings)
        ss["saved_settings"] = settings


def _same_data(a: Dataset, b: Dataset) -> bool:
    same_times = (a.times is None) == (b.times is None) and (
        a.times is None or np.array_equal(a.times, b.times)
    )
    return a.label == b.label and a.same_as(b.series, b.n_train) and same_times


# -- the workspace's runs ---------------------------------------------------------------------


def record_job(spec: RunSpec, *, name: str = "", sweep: str | None = None) -> workspaces.RunRecord:
    """Create this workspace's run for `spec`; give the record to the job that trains it.

    The job then saves the run's history, resumable state and status as it trains. When
    the workspace was full, the notice naming the runs removed to make room is kept in
    `st.session_state["runs_notice"]` for the Runs page.
    """
    record, removed = workspaces.record_run(store(), workspace(), spec, name=name, sweep=sweep)
    if removed:
        names = ", ".join(r.name or f"#{r.id}" for r in removed)
        key = "state.runs_removed.one" if len(removed) == 1 else "state.runs_removed.many"
        st.session_state["runs_notice"] = t(
            key, most=stores.MAX_RUNS, count=len(removed), names=names
        )
    return record


def live_run() -> int | None:
    """The id of the run the session's job trains (or last trained), if it is recorded."""
    current = job()
    record = None if current is None else current.record
    return None if record is None else record.run


def resume_saved(run: int) -> None:
    """Make a saved (stopped or interrupted) run the session's job again, and resume it."""
    record = workspaces.RunRecord(str(store().root), workspace(), run)
    try:
        resumed = workspaces.resume_job(record, train_views.JOB_TYPE)
    except (stores.StoreError, ConfigError) as exc:
        st.session_state["runs_error"] = str(exc)
        return
    slot().replace(resumed)
    if not resumed.resume():  # no saved state: train it again from its first epoch
        resumed.start()


def train_again(run: int) -> None:
    """Load a saved run's settings and data into the Train page."""
    ss = st.session_state
    spec = workspaces.run_spec(store(), workspace(), store().run(workspace(), run))
    set_dataset(spec.data)  # first: the run's own settings, "Standardise" too, then win
    for name, value in train_views.spec_settings(spec).items():
        ss[TRAIN_KEYS[name]] = value
    ss[FRACTION_KEY] = spec.data.train_fraction
    if spec.data.sine is not None:
        for name, key in DATA_KEYS.items():
            ss[key] = getattr(spec.data.sine, name)
        ss[SOURCE_KEY] = SOURCES[0]
    else:
        ss[SOURCE_KEY] = SOURCES[1]
    ss[TASK_KEY] = spec.task
    ss[OPTIONS_KEY][spec.task] = dict(spec.options)
    if PRESETS[ss[PRESET_KEY]].task != spec.task:  # the preset box lists the task's own
        ss[PRESET_KEY] = DEFAULT_PRESETS[spec.task]
    ss["train_loaded"] = run


def runs() -> list[stores.Run]:
    """The workspace's runs, oldest first."""
    return store().runs(workspace())


def rename_run(run: int) -> None:
    """The name box's callback: the run's new name ('' goes back to the automatic label)."""
    try:
        store().rename(workspace(), run, st.session_state[f"runs_name_{run}"])
    except stores.StoreError as exc:
        st.session_state["runs_error"] = str(exc)


def pin_run(run: int) -> None:
    store().pin(workspace(), run, st.session_state[f"runs_pin_{run}"])


def delete_run(run: int) -> None:
    """Delete a run (Undo brings it back); the live one is stopped and let go first."""
    if run == live_run():
        reset_run()
        drop_undo("reset")  # the run is deleted: Undo is the Runs page's
    store().delete(workspace(), run)
    st.session_state.setdefault("runs_deleted", []).append(run)


def undo_delete() -> None:
    """Bring back the runs deleted last."""
    for run in st.session_state.pop("runs_deleted", []):
        with contextlib.suppress(stores.StoreError):  # purged meanwhile
            store().restore(workspace(), run)


def import_bundle(file) -> None:
    """Add an uploaded bundle's run to the workspace; a refusal is one line, nothing changes."""
    ss = st.session_state
    if ss.get("runs_imported") == file.file_id:  # each upload once
        return
    ss["runs_imported"] = file.file_id
    try:
        run, _ = workspaces.import_bundle(store(), workspace(), file.getvalue())
    except (BundleError, stores.StoreError) as exc:
        ss["runs_error"] = str(exc)
        return
    ss["runs_notice"] = t("state.imported", run=run, file=file.name)


def run_history(run: int) -> list[dict]:
    """A saved run's history (the live run's as the job has it, which is ahead of the store)."""
    if run == live_run():
        return snapshot().history
    return store().history(workspace(), run)


def run_bundle(run: int, updated: float) -> bytes:
    """A saved run's bundle (made once per change of the run); StoreError if not yet saved."""
    return _bundle(workspace(), run, updated)


@st.cache_resource(scope="session", max_entries=2, show_spinner=False)
def _bundle(ws: str, run: int, updated: float) -> bytes:
    labels = runs_views.auto_labels(runs())
    return workspaces.bundle_bytes(store(), ws, run, labels.get(run, ""))


def same_data_snapshots(chosen: list[int]) -> tuple[list[tuple[int, Snapshot]], list[str]]:
    """Snapshots with weights of the chosen runs trained on the first one's data; the others."""
    shown, skipped = [], []
    for run in chosen:
        snap = run_snapshot(run)
        if snap is None or snap.weights is None:
            skipped.append(t("state.no_weights", run=run))
        elif shown and not shown[0][1].spec.data.same_as(snap.series, snap.n_train):
            skipped.append(f"#{run}")
        else:
            shown.append((run, snap))
    return shown, skipped


def run_snapshot(run: int) -> Snapshot | None:
    """The live job's snapshot for the live run; a saved run's, read from the store."""
    if run == live_run():
        return slot().snapshot()
    try:
        updated = store().run(workspace(), run).updated
    except stores.StoreError:
        return None
    return _stored_snapshot(workspace(), run, updated)


VIEW_KEY = "view_run"  # the run Gates and Rollouts show (`LIVE`: the session's own)
# Not None, which a selectbox set through session state reads as "nothing chosen" (its
# placeholder); run ids start at 1.
LIVE = 0


def viewed_snapshot() -> Snapshot | None:
    """The snapshot of the run the session chose to look at: the live job's, or a saved run's.

    Saved runs are read from the store once per change (their checkpoint's weights).
    """
    chosen = st.session_state.get(VIEW_KEY)
    shown = None if chosen in (None, LIVE) else run_snapshot(chosen)
    return snapshot() if shown is None else shown


def run_caption(snap: Snapshot) -> str:
    """Which run a page shows, and with which settings."""
    settings = runs_views.settings_line(snap.spec.to_dict())
    if snap.run is None:
        return t("state.caption.live", settings=settings)
    saved = runs()
    run = next((r for r in saved if r.id == snap.run), None)
    title = (
        f"#{snap.run}" if run is None else runs_views.numbered(run, runs_views.auto_labels(saved))
    )
    return t("state.caption.saved", run=title, settings=settings)


@st.cache_resource(scope="session", max_entries=8, show_spinner=False)
def _stored_snapshot(ws: str, run: int, updated: float) -> Snapshot:
    return workspaces.stored_snapshot(store(), ws, run)


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
    """Make `data` the next run's data.

    When it comes from elsewhere than the data before (an upload after a generated sine, or
    back), "Standardise" takes that kind of data's default: on for uploads, the preset's own
    for a generated sine. Within one kind it stays as the user left it.
    """
    ss = st.session_state
    before = ss["dataset"].source if "dataset" in ss else "generated"
    ss["dataset"] = data
    if data.source != "upload":  # back to a generated series: an upload applies again
        ss.pop(UPLOAD_APPLIED_KEY, None)
        drop_undo("data")
    if data.source != before:
        ss[STANDARDIZE_KEY] = train_views.standardize_default(ss[PRESET_KEY], data.source)


def set_standardize(key: str) -> None:
    """A mirror of the Train page's "Standardise" (the Data page's) sets the setting itself."""
    st.session_state[STANDARDIZE_KEY] = st.session_state[key]


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


def upload_time_columns(file) -> list[str]:
    """The date/time columns of an uploaded file (read once per file); none if unreadable."""
    memo = st.session_state.setdefault("upload_time_columns", {})
    if file.file_id not in memo:
        memo.clear()
        try:
            memo[file.file_id] = timestamp_columns(file.getvalue())
        except DataError:
            memo[file.file_id] = []
    return memo[file.file_id]


def load_upload(
    file, column: str | None, train_fraction: float, time_column: str | None = None
) -> str | None:
    """Make the uploaded file the current data; the DataError message if it cannot be used.

    `time_column` names the date/time column that gives the series its x axis (None: none).
    On an error the previous data stays. Each (file, column, time column) is parsed once.
    """
    memo = st.session_state.setdefault("upload_series", {})
    key = (file.file_id, column, time_column)
    if key not in memo:
        memo.clear()
        try:
            memo[key] = data_views.uploaded_dataset(
                file.getvalue(), file.name, column, train_fraction, time_column
            )
        except DataError as exc:
            memo[key] = str(exc)
    result = memo[key]
    if isinstance(result, str):
        return result
    ss = st.session_state
    if ss.get(UPLOAD_APPLIED_KEY) != key:  # once: an Undo is not undone by the next rerun
        previous = dataset()
        set_dataset(result.with_fraction(train_fraction))
        ss[UPLOAD_APPLIED_KEY] = key
        restore = functools.partial(_unupload, previous, key)
        offer_undo("data", "undo.upload", restore, name=file.name, before=previous.label)
    return None


UPLOAD_APPLIED_KEY = "upload_applied"  # the (file, column) whose series is the data


def _unupload(previous: Dataset, key: tuple) -> None:
    ss = st.session_state
    if previous.source != "upload":
        ss[SOURCE_KEY] = SOURCES[0]  # the generator's settings give that series again
    set_dataset(previous)
    ss[UPLOAD_APPLIED_KEY] = key  # the file still in the box stays unused


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
    """The session's run: its job's, or else (a reload, a new tab) the workspace's latest run
    from the Train page (a sweep's runs are the Sweep page's: picked, not current)."""
    live = slot().snapshot()
    if live is not None or st.session_state.get("run_reset"):
        return live
    latest = store().latest_run(workspace(), sweeps=False)
    return run_snapshot(latest.id) if latest is not None else None


def is_running() -> bool:
    """Whether the session's own job is queued or training."""
    snap = slot().snapshot()
    return snap is not None and snap.running


def server_load() -> tuple[int, int]:
    """(jobs training now in this process, the most that may)."""
    return running_jobs(), MAX_CONCURRENT


# -- training settings and actions ------------------------------------------------------------


def chosen_settings() -> dict[str, object]:
    return {name: st.session_state[key] for name, key in TRAIN_KEYS.items()}


def chosen_configs() -> tuple[ModelConfig, TrainConfig]:
    """The Train page's settings as configs; ConfigError says which one is wrong."""
    return train_views.build_configs(chosen_settings(), st.session_state[PRESET_KEY])


def chosen_spec() -> RunSpec:
    """The run the Train page's settings describe on the current data; ConfigError if none."""
    spec = train_views.run_spec(dataset(), *chosen_configs())
    return dataclasses.replace(spec, task=task(), options=dict(options())).validate()


def apply_preset() -> None:
    """Set every training widget to the selected preset's value (the preset box's callback)."""
    chosen = train_views.preset_settings(st.session_state[PRESET_KEY], dataset().source)
    for name, value in chosen.items():
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
        spec = chosen_spec()
        new = train_views.make_job(spec, record_job(spec))
    except (ConfigError, stores.StoreError) as exc:
        st.session_state["run_error"] = str(exc)
        return
    st.session_state[VIEW_KEY] = LIVE  # Gates and Rollouts follow the new run
    drop_undo("reset")
    drop_undo("preset")
    holder.start(new, replace=replace)
    new.wait_for_epoch(1, FIRST_EPOCH_WAIT_SECONDS)


def stop_run() -> None:
    current = job()
    if current is not None:
        current.stop()
        # An epoch is short: waiting for it lets this very rerun show the run as stopped.
        current.join(STOP_WAIT_SECONDS)


def resume_run() -> None:
    """Resume the session's stopped job, or the saved run the session shows."""
    current = job()
    if current is not None:
        current.resume()
        return
    shown = snapshot()
    if shown is not None and shown.run is not None and shown.can_resume:
        resume_saved(shown.run)


def reset_run() -> None:
    """Stop and let go of the session's run; Undo brings it back, stopped (Resume goes on)."""
    holder = slot()
    old = holder.job
    holder.clear()
    st.session_state["run_reset"] = True
    st.session_state.pop("run_error", None)
    if old is not None:
        offer_undo("reset", "undo.reset", functools.partial(_unreset, old))


def _unreset(old: TrainingJob) -> None:
    if slot().job is None:  # a run started since is not replaced
        slot().replace(old)
        st.session_state.pop("run_reset", None)


def train_with_defaults() -> None:
    """The Overview's one click: the default preset on the current data, started."""
    st.session_state.pop(CONFIRM_DEFAULTS_KEY, None)
    st.session_state[PRESET_KEY] = train_views.DEFAULT_PRESET
    apply_preset()
    start_run(replace=True)  # as the button says: a run already going is replaced
    if "run_error" not in st.session_state:
        st.session_state[STARTED_KEY] = True


CONFIRM_DEFAULTS_KEY = "overview_confirm"  # what "Train with defaults" would replace, asked
STARTED_KEY = "overview_started"  # the one-click run started: the page opens Train


def defaults_would_replace() -> tuple[list[str], bool]:
    """What "Train with defaults" would replace: the settings that differ from the default
    preset's (their labels), and whether a run is going."""
    ss = st.session_state
    defaults = train_views.preset_settings(train_views.DEFAULT_PRESET, dataset().source)
    changed = [
        train_views.SETTINGS[name].label
        for name, value in defaults.items()
        if ss.get(TRAIN_KEYS[name]) != value
    ]
    return changed, is_running()


def ask_train_with_defaults() -> None:
    """The one-click button: train at once when that replaces nothing, else ask first."""
    changed, running = defaults_would_replace()
    if changed or running:
        st.session_state[CONFIRM_DEFAULTS_KEY] = True
    else:
        train_with_defaults()


def cancel_train_with_defaults() -> None:
    st.session_state.pop(CONFIRM_DEFAULTS_KEY, None)


def remember_preset() -> None:
    """Note the preset shown, before the preset box is drawn (its callback sees only the new)."""
    st.session_state["train_preset_shown"] = st.session_state[PRESET_KEY]


def switch_preset() -> None:
    """The preset box's callback: the preset's settings; Undo brings back the ones replaced."""
    ss = st.session_state
    before = {key: ss[key] for key in TRAIN_KEYS.values() if key in ss}
    shown = ss.get("train_preset_shown", ss[PRESET_KEY])
    apply_preset()
    if any(ss[key] != value for key, value in before.items()):
        restore = functools.partial(_restore_settings, shown, before)
        offer_undo("preset", "undo.preset", restore, preset=ss[PRESET_KEY], before=shown)


def _restore_settings(preset: str, values: dict[str, object]) -> None:
    ss = st.session_state
    ss[PRESET_KEY] = ss["train_preset_shown"] = preset
    for key, value in values.items():
        ss[key] = value


# -- undo -------------------------------------------------------------------------------------
# A click that replaces the user's work keeps what it replaced, and the page it happened on
# offers to bring it back: Reset (the run), a preset (the settings), an upload (the data).
UNDO_KEY = "undo_offers"


@dataclasses.dataclass(frozen=True)
class UndoOffer:
    """What a click replaced, how the page says so, and how to bring it back."""

    text: str  # the i18n key of the sentence saying what happened
    values: dict  # its placeholders
    restore: Callable[[], None]


def offer_undo(area: str, text: str, restore: Callable[[], None], **values: object) -> None:
    st.session_state.setdefault(UNDO_KEY, {})[area] = UndoOffer(text, values, restore)


def undo_offer(area: str) -> UndoOffer | None:
    return st.session_state.get(UNDO_KEY, {}).get(area)


def drop_undo(area: str) -> None:
    st.session_state.get(UNDO_KEY, {}).pop(area, None)


def undo(area: str) -> None:
    """The Undo button's callback: bring back what the click in `area` replaced."""
    offer = st.session_state.get(UNDO_KEY, {}).pop(area, None)
    if offer is not None:
        offer.restore()


def preset_data() -> DataConfig:
    return PRESETS[st.session_state[PRESET_KEY]].data


def data_differs_from_preset() -> bool:
    """Whether the current data is not the series the selected preset was made for."""
    preset = generated(preset_data())
    return not dataset().same_as(preset.series, preset.n_train)
