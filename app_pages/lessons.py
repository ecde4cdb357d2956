"""Lessons: guided scenarios, each opening an already-trained run and a page to look at."""

import streamlit as st

from gru_app import lessons as lesson_state
from gru_core import lessons
from gru_core.i18n import t

st.title(t("lessons.title"))
st.caption(t("lessons.intro"))
if st.session_state.get("lesson_error"):
    st.error(st.session_state["lesson_error"])

current = st.session_state.get("lesson_current")
for name, lesson in lessons.LESSONS.items():
    with st.container(border=True, key=f"lesson_{name}"):
        st.subheader(t(f"lesson.{name}.title"))
        st.markdown(t(f"lesson.{name}.story"))
        if name == current:
            run = st.session_state[lesson_state.OPENED_KEY][name]
            st.success(t("lessons.opened", run=run))
            st.page_link(
                f"app_pages/{lesson.page}.py",
                label=t(f"lesson.{name}.next"),
                icon=":material/arrow_forward:",
            )
        else:
            st.button(
                t("lessons.open"),
                key=f"lesson_open_{name}",
                icon=":material/school:",
                on_click=lesson_state.open_lesson,
                args=(name,),
            )
        st.caption(t("lessons.link", link=lesson_state.link(name)))
