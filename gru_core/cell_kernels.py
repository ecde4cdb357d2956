"""Numpy kernels for the one-layer vanilla RNN (tanh), LSTM and d2l GRUs with a linear head.

The RNN, LSTM and d2l-GRU (`cells.D2LGRU`: d2l's GRU and its update-only and reset-only
ablations) counterparts of kernels.py's GRU paths, for the same reason (on the CPU, torch
spends small models' time in per-call overhead; the d2l cells loop over time in Python):

- `RNNTrainStep`, `LSTMTrainStep`, `D2LGRUTrainStep`: a whole training step (forward,
  MSE, backpropagation through time, Adam) with `kernels.GRUTrainStep`'s interface, on
  views of the torch parameters and of the torch optimizer's state (`kernels.FlatAdam`),
  so the modules and the optimizer are always current. `train_step_for` picks the kernel
  of any kind, or None (train with torch).
- `closed_loop`, `forecasts`: a core + head fed its own outputs, for any of them (the
  GRU goes to kernels.py). Check `applies_to_forecasts` first.

torch's own LSTM is not slow on the CPU (its oneDNN kernel runs the whole sequence in one
call, about as fast as this kernel on 60-step chunks, benchmarks/cells.py), unlike its RNN
and GRU; this kernel wins on short chunks.

The layout follows kernels.py: feature-major states (H, B); one matrix product per step of
the layer's matrix with [h; 1; x]; sigmoids as (1 + tanh(a / 2)) / 2 with the halving
folded into the matrix rows. Checked against torch autograd, torch.optim.Adam and
step-by-step torch forecasts in tests/test_cell_kernels.py.
"""

from __future__ import annotations

import itertools

import numpy as np
import torch
from torch import nn

from gru_core import cells, kernels


class _Layer(kernels._Cell):
    """One nn.RNN / nn.LSTM layer as one matrix over [h; 1; x]: (G*H, H + 1 + I).

    Its rows are the pre-activations of the G gate blocks, torch's blocks taken in `order`;
    the first `sigmoids` blocks are halved in `matrix` (sigmoid via tanh), not in
    `grad_matrix`. Both torch biases are one column, so they share one gradient.
    """

    def __init__(self, w_ih, w_hh, b_ih, b_hh, order=(0,), sigmoids: int = 0) -> None:
        hidden, inputs = w_hh.shape[1], w_ih.shape[1]
        self.hidden, self.inputs = hidden, inputs
        rows = np.concatenate([np.arange(k * hidden, (k + 1) * hidden) for k in order])
        self.torch_rows = np.argsort(rows)  # matrix rows back in torch's order
        full = np.concatenate([w_hh, (b_ih + b_hh)[:, None], w_ih], axis=1)
        self.grad_matrix = full[rows]
        self.matrix = self.grad_matrix.copy()
        self.matrix[: sigmoids * hidden] *= self.matrix.dtype.type(0.5)

    def unpack(self, dm: np.ndarray) -> tuple[np.ndarray, ...]:
        """d_w_ih, d_w_hh, d_b_ih, d_b_hh from the gradient of the matrix."""
        hidden, dm = self.hidden, dm[self.torch_rows]
        return dm[:, hidden + 1 :], dm[:, :hidden], dm[:, hidden], dm[:, hidden]


def _params(core: nn.RNNBase) -> list[nn.Parameter]:
    return [core.weight_ih_l0, core.weight_hh_l0, core.bias_ih_l0, core.bias_hh_l0]


# -- vanilla RNN ---------------------------------------------------------------------------------


@np.errstate(over="ignore", invalid="ignore")
def _rnn_forward(v: np.ndarray, cell: _Layer) -> None:
    """h' = tanh(M [h; 1; x]) for every step, writing the states into v[1:, :H]."""
    matmul, tanh, m = np.matmul, np.tanh, cell.matrix
    for v_t, h_new in zip(v[:-1], v[1:, : cell.hidden], strict=True):
        matmul(m, v_t, out=h_new)
        tanh(h_new, out=h_new)


@np.errstate(over="ignore", invalid="ignore")
def _rnn_backward(v: np.ndarray, cell: _Layer, d_out: np.ndarray, d_hn: np.ndarray):
    """BPTT for `_rnn_forward`: d_out (T, H, B), d_hn (H, B) -> dh0 and the 4 gradients."""
    hidden = cell.hidden
    h = v[1:, :hidden]  # (T, H, B)
    d_a = 1 - h * h  # d h' / d a, overwritten below by d loss / d a
    dh = d_hn.copy()
    m_h = cell.grad_matrix[:, :hidden].T.copy()  # (H, H)
    matmul = np.matmul
    for d_o, d_at in zip(d_out[::-1], d_a[::-1], strict=True):
        dh += d_o
        d_at *= dh
        matmul(m_h, d_at, out=dh)
    dm = np.tensordot(d_a, v[:-1], axes=([0, 2], [0, 2]))  # (H, H+1+I)
    return dh, *cell.unpack(dm)


# -- LSTM ----------------------------------------------------------------------------------------


# The LSTM's blocks as the matrix holds them: torch's (i, f, g, o) taken as (o, i, f, g), so
# the three sigmoids are one run of rows and so are the three blocks that dc multiplies.
_LSTM_ORDER = (3, 0, 1, 2)


@np.errstate(over="ignore", invalid="ignore")
def _lstm_forward(v: np.ndarray, c: np.ndarray, cell: _Layer):
    """nn.LSTM over v from `_Layer.stack` and c[0] (H, B), writing h into v[1:, :H] and c
    into c[1:]. Returns the gates (T, 4H, B) as o; i; f; g and tanh(c') (T, H, B)."""
    hidden, steps, batch = cell.hidden, len(v) - 1, v.shape[2]
    g = np.empty((steps, 4 * hidden, batch), dtype=v.dtype)
    tc = np.empty((steps, hidden, batch), dtype=v.dtype)
    blocks = [g[:, k * hidden : (k + 1) * hidden] for k in range(4)]  # o, i, f, g
    sigmoids = g[:, : 3 * hidden]
    half, m = v.dtype.type(0.5), cell.matrix
    matmul, multiply, tanh = np.matmul, np.multiply, np.tanh
    for v_t, h_new, c_t, c_new, g_t, s, o, i, f, gg, tc_t in zip(
        v[:-1], v[1:, :hidden], c[:-1], c[1:], g, sigmoids, *blocks, tc, strict=True
    ):
        matmul(m, v_t, out=g_t)
        tanh(g_t, out=g_t)
        s *= half  # sigmoid(a) = (1 + tanh(a / 2)) / 2
        s += half
        multiply(f, c_t, out=c_new)  # c' = f * c + i * g
        multiply(i, gg, out=tc_t)
        c_new += tc_t
        tanh(c_new, out=tc_t)
        multiply(o, tc_t, out=h_new)  # h' = o * tanh(c')
    return g, tc


@np.errstate(over="ignore", invalid="ignore")
def _lstm_backward(v, c, cache, cell: _Layer, d_out, d_hn, d_cn):
    """BPTT for `_lstm_forward`: d_out (T, H, B), d_hn, d_cn (H, B) -> dh0, dc0 and the
    four gradients."""
    hidden = cell.hidden
    g, tc = cache
    o, i, f, gg = (g[:, k * hidden : (k + 1) * hidden] for k in range(4))
    # Everything that does not depend on the running dh and dc, for all steps at once.
    dc_from_h = o * (1 - tc * tc)  # d c' / d h' through h' = o * tanh(c')
    coef = np.empty_like(g)  # per block: d a / d h' (o), d a / d c' (i, f, g)
    coef[:, :hidden] = tc * o * (1 - o)
    coef[:, hidden : 2 * hidden] = gg * i * (1 - i)
    coef[:, 2 * hidden : 3 * hidden] = c[:-1] * f * (1 - f)
    coef[:, 3 * hidden :] = i * (1 - gg * gg)
    d_a = np.empty_like(g)  # d loss / d a
    shape = (len(g), 3, hidden, g.shape[2])
    # The i, f, g blocks as (T, 3, H, B) views: one product with dc fills all three.
    coef_c, d_ac = coef[:, hidden:].reshape(shape), d_a[:, hidden:].reshape(shape)
    dh, dc = d_hn.copy(), d_cn.copy()
    tmp = np.empty_like(dh)
    m_h = cell.grad_matrix[:, :hidden].T.copy()  # (H, 4H)
    matmul, multiply = np.matmul, np.multiply
    views = (d_out, dc_from_h, coef[:, :hidden], d_a[:, :hidden], coef_c, d_ac, f, d_a)
    for d_o, dc_h, coef_o, d_o_gate, coef_ifg, d_ifg, f_t, d_at in zip(
        *(w[::-1] for w in views), strict=True
    ):
        dh += d_o
        multiply(dh, dc_h, out=tmp)
        dc += tmp
        multiply(dh, coef_o, out=d_o_gate)
        multiply(dc, coef_ifg, out=d_ifg)
        dc *= f_t
        matmul(m_h, d_at, out=dh)
    dm = np.tensordot(d_a, v[:-1], axes=([0, 2], [0, 2]))  # (4H, H+1+I)
    return dh, dc, *cell.unpack(dm)


# -- d2l's GRU and its ablations --------------------------------------------------------------


class _D2LLayer(kernels._Cell):
    """One `cells.D2LGRULayer` as matrices over [h; 1; x]: ((G+1)*H, H + 1 + I).

    Block k of rows is [W_h^T | b | W_x^T] of the k-th of (*gates, "h"), the order the
    layer registers its parameters in, so the rows are the pre-activations of r, z (those
    there are) and the candidate. With a reset gate the candidate's block reads
    [r * h; 1; x] instead (`split` rows on are applied to that stack); without one it
    reads [h; 1; x] like the gates, and one product a step does everything. The gates'
    rows are halved in `matrix` (sigmoid via tanh), not in `grad_matrix`.
    """

    def __init__(self, params, gates: tuple[str, ...]) -> None:
        w_x, w_h = params[0], params[1]
        hidden, inputs = w_h.shape[0], w_x.shape[0]
        self.hidden, self.inputs = hidden, inputs
        self.reset, self.update = "r" in gates, "z" in gates
        self.gates = len(gates)
        self.split = self.gates * hidden if self.reset else (self.gates + 1) * hidden
        blocks = [
            np.concatenate([w_h.T, b[:, None], w_x.T], axis=1)
            for w_x, w_h, b in zip(params[::3], params[1::3], params[2::3], strict=True)
        ]
        self.grad_matrix = np.concatenate(blocks)
        self.matrix = self.grad_matrix.copy()
        self.matrix[: self.gates * hidden] *= self.matrix.dtype.type(0.5)

    def unpack(self, dm: np.ndarray) -> tuple[np.ndarray, ...]:
        """The gradients of the layer's parameters, in its order, from that of the matrix."""
        hidden, grads = self.hidden, []
        for k in range(self.gates + 1):
            block = dm[k * hidden : (k + 1) * hidden]
            grads += [block[:, hidden + 1 :].T, block[:, :hidden].T, block[:, hidden]]
        return tuple(grads)

    def reset_stack(self, v: np.ndarray) -> np.ndarray:
        """[r * h; 1; x] per step, the candidate's stack: v's rows below h, the top left for
        the loop to fill."""
        u = np.empty_like(v)
        u[:, self.hidden :] = v[:, self.hidden :]
        return u


@np.errstate(over="ignore", invalid="ignore")
def _d2l_forward(v: np.ndarray, u: np.ndarray | None, cell: _D2LLayer) -> np.ndarray:
    """d2l's GRU over v from `_D2LLayer.stack`, writing the states into v[1:, :H] and r * h
    into u[:-1, :H] (u from `reset_stack`, None without a reset gate). Returns the gates
    and candidates (T, (G+1)H, B): r, z (those there are), then H~."""
    hidden, steps, batch = cell.hidden, len(v) - 1, v.shape[2]
    rows = (cell.gates + 1) * hidden
    g = np.empty((steps, rows, batch), dtype=v.dtype)
    gates, first, cand = g[:, : cell.gates * hidden], g[:, : cell.split], g[:, cell.split :]
    r = g[:, :hidden] if cell.reset else itertools.repeat(None)
    z = g[:, rows - 2 * hidden : rows - hidden] if cell.update else itertools.repeat(None)
    c = g[:, rows - hidden :]
    s = u[:-1, :hidden] if cell.reset else itertools.repeat(None)
    stack = u[:-1] if cell.reset else itertools.repeat(None)
    half, m_first, m_cand = v.dtype.type(0.5), cell.matrix[: cell.split], cell.matrix[cell.split :]
    matmul, multiply, subtract, tanh = np.matmul, np.multiply, np.subtract, np.tanh
    for v_t, h, h_new, gate_t, first_t, cand_t, r_t, z_t, c_t, s_t, u_t in zip(
        v[:-1],
        v[:-1, :hidden],
        v[1:, :hidden],
        gates,
        first,
        cand,
        r,
        z,
        c,
        s,
        stack,
        strict=False,  # the views of a missing gate repeat None without end
    ):
        matmul(m_first, v_t, out=first_t)
        tanh(gate_t, out=gate_t)
        gate_t *= half
        gate_t += half
        if r_t is not None:  # the candidate reads r * h
            multiply(r_t, h, out=s_t)
            matmul(m_cand, u_t, out=cand_t)
        tanh(c_t, out=c_t)
        if z_t is None:  # no update gate: H' = H~
            np.copyto(h_new, c_t)
        else:  # H' = Z * H + (1 - Z) * H~
            subtract(h, c_t, out=h_new)
            h_new *= z_t
            h_new += c_t
    return g


@np.errstate(over="ignore", invalid="ignore")
def _d2l_backward(v, u, g, cell: _D2LLayer, d_out, d_hn):
    """BPTT for `_d2l_forward`: d_out (T, H, B), d_hn (H, B) -> dh0 (H, B) and the
    gradients of the layer's parameters, in its order."""
    hidden = cell.hidden
    rows = (cell.gates + 1) * hidden
    h, c = v[:-1, :hidden], g[:, rows - hidden :]
    # Everything that does not depend on the running dh, for all steps at once.
    d_c = 1 - c * c  # d H~ / d a_h~, then times d H' / d H~
    d_g = np.empty_like(g)  # d loss / d (a_r; a_z; a_h~)
    none = itertools.repeat(None)  # for the gate a cell lacks
    update_views = (none, none, none)
    if cell.update:
        z = g[:, rows - 2 * hidden : rows - hidden]
        d_c *= 1 - z
        dz_coef = (h - c) * z * (1 - z)  # d a_z / d H'
        update_views = (z[::-1], dz_coef[::-1], d_g[::-1, rows - 2 * hidden : rows - hidden])
    dh, tmp = d_hn.copy(), np.empty_like(d_hn)
    m_h = cell.grad_matrix[: cell.split, :hidden].T.copy()  # (H, split)
    matmul, multiply = np.matmul, np.multiply
    if cell.reset:
        r = g[:, :hidden]
        dr_coef = h * r * (1 - r)  # d a_r / d (r * h)
        w_hh = cell.grad_matrix[cell.split :, :hidden].T.copy()  # (H, H): d (r*h) / d a_h~
        reset_views = (r[::-1], dr_coef[::-1], d_g[::-1, :hidden])
    else:
        reset_views = (none, none, none)
    for d_o, d_c_t, d_cand, d_first, r_t, dr_c, d_r, z_t, dz_c, d_z in zip(
        d_out[::-1],
        d_c[::-1],
        d_g[::-1, rows - hidden :],
        d_g[::-1, : cell.split],
        *reset_views,
        *update_views,
        strict=False,  # the views of a missing gate repeat None without end
    ):
        dh += d_o
        multiply(dh, d_c_t, out=d_cand)
        if z_t is not None:
            multiply(dh, dz_c, out=d_z)
            dh *= z_t
        else:
            dh[:] = 0  # H' = H~: no path from H' to H but through the candidate
        if r_t is not None:  # through r * h: to r's pre-activation and to h
            matmul(w_hh, d_cand, out=tmp)
            multiply(tmp, dr_c, out=d_r)
            tmp *= r_t
            dh += tmp
        dh += matmul(m_h, d_first, out=tmp)
    dm = np.tensordot(d_g[:, : cell.split], v[:-1], axes=([0, 2], [0, 2]))
    if cell.reset:
        d_cand_m = np.tensordot(d_g[:, cell.split :], u[:-1], axes=([0, 2], [0, 2]))
        dm = np.concatenate([dm, d_cand_m])
    return dh, *cell.unpack(dm)


# -- forecasts fed back ----------------------------------------------------------------------

State = np.ndarray | tuple[np.ndarray, np.ndarray]  # h (B, H), or an LSTM's (h, c)


def _rnn_stepper(cell: _Layer, c0: np.ndarray | None, columns: int):
    """The RNN's step for `_feed_back`: writes h' (H, R) from [h; 1; u] (H+2, R)."""
    matmul, tanh, m = np.matmul, np.tanh, cell.matrix

    def step(v_t: np.ndarray, h_new: np.ndarray) -> None:
        matmul(m, v_t, out=h_new)
        tanh(h_new, out=h_new)

    return step


def _lstm_stepper(cell: _Layer, c0: np.ndarray | None, columns: int):
    """The LSTM's step for `_feed_back`, keeping its cell state (H, R) between calls."""
    hidden = cell.hidden
    g = np.empty((4 * hidden, columns), cell.matrix.dtype)
    s, o, i, f, gg = g[: 3 * hidden], *(g[k * hidden : (k + 1) * hidden] for k in range(4))
    c, tmp = c0.copy(), np.empty_like(c0)
    half, m = g.dtype.type(0.5), cell.matrix
    matmul, multiply, tanh = np.matmul, np.multiply, np.tanh

    def step(v_t: np.ndarray, h_new: np.ndarray) -> None:
        matmul(m, v_t, out=g)
        tanh(g, out=g)
        s[:] *= half
        s[:] += half
        c[:] *= f
        multiply(i, gg, out=tmp)
        c[:] += tmp
        tanh(c, out=tmp)
        multiply(o, tmp, out=h_new)

    return step


def _d2l_stepper(cell: _D2LLayer, c0: np.ndarray | None, columns: int):
    """A d2l GRU's step for `_feed_back`, as `_d2l_forward` takes it."""
    hidden, split, rows = cell.hidden, cell.split, (cell.gates + 1) * cell.hidden
    g = np.empty((rows, columns), cell.matrix.dtype)
    gates, first, cand = g[: cell.gates * hidden], g[:split], g[split:]
    r, z, c = g[:hidden], g[rows - 2 * hidden : rows - hidden], g[rows - hidden :]
    u = np.ones((hidden + cell.inputs + 1, columns), g.dtype)  # [r * h; 1; x]
    half, m_first, m_cand = g.dtype.type(0.5), cell.matrix[:split], cell.matrix[split:]
    matmul, multiply, subtract, tanh = np.matmul, np.multiply, np.subtract, np.tanh
    reset, update = cell.reset, cell.update

    def step(v_t: np.ndarray, h_new: np.ndarray) -> None:
        matmul(m_first, v_t, out=first)
        tanh(gates, out=gates)
        multiply(gates, half, out=gates)
        gates[:] += half
        if reset:
            multiply(r, v_t[:hidden], out=u[:hidden])
            u[hidden + 1 :] = v_t[hidden + 1 :]
            matmul(m_cand, u, out=cand)
        tanh(c, out=c)
        if update:
            subtract(v_t[:hidden], c, out=h_new)
            h_new *= z
            h_new += c
        else:
            np.copyto(h_new, c)

    return step


def _d2l_params(core: cells.D2LGRU) -> list[nn.Parameter]:
    """The first layer's parameters, in its order: W_x, W_h, b of each gate, then of H~."""
    return list(core.layers[0].parameters())


# module type -> (its layer's parameters, the layer from their arrays and the module, its
# step for `_feed_back`)
_FEED = {
    nn.RNN: (_params, lambda w, core: _Layer(*w), _rnn_stepper),
    nn.LSTM: (_params, lambda w, core: _Layer(*w, order=_LSTM_ORDER, sigmoids=3), _lstm_stepper),
    cells.D2LGRU: (_d2l_params, lambda w, core: _D2LLayer(w, core.gates), _d2l_stepper),
}


@np.errstate(over="ignore", invalid="ignore")
def _feed_back(core, head: nn.Linear, state: State, first, steps: int, inputs=None):
    """RNN or LSTM + linear head on R columns fed back, as `kernels._feed_back` does the GRU.

    state: h (R, H), or (h, c) for an LSTM. Every column reads first (R,) at step 0; after
    that columns [:K] read inputs[:, t-1] (K, steps-1), the others their own output.
    Returns the states after each step, (steps, H, R). The input size must be 1.
    """
    params, layer, stepper = _FEED[type(core)]
    h, c = state if isinstance(state, tuple) else (state, None)
    dtype = h.dtype
    cell = layer([w.astype(dtype) for w in kernels._numpy(*params(core))], core)
    hidden, k, columns = cell.hidden, 0 if inputs is None else len(inputs), len(first)
    v = np.empty((steps + 1, hidden + 2, columns), dtype=dtype)  # [h; 1; u]
    v[0, :hidden], v[:, hidden], v[0, hidden + 1] = h.T, 1, first
    if k:
        v[1:-1, hidden + 1, :k] = inputs.T
    head_matrix = np.concatenate(kernels._numpy(head.weight, head.bias[:, None]), 1).astype(dtype)
    step = stepper(cell, None if c is None else np.ascontiguousarray(c.T), columns)
    matmul = np.matmul
    for v_t, h_new, h_one, u_next in zip(
        v[:-1], v[1:, :hidden], v[1:, : hidden + 1, k:], v[1:, hidden + 1 :, k:], strict=True
    ):
        step(v_t, h_new)
        matmul(head_matrix, h_one, out=u_next)
    return v[1:, :hidden]


def applies_to_forecasts(core: nn.Module) -> bool:
    """Whether `closed_loop` and `forecasts` run `core`: a one-layer tanh RNN, LSTM, GRU or
    d2l GRU reading one value a step."""
    if type(core) is cells.D2LGRU:
        return D2LGRUTrainStep.core_applies(core)
    return type(core) in (*_FEED, nn.GRU) and _TrainStep.core_applies(core)


def closed_loop(
    core: nn.RNNBase, head: nn.Linear, y0: np.ndarray, state: State, horizon: int
) -> np.ndarray:
    """Feed a core + linear head its own outputs: y0 (B,) first prediction, `state` the
    core's after it. Returns (B, horizon) predictions, y0 first. A GRU goes to
    `kernels.gru_closed_loop`."""
    if isinstance(core, nn.GRU):
        return kernels.gru_closed_loop(core, head, y0, state, horizon)
    preds = np.empty((y0.shape[0], horizon), dtype=y0.dtype)
    preds[:, 0] = y0
    if horizon > 1:
        states = _feed_back(core, head, state, y0, horizon - 1)
        preds[:, 1:] = kernels._outputs(head, states).T
    return preds


def forecasts(
    core: nn.RNNBase, head: nn.Linear, x: np.ndarray, state: State
) -> tuple[np.ndarray, np.ndarray]:
    """Teacher-forced and free-running outputs over x (B, T) from `state`, in one loop:
    (one_step, free), each (B, T), as `kernels.gru_forecasts` (where a GRU goes)."""
    if isinstance(core, nn.GRU):
        return kernels.gru_forecasts(core, head, x, state)
    batch, steps = x.shape
    both = tuple(np.concatenate([s, s]).astype(x.dtype) for s in _as_tuple(state))
    first = np.concatenate([x[:, 0], x[:, 0]])
    states = _feed_back(core, head, both if len(both) > 1 else both[0], first, steps, x[:, 1:])
    out = kernels._outputs(head, states)  # (T, 2B)
    return np.ascontiguousarray(out[:, :batch].T), np.ascontiguousarray(out[:, batch:].T)


def _as_tuple(state) -> tuple:
    return state if isinstance(state, tuple) else (state,)


# -- whole training steps -----------------------------------------------------------------------


class _TrainStep:
    """What the RNN, LSTM and d2l-GRU steps share: the parameters, the head, Adam, `applies`."""

    module_type: type[nn.Module]

    def __init__(
        self, core: nn.Module, head: nn.Linear, opt: torch.optim.Adam, clip_grad: float = 0.0
    ) -> None:
        core_params = self.core_params(core)
        self.core_count = len(core_params)
        self.parameters = [*core_params, head.weight, head.bias]
        self.adam = kernels.FlatAdam(opt, self.parameters)
        self.clip_grad = clip_grad

    @staticmethod
    def core_params(core: nn.Module) -> list[nn.Parameter]:
        """The core's parameters, in the order its module (and so its optimizer) holds them."""
        return _params(core)

    @staticmethod
    def core_applies(core: nn.Module) -> bool:
        """Whether the kernel implements this core (its type already checked)."""
        return (
            getattr(core, "nonlinearity", "tanh") == "tanh"
            and not getattr(core, "proj_size", 0)
            and core.num_layers == 1
            and kernels.applies(core, core.weight_ih_l0)
            and core.input_size == 1
        )

    @classmethod
    def applies(cls, core: nn.Module, head: nn.Linear, opt: torch.optim.Optimizer) -> bool:
        """Whether this kernel implements `core` + `head` trained by `opt`."""
        return (
            type(core) is cls.module_type
            and cls.core_applies(core)
            and head.out_features == 1
            and head.bias is not None
            and kernels.adam_applies(opt, [*cls.core_params(core), head.weight, head.bias])
        )

    def _layer(self) -> _Layer:
        raise NotImplementedError

    def _start(self, x: np.ndarray, h0: np.ndarray | None) -> tuple[_Layer, np.ndarray]:
        """The layer and [h; 1; x] per step for x (B, T, I) from h0 (B, H) or zeros."""
        cell = self._layer()
        h0 = np.zeros((x.shape[0], cell.hidden), x.dtype) if h0 is None else h0
        return cell, cell.stack(x, h0)

    def _head(self, out: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        n = self.core_count
        return kernels.head_mse(out, y, *self.adam.params[n:], *self.adam.grads[n:])

    def _set_grads(self, grads) -> None:
        for view, grad in zip(self.adam.grads[: self.core_count], grads, strict=True):
            view[:] = grad

    def _update(self) -> None:
        if self.clip_grad > 0:
            self.adam.clip(self.clip_grad)
        self.adam.step()


class RNNTrainStep(_TrainStep):
    """One training step of `nn.RNN` (one layer, tanh) + `nn.Linear(H, 1)` under MSE, with Adam.

    Call with x, y (B, T, 1) arrays and the carried state h0 (1, B, H) tensor or None;
    returns the loss before the update and the state after the chunk (1, B, H).
    """

    module_type = nn.RNN

    def _layer(self) -> _Layer:
        return _Layer(*self.adam.params[:4])

    def _through_time(self, v: np.ndarray, cell, d_head):
        """Forward over v, then the head's loss and BPTT: (loss, the core's gradients)."""
        _rnn_forward(v, cell)
        loss, d_out = d_head(v[1:, : cell.hidden])
        _, *grads = _rnn_backward(v, cell, d_out, np.zeros_like(v[0, : cell.hidden]))
        return loss, grads

    def loss_and_grads(self, x: np.ndarray, y: np.ndarray, h0: np.ndarray | None):
        """MSE of the chunk and its gradients (into `adam.grads`); h0 (B, H) or None.

        Returns the loss and the final state (B, H).
        """
        cell, v = self._start(x, h0)
        loss, grads = self._through_time(v, cell, lambda out: self._head(out, y))
        self._set_grads(grads)
        return loss, v[-1, : cell.hidden].T.copy()

    def __call__(self, x: np.ndarray, y: np.ndarray, state: torch.Tensor | None):
        loss, h = self.loss_and_grads(x, y, None if state is None else state[0].numpy())
        self._update()
        return loss, torch.from_numpy(h)[None]


class D2LGRUTrainStep(RNNTrainStep):
    """One training step of a one-layer `cells.D2LGRU` (d2l's GRU, or its update-only or
    reset-only ablation) + `nn.Linear(H, 1)` under MSE, with Adam; called as `RNNTrainStep`.
    """

    module_type = cells.D2LGRU

    def __init__(self, core, head, opt, clip_grad: float = 0.0) -> None:
        super().__init__(core, head, opt, clip_grad)
        self.gates = core.gates

    core_params = staticmethod(_d2l_params)

    @staticmethod
    def core_applies(core: nn.Module) -> bool:
        return (
            core.num_layers == 1
            and core.input_size == 1
            and kernels.applies(core, next(core.parameters()))
        )

    def _layer(self) -> _D2LLayer:
        return _D2LLayer(self.adam.params[: self.core_count], self.gates)

    def _through_time(self, v: np.ndarray, cell, d_head):
        u = cell.reset_stack(v) if cell.reset else None
        g = _d2l_forward(v, u, cell)
        loss, d_out = d_head(v[1:, : cell.hidden])
        _, *grads = _d2l_backward(v, u, g, cell, d_out, np.zeros_like(v[0, : cell.hidden]))
        return loss, grads


class LSTMTrainStep(_TrainStep):
    """One training step of `nn.LSTM` (one layer) + `nn.Linear(H, 1)` under MSE, with Adam.

    Call with x, y (B, T, 1) arrays and the carried state (h0, c0), each (1, B, H) tensors,
    or None; returns the loss before the update and (h, c) after the chunk.
    """

    module_type = nn.LSTM

    def _layer(self) -> _Layer:
        return _Layer(*self.adam.params[:4], order=_LSTM_ORDER, sigmoids=3)

    def loss_and_grads(self, x: np.ndarray, y: np.ndarray, state: tuple | None):
        """MSE of the chunk and its gradients (into `adam.grads`); state (h0, c0) (B, H) each
        or None. Returns the loss and the final (h, c), (B, H) each."""
        h0, c0 = (None, None) if state is None else state
        cell, v = self._start(x, h0)
        hidden = cell.hidden
        c = np.empty((len(v), hidden, x.shape[0]), v.dtype)  # (T+1, H, B)
        c[0] = 0 if c0 is None else c0.T
        cache = _lstm_forward(v, c, cell)
        loss, d_out = self._head(v[1:, :hidden], y)
        zeros = np.zeros_like(c[0])
        _, _, *grads = _lstm_backward(v, c, cache, cell, d_out, zeros, zeros)
        self._set_grads(grads)
        return loss, (v[-1, :hidden].T.copy(), c[-1].T.copy())

    def __call__(self, x: np.ndarray, y: np.ndarray, state: tuple | None):
        arrays = None if state is None else tuple(s[0].numpy() for s in state)
        loss, (h, c) = self.loss_and_grads(x, y, arrays)
        self._update()
        return loss, (torch.from_numpy(h)[None], torch.from_numpy(c)[None])


TRAIN_STEPS = (RNNTrainStep, LSTMTrainStep, D2LGRUTrainStep, kernels.GRUTrainStep)


def train_step_for(
    core: nn.Module, head: nn.Linear, opt: torch.optim.Optimizer, clip_grad: float = 0.0
):
    """The numpy training step for `core` + `head` trained by `opt`, or None: train with
    torch. One entry point for every kind (the GRU's is `kernels.GRUTrainStep`)."""
    for kernel in TRAIN_STEPS:
        if kernel.applies(core, head, opt):
            return kernel(core, head, opt, clip_grad)
    return None
