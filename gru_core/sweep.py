"""Sweeps: a grid of settings x seeds expanded into runs, and the runs' results read back.

A sweep varies one or more settings, each over a list of values, and trains every
combination with several seeds. This module is the bookkeeping around that and nothing
else: it expands and validates a grid (`expand`), parses the command line's
`--grid NAME=V1,V2,...` (`parse_grid`), turns finished results into a table with one
row per run (`run_table`, `to_csv`) and a summary per cell of the grid (`cell_summary`:
mean, standard deviation and count over seeds of each run's best value of a metric),
and estimates the time left (`eta_seconds`). Which settings exist, what a run is and
how runs are executed are the caller's (see `gru_core.executors`).

A result is a dict: {"key", "settings", "seed", "train_seconds", "history", "error"},
where `history` is the run's list of epoch rows (as `Trainer.history`) and `error` is
None or a one-line message.
"""

from __future__ import annotations

import io
import itertools
import math
from collections.abc import Callable, Collection, Hashable, Iterable, Mapping, Sequence

import pandas as pd

from gru_core.config import ConfigError
from gru_core.i18n import t

MAX_SEEDS = 10  # seeds per cell of a grid
MAX_RUNS = 200  # runs in one sweep unless the caller allows more (or fewer)
SKIPPED_COLUMNS = ("epoch", "lr", "seconds", "elapsed")  # history columns that are no metric


class SweepError(ConfigError):
    """A grid, its values or its size cannot be swept; the message says why in one line."""


def run_key(settings: Mapping[str, object], seed: int) -> str:
    """A run's stable name, e.g. 'hidden=4,lr=0.001,seed=0' (settings in the grid's order)."""
    return ",".join([*(f"{k}={show_value(v)}" for k, v in settings.items()), f"seed={seed}"])


def show_value(value: object) -> str:
    """A value as the command line writes it: repr for floats (shortest exact), str otherwise."""
    return repr(value) if isinstance(value, float) else str(value)


def validate_grid(
    grid: Mapping[str, Sequence[object]],
    seeds: int,
    allowed: Collection[str] | None = None,
    max_runs: int = MAX_RUNS,
) -> int:
    """The number of runs `grid` x `seeds` gives; SweepError where it cannot be swept."""
    if not grid:
        raise SweepError(t("sweep.error.sweep_needs_at"))
    if isinstance(seeds, bool) or not isinstance(seeds, int) or not 1 <= seeds <= MAX_SEEDS:
        raise SweepError(t("sweep.error.seeds_integer_got", max_seeds=MAX_SEEDS, seeds=repr(seeds)))
    runs = seeds
    for name, values in grid.items():
        if allowed is not None and name not in allowed:
            raise SweepError(
                t("sweep.error.unknown_setting_settings", name=repr(name), names=", ".join(allowed))
            )
        values = list(values)
        if not values:
            raise SweepError(t("sweep.error.setting_values", name=repr(name)))
        repeated = [show_value(v) for i, v in enumerate(values) if v in values[:i]]
        if repeated:
            raise SweepError(
                t("sweep.error.setting_lists_more", name=repr(name), names=", ".join(repeated))
            )
        runs *= len(values)
    if runs > max_runs:
        sizes = " x ".join(f"{len(v)} {k}" for k, v in grid.items())
        raise SweepError(
            t("sweep.error.x_seeds_runs", sizes=sizes, seeds=seeds, runs=runs, max_runs=max_runs)
        )
    return runs


def expand(
    grid: Mapping[str, Sequence[object]],
    seeds: int,
    allowed: Collection[str] | None = None,
    max_runs: int = MAX_RUNS,
    first_seed: int = 0,
) -> list[dict]:
    """The runs of a grid x seeds, each {"key", "settings", "seed"}, validated first.

    Seeds run first_seed .. first_seed + seeds - 1. Order: every cell's first seed, then
    every cell's second, and so on (cells in the grid's order, the last setting fastest),
    so that a live view has a value in every cell as early as possible.
    """
    validate_grid(grid, seeds, allowed, max_runs)
    names = list(grid)
    runs = []
    for seed in range(first_seed, first_seed + seeds):
        for values in itertools.product(*(grid[n] for n in names)):
            settings = dict(zip(names, values, strict=True))
            runs.append({"key": run_key(settings, seed), "settings": settings, "seed": seed})
    return runs


def parse_grid(
    specs: Iterable[str], types: Mapping[str, Callable[[str], object]]
) -> dict[str, list[object]]:
    """`NAME=V1,V2,...` strings (one per --grid) -> {name: values}, each value typed.

    `types` maps every setting that may be swept to the function that reads one of its
    values (int, float, str, ...): it also says which names exist.
    """
    grid: dict[str, list[object]] = {}
    for spec in specs:
        name, sep, raw = spec.partition("=")
        name = name.strip()
        if not sep or not name:
            raise SweepError(t("sweep.error.grid_takes_name", spec=repr(spec)))
        if name not in types:
            raise SweepError(
                t("sweep.error.unknown_setting_settings", name=repr(name), names=", ".join(types))
            )
        if name in grid:
            raise SweepError(t("sweep.error.setting_given_twice", name=repr(name)))
        words = [w.strip() for w in raw.split(",")]
        if not any(words):
            raise SweepError(t("sweep.error.setting_values", name=repr(name)))
        values = []
        for word in words:
            try:
                values.append(types[name](word))
            except (TypeError, ValueError):
                kind = getattr(types[name], "__name__", "value")
                raise SweepError(
                    t("sweep.error.valid", name=name, word=repr(word), kind=kind)
                ) from None
        grid[name] = values
    return grid


def group_runs(
    runs: Iterable[dict], key: Callable[[dict], Hashable], size: int
) -> list[list[dict]]:
    """Runs with equal `key(run)` in groups of at most `size`, in order of first appearance
    (for training each group as one batch; `gru_core.batched.batch_key` says what may)."""
    if size < 1:
        raise SweepError(t("sweep.error.group_at_least", size=size))
    groups: dict[Hashable, list[dict]] = {}
    for run in runs:
        groups.setdefault(key(run), []).append(run)
    return [g[i : i + size] for g in groups.values() for i in range(0, len(g), size)]


def best_value(history: Sequence[Mapping], key: str, lower_is_better: bool = True) -> float | None:
    """The best finite value of column `key` over a run's history (None when there is none)."""
    values = [row.get(key) for row in history]
    finite = [v for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return None
    return min(finite) if lower_is_better else max(finite)


def run_table(
    results: Iterable[Mapping], metric: str, lower_is_better: bool = True
) -> pd.DataFrame:
    """One row per run: key, the settings, seed, train_seconds, error, the last value of
    every metric in its history, and `best_<metric>`, its best value of `metric`."""
    rows = []
    for result in results:
        history = result.get("history") or []
        last = history[-1] if history else {}
        row = {"key": result["key"], **result["settings"], "seed": result["seed"]}
        row["train_seconds"] = result.get("train_seconds")
        row["error"] = result.get("error")
        row.update({k: v for k, v in last.items() if k not in SKIPPED_COLUMNS})
        row[f"best_{metric}"] = best_value(history, metric, lower_is_better)
        rows.append(row)
    return pd.DataFrame(rows)


def cell_summary(table: pd.DataFrame, settings: Sequence[str], metric: str) -> pd.DataFrame:
    """Per cell of the grid (one row per combination of `settings` in the table): the mean,
    standard deviation (over seeds, n - 1) and count of seeds with a value of `best_<metric>`.

    Failed runs and runs without a value count as not done.
    """
    column = f"best_{metric}"
    values = pd.to_numeric(table[column], errors="coerce")
    grouped = values.groupby([table[s] for s in settings], sort=False, dropna=False)
    out = grouped.agg(["mean", "std", "count"]).reset_index()
    return out.rename(columns={"count": "seeds"})


def to_csv(table: pd.DataFrame) -> str:
    """The per-run table as CSV text (header first, no index column)."""
    buffer = io.StringIO()
    table.to_csv(buffer, index=False)
    return buffer.getvalue()


def eta_seconds(finished_seconds: Sequence[float], remaining: int, workers: int) -> float | None:
    """Seconds left for `remaining` runs on `workers` workers, from the finished runs' mean
    time; None before any run has finished."""
    if not finished_seconds:
        return None
    if remaining <= 0:
        return 0.0
    mean = sum(finished_seconds) / len(finished_seconds)
    return mean * math.ceil(remaining / max(1, workers))
