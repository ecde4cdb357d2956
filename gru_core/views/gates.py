"""The Gates page's computations for any recurrent kind: gate traces over a segment, which
units to show first, unit summaries, where the input rises and falls, and every equation of
a step with its numbers (PyTorch's convention for rnn, lstm and gru; d2l's for its GRU and
the ablations)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from gru_core import cells, gates, i18n
from gru_core.i18n import Texts
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


# What to look for, per kind: one line beside `cells.KINDS[kind].convention`.
LOOK_FOR = Texts("look_for.", tuple(cells.KINDS))  # kind -> the text `look_for.<kind>`
MAX_HEATMAP_UNITS = 32  # heatmap rows; larger models show their most active units first


@dataclass(frozen=True)
class GateView:
    """Every gate of one layer of a model's recurrent core over a segment.

    `values` maps the kind's gate names (`cells.KINDS[kind].gates`) to (time, hidden)
    arrays; `view.r`, `view.h`, ... read them by name.
    """

    kind: str  # a cells.KINDS name
    index: np.ndarray  # (time,) positions in the series
    signal: np.ndarray  # (time,) the series values at those positions
    inputs: np.ndarray  # (time,) what the core reads: the values as the model scales them
    values: dict  # gate name -> (time, hidden)
    state0: dict  # "h" (and "c") -> (hidden,): the layer's state before the segment
    layer_inputs: np.ndarray  # (time, input) what this layer reads (layer 0: inputs)
    weights: dict  # this layer's parameters by name (gates.TWINS' naming), numpy
    warmup: int  # points read before the segment to warm the state
    layer: int  # which layer, from 0
    layers: int  # layers in the stack

    def __getattr__(self, name: str) -> np.ndarray:
        values = self.__dict__.get("values", {})
        if name in values:
            return values[name]
        if name == "h0":
            return self.state0["h"]
        raise AttributeError(name)

    @property
    def gates(self) -> dict[str, np.ndarray]:
        return self.values

    @property
    def info(self) -> cells.CoreKind:
        return cells.KINDS[self.kind]

    @property
    def hidden(self) -> int:
        return self.values["h"].shape[1]

    @property
    def layer_note(self) -> str:
        return (
            ""
            if self.layers == 1
            else i18n.t("gates.layer_note", layer=self.layer + 1, layers=self.layers)
        )

    def before(self, name: str, k: int) -> np.ndarray:
        """State `name` ("h" or "c") before step k of the segment."""
        return self.state0[name] if k == 0 else self.values[name][k - 1]

    def h_before(self, k: int) -> np.ndarray:
        return self.before("h", k)


def _per_layer(state):
    """A core's final state for one stream -> (layers, hidden) arrays: h, or an LSTM's (h, c)."""
    if isinstance(state, tuple):
        return tuple(s[:, 0] for s in state)
    return state[:, 0]


@torch.no_grad()
def gate_view(
    snapshot: Snapshot,
    start: int,
    end: int,
    warmup: int | None = None,
    name: str | None = None,
    layer: int = 0,
) -> GateView:
    """Trace every gate of layer `layer` of the snapshot's model `name` over series[start:end].

    `name` defaults to the run's first model with a recurrent core. The state is warmed
    from zeros on the `warmup` points before `start` (default: as many as the run's test
    forecasts read), through the whole stack in eval mode.
    """
    if warmup is None:
        warmup = snapshot.train_cfg.eval_warmup
    if name is None:
        name = snapshot.recurrent()[0]
    model, core = snapshot.model(name), snapshot.core(name)
    if not 0 <= layer < core.num_layers:
        raise ValueError(f"layer must be in [0, {core.num_layers - 1}]; got {layer}")
    start, end = clamp_segment((start, end), len(snapshot.series), snapshot.n_train)
    series = torch.as_tensor(snapshot.series, dtype=torch.float32)
    scaled = model.scale_in(series)  # (points,) as the model sees them
    begin = max(0, start - warmup)
    state0 = None
    if start > begin:
        _, state = core(scaled[begin:start].view(1, -1, 1))  # (layers, 1, hidden) each
        state0 = _per_layer(state)
    segment = scaled[start:end].view(-1, 1)  # (time, 1)
    signal = np.asarray(snapshot.series[start:end], dtype=np.float64)
    return traced_view(core, segment, signal, np.arange(start, end), state0, layer, start - begin)


def traced_view(
    core: torch.nn.Module,
    segment: torch.Tensor,
    signal: np.ndarray,
    index: np.ndarray,
    state0=None,
    layer: int = 0,
    warmup: int = 0,
) -> GateView:
    """The GateView of `core`'s layer `layer` reading segment (time, 1) from `state0`.

    `signal` (time,) is what the user sees at positions `index` (time,): the values before
    the model's scaling.
    """
    t = gates.trace(core, segment, state0, layer=layer)
    below = (
        segment.numpy() if layer == 0 else gates.trace(core, segment, state0, layer=layer - 1)["h"]
    )
    weights_of, _ = gates.TWINS[t.kind]
    return GateView(
        kind=t.kind,
        index=index,
        signal=signal,
        inputs=segment[:, 0].numpy().astype(np.float64),
        values=dict(t.values),
        state0=dict(t.state0),
        layer_inputs=np.asarray(below, dtype=np.float64),
        weights={k: np.asarray(v, dtype=np.float64) for k, v in weights_of(core, layer).items()},
        warmup=warmup,
        layer=layer,
        layers=core.num_layers,
    )


def unit_order(view: GateView) -> list[int]:
    """Units from the most active to the least: by the spread of h over the segment."""
    activity = view.h.std(axis=0)
    return [int(u) for u in np.argsort(-activity, kind="stable")]


def heatmap_units(view: GateView, limit: int = MAX_HEATMAP_UNITS) -> list[int]:
    """The heatmaps' rows: every unit in order when they fit, else the most active `limit`."""
    if view.hidden <= limit:
        return list(range(view.hidden))
    return unit_order(view)[:limit]


def unit_summary(view: GateView) -> pd.DataFrame:
    """Per unit: the mean of each sigmoid gate, the spread of h and, where the kind has a
    keep gate (z, f), its memory 1 / (1 - mean) in steps, over the segment."""
    info = view.info
    table = {"unit": np.arange(view.hidden)}
    for g in info.sigmoid_gates:
        table[f"mean {g}"] = view.values[g].mean(axis=0).astype(np.float64)
    if info.keep_gate is not None:
        mean = torch.as_tensor(table[f"mean {info.keep_gate}"], dtype=torch.float64)
        table["memory (steps)"] = gates.memory_steps(mean).numpy()
    table["activity"] = view.h.std(axis=0).astype(np.float64)
    return pd.DataFrame(table)


def default_units(view: GateView, count: int = 3) -> list[int]:
    """Units worth a first look: the longest memory where the kind keeps state, else the
    most active."""
    keep = view.info.keep_gate
    if keep is None:
        return sorted(unit_order(view)[: min(count, view.hidden)])
    mean = view.values[keep].mean(axis=0)
    return sorted(int(u) for u in np.argsort(-mean, kind="stable")[: min(count, view.hidden)])


def slope_spans(signal: np.ndarray, smooth: int = 5) -> list[tuple[int, int, str]]:
    """Where the input rises and where it falls: [(first, last, "rising" | "falling")].

    Indices into `signal`, inclusive, covering it end to end. The slope is that of a
    centred moving average over `smooth` points, so noise does not split a stretch.
    """
    values = np.asarray(signal, dtype=np.float64)
    if len(values) < 2:
        return [(0, max(0, len(values) - 1), "rising")]
    k = max(1, min(smooth, len(values)))
    padded = np.pad(values, (k // 2, k - 1 - k // 2), mode="edge")
    smoothed = np.convolve(padded, np.ones(k) / k, mode="valid")  # (time,)
    slope = np.gradient(smoothed)
    rising = slope >= 0
    spans, first = [], 0
    for t in range(1, len(values) + 1):
        if t == len(values) or rising[t] != rising[first]:
            spans.append((first, t - 1, "rising" if rising[first] else "falling"))
            first = t
    return spans


@dataclass(frozen=True)
class EquationTerms:
    """Every equation of one step of one unit, in float64: values and LaTeX lines."""

    kind: str
    position: int
    unit: int
    x: float  # the layer's input at this step (layer 0: the scaled series value)
    h_prev: float  # h_{t-1} of this unit
    values: dict  # gate name -> this unit's value at this step
    lines: tuple  # (lhs, symbols, numbers) LaTeX, one per equation

    def __getattr__(self, name: str) -> float:
        values = self.__dict__.get("values", {})
        if name in values:
            return values[name]
        raise AttributeError(name)


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


_FN = {"sigma": (r"\sigma", _sigmoid), "tanh": (r"\tanh", math.tanh)}


def _activated(fn: str, lhs: str, symbols: str, parts, j: int) -> tuple[float, tuple]:
    """(value, line) for lhs = fn(sum of parts)_j, every part written out."""
    tex, f = _FN[fn]
    total = sum(parts)
    value = f(total)
    return value, (
        lhs,
        rf"{tex}\left({symbols}\right)_{{{j}}}",
        rf"{tex}\left({_sum(parts)}\right) = {tex}({_arg(total)}) = \mathbf{{{value:.3f}}}",
    )


def _blend(lhs: str, symbols: str, terms: str, value: float) -> tuple:
    return lhs, symbols, rf"{terms} = \mathbf{{{value:.3f}}}"


def _torch_terms(view: GateView, x: np.ndarray, h: np.ndarray, j: int, k: int):
    """PyTorch's RNN, LSTM and GRU: gate blocks of weight_ih, weight_hh and both biases."""
    w, size, kind = view.weights, view.hidden, view.kind

    def parts(block: int) -> tuple[float, ...]:
        row = block * size + j
        return (
            float(w["weight_ih"][row] @ x),
            float(w["bias_ih"][row]),
            float(w["weight_hh"][row] @ h),
            float(w["bias_hh"][row]),
        )

    def sym(g: str) -> str:
        return rf"W_{{i{g}}}x_t + b_{{i{g}}} + W_{{h{g}}}h_{{t-1}} + b_{{h{g}}}"

    values: dict[str, float] = {}
    lines = []
    if kind == "rnn":
        values["h"], line = _activated("tanh", f"h_{{t,{j}}}", sym("h"), parts(0), j)
        return values, [line]
    if kind == "lstm":
        for block, g in enumerate(("i", "f", "g", "o")):  # torch stacks them in this order
            fn = "tanh" if g == "g" else "sigma"
            values[g], line = _activated(fn, f"{g}_{{{j}}}", sym(g), parts(block), j)
            lines.append(line)
        c_prev = float(view.before("c", k)[j])
        values["c"] = c = values["f"] * c_prev + values["i"] * values["g"]
        values["h"] = values["o"] * math.tanh(c)
        lines.append(
            _blend(
                f"c_{{t,{j}}}",
                rf"f_{{{j}}}\, c_{{t-1,{j}}} + i_{{{j}}}\, g_{{{j}}}",
                rf"{_num(values['f'])} \cdot {_num(c_prev)} + {_num(values['i'])} \cdot"
                rf" {_num(values['g'])}",
                c,
            )
        )
        lines.append(
            _blend(
                f"h_{{t,{j}}}",
                rf"o_{{{j}}} \tanh(c_{{t,{j}}})",
                rf"{_num(values['o'])} \cdot \tanh({_arg(c)})",
                values["h"],
            )
        )
        return values, lines
    # gru: the reset gate scales the projected state, W_hn h + b_hn
    for block, g in enumerate(("r", "z")):
        values[g], line = _activated("sigma", f"{g}_{{{j}}}", sym(g), parts(block), j)
        lines.append(line)
    w_in, b_in, w_hn, b_hn = parts(2)
    n_arg = w_in + b_in + values["r"] * (w_hn + b_hn)
    values["n"] = math.tanh(n_arg)
    lines.append(
        _blend(
            f"n_{{{j}}}",
            rf"\tanh\left(W_{{in}}x_t + b_{{in}} + r \odot (W_{{hn}}h_{{t-1}} + b_{{hn}})"
            rf"\right)_{{{j}}}",
            rf"\tanh\left({_sum((w_in, b_in))} + {_num(values['r'])} \cdot"
            rf" ({_sum((w_hn, b_hn))})\right) = \tanh({_arg(n_arg)})",
            values["n"],
        )
    )
    lines.append(_update_line(values, "n", float(h[j]), j))
    return values, lines


def _update_line(values: dict, candidate: str, h_prev: float, j: int) -> tuple:
    """h' = (1 - z) * candidate + z * h for unit j; sets values["h"]."""
    z, c = values["z"], values[candidate]
    values["h"] = (1 - z) * c + z * h_prev
    tex = {"n": "n", "h_tilde": r"\tilde{h}"}[candidate]
    return _blend(
        f"h_{{t,{j}}}",
        rf"(1 - z_{{{j}}})\, {tex}_{{{j}}} + z_{{{j}}}\, h_{{t-1,{j}}}",
        rf"(1 - {_num(z)}) \cdot {_num(c)} + {_num(z)} \cdot {_num(h_prev)}",
        values["h"],
    )


def _d2l_terms(view: GateView, x: np.ndarray, h: np.ndarray, j: int, k: int):
    """d2l's GRU and its ablations: X W_x* + H W_h* + b_*, the reset gate before W_hh."""
    w = view.weights
    has = [g for g in ("r", "z") if f"W_x{g}" in w]
    values: dict[str, float] = {}
    lines = []
    for g in has:
        parts = (
            float(x @ w[f"W_x{g}"][:, j]),
            float(w[f"b_{g}"][j]),
            float(h @ w[f"W_h{g}"][:, j]),
        )
        symbols = rf"x_t W_{{x{g}}} + b_{{{g}}} + h_{{t-1}} W_{{h{g}}}"
        values[g], line = _activated("sigma", f"{g}_{{{j}}}", symbols, parts, j)
        lines.append(line)
    if "r" in has:  # the whole reset vector scales the state before the matrix
        r_all = np.array(
            [
                _sigmoid(float(x @ w["W_xr"][:, u] + w["b_r"][u] + h @ w["W_hr"][:, u]))
                for u in range(view.hidden)
            ]
        )
        read, read_tex = r_all * h, r"(r \odot h_{t-1}) W_{hh}"
    else:
        read, read_tex = h, r"h_{t-1} W_{hh}"
    parts = (float(x @ w["W_xh"][:, j]), float(w["b_h"][j]), float(read @ w["W_hh"][:, j]))
    values["h_tilde"], line = _activated(
        "tanh", rf"\tilde{{h}}_{{{j}}}", rf"x_t W_{{xh}} + b_{{h}} + {read_tex}", parts, j
    )
    lines.append(line)
    if "z" in has:
        lines.append(_update_line(values, "h_tilde", float(h[j]), j))
    else:
        values["h"] = values["h_tilde"]
        lines.append(_blend(f"h_{{t,{j}}}", rf"\tilde{{h}}_{{{j}}}", "", values["h"]))
    return values, lines


_TERMS = {"rnn": _torch_terms, "lstm": _torch_terms, "gru": _torch_terms}
_TERMS.update(dict.fromkeys(("gru_d2l", "gru_update_only", "gru_reset_only"), _d2l_terms))


def equation_terms(view: GateView, position: int, unit: int) -> EquationTerms:
    """Every equation of `unit` at series position `position` (in the segment), recomputed
    in float64 from the layer's weights, one unit at a time."""
    k = int(position - view.index[0])
    if not 0 <= k < len(view.index):
        raise ValueError(f"position {position} is outside the segment")
    if not 0 <= unit < view.hidden:
        raise ValueError(f"unit {unit} is outside 0..{view.hidden - 1}")
    x = view.layer_inputs[k]  # (input,)
    h = view.before("h", k).astype(np.float64)  # (hidden,)
    values, lines = _TERMS[view.kind](view, x, h, unit, k)
    return EquationTerms(
        kind=view.kind,
        position=int(position),
        unit=unit,
        x=float(x[0]) if len(x) == 1 else float("nan"),
        h_prev=float(h[unit]),
        values=values,
        lines=tuple(lines),
    )


def equation_latex(t: EquationTerms) -> list[str]:
    """One LaTeX block per equation: the symbols, then the numbers on a second line."""
    out = []
    for lhs, symbols, numbers in t.lines:
        numbers = numbers.removeprefix(" = ")
        if numbers.startswith(r"\mathbf"):  # h = h~: nothing to work out
            out.append(rf"\begin{{aligned}} {lhs} &= {symbols} = {numbers} \end{{aligned}}")
        else:
            out.append(rf"\begin{{aligned}} {lhs} &= {symbols} \\ &= {numbers} \end{{aligned}}")
    return out
