import numpy as np
import pytest
import torch
from torch import nn

from gru_core import kernels


def _gru(hidden: int, dtype=torch.float64, seed: int = 0) -> nn.GRU:
    torch.manual_seed(seed)
    gru = nn.GRU(1, hidden, batch_first=True).to(dtype)
    with torch.no_grad():
        for p in gru.parameters():
            p.mul_(3)
    return gru


@pytest.mark.parametrize("batch,steps,hidden", [(1, 20, 16), (4, 7, 5), (3, 1, 9)])
def test_forward_and_gradients_match_nn_gru(batch, steps, hidden):
    gru = _gru(hidden)
    x = torch.randn(batch, steps, 1, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(1, batch, hidden, dtype=torch.float64, requires_grad=True)
    ref_out, ref_h = gru(x, h0)
    out, h = kernels.gru(gru, x, h0)
    assert torch.allclose(out, ref_out, atol=1e-12, rtol=0)
    assert torch.allclose(h, ref_h, atol=1e-12, rtol=0)
    w_out, w_h = torch.randn_like(out), torch.randn_like(h)
    inputs = [x, h0, *gru.parameters()]
    ref = torch.autograd.grad((ref_out * w_out).sum() + (ref_h * w_h).sum(), inputs)
    mine = torch.autograd.grad((out * w_out).sum() + (h * w_h).sum(), inputs)
    for a, b in zip(mine, ref, strict=True):
        assert torch.allclose(a, b, atol=1e-10, rtol=0)


def test_control_other_weights_differ():
    x = torch.randn(2, 10, 1, dtype=torch.float64)
    a, _ = kernels.gru(_gru(6, seed=0), x, None)
    b, _ = _gru(6, seed=1)(x)
    assert not torch.allclose(a, b, atol=1e-6)


def test_float32_close_to_nn_gru():
    gru = _gru(16, torch.float32)
    x = torch.randn(1, 50, 1)
    with torch.no_grad():
        assert torch.allclose(kernels.gru(gru, x, None)[0], gru(x)[0], atol=1e-5)


def test_applies_only_where_it_should():
    x = torch.randn(1, 3, 1)
    assert kernels.applies(nn.GRU(1, 16, batch_first=True), x)
    assert not kernels.applies(nn.GRU(1, 16, num_layers=2, batch_first=True), x)
    assert not kernels.applies(nn.GRU(1, 16), x)  # not batch_first
    assert not kernels.applies(nn.GRU(1, kernels.MAX_HIDDEN + 1, batch_first=True), x)


def test_closed_loops_match_step_by_step_torch():
    torch.manual_seed(0)
    gru, head = nn.GRU(1, 8, batch_first=True), nn.Linear(8, 1)
    h = torch.randn(2, 8)
    y0 = torch.randn(2)
    preds = kernels.gru_closed_loop(gru, head, y0.numpy(), h.numpy(), 15)
    with torch.no_grad():
        y, state, expected = y0[:, None, None], h[None], [y0.numpy()]
        for _ in range(14):
            out, state = gru(y, state)
            y = head(out)
            expected.append(y[:, 0, 0].numpy())
    np.testing.assert_allclose(preds, np.stack(expected, 1), atol=1e-5)
