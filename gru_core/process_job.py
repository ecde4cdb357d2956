"""A training job whose epochs run in a process of their own.

`TrainingJob` trains in a thread of the caller's process. In a web server that thread
shares Python's GIL with every page the server draws: each redraw took the GIL away
from training, and a page computing beside a training run (a gate trace, a forecast)
waited for it in turn. `ProcessJob` keeps the job's whole interface (start, stop,
resume, snapshot, the queue and the process-wide cap) and moves only the epochs to a
child process, which sends the new history rows, weights and carried states back a
few times a second. Neither side waits for the other's GIL any more.

Children are forked from a fork server that has imported torch and gru_core once
(`warm()` starts it), so a run starts in a few hundredths of a second, not the
seconds a fresh interpreter would need. The parent never builds a trainer: it hands
the child the run's spec, and the child builds one (`Trainer(spec)`, or
`Trainer.resume` from a stopped run's state). A child lives only while its run
trains: on a stop it sends the run's whole resumable state and exits, and Resume
starts a new child from that state, which continues exactly. A released job's child
that has not ended within `RELEASE_SECONDS` (a long epoch) is killed, and the server
log says so, as it does when a child dies.
"""

from __future__ import annotations

import gc
import math
import signal
import sys
import threading
import time
import traceback
import weakref
from multiprocessing import spawn
from multiprocessing.connection import Connection

import numpy as np
import torch
from torch import nn

from gru_core import job as jobs
from gru_core.fork_server import FORK as _FORK
from gru_core.fork_server import FRESH as _FRESH
from gru_core.fork_server import warm
from gru_core.job import TrainingJob
from gru_core.recording import RunRecord, RunRecorder, weights_of
from gru_core.spec import RunSpec
from gru_core.train import Diverged, JobFailed, Trainer, train

PROCESS_NAME = "gru-lab-epochs"  # the child's OS-level name (ps, top, /proc/PID/comm)
RELEASE_SECONDS = 5.0  # how long a released job's child may finish its epoch before the kill

_prepared = spawn.get_preparation_data


def _preparation_data(name: str) -> dict:
    """What a new process is told about its parent, less `__main__` for our children.

    multiprocessing re-runs the parent's main script in every child, so that functions
    defined there can be targets. Under Streamlit `__main__` is the page script being
    run (app.py): a child would start by drawing the app. Our target lives in this
    module, so our children (known by name) are told nothing about `__main__`.
    """
    data = _prepared(name)
    if name == PROCESS_NAME:
        data.pop("init_main_from_path", None)
        data.pop("init_main_from_name", None)
    return data


spawn.get_preparation_data = _preparation_data


_process_prepared = False  # prepare_process has run here (a second call does nothing)
_prepare_lock = threading.Lock()


def prepare_process(threads: int = 1, background: bool = False) -> threading.Thread | None:
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

    With `background`, the last two run in a daemon thread, which is returned: a server
    draws its first page meanwhile instead of after them (they took 2-3 s of its start).
    """
    global _process_prepared
    with _prepare_lock:
        if _process_prepared:
            return None
        _process_prepared = True
    torch.set_num_threads(threads)
    jobs.set_worker_threads(threads)
    warm()
    if not background:
        _warm_torch()
        return None
    thread = threading.Thread(target=_warm_torch, name="gru-lab-warm-up", daemon=True)
    thread.start()
    return thread


def _warm_torch() -> None:
    """Build one optimizer (torch's compiler stack loads), then freeze what is loaded."""
    torch.optim.Adam([nn.Parameter(torch.zeros(1))])
    gc.collect()
    gc.freeze()


class _Flag:
    """A stop flag both processes see, without a lock a killed child could leave held."""

    def __init__(self) -> None:
        self._value = _FRESH.RawValue("b", 0)

    def set(self) -> None:
        self._value.value = 1

    def clear(self) -> None:
        self._value.value = 0

    def is_set(self) -> bool:
        return bool(self._value.value)


class ProcessJob(TrainingJob):
    """A `TrainingJob` whose epochs run in a child process; same interface, same results.

    The parent keeps the job's state machine: a worker thread waits for a slot under
    the process-wide cap, starts a child on the spec (and the resumable state of a
    stopped run), and publishes what the child sends. `on_epoch` is called in that
    thread, for every row, as the rows arrive. No child outlives its training.
    """

    trains_here = False

    def __init__(self, *args, **kwargs) -> None:
        """The arguments of `TrainingJob`."""
        self._history: list[dict] = []
        self._resume_from: tuple[dict, dict] | None = None  # a stopped run's tensors and meta
        self._started = False  # a child has trained (so only a kept state can go on)
        self._conn: Connection | None = None
        self._process = None
        self._remote: dict | None = None  # the child's last export, with the whole history
        self._killed = False
        self._pipe_lock = threading.Lock()  # the worker and release() may both close
        super().__init__(*args, **kwargs)
        self._stop = _Flag()  # read by the child between epochs

    def _resumable(self) -> bool:
        return self._resume_from is not None

    def load_state(self, tensors: dict[str, torch.Tensor], meta: dict) -> None:
        """As `TrainingJob.load_state`; the trainer is rebuilt in the child that resumes."""
        self._resume_from = (tensors, meta)
        self._started = True
        self._history = [dict(r) for r in meta["history"]]
        weights, states = weights_of(tensors, meta)
        self._published = {
            "epoch": meta["epoch"],
            "elapsed": meta["elapsed"],
            "history": list(self._history),
            "weights": weights,
            "states": states,
            "frames": dict(self._frames),
        }
        self._status = "stopped"

    def release(self, timeout: float = RELEASE_SECONDS) -> None:
        """Stop; a child still in its epoch after `timeout` seconds is killed (and logged)."""
        self.stop()
        if not self.join(timeout):
            self._killed = True
            self._close(timeout, why="its session ended")
            self.join(timeout)

    @property
    def pid(self) -> int | None:
        """The child process's id while it lives (for tools and tests)."""
        process = self._process
        return process.pid if process is not None and process.is_alive() else None

    # -- worker thread (parent side) ------------------------------------------------------
    def _train(self) -> str:
        resume, self._resume_from = self._resume_from, None
        if resume is None and self._started:
            raise JobFailed("the run's state is gone; start it again")
        self._started = True
        conn = self._spawn(resume)  # ours to read even after a release has closed it
        try:
            while True:
                kind, *rest = conn.recv()
                if kind == "publish":
                    self._receive(rest[0])
                    self._publish()
                    continue
                outcome, message, export, state = rest
                if export is not None:
                    self._receive(export)
                if state is not None:
                    self._resume_from = _tensors(state)
                self._close()
                if outcome == "diverged":
                    raise Diverged(message)
                if outcome == "failed":
                    raise JobFailed(message)
                return outcome
        except (EOFError, OSError):
            if self._killed:
                return "stopped"  # the run's session ended; the kill is in the log
            code = self._close(why="it died")
            raise JobFailed(
                f"the training process ended unexpectedly (exit code {code});"
                " the server log may say why"
            ) from None
        except BaseException:  # e.g. from on_epoch: no child may train on unwatched
            self._stop.set()
            self._close()
            raise

    def _spawn(self, resume: tuple[dict, dict] | None) -> Connection:
        on_cpu = self.device_choice.device.type == "cpu"
        context = _FORK if on_cpu else _FRESH  # a fork server must not hand on a GPU driver
        parent, child = context.Pipe()
        state = None if resume is None else (_arrays(resume[0]), resume[1])
        process = context.Process(
            target=_child,
            args=(
                jobs.worker_threads(),
                child,
                self._stop,
                self.spec,
                state,
                str(self.device_choice.device),
                self._publish_every,
                self.record,
            ),
            name=PROCESS_NAME,
            daemon=True,  # ends with the server
        )
        process.start()
        child.close()
        # A job dropped without release() closes its end, and the child exits.
        weakref.finalize(self, parent.close)
        with self._pipe_lock:
            self._conn, self._process = parent, process
        return parent

    def _receive(self, export: dict) -> None:
        rows = export.pop("rows")
        export["weights"], export["states"] = _tensors((export["weights"], export["states"]))
        self._frames.update(_tensors(export.pop("frames")))
        if self._on_epoch is not None:
            for row in rows:
                self._on_epoch(row)
        self._history.extend(rows)
        self._remote = {**export, "history": list(self._history), "frames": dict(self._frames)}

    def _export(self) -> dict:
        return self._remote or self._published

    def _close(self, timeout: float = 5.0, why: str = "") -> int | None:
        """Let the child go (it exits when its pipe closes); its exit code, if it ended.

        `why` says the child is being ended, or has ended, abnormally: the server log says
        so with the process id and the exit code or signal.
        """
        with self._pipe_lock:
            conn, process = self._conn, self._process
            self._conn = self._process = None
        if conn is not None:
            conn.close()
        if process is None:
            return None
        pid = process.pid
        process.join(0 if why == "its session ended" else timeout)
        if process.exitcode is None:  # still in an epoch: it would notice only at the end
            process.terminate()
            process.join(timeout)
            why = why or "it did not end"
            _log(f"training process {pid} killed ({why}): exit code {process.exitcode}")
        elif why:
            _log(f"training process {pid} ended ({why}): {_exit_text(process.exitcode)}")
        return process.exitcode


def _log(message: str) -> None:
    """A line in the server log (stderr), where operators look for why a run ended."""
    print(f"GRU Lab: {message}", file=sys.stderr, flush=True)


def _exit_text(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            pass
    return f"exit code {code}"


def _arrays(obj):
    """Tensors to numpy arrays, through dicts and tuples: pickled plainly through the pipe.

    (torch pickles tensors between processes through shared memory segments whose file
    descriptors the receiver fetches from the sender: 30x slower for these small ones.)
    """
    if torch.is_tensor(obj):
        return obj.numpy()
    if isinstance(obj, dict):
        return {k: _arrays(v) for k, v in obj.items()}
    if isinstance(obj, tuple):
        return tuple(_arrays(v) for v in obj)
    return obj


def _tensors(obj):
    """The inverse of `_arrays`."""
    if isinstance(obj, np.ndarray):
        return torch.from_numpy(obj)
    if isinstance(obj, dict):
        return {k: _tensors(v) for k, v in obj.items()}
    if isinstance(obj, tuple):
        return tuple(_tensors(v) for v in obj)
    return obj


# -- the child ------------------------------------------------------------------------------


def _child(threads: int | None, *args) -> None:
    """The child process's main: set the process up, then `_serve(*args)`."""
    jobs.name_os_thread(PROCESS_NAME)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is for the server, which ends us
    if threads is not None:
        torch.set_num_threads(threads)
    _serve(*args)


def _serve(
    conn: Connection,
    stop: _Flag,
    spec: RunSpec,
    resume: tuple[dict, dict] | None,
    device: str,
    publish_every: float,
    record: RunRecord | None = None,
) -> None:
    """The child's life: build (or rebuild) the trainer, train until an outcome, report it.

    On a stop it sends the run's whole resumable state with the outcome; then it exits.
    With a `record`, it saves the run's history and resumable state as it trains.
    """
    try:
        try:
            if resume is None:
                trainer = Trainer(spec, keep_frames=True)
            else:
                trainer = Trainer.resume(spec, _tensors(resume[0]), resume[1], keep_frames=True)
            if str(trainer.device) != device:
                found = trainer.device
                raise RuntimeError(f"the server chose {device}, the training process {found}")
        except Exception as exc:  # noqa: BLE001  the parent validated the spec: rare (a device)
            traceback.print_exc()
            conn.send(("end", "failed", f"{type(exc).__name__}: {exc}", None, None))
            return
        sent = len(trainer.history)  # a resumed run's parent has the rows already
        unsent: dict[int, dict] = {}  # replay frames kept, not yet sent
        recorder = record and RunRecorder(record, trainer.resumable_state)

        def collect() -> None:
            fresh = trainer.take_frames()
            unsent.update(fresh)
            if recorder is not None:
                recorder.keep_frames(fresh)

        def export() -> dict:
            nonlocal sent
            rows, sent = trainer.history[sent:], len(trainer.history)
            frames = dict(unsent)
            unsent.clear()
            return _arrays({"rows": rows, **trainer.export(), "frames": frames})

        collect()
        conn.send(("publish", export()))  # the models as they start: the pages show them
        last = -math.inf  # the first epoch is sent at once: the page shows it at once

        def on_epoch(row: dict) -> None:
            nonlocal last
            collect()
            if recorder is not None:
                recorder.add(row)
            now = time.perf_counter()
            if now - last >= publish_every:
                last = now
                conn.send(("publish", export()))

        message, state = "", None
        try:
            outcome = train(trainer, on_epoch=on_epoch, should_stop=stop.is_set).outcome
        except Diverged as exc:
            outcome, message = "diverged", str(exc)
        except (EOFError, OSError):
            return  # the parent is gone
        except Exception as exc:  # noqa: BLE001  shown in the UI; traceback to the log
            traceback.print_exc()
            outcome, message = "failed", f"{type(exc).__name__}: {exc}"
        if recorder is not None:
            recorder.flush()
        if outcome == "stopped":
            tensors, meta = trainer.resumable_state()
            state = (_arrays(tensors), meta)
        conn.send(("end", outcome, message, export(), state))
    except (EOFError, OSError):
        return  # the parent closed the pipe or went away: nothing left to do
