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
    assert list(table.columns) == ["unit", "mean r", "mean z", "memory (steps)"]
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
