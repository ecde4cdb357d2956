"""AppTest: the Train page's settings, presets, controls and live view."""

import time

import pytest
from apptest_utils import (
    chart,
    go,
    job,
    loss_chart,
    loss_traces,
    new_app,
    release,
    texts,
    train_tiny,
    use_tiny_data,
    use_tiny_settings,
    wait_until_done,
)
from waiting import wait_for

from gru_app import state
from gru_core import job as job_mod
from gru_core.config import PRESETS, ModelConfig, TrainConfig, bounds


@pytest.fixture
def at():
    app = new_app()
    yield app
    release(app)


def test_defaults_come_from_the_fast_preset(at):
    go(at, "train")
    assert not at.exception
    fast = PRESETS["fast"]
    assert at.selectbox(key="preset").value == "fast"
    assert at.number_input(key="hidden").value == fast.model.hidden_size
    assert at.number_input(key="epochs").value == fast.train.epochs
    assert at.select_slider(key="lr").value == fast.train.lr
    assert at.radio(key="mode").value == fast.train.mode
    assert "Choose settings and press Start" in texts(at)


def test_widget_ranges_are_the_config_bounds(at):
    go(at, "train")
    hidden = at.number_input(key="hidden")
    assert (hidden.min, hidden.max) == bounds(ModelConfig, "hidden_size")
    seq = at.number_input(key="seq_len")
    assert (seq.min, seq.max) == bounds(TrainConfig, "seq_len")


def test_choosing_a_preset_sets_every_widget(at):
    go(at, "train")
    at.number_input(key="hidden").set_value(7).run()
    at.selectbox(key="preset").set_value("seed").run()
    seed = PRESETS["seed"]
    assert at.number_input(key="hidden").value == seed.model.hidden_size
    assert at.selectbox(key="chunking").value == "tutorial"
    assert at.selectbox(key="eval_state").value == "carried"
    assert at.select_slider(key="lr").value == seed.train.lr


def test_a_tiny_run_trains_to_the_end_with_live_curves(at):
    train_tiny(at)
    assert not at.exception
    assert ":green-badge[finished]" in texts(at)
    spec = loss_traces(at)
    assert len(spec) == 6
    history = job(at).snapshot().history
    for model in ("GRU", "MLP"):
        assert spec[f"{model} train"]["x"] == [1, 2, 3]  # one point per epoch
        evaluated = [r["epoch"] for r in history if r[f"{model.lower()}_test_rollout_mse"]]
        assert (
            spec[f"{model} test free-running"]["x"] == evaluated
        )  # epochs without a test left out
        assert spec[f"{model} test one-step"]["x"] == evaluated
    assert loss_chart(at)[0]["layer"][0]["encoding"]["y"]["scale"]["type"] == "log"
    cards = {m.label: m.value for m in at.metric}
    assert cards["Device"] == "cpu" and cards["GRU weights"] == "89"
    assert cards["GRU test"] not in ("", "—")
    progress = at.get("progress")
    assert progress and "Epoch 3 / 3" in progress[-1].proto.text
    assert at.button(key="train_resume").disabled and not at.button(key="train_start").disabled


def test_invalid_settings_show_an_error_and_disable_start(at):
    use_tiny_data(at)
    use_tiny_settings(at, seq_len=500)
    assert not at.exception
    assert any("seq_len 500" in e.value for e in at.error)
    assert at.button(key="train_start").disabled


def test_stop_resume_and_reset(at):
    use_tiny_data(at)
    use_tiny_settings(at, epochs=10_000)
    at.button(key="train_start").click().run()
    assert job(at).status in ("queued", "running")
    assert at.button(key="train_start").disabled and not at.button(key="train_stop").disabled
    time.sleep(0.3)
    at.button(key="train_stop").click().run()
    assert wait_until_done(at) == "stopped"
    epoch = job(at).snapshot().epoch
    assert not at.button(key="train_resume").disabled
    at.button(key="train_resume").click().run()
    deadline = time.monotonic() + 30
    while job(at).snapshot().epoch <= epoch and time.monotonic() < deadline:
        time.sleep(0.05)  # Resume trains on from the same epoch
    assert job(at).snapshot().epoch > epoch
    at.button(key="train_stop").click().run()
    assert wait_until_done(at) == "stopped"
    stopped = job(at)
    at.button(key="train_reset").click().run()
    assert job(at) is None
    assert stopped.join(30) and stopped.status == "stopped"
    assert "Choose settings and press Start" in texts(at)


def test_changing_settings_during_a_run_applies_to_the_next_run(at):
    use_tiny_data(at)
    use_tiny_settings(at, epochs=10_000)
    at.button(key="train_start").click().run()
    running = job(at)
    at.number_input(key="hidden").set_value(9).run()
    assert not at.exception
    note = " ".join(i.value for i in at.info)
    assert "apply to the next run" in note and "hidden_size 4 → 9" in note
    assert job(at) is running and running.snapshot().spec.model("gru").hidden_size == 4


def test_a_job_waiting_for_a_slot_shows_as_queued(at):
    use_tiny_data(at)
    use_tiny_settings(at)
    taken = 0
    try:
        while job_mod._slots.acquire(timeout=10):  # fill the process-wide cap
            taken += 1
            if taken == job_mod.MAX_CONCURRENT:
                break
        at.button(key="train_start").click().run()
        assert job(at).status == "queued"
        page = texts(at)
        assert ":violet-badge[queued]" in page and "Waiting for a free training slot" in page
    finally:
        for _ in range(taken):
            job_mod._slots.release()
    assert wait_until_done(at) == "finished"


def test_the_run_keeps_going_while_other_pages_are_open(at):
    use_tiny_data(at)
    use_tiny_settings(at, epochs=10_000)
    at.button(key="train_start").click().run()
    running = job(at)
    for page in ("data", "gates", "rollouts", "overview"):
        go(at, page)
        assert not at.exception, page
        assert job(at) is running and running.status in ("queued", "running")
    assert ":blue-badge[running]" in texts(at)  # the Overview's own status
    assert wait_for(lambda: running.snapshot().epoch >= 1, 30)


def test_the_preset_data_button_restores_the_tutorials_series(at):
    go(at, "train")
    assert "train_preset_data" not in [b.key for b in at.button]  # default data: no button
    use_tiny_data(at)
    go(at, "train")
    at.button(key="train_preset_data").click().run()
    assert not at.exception
    data = at.session_state["dataset"]
    assert len(data.series) == 1000 and data.n_train == 800
    assert at.session_state["points"] == 1000
    assert "train_preset_data" not in [b.key for b in at.button]


def test_four_kinds_train_side_by_side_with_matched_sizes(at):
    use_tiny_data(at)
    use_tiny_settings(at, hidden=8)
    at.multiselect(key="models").set_value(["mlp", "rnn", "lstm", "gru"]).run()
    at.toggle(key="match_params").set_value(True).run()
    table = next(d.value for d in at.dataframe if "parameters" in d.value)
    assert list(table["model"]) == ["MLP", "RNN", "LSTM", "GRU"]
    # Matched: the RNN gets more units than the GRU's 8, the LSTM fewer.
    assert list(table["hidden size"]) == ["32, 16", "15", "7", "8"]
    assert "matched to the GRU's parameter count" in texts(at)
    at.button(key="train_start").click().run()
    assert wait_until_done(at) == "finished" and not at.exception
    names = list(loss_traces(at))
    for label in ("MLP", "RNN", "LSTM", "GRU"):
        assert any(n.startswith(label) for n in names), (label, names)
    colours = loss_chart(at)[0]["layer"][0]["encoding"]["color"]["scale"]
    assert colours["domain"] == ["MLP", "RNN", "LSTM", "GRU"]
    assert len(set(colours["range"])) == 4  # one distinct colour per model
    cards = [m.label for m in at.metric]
    assert {"RNN test", "LSTM test", "GRU test", "MLP test"} <= set(cards)
    go(at, "rollouts")  # the rollouts key by model name too
    assert not at.exception
    drawn = {t["name"] for t in chart(at, "rollouts_free")["data"]}
    assert {"MLP", "RNN", "LSTM", "GRU"} <= {n.split(" ")[0] for n in drawn}


def test_a_long_run_says_how_long_it_will_take_before_it_starts(at):
    train_tiny(at)
    assert "This run will take about" not in texts(at)  # 3 epochs: well under a minute
    # Some thousand times the parameters, 10,000 epochs: at the tiny run's measured pace, far
    # over a minute.
    at.number_input(key="hidden").set_value(256)
    at.number_input(key="epochs").set_value(10_000).run()
    assert not at.exception
    note = next(c.value for c in at.caption if "This run will take about" in c.value)
    assert note.endswith("(at the pace of earlier runs here: 1).")


def test_the_caption_names_a_run_once(at):
    train_tiny(at)
    run = job(at).snapshot().run
    caption = next(c.value for c in at.caption if c.value.startswith(f"Run #{run}"))
    # A lone run has no label but its number, which "Run #N" already says.
    assert caption.startswith(f"Run #{run}: ") and f"run {run}" not in caption
    train_tiny(at, points=None, hidden=5)
    second = job(at).snapshot().run
    caption = next(c.value for c in at.caption if c.value.startswith(f"Run #{second}"))
    assert caption.startswith(f"Run #{second} hidden 5: "), caption


def test_start_draws_the_first_epoch_in_the_click_s_own_rerun(at, monkeypatch):
    train_tiny(at)  # the first run of a process pays the training processes' start
    # However busy the machine: what is checked is the wait, not how long the epoch takes.
    monkeypatch.setattr(state, "FIRST_EPOCH_WAIT_SECONDS", 30.0)
    use_tiny_settings(at, epochs=400)  # long enough to be running still
    at.button(key="train_start").click().run()
    assert not at.exception
    progress = [p.proto.text for p in at.get("progress")]
    shown = {int(text.split()[1]) for text in progress if text.startswith("Epoch")}
    # The sidebar's and the page's progress: the same epoch, past the run's start (without
    # the wait for it, this rerun drew "Epoch 0": the next poll brought the first).
    assert len(shown) == 1 and shown.pop() >= 1, progress
