"""AppTest: every task from the Data page's picker to its Results view."""

import pytest
from apptest_utils import chart, go, loss_traces, new_app, release, texts, traces
from apptest_utils import train_task as _train


@pytest.fixture(scope="module")
def window():
    at = _train("window", hidden=4, epochs=3)
    yield at
    release(at)


def test_window_task_trains_and_shows_predictions(window):
    at = window
    assert at.session_state["preset"] == "window"
    assert set(loss_traces(at)) >= {"GRU train", "GRU test MSE", "MLP test MAE"}
    go(at, "results")
    assert not at.exception
    scatter = traces(chart(at, "results_scatter"))
    assert list(scatter) == ["perfect", "GRU", "MLP"] and len(scatter["GRU"]["x"]) == 60
    assert "GRU" in traces(chart(at, "results_windows"))
    go(at, "rollouts")  # a forecast-only page points elsewhere instead of failing
    assert not at.exception and "Results page" in texts(at)


def test_train_again_brings_back_the_task_and_a_preset_of_it(window):
    at = go(window, "data")
    at.radio(key="window_target").set_value("last").run()  # not what the run trained with
    assert at.session_state["task_options"]["window"]["target"] == "last"
    at.selectbox(key="task").set_value("forecast").run()
    assert at.session_state["preset"] == "fast"
    go(at, "runs")
    at.button(key="runs_again").click().run()  # the newest run: the window run
    assert not at.exception
    assert at.session_state["task"] == "window"
    assert at.session_state["preset"] == "window"
    go(at, "train")
    assert not at.exception
    assert at.number_input(key="hidden").value == 4
    assert at.session_state["task_options"]["window"]["target"] == "next"


def test_window_target_warning_on_the_data_page():
    at = go(new_app(), "data")
    at.selectbox(key="task").set_value("window").run()
    at.radio(key="window_target").set_value("last").run()
    assert not at.exception
    assert "has just read" in at.warning[0].value
    assert at.session_state["task_options"]["window"]["target"] == "last"
    at.number_input(key="window_train_windows").set_value(400).run()
    assert "no test windows" in at.error[0].value  # refused; the last good options stay
    assert at.session_state["task_options"]["window"]["train_windows"] == 240


def test_classify_task_shows_confusion_matrices():
    at = _train("classify", hidden=4, epochs=2)
    go(at, "results")
    assert not at.exception
    gru = chart(at, "results_confusion_gru")
    assert gru["data"][0]["x"] == ["falling", "rising"]
    assert sum(map(sum, gru["data"][0]["z"])) == 120
    assert "accuracy" in gru["layout"]["title"]["text"]
    release(at)


def test_text_task_shows_samples():
    at = _train("text", hidden=4, epochs=1)
    go(at, "results")
    assert not at.exception
    shown = [t.value for t in at.text]
    # seed003: d2l's GRU beside nn.GRU, each sampling from the prefix
    assert [s.split(": ", 1)[0] for s in shown] == ["GRU (d2l)", "GRU"]
    assert all(s.split(": ", 1)[1].startswith("床前") for s in shown)
    assert "Epoch 1" in texts(at)
    release(at)
