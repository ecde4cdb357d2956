"""The `seed` preset must reproduce the tutorial's published numbers."""

import pytest
import torch

from gru_core.config import PRESETS
from gru_core.data import make_sine
from gru_core.train import Trainer, train

TUTORIAL = {
    "gru_train_loss": 0.0116,
    "gru_test_rollout_mse": 0.0171,
    "mlp_test_rollout_mse": 1.0187,
}


@pytest.mark.slow
def test_seed_preset_reproduces_the_tutorial():
    preset = PRESETS["seed"]
    torch.set_num_threads(1)
    trainer = Trainer(
        make_sine(preset.data), preset.data.train_fraction, preset.model, preset.train
    )
    train(trainer)
    last = trainer.history[-1]
    assert trainer.epoch == 150
    for key, published in TUTORIAL.items():
        assert last[key] == pytest.approx(published, rel=0.10), key
    assert last["mlp_train_loss"] == pytest.approx(0.0184, rel=0.10)


def test_seed_preset_is_the_tutorial_setup():
    preset = PRESETS["seed"]
    assert (preset.data.points, preset.data.periods, preset.data.noise, preset.data.seed) == (
        1000,
        5.0,
        0.1,
        42,
    )
    assert (preset.model.hidden_size, preset.model.mlp_hidden, preset.model.mlp_window) == (
        16,
        (32, 16),
        1,
    )
    t = preset.train
    assert (t.epochs, t.lr, t.seq_len, t.batch_size, t.chunking, t.eval_state, t.seed) == (
        150,
        5e-4,
        20,
        1,
        "tutorial",
        "carried",
        0,
    )
