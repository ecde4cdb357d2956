"""GRU Lab: the Streamlit entry point. Navigation, one-time setup and the shared sidebar.

Run with `streamlit run app.py`. Each page is a thin file in app_pages/; the session's
data and training job are reached through `gru_app.state`, the numerics through `gru_core`.
"""

import streamlit as st

from gru_app import live, render, state
from gru_core import i18n, process_job
from gru_core.views import status

st.set_page_config(page_title="GRU Lab", page_icon="📈", layout="wide")

# The language first, before any text is made: the switch's value (kept in the URL as ?lang=),
# else the browser's language. The switch itself is drawn at the foot of the sidebar.
LANGUAGE_KEY = "lang"
BROWSER_LANGUAGE = i18n.pick_language(st.context.locale)
i18n.set_language(
    st.session_state.get(LANGUAGE_KEY)
    or (
        st.query_params.get(LANGUAGE_KEY)
        if st.query_params.get(LANGUAGE_KEY) in i18n.LANGUAGES
        else None
    )
    or BROWSER_LANGUAGE
)


@st.cache_resource(show_spinner=False)
def _prepare_process() -> bool:
    """Once per process: one torch thread, torch warmed up, start-up objects frozen."""
    process_job.prepare_process(threads=1)
    return True


_prepare_process()
state.workspace()
state.init()
if "workspace_notice" in st.session_state and "workspace_notice_shown" not in st.session_state:
    st.session_state["workspace_notice_shown"] = True
    st.toast(st.session_state["workspace_notice"], icon=":material/info:")

PAGES = [
    st.Page("app_pages/overview.py", title="Overview", icon=":material/home:", default=True),
    st.Page("app_pages/data.py", title="Data", icon=":material/dataset:"),
    st.Page("app_pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("app_pages/gates.py", title="Gates", icon=":material/tune:"),
    st.Page("app_pages/memory.py", title="Memory", icon=":material/memory:"),
    st.Page("app_pages/rollouts.py", title="Rollouts", icon=":material/timeline:"),
    st.Page("app_pages/results.py", title="Results", icon=":material/insights:"),
    st.Page("app_pages/runs.py", title="Runs", icon=":material/table_rows:"),
    st.Page("app_pages/sweep.py", title="Sweep", icon=":material/grid_on:"),
]
page = st.navigation(PAGES)

running = state.is_running()


@st.fragment(run_every=state.SLOW_POLL_SECONDS if running else None)
def run_status(was_running: bool) -> None:
    """The run's status on every page; redraws while it trains, reruns the app when it ends."""
    snap = state.snapshot()
    st.markdown("**Current run**")
    render.status_block(snap, summary=True)
    if was_running and (snap is None or not snap.running):
        st.rerun()  # the run ended: redraw every page once with its final state, stop polling


with st.sidebar:
    # Some pages draw the run's status here themselves, from the snapshot their view shows.
    st.session_state[live.STATUS_BOX] = st.container()
    if page.url_path not in live.SELF_DRAWN:
        with st.session_state[live.STATUS_BOX]:
            run_status(running)
    st.divider()
    data_line = st.empty()
    st.caption(f"**Devices:** {status.device_summary()}")
    st.selectbox(
        "Language · 语言",  # readable whichever language is on
        list(i18n.LANGUAGES),
        index=list(i18n.LANGUAGES).index(BROWSER_LANGUAGE),
        format_func=i18n.LANGUAGES.get,
        key=LANGUAGE_KEY,
        bind="query-params",
        help=i18n.t("app.language.help"),
    )


def show_data() -> None:
    data_line.caption(f"**Data:** {state.dataset().label}")


show_data()
state.save_workspace()  # the widget changes this rerun brings
page.run()
show_data()  # again: the page may have just changed the data (a page that stops skips this)
state.save_workspace()  # and the data the page may have just made
