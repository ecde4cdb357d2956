"""The Memory page's computations: initial weights replayed, measures against torch and numpy."""

import dataclasses

import numpy as np
import pytest
import torch

from gru_core import cells, gates, memory
from gru_core.config import DataConfig, ModelConfig, TrainConfig
from gru_core.data import make_sine
from gru_core.job import TrainingJob
from gru_core.spec import spec_for
from gru_core.train import Trainer
from gru_core.views import memory as memory_views

MODELS = ("mlp", "rnn", "lstm", "gru")


def _spec(seeding: str = "model", **train):
    series = make_sine(DataConfig(points=300))
    model = ModelConfig(models=MODELS, hidden_size=6)
    cfg = TrainConfig(
        **{"epochs": 2, "seq_len": 10, "lr": 0.01, "device": "cpu", "seeding": seeding, **train}
    )
    return dataclasses.replace(spec_for(series, 0.8, model, cfg), seeding=seeding)


@pytest.fixture(scope="module")
def snap():
    job = TrainingJob(_spec())
    job.start()
    assert job.join(120)
    out = job.snapshot()
    assert out.status == "finished", out.message
    return out


@pytest.mark.parametrize("seeding", ["model", "run"])
def test_initial_weights_are_those_training_started_from(snap, seeding):
    spec = _spec(seeding)
    fresh = Trainer(spec)  # built, not trained
    torch.manual_seed(123)
    before = torch.rand(3)
    torch.manual_seed(123)
    for name in ("rnn", "lstm", "gru"):
        start = memory_views.initial_model(spec, name, fresh.models[name])
        for key, value in fresh.models[name].state_dict().items():
            assert torch.equal(start.state_dict()[key], value), (name, key)
    assert torch.equal(torch.rand(3), before)  # the process's generator was left alone
    # Control: the trained weights are not the initial ones.
    trained = snap.model("gru").state_dict()["gru.weight_hh_l0"]
    replay = memory_views.initial_model(snap.spec, "gru", snap.model("gru"))
    assert not torch.equal(replay.state_dict()["gru.weight_hh_l0"], trained)


@pytest.mark.parametrize("name", ["rnn", "lstm", "gru"])
def test_influence_is_the_jacobian_of_the_last_forecast(snap, name):
    model = snap.model(name)
    x = memory_views.probe(snap, model, 25)
    got = memory_views.influence(model, snap.core(name), x)
    # Independent: torch's full Jacobian of the forecaster (torch path, no numpy kernel).
    model.fast_kernel = False
    try:
        jac = torch.autograd.functional.jacobian(lambda v: model.core(v, None)[0][0, -1, 0], x)
    finally:
        model.fast_kernel = True
    expected = jac[0, :, 0].abs().double().flip(0).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-12)
    assert got.shape == (25,) and got[0] > got[-1]


def test_measures_match_numpy_on_the_traces(snap):
    m = memory_views.model_memory(snap, "lstm")
    assert m.keep_gate == "f" and m.initial.influence.shape == (memory_views.PROBE_STEPS,)
    model = snap.model("lstm")
    x = memory_views.probe(snap, model, memory_views.TRACE_STEPS)[0]
    f = gates.trace(snap.core("lstm"), x)["f"].astype(np.float64)
    np.testing.assert_allclose(m.current.time_scales, 1 / (1 - f.mean(axis=0)), rtol=1e-6)
    i = gates.trace(snap.core("lstm"), x)["i"]
    row = m.current.saturation.set_index("gate").loc["i"]
    assert row["saturated"] == pytest.approx(((i < 0.05) | (i > 0.95)).mean())
    rnn = memory_views.model_memory(snap, "rnn")
    assert (
        rnn.time_scales is None if hasattr(rnn, "time_scales") else rnn.current.time_scales is None
    )
    assert rnn.current.saturation.empty
    with pytest.raises(ValueError, match="no recurrent core"):
        memory_views.model_memory(snap, "mlp")


def test_saturation_table_has_a_row_per_model_and_sigmoid_gate(snap):
    memories = [memory_views.model_memory(snap, n) for n in ("rnn", "lstm", "gru")]
    table = memory_views.saturation_table(memories, snap.label)
    assert list(zip(table["model"], table["gate"], strict=True)) == [
        ("LSTM", "i"),
        ("LSTM", "f"),
        ("LSTM", "o"),
        ("GRU", "r"),
        ("GRU", "z"),
    ]
    assert (
        ((table[["at the start", "now"]] >= 0) & (table[["at the start", "now"]] <= 1)).all().all()
    )


def test_length_experiment_trains_each_kind_at_each_length(snap):
    rows = []
    table = memory_views.length_experiment(snap.spec, ["rnn", "gru"], [4, 12], 2, rows.append)
    assert len(rows) == 4 and list(table["length"]) == [4, 4, 12, 12]
    # Each cell is the best test error of the same run trained on its own.
    spec = memory_views.experiment_spec(snap.spec, "gru", 12, 2)
    assert (spec.train.mode, spec.train.seq_len, spec.names) == ("windowed", 12, ("gru",))
    assert spec.model("gru") == snap.spec.model("gru")  # its size as the run had it
    trainer = Trainer(spec)
    from gru_core.train import train

    train(trainer)
    best = min(r["gru_test_rollout_mse"] for r in trainer.history)
    got = table.query("model == 'gru' and length == 12")[memory.BEST].item()
    assert got == pytest.approx(best, rel=1e-12)
    assert list(memory.by_length(table).columns) == ["rnn", "gru"]
    assert set(cells.KINDS) >= set(table["model"])
