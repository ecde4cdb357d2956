"""The duration shown before a run starts: work counted by hand, pace from earlier runs."""

import pytest

from gru_core import estimate
from gru_core.config import split_index
from gru_core.estimate import Measured


def test_epoch_work_counts_parameter_points_by_hand():
    # 100 + 20 parameters; 800 training points; 200 test points forecast every 2nd epoch at a
    # third of a training point's cost: 120 * (800 + 200 / 3 / 2) = 120 * 833.33...
    work = estimate.epoch_work({"gru": 100, "mlp": 20}, 800, 200, eval_every=2)
    assert work == pytest.approx(120 * (800 + 200 / 6))
    assert estimate.epoch_work({"gru": 100}, 800, 200) > estimate.epoch_work({"gru": 100}, 400, 200)


def test_spec_work_reads_the_split_from_the_spec_dict():
    spec = {
        "data": {"sine": {"points": 1000}, "train_fraction": 0.8},
        "train": {"eval_every": 1},
    }
    n_train = split_index(1000, 0.8)
    assert estimate.spec_work(spec, {"gru": 10}) == pytest.approx(
        10 * (n_train + (1000 - n_train) / 3)
    )
    uploaded = {"data": {"values": [0.0] * 50, "train_fraction": 0.5}, "train": {"eval_every": 5}}
    assert estimate.spec_work(uploaded, {"m": 3}) == pytest.approx(3 * (25 + 25 / 15))
    stored = {"data": {"train_fraction": 0.5}, "train": {"eval_every": 5}}  # values elsewhere
    assert estimate.spec_work(stored, {"m": 3}, points=50) == pytest.approx(3 * (25 + 25 / 15))


def test_the_estimate_scales_the_pace_of_the_nearest_earlier_runs():
    # Worked by hand: a run of work 1e6 per epoch took 10 s for 100 epochs: 1e-7 s per point.
    near = Measured(work=1e6, seconds=10.0, epochs=100)
    far = Measured(work=1e3, seconds=10.0, epochs=100)  # 1e-4 s per point: small-model overhead
    assert near.pace == pytest.approx(1e-7)
    got = estimate.estimate(2e6, 500, [far, near])
    # Nearest three are both runs: the median pace is (1e-7 + 1e-4) / 2.
    assert got.runs == 2
    assert got.seconds == pytest.approx((1e-7 + 1e-4) / 2 * 2e6 * 500)
    # With more runs, only the three closest in work count; the far one drops out.
    runs = [far, near, Measured(3e6, 30.0, 100), Measured(5e5, 5.0, 100)]
    got = estimate.estimate(2e6, 500, runs)
    assert got.runs == 3 and got.seconds == pytest.approx(1e-7 * 2e6 * 500)


def test_no_earlier_run_no_estimate():
    assert estimate.estimate(1e6, 100, []) is None
    assert estimate.estimate(1e6, 100, [Measured(1e6, 0.0, 0)]) is None  # stopped at once
