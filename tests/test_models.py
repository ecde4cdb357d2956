import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from gru_core.config import MODEL_KINDS, ConfigError, ModelConfig
from gru_core.models import (
    KINDS,
    GRUForecaster,
    MLPForecaster,
    RecurrentForecaster,
    build_model,
    count_parameters,
    kind,
    parameter_counts,
    recurrent_core,
)
from gru_core.spec import ModelSpec, model_specs

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("layers", [1, 2])
def test_gru_shapes_and_state(layers):
    model = GRUForecaster(hidden_size=8, num_layers=layers)
    y, h = model(torch.randn(3, 11, 1))
    assert y.shape == (3, 11, 1)
    assert h.shape == (layers, 3, 8)
    y2, _ = model(torch.randn(3, 5, 1), h)
    assert y2.shape == (3, 5, 1)


def test_tutorial_parameter_counts():
    assert count_parameters(GRUForecaster(16)) == 3 * (16 + 16 * 16 + 2 * 16) + 17
    assert count_parameters(MLPForecaster((32, 16), 1)) == (2 * 32) + (33 * 16) + 17


def test_fast_kernel_agrees_with_nn_gru():
    torch.manual_seed(0)
    model = GRUForecaster(16)
    x = torch.randn(2, 30, 1)
    fast, _ = model(x)
    model.fast_kernel = False
    slow, _ = model(x)
    assert torch.allclose(fast, slow, atol=1e-5)


def test_mlp_window_sees_past_values_and_carries_them():
    torch.manual_seed(0)
    model = MLPForecaster((8,), window=3)
    x = torch.randn(2, 10, 1)
    whole, _ = model(x)
    first, state = model(x[:, :6])
    second, _ = model(x[:, 6:], state)
    assert state.shape == (2, 2, 1)
    assert torch.allclose(torch.cat([first, second], 1), whole, atol=1e-6)


def test_mlp_window_one_is_pointwise():
    model = MLPForecaster((4,), window=1)
    x = torch.randn(1, 6, 1)
    y, state = model(x)
    assert state is None
    assert torch.allclose(y[:, 2], model(x[:, 2:3])[0][:, 0])


def test_scaling_maps_back_to_series_units():
    torch.manual_seed(0)
    plain = GRUForecaster(4)
    scaled = GRUForecaster(4)
    scaled.load_state_dict(plain.state_dict())
    scaled.set_scale(10.0, 5.0)
    x = torch.randn(1, 8, 1)
    expected = plain((x - 10.0) / 5.0)[0] * 5.0 + 10.0
    assert torch.allclose(scaled(x)[0], expected, atol=1e-5)


def test_registry_builds_and_rejects_unknown_kinds():
    cfg = ModelConfig(hidden_size=5, mlp_hidden=(3,), mlp_window=2)
    gru, mlp = model_specs(cfg)
    assert (
        isinstance(build_model(gru), RecurrentForecaster) and build_model(gru).gru.hidden_size == 5
    )
    assert build_model(mlp).window == 2
    valid = ", ".join(MODEL_KINDS)
    assert valid == "gru, mlp, rnn, lstm, gru_d2l, gru_update_only, gru_reset_only"
    with pytest.raises(
        ValueError, match=f"unknown model kind 'transformer'; choose one of {valid}$"
    ):
        kind("transformer")
    with pytest.raises(ConfigError, match=valid):
        ModelConfig(models=("gru", "transformer"))
    with pytest.raises(ConfigError, match=f"model kind must be one of {valid}"):
        ModelSpec("x", "transformer")


def test_the_torch_free_kind_list_is_the_registry():
    """config validates kinds without torch; the list it uses must be the registry's."""
    code = "import sys, gru_core.config as c; print(list(c.MODEL_KINDS), 'torch' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{list(KINDS)} False"
    assert list(MODEL_KINDS) == list(KINDS)


def test_the_recurrent_core_is_the_kinds_own_submodule():
    gru, mlp = model_specs(ModelConfig(hidden_size=3, mlp_hidden=(4,)))
    model = build_model(gru)
    assert recurrent_core(gru, model) is model.gru
    assert recurrent_core(mlp, build_model(mlp)) is None


def test_parameters_are_counted_without_building_or_drawing():
    specs = model_specs(ModelConfig(hidden_size=7, num_layers=2, mlp_hidden=(5, 3), mlp_window=4))
    torch.manual_seed(1)
    counts = parameter_counts(specs)
    after = torch.rand(3)
    torch.manual_seed(1)
    assert torch.equal(after, torch.rand(3))  # the global generator was not drawn from
    # By hand: a GRU layer has 3 * hidden * (input + hidden) weights and 2 * 3 * hidden biases.
    gru = 3 * 7 * (1 + 7) + 6 * 7 + 3 * 7 * (7 + 7) + 6 * 7 + (7 + 1)
    mlp = (4 * 5 + 5) + (5 * 3 + 3) + (3 + 1)
    assert counts == {"gru": gru, "mlp": mlp}
    assert counts == {s.name: count_parameters(build_model(s)) for s in specs}


RECURRENT = ("gru", "rnn", "lstm", "gru_d2l", "gru_update_only", "gru_reset_only")


@pytest.mark.parametrize("name", RECURRENT)
@pytest.mark.parametrize("layers", [1, 3])
def test_every_recurrent_kind_has_shapes_state_and_its_core(name, layers):
    torch.manual_seed(0)
    spec = ModelSpec(name, name, hidden_size=6, num_layers=layers, dropout=0.0)
    model = build_model(spec)
    assert isinstance(model, RecurrentForecaster)
    core = recurrent_core(spec, model)
    assert core is getattr(model, name) and core.num_layers == layers and core.hidden_size == 6
    x = torch.randn(3, 9, 1)
    y, state = model(x)
    assert y.shape == (3, 9, 1)
    parts = state if name == "lstm" else (state,)
    assert len(parts) == (2 if name == "lstm" else 1)
    assert all(p.shape == (layers, 3, 6) for p in parts)
    # The state carries over: two halves from the carried state give the whole.
    first, carried = model(x[:, :4])
    second, _ = model(x[:, 4:], carried)
    assert torch.allclose(torch.cat([first, second], 1), y, atol=1e-6)
    # The last stream's state is the batch's last row, for every part.
    last = model.last_stream(state)
    lasts = last if name == "lstm" else (last,)
    assert all(torch.equal(a, b[:, 2:]) for a, b in zip(lasts, parts, strict=True))


@pytest.mark.parametrize("name", RECURRENT)
def test_dropout_acts_between_layers_only_in_training(name):
    torch.manual_seed(0)
    model = build_model(ModelSpec(name, name, hidden_size=8, num_layers=2, dropout=0.5))
    x = torch.randn(2, 7, 1)
    model.train()
    a, b = model(x)[0], model(x)[0]
    assert not torch.equal(a, b)  # a fresh dropout mask each call
    model.eval()
    assert torch.equal(model(x)[0], model(x)[0])
    # Control: the same weights without dropout are deterministic in training mode too.
    still = build_model(ModelSpec(name, name, hidden_size=8, num_layers=2, dropout=0.0))
    still.load_state_dict(model.state_dict())
    still.train()
    assert torch.equal(still(x)[0], still(x)[0])


@pytest.mark.parametrize("name", ["rnn", "lstm", "gru"])
def test_numpy_forecasts_agree_with_torch_step_by_step(name):
    torch.manual_seed(1)
    model = build_model(ModelSpec(name, name, hidden_size=5)).eval()
    x = torch.randn(2, 12, 1)
    with torch.no_grad():
        _, state = model(torch.randn(2, 5, 1))
        fast = model.forecasts(x, state)
        loop = model.closed_loop(x[:, :3], state, 8)
        model.fast_kernel = False
        slow = model.forecasts(x, state)
        loop_slow = model.closed_loop(x[:, :3], state, 8)
    for a, b in zip(fast, slow, strict=True):
        assert a.shape == (2, 12) and torch.allclose(a, b, atol=1e-5)
    assert torch.allclose(loop, loop_slow, atol=1e-5)
    assert not torch.allclose(fast[0], fast[1], atol=1e-3)  # control: the two differ


def test_numpy_training_steps_where_they_win():
    from gru_core import cell_kernels, kernels

    def step(name, layers=1):
        model = build_model(ModelSpec(name, name, hidden_size=4, num_layers=layers))
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        return model.numpy_train_step(opt)

    assert isinstance(step("rnn"), cell_kernels.RNNTrainStep)
    assert isinstance(step("gru"), kernels.GRUTrainStep)
    assert step("lstm") is None  # torch's LSTM is as fast on the chunks runs use
    for d2l in ("gru_d2l", "gru_update_only", "gru_reset_only"):
        assert isinstance(step(d2l), cell_kernels.D2LGRUTrainStep)
        assert step(d2l, layers=2) is None
    assert step("rnn", layers=2) is None


@pytest.mark.parametrize("layers", [1, 2])
def test_matched_parameter_counts_are_the_closest_the_modules_allow(layers):
    cfg = ModelConfig(models=(*RECURRENT, "mlp"), hidden_size=16, num_layers=layers)
    plain = {s.name: s for s in model_specs(cfg)}
    matched = {s.name: s for s in model_specs(dataclasses.replace(cfg, match_params=True))}
    assert {n: s.hidden_size for n, s in plain.items()} == dict.fromkeys(plain, 16)
    target = count_parameters(build_model(plain["gru"]))
    assert matched["gru"] == plain["gru"] and matched["mlp"] == plain["mlp"]

    def count(name, hidden):  # built by torch, not the closed form match_hidden uses
        spec = dataclasses.replace(matched[name], hidden_size=hidden)
        return count_parameters(build_model(spec))

    for name in RECURRENT:
        h = matched[name].hidden_size
        gap = abs(count(name, h) - target)
        assert gap <= abs(count(name, h + 1) - target) and gap < abs(count(name, h - 1) - target)
    assert matched["rnn"].hidden_size > 16 > matched["lstm"].hidden_size  # fewer/more blocks


@pytest.mark.parametrize("name", list(KINDS))
def test_a_kind_depends_on_the_sizes_it_reads_and_no_others(name):
    base = ModelSpec("m", name, hidden_size=6, num_layers=2, mlp_hidden=(5, 3), mlp_window=2)
    others = {
        "hidden_size": 9,
        "num_layers": 1,
        "dropout": 0.5,
        "mlp_hidden": (7,),
        "mlp_window": 4,
    }
    x = torch.linspace(-1, 1, 12).reshape(1, 12, 1)

    def built(spec: ModelSpec) -> list[torch.Tensor]:
        """Its weights, and its output in training mode (dropout on), from one seed."""
        torch.manual_seed(0)
        model = build_model(spec).train()
        return [p.detach().clone() for p in model.parameters()] + [model(x, None)[0].detach()]

    first = built(base)
    for field, value in others.items():
        changed = built(dataclasses.replace(base, **{field: value}))
        same = len(changed) == len(first) and all(
            a.shape == b.shape and torch.equal(a, b) for a, b in zip(changed, first, strict=True)
        )
        assert same == (field not in kind(name).reads), field
