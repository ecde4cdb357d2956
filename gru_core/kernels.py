"""Numpy kernels for small models on the CPU: the GRU, the MLP baseline and Adam.

For the sizes this app trains (one series, hidden up to 512), torch on the CPU spends its
time in per-call framework overhead, not arithmetic: about 40 us a time step for
`nn.GRU` forward and several times that backward, and tens of microseconds for each
autograd node and optimizer call. The same equations in numpy cost about ten
microseconds a step. They are offered at two depths:

- `gru` / `GRUFunction`: the GRU alone as one autograd node; the linear head, the
  loss and Adam stay plain torch, and the weights stay in the `nn.GRU` module. Used
  wherever `applies` holds.
- `GRUTrainStep`, `MLPTrainStep` and `FlatAdam`: a whole training step (forward, MSE,
  backward, optional gradient clipping, Adam) in numpy, for
  `TrainConfig(step_kernel="numpy")`. They work on views of the torch parameters and
  of the torch optimizer's state tensors, so the modules and the optimizer are always
  current and nothing is ever copied back.

Plus the forecasts that feed a model its own outputs (`gru_closed_loop`,
`gru_forecasts`, `mlp_closed_loop`). Used only where it wins: CPU tensors, float32/float64,
hidden <= 512 (`gru` takes stacks, layer by layer; the rest one layer); everything else
uses torch unchanged. Every kernel is
checked against torch in tests/test_kernels.py (values, gradients and Adam updates).

How the GRU loops stay cheap: each step is one matrix product of `_Cell.matrix` with
[h; 1; x] (every projection and bias at once), then nine in-place ufunc calls on
contiguous blocks. Arrays are feature-major, a state is (H, B), so the rows a step
touches are contiguous (numpy calls on strided column slices cost several times more).
The r and z gates use sigmoid(a) = (1 + tanh(a / 2)) / 2 with the halving folded into
the matrix: no overflow, and one call fewer than 1 / (1 + exp(-a)).
"""

from __future__ import annotations

import ctypes
import itertools

import numpy as np
import torch
from numpy.lib.stride_tricks import sliding_window_view
from torch import nn

# Measured on one BLAS thread, numpy beats nn.GRU up to here: 3.4x at hidden 128, 1.7x at
# 256, 1.5x at 512, the largest ModelConfig allows (BENCHMARKS.md). Larger: not measured.
MAX_HIDDEN = 512
_BLAS_SETTERS = (  # numpy's own OpenBLAS (scipy-openblas builds), then a system OpenBLAS
    "scipy_openblas_set_num_threads64_",
    "scipy_openblas_set_num_threads",
    "openblas_set_num_threads64_",
    "openblas_set_num_threads",
)


def applies(gru: nn.GRU, x: torch.Tensor) -> bool:
    """Whether the numpy path should run this call."""
    return (
        x.device.type == "cpu"
        and not gru.bidirectional
        and gru.bias
        and gru.batch_first
        and gru.hidden_size <= MAX_HIDDEN
        and x.dtype in (torch.float32, torch.float64)
    )


def limit_blas_threads(n: int = 1) -> bool:
    """Run numpy's OpenBLAS on `n` threads, process-wide; False where none is found.

    OpenBLAS starts a thread per core for products above about 260k multiply-adds (a
    backward step's weight gradient at hidden 32 already is one). For products this small,
    waking the second thread costs more than it saves, and on a busy machine the product waits
    for it to be scheduled: these kernels ran 1.4 to 14 times faster on one thread
    (BENCHMARKS.md). The same call threadpoolctl makes, on the library numpy has loaded
    (found through /proc/self/maps, so Linux only).
    """
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    except OSError:
        return False
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in _BLAS_SETTERS:
            setter = getattr(lib, name, None)
            if setter is not None:
                setter(ctypes.c_int(n))
                return True
    return False


# -- one GRU layer -----------------------------------------------------------------------------


class _Cell:
    """One GRU layer's weights as one matrix over [h; 1; x] (H + 1 + I rows).

    Its rows give, in order, the pre-activations a_r, a_z, a_n,in = W_in x + b_in and
    a_n,h = W_hn h + b_hn, so that r = s(a_r), z = s(a_z), n = tanh(a_n,in + r * a_n,h).
    """

    def __init__(self, w_ih, w_hh, b_ih, b_hh) -> None:
        # Leading axes (R, ...) stack R runs' layers: gru_core.batched trains them together.
        hidden, inputs = w_hh.shape[-1], w_ih.shape[-1]
        two, three = 2 * hidden, 3 * hidden
        self.hidden, self.inputs = hidden, inputs
        m = np.zeros((*w_hh.shape[:-2], 4 * hidden, hidden + inputs + 1), dtype=w_hh.dtype)
        m[..., :two, :hidden] = w_hh[..., :two, :]
        m[..., three:, :hidden] = w_hh[..., two:, :]
        m[..., :two, hidden] = b_ih[..., :two] + b_hh[..., :two]
        m[..., two:three, hidden] = b_ih[..., two:]
        m[..., three:, hidden] = b_hh[..., two:]
        m[..., :three, hidden + 1 :] = w_ih
        self.grad_matrix = m  # gradients are taken with respect to this one
        self.matrix = m.copy()  # what the loops multiply by: a_r / 2 and a_z / 2
        self.matrix[..., :two, :] *= m.dtype.type(0.5)

    def unpack(self, dm: np.ndarray) -> tuple[np.ndarray, ...]:
        """d_w_ih, d_w_hh, d_b_ih, d_b_hh (as nn.GRU holds them) from the gradient of the matrix."""
        hidden = self.hidden
        two, three = 2 * hidden, 3 * hidden
        d_w_hh = np.concatenate([dm[..., :two, :hidden], dm[..., three:, :hidden]], axis=-2)
        d_b_hh = np.concatenate([dm[..., :two, hidden], dm[..., three:, hidden]], axis=-1)
        return dm[..., :three, hidden + 1 :], d_w_hh, dm[..., :three, hidden], d_b_hh

    def stack(self, x: np.ndarray, h0: np.ndarray) -> np.ndarray:
        """[h; 1; x] per step, (T+1, H+1+I, B), from x (B, T, I) and h0 (B, H); the states
        v[1:, :H] are left for `_forward` to fill."""
        batch, steps, _ = x.shape
        hidden = self.hidden
        v = np.empty((steps + 1, hidden + 1 + self.inputs, batch), dtype=self.matrix.dtype)
        v[0, :hidden] = h0.T
        v[:, hidden] = 1
        v[:-1, hidden + 1 :] = x.transpose(1, 2, 0)
        v[-1, hidden + 1 :] = 0  # no input after the last step
        return v


@np.errstate(over="ignore", invalid="ignore")  # saturation is fine; NaN losses are caught later
def _forward(v: np.ndarray, cell: _Cell, keep: bool, head: np.ndarray | None = None, fed: int = 0):
    """Run the layer over v from `_Cell.stack`, writing the states into v[1:, :H].

    Returns what `_backward` needs when `keep`: the gates (T, 4H, B) as r; z; a_n,in;
    a_n,h and n (T, H, B). With `head` (1, H+1), a linear head over [h; 1], and one
    input, columns [fed:] read, at each step after the first, the head's output of the
    step before (their own forecast) instead of what v holds. Stacked runs (v (T+1, R,
    H+1+I, B), a stacked cell and head) take the same loop: each product is one stacked
    `np.matmul`, matrix by matrix the single run's.
    """
    hidden, steps, batch = cell.hidden, len(v) - 1, v.shape[-1]
    rows = steps if keep else 1  # without backward, one scratch row serves every step
    g = np.empty((rows, *v.shape[1:-2], 4 * hidden, batch), dtype=v.dtype)
    n = np.empty((rows, *v.shape[1:-2], hidden, batch), dtype=v.dtype)
    two, three = 2 * hidden, 3 * hidden
    views = (g, g[..., :two, :], g[..., :hidden, :], g[..., hidden:two, :], g[..., two:three, :])
    views += (g[..., three:, :], n)
    # Every per-step view made up front: indexing inside the loop costs as much as the maths.
    per_step = zip(*views, strict=True) if keep else itertools.repeat([w[0] for w in views], steps)
    fed_back = (
        itertools.repeat((None, None), steps)
        if head is None
        else zip(v[1:, ..., : hidden + 1, fed:], v[1:, ..., hidden + 1 :, fed:], strict=True)
    )
    half, m = v.dtype.type(0.5), cell.matrix
    matmul, multiply, subtract, tanh = np.matmul, np.multiply, np.subtract, np.tanh
    for v_t, h, h_new, (g_t, rz, r, z, n_in, n_h, nt), (h_one, u_next) in zip(
        v[:-1], v[:-1, ..., :hidden, :], v[1:, ..., :hidden, :], per_step, fed_back, strict=True
    ):
        matmul(m, v_t, out=g_t)
        tanh(rz, out=rz)
        rz *= half
        rz += half
        multiply(r, n_h, out=nt)
        nt += n_in
        tanh(nt, out=nt)
        subtract(h, nt, out=h_new)  # h' = (1 - z) * n + z * h
        h_new *= z
        h_new += nt
        if h_one is not None:  # the head reads [h; 1] just computed, writes the next input
            matmul(head, h_one, out=u_next)
    return (g, n) if keep else None


@np.errstate(over="ignore", invalid="ignore")
def _bptt(v, cache, grad_matrix: np.ndarray, d_out, d_hn) -> tuple[np.ndarray, np.ndarray]:
    """The loop back through time of `_forward`'s steps: d_out (T, H, B), d_hn (H, B) ->
    d loss / d (a_r; a_z; a_n,in; a_n,h) (T, 4H, B) and dh0 (H, B). Stacked runs (a
    leading R axis after T, a stacked matrix) take the same loop."""
    g, n = cache
    hidden = n.shape[-2]
    two, three = 2 * hidden, 3 * hidden
    r, z, n_h = g[..., :hidden, :], g[..., hidden:two, :], g[..., three:, :]
    # Everything that does not depend on the running dh, for all steps at once.
    dn_coef = (1 - z) * (1 - n * n)  # d a_n,in / d h'
    dr_coef = n_h * r * (1 - r)  # d a_r / d a_n,in
    dz_coef = (v[:-1, ..., :hidden, :] - n) * z * (1 - z)  # d a_z / d h'
    d_g = np.empty_like(g)
    dh = d_hn.copy()
    back = np.empty_like(dh)
    m_h = np.ascontiguousarray(np.swapaxes(grad_matrix[..., :hidden], -1, -2))  # (H, 4H)
    matmul, multiply = np.matmul, np.multiply
    views = (d_out, dn_coef, dr_coef, dz_coef, r, z, d_g, d_g[..., :hidden, :])
    views += (d_g[..., hidden:two, :], d_g[..., two:three, :], d_g[..., three:, :])
    for d_o, dn_c, dr_c, dz_c, r_t, z_t, d_gt, d_r, d_z, d_nin, d_nh in zip(
        *(w[::-1] for w in views), strict=True
    ):
        dh += d_o
        multiply(dh, dn_c, out=d_nin)
        multiply(d_nin, dr_c, out=d_r)
        multiply(dh, dz_c, out=d_z)
        multiply(d_nin, r_t, out=d_nh)
        dh *= z_t
        dh += matmul(m_h, d_gt, out=back)
    return d_g, dh


@np.errstate(over="ignore", invalid="ignore")
def _backward(v, cache, cell: _Cell, d_out, d_hn, need_dx: bool):
    """BPTT for `_forward`: d_out (T, H, B), d_hn (H, B) -> dx (T, I, B) or None, dh0 (H, B),
    and the gradients of the four nn.GRU tensors."""
    d_g, dh = _bptt(v, cache, cell.grad_matrix, d_out, d_hn)
    dm = np.tensordot(d_g, v[:-1], axes=([0, 2], [0, 2]))  # (4H, H+1+I)
    dx = cell.grad_matrix[:, cell.hidden + 1 :].T @ d_g if need_dx else None
    return dx, dh, *cell.unpack(dm)


def forward(x, h0, w_ih, w_hh, b_ih, b_hh, keep: bool):
    """x (B, T, I), h0 (B, H) -> out (B, T, H), and the values `backward` needs (or None)."""
    cell = _Cell(w_ih, w_hh, b_ih, b_hh)
    v = cell.stack(x, h0)
    cache = _forward(v, cell, keep)
    out = np.ascontiguousarray(v[1:, : cell.hidden].transpose(2, 0, 1))
    return out, ((v, cache, cell) if keep else None)


def backward(saved, d_out, d_hn):
    """Gradients for `forward`: dx, dh0, dW_ih, dW_hh, db_ih, db_hh; d_out (B, T, H)."""
    v, cache, cell = saved
    d_out_f = np.ascontiguousarray(d_out.transpose(1, 2, 0))  # (T, H, B)
    dx, dh, *rest = _backward(v, cache, cell, d_out_f, np.ascontiguousarray(d_hn.T), True)
    return (dx.transpose(2, 0, 1), dh.T, *rest)


def _numpy(*tensors: torch.Tensor) -> list[np.ndarray]:
    return [t.detach().numpy() for t in tensors]


def _gru_params(module: nn.GRU, layer: int = 0) -> list[nn.Parameter]:
    names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    return [getattr(module, f"{name}_l{layer}") for name in names]


class GRUFunction(torch.autograd.Function):
    """`nn.GRU` (one layer, batch_first) as a single autograd node computed in numpy."""

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh):  # (B,T,I), (B,H) -> (B,T,H), (B,H)
        arrays = _numpy(x, h0, w_ih, w_hh, b_ih, b_hh)
        out, ctx.saved = forward(*arrays, keep=True)
        out_t = torch.from_numpy(out)
        return out_t, out_t[:, -1].clone()

    @staticmethod
    def backward(ctx, d_out, d_hn):
        v, _, cell = ctx.saved
        shape = (v.shape[2], len(v) - 1, cell.hidden)  # (B, T, H)
        d_out = np.zeros(shape, v.dtype) if d_out is None else d_out.detach().numpy()
        d_hn = np.zeros(shape[::2], v.dtype) if d_hn is None else d_hn.detach().numpy()
        grads = backward(ctx.saved, d_out, d_hn)
        return tuple(torch.from_numpy(np.ascontiguousarray(g)) for g in grads)


def gru(module: nn.GRU, x: torch.Tensor, h0: torch.Tensor | None):
    """Drop-in for `module(x, h0)` (batch_first): out (B,T,H), h (layers,B,H).

    A stack runs layer by layer, each layer's outputs the next one's inputs, with torch's
    own dropout between layers while training: the draw `nn.GRU` makes, over its outputs
    laid out time-major as it keeps them (so the same masks from the same generator)."""
    batch, finals = x.shape[0], []
    for layer in range(module.num_layers):
        if layer and module.dropout and module.training:
            time_major = x.transpose(0, 1).contiguous()  # (T, B, H)
            x = nn.functional.dropout(time_major, module.dropout, training=True).transpose(0, 1)
        h = x.new_zeros(batch, module.hidden_size) if h0 is None else h0[layer]
        params = _gru_params(module, layer)
        if torch.is_grad_enabled():
            x, hn = GRUFunction.apply(x, h, *params)
        else:  # inference: no autograd node, no cache
            x_np, h_np, *weights = _numpy(x, h, *params)
            out_np, _ = forward(x_np, h_np, *weights, keep=False)
            x = torch.from_numpy(out_np)
            hn = x[:, -1].clone()
        finals.append(hn)
    return x, torch.stack(finals)


# -- forecasts fed back ------------------------------------------------------------------------


@np.errstate(over="ignore", invalid="ignore")
def _feed_back(module: nn.GRU, head: nn.Linear, h, first, steps: int, inputs=None) -> np.ndarray:
    """GRU + linear head on R columns fed back: the states after each of `steps` steps.

    h (R, H) start states; every column reads first (R,) at step 0. After that, columns
    [:K] read inputs[:, t-1] (K, steps-1), the true values (teacher forcing), and the
    others their own output. Returns (steps, H, R); the outputs are one matrix product
    after the loop. The input size must be 1.
    """
    cell = _Cell(*_numpy(*_gru_params(module)))
    hidden, dtype = cell.hidden, h.dtype
    k, columns = 0 if inputs is None else len(inputs), len(first)
    v = np.empty((steps + 1, hidden + 2, columns), dtype=dtype)  # [h; 1; u], as in _forward
    v[0, :hidden], v[:, hidden], v[0, hidden + 1] = h.T, 1, first
    if k:
        v[1:-1, hidden + 1, :k] = inputs.T
    head_matrix = np.concatenate(_numpy(head.weight, head.bias[:, None]), 1).astype(dtype)
    _forward(v, cell, False, head_matrix, k)
    return v[1:, :hidden]


def _outputs(head: nn.Linear, states: np.ndarray) -> np.ndarray:
    """The head's outputs for (T, H, R) states: (T, R)."""
    w_out, b_out = head.weight.detach().numpy(), head.bias.detach().numpy()[0]
    return (w_out.astype(states.dtype) @ states)[:, 0] + b_out


def gru_closed_loop(module: nn.GRU, head: nn.Linear, y0: np.ndarray, h: np.ndarray, horizon: int):
    """Feed a GRU + linear head its own outputs: y0 (B,) first prediction, h (B,H) its state.

    Returns (B, horizon) predictions, y0 first. The free-running forecast without
    a framework call per step.
    """
    preds = np.empty((y0.shape[0], horizon), dtype=h.dtype)
    preds[:, 0] = y0
    if horizon > 1:
        preds[:, 1:] = _outputs(head, _feed_back(module, head, h, y0, horizon - 1)).T
    return preds


def gru_forecasts(module: nn.GRU, head: nn.Linear, x: np.ndarray, h: np.ndarray):
    """Teacher-forced and free-running outputs over the same span, in one loop.

    x (B, T) true inputs, h (B, H) the state before x[:, 0]. Returns (one_step, free),
    each (B, T): one_step[:, t] follows reading x[:, :t+1]; free reads x[:, 0] and then
    its own outputs. The two batches ride together, costing about one loop instead of two.
    """
    batch, steps = x.shape
    both = np.concatenate([h, h]).astype(x.dtype)
    states = _feed_back(module, head, both, np.concatenate([x[:, 0], x[:, 0]]), steps, x[:, 1:])
    out = _outputs(head, states)  # (T, 2B)
    return np.ascontiguousarray(out[:, :batch].T), np.ascontiguousarray(out[:, batch:].T)


@np.errstate(over="ignore", invalid="ignore")
def mlp_pass(steps: list[tuple]) -> None:
    """One forward pass through an MLP laid out as (weight, input, output) steps.

    Each step writes its output in place: a product `weight @ input` (the bias folded in as
    a row of ones), or a ReLU where the weight is None. Shared by the single and the
    batched closed loops, whose arrays carry a leading run axis or not.
    """
    matmul, maximum = np.matmul, np.maximum
    for weight, x, out in steps:
        if weight is None:
            maximum(out, 0, out=out)
        else:
            matmul(weight, x, out=out)


def mlp_closed_loop(net: nn.Sequential, window: np.ndarray, horizon: int):
    """Feed an MLP (Linear/ReLU stack) its own outputs; window (B, k) holds the last k inputs.

    Returns (B, horizon): the prediction from `window`, then each next one.
    """
    batch, k = window.shape
    dtype = window.dtype
    # Feature-major activations with a row of ones under each, so a bias is one more column
    # of its layer's matrix and every layer is a single product.
    a = np.ones((k + 1, batch), dtype=dtype)
    a[:k] = window.T
    steps, inputs = [], a
    for m in net:
        if isinstance(m, nn.Linear):
            weight = np.concatenate(
                [m.weight.detach().numpy(), m.bias.detach().numpy()[:, None]], axis=1
            ).astype(dtype)
            out = np.ones((m.out_features + 1, batch), dtype=dtype)
            steps.append((weight, inputs, out[:-1]))
            inputs = out
        else:  # ReLU, in place on the last layer's output
            steps.append((None, None, steps[-1][2]))
    preds = np.empty((horizon, batch), dtype=dtype)
    last = steps[-1][2]  # (1, B)
    for pred in preds:
        mlp_pass(steps)
        pred[:] = last[0]
        a[: k - 1] = a[1:k]
        a[k - 1] = last[0]
    return np.ascontiguousarray(preds.T)


# -- whole training steps ----------------------------------------------------------------------


def adam_applies(opt: torch.optim.Optimizer, params: list[nn.Parameter]) -> bool:
    """Whether `FlatAdam` implements `opt` for exactly `params` (CPU, plain Adam, one group)."""
    if type(opt) is not torch.optim.Adam or len(opt.param_groups) != 1:
        return False
    group = opt.param_groups[0]
    return (
        [id(p) for p in group["params"]] == [id(p) for p in params]
        and all(
            p.device.type == "cpu" and p.dtype in (torch.float32, torch.float64) for p in params
        )
        and len({p.dtype for p in params}) == 1
        and group["weight_decay"] == 0
        and not group["amsgrad"]
        and not group["maximize"]
        and not group.get("decoupled_weight_decay", False)
        and not group["capturable"]
        and not group["differentiable"]
        and not isinstance(group["lr"], torch.Tensor)
        and not any(isinstance(b, torch.Tensor) for b in group["betas"])
    )


class FlatAdam:
    """`torch.optim.Adam`'s update on one flat numpy buffer, sharing the optimizer's state.

    The optimizer's own state tensors (step, exp_avg, exp_avg_sq) are made views of this
    object's buffers, so torch's optimizer and this one hold one state, and either can
    take the next step. Learning rate, betas and eps are read from the optimizer's param
    group at each step, so schedules that set `group["lr"]` work unchanged. Check
    `adam_applies` first.
    """

    def __init__(self, opt: torch.optim.Adam, params: list[nn.Parameter]) -> None:
        self.group = opt.param_groups[0]
        self.params = _numpy(*params)  # views: updates land in the modules
        dtype = self.params[0].dtype
        size = sum(p.size for p in self.params)
        self.exp_avg, self.exp_avg_sq, self.grad, self._tmp = (
            np.zeros(size, dtype) for _ in range(4)
        )
        self.steps = np.zeros(len(params), np.float32)  # torch keeps float32 step counts
        self.grads: list[np.ndarray] = []  # per-parameter views of `grad`, shaped like them
        self._updates: list[np.ndarray] = []
        offset = 0
        for i, (p, arr) in enumerate(zip(params, self.params, strict=True)):
            piece = slice(offset, offset + arr.size)
            offset += arr.size
            self.grads.append(self.grad[piece].reshape(arr.shape))
            self._updates.append(self._tmp[piece].reshape(arr.shape))
            old = opt.state.get(p)
            if old:  # the optimizer has stepped already: carry its state over
                self.exp_avg[piece] = old["exp_avg"].detach().numpy().ravel()
                self.exp_avg_sq[piece] = old["exp_avg_sq"].detach().numpy().ravel()
                self.steps[i] = float(old["step"])
            opt.state[p] = {
                "step": torch.from_numpy(self.steps[i : i + 1]).view(()),
                "exp_avg": torch.from_numpy(self.exp_avg[piece]).view(p.shape),
                "exp_avg_sq": torch.from_numpy(self.exp_avg_sq[piece]).view(p.shape),
            }

    def grad_norm(self) -> float:
        return float(np.sqrt(np.dot(self.grad, self.grad)))

    def clip(self, max_norm: float) -> None:
        """Scale the gradient as `nn.utils.clip_grad_norm_` does."""
        coef = max_norm / (self.grad_norm() + 1e-6)
        if coef < 1:
            self.grad *= self.grad.dtype.type(coef)

    def step(self) -> None:
        """One Adam update of every parameter from `grad`."""
        lr, (beta1, beta2), eps = self.group["lr"], self.group["betas"], self.group["eps"]
        m, v, g, tmp = self.exp_avg, self.exp_avg_sq, self.grad, self._tmp
        kind = g.dtype.type
        self.steps += 1
        step = float(self.steps[0])
        np.subtract(g, m, out=tmp)  # m = lerp(m, g, 1 - beta1)
        tmp *= kind(1 - beta1)
        m += tmp
        v *= kind(beta2)  # v = beta2 v + (1 - beta2) g^2
        np.multiply(g, g, out=tmp)
        tmp *= kind(1 - beta2)
        v += tmp
        np.sqrt(v, out=tmp)  # update = lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps)
        tmp /= kind((1 - beta2**step) ** 0.5)
        tmp += kind(eps)
        np.divide(m, tmp, out=tmp)
        tmp *= kind(lr / (1 - beta1**step))
        for p, update in zip(self.params, self._updates, strict=True):
            p -= update


def head_mse(out, y, w_out, b_out, g_out, gb_out) -> tuple[float, np.ndarray]:
    """MSE of a `Linear(H, 1)` head over states out (T, H, B) against y (B, T, 1).

    Writes the head's gradients into g_out (1, H) and gb_out (1,); returns the loss and
    its gradient with respect to the states, (T, H, B).
    """
    err = (w_out @ out)[:, 0] + b_out[0] - y[..., 0].T  # (T, B)
    flat = err.ravel()
    loss = float(np.dot(flat, flat)) / flat.size
    d_pred = err * err.dtype.type(2 / flat.size)
    g_out[0] = np.tensordot(d_pred, out, axes=([0, 1], [0, 2]))
    gb_out[0] = d_pred.sum()
    return loss, w_out[0][:, None] * d_pred[:, None, :]  # (T, H, B)


class GRUTrainStep:
    """One training step of `nn.GRU` (one layer) + `nn.Linear(H, 1)` under MSE, with Adam.

    Call with x, y (B, T, 1) arrays (inputs and one-step-ahead targets) and the carried
    state h0 (1, B, H) tensor or None; returns the loss before the update (a float) and
    the state after the chunk (1, B, H), detached. `loss_and_grads` alone leaves the
    gradients in `adam.grads`, in the order of `parameters`.
    """

    def __init__(
        self, gru: nn.GRU, head: nn.Linear, opt: torch.optim.Adam, clip_grad: float = 0.0
    ) -> None:
        self.parameters = [*_gru_params(gru), head.weight, head.bias]
        self.adam = FlatAdam(opt, self.parameters)
        self.clip_grad = clip_grad

    @staticmethod
    def applies(gru: nn.GRU, head: nn.Linear, opt: torch.optim.Optimizer) -> bool:
        if not isinstance(gru, nn.GRU):  # an nn.RNN or nn.LSTM has the same attributes
            return False
        x = gru.weight_ih_l0
        return (
            applies(gru, x)
            and gru.num_layers == 1
            and gru.input_size == 1
            and head.out_features == 1
            and head.bias is not None
            and adam_applies(opt, [*_gru_params(gru), head.weight, head.bias])
        )

    def loss_and_grads(self, x: np.ndarray, y: np.ndarray, h0: np.ndarray | None):
        """MSE of the chunk and its gradients (into `adam.grads`); h0 (B, H) or None.

        Returns the loss and the final state (B, H).
        """
        w_out, b_out = self.adam.params[4:]
        g_out, gb_out = self.adam.grads[4:]
        cell = _Cell(*self.adam.params[:4])
        batch, hidden = x.shape[0], cell.hidden
        h0 = np.zeros((batch, hidden), w_out.dtype) if h0 is None else h0
        v = cell.stack(x, h0)
        cache = _forward(v, cell, keep=True)
        loss, d_out = head_mse(v[1:, :hidden], y, w_out, b_out, g_out, gb_out)
        _, _, *grads = _backward(v, cache, cell, d_out, np.zeros_like(v[0, :hidden]), False)
        for view, grad in zip(self.adam.grads[:4], grads, strict=True):
            view[:] = grad
        return loss, v[-1, :hidden].T.copy()

    def __call__(self, x: np.ndarray, y: np.ndarray, state: torch.Tensor | None):
        loss, h = self.loss_and_grads(x, y, None if state is None else state[0].numpy())
        if self.clip_grad > 0:
            self.adam.clip(self.clip_grad)
        self.adam.step()
        return loss, torch.from_numpy(h)[None]


class MLPTrainStep:
    """One training step of a Linear/ReLU stack (last layer 1 output) under MSE, with Adam.

    Inputs are windows of the last `window` values. Call with x, y (B, T, 1) arrays and the
    carried state (B, window-1, 1) tensor or None (the MLP forecaster's own convention:
    before any history the first value is repeated); returns the loss before the update
    and the state after the chunk.
    """

    def __init__(
        self, net: nn.Sequential, window: int, opt: torch.optim.Adam, clip_grad: float = 0.0
    ) -> None:
        self.window = window
        self.linears = [m for m in net if isinstance(m, nn.Linear)]
        self.parameters = [p for m in self.linears for p in (m.weight, m.bias)]
        self.adam = FlatAdam(opt, self.parameters)
        self.clip_grad = clip_grad

    @staticmethod
    def applies(net: nn.Sequential, window: int, opt: torch.optim.Optimizer) -> bool:
        kinds = [type(m) for m in net]
        linears = [m for m in net if isinstance(m, nn.Linear)]
        return (
            len(kinds) % 2 == 1
            and all(k is (nn.Linear if i % 2 == 0 else nn.ReLU) for i, k in enumerate(kinds))
            and all(m.bias is not None for m in linears)
            and linears[0].in_features == window
            and linears[-1].out_features == 1
            and adam_applies(opt, [p for m in linears for p in (m.weight, m.bias)])
        )

    def _windows(self, x: np.ndarray, state: np.ndarray | None):
        """(B*T, k) inputs and the next state, as `MLPForecaster.core` builds them."""
        k = self.window
        if k == 1:
            return x.reshape(-1, 1), None
        if state is None:
            state = np.repeat(x[:, :1], k - 1, axis=1)
        full = np.concatenate([state, x], axis=1)[..., 0]  # (B, k-1+T)
        windows = sliding_window_view(full, k, axis=1)  # (B, T, k)
        return windows.reshape(-1, k), full[:, -(k - 1) :, None].copy()

    def loss_and_grads(self, x: np.ndarray, y: np.ndarray, state: np.ndarray | None):
        """MSE of the chunk and its gradients (into `adam.grads`); returns (loss, next state)."""
        params, grads = self.adam.params, self.adam.grads
        a, next_state = self._windows(x, state)
        acts = [a]
        for i in range(0, len(params) - 2, 2):
            a = a @ params[i].T + params[i + 1]
            np.maximum(a, 0, out=a)
            acts.append(a)
        err = (a @ params[-2].T + params[-1])[:, 0] - y.reshape(-1)  # (B*T,)
        loss = float(np.dot(err, err)) / err.size
        d = (err * err.dtype.type(2 / err.size))[:, None]  # (B*T, 1)
        for i in range(len(acts) - 1, -1, -1):
            np.matmul(d.T, acts[i], out=grads[2 * i])
            np.sum(d, axis=0, out=grads[2 * i + 1])
            if i > 0:
                d = d @ params[2 * i]
                d *= acts[i] > 0
        return loss, next_state

    def __call__(self, x: np.ndarray, y: np.ndarray, state: torch.Tensor | None):
        loss, next_state = self.loss_and_grads(x, y, None if state is None else state.numpy())
        if self.clip_grad > 0:
            self.adam.clip(self.clip_grad)
        self.adam.step()
        return loss, None if next_state is None else torch.from_numpy(next_state)
