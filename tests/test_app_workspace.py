"""The session's workspace: its id lives in the URL and names a workspace of the store."""

from streamlit.testing.v1 import AppTest

from gru_core.store import Store, is_workspace_id
from tests.apptest_utils import APP, new_app


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
