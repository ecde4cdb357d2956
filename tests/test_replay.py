"""Replay: which epochs keep their weights, that a kept frame is exactly the run at that epoch,
that frames cross the process boundary and the store, and that slow motion changes no number."""

import time

import numpy as np
import pytest
import torch

from gru_core import replay, workspace
from gru_core.config import ConfigError, DataConfig, ModelConfig, TrainConfig
from gru_core.data import make_sine
from gru_core.job import TrainingJob
from gru_core.process_job import ProcessJob
from gru_core.spec import Dataset, RunSpec
from gru_core.store import Store
from gru_core.train import Trainer, train

SMALL = ModelConfig(hidden_size=6, mlp_hidden=(8,))
STRIP = ("seconds", "elapsed")  # timings differ between runs, nothing else may


def _spec(epochs: int = 6, **kw) -> RunSpec:
    cfg = DataConfig(points=300, periods=3)
    data = Dataset(make_sine(cfg), 0.8, "sine", sine=cfg)
    base = {"epochs": epochs, "lr": 1e-2, "seq_len": 10, "batch_size": 2}
    return RunSpec.of(data, SMALL, TrainConfig(**{**base, **kw}))


def _rows(history):
    return [{k: v for k, v in r.items() if k not in STRIP} for r in history]


def _same_weights(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(
        a[m].keys() == b[m].keys() and all(torch.equal(a[m][k], b[m][k]) for k in a[m]) for m in a
    )


# -- the schedule ---------------------------------------------------------------------------


def test_a_short_run_keeps_every_epoch():
    assert replay.kept_epochs(0) == (0,)
    assert replay.kept_epochs(5) == (0, 1, 2, 3, 4, 5)
    assert replay.kept_epochs(replay.MAX_KEPT - 1) == tuple(range(replay.MAX_KEPT))


def test_a_long_run_keeps_the_first_epochs_then_log_spaced_ones_up_to_the_cap():
    kept = replay.kept_epochs(10_000)
    assert len(kept) <= replay.MAX_KEPT
    assert kept[: replay.DENSE + 1] == tuple(range(replay.DENSE + 1))
    assert kept[-1] == 10_000 and list(kept) == sorted(set(kept))
    tail = np.array(kept[replay.DENSE :], dtype=float)
    ratios = tail[1:] / tail[:-1]  # log-spaced: about the same ratio all along
    expected = (10_000 / replay.DENSE) ** (1 / (len(tail) - 1))
    np.testing.assert_allclose(ratios, expected, rtol=0.05)


def test_a_worked_schedule():
    # cap 5: dense part 0..2, then geomspace(2, 10, 3)[1:] = 4.47, 10 -> 4, 10
    assert replay.kept_epochs(10, most=5) == (0, 1, 2, 4, 10)


def test_big_models_keep_fewer_frames_within_the_byte_budget():
    hidden_512 = 3 * (512 * 1 + 512 * 512 + 2 * 512) * 4 + 513 * 4  # nn.GRU(1, 512) + head
    kept = replay.kept_epochs(2000, hidden_512)
    assert len(kept) * hidden_512 <= replay.MAX_BYTES
    assert len(kept) == replay.MAX_BYTES // hidden_512
    assert replay.bound(hidden_512) == len(kept) * hidden_512
    assert kept[0] == 0 and kept[-1] == 2000
    # Whatever the size, the first and the last epoch stay.
    assert replay.kept_epochs(2000, replay.MAX_BYTES * 10) == (0, 2000)


def test_frame_at_gives_the_nearest_kept_epoch_at_or_before():
    frames = {0: "a", 4: "b", 10: "c"}
    assert replay.frame_at(frames, 0) == (0, "a")
    assert replay.frame_at(frames, 3) == (0, "a")
    assert replay.frame_at(frames, 4) == (4, "b")
    assert replay.frame_at(frames, 9) == (4, "b")
    assert replay.frame_at(frames, 99) == (10, "c")
    with pytest.raises(KeyError):
        replay.frame_at({}, 1)


# -- frames are the run at that epoch -------------------------------------------------------


@pytest.mark.parametrize("kernel", ["torch", "numpy"])
def test_the_frame_at_epoch_k_is_a_run_of_k_epochs(kernel):
    long = Trainer(_spec(6, step_kernel=kernel), keep_frames=True)
    train(long)
    frames = long.take_frames()
    assert sorted(frames) == list(range(7))
    assert long.take_frames() == {}  # taken once
    assert not _same_weights(frames[2]["weights"], frames[3]["weights"])  # the check can fail
    for k in (0, 3):
        short = Trainer(_spec(max(k, 1), step_kernel=kernel))  # k = 0: the untrained models
        train(short, epochs=k)
        assert _same_weights(frames[k]["weights"], short.export()["weights"])
        for name, state in short.export()["states"].items():
            kept = frames[k]["states"][name]
            assert (state is None) == (kept is None)
            if state is not None:
                assert all(torch.equal(a, b) for a, b in zip(state, kept, strict=True))


def test_a_trainer_keeps_no_frames_unless_asked():
    trainer = Trainer(_spec(3))
    train(trainer)
    assert trainer.take_frames() == {}


def test_flatten_and_unflatten_are_inverses():
    trainer = Trainer(_spec(2, mode="stateful"), keep_frames=True)
    train(trainer)
    frame = trainer.take_frames()[2]
    tensors, meta = replay.flatten(frame)
    back = replay.unflatten(tensors, meta)
    assert _same_weights(back["weights"], frame["weights"])
    assert back["states"].keys() == frame["states"].keys()


# -- slow motion ----------------------------------------------------------------------------


def test_slow_motion_is_a_declared_setting_with_a_range():
    assert TrainConfig().slow_motion == 0.0
    with pytest.raises(ConfigError, match="slow_motion"):
        TrainConfig(slow_motion=-1)
    with pytest.raises(ConfigError, match="slow_motion"):
        TrainConfig(slow_motion=1e6)


def test_slow_motion_waits_between_epochs_and_changes_no_number():
    fast = Trainer(_spec(3))
    train(fast)
    pace = 2 * max(r["seconds"] for r in fast.history) + 0.2  # longer than an epoch here
    slow = Trainer(_spec(3, slow_motion=pace))
    began = time.perf_counter()
    train(slow)
    took = time.perf_counter() - began
    # Epochs 2 and 3 each start at least `pace` after the one before (no wait after the last).
    assert took >= 2 * pace + slow.history[-1]["seconds"]
    assert _rows(slow.history) == _rows(fast.history)
    assert _same_weights(slow.export()["weights"], fast.export()["weights"])
    assert slow.elapsed < took - pace  # the waits are not counted as training time


def test_a_stop_ends_the_slow_motion_wait():
    trainer = Trainer(_spec(3, slow_motion=10.0))
    began = time.perf_counter()

    def stop() -> bool:  # asked before each epoch and while waiting
        return trainer.epoch >= 1

    outcome = train(trainer, should_stop=stop).outcome
    assert outcome == "stopped" and trainer.epoch == 1
    assert time.perf_counter() - began < 10.0


# -- jobs, processes, the store -------------------------------------------------------------


@pytest.mark.parametrize("job_type", [TrainingJob, ProcessJob])
def test_a_jobs_snapshot_replays_every_epoch(job_type):
    spec = _spec(4)
    job = job_type(spec)
    job.start()
    assert job.join(60)
    snap = job.snapshot()
    assert snap.status == "finished"
    assert snap.replay_epochs() == [0, 1, 2, 3, 4]
    reference = Trainer(_spec(2))
    train(reference)
    past = snap.at_epoch(2)
    assert past.epoch == 2 and [r["epoch"] for r in past.history] == [1, 2]
    assert _same_weights(past.weights, reference.export()["weights"])
    assert not _same_weights(past.weights, snap.weights)  # the check can fail
    x = torch.linspace(-1, 1, 10).reshape(1, 10, 1)
    with torch.no_grad():  # the models are built from the frame's weights, not the latest
        assert not torch.equal(past.model("gru")(x)[0], snap.model("gru")(x)[0])
    assert snap.at_epoch(4) is snap and snap.at_epoch(99) is snap


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "home")


def test_frames_go_through_the_store_and_come_back(store):
    ws = store.create_workspace()
    record, _ = workspace.record_run(store, ws, _spec(3))
    trainer = Trainer(_spec(3), keep_frames=True)
    train(trainer)
    frames = trainer.take_frames()
    store.save_frames(ws, record.run, {e: replay.flatten(f) for e, f in frames.items()})
    assert store.frame_epochs(ws, record.run) == [0, 1, 2, 3]
    back = replay.unflatten(*store.load_frame(ws, record.run, 2))
    assert _same_weights(back["weights"], frames[2]["weights"])
    assert store.load_frame(ws, record.run, 7) is None
    store.purge(ws, record.run)
    assert not (store.root / "checkpoints" / ws / f"{record.run}.frames").exists()


def _recorded(store, ws, spec, job_type):
    """A job trained to its end on a run recorded in the workspace; the record and the job."""
    record, _ = workspace.record_run(store, ws, spec)
    job = job_type(spec, record=record)
    job.start()
    assert job.join(60)
    return record, job


@pytest.mark.parametrize("job_type", [TrainingJob, ProcessJob])
def test_a_saved_run_reopened_replays_from_the_store(store, job_type):
    ws = store.create_workspace()
    record, job = _recorded(store, ws, _spec(5), job_type)
    live = job.snapshot()
    reopened = workspace.stored_snapshot(store, ws, record.run)  # as after a page reload
    assert reopened.replay_epochs() == live.replay_epochs() == [0, 1, 2, 3, 4, 5]
    for k in (0, 3):
        assert _same_weights(reopened.at_epoch(k).weights, live.at_epoch(k).weights)
    assert _rows(reopened.at_epoch(3).history) == _rows(live.history[:3])


def test_a_resumed_saved_run_keeps_its_earlier_frames(store):
    ws = store.create_workspace()
    spec = _spec(6)
    record, first = _recorded(store, ws, spec, ProcessJob)
    # Cut the run back to epoch 3, as a run stopped there is saved.
    whole = first.snapshot()
    frames = {e: replay.flatten(whole.frames[e]) for e in range(4)}
    store.purge(ws, record.run)
    record, _ = workspace.record_run(store, ws, spec)
    stopped = Trainer(spec, keep_frames=True)
    train(stopped, epochs=3)
    store.append_history(ws, record.run, stopped.history)
    tensors, meta = stopped.resumable_state()
    store.save_checkpoint(ws, record.run, tensors, {**meta, "history": []})
    store.save_frames(ws, record.run, frames)
    store.update_run(ws, record.run, status="stopped")
    resumed = workspace.resume_job(record, ProcessJob)
    assert resumed.snapshot().replay_epochs() == [0, 1, 2, 3]
    assert resumed.resume() and resumed.join(60)
    snap = resumed.snapshot()
    assert snap.status == "finished" and snap.replay_epochs() == list(range(7))
    for k in (2, 5):
        assert _same_weights(snap.at_epoch(k).weights, whole.at_epoch(k).weights)
    assert store.frame_epochs(ws, record.run) == list(range(7))
