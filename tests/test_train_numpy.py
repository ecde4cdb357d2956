"""`TrainConfig(step_kernel="numpy")`: the same training as torch's, in gru_core.kernels."""

import numpy as np
import pytest
import torch

from gru_core.config import DataConfig, ModelConfig, TrainConfig
from gru_core.data import make_sine
from gru_core.spec import spec_for
from gru_core.tasks.forecast import read_begin
from gru_core.train import Trainer, train

SMALL = ModelConfig(hidden_size=6, mlp_hidden=(8,))


@pytest.fixture(scope="module")
def series():
    return make_sine(DataConfig(points=300, periods=3))


def _history(trainer: Trainer) -> list[dict]:
    return [
        {k: v for k, v in row.items() if k not in ("seconds", "elapsed")} for row in trainer.history
    ]


def _pair(series, model=SMALL, **kw):
    cfg = {"epochs": 4, "lr": 1e-2, "seq_len": 10, "batch_size": 3, **kw}
    trainers = [
        Trainer(spec_for(series, 0.8, model, TrainConfig(**cfg, step_kernel=kernel)))
        for kernel in ("torch", "numpy")
    ]
    for trainer in trainers:
        train(trainer)
    return trainers


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"mode": "windowed", "batch_size": 8},
        {"standardize": True, "clip_grad": 0.5, "lr_schedule": "cosine"},
        {"eval_state": "carried", "chunking": "tutorial", "batch_size": 1},
    ],
)
def test_numpy_steps_train_like_torch(series, kw):
    slow, fast = _pair(series, **kw)
    assert set(fast._kernels) == {"gru", "mlp"} and not slow._kernels
    for a, b in zip(_history(slow), _history(fast), strict=True):
        assert a.keys() == b.keys()
        for key in a:
            assert b[key] == pytest.approx(a[key], rel=1e-3, abs=1e-6), key
    for a, b in zip(slow.models["gru"].parameters(), fast.models["gru"].parameters(), strict=True):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-3)


EVERY_KIND = ModelConfig(
    models=("mlp", "rnn", "lstm", "gru", "gru_d2l", "gru_update_only", "gru_reset_only"),
    hidden_size=6,
    mlp_hidden=(8,),
)


def test_every_recurrent_kind_trains_like_torch(series):
    """The numpy kernels of every kind (each checked exactly in float64 by test_cell_kernels)
    in float32 through the trainer. They sum in other orders than torch, so each step rounds
    differently (about 6e-8 relative) and Adam carries that into the next update: measured
    after 3 epochs of 8 steps, losses and metrics at most 3.4e-7 relative apart, weights
    9e-8. The bounds allow 30x and 10x that, still far below one Adam step (lr 1e-2)."""
    slow, fast = _pair(series, model=EVERY_KIND, seeding="model", epochs=3)
    assert not slow._kernels
    assert set(fast._kernels) == set(EVERY_KIND.models) - {"lstm"}  # the LSTM stays on torch
    for a, b in zip(_history(slow), _history(fast), strict=True):
        assert a.keys() == b.keys()
        for key in a:
            assert b[key] == pytest.approx(a[key], rel=1e-5, abs=1e-7), key
    for name in EVERY_KIND.models:
        for a, b in zip(
            slow.models[name].parameters(), fast.models[name].parameters(), strict=True
        ):
            torch.testing.assert_close(a, b, atol=1e-6, rtol=0)
    first = slow.history[0]  # control: the kinds learn different things
    assert len({round(first[f"{k}_train_loss"], 6) for k in EVERY_KIND.models}) == 7


def test_numpy_steps_with_a_windowed_mlp(series):
    slow, fast = _pair(series, model=ModelConfig(hidden_size=6, mlp_hidden=(8,), mlp_window=3))
    assert "mlp" in fast._kernels
    assert fast.history[-1]["mlp_train_loss"] == pytest.approx(
        slow.history[-1]["mlp_train_loss"], rel=1e-3
    )
    torch.testing.assert_close(fast._state["mlp"], slow._state["mlp"], atol=1e-6, rtol=0)


def test_numpy_steps_keep_modules_and_optimizer_current(series):
    trainer = Trainer(
        spec_for(series, 0.8, SMALL, TrainConfig(epochs=2, seq_len=10, step_kernel="numpy"))
    )
    before = {k: v.clone() for k, v in trainer.models["gru"].state_dict().items()}
    train(trainer)
    after = trainer.export()["weights"]["gru"]
    assert not torch.equal(before["gru.weight_hh_l0"], after["gru.weight_hh_l0"])
    state = trainer.optimizers["gru"].state[trainer.models["gru"].gru.weight_hh_l0]
    chunks = len(trainer.task._stateful)
    assert state["step"].item() == 2 * chunks
    assert state["exp_avg"].abs().sum() > 0


def test_torch_is_used_where_the_numpy_step_does_not_apply(series):
    model = ModelConfig(hidden_size=6, num_layers=2, mlp_hidden=(8,))
    trainer = Trainer(
        spec_for(series, 0.8, model, TrainConfig(epochs=1, seq_len=10, step_kernel="numpy"))
    )
    assert set(trainer._kernels) == {"mlp"}
    train(trainer)
    assert np.isfinite(trainer.history[-1]["gru_train_loss"])


def test_carried_evaluation_reads_what_the_streams_left_unread(series):
    cfg = TrainConfig(epochs=1, seq_len=10, batch_size=4, eval_state="carried")
    trainer = Trainer(spec_for(series, 0.8, SMALL, cfg))
    train(trainer)
    begin = read_begin(cfg, trainer.task.carried_end, trainer.task.n_train)
    assert begin == 4 * ((240 - 1) // 4) == 236  # the last stream's inputs end at 235
    state = trainer.models["gru"].last_stream(trainer._state["gru"])
    assert state.shape == (1, 1, 6)
    torch.testing.assert_close(state[0, 0], trainer._state["gru"][0, -1])
    tutorial = Trainer(
        spec_for(
            series, 0.8, SMALL, TrainConfig(epochs=1, chunking="tutorial", eval_state="carried")
        )
    )
    assert tutorial.task.carried_end == 240  # the tutorial skips its unread tail
