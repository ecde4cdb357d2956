import dataclasses
import json

import numpy as np
import pytest
import torch

from gru_core.__main__ import main
from gru_core.config import PRESETS
from gru_core.heads import build_head
from gru_core.job import TrainingJob
from gru_core.spec import ModelSpec, RunSpec
from gru_core.tasks.classify import ClassifyConfig, ClassifyTask, make_labels
from gru_core.tasks.window import make_windows
from gru_core.train import Trainer, train
from gru_core.views.windows import class_results, confusion, sample_windows, window_predictions


def _spec(preset: str = "classify", options: dict | None = None, **train) -> RunSpec:
    p = PRESETS[preset]
    spec = RunSpec.from_preset(p, train=dataclasses.replace(p.train, device="cpu", **train))
    return spec if options is None else dataclasses.replace(spec, options=options)


def test_direction_labels_follow_the_slope_at_the_windows_end():
    cfg = ClassifyConfig(windows=200, train_windows=150, noise=0.0)
    points, freq, phase = make_windows(cfg)
    labels = make_labels(cfg, freq, phase)
    assert labels.shape == (200,) and set(labels.tolist()) == {0, 1}
    # worked from the points themselves: without noise, rising iff the last step goes up
    # (except right at a crest or trough, where a step of 2 pi / 29 can straddle it)
    slope = points[:, -1] - points[:, -2]
    clear = np.abs(np.cos(freq * cfg.span + phase)) > 0.2
    assert np.array_equal(labels[clear], (slope[clear] > 0).astype(np.int64))
    # the last value alone is ambiguous: both labels occur among similar last values
    near = np.abs(points[:, -1] - 0.5) < 0.2
    assert set(labels[near].tolist()) == {0, 1}


def test_frequency_labels_are_equal_bins():
    cfg = ClassifyConfig(label="frequency", classes=4, freq_low=1.0, freq_high=2.0)
    freq = np.array([1.0, 1.24, 1.25, 1.6, 1.99, 2.0])
    assert make_labels(cfg, freq, np.zeros(6)).tolist() == [0, 0, 1, 2, 3, 3]
    assert cfg.n_classes == 4 and cfg.class_names[1] == "f 1.25-1.50"
    assert ClassifyConfig().n_classes == 2


def test_confusion_matrix_by_hand():
    truth = np.array([0, 0, 1, 1, 1, 2])
    said = np.array([0, 1, 1, 1, 2, 2])
    assert confusion(said, truth, 3).tolist() == [[1, 1, 0], [0, 2, 1], [0, 0, 1]]
    with pytest.raises(ValueError, match="differ in shape"):
        confusion(said[:2], truth, 3)


def test_batches_and_models_have_the_tasks_shapes():
    trainer = Trainer(_spec(epochs=1))
    batches = trainer.task.batches()
    assert [len(b.x) for b in batches] == [64] * 7 + [32]
    assert batches[0].x.shape[1:] == (30, 1) and batches[0].y.dtype == torch.int64
    assert trainer.models["gru"](batches[0].x)[0].shape == (64, 2)
    assert trainer.models["mlp"].net[0].in_features == 1  # the one-value baseline


def test_gru_beats_the_one_value_mlp_on_the_preset():
    torch.set_num_threads(1)
    trainer = Trainer(_spec())
    train(trainer)
    row = trainer.history[-1]
    assert row["gru_test_accuracy"] >= 0.9
    assert row["mlp_test_accuracy"] <= 0.65  # near chance: one value cannot tell the slope
    assert row["gru_test_accuracy"] - row["mlp_test_accuracy"] >= 0.25
    again = Trainer(_spec())
    train(again)
    assert again.history == [
        {**r, "seconds": a["seconds"], "elapsed": a["elapsed"]}
        for r, a in zip(trainer.history, again.history, strict=True)
    ]


def test_results_views_from_a_finished_job():
    job = TrainingJob(_spec(epochs=3))
    job.start()
    assert job.join(60)
    snap = job.snapshot()
    assert snap.status == "finished", snap.message
    results = class_results(snap)
    assert results.class_names == ("falling", "rising")
    for name in ("gru", "mlp"):
        m = results.matrices[name]
        assert m.shape == (2, 2) and m.sum() == 120
        assert results.accuracy(name) == pytest.approx(snap.history[-1][f"{name}_test_accuracy"])
    window = TrainingJob(_spec("seed004", epochs=2))
    window.start()
    assert window.join(60)
    wsnap = window.snapshot()
    table = window_predictions(wsnap)
    assert list(table.columns) == ["window", "truth", "gru", "mlp"] and len(table) == 60
    mse = float(((table["gru"] - table["truth"]) ** 2).mean())
    assert mse == pytest.approx(wsnap.history[-1]["gru_test_mse"], rel=1e-6)
    samples = sample_windows(wsnap, 3)
    assert samples.windows.shape == (3, 30) and samples.target_step == 29
    assert np.array_equal(samples.truth, samples.windows[:, -1])  # seed004: the last point


def test_cli_trains_the_classify_task(capsys):
    assert main(["train", "--task", "classify", "--epochs", "2", "--hidden", "4", "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(out["gru"]) == {"train_loss", "test_accuracy", "test_loss"}
    assert 0 <= out["gru"]["test_accuracy"] <= 1


def test_the_plain_baseline_reads_the_presets_windows_and_labels():
    from benchmarks import classify_baseline

    np.random.seed(42)
    X, y = classify_baseline.generate_data()
    task = ClassifyTask(_spec(), torch.device("cpu"))
    np.testing.assert_allclose(X, task.x[..., 0].numpy(), atol=1e-6)
    assert np.array_equal(y, task.y.numpy())
    assert task.cfg.train_windows == 480 and len(X) == 600
    # and its model is the task's GRU head: the same module layout, so the same outputs
    torch.manual_seed(0)
    ref = classify_baseline.GRUClassifier()
    head = build_head(ModelSpec("gru", "gru", hidden_size=32), 30, 2, False)
    renamed = {
        k.replace("gru.", "rnn.").replace("fc.", "head."): v for k, v in ref.state_dict().items()
    }
    result = head.load_state_dict(renamed, strict=False)
    assert result.missing_keys == ["mean", "std"] and not result.unexpected_keys  # scale: identity
    with torch.no_grad():
        ours, theirs = head(task.test.x)[0], ref(task.test.x)  # (120, 2) logits each
    assert not torch.allclose(theirs, classify_baseline.GRUClassifier()(task.test.x))
    np.testing.assert_allclose(ours, theirs, atol=1e-6)
