"""Training: the trainer of a run's models and the one loop over epochs.

`Trainer(spec)` owns the models, their optimizers and their carried states, and
runs one epoch at a time: every model steps on each of the task's batches in turn,
then the task evaluates them. `train()` is the only loop over epochs; the command
line calls it directly and the jobs (`gru_core.job`, `gru_core.process_job`) from
a worker. A trainer exports its whole resumable state as flat tensors and is
rebuilt from it (`resumable_state`, `Trainer.resume`). Nothing here knows about a
UI or a task: callers hook in with `on_epoch`; tasks bring data, loss and metrics.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from gru_core import device as devices
from gru_core import kernels, replay
from gru_core.models import Forecaster
from gru_core.spec import ModelSpec, RunSpec, model_seed
from gru_core.tasks import Batch, build_model, make_task, metric_names, primary

# Model construction seeds torch's process-wide generator; two jobs building at once
# would interleave draws, so building is serialised.
_BUILD_LOCK = threading.Lock()


class Diverged(RuntimeError):
    """A training loss became NaN or infinite; the last finite weights were restored."""


def divergence(spec: RunSpec, epoch: int, means: Mapping[str, float], broken: Sequence[str]) -> str:
    """`Diverged`'s message for a run whose epoch `epoch` (from 1) ended with the models'
    mean training losses `means` (name -> loss, in the run's model order), the models in
    `broken` with weights no longer finite."""
    labels = {m.name: m.label for m in spec.models}
    bad = [k for k, v in means.items() if not math.isfinite(v)]
    what = (
        f"the {' and '.join(labels[b] for b in bad)} training loss became"
        f" {'NaN' if any(math.isnan(means[b]) for b in bad) else 'infinite'}"
        if bad
        else f"the {' and '.join(labels[b] for b in broken)} weights overflowed"
    )
    return (
        f"{what} in epoch {epoch}; the weights of epoch {epoch - 1} were kept."
        f" Lower the learning rate (try {spec.train.lr / 10:.2g}) or turn on gradient clipping."
    )


class JobFailed(RuntimeError):
    """Training failed somewhere the worker cannot re-raise from; the message says why."""


def _seed_run(spec: RunSpec, build: Callable[[ModelSpec], None]) -> None:
    """The tutorial's order: numpy and torch seeded once, then each model and its optimizer."""
    np.random.seed(spec.train.seed)
    torch.manual_seed(spec.train.seed)
    for model in spec.models:
        build(model)


def _seed_each(spec: RunSpec, build: Callable[[ModelSpec], None]) -> None:
    """Each model and its optimizer built right after numpy and torch are seeded with
    `spec.model_seed(run seed, its name)`: no model's weights depend on another's."""
    for model in spec.models:
        seed = model_seed(spec.train.seed, model.name)
        np.random.seed(seed)
        torch.manual_seed(seed)
        build(model)


# Seeding mode (RunSpec.seeding) -> how the models are built under it.
_SEEDINGS: dict[str, Callable[[RunSpec, Callable[[ModelSpec], None]], None]] = {
    "run": _seed_run,
    "model": _seed_each,
}


class Trainer:
    """A run's models, their optimizers and carried states, trained an epoch at a time.

    Built from a `RunSpec`; the spec's task gives the batches, the loss and the
    evaluation, so nothing here knows what is being learnt.
    """

    def __init__(self, spec: RunSpec, keep_frames: bool = False) -> None:
        """`keep_frames`: keep replay frames at `gru_core.replay.kept_epochs` (jobs do)."""
        self.spec = spec.validate()
        self.cfg = cfg = spec.train
        self.device_choice = run_device(spec)
        dev = self.device = self.device_choice.device
        if dev.type == "cpu":  # numpy kernels run the GRU here; their products are tiny
            kernels.limit_blas_threads(1)
        self.task = make_task(spec, dev)
        self.models: dict[str, Forecaster] = {}
        self.optimizers: dict[str, torch.optim.Optimizer] = {}

        def build(model_spec: ModelSpec) -> None:
            model = self.models[model_spec.name] = build_model(spec, model_spec).to(dev)
            make = getattr(self.task, "optimizer", None)  # a task's own, else Adam
            self.optimizers[model_spec.name] = (make or _adam)(model, cfg.lr)

        with _BUILD_LOCK:
            _SEEDINGS[spec.seeding](spec, build)
        for name, model in self.models.items():
            self.task.prepare(name, model)
        self._kernels: dict[str, object] = {}
        self._make_kernels()
        self._state: dict[str, object] = dict.fromkeys(self.models)  # carried between batches
        self._good = self._weights()
        self.epoch = 0
        self.elapsed = 0.0  # seconds spent in epochs so far
        self.history: list[dict] = []
        # Replay: the epochs whose weights are kept, and those kept but not yet taken.
        self.kept_epochs = frozenset(
            replay.kept_epochs(cfg.epochs, replay.frame_bytes(self.models)) if keep_frames else ()
        )
        self.frames: dict[int, dict] = {}
        self._keep_frame()

    def _make_kernels(self) -> None:
        """Whole-step numpy kernels where asked for and where they apply; torch otherwise."""
        self._kernels.clear()
        if self.cfg.step_kernel == "numpy":
            for name, model in self.models.items():
                kernel = model.numpy_train_step(self.optimizers[name], self.cfg.clip_grad)
                if kernel is not None:
                    self._kernels[name] = kernel

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.models)

    # -- training -----------------------------------------------------------------------
    def _lr_factor(self) -> float:
        if self.cfg.lr_schedule == "constant":
            return 1.0
        progress = min(self.epoch / max(1, self.cfg.epochs - 1), 1.0)
        floor = 1 / 20
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))

    def _step(self, name: str, batch: Batch) -> torch.Tensor | float:
        model, task = self.models[name], self.task
        carry = task.carries_state
        state = self._state[name] if carry else None
        kernel = self._kernels.get(name)
        if kernel is not None:  # same step, no framework calls
            loss, state = task.kernel_step(kernel, model, batch, state)
            if carry:
                self._state[name] = state
            return loss
        opt = self.optimizers[name]
        pred, state = model(batch.x, state)
        loss = task.loss(pred, batch)
        opt.zero_grad(set_to_none=True)
        (loss * task.loss_weight if task.loss_weight != 1.0 else loss).backward()
        if self.cfg.clip_grad > 0:
            nn.utils.clip_grad_norm_(model.parameters(), self.cfg.clip_grad)
        opt.step()
        if carry:
            self._state[name] = _detach(state)
        return loss.detach()

    def run_epoch(self) -> dict:
        """Train every model over the training part once, evaluate if due; return the row."""
        start = time.perf_counter()
        lr = self.cfg.lr * self._lr_factor()
        for opt in self.optimizers.values():
            for group in opt.param_groups:
                group["lr"] = lr
        for model in self.models.values():
            model.train()
        if getattr(self.task, "fresh_state_each_epoch", False):
            self._state = dict.fromkeys(self.models)
        losses: dict[str, list] = {name: [] for name in self.models}
        for batch in self.task.batches():
            for name in self.models:
                losses[name].append(self._step(name, batch))
        means = {k: _mean(v) for k, v in losses.items()}
        bad = [k for k, v in means.items() if not math.isfinite(v)]
        # A last step can overflow the weights while its own loss was still finite.
        broken = [k for k, m in self.models.items() if not _finite(m)]
        if bad or broken:
            self._restore(self._good)
            raise Diverged(divergence(self.spec, self.epoch + 1, means, broken))
        self.epoch += 1
        self._good = self._weights()
        self._keep_frame()
        row: dict = {"epoch": self.epoch, "lr": lr}
        for name in self.models:
            row[f"{name}_train_loss"] = means[name]
        due = self.epoch % self.cfg.eval_every == 0 or self.epoch >= self.cfg.epochs
        row.update(self.evaluate() if due else dict.fromkeys(self.test_keys()))
        seconds = time.perf_counter() - start
        self.elapsed += seconds
        row["seconds"] = seconds
        row["elapsed"] = self.elapsed
        self.history.append(row)
        return row

    def test_keys(self) -> list[str]:
        """History columns of the task's test metrics, model by model."""
        return [f"{n}_{m.name}" for n in self.models for m in self.task.metrics]

    def evaluate(self) -> dict:
        """The task's test metrics for every model (the keys of `test_keys()`)."""
        return self.task.evaluate(self.models, self._state)

    # -- weights ------------------------------------------------------------------------
    def _weights(self) -> dict:
        """Copies of every model's weights and carried state: what divergence falls back to."""
        return {
            "states": {k: _copy_state(v) for k, v in self._state.items()},
            "models": {
                name: {k: v.detach().clone() for k, v in m.state_dict().items()}
                for name, m in self.models.items()
            },
        }

    def _restore(self, weights: dict) -> None:
        self._state = {k: _copy_state(v) for k, v in weights["states"].items()}
        for name, model in self.models.items():
            model.load_state_dict(weights["models"][name])

    def _keep_frame(self) -> None:
        if self.epoch in self.kept_epochs:
            exported = self.export()
            self.frames[self.epoch] = {k: exported[k] for k in ("weights", "states")}

    def take_frames(self) -> dict[int, dict]:
        """The replay frames kept since the last call (epoch -> `gru_core.replay` frame)."""
        frames, self.frames = self.frames, {}
        return frames

    def export(self) -> dict:
        """Progress, and CPU copies of every model's weights and carried state (for snapshots)."""
        return {
            "epoch": self.epoch,
            "elapsed": self.elapsed,
            "weights": {
                name: {k: v.detach().to("cpu", copy=True) for k, v in m.state_dict().items()}
                for name, m in self.models.items()
            },
            "states": {k: _to_cpu(v) for k, v in self._state.items()},
        }

    # -- resuming -----------------------------------------------------------------------
    def resumable_state(self) -> tuple[dict[str, torch.Tensor], dict]:
        """Everything needed to go on exactly: flat CPU tensors and JSON-able meta.

        Tensors are named `model/<name>/<param>`, `optim/<name>/<index>/<key>`,
        `state/<name>/<index>` (a carried state's parts) and `task/<key>` (e.g. the
        shuffle generator), each contiguous on the CPU: a safetensors file holds them
        as they are. `Trainer.resume(spec, tensors, meta)` continues from them.
        """
        tensors: dict[str, torch.Tensor] = {}
        parts: dict[str, int | None] = {}
        for name, model in self.models.items():
            for k, v in model.state_dict().items():
                tensors[f"model/{name}/{k}"] = _cpu(v)
            for index, slots in self.optimizers[name].state_dict()["state"].items():
                for key, v in slots.items():
                    tensors[f"optim/{name}/{index}/{key}"] = _cpu(v)
            state = self._state[name]
            flat = None if state is None else state if isinstance(state, tuple) else (state,)
            parts[name] = None if flat is None else len(flat)
            for i, part in enumerate(flat or ()):
                tensors[f"state/{name}/{i}"] = _cpu(torch.as_tensor(part))
        for k, v in self.task.resumable().items():
            tensors[f"task/{k}"] = _cpu(v)
        meta = {
            "epoch": self.epoch,
            "elapsed": self.elapsed,
            "history": [dict(r) for r in self.history],
            # None: no state; n: a tensor (1) or a tuple of n tensors, as a model carries it
            "state_parts": parts,
            "state_tuples": {
                n: isinstance(s, tuple) for n, s in self._state.items() if s is not None
            },
        }
        return tensors, meta

    @classmethod
    def resume(
        cls, spec: RunSpec, tensors: dict[str, torch.Tensor], meta: dict, keep_frames: bool = False
    ) -> Trainer:
        """A trainer that goes on exactly where `resumable_state()` left off."""
        trainer = cls(spec, keep_frames)
        trainer.frames.clear()  # epoch 0's frame belongs to the run's first start
        dev = trainer.device
        for name, model in trainer.models.items():
            prefix = f"model/{name}/"
            model.load_state_dict(
                {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
            )
            model.set_scale(float(model.mean), float(model.std))
            opt = trainer.optimizers[name]
            saved = opt.state_dict()
            state: dict[int, dict] = {}
            prefix = f"optim/{name}/"
            for k, v in tensors.items():
                if k.startswith(prefix):
                    index, key = k[len(prefix) :].split("/")
                    state.setdefault(int(index), {})[key] = v.clone()
            saved["state"] = state
            opt.load_state_dict(saved)
            n = meta["state_parts"][name]
            if n is not None:
                parts = tuple(tensors[f"state/{name}/{i}"].to(dev) for i in range(n))
                trainer._state[name] = parts if meta["state_tuples"][name] else parts[0]
        trainer.task.load_resumable(
            {k[len("task/") :]: v for k, v in tensors.items() if k.startswith("task/")}
        )
        trainer._make_kernels()  # after the optimizer state: kernels take it over
        trainer._good = trainer._weights()
        trainer.epoch = meta["epoch"]
        trainer.elapsed = meta["elapsed"]
        trainer.history = [dict(r) for r in meta["history"]]
        return trainer


def _widest(spec: RunSpec) -> int:
    """The largest hidden size of a run's models: what the device choice depends on."""
    return max(m.hidden_size for m in spec.models)


def run_device(spec: RunSpec) -> devices.DeviceChoice:
    """The device a run trains on (its setting; `auto` weighs its widest model)."""
    return devices.choose(spec.train.device, _widest(spec), spec.train.batch_size)


def _cpu(t: torch.Tensor) -> torch.Tensor:
    return t.detach().to("cpu", copy=True).contiguous()


def _adam(model: nn.Module, lr: float) -> torch.optim.Adam:
    # The fused kernel does the same update in one call instead of a dozen per tensor.
    return torch.optim.Adam(model.parameters(), lr=lr, fused=True)


def _mean(losses: list) -> float:
    """Mean of an epoch's step losses: floats from numpy kernels, or tensors from torch."""
    if torch.is_tensor(losses[0]):
        return torch.stack(losses).mean().item()  # one synchronisation per epoch, not per step
    return float(np.mean(losses))


def _finite(model: nn.Module) -> bool:
    """Whether every weight of `model` is a finite number."""
    return all(bool(torch.isfinite(p).all()) for p in model.parameters())


def _copy_state(state):
    """A carried state's own copy (tensors, numpy arrays or tuples of them)."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(_copy_state(s) for s in state)
    return state.detach().clone() if torch.is_tensor(state) else np.array(state, copy=True)


def _detach(state):
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()


def _to_cpu(state):
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s.detach().to("cpu", copy=True) for s in state)
    return state.detach().to("cpu", copy=True)


def _reached(value: float | None, target: float, lower_is_better: bool) -> bool:
    if value is None:
        return False
    return value <= target if lower_is_better else value >= target


@dataclass
class TrainResult:
    outcome: str  # "finished", "stopped", "reached_target"
    seconds: float


def train(
    trainer: Trainer,
    epochs: int | None = None,
    on_epoch: Callable[[dict], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    target: float | None = None,
) -> TrainResult:
    """Run epochs until `epochs` in total (default the config's), a stop, or the target.

    `target`: stop at the first evaluation where the run's first model reaches it on
    the task's primary metric (at most X where lower is better, at least X otherwise).
    Raises Diverged when a loss turns non-finite (the last finite weights are kept).
    """
    total = trainer.cfg.epochs if epochs is None else epochs
    metric = primary(trainer.task)
    key = f"{trainer.names[0]}_{metric.name}"
    start = time.perf_counter()
    outcome = "finished"
    pace = trainer.cfg.slow_motion
    while trainer.epoch < total:
        if should_stop is not None and should_stop():
            outcome = "stopped"
            break
        began = time.perf_counter()
        row = trainer.run_epoch()
        if on_epoch is not None:
            on_epoch(row)
        if target is not None and _reached(row[key], target, metric.lower_is_better):
            outcome = "reached_target"
            break
        if pace > 0 and trainer.epoch < total:
            _wait_until(began + pace, should_stop)
    return TrainResult(outcome, time.perf_counter() - start)


def _wait_until(moment: float, should_stop: Callable[[], bool] | None) -> None:
    """Slow motion: sleep until `moment` (perf_counter time), or until asked to stop."""
    while (left := moment - time.perf_counter()) > 0:
        if should_stop is not None and should_stop():
            return
        time.sleep(min(left, 0.05))


def final_metrics(trainer: Trainer, names: Sequence[str] | None = None) -> dict[str, dict] | None:
    """Each model's metrics after its last epoch, as `train --json` reports them (None before
    any epoch); `names`, the models to report (default all). A last epoch that skipped
    evaluation is evaluated now, into its row."""
    if not trainer.history:
        return None
    names = trainer.names if names is None else tuple(names)
    last = trainer.history[-1]
    if last[f"{names[0]}_{primary(trainer.task).name}"] is None:
        last.update(trainer.evaluate())
    keys = metric_names(trainer.task)
    return {name: {key: last[f"{name}_{key}"] for key in keys} for name in names}
