"""The classify task: sequence classification of noisy-sine windows, one label a window.

Labels that need memory: "direction", whether the clean sine is rising (1) or falling (0)
at the window's last point, which its last value alone cannot tell (sin is the same
going up and coming down); or "frequency", which of `classes` equal bins of
[freq_low, freq_high] the window's frequency falls in. Recurrent models read the whole
window and classify from their last state (`gru_core.heads`); the MLP sees only the
window's last `mlp_window` values (1 by default: the one-value baseline that cannot know
the direction). Loss: cross-entropy; metrics: test accuracy (higher is better) and test
cross-entropy. The confusion matrix is `gru_core.views.classify.confusion`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from gru_core import metrics
from gru_core.config import _choice, _int
from gru_core.heads import build_head
from gru_core.i18n import t
from gru_core.models import Forecaster
from gru_core.spec import ModelSpec, RunSpec, task_options
from gru_core.tasks import Batch, Metric
from gru_core.tasks.window import WindowData, WindowsTask, make_windows

LABELS = ("direction", "frequency")


@dataclass(frozen=True)
class ClassifyConfig(WindowData):
    """The classify task's windows and what their labels say."""

    label: str = _choice("direction", *LABELS)  # rising/falling at the end, or frequency bin
    classes: int = _int(3, 2, 10)  # frequency: how many bins (direction: always 2)

    @property
    def n_classes(self) -> int:
        return 2 if self.label == "direction" else self.classes

    @property
    def class_names(self) -> tuple[str, ...]:
        if self.label == "direction":
            return (t("chart.falling"), t("chart.rising"))
        edges = np.linspace(self.freq_low, self.freq_high, self.classes + 1)
        return tuple(f"f {a:.2f}-{b:.2f}" for a, b in zip(edges[:-1], edges[1:], strict=True))


def make_labels(cfg: ClassifyConfig, freq: np.ndarray, phase: np.ndarray) -> np.ndarray:
    """The label (n,) int64 of each window from its frequency and phase."""
    if cfg.label == "direction":  # d/dt sin(f t + p) = f cos(f t + p) at t = span
        return (np.cos(freq * cfg.span + phase) > 0).astype(np.int64)
    width = (cfg.freq_high - cfg.freq_low) / cfg.classes
    return np.clip(((freq - cfg.freq_low) // width).astype(np.int64), 0, cfg.classes - 1)


METRICS = (
    Metric(
        "test_accuracy",
        lower_is_better=False,
    ),
    Metric("test_loss"),
)


class ClassifyTask(WindowsTask):
    """Sequence classification of windows; see the module docstring."""

    name = "classify"
    metrics = METRICS
    primary = "test_accuracy"
    train_loss_help = "task.classify.train_loss_help"
    results_view = "classes"

    def __init__(self, spec: RunSpec, device: torch.device) -> None:
        super().__init__(spec, device)
        points, freq, phase = make_windows(self.cfg)
        self._split(points, torch.as_tensor(make_labels(self.cfg, freq, phase)))  # y (n,) int64

    @staticmethod
    def build_model(run: RunSpec, spec: ModelSpec) -> Forecaster:
        cfg = task_options(run.task, run.options)
        window = spec.mlp_window if spec.kind == "mlp" else cfg.steps
        return build_head(spec, window, cfg.n_classes, cfg.bidirectional)

    def loss(self, pred: torch.Tensor, batch: Batch) -> torch.Tensor:
        return nn.functional.cross_entropy(pred, batch.y)

    def evaluate(self, models: Mapping[str, Forecaster], states: Mapping[str, object]) -> dict:
        row = {}
        for name, model in models.items():
            logits = self.outputs(model, self.test.x)  # (windows, classes)
            acc = float((logits.argmax(-1) == self.test.y).float().mean())
            loss = float(nn.functional.cross_entropy(logits, self.test.y))
            row[f"{name}_test_accuracy"] = acc
            row[f"{name}_test_loss"] = metrics.finite_or_none(loss)
        return row
