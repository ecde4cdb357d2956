"""How far back a recurrent model remembers: gradient influence, time scales, saturation.

- `gradient_influence`: the norm of d y_T / d x_{T-k} against the lag k (the "connectivity"
  view of Distill's "Visualizing memorization in RNNs"): a vanilla RNN's falls off
  geometrically, a gated cell's reaches further.
- `time_scales`: each unit's memory in steps from a gate trace, 1 / (1 - mean z) for a
  GRU, 1 / (1 - mean f) for an LSTM.
- `saturation`: the share of each gate's values pinned near 0 or 1.
- `length_experiment`: the same task at growing sequence lengths, one row per trained
  model; the caller says how to train, so this module knows no trainer.

Nothing here trains or draws; it reads modules, traces and the caller's results.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from gru_core import cells, gates

BEST = "best_test_error"  # the column a bare float from the caller's `train` goes to


def gradient_influence(model: Callable, x: torch.Tensor) -> np.ndarray:
    """|| d y_T / d x_{T-k} || for k = 0..T-1, float64, (T,): what the last output owes to
    the input k steps before it.

    `model` maps x (1, T, input) to y (1, T, output), or to (y, state) as forecasters do.
    The norm is over the input and output features (one backward pass per output
    feature: one for a forecaster). Dropout is off while it runs: an `nn.Module` is put in
    eval mode and put back.
    """
    if x.dim() != 3 or x.shape[0] != 1:
        raise ValueError(f"x must be (1, time, input); got {tuple(x.shape)}")
    training = isinstance(model, nn.Module) and model.training
    if training:
        model.eval()
    try:
        with torch.enable_grad():
            x = x.detach().clone().requires_grad_(True)
            y = model(x)
            y = y[0] if isinstance(y, tuple) else y  # (1, T, output)
            last = y[0, -1]  # (output,)
            rows = [
                torch.autograd.grad(last[j], x, retain_graph=j < len(last) - 1)[0][0]
                for j in range(len(last))
            ]  # each (T, input)
    finally:
        if training:
            model.train()
    squares = torch.stack(rows).double().pow(2).sum(dim=(0, 2))  # (T,) by time
    return squares.sqrt().flip(0).numpy()  # (T,) by lag


def _keep_gate(kind: str) -> str:
    info = cells.KINDS[kind]
    if info.keep_gate is None:
        having = ", ".join(k for k, v in cells.KINDS.items() if v.keep_gate)
        raise ValueError(f"a {info.label} has no gate that keeps its state; these do: {having}")
    return info.keep_gate


def time_scales(trace: gates.Trace, max_steps: float = 1e6) -> np.ndarray:
    """Each unit's memory in steps, 1 / (1 - mean keep gate), float64 (hidden,).

    The keep gate is z for the GRUs, f for the LSTM; a kind without one (RNN, the
    reset-only GRU) raises. A gate stuck at 1 would give infinity: the value is capped at
    `max_steps`.
    """
    mean = trace[_keep_gate(trace.kind)].mean(axis=0, dtype=np.float64)  # (hidden,)
    return gates.memory_steps(torch.from_numpy(mean), max_steps).numpy()


def saturation(trace: gates.Trace, low: float = 0.05, high: float = 0.95) -> pd.DataFrame:
    """Per sigmoid gate of the trace: the share of its values below `low`, above `high`,
    and both together ("saturated"); one row a gate (none for an RNN)."""
    rows = []
    for name in cells.KINDS[trace.kind].sigmoid_gates:
        values = trace[name]
        below, above = float((values < low).mean()), float((values > high).mean())
        rows.append({"gate": name, "below": below, "above": above, "saturated": below + above})
    return pd.DataFrame(rows, columns=["gate", "below", "above", "saturated"])


Result = float | Mapping[str, float]


def length_experiment(
    train: Callable[[str, int, int], Result],
    models: Sequence[str],
    lengths: Sequence[int],
    seeds: Sequence[int] = (0,),
    on_row: Callable[[dict], None] | None = None,
) -> pd.DataFrame:
    """Train every model at every sequence length and seed with `train(model, length, seed)`.

    `train` returns the best test error (a float) or a dict of named results. The table
    has one row per call: model, length, seed and the results (a float goes to
    `best_test_error`), filled length by length; `on_row` sees each row as it comes.
    """
    if not models or not lengths or not seeds:
        raise ValueError("name at least one model, one length and one seed")
    if any(int(n) != n or n < 1 for n in lengths):
        raise ValueError(f"lengths must be whole numbers of steps >= 1; got {list(lengths)}")
    rows = []
    for length in lengths:
        for seed in seeds:
            for model in models:
                result = train(model, int(length), seed)
                named = {BEST: float(result)} if np.isscalar(result) else dict(result)
                row = {"model": model, "length": int(length), "seed": seed, **named}
                rows.append(row)
                if on_row is not None:
                    on_row(row)
    return pd.DataFrame(rows)


def by_length(table: pd.DataFrame, metric: str = BEST) -> pd.DataFrame:
    """`length_experiment`'s table as lengths x models, the median of `metric` over seeds."""
    if metric not in table:
        raise ValueError(f"no column {metric!r}; the table has {', '.join(map(str, table))}")
    wide = table.pivot_table(index="length", columns="model", values=metric, aggfunc="median")
    return wide[list(dict.fromkeys(table["model"]))]  # models in the order they were asked
