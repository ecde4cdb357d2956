"""Where a run stands, in words: the status badge and line, progress, ETA, number formats.

Shared by the sidebar (every page), the Overview and the Train page.
"""

from __future__ import annotations

import math

import numpy as np

from gru_core import device as devices
from gru_core.i18n import t
from gru_core.job import Snapshot

STATUS_STYLE = {  # status -> badge colour; its label is the text `status.<status>`
    "none": "gray",
    "new": "gray",
    "queued": "violet",
    "running": "blue",
    "stopped": "orange",
    "finished": "green",
    "diverged": "red",
    "failed": "red",
    "interrupted": "orange",  # a saved run whose server stopped mid-run
}


def status_badge(snapshot: Snapshot | None) -> tuple[str, str]:
    """(label, colour) for the run's status badge."""
    status = snapshot.status if snapshot is not None else "none"
    return t(f"status.{status}"), STATUS_STYLE[status]


def status_line(snapshot: Snapshot | None, training_now: int = 0, cap: int = 1) -> str:
    """One sentence on where the run stands, for the sidebar and the Overview."""
    if snapshot is None:
        return t("status.line.none")
    s = snapshot.status
    epochs = {"epoch": snapshot.epoch, "epochs": snapshot.epochs}
    if s == "queued":
        return t("status.line.queued", used=training_now, cap=cap)
    if s == "running":
        eta = eta_seconds(snapshot)
        if eta is None:
            return t("status.line.running", **epochs)
        return t("status.line.running_eta", **epochs, left=format_duration(eta))
    if s == "finished":
        return t(
            "status.line.finished", epochs=snapshot.epochs, took=format_duration(snapshot.elapsed)
        )
    if s == "stopped":
        then = t("status.line.resume" if snapshot.can_resume else "status.line.restart")
        return t("status.line.stopped", **epochs, then=then)
    if s == "interrupted":
        then = t("status.line.resume_saved") if snapshot.can_resume else ""
        return t("status.line.interrupted", **epochs, then=then).strip()
    if s == "new":
        return t("status.line.new")
    return snapshot.message or t("status.line.other", status=t(f"status.{s}"))


def seconds_per_epoch(history: list[dict], last: int = 10) -> float | None:
    """Mean duration of the last `last` epochs (None before the first)."""
    rows = [r["seconds"] for r in history[-last:] if r.get("seconds") is not None]
    return float(np.mean(rows)) if rows else None


def eta_seconds(snapshot: Snapshot) -> float | None:
    """Seconds until the run's last epoch at its recent pace (None if unknown or not running)."""
    if snapshot.status != "running":
        return None
    pace = seconds_per_epoch(snapshot.history)
    if pace is None:
        return None
    return max(0, snapshot.epochs - snapshot.epoch) * pace


def format_duration(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "—"
    if seconds < 10:
        return t("format.seconds", s=f"{seconds:.1f}")
    if seconds < 60:
        return t("format.seconds", s=f"{seconds:.0f}")
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return t("format.minutes", m=minutes, s=f"{rest:02d}")
    hours, minutes = divmod(minutes, 60)
    return t("format.hours", h=hours, m=f"{minutes:02d}")


def progress(snapshot: Snapshot) -> tuple[float, str]:
    """(fraction done in [0, 1], text with epoch, elapsed time and ETA) for a progress bar."""
    fraction = min(1.0, snapshot.epoch / snapshot.epochs) if snapshot.epochs else 0.0
    parts = [t("status.progress.epoch", epoch=snapshot.epoch, epochs=snapshot.epochs)]
    if snapshot.epoch:
        parts.append(t("status.progress.elapsed", took=format_duration(snapshot.elapsed)))
    eta = eta_seconds(snapshot)
    if eta is not None:
        parts.append(t("status.progress.left", left=format_duration(eta)))
    return fraction, " · ".join(parts)


def format_metric(value: float | None) -> str:
    """Three significant digits: enough to compare runs, short enough for a card."""
    if value is None or not math.isfinite(value):
        return "—"
    if value == 0 or 1e-3 <= abs(value) < 1e4:
        return f"{value:.3g}"
    return f"{value:.1e}"


def device_summary() -> str:
    """Which devices training can use here, for the sidebar."""
    names = devices.available()
    if names == ["cpu"]:
        return t("status.devices.cpu")
    return t("status.devices.gpu", gpus=", ".join(n for n in names if n != "cpu"))


def primary_summary(snapshot: Snapshot) -> str:
    """Each model's latest primary test metric in one line: 'GRU test MSE 0.0171 · MLP 1.02'."""
    from gru_core.tasks import primary, task_class

    metric = primary(task_class(snapshot.spec.task)).name
    parts = [
        f"{snapshot.label(n)} {format_metric(snapshot.latest_metric(f'{n}_{metric}'))}"
        for n in snapshot.names
    ]
    return t("status.test_error", errors=" · ".join(parts))
