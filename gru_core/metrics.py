"""Error measures, computed in float64 whatever the forecasts' precision."""

from __future__ import annotations

import numpy as np


def mse(pred: np.ndarray, truth: np.ndarray) -> float:
    """Mean squared error of two same-shaped arrays."""
    return float(np.mean((np.asarray(pred, np.float64) - np.asarray(truth, np.float64)) ** 2))


def mae(pred: np.ndarray, truth: np.ndarray) -> float:
    """Mean absolute error of two same-shaped arrays."""
    return float(np.mean(np.abs(np.asarray(pred, np.float64) - np.asarray(truth, np.float64))))


def finite_or_none(value: float) -> float | None:
    """A metric as recorded in a history: None where it is NaN or infinite."""
    return value if np.isfinite(value) else None
