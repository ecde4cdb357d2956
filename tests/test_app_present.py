"""AppTest: presenter mode comes from ?present=1, survives a page switch, restyles the charts,
and its sidebar toggle turns it off (the URL follows)."""

from apptest_utils import APP, chart, go, new_app
from streamlit.testing.v1 import AppTest


def _sine_width(at: AppTest) -> float:
    spec = chart(at, "overview_ambiguity")
    return next(t["line"]["width"] for t in spec["data"] if t.get("name") == "sin(t)")


def test_present_in_the_url_turns_presenter_mode_on_and_the_toggle_off():
    plain = _sine_width(new_app())

    at = AppTest.from_file(str(APP), default_timeout=30)
    at.query_params["present"] = "1"
    at.run()
    assert not at.exception
    assert at.toggle(key="present").value is True
    assert _sine_width(at) == 2 * plain  # the presenter look: lines twice as thick
    go(at, "data")
    go(at, "overview")
    assert at.toggle(key="present").value is True  # still on after a page switch
    assert at.query_params["present"] == "1"

    at.toggle(key="present").set_value(False).run()
    assert _sine_width(at) == plain
    assert "present" not in at.query_params
