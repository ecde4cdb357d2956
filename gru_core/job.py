"""Training jobs: one run in the background, its status, and snapshots to read while it trains.

`TrainingJob(spec)` trains a `RunSpec` in a worker thread of this process: start,
stop, resume, snapshot. Building it validates the spec and counts its parameters;
the trainer itself is built when the run starts. At most `MAX_CONCURRENT` jobs train
at once in a process; the rest wait as `queued`. The app's jobs are
`gru_core.process_job.ProcessJob`s: the same job, with the epochs in a child process.
Nothing here knows which task or which models a run has.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import torch

from gru_core import device as devices
from gru_core import replay
from gru_core.config import ConfigError
from gru_core.models import Forecaster, recurrent_core
from gru_core.recording import RunRecord, RunRecorder, set_status
from gru_core.spec import RunSpec
from gru_core.tasks import build_model, parameter_counts
from gru_core.train import Diverged, JobFailed, Trainer, train

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


def check_spec(spec: RunSpec) -> RunSpec:
    """Raise ConfigError when `spec` cannot train here (its settings, or its device)."""
    spec.validate()
    device = spec.train.device
    if device != "auto" and device not in devices.available():
        raise ConfigError(
            f"device {device!r} is not available here; available: {', '.join(devices.available())}"
        )
    return spec


@dataclass
class Snapshot:
    """A consistent copy of a job's state, safe to read while training goes on."""

    status: str
    message: str
    epoch: int
    history: list[dict]
    spec: RunSpec
    device: str
    device_reason: str
    parameters: dict[str, int]  # per model name
    elapsed: float
    can_resume: bool = False  # Resume would continue this run
    run: int | None = None  # the workspace run it is, if it is saved in one
    weights: dict | None = None  # model name -> CPU state dict (None before the first)
    states: dict | None = None  # model name -> CPU carried state
    frames: Mapping[int, dict] | None = None  # kept epoch -> replay frame (gru_core.replay)
    _models: dict = field(default_factory=dict, repr=False)

    @property
    def running(self) -> bool:
        return self.status in ("queued", "running")

    def replay_epochs(self) -> list[int]:
        """The epochs this run can be shown at: those with kept weights, and the latest."""
        kept = [e for e in (self.frames or {}) if e < self.epoch]
        return sorted(kept) + ([self.epoch] if self.weights is not None else [])

    def at_epoch(self, epoch: int) -> Snapshot:
        """The run as it was after `epoch`: the weights and carried states of the nearest
        kept epoch at or before it, the history up to there. Itself from its latest epoch on,
        or when no weights were kept."""
        if epoch >= self.epoch or not self.frames:
            return self
        at, frame = replay.frame_at(self.frames, epoch)
        return dataclasses.replace(
            self,
            epoch=at,
            history=[r for r in self.history if r["epoch"] <= at],
            weights=frame["weights"],
            states=frame["states"],
            _models={},
        )

    @property
    def epochs(self) -> int:
        return self.spec.train.epochs

    @property
    def train_cfg(self):
        return self.spec.train

    @property
    def names(self) -> tuple[str, ...]:
        """The run's model names, in order."""
        return self.spec.names

    def label(self, name: str) -> str:
        return self.spec.model(name).label

    def model(self, name: str) -> Forecaster:
        """Model `name` at this snapshot, on the CPU, in eval mode (built once per snapshot)."""
        if name not in self._models:
            with torch.device("meta"):  # no initial weights drawn: they are loaded next
                model = build_model(self.spec, self.spec.model(name))
            model = model.to_empty(device="cpu")
            model.load_state_dict(self.weights[name])
            model.set_scale(float(model.mean), float(model.std))
            self._models[name] = model.eval()
        return self._models[name]

    def recurrent(self) -> list[str]:
        """Names of the models with a recurrent core (whose gates can be traced)."""
        return [
            m.name for m in self.spec.models if recurrent_core(m, self.model(m.name)) is not None
        ]

    def core(self, name: str) -> torch.nn.Module | None:
        return recurrent_core(self.spec.model(name), self.model(name))

    @property
    def series(self) -> np.ndarray:
        return self.spec.data.series

    @property
    def n_train(self) -> int:
        return self.spec.data.n_train

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


def worker_threads() -> int | None:
    return _worker_threads


THREAD_NAME = "gru-lab-train"  # also the OS-level name: visible in top -H and /proc
QUEUED_THREAD_NAME = "gru-lab-queued"  # the OS-level name while a job waits for a slot


def name_os_thread(name: str) -> None:
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
        spec: RunSpec,
        on_epoch: Callable[[dict], None] | None = None,
        publish_every: float = 0.2,
        record: RunRecord | None = None,
    ) -> None:
        """`record`: the workspace run this job saves as it trains (`gru_core.workspace`)."""
        # Checked here, not in the worker: bad settings fail at once, in the caller's hands.
        self.spec = check_spec(spec)
        self.parameters = parameter_counts(spec)
        self.device_choice = devices.choose(
            spec.train.device, max(m.hidden_size for m in spec.models), spec.train.batch_size
        )
        self._trainer: Trainer | None = None
        self.record = record
        self._on_epoch = on_epoch
        self._publish_every = publish_every
        self._lock = threading.Lock()  # guards status, thread and the published snapshot
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._status = "new"
        self._message = ""
        self._published: dict = {"epoch": 0, "elapsed": 0.0, "history": [], "weights": None}
        self._frames: dict[int, dict] = {}  # kept epoch -> replay frame, as they arrive

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

    def _resumable(self) -> bool:
        """Whether the trained state is still here to go on from."""
        return self._trainer is not None

    @property
    def can_resume(self) -> bool:
        """The one rule for Resume: stopped, epochs left, the state to go on from kept."""
        return (
            self._status == "stopped"
            and self._published["epoch"] < self.spec.train.epochs
            and not self.alive
            and self._resumable()
        )

    def resume(self) -> bool:
        """Continue a stopped job with the same models and optimizers."""
        with self._lock:
            return self.can_resume and self._launch()

    def stop(self) -> None:
        """Ask the worker to stop after the current epoch (a queued job stops at once)."""
        self._stop.set()

    def wait_for_epoch(self, epoch: int, timeout: float, every: float = 0.005) -> bool:
        """Wait, at most `timeout` seconds, until `epoch` epochs are published; False at the
        timeout or as soon as the job is not training (queued, ended)."""
        end = time.monotonic() + timeout
        while True:
            snap = self.snapshot()
            if snap.epoch >= epoch:
                return True
            if snap.status != "running" or time.monotonic() >= end:
                return False
            time.sleep(every)

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

    def release_soon(self) -> None:
        """`release` in a thread of its own: for callers that must not wait (an event loop)."""
        threading.Thread(target=self.release, daemon=True).start()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def load_state(self, tensors: dict[str, torch.Tensor], meta: dict) -> None:
        """Make this new job a stopped run that Resume continues from a saved state.

        `tensors` and `meta` are what `Trainer.resumable_state()` gave (meta with the history).
        """
        self._trainer = Trainer.resume(self.spec, tensors, meta, keep_frames=True)
        self._published = self._export()
        self._status = "stopped"

    def add_frames(self, frames: Mapping[int, dict]) -> None:
        """Replay frames of this run kept before (a saved run resumed): epoch -> frame."""
        self._frames.update(frames)
        with self._lock:
            self._published = {**self._published, "frames": dict(self._frames)}

    def _launch(self) -> bool:
        # A free slot is taken here, before the worker starts: a job that can train at once
        # is running from the click on, never "queued" for the moment its thread takes to start.
        slotted = _slots.acquire(blocking=False)
        self._stop.clear()
        self._status = "running" if slotted else "queued"
        self._message = ""
        set_status(self.record, self._status)
        self._thread = threading.Thread(
            target=self._run, args=(slotted,), name=THREAD_NAME, daemon=True
        )
        self._thread.start()
        return True

    # -- worker ---------------------------------------------------------------------------
    def _run(self, slotted: bool = False) -> None:
        """The worker: wait for a slot unless `slotted` (one was taken for it), then train."""
        if not slotted:
            name_os_thread(QUEUED_THREAD_NAME)
        while not slotted and not _slots.acquire(timeout=0.05):
            if self._stop.is_set():
                self._finish("stopped", "")
                return
        status, message = "failed", "training ended unexpectedly"
        try:
            with _active_lock:
                _active.add(self)
            name_os_thread(THREAD_NAME)
            if _worker_threads is not None:
                torch.set_num_threads(_worker_threads)
            if self.trains_here and sys.getswitchinterval() > SWITCH_INTERVAL:
                sys.setswitchinterval(SWITCH_INTERVAL)
            if not slotted:
                with self._lock:
                    self._status = "running"
                set_status(self.record, "running")
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
        if self._trainer is None:
            self._trainer = Trainer(self.spec, keep_frames=True)
        trainer = self._trainer
        recorder = (
            None if self.record is None else RunRecorder(self.record, trainer.resumable_state)
        )
        last = time.perf_counter()

        def frames() -> dict[int, dict]:
            fresh = trainer.take_frames()
            self._frames.update(fresh)
            return fresh

        first = frames()  # epoch 0's, on a first start
        if recorder is not None:
            recorder.keep_frames(first)

        def on_epoch(row: dict) -> None:
            nonlocal last
            if self._on_epoch is not None:
                self._on_epoch(row)
            fresh = frames()
            if recorder is not None:
                recorder.keep_frames(fresh)
                recorder.add(row)
            now = time.perf_counter()
            if now - last >= self._publish_every:
                last = now
                self._publish()

        try:
            return train(trainer, on_epoch=on_epoch, should_stop=self._stop.is_set).outcome
        finally:
            if recorder is not None:
                recorder.flush()

    def _finish(self, status: str, message: str) -> None:
        try:
            published = self._export()
        except Exception as exc:  # noqa: BLE001  never leave the job looking alive
            published = self._published
            status, message = "failed", message or f"{type(exc).__name__}: {exc}"
        try:
            set_status(self.record, status, message)
        except Exception:  # noqa: BLE001  the store is not the run: say so, end the job anyway
            traceback.print_exc()
        with self._lock:
            self._published = published
            self._status = status
            self._message = message

    def _export(self) -> dict:
        if self._trainer is None:
            return self._published
        return {
            "history": list(self._trainer.history),
            **self._trainer.export(),
            "frames": dict(self._frames),
        }

    def _publish(self) -> None:
        published = self._export()
        with self._lock:
            self._published = published

    # -- reading --------------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        """A consistent copy of history, weights and status (weights as of the last publish)."""
        with self._lock:
            pub, status, message = self._published, self._status, self._message
        # While running, the history may be ahead of the published weights; use the
        # published history so weights and metrics belong together.
        weights = pub.get("weights")
        return Snapshot(
            status=status,
            message=message,
            epoch=pub["epoch"],
            history=pub["history"],
            spec=self.spec,
            device=str(self.device_choice.device),
            device_reason=self.device_choice.reason,
            parameters=dict(self.parameters),
            elapsed=pub["elapsed"],
            can_resume=self.can_resume,
            run=None if self.record is None else self.record.run,
            weights=None if weights is None else dict(weights),
            states=pub.get("states"),
            frames=pub.get("frames"),
        )


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
        """For a disconnected session: stop the job, end its process soon, keep the run.

        Streamlit calls this on every websocket disconnect, yet keeps the session a
        while for the browser to reconnect: after a network blip the run is still
        there, stopped, and Resume continues it from the state it kept. No process
        waits for that: a child still in its epoch after a few seconds is killed.
        """
        job = self.job
        if job is not None:
            job.release_soon()

    def snapshot(self) -> Snapshot | None:
        return None if self.job is None else self.job.snapshot()
