"""The first page of a fresh server, drawn while the engine loads.

A server runs no script until its first visitor comes; that first script run used to import
the engine (torch, pandas, Plotly and the training code: several seconds) before it drew
anything. Now `start` imports the engine in a thread of its own and, until it is in, `draw`
puts up the page without it: the navigation, and on the Overview its prose, equations and
one-click button. A timer reruns the page into the full app the moment the engine is in; a
click on the button meanwhile waits for it, then starts the run as usual. Nothing here
imports torch (tests/test_loading.py holds it to that).
"""

from __future__ import annotations

import importlib
import sys
import threading

import streamlit as st

from gru_app import overview
from gru_core.i18n import t

# What the app's pages import, heaviest first: once these are in, no page waits on an import.
ENGINE = (
    "torch",
    "gru_core.process_job",
    "gru_app.state",
    "gru_app.render",
    "gru_app.live",
    "gru_app.share",
    "gru_app.lessons",
    "gru_core.figures",
    "gru_core.views.data",
    "gru_core.views.status",
    "gru_core.views.train",
)
POLL_SECONDS = 0.2
CLICKED_KEY = "loading_clicked"  # its button was clicked: the full app starts the run
KEY = "app_loading"  # the loading page's marker, for the browser tests and benchmarks

_loaded = threading.Event()
_lock = threading.Lock()
_thread: threading.Thread | None = None


def _load() -> None:
    try:
        for name in ENGINE:
            importlib.import_module(name)
    except BaseException:  # noqa: BLE001, S110  app.py imports it again and shows the error
        pass
    finally:
        _loaded.set()


def start() -> None:
    """Import the engine in the background, once per process (at once if it is in already)."""
    global _thread
    with _lock:
        if _thread is not None or _loaded.is_set():
            return
        if all(name in sys.modules for name in ENGINE):
            _loaded.set()
            return
        _thread = threading.Thread(target=_load, name="gru-lab-engine", daemon=True)
        _thread.start()


def ready() -> bool:
    return _loaded.is_set()


def wait(timeout: float | None = None) -> bool:
    """Block until the engine is in (True), or `timeout` seconds have passed (False)."""
    return _loaded.wait(timeout)


def _train_with_defaults() -> None:
    """The loading page's one-click button: wait for the engine; the full app then does what
    the Overview's button does (`take_click`), once the session's settings are set up."""
    wait()
    st.session_state[CLICKED_KEY] = True


def take_click() -> bool:
    """Whether the loading page's button was clicked (once: it is forgotten here)."""
    return bool(st.session_state.pop(CLICKED_KEY, False))


def _chart_space() -> None:
    st.container(height=overview.CHART_HEIGHT, border=False)


def draw(page: st.Page, is_overview: bool) -> None:
    """The page without the engine: the Overview's text and button, or `page`'s title; then
    a timer that reruns the app once the engine is in."""
    with st.sidebar:
        st.markdown(f"**{t('app.current_run')}**")
        st.caption(t("loading.engine"))
    with st.container(key=KEY):
        if is_overview:
            start_column, run_column = overview.top()
            with start_column:
                overview.train_button(_train_with_defaults)
            with run_column:
                st.subheader(t("app.current_run"))
                st.caption(t("loading.engine"))
            overview.lesson(_chart_space)
        else:
            st.title(page.title)
            st.caption(t("loading.engine"))
    _until_loaded()


@st.fragment(run_every=POLL_SECONDS)
def _until_loaded() -> None:
    if ready():
        st.rerun()
