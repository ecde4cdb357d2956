"""The Rollouts page's computations: forecasts from any start, their errors, by horizon."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gru_core import metrics, rollout
from gru_core.i18n import t
from gru_core.job import Snapshot
from gru_core.tasks.forecast import carried_end, read_begin

MAX_HORIZON = 2000  # longest free-running forecast drawn on the Rollouts page
HORIZON_STEPS = 100  # steps ahead in the error-by-horizon chart
HORIZON_STARTS = 20  # forecasts averaged per step in that chart


@dataclass(frozen=True)
class Forecasts:
    """Every model's forecasts of series[start + 1 : start + 1 + horizon] from position `start`."""

    start: int  # last position the models read before forecasting
    index: np.ndarray  # (horizon,) positions forecast
    truth: np.ndarray  # (horizon,)
    free_run: dict[str, np.ndarray]  # model name -> (horizon,), fed its own outputs
    one_step: dict[str, np.ndarray]  # model name -> (horizon,), fed the true values
    labels: dict[str, str]  # model name -> its label
    context_index: np.ndarray  # positions read right before the forecast (for the plot)
    context: np.ndarray
    n_read: int  # points read from `start` backwards to set the state
    carried: bool  # the state came from training (eval_state 'carried'), not a fresh warm-up


def start_range(snapshot: Snapshot) -> tuple[int, int]:
    """Steps into the test part a forecast can start from: (0, n_test - 2)."""
    return 0, max(0, len(snapshot.test_part) - 2)


def forecasts_from(
    snapshot: Snapshot, offset: int = 0, max_horizon: int = MAX_HORIZON, context_shown: int = 100
) -> Forecasts:
    """Forecasts from `offset` steps into the test part to its end (at most `max_horizon`).

    The models read the series up to and including test[offset], then forecast the
    rest. How they start matches the trainer's test metric: with eval_state 'warm'
    a fresh state reads the run's `eval_warmup` points before; with 'carried' the
    state left by training reads on from where it stopped to the start. So at offset 0
    the MSEs are the ones in the training history.
    """
    series, n_train = snapshot.series, snapshot.n_train
    lo, hi = start_range(snapshot)
    start = n_train + min(max(int(offset), lo), hi)
    horizon = min(len(series) - 1 - start, max_horizon)
    cfg = snapshot.train_cfg
    carried = cfg.eval_state == "carried"
    begin = read_begin(cfg, carried_end(n_train, cfg), start)
    free, one = {}, {}
    for name in snapshot.names:
        model = snapshot.model(name)
        state = None
        if carried and snapshot.states is not None:
            state = model.last_stream(snapshot.states.get(name))
        free[name] = rollout.free_run(model, series[begin : start + 1], horizon, state)
        inputs = series[begin : start + horizon]
        one[name] = rollout.one_step(model, inputs, state)[-horizon:]
    shown = max(0, start + 1 - context_shown)
    return Forecasts(
        start=start,
        index=np.arange(start + 1, start + 1 + horizon),
        truth=np.asarray(series[start + 1 : start + 1 + horizon], dtype=np.float64),
        free_run=free,
        one_step=one,
        labels={n: snapshot.label(n) for n in snapshot.names},
        context_index=np.arange(shown, start + 1),
        context=np.asarray(series[shown : start + 1], dtype=np.float64),
        n_read=start + 1 - begin,
        carried=carried,
    )


def forecast_metrics(f: Forecasts) -> pd.DataFrame:
    """MSE and MAE of each model's free-running and one-step forecasts against the truth."""
    rows = []
    for name, label in f.labels.items():
        rows.append(
            {
                t("rollouts.column.model"): label,
                t("rollouts.column.free_mse"): metrics.mse(f.free_run[name], f.truth),
                t("rollouts.column.free_mae"): metrics.mae(f.free_run[name], f.truth),
                t("rollouts.column.one_step_mse"): metrics.mse(f.one_step[name], f.truth),
                t("rollouts.column.one_step_mae"): metrics.mae(f.one_step[name], f.truth),
            }
        )
    return pd.DataFrame(rows).set_index(t("rollouts.column.model"))


def forecasts_frame(f: Forecasts) -> pd.DataFrame:
    """One row per forecast step, for a CSV download."""
    columns = {"position": f.index, "steps_ahead": np.arange(1, len(f.index) + 1), "truth": f.truth}
    for kind, forecasts in (("free_running", f.free_run), ("one_step", f.one_step)):
        columns.update({f"{name}_{kind}": values for name, values in forecasts.items()})
    return pd.DataFrame(columns)  # free-running columns model by model, then one-step


def forecasts_csv(f: Forecasts) -> bytes:
    return forecasts_frame(f).to_csv(index=False, float_format="%.6f").encode()


@dataclass(frozen=True)
class HorizonErrors:
    steps: np.ndarray  # (horizon,) 1, 2, ...
    mse: dict[str, np.ndarray]  # model name -> (horizon,)
    mae: dict[str, np.ndarray]
    starts: int  # forecasts averaged per step
    warmup: int  # points each forecast read first


def horizon_errors(
    snapshot: Snapshot, horizon: int = HORIZON_STEPS, n_starts: int = HORIZON_STARTS
) -> HorizonErrors:
    """Error against steps ahead, averaged over forecasts started across the test part.

    Each forecast first reads the run's `eval_warmup` points before its start (at
    least one, at most the training part) from a fresh state.
    """
    series, n_train = snapshot.series, snapshot.n_train
    n_test = len(series) - n_train
    horizon = max(1, min(horizon, n_test - 1))
    warmup = max(1, min(snapshot.train_cfg.eval_warmup, n_train))
    last = len(series) - horizon
    starts = np.unique(np.linspace(n_train, last, min(n_starts, last - n_train + 1)).astype(int))
    mse, mae = {}, {}
    for name in snapshot.names:
        result = rollout.error_by_horizon(snapshot.model(name), series, starts, horizon, warmup)
        mse[name], mae[name] = result["mse"], result["mae"]
    return HorizonErrors(np.arange(1, horizon + 1), mse, mae, len(starts), warmup)
