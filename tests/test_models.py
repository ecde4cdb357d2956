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
    assert isinstance(build_model(gru), GRUForecaster) and build_model(gru).gru.hidden_size == 5
    assert build_model(mlp).window == 2
    with pytest.raises(
        ValueError, match="unknown model kind 'transformer'; choose one of gru, mlp"
    ):
        kind("transformer")
    with pytest.raises(ConfigError, match="gru, mlp"):
        ModelConfig(models=("gru", "transformer"))
    with pytest.raises(ConfigError, match="model kind must be one of gru, mlp"):
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
