"""Layouts that hold from 1024x768 to 1920x1080, sidebar open or closed.

Streamlit stacks columns only on a phone-sized screen (below 640 px), whatever room each
column is left with: at 1024 px with the sidebar open, four buttons in a row shrank to one
letter each and labels broke mid-word. `columns` gives each column a least width instead,
so a row wraps onto the next line when its columns would get narrower than that. `apply`
adds the page-wide rules (narrower side margins on small screens, words never split).
"""

from __future__ import annotations

import streamlit as st

# Side margins that grow with the window (Streamlit's own are 5rem at any width), and labels
# that wrap between words only: a word too long for its box shows as overflowing, which the
# browser tests catch, instead of silently breaking mid-word ("Trainin g mode").
PAGE_CSS = """
.stMainBlockContainer { padding-left: clamp(1rem, 3vw, 5rem);
                        padding-right: clamp(1rem, 3vw, 5rem); }
[data-testid='stWidgetLabel'] p, [data-testid='stMetricLabel'] p, button p, label p {
  word-break: normal; overflow-wrap: normal; hyphens: none; }
"""


def apply() -> None:
    """Add the page-wide layout rules; call once per rerun, before the page is drawn."""
    st.html(f"<style>{PAGE_CSS}</style>")


def columns(spec: int | list[float], *, key: str, min_width: str = "14rem", **kwargs) -> list:
    """`st.columns(spec, **kwargs)` whose columns wrap onto new lines below `min_width` each.

    A column that wraps takes the whole line (a [5, 7] pair stacks into two full-width rows).
    `key` names the row (its container gets the class `st-key-cols_<key>`, for CSS).
    """
    name = f"cols_{key}"
    st.html(
        f"<style>.st-key-{name} > * > [data-testid='stHorizontalBlock'] > "
        f"[data-testid='stColumn'] {{ min-width: min({min_width}, 100%); }}</style>"
    )
    with st.container(key=name):
        return st.columns(spec, **kwargs)
