"""What the pages need to know of the tasks: names, charts' styles, data options, text samples.

The Data page picks a task and its data settings (`TASK_LABELS`, `data_options`); the
Train page draws every task's metrics (`chart`); the results page shows each task's own
view (`results_view`), the text task's samples read from the history (`samples`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gru_core.config import DEFAULT_PRESETS, PRESETS, TASK_NAMES
from gru_core.i18n import Texts, t
from gru_core.tasks import Task, task_class

TASK_LABELS = Texts("task.label.", TASK_NAMES)  # task -> its name in the current language
_DASHES = ("dot", "dash", "dashdot", "longdash")
_LOG_AXES = {  # task -> whether the history chart's y axis is logarithmic (title: `axis.<task>`)
    "forecast": True,
    "window": True,
    "classify": False,
    "text": True,
}


@dataclass(frozen=True)
class Chart:
    """How the Train page draws a task's history: metric -> (label, dash), the y axis."""

    styles: dict[str, tuple[str, str]] | None  # None: the forecast chart's own
    y_title: str
    log: bool


def chart(task: str) -> Chart:
    """The history chart of `task`: the training loss solid, each test metric dashed."""
    y_title, log = t(f"axis.{task}"), _LOG_AXES[task]
    if task == "forecast":
        return Chart(None, y_title, log)
    cls: type[Task] = task_class(task)
    styles = {"train_loss": (t("chart.metric.train_loss"), "solid")}
    for metric, dash in zip(cls.metrics, _DASHES, strict=False):
        styles[metric.name] = (metric.label, dash)
    return Chart(styles, y_title, log)


def default_options(task: str) -> dict:
    """The options of `task`'s default preset."""
    return dict(PRESETS[DEFAULT_PRESETS[task]].options)


def results_view(task: str) -> str:
    return task_class(task).results_view


def samples(history: Sequence[dict], names: Sequence[str]) -> list[dict]:
    """The text task's samples, newest first: one row per evaluation, {"epoch", name: text}."""
    rows = []
    for row in reversed(history):
        texts = {n: row.get(f"{n}_sample") for n in names}
        if any(t is not None for t in texts.values()):
            rows.append({"epoch": row["epoch"], **texts})
    return rows
