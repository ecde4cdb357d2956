"""AppTest: uploads are standardised unless turned off; what replaces work asks or can be undone;
an uploaded file's timestamps are the charts' x axis."""

from __future__ import annotations

import numpy as np
from apptest_utils import (
    chart,
    go,
    job,
    new_app,
    release,
    traces,
    train_tiny,
    use_tiny_data,
    wait_until_done,
)

from gru_core.config import PRESETS

STANDARDIZE = "standardize"


def _temperatures(points: int = 120) -> bytes:
    """A daily temperature series in the tens: far from mean 0 and std 1."""
    days = np.arange(points)
    values = 15 + 8 * np.sin(days / 9)
    rows = "".join(
        f"{np.datetime64('2024-01-01') + int(d)},{v:.3f}\n"
        for d, v in zip(days, values, strict=True)
    )
    return ("date,temperature\n" + rows).encode()


def _upload(at, name: str = "temps.csv", content: bytes | None = None):
    go(at, "data")
    at.segmented_control(key="data_source").set_value("Upload a CSV").run()
    at.file_uploader(key="data_upload").set_value((name, content or _temperatures(), "text/csv"))
    return at.run()


def test_an_upload_is_standardised_by_default_and_the_page_says_so_in_its_units():
    at = new_app()
    assert at.session_state[STANDARDIZE] is False  # the generated sine: the preset's raw values
    _upload(at)
    assert not at.exception and not at.error
    assert at.session_state["dataset"].source == "upload"
    assert at.session_state[STANDARDIZE] is True
    assert at.toggle(key="data_standardize").value is True
    train = at.session_state["dataset"].series[: at.session_state["dataset"].n_train]
    note = at.info[-1].value
    assert f"{train.mean():.4g}" in note and f"{train.std():.4g}" in note
    assert "own units" in note
    # The Train page's setting is the same one, and the run it describes standardises.
    go(at, "train")
    assert at.toggle(key=STANDARDIZE).value is True


def test_turning_it_off_is_kept_for_the_next_upload_and_warns():
    at = _upload(new_app())
    at.toggle(key="data_standardize").set_value(False).run()
    assert at.session_state[STANDARDIZE] is False
    assert any("Not standardised" in w.value for w in at.warning)
    _upload(at, "other.csv", _temperatures(90))  # another upload: the user's choice stays
    assert len(at.session_state["dataset"].series) == 90
    assert at.session_state[STANDARDIZE] is False


def test_back_to_a_generated_sine_the_preset_keeps_its_raw_values():
    at = _upload(new_app())
    assert at.session_state[STANDARDIZE] is True
    at.segmented_control(key="data_source").set_value("Generate a noisy sine").run()
    assert at.session_state["dataset"].source == "generated"
    assert at.session_state[STANDARDIZE] is PRESETS["fast"].train.standardize is False
    go(at, "train")
    at.selectbox(key="preset").set_value("seed").run()
    assert at.session_state[STANDARDIZE] is False


def test_a_preset_chosen_on_uploaded_data_keeps_it_standardised():
    at = _upload(new_app())
    go(at, "train")
    at.selectbox(key="preset").set_value("seed").run()
    assert not at.exception
    assert at.session_state[STANDARDIZE] is True


# -- what replaces work asks first or can be undone -------------------------------------------


def test_reset_keeps_the_run_until_undo_brings_it_back_stopped_and_resumable():
    at = train_tiny(new_app())
    before = job(at)
    at.button(key="train_reset").click().run()
    assert not at.exception
    assert job(at) is None  # reset: the page forgets the run...
    assert any("reset" in c.value for c in at.caption)
    at.button(key="reset_undo").click().run()  # ...and Undo brings the very same one back
    assert not at.exception
    assert job(at) is before and job(at).status == "finished"
    assert at.session_state.get("run_reset") is None
    assert not [b for b in at.button if b.key == "reset_undo"]  # offered once


def test_undo_of_a_reset_does_not_replace_a_run_started_since():
    at = train_tiny(new_app())
    at.button(key="train_reset").click().run()
    at.button(key="train_start").click().run()
    assert not [b for b in at.button if b.key == "reset_undo"]  # Start drops the offer
    started = job(at)
    wait_until_done(at)
    assert job(at) is started


def test_a_preset_switch_can_be_undone_with_the_settings_it_replaced():
    at = go(new_app(), "train")
    at.number_input(key="hidden").set_value(7).run()
    at.number_input(key="epochs").set_value(33).run()
    at.selectbox(key="preset").set_value("seed").run()
    assert not at.exception
    seed = PRESETS["seed"]
    assert at.session_state["hidden"] == seed.model.hidden_size
    assert at.session_state["epochs"] == seed.train.epochs
    at.button(key="preset_undo").click().run()
    assert not at.exception
    assert at.session_state["preset"] == "fast"
    assert at.session_state["hidden"] == 7 and at.session_state["epochs"] == 33
    assert at.selectbox(key="preset").value == "fast"


def test_train_with_defaults_asks_before_replacing_changed_settings():
    at = go(new_app(), "train")
    at.number_input(key="hidden").set_value(7).run()
    use_tiny_data(at)
    go(at, "overview")
    at.button(key="overview_train").click().run()
    assert not at.exception
    assert job(at) is None  # the first click starts nothing...
    assert at.session_state["hidden"] == 7  # ...and replaces nothing
    assert "Hidden" in at.warning[0].value
    at.button(key="overview_confirm_no").click().run()
    assert not [b for b in at.button if b.key == "overview_confirm_yes"]
    assert job(at) is None and at.session_state["hidden"] == 7
    at.button(key="overview_train").click().run()
    at.button(key="overview_confirm_yes").click().run()
    try:
        assert not at.exception
        fast = PRESETS["fast"].model.hidden_size
        assert fast != 7 and job(at) is not None and at.session_state["hidden"] == fast
        assert at.title[0].value == "Train"
    finally:
        release(at)


def test_an_upload_over_the_data_can_be_undone():
    at = go(new_app(), "data")
    at.number_input(key="points").set_value(300).run()
    generated = at.session_state["dataset"].series
    _upload(at)
    assert len(at.session_state["dataset"].series) == 120
    _upload(at, "second.csv", _temperatures(90))
    assert len(at.session_state["dataset"].series) == 90
    at.button(key="data_undo").click().run()  # back to the first upload, and it stays
    assert not at.exception
    assert len(at.session_state["dataset"].series) == 120
    at.run()
    assert len(at.session_state["dataset"].series) == 120
    _upload(at, "third.csv", _temperatures(100))
    at.button(key="data_undo").click().run()
    assert len(at.session_state["dataset"].series) == 120
    assert not np.array_equal(at.session_state["dataset"].series[:120], generated[:120])


# -- a timestamp column is the x axis ---------------------------------------------------------


def test_an_uploads_date_column_is_the_x_axis_of_the_data_and_the_forecasts():
    at = _upload(new_app())
    assert not at.exception and not at.error
    assert at.selectbox(key="data_time_column").value == "date"  # found and chosen
    data = at.session_state["dataset"]
    assert data.times is not None and str(data.times[0])[:10] == "2024-01-01"
    spec = chart(at, "data_series")
    train_trace = traces(spec)[f"train ({data.n_train})"]
    assert str(train_trace["x"][0]).startswith("2024-01-01")
    assert str(train_trace["x"][-1]).startswith(str(data.times[data.n_train - 1])[:10])
    assert spec["layout"]["xaxis"]["type"] == "date"
    at = train_tiny(at, points=None)  # a run on it: its forecasts over the same dates
    at.run()  # the Train page once the run has ended: it paces estimates on the stored run
    assert not at.exception
    go(at, "rollouts")
    assert not at.exception
    truth = traces(chart(at, "rollouts_free"))["truth"]
    last = str(at.session_state["dataset"].times[-1])[:10]
    assert str(truth["x"][-1]).startswith(last)


def test_the_user_can_choose_no_time_axis():
    at = _upload(new_app())
    at.selectbox(key="data_time_column").set_value("").run()
    assert not at.exception
    assert at.session_state["dataset"].times is None
    spec = chart(at, "data_series")
    assert list(traces(spec).values())[0]["x"][:3] == [0, 1, 2]
