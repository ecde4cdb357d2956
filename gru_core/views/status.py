"""Where a run stands, in words: the status badge and line, progress, ETA, number formats.

Shared by the sidebar (every page), the Overview and the Train page.
"""

from __future__ import annotations

import math

import numpy as np

from gru_core import device as devices
from gru_core.job import Snapshot

STATUS_STYLE = {  # status -> (label, badge colour)
    "none": ("no run yet", "gray"),
    "new": ("ready", "gray"),
    "queued": ("queued", "violet"),
    "running": ("running", "blue"),
    "stopped": ("stopped", "orange"),
    "finished": ("finished", "green"),
    "diverged": ("diverged", "red"),
    "failed": ("failed", "red"),
    "interrupted": ("interrupted", "orange"),  # a saved run whose server stopped mid-run
}


def status_badge(snapshot: Snapshot | None) -> tuple[str, str]:
    """(label, colour) for the run's status badge."""
    return STATUS_STYLE[snapshot.status if snapshot is not None else "none"]


def status_line(snapshot: Snapshot | None, training_now: int = 0, cap: int = 1) -> str:
    """One sentence on where the run stands, for the sidebar and the Overview."""
    if snapshot is None:
        return "No run yet. Start one on the Train page."
    s = snapshot.status
    epochs = f"epoch {snapshot.epoch} of {snapshot.epochs}"
    if s == "queued":
        return (
            f"Waiting for a free training slot ({training_now} of {cap} in use on this server);"
            " it starts by itself."
        )
    if s == "running":
        eta = eta_seconds(snapshot)
        left = f", about {format_duration(eta)} left" if eta is not None else ""
        return f"Training, {epochs}{left}."
    if s == "finished":
        return f"Finished {snapshot.epochs} epochs in {format_duration(snapshot.elapsed)}."
    if s == "stopped":
        then = "Resume continues it." if snapshot.can_resume else "Start begins a new run."
        return f"Stopped at {epochs}; {then}"
    if s == "interrupted":
        then = "Resume continues it from its last save." if snapshot.can_resume else ""
        return f"Interrupted at {epochs}: the server stopped. {then}".strip()
    if s == "new":
        return "Ready to start."
    return snapshot.message or f"The run {s}."


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
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def progress(snapshot: Snapshot) -> tuple[float, str]:
    """(fraction done in [0, 1], text with epoch, elapsed time and ETA) for a progress bar."""
    fraction = min(1.0, snapshot.epoch / snapshot.epochs) if snapshot.epochs else 0.0
    parts = [f"Epoch {snapshot.epoch} / {snapshot.epochs}"]
    if snapshot.epoch:
        parts.append(f"{format_duration(snapshot.elapsed)} elapsed")
    eta = eta_seconds(snapshot)
    if eta is not None:
        parts.append(f"about {format_duration(eta)} left")
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
        return "CPU only (no GPU found)"
    return "GPU: " + ", ".join(n for n in names if n != "cpu") + " · CPU"


def primary_summary(snapshot: Snapshot) -> str:
    """Each model's latest primary test metric in one line: 'GRU test MSE 0.0171 · MLP 1.02'."""
    from gru_core.tasks import primary, task_class

    metric = primary(task_class(snapshot.spec.task)).name
    parts = [
        f"{snapshot.label(n)} {format_metric(snapshot.latest_metric(f'{n}_{metric}'))}"
        for n in snapshot.names
    ]
    return f"Test error: {' · '.join(parts)}"
