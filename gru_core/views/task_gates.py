"""The Gates page for the window, classify and text tasks: which stretch a model reads, traced.

A window or classify model reads one window from a zero state: its gates over one window
are a `views.gates.GateView`, and the page shows it as it shows a forecast segment. A text
model reads characters: `text_activations` traces its core over a passage and gives each
character with every unit's activation h there; `unit_ranking` orders the units by how
closely they follow a property of the text (the position in the line, punctuation), and
`activation_html` colours the passage by one unit. Not a training path: the gates come
from the transparent twins of `gru_core.gates`.
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from gru_core import gates
from gru_core.job import Snapshot
from gru_core.spec import task_options
from gru_core.tasks import make_task
from gru_core.tasks.text import corpus_parts
from gru_core.views.gates import GateView, traced_view

WINDOW_TASKS = ("window", "classify")
MAX_PASSAGE = 2000  # longest passage traced character by character
DEFAULT_PASSAGE = 400  # characters shown at first


def window_shape(snapshot: Snapshot) -> tuple[int, int, int]:
    """(windows in all, training windows, steps per window) of a window or classify run."""
    cfg = task_options(snapshot.spec.task, snapshot.spec.options)
    return cfg.windows, cfg.train_windows, cfg.steps


@torch.no_grad()
def window_gate_view(
    snapshot: Snapshot, window: int, name: str | None = None, layer: int = 0
) -> GateView:
    """Every gate of layer `layer` of model `name` over window `window` (from 0; the test
    windows follow the training ones), read from a zero state as the model reads it.

    A bidirectional model's forward core is traced. `index` runs over the window's steps.
    """
    if snapshot.spec.task not in WINDOW_TASKS:
        raise ValueError(f"a {snapshot.spec.task} run has no windows")
    if name is None:
        name = snapshot.recurrent()[0]
    task = make_task(snapshot.spec, torch.device("cpu"))
    if not 0 <= window < len(task.x):
        raise ValueError(f"window must be in [0, {len(task.x) - 1}]; got {window}")
    core = snapshot.core(name)
    if not 0 <= layer < core.num_layers:
        raise ValueError(f"layer must be in [0, {core.num_layers - 1}]; got {layer}")
    points = task.x[window]  # (steps, 1)
    scaled = snapshot.model(name).scale_in(points)  # (steps, 1) as the core reads it
    signal = points[:, 0].numpy().astype(np.float64)
    return traced_view(core, scaled, signal, np.arange(len(signal)), None, layer)


# ---------------------------------------------------------------- text


def held_out_text(snapshot: Snapshot) -> str:
    """The held-out text of a text run (what its model never trained on)."""
    return corpus_parts(task_options("text", snapshot.spec.options))[2]


def passage(snapshot: Snapshot, start: int = 0, length: int = DEFAULT_PASSAGE) -> str:
    """`length` characters (at most `MAX_PASSAGE`) of the held-out text from `start`."""
    text = held_out_text(snapshot)
    start = min(max(0, int(start)), max(0, len(text) - 1))
    return text[start : start + min(max(1, int(length)), MAX_PASSAGE)]


@dataclass(frozen=True)
class TextActivations:
    """What one layer of a text model's core holds after each character of a passage."""

    text: str  # the passage, one character per step
    h: np.ndarray  # (time, hidden) float64: unit u's activation after reading text[t]
    kind: str  # a cells.KINDS name
    layer: int  # which layer, from 0

    @property
    def hidden(self) -> int:
        return self.h.shape[1]

    def unit(self, u: int) -> np.ndarray:
        """(time,) activations of unit `u`."""
        if not 0 <= u < self.hidden:
            raise ValueError(f"unit {u} is outside 0..{self.hidden - 1}")
        return self.h[:, u]


@torch.no_grad()
def text_activations(
    snapshot: Snapshot, text: str, name: str | None = None, layer: int = 0
) -> TextActivations:
    """Trace model `name`'s core over `text` from a zero state: h after each character.

    Characters the run's vocabulary lacks are read as its unknown character, as in training.
    """
    if snapshot.spec.task != "text":
        raise ValueError(f"a {snapshot.spec.task} run reads no text")
    if not text:
        raise ValueError("the passage is empty")
    if name is None:
        name = snapshot.recurrent()[0]
    lm = snapshot.model(name).lm
    vocab = corpus_parts(task_options("text", snapshot.spec.options))[0]
    x = lm.inputs(vocab.encode(text))  # (time, vocab) one-hot, or (time, embedding)
    core = lm.core
    if not 0 <= layer < core.num_layers:
        raise ValueError(f"layer must be in [0, {core.num_layers - 1}]; got {layer}")
    t = gates.trace(core, x, None, layer=layer, float64=True)
    return TextActivations(text=text, h=np.asarray(t["h"]), kind=t.kind, layer=layer)


def line_positions(text: str) -> np.ndarray:
    """(len(text),) each character's position in its line: 0 right after a line break."""
    out = np.empty(len(text), dtype=np.float64)
    column = 0
    for i, c in enumerate(text):
        out[i] = column
        column = 0 if c == "\n" else column + 1
    return out


def is_punctuation(text: str) -> np.ndarray:
    """(len(text),) 1.0 where the character is punctuation (，。！? ... by Unicode), else 0.0."""
    return np.array([unicodedata.category(c).startswith("P") for c in text], dtype=np.float64)


# What a unit may track: name -> the property per character it is correlated with.
PROPERTIES: dict[str, Callable[[str], np.ndarray]] = {
    "line": line_positions,
    "punctuation": is_punctuation,
}


def correlations(values: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Pearson correlation of `values` (time,) with each column of h (time, hidden); 0 where
    either is constant (no linear relation can show)."""
    v = values - values.mean()
    c = h - h.mean(axis=0)
    norms = np.sqrt((v * v).sum()) * np.sqrt((c * c).sum(axis=0))  # (hidden,)
    dots = v @ c  # (hidden,)
    return np.divide(dots, norms, out=np.zeros_like(dots), where=norms > 1e-12)


def unit_ranking(acts: TextActivations, by: str) -> pd.DataFrame:
    """Units from the one that tracks `by` ("line" or "punctuation") most closely to the least:
    columns unit and the correlation of its h with the property over the passage (by |r|)."""
    if by not in PROPERTIES:
        raise ValueError(f"unknown property {by!r}; choose one of {', '.join(PROPERTIES)}")
    values = PROPERTIES[by](acts.text)
    r = correlations(values, acts.h)
    order = np.argsort(-np.abs(r), kind="stable")
    return pd.DataFrame({"unit": order.astype(int), "correlation": r[order]})


def _colour(value: float) -> str:
    """A background for an activation in [-1, 1]: blue below zero, red above, white at 0."""
    a = min(1.0, abs(float(value)))
    rgb = (214, 39, 40) if value > 0 else (31, 119, 180)
    return f"rgba({rgb[0]}, {rgb[1]}, {rgb[2]}, {a:.2f})"


def activation_html(text: str, values: np.ndarray) -> str:
    """The text as HTML, each character on a background coloured by its value in [-1, 1]
    (blue negative, red positive); hovering shows the value. Line breaks stay line breaks."""
    if len(values) != len(text):
        raise ValueError(f"{len(values)} values for {len(text)} characters")
    parts = []
    for c, v in zip(text, values, strict=True):
        shown = "↵" if c == "\n" else html.escape(c)
        parts.append(
            f'<span class="unit-char" title="{float(v):+.3f}"'
            f' style="background:{_colour(v)}">{shown}</span>'
        )
        if c == "\n":
            parts.append("<br>")
    return (
        '<div class="unit-text" style="font-family:monospace;line-height:1.9;'
        f'white-space:pre-wrap">{"".join(parts)}</div>'
    )
