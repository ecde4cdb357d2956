"""AppTest: the Gates page for window, classify and text runs."""

import re

import numpy as np
from apptest_utils import chart, go, release, texts, train_task

from gru_core.views import task_gates


def _train(task: str, **settings):
    return go(train_task(task, **settings), "gates")


def _heatmap(at, name: str) -> np.ndarray:
    spec = chart(at, "gates_heatmaps")
    return np.asarray(next(t["z"] for t in spec["data"] if t.get("name") == name))


def test_window_run_traces_the_first_test_window_then_another():
    at = _train("window", hidden=4, epochs=2)
    assert not at.exception
    assert at.number_input(key="gates_window").value == 240  # 240 training windows
    assert "Window 240 (a test window)" in texts(at)
    h = _heatmap(at, "hidden state h")
    assert h.shape == (4, 30)  # units x the window's 30 steps
    snap = at.session_state["job_slot"].snapshot()
    view = task_gates.window_gate_view(snap, 240, "gru")
    np.testing.assert_allclose(h, view.h.T, atol=5e-5 + 1e-7)  # the chart keeps 4 decimals
    signal = chart(at, "gates_heatmaps")["data"][0]
    np.testing.assert_allclose(signal["y"], view.signal, atol=1e-6)

    at.number_input(key="gates_window").set_value(3).run()
    assert not at.exception
    assert "Window 3 (a training window)" in texts(at)
    after = _heatmap(at, "hidden state h")
    assert after.shape == (4, 30) and not np.allclose(h, after)
    assert at.latex  # the equations of one step, in numbers
    release(at)


def test_classify_run_shows_its_gates():
    at = _train("classify", hidden=4, epochs=1)
    assert not at.exception
    assert _heatmap(at, "update gate z").shape == (4, 30)
    release(at)


def test_text_run_colours_the_held_out_text_by_a_unit():
    at = _train("text", hidden=4, epochs=1)
    assert not at.exception
    assert not at.get("plotly_chart")  # the text view, not the series' heatmaps
    page = at.get("html")[0].proto.body
    spans = re.findall(r'<span class="unit-char" title="([+-][0-9.]+)"', page)
    assert len(spans) == 400  # the default passage
    snap = at.session_state["job_slot"].snapshot()
    unit = at.selectbox(key="gates_text_unit").value
    text = task_gates.passage(snap, 0, 400)
    acts = task_gates.text_activations(snap, text, at.session_state["gates_model"])
    np.testing.assert_allclose([float(s) for s in spans], acts.unit(unit), atol=5e-4)
    ranking = task_gates.unit_ranking(acts, "line")
    assert unit == ranking["unit"].iloc[0]  # the unit most correlated with line position
    table = at.dataframe[0].value
    assert list(table.iloc[:, 0]) == list(ranking["unit"])

    at.radio(key="gates_text_rank").set_value("punctuation").run()
    at.number_input(key="gates_text_length").set_value(50).run()
    assert not at.exception
    page = at.get("html")[0].proto.body
    assert page.count('class="unit-char"') == 50
    by_punct = task_gates.unit_ranking(
        task_gates.text_activations(snap, text[:50], at.session_state["gates_model"]),
        "punctuation",
    )
    assert list(at.dataframe[0].value.iloc[:, 0]) == list(by_punct["unit"])
    release(at)
