"""AppTest: uploads are standardised unless turned off; what replaces work asks or can be undone;
an uploaded file's timestamps are the charts' x axis."""

from __future__ import annotations

import numpy as np
from apptest_utils import go, new_app

from gru_core.config import PRESETS

STANDARDIZE = "train_standardize"


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
    at.selectbox(key="train_preset").set_value("seed").run()
    assert at.session_state[STANDARDIZE] is False


def test_a_preset_chosen_on_uploaded_data_keeps_it_standardised():
    at = _upload(new_app())
    go(at, "train")
    at.selectbox(key="train_preset").set_value("seed").run()
    assert not at.exception
    assert at.session_state[STANDARDIZE] is True
