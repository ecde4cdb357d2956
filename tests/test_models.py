import pytest
import torch

from gru_core.config import ConfigError, ModelConfig
from gru_core.models import (
    REGISTRY,
    GRUForecaster,
    MLPForecaster,
    build_mlp,
    build_recurrent,
    count_parameters,
)


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
    assert "gru" in REGISTRY
    cfg = ModelConfig(hidden_size=5, mlp_hidden=(3,), mlp_window=2)
    assert isinstance(build_recurrent(cfg), GRUForecaster)
    assert build_mlp(cfg).window == 2
    with pytest.raises(ConfigError, match="gru"):
        ModelConfig(kind="transformer")
