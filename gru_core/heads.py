"""Many-to-one models: a recurrent core read to the end of a window, or an MLP on the window.

The window and classify tasks score one output per window, not one per step, so their
models end in a head on the last state: `y, state = model(x, None)` with x (batch, time, 1)
and y (batch, outputs); the state is always None (windows are read from zeros). The
recurrent cores come from `gru_core.cells.build` (every kind it knows, layers and dropout
between them); `bidirectional` adds a second core of the same kind that reads the window
backwards, and the head sees both final states. The MLP sees the whole window at once:
the baseline a recurrent model has to beat.
"""

from __future__ import annotations

import torch
from torch import nn

from gru_core import cells, kernels
from gru_core.config import ConfigError
from gru_core.models import Forecaster, mlp
from gru_core.spec import ModelSpec


def _last(out) -> torch.Tensor:
    return out[:, -1]  # (batch, hidden): the output after the window's last step


class SequenceHead(Forecaster):
    """A recurrent core (and, bidirectional, a backward twin), then Linear on the last state.

    Built in the order core, backward core, head, as the tutorial's `GRUNet` builds
    `nn.GRU` then `nn.Linear`: one direction draws the same initial weights it does.
    """

    def __init__(
        self,
        kind: str,
        hidden_size: int,
        num_layers: int = 1,
        dropout: float = 0.0,
        outputs: int = 1,
        bidirectional: bool = False,
    ) -> None:
        super().__init__()
        self.kind = kind
        self.rnn = cells.build(kind, 1, hidden_size, num_layers, dropout)
        self.back = (
            cells.build(kind, 1, hidden_size, num_layers, dropout) if bidirectional else None
        )
        self.head = nn.Linear(hidden_size * (2 if bidirectional else 1), outputs)
        self.fast_kernel = True  # a GRU core through the numpy kernels, on a CPU

    def _read(self, core: nn.Module, x: torch.Tensor) -> torch.Tensor:
        """`core`'s outputs (batch, time, hidden) for x; the same maths either way."""
        if self.fast_kernel and isinstance(core, nn.GRU) and kernels.applies(core, x):
            return kernels.gru(core, x, None)[0]
        return core(x)[0]

    @property
    def cell(self) -> nn.Module:
        """The forward core, whose gates the Gates page traces (the backward twin is not)."""
        return self.rnn

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """What the head reads for x (batch, time, 1): (batch, hidden) or (batch, 2 * hidden)."""
        last = _last(self._read(self.rnn, x))
        if self.back is not None:  # the backward core's state after reading the whole window
            last = torch.cat([last, _last(self._read(self.back, x.flip(1)))], dim=-1)
        return last

    def core(self, x: torch.Tensor, state):
        return self.head(self.features(x)), None  # (batch, outputs)


class WindowMLP(Forecaster):
    """An MLP on a window's last `window` values: (batch, time >= window, 1) -> (batch, outputs)."""

    def __init__(self, window: int, hidden: tuple[int, ...] = (32, 16), outputs: int = 1) -> None:
        super().__init__()
        self.window = window
        self.net = mlp(window, hidden, outputs)

    def core(self, x: torch.Tensor, state):
        return self.net(x[:, -self.window :, 0]), None  # (batch, outputs)


def build_head(spec: ModelSpec, window: int, outputs: int, bidirectional: bool) -> Forecaster:
    """The many-to-one model of `spec`: an MLP on the window for "mlp", a SequenceHead otherwise."""
    if spec.kind == "mlp":
        return WindowMLP(window, spec.mlp_hidden, outputs)
    if spec.kind not in cells.KINDS:
        raise ConfigError(
            f"model kind {spec.kind!r} cannot read windows; choose mlp or one of"
            f" {', '.join(cells.KINDS)}"
        )
    return SequenceHead(
        spec.kind, spec.hidden_size, spec.num_layers, spec.dropout, outputs, bidirectional
    )
