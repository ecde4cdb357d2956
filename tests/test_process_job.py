"""ProcessJob: the same job, its epochs in a child process."""

import gc
import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from waiting import wait_for

from gru_core import process_job
from gru_core import train as train_mod
from gru_core.config import DataConfig, ModelConfig, TrainConfig
from gru_core.data import make_sine
from gru_core.process_job import PROCESS_NAME, ProcessJob
from gru_core.train import Diverged, Trainer, TrainingJob

SMALL = ModelConfig(hidden_size=6, mlp_hidden=(8,))
LINUX = Path("/proc/self").exists()


@pytest.fixture(scope="module")
def series():
    return make_sine(DataConfig(points=300, periods=3))


def _cfg(**kw) -> TrainConfig:
    base = {"epochs": 6, "lr": 1e-2, "seq_len": 10, "batch_size": 2, "step_kernel": "numpy"}
    return TrainConfig(**{**base, **kw})


def _wait(predicate, timeout=30.0):
    return wait_for(predicate, timeout)


def _gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"  # reaped or a zombie
    except OSError:
        return True


def _same_run(a, b) -> None:
    strip = ("seconds", "elapsed")  # timings differ, nothing else may
    rows_a = [{k: v for k, v in r.items() if k not in strip} for r in a.history]
    rows_b = [{k: v for k, v in r.items() if k not in strip} for r in b.history]
    assert rows_a == rows_b
    for name in ("gru", "mlp"):
        for key, value in a.weights[name].items():
            assert torch.equal(value, b.weights[name][key]), (name, key)
    assert a.carried_end == b.carried_end


def test_a_process_job_trains_exactly_what_a_thread_job_trains(series):
    cfg = _cfg(epochs=5)
    here, there = TrainingJob(series, 0.8, SMALL, cfg), ProcessJob(series, 0.8, SMALL, cfg)
    for job in (here, there):
        assert job.start()
        assert job.join(60)
    a, b = here.snapshot(), there.snapshot()
    assert a.status == b.status == "finished" and b.epoch == 5 and len(b.history) == 5
    _same_run(a, b)
    assert b.parameters == a.parameters and b.device == "cpu"


def test_a_fresh_interpreter_child_trains_the_same(series, monkeypatch):
    # GPU runs and systems without a fork server start the child with spawn: a new
    # interpreter that imports gru_core itself and must not run the parent's __main__.
    monkeypatch.setattr(process_job, "_FORK", process_job._FRESH)
    cfg = _cfg(epochs=3)
    here, there = TrainingJob(series, 0.8, SMALL, cfg), ProcessJob(series, 0.8, SMALL, cfg)
    for job in (here, there):
        assert job.start()
        assert job.join(120)
    assert there.status == "finished", there.snapshot().message
    _same_run(here.snapshot(), there.snapshot())


def test_before_it_starts_a_process_job_shows_the_untrained_models(series):
    job = ProcessJob(series, 0.8, SMALL, _cfg())
    snap = job.snapshot()
    assert snap.status == "new" and snap.epoch == 0 and snap.history == []
    fresh = Trainer(series, 0.8, SMALL, _cfg()).export()["weights"]["gru"]
    assert all(torch.equal(v, fresh[k]) for k, v in snap.weights["gru"].items())
    assert job.pid is None  # no process until it trains


@pytest.mark.skipif(not LINUX, reason="reads /proc")
def test_epochs_run_in_a_named_child_that_leaves_when_the_run_ends(series):
    job = ProcessJob(series, 0.8, SMALL, _cfg(epochs=2000), publish_every=0.0)
    job.start()
    assert _wait(lambda: job.snapshot().epoch >= 2)
    pid = job.pid
    assert pid is not None and pid != os.getpid()
    assert Path(f"/proc/{pid}/comm").read_text().strip() == PROCESS_NAME
    job.stop()
    assert job.join(30)
    assert job.status == "stopped" and job.pid == pid  # kept: Resume continues there
    assert job.resume()
    assert job.join(120)
    assert job.status == "finished" and job.pid is None
    assert _wait(lambda: _gone(pid))


def test_stop_and_resume_continue_the_same_models_in_the_child(series):
    cfg = _cfg(epochs=1000)
    straight = ProcessJob(series, 0.8, SMALL, cfg)
    straight.start()
    job = ProcessJob(series, 0.8, SMALL, cfg, publish_every=0.0)
    job.start()
    assert _wait(lambda: job.snapshot().epoch >= 3)
    job.stop()
    assert job.join(30)
    stopped = job.snapshot()
    assert stopped.status == "stopped" and 3 <= stopped.epoch < 1000
    assert [r["epoch"] for r in stopped.history] == list(range(1, stopped.epoch + 1))
    assert job.resume()
    assert job.join(120) and straight.join(120)
    # Optimizer state, carried states and the schedule went on where they stopped:
    # the interrupted run ends exactly where the uninterrupted one does.
    _same_run(job.snapshot(), straight.snapshot())


def test_on_epoch_sees_every_row_once_in_order(series):
    rows = []
    job = ProcessJob(series, 0.8, SMALL, _cfg(epochs=12), on_epoch=rows.append)
    job.start()
    assert job.join(60)
    assert [r["epoch"] for r in rows] == list(range(1, 13))
    assert rows == job.snapshot().history


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_child_that_dies_fails_the_job_with_a_reason(series):
    job = ProcessJob(series, 0.8, SMALL, _cfg(epochs=10_000))
    job.start()
    assert _wait(lambda: job.pid is not None and job.snapshot().epoch >= 1)
    os.kill(job.pid, signal.SIGKILL)
    assert job.join(30)
    snap = job.snapshot()
    assert snap.status == "failed"
    assert "training process ended unexpectedly" in snap.message and "-9" in snap.message
    assert snap.epoch >= 1  # what it had sent is kept


def test_release_ends_the_child_and_a_released_job_cannot_resume(series):
    job = ProcessJob(series, 0.8, SMALL, _cfg(epochs=10_000), publish_every=0.0)
    job.start()
    assert _wait(lambda: job.snapshot().epoch >= 1)
    process = job._process
    job.release()
    assert job.status == "stopped" and not process.is_alive()
    epoch = job.snapshot().epoch
    assert not job.resume()  # its models went with the child: nothing to continue
    assert job.status == "stopped" and job.snapshot().epoch == epoch


def test_a_dropped_jobs_child_exits(series):
    jobs = [ProcessJob(series, 0.8, SMALL, _cfg(epochs=10_000), publish_every=0.0)]
    jobs[0].start()
    assert _wait(lambda: jobs[0].snapshot().epoch >= 1)
    jobs[0].stop()  # what replacing a session's job does; the job is then dropped
    assert jobs[0].join(30) and jobs[0].status == "stopped"
    process = jobs[0]._process
    assert process.is_alive()  # kept for a Resume
    jobs.clear()
    gc.collect()
    process.join(30)
    assert process.exitcode == 0


def test_an_error_in_on_epoch_fails_the_job_and_ends_its_child(series):
    def breaks(row):
        raise ValueError("no more rows")

    job = ProcessJob(series, 0.8, SMALL, _cfg(epochs=10_000), on_epoch=breaks)
    job.start()
    assert _wait(lambda: job._process is not None)
    process = job._process
    assert job.join(30)
    assert job.status == "failed" and "no more rows" in job.snapshot().message
    process.join(30)
    assert process.exitcode is not None  # not left training on, unwatched


def test_the_process_wide_cap_queues_process_jobs_too(series, monkeypatch):
    monkeypatch.setattr(train_mod, "_slots", threading.BoundedSemaphore(1))
    first = ProcessJob(series, 0.8, SMALL, _cfg(epochs=10_000))
    second = ProcessJob(series, 0.8, SMALL, _cfg(epochs=2))
    first.start()
    assert _wait(lambda: first.status == "running")
    second.start()
    time.sleep(0.3)
    assert second.status == "queued" and second.pid is None
    assert train_mod.running_jobs() == 1
    first.release()
    assert second.join(60)
    assert second.status == "finished"


# -- the child's side, run here so that the training can be made to fail --------------------


def _serve_here(series, cfg, monkeypatch, run_epoch):
    """Run the child's main loop in a thread of this process; the messages it sends."""
    monkeypatch.setattr(Trainer, "run_epoch", run_epoch)
    parent, child = process_job._FORK.Pipe()
    stop = threading.Event()
    args = (child, stop, series, 0.8, SMALL, cfg, "cpu", 0.0)
    thread = threading.Thread(target=process_job._serve, args=args, daemon=True)
    thread.start()
    parent.send("run")
    messages = []
    while not messages or messages[-1][0] != "end":
        assert parent.poll(30)
        messages.append(parent.recv())
    parent.close()  # the child ends when its pipe closes
    thread.join(10)
    assert not thread.is_alive()
    return messages


def test_the_child_reports_divergence_with_the_weights_it_kept(series, monkeypatch):
    original = Trainer.run_epoch

    def diverges_in_epoch_3(self):
        if self.epoch == 2:
            raise Diverged("the GRU training loss became NaN in epoch 3")
        return original(self)

    messages = _serve_here(series, _cfg(), monkeypatch, diverges_in_epoch_3)
    kind, outcome, message, export = messages[-1]
    assert (kind, outcome) == ("end", "diverged") and "NaN in epoch 3" in message
    assert export["epoch"] == 2
    rows = [r["epoch"] for m in messages for r in (m[1] if m[0] == "publish" else m[3])["rows"]]
    assert rows == [1, 2]  # every row sent once


def test_the_child_reports_an_error_as_a_failure(series, monkeypatch, capsys):
    def breaks(self):
        raise ValueError("out of cheese")

    *_, (kind, outcome, message, export) = _serve_here(series, _cfg(), monkeypatch, breaks)
    assert (kind, outcome) == ("end", "failed")
    assert message == "ValueError: out of cheese" and export["epoch"] == 0
    assert "out of cheese" in capsys.readouterr().err  # the traceback goes to the log


def test_the_parent_turns_a_child_failure_into_the_jobs_status(series, monkeypatch):
    job = ProcessJob(series, 0.8, SMALL, _cfg())
    # What the child builds its trainer from, broken after the parent's checks passed.
    monkeypatch.setattr(job, "_settings", (np.zeros((300, 2)), 0.8, SMALL, _cfg(), "cpu"))
    job.start()
    assert job.join(60)
    snap = job.snapshot()
    assert snap.status == "failed" and snap.epoch == 0
    assert snap.message.startswith("ConfigError: the series must be one-dimensional")
    assert job.pid is None
