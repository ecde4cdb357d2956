"""AppTest: a link's settings open with the session, the bad ones named; Copy link's query."""

from apptest_utils import APP, go, release
from streamlit.testing.v1 import AppTest

from gru_core.config import PRESETS
from gru_core.i18n import t


def _open(**query) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=30)
    for name, value in query.items():
        at.query_params[name] = value
    return at.run()


def test_a_links_settings_and_preset_open_with_the_session():
    at = _open(preset="seed", hidden="4", points="300", data_seed="7", epochs="many")
    try:
        assert not at.exception
        assert [x.value for x in at.toast] == [t("share.ignored", params="epochs=many")]
        go(at, "train")
        seed = PRESETS["seed"]
        assert at.selectbox(key="preset").value == "seed"
        assert at.number_input(key="hidden").value == 4
        # what the link leaves out is the preset's; a bad value keeps it too
        assert at.number_input(key="seq_len").value == seed.train.seq_len
        assert at.number_input(key="epochs").value == seed.train.epochs
        assert at.session_state["points"] == 300 and at.session_state["data_seed"] == 7
        assert "300 points" in at.session_state["dataset"].label
    finally:
        release(at)


def test_copy_link_holds_what_differs_and_never_the_workspace():
    at = _open(hidden="5", data_seed="7")
    try:
        go(at, "train")
        at.number_input(key="epochs").set_value(9).run()
        bodies = [h.proto.body for h in at.get("html") if "gru-copy-link" in h.proto.body]
        assert len(bodies) == 1
        assert 'const query = "hidden=5&epochs=9&data_seed=7";' in bodies[0]
        assert at.session_state["workspace"] not in bodies[0]  # the private id stays out
        assert at.query_params["ws"] == at.session_state["workspace"]  # the address has it
    finally:
        release(at)


def test_a_workspace_saved_under_the_old_setting_names_keeps_its_settings():
    from gru_app import state

    ws = state.store().create_workspace()
    old = {"train_preset": "seed", "train_hidden": 6, "data_points": 400, "data_fraction": 0.7}
    state.store().save_settings(ws, {"widgets": old, "dataset": None})
    at = _open(ws=ws)
    try:
        assert at.session_state["workspace"] == ws
        assert at.session_state["preset"] == "seed" and at.session_state["hidden"] == 6
        assert at.session_state["points"] == 400 and at.session_state["train_fraction"] == 0.7
    finally:
        release(at)
