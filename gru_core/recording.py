"""Saving a run as it trains: where it lives in a workspace, and what writes it there.

A job that trains a workspace's run carries a `RunRecord` (a data directory, a
workspace id, a run id: picklable, so a training process opens the store itself).
The process that runs the epochs saves each epoch's row and, every few seconds, the
trainer's resumable state through a `RunRecorder`; the job writes the run's status.
Creating runs and reading them back is `gru_core.workspace`'s.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from gru_core import store as stores

_open: dict[str, stores.Store] = {}
_open_lock = threading.Lock()


def open_store(root: str | Path) -> stores.Store:
    """This process's Store for the data directory `root` (one per process and directory)."""
    key = str(Path(root).resolve())
    with _open_lock:
        if key not in _open:
            _open[key] = stores.Store(key)
        return _open[key]


@dataclass(frozen=True)
class RunRecord:
    """Where a job records its run: picklable, so a training process can open it too."""

    root: str  # the store's data directory
    ws: str  # the workspace id
    run: int  # the run id

    @property
    def store(self) -> stores.Store:
        return open_store(self.root)


# -- recording as it trains -----------------------------------------------------------------

StateFn = Callable[[], tuple[dict[str, torch.Tensor], dict]]


class RunRecorder:
    """Saves a training run: each epoch's row, and every few seconds its resumable state.

    The history lives in the store's history table, so the saved meta leaves it out.
    """

    def __init__(self, record: RunRecord, state: StateFn) -> None:
        self.record = record
        self._state = state
        self._recorder = stores.Recorder(record.store, record.ws, record.run)
        self._frames: dict[int, dict] = {}  # replay frames not yet saved

    def _lean_state(self) -> tuple[dict[str, torch.Tensor], dict]:
        tensors, meta = self._state()
        return tensors, {**meta, "history": []}

    def keep_frames(self, frames: dict[int, dict]) -> None:
        """Replay frames (epoch -> `gru_core.replay` frame) to save with the next save."""
        self._frames.update(frames)

    def _save_frames(self) -> None:
        from gru_core import replay  # it imports this module

        frames, self._frames = self._frames, {}
        if frames:
            flat = {epoch: replay.flatten(frame) for epoch, frame in frames.items()}
            self.record.store.save_frames(self.record.ws, self.record.run, flat)

    def add(self, row: dict) -> None:
        if self._recorder.add(row, self._lean_state):
            self._save_frames()

    def flush(self) -> None:
        self._recorder.flush(self._lean_state)
        self._save_frames()


def set_status(record: RunRecord | None, status: str, message: str = "") -> None:
    """Write a job's status to its run (claiming the run for this process when it starts)."""
    if record is None:
        return
    status = "finished" if status == "new" else status
    record.store.update_run(
        record.ws, record.run, status=status, message=message, claim=status in stores.ACTIVE
    )


def weights_of(tensors: dict[str, torch.Tensor], meta: dict) -> tuple[dict, dict]:
    """(model name -> state dict, model name -> carried state) from a resumable state."""
    weights: dict[str, dict] = {}
    for key, value in tensors.items():
        kind, _, rest = key.partition("/")
        if kind == "model":
            name, _, param = rest.partition("/")
            weights.setdefault(name, {})[param] = value
    states: dict[str, object] = {}
    for name, parts in meta.get("state_parts", {}).items():
        if parts is None:
            states[name] = None
            continue
        flat = tuple(tensors[f"state/{name}/{i}"] for i in range(parts))
        states[name] = flat if meta.get("state_tuples", {}).get(name) else flat[0]
    return weights, states
