"""AppTest: the Data page generates, uploads, splits, describes and downloads the series."""

import numpy as np
from apptest_utils import chart, go, new_app, texts, traces

from gru_core.config import DataConfig
from gru_core.data import make_sine


def _data_page():
    return go(new_app(), "data")


def test_generate_shows_train_and_test_in_two_traces():
    at = _data_page()
    assert not at.exception
    at.number_input(key="points").set_value(300)
    at.number_input(key="noise").set_value(0.0)
    at.slider(key="train_fraction").set_value(0.7).run()
    assert not at.exception
    spec = traces(chart(at, "data_series"))
    assert list(spec) == ["train (210)", "test (90)"]
    assert len(spec["train (210)"]["y"]) == 210 and len(spec["test (90)"]["y"]) == 90
    data = at.session_state["dataset"]
    np.testing.assert_array_equal(data.series, make_sine(DataConfig(points=300, noise=0.0)))
    assert data.n_train == 210
    stats = {m.label: m.value for m in at.metric}
    assert stats["points"] == "300" and stats["train points"] == "210"
    assert {"mean", "std", "min", "max"} <= set(stats)


def test_download_button_offers_the_series():
    at = _data_page()
    buttons = [b for b in at.get("download_button") if b.key == "data_download"]
    assert len(buttons) == 1


def test_upload_a_csv_with_several_columns_and_choose_one():
    at = _data_page()
    at.segmented_control(key="data_source").set_value("Upload a CSV").run()
    uploader = at.file_uploader(key="data_upload")
    assert "10 MB" in uploader.help
    csv = "time,signal,other\n" + "".join(
        f"{i},{np.sin(i / 8):.5f},{(i * 7) % 11}\n" for i in range(120)
    )
    uploader.set_value(("two.csv", csv.encode(), "text/csv")).run()
    assert not at.exception and not at.error
    assert at.selectbox(key="data_column").options == ["time", "signal", "other"]
    data = at.session_state["dataset"]
    assert data.source == "upload" and len(data.series) == 120
    np.testing.assert_allclose(data.series[:3], [0, np.sin(1 / 8), np.sin(2 / 8)], atol=1e-5)
    at.selectbox(key="data_column").set_value("other").run()
    assert at.session_state["dataset"].series[:3].tolist() == [0, 7, 3]
    assert len(traces(chart(at, "data_series"))) == 2


def test_a_bad_upload_shows_the_message_and_keeps_the_previous_data():
    at = _data_page()
    at.number_input(key="points").set_value(400).run()
    before = at.session_state["dataset"]
    at.segmented_control(key="data_source").set_value("Upload a CSV").run()
    at.file_uploader(key="data_upload").set_value(("bad.csv", b"a\n1\n2\nx\n", "text/csv")).run()
    assert not at.exception
    assert len(at.error) == 1
    assert "needs at least 50" in at.error[0].value or "not a number" in at.error[0].value
    assert at.session_state["dataset"].series is before.series
    assert "The data stays" in texts(at)
    spec = traces(chart(at, "data_series"))
    assert sum(len(t["y"]) for t in spec.values()) == 400


def test_data_changed_during_a_run_applies_to_the_next_run():
    from apptest_utils import train_tiny

    at = train_tiny(new_app())
    go(at, "data")
    at.number_input(key="points").set_value(250).run()
    assert "this data is for the next run" in texts(at)


def test_a_file_that_is_not_csv_text_is_refused_with_the_reason():
    at = _data_page()
    at.segmented_control(key="data_source").set_value("Upload a CSV").run()
    content = b"PK\x03\x04" + bytes(range(256))
    at.file_uploader(key="data_upload").set_value(("book.csv", content, "text/csv")).run()
    assert not at.exception
    assert "Excel" in at.error[0].value
    assert at.session_state["dataset"].source == "generated"
