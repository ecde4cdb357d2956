"""AppTest: the Memory page shows each recurrent model's reach and runs the length experiment."""

import pytest
from apptest_utils import chart, go, new_app, release, texts, train_tiny


@pytest.fixture(scope="module")
def at():
    app = new_app()
    go(app, "train")
    app.multiselect(key="models").set_value(["mlp", "rnn", "lstm", "gru"]).run()
    train_tiny(app)
    yield go(app, "memory")
    release(app)


def test_without_a_run_the_page_says_where_to_start():
    at = go(new_app(), "memory")
    assert not at.exception
    assert "Nothing trained yet" in at.info[0].value


def test_influence_time_scales_and_saturation_for_each_model(at):
    assert not at.exception
    names = [t["name"] for t in chart(at, "memory_influence")["data"]]
    for label in ("RNN", "LSTM", "GRU"):
        assert f"{label} now" in names and f"{label} at the start" in names
    assert not any(n.startswith("MLP") for n in names)
    assert chart(at, "memory_influence")["layout"]["yaxis"]["type"] == "log"
    bars = [t["name"] for t in chart(at, "memory_time_scales")["data"]]
    assert bars == ["LSTM at the start", "LSTM now", "GRU at the start", "GRU now"]
    table = next(d.value for d in at.dataframe if "gate" in d.value)
    assert list(table["gate"]) == ["i", "f", "o", "r", "z"]
    assert "LSTM: f" in texts(at) and "GRU: z" in texts(at)


def test_the_experiment_runs_in_one_click(at):
    at.multiselect(key="memory_kinds").set_value(["rnn", "gru"])
    at.multiselect(key="memory_lengths").set_value([5, 10])
    at.number_input(key="memory_epochs").set_value(1).run()
    assert at.button(key="memory_run").label == "Run the experiment (4 trainings)"
    at.button(key="memory_run").click().run(timeout=120)
    assert not at.exception
    lines = chart(at, "memory_lengths_chart")["data"]
    assert [t["name"] for t in lines] == ["RNN", "GRU"] and lines[0]["x"] == [5, 10]
    table = next(d.value for d in at.dataframe if "length" in d.value)
    assert list(table.columns) == ["length", "RNN", "GRU"] and len(table) == 2
