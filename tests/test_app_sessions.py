"""AppTest: per-session state, the shared sidebar, and the session-end release of the job."""

from apptest_utils import (
    APP,
    go,
    job,
    new_app,
    release,
    texts,
    train_tiny,
    use_tiny_data,
    use_tiny_settings,
)
from streamlit.runtime.caching import clear_session_resource_cache
from streamlit.testing.v1 import AppTest

SESSION_ID = "test session id"  # AppTest's fixed session id


def test_two_sessions_never_see_each_others_data_or_runs():
    a = train_tiny(new_app())
    b = new_app()
    try:
        assert job(b) is None
        assert ":gray-badge[no run yet]" in texts(b)
        go(b, "data")
        b.number_input(key="points").set_value(333).run()
        assert len(a.session_state["dataset"].series) == 200
        assert len(b.session_state["dataset"].series) == 333
    finally:
        release(a)


def test_the_sidebar_shows_the_run_status():
    # AppTest drops the entrypoint's sidebar after switch_page, so the session's
    # finished run is handed to a fresh session's first run here; the browser
    # check (scripts/screenshots.py) looks at the sidebar of every page.
    trained = train_tiny(new_app())
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.session_state["job_slot"] = trained.session_state["job_slot"]
    at.run()
    sidebar = "\n".join(m.value for m in at.sidebar.markdown)
    assert ":green-badge[finished]" in sidebar
    assert "Epoch 3 / 3" in at.sidebar.get("progress")[0].proto.text
    captions = "\n".join(c.value for c in at.sidebar.caption)
    assert "**Data:**" in captions and "**Devices:**" in captions
    release(trained)


def test_the_sidebar_says_when_there_is_no_run():
    at = new_app()
    assert ":gray-badge[no run yet]" in "\n".join(m.value for m in at.sidebar.markdown)


def test_the_end_of_the_session_stops_its_job():
    # What the server does when a session disconnects: clear its session-scoped
    # caches, which calls their release hooks. (Every AppTest uses one session id.)
    clear_session_resource_cache(SESSION_ID)
    at = new_app()
    use_tiny_data(at)
    use_tiny_settings(at, epochs=10_000)
    at.button(key="train_start").click().run()
    running = job(at)
    assert running.status in ("queued", "running")
    clear_session_resource_cache(SESSION_ID)
    assert running.join(30) and running.status == "stopped"
    assert job(at) is running  # kept, stopped: a reconnecting browser can resume it
    assert running.resume()
    running.stop()
    assert running.join(30)
