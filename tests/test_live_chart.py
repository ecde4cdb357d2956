"""The Train page's Vega-Lite loss chart: its data equal the history, outliers are clipped and
marked, the marker rule appears only when asked, and the spec stays the same as a run grows."""

import json

import numpy as np
import pytest

from gru_core import figures, live_chart


def _history(epochs: int = 6, eval_every: int = 2) -> list[dict]:
    rows = []
    for e in range(1, epochs + 1):
        row = {"epoch": e, "gru_train_loss": 1 / e, "mlp_train_loss": 2 / e, "seconds": 0.01}
        for m in ("gru", "mlp"):
            for k in ("test_one_step_mse", "test_rollout_mse", "test_rollout_mae"):
                row[f"{m}_{k}"] = 0.5 / e if e % eval_every == 0 else None
        rows.append(row)
    return rows


def _layout(spec: dict) -> str:
    """The spec without its data: what the browser compares to decide on a re-mount."""
    return json.dumps({k: v for k, v in spec.items() if k != "datasets"}, sort_keys=True)


def _curve(spec: dict, model: str, measure: str):
    losses = spec["datasets"][live_chart.LOSSES]
    part = losses[(losses["model"] == model) & (losses["measure"] == measure)]
    return part["epoch"].tolist(), part["value"].tolist()


def test_the_data_are_the_history_with_missing_values_left_out():
    history = _history(6, eval_every=2)
    history[2]["gru_train_loss"] = float("nan")  # epoch 3: not drawn
    spec = live_chart.loss_chart(history)
    for name, label in (("gru", "GRU"), ("mlp", "MLP")):
        for metric, (measure, _) in figures.metric_styles().items():
            # Worked from the rows themselves: the epochs with a finite positive value.
            expected = [
                (r["epoch"], r[f"{name}_{metric}"])
                for r in history
                if r[f"{name}_{metric}"] is not None and np.isfinite(r[f"{name}_{metric}"])
            ]
            epochs, values = _curve(spec, label, measure)
            assert list(zip(epochs, values, strict=True)) == expected
    assert _curve(spec, "GRU", "train")[0] == [1, 2, 4, 5, 6]
    assert _curve(spec, "GRU", "test free-running")[0] == [2, 4, 6]
    losses = spec["datasets"][live_chart.LOSSES]
    assert not losses["clipped"].any() and (losses["shown"] == losses["value"]).all()


def test_an_outlier_is_clipped_to_the_ceiling_and_marked():
    history = _history(40, 1)
    history[0]["gru_train_loss"] = 1e19  # a first epoch that blew up, then recovered
    spec = live_chart.loss_chart(history)
    losses = spec["datasets"][live_chart.LOSSES]
    ceiling = figures.log_ceiling(losses["value"].tolist())
    assert ceiling is not None and ceiling < 1e19
    marked = losses[losses["clipped"]]
    assert marked[["epoch", "model", "measure"]].values.tolist() == [[1, "GRU", "train"]]
    assert marked["value"].tolist() == [1e19]  # the true value, for its tooltip
    assert marked["shown"].tolist() == [ceiling]  # drawn on the top edge
    assert live_chart.clipped_above(spec) == ceiling
    shown = losses["shown"]
    assert np.log10(shown.max() / shown.min()) <= figures.MAX_DECADES
    clip_layer = next(
        layer for layer in spec["layer"] if layer.get("transform") == [{"filter": "datum.clipped"}]
    )
    assert clip_layer["mark"]["shape"] == "triangle-up"
    # Control: a large value within eight decades of the rest is drawn as it is.
    history[0]["gru_train_loss"] = 1e4
    within = live_chart.loss_chart(history)
    assert live_chart.clipped_above(within) is None
    assert _curve(within, "GRU", "train")[1][0] == 1e4


def test_a_linear_axis_keeps_every_value_unclipped():
    history = [
        {"epoch": e, "gru_train_loss": -1.0 * e, "gru_accuracy": 0.5 + e / 100} for e in (1, 2, 3)
    ]
    history[0]["gru_train_loss"] = 1e19
    styles = {"train_loss": ("train", "solid"), "accuracy": ("accuracy", "dot")}
    spec = live_chart.loss_chart(history, {"gru": "GRU"}, styles, "accuracy", log=False)
    assert _curve(spec, "GRU", "train")[1] == [1e19, -2.0, -3.0]  # negatives kept off log
    assert live_chart.clipped_above(spec) is None
    assert spec["layer"][0]["encoding"]["y"]["scale"] == {"zero": False}
    log = live_chart.loss_chart(history, {"gru": "GRU"}, styles, "accuracy", log=True)
    assert _curve(log, "GRU", "train")[1] == [1e19]  # control: a log axis drops them


def test_the_marker_rule_is_drawn_only_when_asked():
    history = _history(10, 1)
    without = live_chart.loss_chart(history)
    assert without["datasets"][live_chart.MARKER]["epoch"].tolist() == []
    marked = live_chart.loss_chart(history, marker_epoch=7)
    assert marked["datasets"][live_chart.MARKER]["epoch"].tolist() == [7]
    rule = next(layer for layer in marked["layer"] if layer["data"]["name"] == live_chart.MARKER)
    assert rule["mark"]["type"] == "rule" and rule["encoding"]["x"]["field"] == "epoch"


def test_the_spec_stays_the_same_while_a_run_grows_so_the_chart_is_never_remounted():
    models = {"gru": "GRU", "mlp": "MLP"}
    first = live_chart.loss_chart([], models)
    grown = _history(40, 1)
    grown[0]["gru_train_loss"] = 1e19
    for later in (
        live_chart.loss_chart(_history(1, 1), models),
        live_chart.loss_chart(grown, models),
        live_chart.loss_chart(grown, models, marker_epoch=12),
    ):
        assert _layout(later) == _layout(first)
    # Control: another set of models is another chart.
    assert _layout(live_chart.loss_chart([], {"gru": "GRU"})) != _layout(first)


def test_hover_lists_every_curve_and_zoom_is_bound_to_the_scales():
    spec = live_chart.loss_chart(_history(4, 1))
    lines, rule = spec["layer"][0], spec["layer"][2]
    assert lines["params"][0]["bind"] == "scales"
    assert lines["params"][0]["select"]["type"] == "interval"
    titles = [t["title"] for t in rule["encoding"]["tooltip"]]
    assert titles[1:] == [
        f"{label} {measure}"
        for measure, _ in figures.metric_styles().values()
        for label in ("GRU", "MLP")
    ]
    assert rule["params"][0]["select"]["nearest"] is True
    colours = lines["encoding"]["color"]["scale"]
    assert colours == {
        "domain": ["GRU", "MLP"],
        "range": [figures.COLORS["gru"], figures.COLORS["mlp"]],
    }
    dashes = lines["encoding"]["strokeDash"]["scale"]["range"]
    assert dashes == [live_chart.DASHES[d] for _, d in figures.metric_styles().values()]


@pytest.mark.parametrize("epochs", [figures.MAX_POINTS + 500])
def test_long_runs_are_reduced_to_max_points_per_curve(epochs):
    spec = live_chart.loss_chart(_history(epochs, epochs + 1))
    epochs_drawn, values = _curve(spec, "GRU", "train")
    assert len(epochs_drawn) <= figures.MAX_POINTS
    assert epochs_drawn[0] == 1 and epochs_drawn[-1] == epochs  # first and last kept
    assert max(values) == 1.0


def test_the_presenter_look_thickens_every_line_and_enlarges_every_font():
    spec = live_chart.loss_chart(_history(), marker_epoch=3)
    look = figures.PRESENTER
    bold = live_chart.restyle(spec, look)

    def widths(node, found):
        if isinstance(node, dict):
            if isinstance(node.get("mark"), dict) and "strokeWidth" in node["mark"]:
                found.append(node["mark"]["strokeWidth"])
            for value in node.values():
                widths(value, found)
        elif isinstance(node, list):
            for value in node:
                widths(value, found)
        return found

    plain_widths = widths({k: v for k, v in spec.items() if k != "datasets"}, [])
    bold_widths = widths({k: v for k, v in bold.items() if k != "datasets"}, [])
    assert len(plain_widths) >= 3
    assert bold_widths == pytest.approx([w * look.line_scale for w in plain_widths])
    for part in ("axis", "legend"):
        for name, size in spec["config"][part].items():
            if name.endswith("FontSize"):
                assert bold["config"][part][name] == pytest.approx(size * look.font_scale)
                assert bold["config"][part][name] > size  # the control: plain is smaller
        assert bold["config"][part]["labelColor"] == look.ink
    assert spec["config"]["axis"].get("labelColor") is None  # the plain spec is untouched
    assert bold["datasets"] is spec["datasets"]  # the data are shared, not copied
    assert live_chart.restyle(spec, figures.PLAIN) is spec
