"""AppTest: the Gates page traces r, z, n, h over a segment and explains one step in numbers."""

import numpy as np
import pytest
from apptest_utils import chart, go, latex, new_app, release, texts, train_tiny


@pytest.fixture(scope="module")
def at():
    app = train_tiny(new_app())
    yield go(app, "gates")
    release(app)


def test_without_a_run_the_page_says_where_to_start():
    at = go(new_app(), "gates")
    assert not at.exception
    assert "Nothing trained yet" in at.info[0].value
    assert not at.get("plotly_chart")


def test_the_run_box_names_the_sessions_run_after_a_start(at):
    # Start sets the box to the session's run; its option must be a value the box shows,
    # not None, which a selectbox set through session state reads as nothing chosen.
    box = at.selectbox(key="view_run")
    assert box.index == 0 and box.value == 0
    assert box.options[0] == "this session's run (the latest)"


def test_heatmaps_cover_the_default_segment(at):
    assert not at.exception
    assert at.slider(key="gates_segment").value == (120, 200)  # 200 points, 160 train
    spec = chart(at, "gates_heatmaps")
    heatmaps = [t for t in spec["data"] if t["type"] == "heatmap"]
    assert [h["name"] for h in heatmaps] == [
        "reset gate r",
        "update gate z",
        "candidate n",
        "hidden state h",
    ]
    for h in heatmaps:
        assert np.asarray(h["z"]).shape == (4, 80)  # units x time
    signal = spec["data"][0]
    assert signal["name"] == "input x" and len(signal["y"]) == 80


def test_segment_picker_changes_the_traced_steps(at):
    at.slider(key="gates_segment").set_value((10, 60)).run()
    assert not at.exception
    heatmaps = [t for t in chart(at, "gates_heatmaps")["data"] if t["type"] == "heatmap"]
    assert all(np.asarray(h["z"]).shape == (4, 50) for h in heatmaps)
    assert "warmed on the 10 points before" in texts(at)
    at.slider(key="gates_segment").set_value((120, 200)).run()


def test_unit_picker_draws_lines_for_the_chosen_units(at):
    at.multiselect(key="gates_units").set_value([1, 2]).run()
    spec = chart(at, "gates_units_lines")
    assert len(spec["data"]) == 8  # r, z, n, h for two units
    assert {t["name"] for t in spec["data"]} == {"unit 1", "unit 2"}


def test_memory_per_unit_table_and_bars(at):
    table = at.dataframe[0].value
    assert list(table.columns) == ["unit", "mean r", "mean z", "memory (steps)", "activity"]
    assert len(table) == 4
    np.testing.assert_allclose(table["memory (steps)"], 1 / (1 - table["mean z"]), rtol=1e-6)
    bars = chart(at, "gates_memory")["data"][0]
    assert bars["type"] == "bar" and len(bars["y"]) == 4


def test_equation_panel_shows_the_numbers_for_the_chosen_step_and_unit(at):
    at.slider(key="gates_t").set_value(170)
    at.selectbox(key="gates_unit").set_value(2).run()
    assert not at.exception
    equations = latex(at)
    assert len(equations) == 4
    assert equations[0].startswith(r"\begin{aligned} r_{2} &=")
    assert equations[3].startswith(r"\begin{aligned} h_{t,2} &=")
    assert "At step 170, unit 2" in texts(at)
    marks = [t for t in chart(at, "gates_heatmaps")["data"] if t.get("mode") == "markers"]
    assert marks and marks[0]["x"] == [170] and marks[0]["y"] == [2]


KINDS = ["rnn", "lstm", "gru", "gru_d2l", "gru_update_only", "gru_reset_only"]


@pytest.fixture(scope="module")
def every_kind():
    app = new_app()
    go(app, "train")
    app.multiselect(key="models").set_value(["mlp", *KINDS]).run()
    train_tiny(app, hidden=5)
    yield go(app, "gates")
    release(app)


def test_the_model_picker_offers_the_recurrent_models_first_one_chosen(every_kind):
    at = every_kind
    assert not at.exception
    picker = at.selectbox(key="gates_model")
    assert picker.options == [
        "RNN",
        "LSTM",
        "GRU",
        "GRU (d2l)",
        "GRU, update gate only",
        "GRU, reset gate only",
    ]
    assert picker.value == "rnn"


@pytest.mark.parametrize("kind", KINDS)
def test_the_page_adapts_to_each_kind(every_kind, kind):
    from gru_core import cells
    from gru_core.views import gates as gate_views

    at = every_kind
    at.selectbox(key="gates_model").set_value(kind).run()
    assert not at.exception
    info = cells.KINDS[kind]
    assert info.convention in at.info[0].value and gate_views.LOOK_FOR[kind] in at.info[0].value
    heatmaps = [t for t in chart(at, "gates_heatmaps")["data"] if t["type"] == "heatmap"]
    assert len(heatmaps) == len(info.gates)
    over = chart(at, "gates_unit_over_input")["data"]
    assert [t["name"] for t in over][0] == "input x" and len(over) == 1 + len(info.gates)
    equations = latex(at)
    assert len(equations) == len(info.equations)
    shapes = chart(at, "gates_heatmaps")["layout"]["shapes"]
    assert any(s.get("fillcolor") for s in shapes)  # rising / falling shaded
    assert ("gates_memory" in [c.key for c in at.get("plotly_chart")]) == (
        info.keep_gate is not None
    )
