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


def _log_axis(title: str, values: Sequence[float]) -> dict:
    """A log axis; labels on whole decades only when the data spans more than one."""
    positive = [v for v in values if v > 0]
    decades = bool(positive) and np.log10(max(positive) / min(positive)) >= 1.5
    return _axis(title, type="log", exponentformat="power", **({"dtick": 1} if decades else {}))


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
            traces.append(trace)
    return _figure(
        traces,
        title,
        height=520,
        xaxis=_axis("epoch"),
        yaxis=_log_axis(y_title, [v for t in traces for v in t.y]) if log else _axis(y_title),
        # Two entries a row, whatever the chart's width: a row per measurement, GRU beside MLP.
        legend=dict(entrywidth=0.5, entrywidthmode="fraction"),
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


def gates_figure(
    index: np.ndarray,
    signal: np.ndarray,
    gates: dict[str, np.ndarray],
    units: Sequence[int] | None = None,
    mark: tuple[int, int] | None = None,
    max_columns: int = MAX_HEATMAP_COLUMNS,
) -> go.Figure:
    """The input signal over a segment with heatmaps of r, z, n and h (unit x time) below it.

    `index` (time,) holds the series positions, `signal` (time,) the input values,
    `gates` maps "r", "z", "n", "h" to (time, hidden) arrays. `units` picks the rows
    shown (default all). `mark` = (position, unit) draws a line at that position and circles
    the unit's cell in every heatmap (if the unit is shown).
    r and z share one colour scale over [0, 1], n and h one over [-1, 1].
    """
    index = np.asarray(index)
    hidden = gates["r"].shape[1]
    units = list(range(hidden)) if units is None else list(units)
    fig = make_subplots(
        rows=5,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.035,
        row_heights=[0.16, 0.21, 0.21, 0.21, 0.21],
        subplot_titles=["input x"] + [label for _, label, _ in GATE_ROWS],
    )
    fig.add_trace(line(index, signal, "input x", COLORS["truth"], width=2), row=1, col=1)
    for row, (name, label, axis) in enumerate(GATE_ROWS, start=2):
        centers, values = _bin_columns(index, np.asarray(gates[name])[:, units], max_columns)
        fig.add_trace(
            go.Heatmap(
                x=centers,
                y=units,
                z=np.round(values.T, 4),
                name=label,
                coloraxis=axis,
                hovertemplate="t=%{x}<br>unit %{y}<br>" + name + "=%{z:.3f}<extra></extra>",
            ),
            row=row,
            col=1,
        )
        fig.update_yaxes(title_text="unit", row=row, col=1, autorange="reversed")
    if mark is not None:
        position, unit = mark
        fig.add_vline(x=position, line=dict(color="#D55E00", width=2, dash="dot"))
        for row in range(2, 6) if unit in units else ():
            fig.add_trace(
                go.Scatter(
                    x=[position],
                    y=[unit],
                    mode="markers",
                    showlegend=False,
                    hoverinfo="skip",
                    marker=dict(size=14, symbol="circle-open", color="#D55E00", line=dict(width=3)),
                ),
                row=row,
                col=1,
            )
    bar = dict(len=0.4, thickness=18, tickfont=dict(size=FONT_SIZE - 4))
    _style(fig, height=880)
    fig.update_layout(
        coloraxis=dict(
            colorscale="Viridis",
            cmin=0,
            cmax=1,
            colorbar=dict(title=dict(text="r, z"), y=0.62, **bar),
        ),
        coloraxis2=dict(
            colorscale="RdBu",
            cmin=-1,
            cmax=1,
            colorbar=dict(title=dict(text="n, h"), y=0.2, **bar),
        ),
        showlegend=False,
        hovermode="closest",
        margin=dict(l=70, r=30, t=40, b=60),
    )
    fig.update_annotations(font_size=FONT_SIZE)
    fig.update_yaxes(title_text="x", row=1, col=1)
    fig.update_xaxes(title_text="time step", row=5, col=1)
    return fig


def unit_lines_figure(
    index: np.ndarray, gates: dict[str, np.ndarray], units: Sequence[int]
) -> go.Figure:
    """r, z, n and h of the chosen units over time, one panel per quantity."""
    fig = make_subplots(
        rows=4,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.08,
        subplot_titles=[label for _, label, _ in GATE_ROWS],
    )
    for i, unit in enumerate(units):
        color = UNIT_COLORS[i % len(UNIT_COLORS)]
        for row, (name, _, _) in enumerate(GATE_ROWS, start=1):
            trace = line(
                index,
                np.asarray(gates[name])[:, unit],
                f"unit {unit}",
                color,
                legendgroup=f"unit {unit}",
                showlegend=row == 1,
            )
            fig.add_trace(trace, row=row, col=1)
    _style(fig, height=760)
    fig.update_annotations(font_size=FONT_SIZE)
    fig.update_yaxes(range=[-0.05, 1.05], row=1, col=1)
    fig.update_yaxes(range=[-0.05, 1.05], row=2, col=1)
    fig.update_yaxes(range=[-1.05, 1.05], row=3, col=1)
    fig.update_xaxes(title_text="time step", row=4, col=1)
    return fig


def memory_figure(mean_z: np.ndarray, memory: np.ndarray) -> go.Figure:
    """Per-unit memory 1 / (1 - mean z) in steps, as bars (mean z on hover)."""
    units = np.arange(len(memory))
    bars = go.Bar(
        x=units,
        y=memory,
        marker_color=COLORS["gru"],
        name="memory",
        customdata=np.asarray(mean_z),
        hovertemplate="unit %{x}<br>mean z = %{customdata:.3f}<br>"
        "memory = %{y:.1f} steps<extra></extra>",
    )
    long = np.max(memory) > 50
    return _figure(
        [bars],
        "Memory per unit: 1 / (1 - mean z)",
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
