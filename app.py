"""GRU Lab: the Streamlit entry point. Navigation, one-time setup and the shared sidebar.

Run with `streamlit run app.py`. Each page is a thin file in app_pages/; the session's
data and training job are reached through `gru_app.state`, the numerics through `gru_core`.
"""

import time

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from gru_core import fork_server, i18n

# First of all, the fork server training processes start from: it imports torch in a process
# of its own while this one imports it for the pages, so a first Start finds it ready.
fork_server.warm()

# Then the engine (torch and the training code) in a thread: the first page is drawn without
# it, and the app reruns itself whole once it is in (gru_app.loading).
from gru_app import layout, loading, present  # noqa: E402

loading.start()

st.set_page_config(page_title="GRU Lab", page_icon="📈", layout="wide")

# The language first, before any text is made: the switch's value, else the URL's ?lang=
# (a code: en, zh), else the browser's language. The switch itself is drawn at the foot of the
# sidebar and writes its code to the URL, so a link or a reload keeps the choice.
LANGUAGE_KEY = "lang"
SHOWN_LANGUAGE_KEY = "lang_shown"  # the language this session speaks, for its fragments
URL_LANGUAGE = st.query_params.get(LANGUAGE_KEY)
LANGUAGE = (
    st.session_state.get(LANGUAGE_KEY)
    or (URL_LANGUAGE if URL_LANGUAGE in i18n.LANGUAGES else None)
    or i18n.pick_language(st.context.locale)
)
i18n.set_language(LANGUAGE)
st.session_state[SHOWN_LANGUAGE_KEY] = LANGUAGE


def _session_language() -> str | None:
    """The language of the session whose script runs in this thread (None outside one)."""
    if get_script_run_ctx(suppress_warning=True) is None:
        return None
    return st.session_state.get(SHOWN_LANGUAGE_KEY)


i18n.follow(_session_language)  # fragments redraw in threads of their own


def _language_changed() -> None:
    from gru_app.state import relabel_choices  # may run before this script's imports below

    st.query_params[LANGUAGE_KEY] = st.session_state[LANGUAGE_KEY]
    relabel_choices()


def settings_foot() -> None:
    """The sidebar's foot: the language and presenter switches."""
    st.selectbox(
        "Language · 语言",  # readable whichever language is on
        list(i18n.LANGUAGES),
        index=list(i18n.LANGUAGES).index(LANGUAGE),
        format_func=i18n.LANGUAGES.get,
        key=LANGUAGE_KEY,
        on_change=_language_changed,  # the code, not the shown name, as bind= would write
        help=i18n.t("app.language.help"),
    )
    present.switch()


PAGES = [
    st.Page(
        "app_pages/overview.py", title=i18n.t("page.overview"), icon=":material/home:", default=True
    ),
    st.Page("app_pages/data.py", title=i18n.t("page.data"), icon=":material/dataset:"),
    st.Page("app_pages/train.py", title=i18n.t("page.train"), icon=":material/model_training:"),
    st.Page("app_pages/gates.py", title=i18n.t("page.gates"), icon=":material/tune:"),
    st.Page("app_pages/memory.py", title=i18n.t("page.memory"), icon=":material/memory:"),
    st.Page("app_pages/rollouts.py", title=i18n.t("page.rollouts"), icon=":material/timeline:"),
    st.Page("app_pages/results.py", title=i18n.t("page.results"), icon=":material/insights:"),
    st.Page("app_pages/runs.py", title=i18n.t("page.runs"), icon=":material/table_rows:"),
    st.Page("app_pages/sweep.py", title=i18n.t("page.sweep"), icon=":material/grid_on:"),
    st.Page("app_pages/lessons.py", title=i18n.t("lessons.nav"), icon=":material/school:"),
]
layout.apply()
present.start()

if not loading.ready():  # a fresh server's first page: drawn now, the whole app once loaded
    page = st.navigation(PAGES)
    loading.draw(page, is_overview=page.url_path == PAGES[0].url_path)
    with st.sidebar:
        st.divider()
        settings_foot()
    if loading.wait(loading.LONGEST):  # drawn: now wait for the engine, then the whole app
        st.rerun()
    st.stop()

from gru_app import lessons, live, render, share, state  # noqa: E402
from gru_core.views import data as data_views  # noqa: E402
from gru_core.views import status  # noqa: E402

state.workspace()
share.notice_bad_params()  # before the widgets drop them from the URL
state.init()
lessons.open_from_link()
if loading.take_click():  # "Train with defaults", clicked while the engine loaded
    state.ask_train_with_defaults()
if "workspace_notice" in st.session_state and "workspace_notice_shown" not in st.session_state:
    st.session_state["workspace_notice_shown"] = True
    st.toast(st.session_state["workspace_notice"], icon=":material/info:")

page = st.navigation(PAGES)

running = state.is_running()


def run_status(was_running: bool) -> None:
    """The run's status on every page; redraws while it trains, reruns the app when it ends."""
    snap = state.snapshot()
    st.markdown(f"**{i18n.t('app.current_run')}**")
    render.status_block(snap, summary=True)
    if was_running and (snap is None or not snap.running):
        st.rerun()  # the run ended: redraw every page once with its final state, stop polling


def live_status(polling: float | None) -> None:
    """The run's status beside the Train page's live view, at its pace and epoch."""
    snap = live.paced(time.monotonic())
    st.markdown(f"**{i18n.t('app.current_run')}**")
    render.status_block(snap, summary=True)
    live.repoll(snap, polling)  # the run ended, or its polls change pace: rerun the app


with st.sidebar:
    if page.url_path == live.PAGE:
        polling = live.decide_poll()  # for the Train page's views too
        st.fragment(live_status, run_every=polling)(polling)
    else:
        st.fragment(run_status, run_every=state.SLOW_POLL_SECONDS if running else None)(running)
    st.divider()
    data_line = st.empty()
    share.copy_link_button()
    st.caption(i18n.t("app.devices", devices=status.device_summary()))
    settings_foot()


def show_data() -> None:
    data_line.caption(i18n.t("app.data", data=data_views.shown_label(state.dataset())))


show_data()
state.save_workspace()  # the widget changes this rerun brings
page.run()
show_data()  # again: the page may have just changed the data (a page that stops skips this)
state.save_workspace()  # and the data the page may have just made
