"""A transparent GRU: one step at a time, every gate visible.

It reproduces `torch.nn.GRU` from that module's own weights, in PyTorch's
convention (the reset gate multiplies the *projected* hidden state):

    r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
    z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
    h' = (1 - z) * n + z * h

This is for looking inside a trained model; the trainer never uses it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from gru_core import kernels


@dataclass(frozen=True)
class GateTrace:
    """Per-step values of a single-layer GRU; each tensor is (time, hidden)."""

    r: torch.Tensor  # reset gate, in [0, 1]
    z: torch.Tensor  # update gate, in [0, 1]; near 1 keeps the old state
    n: torch.Tensor  # candidate state, in [-1, 1]
    h: torch.Tensor  # hidden state after each step
    h0: torch.Tensor  # (hidden,) state before the first step


@dataclass(frozen=True)
class GRUWeights:
    """`nn.GRU` layer-0 weights split by gate and named after the equations."""

    W_ir: torch.Tensor
    W_iz: torch.Tensor
    W_in: torch.Tensor
    W_hr: torch.Tensor
    W_hz: torch.Tensor
    W_hn: torch.Tensor
    b_ir: torch.Tensor
    b_iz: torch.Tensor
    b_in: torch.Tensor
    b_hr: torch.Tensor
    b_hz: torch.Tensor
    b_hn: torch.Tensor

    @classmethod
    def of(cls, gru: nn.GRU) -> GRUWeights:
        # PyTorch stacks the gates as (r, z, n) along dim 0.
        w_ir, w_iz, w_in = gru.weight_ih_l0.detach().chunk(3)
        w_hr, w_hz, w_hn = gru.weight_hh_l0.detach().chunk(3)
        h = gru.hidden_size
        zeros = gru.weight_ih_l0.new_zeros(3 * h)
        b_i = gru.bias_ih_l0.detach() if gru.bias else zeros
        b_h = gru.bias_hh_l0.detach() if gru.bias else zeros
        b_ir, b_iz, b_in = b_i.chunk(3)
        b_hr, b_hz, b_hn = b_h.chunk(3)
        return cls(w_ir, w_iz, w_in, w_hr, w_hz, w_hn, b_ir, b_iz, b_in, b_hr, b_hz, b_hn)


def step(w: GRUWeights, x: torch.Tensor, h: torch.Tensor):
    """One GRU step. x: (input,), h: (hidden,) -> r, z, n, h' each (hidden,)."""
    r = torch.sigmoid(w.W_ir @ x + w.b_ir + w.W_hr @ h + w.b_hr)
    z = torch.sigmoid(w.W_iz @ x + w.b_iz + w.W_hz @ h + w.b_hz)
    n = torch.tanh(w.W_in @ x + w.b_in + r * (w.W_hn @ h + w.b_hn))
    h_new = (1 - z) * n + z * h
    return r, z, n, h_new


@torch.no_grad()
def trace(gru: nn.GRU, x: torch.Tensor, h0: torch.Tensor | None = None) -> GateTrace:
    """Run a single-layer `gru` over x (time, input_size) from h0 (hidden,), keeping every gate.

    The equations of `step`, computed by the numpy GRU kernel (`kernels.forward`, which keeps
    the gates for its backward pass). numpy keeps the GIL on arrays this small, where each
    torch call releases and re-acquires it: beside a training thread a step-by-step torch
    trace of 2,000 steps waited about a millisecond per call (seconds, not milliseconds).
    """
    if gru.num_layers != 1 or gru.bidirectional:
        raise ValueError("gates.trace explains a single-layer, unidirectional GRU")
    if x.dim() != 2 or x.shape[1] != gru.input_size:
        raise ValueError(f"x must be (time, {gru.input_size}); got {tuple(x.shape)}")
    size = gru.hidden_size
    w_ih, w_hh = (w.detach().cpu().numpy() for w in (gru.weight_ih_l0, gru.weight_hh_l0))
    zeros = np.zeros(3 * size, dtype=w_ih.dtype)
    b_ih, b_hh = (
        (b.detach().cpu().numpy() for b in (gru.bias_ih_l0, gru.bias_hh_l0))
        if gru.bias
        else (zeros, zeros)
    )
    inputs = x.detach().cpu().numpy().astype(w_ih.dtype)
    start = (np.zeros(size) if h0 is None else h0.reshape(-1).cpu().numpy()).astype(w_ih.dtype)
    h, (_, (g, n), _) = kernels.forward(
        inputs[None], start[None], w_ih, w_hh, b_ih, b_hh, keep=True
    )  # h (1, time, hidden); g (time, 4 * hidden, 1) as r; z; ...; n (time, hidden, 1)
    r, z = g[:, :size, 0], g[:, size : 2 * size, 0]
    as_tensor = torch.from_numpy
    r, z, n, h = (as_tensor(np.ascontiguousarray(a)) for a in (r, z, n[..., 0], h[0]))
    return GateTrace(r, z, n, h, as_tensor(start))


def memory_steps(mean_z: torch.Tensor) -> torch.Tensor:
    """A unit's memory in steps, 1 / (1 - mean z): how long a value lingers in its state."""
    return 1.0 / (1.0 - mean_z).clamp_min(1e-6)
