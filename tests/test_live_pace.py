"""The Train page's live view is redrawn at a pace that slows as the run's history grows."""

from types import SimpleNamespace

import pytest

from gru_app import live


def _snap(epochs: int, status: str = "running", run: int = 1):
    return SimpleNamespace(
        run=run, status=status, running=status == "running", history=[{}] * epochs
    )


def test_the_interval_is_the_poll_up_to_a_short_history_then_grows_to_a_cap():
    assert live.redraw_interval(0) == live.POLL_SECONDS
    assert live.redraw_interval(live.SHORT_HISTORY) == live.POLL_SECONDS
    assert live.redraw_interval(2 * live.SHORT_HISTORY) == pytest.approx(2 * live.POLL_SECONDS)
    assert live.redraw_interval(10**6) == live.MAX_REDRAW_SECONDS


def test_a_long_run_is_redrawn_only_once_its_interval_has_passed():
    old, new = _snap(1000), _snap(1001)
    shown = (10.0, old)
    wait = live.redraw_interval(1000)  # 1 s at 1,000 epochs
    assert wait == pytest.approx(1.0)
    assert live.pace(shown, new, 10.0 + wait / 2) == shown  # too soon: the same snapshot
    assert live.pace(shown, new, 10.0 + wait) == (10.0 + wait, new)  # then the new one


def test_a_short_run_a_new_status_or_a_new_run_is_drawn_at_once():
    short = _snap(6)
    later = 10.0 + 2 * live.POLL_SECONDS
    assert live.pace((10.0, _snap(5)), short, later) == (later, short)
    shown, soon = (10.0, _snap(1000)), 10.01
    stopped, other = _snap(1000, "stopped"), _snap(3, run=2)
    assert live.pace(shown, stopped, soon) == (soon, stopped)
    assert live.pace(shown, other, soon) == (soon, other)
    first = _snap(1000)
    assert live.pace(None, first, soon) == (soon, first)


def test_the_fragments_of_one_poll_share_a_snapshot_but_the_next_poll_takes_a_new_one():
    old, new = _snap(10), _snap(11)
    shown = (10.0, old)
    poll = live.POLL_SECONDS
    assert live.pace(shown, new, 10.0 + poll / 4) == shown  # the same poll: the same epoch
    # The next poll, even one that comes a little early, draws the new epoch: a fragment
    # whose poll falls just short of the interval does not keep showing the last one.
    assert live.pace(shown, new, 10.0 + poll * 0.9) == (10.0 + poll * 0.9, new)
    # Nothing drawn before (no run): the snapshot now.
    assert live.pace((10.0, None), new, 10.01) == (10.01, new)


def _running(elapsed: float, epochs: int, of: int, seconds: float = 0.01):
    history = [{"epoch": e + 1, "seconds": seconds} for e in range(epochs)]
    return SimpleNamespace(
        run=1,
        status="running",
        running=True,
        history=history,
        epoch=epochs,
        epochs=of,
        elapsed=elapsed,
    )


def test_a_run_is_polled_fast_at_its_start_and_near_its_end_and_calmly_between():
    fast, calm = live.POLL_SECONDS, live.CALM_POLL_SECONDS
    assert live.poll_interval(None) is None
    assert live.poll_interval(_snap(10, "finished")) is None  # not training: no polls
    # 1,000 epochs of 10 ms: 10 s. Its first seconds: fast, whatever is left.
    assert live.poll_interval(_running(0.5, 50, 1000)) == fast
    # Between: 5 s in, 5 s left (500 x 10 ms): calm ...
    assert live.poll_interval(_running(5.0, 500, 1000)) == calm
    # ... and fast again once the end is END_SECONDS away at the recent pace: 2.5 s left.
    assert live.poll_interval(_running(7.5, 750, 1000)) == fast
    # Polled fast near the end, it stays fast though the estimate grows a little (4 s) ...
    slower = _running(7.5, 800, 1000, seconds=0.02)
    assert live.poll_interval(slower, current=fast) == fast
    assert live.poll_interval(slower, current=calm) == calm  # (calm it would stay calm)
    # ... but not when the end moves far off (a slower pace: 200 x 0.05 s = 10 s left).
    assert live.poll_interval(_running(7.5, 800, 1000, seconds=0.05), current=fast) == calm
    # No pace known yet: fast.
    assert live.poll_interval(_running(5.0, 0, 1000)) == fast
