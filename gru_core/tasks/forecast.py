"""The forecast task: next-step forecasting of one series, scored on free-running forecasts.

The training part is cut into batches of (input, next value) sequences: contiguous
chunks whose state carries from one to the next ("stateful"; the tutorial's disjoint
cuts are one such chunking) or shuffled windows each read from a fresh state
("windowed"). The loss is the MSE of the one-step forecasts. After an epoch each model
reads the series up to the test part (or goes on from the state training left), then
forecasts the test part twice from its first value: fed its own predictions
(free-running, the tutorial's test loss) and fed the truth (one step ahead).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
from torch import nn

from gru_core import metrics
from gru_core.config import TrainConfig, split_index
from gru_core.models import Forecaster
from gru_core.rollout import evaluating
from gru_core.spec import RunSpec
from gru_core.tasks import Batch, Metric

METRICS = (
    Metric(
        "test_one_step_mse",
    ),
    Metric(
        "test_rollout_mse",
    ),
    Metric(
        "test_rollout_mae",
    ),
)


def read_begin(train: TrainConfig, carried_end: int, start: int) -> int:
    """Where a forecast made after reading series[start] begins reading the series.

    'carried': where the state training left has read up to (the last stream stops up
    to `batch_size` points short of the training part's end and reads those first);
    'warm': a fresh state reads the run's `eval_warmup` points before.
    """
    return carried_end if train.eval_state == "carried" else max(0, start - train.eval_warmup)


def carried_end(n_train: int, train: TrainConfig) -> int:
    """Where the carried state of the last stream has read the series up to."""
    if train.mode == "stateful" and train.chunking != "tutorial":
        streams = train.batch_size
        return streams * ((n_train - 1) // streams)
    return n_train  # the tutorial's chunking skips its unread tail, as the tutorial does


class ForecastTask:
    """Next-step forecasting of `spec.data`'s series; see the module docstring."""

    name = "forecast"
    metrics = METRICS
    primary = "test_rollout_mse"
    train_loss_help = "task.forecast.train_loss_help"
    results_view = "rollouts"

    def __init__(self, spec: RunSpec, device: torch.device) -> None:
        series = np.asarray(spec.data.series, dtype=np.float64)
        self.cfg = cfg = spec.train
        self.series = series
        self.device = device
        self.n_train = split_index(len(series), spec.data.train_fraction)
        self.data = torch.as_tensor(series.astype(np.float32), device=device)  # (points,)
        train_part = series[: self.n_train]
        self.mean, self.std = (
            (float(train_part.mean()), float(train_part.std()) or 1.0)
            if cfg.standardize
            else (0.0, 1.0)
        )
        self.loss_weight = 1.0 / self.std**2  # optimise the standardised loss
        self.carries_state = cfg.mode == "stateful"
        self.carried_end = carried_end(self.n_train, cfg)
        self._shuffle = torch.Generator().manual_seed(cfg.seed)
        self._stateful = self._stateful_batches() if self.carries_state else None

    # -- training -------------------------------------------------------------------------
    def prepare(self, name: str, model: Forecaster) -> None:
        model.set_scale(self.mean, self.std)

    def _stateful_batches(self) -> list[Batch]:
        cfg, train = self.cfg, self.data[: self.n_train]
        if cfg.chunking == "tutorial":  # disjoint cuts of seq_len + 1, as the tutorial does
            n = len(train) // (cfg.seq_len + 1)
            cuts = train[: n * (cfg.seq_len + 1)].view(n, cfg.seq_len + 1)
            return [Batch(c[None, :-1, None], c[None, 1:, None]) for c in cuts]
        streams = cfg.batch_size
        length = (len(train) - 1) // streams  # B contiguous streams, one point of overlap
        x = train[: streams * length].view(streams, length, 1)
        y = train[1 : streams * length + 1].view(streams, length, 1)
        return [
            Batch(x[:, t : t + cfg.seq_len], y[:, t : t + cfg.seq_len])
            for t in range(0, length, cfg.seq_len)
        ]

    def _windowed_batches(self) -> list[Batch]:
        cfg = self.cfg
        starts = torch.randperm(self.n_train - cfg.seq_len, generator=self._shuffle)
        offsets = torch.arange(cfg.seq_len + 1)
        batches = []
        for i in range(0, len(starts), cfg.batch_size):
            idx = (starts[i : i + cfg.batch_size, None] + offsets).to(self.device)
            w = self.data[idx]  # (batch, seq_len + 1)
            batches.append(Batch(w[:, :-1, None], w[:, 1:, None]))
        return batches

    def batches(self) -> list[Batch]:
        return self._stateful if self.carries_state else self._windowed_batches()

    def loss(self, pred: torch.Tensor, batch: Batch) -> torch.Tensor:
        return nn.functional.mse_loss(pred, batch.y)

    def kernel_step(self, kernel, model: Forecaster, batch: Batch, state) -> tuple[float, object]:
        # Kernels work in standardised units; the loss is reported in the series' own.
        x, y = model.scale_in(batch.x).numpy(), model.scale_in(batch.y).numpy()
        loss, state = kernel(x, y, state)
        return loss * self.std**2, state

    # -- evaluation -----------------------------------------------------------------------
    def evaluate(self, models: Mapping[str, Forecaster], states: Mapping[str, object]) -> dict:
        """Each model reads up to the test part, then forecasts test[1:] from test[0]."""
        truth = self.series[self.n_train + 1 :]
        begin = read_begin(self.cfg, self.carried_end, self.n_train)
        row = {}
        for name, model in models.items():
            state = None
            if self.cfg.eval_state == "carried":
                state = model.last_stream(states.get(name))
            with evaluating(model):
                if begin < self.n_train:
                    _, state = model(self.data[None, begin : self.n_train, None], state)
                teacher, free = model.forecasts(self.data[None, self.n_train : -1, None], state)
            rollout = free[0].cpu().numpy()
            teacher = teacher[0].cpu().numpy()
            row[f"{name}_test_one_step_mse"] = metrics.finite_or_none(metrics.mse(teacher, truth))
            row[f"{name}_test_rollout_mse"] = metrics.finite_or_none(metrics.mse(rollout, truth))
            row[f"{name}_test_rollout_mae"] = metrics.finite_or_none(metrics.mae(rollout, truth))
        return row

    # -- resuming -------------------------------------------------------------------------
    def resumable(self) -> dict[str, torch.Tensor]:
        return {"shuffle": self._shuffle.get_state()}

    def load_resumable(self, tensors: Mapping[str, torch.Tensor]) -> None:
        self._shuffle.set_state(tensors["shuffle"])
