"""Forecasters: a recurrent model with a linear head, and the MLP baseline.

Every forecaster has one signature, so the trainer and the rollouts never ask
which kind they hold:

    y, state = model(x, state)   # x, y: (batch, time, 1); state: opaque, None to start

`y[:, t]` is the forecast of the value after `x[:, t]`. Recurrent models carry
their hidden state; the MLP carries its last `window - 1` inputs. Each model
standardises inside `forward` with buffers `mean` and `std` (0 and 1 unless the
trainer sets them), so forecasts are always in the series' own units.

How to add a model kind: write its `Forecaster` subclass here (`core` maps
(batch, time, 1) inputs and a state to outputs and the next state; override
`closed_loop`, `forecasts` or `numpy_train_step` only for speed), add its entry to
`KINDS` (how to build it from a `ModelSpec`, which submodule is its recurrent core)
and its name and label to `config.MODEL_KINDS`. Nothing in the trainer, the tasks or
the pages changes: they loop over a run's models by name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from gru_core import cell_kernels, cells, kernels
from gru_core.i18n import t
from gru_core.spec import ModelSpec


class Forecaster(nn.Module):
    """Base class: standardisation buffers and the common call signature."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(()))
        self.register_buffer("std", torch.ones(()))
        self._scaled = False

    def set_scale(self, mean: float, std: float) -> None:
        """Standardise inputs with (x - mean) / std and map outputs back."""
        self.mean.fill_(mean)
        self.std.fill_(std)
        self._scaled = (mean, std) != (0.0, 1.0)

    def scale_in(self, x: torch.Tensor) -> torch.Tensor:
        # Skipped when the scale is the identity: the tutorial's numbers stay bit-exact.
        return (x - self.mean) / self.std if self._scaled else x

    def scale_out(self, y: torch.Tensor) -> torch.Tensor:
        return y * self.std + self.mean if self._scaled else y

    state_batch_dim = 0  # the dimension of a state tensor that runs over the batch

    def last_stream(self, state):
        """The part of a batch's state that belongs to its last row (None stays None)."""
        if state is None:
            return None
        if isinstance(state, tuple):
            return tuple(self.last_stream(s) for s in state)
        dim = self.state_batch_dim
        return state.narrow(dim, state.shape[dim] - 1, 1).contiguous()

    def forward(self, x: torch.Tensor, state=None):  # (batch, time, 1) -> same, state
        y, state = self.core(self.scale_in(x), state)
        return self.scale_out(y), state

    def core(self, x: torch.Tensor, state):
        raise NotImplementedError

    def closed_loop(self, x: torch.Tensor, state, horizon: int) -> torch.Tensor:
        """Read x (batch, time, 1) from `state`, then feed back `horizon` predictions.

        Returns (batch, horizon). Call under no-grad; subclasses may take a faster path.
        """
        pred, state = self(x, state)
        pred = pred[:, -1:]  # (batch, 1, 1)
        out = [pred]
        for _ in range(horizon - 1):
            pred, state = self(pred, state)
            out.append(pred)
        return torch.cat(out, dim=1)[..., 0]

    def forecasts(self, x: torch.Tensor, state) -> tuple[torch.Tensor, torch.Tensor]:
        """Forecasts over x (batch, time, 1), the true inputs, from `state`: (one_step, free).

        Both are (batch, time). one_step[:, t] forecasts the value after x[:, t] having
        read the truth up to it; free reads x[:, 0] and then its own forecasts. Call
        under no-grad; subclasses may compute both in one pass.
        """
        one_step, _ = self(x, state)
        return one_step[..., 0], self.closed_loop(x[:, :1], state, x.shape[1])

    def numpy_train_step(self, opt: torch.optim.Optimizer, clip_grad: float = 0.0):
        """A numpy kernel for a whole training step of this model with `opt`, or None.

        The kernel is called as `loss, state = step(x, y, state)` with x, y (batch, time, 1)
        numpy arrays in standardised units and `state` in this model's own convention;
        it updates the parameters and `opt`'s state in place. None: train with torch.
        """
        return None

    def _numpy_ok(self, x: torch.Tensor) -> bool:
        return x.device.type == "cpu" and not torch.is_grad_enabled()


class RecurrentForecaster(Forecaster):
    """A recurrent core of any `cells.KINDS` kind followed by `nn.Linear(hidden, 1)`.

    The core is built first, then the head (the tutorial's order), and is kept under the
    kind's own name (`model.gru`, `model.lstm`, ...), so weights are named after it. Stacks
    of 1-4 layers take `dropout` between layers. Where they apply on a CPU, numpy paths
    replace torch's per-call overhead: the GRU's forward (kernels.py), the one-layer RNN,
    LSTM, GRU and d2l-GRU forecasts and whole training steps (cell_kernels.py). The LSTM's training
    step stays with torch: its oneDNN kernel is as fast on the chunks runs use.
    """

    def __init__(
        self, kind: str, hidden_size: int = 16, num_layers: int = 1, dropout: float = 0.0
    ) -> None:
        super().__init__()
        self.kind = kind
        # batch_first only changes the call layout, not the weights or their initialisation.
        setattr(self, kind, cells.build(kind, 1, hidden_size, num_layers, dropout))
        self.linear = nn.Linear(hidden_size, 1)
        self.fast_kernel = True  # use the numpy kernels where they apply

    state_batch_dim = 1  # states are (layers, batch, hidden); an LSTM's a pair of them

    @property
    def cell(self) -> nn.Module:
        """The recurrent core (`nn.GRU`, `nn.LSTM`, `nn.RNN` or `cells.D2LGRU`)."""
        return getattr(self, self.kind)

    def core(self, x: torch.Tensor, state):
        cell = self.cell
        # One step of a stack (a fed-back forecast) is cheaper in torch's one call than in
        # the kernel, which prepares each layer's matrix on every call.
        if (
            self.fast_kernel
            and isinstance(cell, nn.GRU)
            and kernels.applies(cell, x)
            and (cell.num_layers == 1 or x.shape[1] > 1)
        ):
            out, state = kernels.gru(cell, x, state)  # same maths, far less overhead on a CPU
        else:
            out, state = cell(x, state)  # (batch, time, hidden), (layers, batch, hidden)
        return self.linear(out), state  # (batch, time, 1)

    def numpy_train_step(self, opt: torch.optim.Optimizer, clip_grad: float = 0.0):
        if not self.fast_kernel or isinstance(self.cell, nn.LSTM):
            return None
        return cell_kernels.train_step_for(self.cell, self.linear, opt, clip_grad)

    def _fast(self, x: torch.Tensor) -> bool:
        return (
            self.fast_kernel
            and self._numpy_ok(x)
            and cell_kernels.applies_to_forecasts(self.cell)
            and kernels.applies(self.cell, x)
        )

    def _numpy_state(self, state, batch: int, dtype):
        """A carried state as cell_kernels takes it: h (B, H), or an LSTM's (h, c)."""
        if state is None:
            zeros = np.zeros((batch, self.cell.hidden_size), dtype)
            return (zeros, zeros.copy()) if isinstance(self.cell, nn.LSTM) else zeros
        if isinstance(state, tuple):
            return tuple(s[0].numpy() for s in state)
        return state[0].numpy()

    def forecasts(self, x: torch.Tensor, state) -> tuple[torch.Tensor, torch.Tensor]:
        if not self._fast(x):
            return super().forecasts(x, state)
        inputs = self.scale_in(x)[..., 0].numpy()  # (batch, time)
        h = self._numpy_state(state, len(inputs), inputs.dtype)
        one_step, free = cell_kernels.forecasts(self.cell, self.linear, inputs, h)
        return self.scale_out(torch.from_numpy(one_step)), self.scale_out(torch.from_numpy(free))

    def closed_loop(self, x: torch.Tensor, state, horizon: int) -> torch.Tensor:
        if not self._fast(x):
            return super().closed_loop(x, state, horizon)
        y, state = self.core(self.scale_in(x), state)  # standardised units from here on
        first = y[:, -1, 0].numpy()
        h = self._numpy_state(state, len(first), first.dtype)
        preds = cell_kernels.closed_loop(self.cell, self.linear, first, h, horizon)
        return self.scale_out(torch.from_numpy(preds))


class GRUForecaster(RecurrentForecaster):
    """`nn.GRU(1, hidden, layers)` followed by `nn.Linear(hidden, 1)`, built in that order."""

    def __init__(self, hidden_size: int = 16, num_layers: int = 1, dropout: float = 0.0) -> None:
        super().__init__("gru", hidden_size, num_layers, dropout)


def mlp(inputs: int, hidden: tuple[int, ...], outputs: int) -> nn.Sequential:
    """Linear layers of the `hidden` widths with a ReLU after each, then a linear output layer."""
    layers: list[nn.Module] = []
    width = inputs
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    layers.append(nn.Linear(width, outputs))
    return nn.Sequential(*layers)


class MLPForecaster(Forecaster):
    """Maps the last `window` values to the next one; state = the previous window-1 inputs."""

    def __init__(self, hidden: tuple[int, ...] = (32, 16), window: int = 1) -> None:
        super().__init__()
        self.window = window
        self.net = mlp(window, hidden, 1)

    def core(self, x: torch.Tensor, state):
        if self.window == 1:
            return self.net(x), None
        k = self.window
        if state is None:  # before any history, repeat the first value
            state = x[:, :1].expand(-1, k - 1, -1)
        full = torch.cat([state, x], dim=1)  # (batch, k-1+time, 1)
        windows = full.squeeze(-1).unfold(1, k, 1)  # (batch, time, k)
        return self.net(windows), full[:, -(k - 1) :].detach()

    def numpy_train_step(self, opt: torch.optim.Optimizer, clip_grad: float = 0.0):
        if kernels.MLPTrainStep.applies(self.net, self.window, opt):
            return kernels.MLPTrainStep(self.net, self.window, opt, clip_grad)
        return None

    def closed_loop(self, x: torch.Tensor, state, horizon: int) -> torch.Tensor:
        if not self._numpy_ok(x):
            return super().closed_loop(x, state, horizon)
        y, state = self.core(self.scale_in(x), state)
        first = y[:, -1].numpy()  # (batch, 1)
        window = first if self.window == 1 else np.concatenate([state[..., 0].numpy(), first], 1)
        rest = kernels.mlp_closed_loop(self.net, window, horizon - 1)
        return self.scale_out(torch.from_numpy(np.concatenate([first, rest], axis=1)))


@dataclass(frozen=True)
class ModelKind:
    """What the engine knows of one kind of model.

    `build` makes the module from its spec (drawing its initial weights from torch's
    global generator, in the order the module creates them); `core` gives the recurrent
    submodule whose gates the Gates page traces (None for a kind without one). A kind
    with a numpy whole-step kernel for the CPU offers it by overriding
    `Forecaster.numpy_train_step`. `reads` names the `ModelSpec` sizes the model depends
    on: two specs of a kind that agree on these build the same model.
    """

    build: Callable[[ModelSpec], Forecaster]
    reads: tuple[str, ...]
    core: Callable[[Forecaster], nn.Module] | None = None


def _recurrent(kind: str) -> ModelKind:
    return ModelKind(
        build=lambda spec: RecurrentForecaster(
            kind, spec.hidden_size, spec.num_layers, spec.dropout
        ),
        reads=("hidden_size", "num_layers", "dropout"),
        core=lambda model: model.cell,
    )


# One entry per kind, in config.MODEL_KINDS's order (a test checks that the two agree).
KINDS: dict[str, ModelKind] = {
    "gru": _recurrent("gru"),
    "mlp": ModelKind(
        build=lambda spec: MLPForecaster(spec.mlp_hidden, spec.mlp_window),
        reads=("mlp_hidden", "mlp_window"),
    ),
    **{k: _recurrent(k) for k in ("rnn", "lstm", "gru_d2l", "gru_update_only", "gru_reset_only")},
}


def kind(name: str) -> ModelKind:
    """The registry entry for `name`; ValueError listing the kinds there are."""
    try:
        return KINDS[name]
    except KeyError:
        raise ValueError(
            t("models.error.unknown_model_kind", name=repr(name), names=", ".join(KINDS))
        ) from None


def build_model(spec: ModelSpec) -> Forecaster:
    """The model `spec` describes, with freshly drawn initial weights."""
    return kind(spec.kind).build(spec)


def recurrent_core(spec: ModelSpec, model: Forecaster) -> nn.Module | None:
    """The recurrent submodule of `model` (whose gates can be traced), or None."""
    core = kind(spec.kind).core
    return None if core is None else core(model)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def parameter_counts(models: tuple[ModelSpec, ...]) -> dict[str, int]:
    """Trainable parameters per model name, counted on torch's meta device.

    Nothing is allocated or initialised, and torch's global generator is left alone: the
    server counts a run's parameters without building it.
    """
    with torch.device("meta"):
        return {spec.name: count_parameters(build_model(spec)) for spec in models}
