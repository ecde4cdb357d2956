"""The Gates page's computations: gate traces over a segment, unit summaries, equation terms."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from gru_core import gates
from gru_core.job import Snapshot

MAX_SEGMENT = 2000  # longest gate segment traced step by step


def default_segment(n_points: int, n_train: int) -> tuple[int, int]:
    """The last part of the training data and the test part: [start, end) positions.

    As much training data as there is test data, within `MAX_SEGMENT` steps in all.
    """
    n_test = n_points - n_train
    start = max(0, n_train - max(n_test, 20))
    end = n_points
    if end - start > MAX_SEGMENT:
        start = max(0, n_train - MAX_SEGMENT // 2)
        end = min(n_points, start + MAX_SEGMENT)
    return start, end


def clamp_segment(segment: tuple[int, int] | None, n_points: int, n_train: int) -> tuple[int, int]:
    """A valid [start, end) within the series, at least 2 and at most `MAX_SEGMENT` steps."""
    if segment is None:
        return default_segment(n_points, n_train)
    start, end = (int(v) for v in segment)
    start = min(max(0, start), n_points - 2)
    end = min(max(start + 2, end), n_points)
    if end - start > MAX_SEGMENT:
        end = start + MAX_SEGMENT
    return start, end


@dataclass(frozen=True)
class GateView:
    """Every gate of a GRU over a segment; arrays are (time, hidden) unless noted."""

    index: np.ndarray  # (time,) positions in the series
    signal: np.ndarray  # (time,) the series values at those positions
    inputs: np.ndarray  # (time,) what the GRU reads: the values as the model scales them
    r: np.ndarray
    z: np.ndarray
    n: np.ndarray
    h: np.ndarray
    h0: np.ndarray  # (hidden,) state before the segment
    warmup: int  # points read before the segment to warm h0
    layer_note: str  # "" for one layer, else which layer is shown
    weights: gates.GRUWeights

    @property
    def gates(self) -> dict[str, np.ndarray]:
        return {"r": self.r, "z": self.z, "n": self.n, "h": self.h}

    @property
    def hidden(self) -> int:
        return self.r.shape[1]

    def h_before(self, k: int) -> np.ndarray:
        """The state before step k of the segment."""
        return self.h0 if k == 0 else self.h[k - 1]


def _first_layer(gru: nn.GRU) -> nn.GRU:
    """A single-layer GRU with `gru`'s layer-0 weights (its gates do not depend on upper layers)."""
    if gru.num_layers == 1:
        return gru
    with torch.device("meta"):  # no initial weights drawn: they are copied in next
        single = nn.GRU(gru.input_size, gru.hidden_size, 1, batch_first=True)
    single = single.to_empty(device="cpu")
    with torch.no_grad():
        for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"):
            getattr(single, name).copy_(getattr(gru, name))
    return single


@torch.no_grad()
def gate_view(
    snapshot: Snapshot, start: int, end: int, warmup: int | None = None, name: str | None = None
) -> GateView:
    """Trace r, z, n, h of the snapshot's model `name` over series[start:end].

    `name` defaults to the run's first model with a recurrent core. The state is warmed
    from zeros on the `warmup` points before `start` (default: as many as the run's test
    forecasts read). A stacked GRU shows its first layer.
    """
    if warmup is None:
        warmup = snapshot.train_cfg.eval_warmup
    if name is None:
        name = snapshot.recurrent()[0]
    model, core = snapshot.model(name), snapshot.core(name)
    start, end = clamp_segment((start, end), len(snapshot.series), snapshot.n_train)
    gru = _first_layer(core)
    series = torch.as_tensor(snapshot.series, dtype=torch.float32)
    scaled = model.scale_in(series)  # (points,) as the model sees them
    begin = max(0, start - warmup)
    h0 = torch.zeros(gru.hidden_size)
    if start > begin:
        _, last = gru(scaled[begin:start].view(1, -1, 1))  # (1, 1, hidden)
        h0 = last[0, 0]
    segment = scaled[start:end].view(-1, 1)  # (time, 1)
    t = gates.trace(gru, segment, h0)
    layers = core.num_layers
    return GateView(
        index=np.arange(start, end),
        signal=np.asarray(snapshot.series[start:end], dtype=np.float64),
        inputs=segment[:, 0].numpy().astype(np.float64),
        r=t.r.numpy(),
        z=t.z.numpy(),
        n=t.n.numpy(),
        h=t.h.numpy(),
        h0=t.h0.numpy(),
        warmup=start - begin,
        layer_note="" if layers == 1 else f"layer 1 of {layers}",
        weights=gates.GRUWeights.of(gru),
    )


def unit_summary(view: GateView) -> pd.DataFrame:
    """Per unit: mean r, mean z and its memory 1 / (1 - mean z) in steps, over the segment."""
    mean_z = view.z.mean(axis=0)
    memory = gates.memory_steps(torch.as_tensor(mean_z, dtype=torch.float64)).numpy()
    return pd.DataFrame(
        {
            "unit": np.arange(view.hidden),
            "mean r": view.r.mean(axis=0).astype(np.float64),
            "mean z": mean_z.astype(np.float64),
            "memory (steps)": memory,
        }
    )


def default_units(view: GateView, count: int = 3) -> list[int]:
    """Units worth a first look: the ones with the longest memory."""
    mean_z = view.z.mean(axis=0)
    return sorted(int(u) for u in np.argsort(-mean_z, kind="stable")[: min(count, view.hidden)])


@dataclass(frozen=True)
class EquationTerms:
    """Every number in the four GRU equations for one (step, unit), in float64."""

    position: int
    unit: int
    x: float
    h_prev: float  # h_{t-1} of this unit
    r_parts: tuple[float, float, float, float]  # W_ir x, b_ir, (W_hr h)_j, b_hr
    z_parts: tuple[float, float, float, float]
    n_input: tuple[float, float]  # W_in x, b_in
    n_hidden: tuple[float, float]  # (W_hn h)_j, b_hn
    r: float
    z: float
    n: float
    h: float


def equation_terms(view: GateView, position: int, unit: int) -> EquationTerms:
    """The terms of r, z, n and h' for `unit` at series position `position` (in the segment)."""
    k = int(position - view.index[0])
    if not 0 <= k < len(view.index):
        raise ValueError(f"position {position} is outside the segment")
    if not 0 <= unit < view.hidden:
        raise ValueError(f"unit {unit} is outside 0..{view.hidden - 1}")
    w = {
        f.name: getattr(view.weights, f.name).double().numpy()
        for f in dataclasses.fields(view.weights)
    }
    x = float(view.inputs[k])
    h = view.h_before(k).astype(np.float64)
    j = unit
    r_parts = (w["W_ir"][j, 0] * x, w["b_ir"][j], w["W_hr"][j] @ h, w["b_hr"][j])
    z_parts = (w["W_iz"][j, 0] * x, w["b_iz"][j], w["W_hz"][j] @ h, w["b_hz"][j])
    r = _sigmoid(sum(r_parts))
    z = _sigmoid(sum(z_parts))
    n_input = (w["W_in"][j, 0] * x, w["b_in"][j])
    n_hidden = (w["W_hn"][j] @ h, w["b_hn"][j])
    n = math.tanh(sum(n_input) + r * sum(n_hidden))
    h_new = (1 - z) * n + z * h[j]
    return EquationTerms(
        position=int(position),
        unit=j,
        x=x,
        h_prev=float(h[j]),
        r_parts=tuple(float(v) for v in r_parts),
        z_parts=tuple(float(v) for v in z_parts),
        n_input=tuple(float(v) for v in n_input),
        n_hidden=tuple(float(v) for v in n_hidden),
        r=r,
        z=z,
        n=n,
        h=h_new,
    )


def _sigmoid(v: float) -> float:
    return 0.5 * (1.0 + math.tanh(v / 2))  # never overflows, unlike 1 / (1 + exp(-v))


def _num(v: float) -> str:
    """A number for LaTeX, negative ones in parentheses: (-0.123)."""
    text = f"{v:.3f}"
    return f"({text})" if text.startswith("-") else text


def _arg(v: float) -> str:
    """A number that is already inside parentheses: no extra ones."""
    return f"{v:.3f}"


def _sum(values) -> str:
    return " + ".join(_num(v) for v in values)


def equation_latex(t: EquationTerms) -> list[str]:
    """The four equations for one (step, unit): the symbols, then the numbers on a second line."""
    j = t.unit
    r_sum, z_sum = sum(t.r_parts), sum(t.z_parts)
    n_arg = sum(t.n_input) + t.r * sum(t.n_hidden)

    def two_lines(lhs: str, symbols: str, numbers: str) -> str:
        return rf"\begin{{aligned}} {lhs} &= {symbols} \\ &= {numbers} \end{{aligned}}"

    return [
        two_lines(
            f"r_{{{j}}}",
            rf"\sigma\left(W_{{ir}}x_t + b_{{ir}} + W_{{hr}}h_{{t-1}} + b_{{hr}}\right)_{{{j}}}",
            rf"\sigma\left({_sum(t.r_parts)}\right) = \sigma({_arg(r_sum)})"
            rf" = \mathbf{{{t.r:.3f}}}",
        ),
        two_lines(
            f"z_{{{j}}}",
            rf"\sigma\left(W_{{iz}}x_t + b_{{iz}} + W_{{hz}}h_{{t-1}} + b_{{hz}}\right)_{{{j}}}",
            rf"\sigma\left({_sum(t.z_parts)}\right) = \sigma({_arg(z_sum)})"
            rf" = \mathbf{{{t.z:.3f}}}",
        ),
        two_lines(
            f"n_{{{j}}}",
            rf"\tanh\left(W_{{in}}x_t + b_{{in}} + r \odot (W_{{hn}}h_{{t-1}} + b_{{hn}})"
            rf"\right)_{{{j}}}",
            rf"\tanh\left({_sum(t.n_input)} + {_num(t.r)} \cdot ({_sum(t.n_hidden)})\right)"
            rf" = \tanh({_arg(n_arg)}) = \mathbf{{{t.n:.3f}}}",
        ),
        two_lines(
            f"h_{{t,{j}}}",
            rf"(1 - z_{{{j}}})\, n_{{{j}}} + z_{{{j}}}\, h_{{t-1,{j}}}",
            rf"(1 - {_num(t.z)}) \cdot {_num(t.n)} + {_num(t.z)} \cdot {_num(t.h_prev)}"
            rf" = \mathbf{{{t.h:.3f}}}",
        ),
    ]
