"""The window and classify results views' computations: predictions, sample windows, confusion.

Each reads a snapshot: the task rebuilds its windows on the CPU from the run's spec (they
are deterministic) and every model predicts the test windows with its snapshot weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from gru_core.job import Snapshot
from gru_core.tasks import make_task


def _task(snapshot: Snapshot):
    return make_task(snapshot.spec, torch.device("cpu"))


def window_predictions(snapshot: Snapshot) -> pd.DataFrame:
    """One row per test window: `window` (its index), `truth`, then each model's prediction."""
    task = _task(snapshot)
    table = {
        "window": np.arange(len(task.test.x)) + task.cfg.train_windows,
        "truth": task.test.y[:, 0].numpy().astype(np.float64),
    }
    for name in snapshot.names:
        table[name] = task.predict(snapshot.model(name), task.test.x).astype(np.float64)
    return pd.DataFrame(table)


@dataclass(frozen=True)
class SampleWindows:
    """A few test windows: their points, where the target sits, the truth and the predictions."""

    windows: np.ndarray  # (count, steps) the points each model read
    target_step: int  # the target's position on the window's time axis: steps - 1 or steps
    truth: np.ndarray  # (count,)
    predictions: dict[str, np.ndarray]  # model name -> (count,)


def sample_windows(snapshot: Snapshot, count: int = 4) -> SampleWindows:
    """The first `count` test windows with every model's prediction of their target."""
    task = _task(snapshot)
    x = task.test.x[:count]
    return SampleWindows(
        windows=x[..., 0].numpy().astype(np.float64),
        target_step=task.cfg.steps - (task.cfg.target == "last"),
        truth=task.test.y[:count, 0].numpy().astype(np.float64),
        predictions={n: task.predict(snapshot.model(n), x) for n in snapshot.names},
    )


def confusion(predicted: np.ndarray, truth: np.ndarray, classes: int) -> np.ndarray:
    """Counts (classes, classes): row = the true class, column = the predicted one."""
    predicted, truth = np.asarray(predicted, np.int64), np.asarray(truth, np.int64)
    if predicted.shape != truth.shape:
        raise ValueError(f"predictions {predicted.shape} and labels {truth.shape} differ in shape")
    out = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(out, (truth, predicted), 1)
    return out


@dataclass(frozen=True)
class ClassResults:
    """Every model's confusion matrix on the test windows, and the class names."""

    class_names: tuple[str, ...]
    matrices: dict[str, np.ndarray]  # model name -> (classes, classes): rows true, columns said

    def accuracy(self, name: str) -> float:
        m = self.matrices[name]
        return float(np.trace(m) / m.sum())


def class_results(snapshot: Snapshot) -> ClassResults:
    """The confusion matrix of each model of a classify run on its test windows."""
    task = _task(snapshot)
    k = task.cfg.n_classes
    truth = task.test.y.numpy()
    return ClassResults(
        task.cfg.class_names,
        {
            n: confusion(task.outputs(snapshot.model(n), task.test.x).argmax(-1).numpy(), truth, k)
            for n in snapshot.names
        },
    )
