"""ProcessJob: the same job, its epochs in a child process."""

import dataclasses
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from waiting import wait_for

from gru_core import job as job_mod
from gru_core import process_job
from gru_core.config import DataConfig, ModelConfig, TrainConfig
from gru_core.data import make_sine
from gru_core.job import TrainingJob
from gru_core.process_job import PROCESS_NAME, ProcessJob
from gru_core.spec import spec_for
from gru_core.train import Diverged, Trainer

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


def test_a_process_job_trains_exactly_what_a_thread_job_trains(series):
    cfg = _cfg(epochs=5)
    here, there = (
        TrainingJob(spec_for(series, 0.8, SMALL, cfg)),
        ProcessJob(spec_for(series, 0.8, SMALL, cfg)),
    )
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
    here, there = (
        TrainingJob(spec_for(series, 0.8, SMALL, cfg)),
        ProcessJob(spec_for(series, 0.8, SMALL, cfg)),
    )
    for job in (here, there):
        assert job.start()
        assert job.join(120)
    assert there.status == "finished", there.snapshot().message
    _same_run(here.snapshot(), there.snapshot())


def test_the_parent_builds_no_trainer_but_counts_the_parameters(series):
    torch.manual_seed(5)
    job = ProcessJob(spec_for(series, 0.8, SMALL, _cfg()))
    after = torch.rand(2)
    torch.manual_seed(5)
    assert torch.equal(after, torch.rand(2))  # no model was built: the generator is untouched
    snap = job.snapshot()
    assert snap.status == "new" and snap.epoch == 0 and snap.history == []
    assert snap.weights is None and job.pid is None  # no process, no weights until it trains
    trainer = Trainer(spec_for(series, 0.8, SMALL, _cfg()))
    assert snap.parameters == {
        name: sum(p.numel() for p in model.parameters()) for name, model in trainer.models.items()
    }


@pytest.mark.skipif(not LINUX, reason="reads /proc")
def test_epochs_run_in_a_named_child_that_leaves_when_the_run_ends(series):
    job = ProcessJob(spec_for(series, 0.8, SMALL, _cfg(epochs=2000)), publish_every=0.0)
    job.start()
    assert _wait(lambda: job.snapshot().epoch >= 2)
    pid = job.pid
    assert pid is not None and pid != os.getpid()
    assert Path(f"/proc/{pid}/comm").read_text().strip() == PROCESS_NAME
    job.stop()
    assert job.join(30)
    # A stopped run keeps no process: its state came back with the stop.
    assert job.status == "stopped" and job.pid is None and _wait(lambda: _gone(pid))
    assert job.snapshot().can_resume
    assert job.resume()
    assert _wait(lambda: job.pid is not None or not job.alive)
    second = job.pid
    assert job.join(120)
    assert job.status == "finished" and job.pid is None and second != pid
    assert _wait(lambda: _gone(second))


def test_stop_and_resume_continue_the_same_models_in_the_child(series):
    cfg = _cfg(epochs=1000)
    straight = ProcessJob(spec_for(series, 0.8, SMALL, cfg))
    straight.start()
    job = ProcessJob(spec_for(series, 0.8, SMALL, cfg), publish_every=0.0)
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
    job = ProcessJob(spec_for(series, 0.8, SMALL, _cfg(epochs=12)), on_epoch=rows.append)
    job.start()
    assert job.join(60)
    assert [r["epoch"] for r in rows] == list(range(1, 13))
    assert rows == job.snapshot().history


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_child_that_dies_fails_the_job_with_a_reason(series, capfd):
    job = ProcessJob(spec_for(series, 0.8, SMALL, _cfg(epochs=10_000)))
    job.start()
    assert _wait(lambda: job.pid is not None and job.snapshot().epoch >= 1)
    pid = job.pid
    os.kill(pid, signal.SIGKILL)
    assert job.join(30)
    snap = job.snapshot()
    assert snap.status == "failed"
    assert "training process ended unexpectedly" in snap.message and "-9" in snap.message
    assert "ended (it died): killed by SIGKILL" in capfd.readouterr().err  # the server log
    assert snap.epoch >= 1  # what it had sent is kept


def test_release_ends_the_child_and_keeps_the_run_resumable(series):
    cfg = _cfg(epochs=40)
    straight = TrainingJob(spec_for(series, 0.8, SMALL, cfg))
    straight.start()
    job = ProcessJob(spec_for(series, 0.8, SMALL, cfg), publish_every=0.0)
    job.start()
    assert _wait(lambda: job.snapshot().epoch >= 1)
    process = job._process
    job.release()  # what a closed tab does: the child ends after its epoch, with the state
    assert job.status == "stopped" and not process.is_alive() and job.pid is None
    assert job.snapshot().can_resume and job.resume()  # a reconnecting tab goes on exactly
    assert job.join(120) and straight.join(120)
    _same_run(job.snapshot(), straight.snapshot())


def test_a_child_still_in_its_epoch_after_a_release_is_killed_and_logged(series, capfd):
    slow = _cfg(epochs=10, step_kernel="torch", batch_size=1, seq_len=200)
    big = make_sine(DataConfig(points=20_000, periods=50))
    model = ModelConfig(hidden_size=64, mlp_hidden=(8,))
    job = ProcessJob(spec_for(big, 0.8, model, slow), publish_every=0.0)
    job.start()
    assert _wait(lambda: job.snapshot().epoch >= 1, 120)  # the child is in its second epoch
    pid = job.pid
    job.release(timeout=0.05)  # an epoch takes seconds: it cannot have ended
    assert job.status == "stopped" and _wait(lambda: _gone(pid), 10)
    assert not job.snapshot().can_resume  # the state went with the killed child
    assert f"training process {pid} killed (its session ended)" in capfd.readouterr().err


def test_an_error_in_on_epoch_fails_the_job_and_ends_its_child(series):
    def breaks(row):
        raise ValueError("no more rows")

    job = ProcessJob(spec_for(series, 0.8, SMALL, _cfg(epochs=10_000)), on_epoch=breaks)
    job.start()
    assert _wait(lambda: job._process is not None)
    process = job._process
    assert job.join(30)
    assert job.status == "failed" and "no more rows" in job.snapshot().message
    process.join(30)
    assert process.exitcode is not None  # not left training on, unwatched


def test_the_process_wide_cap_queues_process_jobs_too(series, monkeypatch):
    monkeypatch.setattr(job_mod, "_slots", threading.BoundedSemaphore(1))
    first = ProcessJob(spec_for(series, 0.8, SMALL, _cfg(epochs=10_000)))
    second = ProcessJob(spec_for(series, 0.8, SMALL, _cfg(epochs=2)))
    first.start()
    assert _wait(lambda: first.status == "running")
    second.start()
    time.sleep(0.3)
    assert second.status == "queued" and second.pid is None
    assert job_mod.running_jobs() == 1
    first.release()
    assert second.join(60)
    assert second.status == "finished"


# -- the child's side, run here so that the training can be made to fail --------------------


def _serve_here(series, cfg, monkeypatch, run_epoch):
    """Run the child's main loop in a thread of this process; the messages it sends."""
    monkeypatch.setattr(Trainer, "run_epoch", run_epoch)
    parent, child = process_job._FORK.Pipe()
    stop = threading.Event()
    args = (child, stop, spec_for(series, 0.8, SMALL, cfg), None, "cpu", 0.0)
    thread = threading.Thread(target=process_job._serve, args=args, daemon=True)
    thread.start()
    messages = []
    while not messages or messages[-1][0] != "end":
        assert parent.poll(30)
        messages.append(parent.recv())
    parent.close()
    thread.join(10)  # the child ends after its report
    assert not thread.is_alive()
    return messages


def test_the_child_reports_divergence_with_the_weights_it_kept(series, monkeypatch):
    original = Trainer.run_epoch

    def diverges_in_epoch_3(self):
        if self.epoch == 2:
            raise Diverged("the GRU training loss became NaN in epoch 3")
        return original(self)

    messages = _serve_here(series, _cfg(), monkeypatch, diverges_in_epoch_3)
    kind, outcome, message, export, state = messages[-1]
    assert (kind, outcome) == ("end", "diverged") and "NaN in epoch 3" in message
    assert export["epoch"] == 2 and state is None  # nothing to resume after a divergence
    rows = [r["epoch"] for m in messages for r in (m[1] if m[0] == "publish" else m[3])["rows"]]
    assert rows == [1, 2]  # every row sent once


def test_the_child_reports_an_error_as_a_failure(series, monkeypatch, capsys):
    def breaks(self):
        raise ValueError("out of cheese")

    *_, (kind, outcome, message, export, _) = _serve_here(series, _cfg(), monkeypatch, breaks)
    assert (kind, outcome) == ("end", "failed")
    assert message == "ValueError: out of cheese" and export["epoch"] == 0
    assert "out of cheese" in capsys.readouterr().err  # the traceback goes to the log


def test_the_parent_turns_a_child_failure_into_the_jobs_status(series, monkeypatch):
    job = ProcessJob(spec_for(series, 0.8, SMALL, _cfg()))
    # What the child builds its trainer from, broken after the parent's checks passed.
    broken = dataclasses.replace(job.spec.data, series=np.zeros((300, 2)))
    monkeypatch.setattr(job, "spec", dataclasses.replace(job.spec, data=broken))
    job.start()
    assert job.join(60)
    snap = job.snapshot()
    assert snap.status == "failed" and snap.epoch == 0
    assert snap.message.startswith("ConfigError: the series must be one-dimensional")
    assert job.pid is None


def test_the_fork_server_starts_before_torch_is_imported():
    # app.py starts it first thing: the module must not import torch, and warm() must leave
    # a fork server running that preloads the training code.
    code = (
        "import os, sys\n"
        "from multiprocessing import forkserver\n"
        "from gru_core import fork_server\n"
        "fork_server.warm()\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
        "pid = forkserver._forkserver._forkserver_pid\n"
        "os.kill(pid, 0)\n"  # raises if no such process
        "print(pid, sorted(forkserver._forkserver._preload_modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert out.returncode == 0, out.stderr
    pid, _, preload = out.stdout.strip().partition(" ")
    assert int(pid) > 0 and "gru_core.process_job" in preload and "torch._dynamo" in preload


def test_waiting_for_an_epoch_returns_once_it_is_published(series):
    job = ProcessJob(spec_for(series, 0.8, SMALL, _cfg(epochs=400)))
    start = time.monotonic()
    assert not job.wait_for_epoch(1, 60.0)  # not started: nothing to wait for, no wait
    assert time.monotonic() - start < 5.0
    job.start()
    try:
        assert job.wait_for_epoch(1, 60.0)
        assert job.snapshot().epoch >= 1
        start = time.monotonic()
        assert not job.wait_for_epoch(10_000, 0.2)  # more than the run has: the timeout
        assert 0.2 <= time.monotonic() - start < 5.0
    finally:
        job.release()
    start = time.monotonic()
    assert not job.wait_for_epoch(10_000, 60.0)  # ended: no wait
    assert time.monotonic() - start < 5.0
