import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from gru_core import cells, gates, memory
from gru_core.models import GRUForecaster


class _Net(nn.Module):
    """A core and a linear head, returning (y, state) as forecasters do."""

    def __init__(self, core: nn.Module, outputs: int = 1, dropout: float = 0.0) -> None:
        super().__init__()
        self.core, self.drop = core, nn.Dropout(dropout)
        self.head = nn.Linear(core.hidden_size, outputs, bias=False)

    def forward(self, x, state=None):
        out, state = self.core(x, state)
        return self.head(self.drop(out)), state


def _linear_rnn(w: float, u: float = 0.5, v: float = 2.0) -> _Net:
    """h_t = relu(w h_{t-1} + u x_t), y_t = v h_t: linear while inputs and weights are > 0."""
    net = _Net(nn.RNN(1, 1, nonlinearity="relu", bias=False, batch_first=True)).double()
    with torch.no_grad():
        net.core.weight_hh_l0.fill_(w)
        net.core.weight_ih_l0.fill_(u)
        net.head.weight.fill_(v)
    return net


def test_gradient_influence_by_hand():
    # d y_T / d x_{T-k} = v * w^k * u = 2 * 0.9^k * 0.5.
    x = torch.rand(1, 30, 1, dtype=torch.float64) + 0.1
    influence = memory.gradient_influence(_linear_rnn(0.9), x)
    expected = 0.9 ** np.arange(30)
    assert not np.allclose(memory.gradient_influence(_linear_rnn(0.8), x), expected)  # control
    np.testing.assert_allclose(influence, expected, rtol=1e-12)
    assert influence.dtype == np.float64 and influence.shape == (30,)


@pytest.mark.parametrize("kind", ["gru", "lstm", "gru_d2l"])
def test_gradient_influence_matches_finite_differences(kind):
    torch.manual_seed(0)
    net = _Net(cells.build(kind, 2, 5), outputs=3).double()
    x = torch.randn(1, 12, 2, dtype=torch.float64)
    influence = memory.gradient_influence(net, x)
    eps = 1e-6
    expected = []
    for k in range(12):  # lag k: input at step 11 - k, every input feature
        columns = []
        for i in range(2):
            plus, minus = x.clone(), x.clone()
            plus[0, 11 - k, i] += eps
            minus[0, 11 - k, i] -= eps
            with torch.no_grad():
                columns.append((net(plus)[0][0, -1] - net(minus)[0][0, -1]) / (2 * eps))
        expected.append(torch.stack(columns).norm().item())
    np.testing.assert_allclose(influence, expected, rtol=1e-6, atol=1e-9)
    assert influence[0] > 0 and not np.allclose(influence, influence[0])


def test_gradient_influence_runs_without_dropout_and_restores_the_mode():
    torch.manual_seed(1)
    net = _Net(nn.GRU(1, 8, batch_first=True), dropout=0.5).double().train()
    x = torch.randn(1, 10, 1, dtype=torch.float64)
    first = memory.gradient_influence(net, x)
    with torch.no_grad():
        again = memory.gradient_influence(net, x)  # under no_grad too
    np.testing.assert_array_equal(first, again)
    assert net.training
    with pytest.raises(ValueError, match=r"\(1, time, input\)"):
        memory.gradient_influence(net, x[0])


def test_vanishing_gradient_is_visible():
    """A contracting tanh RNN forgets geometrically; its influence 20 steps back is tiny."""
    torch.manual_seed(2)
    net = _Net(nn.RNN(1, 8, batch_first=True)).double()
    with torch.no_grad():
        net.core.weight_hh_l0.mul_(0.3)
    influence = memory.gradient_influence(net, torch.randn(1, 40, 1, dtype=torch.float64))
    assert influence[20] < 1e-6 * influence[0]


def _trace(kind: str, **values) -> gates.Trace:
    return gates.Trace(kind, 0, {k: np.asarray(v, dtype=np.float64) for k, v in values.items()})


def test_time_scales_by_hand_and_capped():
    z = [[0.0, 0.5, 0.9, 1.0], [0.0, 0.5, 0.9, 1.0]]
    np.testing.assert_allclose(memory.time_scales(_trace("gru", z=z)), [1, 2, 10, 1e6])
    np.testing.assert_allclose(
        memory.time_scales(_trace("lstm", f=z), max_steps=100), [1, 2, 10, 100]
    )
    with pytest.raises(ValueError, match="no gate that keeps its state; these do: lstm, gru"):
        memory.time_scales(_trace("rnn", h=z))


def test_time_scales_of_real_traces():
    torch.manual_seed(3)
    gru = nn.GRU(1, 4, batch_first=True).double()
    with torch.no_grad():
        gru.bias_hh_l0[4:8] = torch.tensor([40.0, 40.0, -40.0, 0.0])  # z ~ 1, 1, 0, free
    t = gates.trace(gru, torch.randn(50, 1, dtype=torch.float64))
    scales = memory.time_scales(t, max_steps=1000)
    assert scales[0] == scales[1] == 1000  # a stuck gate: capped, not infinite
    assert scales[2] == pytest.approx(1.0)
    assert scales[3] == pytest.approx(1 / (1 - t["z"][:, 3].mean()))
    lstm = nn.LSTM(1, 3, batch_first=True).double()
    with torch.no_grad():
        lstm.bias_hh_l0[3:6] = torch.tensor([-40.0, 0.0, 3.0])  # f ~ 0, free, high
    t = gates.trace(lstm, torch.randn(50, 1, dtype=torch.float64))
    scales = memory.time_scales(t)
    assert scales[0] == pytest.approx(1.0) and scales[2] > scales[1]
    assert scales[1] == pytest.approx(1 / (1 - t["f"][:, 1].mean()))


def test_saturation_by_hand():
    t = _trace("gru", r=[[0.01, 0.5], [0.97, 0.96]], z=[[0.5, 0.5], [0.05, 0.95]], n=[[0, 0]] * 2)
    table = memory.saturation(t)
    assert list(table["gate"]) == ["r", "z"]
    assert table.iloc[0][["below", "above", "saturated"]].tolist() == [0.25, 0.5, 0.75]
    assert table.iloc[1]["saturated"] == 0  # 0.05 and 0.95 themselves are not saturated
    assert memory.saturation(_trace("rnn", h=[[0.0]])).empty
    lstm = memory.saturation(gates.trace(nn.LSTM(1, 3), torch.randn(20, 1)))
    assert list(lstm["gate"]) == ["i", "f", "o"]


def test_length_experiment_tabulates_what_the_caller_trains():
    calls = []

    def train(model: str, length: int, seed: int) -> float:
        calls.append((model, length, seed))
        return {"rnn": 0.02, "gru": 0.01}[model] * length + seed / 1000

    seen = []
    table = memory.length_experiment(
        train, ["rnn", "gru"], [10, 40], seeds=(0, 1), on_row=seen.append
    )
    assert calls[:3] == [("rnn", 10, 0), ("gru", 10, 0), ("rnn", 10, 1)]
    assert len(table) == 8 and len(seen) == 8
    assert list(table.columns) == ["model", "length", "seed", memory.BEST]
    row = table[(table.model == "rnn") & (table.length == 40) & (table.seed == 1)]
    assert row[memory.BEST].item() == pytest.approx(0.801)
    wide = memory.by_length(table)
    assert list(wide.columns) == ["rnn", "gru"] and list(wide.index) == [10, 40]
    assert wide.loc[40, "gru"] == pytest.approx(0.4005)  # median of 0.400 and 0.401


def test_length_experiment_keeps_named_results_and_checks_its_input():
    table = memory.length_experiment(
        lambda m, n, s: {"test_mse": n / 10, "epochs": 3}, ["lstm"], [5]
    )
    assert table.to_dict("records") == [
        {"model": "lstm", "length": 5, "seed": 0, "test_mse": 0.5, "epochs": 3}
    ]
    assert memory.by_length(table, "test_mse").loc[5, "lstm"] == 0.5
    with pytest.raises(ValueError, match="no column 'best_test_error'"):
        memory.by_length(table)
    with pytest.raises(ValueError, match="whole numbers of steps"):
        memory.length_experiment(lambda m, n, s: 0.0, ["gru"], [0])
    with pytest.raises(ValueError, match="at least one model"):
        memory.length_experiment(lambda m, n, s: 0.0, [], [5])
    assert isinstance(table, pd.DataFrame)


def test_gradient_influence_through_the_numpy_gru_kernel():
    """A forecaster whose GRU runs as one numpy autograd node gives torch's gradients."""
    torch.manual_seed(4)
    model = GRUForecaster(8).double()
    x = torch.randn(1, 25, 1, dtype=torch.float64)
    fast = memory.gradient_influence(model, x)
    model.fast_kernel = False
    np.testing.assert_allclose(fast, memory.gradient_influence(model, x), rtol=1e-10)
