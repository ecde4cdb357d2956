"""AppTest: the Rollouts page compares free-running and one-step forecasts of both models."""

import pytest
from apptest_utils import chart, go, new_app, release, traces, train_tiny

from gru_core.views.status import format_metric


@pytest.fixture(scope="module")
def at():
    app = train_tiny(new_app())
    yield go(app, "rollouts")
    release(app)


def test_without_a_run_the_page_says_where_to_start():
    at = go(new_app(), "rollouts")
    assert not at.exception
    assert "Nothing trained yet" in at.info[0].value


def test_free_running_forecasts_of_the_whole_test_part(at):
    assert not at.exception
    spec = traces(chart(at, "rollouts_free"))
    assert list(spec) == ["read by the models", "truth", "GRU", "MLP"]
    assert len(spec["truth"]["y"]) == len(spec["GRU"]["y"]) == len(spec["MLP"]["y"]) == 39
    one_step = traces(chart(at, "rollouts_one_step"))
    assert list(one_step) == ["truth", "GRU", "MLP"]
    assert len(one_step["GRU"]["y"]) == 39


def test_metrics_table_matches_the_training_history(at):
    table = at.table[0].value
    assert list(table.index) == ["GRU", "MLP"]
    assert list(table.columns) == [
        "free-running MSE",
        "free-running MAE",
        "one-step MSE",
        "one-step MAE",
    ]
    snap = at.session_state["job_slot"].job.snapshot()
    latest = snap.latest
    assert table.loc["GRU", "free-running MSE"] == format_metric(latest["gru_test_rollout_mse"])
    assert table.loc["MLP", "one-step MAE"] != "—"


def test_start_slider_forecasts_from_later_points(at):
    slider = at.slider(key="rollouts_start")
    assert (slider.min, slider.max) == (0, 38)
    slider.set_value(30).run()
    assert not at.exception
    spec = traces(chart(at, "rollouts_free"))
    assert len(spec["GRU"]["y"]) == 9
    assert spec["truth"]["x"][0] == 160 + 30 + 1
    at.slider(key="rollouts_start").set_value(0).run()


def test_error_by_horizon_and_download(at):
    spec = traces(chart(at, "rollouts_horizon"))
    assert list(spec) == ["GRU", "MLP"]
    assert len(spec["GRU"]["y"]) == 39  # the 40-point test part limits the horizon
    assert [b.key for b in at.get("download_button")] == ["rollouts_download"]


def test_a_two_point_test_part_forecasts_one_step_without_a_slider():
    app = new_app()
    go(app, "data")
    app.number_input(key="points").set_value(50)
    app.slider(key="train_fraction").set_value(0.95).run()
    assert app.session_state["dataset"].n_train == 48
    at = train_tiny(app, points=None, seq_len=5)
    try:
        go(at, "rollouts")
        assert not at.exception
        assert not at.get("slider")
        assert len(traces(chart(at, "rollouts_free"))["GRU"]["y"]) == 1
    finally:
        release(at)
