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
import threading
import time
import traceback
from multiprocessing import spawn
from multiprocessing.connection import Connection

import numpy as np
import torch

from gru_core import train as training
from gru_core.config import ModelConfig, TrainConfig
from gru_core.train import Diverged, JobFailed, Trainer, TrainingJob

PROCESS_NAME = "gru-lab-epochs"  # the child's OS-level name (ps, top, /proc/PID/comm)

# forkserver: children are forks of one clean, single-threaded process that preloads
# these modules; torch._dynamo is what torch imports when the first optimizer is built
# (about 2 s), in every child otherwise. spawn where there is no fork server (Windows).
_METHOD = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
_CONTEXT = multiprocessing.get_context(_METHOD)
if _METHOD == "forkserver":
    _CONTEXT.set_forkserver_preload([__name__, "torch._dynamo"])
_LAUNCH_LOCK = threading.Lock()


class _Process(_CONTEXT.Process):
    """A child that does not import the parent's `__main__`.

    multiprocessing re-runs the parent's main script in every child, so that functions
    defined there can be targets. Under Streamlit `__main__` is the page script being
    run (app.py): a child would start by drawing the app. The target here lives in
    this module, so the child is told nothing about `__main__`.
    """

    @staticmethod
    def _Popen(process_obj):
        with _LAUNCH_LOCK:
            prepared = spawn.get_preparation_data

            def without_main(name: str) -> dict:
                data = prepared(name)
                data.pop("init_main_from_path", None)
                data.pop("init_main_from_name", None)
                return data

            spawn.get_preparation_data = without_main
            try:
                return _CONTEXT.Process._Popen(process_obj)
            finally:
                spawn.get_preparation_data = prepared


def warm() -> None:
    """Start the fork server now (it imports torch: seconds) rather than on the first run."""
    if _METHOD == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


class ProcessJob(TrainingJob):
    """A `TrainingJob` whose epochs run in a child process; same interface, same results.

    The parent keeps the job's state machine: a worker thread waits for a slot under
    the process-wide cap, tells the child to train, and publishes what the child sends.
    `on_epoch` is called in that thread, for every row, as the rows arrive.
    """

    def __init__(self, *args, **kwargs) -> None:
        """The arguments of `TrainingJob`."""
        self._remote: dict | None = None  # the child's last export, with the whole history
        self._history: list[dict] = []
        self._conn: Connection | None = None
        self._process = None
        self._pipe_lock = threading.Lock()  # the worker and release() may close at once
        super().__init__(*args, **kwargs)
        # The parent's Trainer has validated the settings; the child rebuilds it from these.
        t = self._trainer
        self._settings = (t.series, t.train_fraction, t.model_cfg, t.cfg)
        self._stop = _CONTEXT.Event()  # seen by the child between epochs

    def release(self, timeout: float = 5.0) -> None:
        super().release(timeout)
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
                if outcome != "stopped":  # nothing left to resume: let the child go
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

    def _spawn(self) -> None:
        parent, child = _CONTEXT.Pipe()
        self._process = _Process(
            target=_serve,
            args=(child, self._stop, *self._settings, self._publish_every, _threads()),
            name=PROCESS_NAME,
            daemon=True,  # ends with the server
        )
        self._process.start()
        child.close()
        self._conn = parent

    def _receive(self, export: dict) -> None:
        rows = export.pop("rows")
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


def _threads() -> int | None:
    return training._worker_threads


# -- the child ------------------------------------------------------------------------------


def _serve(
    conn: Connection,
    stop,
    series: np.ndarray,
    train_fraction: float,
    model_cfg: ModelConfig,
    train_cfg: TrainConfig,
    publish_every: float,
    threads: int | None,
) -> None:
    """The child's main: build the trainer, then train each time the parent says "run"."""
    training._name_os_thread(PROCESS_NAME)
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        if conn.recv() != "run":
            return
        try:
            trainer = Trainer(series, train_fraction, model_cfg, train_cfg)
        except Exception as exc:  # noqa: BLE001  the parent built the same: rare (a device)
            traceback.print_exc()
            conn.send(("end", "failed", f"{type(exc).__name__}: {exc}", None))
            return
        sent = 0

        def export() -> dict:
            nonlocal sent
            rows, sent = trainer.history[sent:], len(trainer.history)
            return {"rows": rows, **trainer.export()}

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
