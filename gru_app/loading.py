"""The first page of a fresh server, drawn while the engine loads.

A server runs no script until its first visitor comes; that first script run used to import
the engine (torch, pandas, Plotly and the training code: several seconds) before it drew
anything. Now `start` imports the engine in a thread of its own, then warms it up
(`process_job.prepare_process`: torch's compiler stack, `gc.freeze`), and until it is in,
`draw` puts up the page without it: the navigation, and on the Overview its prose, equations
and one-click button. That script run then waits for the engine (`wait`) and reruns itself
into the whole app: no polling meanwhile, since every script run ends in a full garbage
collection that, over a heap filling up with torch, held the GIL for tenths of a second each
time. A click on the button meanwhile is kept and starts the run once the engine is in.
Nothing here imports torch (tests/test_loading.py holds it to that).
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import threading

import streamlit as st

from gru_app import overview
from gru_core.i18n import t

# What the whole app needs before it is drawn (the Train page and the sidebar), heaviest first.
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
# What the other pages import besides, imported once the engine is in (the whole app does not
# wait for them): the first visit of a page then waits on no import either.
PAGES = (
    "gru_app.replay",
    "gru_app.widgets",
    "gru_app.task_data",
    "gru_app.task_gates",
    "gru_app.sweeps",
    "gru_core.views.memory",
    "gru_core.views.windows",
)
LONGEST = 600.0  # seconds the loading page waits for the engine before it stops waiting
CLICKED_KEY = "loading_clicked"  # its button was clicked: the full app starts the run
KEY = "app_loading"  # the loading page's marker, for the browser tests and benchmarks

_loaded = threading.Event()
_lock = threading.Lock()
_thread: threading.Thread | None = None


def _load() -> None:
    try:
        for name in ENGINE:
            importlib.import_module(name)
        importlib.import_module("gru_core.process_job").prepare_process(threads=1)
    except BaseException:  # noqa: BLE001, S110  app.py imports it again and shows the error
        pass
    finally:
        _loaded.set()
    for name in PAGES:
        with contextlib.suppress(BaseException):  # the page imports it again, and says why
            importlib.import_module(name)


def start() -> None:
    """Import and warm the engine in the background, once per process (at once if it is in
    already: then only its warm-up, in a thread). The one place the process is prepared."""
    global _thread
    with _lock:
        if _thread is not None or _loaded.is_set():
            return
        if all(name in sys.modules for name in ENGINE):  # a process that has it (tests)
            importlib.import_module("gru_core.process_job").prepare_process(
                threads=1, background=True
            )
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
    """The loading page's one-click button: the whole app does what the Overview's button
    does (`take_click`), once the session's settings are set up."""
    st.session_state[CLICKED_KEY] = True


def take_click() -> bool:
    """Whether the loading page's button was clicked (once: it is forgotten here)."""
    return bool(st.session_state.pop(CLICKED_KEY, False))


def _chart_space() -> None:
    st.container(height=overview.CHART_HEIGHT, border=False)


def draw(page: st.Page, is_overview: bool) -> None:
    """The page without the engine: the Overview's text and button, or `page`'s title."""
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
