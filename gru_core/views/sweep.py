"""The Sweep page's computations: its runs in the workspace store, the heatmap, the bands.

A sweep's runs are normal runs of the workspace (`gru_core.store`), grouped by their
`sweep` id; each run's stored spec carries, under "sweep", the sweep's plan and the run's
place in it, so a sweep is read back whole from the store after a reload or a restart:
finished runs as they were, runs not yet done ready to be continued. Everything here is
plain data in, plain data out; the page draws it.
"""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gru_core import sweep
from gru_core.i18n import t
from gru_core.store import Run, Store
from gru_core.sweep_runs import Sweep, sweepable, value_type
from gru_core.tasks import Metric
from gru_core.views.status import format_duration

DONE = ("finished", "diverged", "failed")  # a run with one of these statuses is not run again


@dataclass(frozen=True)
class SweepRun:
    """One run of a sweep as the page shows it."""

    run_id: int  # the store's run id
    index: int  # its place in the sweep's runs
    key: str
    settings: dict
    seed: int
    status: str
    message: str
    seconds: float
    summary: dict  # the store's: model -> metric -> {"best", "best_epoch", "last"}

    def best(self, model: str, metric: str) -> float | None:
        """The run's best value of `metric` for `model`, when it finished."""
        if self.status != "finished":
            return None
        return self.summary.get(model, {}).get(metric, {}).get("best")


def new_sweep_id() -> str:
    """A fresh sweep id: when it started, and a random part."""
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"


def create_runs(store: Store, ws: str, plan: Sweep, sweep_id: str) -> dict[int, int]:
    """One queued run in the store per run of `plan`; {sweep index: store run id}."""
    ids = {}
    meta = {k: v for k, v in plan.to_dict().items() if k != "data"}  # each spec has the data
    for run in plan.runs:
        spec = plan.spec(run, validate=False).to_dict()
        spec["sweep"] = {"id": sweep_id, "plan": meta, "index": run["index"]}
        ids[run["index"]], _ = store.create_run(ws, spec, name=run["key"], sweep=sweep_id)
    return ids


def save_result(store: Store, ws: str, run_id: int, result: Mapping) -> None:
    """A finished (or failed) sweep run's history and status into its store run."""
    store.append_history(ws, run_id, result["history"])
    store.update_run(ws, run_id, status=result["status"], message=result["error"] or "")


def sweep_ids(runs: Iterable[Run]) -> list[str]:
    """The workspace's sweeps, newest first."""
    newest: dict[str, float] = {}
    for run in runs:
        if run.sweep is not None:
            newest[run.sweep] = max(newest.get(run.sweep, 0.0), run.created)
    return sorted(newest, key=newest.get, reverse=True)


def load(runs: Iterable[Run], sweep_id: str) -> tuple[Sweep, list[SweepRun]]:
    """A sweep's plan and its runs (in the sweep's order) from the workspace's runs."""
    mine = [r for r in runs if r.sweep == sweep_id and "sweep" in r.spec]
    if not mine:
        raise KeyError(f"no sweep {sweep_id!r} in this workspace")
    plan = Sweep.from_dict({**mine[0].spec["sweep"]["plan"], "data": mine[0].spec["data"]})
    out = []
    for r in mine:
        index = r.spec["sweep"]["index"]
        run = plan.runs[index]
        out.append(
            SweepRun(
                r.id,
                index,
                run["key"],
                run["settings"],
                run["seed"],
                r.status,
                r.message,
                r.seconds,
                r.summary,
            )
        )
    return plan, sorted(out, key=lambda r: r.index)


def not_done(runs: Iterable[SweepRun]) -> list[SweepRun]:
    """The runs still to train (queued, interrupted, stopped by Cancel)."""
    return [r for r in runs if r.status not in DONE]


# -- the heatmap -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Heatmap:
    """Mean, standard deviation (over seeds, n - 1; 0 for one seed) and seeds done per cell.

    Rows are the first setting's values (one row, named "", when one setting is swept),
    columns the last setting's. Cells without a finished seed hold NaN and 0 seeds.
    """

    row_name: str
    column_name: str
    rows: list  # values of the row setting ([""] for one setting)
    columns: list
    mean: np.ndarray  # (rows, columns)
    std: np.ndarray
    seeds: np.ndarray  # (rows, columns) int


def _axes(plan: Sweep) -> tuple[str, list, str, list]:
    names = list(plan.grid)
    column = names[-1]
    row = names[0] if len(names) > 1 else ""
    return row, plan.grid[row] if row else [""], column, plan.grid[column]


def heatmap(plan: Sweep, runs: Sequence[SweepRun], model: str, metric: str) -> Heatmap:
    """The grid's cells of the best `metric` of `model`, over each cell's seeds."""
    row, rows, column, columns = _axes(plan)
    values: dict[tuple, list[float]] = {}
    for r in runs:
        best = r.best(model, metric)
        if best is not None and math.isfinite(best):
            cell = (r.settings[row] if row else "", r.settings[column])
            values.setdefault(cell, []).append(best)
    shape = (len(rows), len(columns))
    mean, std, seeds = np.full(shape, np.nan), np.full(shape, np.nan), np.zeros(shape, int)
    for i, a in enumerate(rows):
        for j, b in enumerate(columns):
            done = values.get((a, b), [])
            seeds[i, j] = len(done)
            if done:
                mean[i, j] = float(np.mean(done))
                std[i, j] = float(np.std(done, ddof=1)) if len(done) > 1 else 0.0
    return Heatmap(row, column, list(rows), list(columns), mean, std, seeds)


def cell_label(plan: Sweep, settings: Mapping) -> str:
    """'hidden=8, lr=0.01': a cell of the grid in words."""
    return ", ".join(f"{name}={sweep.show_value(settings[name])}" for name in plan.grid)


def cell_labels(plan: Sweep) -> list[str]:
    """`cell_label` of every cell, in `cells`' order: the Cell box's options (Streamlit keeps
    a choice as its label, so a cell of the same label stays chosen across sweeps)."""
    return [cell_label(plan, c) for c in cells(plan)]


def band_curves(metric: Metric) -> dict[str, str]:
    """What the band can draw, history column suffix -> its name: the training loss, or the
    heatmap's own `metric` epoch by epoch (whose spread over seeds the heatmap reports)."""
    return {"train_loss": t("metric.train_loss.short"), metric.name: metric.label}


def cells(plan: Sweep) -> list[dict]:
    """Every cell's settings, in the grid's order (the first seed's runs)."""
    first = plan.runs[0]["seed"]
    return [r["settings"] for r in plan.runs if r["seed"] == first]


def cell_runs(runs: Iterable[SweepRun], settings: Mapping) -> list[SweepRun]:
    return [r for r in runs if r.settings == dict(settings)]


# -- bands -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Band:
    """A metric's mean over runs per epoch, with the standard deviation (n - 1; 0 for one)."""

    epochs: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    runs: int


def band(histories: Sequence[Sequence[Mapping]], key: str) -> Band | None:
    """The mean +/- std of column `key` over runs, epoch by epoch (epochs some run has)."""
    by_epoch: dict[int, list[float]] = {}
    for history in histories:
        for row in history:
            value = row.get(key)
            if value is not None and math.isfinite(value):
                by_epoch.setdefault(int(row["epoch"]), []).append(float(value))
    if not by_epoch:
        return None
    epochs = np.array(sorted(by_epoch))
    mean = np.array([np.mean(by_epoch[e]) for e in epochs])
    std = np.array([np.std(by_epoch[e], ddof=1) if len(by_epoch[e]) > 1 else 0.0 for e in epochs])
    return Band(epochs, mean, std, len(histories))


# -- progress and the table ------------------------------------------------------------------


def progress(runs: Sequence[SweepRun], workers: int, running: bool) -> tuple[float, str]:
    """(fraction done, text: runs done, failed, time left) for the progress bar."""
    done = [r for r in runs if r.status in DONE]
    failed = sum(r.status != "finished" for r in done)
    parts = [t("sweep.progress.done", done=len(done), runs=len(runs))]
    if failed:
        parts.append(t("sweep.progress.failed", n=failed))
    if running:
        eta = sweep.eta_seconds([r.seconds for r in done], len(runs) - len(done), workers)
        if eta is not None:
            parts.append(t("status.progress.left", left=format_duration(eta)))
    return (len(done) / len(runs) if runs else 0.0), " · ".join(parts)


def table(plan: Sweep, runs: Sequence[SweepRun]) -> pd.DataFrame:
    """One row per run: its settings, seed, status, error, seconds, and each model's last and
    best value of every metric."""
    rows = []
    for r in runs:
        row = {**r.settings, "seed": r.seed, "status": r.status, "error": r.message or None}
        row["train_seconds"] = r.seconds
        for model, metrics in r.summary.items():
            for metric, entry in metrics.items():
                row[f"{model}_{metric}"] = entry.get("last")
                row[f"{model}_best_{metric}"] = entry.get("best")
        rows.append(row)
    return pd.DataFrame(rows)


def csv_text(plan: Sweep, runs: Sequence[SweepRun]) -> str:
    return sweep.to_csv(table(plan, runs))


def values_text(values: Sequence) -> str:
    """A setting's values as the page's text box shows them: '4, 8, 16'."""
    return ", ".join(sweep.show_value(v) for v in values)


def parse_values(name: str, text: str) -> list:
    """The page's text box for setting `name` -> its values; SweepError for a bad one."""
    return sweep.parse_grid([f"{name}={text}"], {name: value_type(sweepable()[name])})[name]


# -- choosing a sweep ------------------------------------------------------------------------

MAX_PAGE_RUNS = 100  # runs one sweep of the page may have: half of a workspace's room
DEFAULT_VALUES = {  # what the page offers first for a setting (grid name -> text)
    "hidden": "4, 8, 16, 32",
    "lr": "0.001, 0.003, 0.01, 0.03",
    "seq-len": "20, 40, 60",
    "epochs": "20, 40, 60",
    "layers": "1, 2",
    "batch": "1, 2, 4",
}


def default_values(name: str, base: object) -> str:
    """The values the page's box for setting `name` starts with (the base value otherwise)."""
    return DEFAULT_VALUES.get(name, values_text([base]))


def setting_label(name: str) -> str:
    """How the page names a grid setting: its label and its grid name."""
    return f"{sweepable()[name].label} ({name})"


def base_value(name: str, plan_model, plan_train) -> object:
    s = sweepable()[name]
    return getattr(plan_model if s.section == "model" else plan_train, s.name)


def summary(plan: Sweep, workers: int) -> str:
    """'48 runs (4 x 4 x 3 seeds), about 40 s on 2 workers': what Start will do."""
    sizes = " x ".join(str(len(v)) for v in plan.grid.values())
    seconds = plan.estimate_seconds(workers)
    return t(
        "sweep.summary" if workers > 1 else "sweep.summary.one_worker",
        runs=len(plan.runs),
        sizes=sizes,
        seeds=plan.seeds,
        took=format_duration(seconds),
        workers=workers,
    )


# -- picking a cell on the heatmap -------------------------------------------------------------


def clicked_cell(plan: Sweep, points: Sequence[Mapping]) -> int | None:
    """The index in `cells(plan)` of the cell a click on the heatmap chose: `points` are the
    chart's selected points ({"x", "y", ...}, as the figure shows the values: str); None when
    nothing or more than one cell is selected, or the point is no cell."""
    if len(points) != 1:
        return None
    row, _, column, _ = _axes(plan)
    x, y = str(points[0].get("x")), str(points[0].get("y"))
    for i, settings in enumerate(cells(plan)):
        if str(settings[column]) == x and (not row or str(settings[row]) == y):
            return i
    return None


def cell_filter(settings: Mapping) -> str:
    """Text that finds a cell's runs in the Runs page's filter: their names begin with it."""
    return sweep.run_key(settings, 0).rsplit("seed=", 1)[0]
