"""A classroom on one server: rapid clicks, four sessions, closed tabs, a long afternoon."""

import re
import time
from pathlib import Path

import psutil
import pytest

from gru_core.job import QUEUED_THREAD_NAME, THREAD_NAME
from gru_core.process_job import PROCESS_NAME

from .conftest import AppServer, wait_for

TINY = {"epochs": 3, "hidden": 4}


def trainer_threads(pid: int, name: str = THREAD_NAME) -> int:
    """Threads of the server process with this OS-level name (set by gru_core.job)."""
    count = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            if (task / "comm").read_text().strip() == name:
                count += 1
        except OSError:
            pass  # the thread ended while we looked
    return count


@pytest.fixture(scope="module")
def capped_server():
    srv = AppServer(env={"GRU_LAB_MAX_JOBS": "2"})
    yield srv
    srv.close()


def _open_train(browser, url, settings):
    from .conftest import AppPage

    context = browser.new_context(viewport={"width": 1400, "height": 900})
    app = AppPage(context.new_page(), url)
    app.open()
    app.nav("Train")
    for key, value in settings.items():
        app.set_number(key, value)
    return context, app


def _epoch_total(app) -> str:
    return app.page.get_by_text(re.compile(r"^Epoch \d+ / \d+")).first.inner_text()


def test_five_quick_starts_run_one_job(browser, capped_server):
    context, app = _open_train(browser, capped_server.url, {"epochs": 4000})
    try:
        button = app.key("train_start").locator("button").first
        for _ in range(5):
            button.click(force=True, no_wait_after=True)
        app.wait_for_run()
        assert wait_for(lambda: trainer_threads(capped_server.proc.pid) >= 1, 10)
        time.sleep(1.0)
        assert trainer_threads(capped_server.proc.pid) == 1
        app.screenshot("five-quick-starts")
        # Crossed clicks leave no job running and no thread behind.
        for key in ("train_stop", "train_resume", "train_stop", "train_reset"):
            app.click(key)
            app.wait_for_run()
        assert wait_for(lambda: trainer_threads(capped_server.proc.pid) == 0, 5)
        assert trainer_threads(capped_server.proc.pid, QUEUED_THREAD_NAME) == 0
        assert app.exceptions() == []
    finally:
        context.close()


def test_four_sessions_queue_past_the_cap_and_all_finish(browser, capped_server):
    sessions = []
    try:
        # Runs of a few seconds each: long enough that the last two are still waiting when
        # their pages next poll.
        epochs = [200 + 20 * i for i in range(4)]
        for i in range(4):
            settings = {"epochs": epochs[i], "hidden": 4 + i}
            sessions.append(_open_train(browser, capped_server.url, settings))
        for _, app in sessions:
            app.click("train_start")
        # Two train, two wait for a slot and say so, in the sidebar and on the Train page.
        assert wait_for(lambda: any("queued" in app.status() for _, app in sessions), 15)
        queued = next(app for _, app in sessions if "queued" in app.status())
        waiting = queued.page.get_by_text(re.compile("Waiting for a free training slot"))
        assert wait_for(lambda: waiting.count() >= 1, 5)
        queued.screenshot("session-queued")
        assert trainer_threads(capped_server.proc.pid) <= 2
        assert trainer_threads(capped_server.proc.pid, QUEUED_THREAD_NAME) >= 1
        for i, (_, app) in enumerate(sessions):
            if not wait_for(lambda app=app: "finished" in app.status(), 240):
                app.screenshot(f"session-{i}-not-finished")
                raise AssertionError(  # what each page shows, to tell why
                    (
                        i,
                        [
                            (tab.status(), tab.exceptions(), tab.console_errors)
                            for _, tab in sessions
                        ],
                    )
                )
            app.nav("Train")
            assert _epoch_total(app).startswith(f"Epoch {epochs[i]} / {epochs[i]}")
            # Each session's own model: parameter counts follow its hidden size.
            hidden = 4 + i
            gru_params = 3 * (hidden + hidden * hidden + 2 * hidden) + hidden + 1
            # The run's end reruns the page (see app.run_status): wait for its redraw.
            shown = app.page.get_by_text(re.compile(rf"\b{gru_params}\b"))
            assert wait_for(lambda shown=shown: shown.count() >= 1, 15), f"session {i}"
            assert app.exceptions() == []
    finally:
        for context, _ in sessions:
            context.close()


def test_closing_a_tab_stops_its_job(browser, capped_server):
    pid = capped_server.proc.pid
    assert wait_for(lambda: trainer_threads(pid) == 0, 10)
    context, app = _open_train(browser, capped_server.url, {"epochs": 5000})
    app.click("train_start")
    assert wait_for(lambda: trainer_threads(pid) == 1, 10)
    app.screenshot("before-closing-the-tab")
    closed = time.monotonic()
    context.close()
    assert wait_for(lambda: trainer_threads(pid) == 0, 5), "the job outlived its tab"
    assert time.monotonic() - closed < 5


def training_processes(pid: int) -> int:
    """The server's training processes (forked from its fork server), by their OS-level name."""
    count = 0
    for child in psutil.Process(pid).children(recursive=True):
        try:
            if child.name() == PROCESS_NAME and child.status() != psutil.STATUS_ZOMBIE:
                count += 1
        except psutil.NoSuchProcess:
            pass  # it ended while we looked
    return count


def test_closed_tabs_leave_no_training_process_whatever_their_run_was_doing(browser, capped_server):
    """Running, stopped and queued runs: within 10 s of their tabs closing, nothing is left."""
    pid = capped_server.proc.pid
    assert wait_for(lambda: trainer_threads(pid) == 0 and training_processes(pid) == 0, 15)
    sessions = {}
    try:
        stopped = _open_train(browser, capped_server.url, {"epochs": 5000})
        sessions["stopped"] = stopped
        stopped[1].click("train_start")
        assert wait_for(lambda: training_processes(pid) == 1, 15)
        stopped[1].click("train_stop")
        assert wait_for(lambda: "stopped" in stopped[1].status(), 15)
        # A stopped run keeps no process; Resume would start one from the state it kept.
        assert wait_for(lambda: training_processes(pid) == 0, 10)
        for name in ("running", "also running", "queued"):
            sessions[name] = _open_train(browser, capped_server.url, {"epochs": 5000})
            sessions[name][1].click("train_start")
        queued = sessions["queued"][1]
        assert wait_for(lambda: "queued" in queued.status(), 15)
        assert wait_for(lambda: training_processes(pid) == 2, 15)  # the cap: two train
        assert trainer_threads(pid, QUEUED_THREAD_NAME) == 1
        queued.screenshot("before-closing-four-tabs")
        for context, _ in sessions.values():
            context.close()
        closed = time.monotonic()
        sessions.clear()
        assert wait_for(
            lambda: (
                training_processes(pid) == 0
                and trainer_threads(pid) == 0
                and trainer_threads(pid, QUEUED_THREAD_NAME) == 0
            ),
            10,
        ), "a training process outlived its tab"
        assert time.monotonic() - closed < 10
    finally:
        for context, _ in sessions.values():
            context.close()


def test_fifty_train_reset_cycles_hold_memory_and_threads(browser, server):
    context, app = _open_train(browser, server.url, TINY)
    proc = psutil.Process(server.proc.pid)
    baseline = proc.memory_info().rss
    try:
        for cycle in range(50):
            app.click("train_start")
            assert wait_for(lambda: "finished" in app.status(), 60), f"cycle {cycle}"
            app.click("train_reset")
            app.wait_for_run()
        grown = (proc.memory_info().rss - baseline) / 2**20
        app.screenshot("after-fifty-cycles")
        assert grown < 100, f"resident memory grew by {grown:.0f} MB over 50 cycles"
        assert trainer_threads(server.proc.pid) == 0
        assert app.exceptions() == []
    finally:
        context.close()
