"""Sweep: train a grid of one or two settings x seeds in the background, read as a heatmap."""

import streamlit as st

from gru_app import layout, present, state, sweeps
from gru_core import figures
from gru_core.config import ConfigError
from gru_core.i18n import t
from gru_core.sweep import MAX_SEEDS, SweepError
from gru_core.sweep_runs import Sweep, sweepable
from gru_core.tasks import primary, task_class
from gru_core.views import sweep as views

st.title(t("page.sweep"))
st.caption(t("sweep.intro"))
store, ws = state.store(), state.workspace()
names = list(sweepable())
workers = sweeps.workers()

settings_area, results_area = layout.columns(
    [4, 8], key="sweep_top", min_width="16rem", gap="large"
)
with settings_area:
    plan, problem = None, None
    try:
        model_cfg, train_cfg = state.chosen_configs()
    except ConfigError as exc:
        problem = t("sweep.bad_settings", error=exc)
        model_cfg = train_cfg = None

    ss = st.session_state
    ss.setdefault("sweep_setting_1", "hidden")
    ss.setdefault("sweep_setting_2", "lr")
    if ss["sweep_setting_2"] == ss["sweep_setting_1"]:
        ss["sweep_setting_2"] = next(n for n in names if n != ss["sweep_setting_1"])

    def values_box(slot: str) -> tuple[str, list] | None:
        """A setting to vary and its values; None (and the reason shown) when they are bad."""
        options = names if slot == "1" else [n for n in names if n != ss["sweep_setting_1"]]
        label = t("sweep.setting") if slot == "1" else t("sweep.setting2")
        name = st.selectbox(
            label,
            options,
            key=state.translated(f"sweep_setting_{slot}"),
            format_func=views.setting_label,
            persist_state="session",  # the sweep's settings outlive a visit to another page
        )
        s = sweepable()[name]
        if s.choices:
            key = f"sweep_choices_{name}"
            return name, st.multiselect(
                t("sweep.values"),
                s.choices,
                default=list(s.choices),
                key=key,
                persist_state="session",
            )
        key = f"sweep_values_{name}"
        base = views.base_value(name, model_cfg, train_cfg) if model_cfg else ""
        ss.setdefault(key, views.default_values(name, base))
        text = st.text_input(
            t("sweep.values"),
            key=key,
            help=t("sweep.values.help", help=s.help),
            persist_state="session",
        )
        try:
            return name, views.parse_values(name, text)
        except SweepError as exc:
            st.error(str(exc))
            return None

    with st.container(border=True):
        chosen = [values_box("1")]
        if st.toggle(t("sweep.two"), value=True, key="sweep_two", persist_state="session"):
            chosen.append(values_box("2"))
        seeds = st.slider(
            t("sweep.seeds"), 1, MAX_SEEDS, 3, key="sweep_seeds", persist_state="session"
        )
    if problem is None and all(chosen):
        try:
            plan = Sweep(
                state.dataset(),
                model_cfg,
                train_cfg,
                dict(chosen),
                seeds,
                state.task(),  # the Data page's task, with its options
                dict(state.options()),
                max_runs=views.MAX_PAGE_RUNS,
            )
            plan.check_size(workers)
        except (SweepError, ConfigError) as exc:
            problem, plan = str(exc), None
    if problem:
        st.error(problem)
    elif plan is not None:
        st.info(views.summary(plan, workers))
    running_here = sweeps.busy()
    st.button(
        t("sweep.start"),
        key="sweep_start",
        type="primary",
        icon=":material/play_arrow:",
        disabled=plan is None or running_here,
        on_click=sweeps.start,
        args=(plan,),
        width="stretch",
        help=t("sweep.start.help"),
    )
    if ss.get(sweeps.ERROR_KEY):
        st.error(ss[sweeps.ERROR_KEY])
    if running_here:
        st.caption(t("sweep.busy"))

shown_ids = views.sweep_ids(store.runs(ws))
with results_area:
    if not shown_ids:
        st.info(t("sweep.none"))
        st.stop()
    shown = st.session_state.get(sweeps.SHOWN_KEY)
    if shown not in shown_ids:
        shown = shown_ids[0]
    if len(shown_ids) > 1:
        shown = st.selectbox(
            t("page.sweep"), shown_ids, index=shown_ids.index(shown), key="sweep_pick"
        )
    st.session_state[sweeps.SHOWN_KEY] = shown

job = sweeps.job(shown)
live = job is not None and job.running


@st.fragment(run_every=state.POLL_SECONDS if live else None)
def results(sweep_id: str, was_live: bool) -> None:
    plan, runs = views.load(store.runs(ws), sweep_id)
    job = sweeps.job(sweep_id)
    running = job is not None and job.running
    fraction, text = views.progress(runs, workers, running)
    st.progress(fraction, text=text)
    left = views.not_done(runs)
    if running:
        st.button(
            t("sweep.cancel"),
            key="sweep_cancel",
            icon=":material/stop:",
            on_click=sweeps.cancel,
            args=(sweep_id,),
            help=t("sweep.cancel.help"),
        )
    elif left:
        st.warning(t("sweep.interrupted", left=len(left), runs=len(runs)))
        st.button(
            t("sweep.continue"),
            key="sweep_continue",
            icon=":material/resume:",
            on_click=sweeps.start,
            args=(plan, sweep_id),
            disabled=sweeps.busy(),
            help=t("sweep.continue.help"),
        )
    if job is not None and job.error:
        st.error(job.error)
    models = [m.name for m in plan.spec(plan.runs[0], validate=False).models]
    metric = primary(task_class(plan.task))
    model = st.radio(
        t("sweep.model"),
        models,
        horizontal=True,
        key="sweep_model",
        format_func=figures.model_label,
    )
    grid = views.heatmap(plan, runs, model, metric.name)
    event = present.plotly_chart(
        st,
        figures.sweep_heatmap_figure(
            grid.rows,
            grid.columns,
            grid.mean,
            grid.std,
            grid.seeds,
            grid.row_name,
            grid.column_name,
            t("sweep.best", metric=metric.label),
        ),
        key="sweep_heatmap",
        width="stretch",
        config={"staticPlot": running},
        on_select="rerun",
        selection_mode=("points",),
    )
    cells = views.cells(plan)
    labels = views.cell_labels(plan)
    if st.session_state.get("sweep_cell") not in labels:  # not in this sweep: its first
        st.session_state["sweep_cell"] = labels[0]
    sweeps.pick_clicked_cell(views.clicked_cell(plan, event.selection.points), labels)
    st.caption(t("sweep.heatmap.caption", metric=metric.label))
    failed = [r for r in runs if r.status in ("failed", "diverged")]
    for r in failed[:3]:
        st.error(f"{r.key}: {r.message}")
    cell = labels.index(
        st.selectbox(t("sweep.cell"), labels, key="sweep_cell", help=t("sweep.cell.help"))
    )
    mine = [r for r in views.cell_runs(runs, cells[cell]) if r.status == "finished"]
    histories = [store.history(ws, r.run_id) for r in mine]
    curves = views.band_curves(metric)
    column = st.segmented_control(
        t("sweep.band.curves"),
        list(curves),
        format_func=curves.get,
        key=state.translated("sweep_band_curves"),
        default="train_loss",
        required=True,
        persist_state="session",
    )
    bands = {m: views.band(histories, f"{m}_{column}") for m in models}
    present.plotly_chart(
        st,
        figures.band_figure(bands, y_title=curves[column]),
        key="sweep_band",
        width="stretch",
        config={"staticPlot": running},
    )
    st.caption(t("sweep.band.caption", n=len(mine), curves=curves[column]))
    open_col, csv_col = layout.columns(2, key="sweep_actions", min_width="16rem")
    if open_col.button(
        t("sweep.open"),
        key="sweep_open",
        disabled=not mine,
        icon=":material/list:",
        width="stretch",
    ):
        filter_text = views.cell_filter(cells[cell])
        sweeps.open_on_runs_page(sweep_id, [r.run_id for r in mine], filter_text)
    csv_col.download_button(
        t("sweep.csv"),
        views.csv_text(plan, runs),
        file_name=f"sweep-{sweep_id}.csv",
        mime="text/csv",
        key="sweep_csv",
        icon=":material/download:",
        width="stretch",
    )
    if was_live and not running:
        st.rerun()  # the sweep ended: redraw the page once, stop polling


with results_area:
    results(shown, live)
