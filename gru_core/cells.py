"""Recurrent cores by kind: torch's own, d2l's GRU and its ablations, and what each one is.

A core maps x (batch, time, input) and an optional start state to out (batch, time, hidden)
and the final state, with `nn.GRU`'s batch_first calling convention; stacks of 1-4 layers
take dropout between layers (not after the last), as `nn.GRU` does. `KINDS` names every
kind once: how to build it, its gates, its convention in words for the pages, and its
parameter count in closed form. Forecasters, the Gates page and the Memory page all ask
`KINDS` (or `describe(module)`) instead of testing types.

This module holds no training loop and no numpy twin; `gru_core.gates` traces the gates of
each kind, and `gru_core.cell_kernels` trains the one-layer RNN, LSTM and d2l GRUs fast
on a CPU.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from gru_core import i18n


class D2LGRULayer(nn.Module):
    """One GRU layer in d2l's convention; `gates` says which of r and z it has.

        R = sigmoid(X W_xr + H W_hr + b_r)
        Z = sigmoid(X W_xz + H W_hz + b_z)
        H~ = tanh(X W_xh + (R * H) W_hh + b_h)      # without r: H W_hh
        H = Z * H + (1 - Z) * H~                    # without z: H = H~

    The reset gate multiplies the state *before* the matrix (PyTorch: after it). Weights are
    (in, out), applied on the right, and start as d2l's do: normal * 0.01, zero biases.
    """

    def __init__(self, input_size: int, hidden_size: int, gates: tuple[str, ...]) -> None:
        super().__init__()
        self.gates = gates
        for name in (*gates, "h"):  # h: the candidate's own weights W_xh, W_hh, b_h
            self.register_parameter(f"W_x{name}", _normal(input_size, hidden_size))
            self.register_parameter(f"W_h{name}", _normal(hidden_size, hidden_size))
            self.register_parameter(f"b_{name}", nn.Parameter(torch.zeros(hidden_size)))

    def forward(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """x (batch, time, input), h (batch, hidden) -> every state (batch, time, hidden)."""
        # The input projections of all steps at once; only the recurrent products loop.
        xs = {g: x @ getattr(self, f"W_x{g}") + getattr(self, f"b_{g}") for g in (*self.gates, "h")}
        out = []
        for t in range(x.shape[1]):
            r = torch.sigmoid(xs["r"][:, t] + h @ self.W_hr) if "r" in self.gates else None
            z = torch.sigmoid(xs["z"][:, t] + h @ self.W_hz) if "z" in self.gates else None
            h_tilde = torch.tanh(xs["h"][:, t] + (h if r is None else r * h) @ self.W_hh)
            h = h_tilde if z is None else z * h + (1 - z) * h_tilde  # (batch, hidden)
            out.append(h)
        return torch.stack(out, dim=1)  # (batch, time, hidden)


def _normal(rows: int, cols: int) -> nn.Parameter:
    return nn.Parameter(torch.randn(rows, cols) * 0.01)


class D2LGRU(nn.Module):
    """A stack of `D2LGRULayer`s called like `nn.GRU(..., batch_first=True)`.

    `gates=("r", "z")` is d2l's GRU; `("z",)` keeps the update gate only and `("r",)` the
    reset gate only (d2l's exercises). Dropout acts between layers in training mode.
    """

    batch_first = True
    bidirectional = False
    bias = True

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        dropout: float = 0.0,
        gates: tuple[str, ...] = ("r", "z"),
    ) -> None:
        super().__init__()
        if not gates or set(gates) - {"r", "z"}:
            raise ValueError(f"gates must be r, z or both; got {gates!r}")
        gates = tuple(g for g in ("r", "z") if g in gates)  # canonical order
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.dropout, self.gates = dropout, gates
        sizes = [input_size] + [hidden_size] * (num_layers - 1)
        self.layers = nn.ModuleList(D2LGRULayer(n, hidden_size, gates) for n in sizes)

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None):
        """x (batch, time, input), h0 (layers, batch, hidden) -> out, h_n like `nn.GRU`."""
        if x.dim() != 3:
            raise ValueError(f"x must be (batch, time, {self.input_size}); got {tuple(x.shape)}")
        if h0 is None:
            h0 = x.new_zeros(self.num_layers, x.shape[0], self.hidden_size)
        last = []
        for i, layer in enumerate(self.layers):
            if i > 0:
                x = nn.functional.dropout(x, self.dropout, self.training)
            x = layer(x, h0[i])  # (batch, time, hidden)
            last.append(x[:, -1])
        return x, torch.stack(last)  # (batch, time, hidden), (layers, batch, hidden)


@dataclass(frozen=True)
class CoreKind:
    """One kind of recurrent core: how to build it and what its gates are, for the pages."""

    name: str  # the registry key, as the command line spells it
    label_key: str  # key of its short title for tables and legends
    build: Callable[[int, int, int, float], nn.Module]  # (input, hidden, layers, dropout)
    gates: tuple[str, ...]  # what `gates.trace` returns, each (time, hidden)
    sigmoid_gates: tuple[str, ...]  # the gates that live in [0, 1]
    keep_gate: str | None  # the gate whose value near 1 keeps the old state; None: none
    blocks: int  # weight blocks (W_x*, W_h*, biases) a layer has: one per gate and candidate
    biases: int  # bias vectors per block: torch keeps two (ih and hh), d2l one
    convention_key: str  # key of its one line for the pages: what to look for
    equations: tuple[str, ...]  # one line each, in the order a step computes them

    @property
    def label(self) -> str:
        """Its short title for tables and legends, in the current language."""
        return i18n.t(self.label_key)

    @property
    def convention(self) -> str:
        """One line for the pages, in the current language: what to look for."""
        return i18n.t(self.convention_key)


def _torch_core(cls: type[nn.RNNBase]) -> Callable[[int, int, int, float], nn.Module]:
    def build(inputs: int, hidden: int, layers: int, dropout: float) -> nn.Module:
        return cls(inputs, hidden, layers, batch_first=True, dropout=dropout if layers > 1 else 0)

    return build


def _d2l_core(gates: tuple[str, ...]) -> Callable[[int, int, int, float], nn.Module]:
    def build(inputs: int, hidden: int, layers: int, dropout: float) -> nn.Module:
        return D2LGRU(inputs, hidden, layers, dropout, gates)

    return build


_D2L_R = "R = sigmoid(X W_xr + H W_hr + b_r)"
_D2L_Z = "Z = sigmoid(X W_xz + H W_hz + b_z)"
_D2L_CANDIDATE = "H~ = tanh(X W_xh + (R * H) W_hh + b_h)"
_D2L_UPDATE = "H' = Z * H + (1 - Z) * H~"
KINDS: dict[str, CoreKind] = {
    k.name: k
    for k in (
        CoreKind(
            name="rnn",
            label_key="kind.rnn",
            build=_torch_core(nn.RNN),
            gates=("h",),
            sigmoid_gates=(),
            keep_gate=None,
            blocks=1,
            biases=2,
            convention_key="kind.rnn.convention",
            equations=("h' = tanh(W_ih x + b_ih + W_hh h + b_hh)",),
        ),
        CoreKind(
            name="lstm",
            label_key="kind.lstm",
            build=_torch_core(nn.LSTM),
            gates=("i", "f", "g", "o", "c", "h"),
            sigmoid_gates=("i", "f", "o"),
            keep_gate="f",
            blocks=4,
            biases=2,
            convention_key="kind.lstm.convention",
            equations=(
                "i = sigmoid(W_ii x + b_ii + W_hi h + b_hi)",
                "f = sigmoid(W_if x + b_if + W_hf h + b_hf)",
                "g = tanh(W_ig x + b_ig + W_hg h + b_hg)",
                "o = sigmoid(W_io x + b_io + W_ho h + b_ho)",
                "c' = f * c + i * g",
                "h' = o * tanh(c')",
            ),
        ),
        CoreKind(
            name="gru",
            label_key="kind.gru",
            build=_torch_core(nn.GRU),
            gates=("r", "z", "n", "h"),
            sigmoid_gates=("r", "z"),
            keep_gate="z",
            blocks=3,
            biases=2,
            convention_key="kind.gru.convention",
            equations=(
                "r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)",
                "z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)",
                "n = tanh(W_in x + b_in + r * (W_hn h + b_hn))",
                "h' = (1 - z) * n + z * h",
            ),
        ),
        CoreKind(
            name="gru_d2l",
            label_key="kind.gru_d2l",
            build=_d2l_core(("r", "z")),
            gates=("r", "z", "h_tilde", "h"),
            sigmoid_gates=("r", "z"),
            keep_gate="z",
            blocks=3,
            biases=1,
            convention_key="kind.gru_d2l.convention",
            equations=(_D2L_R, _D2L_Z, _D2L_CANDIDATE, _D2L_UPDATE),
        ),
        CoreKind(
            name="gru_update_only",
            label_key="kind.gru_update_only",
            build=_d2l_core(("z",)),
            gates=("z", "h_tilde", "h"),
            sigmoid_gates=("z",),
            keep_gate="z",
            blocks=2,
            biases=1,
            convention_key="kind.gru_update_only.convention",
            equations=(_D2L_Z, "H~ = tanh(X W_xh + H W_hh + b_h)", _D2L_UPDATE),
        ),
        CoreKind(
            name="gru_reset_only",
            label_key="kind.gru_reset_only",
            build=_d2l_core(("r",)),
            gates=("r", "h_tilde", "h"),
            sigmoid_gates=("r",),
            keep_gate=None,
            blocks=2,
            biases=1,
            convention_key="kind.gru_reset_only.convention",
            equations=(_D2L_R, _D2L_CANDIDATE, "H' = H~"),
        ),
    )
}
_D2L_KINDS = {("r", "z"): "gru_d2l", ("z",): "gru_update_only", ("r",): "gru_reset_only"}
MAX_LAYERS = 4


def _kind(name: str) -> CoreKind:
    try:
        return KINDS[name]
    except KeyError:
        raise ValueError(
            f"unknown recurrent kind {name!r}; choose one of {', '.join(KINDS)}"
        ) from None


def build(
    kind: str, input_size: int, hidden_size: int, num_layers: int = 1, dropout: float = 0.0
) -> nn.Module:
    """A core of `kind`, batch_first: `out, h_n = core(x, h0)` (LSTM: h0 = (h, c))."""
    if not 1 <= num_layers <= MAX_LAYERS:
        raise ValueError(f"num_layers must be in [1, {MAX_LAYERS}]; got {num_layers}")
    return _kind(kind).build(input_size, hidden_size, num_layers, dropout)


def kind_of(module: nn.Module) -> str:
    """The `KINDS` name of a recurrent core; ValueError for anything else."""
    if isinstance(module, D2LGRU):
        return _D2L_KINDS[module.gates]
    if isinstance(module, nn.RNN) and module.nonlinearity == "tanh":
        return "rnn"
    if isinstance(module, nn.LSTM) and not module.proj_size:
        return "lstm"
    if isinstance(module, nn.GRU):
        return "gru"
    raise ValueError(f"{type(module).__name__} is not one of the kinds {', '.join(KINDS)}")


def describe(module: nn.Module) -> CoreKind:
    """What a core is: its gate names, convention and equations (see `CoreKind`)."""
    return KINDS[kind_of(module)]


def parameter_count(
    kind: str, input_size: int, hidden_size: int, num_layers: int = 1, head: int = 0
) -> int:
    """Parameters of a core of `kind`, plus a `Linear(hidden, head)` when head > 0.

    Each layer has `blocks` weight blocks of (input + hidden) x hidden weights and `biases`
    bias vectors of `hidden`; layers above the first read `hidden` inputs.
    """
    k, h = _kind(kind), hidden_size
    sizes = [input_size] + [h] * (num_layers - 1)
    core = sum(k.blocks * (n * h + h * h + k.biases * h) for n in sizes)
    return core + (head * (h + 1) if head else 0)


def match_hidden(
    kind: str,
    target_params: int,
    input_size: int = 1,
    num_layers: int = 1,
    head: int = 1,
    max_hidden: int = 512,
) -> int:
    """The hidden size in [1, max_hidden] whose `parameter_count` is closest to the target.

    Ties go to the smaller size. Counts grow with the size, so this scans until past it.
    """
    best, best_gap = 1, None
    for h in range(1, max_hidden + 1):
        gap = abs(parameter_count(kind, input_size, h, num_layers, head) - target_params)
        if best_gap is not None and gap > best_gap:
            break
        if best_gap is None or gap < best_gap:
            best, best_gap = h, gap
    return best
