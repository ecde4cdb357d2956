import contextlib
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from waiting import wait_for

from gru_core import job as job_mod
from gru_core.config import ConfigError, DataConfig, ModelConfig, TrainConfig
from gru_core.data import make_sine
from gru_core.job import TrainingJob
from gru_core.spec import spec_for
from gru_core.tasks import metric_names
from gru_core.train import Diverged, Trainer, train

SMALL = ModelConfig(hidden_size=6, mlp_hidden=(8,))


@pytest.fixture(scope="module")
def series():
    return make_sine(DataConfig(points=300, periods=3))


def _cfg(**kw) -> TrainConfig:
    base = {"epochs": 3, "lr": 1e-2, "seq_len": 10, "batch_size": 2}
    return TrainConfig(**{**base, **kw})


def test_stateful_streams_are_contiguous_and_cover_the_training_part(series):
    trainer = Trainer(spec_for(series, 0.8, SMALL, _cfg(batch_size=4, seq_len=10)))
    batches = trainer.task._stateful
    x = torch.cat([b.x for b in batches], dim=1)[..., 0]  # (streams, length)
    y = torch.cat([b.y for b in batches], dim=1)[..., 0]
    assert x.shape == (4, (240 - 1) // 4)
    assert torch.equal(x[:, 1:], y[:, :-1])  # targets are the inputs one step on
    assert torch.equal(x[1:, 0], y[:-1, -1])  # each stream starts where the previous ends
    assert all(b.x.shape[1] <= 10 for b in batches)


def test_tutorial_chunking(series):
    trainer = Trainer(
        spec_for(series, 0.8, SMALL, _cfg(chunking="tutorial", batch_size=1, seq_len=20))
    )
    batches = trainer.task._stateful
    assert len(batches) == 240 // 21
    assert all(b.x.shape == (1, 20, 1) for b in batches)
    first = torch.tensor(series[:21], dtype=torch.float32)
    assert torch.equal(batches[0].x[0, :, 0], first[:-1])
    assert torch.equal(batches[0].y[0, :, 0], first[1:])


def test_windowed_mode_shuffles_windows(series):
    trainer = Trainer(
        spec_for(series, 0.8, SMALL, _cfg(mode="windowed", batch_size=16, seq_len=12))
    )
    batches = trainer.task._windowed_batches()
    assert sum(b.x.shape[0] for b in batches) == 240 - 12
    assert batches[0].x.shape == (16, 12, 1)
    assert torch.equal(batches[0].x[:, 1:], batches[0].y[:, :-1])
    assert not torch.equal(batches[0].x, trainer.task._windowed_batches()[0].x)  # reshuffled


@pytest.mark.parametrize("mode", ["stateful", "windowed"])
def test_history_rows_have_every_metric(series, mode):
    trainer = Trainer(spec_for(series, 0.8, SMALL, _cfg(mode=mode, epochs=2)))
    train(trainer)
    assert [r["epoch"] for r in trainer.history] == [1, 2]
    assert trainer.names == ("gru", "mlp")
    for key in (f"{m}_{k}" for m in trainer.names for k in metric_names(trainer.task)):
        assert np.isfinite(trainer.history[-1][key]), key
    assert trainer.history[-1]["seconds"] > 0


def test_eval_every_skips_test_metrics_but_always_evaluates_the_last_epoch(series):
    trainer = Trainer(spec_for(series, 0.8, SMALL, _cfg(epochs=5, eval_every=2)))
    train(trainer)
    rollouts = [r["gru_test_rollout_mse"] for r in trainer.history]
    assert [v is None for v in rollouts] == [True, False, True, False, False]


def test_same_seed_same_history(series):
    def run(seed):
        trainer = Trainer(
            spec_for(series, 0.8, SMALL, _cfg(seed=seed, mode="windowed", batch_size=8))
        )
        train(trainer)
        return [
            {k: v for k, v in r.items() if k not in ("seconds", "elapsed")} for r in trainer.history
        ]

    assert run(3) == run(3)
    assert run(3) != run(4)


def test_training_lowers_the_loss(series):
    trainer = Trainer(spec_for(series, 0.8, SMALL, _cfg(epochs=30, lr=1e-2, batch_size=4)))
    train(trainer)
    assert trainer.history[-1]["gru_train_loss"] < 0.5 * trainer.history[0]["gru_train_loss"]


def test_target_mse_stops_early(series):
    trainer = Trainer(spec_for(series, 0.8, SMALL, _cfg(epochs=50)))
    result = train(trainer, target=10.0)  # any sane model is within 10 at once
    assert result.outcome == "reached_target" and trainer.epoch == 1


def test_incompatible_settings_are_refused(series):
    with pytest.raises(ConfigError, match="seq_len"):
        Trainer(spec_for(series, 0.8, SMALL, _cfg(seq_len=500)))
    with pytest.raises(ConfigError, match="streams"):
        Trainer(spec_for(series, 0.8, SMALL, _cfg(batch_size=100, seq_len=10)))


def test_standardize_trains_in_series_units():
    big = make_sine(DataConfig(points=300, periods=3)) * 50 + 1000
    trainer = Trainer(spec_for(big, 0.8, SMALL, _cfg(standardize=True, epochs=20, batch_size=4)))
    train(trainer)
    assert trainer.models["gru"].mean.item() == pytest.approx(big[:240].mean(), rel=1e-5)
    # Errors are reported in the series' own units: far above a unit-scale MSE at first.
    assert trainer.history[0]["gru_train_loss"] > 1.0


def test_standardised_runs_report_test_errors_in_the_series_units():
    # Recomputed by hand: a fresh state reads the whole series (warm-up covers the training
    # part), the one-step forecasts of the test part against the raw values, no rescaling.
    big = make_sine(DataConfig(points=300, periods=3)) * 50 + 1000
    cfg = _cfg(standardize=True, epochs=2, eval_warmup=1000)
    trainer = Trainer(spec_for(big, 0.8, SMALL, cfg))
    train(trainer)
    model = trainer.models["gru"]
    assert model.std.item() == pytest.approx(big[:240].std(), rel=1e-5) and model.std.item() > 10
    with torch.no_grad():
        x = torch.as_tensor(big[:-1].astype(np.float32))[None, :, None]
        pred = model(x)[0][0, 240:, 0].double().numpy()  # forecasts of big[241:]
    expected = float(np.mean((pred - big[241:]) ** 2))
    got = trainer.history[-1]["gru_test_one_step_mse"]
    assert got == pytest.approx(expected, rel=1e-4)
    assert got != pytest.approx(expected / model.std.item() ** 2, rel=1e-2)  # not in std units


def test_divergence_keeps_last_finite_weights(series, monkeypatch):
    trainer = Trainer(spec_for(series, 0.8, SMALL, _cfg(epochs=10)))
    train(trainer, epochs=2)
    good = {k: v.clone() for k, v in trainer.models["gru"].state_dict().items()}
    good_state = trainer._state["gru"].clone()
    original = torch.nn.functional.mse_loss
    monkeypatch.setattr(torch.nn.functional, "mse_loss", lambda a, b: original(a, b) * float("nan"))
    with pytest.raises(Diverged, match="NaN.*epoch 3.*learning rate"):
        trainer.run_epoch()
    assert trainer.epoch == 2 and len(trainer.history) == 2
    for k, v in trainer.models["gru"].state_dict().items():
        assert torch.equal(v, good[k]), k
    assert torch.equal(trainer._state["gru"], good_state)  # the carried state too


# -- TrainingJob ---------------------------------------------------------------------------


def _wait(predicate, timeout=20.0):
    return wait_for(predicate, timeout)


def test_job_runs_to_the_end_and_snapshots_are_consistent(series):
    job = TrainingJob(spec_for(series, 0.8, SMALL, _cfg(epochs=4)))
    assert job.status == "new"
    assert job.start()
    assert job.join(30)
    snap = job.snapshot()
    assert snap.status == "finished" and snap.epoch == 4 and len(snap.history) == 4
    assert snap.parameters["gru"] > 0
    # The snapshot's model is a copy: it forecasts, and changing it leaves the job alone.
    with torch.no_grad():
        snap.model("gru").linear.bias.add_(1.0)
    assert not torch.equal(job.snapshot().model("gru").linear.bias, snap.model("gru").linear.bias)


def test_stop_and_resume_continue_the_same_models(series):
    epochs_seen = []
    gate = threading.Event()

    def on_epoch(row):
        epochs_seen.append(row["epoch"])
        if row["epoch"] == 3:
            gate.wait(10)

    job = TrainingJob(spec_for(series, 0.8, SMALL, _cfg(epochs=8)), on_epoch=on_epoch)
    job.start()
    assert _wait(lambda: len(epochs_seen) == 3)
    job.stop()
    gate.set()
    assert job.join(10)
    assert job.status == "stopped" and job.snapshot().epoch == 3
    optimizer = job._trainer.optimizers["gru"]
    assert job.resume()
    assert job.join(30)
    assert job.status == "finished"
    assert epochs_seen == [1, 2, 3, 4, 5, 6, 7, 8]
    assert job._trainer.optimizers["gru"] is optimizer
    assert optimizer.state[next(job._trainer.models["gru"].parameters())]["step"].item() > 0


def test_repeated_start_runs_one_thread(series):
    job = TrainingJob(spec_for(series, 0.8, SMALL, _cfg(epochs=30)))
    before = threading.active_count()
    results = [job.start() for _ in range(5)]
    assert results == [True, False, False, False, False]
    assert threading.active_count() <= before + 1
    job.stop()
    assert job.join(10)
    assert job.resume()  # stopped with epochs left: resumable, still one thread
    assert not job.resume()
    job.stop()
    assert job.join(30)


def test_crossed_clicks_never_leave_a_job_running(series):
    job = TrainingJob(spec_for(series, 0.8, SMALL, _cfg(epochs=200)))
    for _ in range(10):
        job.start()
        job.resume()
        job.stop()
        job.resume()
        job.stop()
    job.release(10)
    assert not job.alive
    assert job.status in ("stopped", "finished")


def test_divergence_ends_job_with_message(series, monkeypatch):
    job = TrainingJob(spec_for(series, 0.8, SMALL, _cfg(epochs=5)))
    monkeypatch.setattr(
        torch.nn.functional, "mse_loss", lambda a, b: (a - b).pow(2).mean() * float("inf")
    )
    job.start()
    assert job.join(30)
    snap = job.snapshot()
    assert snap.status == "diverged"
    assert "learning rate" in snap.message
    # The last finite model stays inspectable.
    assert all(torch.isfinite(p).all() for p in snap.model("gru").parameters())


def test_failed_job_reports_the_error(series, monkeypatch):
    job = TrainingJob(spec_for(series, 0.8, SMALL, _cfg(epochs=5)))

    def boom(self):
        raise RuntimeError("out of cheese")

    monkeypatch.setattr(Trainer, "run_epoch", boom)
    job.start()
    assert job.join(10)
    assert job.status == "failed" and "out of cheese" in job.snapshot().message


def test_concurrency_cap_queues_jobs(series, monkeypatch):
    monkeypatch.setattr(job_mod, "_slots", threading.BoundedSemaphore(1))
    release = threading.Event()
    first = TrainingJob(
        spec_for(series, 0.8, SMALL, _cfg(epochs=50)), on_epoch=lambda r: release.wait(10)
    )
    second = TrainingJob(spec_for(series, 0.8, SMALL, _cfg(epochs=2)))
    first.start()
    assert _wait(lambda: first.status == "running")
    second.start()
    time.sleep(0.3)
    assert second.status == "queued"
    first.stop()
    release.set()
    assert first.join(10)
    assert second.join(30)
    assert second.status == "finished"


def test_a_job_with_a_free_slot_is_never_queued(series, monkeypatch):
    # Every status the job passes through is recorded: with a slot free it goes straight to
    # running (no "queued" flash while its thread starts); with none free, it does queue.
    monkeypatch.setattr(job_mod, "_slots", threading.BoundedSemaphore(1))
    seen: list[str] = []
    monkeypatch.setattr(
        job_mod, "set_status", lambda record, status, message="": seen.append(status)
    )
    job = TrainingJob(spec_for(series, 0.8, SMALL, _cfg(epochs=2)))
    job.start()
    assert job.status == "running"  # at once, before its thread has run
    assert job.join(30) and job.status == "finished"
    assert seen == ["running", "finished"]
    seen.clear()
    job_mod._slots.acquire()  # control: no slot free
    try:
        waiting = TrainingJob(spec_for(series, 0.8, SMALL, _cfg(epochs=2)))
        waiting.start()
        assert waiting.status == "queued"
    finally:
        job_mod._slots.release()
    assert waiting.join(30) and waiting.status == "finished"
    assert seen == ["queued", "running", "finished"]


def test_stopping_a_queued_job(series, monkeypatch):
    monkeypatch.setattr(job_mod, "_slots", threading.BoundedSemaphore(1))
    job_mod._slots.acquire()
    try:
        job = TrainingJob(spec_for(series, 0.8, SMALL, _cfg(epochs=2)))
        job.start()
        time.sleep(0.1)
        assert job.status == "queued"
        job.stop()
        assert job.join(5)
        assert job.status == "stopped"
    finally:
        job_mod._slots.release()


def _named_threads(name: str) -> int:
    count = 0
    for task in Path("/proc/self/task").iterdir():
        with contextlib.suppress(OSError):
            count += (task / "comm").read_text().strip() == name
    return count


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_worker_trains_on_one_os_thread_when_torch_is_limited_to_one(series):
    # The app limits torch to one thread; jobs are created from script threads whose own
    # setting may differ. The worker must not grow an extra intra-op thread.
    counts = []
    before = torch.get_num_threads()
    torch.set_num_threads(2)  # what this thread would use
    job_mod.set_worker_threads(1)
    try:
        job = TrainingJob(
            spec_for(
                series,
                0.8,
                ModelConfig(hidden_size=64, mlp_hidden=(64,)),
                _cfg(epochs=3, mode="windowed", batch_size=64),
            ),
            on_epoch=lambda r: counts.append(_named_threads(job_mod.THREAD_NAME)),
        )
        creator = threading.Thread(target=job.start)
        creator.start()
        creator.join(10)
        assert job.join(60)
    finally:
        torch.set_num_threads(before)
        job_mod.set_worker_threads(None)
    assert counts == [1, 1, 1]
