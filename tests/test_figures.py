"""gru_core.figures: the right traces, the right lengths, one colour per thing, no NaN drawn."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from gru_core import figures
from gru_core.figures import COLORS


def _by_name(fig: go.Figure) -> dict[str, go.BaseTraceType]:
    return {t.name: t for t in fig.data}


# -- downsampling -------------------------------------------------------------------------------


def test_downsample_leaves_short_series_alone():
    x, y = np.arange(10), np.linspace(0, 1, 10)
    dx, dy = figures.downsample(x, y, 100)
    np.testing.assert_array_equal(dx, x)
    np.testing.assert_array_equal(dy, y)


def test_downsample_keeps_ends_extremes_and_order():
    rng = np.random.default_rng(0)
    y = rng.normal(size=100_000)
    y[54_321] = 50.0
    y[77_777] = -50.0
    x = np.arange(len(y))
    dx, dy = figures.downsample(x, y, 4000)
    assert len(dx) <= 4000 and len(dx) == len(dy)
    assert dx[0] == 0 and dx[-1] == len(y) - 1
    assert np.all(np.diff(dx) > 0)
    assert dy.max() == 50.0 and dy.min() == -50.0
    np.testing.assert_array_equal(dy, y[dx])


def test_line_uses_webgl_only_for_long_lines():
    short = figures.line(np.arange(100), np.zeros(100), "a", "#000")
    long = figures.line(np.arange(200_000), np.sin(np.arange(200_000)), "b", "#000")
    assert isinstance(short, go.Scatter)
    assert isinstance(long, go.Scattergl)
    assert len(long.y) <= figures.MAX_POINTS


# -- data -------------------------------------------------------------------------------------


def test_series_figure_splits_train_and_test_in_their_colours():
    series = np.sin(np.linspace(0, 20, 1000))
    fig = figures.series_figure(series, 800)
    train, test = fig.data
    assert train.name == "train (800)" and test.name == "test (200)"
    assert len(train.y) == 800 and len(test.y) == 200
    assert train.x[0] == 0 and test.x[0] == 800
    assert train.line.color == COLORS["train"] and test.line.color == COLORS["test"]
    assert fig.layout.font.size >= 16  # projector-readable


def test_series_figure_of_a_long_series_is_reduced():
    fig = figures.series_figure(np.random.default_rng(1).normal(size=150_000), 120_000)
    assert all(len(t.y) <= figures.MAX_POINTS for t in fig.data)
    assert all(isinstance(t, go.Scattergl) for t in fig.data)


# -- losses -------------------------------------------------------------------------------------


def test_log_ceiling_cuts_only_past_eight_decades():
    assert figures.log_ceiling([1e-3, 1e5]) is None  # eight decades: shown whole
    assert figures.log_ceiling([1e-3] * 19 + [1e19]) == pytest.approx(1e-2)  # q95 x 10


def _gates(time: int = 50, hidden: int = 6) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "r": rng.uniform(size=(time, hidden)),
        "z": rng.uniform(size=(time, hidden)),
        "n": rng.uniform(-1, 1, size=(time, hidden)),
        "h": rng.uniform(-1, 1, size=(time, hidden)),
    }


def test_gates_figure_has_the_signal_and_four_aligned_heatmaps():
    index = np.arange(100, 150)
    g = _gates()
    fig = figures.gates_figure(index, np.sin(index / 5.0), g)
    signal, *heatmaps = fig.data
    assert signal.name == "input x" and len(signal.y) == 50
    assert [h.name for h in heatmaps] == [
        "reset gate r",
        "update gate z",
        "candidate n",
        "hidden state h",
    ]
    for h, name in zip(heatmaps, "rznh", strict=True):
        assert isinstance(h, go.Heatmap)
        assert np.asarray(h.z).shape == (6, 50)  # unit x time
        np.testing.assert_allclose(np.asarray(h.z), g[name].T, atol=1e-4)
        assert list(h.x) == list(index)
    assert {h.coloraxis for h in heatmaps[:2]} == {"coloraxis"}
    assert {h.coloraxis for h in heatmaps[2:]} == {"coloraxis2"}
    assert (fig.layout.coloraxis.cmin, fig.layout.coloraxis.cmax) == (0, 1)
    assert (fig.layout.coloraxis2.cmin, fig.layout.coloraxis2.cmax) == (-1, 1)
    # All panels share the time axis.
    axes = [fig.layout[f"xaxis{i if i > 1 else ''}"] for i in range(1, 6)]
    assert len({a.matches or "x5" for a in axes}) == 1


def test_a_log_axis_spanning_little_names_round_values():
    def ticks(values):
        axis = figures.compare_figure([go.Scatter(x=[0, 1], y=values)], "x", "y", True).layout
        return list(axis.yaxis.ticktext or ())

    assert ticks([0.03, 0.3]) == ["0.05", "0.1", "0.2"]  # 1, 2, 5 times 10^k inside
    assert ticks([0.12, 0.35]) == ["0.2", "0.3"]  # fewer than three: every digit
    assert ticks([0.12, 0.18]) == []  # no round value inside: plotly's own ticks
    assert ticks([1e-3, 1.0]) == []  # three decades: labelled decade by decade (dtick)
    assert ticks([0.03, 0.3, float("inf"), 0.0]) == ["0.05", "0.1", "0.2"]  # (a diverged run)


def test_gate_heatmaps_label_at_most_six_units_on_round_steps():
    # worked by hand: 32 units at every 10th (0, 10, 20, 30), 16 at every 5th, 12 every 2nd
    steps = {n: figures.unit_label_step(n) for n in (1, 6, 7, 12, 13, 16, 32, 64, 512)}
    assert steps == {1: 1, 6: 1, 7: 2, 12: 2, 13: 5, 16: 5, 32: 10, 64: 20, 512: 100}
    fig = figures.gates_figure(np.arange(50), np.zeros(50), _gates(50, 32))
    assert list(fig.layout.yaxis2.ticktext) == ["0", "10", "20", "30"]
    assert list(fig.layout.yaxis2.tickvals) == [0, 10, 20, 30]


def test_gates_figure_picks_units_bins_long_segments_and_marks_a_cell():
    index = np.arange(2000)
    g = _gates(2000, 8)
    fig = figures.gates_figure(
        index, np.zeros(2000), g, units=[1, 3], mark=(700, 3), max_columns=500
    )
    heatmaps = [t for t in fig.data if isinstance(t, go.Heatmap)]
    assert all(np.asarray(h.z).shape == (2, 500) for h in heatmaps)
    assert list(heatmaps[0].y) == [0, 1]  # rows top to bottom, labelled with their units
    assert list(fig.layout.yaxis2.ticktext) == ["1", "3"]
    np.testing.assert_allclose(np.asarray(heatmaps[0].z)[0, 0], g["r"][:4, 1].mean(), atol=1e-4)
    marks = [t for t in fig.data if isinstance(t, go.Scatter) and t.mode == "markers"]
    assert len(marks) == 4 and all(list(m.x) == [700] and list(m.y) == [1] for m in marks)


def test_gates_figure_of_an_lstm_has_a_row_per_gate_and_shades_the_slopes():
    rng = np.random.default_rng(0)
    names = ("i", "f", "g", "o", "c", "h")
    g = {n: rng.uniform(-1, 1, (40, 3)) for n in names}
    spans = [(0, 19, "rising"), (20, 39, "falling")]
    fig = figures.gates_figure(np.arange(40), np.zeros(40), g, spans=spans)
    heatmaps = [t for t in fig.data if isinstance(t, go.Heatmap)]
    assert [h.name for h in heatmaps] == [figures.GATE_LABELS[n] for n in names]
    axes = [h.coloraxis for h in heatmaps]
    assert axes == ["coloraxis", "coloraxis", "coloraxis2", "coloraxis", "coloraxis2", "coloraxis2"]
    shaded = [(s.x0, s.x1, s.fillcolor) for s in fig.layout.shapes]
    assert shaded == [
        (-0.5, 19.5, figures.SLOPE_COLORS["rising"]),
        (19.5, 39.5, figures.SLOPE_COLORS["falling"]),
    ]


def test_unit_over_input_draws_the_units_gates_on_a_second_axis():
    g = _gates(30, 4)
    fig = figures.unit_over_input_figure(np.arange(30), np.ones(30), g, 2, [(0, 29, "rising")])
    assert [t.name for t in fig.data] == [
        "input x",
        "r (unit 2)",
        "z (unit 2)",
        "n (unit 2)",
        "h (unit 2)",
    ]
    np.testing.assert_allclose(fig.data[2].y, g["z"][:, 2])
    assert all(t.yaxis == "y2" for t in fig.data[1:]) and len(fig.layout.shapes) == 1


def test_unit_lines_figure_draws_every_gate_of_every_chosen_unit():
    index = np.arange(50)
    fig = figures.unit_lines_figure(index, _gates(), [0, 4])
    assert len(fig.data) == 8
    assert all(len(t.y) == 50 for t in fig.data)
    assert sum(bool(t.showlegend) for t in fig.data) == 2


def test_memory_figure_bars_per_unit():
    z = np.array([0.5, 0.9, 0.0])
    fig = figures.memory_figure(z, 1 / (1 - z))
    bar = fig.data[0]
    assert isinstance(bar, go.Bar)
    np.testing.assert_allclose(bar.y, [2, 10, 1])
    assert bar.marker.color == COLORS["gru"]


# -- forecasts ----------------------------------------------------------------------------------


def test_rollout_figure_shows_context_truth_and_both_models():
    index = np.arange(101, 200)
    truth = np.sin(index / 10)
    forecasts = {"gru": truth + 0.01, "mlp": np.zeros_like(truth)}
    fig = figures.rollout_figure(np.arange(1, 101), np.ones(100), index, truth, forecasts)
    traces = _by_name(fig)
    assert list(traces) == ["read by the models", "truth", "GRU", "MLP"]
    assert len(traces["truth"].y) == len(traces["GRU"].y) == len(traces["MLP"].y) == 99
    assert traces["GRU"].line.color == COLORS["gru"] and traces["MLP"].line.color == COLORS["mlp"]
    assert traces["truth"].line.color == COLORS["truth"]
    without_context = figures.rollout_figure(index[:0], truth[:0], index, truth, forecasts)
    assert [t.name for t in without_context.data] == ["truth", "GRU", "MLP"]


def test_horizon_figure():
    steps = np.arange(1, 11)
    fig = figures.horizon_figure(steps, {"gru": steps * 0.01, "mlp": steps * 0.1})
    assert [t.name for t in fig.data] == ["GRU", "MLP"]
    assert all(len(t.y) == 10 for t in fig.data)
    assert fig.layout.yaxis.type == "log"


def test_ambiguity_figure_marks_one_value_rising_and_falling():
    fig = figures.ambiguity_figure()
    markers = [t for t in fig.data if t.mode == "markers"]
    assert [m.name for m in markers] == ["rising", "falling"]
    assert all(list(m.y) == [0.5] for m in markers)


@pytest.mark.parametrize("name", ["gru", "mlp", "truth", "train", "test"])
def test_colours_are_distinct(name):
    others = {k: v for k, v in COLORS.items() if k != name}
    assert COLORS[name] not in others.values()


def test_every_model_kind_has_its_own_colour_in_the_loss_chart():
    from gru_core import live_chart
    from gru_core.config import MODEL_KINDS

    spec = live_chart.loss_chart([], {k: figures.model_label(k) for k in MODEL_KINDS})
    colours = spec["layer"][0]["encoding"]["color"]["scale"]["range"]
    assert colours == [figures.model_color(k) for k in MODEL_KINDS]
    assert len(set(colours)) == len(MODEL_KINDS)


def test_influence_figure_draws_start_dotted_and_now_solid_on_log_y():
    fig = figures.influence_figure({"rnn": (np.array([1.0, 0.1, 0.0]), np.array([2.0, 0.5, 0.2]))})
    start, now = _by_name(fig)["RNN at the start"], _by_name(fig)["RNN now"]
    assert list(start.y) == [1.0, 0.1] and list(start.x) == [0, 1]  # a zero has no log
    assert start.line.dash == "dot" and now.line.dash == "solid"
    assert fig.layout.yaxis.type == "log" and now.line.color == figures.COLORS["rnn"]


def test_time_scale_bins_count_every_unit_once():
    edges = np.array([1.0, 2.0, 4.0, 8.0])
    counts = figures.time_scale_bins(np.array([1.0, 1.5, 3.0, 7.9, 1e6]), edges)
    assert counts.tolist() == [2, 1, 2]  # the capped value lands in the last bin
    fig = figures.time_scale_figure({"gru": (np.array([1.2, 1.3]), np.array([5.0, 60.0]))})
    assert [t.name for t in fig.data] == ["GRU at the start", "GRU now"]
    assert sum(fig.data[1].y) == 2 and fig.layout.xaxis.type == "log"


def test_length_figure_has_one_line_per_model():
    import pandas as pd

    table = pd.DataFrame({"rnn": [0.5, 0.4], "gru": [0.3, 0.01]}, index=[5, 80])
    fig = figures.length_figure(table)
    assert [t.name for t in fig.data] == ["RNN", "GRU"] and list(fig.data[1].y) == [0.3, 0.01]


def test_timestamps_are_the_x_axis_of_the_series_and_forecasts():
    times = (np.arange(50) * np.timedelta64(1, "D") + np.datetime64("2024-01-01")).astype(
        "datetime64[ns]"
    )
    series = np.sin(np.arange(50) / 3)
    fig = figures.series_figure(series, 40, times=times)
    np.testing.assert_array_equal(fig.data[0].x, times[:40])
    np.testing.assert_array_equal(fig.data[1].x, times[40:])
    assert fig.layout.xaxis.type == "date"
    assert fig.layout.shapes[0].x0 == "2024-02-09T12:00:00"  # between day 40 and day 41
    index = np.arange(42, 50)
    roll = figures.rollout_figure(
        np.arange(40, 42), series[40:42], index, series[42:], {"gru": series[42:]}, times=times
    )
    assert [list(t.x) for t in roll.data] == [list(times[40:42])] + [list(times[42:])] * 2
    assert roll.layout.shapes[0].x0 == "2024-02-11T12:00:00"
    plain = figures.series_figure(series, 40)  # without times: positions, as before
    assert list(plain.data[1].x) == list(range(40, 50)) and plain.layout.shapes[0].x0 == 39.5


# -- presenter look -----------------------------------------------------------------------------


def _font_sizes(node, found=None) -> list[float]:
    """Every font size in a figure's JSON, wherever it is nested."""
    found = [] if found is None else found
    if isinstance(node, list):
        for item in node:
            _font_sizes(item, found)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key in ("font", "tickfont", "textfont") and isinstance(value, dict):
                if "size" in value:
                    found.append(value["size"])
            else:
                _font_sizes(value, found)
    return found


@pytest.mark.parametrize(
    "build",
    [
        lambda: figures.rollout_figure(
            np.arange(40),
            np.sin(np.arange(40) / 5),
            np.arange(40, 60),
            np.zeros(20),
            {"gru": np.ones(20)},
        ),
        lambda: figures.series_figure(np.sin(np.arange(300) / 9), 240),
        figures.ambiguity_figure,
    ],
    ids=["rollout", "series", "ambiguity"],
)
def test_the_presenter_look_scales_every_line_and_font_of_a_figure(build):
    plain, look = build(), figures.PRESENTER
    bold = figures.restyle(plain, look)
    assert bold is not plain
    # Lines: each trace's width is the plain one (plotly's 2 where none is named) times the scale.
    for a, b in zip(plain.data, bold.data, strict=True):
        if a.type == "scatter" and "lines" in (a.mode or "lines"):
            width = a.line.width if a.line.width is not None else figures.PLOTLY_LINE_WIDTH
            assert b.line.width == pytest.approx(width * look.line_scale)
            assert b.line.width > width  # the control: the plain figure is thinner
    for a, b in zip(plain.layout.shapes, bold.layout.shapes, strict=True):
        assert b.line.width == pytest.approx(a.line.width * look.line_scale)
    # Fonts: every size, however deeply nested, scaled (rounded to whole px).
    sizes = _font_sizes(plain.to_plotly_json()["layout"])
    bold_sizes = _font_sizes(bold.to_plotly_json()["layout"])
    assert len(bold_sizes) >= len(sizes) > 3
    assert sorted(bold_sizes)[-len(sizes) :] == sorted(round(s * look.font_scale) for s in sizes)
    assert bold.layout.font.color == look.ink
    assert bold.layout.xaxis.gridcolor == look.grid and bold.layout.xaxis.linecolor == look.ink


def test_the_plain_look_leaves_a_figure_alone():
    fig = figures.series_figure(np.sin(np.arange(300) / 9), 240)
    assert figures.restyle(fig, figures.PLAIN) is fig
