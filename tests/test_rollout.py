import numpy as np
import pytest
import torch

from gru_core import rollout
from gru_core.models import GRUForecaster, MLPForecaster


@pytest.fixture
def gru():
    torch.manual_seed(0)
    return GRUForecaster(8)


def test_free_run_feeds_back_its_predictions(gru):
    context = np.sin(np.linspace(0, 6, 40))
    preds = rollout.free_run(gru, context, 10)
    assert preds.shape == (10,)
    # Step by step: read the context, then feed each prediction in turn.
    with torch.no_grad():
        y, state = gru(torch.tensor(context, dtype=torch.float32)[None, :, None])
        expected = [y[0, -1, 0].item()]
        for _ in range(9):
            y, state = gru(torch.tensor([[[expected[-1]]]]), state)
            expected.append(y.item())
    np.testing.assert_allclose(preds, expected, atol=1e-5)


def test_free_run_batched_equals_single(gru):
    contexts = np.random.default_rng(0).normal(size=(3, 20))
    batched = rollout.free_run(gru, contexts, 7)
    assert batched.shape == (3, 7)
    for i in range(3):
        np.testing.assert_allclose(batched[i], rollout.free_run(gru, contexts[i], 7), atol=1e-6)


def test_one_step_is_teacher_forced(gru):
    inputs = np.random.default_rng(1).normal(size=25)
    preds = rollout.one_step(gru, inputs)
    assert preds.shape == (25,)
    # The first forecasts do not depend on later inputs.
    changed = inputs.copy()
    changed[10:] += 5
    np.testing.assert_allclose(rollout.one_step(gru, changed)[:10], preds[:10], atol=1e-6)


def test_rollouts_restore_training_mode(gru):
    gru.train()
    rollout.free_run(gru, np.zeros(5), 3)
    assert gru.training
    gru.eval()
    rollout.one_step(gru, np.zeros(5))
    assert not gru.training


def test_error_by_horizon_shapes_and_values():
    model = MLPForecaster((4,), 1)
    series = np.random.default_rng(2).normal(size=100)
    starts = np.array([20, 50, 70])
    out = rollout.error_by_horizon(model, series, starts, horizon=10, warmup=5)
    assert out["mse"].shape == (10,) and out["forecasts"].shape == (3, 10)
    truth = np.stack([series[s : s + 10] for s in starts])
    np.testing.assert_allclose(out["mae"], np.abs(out["forecasts"] - truth).mean(0))
    with pytest.raises(ValueError, match="warmup"):
        rollout.error_by_horizon(model, series, np.array([95]), horizon=10, warmup=5)


def test_bad_horizon():
    with pytest.raises(ValueError, match="horizon"):
        rollout.free_run(MLPForecaster(), np.zeros(3), 0)
