"""Opening a lesson: its bundled run imported into the workspace, its settings applied.

A lesson opens from its button on the Lessons page or from a link (`?lesson=<name>`); the
run is imported once per session and lesson, then shown on every page like any other run.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

import streamlit as st

from gru_app import state
from gru_core import lessons
from gru_core import workspace as workspaces
from gru_core.bundle import BundleError
from gru_core.i18n import t
from gru_core.store import StoreError

LESSON_PARAM = "lesson"  # the URL's query parameter naming a lesson to open
OPENED_KEY = "lessons_opened"  # lesson name -> the run it imported, in this session


def open_lesson(name: str) -> None:
    """Import the lesson's run (once), load its settings and data, and show it."""
    ss = st.session_state
    opened = ss.setdefault(OPENED_KEY, {})
    chosen = lessons.lesson(name)
    ss.pop("lesson_error", None)
    if name not in opened or opened[name] not in {r.id for r in state.runs()}:
        try:
            run, _ = workspaces.import_bundle(
                state.store(), state.workspace(), chosen.bundle.read_bytes()
            )
        except (OSError, BundleError, StoreError) as exc:
            ss["lesson_error"] = t("lessons.error", name=name, error=str(exc))
            return
        opened[name] = run
    run = opened[name]
    ss[state.PRESET_KEY] = chosen.preset
    state.train_again(run)
    ss.pop("train_loaded", None)  # the lesson says where its settings come from
    ss[state.VIEW_KEY] = run
    if not state.is_running():  # an idle session shows the lesson's run as its own
        state.slot().clear()
        ss.pop("run_reset", None)
    ss["lesson_current"] = name


def link(name: str) -> str:
    """The address that opens lesson `name` (this page's address, no workspace id)."""
    here = urlsplit(st.context.url or "")
    return here._replace(query=urlencode({LESSON_PARAM: name}), fragment="").geturl()


def open_from_link() -> None:
    """Open the lesson the URL names (then drop it from the URL: a reload keeps the run)."""
    name = st.query_params.get(LESSON_PARAM)
    if name is None:
        return
    del st.query_params[LESSON_PARAM]
    if name in lessons.LESSONS:
        open_lesson(name)
    else:
        st.toast(t("lessons.unknown", name=name), icon=":material/link_off:")
