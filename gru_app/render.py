"""Pieces several pages draw the same way: the run's status block, metric cards, the guard."""

from __future__ import annotations

import streamlit as st

from gru_app import layout, state
from gru_core.i18n import t
from gru_core.job import Snapshot
from gru_core.views import runs as runs_views
from gru_core.views import status
from gru_core.views import train as train_views


def badge(snap: Snapshot | None) -> None:
    label, color = status.status_badge(snap)
    st.badge(label, color=color)


def progress(snap: Snapshot) -> None:
    done, text = status.progress(snap)
    st.progress(done, text=text)


def status_block(snap: Snapshot | None, summary: bool = False) -> None:
    """The run's badge, progress and, where it says more, its status line; for every page.

    `summary` adds each model's latest test error (the sidebar's short form).
    """
    badge(snap)
    if snap is None:
        st.caption(status.status_line(None))
        return
    progress(snap)
    if snap.status not in ("running", "finished"):  # the progress text says the rest
        training, cap = state.server_load()
        line = status.status_line(snap, training, cap)
        if snap.status in ("diverged", "failed"):
            st.error(line)
        elif snap.status == "queued" and not summary:
            st.info(line)
        else:
            st.caption(line)
    if summary:
        st.caption(status.primary_summary(snap))


CARD_REM = 11  # a metric card's least width, in rem (columns stand 1 rem apart)


def metric_cards(snap: Snapshot, per_row: int = 4, cards: list | None = None) -> None:
    cards = train_views.metric_cards(snap) if cards is None else cards
    # An even row of four or more is two halves: where it does not fit, it wraps into two
    # rows of halves (two by two, never three and a lone card stretched across the page).
    sizes = [per_row // 2] * 2 if per_row >= 4 and per_row % 2 == 0 else [per_row]
    for i in range(0, len(cards), per_row):
        row = cards[i : i + per_row]
        half = f"{sizes[0] * (CARD_REM + 1) - 1}rem" if len(sizes) == 2 else "100%"
        halves = layout.columns(len(sizes), key=f"metric_cards_{i}", min_width=half)
        for h, (side, size) in enumerate(zip(halves, sizes, strict=True)):
            with side:
                columns = layout.columns(
                    size, key=f"metric_cards_{i}_{h}", min_width=f"{CARD_REM}rem"
                )
            for column, card in zip(columns, row[h * sizes[0] :][:size], strict=False):
                column.metric(card.label, card.value, help=card.help, border=True)


def need_run() -> Snapshot:
    """The chosen run's snapshot with trained weights; otherwise say where to start and stop.

    A picker above offers the workspace's runs (default: the session's run, the latest).
    """
    run_picker()
    snap = state.viewed_snapshot()
    if snap is None:
        st.info(t("render.no_run"))
        st.page_link(
            "app_pages/train.py", label=t("render.go_train"), icon=":material/model_training:"
        )
        st.stop()
    if snap.weights is None:
        st.info(t("render.starting" if snap.running else "render.no_weights"))
        st.stop()
    return snap


def need_forecast(snap: Snapshot) -> None:
    """Stop a forecast-only page for a run of another task, pointing to its Results page."""
    if snap.spec.task != "forecast":
        st.info(t("render.not_forecast", task=t(f"render.task.{snap.spec.task}")))
        st.page_link(
            "app_pages/results.py", label=t("render.go_results"), icon=":material/insights:"
        )
        st.stop()


def run_picker() -> None:
    """Choose the run a page shows: the session's run (the latest), or any saved one."""
    saved = state.runs()
    if not saved:
        return
    labels = runs_views.auto_labels(saved)
    names = {r.id: f"{runs_views.numbered(r, labels)} ({t(f'status.{r.status}')})" for r in saved}
    options = [state.LIVE, *reversed(names)]
    if st.session_state.get(state.VIEW_KEY) not in options:
        st.session_state[state.VIEW_KEY] = state.LIVE
    st.selectbox(
        t("render.run"),
        options,
        key=state.translated(state.VIEW_KEY),
        format_func=lambda r: t("render.run.latest") if r == state.LIVE else names[r],
        help=t("render.run.help"),
    )


def undo(area: str) -> None:
    """What the last click in `area` replaced, and an Undo button, while it can be undone."""
    offer = state.undo_offer(area)
    if offer is None:
        return
    st.caption(t(offer.text, **offer.values))
    st.button(
        t("undo.button"),
        key=f"{area}_undo",
        icon=":material/undo:",
        on_click=state.undo,
        args=(area,),
        help=t("undo.help"),
    )
