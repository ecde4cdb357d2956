"""Replay in a real browser: train a short run, scrub back to its first epoch, press Play and
watch the epoch advance and the gates change with it."""

import functools
import re

from .conftest import wait_for

EPOCHS = 4


def _shown_epoch(app) -> int | None:
    """The epoch the Gates page says it draws ("Epoch k of n" in its caption)."""
    found = app.page.get_by_text(re.compile(rf"^Epoch \d+ of {EPOCHS}\b"))
    if found.count() == 0:
        return None
    return int(re.match(r"Epoch (\d+)", found.first.inner_text()).group(1))


def _gates(app) -> str | None:
    """The Gates heatmaps' values as drawn (JSON), to tell one epoch's gates from another's."""
    return app.page.evaluate(
        """() => {
            const el = document.querySelector('.st-key-gates_heatmaps .js-plotly-plot');
            if (!el || !el._fullData) return null;
            return JSON.stringify(el._fullData.filter(t => t.type === 'heatmap').map(t => t.z));
        }"""
    )


def _scrubber(app):
    """The scrubber's range input (its value text is the epoch it shows)."""
    return app.key("replay_scrubber").locator("input[type='range']").first


def _scrubber_epoch(app) -> str | None:
    return _scrubber(app).get_attribute("aria-valuetext")


def test_scrub_and_play_through_the_epochs(app):
    # A fresh server's first pages load torch and trace gates: on a busy machine, minutes.
    app.wait_for_run = functools.partial(type(app).wait_for_run, app, timeout=120_000)
    app.open()
    app.nav("Train")
    app.set_number("epochs", EPOCHS)
    app.click("train_start")
    assert wait_for(lambda: "finished" in app.status(), 60)
    # The control sits below the loss chart once the page has redrawn for the run's end.
    if not wait_for(lambda: app.key("replay_scrubber").count() == 1, 30):
        app.screenshot("replay-no-scrubber")  # what the page showed instead, and why
        main = app.page.locator("[data-testid='stMain']").inner_text()
        state = app.page.locator("[data-testid='stApp']").get_attribute("data-test-script-state")
        raise AssertionError(
            f"no scrubber after the run ended; script {state}, sidebar {app.status()!r},"
            f" exceptions {app.exceptions()}, console {app.console_errors}, page: {main[:600]!r}"
        )

    app.nav("Gates")
    assert wait_for(lambda: _shown_epoch(app) == EPOCHS, 15)
    assert wait_for(lambda: _gates(app) is not None, 30)
    latest = _gates(app)

    _scrubber(app).focus()
    app.page.keyboard.press("Home")  # the first kept epoch: the untrained models
    app.wait_for_run()
    assert wait_for(lambda: _shown_epoch(app) == 0, 15), "the scrubber did not move the gates"
    assert wait_for(lambda: _gates(app) not in (latest, None), 30)  # the chart redraws too
    start = _gates(app)
    app.screenshot("replay-epoch-0")

    app.click("gates_replay_play")
    # Each step of Play redraws the whole page: on a loaded machine that takes seconds, so
    # these waits are generous; what is checked is that the epoch moves, not how fast.
    assert wait_for(lambda: (_shown_epoch(app) or 0) >= 1, 120), "Play did not advance the epoch"
    assert wait_for(lambda: _gates(app) not in (start, None), 30)  # the chart follows it
    assert wait_for(lambda: _shown_epoch(app) == EPOCHS, 240), "Play did not reach the end"
    # The caption above is drawn before the scrubber in the same rerun: wait for the scrubber.
    assert wait_for(lambda: _scrubber_epoch(app) == str(EPOCHS), 15), _scrubber_epoch(app)
    assert wait_for(lambda: _gates(app) == latest, 30)  # the end is the run as it is now
    play = app.key("gates_replay_play").locator("button").first
    assert wait_for(lambda: play.inner_text().strip().endswith("Play"), 30)  # it stopped there
    app.screenshot("replay-played")
    assert app.exceptions() == [] and app.console_errors == []
