"""Forecasts from a trained model: free-running, teacher-forced, and error by horizon.

Free-running: the model first reads a context (warming its state), then is fed
its own predictions. Teacher-forced ("one step"): it is fed the true values and
predicts one step ahead each time. Both run under no-grad in eval mode and put
the model's mode back afterwards. Series go in and come out as numpy arrays.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
import torch

from gru_core.models import Forecaster


@contextlib.contextmanager
def evaluating(model: torch.nn.Module) -> Iterator[None]:
    """Eval mode and no-grad for the block; the previous mode is restored."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        model.train(was_training)


def _as_batch(values: np.ndarray | torch.Tensor, device: torch.device) -> torch.Tensor:
    t = torch.as_tensor(np.asarray(values, dtype=np.float32), device=device)
    if t.dim() == 1:
        t = t[None]
    return t[..., None]  # (batch, time, 1)


def _device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


def free_run(model: Forecaster, context, horizon: int, state=None) -> np.ndarray:
    """Read `context` (time,) or (batch, time), then predict `horizon` values closed-loop.

    Returns (horizon,) or (batch, horizon). `state` is a starting state (None = fresh).
    """
    if horizon < 1:
        raise ValueError(f"horizon must be at least 1, got {horizon}")
    squeeze = np.ndim(context) == 1
    x = _as_batch(context, _device(model))
    if x.shape[1] < 1:
        raise ValueError("free_run needs a context of at least one value")
    with evaluating(model):
        result = model.closed_loop(x, state, horizon).cpu().numpy().astype(np.float64)
    return result[0] if squeeze else result


def one_step(model: Forecaster, inputs, state=None) -> np.ndarray:
    """Teacher-forced forecasts: output t predicts the value after inputs[t]. Same shapes in/out."""
    squeeze = np.ndim(inputs) == 1
    x = _as_batch(inputs, _device(model))
    with evaluating(model):
        y, _ = model(x, state)
    result = y[..., 0].cpu().numpy().astype(np.float64)
    return result[0] if squeeze else result


def error_by_horizon(
    model: Forecaster, series: np.ndarray, starts: np.ndarray, horizon: int, warmup: int
) -> dict[str, np.ndarray]:
    """Free-run from each start index (the first forecast is of series[start]) for `horizon` steps.

    Each run reads the `warmup` values before its start. Returns per-step `mse` and
    `mae` (horizon,) averaged over the starts, and the forecasts (starts, horizon).
    """
    starts = np.asarray(starts, dtype=int)
    if starts.size == 0:
        raise ValueError("error_by_horizon needs at least one start")
    if starts.min() < warmup or starts.max() + horizon > len(series):
        raise ValueError("every start needs `warmup` values before it and `horizon` after it")
    contexts = np.stack([series[s - warmup : s] for s in starts])
    truth = np.stack([series[s : s + horizon] for s in starts])
    preds = free_run(model, contexts, horizon)
    err = preds - truth
    return {
        "mse": (err**2).mean(axis=0),
        "mae": np.abs(err).mean(axis=0),
        "forecasts": preds,
    }
