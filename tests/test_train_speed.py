"""Process settings the trainer makes for speed: one BLAS thread, a short GIL switch interval."""

import sys

from gru_core import job as job_mod
from gru_core import kernels
from gru_core.config import DataConfig, ModelConfig, TrainConfig
from gru_core.data import make_sine
from gru_core.job import TrainingJob
from gru_core.spec import spec_for
from gru_core.train import Trainer

SMALL = ModelConfig(hidden_size=4, mlp_hidden=(4,))
TINY = TrainConfig(epochs=1, seq_len=10, batch_size=2)


def _series():
    return make_sine(DataConfig(points=200, periods=2))


def test_a_cpu_trainer_runs_blas_on_one_thread(monkeypatch):
    calls = []
    monkeypatch.setattr(kernels, "limit_blas_threads", lambda n=1: calls.append(n) or True)
    Trainer(spec_for(_series(), 0.8, SMALL, TINY))
    assert calls == [1]


def test_a_worker_shortens_the_switch_interval_and_never_lengthens_it():
    before = sys.getswitchinterval()
    try:
        sys.setswitchinterval(0.005)
        job = TrainingJob(spec_for(_series(), 0.8, SMALL, TINY))
        job.start()
        assert job.join(30)
        assert sys.getswitchinterval() == job_mod.SWITCH_INTERVAL
        sys.setswitchinterval(job_mod.SWITCH_INTERVAL / 2)
        job = TrainingJob(spec_for(_series(), 0.8, SMALL, TINY))
        job.start()
        assert job.join(30)
        assert sys.getswitchinterval() == job_mod.SWITCH_INTERVAL / 2
    finally:
        sys.setswitchinterval(before)
