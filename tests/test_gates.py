import numpy as np
import pytest
import torch
from torch import nn

from gru_core import cells, gates


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


# -- every kind ---------------------------------------------------------------------------------

KINDS = list(cells.KINDS)


def _core(kind: str, layers: int = 1, seed: int = 0, scale: float = 1.5) -> nn.Module:
    torch.manual_seed(seed)
    core = cells.build(kind, 2, 6, layers).double()
    with torch.no_grad():
        for p in core.parameters():
            p.normal_(0, scale)  # large weights: saturated gates, where mistakes show
    return core


def _start(kind: str, layers: int, seed: int = 5):
    g = torch.Generator().manual_seed(seed)
    h0, c0 = torch.randn(2, layers, 1, 6, dtype=torch.float64, generator=g)
    return (h0, c0) if kind == "lstm" else h0


def _squeeze(state0):
    return tuple(s[:, 0] for s in state0) if isinstance(state0, tuple) else state0[:, 0]


def _sub_stack(core: nn.Module, kind: str, layers: int) -> nn.Module:
    """The bottom `layers` layers of `core`, as a module of their own."""
    sub = cells.build(kind, 2, 6, layers).double()
    sub.load_state_dict({k: v for k, v in core.state_dict().items() if k in sub.state_dict()})
    return sub


def test_every_kind_has_a_twin():
    assert set(gates.TWINS) == set(cells.KINDS)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("layers", [1, 3])
def test_twin_reproduces_the_module_every_step_every_layer(kind, layers):
    core = _core(kind, layers)
    x = torch.randn(40, 2, dtype=torch.float64)
    state0 = _start(kind, layers)
    for layer in range(layers):
        sub = _sub_stack(core, kind, layer + 1)
        sub_start = tuple(s[: layer + 1] for s in state0) if kind == "lstm" else state0[: layer + 1]
        with torch.no_grad():
            reference, final = sub(x[None], sub_start)  # (1, time, hidden)
        traced = gates.trace(core, x, _squeeze(state0), layer=layer)
        assert list(traced.values) == list(cells.KINDS[kind].gates)
        # Control: the same comparison against another core's weights must fail.
        other = gates.trace(_core(kind, layers, seed=1), x, _squeeze(state0), layer=layer)
        assert not np.allclose(other["h"], reference[0].numpy(), atol=1e-10)
        np.testing.assert_allclose(traced["h"], reference[0].numpy(), atol=1e-10, rtol=0)
        if kind == "lstm":
            np.testing.assert_allclose(traced["c"][-1], final[1][layer, 0], atol=1e-10, rtol=0)
        assert traced.layer == layer and traced.kind == kind


@pytest.mark.parametrize("kind", KINDS)
def test_gates_follow_their_own_equations_and_ranges(kind):
    t = gates.trace(_core(kind), torch.randn(30, 2, dtype=torch.float64), float64=True)
    info = cells.KINDS[kind]
    for name in info.sigmoid_gates:
        assert t[name].min() >= 0 and t[name].max() <= 1
    for name in set(info.gates) - set(info.sigmoid_gates) - {"c"}:
        assert np.abs(t[name]).max() <= 1
    prev_h = np.concatenate([t.state0["h"][None], t["h"][:-1]])
    if kind == "lstm":
        prev_c = np.concatenate([t.state0["c"][None], t["c"][:-1]])
        np.testing.assert_allclose(t["c"], t["f"] * prev_c + t["i"] * t["g"], atol=1e-12)
        np.testing.assert_allclose(t["h"], t["o"] * np.tanh(t["c"]), atol=1e-12)
    elif kind == "gru":
        np.testing.assert_allclose(t["h"], (1 - t["z"]) * t["n"] + t["z"] * prev_h, atol=1e-12)
    elif "z" in info.gates:
        expected = t["z"] * prev_h + (1 - t["z"]) * t["h_tilde"]
        np.testing.assert_allclose(t["h"], expected, atol=1e-12)
    elif "h_tilde" in info.gates:
        np.testing.assert_array_equal(t["h"], t["h_tilde"])


@pytest.mark.parametrize("kind", KINDS)
def test_float64_where_asked(kind):
    core = _core(kind).float()
    x = torch.randn(25, 2)
    assert gates.trace(core, x)["h"].dtype == np.float32
    traced = gates.trace(core, x, float64=True)
    assert traced["h"].dtype == np.float64
    with torch.no_grad():
        reference, _ = core.double()(x[None].double())
    np.testing.assert_allclose(traced["h"], reference[0].numpy(), atol=1e-10, rtol=0)


def test_trace_checks_layer_and_start_state():
    core = _core("lstm", 2)
    x = torch.randn(5, 2, dtype=torch.float64)
    with pytest.raises(ValueError, match=r"layer must be in \[0, 1\]"):
        gates.trace(core, x, layer=2)
    with pytest.raises(ValueError, match=r"a start state must be \(2, 6\)"):
        gates.trace(core, x, (torch.zeros(6), torch.zeros(6)), layer=0)
    with pytest.raises(ValueError, match="not one of the kinds"):
        gates.trace(nn.RNN(2, 6, nonlinearity="relu"), x)
