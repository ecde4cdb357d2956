"""The Runs page's computations: labels, the table, settings side by side, runs overlaid.

A run's settings are read from its stored spec (a dict: no series, no models built), so
a workspace of 200 runs is tabled in a few milliseconds. Labels name a run by the
settings in which it differs from the others ("hidden 4 · lr 5e-3").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from gru_core import figures
from gru_core.config import ConfigError, TrainConfig
from gru_core.i18n import t
from gru_core.store import Run
from gru_core.strings.en import EN
from gru_core.tasks import primary, task_class
from gru_core.views import data as data_views
from gru_core.views import rollouts
from gru_core.views.status import format_duration
from gru_core.views.train import config_settings, format_lr, model_config

LABEL_SETTINGS = 3  # at most this many differing settings name a run
# Line style per (model position, metric): train loss, then the test metric, per model.
DASHES = (("solid", "dash"), ("dot", "dashdot"), ("longdash", "longdashdot"))


LINE_SETTINGS = ("models", "hidden", "layers", "seq_len", "lr", "epochs", "batch", "seed", "data")


def run_settings(run: Run) -> dict[str, object]:
    """The run's settings as the Train page names them, with its task, models and data."""
    return settings_of(run.spec)


def settings_line(spec: dict) -> str:
    """A spec's main settings in one line: "models gru, mlp · hidden 16 · lr 5e-4 · ..."."""
    s = settings_of(spec)
    return " · ".join(f"{setting_name(k)} {show_value(k, s[k])}" for k in LINE_SETTINGS if k in s)


def setting_name(key: str) -> str:
    """How run labels and lines name a setting: "hidden", "seq len" (`setting.<key>.short`)."""
    text = f"setting.{key}.short"
    return t(text) if text in EN else key.replace("_", " ")


def settings_of(spec: dict) -> dict[str, object]:
    """A spec dict's settings as the Train page names them, with its task, models and data."""
    out: dict[str, object] = {}
    try:
        out.update(config_settings(model_config(spec), TrainConfig(**spec["train"])))
    except (ConfigError, KeyError, TypeError):  # written by another version: what there is
        out.update(spec.get("train", {}))
    # Last: the settings' own "models" is a tuple of kinds; runs name them as the spec does.
    out.update(
        task=spec.get("task", "forecast"),
        models=", ".join(m.get("name", "?") for m in spec.get("models", [])),
        data=data_views.shown_name(spec.get("data", {})),
    )
    return out


def show_value(key: str, value: object) -> str:
    """A setting's value as the labels and the settings table write it."""
    if key == "lr" and isinstance(value, float):
        return format_lr(value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def differing(settings: Sequence[dict[str, object]]) -> list[str]:
    """The setting keys whose values are not the same in all of `settings`, in order."""
    keys: dict[str, None] = {}
    for s in settings:
        keys.update(dict.fromkeys(s))
    return [k for k in keys if len({show_value(k, s.get(k)) for s in settings}) > 1]


def auto_labels(runs: Sequence[Run]) -> dict[int, str]:
    """Each run's automatic label: the settings in which the runs differ, with their values.

    Runs that differ in nothing (or a lone run) are named by their number.
    """
    settings = {r.id: run_settings(r) for r in runs}
    keys = differing(list(settings.values()))[:LABEL_SETTINGS]
    labels = {}
    for run in runs:
        s = settings[run.id]
        parts = [f"{setting_name(k)} {show_value(k, s.get(k))}" for k in keys]
        labels[run.id] = " · ".join(parts) if parts else t("runs.run", id=run.id)
    return labels


def name_of(run: Run, labels: dict[int, str]) -> str:
    """What the page calls a run: its name if it has one, else its automatic label."""
    return run.name or labels.get(run.id, t("runs.run", id=run.id))


def numbered(run: Run, labels: dict[int, str]) -> str:
    """'#3 hidden 8 · lr 3e-2': a run's number and what the page calls it; the number alone
    when that is all its name says ('#3', not '#3 run 3')."""
    name = name_of(run, labels)
    return f"#{run.id}" if name == t("runs.run", id=run.id) else f"#{run.id} {name}"


def main_metric(run: Run) -> str:
    """The name of the run's task's primary metric (e.g. test_rollout_mse)."""
    try:
        return primary(task_class(run.task)).name
    except (KeyError, ValueError):
        return next(iter(next(iter(run.summary.values()), {})), "")


def runs_table(runs: Sequence[Run], labels: dict[int, str]) -> pd.DataFrame:
    """One row a run, newest first: the Runs page's table (index: run id)."""
    rows = []
    for run in runs:
        metric = main_metric(run)
        row: dict[str, object] = {
            column("run"): run.id,
            column("pinned"): run.pinned,
            column("name"): name_of(run, labels),
            column("status"): t(f"status.{run.status}"),
            column("task"): run.task,
            column("models"): ", ".join(run.models),
        }
        for model in run.models:
            found = run.summary.get(model, {}).get(metric, {})
            row[t("runs.column.best", model=model)] = found.get("best")
            row[t("runs.column.last", model=model)] = found.get("last")
        epochs = run.spec.get("train", {}).get("epochs", run.epoch)
        row[column("epochs")] = f"{run.epoch}/{epochs}"
        row[column("time")] = format_duration(run.seconds)
        row[column("parameters")] = " · ".join(f"{m} {n:,}" for m, n in run.params.items())
        row[column("date")] = dt.datetime.fromtimestamp(run.created).strftime("%Y-%m-%d %H:%M")
        rows.append(row)
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    return frame.set_index(column("run")).iloc[::-1]


def column(name: str) -> str:
    """The runs table's column `name` ("name", "status", ...) as the page heads it."""
    return t(f"runs.column.{name}")


COMPACT_COLUMNS = ("pinned", "name", "status", "epochs")  # with each model's best, when narrow


def compact_columns(frame: pd.DataFrame) -> list[str]:
    """The Runs table's columns that fit a narrow window: pinned, name, status, each
    model's best value and the epochs, in the table's order (the run id is its index)."""
    keep = {column(c) for c in COMPACT_COLUMNS}
    best = {t("runs.column.best", model=model) for model in _models_of(frame)}
    return [c for c in frame.columns if c in keep or c in best]


def _models_of(frame: pd.DataFrame) -> set[str]:
    models = frame.get(column("models"), ())
    return {m for cell in models for m in str(cell).split(", ") if m}


def filter_table(frame: pd.DataFrame, text: str) -> pd.DataFrame:
    """The rows whose name, status, task or models contain `text` (any case)."""
    text = text.strip().lower()
    if not text or frame.empty:
        return frame
    columns = [column(c) for c in ("name", "status", "task", "models")]
    hay = frame[columns].astype(str).agg(" ".join, axis=1).str.lower()
    return frame[hay.str.contains(text, regex=False)]


def settings_table(
    runs: Sequence[Run], labels: dict[int, str], only_differences: bool = False
) -> pd.DataFrame:
    """Setting by run: one row a setting, one column a run (only those that differ, if asked)."""
    settings = [run_settings(r) for r in runs]
    every = list(dict.fromkeys(k for s in settings for k in s))
    keys = differing(settings) if only_differences else every
    columns = {
        numbered(r, labels): [show_value(k, s.get(k, "—")) for k in keys]
        for r, s in zip(runs, settings, strict=True)
    }
    return pd.DataFrame(columns, index=pd.Index(keys, name=t("runs.column.setting")))


def metric_label(name: str) -> str:
    """A history metric's short name for legends and captions ("train loss", "test rollout mse")."""
    key = f"metric.{name}.short"
    return t(key) if key in EN else name.replace("_", " ")


def run_colors(n: int) -> list[str]:
    """A colour per run, in order."""
    palette = figures.UNIT_COLORS
    return [palette[i % len(palette)] for i in range(n)]


def overlay_figure(runs: Sequence[tuple[str, str, list[dict]]]) -> go.Figure:
    """The loss curves of several runs: (label, primary metric, history) each.

    One colour per run; the line style tells the model and the metric (train loss, then
    the test metric, for each model in its order).
    """
    traces = []
    for (label, metric, history), color in zip(runs, run_colors(len(runs)), strict=True):
        if not history:
            continue
        epochs = np.array([r["epoch"] for r in history])
        for i, model in enumerate(figures.history_models(history)):
            for key, dash in zip(("train_loss", metric), DASHES[i % len(DASHES)], strict=True):
                values = np.array([r.get(f"{model}_{key}") for r in history], dtype=np.float64)
                keep = np.isfinite(values) & (values > 0)
                traces.append(
                    figures.line(
                        epochs[keep],
                        values[keep],
                        f"{label}: {model} {metric_label(key)}",
                        color,
                        dash=dash,
                        width=2,
                    )
                )
    return figures.compare_figure(traces, t("chart.epoch"), t("chart.loss_log"), log_y=True)


def forecasts_figure(runs: Sequence[tuple[str, object]]) -> go.Figure:
    """Free-running forecasts of several runs on the same data against the truth.

    `runs`: (label, snapshot with weights) each. Each forecasts the whole test part.
    """
    traces = []
    truth_drawn = False
    for (label, snap), color in zip(runs, run_colors(len(runs)), strict=True):
        f = rollouts.forecasts_from(snap, 0)
        if not truth_drawn:
            traces.append(figures.line(f.index, f.truth, t("chart.truth"), figures.COLORS["truth"]))
            truth_drawn = True
        for i, (model, values) in enumerate(f.free_run.items()):
            traces.append(
                figures.line(
                    f.index, values, f"{label}: {model}", color, dash=DASHES[i % 3][0], width=2
                )
            )
    return figures.compare_figure(traces, t("chart.time_step"), t("chart.value"))
