import pytest

from gru_core.config import TASK_NAMES
from gru_core.views import tasks as task_views


def test_every_task_has_a_label_a_chart_and_a_default_preset():
    assert set(task_views.TASK_LABELS) == set(TASK_NAMES)
    assert task_views.chart("forecast").styles is None  # the forecast chart keeps its own
    window = task_views.chart("window")
    assert window.styles == {
        "train_loss": ("train", "solid"),
        "test_mse": ("test MSE", "dot"),
        "test_mae": ("test MAE", "dash"),
    }
    assert window.log and not task_views.chart("classify").log  # accuracy needs a linear axis
    assert task_views.default_options("window") == {}
    assert task_views.default_options("text") == {"corpus": "tang"}
    assert task_views.results_view("classify") == "classes"


def test_samples_are_the_evaluated_epochs_newest_first():
    history = [
        {"epoch": 1, "gru_sample": None, "d2l_sample": None},
        {"epoch": 2, "gru_sample": "ab", "d2l_sample": "ac"},
        {"epoch": 3},
        {"epoch": 4, "gru_sample": "abc", "d2l_sample": "abd"},
    ]
    rows = task_views.samples(history, ["gru", "d2l"])
    assert rows == [
        {"epoch": 4, "gru": "abc", "d2l": "abd"},
        {"epoch": 2, "gru": "ab", "d2l": "ac"},
    ]
    assert task_views.samples([], ["gru"]) == []
    with pytest.raises(KeyError):
        task_views.chart("nope")
