"""Presenter mode: the app drawn for a projector, a toggle in the sidebar or `?present=1`.

One place decides it and says how: `presenting()` is the accessor pages consult,
`plotly_chart` (and `chart`) draw a figure in the presenter look (`figures.PRESENTER`:
larger fonts, lines twice as thick, black ink), and `start` (once per rerun, from app.py)
adds the page rules below, collapses the sidebar and keeps `?present=1` in the URL while
it is on, so a link or a bookmark opens the app presenting. Nothing here draws a page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from gru_core.i18n import t

if TYPE_CHECKING:  # Plotly is imported where a chart is drawn: the first page needs none
    import plotly.graph_objects as go

KEY = "present"  # session state and URL parameter
ON = ("1", "true", "on", "yes")

# Large type (23 px body text, captions and labels 20 px), near-black ink on white, grey text made
# dark, the toolbars gone but for the sidebar's button; on Train and Data the chart comes
# first, full width, and the settings follow below it.
CSS = """
html { font-size: 23px !important; }
[data-testid='stCaptionContainer'], [data-testid='stCaptionContainer'] * {
  color: #1A1A1A !important; }
[data-testid='stToolbarActions'], [data-testid='stMainMenu'], [data-testid='stAppDeployButton'],
[data-testid='stDecoration'], .modebar-container { display: none !important; }
.st-key-cols_train_top > * > [data-testid='stHorizontalBlock'] > [data-testid='stColumn'] {
  min-width: 100% !important; }
.st-key-cols_train_top > * > [data-testid='stHorizontalBlock'] > :last-child { order: -1; }
.stMainBlockContainer > [data-testid='stVerticalBlock'] > :first-child { order: -2; }
.stMainBlockContainer > [data-testid='stVerticalBlock'] > .st-key-data_series { order: -1; }
"""


def presenting() -> bool:
    """Whether this session presents (large type, bold charts, settings tucked away)."""
    return bool(st.session_state.get(KEY))


def start() -> None:
    """Once per rerun, before the page: take `?present=` on a session's first run, keep the
    URL in step, and when presenting add the page rules and collapse the sidebar."""
    if KEY not in st.session_state:
        st.session_state[KEY] = str(st.query_params.get(KEY, "")).lower() in ON
    if presenting():
        st.query_params[KEY] = "1"
        st.html(f"<style>{CSS}</style>")
    elif KEY in st.query_params:
        del st.query_params[KEY]
    st.set_page_config(initial_sidebar_state="collapsed" if presenting() else "auto")


def switch() -> None:
    """The presenter-mode toggle, in the sidebar."""
    st.sidebar.toggle(t("present.toggle"), key=KEY, help=t("present.help"), persist_state="session")


def chart(fig: go.Figure) -> go.Figure:
    """`fig` in the presenter look when presenting, else unchanged."""
    from gru_core import figures

    return figures.restyle(fig, figures.PRESENTER) if presenting() else fig


def plotly_chart(where, fig: go.Figure, **kwargs):
    """`where.plotly_chart(fig, **kwargs)` (`where`: st, a column, ...), `fig` in the look of
    the mode: every page draws its Plotly charts through this. Presenting, Streamlit's own
    chart theme (grey tick labels) is left out so the figure's black ink shows."""
    if presenting():
        kwargs.setdefault("theme", None)
    return where.plotly_chart(chart(fig), **kwargs)  # the selection event, where one is asked
