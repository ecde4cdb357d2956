"""AppTest: the replay scrubber shows the models as they were at an epoch, on every page."""

import pytest
from apptest_utils import chart, go, loss_marker, new_app, release, texts, train_tiny


@pytest.fixture(scope="module")
def at():
    app = train_tiny(new_app(), epochs=4)
    yield app
    release(app)


def _heatmaps(at) -> list:
    return [t["z"] for t in chart(at, "gates_heatmaps")["data"] if t["type"] == "heatmap"]


def test_the_scrubber_offers_every_kept_epoch_and_starts_at_the_latest(at):
    go(at, "gates")
    assert not at.exception
    scrubber = at.select_slider(key="replay_scrubber")
    assert list(scrubber.options) == ["0", "1", "2", "3", "4"]
    assert scrubber.value == 4
    assert "Epoch 4 of 4" in texts(at)


def test_moving_the_scrubber_redraws_the_gates_at_that_epoch(at):
    go(at, "gates")
    latest = _heatmaps(at)
    at.select_slider(key="replay_scrubber").set_value(1).run()
    assert not at.exception
    assert "Epoch 1 of 4" in texts(at)
    past = _heatmaps(at)
    assert past != latest  # other weights, other gates
    # The chosen epoch is kept across pages: Rollouts and the Train chart's marker show it.
    go(at, "rollouts")
    assert at.select_slider(key="replay_scrubber").value == 1
    assert "Epoch 1 of 4" in texts(at)
    go(at, "train")
    assert loss_marker(at) == [1]
    go(at, "gates")
    assert _heatmaps(at) == past  # the same epoch draws the same gates
    at.select_slider(key="replay_scrubber").set_value(4).run()  # back to the latest: it follows
    assert _heatmaps(at) == latest
    go(at, "train")
    assert loss_marker(at) == []


def test_play_starts_from_the_first_epoch_and_pause_stops(at):
    go(at, "gates")
    at.button(key="gates_replay_play").click().run()
    assert not at.exception
    assert at.session_state["replay_playing"]
    assert at.select_slider(key="replay_scrubber").value == 0
    assert at.button(key="gates_replay_play").label == "Pause"
    at.button(key="gates_replay_play").click().run()
    assert not at.session_state["replay_playing"]
    at.select_slider(key="replay_scrubber").set_value(4).run()


def test_the_memory_page_measures_at_the_chosen_epoch(at):
    go(at, "memory")
    latest = chart(at, "memory_influence")["data"]
    at.select_slider(key="replay_scrubber").set_value(2).run()
    assert not at.exception
    assert "Epoch 2 of 4" in texts(at)
    assert chart(at, "memory_influence")["data"] != latest
    at.select_slider(key="replay_scrubber").set_value(4).run()


def test_while_a_run_trains_the_pages_follow_it_and_the_scrubber_waits_for_its_end():
    from apptest_utils import job, use_tiny_data, use_tiny_settings, wait_until_done
    from waiting import wait_for

    app = new_app()
    try:
        use_tiny_data(app)
        use_tiny_settings(app, epochs=5000)
        app.session_state["replay_epoch"] = 1  # a choice left from an earlier run
        app.session_state["replay_follow"] = False
        app.button(key="train_start").click().run()
        assert wait_for(lambda: job(app).snapshot().epoch >= 3, 60)
        app.run()
        assert job(app).status == "running"
        assert not [w for w in app.select_slider if w.key == "replay_scrubber"]
        assert loss_marker(app) == []  # the chart follows the run, not the old choice
        app.button(key="train_stop").click().run()
        assert wait_until_done(app) == "stopped"
        assert [w for w in app.select_slider if w.key == "replay_scrubber"]  # now it can
    finally:
        release(app)
