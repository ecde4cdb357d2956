"""Train in a real browser: live charts grow, Stop stops, Resume continues; then the
Gates and Rollouts pages show the trained model."""

import re
import time

from .conftest import epochs_drawn, train_trace, wait_for


def _progress_epoch(app) -> int:
    text = app.page.get_by_text(re.compile(r"^Epoch \d+ / \d+")).first.inner_text()
    return int(re.match(r"Epoch (\d+)", text).group(1))


def test_start_stop_resume(app):
    app.open()
    app.nav("Train")
    app.set_number("epochs", 5000)
    app.click("train_start")
    assert wait_for(lambda: epochs_drawn(app) >= 2, 30), "no loss curve appeared"
    first = epochs_drawn(app)
    assert wait_for(lambda: epochs_drawn(app) > first, 10), "the loss curves did not grow"
    assert "running" in app.status()
    app.screenshot("train-running")

    app.click("train_stop")
    clicked = time.monotonic()
    assert wait_for(lambda: "stopped" in app.status(), 5)
    # The page polls once a second; the worker itself stops within an epoch.
    assert time.monotonic() - clicked < 2.5
    # Nothing trains behind the page's back: later visits show the same epoch.
    app.nav("Overview")
    app.nav("Train")
    stopped_at = _progress_epoch(app)
    assert epochs_drawn(app) == stopped_at
    time.sleep(1.5)
    app.nav("Overview")
    app.nav("Train")
    assert _progress_epoch(app) == stopped_at

    app.click("train_resume")
    assert wait_for(lambda: epochs_drawn(app) > stopped_at + 1, 30), "resume did not continue"
    trace = train_trace(app)
    # Epochs continue from where they stopped: 1..n with no restart.
    assert trace["last_x"] == trace["n"] > stopped_at
    app.click("train_stop")
    assert wait_for(lambda: "stopped" in app.status(), 5)
    app.click("train_reset")
    app.wait_for_run()
    assert app.exceptions() == [] and app.console_errors == []


def test_gates_and_rollouts_after_training(app):
    app.open()
    app.nav("Train")
    app.set_number("epochs", 6)
    app.click("train_start")
    assert wait_for(lambda: "finished" in app.status(), 60)
    app.nav("Gates")
    heatmaps = [t for t in app.chart_data("gates_heatmaps") if t["type"] == "heatmap"]
    assert len(heatmaps) == 4
    assert len({t["n"] for t in heatmaps}) == 1 and heatmaps[0]["n"] > 0  # units, aligned
    app.screenshot("gates-after-training")
    app.nav("Rollouts")
    names = {t["name"] for t in app.chart_data("rollouts_free")}
    assert {"GRU", "MLP"} <= {n.split()[0] for n in names}
    lengths = {t["name"]: t["n"] for t in app.chart_data("rollouts_free")}
    assert max(lengths.values()) >= 199
    app.screenshot("rollouts-after-training")
    assert app.exceptions() == [] and app.console_errors == []
