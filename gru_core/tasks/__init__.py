"""Tasks: what a run learns, as one object the trainer and the jobs drive without knowing it.

A task owns its data preparation, its batches, its loss, its evaluation metrics and
the results view the pages show. The trainer (`gru_core.train`) loops over epochs,
batches and models, steps the optimizers and carries states; the jobs move specs,
rows and tensors between processes. Neither asks which task it runs.

How to add a task:
1. Write a class with the members of `Task` in `gru_core/tasks/<name>.py` (the
   `forecast` task in `forecast.py` is the model to follow). Its batches carry
   whatever its models read (`Batch.x`) and are scored against (`Batch.y`): float
   windows for regression, integer tokens or labels for classification and text.
2. Add it to `TASKS` below ("module:class") and its name to `config.TASK_NAMES`.
3. Name its metrics (`Metric`), say which is `primary` and whether lower is better:
   history columns are `<model>_<metric>`, and `train(..., target=X)` stops on the
   first model's primary metric.
4. Give its results view a page (`results_view` names it); the shared pages (Train,
   the sidebar) read only the metric declarations.
A task whose state should carry between batches (stateful chunks, a text stream)
sets `carries_state`; one that steps with plain SGD or clips its gradients says so in
its `optimizer` and `clip_grad`; one that samples at evaluation does it in `evaluate`.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

import torch

from gru_core import models
from gru_core.i18n import t
from gru_core.models import Forecaster
from gru_core.spec import ModelSpec, RunSpec


@dataclass(frozen=True)
class Metric:
    """One evaluation metric of a task; history columns are `<model>_<name>`."""

    name: str  # its label and help are the texts `metric.<name>.label` and `.help`
    lower_is_better: bool = True

    @property
    def label(self) -> str:
        """How cards, charts and tables name it, in the current language."""
        return t(f"metric.{self.name}.label")

    @property
    def help(self) -> str:
        """One sentence for a card's tooltip: what it measures."""
        return t(f"metric.{self.name}.help")


@dataclass
class Batch:
    x: torch.Tensor  # what the models read: (batch, time, features) or task-specific
    y: torch.Tensor  # what they are scored against


class Task(Protocol):
    """What the trainer needs from a task. All tensors live on the run's device."""

    name: str
    metrics: tuple[Metric, ...]  # evaluation metrics, in report order
    primary: str  # the metric a target stops on and cards show first
    train_loss_help: str  # key of the text saying what the training loss is (a card's tooltip)
    results_view: str  # the page that shows this task's results ("forecasts")
    carries_state: bool  # whether a model's state carries from one batch to the next
    loss_weight: float  # the optimised loss is the reported one times this

    def prepare(self, name: str, model: Forecaster) -> None:
        """Set up a freshly built model for this task's data (e.g. its input scale)."""

    def batches(self) -> Iterable[Batch]:
        """One epoch's batches, in order."""

    def loss(self, pred: torch.Tensor, batch: Batch) -> torch.Tensor:
        """The reported training loss of `pred` on `batch` (a scalar tensor)."""

    def kernel_step(self, kernel, model: Forecaster, batch: Batch, state) -> tuple[float, object]:
        """One step of a model's numpy kernel on `batch`: (reported loss, next state)."""

    def evaluate(self, models: Mapping[str, Forecaster], states: Mapping[str, object]) -> dict:
        """Test metrics of each model, as `{f"{name}_{metric.name}": value or None}`."""

    def resumable(self) -> dict[str, torch.Tensor]:
        """What the task needs to go on exactly (e.g. its shuffle generator), as CPU tensors."""

    def load_resumable(self, tensors: Mapping[str, torch.Tensor]) -> None:
        """The inverse of `resumable`."""


def primary(task: Task) -> Metric:
    """The declaration of the task's primary metric."""
    return next(m for m in task.metrics if m.name == task.primary)


# Task name -> "module:class"; imported on first use (a task module imports this one).
TASKS: dict[str, str] = {
    "forecast": "gru_core.tasks.forecast:ForecastTask",
    "window": "gru_core.tasks.window:WindowTask",
    "classify": "gru_core.tasks.classify:ClassifyTask",
    "text": "gru_core.tasks.text:TextTask",
}


def task_class(name: str) -> type:
    """The class of task `name`: its metrics and results view, without building it."""
    module, _, cls = TASKS[name].partition(":")
    return getattr(importlib.import_module(module), cls)


def make_task(spec: RunSpec, device: torch.device) -> Task:
    """The task `spec.task` names, prepared on `device`."""
    return task_class(spec.task)(spec, device)


def build_model(run: RunSpec, spec: ModelSpec) -> Forecaster:
    """Model `spec` of `run` with fresh weights: built by the task's own static
    `build_model(run, spec)` where it has one (a many-to-one head, a language model), by
    the model registry otherwise."""
    build = getattr(task_class(run.task), "build_model", None)
    return models.build_model(spec) if build is None else build(run, spec)


def parameter_counts(run: RunSpec) -> dict[str, int]:
    """Trainable parameters per model name of `run`, counted on torch's meta device."""
    with torch.device("meta"):
        return {m.name: models.count_parameters(build_model(run, m)) for m in run.models}


def metric_names(task: Task | type) -> tuple[str, ...]:
    """Every history metric of a model: its training loss, then the task's test metrics."""
    return ("train_loss", *(m.name for m in task.metrics))
