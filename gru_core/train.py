"""Training: one loop for the recurrent model and the MLP, and a job that runs it in a thread.

`Trainer` owns the models, their optimizers and the carried state, and runs one
epoch at a time (train both models chunk by chunk, then evaluate on the test
part). `train()` is the only loop over epochs; the command line calls it
directly and `TrainingJob` calls it from a worker thread. Nothing here knows
about a UI: callers hook in with `on_epoch` or poll `TrainingJob.snapshot()`.
The app's jobs are `gru_core.process_job.ProcessJob`s: the same job, with the
epochs in a child process.
"""

from __future__ import annotations

import copy
import math
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from gru_core import device as devices
from gru_core import kernels, metrics
from gru_core.config import (
    ConfigError,
    ModelConfig,
    TrainConfig,
    check_compatible,
    split_index,
)
from gru_core.models import Forecaster, build_mlp, build_recurrent, count_parameters
from gru_core.rollout import evaluating

MODELS = (
    "gru",
    "mlp",
)  # history keys: gru_* for the recurrent model, mlp_* for the baseline
METRICS = ("train_loss", "test_one_step_mse", "test_rollout_mse", "test_rollout_mae")
WARMUP = TrainConfig.eval_warmup  # default points a fresh state reads before a test forecast

# Model construction seeds torch's process-wide generator; two jobs building at once
# would interleave draws, so building is serialised.
_BUILD_LOCK = threading.Lock()


class Diverged(RuntimeError):
    """A training loss became NaN or infinite; the last finite weights were restored."""


class JobFailed(RuntimeError):
    """Training failed somewhere the worker cannot re-raise from; the message says why."""


@dataclass
class Batch:
    x: torch.Tensor  # (batch, time, 1) inputs
    y: torch.Tensor  # (batch, time, 1) next values


class Trainer:
    """Both models, their optimizers and their carried state, trained an epoch at a time."""

    def __init__(
        self,
        series: np.ndarray,
        train_fraction: float,
        model_cfg: ModelConfig,
        train_cfg: TrainConfig,
    ) -> None:
        series = np.asarray(series, dtype=np.float64)
        if series.ndim != 1:
            raise ConfigError(f"the series must be one-dimensional, got shape {series.shape}")
        check_compatible(len(series), train_fraction, model_cfg, train_cfg)
        self.series = series
        self.train_fraction = train_fraction
        self.model_cfg = model_cfg
        self.cfg = train_cfg
        self.n_train = split_index(len(series), train_fraction)
        self.device_choice = devices.choose(
            train_cfg.device, model_cfg.hidden_size, train_cfg.batch_size
        )
        dev = self.device = self.device_choice.device
        if dev.type == "cpu":  # numpy kernels run the GRU here; their products are tiny
            kernels.limit_blas_threads(1)
        self.data = torch.as_tensor(series.astype(np.float32), device=dev)  # (points,)
        train_part = series[: self.n_train]
        self.mean, self.std = (
            (float(train_part.mean()), float(train_part.std()) or 1.0)
            if train_cfg.standardize
            else (0.0, 1.0)
        )
        with _BUILD_LOCK:  # the tutorial's order: seeds, recurrent model + Adam, MLP + Adam
            np.random.seed(train_cfg.seed)
            torch.manual_seed(train_cfg.seed)
            self.rnn = build_recurrent(model_cfg).to(dev)
            self.rnn_opt = _adam(self.rnn, train_cfg.lr)
            self.mlp = build_mlp(model_cfg).to(dev)
            self.mlp_opt = _adam(self.mlp, train_cfg.lr)
        for model in (self.rnn, self.mlp):
            model.set_scale(self.mean, self.std)
        # Whole-step numpy kernels where asked for and where they apply; torch otherwise.
        self._kernels = {}
        if train_cfg.step_kernel == "numpy":
            for name, model, opt in (
                ("gru", self.rnn, self.rnn_opt),
                ("mlp", self.mlp, self.mlp_opt),
            ):
                kernel = model.numpy_train_step(opt, train_cfg.clip_grad)
                if kernel is not None:
                    self._kernels[name] = kernel
        self._loss_scale = 1.0 / self.std**2  # optimise the standardised loss
        self._shuffle = torch.Generator().manual_seed(train_cfg.seed)
        self._state: dict[str, object] = {
            "gru": None,
            "mlp": None,
        }  # carried between chunks
        self._good = self._weights()
        self.epoch = 0
        self.elapsed = 0.0  # seconds spent in epochs so far
        self.history: list[dict] = []
        self._carried_end = self.n_train  # where a carried state has read up to (streams: less)
        self._stateful_batches = (
            self._make_stateful_batches() if train_cfg.mode == "stateful" else None
        )

    # -- data ---------------------------------------------------------------------------
    def _make_stateful_batches(self) -> list[Batch]:
        cfg, train = self.cfg, self.data[: self.n_train]
        if cfg.chunking == "tutorial":  # disjoint cuts of seq_len + 1, as the tutorial does
            n = len(train) // (cfg.seq_len + 1)
            cuts = train[: n * (cfg.seq_len + 1)].view(n, cfg.seq_len + 1)
            return [Batch(c[None, :-1, None], c[None, 1:, None]) for c in cuts]
        streams = cfg.batch_size
        length = (len(train) - 1) // streams  # B contiguous streams, one point of overlap
        self._carried_end = streams * length  # the last stream's inputs end here
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

    # -- training -----------------------------------------------------------------------
    def _lr_factor(self) -> float:
        if self.cfg.lr_schedule == "constant":
            return 1.0
        progress = min(self.epoch / max(1, self.cfg.epochs - 1), 1.0)
        floor = 1 / 20
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))

    def _step(
        self, name: str, model: Forecaster, opt, batch: Batch, stateful: bool
    ) -> torch.Tensor | float:
        state = self._state[name] if stateful else None
        kernel = self._kernels.get(name)
        if kernel is not None:  # same step, no framework calls; reported in series units
            x, y = model.scale_in(batch.x).numpy(), model.scale_in(batch.y).numpy()
            loss, state = kernel(x, y, state)
            if stateful:
                self._state[name] = state
            return loss * self.std**2
        pred, state = model(batch.x, state)  # (batch, time, 1)
        loss = nn.functional.mse_loss(pred, batch.y)
        opt.zero_grad(set_to_none=True)
        (loss * self._loss_scale if self._loss_scale != 1.0 else loss).backward()
        if self.cfg.clip_grad > 0:
            nn.utils.clip_grad_norm_(model.parameters(), self.cfg.clip_grad)
        opt.step()
        if stateful:
            self._state[name] = _detach(state)
        return loss.detach()

    def run_epoch(self) -> dict:
        """Train both models over the training part once, evaluate if due; return the row."""
        start = time.perf_counter()
        lr = self.cfg.lr * self._lr_factor()
        for opt in (self.rnn_opt, self.mlp_opt):
            for group in opt.param_groups:
                group["lr"] = lr
        stateful = self.cfg.mode == "stateful"
        batches = self._stateful_batches if stateful else self._windowed_batches()
        self.rnn.train()
        self.mlp.train()
        losses = {"gru": [], "mlp": []}
        for batch in batches:
            losses["gru"].append(self._step("gru", self.rnn, self.rnn_opt, batch, stateful))
            losses["mlp"].append(self._step("mlp", self.mlp, self.mlp_opt, batch, stateful))
        means = {k: _mean(v) for k, v in losses.items()}
        bad = [k for k, v in means.items() if not math.isfinite(v)]
        # A last step can overflow the weights while its own loss was still finite.
        broken = [k for k, m in (("gru", self.rnn), ("mlp", self.mlp)) if not _finite(m)]
        if bad or broken:
            self._restore(self._good)
            what = (
                f"the {' and '.join(b.upper() for b in bad)} training loss became"
                f" {'NaN' if any(math.isnan(means[b]) for b in bad) else 'infinite'}"
                if bad
                else f"the {' and '.join(b.upper() for b in broken)} weights overflowed"
            )
            raise Diverged(
                f"{what} in epoch {self.epoch + 1}; the weights of epoch {self.epoch} were kept."
                f" Lower the learning rate (try {self.cfg.lr / 10:.2g}) or turn on gradient"
                " clipping."
            )
        self.epoch += 1
        self._good = self._weights()
        row: dict = {"epoch": self.epoch, "lr": lr}
        for name in MODELS:
            row[f"{name}_train_loss"] = means[name]
        due = self.epoch % self.cfg.eval_every == 0 or self.epoch >= self.cfg.epochs
        row.update(self.evaluate() if due else dict.fromkeys(_test_keys()))
        seconds = time.perf_counter() - start
        self.elapsed += seconds
        row["seconds"] = seconds
        row["elapsed"] = self.elapsed
        self.history.append(row)
        return row

    # -- evaluation ---------------------------------------------------------------------
    @property
    def carried_end(self) -> int:
        """Where the carried state of the last stream has read the series up to."""
        return self._carried_end

    def eval_start(self, name: str) -> tuple[int, object]:
        """Where a test forecast starts reading, and the state it starts from.

        'carried' starts from the state the last stream left. Streams stop up to
        `batch_size` points short of the end of the training part; the forecast reads
        those first. The tutorial's chunking skips its unread tail, as the tutorial does.
        """
        if self.cfg.eval_state == "carried":
            return self._carried_end, _last_stream(name, self._state[name])
        return max(0, self.n_train - self.cfg.eval_warmup), None

    def evaluate(self) -> dict:
        """Test metrics for both models (the keys of `_test_keys()`).

        Each model reads the series up to the test part (or starts from its carried
        state), then forecasts test[1:] twice from test[0]: fed its own predictions
        (free-running, the tutorial's 199 steps for 200 points) and fed the truth.
        """
        test = self.series[self.n_train :]
        truth = test[1:]
        row = {}
        for name, model in (("gru", self.rnn), ("mlp", self.mlp)):
            begin, state = self.eval_start(name)
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

    # -- weights ------------------------------------------------------------------------
    def _weights(self) -> dict:
        """Copies of both models' weights and carried states: what divergence falls back to."""
        return {
            "states": {k: _copy_state(v) for k, v in self._state.items()},
            "gru": {k: v.detach().clone() for k, v in self.rnn.state_dict().items()},
            "mlp": {k: v.detach().clone() for k, v in self.mlp.state_dict().items()},
        }

    def _restore(self, weights: dict) -> None:
        self._state = {k: _copy_state(v) for k, v in weights["states"].items()}
        self.rnn.load_state_dict(weights["gru"])
        self.mlp.load_state_dict(weights["mlp"])

    def export(self) -> dict:
        """Progress, and CPU copies of both models' weights and carried states (for snapshots)."""
        return {
            "epoch": self.epoch,
            "elapsed": self.elapsed,
            "carried_end": self._carried_end,
            "weights": {
                name: {k: v.detach().to("cpu", copy=True) for k, v in sd.items()}
                for name, sd in (
                    ("gru", self.rnn.state_dict()),
                    ("mlp", self.mlp.state_dict()),
                )
            },
            "states": {k: _to_cpu(v) for k, v in self._state.items()},
        }


def _adam(model: nn.Module, lr: float) -> torch.optim.Adam:
    # The fused kernel does the same update in one call instead of a dozen per tensor.
    return torch.optim.Adam(model.parameters(), lr=lr, fused=True)


def _mean(losses: list) -> float:
    """Mean of an epoch's step losses: floats from numpy kernels, or tensors from torch."""
    if torch.is_tensor(losses[0]):
        return torch.stack(losses).mean().item()  # one synchronisation per epoch, not per step
    return float(np.mean(losses))


def _test_keys() -> list[str]:
    return [f"{m}_{k}" for m in MODELS for k in METRICS if k != "train_loss"]


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


def _last_stream(name: str, state):
    """The carried state of the last stream: the one that ends where the training part ends."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(_last_stream(name, s) for s in state)
    # Recurrent states are (layers, batch, hidden); the MLP's window is (batch, k-1, 1).
    return state[:, -1:].contiguous() if name == "gru" else state[-1:]


@dataclass
class TrainResult:
    outcome: str  # "finished", "stopped", "reached_target"
    seconds: float


def train(
    trainer: Trainer,
    epochs: int | None = None,
    on_epoch: Callable[[dict], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    target_mse: float | None = None,
) -> TrainResult:
    """Run epochs until `epochs` in total (default the config's), a stop, or the target.

    Raises Diverged when a loss turns non-finite (the last finite weights are kept).
    """
    total = trainer.cfg.epochs if epochs is None else epochs
    start = time.perf_counter()
    outcome = "finished"
    while trainer.epoch < total:
        if should_stop is not None and should_stop():
            outcome = "stopped"
            break
        row = trainer.run_epoch()
        if on_epoch is not None:
            on_epoch(row)
        reached = row["gru_test_rollout_mse"]
        if target_mse is not None and reached is not None and reached <= target_mse:
            outcome = "reached_target"
            break
    return TrainResult(outcome, time.perf_counter() - start)


# -- running in the background --------------------------------------------------------------

STATUSES = ("queued", "running", "stopped", "finished", "diverged", "failed")
# A worker shares the GIL with the app's own threads. numpy gives it up at every large
# operation and then waits up to a whole switch interval to get it back while another
# thread computes (a page redraw): at Python's default 5 ms, training nearly stalls while
# a page redraws. 1 ms measured best (BENCHMARKS.md, live view). Set process-wide when a
# worker starts, and only ever lowered.
SWITCH_INTERVAL = 0.001


def _max_jobs(default: int = 2) -> int:
    """GRU_LAB_MAX_JOBS, or the default when it is unset or not a positive integer."""
    raw = os.environ.get("GRU_LAB_MAX_JOBS", "")
    try:
        return max(1, int(raw)) if raw.strip() else default
    except ValueError:
        print(f"GRU_LAB_MAX_JOBS={raw!r} is not an integer; using {default}", file=sys.stderr)
        return default


MAX_CONCURRENT = _max_jobs()  # jobs training at once in this process
_slots = threading.BoundedSemaphore(MAX_CONCURRENT)
_active_lock = threading.Lock()
_active: set[TrainingJob] = set()


def running_jobs() -> int:
    """How many jobs in this process are training right now (not queued)."""
    with _active_lock:
        return len(_active)


@dataclass
class Snapshot:
    """A consistent copy of a job's state, safe to read while training goes on."""

    status: str
    message: str
    epoch: int
    epochs: int
    history: list[dict]
    series: np.ndarray
    n_train: int
    model_cfg: ModelConfig
    train_cfg: TrainConfig
    device: str
    device_reason: str
    parameters: dict[str, int]
    elapsed: float
    carried_end: int = 0  # where the carried states (`states`) have read the series up to
    weights: dict | None = None  # CPU state dicts, "gru" and "mlp"
    states: dict | None = None  # CPU carried states, "gru" and "mlp"
    _models: dict = field(default_factory=dict, repr=False)

    @property
    def running(self) -> bool:
        return self.status in ("queued", "running")

    def _model(self, name: str) -> Forecaster:
        if name not in self._models:
            with _BUILD_LOCK:  # building draws from torch's global generator, as trainers do
                model = (
                    build_recurrent(self.model_cfg) if name == "gru" else build_mlp(self.model_cfg)
                )
            model.load_state_dict(self.weights[name])
            model.set_scale(float(model.mean), float(model.std))
            self._models[name] = model.eval()
        return self._models[name]

    @property
    def gru(self) -> Forecaster:
        """The recurrent model at this snapshot, on the CPU, in eval mode."""
        return self._model("gru")

    @property
    def mlp(self) -> Forecaster:
        return self._model("mlp")

    @property
    def train_part(self) -> np.ndarray:
        return self.series[: self.n_train]

    @property
    def test_part(self) -> np.ndarray:
        return self.series[self.n_train :]

    @property
    def latest(self) -> dict:
        """The last history row ({} before the first epoch)."""
        return self.history[-1] if self.history else {}

    def latest_metric(self, key: str) -> float | None:
        """The newest non-missing value of a history column."""
        for row in reversed(self.history):
            if row.get(key) is not None:
                return row[key]
        return None


_worker_threads: int | None = None  # torch threads in each worker; None = torch's default


def set_worker_threads(n: int | None) -> None:
    """Fix how many threads torch uses inside every training worker (the app uses 1).

    torch keeps its thread count per OS thread, and a worker started from a web
    server's script thread would otherwise fall back to one thread per core.
    """
    global _worker_threads
    _worker_threads = n


THREAD_NAME = "gru-lab-train"  # also the OS-level name: visible in top -H and /proc
QUEUED_THREAD_NAME = "gru-lab-queued"  # the OS-level name while a job waits for a slot


def _name_os_thread(name: str) -> None:
    """Name the calling thread for the OS too (Linux), so tools and tests can count trainers."""
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        libc.prctl(15, name.encode()[:15], 0, 0, 0)  # 15 = PR_SET_NAME
    except Exception:  # noqa: BLE001  not Linux: the Python-level name still says it
        pass


class TrainingJob:
    """One training run in a worker thread: start, stop, resume, snapshot.

    Transitions are serialised by a lock, so repeated or crossed clicks cannot
    start a second thread on the same models. At most `MAX_CONCURRENT` jobs train
    at once in a process; the rest wait as `queued`.
    """

    trains_here = True  # the epochs run in this process (and share its GIL)

    def __init__(
        self,
        series: np.ndarray,
        train_fraction: float,
        model_cfg: ModelConfig,
        train_cfg: TrainConfig,
        on_epoch: Callable[[dict], None] | None = None,
        publish_every: float = 0.2,
    ) -> None:
        # Built here, not in the thread: bad settings fail at once, in the caller's hands.
        self._trainer = Trainer(series, train_fraction, model_cfg, train_cfg)
        self._on_epoch = on_epoch
        self._publish_every = publish_every
        self._lock = threading.Lock()  # guards status, thread and the published snapshot
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._status = "new"
        self._message = ""
        self._published = self._export()

    # -- control --------------------------------------------------------------------------
    @property
    def status(self) -> str:
        """new, queued, running, stopped, finished, diverged or failed."""
        return self._status

    def start(self) -> bool:
        """Start training; False (and nothing happens) unless the job is new."""
        with self._lock:
            if self._status != "new":
                return False
            return self._launch()

    def resume(self) -> bool:
        """Continue a stopped job with the same models and optimizers."""
        with self._lock:
            if self._status != "stopped" or self._published["epoch"] >= self._trainer.cfg.epochs:
                return False
            if self._thread is not None and self._thread.is_alive():
                return False  # still winding down from the stop
            return self._launch()

    def stop(self) -> None:
        """Ask the worker to stop after the current epoch (a queued job stops at once)."""
        self._stop.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the worker thread; True when it has ended (or never started)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def release(self, timeout: float = 5.0) -> None:
        """Stop and wait for the thread: for when the owning session ends."""
        self.stop()
        self.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _launch(self) -> bool:
        self._stop.clear()
        self._status = "queued"
        self._message = ""
        self._thread = threading.Thread(target=self._run, name=THREAD_NAME, daemon=True)
        self._thread.start()
        return True

    # -- worker ---------------------------------------------------------------------------
    def _run(self) -> None:
        _name_os_thread(QUEUED_THREAD_NAME)
        while not _slots.acquire(timeout=0.05):
            if self._stop.is_set():
                self._finish("stopped", "")
                return
        status, message = "failed", "training ended unexpectedly"
        try:
            with _active_lock:
                _active.add(self)
            _name_os_thread(THREAD_NAME)
            if _worker_threads is not None:
                torch.set_num_threads(_worker_threads)
            if self.trains_here and sys.getswitchinterval() > SWITCH_INTERVAL:
                sys.setswitchinterval(SWITCH_INTERVAL)
            with self._lock:
                self._status = "running"
            status = "stopped" if self._train() == "stopped" else "finished"
            message = ""
        except Diverged as exc:
            status, message = "diverged", str(exc)
        except JobFailed as exc:  # already explained (and logged) where it happened
            status, message = "failed", str(exc)
        except Exception as exc:  # noqa: BLE001  shown in the UI; traceback to the server log
            traceback.print_exc()
            status, message = "failed", f"{type(exc).__name__}: {exc}"
        finally:
            # Free the slot before announcing the end: whoever reads the final status
            # (a Resume click, a queued job) finds the slot free.
            with _active_lock:
                _active.discard(self)
            _slots.release()
            self._finish(status, message)

    def _train(self) -> str:
        """Train until the end, a stop or divergence, publishing as it goes; the outcome."""
        last = time.perf_counter()

        def on_epoch(row: dict) -> None:
            nonlocal last
            if self._on_epoch is not None:
                self._on_epoch(row)
            now = time.perf_counter()
            if now - last >= self._publish_every:
                last = now
                self._publish()

        return train(self._trainer, on_epoch=on_epoch, should_stop=self._stop.is_set).outcome

    def _finish(self, status: str, message: str) -> None:
        try:
            published = self._export()
        except Exception as exc:  # noqa: BLE001  never leave the job looking alive
            published = self._published
            status, message = "failed", message or f"{type(exc).__name__}: {exc}"
        with self._lock:
            self._published = published
            self._status = status
            self._message = message

    def _export(self) -> dict:
        return {"history": list(self._trainer.history), **self._trainer.export()}

    def _publish(self) -> None:
        published = self._export()
        with self._lock:
            self._published = published

    # -- reading --------------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        """A consistent copy of history, weights and status (weights as of the last publish)."""
        t = self._trainer
        with self._lock:
            pub, status, message = self._published, self._status, self._message
        # While running, the history may be ahead of the published weights; use the
        # published history so weights and metrics belong together.
        return Snapshot(
            status=status,
            message=message,
            epoch=pub["epoch"],
            epochs=t.cfg.epochs,
            history=pub["history"],
            series=t.series,
            n_train=t.n_train,
            model_cfg=t.model_cfg,
            train_cfg=t.cfg,
            device=str(t.device),
            device_reason=t.device_choice.reason,
            parameters={"gru": count_parameters(t.rnn), "mlp": count_parameters(t.mlp)},
            elapsed=pub["elapsed"],
            carried_end=pub["carried_end"],
            weights=copy.copy(pub["weights"]),
            states=pub["states"],
        )
