"""The workspace store: a real SQLite file and real checkpoint files under tmp_path."""

import multiprocessing
import os
import signal
import sqlite3
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from gru_core import store as store_mod
from gru_core.store import Store, StoreError, is_workspace_id

SPEC = {"task": "forecast", "models": [{"name": "gru", "kind": "gru"}, {"name": "mlp"}]}


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "home")
    yield s
    s.close()


def _rows(n: int, start: int = 1) -> list[dict]:
    """Plausible history rows whose values depend on the epoch only."""
    return [
        {
            "epoch": e,
            "lr": 1e-3,
            "gru_train_loss": 1.0 / e,
            "gru_test_rollout_mse": abs(e - 3) + 0.5,
            "mlp_train_loss": 2.0 / e,
            "mlp_test_rollout_mse": None if e % 2 else 0.1 * e,
            "seconds": 0.01,
            "elapsed": 0.01 * e,
        }
        for e in range(start, start + n)
    ]


def _state(seed: int) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {
        "model/gru/gru.weight_ih_l0": torch.randn(48, 1, generator=g),
        "optim/gru/step": torch.tensor(float(seed)),
        "state/gru": torch.randn(1, 2, 16, generator=g, dtype=torch.float64),
    }


def test_home_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("GRU_LAB_HOME", str(tmp_path / "elsewhere"))
    assert store_mod.home() == tmp_path / "elsewhere"
    monkeypatch.delenv("GRU_LAB_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert store_mod.home() == tmp_path / ".gru_lab"
    assert Store().path == tmp_path / ".gru_lab" / "store.sqlite3"


def test_connection_is_wal_with_foreign_keys_and_a_busy_timeout(store):
    db = store._db()
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] == store_mod.BUSY_TIMEOUT_MS


def test_workspace_ids_are_random_tokens_checked_before_any_lookup(store):
    a, b = store.create_workspace(), store.create_workspace()
    assert a != b and len(a) == 32 and is_workspace_id(a)
    assert store.workspace_exists(a) and store.workspace_exists(b)
    statements: list[str] = []
    store._db().set_trace_callback(statements.append)
    for bad in ("", "x", a[:-1], a + "A", a[:-1] + "'", a[:-1] + "/", None, 12, "../" + a[3:]):
        assert not store.workspace_exists(bad)
        with pytest.raises(StoreError, match="no such workspace"):
            store.settings(bad)
    assert statements == []  # malformed ids never reach SQL
    unknown = "A" * 32
    assert not store.workspace_exists(unknown)
    assert statements  # control: a well-formed id is looked up
    with pytest.raises(StoreError, match="no such workspace"):
        store.create_run(unknown, SPEC)


def test_settings_survive_a_new_store_on_the_same_home(store):
    ws = store.create_workspace()
    assert store.settings(ws) == {}
    values = {"data": {"points": 1000, "noise": 0.1}, "train": {"lr": 5e-3, "hidden": 4}}
    store.save_settings(ws, values)
    again = Store(store.root)
    assert again.settings(ws) == values
    other = again.create_workspace()
    assert again.settings(other) == {}
    with pytest.raises(StoreError, match="JSON"):
        store.save_settings(ws, {"lr": float("nan")})
    assert store.settings(ws) == values  # a refused save loses nothing


def test_datasets_keep_every_bit_without_pickle(store):
    ws = store.create_workspace()
    series = np.array([0.1 + 0.2, -1e-310, 1 / 3, 2.0**60, -0.0, 5e-324])
    ds = store.add_dataset(ws, series, "upload.csv", {"column": "y"})
    got = store.dataset(ws, ds)
    assert got.series.dtype == np.float64
    assert got.series.tobytes() == series.tobytes()  # bit for bit, -0.0 and subnormals too
    assert (got.name, got.meta) == ("upload.csv", {"column": "y"})
    got.series[0] = 7.0  # the caller's own copy
    assert store.dataset(ws, ds).series[0] == 0.1 + 0.2
    raw = sqlite3.connect(store.path).execute("SELECT series FROM datasets").fetchone()[0]
    assert raw == series.astype("<f8").tobytes()  # raw little-endian doubles, nothing else
    assert store.add_dataset(ws, series.copy(), "upload.csv", {"column": "y"}) == ds
    assert store.add_dataset(ws, series, "upload.csv", {"column": "z"}) != ds
    with pytest.raises(StoreError, match="finite"):
        store.add_dataset(ws, np.array([1.0, np.nan]), "bad")
    other = store.create_workspace()
    with pytest.raises(StoreError, match="not in this workspace"):
        store.dataset(other, ds)


def test_unused_datasets_beyond_the_limit_are_dropped(store, monkeypatch):
    monkeypatch.setattr(store_mod, "MAX_DATASETS", 3)
    ws = store.create_workspace()
    ids = [store.add_dataset(ws, np.arange(5.0) + i, f"d{i}") for i in range(3)]
    store.create_run(ws, SPEC, ids[0])  # in use: kept however old
    ids += [store.add_dataset(ws, np.arange(5.0) + i, f"d{i}") for i in range(3, 5)]
    kept = [i for i in ids if _has_dataset(store, ws, i)]
    assert kept == [ids[0], ids[2], ids[3], ids[4]]


def _has_dataset(store: Store, ws: str, ds: int) -> bool:
    try:
        store.dataset(ws, ds)
    except StoreError:
        return False
    return True


def test_history_and_the_runs_table_summary(store):
    ws = store.create_workspace()
    ds = store.add_dataset(ws, np.sin(np.arange(100.0)), "sine", {"points": 100})
    run, removed = store.create_run(ws, SPEC, ds, name="first", sweep="s1")
    assert removed == []
    rows = _rows(6)
    store.append_history(ws, run, rows[:2])
    store.append_history(ws, run, rows[2:])
    assert store.history(ws, run) == rows
    info = store.run(ws, run)
    assert (info.task, info.models, info.status, info.name, info.sweep) == (
        "forecast",
        ["gru", "mlp"],
        "queued",
        "first",
        "s1",
    )
    assert info.epoch == 6 and info.seconds == pytest.approx(0.06)
    # Independently: best = the smallest value seen and its epoch, last = the last value seen.
    for model in ("gru", "mlp"):
        for metric in ("train_loss", "test_rollout_mse"):
            seen = [(r[f"{model}_{metric}"], r["epoch"]) for r in rows]
            seen = [(v, e) for v, e in seen if v is not None]
            best = min(seen)
            assert info.summary[model][metric] == {
                "best": best[0],
                "best_epoch": best[1],
                "last": seen[-1][0],
            }
    assert info.summary["gru"]["test_rollout_mse"]["best_epoch"] == 3  # not the last epoch
    store.append_history(ws, run, [{**rows[5], "gru_train_loss": 9.0}])  # epoch 6 again
    assert len(store.history(ws, run)) == 6
    assert store.history(ws, run)[-1]["gru_train_loss"] == 9.0


def test_non_finite_history_values_are_kept_as_none(store):
    ws = store.create_workspace()
    run, _ = store.create_run(ws, SPEC)
    store.append_history(ws, run, [{"epoch": 1, "gru_train_loss": float("inf"), "lr": 0.1}])
    store.append_history(ws, run, [{"epoch": 2, "gru_train_loss": float("nan"), "lr": 0.1}])
    assert [r["gru_train_loss"] for r in store.history(ws, run)] == [None, None]
    assert "gru" not in store.run(ws, run).summary


def test_a_bundle_imports_as_a_finished_run_and_back(store):
    from gru_core.bundle import read_bundle, write_bundle

    tensors, rows, series = _state(5), _rows(4), np.sin(np.arange(60.0)) + 1e-12
    data = write_bundle(SPEC, rows, tensors, series, "python -m gru_core train", name="b")
    loaded = read_bundle(data)
    ws = store.create_workspace()
    run, removed = store.import_run(
        ws, loaded.spec, loaded.series, loaded.history, loaded.tensors, {"epoch": 4},
        name=loaded.config["name"], dataset_name="run.zip",
    )  # fmt: skip
    info = store.run(ws, run)
    assert (removed, info.status, info.name, info.epoch, info.spec) == (
        [],
        "finished",
        "b",
        4,
        SPEC,
    )
    assert store.history(ws, run) == rows
    assert store.dataset(ws, info.dataset).series.tobytes() == series.tobytes()
    got = store.load_checkpoint(ws, run).tensors
    assert all(torch.equal(got[k], v) for k, v in tensors.items())


def test_a_failed_import_leaves_no_run(store, monkeypatch):
    ws = store.create_workspace()

    def full(*args):
        raise OSError("disk full")

    monkeypatch.setattr(store, "save_checkpoint", full)
    with pytest.raises(OSError, match="disk full"):
        store.import_run(ws, SPEC, np.arange(60.0), _rows(2), _state(0), {})
    assert store.runs(ws) == [] and store.runs(ws, deleted=True) == []


def test_accuracy_is_best_when_highest_and_prefixes_resolve_to_the_longest_model(store):
    ws = store.create_workspace()
    spec = {"task": "classify", "models": ["gru", "gru_d2l"]}
    run, _ = store.create_run(ws, spec)
    store.append_history(
        ws,
        run,
        [
            {"epoch": 1, "gru_accuracy": 0.5, "gru_d2l_accuracy": 0.7},
            {"epoch": 2, "gru_accuracy": 0.9, "gru_d2l_accuracy": 0.6},
        ],
    )
    summary = store.run(ws, run).summary
    assert summary["gru"] == {"accuracy": {"best": 0.9, "best_epoch": 2, "last": 0.9}}
    assert summary["gru_d2l"] == {"accuracy": {"best": 0.7, "best_epoch": 1, "last": 0.6}}


def test_truncating_history_recomputes_the_summary(store):
    ws = store.create_workspace()
    run, _ = store.create_run(ws, SPEC)
    store.append_history(ws, run, _rows(6))
    store.truncate_history(ws, run, 2)
    info = store.run(ws, run)
    assert [r["epoch"] for r in store.history(ws, run)] == [1, 2]
    assert info.epoch == 2
    assert info.summary["gru"]["test_rollout_mse"] == {"best": 1.5, "best_epoch": 2, "last": 1.5}


def test_rename_pin_delete_restore_purge(store):
    ws = store.create_workspace()
    a, _ = store.create_run(ws, SPEC)
    b, _ = store.create_run(ws, SPEC)
    store.rename(ws, a, "  hidden   4  ")
    store.pin(ws, a)
    assert (store.run(ws, a).name, store.run(ws, a).pinned) == ("hidden 4", True)
    store.pin(ws, a, False)
    assert not store.run(ws, a).pinned
    store.save_checkpoint(ws, b, _state(1), {"epoch": 1})
    store.delete(ws, b)
    assert [r.id for r in store.runs(ws)] == [a]
    assert [r.id for r in store.runs(ws, deleted=True)] == [b]
    store.restore(ws, b)
    assert [r.id for r in store.runs(ws)] == [a, b]
    assert store.load_checkpoint(ws, b) is not None
    store.purge(ws, b)
    assert [r.id for r in store.runs(ws)] == [a] and store.runs(ws, deleted=True) == []
    assert not store._checkpoint_path(ws, b).exists()
    with pytest.raises(StoreError, match="not in this workspace"):
        store.history(ws, b)


def test_the_latest_run_is_the_last_live_one(store):
    ws, other = store.create_workspace(), store.create_workspace()
    assert store.latest_run(ws) is None
    ids = [store.create_run(ws, SPEC)[0] for _ in range(4)]
    store.create_run(other, SPEC)  # another workspace's newer run is not this one's
    assert store.latest_run(ws) == store.runs(ws)[-1] and store.latest_run(ws).id == ids[-1]
    store.delete(ws, ids[-1])
    assert store.latest_run(ws).id == ids[-2] == store.runs(ws)[-1].id
    store.restore(ws, ids[-1])
    assert store.latest_run(ws).id == ids[-1]
    swept, _ = store.create_run(ws, SPEC, sweep="s1")  # newer, but a sweep's
    assert store.latest_run(ws).id == swept
    assert store.latest_run(ws, sweeps=False).id == ids[-1]


def test_runs_of_one_workspace_are_out_of_reach_from_another(store):
    ws, other = store.create_workspace(), store.create_workspace()
    run, _ = store.create_run(ws, SPEC)
    store.append_history(ws, run, _rows(2))
    for call in (
        lambda: store.history(other, run),
        lambda: store.run(other, run),
        lambda: store.rename(other, run, "x"),
        lambda: store.delete(other, run),
        lambda: store.purge(other, run),
        lambda: store.append_history(other, run, _rows(1)),
        lambda: store.save_checkpoint(other, run, _state(0), {}),
        lambda: store.load_checkpoint(other, run),
    ):
        with pytest.raises(StoreError, match="not in this workspace"):
            call()
    assert store.runs(other) == []
    assert store.run(ws, run).name == "" and len(store.history(ws, run)) == 2


def test_the_oldest_unpinned_finished_runs_make_room(store, monkeypatch):
    monkeypatch.setattr(store_mod, "MAX_RUNS", 4)
    ws = store.create_workspace()
    runs = [store.create_run(ws, SPEC, name=f"r{i}")[0] for i in range(4)]
    store.pin(ws, runs[0])
    store.update_run(ws, runs[1], status="running")
    for run in runs[2:]:
        store.update_run(ws, run, status="finished")
    store.save_checkpoint(ws, runs[2], _state(2), {"epoch": 3})
    new, removed = store.create_run(ws, SPEC)
    assert removed == [store_mod.Removed(runs[2], "r2")]
    assert [r.id for r in store.runs(ws)] == [runs[0], runs[1], runs[3], new]
    assert not store._checkpoint_path(ws, runs[2]).exists()
    store.pin(ws, runs[3])
    store.pin(ws, new)
    with pytest.raises(StoreError, match="unpin or delete"):
        store.create_run(ws, SPEC)
    assert len(store.runs(ws)) == 4  # the refused run left no trace


def test_checkpoints_round_trip_and_replace_atomically(store, monkeypatch):
    ws = store.create_workspace()
    run, _ = store.create_run(ws, SPEC)
    assert store.load_checkpoint(ws, run) is None
    first, second = _state(1), _state(2)
    store.save_checkpoint(ws, run, first, {"epoch": 4, "elapsed": 1.5})
    store.save_checkpoint(ws, run, second, {"epoch": 8, "elapsed": 3.0})
    got = store.load_checkpoint(ws, run)
    assert got.meta == {"epoch": 8, "elapsed": 3.0}
    assert got.tensors.keys() == second.keys()
    for name, tensor in second.items():
        assert got.tensors[name].dtype == tensor.dtype
        assert torch.equal(got.tensors[name], tensor)
    assert store.run(ws, run).checkpoint_epoch == 8
    folder = store._checkpoint_path(ws, run).parent
    assert [p.name for p in folder.iterdir()] == [f"{run}.safetensors"]  # the latest only

    def crash(*args):
        raise OSError("disk full")

    monkeypatch.setattr(store_mod.os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        store.save_checkpoint(ws, run, first, {"epoch": 12})
    assert store.load_checkpoint(ws, run).meta["epoch"] == 8  # the old one, whole
    assert store.run(ws, run).checkpoint_epoch == 8
    assert [p.name for p in folder.iterdir()] == [f"{run}.safetensors"]  # no temp left


def test_a_recorder_batches_rows_and_saves_history_before_state(store, monkeypatch):
    ws = store.create_workspace()
    run, _ = store.create_run(ws, SPEC, status="running")
    rows = _rows(5)
    lazy = store_mod.Recorder(store, ws, run, every=3600)
    asked = []

    def state():
        asked.append(len(store.history(ws, run)))  # what the history held when state was taken
        return _state(len(asked)), {"epoch": len(store.history(ws, run))}

    assert not any(lazy.add(row, state) for row in rows[:3])
    assert store.history(ws, run) == [] and asked == []  # nothing due, nothing exported
    lazy.flush(state)
    assert store.history(ws, run) == rows[:3] and asked == [3]
    assert store.load_checkpoint(ws, run).meta == {"epoch": 3}
    eager = store_mod.Recorder(store, ws, run, every=0.0)
    assert all(eager.add(row, state) for row in rows[3:])
    assert store.history(ws, run) == rows and asked == [3, 4, 5]
    assert store.run(ws, run).checkpoint_epoch == 5


def test_deleted_runs_are_purged_once_their_undo_time_is_over(store, monkeypatch):
    ws = store.create_workspace()
    old, _ = store.create_run(ws, SPEC)
    recent, _ = store.create_run(ws, SPEC)
    store.save_checkpoint(ws, old, _state(0), {})
    store.delete(ws, old)
    store.delete(ws, recent)
    store._db().execute(
        "UPDATE runs SET deleted = deleted - ? WHERE id = ?", (store_mod.UNDO_SECONDS + 1, old)
    )
    store.create_run(ws, SPEC)
    assert [r.id for r in store.runs(ws, deleted=True)] == [recent]
    assert not store._checkpoint_path(ws, old).exists()


def test_a_backup_taken_in_use_opens_as_the_same_store(store, tmp_path):
    ws = store.create_workspace()
    store.save_settings(ws, {"train": {"lr": 0.01}})
    run, _ = store.create_run(ws, SPEC, store.add_dataset(ws, np.arange(60.0), "ramp"))
    store.append_history(ws, run, _rows(3))
    store.save_checkpoint(ws, run, _state(3), {"epoch": 3})
    store.runs(ws)  # a reader holds the database open, as a server would
    copy = Store(store.backup(tmp_path / "backup"))
    assert copy._db().execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert copy.settings(ws) == {"train": {"lr": 0.01}}
    assert copy.runs(ws) == store.runs(ws)
    assert copy.history(ws, run) == _rows(3)
    assert torch.equal(copy.load_checkpoint(ws, run).tensors["state/gru"], _state(3)["state/gru"])
    store.append_history(ws, run, _rows(1, 4))
    assert len(copy.history(ws, run)) == 3  # a copy, not a view
    with pytest.raises(StoreError, match="not empty"):
        store.backup(tmp_path / "backup")


def test_a_store_from_a_newer_version_is_refused(store):
    assert store._db().execute("PRAGMA user_version").fetchone() == (store_mod.SCHEMA_VERSION,)
    Store(store.root)  # control: the same version opens
    store._db().execute(f"PRAGMA user_version = {store_mod.SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="written by a newer GRU Lab"):
        Store(store.root)


def test_the_data_directory_is_private(tmp_path):
    Store(tmp_path / "private")
    assert (tmp_path / "private").stat().st_mode & 0o077 == 0


def _owned_by_a_child(root: Path, ws: str, queue) -> None:
    """A server that starts a run and trains until it is killed."""
    s = Store(root)
    run, _ = s.create_run(ws, SPEC, status="running")
    s.append_history(ws, run, _rows(1))
    queue.put(run)
    time.sleep(120)


def test_runs_of_a_dead_owner_are_interrupted_and_live_ones_are_not(store):
    ws = store.create_workspace()
    mine, _ = store.create_run(ws, SPEC, status="running")
    done, _ = store.create_run(ws, SPEC, status="finished")
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_owned_by_a_child, args=(store.root, ws, queue))
    child.start()
    orphan = queue.get(timeout=60)
    assert store.recover_interrupted(ws) == []  # its owner is alive
    os.kill(child.pid, signal.SIGKILL)  # the server dies mid-run
    child.join(60)
    assert store.run(ws, orphan).owner.split(":")[1] == str(child.pid)
    stale, _ = store.create_run(ws, SPEC, status="queued")
    recycled, _ = store.create_run(ws, SPEC, status="running")
    db = store._db()
    db.execute("UPDATE runs SET heartbeat = heartbeat - 1000 WHERE id = ?", (stale,))
    host, pid, _ = store_mod.owner_token().split(":")
    db.execute("UPDATE runs SET owner = ? WHERE id = ?", (f"{host}:{pid}:0ld0", recycled))
    assert sorted(store.recover_interrupted(ws)) == sorted([orphan, stale, recycled])
    assert store.run(ws, orphan).status == "interrupted"
    assert "server stopped" in store.run(ws, orphan).message
    assert store.run(ws, mine).status == "running"
    assert store.run(ws, done).status == "finished"
    assert store.recover_interrupted() == []  # nothing left to recover
    store.update_run(ws, orphan, status="running", claim=True)  # resumed here
    assert store.run(ws, orphan).owner == store_mod.owner_token()
    assert store.recover_interrupted() == []


# -- many processes and threads on one file -------------------------------------------------
PROCESSES, THREADS, RUNS_EACH, EPOCHS, BATCH = 4, 2, 5, 40, 2


def _hammer(inherited: Store, ws: str, worker: int) -> None:
    """One process: THREADS threads, each training RUNS_EACH runs in small history batches.

    Odd workers open their own Store; even ones use the one inherited through fork.
    """
    s = Store(inherited.root) if worker % 2 else inherited
    errors: list[BaseException] = []

    def thread(t: int) -> None:
        try:
            for k in range(RUNS_EACH):
                tag = f"p{worker}t{t}r{k}"
                run, _ = s.create_run(ws, SPEC, name=tag, status="running")
                for start in range(1, EPOCHS + 1, BATCH):
                    s.append_history(ws, run, _rows(BATCH, start))
                    s.save_checkpoint(ws, run, _state(run), {"epoch": start + BATCH - 1})
                    s.save_settings(ws, {"last": tag})
                s.update_run(ws, run, status="finished")
                s.rename(ws, run, tag + "-done")
        except BaseException as exc:  # noqa: BLE001 - re-raised in the process below
            errors.append(exc)

    threads = [threading.Thread(target=thread, args=(t,)) for t in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


@pytest.mark.slow
def test_processes_and_threads_write_at_once_without_corruption(store):
    ws = store.create_workspace()
    store.settings(ws)  # the parent holds an open connection across the forks
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_hammer, args=(store, ws, w)) for w in range(PROCESSES)]
    for p in procs:
        p.start()
    seen = []  # readers keep reading while the writers write
    while any(p.is_alive() for p in procs):
        runs = store.runs(ws)
        seen.append(len(runs))
        if runs:  # a reader sees whole batches: epochs 1..n, never a gap or a torn row
            rows = store.history(ws, runs[-1].id)
            assert rows == _rows(len(rows)) and len(rows) % BATCH == 0
    for p in procs:
        p.join(300)
    assert seen == sorted(seen) and len(seen) > 1
    assert [p.exitcode for p in procs] == [0] * PROCESSES
    db = store._db()
    assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    runs = store.runs(ws)
    assert len(runs) == PROCESSES * THREADS * RUNS_EACH
    assert sorted(r.name for r in runs) == sorted(
        f"p{w}t{t}r{k}-done"
        for w in range(PROCESSES)
        for t in range(THREADS)
        for k in range(RUNS_EACH)
    )
    expected = _rows(EPOCHS)
    for r in runs:
        assert r.status == "finished" and r.epoch == EPOCHS
        assert store.history(ws, r.id) == expected
        got = store.load_checkpoint(ws, r.id)
        assert got.meta == {"epoch": EPOCHS}
        assert all(torch.equal(got.tensors[k], v) for k, v in _state(r.id).items())
    (rows,) = db.execute("SELECT count(*) FROM history").fetchone()
    assert rows == len(runs) * EPOCHS
    assert store.settings(ws)["last"].startswith("p")
    leftovers = [p for p in (store.root / "checkpoints" / ws).iterdir() if p.suffix == ".tmp"]
    assert leftovers == [] and os.path.exists(store.path)
