import dataclasses
import json

import numpy as np
import pytest
import torch

from benchmarks import window_baseline
from gru_core.__main__ import main
from gru_core.config import PRESETS, ConfigError, TrainConfig
from gru_core.heads import SequenceHead, WindowMLP, build_head
from gru_core.spec import ModelSpec, RunSpec
from gru_core.tasks import parameter_counts
from gru_core.tasks.window import WindowConfig, make_windows
from gru_core.train import Trainer, train


def _spec(preset: str = "seed004", **train) -> RunSpec:
    p = PRESETS[preset]
    return RunSpec.from_preset(p, train=dataclasses.replace(p.train, **train))


def test_windows_shapes_and_determinism():
    cfg = WindowConfig(windows=20, steps=7, train_windows=15)
    x, f, p = make_windows(cfg)
    assert x.shape == (20, 7) and f.shape == (20,) and p.shape == (20,)
    assert ((f >= 0.5) & (f <= 1.5)).all() and ((p >= 0) & (p <= np.pi)).all()
    assert make_windows(cfg, extra=2)[0].shape == (20, 9)
    again = make_windows(cfg)
    assert all(np.array_equal(a, b) for a, b in zip((x, f, p), again, strict=True))
    other = make_windows(dataclasses.replace(cfg, seed=1))
    assert not np.array_equal(x, other[0])


def test_last_target_is_the_visible_point_and_next_continues_the_sine():
    torch.set_num_threads(1)
    task = Trainer(_spec(epochs=1)).task
    assert torch.equal(task.y, task.x[:, -1])  # seed004: the target is the last point
    cfg = WindowConfig(windows=10, train_windows=8, noise=0.0, target="next", seed=3)
    points, _, _ = make_windows(cfg, extra=1)
    x, y = points[:, :-1], points[:, -1]
    rng = np.random.RandomState(3)  # the draws worked by hand: f, then p, then the noise
    dt = cfg.span / (cfg.steps - 1)
    for i in range(10):
        f, p = rng.uniform(0.5, 1.5), rng.uniform(0, np.pi)
        rng.normal(0, 0.0, cfg.steps + 1)
        assert x[i, 3] == pytest.approx(np.sin(f * 3 * dt + p), abs=1e-12)
        assert y[i] == pytest.approx(np.sin(f * (cfg.span + dt) + p), abs=1e-12)
        assert y[i] != pytest.approx(x[i, -1], abs=1e-3)


def test_window_config_refuses_bad_settings():
    with pytest.raises(ConfigError, match="no test windows"):
        WindowConfig(windows=10, train_windows=10)
    with pytest.raises(ConfigError, match="freq_low"):
        WindowConfig(freq_low=2.0, freq_high=1.0)
    with pytest.raises(ConfigError, match="unknown window option"):
        dataclasses.replace(_spec(), options={"colour": 1}).validate()
    with pytest.raises(ConfigError, match="takes no options"):
        dataclasses.replace(_spec(), task="forecast").validate()


def test_one_direction_head_is_the_tutorials_gru_net():
    torch.manual_seed(42)
    ours = build_head(ModelSpec("gru", "gru", 32), 30, 1, False)
    torch.manual_seed(42)
    ref = window_baseline.GRUNet()
    for a, b in zip(ours.parameters(), ref.parameters(), strict=True):
        assert torch.equal(a, b)  # same weights drawn in the same order
    x = torch.randn(5, 30, 1)
    y, state = ours(x)
    assert y.shape == (5, 1) and state is None
    assert torch.allclose(y, ref(x), atol=1e-6)


def test_bidirectional_head_reads_both_ways_and_mlp_reads_the_window():
    torch.manual_seed(0)
    head = SequenceHead("gru", 8, num_layers=2, dropout=0.2, bidirectional=True).eval()
    x = torch.randn(4, 10, 1)
    assert head(x)[0].shape == (4, 1) and head.features(x).shape == (4, 16)
    # the backward half is the backward core's final state after reading x reversed (torch's
    # own nn.GRU here; the head reads its two-layer cores through the numpy kernel)
    back, _ = head.back(x.flip(1))
    assert torch.allclose(head.features(x)[:, 8:], back[:, -1], atol=1e-6, rtol=0)
    assert not torch.allclose(head.features(x)[:, :8], back[:, -1], atol=1e-3)  # control
    mlp = WindowMLP(10, (6,), outputs=3)
    assert mlp(x)[0].shape == (4, 3)
    assert mlp.net[0].in_features == 10


def test_parameter_counts_follow_the_task():
    counts = parameter_counts(_spec())
    gru = 3 * (32 * 1 + 32 * 32 + 2 * 32) + 32 + 1
    mlp = 30 * 32 + 32 + 32 * 16 + 16 + 16 + 1
    assert counts == {"gru": gru, "mlp": mlp}


def test_minibatches_are_shuffled_deterministically():
    a = Trainer(_spec(batch_size=64, epochs=1)).task.batches()
    b = Trainer(_spec(batch_size=64, epochs=1)).task.batches()
    assert [len(x.x) for x in a] == [64, 64, 64, 48]
    assert all(torch.equal(p.x, q.x) for p, q in zip(a, b, strict=True))
    full = Trainer(_spec(epochs=1)).task.batches()
    assert len(full) == 1 and not torch.equal(a[0].x, full[0].x[:64])


def test_seed004_reproduces_the_tutorial_within_ten_percent():
    torch.set_num_threads(1)  # these models are tiny: more threads only contend
    trainer = Trainer(_spec())
    train(trainer)
    row = trainer.history[-1]
    ref = window_baseline.run()
    for key, published in (("test_mse", 0.00324), ("test_mae", 0.0462)):
        assert row[f"gru_{key}"] == pytest.approx(published, rel=0.10)
        assert row[f"gru_{key}"] == pytest.approx(ref[key], rel=0.01)


def test_cli_trains_the_window_task(capsys):
    assert main(["train", "--task", "window", "--epochs", "3", "--hidden", "4", "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["preset"] == "window"
    assert set(out["gru"]) == {"train_loss", "test_mse", "test_mae"}
    assert out["gru"]["test_mse"] > 0
    assert main(["train", "--task", "forecast", "--preset", "seed004"]) == 2
    assert "is for the window task" in capsys.readouterr().err


def test_window_run_round_trips_through_json():
    spec = _spec(epochs=2)
    again = RunSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert again.options == {"target": "last"} and again.task == "window"
    assert TrainConfig(**spec.to_dict()["train"]) == spec.train
