"""AppTest: the Lessons page opens a lesson's bundled run, with its settings, and the link does."""

import pytest
from apptest_utils import APP, go, new_app, release, texts
from streamlit.testing.v1 import AppTest

from gru_app import lessons as lesson_state
from gru_app import state
from gru_core import lessons
from gru_core.i18n import t


@pytest.fixture
def at():
    app = new_app()
    yield app
    release(app)


def _runs(at) -> list:
    return state.store().runs(at.session_state["workspace"])


def test_opening_a_lesson_imports_its_run_and_loads_its_settings(at):
    go(at, "lessons")
    assert not at.exception
    assert len(at.button) >= len(lessons.LESSONS)
    assert _runs(at) == []
    at.button(key="lesson_open_update_gate").click().run()
    assert not at.exception
    runs = _runs(at)
    assert len(runs) == 1
    run = runs[0].id
    assert at.session_state[state.VIEW_KEY] == run
    assert at.session_state["hidden"] == 8 and at.session_state["models"] == ["gru"]
    assert t("lessons.opened", run=run) in [s.value for s in at.success]
    assert t("lesson.update_gate.next") in [link.label for link in at.get("page_link")]
    # opening it again shows the same run; it is not imported twice
    go(at, "train")
    assert at.number_input(key="hidden").value == 8
    assert f"Run #{run}" in texts(at)
    scrubber = at.select_slider(key="replay_scrubber")  # its replay came in the bundle
    epochs = [int(e) for e in scrubber.options]
    last = lessons.lesson("update_gate").spec().train.epochs
    assert epochs[0] == 0 and epochs[-1] == last
    assert len(epochs) == len(lessons.shipped_frames(dict.fromkeys(range(last + 1), {}), last))
    go(at, "lessons")
    at.button(key="lesson_open_rnn_forgets").click().run()
    assert len(_runs(at)) == 2
    assert at.session_state["models"] == ["gru", "rnn"]


def test_a_lesson_link_opens_it_and_a_bad_one_says_so():
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.query_params[lesson_state.LESSON_PARAM] = "mlp_sine"
    at.run()
    try:
        assert not at.exception
        runs = _runs(at)
        assert len(runs) == 1 and at.session_state[state.VIEW_KEY] == runs[0].id
        assert at.session_state["lesson_current"] == "mlp_sine"
    finally:
        release(at)
    bad = AppTest.from_file(str(APP), default_timeout=30)
    bad.query_params[lesson_state.LESSON_PARAM] = "nonsense"
    bad.run()
    try:
        assert not bad.exception
        assert [x.value for x in bad.toast] == [t("lessons.unknown", name="nonsense")]
        assert _runs(bad) == []
    finally:
        release(bad)
