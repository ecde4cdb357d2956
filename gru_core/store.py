"""The workspace store: runs, settings, data and histories that outlive the server.

Everything lives under one data directory (`home()`: `GRU_LAB_HOME`, default `~/.gru_lab`):
`store.sqlite3` (SQLite in WAL mode) holds workspaces, their settings, their datasets, their
runs and the runs' histories; `checkpoints/<workspace>/<run>.safetensors` holds each run's
latest resumable state (weights, optimizer state, carried state), replaced atomically, and
`checkpoints/<workspace>/<run>.frames/<epoch>.safetensors` the weights it kept for replay.

A workspace is reached only through its id, a random token: ids are checked by format
before any lookup, every run call names its workspace, and nothing lists workspaces.
Any number of threads and processes may use one store at once: each thread of each
process has its own connection, and every write is one short `BEGIN IMMEDIATE` transaction.

Runs left `queued` or `running` by a process that died are found by their owner (host,
pid and a per-process token) and heartbeat: `recover_interrupted` marks them `interrupted`.

This module takes plain data (JSON-able dicts, numpy arrays, tensor dicts): it knows
nothing of models, training or the UI.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import re
import secrets
import shutil
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from gru_core import tensorfile
from gru_core.i18n import t

MAX_RUNS = 200  # live runs per workspace; creating one more removes the oldest unpinned
MAX_DATASETS = 50  # datasets kept per workspace; older ones no run uses are removed
UNDO_SECONDS = 24 * 3600  # a deleted run can be restored this long, then it is purged
STALE_SECONDS = 120.0  # an active run whose heartbeat is older is taken for interrupted
BUSY_TIMEOUT_MS = 30_000  # how long a writer waits for another's transaction
SAVE_EVERY = 2.0  # seconds between a Recorder's saves of history and resumable state

SCHEMA_VERSION = 1  # kept in PRAGMA user_version; a newer file is refused, not misread
STATUSES = ("queued", "running", "finished", "stopped", "diverged", "failed", "interrupted")
ACTIVE = ("queued", "running")  # statuses that need a live owner
RUN_KEYS = ("epoch", "lr", "seconds", "elapsed")  # history keys that belong to no model

_WORKSPACE_ID = re.compile(r"[A-Za-z0-9_-]{32}")  # secrets.token_urlsafe(24): 192 bits
_NO_WORKSPACE = "no such workspace; open the app without ?ws= to start a new one"
_HIGHER_IS_BETTER = re.compile(r"(^|_)(acc|accuracy)$")  # every other metric is an error

_SCHEMA = """
CREATE TABLE IF NOT EXISTS workspaces (
    id TEXT PRIMARY KEY,                 -- random token, the only way in
    created REAL NOT NULL,               -- unix seconds
    settings TEXT NOT NULL DEFAULT '{}'  -- JSON: the Data and Train widgets' values
);
CREATE TABLE IF NOT EXISTS datasets (
    id INTEGER PRIMARY KEY,
    workspace TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name TEXT NOT NULL,                  -- e.g. the uploaded file's name
    meta TEXT NOT NULL,                  -- JSON: generator settings, column, ...
    points INTEGER NOT NULL,
    series BLOB NOT NULL,                -- little-endian float64, no pickle
    digest TEXT NOT NULL,                -- sha256 of name, meta and series: one copy each
    created REAL NOT NULL,
    UNIQUE (workspace, digest)
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    workspace TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    dataset INTEGER REFERENCES datasets(id),
    sweep TEXT,                          -- runs of one sweep share it
    name TEXT NOT NULL DEFAULT '',       -- the user's name; '' = the automatic label
    spec TEXT NOT NULL,                  -- JSON run spec
    task TEXT NOT NULL,
    models TEXT NOT NULL,                -- JSON list of model names, in order
    status TEXT NOT NULL,
    message TEXT NOT NULL DEFAULT '',    -- why it failed or stopped
    epoch INTEGER NOT NULL DEFAULT 0,    -- epochs done (last history row)
    seconds REAL NOT NULL DEFAULT 0,     -- training seconds (last history row's elapsed)
    params TEXT NOT NULL DEFAULT '{}',   -- JSON {model: parameter count}
    summary TEXT NOT NULL DEFAULT '{}',  -- JSON {model: {metric: {best, best_epoch, last}}}
    checkpoint_epoch INTEGER,            -- epoch of the saved resumable state, if any
    pinned INTEGER NOT NULL DEFAULT 0,
    deleted REAL,                        -- when it was deleted (undo until purged); NULL: live
    owner TEXT,                          -- host:pid:token of the process that drives it
    heartbeat REAL,                      -- last sign of life from the owner
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_by_workspace ON runs (workspace, created);
CREATE INDEX IF NOT EXISTS runs_active ON runs (status) WHERE status IN ('queued', 'running');
CREATE TABLE IF NOT EXISTS history (
    run INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    epoch INTEGER NOT NULL,
    row TEXT NOT NULL,                   -- JSON: epoch, lr, <model>_<metric>, seconds, elapsed
    PRIMARY KEY (run, epoch)
) WITHOUT ROWID;
"""
_RUN_COLUMNS = (
    "id, dataset, sweep, name, spec, task, models, status, message, epoch, seconds, params,"
    " summary, checkpoint_epoch, pinned, deleted, owner, heartbeat, created, updated"
)


class StoreError(ValueError):
    """A request the store cannot serve: unknown workspace or run, bad value, full workspace."""


@dataclass(frozen=True)
class Dataset:
    """A series kept in a workspace."""

    id: int
    name: str
    meta: dict
    series: np.ndarray  # (points,) float64
    created: float


@dataclass(frozen=True)
class Run:
    """One row of the Runs table: everything but the history and the weights."""

    id: int
    dataset: int | None
    sweep: str | None
    name: str
    spec: dict
    task: str
    models: list[str]
    status: str
    message: str
    epoch: int
    seconds: float
    params: dict[str, int]
    summary: dict[str, dict[str, dict]]  # model -> metric -> {"best", "best_epoch", "last"}
    checkpoint_epoch: int | None
    pinned: bool
    deleted: float | None
    owner: str | None
    heartbeat: float | None
    created: float
    updated: float


class Removed(NamedTuple):
    """A run removed to keep a workspace under MAX_RUNS, for the notice that says so."""

    id: int
    name: str


class Checkpoint(NamedTuple):
    """A run's latest resumable state."""

    tensors: dict[str, torch.Tensor]
    meta: dict


def home() -> Path:
    """The data directory: `$GRU_LAB_HOME`, or `~/.gru_lab`."""
    return Path(os.environ.get("GRU_LAB_HOME") or Path.home() / ".gru_lab").expanduser()


def is_workspace_id(value: object) -> bool:
    """Whether `value` has the form of a workspace id (says nothing of its existence)."""
    return isinstance(value, str) and _WORKSPACE_ID.fullmatch(value) is not None


_owners: dict[int, str] = {}
_inherited: list[sqlite3.Connection] = []  # parents' connections a forked child must not close


def owner_token() -> str:
    """This process's owner token, `host:pid:random`; a forked child gets its own."""
    pid = os.getpid()
    if pid not in _owners:
        _owners[pid] = f"{socket.gethostname()}:{pid}:{secrets.token_hex(6)}"
    return _owners[pid]


StateFn = Callable[[], tuple[Mapping[str, torch.Tensor], Mapping]]  # -> (tensors, meta)


class Store:
    """One data directory's store; share it between threads, open one per process."""

    def __init__(self, root: str | os.PathLike | None = None) -> None:
        self.root = Path(root) if root is not None else home()
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)  # the ids in it are keys
        self.path = self.root / "store.sqlite3"
        self._local = threading.local()
        db = self._db()
        db.executescript(f"BEGIN IMMEDIATE; {_SCHEMA} COMMIT;")
        (version,) = db.execute("PRAGMA user_version").fetchone()
        if version > SCHEMA_VERSION:
            raise StoreError(
                t(
                    "store.error.was_written_by",
                    path=self.path,
                    version=version,
                    schema_version=SCHEMA_VERSION,
                )
            )
        if version < SCHEMA_VERSION:
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    # -- connections ----------------------------------------------------------------------
    def _db(self) -> sqlite3.Connection:
        """This thread's connection (a forked child opens its own, never its parent's)."""
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            if getattr(local, "db", None) is not None:
                # Inherited through fork: closing it here could drop this process's own
                # POSIX locks on the file, so it is kept, unused, for the process's life.
                _inherited.append(local.db)
            db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")  # WAL: durable at checkpoints, never torn
            db.execute("PRAGMA foreign_keys = ON")
            local.db, local.pid = db, os.getpid()
        return local.db

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken at once (no deferred lock upgrade to deadlock on)."""
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def close(self) -> None:
        """Close this thread's connection."""
        db = getattr(self._local, "db", None)
        if db is not None and self._local.pid == os.getpid():
            db.close()
        self._local.__dict__.clear()

    def backup(self, target: str | os.PathLike) -> Path:
        """Copy the whole store into the empty or new folder `target`, while it is in use.

        SQLite's online backup gives a consistent copy of the database; checkpoint files
        are copied after it (each is whole: they are only ever replaced by rename).
        Open the copy with `Store(target)`, or point `GRU_LAB_HOME` at it.
        """
        target = Path(target)
        target.mkdir(parents=True, exist_ok=True, mode=0o700)
        if any(target.iterdir()):
            raise StoreError(t("store.error.empty_back_up", target=target))
        copy = sqlite3.connect(target / self.path.name)
        try:
            self._db().backup(copy)
        finally:
            copy.close()
        source = self.root / "checkpoints"
        for path in source.rglob("*.safetensors") if source.exists() else ():
            dest = target / path.relative_to(self.root)
            dest.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileNotFoundError):  # purged meanwhile
                shutil.copy2(path, dest)
        return target

    # -- workspaces -----------------------------------------------------------------------
    def create_workspace(self) -> str:
        """A new, empty workspace; returns its id (192 random bits, URL-safe)."""
        ws = secrets.token_urlsafe(24)
        with self._write() as db:
            db.execute("INSERT INTO workspaces (id, created) VALUES (?, ?)", (ws, time.time()))
        return ws

    def workspace_exists(self, ws: object) -> bool:
        """Whether `ws` is the id of a workspace; malformed ids are not looked up."""
        if not is_workspace_id(ws):
            return False
        return (
            self._db().execute("SELECT 1 FROM workspaces WHERE id = ?", (ws,)).fetchone()
            is not None
        )

    def _check_workspace(self, ws: object) -> None:
        if not self.workspace_exists(ws):
            raise StoreError(_NO_WORKSPACE)

    def settings(self, ws: str) -> dict:
        """The workspace's saved widget values ({} until some are saved)."""
        self._check_workspace(ws)
        (text,) = (
            self._db().execute("SELECT settings FROM workspaces WHERE id = ?", (ws,)).fetchone()
        )
        return json.loads(text)

    def save_settings(self, ws: str, settings: Mapping) -> None:
        """Replace the workspace's saved widget values with `settings` (JSON-able)."""
        text = _dumps(settings, "settings")
        self._check_workspace(ws)
        with self._write() as db:
            db.execute("UPDATE workspaces SET settings = ? WHERE id = ?", (text, ws))

    # -- datasets -------------------------------------------------------------------------
    def add_dataset(
        self, ws: str, series: np.ndarray, name: str, meta: Mapping | None = None
    ) -> int:
        """Keep `series` (1-D, finite) in the workspace; returns its id (the same for a copy)."""
        values = np.ascontiguousarray(series, dtype="<f8")
        if values.ndim != 1 or not np.all(np.isfinite(values)):
            raise StoreError(t("store.error.dataset_d_finite", shape=values.shape))
        meta_text = _dumps(meta or {}, "dataset meta")
        blob = values.tobytes()
        digest = hashlib.sha256(json.dumps([name, meta_text]).encode() + b"\0" + blob).hexdigest()
        self._check_workspace(ws)
        with self._write() as db:
            found = db.execute(
                "SELECT id FROM datasets WHERE workspace = ? AND digest = ?", (ws, digest)
            ).fetchone()
            if found:
                return found[0]
            cursor = db.execute(
                "INSERT INTO datasets (workspace, name, meta, points, series, digest, created)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (ws, name, meta_text, len(values), blob, digest, time.time()),
            )
            db.execute(
                "DELETE FROM datasets WHERE workspace = ? AND id NOT IN (SELECT dataset FROM runs"
                " WHERE dataset IS NOT NULL) AND id NOT IN (SELECT id FROM datasets"
                " WHERE workspace = ? ORDER BY id DESC LIMIT ?)",
                (ws, ws, MAX_DATASETS),
            )
            return cursor.lastrowid

    def dataset(self, ws: str, dataset_id: int) -> Dataset:
        """A dataset of the workspace, its series included."""
        self._check_workspace(ws)
        row = (
            self._db()
            .execute(
                "SELECT id, name, meta, series, created FROM datasets"
                " WHERE workspace = ? AND id = ?",
                (ws, dataset_id),
            )
            .fetchone()
        )
        if row is None:
            raise StoreError(t("store.error.dataset_workspace", dataset_id=dataset_id))
        series = np.frombuffer(row[3], dtype="<f8").astype(np.float64)  # a writable copy
        return Dataset(row[0], row[1], json.loads(row[2]), series, row[4])

    # -- runs -----------------------------------------------------------------------------
    def create_run(
        self,
        ws: str,
        spec: Mapping,
        dataset: int | None = None,
        *,
        name: str = "",
        sweep: str | None = None,
        status: str = "queued",
        params: Mapping[str, int] | None = None,
    ) -> tuple[int, list[Removed]]:
        """A new run owned by this process; returns its id and the runs removed to make room.

        `spec` is the JSON-able run spec; its `task` (default "forecast") and its `models`
        (names, or dicts with a "name") fill the Runs table's task and model columns.
        At MAX_RUNS live runs, the oldest unpinned finished ones are removed for good.
        """
        spec_text = _dumps(spec, "run spec")
        models = _model_names(spec)
        _check_status(status)
        self._check_workspace(ws)
        now = time.time()
        with self._write() as db:
            if (
                dataset is not None
                and not db.execute(
                    "SELECT 1 FROM datasets WHERE workspace = ? AND id = ?", (ws, dataset)
                ).fetchone()
            ):
                raise StoreError(t("store.error.dataset_workspace", dataset_id=dataset))
            expired = [
                r
                for (r,) in db.execute(
                    "SELECT id FROM runs WHERE workspace = ? AND deleted < ?",
                    (ws, now - UNDO_SECONDS),
                )
            ]
            (live,) = db.execute(
                "SELECT count(*) FROM runs WHERE workspace = ? AND deleted IS NULL", (ws,)
            ).fetchone()
            excess = live + 1 - MAX_RUNS
            removed: list[Removed] = []
            if excess > 0:
                removed = [
                    Removed(*row)
                    for row in db.execute(
                        "SELECT id, name FROM runs WHERE workspace = ? AND deleted IS NULL"
                        " AND NOT pinned AND status NOT IN ('queued', 'running')"
                        " ORDER BY created, id LIMIT ?",
                        (ws, excess),
                    )
                ]
                if len(removed) < excess:
                    raise StoreError(
                        t("store.error.workspace_runs_most", live=live, max_runs=MAX_RUNS)
                    )
            gone = expired + [r.id for r in removed]
            db.executemany("DELETE FROM runs WHERE id = ?", [(r,) for r in gone])
            cursor = db.execute(
                "INSERT INTO runs (workspace, dataset, sweep, name, spec, task, models, status,"
                " params, owner, heartbeat, created, updated)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    ws,
                    dataset,
                    sweep,
                    name,
                    spec_text,
                    str(spec.get("task", "forecast")),
                    json.dumps(models),
                    status,
                    _dumps(params or {}, "params"),
                    owner_token(),
                    now,
                    now,
                    now,
                ),
            )
        for run in gone:
            self._remove_files(ws, run)
        self._remove_files(ws, cursor.lastrowid)  # a reused id's files, should any be left
        return cursor.lastrowid, removed

    def update_run(
        self,
        ws: str,
        run: int,
        *,
        status: str | None = None,
        message: str | None = None,
        params: Mapping[str, int] | None = None,
        claim: bool = False,
    ) -> None:
        """Change a run's status, message or parameter counts; beats its heartbeat.

        `claim=True` makes this process the run's owner (a resumed run changes hands).
        """
        sets, values = ["heartbeat = ?", "updated = ?"], [time.time(), time.time()]
        if status is not None:
            _check_status(status)
            sets.append("status = ?")
            values.append(status)
        if message is not None:
            sets.append("message = ?")
            values.append(" ".join(str(message).split()))
        if params is not None:
            sets.append("params = ?")
            values.append(_dumps(params, "params"))
        if claim:
            sets.append("owner = ?")
            values.append(owner_token())
        with self._write() as db:
            self._check_run(db, ws, run)
            db.execute(f"UPDATE runs SET {', '.join(sets)} WHERE id = ?", (*values, run))

    def beat(self, ws: str, runs: Iterable[int]) -> None:
        """Tell the store these runs' owner is alive (for queued runs that write nothing)."""
        if not is_workspace_id(ws):
            raise StoreError(_NO_WORKSPACE)
        now = time.time()
        with self._write() as db:
            db.executemany(
                "UPDATE runs SET heartbeat = ? WHERE workspace = ? AND id = ?",
                [(now, ws, run) for run in runs],
            )

    def append_history(self, ws: str, run: int, rows: Iterable[Mapping]) -> None:
        """Add history rows (one per epoch; a repeated epoch replaces its row) in one write.

        NaN and infinite values are kept as None (JSON has no such numbers). Also moves the
        run's epoch count, training seconds, metric summary and heartbeat.
        """
        rows = [{k: _finite_or_none(v) for k, v in row.items()} for row in rows]
        if not rows:
            return
        texts = [(_dumps(row, "history row"), _epoch(row)) for row in rows]
        with self._write() as db:
            self._check_run(db, ws, run)
            models_text, summary_text = db.execute(
                "SELECT models, summary FROM runs WHERE id = ?", (run,)
            ).fetchone()
            summary = _merge_summary(json.loads(summary_text), json.loads(models_text), rows)
            db.executemany(
                "INSERT OR REPLACE INTO history (run, epoch, row) VALUES (?, ?, ?)",
                [(run, epoch, text) for text, epoch in texts],
            )
            last = rows[-1]
            now = time.time()
            db.execute(
                "UPDATE runs SET epoch = ?, seconds = ?, summary = ?, heartbeat = ?, updated = ?"
                " WHERE id = ?",
                (
                    _epoch(last),
                    float(last.get("elapsed") or 0.0),
                    json.dumps(summary, allow_nan=False),
                    now,
                    now,
                    run,
                ),
            )

    def import_run(
        self,
        ws: str,
        spec: Mapping,
        series: np.ndarray,
        history: list[Mapping],
        tensors: Mapping[str, torch.Tensor],
        meta: Mapping,
        *,
        name: str = "",
        dataset_name: str = "",
        dataset_meta: Mapping | None = None,
        frames: Mapping[int, tuple[Mapping[str, torch.Tensor], Mapping]] | None = None,
    ) -> tuple[int, list[Removed]]:
        """Add a finished run from elsewhere (a bundle) whole, with its replay `frames` if it
        kept any; a failure leaves no run behind."""
        dataset = self.add_dataset(ws, series, dataset_name, dataset_meta)
        run, removed = self.create_run(ws, spec, dataset, name=name, status="finished")
        try:
            self.append_history(ws, run, history)
            self.save_checkpoint(ws, run, tensors, meta)
            if frames:
                self.save_frames(ws, run, frames)
        except BaseException:
            self.purge(ws, run)
            raise
        return run, removed

    def history(self, ws: str, run: int) -> list[dict]:
        """The run's history rows, by epoch."""
        db = self._db()
        self._check_run(db, ws, run)
        return [
            json.loads(text)
            for (text,) in db.execute(
                "SELECT row FROM history WHERE run = ? ORDER BY epoch", (run,)
            )
        ]

    def truncate_history(self, ws: str, run: int, after_epoch: int) -> None:
        """Drop rows past `after_epoch`: a run resumed from an older checkpoint redoes them."""
        with self._write() as db:
            self._check_run(db, ws, run)
            db.execute("DELETE FROM history WHERE run = ? AND epoch > ?", (run, after_epoch))
            rows = [
                json.loads(t)
                for (t,) in db.execute(
                    "SELECT row FROM history WHERE run = ? ORDER BY epoch", (run,)
                )
            ]
            (models,) = db.execute("SELECT models FROM runs WHERE id = ?", (run,)).fetchone()
            summary = _merge_summary({}, json.loads(models), rows)
            last = rows[-1] if rows else {}
            db.execute(
                "UPDATE runs SET epoch = ?, seconds = ?, summary = ?, updated = ? WHERE id = ?",
                (
                    _epoch(last) if rows else 0,
                    float(last.get("elapsed") or 0.0),
                    json.dumps(summary, allow_nan=False),
                    time.time(),
                    run,
                ),
            )

    def runs(self, ws: str, *, deleted: bool = False) -> list[Run]:
        """The workspace's live runs (`deleted=True`: those awaiting purge), oldest first."""
        self._check_workspace(ws)
        where = "deleted IS NOT NULL" if deleted else "deleted IS NULL"
        rows = self._db().execute(
            f"SELECT {_RUN_COLUMNS} FROM runs WHERE workspace = ? AND {where} ORDER BY created, id",
            (ws,),
        )
        return [_run(row) for row in rows]

    def latest_run(self, ws: str, *, sweeps: bool = True) -> Run | None:
        """The workspace's newest live run (the last of `runs`), or None: one row read.
        `sweeps=False` leaves the runs of sweeps out."""
        self._check_workspace(ws)
        mine = "" if sweeps else " AND sweep IS NULL"
        row = (
            self._db()
            .execute(
                f"SELECT {_RUN_COLUMNS} FROM runs WHERE workspace = ? AND deleted IS NULL{mine}"
                " ORDER BY created DESC, id DESC LIMIT 1",
                (ws,),
            )
            .fetchone()
        )
        return None if row is None else _run(row)

    def run(self, ws: str, run: int) -> Run:
        """One run of the workspace (live or deleted)."""
        self._check_workspace(ws)
        row = (
            self._db()
            .execute(f"SELECT {_RUN_COLUMNS} FROM runs WHERE workspace = ? AND id = ?", (ws, run))
            .fetchone()
        )
        if row is None:
            raise StoreError(t("store.error.run_workspace", run=run))
        return _run(row)

    def rename(self, ws: str, run: int, name: str) -> None:
        """Give the run a name ('' goes back to the automatic label)."""
        name = " ".join(str(name).split())
        if len(name) > 200:
            raise StoreError(t("store.error.run_name_at", count=len(name)))
        self._set(ws, run, "name", name)

    def pin(self, ws: str, run: int, pinned: bool = True) -> None:
        """Pin (or unpin) a run: pinned runs are never removed to make room."""
        self._set(ws, run, "pinned", int(bool(pinned)))

    def delete(self, ws: str, run: int) -> None:
        """Delete a run, undoably: `restore` brings it back until it is purged."""
        with self._write() as db:
            self._check_run(db, ws, run)
            db.execute(
                "UPDATE runs SET deleted = ? WHERE id = ? AND deleted IS NULL", (time.time(), run)
            )

    def restore(self, ws: str, run: int) -> None:
        """Undo `delete`."""
        self._set(ws, run, "deleted", None)

    def purge(self, ws: str, run: int) -> None:
        """Remove a run for good: its row, history and checkpoint."""
        with self._write() as db:
            self._check_run(db, ws, run)
            db.execute("DELETE FROM runs WHERE id = ?", (run,))
        self._remove_files(ws, run)

    def _set(self, ws: str, run: int, column: str, value: object) -> None:
        with self._write() as db:
            self._check_run(db, ws, run)
            db.execute(
                f"UPDATE runs SET {column} = ?, updated = ? WHERE id = ?", (value, time.time(), run)
            )

    def _check_run(self, db: sqlite3.Connection, ws: object, run: int) -> None:
        if not is_workspace_id(ws):
            raise StoreError(_NO_WORKSPACE)
        if (
            db.execute("SELECT 1 FROM runs WHERE workspace = ? AND id = ?", (ws, run)).fetchone()
            is None
        ):
            raise StoreError(t("store.error.run_workspace", run=run))

    # -- interrupted runs -----------------------------------------------------------------
    def recover_interrupted(
        self, ws: str | None = None, stale_after: float = STALE_SECONDS
    ) -> list[int]:
        """Mark `interrupted` the queued or running runs whose owner is gone; return their ids.

        An owner is gone when it ran on this host and its pid is dead or belongs to another
        process's token, or when the run's heartbeat is older than `stale_after` seconds.
        """
        if ws is not None:
            self._check_workspace(ws)
        now = time.time()
        with self._write() as db:
            rows = db.execute(
                "SELECT id, owner, heartbeat FROM runs WHERE status IN ('queued', 'running')"
                + (" AND workspace = ?" if ws is not None else ""),
                (ws,) if ws is not None else (),
            ).fetchall()
            lost = [run for run, owner, beat in rows if not _alive(owner, beat, now, stale_after)]
            db.executemany(
                "UPDATE runs SET status = 'interrupted', message = ?, updated = ? WHERE id = ?",
                [("the server stopped while this run was training", now, run) for run in lost],
            )
        return lost

    # -- checkpoints ----------------------------------------------------------------------
    def _checkpoint_path(self, ws: str, run: int) -> Path:
        return self.root / "checkpoints" / ws / f"{int(run)}.safetensors"

    def save_checkpoint(
        self, ws: str, run: int, tensors: Mapping[str, torch.Tensor], meta: Mapping
    ) -> None:
        """Replace the run's resumable state atomically (temp file, fsync, rename).

        `meta` is JSON-able; its `epoch`, if any, is shown as the epoch a resume starts from.
        """
        db = self._db()
        self._check_run(db, ws, run)
        data = tensorfile.to_bytes(tensors, meta)
        path = self._checkpoint_path(ws, run)
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            with open(temp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(temp, path)
        finally:
            temp.unlink(missing_ok=True)
        epoch = meta.get("epoch")
        with self._write() as db:
            updated = db.execute(
                "UPDATE runs SET checkpoint_epoch = ?, heartbeat = ?"
                " WHERE workspace = ? AND id = ?",
                (epoch if isinstance(epoch, int) else None, time.time(), ws, run),
            ).rowcount
        if not updated:  # purged while we wrote: leave nothing behind
            path.unlink(missing_ok=True)

    def _frames_dir(self, ws: str, run: int) -> Path:
        return self.root / "checkpoints" / ws / f"{int(run)}.frames"

    def _remove_files(self, ws: str, run: int) -> None:
        """A run's checkpoint and replay frames, gone from the disk."""
        self._checkpoint_path(ws, run).unlink(missing_ok=True)
        shutil.rmtree(self._frames_dir(ws, run), ignore_errors=True)

    def save_frames(
        self,
        ws: str,
        run: int,
        frames: Mapping[int, tuple[Mapping[str, torch.Tensor], Mapping]],
    ) -> None:
        """Keep a run's replay frames: epoch -> (tensors, JSON-able meta), a file per epoch.

        Each file is written whole and renamed into place, so a reader sees whole frames only.
        """
        self._check_run(self._db(), ws, run)
        folder = self._frames_dir(ws, run)
        folder.mkdir(parents=True, exist_ok=True)
        for epoch, (tensors, meta) in frames.items():
            path = folder / f"{int(epoch)}.safetensors"
            temp = folder / f".{int(epoch)}.{secrets.token_hex(6)}.tmp"
            try:
                temp.write_bytes(tensorfile.to_bytes(tensors, meta))
                os.replace(temp, path)
            finally:
                temp.unlink(missing_ok=True)
        if not self._db().execute("SELECT 1 FROM runs WHERE id = ?", (run,)).fetchone():
            shutil.rmtree(folder, ignore_errors=True)  # purged while we wrote

    def frame_epochs(self, ws: str, run: int) -> list[int]:
        """The epochs whose replay frames the run keeps, in order."""
        self._check_run(self._db(), ws, run)
        folder = self._frames_dir(ws, run)
        names = (p.name.removesuffix(".safetensors") for p in folder.glob("*.safetensors"))
        return sorted(int(n) for n in names if n.isdecimal())

    def load_frame(self, ws: str, run: int, epoch: int) -> Checkpoint | None:
        """The replay frame kept at `epoch` (tensors, meta), or None if none was."""
        self._check_run(self._db(), ws, run)
        try:
            data = (self._frames_dir(ws, run) / f"{int(epoch)}.safetensors").read_bytes()
        except FileNotFoundError:
            return None
        return Checkpoint(*tensorfile.from_bytes(data))

    def load_checkpoint(self, ws: str, run: int) -> Checkpoint | None:
        """The run's latest resumable state, or None if none was saved."""
        self._check_run(self._db(), ws, run)
        try:
            data = self._checkpoint_path(ws, run).read_bytes()
        except FileNotFoundError:
            return None
        return Checkpoint(*tensorfile.from_bytes(data))


class Recorder:
    """Saves a run as it trains: history rows batched, resumable state every few seconds.

    History goes first, the checkpoint second, so the history never ends before the
    checkpoint; a resumed run calls `Store.truncate_history(ws, run, checkpoint_epoch)`.
    """

    def __init__(self, store: Store, ws: str, run: int, every: float = SAVE_EVERY) -> None:
        self.store, self.ws, self.run, self.every = store, ws, run, every
        self._pending: list[dict] = []
        self._last = time.monotonic()

    def add(self, row: Mapping, state: StateFn | None = None) -> bool:
        """Record an epoch's row; save if `every` seconds have passed. True if it saved."""
        self._pending.append(dict(row))
        if time.monotonic() - self._last < self.every:
            return False
        self.flush(state)
        return True

    def flush(self, state: StateFn | None = None) -> None:
        """Write the pending rows, then the state `state()` returns (tensors, meta), if given."""
        self.store.append_history(self.ws, self.run, self._pending)
        self._pending = []
        if state is not None:
            self.store.save_checkpoint(self.ws, self.run, *state())
        self._last = time.monotonic()


def _dumps(value: object, what: str) -> str:
    try:
        return json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise StoreError(t("store.error.cannot_stored_as", what=what, exc=exc)) from None


def _finite_or_none(value: object) -> object:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _check_status(status: str) -> None:
    if status not in STATUSES:
        raise StoreError(
            t("store.error.status_one_got", names=", ".join(STATUSES), status=repr(status))
        )


def _epoch(row: Mapping) -> int:
    epoch = row.get("epoch")
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        raise StoreError(t("store.error.history_row_needs", epoch=repr(epoch)))
    return epoch


def _model_names(spec: Mapping) -> list[str]:
    if not isinstance(spec, Mapping):
        raise StoreError(t("store.error.run_spec_json", name=type(spec).__name__))
    names = [m.get("name") if isinstance(m, Mapping) else m for m in spec.get("models", [])]
    if not all(isinstance(n, str) and n for n in names):
        raise StoreError(t("store.error.spec_s_models", models=repr(spec.get("models"))))
    return names


def _merge_summary(summary: dict, models: list[str], rows: list[dict]) -> dict:
    """`summary` updated with each model metric's best (with its epoch) and last value."""
    by_length = sorted(models, key=len, reverse=True)  # "gru_d2l" before "gru"
    for row in rows:
        for key, value in row.items():
            if key in RUN_KEYS or not isinstance(value, (int, float)) or isinstance(value, bool):
                continue
            if not math.isfinite(value):
                continue
            model = next((m for m in by_length if key.startswith(f"{m}_")), None)
            if model is None:
                continue
            metric = key[len(model) + 1 :]
            entry = summary.setdefault(model, {}).setdefault(metric, {})
            best = entry.get("best")
            higher = _HIGHER_IS_BETTER.search(metric) is not None
            if best is None or (value > best if higher else value < best):
                entry["best"], entry["best_epoch"] = value, row.get("epoch")
            entry["last"] = value
    return summary


def _alive(owner: str | None, beat: float | None, now: float, stale_after: float) -> bool:
    if beat is None or now - beat > stale_after or not owner:
        return False
    host, _, rest = owner.partition(":")
    pid_text, _, token = rest.partition(":")
    if host != socket.gethostname():
        return True  # another machine: only its heartbeat can tell
    try:
        pid = int(pid_text)
    except ValueError:
        return False
    if pid == os.getpid():
        return _owners.get(pid) == owner  # this process, or a dead one that had our pid
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, someone else's
    return True


def _run(row: tuple) -> Run:
    (
        run, dataset, sweep, name, spec, task, models, status, message, epoch, seconds,
        params, summary, checkpoint_epoch, pinned, deleted, owner, heartbeat, created, updated,
    ) = row  # fmt: skip
    return Run(
        run, dataset, sweep, name, json.loads(spec), task, json.loads(models), status, message,
        epoch, seconds, json.loads(params), json.loads(summary), checkpoint_epoch, bool(pinned),
        deleted, owner, heartbeat, created, updated,
    )  # fmt: skip
