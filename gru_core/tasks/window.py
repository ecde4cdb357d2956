"""The window task: many-to-one regression on short windows of noisy sines.

Each window is `steps` points of sin(f t + p) + N(0, noise) over t in [0, span], with its
own frequency f and phase p drawn uniformly; a model reads the whole window and gives one
number. The target is the value that follows the window ("next": a forecast) or, as the
tutorial has it, the window's own last point ("last"), which the model has just read:
copying its last input is enough, so that target measures memory of one step, not
forecasting. Models end in a head on their last state (`gru_core.heads`); the MLP reads
the whole window at once. Loss and metrics: MSE and MAE over the held-out windows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from gru_core import metrics
from gru_core.config import ConfigError, _choice, _float, _int, _validate
from gru_core.heads import build_head
from gru_core.models import Forecaster
from gru_core.rollout import evaluating
from gru_core.spec import ModelSpec, RunSpec, task_options
from gru_core.tasks import Batch, Metric

TARGETS = ("next", "last")  # the value after the window, or the window's own last point


@dataclass(frozen=True)
class WindowData:
    """Windows of noisy sines, each with its own frequency and phase (window and classify)."""

    windows: int = _int(300, 10, 100_000)  # how many windows
    steps: int = _int(30, 2, 1000)  # points per window
    train_windows: int = _int(240, 1, 100_000)  # the leading windows train; the rest test
    freq_low: float = _float(0.5, 0.01, 100.0)  # frequency f drawn uniformly in [low, high]
    freq_high: float = _float(1.5, 0.01, 100.0)
    span: float = _float(2 * math.pi, 0.01, 1000.0)  # t runs over [0, span] in each window
    noise: float = _float(0.1, 0.0, 2.0)  # standard deviation of the Gaussian noise
    seed: int = _int(42, 0, 2**31 - 1)  # numpy seed of frequencies, phases and noise
    bidirectional: bool = False  # recurrent models also read each window backwards

    def __post_init__(self) -> None:
        _validate(self)
        if self.freq_low > self.freq_high:
            raise ConfigError(f"freq_low {self.freq_low} is above freq_high {self.freq_high}")
        if not self.train_windows < self.windows:
            raise ConfigError(
                f"train_windows {self.train_windows} leaves no test windows of {self.windows}"
            )
        if not isinstance(self.bidirectional, bool):
            raise ConfigError(f"bidirectional must be true or false; got {self.bidirectional!r}")


@dataclass(frozen=True)
class WindowConfig(WindowData):
    """The window task's settings; the defaults are the tutorial's but for the target."""

    target: str = _choice("next", *TARGETS)  # next: the value after; last: the last point


def make_windows(cfg: WindowData, extra: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(points (n, steps + extra), frequencies (n,), phases (n,)), float64, from `cfg.seed`.

    Per window, in this order: f, then the phase in [0, pi], then the noise of its points;
    `extra` points continue each window at the same spacing. With extra 0 the draws and
    values are the tutorial's after `np.random.seed(seed)`.
    """
    rng = np.random.RandomState(cfg.seed)  # the legacy stream np.random.seed gives
    t = np.arange(cfg.steps + extra) * (cfg.span / (cfg.steps - 1))
    t[: cfg.steps] = np.linspace(0, cfg.span, cfg.steps)
    xs, fs, ps = [], [], []
    for _ in range(cfg.windows):
        f = rng.uniform(cfg.freq_low, cfg.freq_high)
        p = rng.uniform(0, np.pi)
        xs.append(np.sin(f * t + p) + rng.normal(0, cfg.noise, len(t)))
        fs.append(f)
        ps.append(p)
    return np.array(xs), np.array(fs), np.array(ps)


METRICS = (
    Metric("test_mse"),
    Metric("test_mae"),
)


def shuffled(batch: Batch, size: int, generator: torch.Generator) -> list[Batch]:
    """`batch` whole when `size` holds it, else its rows in batches of `size`, shuffled."""
    n = len(batch.x)
    if size >= n:
        return [batch]
    order = torch.randperm(n, generator=generator).to(batch.x.device)
    return [Batch(batch.x[idx], batch.y[idx]) for idx in order.split(size)]


class WindowsTask:
    """What the window and classify tasks share: windows read from zeros, in torch, shuffled.

    A subclass sets `self.x` (windows, steps, 1), `self.y` and the split, via `_split`.
    """

    carries_state = False
    loss_weight = 1.0

    def __init__(self, spec: RunSpec, device: torch.device) -> None:
        self.cfg = task_options(spec.task, spec.options)
        self.batch_size = spec.train.batch_size
        self.device = device
        self._shuffle = torch.Generator().manual_seed(spec.train.seed)

    def _split(self, x: np.ndarray, y: torch.Tensor) -> None:
        n = self.cfg.train_windows
        self.x = torch.tensor(x, dtype=torch.float32, device=self.device)[..., None]
        self.y = y.to(self.device)
        self.train = Batch(self.x[:n], self.y[:n])  # x (windows, steps, 1)
        self.test = Batch(self.x[n:], self.y[n:])

    def prepare(self, name: str, model: Forecaster) -> None:
        pass

    def batches(self) -> list[Batch]:
        return shuffled(self.train, self.batch_size, self._shuffle)

    def kernel_step(self, kernel, model: Forecaster, batch: Batch, state) -> tuple[float, object]:
        raise NotImplementedError(f"the {self.name} task trains with torch only")

    def outputs(self, model: Forecaster, x: torch.Tensor) -> torch.Tensor:
        """The model's outputs (windows, outputs) for windows x (windows, steps, 1), eval mode."""
        with evaluating(model):
            return model(x)[0]

    def resumable(self) -> dict[str, torch.Tensor]:
        return {"shuffle": self._shuffle.get_state()}

    def load_resumable(self, tensors: Mapping[str, torch.Tensor]) -> None:
        self._shuffle.set_state(tensors["shuffle"])


class WindowTask(WindowsTask):
    """Many-to-one regression on windows; see the module docstring."""

    name = "window"
    metrics = METRICS
    primary = "test_mse"
    train_loss_help = "task.window.train_loss_help"
    results_view = "windows"

    def __init__(self, spec: RunSpec, device: torch.device) -> None:
        super().__init__(spec, device)
        cfg = self.cfg
        points, _, _ = make_windows(cfg, extra=int(cfg.target == "next"))
        self._split(points[:, : cfg.steps], torch.tensor(points[:, -1:], dtype=torch.float32))

    @staticmethod
    def build_model(run: RunSpec, spec: ModelSpec) -> Forecaster:
        cfg = task_options(run.task, run.options)
        return build_head(spec, cfg.steps, 1, cfg.bidirectional)

    def loss(self, pred: torch.Tensor, batch: Batch) -> torch.Tensor:
        return nn.functional.mse_loss(pred, batch.y)

    def predict(self, model: Forecaster, x: torch.Tensor) -> np.ndarray:
        """The model's predictions (windows,) for windows x (windows, steps, 1), in eval mode."""
        return self.outputs(model, x)[:, 0].cpu().numpy()

    def evaluate(self, models: Mapping[str, Forecaster], states: Mapping[str, object]) -> dict:
        truth = self.test.y[:, 0].cpu().numpy()
        row = {}
        for name, model in models.items():
            pred = self.predict(model, self.test.x)
            row[f"{name}_test_mse"] = metrics.finite_or_none(metrics.mse(pred, truth))
            row[f"{name}_test_mae"] = metrics.finite_or_none(metrics.mae(pred, truth))
        return row
