"""Each task in a real browser: picked on the Data page, trained, its Results view drawn."""

import pytest

from gru_core.views.tasks import TASK_LABELS

from .conftest import wait_for


def _train(app, task: str, hidden: int, epochs: int) -> None:
    app.open()
    app.nav("Data")
    app.select("task", TASK_LABELS[task])
    app.nav("Train")
    app.set_number("hidden", hidden)
    app.set_number("epochs", epochs)
    app.click("train_start")
    assert wait_for(lambda: "finished" in app.status(), 120), app.status()
    app.nav("Results")


@pytest.mark.parametrize(
    ("task", "chart", "names"),
    [
        ("window", "results_scatter", {"perfect", "GRU", "MLP"}),
        ("classify", "results_confusion_gru", {"trace 0"}),  # one heatmap
    ],
)
def test_window_and_classify_results(app, task, chart, names):
    _train(app, task, hidden=8, epochs=5)
    assert wait_for(lambda: app.chart_data(chart), 20), f"no {chart} chart"
    assert {t["name"] for t in app.chart_data(chart)} == names
    app.screenshot(f"results-{task}")
    assert app.exceptions() == [] and app.console_errors == []


def test_text_samples_appear(app):
    _train(app, "text", hidden=32, epochs=2)
    sample = app.page.get_by_text("GRU: 床前").first
    assert wait_for(sample.is_visible, 20), "no sample shown"
    assert app.page.get_by_text("Epoch 2").first.is_visible()
    app.screenshot("results-text")
    assert app.exceptions() == [] and app.console_errors == []
