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
seconds a fresh interpreter would need. A child builds its own `Trainer` from the
job's settings (the same seeds give the same models as the parent's copy, which only
answers questions about the run's setup) and lives while the job can still resume:
it exits when the run ends for good, when the job is released or dropped, or when the
parent goes away.
"""

from __future__ import annotations

import math
import multiprocessing
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

from gru_core import train as training
from gru_core.config import ModelConfig, TrainConfig
from gru_core.train import Diverged, JobFailed, Trainer, TrainingJob

PROCESS_NAME = "gru-lab-epochs"  # the child's OS-level name (ps, top, /proc/PID/comm)

# CPU runs on Linux: forks of one clean, single-threaded fork server that preloads these
# modules (torch._dynamo is what torch imports when the first optimizer is built, about
# 2 s, in every child otherwise). GPU runs, and other systems (where forking after
# torch is loaded is not safe): a fresh interpreter, a few seconds to start.
_FORKSERVER = sys.platform.startswith("linux")
_FORK = multiprocessing.get_context("forkserver" if _FORKSERVER else "spawn")
_FRESH = multiprocessing.get_context("spawn")
if _FORKSERVER:
    _FORK.set_forkserver_preload([__name__, "torch._dynamo"])

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


def warm() -> None:
    """Start the fork server now (it imports torch: seconds) rather than on the first run."""
    if _FORKSERVER:
        from multiprocessing import forkserver

        forkserver.ensure_running()


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
    the process-wide cap, tells the child to train, and publishes what the child sends.
    `on_epoch` is called in that thread, for every row, as the rows arrive. Once the
    child has gone (the run ended, or the job was released), there is nothing to resume.
    """

    trains_here = False

    def __init__(self, *args, **kwargs) -> None:
        """The arguments of `TrainingJob`."""
        self._remote: dict | None = None  # the child's last export, with the whole history
        self._history: list[dict] = []
        self._conn: Connection | None = None
        self._process = None
        self._released = False
        self._pipe_lock = threading.Lock()  # the worker and release() may both close
        super().__init__(*args, **kwargs)
        # The parent's Trainer has validated the settings; the child rebuilds it from these.
        t = self._trainer
        self._settings = (t.series, t.train_fraction, t.model_cfg, t.cfg, str(t.device))
        self._stop = _Flag()  # read by the child between epochs

    def resume(self) -> bool:
        if self._remote is not None and self._conn is None:
            return False  # the child, and the models it trained, are gone
        return super().resume()

    def release(self, timeout: float = 5.0) -> None:
        """Stop, wait for the worker, and let the child go (after its epoch, if one runs)."""
        self._released = True
        super().release(timeout)
        if not self.alive:  # else the worker lets it go when the child reports the stop
            self._close(timeout)

    @property
    def pid(self) -> int | None:
        """The child process's id while it lives (for tools and tests)."""
        process = self._process
        return process.pid if process is not None and process.is_alive() else None

    # -- worker thread (parent side) ------------------------------------------------------
    def _train(self) -> str:
        if self._conn is None:
            self._spawn()
        try:
            self._conn.send("run")
            while True:
                kind, *rest = self._conn.recv()
                if kind == "publish":
                    self._receive(rest[0])
                    self._publish()
                    continue
                outcome, message, export = rest
                if export is not None:
                    self._receive(export)
                if outcome != "stopped" or self._released:  # nothing left to resume
                    self._close()
                if outcome == "diverged":
                    raise Diverged(message)
                if outcome == "failed":
                    raise JobFailed(message)
                return outcome
        except (EOFError, OSError):
            code = self._close()
            raise JobFailed(
                f"the training process ended unexpectedly (exit code {code});"
                " the server log may say why"
            ) from None
        except BaseException:  # e.g. from on_epoch: no child may train on unwatched
            self._stop.set()
            self._close()
            raise

    def _spawn(self) -> None:
        on_cpu = self._settings[-1] == "cpu"
        context = _FORK if on_cpu else _FRESH  # a fork server must not hand on a GPU driver
        parent, child = context.Pipe()
        threads = training._worker_threads
        process = context.Process(
            target=_child,
            args=(threads, child, self._stop, *self._settings, self._publish_every),
            name=PROCESS_NAME,
            daemon=True,  # ends with the server
        )
        process.start()
        child.close()
        # A job dropped without release() closes its end, and the child exits.
        weakref.finalize(self, parent.close)
        with self._pipe_lock:
            self._conn, self._process = parent, process

    def _receive(self, export: dict) -> None:
        rows = export.pop("rows")
        export["weights"], export["states"] = _tensors((export["weights"], export["states"]))
        if self._on_epoch is not None:
            for row in rows:
                self._on_epoch(row)
        self._history.extend(rows)
        self._remote = {**export, "history": list(self._history)}

    def _export(self) -> dict:
        return super()._export() if self._remote is None else self._remote

    def _close(self, timeout: float = 5.0) -> int | None:
        """Let the child go (it exits when its pipe closes); its exit code, if it ended."""
        with self._pipe_lock:
            conn, process = self._conn, self._process
            self._conn = self._process = None
        if conn is not None:
            conn.close()
        if process is None:
            return None
        process.join(timeout)
        if process.exitcode is None:  # still in an epoch: it would notice only at the end
            process.terminate()
            process.join(timeout)
        return process.exitcode


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
    training._name_os_thread(PROCESS_NAME)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is for the server, which ends us
    if threads is not None:
        torch.set_num_threads(threads)
    _serve(*args)


def _serve(
    conn: Connection,
    stop: _Flag,
    series: np.ndarray,
    train_fraction: float,
    model_cfg: ModelConfig,
    train_cfg: TrainConfig,
    device: str,
    publish_every: float,
) -> None:
    """The child's loop: build the trainer, then train each time the parent says "run"."""
    try:
        if conn.recv() != "run":
            return
        try:
            trainer = Trainer(series, train_fraction, model_cfg, train_cfg)
            if str(trainer.device) != device:
                found = trainer.device
                raise RuntimeError(f"the server chose {device}, the training process {found}")
        except Exception as exc:  # noqa: BLE001  the parent built the same: rare (a device)
            traceback.print_exc()
            conn.send(("end", "failed", f"{type(exc).__name__}: {exc}", None))
            return
        sent = 0

        def export() -> dict:
            nonlocal sent
            rows, sent = trainer.history[sent:], len(trainer.history)
            return _arrays({"rows": rows, **trainer.export()})

        while True:
            last = -math.inf  # the first epoch is sent at once: the page shows it at once

            def on_epoch(row: dict) -> None:
                nonlocal last
                now = time.perf_counter()
                if now - last >= publish_every:
                    last = now
                    conn.send(("publish", export()))

            message = ""
            try:
                result = training.train(trainer, on_epoch=on_epoch, should_stop=stop.is_set)
                outcome = result.outcome
            except Diverged as exc:
                outcome, message = "diverged", str(exc)
            except (EOFError, OSError):
                return  # the parent is gone
            except Exception as exc:  # noqa: BLE001  shown in the UI; traceback to the log
                traceback.print_exc()
                outcome, message = "failed", f"{type(exc).__name__}: {exc}"
            conn.send(("end", outcome, message, export()))
            if conn.recv() != "run":
                return
    except (EOFError, OSError):
        return  # the parent closed the pipe or went away: nothing left to do
