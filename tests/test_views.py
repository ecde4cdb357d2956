"""gru_core.views: settings <-> configs, run status, gate traces, equations and forecasts."""

from __future__ import annotations

import dataclasses
import io
import threading

import numpy as np
import pandas as pd
import pytest
import torch

from gru_core import job as job_mod
from gru_core import process_job
from gru_core.config import PRESETS, ConfigError, DataConfig, ModelConfig, TrainConfig
from gru_core.data import DataError, make_sine
from gru_core.job import TrainingJob
from gru_core.spec import RunSpec, spec_for
from gru_core.views import data as data_views
from gru_core.views import gates as gate_views
from gru_core.views import overview as overview_views
from gru_core.views import rollouts as rollout_views
from gru_core.views import runs as runs_views
from gru_core.views import status as status_views
from gru_core.views import train as train_views


def _finished(
    points: int = 300, fraction: float = 0.8, epochs: int = 3, **train
) -> tuple[TrainingJob, object]:
    series = make_sine(DataConfig(points=points))
    model = ModelConfig(hidden_size=train.pop("hidden", 4), num_layers=train.pop("layers", 1))
    cfg = TrainConfig(**{"epochs": epochs, "seq_len": 10, "lr": 0.01, "device": "cpu", **train})
    job = TrainingJob(spec_for(series, fraction, model, cfg))
    job.start()
    assert job.join(60)
    snap = job.snapshot()
    assert snap.status == "finished", snap.message
    return job, snap


@pytest.fixture(scope="module")
def snap():
    return _finished()[1]


# -- data ---------------------------------------------------------------------------------------


def test_generated_dataset_is_make_sine_split_at_the_fraction():
    cfg = DataConfig(points=500, train_fraction=0.7)
    data = data_views.generated_dataset(cfg)
    np.testing.assert_array_equal(data.series, make_sine(cfg))
    assert data.n_train == 350 and data.source == "generated"
    assert "500 points" in data.label


def test_dataset_same_as_compares_values_and_split():
    data = data_views.generated_dataset(DataConfig(points=200))
    assert data.same_as(data.series.copy(), data.n_train)
    assert not data.same_as(data.series, data.n_train - 1)
    assert not data.same_as(data.series + 1e-9, data.n_train)
    assert data.with_fraction(0.5).n_train == 100


def test_uploaded_dataset_reads_the_chosen_column_and_raises_data_error():
    csv = "t,a,b\n" + "".join(f"{i},{np.sin(i / 5):.4f},{i % 7}\n" for i in range(100))
    data = data_views.uploaded_dataset(csv.encode(), "x.csv", "b", 0.8)
    assert data.series[:8].tolist() == [0, 1, 2, 3, 4, 5, 6, 0]
    assert data.source == "upload" and "column 'b'" in data.label
    with pytest.raises(DataError, match="no column named 'c'"):
        data_views.uploaded_dataset(csv.encode(), "x.csv", "c", 0.8)


def test_series_csv_round_trips_in_the_tutorial_format(tutorial_csv):
    assert data_views.series_csv(make_sine(DataConfig())) == tutorial_csv
    back = np.loadtxt(io.BytesIO(data_views.series_csv(np.array([0.5, -1.25]))))
    assert back.tolist() == [0.5, -1.25]


def test_data_stats_formats_sizes_and_statistics():
    stats = data_views.data_stats(data_views.generated_dataset(DataConfig(points=1000)))
    assert stats["points"] == "1,000" and stats["train points"] == "800"
    assert stats["test points"] == "200"
    assert set(stats) >= {"mean", "std", "min", "max"}


# -- settings -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(PRESETS))
def test_preset_settings_build_the_presets_own_configs(name):
    model, train = train_views.build_configs(train_views.preset_settings(name))
    assert model == PRESETS[name].model
    assert train == PRESETS[name].train


def test_build_configs_takes_fields_without_a_setting_from_the_base_preset():
    settings = train_views.preset_settings("seed")
    del settings["eval_every"]
    model, train = train_views.build_configs(settings, "fast")
    assert train.eval_every == PRESETS["fast"].train.eval_every
    assert train.chunking == "tutorial" and model == PRESETS["seed"].model


def test_build_configs_names_the_bad_setting():
    settings = train_views.preset_settings("fast")
    with pytest.raises(ConfigError, match="hidden_size"):
        train_views.build_configs({**settings, "hidden": 0})
    with pytest.raises(ConfigError, match="MLP layers"):
        train_views.build_configs({**settings, "mlp_hidden": "32, x"})
    with pytest.raises(ConfigError, match="mlp_hidden"):
        train_views.build_configs({**settings, "mlp_hidden": ""})


@pytest.mark.parametrize(
    "text, widths", [("32, 16", (32, 16)), ("8", (8,)), ("4;4", (4, 4)), ("64 32", (64, 32))]
)
def test_parse_widths(text, widths):
    assert train_views.parse_widths(text) == widths
    assert train_views.parse_widths(train_views.format_widths(widths)) == widths


def test_lr_options_are_sorted_log_spaced_and_include_extras():
    options = train_views.lr_options(4e-3, 5e-4)
    assert options == sorted(options)
    assert 4e-3 in options and 5e-4 in options and 1e-5 in options
    ratios = np.diff(np.log10(train_views.lr_options()))
    assert ratios.max() < 0.31  # no decade skipped
    assert train_views.format_lr(5e-4) == "5e-4" and train_views.format_lr(0.0025) == "2.5e-3"


def test_run_spec_rejects_sequences_longer_than_the_training_part():
    data = data_views.generated_dataset(DataConfig(points=100))
    model, train = ModelConfig(), TrainConfig(seq_len=200)
    with pytest.raises(ConfigError, match="seq_len"):
        train_views.run_spec(data, model, train)
    with pytest.raises(ConfigError):
        train_views.make_job(RunSpec.of(data, model, train))


def test_setting_changes_lists_what_differs():
    data = data_views.generated_dataset(DataConfig())
    a = RunSpec.of(data, ModelConfig(), TrainConfig())
    b = RunSpec.of(data, ModelConfig(hidden_size=32), TrainConfig(lr=1e-3))
    assert train_views.setting_changes(a, a) == []
    assert train_views.setting_changes(a, b) == ["lr 0.0005 → 0.001", "hidden_size 16 → 32"]
    other = data_views.generated_dataset(DataConfig(seed=1))
    c = RunSpec.of(other, ModelConfig(models=("gru",)), TrainConfig())
    assert train_views.setting_changes(a, c) == ["models gru, mlp → gru", "the data"]


# -- the job slot and status --------------------------------------------------------------------


def test_job_slot_replacing_or_releasing_stops_the_old_job():
    series = make_sine(DataConfig(points=300))
    slow = TrainConfig(epochs=10_000, seq_len=10, device="cpu")
    first = TrainingJob(spec_for(series, 0.8, ModelConfig(hidden_size=4), slow))
    second = TrainingJob(spec_for(series, 0.8, ModelConfig(hidden_size=4), slow))
    slot = job_mod.JobSlot()
    slot.replace(first)
    first.start()
    slot.replace(second)
    assert first.join(30) and first.status == "stopped"
    second.start()
    slot.release()
    assert second.join(30) and second.status == "stopped"
    assert slot.job is second and slot.snapshot().status == "stopped"  # kept for a reconnect
    slot.clear()
    assert slot.job is None and slot.snapshot() is None


def test_job_slot_start_ignores_a_second_start_unless_replacing():
    series = make_sine(DataConfig(points=300))
    slow = TrainConfig(epochs=10_000, seq_len=10, device="cpu")
    jobs = [TrainingJob(spec_for(series, 0.8, ModelConfig(hidden_size=4), slow)) for _ in range(3)]
    slot = job_mod.JobSlot()
    try:
        assert slot.start(jobs[0])
        assert not slot.start(jobs[1])  # a quick second click: nothing changes
        assert slot.job is jobs[0] and jobs[1].status == "new"
        assert slot.start(jobs[2], replace=True)
        assert jobs[0].join(30) and jobs[0].status == "stopped"
        assert slot.job is jobs[2] and slot.busy()
    finally:
        slot.release()
        assert jobs[2].join(30)
    assert not slot.busy()


def test_status_badge_and_line(snap):
    assert status_views.status_badge(None) == ("no run yet", "gray")
    assert status_views.status_badge(snap) == ("finished", "green")
    assert "Finished 3 epochs" in status_views.status_line(snap)
    queued = dataclasses.replace(snap, status="queued")
    assert status_views.status_badge(queued)[0] == "queued"
    assert "2 of 2 in use" in status_views.status_line(queued, 2, 2)
    diverged = dataclasses.replace(snap, status="diverged", message="the GRU loss became NaN")
    assert status_views.status_line(diverged) == "the GRU loss became NaN"
    assert status_views.status_badge(diverged)[1] == "red"


def test_eta_is_remaining_epochs_at_the_recent_pace(snap):
    history = [{"epoch": i + 1, "seconds": s} for i, s in enumerate([9.0, 1.0, 2.0, 3.0])]
    ten = dataclasses.replace(snap.spec, train=dataclasses.replace(snap.spec.train, epochs=10))
    running = dataclasses.replace(snap, status="running", epoch=4, spec=ten, history=history)
    assert status_views.seconds_per_epoch(history, last=3) == pytest.approx(2.0)
    assert status_views.eta_seconds(running) == pytest.approx(6 * 15 / 4)
    assert status_views.eta_seconds(snap) is None  # finished: nothing left
    fraction, text = status_views.progress(running)
    assert fraction == pytest.approx(0.4)
    assert text.startswith("Epoch 4 / 10") and "left" in text


@pytest.mark.parametrize(
    "seconds, text",
    [(None, "—"), (3.21, "3.2 s"), (42.4, "42 s"), (125, "2 min 05 s"), (7300, "2 h 01 min")],
)
def test_format_duration(seconds, text):
    assert status_views.format_duration(seconds) == text


@pytest.mark.parametrize(
    "value, text",
    [(None, "—"), (float("nan"), "—"), (0.0116, "0.0116"), (1.0187, "1.02"), (2e-5, "2.0e-05")],
)
def test_format_metric(value, text):
    assert status_views.format_metric(value) == text


def test_metric_cards_show_latest_values_parameters_and_device(snap):
    cards = {c.label: c for c in train_views.metric_cards(snap)}
    assert cards["GRU test"].value == status_views.format_metric(
        snap.latest_metric("gru_test_rollout_mse")
    )
    assert cards["GRU weights"].value == f"{snap.parameters['gru']:,}"
    assert cards["MLP weights"].value == f"{snap.parameters['mlp']:,}"
    assert cards["Device"].value == "cpu"
    assert cards["Epoch time"].value.endswith(("ms", "s"))
    assert all(c.help for c in cards.values())


# -- gates --------------------------------------------------------------------------------------


def test_default_segment_is_the_end_of_train_and_the_test_part():
    assert gate_views.default_segment(1000, 800) == (600, 1000)
    start, end = gate_views.default_segment(100_000, 80_000)
    assert end - start == gate_views.MAX_SEGMENT and start < 80_000 < end


def test_clamp_segment_keeps_it_inside_and_short_enough():
    assert gate_views.clamp_segment((10, 5), 100, 80) == (10, 12)
    assert gate_views.clamp_segment((-5, 500), 100, 80) == (0, 100)
    assert gate_views.clamp_segment((0, 10_000), 10_000, 8000) == (0, gate_views.MAX_SEGMENT)
    assert gate_views.clamp_segment(None, 1000, 800) == (600, 1000)


def test_gate_view_warms_the_state_on_the_points_before(snap):
    view = gate_views.gate_view(snap, 200, 300)
    assert view.r.shape == view.z.shape == view.n.shape == view.h.shape == (100, 4)
    assert view.index.tolist() == list(range(200, 300))
    assert view.warmup == 200
    # The last state equals nn.GRU run over everything up to the segment's end.
    x = torch.as_tensor(snap.series[:300], dtype=torch.float32).view(1, -1, 1)
    with torch.no_grad():
        out, _ = snap.model("gru").gru(snap.model("gru").scale_in(x))
    np.testing.assert_allclose(view.h, out[0, 200:300].numpy(), atol=1e-5)
    assert (view.r >= 0).all() and (view.r <= 1).all() and (np.abs(view.n) <= 1).all()


def test_gate_view_without_warmup_starts_from_zeros(snap):
    view = gate_views.gate_view(snap, 100, 150, warmup=0)
    assert view.warmup == 0 and not view.h0.any()


def test_gate_view_of_a_stacked_gru_shows_its_first_layer():
    _, snap = _finished(layers=2, epochs=1)
    view = gate_views.gate_view(snap, 0, 50)
    assert view.layer_note == "layer 1 of 2"
    x = torch.as_tensor(snap.series[:50], dtype=torch.float32).view(1, -1, 1)
    first = torch.nn.GRU(1, 4, 1, batch_first=True)
    first.load_state_dict(
        {k: v for k, v in snap.model("gru").gru.state_dict().items() if k.endswith("_l0")}
    )
    with torch.no_grad():
        out, _ = first(x)
    np.testing.assert_allclose(view.h, out[0].numpy(), atol=1e-5)


def test_unit_summary_memory_is_one_over_one_minus_mean_z(snap):
    view = gate_views.gate_view(snap, 100, 240)
    summary = gate_views.unit_summary(view)
    assert list(summary.columns) == ["unit", "mean r", "mean z", "memory (steps)", "activity"]
    np.testing.assert_allclose(summary["mean z"], view.z.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(
        summary["memory (steps)"], 1 / (1 - view.z.mean(axis=0).astype(np.float64)), rtol=1e-6
    )
    chosen = gate_views.default_units(view, 2)
    assert len(chosen) == 2 and set(chosen) <= set(range(4))
    assert view.z.mean(axis=0)[chosen].min() >= np.sort(view.z.mean(axis=0))[-2] - 1e-12


@pytest.mark.parametrize("position, unit", [(200, 0), (201, 3), (239, 2)])
def test_equation_terms_reproduce_the_traced_gates(snap, position, unit):
    view = gate_views.gate_view(snap, 200, 240)
    t = gate_views.equation_terms(view, position, unit)
    k = position - 200
    assert t.r == pytest.approx(float(view.r[k, unit]), abs=1e-5)
    assert t.z == pytest.approx(float(view.z[k, unit]), abs=1e-5)
    assert t.n == pytest.approx(float(view.n[k, unit]), abs=1e-5)
    assert t.h == pytest.approx(float(view.h[k, unit]), abs=1e-5)
    assert t.x == pytest.approx(float(snap.series[position]), abs=1e-6)
    latex = gate_views.equation_latex(t)
    assert len(latex) == 4
    assert latex[0].startswith(rf"\begin{{aligned}} r_{{{unit}}} &=")
    assert f"{t.r:.3f}" in latex[0]
    assert f"{t.h:.3f}" in latex[3]
    assert r"\sigma((" not in latex[0] + latex[1] and r"\tanh((" not in latex[2]


def test_equation_terms_check_the_position_and_unit(snap):
    view = gate_views.gate_view(snap, 200, 240)
    with pytest.raises(ValueError, match="outside the segment"):
        gate_views.equation_terms(view, 240, 0)
    with pytest.raises(ValueError, match="unit"):
        gate_views.equation_terms(view, 200, 4)


def test_gru_equations_use_pytorchs_convention():
    n = overview_views.GRU_EQUATIONS[2]
    assert r"r_t \odot \left(W_{hn}" in n  # r multiplies W_hn h + b_hn, not h


# -- forecasts ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "settings",
    [
        {"eval_state": "warm"},
        {"eval_state": "carried"},
        {"eval_state": "carried", "batch_size": 3},
        {"eval_state": "carried", "chunking": "tutorial"},
        {"mode": "windowed", "batch_size": 8},
    ],
)
def test_forecasts_at_the_test_start_match_the_training_history(settings):
    _, snap = _finished(**settings)
    eval_state = settings.get("eval_state", "warm")
    f = rollout_views.forecasts_from(snap, 0)
    n_test = len(snap.test_part)
    assert len(f.index) == len(f.truth) == n_test - 1
    assert f.carried == (eval_state == "carried")
    table = rollout_views.forecast_metrics(f)
    last = snap.latest
    assert table.loc["GRU", "free-running MSE"] == pytest.approx(last["gru_test_rollout_mse"])
    assert table.loc["MLP", "free-running MSE"] == pytest.approx(last["mlp_test_rollout_mse"])
    assert table.loc["GRU", "one-step MSE"] == pytest.approx(last["gru_test_one_step_mse"])
    assert table.loc["GRU", "free-running MAE"] == pytest.approx(last["gru_test_rollout_mae"])


def test_forecasts_from_a_later_start_cover_the_rest_of_the_test_part(snap):
    f = rollout_views.forecasts_from(snap, 20)
    assert f.start == snap.n_train + 20
    assert f.index[0] == f.start + 1 and f.index[-1] == len(snap.series) - 1
    np.testing.assert_array_equal(f.truth, snap.series[f.start + 1 :])
    assert f.n_read == min(snap.train_cfg.eval_warmup, f.start) + 1
    assert f.context_index[-1] == f.start and len(f.context) == len(f.context_index)
    for forecasts in (f.free_run, f.one_step):
        assert {k: v.shape for k, v in forecasts.items()} == {
            "gru": f.truth.shape,
            "mlp": f.truth.shape,
        }
    # Out-of-range starts are clamped to the last one that leaves a step to forecast.
    assert len(rollout_views.forecasts_from(snap, 10_000).index) == 1


def test_forecasts_and_gates_read_the_runs_eval_warmup():
    _, snap = _finished(eval_warmup=30)
    f = rollout_views.forecasts_from(snap, 0)
    assert f.n_read == 31
    assert rollout_views.forecast_metrics(f).loc["GRU", "free-running MSE"] == pytest.approx(
        snap.latest["gru_test_rollout_mse"]
    )
    assert gate_views.gate_view(snap, 100, 150).warmup == 30
    assert rollout_views.horizon_errors(snap, horizon=5).warmup == 30


def test_forecasts_are_capped_at_max_horizon(snap):
    assert len(rollout_views.forecasts_from(snap, 0, max_horizon=7).index) == 7


def test_forecasts_frame_and_csv(snap):
    f = rollout_views.forecasts_from(snap, 5)
    frame = rollout_views.forecasts_frame(f)
    assert list(frame.columns) == [
        "position",
        "steps_ahead",
        "truth",
        "gru_free_running",
        "mlp_free_running",
        "gru_one_step",
        "mlp_one_step",
    ]
    assert len(frame) == len(f.index) and frame["steps_ahead"].iloc[0] == 1
    back = pd.read_csv(io.BytesIO(rollout_views.forecasts_csv(f)))
    np.testing.assert_allclose(back["truth"], f.truth, atol=1e-6)
    np.testing.assert_allclose(back["gru_free_running"], f.free_run["gru"], atol=1e-6)


def test_horizon_errors(snap):
    errors = rollout_views.horizon_errors(snap, horizon=10, n_starts=5)
    assert errors.steps.tolist() == list(range(1, 11))
    assert errors.starts == 5 and errors.warmup == min(snap.train_cfg.eval_warmup, snap.n_train)
    for name in ("gru", "mlp"):
        assert errors.mse[name].shape == (10,) and (errors.mse[name] >= 0).all()
        assert errors.mae[name].shape == (10,)
    # A test part shorter than the horizon shortens it.
    assert len(rollout_views.horizon_errors(snap, horizon=10_000).steps) == len(snap.test_part) - 1


def test_equation_panel_sigmoid_survives_huge_arguments():
    # Uploaded series may reach 1e6: the panel's sigmoid must not overflow.
    assert gate_views._sigmoid(-1e6) == 0.0 and gate_views._sigmoid(1e6) == 1.0
    assert gate_views._sigmoid(0.0) == 0.5


def test_prepare_process_sets_threads_and_freezes_what_is_loaded(monkeypatch):
    import gc

    from gru_core import job

    monkeypatch.setattr(job, "_worker_threads", job._worker_threads)
    monkeypatch.setattr(process_job, "_process_prepared", False)  # as in a fresh process
    threads = torch.get_num_threads()
    try:
        process_job.prepare_process(threads=1)
        assert torch.get_num_threads() == 1
        assert job._worker_threads == 1
        # torch, numpy, pandas and pytest are loaded: far more than a few objects are frozen.
        assert gc.get_freeze_count() > 50_000
        # Once per process: a second call (app.py's, after the loading page's) does nothing.
        torch.set_num_threads(2)
        assert process_job.prepare_process(threads=1, background=True) is None
        assert torch.get_num_threads() == 2
    finally:
        gc.unfreeze()
        torch.set_num_threads(threads)


def test_prepare_process_in_the_background_returns_at_once_and_warms_in_a_thread(monkeypatch):
    import gc

    from gru_core import job

    monkeypatch.setattr(job, "_worker_threads", job._worker_threads)
    threads = torch.get_num_threads()
    done = threading.Event()
    real = process_job._warm_torch

    def slow_warm() -> None:  # held until released: the call must not wait for it
        done.wait(30)
        real()

    monkeypatch.setattr(process_job, "_warm_torch", slow_warm)
    monkeypatch.setattr(process_job, "_process_prepared", False)  # as in a fresh process
    gc.unfreeze()  # an app run in this process may have frozen objects already
    try:
        thread = process_job.prepare_process(threads=1, background=True)
        assert torch.get_num_threads() == 1 and job._worker_threads == 1
        assert thread is not None and thread.is_alive() and thread.daemon
        assert gc.get_freeze_count() == 0  # nothing frozen yet: the warm-up is still held
        done.set()
        thread.join(60)
        assert not thread.is_alive()
        assert gc.get_freeze_count() > 50_000
    finally:
        done.set()
        gc.unfreeze()
        torch.set_num_threads(threads)


def test_a_runs_settings_line_names_its_models_plainly():
    from gru_core.config import ModelConfig, TrainConfig
    from gru_core.data import make_sine
    from gru_core.spec import spec_for
    from gru_core.views.runs import settings_line

    spec = spec_for(make_sine(), 0.8, ModelConfig(models=("gru", "mlp", "lstm")), TrainConfig())
    line = settings_line(spec.to_dict())
    assert line.startswith("models gru, mlp, lstm · hidden 16") and "[" not in line


def test_uploads_are_standardised_by_default_and_generated_sines_keep_the_presets_choice():
    for name, preset in PRESETS.items():
        assert train_views.standardize_default(name, "upload") is True
        assert train_views.standardize_default(name, "generated") is preset.train.standardize
        assert train_views.preset_settings(name, "upload")["standardize"] is True
    assert PRESETS["seed"].train.standardize is False  # the tutorial's raw values
    assert train_views.preset_settings("seed")["standardize"] is False


def test_the_standardise_note_gives_the_training_parts_own_mean_and_std():
    series = np.r_[np.full(40, 10.0), np.full(40, 30.0), np.full(20, 1000.0)]
    data = spec_for(series, 0.8).data  # training part: 40 x 10 and 40 x 30: mean 20, std 10
    note = data_views.standardize_note(data, True)
    assert "(value - 20) / 10" in note and "own units" in note
    assert "Not standardised" in data_views.standardize_note(data, False)


def test_the_runs_tables_compact_columns_are_each_models_best_among_a_few():
    columns = ["pinned", "name", "status", "task", "models", "gru best", "gru last"]
    columns += ["lstm best", "lstm last", "epochs", "time", "parameters", "date"]
    row = {c: 0 for c in columns} | {"models": "gru, lstm"}
    table = pd.DataFrame([row], columns=columns)
    compact = runs_views.compact_columns(table)
    assert compact == ["pinned", "name", "status", "gru best", "lstm best", "epochs"]
    assert len(compact) < len(columns)


def test_a_run_is_numbered_once_and_named_by_what_sets_it_apart():
    from gru_core.store import Run

    def run(id: int, hidden: int, name: str = "") -> Run:
        spec = spec_for(make_sine(), 0.8, ModelConfig(hidden_size=hidden), TrainConfig())
        fields = {f.name: None for f in dataclasses.fields(Run)}
        return Run(**fields | {"id": id, "name": name, "spec": spec.to_dict()})

    lone = [run(3, 8)]
    assert runs_views.numbered(lone[0], runs_views.auto_labels(lone)) == "#3"
    pair = [run(3, 8), run(4, 16, name="wide")]
    labels = runs_views.auto_labels(pair)
    assert [runs_views.numbered(r, labels) for r in pair] == ["#3 hidden 8", "#4 wide"]
