"""The session's workspace: its id lives in the URL and names a workspace of the store."""

from streamlit.testing.v1 import AppTest

from gru_app.state import restored_options
from gru_core.store import Store, is_workspace_id
from tests.apptest_utils import APP, go, new_app


def _open(ws: str | None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=30)
    if ws is not None:
        at.query_params["ws"] = ws
    return at.run()


def test_a_link_without_a_workspace_gets_a_new_one_in_the_url():
    at = new_app()
    ws = at.query_params["ws"]
    assert is_workspace_id(ws) and at.session_state["workspace"] == ws
    assert Store().workspace_exists(ws)  # the same GRU_LAB_HOME the app uses
    assert new_app().query_params["ws"] != ws  # another link, another workspace


def test_a_link_with_a_known_workspace_opens_that_workspace():
    ws = Store().create_workspace()
    at = _open(ws)
    assert at.session_state["workspace"] == ws and at.query_params["ws"] == ws
    assert "workspace_notice" not in at.session_state


def test_an_unknown_or_malformed_workspace_opens_a_new_one_and_says_so():
    for asked in ("A" * 32, "../../etc/passwd"):
        at = _open(asked)
        ws = at.session_state["workspace"]
        assert ws != asked and is_workspace_id(ws) and at.query_params["ws"] == ws
        assert "does not exist" in at.session_state["workspace_notice"]


def test_a_reload_keeps_the_task_and_every_tasks_data_settings():
    at = go(new_app(), "data")
    ws = at.query_params["ws"]
    at.selectbox(key="task").set_value("classify").run()
    at.radio(key="classify_label").set_value("frequency").run()
    at.number_input(key="classify_classes").set_value(5).run()
    at.selectbox(key="task").set_value("window").run()
    at.radio(key="window_target").set_value("last").run()
    at.number_input(key="window_steps").set_value(20).run()
    assert not at.exception

    again = go(_open(ws), "data")  # a new session on the same link: a reload
    assert not again.exception
    assert again.session_state["task"] == "window"
    assert again.radio(key="window_target").value == "last"
    assert again.number_input(key="window_steps").value == 20
    options = again.session_state["task_options"]
    assert options["classify"]["label"] == "frequency" and options["classify"]["classes"] == 5
    again.selectbox(key="task").set_value("classify").run()
    assert again.radio(key="classify_label").value == "frequency"
    assert again.number_input(key="classify_classes").value == 5
    assert new_app().session_state["task_options"]["window"] == {}  # other links: defaults


def test_saved_options_that_no_longer_fit_fall_back_to_the_defaults():
    restored = restored_options(
        {
            "window": {"steps": 1},  # below the range
            "classify": {"label": "frequency"},
            "text": {"corpus": "tang", "colour": "red"},  # an unknown option
            "nope": {"x": 1},
        }
    )
    assert restored == {
        "forecast": {},
        "window": {},
        "classify": {"label": "frequency"},
        "text": {"corpus": "tang"},
    }
    assert restored_options(None) == restored_options({})
