"""Batched training against single runs: every history value and weight equal, exactly."""

import dataclasses

import numpy as np
import pytest
import torch

from gru_core import kernels
from gru_core.batched import BatchedTrainer, batch_key, batchable, train_batched
from gru_core.config import PRESETS, ConfigError, DataConfig, ModelConfig, TrainConfig
from gru_core.data import make_sine
from gru_core.spec import spec_for
from gru_core.train import Diverged, Trainer, train

FAST = PRESETS["fast"]
TIMES = ("seconds", "elapsed")


@pytest.fixture(scope="module")
def sine() -> np.ndarray:
    return make_sine(FAST.data)


def _specs(series, model, cfgs, fraction=0.8) -> list:
    return [spec_for(series, fraction, model, cfg) for cfg in cfgs]


def _single(series, model, cfg, fraction=0.8, epochs=None) -> Trainer:
    trainer = Trainer(spec_for(series, fraction, model, cfg))
    train(trainer, epochs)
    return trainer


def _rows(trainer: Trainer) -> list[dict]:
    return [{k: v for k, v in row.items() if k not in TIMES} for row in trainer.history]


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Equal element by element, bit for bit (NaN where the other has NaN)."""
    return a.shape == b.shape and bool(((a == b) | (a.isnan() & b.isnan())).all())


def _assert_same_run(alone: Trainer, batched: Trainer) -> None:
    """History (but the timings), weights, carried states and Adam state: all equal."""
    assert _rows(batched) == _rows(alone)  # == on floats: exact
    a, b = alone.export(), batched.export()
    assert batched.names == alone.names
    for name in alone.names:
        for key, value in a["weights"][name].items():
            assert torch.equal(b["weights"][name][key], value), (name, key)
    assert torch.equal(b["states"]["gru"], a["states"]["gru"])
    for name in alone.names:
        opt_a, opt_b = alone.optimizers[name], batched.optimizers[name]
        pairs = zip(opt_a.param_groups[0]["params"], opt_b.param_groups[0]["params"], strict=True)
        for p_a, p_b in pairs:
            for key in ("step", "exp_avg", "exp_avg_sq"):
                assert _same(opt_b.state[p_b][key], opt_a.state[p_a][key]), key


def test_the_fast_preset_batched_gives_each_run_s_own_numbers(sine):
    cfgs = [
        dataclasses.replace(FAST.train, lr=lr, seed=seed, epochs=14)
        for lr in (1e-2, 3e-2)
        for seed in (0, 3)
    ]
    alone = [_single(sine, FAST.model, cfg) for cfg in cfgs]
    # The control: the runs differ, so an equality below could fail.
    assert _rows(alone[0]) != _rows(alone[1]) and _rows(alone[0]) != _rows(alone[2])
    grus = [t.models["gru"].gru.weight_hh_l0 for t in alone[:2]]
    assert not torch.equal(*grus)

    batched = BatchedTrainer(_specs(sine, FAST.model, cfgs))
    assert train_batched(batched, epochs=10) == "finished"
    assert [t.epoch for t in batched.trainers] == [10] * 4
    for trainer in batched.trainers:  # each goes on alone from the state the batch left
        train(trainer)
    for a, b in zip(alone, batched.trainers, strict=True):
        _assert_same_run(a, b)
    assert batched.errors == [None] * 4


def test_other_settings_of_the_numpy_path_batched_exactly():
    series = make_sine(DataConfig(points=400, periods=4))
    model = ModelConfig(hidden_size=7, mlp_hidden=(9, 5), mlp_window=3)
    base = TrainConfig(
        epochs=5,
        seq_len=12,
        batch_size=3,
        standardize=True,
        clip_grad=0.05,
        eval_every=2,
        step_kernel="numpy",
    )
    cfgs = [dataclasses.replace(base, lr=lr, seed=s) for lr, s in ((2e-2, 1), (5e-3, 2))]
    alone = [_single(series, model, cfg, 0.75) for cfg in cfgs]
    assert alone[0].history[0]["gru_test_rollout_mse"] is None  # evaluated every other epoch
    batched = BatchedTrainer(_specs(series, model, cfgs, 0.75))
    train_batched(batched)
    for a, b in zip(alone, batched.trainers, strict=True):
        _assert_same_run(a, b)


def _blow_up_fast_runs(monkeypatch) -> None:
    """From Adam's 20th step (epoch 3), runs with a learning rate above 0.5 get infinite
    weights: in a single run's FlatAdam (scalar rate) and in a batch's (a column of rates)."""
    step = kernels.FlatAdam.step

    def faulty(self) -> None:
        step(self)
        if float(self.steps[0]) >= 20:
            rows = np.asarray(self.group["lr"]).reshape(-1) > 0.5
            for p in self.params:
                p.reshape(len(rows), -1)[rows] = np.inf

    monkeypatch.setattr(kernels.FlatAdam, "step", faulty)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_a_diverging_run_leaves_with_its_own_message_and_the_others_go_on(sine, monkeypatch):
    _blow_up_fast_runs(monkeypatch)
    cfgs = [dataclasses.replace(FAST.train, lr=lr, epochs=6) for lr in (3e-2, 0.9, 1e-2)]
    healthy = [_single(sine, FAST.model, cfgs[i]) for i in (0, 2)]
    wild = Trainer(spec_for(sine, 0.8, FAST.model, cfgs[1]))
    with pytest.raises(Diverged, match="loss became NaN in epoch 3") as info:
        train(wild)
    batched = BatchedTrainer(_specs(sine, FAST.model, cfgs))
    train_batched(batched)
    assert batched.errors == [None, str(info.value), None]
    _assert_same_run(healthy[0], batched.trainers[0])
    _assert_same_run(healthy[1], batched.trainers[2])
    _assert_same_run(wild, batched.trainers[1])  # the weights of epoch 2, as alone
    assert batched.trainers[1].epoch == 2 and batched.epoch == 6


def test_batch_key_groups_by_everything_but_lr_and_seed(sine):
    def key(model=FAST.model, series=sine, **train):
        return batch_key(spec_for(series, 0.8, model, dataclasses.replace(FAST.train, **train)))

    a = key()
    assert a == key(lr=0.1, seed=7)
    assert a == key(series=sine.copy())  # the same values, another array
    assert a != key(seq_len=30)
    assert a != key(model=dataclasses.replace(FAST.model, hidden_size=8))
    assert a != key(series=sine + 1e-9)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"seq_len": 30}, "may differ only in lr, seed"),
        ({"step_kernel": "torch"}, "needs the numpy step of every model"),
    ],
)
def test_runs_that_cannot_train_together_are_refused(sine, change, message):
    cfgs = [FAST.train, dataclasses.replace(FAST.train, **change)]
    if change.get("step_kernel"):
        cfgs = [cfgs[1], cfgs[1]]
    with pytest.raises(ConfigError, match=message):
        BatchedTrainer(_specs(sine, FAST.model, cfgs))


def test_windowed_runs_are_refused(sine):
    cfg = dataclasses.replace(FAST.train, mode="windowed", eval_state="warm", batch_size=8)
    with pytest.raises(ConfigError, match="needs mode 'stateful'"):
        BatchedTrainer(_specs(sine, FAST.model, [cfg]))


SMALL = ModelConfig(hidden_size=5, mlp_hidden=(6,))
SMALL_TRAIN = TrainConfig(epochs=3, seq_len=10, batch_size=2, step_kernel="numpy")


def train_group(item: dict) -> dict:
    """A sweep's unit of work: the runs of one shape, trained as one batch."""
    torch.set_num_threads(1)
    model = dataclasses.replace(SMALL, hidden_size=item["hidden"])
    cfgs = [dataclasses.replace(SMALL_TRAIN, lr=lr, seed=s) for lr, s in item["runs"]]
    runs = BatchedTrainer(_specs(make_sine(DataConfig(points=200)), model, cfgs))
    train_batched(runs)
    return {"rows": [_rows(t) for t in runs.trainers]}


def test_groups_of_a_sweep_through_worker_processes_give_the_single_runs_numbers():
    from gru_core.executors import LocalExecutor

    groups = [
        {"hidden": hidden, "runs": [(lr, s) for lr in (1e-2, 3e-2) for s in (0, 1)]}
        for hidden in (3, 5)
    ]
    done = {d.index: d for d in LocalExecutor(2).run(train_group, groups)}
    assert [done[i].error for i in range(2)] == [None, None]
    series = make_sine(DataConfig(points=200))
    for i, group in enumerate(groups):
        model = dataclasses.replace(SMALL, hidden_size=group["hidden"])
        for (lr, seed), rows in zip(group["runs"], done[i].result["rows"], strict=True):
            cfg = dataclasses.replace(SMALL_TRAIN, lr=lr, seed=seed)
            assert rows == _rows(_single(series, model, cfg))


def test_some_models_of_each_run_train_as_in_the_whole_run(sine):
    cfgs = [
        dataclasses.replace(FAST.train, lr=lr, seed=s, epochs=5) for lr, s in ((3e-2, 0), (1e-2, 4))
    ]
    alone = [_single(sine, FAST.model, cfg) for cfg in cfgs]
    for name, other in (("mlp", "gru"), ("gru", "mlp")):
        part = BatchedTrainer(_specs(sine, FAST.model, cfgs), [name])
        assert part.names == (name,)
        train_batched(part)
        for a, b in zip(alone, part.trainers, strict=True):
            # Its rows: the whole run's epoch, rate and this model's columns, exactly.
            mine = [
                {k: v for k, v in row.items() if k in ("epoch", "lr") or k.startswith(f"{name}_")}
                for row in _rows(a)
            ]
            assert _rows(b) == mine
            weights_a, weights_b = a.export()["weights"], b.export()["weights"]
            for key, value in weights_a[name].items():
                assert torch.equal(weights_b[name][key], value), key
            # The other model was left as built: the equality above could fail.
            key = max(weights_a[other], key=lambda k: weights_a[other][k].numel())
            assert not torch.equal(weights_b[other][key], weights_a[other][key])
    with pytest.raises(ConfigError, match="models to train must be some of gru, mlp"):
        BatchedTrainer(_specs(sine, FAST.model, cfgs), ["lstm"])


def test_a_run_auto_would_put_on_a_gpu_is_not_batched(sine, monkeypatch):
    from gru_core import device

    wide_model = dataclasses.replace(FAST.model, hidden_size=device.GPU_MIN_HIDDEN)
    wide, narrow = (spec_for(sine, 0.8, m, FAST.train) for m in (wide_model, FAST.model))
    assert batchable(wide) and batchable(narrow)  # no GPU: both train on the CPU
    monkeypatch.setattr(device, "available", lambda: ["cuda", "cpu"])
    assert not batchable(wide) and batchable(narrow)  # `auto` sends the wide one to the GPU
