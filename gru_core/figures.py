"""Plotly figures for the dashboard: pure functions from arrays to `go.Figure`.

Nothing here trains, forecasts or reads a UI: callers hand in numbers (see
`gru_core.views` for the helpers that compute them from a training snapshot)
and get a figure back. Every figure shares one look, made for a projector:
large fonts, the same colour for the same thing on every page (`COLORS`), and
long series reduced to a few thousand points (min/max per bucket, so peaks
survive) and drawn with WebGL.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

from gru_core.config import MODEL_KINDS

# One colour per thing, on every page (Okabe-Ito: distinguishable with colour blindness).
COLORS = {
    "gru": "#0072B2",  # blue
    "mlp": "#D55E00",  # vermillion
    "rnn": "#E7298A",  # magenta
    "lstm": "#6A3D9A",  # purple
    "gru_d2l": "#56B4E9",  # sky blue: a GRU too
    "gru_update_only": "#1B7837",  # dark green
    "gru_reset_only": "#A6761D",  # ochre
    "truth": "#222222",  # near black
    "context": "#9A9A9A",  # grey: values the models read before forecasting
    "train": "#009E73",  # bluish green
    "test": "#CC79A7",  # reddish purple
}
NAMES = MODEL_KINDS  # model name -> label, where the name is a kind
# Loss curves: the colour says which model, the dash which measurement.
METRIC_STYLES = {
    "train_loss": ("train", "solid"),
    "test_one_step_mse": ("test one-step", "dot"),
    "test_rollout_mse": ("test free-running", "dash"),
}
UNIT_COLORS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")

FONT_SIZE = 18  # readable from the back of a lecture room
MAX_POINTS = 4000  # points drawn per line; longer series are reduced with `downsample`
GL_THRESHOLD = 2000  # lines longer than this are drawn with WebGL (Scattergl)
MAX_HEATMAP_COLUMNS = 600  # time steps per heatmap row; longer segments are averaged in bins


# The parts of Plotly's "plotly_white" template that 2-D charts use. The rest (defaults for
# every trace type, 3-D, polar and map axes) changes nothing drawn here, and validating it
# into each figure was most of a live loss chart's build time.
WHITE_KEYS = (
    "autotypenumbers",
    "font",
    "hoverlabel",
    "paper_bgcolor",
    "plot_bgcolor",
    "coloraxis",
    "xaxis",
    "yaxis",
    "title",
    "shapedefaults",
    "annotationdefaults",
)


@functools.cache
def model_color(name: str) -> str:
    """A model's colour: its own for the kinds in `COLORS`, else one from the unit palette."""
    if name in COLORS:
        return COLORS[name]
    return UNIT_COLORS[sum(map(ord, name)) % len(UNIT_COLORS)]


def model_label(name: str) -> str:
    return NAMES.get(name, name)


def history_models(history: Sequence[dict]) -> list[str]:
    """The model names of a training history, in their order (from the train loss columns)."""
    return [k[: -len("_train_loss")] for k in history[0] if k.endswith("_train_loss")]


def _template() -> dict:
    white = pio.templates["plotly_white"].layout.to_plotly_json()
    return {"layout": {key: white[key] for key in WHITE_KEYS if key in white}}


def _look(title: str | None, height: int) -> dict:
    """The layout every figure shares: projector-sized fonts, legend above the plot."""
    return dict(
        title=dict(text=title, font=dict(size=FONT_SIZE + 4)) if title else None,
        font=dict(size=FONT_SIZE),
        height=height,
        margin=dict(l=70, r=30, t=70 if title else 40, b=60),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0, font=dict(size=FONT_SIZE - 2)),
        hovermode="x unified",
        template=_template(),
        hoverlabel=dict(font_size=FONT_SIZE - 2),
    )


def _axis(title: str | None = None, **settings) -> dict:
    """An axis in the shared look, with its title and any other axis settings."""
    heading = dict(font=dict(size=FONT_SIZE), **({"text": title} if title else {}))
    return dict(tickfont=dict(size=FONT_SIZE - 2), title=heading, **settings)


MAX_DECADES = 8  # a log axis spans at most this many decades; outliers above are clipped


def log_ceiling(values: Sequence[float]) -> float | None:
    """The highest value a log axis of `values` shows, or None when it shows them all.

    One early spike (a loss of 1e19 beside losses of 1e-3) would otherwise stretch the
    axis over 22 decades and flatten every curve. When the values span more than
    `MAX_DECADES`, the axis ends a decade above their 95th percentile, and never more than
    `MAX_DECADES` above the smallest; values above it are drawn on the edge, marked.
    """
    positive = np.array([v for v in values if v > 0 and np.isfinite(v)], dtype=np.float64)
    if not len(positive):
        return None
    low, high = np.log10(positive.min()), np.log10(positive.max())
    if high - low <= MAX_DECADES:
        return None
    bulk = np.quantile(positive, 0.95, method="lower")  # an observed value, not interpolated
    return float(10 ** min(np.log10(bulk) + 1, low + MAX_DECADES))


def _log_axis(title: str, values: Sequence[float]) -> dict:
    """A log axis; labels on whole decades only when the data spans more than one.

    Past `MAX_DECADES` the axis is cut at `log_ceiling` (the caller marks what lies above).
    """
    positive = [v for v in values if v > 0]
    span = float(np.log10(max(positive) / min(positive))) if positive else 0.0
    # Every decade labelled up to 8 of them, then every 2nd, 3rd, ...: labels never overlap.
    step = {"dtick": max(1, math.ceil(span / 8))} if span >= 1.5 else {}
    ceiling = log_ceiling(positive)
    cut = {}
    if ceiling is not None:
        low = np.log10(min(positive))
        cut = {"range": [low - 0.1, np.log10(ceiling) + 0.1], "autorange": False}
    return _axis(title, type="log", exponentformat="power", **step, **cut)


def _clipped_marks(traces: Sequence, ceiling: float) -> go.Scatter:
    """Markers on the axis's top edge where a trace's values lie above `ceiling`."""
    xs, texts = [], []
    for trace in traces:
        for x, y in zip(trace.x, trace.y, strict=True):
            if y > ceiling:
                xs.append(x)
                texts.append(f"{trace.name}: {y:.3g} (off the chart)")
    return go.Scatter(
        x=xs,
        y=[ceiling] * len(xs),
        mode="markers",
        marker=dict(symbol="triangle-up", size=11, color="#444"),
        name=f"above {ceiling:.2g}: off the chart (clipped)",
        text=texts,
        hovertemplate="%{text}<extra></extra>",
    )


def _figure(
    traces: Sequence,
    title: str | None = None,
    height: int = 420,
    xaxis: dict | None = None,
    yaxis: dict | None = None,
    **layout,
) -> go.Figure:
    """A figure in the shared look, its whole layout given at once.

    Plotly validates the layout once here; each later `update_layout`/`update_*axes`
    call walks it again (about 3 ms each), which adds up on a chart redrawn every second.
    Layout settings that are dicts are merged into the shared ones, others replace them.
    """
    look = _look(title, height)
    look.update(xaxis=xaxis or _axis(), yaxis=yaxis or _axis())
    for key, value in layout.items():
        shared = look.get(key)
        look[key] = {**shared, **value} if isinstance(shared, dict) and value else value
    return go.Figure(data=list(traces), layout=look)


def _style(fig: go.Figure, title: str | None = None, height: int = 420) -> go.Figure:
    """The shared look on a figure built elsewhere (subplots: every axis gets it)."""
    fig.update_layout(**_look(title, height))
    fig.update_xaxes(**_axis())
    fig.update_yaxes(**_axis())
    return fig


def downsample(
    x: np.ndarray, y: np.ndarray, max_points: int = MAX_POINTS
) -> tuple[np.ndarray, np.ndarray]:
    """At most `max_points` of (x, y): the min and the max of each bucket, in x order.

    Short inputs come back unchanged. The first and last points and the global
    extremes are always kept, so a reduced line keeps the shape of the original.
    """
    x, y = np.asarray(x), np.asarray(y, dtype=np.float64)
    n = len(y)
    if n <= max_points:
        return x, y
    buckets = max(1, (max_points - 2) // 2)
    edges = np.linspace(1, n - 1, buckets + 1).astype(int)
    keep = [0]
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        if hi <= lo:
            continue
        part = y[lo:hi]
        a, b = lo + int(np.argmin(part)), lo + int(np.argmax(part))
        keep.extend(sorted({a, b}))
    keep.append(n - 1)
    idx = np.unique(np.asarray(keep))
    return x[idx], y[idx]


def line(
    x: np.ndarray,
    y: np.ndarray,
    name: str,
    color: str,
    dash: str = "solid",
    width: float = 2.5,
    max_points: int = MAX_POINTS,
    **kwargs,
) -> go.Scatter | go.Scattergl:
    """A line trace, reduced with `downsample` and drawn with WebGL when still long."""
    x, y = downsample(np.asarray(x), np.asarray(y), max_points)
    cls = go.Scattergl if len(y) > GL_THRESHOLD else go.Scatter
    return cls(
        x=x, y=y, name=name, mode="lines", line=dict(color=color, dash=dash, width=width), **kwargs
    )


def _empty(fig: go.Figure, text: str) -> go.Figure:
    fig.add_annotation(
        text=text,
        showarrow=False,
        xref="paper",
        yref="paper",
        x=0.5,
        y=0.5,
        font=dict(size=FONT_SIZE + 2, color="#666"),
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


# -- data -------------------------------------------------------------------------------------


def series_figure(series: np.ndarray, n_train: int, title: str | None = None) -> go.Figure:
    """The series over its index, the training part and the test part in their own colours."""
    series = np.asarray(series, dtype=np.float64)
    index = np.arange(len(series))
    n_test = len(series) - n_train
    fig = _figure(
        [
            line(
                index[:n_train], series[:n_train], f"train ({n_train:,})", COLORS["train"], width=2
            ),
            line(index[n_train:], series[n_train:], f"test ({n_test:,})", COLORS["test"], width=2),
        ],
        title,
        xaxis=_axis("time step"),
        yaxis=_axis("value"),
    )
    fig.add_vline(x=n_train - 0.5, line=dict(color="#888", dash="dot", width=1.5))
    return fig


def ambiguity_figure() -> go.Figure:
    """Why one value is not enough: a sine passes 0.5 twice a period, once rising, once falling."""
    x = np.linspace(0, 4 * np.pi, 400)
    fig = _figure(
        [line(x, np.sin(x), "sin(t)", COLORS["truth"], width=3, hoverinfo="skip")],
        "Input 0.5: is the next value higher or lower?",
        height=360,
        xaxis=_axis("time", showticklabels=False),
        yaxis=_axis("value", range=[-1.25, 1.25]),
        hovermode=False,
        showlegend=False,
    )
    fig.add_hline(y=0.5, line=dict(color="#888", dash="dot", width=1.5))
    # Labels sit opposite their arrows: rising (arrow up-right) below left, falling above right.
    for t, color, label, shift in (
        (np.pi / 6 + 2 * np.pi, "#E69F00", "rising", (-40, -24)),
        (5 * np.pi / 6 + 2 * np.pi, "#7B3294", "falling", (44, 24)),
    ):
        after = t + 0.6
        fig.add_trace(
            go.Scatter(
                x=[t],
                y=[0.5],
                mode="markers",
                name=label,
                showlegend=False,
                marker=dict(size=16, color=color, line=dict(width=2, color="white")),
            )
        )
        fig.add_annotation(
            x=after,
            y=float(np.sin(after)),
            ax=t,
            ay=0.5,
            xref="x",
            yref="y",
            axref="x",
            ayref="y",
            showarrow=True,
            arrowhead=3,
            arrowsize=1.5,
            arrowwidth=3,
            arrowcolor=color,
            text="",
        )
        fig.add_annotation(
            x=t,
            y=0.5,
            text=f"<b>{label}</b>",
            showarrow=False,
            xshift=shift[0],
            yshift=shift[1],
            font=dict(color=color, size=FONT_SIZE),
        )
    return fig


# -- training ---------------------------------------------------------------------------------


def loss_figure(
    history: Sequence[dict],
    title: str | None = None,
    styles: dict[str, tuple[str, str]] | None = None,
    y_title: str = "MSE (log scale)",
    log: bool = True,
) -> go.Figure:
    """Loss per epoch for both models (log y): train, test one-step and test free-running.

    Rows are the training history's dicts; epochs without a value for a metric
    (no evaluation that epoch, or a non-finite value) are left out of that trace.
    Another task passes its own metrics as `styles` (metric -> (label, dash)), its axis
    title and whether the axis is logarithmic.
    """
    if not history:
        return _empty(_figure([], title), "No epochs yet: press Start")
    traces = []
    all_epochs = np.array([r["epoch"] for r in history], dtype=int)
    for metric, (label, dash) in (styles or METRIC_STYLES).items():  # one metric, every model
        for model in history_models(history):
            key = f"{model}_{metric}"
            values = np.array([_value(r.get(key)) for r in history], dtype=np.float64)
            keep = np.isfinite(values) & ((values > 0) if log else True)
            epochs, values = all_epochs[keep], values[keep]
            trace = line(
                epochs, values, f"{model_label(model)} {label}", model_color(model), dash=dash
            )
            if len(values) <= 2:  # a lone point has no line to show it
                trace.mode = "lines+markers"
            trace.legendgroup = model
            traces.append(trace)
    values = [v for t in traces for v in t.y]
    ceiling = log_ceiling(values) if log else None
    if ceiling is not None:
        traces.append(_clipped_marks(traces, ceiling))
    models = len(history_models(history))
    # Two models: two entries a row above the plot, a row per measurement. More: one column
    # beside the plot, grouped by model, so 6 models' 18 entries stay one readable list.
    legend = (
        dict(entrywidth=0.5, entrywidthmode="fraction")
        if models <= 2
        else dict(
            orientation="v",
            x=1.01,
            y=1,
            yanchor="top",
            traceorder="grouped",
            tracegroupgap=4,
            font=dict(size=FONT_SIZE - 4),
        )
    )
    return _figure(
        traces,
        title,
        height=520,
        xaxis=_axis("epoch"),
        yaxis=_log_axis(y_title, values) if log else _axis(y_title),
        legend=legend,
    )


def _value(value) -> float:
    """A history entry as a float; NaN where there is none."""
    return np.nan if value is None else value


# -- gates ------------------------------------------------------------------------------------


def _bin_columns(index: np.ndarray, values: np.ndarray, max_columns: int):
    """Average (time, units) values in equal time bins so at most `max_columns` remain."""
    t = len(index)
    if t <= max_columns:
        return index.astype(np.float64), values
    edges = np.linspace(0, t, max_columns + 1).astype(int)
    centers = np.array([index[a:b].mean() for a, b in zip(edges[:-1], edges[1:], strict=True)])
    binned = np.stack(
        [values[a:b].mean(axis=0) for a, b in zip(edges[:-1], edges[1:], strict=True)]
    )
    return centers, binned


GATE_ROWS = (
    ("r", "reset gate r", "coloraxis"),
    ("z", "update gate z", "coloraxis"),
    ("n", "candidate n", "coloraxis2"),
    ("h", "hidden state h", "coloraxis2"),
)
# Every gate of every kind: its title; the sigmoid gates share the [0, 1] colour scale.
GATE_LABELS = {
    "r": "reset gate r",
    "z": "update gate z",
    "n": "candidate n",
    "h_tilde": "candidate h~",
    "i": "input gate i",
    "f": "forget gate f",
    "g": "candidate g",
    "o": "output gate o",
    "c": "cell state c",
    "h": "hidden state h",
}
SIGMOID_GATES = ("r", "z", "i", "f", "o")
SLOPE_COLORS = {"rising": "rgba(0, 158, 115, 0.12)", "falling": "rgba(213, 94, 0, 0.10)"}


def _shade(fig: go.Figure, index: np.ndarray, spans, **where) -> None:
    """Shade the rising (green) and falling (orange) stretches of the input."""
    for first, last, kind in spans or ():
        fig.add_vrect(
            x0=index[first] - 0.5,
            x1=index[last] + 0.5,
            fillcolor=SLOPE_COLORS[kind],
            line_width=0,
            layer="below",
            **where,
        )


def gates_figure(
    index: np.ndarray,
    signal: np.ndarray,
    gates: dict[str, np.ndarray],
    units: Sequence[int] | None = None,
    mark: tuple[int, int] | None = None,
    max_columns: int = MAX_HEATMAP_COLUMNS,
    spans=None,
) -> go.Figure:
    """The input signal over a segment with a heatmap per gate (unit x time) below it.

    `index` (time,) holds the series positions, `signal` (time,) the input values,
    `gates` maps gate names (any kind's: r, z, n, h; i, f, g, o, c, h; ...) to (time,
    hidden) arrays, drawn in that order. `units` picks the rows shown, top to bottom
    (default all, in order). `mark` = (position, unit) draws a line at that position and
    circles the unit's cell in every heatmap (if the unit is shown). `spans` (from
    `views.gates.slope_spans`) shades where the input rises and falls. Sigmoid gates share
    one colour scale over [0, 1], the others one over [-1, 1].
    """
    index = np.asarray(index)
    names = list(gates)
    hidden = gates[names[0]].shape[1]
    units = list(range(hidden)) if units is None else list(units)
    rows = len(names)
    fig = make_subplots(
        rows=rows + 1,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.035 * 5 / (rows + 1),
        row_heights=[0.16] + [0.84 / rows] * rows,
        subplot_titles=["input x"] + [GATE_LABELS.get(n, n) for n in names],
    )
    fig.add_trace(line(index, signal, "input x", COLORS["truth"], width=2), row=1, col=1)
    _shade(fig, index, spans, row=1, col=1)
    positions = list(range(len(units)))  # rows top to bottom, labelled with the unit
    for row, name in enumerate(names, start=2):
        centers, values = _bin_columns(index, np.asarray(gates[name])[:, units], max_columns)
        fig.add_trace(
            go.Heatmap(
                x=centers,
                y=positions,
                z=np.round(values.T, 4),
                name=GATE_LABELS.get(name, name),
                coloraxis="coloraxis" if name in SIGMOID_GATES else "coloraxis2",
                customdata=np.repeat(np.array(units)[:, None], len(centers), axis=1),
                hovertemplate="t=%{x}<br>unit %{customdata}<br>"
                + name
                + "=%{z:.3f}<extra></extra>",
            ),
            row=row,
            col=1,
        )
        ticks = dict(tickvals=positions, ticktext=[str(u) for u in units])
        if len(units) > 16:  # every other label: 32 rows stay legible
            ticks = dict(tickvals=positions[::2], ticktext=[str(u) for u in units[::2]])
        fig.update_yaxes(title_text="unit", row=row, col=1, autorange="reversed", **ticks)
    if mark is not None:
        position, unit = mark
        fig.add_vline(x=position, line=dict(color="#D55E00", width=2, dash="dot"))
        for row in range(2, rows + 2) if unit in units else ():
            fig.add_trace(
                go.Scatter(
                    x=[position],
                    y=[units.index(unit)],
                    mode="markers",
                    showlegend=False,
                    hoverinfo="skip",
                    marker=dict(size=14, symbol="circle-open", color="#D55E00", line=dict(width=3)),
                ),
                row=row,
                col=1,
            )
    bar = dict(len=0.4, thickness=18, tickfont=dict(size=FONT_SIZE - 4))
    sig = ", ".join(n for n in names if n in SIGMOID_GATES) or "gates"
    other = ", ".join(n for n in names if n not in SIGMOID_GATES)
    _style(fig, height=180 + 175 * rows)
    fig.update_layout(
        coloraxis=dict(
            colorscale="Viridis",
            cmin=0,
            cmax=1,
            colorbar=dict(title=dict(text=sig), y=0.62, **bar),
        ),
        coloraxis2=dict(
            colorscale="RdBu",
            cmin=-1,
            cmax=1,
            colorbar=dict(title=dict(text=other), y=0.2, **bar),
        ),
        showlegend=False,
        hovermode="closest",
        margin=dict(l=70, r=30, t=40, b=60),
    )
    fig.update_annotations(font_size=FONT_SIZE)
    fig.update_yaxes(title_text="x", row=1, col=1)
    fig.update_xaxes(title_text="time step", row=rows + 1, col=1)
    return fig


def unit_lines_figure(
    index: np.ndarray, gates: dict[str, np.ndarray], units: Sequence[int]
) -> go.Figure:
    """Every gate of the chosen units over time, one panel per gate."""
    names = list(gates)
    fig = make_subplots(
        rows=len(names),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.32 / len(names),
        subplot_titles=[GATE_LABELS.get(n, n) for n in names],
    )
    for i, unit in enumerate(units):
        color = UNIT_COLORS[i % len(UNIT_COLORS)]
        for row, name in enumerate(names, start=1):
            trace = line(
                index,
                np.asarray(gates[name])[:, unit],
                f"unit {unit}",
                color,
                legendgroup=f"unit {unit}",
                showlegend=row == 1,
            )
            fig.add_trace(trace, row=row, col=1)
    _style(fig, height=190 * len(names))
    fig.update_annotations(font_size=FONT_SIZE)
    for row, name in enumerate(names, start=1):
        if name in SIGMOID_GATES:
            fig.update_yaxes(range=[-0.05, 1.05], row=row, col=1)
        elif name != "c":
            fig.update_yaxes(range=[-1.05, 1.05], row=row, col=1)
    fig.update_xaxes(title_text="time step", row=len(names), col=1)
    return fig


def unit_over_input_figure(
    index: np.ndarray, signal: np.ndarray, gates: dict[str, np.ndarray], unit: int, spans=None
) -> go.Figure:
    """One unit's gates drawn over the input: the input on the left axis, the gates on the
    right, the rising and falling stretches shaded."""
    index = np.asarray(index)
    fig = go.Figure()
    fig.add_trace(line(index, signal, "input x", COLORS["truth"], width=3))
    for i, (name, values) in enumerate(gates.items()):
        trace = line(
            index,
            np.asarray(values)[:, unit],
            f"{name} (unit {unit})",
            UNIT_COLORS[i % len(UNIT_COLORS)],
            width=2,
        )
        trace.yaxis = "y2"
        fig.add_trace(trace)
    _shade(fig, index, spans)
    _style(fig, height=420)
    fig.update_layout(
        xaxis=_axis("time step"),
        yaxis=_axis("input x"),
        yaxis2=_axis(f"unit {unit}", overlaying="y", side="right", showgrid=False),
        margin=dict(l=70, r=80, t=40, b=60),
    )
    return fig


def memory_figure(mean_z: np.ndarray, memory: np.ndarray, gate: str = "z") -> go.Figure:
    """Per-unit memory 1 / (1 - mean keep gate) in steps, as bars (the mean on hover).

    `gate` names the keep gate: z for the GRUs, f for the LSTM.
    """
    units = np.arange(len(memory))
    bars = go.Bar(
        x=units,
        y=memory,
        marker_color=COLORS["gru"],
        name="memory",
        customdata=np.asarray(mean_z),
        hovertemplate="unit %{x}<br>mean " + gate + " = %{customdata:.3f}<br>"
        "memory = %{y:.1f} steps<extra></extra>",
    )
    long = np.max(memory) > 50
    return _figure(
        [bars],
        f"Memory per unit: 1 / (1 - mean {gate})",
        height=380,
        xaxis=_axis("unit", dtick=1 if len(units) <= 32 else None),
        yaxis=_log_axis("steps (log scale)", [float(v) for v in memory])
        if long
        else _axis("steps"),
        hovermode="closest",
        showlegend=False,
    )


# -- forecasts --------------------------------------------------------------------------------


def rollout_figure(
    context_index: np.ndarray,
    context: np.ndarray,
    index: np.ndarray,
    truth: np.ndarray,
    forecasts: dict[str, np.ndarray],
    title: str | None = None,
    dash: str = "solid",
) -> go.Figure:
    """Truth and each model's forecast (`forecasts` maps model names to arrays like `truth`).

    `context` (the values read before the first forecast) is drawn in grey, with a
    dotted line where forecasting starts.
    """
    traces = []
    if len(context):
        traces.append(
            line(context_index, context, "read by the models", COLORS["context"], width=2)
        )
    traces.append(line(index, truth, "truth", COLORS["truth"], width=2.5))
    for model, values in forecasts.items():
        traces.append(
            line(index, values, model_label(model), model_color(model), dash=dash, width=3)
        )
    fig = _figure(traces, title, height=440, xaxis=_axis("time step"), yaxis=_axis("value"))
    if len(index):
        fig.add_vline(x=float(index[0]) - 0.5, line=dict(color="#888", dash="dot", width=1.5))
    return fig


def horizon_figure(
    steps: np.ndarray, errors: dict[str, np.ndarray], title: str | None = None
) -> go.Figure:
    """Mean squared error of free-running forecasts against steps ahead, per model (log y)."""
    return _figure(
        [
            line(steps, values, model_label(model), model_color(model), width=3)
            for model, values in errors.items()
        ],
        title,
        height=400,
        xaxis=_axis("steps ahead"),
        yaxis=_log_axis("MSE (log scale)", [float(v) for e in errors.values() for v in e]),
    )


def compare_figure(traces: Sequence, x_title: str, y_title: str, log_y: bool = False) -> go.Figure:
    """Lines of several runs on one chart (the Runs page's overlays)."""
    if not traces:
        return _empty(_figure([]), "Nothing to draw for these runs yet")
    values = [v for t in traces for v in t.y]
    yaxis = _log_axis(y_title, values) if log_y else _axis(y_title)
    return _figure(traces, height=560, xaxis=_axis(x_title), yaxis=yaxis)


# -- memory -----------------------------------------------------------------------------------


def influence_figure(curves: dict[str, tuple[np.ndarray, np.ndarray]]) -> go.Figure:
    """Gradient influence || d y_T / d x_{T-k} || against the lag k (log y), per model.

    `curves` maps a model name to (at the start, now), each (lags,): the start dotted,
    now solid, in the model's colour.
    """
    traces = []
    for name, (start, now) in curves.items():
        for values, when, dash in ((now, "now", "solid"), (start, "at the start", "dot")):
            values = np.asarray(values, dtype=np.float64)
            lags = np.arange(len(values))
            keep = values > 0
            trace = line(
                lags[keep],
                values[keep],
                f"{model_label(name)} {when}",
                model_color(name),
                dash=dash,
            )
            trace.legendgroup = name
            traces.append(trace)
    return _figure(
        traces,
        None,
        height=460,
        xaxis=_axis("lag k (steps back)"),
        yaxis=_log_axis("gradient norm (log scale)", [v for t in traces for v in t.y]),
        legend=dict(traceorder="grouped"),
    )


def time_scale_bins(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts of `values` in the bins `edges` (values beyond the last edge in the last bin)."""
    clipped = np.clip(np.asarray(values, dtype=np.float64), edges[0], edges[-1])
    counts, _ = np.histogram(clipped, bins=edges)
    return counts


def time_scale_figure(scales: dict[str, tuple[np.ndarray, np.ndarray]]) -> go.Figure:
    """Histogram of the units' time scales 1 / (1 - mean keep gate), log-spaced bins.

    `scales` maps a model name to (at the start, now), each (hidden,) in steps.
    """
    everything = np.concatenate([np.ravel(v) for pair in scales.values() for v in pair] or [[1]])
    top = max(2.0, float(np.max(everything)))
    edges = np.geomspace(1.0, top * 1.0001, 16)
    centers = np.sqrt(edges[:-1] * edges[1:])
    traces = []
    for name, (start, now) in scales.items():
        for values, when, opacity in ((start, "at the start", 0.35), (now, "now", 0.9)):
            bar = go.Bar(
                x=centers,
                y=time_scale_bins(values, edges),
                width=np.diff(edges) * 0.9,
                name=f"{model_label(name)} {when}",
                marker_color=model_color(name),
                opacity=opacity,
                legendgroup=name,
                hovertemplate="%{x:.1f} steps: %{y} units<extra></extra>",
            )
            traces.append(bar)
    return _figure(
        traces,
        None,
        height=420,
        xaxis=_axis("steps (log scale)", type="log"),
        yaxis=_axis("units"),
        barmode="overlay",
        hovermode="closest",
    )


def length_figure(table) -> go.Figure:
    """Best test error against the sequence length trained on, one line per model (log y).

    `table`: lengths x models (`memory.by_length`).
    """
    traces = [
        line(
            np.asarray(table.index),
            table[name].to_numpy(dtype=np.float64),
            model_label(name),
            model_color(name),
            width=3,
        )
        for name in table.columns
    ]
    for t in traces:
        t.mode = "lines+markers"
    return _figure(
        traces,
        None,
        height=420,
        xaxis=_axis("sequence length (steps)", type="log"),
        yaxis=_log_axis("test MSE, free-running (log)", [v for t in traces for v in t.y]),
    )


# -- sweeps -----------------------------------------------------------------------------------


def sweep_heatmap_figure(
    rows: Sequence,
    columns: Sequence,
    mean: np.ndarray,
    std: np.ndarray,
    seeds: np.ndarray,
    row_name: str,
    column_name: str,
    metric_label: str,
) -> go.Figure:
    """A sweep's grid coloured by the mean of a metric over seeds (rows, columns), the lowest
    brightest; hover gives the mean, standard deviation and seeds done. Empty cells stay blank."""
    text = [[f"{m:.3g}" if np.isfinite(m) else "" for m in row] for row in mean]
    trace = go.Heatmap(
        z=mean,
        x=[str(c) for c in columns],
        y=[str(r) for r in rows],
        customdata=np.dstack([std, seeds]),
        text=text,
        texttemplate="%{text}",
        textfont=dict(size=FONT_SIZE - 2),
        colorscale="Viridis",
        reversescale=True,
        colorbar=dict(
            title=dict(text=metric_label, side="right"), tickfont=dict(size=FONT_SIZE - 4)
        ),
        hoverinfo="skip",  # the cells' markers below answer hover and clicks
        xgap=2,
        ygap=2,
    )
    return _figure(
        [trace, _cell_markers(rows, columns, mean, std, seeds, row_name, column_name)],
        height=180 + 60 * len(rows) if row_name else 220,
        xaxis=_axis(column_name, type="category"),
        yaxis=_axis(row_name or None, type="category", showticklabels=bool(row_name)),
        hovermode="closest",
        hoverdistance=-1,  # the nearest cell's marker answers anywhere in its cell
        clickmode="event+select",
    )


def _cell_markers(rows, columns, mean, std, seeds, row_name: str, column_name: str) -> go.Scatter:
    """An invisible marker at each cell's centre, named "cells": Streamlit reports clicks on a
    heatmap's cells as no selection, but clicks on markers as the point's x and y."""
    xs = [str(c) for _ in rows for c in columns]
    ys = [str(r) for r in rows for _ in columns]
    return go.Scatter(
        x=xs,
        y=ys,
        mode="markers",
        name="cells",
        marker=dict(size=24, symbol="square", opacity=0.01, color="white"),
        customdata=np.column_stack([np.ravel(mean), np.ravel(std), np.ravel(seeds)]),
        hovertemplate=(
            f"{column_name}=%{{x}}"
            + (f", {row_name}=%{{y}}" if row_name else "")
            + "<br>mean %{customdata[0]:.4g}<br>std %{customdata[1]:.3g}"
            "<br>seeds done %{customdata[2]}<extra></extra>"
        ),
        selected=dict(marker=dict(opacity=0.01)),
        unselected=dict(marker=dict(opacity=0.01)),
        showlegend=False,
    )


def band_figure(bands: dict, title: str | None = None, y_title: str = "train loss") -> go.Figure:
    """Per model (name -> `views.sweep.Band`): the mean line and a +/- one standard deviation
    band over the runs, on a log axis."""
    traces = []
    values = []
    for name, band in bands.items():
        if band is None:
            continue
        color = model_color(name)
        low = np.maximum(band.mean - band.std, band.mean * 1e-3)  # a log axis has no zero
        high = band.mean + band.std
        label = model_label(name)
        traces.append(
            go.Scatter(
                x=np.concatenate([band.epochs, band.epochs[::-1]]),
                y=np.concatenate([high, low[::-1]]),
                fill="toself",
                fillcolor=color,
                opacity=0.25,
                line=dict(width=0),
                name=f"{label} ± 1 std",
                hoverinfo="skip",
            )
        )
        traces.append(line(band.epochs, band.mean, f"{label} mean of {band.runs}", color))
        values += [*low, *high]
    if not traces:
        return _empty(_figure([], title), "No finished run in this cell yet")
    return _figure(
        traces,
        title,
        height=420,
        xaxis=_axis("epoch"),
        yaxis=_log_axis(f"{y_title} (log scale)", values),
    )


# -- the window and classify tasks ----------------------------------------------------------


def prediction_scatter(truth: np.ndarray, predictions: dict[str, np.ndarray]) -> go.Figure:
    """Predicted against true value per test window and model; the diagonal is perfect."""
    lo = float(min(truth.min(), *(p.min() for p in predictions.values())))
    hi = float(max(truth.max(), *(p.max() for p in predictions.values())))
    traces = [
        go.Scatter(
            x=[lo, hi],
            y=[lo, hi],
            mode="lines",
            name="perfect",
            line=dict(color="#999", dash="dot"),
        )
    ]
    for name, pred in predictions.items():
        traces.append(
            go.Scatter(
                x=truth,
                y=pred,
                mode="markers",
                name=model_label(name),
                marker=dict(color=model_color(name), size=9, opacity=0.8),
            )
        )
    return _figure(traces, None, height=480, xaxis=_axis("true value"), yaxis=_axis("predicted"))


def sample_windows_figure(
    windows: np.ndarray, target_step: int, truth: np.ndarray, predictions: dict[str, np.ndarray]
) -> go.Figure:
    """Each sample window as a line, its target as a black ring, each model's prediction a dot."""
    fig = make_subplots(rows=1, cols=len(windows), shared_yaxes=True, horizontal_spacing=0.02)
    steps = np.arange(windows.shape[1])
    for i, window in enumerate(windows):
        col, first = i + 1, i == 0
        fig.add_trace(
            line(steps, window, "window", COLORS["context"], showlegend=first), row=1, col=col
        )
        fig.add_trace(
            go.Scatter(
                x=[target_step],
                y=[truth[i]],
                mode="markers",
                name="target",
                showlegend=first,
                marker=dict(
                    color=COLORS["truth"], size=14, symbol="circle-open", line=dict(width=3)
                ),
            ),
            row=1,
            col=col,
        )
        for name, pred in predictions.items():
            fig.add_trace(
                go.Scatter(
                    x=[target_step],
                    y=[pred[i]],
                    mode="markers",
                    name=model_label(name),
                    showlegend=first,
                    marker=dict(color=model_color(name), size=10),
                ),
                row=1,
                col=col,
            )
    return _style(fig, None, height=360)


def confusion_figure(matrix: np.ndarray, class_names: Sequence[str], title: str) -> go.Figure:
    """Counts of (true class, predicted class) as a heatmap with the numbers written in."""
    names = list(class_names)
    heat = go.Heatmap(
        z=matrix,
        x=names,
        y=names,
        colorscale="Blues",
        showscale=False,
        text=matrix,
        texttemplate="%{text}",
        textfont=dict(size=FONT_SIZE),
    )
    return _figure(
        [heat],
        title,
        height=360,
        xaxis=_axis("predicted"),
        yaxis=_axis("true", autorange="reversed"),
    )
