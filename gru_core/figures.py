"""Plotly figures for the dashboard: pure functions from arrays to `go.Figure`.

Nothing here trains, forecasts or reads a UI: callers hand in numbers (see
`gru_core.views` for the helpers that compute them from a training snapshot)
and get a figure back. Every figure shares one look, made for a projector:
large fonts, the same colour for the same thing on every page (`COLORS`), and
long series reduced to a few thousand points (min/max per bucket, so peaks
survive) and drawn with WebGL.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

from gru_core import i18n
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
# metric -> its dash; its legend label is the text `chart.metric.<metric>`
METRIC_STYLES = {"train_loss": "solid", "test_one_step_mse": "dot", "test_rollout_mse": "dash"}
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


def metric_styles() -> dict[str, tuple[str, str]]:
    """The forecast chart's metrics: metric -> (legend label, dash)."""
    return {m: (i18n.t(f"chart.metric.{m}"), dash) for m, dash in METRIC_STYLES.items()}


def model_label(name: str) -> str:
    return NAMES.get(name, name)


def history_models(history: Sequence[dict]) -> list[str]:
    """The model names of a training history, in their order (from the train loss columns)."""
    return [k[: -len("_train_loss")] for k in history[0] if k.endswith("_train_loss")]


def _template() -> dict:
    white = pio.templates["plotly_white"].layout.to_plotly_json()
    return {"layout": {key: white[key] for key in WHITE_KEYS if key in white}}


TITLE_ROOM = 56  # px at the top of a titled figure for its title; the legend starts below


def _look(title: str | None, height: int) -> dict:
    """The layout every figure shares: projector-sized fonts, legend above the plot.

    A title sits at the top of the figure and the legend just below it, both placed from
    the figure's top edge: a legend that wraps onto more rows in a narrow window pushes the
    plot down instead of running over the title.
    """
    legend = dict(orientation="h", yanchor="bottom", y=1.02, x=0, font=dict(size=FONT_SIZE - 2))
    if title:
        legend.update(yref="container", yanchor="top", y=1 - TITLE_ROOM / height)
    return dict(
        title=dict(
            text=title,
            font=dict(size=FONT_SIZE + 4),
            yref="container",
            y=1,
            yanchor="top",
            pad=dict(t=10),
            automargin=True,
        )
        if title
        else None,
        font=dict(size=FONT_SIZE),
        height=height,
        margin=dict(l=70, r=30, t=70 if title else 40, b=60),
        legend=legend,
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
    positive = [v for v in values if v > 0 and math.isfinite(v)]
    span = float(np.log10(max(positive) / min(positive))) if positive else 0.0
    # Every decade labelled up to 8 of them, then every 2nd, 3rd, ...: labels never overlap.
    # Within a decade and a half, plotly would label one decade and tiny digits: name round
    # values instead.
    step = {"dtick": max(1, math.ceil(span / 8))} if span >= 1.5 else _round_ticks(positive)
    ceiling = log_ceiling(positive)
    cut = {}
    if ceiling is not None:
        low = np.log10(min(positive))
        cut = {"range": [low - 0.1, np.log10(ceiling) + 0.1], "autorange": False}
    return _axis(title, type="log", exponentformat="power", **step, **cut)


def _round_ticks(positive: Sequence[float]) -> dict:
    """Tick values and labels for a log axis over `positive` values spanning little: the
    round values between their extremes, 1, 2 and 5 times a power of ten where that gives
    three, else every digit where that gives two; else plotly's own (nothing here)."""
    if not positive:
        return {}
    low, high = min(positive), max(positive)
    decades = range(math.floor(np.log10(low)), math.ceil(np.log10(high)) + 1)
    for mantissas, enough in (((1, 2, 5), 3), (range(1, 10), 2)):
        ticks = [m * 10.0**d for d in decades for m in mantissas]
        ticks = [v for v in ticks if low <= v <= high]
        if len(ticks) >= enough:
            return {"tickvals": ticks, "ticktext": [f"{v:g}" for v in ticks]}
    return {}


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


def positions_x(index: np.ndarray, times: np.ndarray | None) -> np.ndarray:
    """The x values of positions in a series: their timestamps where it has them."""
    index = np.asarray(index, dtype=np.int64)
    return index if times is None else np.asarray(times)[index]


def boundary_x(position: int, times: np.ndarray | None) -> float | str:
    """The x of the boundary before `position`: half a step before it (a text on a date axis)."""
    if times is None:
        return position - 0.5
    times = np.asarray(times, dtype="datetime64[ns]")
    at = times[position]
    if position > 0:
        at = times[position - 1] + (at - times[position - 1]) / 2
    return str(np.datetime_as_string(at, unit="s"))


def _time_axis(times: np.ndarray | None) -> dict:
    if times is None:
        return _axis(i18n.t("chart.time_step"))
    return _axis(i18n.t("chart.time"), type="date")


def series_figure(
    series: np.ndarray, n_train: int, title: str | None = None, times: np.ndarray | None = None
) -> go.Figure:
    """The series over its index (or its `times`), the training and test parts in their own
    colours."""
    series = np.asarray(series, dtype=np.float64)
    index = positions_x(np.arange(len(series)), times)
    n_test = len(series) - n_train
    fig = _figure(
        [
            line(
                index[:n_train],
                series[:n_train],
                i18n.t("chart.train_part", n=f"{n_train:,}"),
                COLORS["train"],
                width=2,
            ),
            line(
                index[n_train:],
                series[n_train:],
                i18n.t("chart.test_part", n=f"{n_test:,}"),
                COLORS["test"],
                width=2,
            ),
        ],
        title,
        xaxis=_time_axis(times),
        yaxis=_axis(i18n.t("chart.value")),
    )
    fig.add_vline(x=boundary_x(n_train, times), line=dict(color="#888", dash="dot", width=1.5))
    return fig


def ambiguity_figure() -> go.Figure:
    """Why one value is not enough: a sine passes 0.5 twice a period, once rising, once falling."""
    x = np.linspace(0, 4 * np.pi, 400)
    fig = _figure(
        [line(x, np.sin(x), "sin(t)", COLORS["truth"], width=3, hoverinfo="skip")],
        i18n.t("chart.ambiguity"),
        height=360,
        xaxis=_axis(i18n.t("chart.time"), showticklabels=False),
        yaxis=_axis(i18n.t("chart.value"), range=[-1.25, 1.25]),
        hovermode=False,
        showlegend=False,
    )
    fig.add_hline(y=0.5, line=dict(color="#888", dash="dot", width=1.5))
    # Labels sit opposite their arrows: rising (arrow up-right) below left, falling above right.
    for t, color, label, shift in (
        (np.pi / 6 + 2 * np.pi, "#E69F00", i18n.t("chart.rising"), (-40, -24)),
        (5 * np.pi / 6 + 2 * np.pi, "#7B3294", i18n.t("chart.falling"), (44, 24)),
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


# The training history's chart is a Vega-Lite chart: `gru_core.live_chart`.


# -- gates ------------------------------------------------------------------------------------


MAX_UNIT_LABELS = 6  # a gate heatmap's row labels: more pile up at a projector's type size


def unit_label_step(units: int) -> int:
    """Every how many rows a gate heatmap labels its unit: the smallest of 1, 2, 5, 10, 20,
    50, ... that leaves at most `MAX_UNIT_LABELS` labels."""
    steps = (mantissa * 10**decade for decade in itertools.count() for mantissa in (1, 2, 5))
    return next(step for step in steps if math.ceil(units / step) <= MAX_UNIT_LABELS)


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
GATE_LABELS = i18n.Texts("gate.", ("r", "z", "n", "h_tilde", "i", "f", "g", "o", "c", "h"))
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
        subplot_titles=[i18n.t("chart.input")] + [GATE_LABELS.get(n, n) for n in names],
    )
    fig.add_trace(
        line(index, signal, i18n.t("chart.input"), COLORS["truth"], width=2), row=1, col=1
    )
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
                hovertemplate="t=%{x}<br>"
                + i18n.t("chart.unit_n", unit="%{customdata}")
                + "<br>"
                + name
                + "=%{z:.3f}<extra></extra>",
            ),
            row=row,
            col=1,
        )
        step = unit_label_step(len(units))
        ticks = dict(tickvals=positions[::step], ticktext=[str(u) for u in units[::step]])
        fig.update_yaxes(
            title_text=i18n.t("chart.unit"), row=row, col=1, autorange="reversed", **ticks
        )
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
    sig = ", ".join(n for n in names if n in SIGMOID_GATES) or i18n.t("chart.gates")
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
    fig.update_xaxes(title_text=i18n.t("chart.time_step"), row=rows + 1, col=1)
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
                i18n.t("chart.unit_n", unit=unit),
                color,
                legendgroup=f"unit{unit}",
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
    fig.update_xaxes(title_text=i18n.t("chart.time_step"), row=len(names), col=1)
    return fig


def unit_over_input_figure(
    index: np.ndarray, signal: np.ndarray, gates: dict[str, np.ndarray], unit: int, spans=None
) -> go.Figure:
    """One unit's gates drawn over the input: the input on the left axis, the gates on the
    right, the rising and falling stretches shaded."""
    index = np.asarray(index)
    fig = go.Figure()
    fig.add_trace(line(index, signal, i18n.t("chart.input"), COLORS["truth"], width=3))
    for i, (name, values) in enumerate(gates.items()):
        trace = line(
            index,
            np.asarray(values)[:, unit],
            f"{name} ({i18n.t('chart.unit_n', unit=unit)})",
            UNIT_COLORS[i % len(UNIT_COLORS)],
            width=2,
        )
        trace.yaxis = "y2"
        fig.add_trace(trace)
    _shade(fig, index, spans)
    _style(fig, height=420)
    fig.update_layout(
        xaxis=_axis(i18n.t("chart.time_step")),
        yaxis=_axis(i18n.t("chart.input")),
        yaxis2=_axis(
            i18n.t("chart.unit_n", unit=unit), overlaying="y", side="right", showgrid=False
        ),
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
        name=i18n.t("chart.memory"),
        customdata=np.asarray(mean_z),
        hovertemplate=i18n.t(
            "chart.memory.hover",
            unit="%{x}",
            gate=gate,
            mean="%{customdata:.3f}",
            steps="%{y:.1f}",
        )
        + "<extra></extra>",
    )
    long = np.max(memory) > 50
    return _figure(
        [bars],
        i18n.t("chart.memory.title", gate=gate),
        height=380,
        xaxis=_axis(i18n.t("chart.unit"), dtick=1 if len(units) <= 32 else None),
        yaxis=_log_axis(i18n.t("chart.steps_log"), [float(v) for v in memory])
        if long
        else _axis(i18n.t("chart.steps")),
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
    times: np.ndarray | None = None,
) -> go.Figure:
    """Truth and each model's forecast (`forecasts` maps model names to arrays like `truth`).

    `context` (the values read before the first forecast) is drawn in grey, with a
    dotted line where forecasting starts. With the series' `times`, they are the x axis.
    """
    traces = []
    if len(context):
        x = positions_x(context_index, times)
        traces.append(line(x, context, i18n.t("chart.context"), COLORS["context"], width=2))
    x = positions_x(index, times)
    traces.append(line(x, truth, i18n.t("chart.truth"), COLORS["truth"], width=2.5))
    for model, values in forecasts.items():
        traces.append(line(x, values, model_label(model), model_color(model), dash=dash, width=3))
    fig = _figure(
        traces,
        title,
        height=440,
        xaxis=_time_axis(times),
        yaxis=_axis(i18n.t("chart.value")),
    )
    if len(index):
        start = boundary_x(int(index[0]), times)
        fig.add_vline(x=start, line=dict(color="#888", dash="dot", width=1.5))
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
        xaxis=_axis(i18n.t("chart.steps_ahead")),
        yaxis=_log_axis(i18n.t("chart.mse_log"), [float(v) for e in errors.values() for v in e]),
    )


def compare_figure(traces: Sequence, x_title: str, y_title: str, log_y: bool = False) -> go.Figure:
    """Lines of several runs on one chart (the Runs page's overlays)."""
    if not traces:
        return _empty(_figure([]), i18n.t("chart.nothing_yet"))
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
        for values, when, dash in (
            (now, i18n.t("chart.now"), "solid"),
            (start, i18n.t("chart.at_start"), "dot"),
        ):
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
        xaxis=_axis(i18n.t("chart.lag")),
        yaxis=_log_axis(i18n.t("chart.gradient_log"), [v for t in traces for v in t.y]),
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
        for values, when, opacity in (
            (start, i18n.t("chart.at_start"), 0.35),
            (now, i18n.t("chart.now"), 0.9),
        ):
            bar = go.Bar(
                x=centers,
                y=time_scale_bins(values, edges),
                width=np.diff(edges) * 0.9,
                name=f"{model_label(name)} {when}",
                marker_color=model_color(name),
                opacity=opacity,
                legendgroup=name,
                hovertemplate=i18n.t("chart.histogram.hover", steps="%{x:.1f}", units="%{y}")
                + "<extra></extra>",
            )
            traces.append(bar)
    return _figure(
        traces,
        None,
        height=420,
        xaxis=_axis(i18n.t("chart.steps_log"), type="log"),
        yaxis=_axis(i18n.t("chart.units")),
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
        xaxis=_axis(i18n.t("chart.seq_len"), type="log"),
        yaxis=_log_axis(i18n.t("chart.rollout_mse_log"), [v for t in traces for v in t.y]),
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
    brightest; hover gives the mean, standard deviation and seeds done. Empty cells stay blank.

    Means over more than a decade are coloured by their logarithm (`sweep_colours`), so the
    cells that never learned do not paint every good one the same colour."""
    text = [[f"{m:.3g}" if np.isfinite(m) else "" for m in row] for row in mean]
    z, ticks = sweep_colours(mean)
    title = metric_label if ticks is None else i18n.t("chart.colour_log", metric=metric_label)
    trace = go.Heatmap(
        z=z,
        x=[str(c) for c in columns],
        y=[str(r) for r in rows],
        customdata=np.dstack([std, seeds]),
        text=text,
        texttemplate="%{text}",
        textfont=dict(size=FONT_SIZE - 2),
        colorscale="Viridis",
        reversescale=True,
        colorbar=dict(
            title=dict(text=title, side="right"),
            tickfont=dict(size=FONT_SIZE - 4),
            **({} if ticks is None else {"tickvals": ticks[0], "ticktext": ticks[1]}),
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


def sweep_colours(mean: np.ndarray) -> tuple[np.ndarray, tuple[list, list] | None]:
    """What a sweep heatmap colours its cells by: the means themselves, or, when all the
    finite means are positive and span more than a decade (one run that never learned next
    to good ones), their log10, with the colour bar's ticks (positions, labels) on whole
    decades. Cells without a mean stay blank (NaN)."""
    values = np.asarray(mean, dtype=float)
    good = np.isfinite(values) & (values > 0)
    if not good.any() or (np.isfinite(values) & ~good).any():  # a mean of 0 has no log
        return values, None
    if values[good].max() <= 10 * values[good].min():
        return values, None
    z = np.full(values.shape, np.nan)
    z[good] = np.log10(values[good])
    decades = range(int(np.floor(z[good].min())), int(np.ceil(z[good].max())) + 1)
    return z, ([float(d) for d in decades], [f"{10.0**d:g}" for d in decades])


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
        hovertemplate=(  # the cell as the Cell box names it: the first setting (rows) first
            (f"{row_name}=%{{y}}, " if row_name else "")
            + f"{column_name}=%{{x}}"
            + "<br>"
            + i18n.t(
                "chart.heatmap.hover",
                mean="%{customdata[0]:.4g}",
                std="%{customdata[1]:.3g}",
                seeds="%{customdata[2]}",
            )
            + "<extra></extra>"
        ),
        selected=dict(marker=dict(opacity=0.01)),
        unselected=dict(marker=dict(opacity=0.01)),
        showlegend=False,
    )


def band_figure(bands: dict, title: str | None = None, y_title: str | None = None) -> go.Figure:
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
                name=i18n.t("chart.band.std", model=label),
                hoverinfo="skip",
            )
        )
        traces.append(
            line(band.epochs, band.mean, i18n.t("chart.band.mean", model=label, n=band.runs), color)
        )
        values += [*low, *high]
    if not traces:
        return _empty(_figure([], title), i18n.t("chart.band.none"))
    return _figure(
        traces,
        title,
        height=420,
        xaxis=_axis(i18n.t("chart.epoch")),
        yaxis=_log_axis(
            i18n.t("chart.log_scale", title=y_title or i18n.t("metric.train_loss.short")), values
        ),
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
            name=i18n.t("chart.perfect"),
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
    return _figure(
        traces,
        None,
        height=480,
        xaxis=_axis(i18n.t("chart.true_value")),
        yaxis=_axis(i18n.t("chart.predicted")),
    )


def sample_windows_figure(
    windows: np.ndarray, target_step: int, truth: np.ndarray, predictions: dict[str, np.ndarray]
) -> go.Figure:
    """Each sample window as a line, its target as a black ring, each model's prediction a dot."""
    fig = make_subplots(rows=1, cols=len(windows), shared_yaxes=True, horizontal_spacing=0.02)
    steps = np.arange(windows.shape[1])
    for i, window in enumerate(windows):
        col, first = i + 1, i == 0
        fig.add_trace(
            line(steps, window, i18n.t("chart.window"), COLORS["context"], showlegend=first),
            row=1,
            col=col,
        )
        fig.add_trace(
            go.Scatter(
                x=[target_step],
                y=[truth[i]],
                mode="markers",
                name=i18n.t("chart.target"),
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
        xaxis=_axis(i18n.t("chart.predicted")),
        yaxis=_axis(i18n.t("chart.true"), autorange="reversed"),
    )


# -- presenter look ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Look:
    """How a finished figure is drawn: the plain look, or larger and bolder for a projector."""

    font_scale: float = 1.0  # every font size times this
    line_scale: float = 1.0  # every line's width (traces, shapes) times this
    marker_scale: float = 1.0  # every marker's size times this
    ink: str | None = None  # text and axis-line colour; None keeps the template's
    grid: str | None = None  # grid-line colour; None keeps the template's


PLAIN = Look()
PRESENTER = Look(font_scale=1.3, line_scale=2.0, marker_scale=1.4, ink="#000000", grid="#B0B0B0")
PLOTLY_LINE_WIDTH = 2  # what plotly draws a line with when a trace names no width
_FONTS = ("font", "tickfont", "textfont", "insidetextfont", "outsidetextfont")


def _scale_fonts(node: object, scale: float, ink: str | None) -> None:
    """Scale every font size (and set every font's colour to `ink`) in a figure's JSON, in place."""
    if isinstance(node, list):
        for item in node:
            _scale_fonts(item, scale, ink)
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key in _FONTS and isinstance(value, dict):
            if isinstance(value.get("size"), int | float):
                value["size"] = round(value["size"] * scale)
            if ink and "color" in value:
                value["color"] = ink
        elif isinstance(value, dict | list):
            _scale_fonts(value, scale, ink)


def restyle(fig: go.Figure, look: Look) -> go.Figure:
    """A copy of `fig` in `look`: every figure builder here, drawn for a projector by one call.

    Fonts (the shared one and every nested one), line widths of traces and shapes and marker
    sizes are scaled; with `ink`, text and axis lines are drawn in it; with `grid`, grid lines.
    The plain look gives back `fig` itself.
    """
    if look == PLAIN:
        return fig
    spec = fig.to_plotly_json()
    layout = spec.setdefault("layout", {})
    layout.setdefault("font", {}).setdefault("size", FONT_SIZE)
    if look.ink:
        layout["font"]["color"] = look.ink
    _scale_fonts(spec, look.font_scale, look.ink)
    for trace in spec.get("data", []):
        if trace.get("type") in ("scatter", "scattergl") and "lines" in trace.get("mode", "lines"):
            line = trace.setdefault("line", {})
            line["width"] = line.get("width", PLOTLY_LINE_WIDTH) * look.line_scale
        marker = trace.get("marker")
        if isinstance(marker, dict) and isinstance(marker.get("size"), int | float):
            marker["size"] = marker["size"] * look.marker_scale
    for shape in layout.get("shapes", []):
        if isinstance(shape.get("line"), dict) and "width" in shape["line"]:
            shape["line"]["width"] = shape["line"]["width"] * look.line_scale
    for name, axis in layout.items():
        if name.startswith(("xaxis", "yaxis")) and isinstance(axis, dict):
            if look.ink:
                axis.update(linecolor=look.ink, showline=True)
            if look.grid:
                axis["gridcolor"] = look.grid
    margin = layout.get("margin")
    if margin:  # room for the larger tick labels and titles
        layout["margin"] = {k: v * look.font_scale for k, v in margin.items()}
    return go.Figure(spec)
