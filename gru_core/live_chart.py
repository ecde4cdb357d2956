"""The Train page's loss chart as a Vega-Lite spec: one spec per run, only its data changing.

Streamlit re-mounts a Plotly chart whenever its data changes, so a chart redrawn while a run
trains lost hover and zoom. A Vega-Lite chart whose spec stays the same from one redraw to the
next is updated in place instead (its named datasets are swapped in the same view). So
everything that changes while a run trains lives in the datasets, never in the spec:

- `losses`: one row per (epoch, model, measurement) with the value, the value drawn (clipped
  to the axis's ceiling, `figures.log_ceiling`) and whether it was clipped;
- `marker`: the epoch a vertical rule marks (no row: no rule).

The spec depends only on the run's models, the task's measurements and the language. It has
tooltips (every curve's value at the hovered epoch; a clipped point's true value) and zoom and
pan (an interval selection bound to the scales; a double click resets it). Pure: no Streamlit.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from gru_core import figures
from gru_core.i18n import t

LOSSES = "losses"  # the datasets' names in the spec
MARKER = "marker"
HEIGHT = 420  # pixels; the width follows the page
# Plotly's dash names (the tasks' chart styles) as Vega-Lite stroke dash arrays.
DASHES = {
    "solid": [1, 0],
    "dot": [2, 4],
    "dash": [9, 5],
    "dashdot": [9, 4, 2, 4],
    "longdash": [16, 6],
}
COLUMNS = ("epoch", "series", "model", "measure", "value", "shown", "clipped")


def loss_chart(
    history: Sequence[dict],
    models: Mapping[str, str] | None = None,
    styles: Mapping[str, tuple[str, str]] | None = None,
    y_title: str | None = None,
    log: bool = True,
    marker_epoch: int | None = None,
) -> dict:
    """The Vega-Lite spec of the loss chart, its data under `spec["datasets"]` as tables.

    `history`: the training history's rows; `models`: model name -> label, in order (default:
    the history's models); `styles`: metric -> (label, dash) as `figures.metric_styles()` gives
    (its default); `log`: a logarithmic y axis, which keeps at most `figures.MAX_DECADES`
    decades (values above `figures.log_ceiling` are drawn on the top edge and marked with a
    triangle); `marker_epoch`: draw a vertical rule at that epoch. Values that are missing,
    not finite (or not positive, on a log axis) are left out, as the other charts do.
    """
    styles = dict(styles or figures.metric_styles())
    y_title = t("chart.mse_log") if y_title is None else y_title
    if models is None:
        names = figures.history_models(history) if history else []
        models = {n: figures.model_label(n) for n in names}
    series = []  # (dataset key, model name, model label, metric, measurement): one metric,
    # every model, as the Plotly chart orders its traces
    for metric, (measure, _) in styles.items():
        for name, label in models.items():
            series.append((f"s{len(series)}", name, label, metric, measure))
    losses = _losses(history, series, log)
    marker = pd.DataFrame({"epoch": [] if marker_epoch is None else [int(marker_epoch)]})
    spec = _spec(series, models, styles, y_title, log)
    spec["datasets"] = {LOSSES: losses, MARKER: marker.astype("int64")}
    return spec


def clipped_above(spec: dict) -> float | None:
    """The ceiling above which the chart's values are clipped (None: nothing is clipped)."""
    losses = spec["datasets"][LOSSES]
    clipped = losses[losses["clipped"]]
    return float(clipped["shown"].iloc[0]) if len(clipped) else None


def _losses(history: Sequence[dict], series: list[tuple], log: bool) -> pd.DataFrame:
    """One row per drawn point, long format (see `COLUMNS`). Built from whole arrays: it is
    rebuilt at every epoch of a live run, in the script run that draws it."""
    epochs = np.array([r["epoch"] for r in history], dtype=np.int64)
    xs, ys, sizes = [], [], []
    for _, name, _, metric, _ in series:
        column = f"{name}_{metric}"
        values = np.array([_number(r.get(column)) for r in history], dtype=np.float64)
        keep = np.isfinite(values) & ((values > 0) if log else True)
        x, y = figures.downsample(epochs[keep], values[keep])
        xs.append(np.asarray(x, dtype=np.int64))
        ys.append(np.asarray(y, dtype=np.float64))
        sizes.append(len(xs[-1]))
    value = np.concatenate(ys) if ys else np.array([], dtype=np.float64)

    def repeated(i: int) -> pd.Series:  # series field i, once per point of its series
        words = np.repeat(np.array([s[i] for s in series], dtype=object), sizes)
        return pd.Series(words, dtype="str")

    ceiling = figures.log_ceiling(value.tolist()) if log else None
    clipped = value > ceiling if ceiling is not None else np.zeros(len(value), dtype=bool)
    return pd.DataFrame(
        {
            "epoch": np.concatenate(xs) if xs else np.array([], dtype=np.int64),
            "series": repeated(0),
            "model": repeated(2),
            "measure": repeated(4),
            "value": value,
            "clipped": clipped,
            "shown": np.minimum(value, ceiling) if ceiling is not None else value,
        }
    )[list(COLUMNS)]


def _quote(text: str) -> str:
    """`text` as a Vega expression string literal."""
    return json.dumps(text)


def _number(value) -> float:
    return np.nan if value is None else value


def _spec(
    series: list[tuple],
    models: Mapping[str, str],
    styles: Mapping[str, tuple[str, str]],
    y_title: str,
    log: bool,
) -> dict:
    epoch = {
        "field": "epoch",
        "type": "quantitative",
        "title": t("live.chart.epoch"),
        "axis": {"tickMinStep": 1, "format": "d"},  # whole epochs, even early in a run
    }
    y = {
        "field": "shown",
        "type": "quantitative",
        "title": y_title,
        "scale": {"type": "log"} if log else {"zero": False},
        "axis": {"format": "~g"} if log else {},
    }
    colour = {
        "field": "model",
        "type": "nominal",
        "title": None,
        "scale": {
            "domain": list(models.values()),
            "range": [figures.model_color(n) for n in models],
        },
        "legend": {"orient": "top", "direction": "horizontal"},
    }
    dash = {
        "field": "measure",
        "type": "nominal",
        "title": None,
        "scale": {
            "domain": [label for label, _ in styles.values()],
            "range": [DASHES[d] for _, d in styles.values()],
        },
        "legend": {"orient": "bottom", "direction": "horizontal", "symbolStrokeColor": "#444"},
    }
    hovered = {"param": "hover", "empty": False}
    value_format = ".3~g"
    lines = {
        "data": {"name": LOSSES},
        "mark": {"type": "line", "strokeWidth": 2.5, "clip": True},
        "encoding": {
            "x": epoch,
            "y": y,
            "color": colour,
            "strokeDash": dash,
            "detail": {"field": "series"},
        },
        "params": [
            {
                "name": "zoom",
                "select": {"type": "interval", "encodings": ["x", "y"]},
                "bind": "scales",
            }
        ],
    }
    points = {  # the hovered epoch's points on every curve
        "data": {"name": LOSSES},
        "mark": {"type": "point", "filled": True, "size": 70, "clip": True},
        "encoding": {
            "x": epoch,
            "y": y,
            "color": {**colour, "legend": None},
            "opacity": {"condition": {**hovered, "value": 1}, "value": 0},
        },
    }
    # One line of text per epoch, every curve's value (the rule's description, which screen
    # readers read and browser tests parse): "epoch 12; GRU train: 0.031; MLP train: 0.9".
    describe = " + ".join(
        [f"{_quote(t('live.chart.epoch'))} + ' ' + datum.epoch"]
        + [
            f"(isValid(datum.{key}) ? '; ' + {_quote(f'{label} {measure}')} + ': '"
            f" + format(datum.{key}, '{value_format}') : '')"
            for key, _, label, _, measure in series
        ]
    )
    rule = {  # hovering anywhere picks the nearest epoch; its tooltip lists every curve
        "data": {"name": LOSSES},
        "transform": [
            {"pivot": "series", "value": "value", "groupby": ["epoch"]},
            {"calculate": describe, "as": "description"},
        ],
        "mark": {"type": "rule", "color": "#888", "strokeWidth": 1.5, "aria": True},
        "encoding": {
            "x": epoch,
            "description": {"field": "description"},
            "opacity": {"condition": {**hovered, "value": 0.7}, "value": 0},
            "tooltip": [
                {"field": "epoch", "type": "quantitative", "title": t("live.chart.epoch")},
                *(
                    {
                        "field": key,
                        "type": "quantitative",
                        "title": f"{label} {measure}",
                        "format": value_format,
                    }
                    for key, _, label, _, measure in series
                ),
            ],
        },
        "params": [
            {
                "name": "hover",
                "select": {
                    "type": "point",
                    "fields": ["epoch"],
                    "nearest": True,
                    "on": "pointerover",
                    "clear": "pointerout",
                },
            }
        ],
    }
    clipped = {  # values above the ceiling: a triangle on the top edge, the true value on hover
        "data": {"name": LOSSES},
        "transform": [{"filter": "datum.clipped"}],
        "mark": {"type": "point", "shape": "triangle-up", "filled": True, "size": 140},
        "encoding": {
            "x": epoch,
            "y": y,
            "color": {"value": "#444"},
            "tooltip": [
                {"field": "model", "type": "nominal", "title": t("live.chart.model")},
                {"field": "measure", "type": "nominal", "title": t("live.chart.measure")},
                {"field": "epoch", "type": "quantitative", "title": t("live.chart.epoch")},
                {
                    "field": "value",
                    "type": "quantitative",
                    "title": t("live.chart.off_chart"),
                    "format": value_format,
                },
            ],
        },
    }
    marker = {
        "data": {"name": MARKER},
        "mark": {"type": "rule", "color": "#222", "strokeWidth": 2, "strokeDash": [6, 3]},
        "encoding": {"x": {"field": "epoch", "type": "quantitative"}},
    }
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "height": HEIGHT,
        "layer": [lines, points, rule, clipped, marker],
        # Set here, so Streamlit never changes them as the data grows (which would change
        # the spec, and re-mount the chart): the renderer, and no per-mark descriptions.
        "usermeta": {"embedOptions": {"renderer": "svg"}},
        "config": {
            "mark": {"aria": False},
            "axis": {"labelFontSize": figures.FONT_SIZE - 2, "titleFontSize": figures.FONT_SIZE},
            "legend": {
                "labelFontSize": figures.FONT_SIZE - 2,
                "symbolStrokeWidth": 3,
                "symbolSize": 300,
                "labelLimit": 400,
            },
        },
    }


def restyle(spec: dict, look: figures.Look) -> dict:
    """`spec` drawn in `look` (the presenter's: larger type, thicker lines, darker ink).

    A new dict: every mark's stroke width and every configured font size scaled; the data
    tables are shared, not copied.
    """
    if look == figures.PLAIN:
        return spec
    out = copy.deepcopy({k: v for k, v in spec.items() if k != "datasets"})
    out["datasets"] = spec.get("datasets", {})

    def scale_marks(node: object) -> None:
        if isinstance(node, dict):
            mark = node.get("mark")
            if isinstance(mark, dict) and "strokeWidth" in mark:
                mark["strokeWidth"] = mark["strokeWidth"] * look.line_scale
            for child in node.values():
                scale_marks(child)
        elif isinstance(node, list):
            for child in node:
                scale_marks(child)

    scale_marks({k: v for k, v in out.items() if k != "config"})
    config = out.setdefault("config", {})
    for part in ("axis", "legend"):
        section = config.setdefault(part, {})
        for name, size in list(section.items()):
            if name.endswith("FontSize"):
                section[name] = size * look.font_scale
        if look.ink is not None:
            section.update(labelColor=look.ink, titleColor=look.ink)
        if part == "legend" and "symbolStrokeWidth" in section:
            section["symbolStrokeWidth"] *= look.line_scale
    if look.grid is not None:
        config["axis"]["gridColor"] = look.grid
    return out
