"""Transparent twins of the recurrent cores: one step at a time, every gate visible.

`trace(module, x)` runs any core of `gru_core.cells.KINDS` (nn.RNN, nn.LSTM, nn.GRU, d2l's
GRU and its ablations) over one sequence from the module's own weights and returns every
gate per step by name: RNN `h`; LSTM `i, f, g, o, c, h`; GRU `r, z, n, h`; d2l's GRU and
its ablations `r`/`z`, `h_tilde`, `h`. The GRU in PyTorch's convention (the reset gate
multiplies the *projected* hidden state), also as `step` on `GRUWeights`:

    r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
    z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
    h' = (1 - z) * n + z * h

The twins are numpy: numpy keeps the GIL on arrays this small, where each torch call
releases and re-acquires it; beside a training thread a step-by-step torch trace of 2,000
steps waited about a millisecond per call (seconds, not milliseconds). This is for looking
inside a trained model; the trainer never uses it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from gru_core import cells, kernels


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


Arrays = dict[str, np.ndarray]


@dataclass(frozen=True)
class Trace:
    """Every gate of one layer per step: `values[name]` is (time, hidden), numpy.

    Attribute access (`t.r`, `t.h`, `t.h0`) gives the same values as torch tensors, as the
    callers of the GRU-only trace read them.
    """

    kind: str  # a `cells.KINDS` name
    layer: int  # which layer of the stack, from 0
    values: Arrays  # gate name -> (time, hidden), in `cells.KINDS[kind].gates` order
    state0: Arrays = field(default_factory=dict)  # "h" (and "c") -> (hidden,) before step 0

    def __getattr__(self, name: str) -> torch.Tensor:
        values = self.__dict__.get("values", {})
        if name in values:
            return torch.from_numpy(values[name])
        if name in ("h0", "c0") and name[0] in self.__dict__.get("state0", {}):
            return torch.from_numpy(self.state0[name[0]])
        raise AttributeError(name)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values[name]


GateTrace = Trace  # the name the GRU-only trace had


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + np.tanh(0.5 * a))  # no overflow for large |a|


def _torch_weights(module: nn.RNNBase, layer: int) -> Arrays:
    names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    out = {n: getattr(module, f"{n}_l{layer}", None) for n in names}
    rows = module.weight_hh_l0.shape[0]
    zeros = module.weight_hh_l0.new_zeros(rows)
    return {n: (zeros if t is None else t).detach().cpu().numpy() for n, t in out.items()}


def _d2l_weights(module: cells.D2LGRU, layer: int) -> Arrays:
    return {n: p.detach().cpu().numpy() for n, p in module.layers[layer].named_parameters()}


@np.errstate(over="ignore")
def _rnn(w: Arrays, x: np.ndarray, s: Arrays) -> Arrays:
    """h' = tanh(W_ih x + b_ih + W_hh h + b_hh); x (T, I) -> h (T, H)."""
    pre = x @ w["weight_ih"].T + w["bias_ih"] + w["bias_hh"]  # (T, H)
    h, out = s["h"], np.empty_like(pre)
    for t, p in enumerate(pre):
        h = out[t] = np.tanh(p + w["weight_hh"] @ h)
    return {"h": out}


@np.errstate(over="ignore")
def _lstm(w: Arrays, x: np.ndarray, s: Arrays) -> Arrays:
    """nn.LSTM's step, gates stacked (i, f, g, o) as torch stacks them."""
    pre = x @ w["weight_ih"].T + w["bias_ih"] + w["bias_hh"]  # (T, 4H)
    steps, size = len(pre), len(s["h"])
    out = {k: np.empty((steps, size), pre.dtype) for k in ("i", "f", "g", "o", "c", "h")}
    h, c = s["h"], s["c"]
    for t, p in enumerate(pre):
        a = p + w["weight_hh"] @ h  # (4H,)
        i, f, o = (_sigmoid(a[k * size : (k + 1) * size]) for k in (0, 1, 3))
        g = np.tanh(a[2 * size : 3 * size])
        c = f * c + i * g
        h = o * np.tanh(c)
        for name, value in zip(("i", "f", "g", "o", "c", "h"), (i, f, g, o, c, h), strict=True):
            out[name][t] = value
    return out


def _gru(w: Arrays, x: np.ndarray, s: Arrays) -> Arrays:
    """The equations of `step`, computed by the numpy GRU kernel (which keeps the gates)."""
    size = len(s["h"])
    weights = (w[n] for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
    h, (_, (g, n), _) = kernels.forward(
        x[None], s["h"][None], *weights, keep=True
    )  # h (1, time, hidden); g (time, 4 * hidden, 1) as r; z; ...; n (time, hidden, 1)
    r, z = g[:, :size, 0], g[:, size : 2 * size, 0]
    values = (r, z, n[..., 0], h[0])
    return {k: np.ascontiguousarray(a) for k, a in zip("rznh", values, strict=True)}


@np.errstate(over="ignore")
def _d2l(w: Arrays, x: np.ndarray, s: Arrays) -> Arrays:
    """d2l's GRU (see `cells.D2LGRULayer`), with whichever of r and z it has."""
    gates = [g for g in ("r", "z") if f"W_x{g}" in w]
    xs = {g: x @ w[f"W_x{g}"] + w[f"b_{g}"] for g in (*gates, "h")}  # each (T, H)
    out = {k: np.empty_like(xs["h"]) for k in (*gates, "h_tilde", "h")}
    h = s["h"]
    for t in range(len(x)):
        r = _sigmoid(xs["r"][t] + h @ w["W_hr"]) if "r" in gates else None
        z = _sigmoid(xs["z"][t] + h @ w["W_hz"]) if "z" in gates else None
        h_tilde = np.tanh(xs["h"][t] + (h if r is None else r * h) @ w["W_hh"])
        h = h_tilde if z is None else z * h + (1 - z) * h_tilde
        for name, value in (("r", r), ("z", z), ("h_tilde", h_tilde), ("h", h)):
            if value is not None:
                out[name][t] = value
    return out


Twin = Callable[[Arrays, np.ndarray, Arrays], Arrays]  # (weights, x (T, I), state0) -> values
TWINS: dict[str, tuple[Callable[[nn.Module, int], Arrays], Twin]] = {
    "rnn": (_torch_weights, _rnn),
    "lstm": (_torch_weights, _lstm),
    "gru": (_torch_weights, _gru),
    "gru_d2l": (_d2l_weights, _d2l),
    "gru_update_only": (_d2l_weights, _d2l),
    "gru_reset_only": (_d2l_weights, _d2l),
}


StartState = torch.Tensor | np.ndarray | tuple[torch.Tensor, torch.Tensor] | None


def _start_states(kind: str, state0: StartState, layers: int, size: int, dtype) -> list[Arrays]:
    """Per layer, the start state by name from state0: h0, or (h0, c0) for an LSTM, each
    (hidden,) for one layer or (layers, hidden); None: zeros."""
    names = ("h", "c") if kind == "lstm" else ("h",)
    if state0 is None:
        parts = [None] * len(names)
    elif kind == "lstm":
        parts = list(state0)
    else:
        parts = [state0]
    per_name = []
    for part in parts:
        a = np.zeros((layers, size)) if part is None else np.asarray(torch.as_tensor(part).cpu())
        if a.size != layers * size:
            raise ValueError(f"a start state must be ({layers}, {size}); got {a.shape}")
        per_name.append(a.reshape(layers, size).astype(dtype))
    return [{n: a[k] for n, a in zip(names, per_name, strict=True)} for k in range(layers)]


@torch.no_grad()
def trace(
    module: nn.Module,
    x: torch.Tensor | np.ndarray,
    state0: StartState = None,
    layer: int | None = None,
    float64: bool = False,
) -> Trace:
    """Run `module` over x (time, input) from `state0`, keeping every gate of one layer.

    state0: h0 as (hidden,) or (layers, hidden), an LSTM's (h0, c0); None: zeros. `layer`
    picks the layer of a stack (its input is the output of the layers below, in eval mode,
    without dropout); a single layer needs none. The values are in the module's dtype, or
    float64 where asked.
    """
    kind = cells.kind_of(module)
    layers, size = module.num_layers, module.hidden_size
    if getattr(module, "bidirectional", False):
        raise ValueError("gates.trace explains a unidirectional core")
    if layer is None:
        if layers != 1:
            raise ValueError(
                f"a stack of {layers} layers: pass layer=0..{layers - 1}"
                " (without it gates.trace explains a single-layer core)"
            )
        layer = 0
    if not 0 <= layer < layers:
        raise ValueError(f"layer must be in [0, {layers - 1}]; got {layer}")
    if x.ndim != 2 or x.shape[1] != module.input_size:
        raise ValueError(f"x must be (time, {module.input_size}); got {tuple(x.shape)}")
    weights_of, twin = TWINS[kind]
    weights = [weights_of(module, k) for k in range(layer + 1)]
    dtype = np.float64 if float64 else next(iter(weights[0].values())).dtype
    starts = _start_states(kind, state0, layers, size, dtype)
    inputs = np.asarray(torch.as_tensor(x).detach().cpu()).astype(dtype)
    for k in range(layer + 1):
        values = twin({n: a.astype(dtype) for n, a in weights[k].items()}, inputs, starts[k])
        inputs = values["h"]
    return Trace(kind, layer, values, starts[layer])


def memory_steps(mean_z: torch.Tensor, max_steps: float = 1e6) -> torch.Tensor:
    """A unit's memory in steps, 1 / (1 - mean z): how long a value lingers in its state.

    Capped at `max_steps`: a gate stuck at 1 keeps its value for ever.
    """
    return 1.0 / (1.0 - mean_z).clamp_min(1 / max_steps)
