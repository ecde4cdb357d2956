"""A single-layer GRU forward and backward in numpy, for small models on the CPU.

For the sizes this app trains (hidden 16, one series), `torch.nn.GRU` on the CPU
spends its time in per-step framework overhead, not arithmetic: about 40 us a
step forward and several times that backward. The same equations in numpy cost
a few microseconds a step. `GRUFunction` wraps them as one autograd node, so the
rest of training (linear head, loss, Adam) stays plain torch and the weights stay
in the `nn.GRU` module. Gradients are checked against `nn.GRU` in the tests.

Used only where it wins: CPU tensors, one layer, float32/float64, hidden <= 128
(see `applies`). Everything else uses `nn.GRU` unchanged.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

MAX_HIDDEN = 128  # above this, matrix work dominates and nn.GRU's kernels win


def applies(gru: nn.GRU, x: torch.Tensor) -> bool:
    """Whether the numpy path should run this call."""
    return (
        x.device.type == "cpu"
        and gru.num_layers == 1
        and not gru.bidirectional
        and gru.bias
        and gru.batch_first
        and gru.hidden_size <= MAX_HIDDEN
        and x.dtype in (torch.float32, torch.float64)
    )


def _sigmoid(a: np.ndarray) -> np.ndarray:
    # Callers silence overflow: exp(-a) -> inf gives 0, the right limit.
    return 1.0 / (1.0 + np.exp(-a))


@np.errstate(over="ignore", invalid="ignore")  # saturation is fine; NaN losses are caught later
def forward(x, h0, w_ih, w_hh, b_ih, b_hh, keep: bool):
    """x (B, T, I), h0 (B, H) -> out (B, T, H), and the per-step values backward needs."""
    hidden = w_hh.shape[1]
    batch, steps, _ = x.shape
    gi = x @ w_ih.T + b_ih  # (B, T, 3H), every input projection at once
    w_hh_t = w_hh.T.copy()
    out = np.empty((batch, steps, hidden), dtype=x.dtype)
    cache = np.empty((4, steps, batch, hidden), dtype=x.dtype) if keep else None
    h = h0
    for t in range(steps):
        gh = h @ w_hh_t + b_hh  # (B, 3H)
        g = gi[:, t]
        rz = _sigmoid(g[:, : 2 * hidden] + gh[:, : 2 * hidden])
        r, z = rz[:, :hidden], rz[:, hidden:]
        ghn = gh[:, 2 * hidden :]
        n = np.tanh(g[:, 2 * hidden :] + r * ghn)
        if keep:
            cache[0, t], cache[1, t], cache[2, t], cache[3, t] = r, z, n, ghn
        h = n + z * (h - n)  # = (1 - z) * n + z * h
        out[:, t] = h
    return out, cache


@np.errstate(over="ignore", invalid="ignore")
def backward(x, h0, out, cache, w_ih, w_hh, d_out, d_hn):
    """Backpropagation through time for `forward`; returns dx, dh0, dW_ih, dW_hh, db_ih, db_hh."""
    hidden = w_hh.shape[1]
    batch, steps, _ = x.shape
    d_gi = np.empty((batch, steps, 3 * hidden), dtype=x.dtype)
    d_gh = np.empty((batch, steps, 3 * hidden), dtype=x.dtype)
    dh = d_hn.copy()
    for t in range(steps - 1, -1, -1):
        r, z, n, ghn = cache[0, t], cache[1, t], cache[2, t], cache[3, t]
        h_prev = out[:, t - 1] if t > 0 else h0
        dh = dh + d_out[:, t]
        dn = dh * (1 - z)
        da_n = dn * (1 - n * n)
        d_gi[:, t, 2 * hidden :] = da_n
        d_gh[:, t, 2 * hidden :] = da_n * r
        d_gi[:, t, :hidden] = d_gh[:, t, :hidden] = da_n * ghn * r * (1 - r)
        d_gi[:, t, hidden : 2 * hidden] = d_gh[:, t, hidden : 2 * hidden] = (
            dh * (h_prev - n) * z * (1 - z)
        )
        dh = dh * z + d_gh[:, t] @ w_hh
    h_prevs = np.concatenate([h0[:, None], out[:, :-1]], axis=1)  # (B, T, H)
    flat_gh = d_gh.reshape(-1, 3 * hidden)
    flat_gi = d_gi.reshape(-1, 3 * hidden)
    d_w_hh = flat_gh.T @ h_prevs.reshape(-1, hidden)
    d_w_ih = flat_gi.T @ x.reshape(-1, x.shape[2])
    return d_gi @ w_ih, dh, d_w_ih, d_w_hh, flat_gi.sum(0), flat_gh.sum(0)


class GRUFunction(torch.autograd.Function):
    """`nn.GRU` (one layer, batch_first) as a single autograd node computed in numpy."""

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh):  # (B,T,I), (B,H) -> (B,T,H), (B,H)
        arrays = [t.detach().numpy() for t in (x, h0, w_ih, w_hh, b_ih, b_hh)]
        keep = torch.is_grad_enabled() or any(ctx.needs_input_grad)
        out, cache = forward(*arrays, keep=keep)
        ctx.arrays = (arrays[0], arrays[1], out, cache, arrays[2], arrays[3])
        out_t = torch.from_numpy(out)
        return out_t, out_t[:, -1].clone()

    @staticmethod
    def backward(ctx, d_out, d_hn):
        x, h0, out, cache, w_ih, w_hh = ctx.arrays
        d_out = np.zeros_like(out) if d_out is None else d_out.detach().numpy()
        d_hn = np.zeros_like(h0) if d_hn is None else d_hn.detach().numpy()
        grads = backward(x, h0, out, cache, w_ih, w_hh, d_out, d_hn)
        return tuple(torch.from_numpy(np.ascontiguousarray(g)) for g in grads)


def gru(module: nn.GRU, x: torch.Tensor, h0: torch.Tensor | None):
    """Drop-in for `module(x, h0)` (batch_first, one layer): out (B,T,H), h (1,B,H)."""
    batch = x.shape[0]
    h = x.new_zeros(batch, module.hidden_size) if h0 is None else h0[0]
    if torch.is_grad_enabled():
        out, hn = GRUFunction.apply(
            x, h, module.weight_ih_l0, module.weight_hh_l0, module.bias_ih_l0, module.bias_hh_l0
        )
    else:  # inference: no autograd node, no cache
        arrays = [
            t.detach().numpy()
            for t in (
                x,
                h,
                module.weight_ih_l0,
                module.weight_hh_l0,
                module.bias_ih_l0,
                module.bias_hh_l0,
            )
        ]
        out_np, _ = forward(*arrays, keep=False)
        out = torch.from_numpy(out_np)
        hn = out[:, -1].clone()
    return out, hn[None]


@np.errstate(over="ignore", invalid="ignore")
def gru_closed_loop(module: nn.GRU, head: nn.Linear, y0: np.ndarray, h: np.ndarray, horizon: int):
    """Feed a GRU + linear head its own outputs: y0 (B,) first prediction, h (B,H) its state.

    Returns (B, horizon) predictions, y0 first. The free-running forecast without
    a framework call per step.
    """
    w_ih, w_hh, b_ih, b_hh = (
        p.detach().numpy()
        for p in (module.weight_ih_l0, module.weight_hh_l0, module.bias_ih_l0, module.bias_hh_l0)
    )
    w_out, b_out = head.weight.detach().numpy()[0], head.bias.detach().numpy()[0]
    hidden = w_hh.shape[1]
    w_i, w_hh_t = w_ih[:, 0], w_hh.T.copy()
    preds = np.empty((y0.shape[0], horizon), dtype=y0.dtype)
    y = preds[:, 0] = y0
    for t in range(1, horizon):
        g = y[:, None] * w_i + b_ih  # (B, 3H)
        gh = h @ w_hh_t + b_hh
        rz = _sigmoid(g[:, : 2 * hidden] + gh[:, : 2 * hidden])
        n = np.tanh(g[:, 2 * hidden :] + rz[:, :hidden] * gh[:, 2 * hidden :])
        h = n + rz[:, hidden:] * (h - n)
        y = preds[:, t] = h @ w_out + b_out
    return preds


@np.errstate(over="ignore", invalid="ignore")
def mlp_closed_loop(net: nn.Sequential, window: np.ndarray, horizon: int):
    """Feed an MLP (Linear/ReLU stack) its own outputs; window (B, k) holds the last k inputs.

    Returns (B, horizon): the prediction from `window`, then each next one.
    """
    layers = [
        (m.weight.detach().numpy().T, m.bias.detach().numpy()) if isinstance(m, nn.Linear) else None
        for m in net
    ]
    preds = np.empty((window.shape[0], horizon), dtype=window.dtype)
    window = window.copy()
    for t in range(horizon):
        a = window
        for layer in layers:
            a = np.maximum(a, 0) if layer is None else a @ layer[0] + layer[1]
        preds[:, t] = a[:, 0]
        window = np.concatenate([window[:, 1:], a], axis=1)
    return preds
