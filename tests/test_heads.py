"""The many-to-one heads: a one-layer GRU core read through the numpy kernels gives what
`nn.GRU` gives, outputs and every gradient, in both directions."""

from __future__ import annotations

import pytest
import torch

from gru_core.heads import SequenceHead


def _outputs_and_grads(model: SequenceHead, x: torch.Tensor, fast: bool):
    model.fast_kernel = fast
    model.zero_grad()
    y, _ = model(x)
    (y**2).sum().backward()  # any scalar of every output
    return y.detach().clone(), {n: p.grad.clone() for n, p in model.named_parameters()}


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_the_numpy_gru_core_gives_nn_grus_outputs_and_gradients(bidirectional, dtype):
    torch.manual_seed(3)
    model = SequenceHead("gru", 8, outputs=2, bidirectional=bidirectional).to(dtype)
    x = torch.randn(5, 12, 1, dtype=dtype)
    fast, fast_grads = _outputs_and_grads(model, x, True)
    slow, slow_grads = _outputs_and_grads(model, x, False)
    tol = 1e-5 if dtype == torch.float32 else 1e-12
    assert torch.allclose(fast, slow, atol=tol, rtol=0)
    assert fast_grads.keys() == slow_grads.keys() and len(fast_grads) == (
        10 if bidirectional else 6
    )
    for name, grad in fast_grads.items():
        assert torch.allclose(grad, slow_grads[name], atol=tol, rtol=0), name
    # Control: the comparison sees a change of one weight.
    with torch.no_grad():
        model.rnn.weight_hh_l0[:, 0] += 0.1
    changed, _ = _outputs_and_grads(model, x, True)
    assert not torch.allclose(changed, slow, atol=tol, rtol=0)


def test_the_numpy_core_is_what_runs(monkeypatch):
    """The fast path is taken for a GRU core (not silently the torch one)."""
    from gru_core import kernels

    calls = []
    real = kernels.gru
    monkeypatch.setattr(kernels, "gru", lambda *a: calls.append(1) or real(*a))
    SequenceHead("gru", 4)(torch.randn(2, 6, 1))
    assert calls == [1]
    SequenceHead("lstm", 4)(torch.randn(2, 6, 1))  # not a GRU: torch's own
    assert calls == [1]
