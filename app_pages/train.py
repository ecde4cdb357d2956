"""Train: choose the models and settings, then train them side by side and watch them learn."""

import time

import streamlit as st

from gru_app import layout, live, render, replay, state, widgets
from gru_core.config import DEFAULT_PRESETS, PRESETS, ConfigError
from gru_core.i18n import t
from gru_core.views import data as data_views
from gru_core.views import tasks as task_views
from gru_core.views import train as train_views

COLUMNS = {  # parameter_table's columns -> their headers' keys
    "model": "train.col.model",
    "hidden size": "train.col.hidden",
    "layers": "train.col.layers",
    "parameters": "train.col.parameters",
}

st.title(t("page.train"))
snap = state.snapshot()
polling = live.poll()  # as app.py decided it for the sidebar: all poll alike, or none
running = polling is not None

settings, live_area = layout.columns([5, 7], key="train_top", min_width="28rem", gap="large")
with settings:
    state.remember_preset()
    names = [name for name, p in PRESETS.items() if p.task == state.task()]
    st.selectbox(
        t("train.preset"),
        names,
        index=names.index(DEFAULT_PRESETS[state.task()]),
        key=state.PRESET_KEY,
        on_change=state.switch_preset,
        **widgets.BOUND,
        help=t("train.preset.help"),
    )
    preset = PRESETS[st.session_state[state.PRESET_KEY]]
    st.caption(
        t(
            "train.preset.caption",
            task=task_views.TASK_LABELS[state.task()],
            description=preset.description,
        )
    )
    render.undo("preset")
    if state.task() == "forecast" and state.data_differs_from_preset():
        st.button(
            t("train.preset_data"),
            key="train_preset_data",
            icon=":material/dataset:",
            on_click=state.use_data_config,
            args=(preset.data,),
            help=t(
                "train.preset_data.help",
                data=data_views.sine_label(preset.data),
                share=f"{preset.data.train_fraction:g}",
            ),
        )
    with st.container(border=True):
        widgets.setting(st, "models")
        left, right = layout.columns(2, key="train_main_settings", min_width="11rem")
        for name in ("hidden", "seq_len", "lr", "epochs"):
            widgets.setting(left, name)
        for name in ("mode", "batch", "mlp_hidden", "mlp_window"):
            widgets.setting(right, name)
    with st.expander(t("train.more")):
        left, right = layout.columns(2, key="train_more_settings", min_width="11rem")
        for name in ("seed", "layers", "dropout", "eval_every", "clip", "eval_warmup"):
            widgets.setting(left, name)
        for name in ("device", "kernel", "chunking", "eval_state", "schedule", "seeding"):
            widgets.setting(right, name)
        widgets.setting(right, "slow_motion")
        for name in ("match_params", "standardize"):  # whole lines: long labels
            widgets.setting(st, name)

    problem = None
    try:
        chosen = state.chosen_spec()
    except ConfigError as exc:
        problem = str(exc)
        st.error(problem)
    if problem is None:
        matched = (
            t("train.models.matched")
            if chosen.models and (st.session_state[state.TRAIN_KEYS["match_params"]])
            else ""
        )
        st.caption(t("train.models.caption", matched=matched))
        table = train_views.parameter_table(chosen).rename(columns=lambda c: t(COLUMNS[c]))
        st.dataframe(table, hide_index=True, key="train_parameters")
    if running:
        changes = [] if problem else train_views.setting_changes(snap.spec, chosen)
        note = t("train.changed", changes=", ".join(changes)) if changes else ""
        st.info(t("train.running_note", note=note))

can_resume = snap is not None and snap.can_resume
with live_area:
    start, stop, resume, reset = layout.columns(4, key="train_buttons", min_width="7.5rem")
    start.button(
        t("train.start"),
        key="train_start",
        type="primary",
        icon=":material/play_arrow:",
        disabled=running or problem is not None,
        on_click=state.start_run,
        width="stretch",
        help=t("train.start.help"),
    )
    stop.button(
        t("train.stop"),
        key="train_stop",
        icon=":material/stop:",
        disabled=not running,
        on_click=state.stop_run,
        width="stretch",
        help=t("train.stop.help"),
    )
    resume.button(
        t("train.resume"),
        key="train_resume",
        icon=":material/resume:",
        disabled=not can_resume,
        on_click=state.resume_run,
        width="stretch",
        help=t("train.resume.help"),
    )
    reset.button(
        t("train.reset"),
        key="train_reset",
        icon=":material/restart_alt:",
        disabled=snap is None,
        on_click=state.reset_run,
        width="stretch",
        help=t("train.reset.help"),
    )
    render.undo("reset")
    if st.session_state.get("run_error"):
        st.error(st.session_state["run_error"])
    if problem is None and not running and (note := live.duration_note(chosen)):
        st.caption(note)


# The sidebar's status, the progress, the chart and the cards show the same epoch: each of
# their fragments draws the snapshot `live.paced` gives for the current poll.
@st.fragment(run_every=polling)
def live_view(polling: float | None) -> None:
    snap = live.paced(time.monotonic())
    if snap is None:
        st.info(t("train.empty"))
        return
    render.status_block(snap)
    st.caption(state.run_caption(snap))
    live.draw_loss_chart(snap, marker_epoch=replay.chosen_epoch(snap))
    chart = task_views.chart(snap.spec.task)
    if chart.styles is None:
        st.caption(t("train.lines.forecast"))
    else:
        styles = list(chart.styles.values())[1:]
        lines = ", ".join(f"{t(f'train.dash.{dash}')}: {label}" for label, dash in styles)
        st.caption(t("train.lines.task", lines=lines.capitalize()))
    if polling is not None and not snap.running:
        st.rerun()  # the run ended: redraw the page once (its buttons), stop polling


@st.fragment(run_every=polling)
def live_cards() -> None:
    snap = live.paced(time.monotonic())
    if snap is not None:
        live.cards(snap)


with live_area:
    live_view(polling)
    replay.control(state.snapshot(), "train")
live_cards()  # below both columns
