"""Results: what the current run's models do on its task (windows, classes or text)."""

import streamlit as st

from gru_app import layout, present, render, state
from gru_core import figures
from gru_core.i18n import t
from gru_core.views import tasks as task_views
from gru_core.views import windows as window_views

st.title(t("page.results"))
first = render.need_run()
running = first.running
view = task_views.results_view(first.spec.task)


def windows(snap) -> None:
    table = window_views.window_predictions(snap)
    st.subheader(t("results.scatter"))
    preds = {n: table[n].to_numpy() for n in snap.names}
    present.plotly_chart(
        st,
        figures.prediction_scatter(table["truth"].to_numpy(), preds),
        key="results_scatter",
        width="stretch",
    )
    st.subheader(t("results.samples"))
    s = window_views.sample_windows(snap)
    present.plotly_chart(
        st,
        figures.sample_windows_figure(s.windows, s.target_step, s.truth, s.predictions),
        key="results_windows",
        width="stretch",
    )
    if snap.spec.options.get("target") == "last":
        st.caption(t("results.copying"))


def classes(snap) -> None:
    results = window_views.class_results(snap)
    st.subheader(t("results.confusion"))
    for column, name in zip(
        layout.columns(len(snap.names), key="results_confusion", min_width="18rem"),
        snap.names,
        strict=True,
    ):
        title = t(
            "results.accuracy", model=snap.label(name), accuracy=f"{results.accuracy(name):.1%}"
        )
        present.plotly_chart(
            column,
            figures.confusion_figure(results.matrices[name], results.class_names, title),
            key=f"results_confusion_{name}",
            width="stretch",
        )
    st.caption(t("results.confusion.caption"))


def samples(snap) -> None:
    st.subheader(t("results.text_samples"))
    rows = task_views.samples(snap.history, snap.names)
    if not rows:
        st.info(t("results.no_samples"))
    for row in rows:
        st.markdown(f"**{t('status.progress.epoch_n', epoch=row['epoch'])}**")
        for name in snap.names:
            st.text(f"{snap.label(name)}: {row[name]}")


VIEWS = {"windows": windows, "classes": classes, "samples": samples}


@st.fragment(run_every=state.SLOW_POLL_SECONDS if running else None)
def results() -> None:
    snap = state.viewed_snapshot()
    st.caption(state.run_caption(snap))
    if view == "rollouts":
        st.info(t("results.forecast"))
        st.page_link(
            "app_pages/rollouts.py", label=t("results.go_rollouts"), icon=":material/timeline:"
        )
        return
    render.metric_cards(snap)
    VIEWS[view](snap)


results()
