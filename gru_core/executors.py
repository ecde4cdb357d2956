"""Executors: run one function over many items in parallel, yielding results as they finish.

`fn(item: dict) -> dict` must be a top-level function (it is pickled by reference) and
items must pickle. Two executors, one interface (`run`, `cancel`):

- `LocalExecutor(workers, nice)`: worker processes on this machine. They are started by a
  fork server (Linux) or as fresh interpreters, never forked from the caller: a web
  server that has loaded torch and runs threads must not fork itself mid-request. Items
  are handed out one at a time, so a cancelled sweep's queued items never reach a worker.
  With `nice` they run at a lower priority, so that the caller (a web server) keeps the
  CPU it needs while they use what is left.
- `RayExecutor(address)`: each item is a Ray task, on the cluster at `address`
  (`ray.init(address=...)`) or on a local Ray. Ray is optional; it is imported only here.

A failing item is reported as a `Done` with `error` set, and the others go on. `cancel()`
(from any thread) ends `run` soon after: results already yielded stay the caller's,
queued items never start, running ones are killed.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing import connection

from gru_core import process_job

_POLL = 0.05  # seconds between looks at the cancel flag while waiting for results

Fn = Callable[[dict], dict]


@dataclass
class Done:
    """One finished item: its position in the input, the item, and its result or error."""

    index: int
    item: dict
    result: dict | None  # fn's return value; None when it failed
    error: str | None  # one line: "ExceptionType: message"; None when it succeeded
    seconds: float  # wall time of fn(item) where it ran


def _call(fn: Fn, index: int, item: dict) -> Done:
    """fn(item) as a `Done`: an exception becomes an error message, not a raise."""
    start = time.perf_counter()
    try:
        result, error = fn(item), None
    except Exception as exc:  # noqa: BLE001  reported as this item's failure
        traceback.print_exc()
        result, error = None, f"{type(exc).__name__}: {exc}".splitlines()[0]
    return Done(index, item, result, error, time.perf_counter() - start)


# -- local processes ---------------------------------------------------------------------------

# Workers come from the fork server the app's training processes come from (torch already
# imported there), under their name, so that they too are told nothing of `__main__`.
_CONTEXT = process_job._FORK
WORKER_NAME = process_job.PROCESS_NAME


def _serve(conn: connection.Connection, nice: int = 0) -> None:
    """A worker's main: run (fn, index, item) messages until None or the pipe closes, `nice`
    steps below the priority it was started with."""
    if nice:
        os.nice(nice)
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        conn.send(_call(*message))


class LocalExecutor:
    """`workers` processes on this machine; see the module's docstring."""

    def __init__(self, workers: int = 1, nice: int = 0) -> None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValueError(f"workers must be a positive integer, got {workers!r}")
        self.workers = workers
        self.nice = nice  # the workers' priority below this process's (os.nice)
        self._cancel = threading.Event()

    def cancel(self) -> None:
        """Stop handing out items and kill the running ones; `run` returns soon after."""
        self._cancel.set()

    def _start(self):
        parent, child = _CONTEXT.Pipe()
        process = _CONTEXT.Process(
            target=_serve, args=(child, self.nice), name=WORKER_NAME, daemon=True
        )
        process.start()
        child.close()
        return parent, process

    def run(self, fn: Fn, items: Iterable[dict]) -> Iterator[Done]:
        """Yield a `Done` for each item as it finishes (in finishing order)."""
        self._cancel.clear()
        queue = list(enumerate(items))[::-1]  # popped from the end: input order
        idle = [self._start() for _ in range(min(self.workers, len(queue)))]
        busy: dict[connection.Connection, tuple] = {}  # conn -> (worker, index, item)
        try:
            while (queue or busy) and not self._cancel.is_set():
                while idle and queue:
                    worker = idle.pop()
                    index, item = queue.pop()
                    worker[0].send((fn, index, item))
                    busy[worker[0]] = (worker, index, item)
                for conn in connection.wait(list(busy), timeout=_POLL):
                    worker, index, item = busy.pop(conn)
                    try:
                        done = conn.recv()
                    except (EOFError, OSError):  # the worker died (killed, out of memory)
                        _stop(worker)
                        code = worker[1].exitcode
                        done = Done(index, item, None, f"the worker process died ({code})", 0.0)
                        worker = self._start() if queue else None
                    if worker is not None:
                        idle.append(worker)
                    yield done
        finally:
            for worker in [*idle, *(w for w, _, _ in busy.values())]:
                _stop(worker, kill=worker[0] in busy)


def _stop(worker, kill: bool = False, timeout: float = 2.0) -> None:
    """End a worker: ask it to leave, or kill it when it is busy (or does not leave)."""
    conn, process = worker
    if not kill:
        with contextlib.suppress(OSError):  # it may have gone already
            conn.send(None)
    else:
        process.terminate()
    conn.close()
    process.join(timeout)
    if process.exitcode is None:
        process.kill()
        process.join(timeout)


# -- Ray ---------------------------------------------------------------------------------------

RAY_MISSING = (
    "the ray backend needs Ray, which is not installed; install it with"
    " `pip install ray` or use the local backend"
)


def _ray():
    """The ray module, imported on first use; RuntimeError with how to install it otherwise."""
    try:
        import ray
    except ImportError:
        raise RuntimeError(RAY_MISSING) from None
    return ray


class RayExecutor:
    """Each item a Ray task; see the module's docstring.

    Connects on first `run`: to a Ray already started in this process, or else to the
    cluster at `address`, or else starts a local one (`workers` CPUs; default all), with
    `runtime_env` (Ray's: e.g. {"py_modules": [...]} where the cluster's nodes lack this
    package). The connection is left open for later sweeps; `ray.shutdown()` ends it.
    """

    def __init__(
        self,
        address: str | None = None,
        workers: int | None = None,
        runtime_env: dict | None = None,
    ) -> None:
        self.address = address
        self.workers = workers
        self.runtime_env = runtime_env
        self._cancel = threading.Event()

    def cancel(self) -> None:
        """Cancel queued tasks and kill running ones; `run` returns soon after."""
        self._cancel.set()

    def connect(self):
        """Connect to (or start) Ray now rather than on the first `run`; the ray module."""
        ray = _ray()
        if not ray.is_initialized():
            if self.address is not None:
                ray.init(address=self.address, runtime_env=self.runtime_env)
            else:
                ray.init(
                    num_cpus=self.workers, include_dashboard=False, runtime_env=self.runtime_env
                )
        return ray

    def run(self, fn: Fn, items: Iterable[dict]) -> Iterator[Done]:
        """Yield a `Done` for each item as it finishes (in finishing order)."""
        self._cancel.clear()
        ray = self.connect()
        task = ray.remote(num_cpus=1, max_retries=0)(_call)
        pending = {task.remote(fn, i, item): (i, item) for i, item in enumerate(items)}
        try:
            while pending and not self._cancel.is_set():
                ready, _ = ray.wait(list(pending), num_returns=1, timeout=_POLL)
                for ref in ready:
                    index, item = pending.pop(ref)
                    try:
                        done = ray.get(ref)
                    except Exception as exc:  # noqa: BLE001  the task's worker died
                        done = Done(index, item, None, f"{type(exc).__name__}: {exc}", 0.0)
                    yield done
        finally:
            for ref in pending:
                ray.cancel(ref, force=True)
