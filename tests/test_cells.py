import pytest
import torch
from torch import nn

from gru_core import cells

ALL = list(cells.KINDS)


def _count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("kind", ALL)
@pytest.mark.parametrize("layers", [1, 2, 4])
def test_every_kind_is_called_like_nn_gru(kind, layers):
    torch.manual_seed(0)
    core = cells.build(kind, 3, 5, layers, dropout=0.2)
    h0 = torch.randn(layers, 2, 5)
    state0 = (h0, torch.randn(layers, 2, 5)) if kind == "lstm" else h0
    out, h_n = core(torch.randn(2, 7, 3), state0)
    assert out.shape == (2, 7, 5)
    h_last = h_n[0] if kind == "lstm" else h_n
    assert h_last.shape == (layers, 2, 5)
    assert torch.equal(h_last[-1], out[:, -1])  # the top layer's last step
    out_zero, _ = core.eval()(torch.randn(2, 7, 3))  # no start state: zeros
    assert out_zero.shape == (2, 7, 5)


def test_unknown_kind_and_bad_layers_name_what_is_valid():
    with pytest.raises(ValueError, match="rnn, lstm, gru, gru_d2l, gru_update_only"):
        cells.build("transformer", 1, 4)
    with pytest.raises(ValueError, match=r"num_layers must be in \[1, 4\]"):
        cells.build("gru", 1, 4, num_layers=5)
    with pytest.raises(ValueError, match="gates must be r, z or both"):
        cells.D2LGRU(1, 4, gates=("q",))
    with pytest.raises(ValueError, match="not one of the kinds"):
        cells.kind_of(nn.RNN(1, 4, nonlinearity="relu"))


@pytest.mark.parametrize("kind", ALL)
def test_kind_of_and_describe_round_trip(kind):
    core = cells.build(kind, 1, 4, 2)
    assert cells.kind_of(core) == kind
    info = cells.describe(core)
    assert info.name == kind and "h" in info.gates
    assert set(info.sigmoid_gates) <= set(info.gates)
    assert info.keep_gate is None or info.keep_gate in info.sigmoid_gates


@pytest.mark.parametrize("kind", ALL)
@pytest.mark.parametrize("inputs,layers", [(1, 1), (1, 3), (4, 2), (2, 4)])
@pytest.mark.parametrize("head", [0, 1, 3])
def test_parameter_count_matches_the_built_module(kind, inputs, layers, head):
    core = cells.build(kind, inputs, 9, layers)
    expected = _count(core) + (_count(nn.Linear(9, head)) if head else 0)
    assert cells.parameter_count(kind, inputs, 9, layers, head) == expected


def test_parameter_counts_by_hand():
    # The tutorial's GRU + head; d2l keeps one bias per gate where torch keeps two.
    assert cells.parameter_count("gru", 1, 16, head=1) == 3 * (16 + 256 + 32) + 17 == 929
    assert cells.parameter_count("gru_d2l", 1, 16) == 3 * (16 + 256 + 16)
    assert cells.parameter_count("gru_reset_only", 1, 16) == 2 * (16 + 256 + 16)


def test_match_hidden_by_hand():
    gru = cells.parameter_count("gru", 1, 16, head=1)  # 929
    # LSTM + head: 4H^2 + 13H + 1 -> 846 at 13, 967 at 14; RNN + head: H^2 + 4H + 1 -> 897, 958.
    assert cells.match_hidden("lstm", gru) == 14
    assert cells.match_hidden("rnn", gru) == 29
    assert cells.match_hidden("gru", gru) == 16


@pytest.mark.parametrize("kind", ALL)
@pytest.mark.parametrize("target,layers", [(929, 1), (5000, 2), (120_000, 3)])
def test_match_hidden_is_the_closest_size(kind, target, layers):
    chosen = cells.match_hidden(kind, target, num_layers=layers)
    gaps = {h: abs(cells.parameter_count(kind, 1, h, layers, 1) - target) for h in range(1, 513)}
    assert gaps[chosen] == min(gaps.values())
    assert chosen == min(h for h, g in gaps.items() if g == gaps[chosen])  # ties: smaller


def _d2l_reference(inputs, state, params, gates):
    """d2l's `gru(inputs, state, params)`, written from its equations; inputs (T, B, I)."""
    W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h = params
    (H,) = state
    outputs = []
    for X in inputs:
        Z = torch.sigmoid((X @ W_xz) + (H @ W_hz) + b_z) if "z" in gates else None
        R = torch.sigmoid((X @ W_xr) + (H @ W_hr) + b_r) if "r" in gates else None
        H_tilde = torch.tanh((X @ W_xh) + ((R * H if R is not None else H) @ W_hh) + b_h)
        H = Z * H + (1 - Z) * H_tilde if Z is not None else H_tilde
        outputs.append(H)
    return torch.stack(outputs), (H,)


@pytest.mark.parametrize("gates", [("r", "z"), ("z",), ("r",)])
def test_d2l_gru_matches_its_equations_from_scratch(gates):
    torch.manual_seed(1)
    core = cells.D2LGRU(2, 6, gates=gates).double()
    x = torch.randn(3, 25, 2, dtype=torch.float64)
    h0 = torch.randn(1, 3, 6, dtype=torch.float64)
    params = [torch.randn(s, dtype=torch.float64) for s in [(2, 6), (6, 6), (6,)] * 3]
    expected, _ = _d2l_reference(x.transpose(0, 1), (h0[0],), params, gates)
    out, _ = core(x, h0)
    assert not torch.allclose(out, expected.transpose(0, 1), atol=1e-3)  # control
    layer = core.layers[0]
    names = ("W_xz", "W_hz", "b_z", "W_xr", "W_hr", "b_r", "W_xh", "W_hh", "b_h")
    with torch.no_grad():
        for name, value in zip(names, params, strict=True):
            if hasattr(layer, name):
                getattr(layer, name).copy_(value)
    out, h_n = core(x, h0)
    assert torch.allclose(out, expected.transpose(0, 1), atol=1e-12, rtol=0)
    assert torch.equal(h_n[0], out[:, -1])


def test_d2l_gru_parameters_are_named_and_initialised_as_d2l_does():
    torch.manual_seed(0)
    core = cells.D2LGRU(1, 200, gates=("r", "z"))
    names = {n.split(".")[-1] for n, _ in core.named_parameters()}
    assert names == {f"{w}{g}" for g in "rzh" for w in ("W_x", "W_h", "b_")}
    W_hh, b_z = core.layers[0].W_hh, core.layers[0].b_z
    assert W_hh.shape == (200, 200) and 0.009 < W_hh.std().item() < 0.011
    assert abs(W_hh.mean().item()) < 1e-3 and torch.equal(b_z, torch.zeros(200))
    update_only = cells.D2LGRU(1, 4, gates=("z",))
    assert "W_xr" not in {n.split(".")[-1] for n, _ in update_only.named_parameters()}


@pytest.mark.parametrize("kind", ALL)
def test_dropout_acts_between_layers_only(kind):
    torch.manual_seed(2)
    x = torch.randn(2, 6, 1)
    stacked = cells.build(kind, 1, 8, 2, dropout=0.5).train()
    a, b = stacked(x)[0], stacked(x)[0]
    assert not torch.equal(a, b)  # dropout between the layers changes the top layer
    assert (a != 0).all()  # and none after the last: no output is dropped
    single = cells.build(kind, 1, 8, 1, dropout=0.5).train()
    assert torch.equal(single(x)[0], single(x)[0])
    stacked.eval()
    assert torch.equal(stacked(x)[0], stacked(x)[0])
