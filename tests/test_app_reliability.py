"""AppTest: what a poked-at teaching tool must survive — bad files, bad settings, divergence."""

import math
import tomllib

import numpy as np
import pytest
import torch
from apptest_utils import (
    ROOT,
    chart,
    go,
    job,
    loss_traces,
    new_app,
    release,
    texts,
    train_tiny,
    use_tiny_data,
    use_tiny_settings,
    wait_until_done,
)

from gru_core.config import MAX_POINTS, ModelConfig, TrainConfig, bounds
from gru_core.job import TrainingJob
from gru_core.views import train as train_views
from gru_core.views.train import SETTINGS

BAD_FILES = {
    "empty.csv": (b"", "empty"),
    "header.csv": (b"value\n", "no values"),
    "words.csv": (b"value\nup\ndown\nup\n", "number"),
    "nan.csv": (b"\n".join([b"0.5"] * 60 + [b"nan"] + [b"0.5"] * 10), "line 61"),
    "inf.csv": (b"\n".join([b"0.5"] * 60 + [b"inf"]), "infinite"),
    "short.csv": (b"\n".join(b"%d" % i for i in range(10)), "at least 50"),
    "flat.csv": (b"\n".join([b"3.0"] * 100), "equal"),
    "huge.csv": (b"\n".join(b"%e" % (1e30 * math.sin(i)) for i in range(100)), "rescale"),
    "long.csv": (b"\n".join([b"0.25", b"0.5"] * (MAX_POINTS // 2 + 1)), "downsample"),
    "image.csv": (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "not"),
}


@pytest.fixture
def at():
    app = new_app()
    yield app
    release(app)


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_a_bad_upload_says_why_and_keeps_the_data_and_the_run(at, name):
    content, words = BAD_FILES[name]
    train_tiny(at)
    before_data = at.session_state["dataset"]
    before_job = job(at)
    go(at, "data")
    at.segmented_control(key="data_source").set_value("Upload a CSV").run()
    at.file_uploader(key="data_upload").set_value((name, content, "text/csv")).run()
    assert not at.exception
    assert len(at.error) == 1
    assert words.lower() in at.error[0].value.lower(), at.error[0].value
    assert "Traceback" not in at.error[0].value
    after = at.session_state["dataset"]
    assert after.label == before_data.label
    assert np.array_equal(after.series, before_data.series)
    assert job(at) is before_job and job(at).status == "finished"
    go(at, "rollouts")  # the trained model is still there to inspect
    assert not at.exception
    chart(at, "rollouts_free")


def test_every_numeric_setting_widget_is_bounded_by_its_config_range(at):
    go(at, "train")
    classes = {"model": ModelConfig, "train": TrainConfig}
    checked = 0
    for name, setting in SETTINGS.items():
        widgets = [w for w in at.number_input if w.key == name]
        if not widgets:
            continue  # a select box, toggle or text box: no free number to enter
        lo, hi = bounds(classes[setting.section], setting.name)
        assert (widgets[0].min, widgets[0].max) == (lo, hi), name
        checked += 1
    assert checked >= 8


@pytest.mark.parametrize(
    "overrides, words",
    [({"seq_len": 500}, "seq_len 500"), ({"batch": 100, "seq_len": 10}, "streams")],
)
def test_settings_that_cannot_work_are_refused_before_start(at, overrides, words):
    use_tiny_data(at)
    use_tiny_settings(at, **overrides)
    assert not at.exception
    assert any(words in e.value for e in at.error), [e.value for e in at.error]
    assert at.button(key="train_start").disabled
    assert job(at) is None


def _finite_chart(spec: dict) -> bool:
    """Whether every value a chart draws is finite (a Plotly spec, or `loss_traces`' curves)."""
    traces = spec["data"] if "data" in spec else spec.values()
    values = [v for t in traces for v in t.get("y", []) if v is not None]
    return all(np.isfinite(values))


def test_learning_rate_one_never_shows_nan_or_a_traceback(at):
    use_tiny_data(at)
    use_tiny_settings(at, lr=1.0, epochs=15)
    at.button(key="train_start").click().run()
    assert job(at).snapshot().train_cfg.lr == 1.0  # the widget offers it and the run uses it
    status = wait_until_done(at)
    assert not at.exception
    # Adam's steps are bounded by the rate, so 1.0 often trains badly but finitely.
    assert status in ("finished", "diverged")
    if status == "diverged":
        assert "learning rate" in texts(at)
    assert _finite_chart(loss_traces(at))


def test_divergence_stops_the_run_says_why_and_keeps_the_last_model(at, monkeypatch):
    use_tiny_data(at)
    use_tiny_settings(at, epochs=50)
    at.selectbox(key="kernel").set_value("torch").run()  # the loss goes through torch
    calls = {"n": 0}
    original = torch.nn.functional.mse_loss

    def blows_up_later(a, b):
        calls["n"] += 1
        loss = original(a, b)
        return loss * float("nan") if calls["n"] > 60 else loss

    monkeypatch.setattr(torch.nn.functional, "mse_loss", blows_up_later)
    monkeypatch.setattr(train_views, "JOB_TYPE", TrainingJob)  # train here, where the patch is
    at.button(key="train_start").click().run()
    assert wait_until_done(at) == "diverged"
    at.run()
    assert not at.exception
    assert ":red-badge[diverged]" in texts(at)
    assert any("learning rate" in e.value for e in at.error)
    snap = job(at).snapshot()
    assert 0 < snap.epoch < 50
    assert _finite_chart(loss_traces(at))
    monkeypatch.undo()
    go(at, "gates")
    assert not at.exception
    heatmaps = [t for t in chart(at, "gates_heatmaps")["data"] if t["type"] == "heatmap"]
    assert heatmaps and all(np.isfinite(np.asarray(t["z"], dtype=float)).all() for t in heatmaps)
    go(at, "rollouts")
    assert not at.exception
    assert _finite_chart(chart(at, "rollouts_free"))


def test_server_settings_keep_xsrf_on_watch_nothing_and_limit_uploads():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    server = config["server"]
    assert server.get("enableXsrfProtection", True) is True
    assert server["fileWatcherType"] == "none"
    assert 1 <= server["maxUploadSize"] <= 50
