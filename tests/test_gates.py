import pytest
import torch
from torch import nn

from gru_core import gates


def _random_gru(hidden: int = 7, scale: float = 3.0, seed: int = 0) -> nn.GRU:
    torch.manual_seed(seed)
    gru = nn.GRU(1, hidden).double()
    with torch.no_grad():
        for p in gru.parameters():
            p.normal_(0, scale)  # large weights: saturated gates, where mistakes show
    return gru


def test_trace_reproduces_nn_gru_every_step():
    gru = _random_gru()
    x = torch.randn(50, 1, dtype=torch.float64)
    h0 = torch.randn(7, dtype=torch.float64)
    reference, _ = gru(x[:, None], h0[None, None])  # (time, 1, hidden)
    # Control: the same comparison against another GRU's weights must fail.
    other = gates.trace(_random_gru(seed=1), x, h0)
    assert not torch.allclose(other.h, reference[:, 0], atol=1e-10)
    traced = gates.trace(gru, x, h0)
    assert torch.allclose(traced.h, reference[:, 0], atol=1e-10, rtol=0)


def test_trace_gradients_match_nn_gru():
    gru = _random_gru(hidden=5, scale=1.0)
    x = torch.randn(12, 1, dtype=torch.float64)
    out, _ = gru(x[:, None])
    (g_ref,) = torch.autograd.grad(out.sum(), gru.weight_hh_l0)
    w = gates.GRUWeights.of(gru)
    w_hh = gru.weight_hh_l0.detach().clone().requires_grad_(True)
    w_hr, w_hz, w_hn = w_hh.chunk(3)
    w = gates.GRUWeights(w.W_ir, w.W_iz, w.W_in, w_hr, w_hz, w_hn, *list(vars(w).values())[6:])
    h = torch.zeros(5, dtype=torch.float64)
    total = 0
    for t in range(12):
        _, _, _, h = gates.step(w, x[t], h)
        total = total + h.sum()
    (g_mine,) = torch.autograd.grad(total, w_hh)
    assert torch.allclose(g_mine, g_ref, atol=1e-10, rtol=0)


def test_gate_ranges_and_shapes():
    gru = _random_gru(hidden=4).float()
    trace = gates.trace(gru, torch.randn(30, 1))
    for name in ("r", "z", "n", "h"):
        assert getattr(trace, name).shape == (30, 4)
    for gate in (trace.r, trace.z):
        assert gate.min() >= 0 and gate.max() <= 1
    assert trace.n.abs().max() <= 1
    assert torch.equal(trace.h0, torch.zeros(4))


def test_h_follows_its_own_equation():
    trace = gates.trace(_random_gru(), torch.randn(20, 1, dtype=torch.float64))
    prev = torch.cat([trace.h0[None], trace.h[:-1]])
    assert torch.allclose(trace.h, (1 - trace.z) * trace.n + trace.z * prev, atol=1e-12)


def test_trace_rejects_what_it_cannot_explain():
    with pytest.raises(ValueError, match="single-layer"):
        gates.trace(nn.GRU(1, 4, num_layers=2), torch.randn(5, 1))
    with pytest.raises(ValueError, match=r"\(time, 1\)"):
        gates.trace(nn.GRU(1, 4), torch.randn(5))


def test_memory_steps():
    mem = gates.memory_steps(torch.tensor([0.0, 0.5, 0.9]))
    assert torch.allclose(mem, torch.tensor([1.0, 2.0, 10.0]))
