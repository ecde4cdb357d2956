"""What the dashboard's pages compute, without the UI: settings, run status, gates, forecasts.

Pages read widgets and call these functions; everything here takes and returns
plain values (numpy arrays, dataclasses, DataFrames, strings), so it is tested
with plain pytest. This module never imports streamlit and draws nothing
(figures are in `gru_core.figures`).
"""

from __future__ import annotations

import dataclasses
import gc
import io
import math
import threading
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from gru_core import data as datasets
from gru_core import device as devices
from gru_core import gates, metrics, process_job, rollout
from gru_core import train as training
from gru_core.config import (
    PRESETS,
    ConfigError,
    DataConfig,
    ModelConfig,
    TrainConfig,
    check_compatible,
    split_index,
)
from gru_core.train import Snapshot, TrainingJob, set_worker_threads

DEFAULT_PRESET = "fast"
MAX_SEGMENT = 2000  # longest gate segment traced step by step
MAX_HORIZON = 2000  # longest free-running forecast drawn on the Rollouts page
HORIZON_STEPS = 100  # steps ahead in the error-by-horizon chart
HORIZON_STARTS = 20  # forecasts averaged per step in that chart


# The four GRU equations in PyTorch's convention (the reset gate multiplies W_hn h + b_hn).
GRU_EQUATIONS = (
    r"r_t = \sigma\left(W_{ir}\,x_t + b_{ir} + W_{hr}\,h_{t-1} + b_{hr}\right)",
    r"z_t = \sigma\left(W_{iz}\,x_t + b_{iz} + W_{hz}\,h_{t-1} + b_{hz}\right)",
    r"n_t = \tanh\left(W_{in}\,x_t + b_{in}"
    r" + r_t \odot \left(W_{hn}\,h_{t-1} + b_{hn}\right)\right)",
    r"h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}",
)


def prepare_process(threads: int = 1) -> None:
    """Once per server process, before the first session: what keeps live views cheap.

    - torch runs on `threads` threads (the app's tiny models train faster single-threaded),
      and so do the training workers;
    - the fork server that training processes start from is started (it imports torch
      in the background: a first run would otherwise wait for it);
    - one optimizer is built: torch imports its compiler stack (about 2 s) the first time
      an optimizer is made, and that belongs to server start, not to the first click;
    - everything loaded so far (torch, pandas, plotly, streamlit: some 370,000 objects) is
      moved out of the garbage collector's sight with `gc.freeze()`. Streamlit runs a full
      collection after every script and fragment run; over those objects it took 0.3-0.5 s
      holding the GIL, several times a second while a page polled, which starved training.
      Frozen objects are never collected, and these live as long as the process anyway.
    """
    torch.set_num_threads(threads)
    set_worker_threads(threads)
    process_job.warm()
    torch.optim.Adam([nn.Parameter(torch.zeros(1))])
    gc.collect()
    gc.freeze()


# -- data -------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Dataset:
    """A series and where its training part ends, with a label saying where it came from."""

    series: np.ndarray  # (points,) float64
    train_fraction: float
    label: str
    source: str = "generated"  # "generated" or "upload"

    @property
    def n_train(self) -> int:
        return split_index(len(self.series), self.train_fraction)

    def with_fraction(self, train_fraction: float) -> Dataset:
        return dataclasses.replace(self, train_fraction=float(train_fraction))

    def same_as(self, series: np.ndarray, n_train: int) -> bool:
        """Whether a run on `series` split at `n_train` used exactly this data."""
        return n_train == self.n_train and np.array_equal(series, self.series)


def sine_label(cfg: DataConfig) -> str:
    return (
        f"noisy sine: {cfg.points:,} points, {cfg.periods:g} periods, noise {cfg.noise:g},"
        f" seed {cfg.seed}"
    )


def generated_dataset(cfg: DataConfig = DataConfig(), series: np.ndarray | None = None) -> Dataset:
    """The noisy sine of `cfg` (pass `series` if it was already made, e.g. from a cache)."""
    values = datasets.make_sine(cfg) if series is None else series
    return Dataset(values, cfg.train_fraction, sine_label(cfg), "generated")


def uploaded_dataset(
    content: bytes, name: str, column: str | None, train_fraction: float
) -> Dataset:
    """A series read from an uploaded CSV's bytes; raises DataError with a readable message."""
    values = datasets.load_series(content, column)
    where = f", column {column!r}" if column else ""
    return Dataset(
        values, float(train_fraction), f"{name}{where}: {len(values):,} points", "upload"
    )


def series_csv(series: np.ndarray) -> bytes:
    """The series as a CSV file, one value a line (the tutorial's `%.6f` format)."""
    buffer = io.BytesIO()
    datasets.save_series(series, buffer)
    return buffer.getvalue()


def data_stats(dataset: Dataset) -> dict[str, str]:
    """Sizes and basic statistics of the series, formatted for metric cards."""
    d = datasets.describe(dataset.series, dataset.train_fraction)
    return {
        "points": f"{d['points']:,}",
        "train points": f"{d['train_points']:,}",
        "test points": f"{d['test_points']:,}",
        "mean": f"{d['mean']:.3f}",
        "std": f"{d['std']:.3f}",
        "min": f"{d['min']:.3f}",
        "max": f"{d['max']:.3f}",
    }


# -- training settings ------------------------------------------------------------------------

# Train-page setting -> (config, field). mlp_hidden is edited as text ("32, 16").
SETTINGS = {
    "hidden": ("model", "hidden_size"),
    "layers": ("model", "num_layers"),
    "mlp_hidden": ("model", "mlp_hidden"),
    "mlp_window": ("model", "mlp_window"),
    "epochs": ("train", "epochs"),
    "lr": ("train", "lr"),
    "seq_len": ("train", "seq_len"),
    "mode": ("train", "mode"),
    "batch": ("train", "batch_size"),
    "chunking": ("train", "chunking"),
    "eval_state": ("train", "eval_state"),
    "eval_every": ("train", "eval_every"),
    "schedule": ("train", "lr_schedule"),
    "clip": ("train", "clip_grad"),
    "standardize": ("train", "standardize"),
    "seed": ("train", "seed"),
    "device": ("train", "device"),
    "kernel": ("train", "step_kernel"),
    "eval_warmup": ("train", "eval_warmup"),
}


def config_settings(model: ModelConfig, train: TrainConfig) -> dict[str, object]:
    """The Train page's settings (keys of `SETTINGS`) that describe these configs."""
    configs = {"model": model, "train": train}
    out = {key: getattr(configs[c], f) for key, (c, f) in SETTINGS.items()}
    out["mlp_hidden"] = format_widths(model.mlp_hidden)
    return out


def preset_settings(name: str) -> dict[str, object]:
    """The Train page's settings for a preset."""
    preset = PRESETS[name]
    return config_settings(preset.model, preset.train)


def build_configs(
    settings: dict[str, object], base: str = DEFAULT_PRESET
) -> tuple[ModelConfig, TrainConfig]:
    """Configs from the Train page's settings; ConfigError names the setting that is wrong.

    Fields without a setting keep the value of the `base` preset.
    """
    fields: dict[str, dict[str, object]] = {"model": {}, "train": {}}
    for key, (c, f) in SETTINGS.items():
        if key in settings:
            fields[c][f] = settings[key]
    if "mlp_hidden" in fields["model"]:
        fields["model"]["mlp_hidden"] = parse_widths(fields["model"]["mlp_hidden"])
    preset = PRESETS[base]
    return (
        dataclasses.replace(preset.model, **fields["model"]),
        dataclasses.replace(preset.train, **fields["train"]),
    )


def parse_widths(text: object) -> tuple[int, ...]:
    """'32, 16' -> (32, 16). Tuples pass through; anything else raises ConfigError."""
    if isinstance(text, (tuple, list)):
        return tuple(text)
    parts = [p for p in str(text).replace(";", ",").replace(" ", ",").split(",") if p]
    try:
        return tuple(int(p) for p in parts)
    except ValueError:
        raise ConfigError(
            f"MLP layers must be whole numbers separated by commas, like '32, 16'; got {text!r}"
        ) from None


def format_widths(widths: tuple[int, ...]) -> str:
    return ", ".join(str(w) for w in widths)


def lr_options(*extra: float) -> list[float]:
    """Learning rates for a log-scale slider: 1, 2, 3, 5 per decade, 1e-6 to 1, plus extras."""
    ladder = [m * 10.0**e for e in range(-6, 0) for m in (1, 2, 3, 5)] + [1.0]
    values = {float(f"{v:.3g}") for v in ladder + [float(x) for x in extra if x]}
    return sorted(values)


def format_lr(lr: float) -> str:
    mantissa, exponent = f"{lr:.2e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{int(exponent)}"


def device_options() -> list[str]:
    """'auto' and the devices this process can use."""
    return ["auto", *devices.available()]


def check_run(dataset: Dataset, model: ModelConfig, train: TrainConfig) -> None:
    """Raise ConfigError when these settings cannot train on this data."""
    check_compatible(len(dataset.series), dataset.train_fraction, model, train)
    if train.device != "auto" and train.device not in devices.available():
        raise ConfigError(
            f"device {train.device!r} is not available here;"
            f" available: {', '.join(devices.available())}"
        )


# The app's jobs train in a process of their own: the pages the server draws and the
# training never wait for each other's turn at the GIL. (A test that patches the training
# code in this process sets TrainingJob, which trains in a thread here.)
JOB_TYPE: type[TrainingJob] = process_job.ProcessJob


def make_job(dataset: Dataset, model: ModelConfig, train: TrainConfig) -> TrainingJob:
    """A new (not yet started) job on `dataset`; ConfigError if the settings cannot work."""
    check_run(dataset, model, train)
    return JOB_TYPE(dataset.series, dataset.train_fraction, model, train)


def setting_changes(
    running: tuple[ModelConfig, TrainConfig], chosen: tuple[ModelConfig, TrainConfig]
) -> list[str]:
    """Human-readable differences between a run's settings and the ones chosen now."""
    changes = []
    for old, new in zip(running, chosen, strict=True):
        for f in dataclasses.fields(old):
            a, b = getattr(old, f.name), getattr(new, f.name)
            if a != b:
                changes.append(f"{f.name} {_show(a)} → {_show(b)}")
    return changes


def _show(value: object) -> str:
    if isinstance(value, tuple):
        return f"({format_widths(value)})"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


# -- the session's job ------------------------------------------------------------------------


class JobSlot:
    """Holds a session's one training job; replacing or clearing it stops the old one.

    Stopping does not wait for the worker: it ends after its current epoch, and
    this keeps a click (or a session ending on the server's event loop) from
    blocking on a long epoch.
    """

    def __init__(self) -> None:
        self.job: TrainingJob | None = None
        self._lock = threading.Lock()

    def busy(self) -> bool:
        """Whether the held job is queued or training."""
        job = self.job
        return job is not None and job.status in ("queued", "running")

    def replace(self, job: TrainingJob | None) -> None:
        with self._lock:
            old, self.job = self.job, job
        if old is not None and old is not job:
            old.stop()

    def start(self, job: TrainingJob, replace: bool = False) -> bool:
        """Hold `job` and start it, unless a job is going already and not to be replaced."""
        with self._lock:
            if self.busy() and not replace:
                return False
            old, self.job = self.job, job
            job.start()
        if old is not None:
            old.stop()
        return True

    def clear(self) -> None:
        self.replace(None)

    def release(self) -> None:
        """For a disconnected session: stop the job but keep it.

        Streamlit calls this on every websocket disconnect, yet keeps the session a
        while for the browser to reconnect: after a network blip the run is still
        there, stopped, and Resume continues it. It is freed with the session.
        """
        job = self.job
        if job is not None:
            job.stop()

    def snapshot(self) -> Snapshot | None:
        return None if self.job is None else self.job.snapshot()


# -- run status -------------------------------------------------------------------------------

STATUS_STYLE = {  # status -> (label, badge colour)
    "none": ("no run yet", "gray"),
    "new": ("ready", "gray"),
    "queued": ("queued", "violet"),
    "running": ("running", "blue"),
    "stopped": ("stopped", "orange"),
    "finished": ("finished", "green"),
    "diverged": ("diverged", "red"),
    "failed": ("failed", "red"),
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
        return f"Stopped at {epochs}; Resume continues it."
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


@dataclass(frozen=True)
class MetricCard:
    label: str
    value: str
    help: str


def metric_cards(snapshot: Snapshot) -> list[MetricCard]:
    """The Train page's cards: latest losses of both models, then speed, sizes and device."""
    m = snapshot.latest_metric
    pace = seconds_per_epoch(snapshot.history)
    speed = "—" if pace is None else (f"{pace * 1e3:.0f} ms" if pace < 10 else f"{pace:.1f} s")
    return [
        MetricCard(
            "GRU test",
            format_metric(m("gru_test_rollout_mse")),
            "Test MSE, free-running: the mean squared error when the GRU forecasts the whole"
            " test part feeding on its own predictions (lower is better).",
        ),
        MetricCard(
            "MLP test",
            format_metric(m("mlp_test_rollout_mse")),
            "Test MSE, free-running, of the MLP, which sees only the current value.",
        ),
        MetricCard(
            "GRU train",
            format_metric(m("gru_train_loss")),
            "Training loss: the mean one-step-ahead MSE over the last epoch's sequences.",
        ),
        MetricCard(
            "MLP train",
            format_metric(m("mlp_train_loss")),
            "The MLP's mean one-step-ahead MSE over the last epoch.",
        ),
        MetricCard(
            "Epoch time",
            speed,
            "Mean over the last 10 epochs: training both models and evaluating them.",
        ),
        MetricCard(
            "GRU weights",
            f"{snapshot.parameters['gru']:,}",
            "Trainable parameters of the GRU and its linear head.",
        ),
        MetricCard("MLP weights", f"{snapshot.parameters['mlp']:,}", "Trainable parameters."),
        MetricCard("Device", snapshot.device, snapshot.device_reason),
    ]


def device_summary() -> str:
    """Which devices training can use here, for the sidebar."""
    names = devices.available()
    if names == ["cpu"]:
        return "CPU only (no GPU found)"
    return "GPU: " + ", ".join(n for n in names if n != "cpu") + " · CPU"


# -- gates ------------------------------------------------------------------------------------


def default_segment(n_points: int, n_train: int) -> tuple[int, int]:
    """The last part of the training data and the test part: [start, end) positions.

    As much training data as there is test data, within `MAX_SEGMENT` steps in all.
    """
    n_test = n_points - n_train
    start = max(0, n_train - max(n_test, 20))
    end = n_points
    if end - start > MAX_SEGMENT:
        start = max(0, n_train - MAX_SEGMENT // 2)
        end = min(n_points, start + MAX_SEGMENT)
    return start, end


def clamp_segment(segment: tuple[int, int] | None, n_points: int, n_train: int) -> tuple[int, int]:
    """A valid [start, end) within the series, at least 2 and at most `MAX_SEGMENT` steps."""
    if segment is None:
        return default_segment(n_points, n_train)
    start, end = (int(v) for v in segment)
    start = min(max(0, start), n_points - 2)
    end = min(max(start + 2, end), n_points)
    if end - start > MAX_SEGMENT:
        end = start + MAX_SEGMENT
    return start, end


@dataclass(frozen=True)
class GateView:
    """Every gate of a GRU over a segment; arrays are (time, hidden) unless noted."""

    index: np.ndarray  # (time,) positions in the series
    signal: np.ndarray  # (time,) the series values at those positions
    inputs: np.ndarray  # (time,) what the GRU reads: the values as the model scales them
    r: np.ndarray
    z: np.ndarray
    n: np.ndarray
    h: np.ndarray
    h0: np.ndarray  # (hidden,) state before the segment
    warmup: int  # points read before the segment to warm h0
    layer_note: str  # "" for one layer, else which layer is shown
    weights: gates.GRUWeights

    @property
    def gates(self) -> dict[str, np.ndarray]:
        return {"r": self.r, "z": self.z, "n": self.n, "h": self.h}

    @property
    def hidden(self) -> int:
        return self.r.shape[1]

    def h_before(self, k: int) -> np.ndarray:
        """The state before step k of the segment."""
        return self.h0 if k == 0 else self.h[k - 1]


def _first_layer(gru: nn.GRU) -> nn.GRU:
    """A single-layer GRU with `gru`'s layer-0 weights (its gates do not depend on upper layers)."""
    if gru.num_layers == 1:
        return gru
    with training._BUILD_LOCK:  # building draws from torch's global generator
        single = nn.GRU(gru.input_size, gru.hidden_size, 1, batch_first=True)
    with torch.no_grad():
        for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"):
            getattr(single, name).copy_(getattr(gru, name))
    return single


@torch.no_grad()
def gate_view(snapshot: Snapshot, start: int, end: int, warmup: int | None = None) -> GateView:
    """Trace r, z, n, h of the snapshot's GRU over series[start:end].

    The state is warmed from zeros on the `warmup` points before `start` (default:
    as many as the run's test forecasts read). A stacked GRU shows its first layer.
    """
    if warmup is None:
        warmup = snapshot.train_cfg.eval_warmup
    model = snapshot.gru
    start, end = clamp_segment((start, end), len(snapshot.series), snapshot.n_train)
    gru = _first_layer(model.gru)
    series = torch.as_tensor(snapshot.series, dtype=torch.float32)
    scaled = model.scale_in(series)  # (points,) as the model sees them
    begin = max(0, start - warmup)
    h0 = torch.zeros(gru.hidden_size)
    if start > begin:
        _, last = gru(scaled[begin:start].view(1, -1, 1))  # (1, 1, hidden)
        h0 = last[0, 0]
    segment = scaled[start:end].view(-1, 1)  # (time, 1)
    t = gates.trace(gru, segment, h0)
    layers = model.gru.num_layers
    return GateView(
        index=np.arange(start, end),
        signal=np.asarray(snapshot.series[start:end], dtype=np.float64),
        inputs=segment[:, 0].numpy().astype(np.float64),
        r=t.r.numpy(),
        z=t.z.numpy(),
        n=t.n.numpy(),
        h=t.h.numpy(),
        h0=t.h0.numpy(),
        warmup=start - begin,
        layer_note="" if layers == 1 else f"layer 1 of {layers}",
        weights=gates.GRUWeights.of(gru),
    )


def unit_summary(view: GateView) -> pd.DataFrame:
    """Per unit: mean r, mean z and its memory 1 / (1 - mean z) in steps, over the segment."""
    mean_z = view.z.mean(axis=0)
    memory = gates.memory_steps(torch.as_tensor(mean_z, dtype=torch.float64)).numpy()
    return pd.DataFrame(
        {
            "unit": np.arange(view.hidden),
            "mean r": view.r.mean(axis=0).astype(np.float64),
            "mean z": mean_z.astype(np.float64),
            "memory (steps)": memory,
        }
    )


def default_units(view: GateView, count: int = 3) -> list[int]:
    """Units worth a first look: the ones with the longest memory."""
    mean_z = view.z.mean(axis=0)
    return sorted(int(u) for u in np.argsort(-mean_z, kind="stable")[: min(count, view.hidden)])


@dataclass(frozen=True)
class EquationTerms:
    """Every number in the four GRU equations for one (step, unit), in float64."""

    position: int
    unit: int
    x: float
    h_prev: float  # h_{t-1} of this unit
    r_parts: tuple[float, float, float, float]  # W_ir x, b_ir, (W_hr h)_j, b_hr
    z_parts: tuple[float, float, float, float]
    n_input: tuple[float, float]  # W_in x, b_in
    n_hidden: tuple[float, float]  # (W_hn h)_j, b_hn
    r: float
    z: float
    n: float
    h: float


def equation_terms(view: GateView, position: int, unit: int) -> EquationTerms:
    """The terms of r, z, n and h' for `unit` at series position `position` (in the segment)."""
    k = int(position - view.index[0])
    if not 0 <= k < len(view.index):
        raise ValueError(f"position {position} is outside the segment")
    if not 0 <= unit < view.hidden:
        raise ValueError(f"unit {unit} is outside 0..{view.hidden - 1}")
    w = {
        f.name: getattr(view.weights, f.name).double().numpy()
        for f in dataclasses.fields(view.weights)
    }
    x = float(view.inputs[k])
    h = view.h_before(k).astype(np.float64)
    j = unit
    r_parts = (w["W_ir"][j, 0] * x, w["b_ir"][j], w["W_hr"][j] @ h, w["b_hr"][j])
    z_parts = (w["W_iz"][j, 0] * x, w["b_iz"][j], w["W_hz"][j] @ h, w["b_hz"][j])
    r = _sigmoid(sum(r_parts))
    z = _sigmoid(sum(z_parts))
    n_input = (w["W_in"][j, 0] * x, w["b_in"][j])
    n_hidden = (w["W_hn"][j] @ h, w["b_hn"][j])
    n = math.tanh(sum(n_input) + r * sum(n_hidden))
    h_new = (1 - z) * n + z * h[j]
    return EquationTerms(
        position=int(position),
        unit=j,
        x=x,
        h_prev=float(h[j]),
        r_parts=tuple(float(v) for v in r_parts),
        z_parts=tuple(float(v) for v in z_parts),
        n_input=tuple(float(v) for v in n_input),
        n_hidden=tuple(float(v) for v in n_hidden),
        r=r,
        z=z,
        n=n,
        h=h_new,
    )


def _sigmoid(v: float) -> float:
    return 0.5 * (1.0 + math.tanh(v / 2))  # never overflows, unlike 1 / (1 + exp(-v))


def _num(v: float) -> str:
    """A number for LaTeX, negative ones in parentheses: (-0.123)."""
    text = f"{v:.3f}"
    return f"({text})" if text.startswith("-") else text


def _arg(v: float) -> str:
    """A number that is already inside parentheses: no extra ones."""
    return f"{v:.3f}"


def _sum(values) -> str:
    return " + ".join(_num(v) for v in values)


def equation_latex(t: EquationTerms) -> list[str]:
    """The four equations for one (step, unit): the symbols, then the numbers on a second line."""
    j = t.unit
    r_sum, z_sum = sum(t.r_parts), sum(t.z_parts)
    n_arg = sum(t.n_input) + t.r * sum(t.n_hidden)

    def two_lines(lhs: str, symbols: str, numbers: str) -> str:
        return rf"\begin{{aligned}} {lhs} &= {symbols} \\ &= {numbers} \end{{aligned}}"

    return [
        two_lines(
            f"r_{{{j}}}",
            rf"\sigma\left(W_{{ir}}x_t + b_{{ir}} + W_{{hr}}h_{{t-1}} + b_{{hr}}\right)_{{{j}}}",
            rf"\sigma\left({_sum(t.r_parts)}\right) = \sigma({_arg(r_sum)})"
            rf" = \mathbf{{{t.r:.3f}}}",
        ),
        two_lines(
            f"z_{{{j}}}",
            rf"\sigma\left(W_{{iz}}x_t + b_{{iz}} + W_{{hz}}h_{{t-1}} + b_{{hz}}\right)_{{{j}}}",
            rf"\sigma\left({_sum(t.z_parts)}\right) = \sigma({_arg(z_sum)})"
            rf" = \mathbf{{{t.z:.3f}}}",
        ),
        two_lines(
            f"n_{{{j}}}",
            rf"\tanh\left(W_{{in}}x_t + b_{{in}} + r \odot (W_{{hn}}h_{{t-1}} + b_{{hn}})"
            rf"\right)_{{{j}}}",
            rf"\tanh\left({_sum(t.n_input)} + {_num(t.r)} \cdot ({_sum(t.n_hidden)})\right)"
            rf" = \tanh({_arg(n_arg)}) = \mathbf{{{t.n:.3f}}}",
        ),
        two_lines(
            f"h_{{t,{j}}}",
            rf"(1 - z_{{{j}}})\, n_{{{j}}} + z_{{{j}}}\, h_{{t-1,{j}}}",
            rf"(1 - {_num(t.z)}) \cdot {_num(t.n)} + {_num(t.z)} \cdot {_num(t.h_prev)}"
            rf" = \mathbf{{{t.h:.3f}}}",
        ),
    ]


# -- forecasts --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Forecasts:
    """Both models' forecasts of series[start + 1 : start + 1 + horizon] from position `start`."""

    start: int  # last position the models read before forecasting
    index: np.ndarray  # (horizon,) positions forecast
    truth: np.ndarray  # (horizon,)
    free_run: dict[str, np.ndarray]  # "gru", "mlp" -> (horizon,), fed their own outputs
    one_step: dict[str, np.ndarray]  # "gru", "mlp" -> (horizon,), fed the true values
    context_index: np.ndarray  # positions read right before the forecast (for the plot)
    context: np.ndarray
    n_read: int  # points read from `start` backwards to set the state
    carried: bool  # the state came from training (eval_state 'carried'), not a fresh warm-up


def _last_stream(state, mlp: bool):
    """The carried state of the last training stream, the one ending where training ends."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(_last_stream(s, mlp) for s in state)
    return state[-1:] if mlp else state[:, -1:].contiguous()


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
    state left by training reads on from where it stopped (`snapshot.carried_end`) to the
    start. So at offset 0 the MSEs are the ones in the training history.
    """
    series, n_train = snapshot.series, snapshot.n_train
    lo, hi = start_range(snapshot)
    start = n_train + min(max(int(offset), lo), hi)
    horizon = min(len(series) - 1 - start, max_horizon)
    carried = snapshot.train_cfg.eval_state == "carried"
    begin = snapshot.carried_end if carried else max(0, start - snapshot.train_cfg.eval_warmup)
    free, one = {}, {}
    for name, model in (("gru", snapshot.gru), ("mlp", snapshot.mlp)):
        state = None
        if carried and snapshot.states is not None:
            state = _last_stream(snapshot.states.get(name), mlp=name == "mlp")
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
        context_index=np.arange(shown, start + 1),
        context=np.asarray(series[shown : start + 1], dtype=np.float64),
        n_read=start + 1 - begin,
        carried=carried,
    )


def forecast_metrics(f: Forecasts) -> pd.DataFrame:
    """MSE and MAE of each model's free-running and one-step forecasts against the truth."""
    rows = []
    for name, label in (("gru", "GRU"), ("mlp", "MLP")):
        rows.append(
            {
                "model": label,
                "free-running MSE": metrics.mse(f.free_run[name], f.truth),
                "free-running MAE": metrics.mae(f.free_run[name], f.truth),
                "one-step MSE": metrics.mse(f.one_step[name], f.truth),
                "one-step MAE": metrics.mae(f.one_step[name], f.truth),
            }
        )
    return pd.DataFrame(rows).set_index("model")


def forecasts_frame(f: Forecasts) -> pd.DataFrame:
    """One row per forecast step, for a CSV download."""
    return pd.DataFrame(
        {
            "position": f.index,
            "steps_ahead": np.arange(1, len(f.index) + 1),
            "truth": f.truth,
            "gru_free_running": f.free_run["gru"],
            "mlp_free_running": f.free_run["mlp"],
            "gru_one_step": f.one_step["gru"],
            "mlp_one_step": f.one_step["mlp"],
        }
    )


def forecasts_csv(f: Forecasts) -> bytes:
    return forecasts_frame(f).to_csv(index=False, float_format="%.6f").encode()


@dataclass(frozen=True)
class HorizonErrors:
    steps: np.ndarray  # (horizon,) 1, 2, ...
    mse: dict[str, np.ndarray]  # "gru", "mlp" -> (horizon,)
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
    for name, model in (("gru", snapshot.gru), ("mlp", snapshot.mlp)):
        result = rollout.error_by_horizon(model, series, starts, horizon, warmup)
        mse[name], mae[name] = result["mse"], result["mae"]
    return HorizonErrors(np.arange(1, horizon + 1), mse, mae, len(starts), warmup)
