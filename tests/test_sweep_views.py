"""The Sweep page's computations, checked by hand: the heatmap's cells, the bands, progress,
the table; and a sweep's runs written to and read back from a real store."""

import dataclasses
import math

import numpy as np
import pytest

from gru_core import figures
from gru_core.config import PRESETS, DataConfig
from gru_core.data import make_sine
from gru_core.spec import Dataset
from gru_core.store import Store
from gru_core.sweep_runs import Sweep, train_group
from gru_core.views import sweep as views

FAST = PRESETS["fast"]


def _plan(grid: dict, seeds: int = 2) -> Sweep:
    cfg = DataConfig(points=200)
    data = Dataset(make_sine(cfg), 0.8, "sine", sine=cfg)
    train = dataclasses.replace(FAST.train, epochs=2, seq_len=10, batch_size=1)
    return Sweep(data, dataclasses.replace(FAST.model, hidden_size=4), train, grid, seeds)


def _run(plan: Sweep, index: int, best: float | None, status: str = "finished") -> views.SweepRun:
    run = plan.runs[index]
    summary = {} if best is None else {"gru": {"test_rollout_mse": {"best": best, "last": best}}}
    return views.SweepRun(
        index, index, run["key"], run["settings"], run["seed"], status, "", 1.5, summary
    )


def test_the_heatmap_holds_mean_std_and_seeds_of_each_cell():
    plan = _plan({"hidden": [4, 8], "lr": [0.01, 0.03, 0.1]})
    # Runs 0-5 are seed 0 (cells in order), 6-11 seed 1.
    best = {0: 1.0, 6: 3.0, 1: 0.5, 7: 0.5, 5: 2.0, 2: 4.0, 8: None}
    runs = [_run(plan, i, v) for i, v in best.items()]
    runs.append(_run(plan, 3, 9.0, status="diverged"))  # not finished: not counted
    grid = views.heatmap(plan, runs, "gru", "test_rollout_mse")
    assert (grid.row_name, grid.rows, grid.column_name, grid.columns) == (
        "hidden",
        [4, 8],
        "lr",
        [0.01, 0.03, 0.1],
    )
    assert grid.seeds.tolist() == [[2, 2, 1], [0, 0, 1]]
    assert grid.mean[0, 0] == 2.0 and grid.std[0, 0] == pytest.approx(math.sqrt(2.0))
    assert grid.mean[0, 1] == 0.5 and grid.std[0, 1] == 0.0
    assert grid.mean[0, 2] == 4.0 and grid.std[0, 2] == 0.0  # one seed: no spread yet
    assert math.isnan(grid.mean[1, 0]) and math.isnan(grid.mean[1, 1])
    assert grid.mean[1, 2] == 2.0


def test_one_setting_gives_one_row():
    plan = _plan({"lr": [0.01, 0.03]}, seeds=3)
    runs = [_run(plan, i, float(i)) for i in range(6)]  # lr 0.01: runs 0, 2, 4
    grid = views.heatmap(plan, runs, "gru", "test_rollout_mse")
    assert grid.rows == [""] and grid.row_name == "" and grid.mean.shape == (1, 2)
    assert grid.mean.tolist() == [[2.0, 3.0]] and grid.std.tolist() == [[2.0, 2.0]]


def test_a_band_is_the_mean_plus_minus_the_standard_deviation_epoch_by_epoch():
    histories = [
        [{"epoch": 1, "gru_train_loss": 1.0}, {"epoch": 2, "gru_train_loss": 0.5}],
        [{"epoch": 1, "gru_train_loss": 3.0}, {"epoch": 2, "gru_train_loss": 0.5}],
        [{"epoch": 1, "gru_train_loss": 2.0}, {"epoch": 2, "gru_train_loss": None}],
    ]
    band = views.band(histories, "gru_train_loss")
    assert band.epochs.tolist() == [1, 2] and band.runs == 3
    assert band.mean.tolist() == [2.0, 0.5]
    assert band.std.tolist() == [1.0, 0.0]  # (1, 3, 2): sqrt(((-1)^2 + 1^2 + 0) / 2) = 1
    assert views.band([[{"epoch": 1}]], "gru_train_loss") is None


def test_progress_counts_done_and_failed_runs_and_estimates_the_rest():
    plan = _plan({"lr": [0.01, 0.03]})
    runs = [_run(plan, 0, 1.0), _run(plan, 1, None, "failed"), _run(plan, 2, None, "queued")]
    runs.append(_run(plan, 3, None, "queued"))
    fraction, text = views.progress(runs, workers=2, running=True)
    assert fraction == 0.5
    assert text == "2 of 4 runs done · 1 failed · about 1.5 s left"  # 1.5 s x ceil(2 / 2)
    assert views.progress(runs, 2, running=False)[1] == "2 of 4 runs done · 1 failed"
    assert [r.index for r in views.not_done(runs)] == [2, 3]


def test_a_sweep_s_runs_go_into_the_store_and_come_back(tmp_path):
    store = Store(tmp_path)
    ws = store.create_workspace()
    plan = _plan({"hidden": [3, 4], "seq-len": [10, 500]}, seeds=1)
    ids = views.create_runs(store, ws, plan, "s1")
    assert [store.run(ws, ids[i]).status for i in range(4)] == ["queued"] * 4
    result = train_group({"sweep": plan.to_dict(), "runs": plan.runs})
    for r in result["runs"]:
        views.save_result(store, ws, ids[r["index"]], r)
    loaded_plan, runs = views.load(store.runs(ws), "s1")
    assert loaded_plan.runs == plan.runs and views.sweep_ids(store.runs(ws)) == ["s1"]
    assert [r.status for r in runs] == ["finished", "failed", "finished", "failed"]
    assert runs[1].message.startswith("seq_len 500 needs at least 501 training points")
    history = store.history(ws, ids[0])
    best = min(row["gru_test_rollout_mse"] for row in history)
    assert runs[0].best("gru", "test_rollout_mse") == best
    table = views.table(plan, runs)
    assert list(table["seq-len"]) == [10, 500, 10, 500] and list(table["seed"]) == [0] * 4
    assert table.loc[0, "gru_best_test_rollout_mse"] == best
    assert table.loc[0, "gru_test_rollout_mse"] == history[-1]["gru_test_rollout_mse"]
    assert views.csv_text(plan, runs).splitlines()[0].startswith("hidden,seq-len,seed,status")


def test_values_are_read_as_their_setting_s_type():
    assert views.parse_values("lr", "1e-3, 0.01") == [0.001, 0.01]
    assert views.parse_values("hidden", "4,8") == [4, 8]
    assert views.values_text([0.001, 16]) == "0.001, 16"
    plan = _plan({"hidden": [4, 8], "lr": [0.01]})
    assert views.cell_label(plan, plan.runs[1]["settings"]) == "hidden=8, lr=0.01"
    assert views.cell_labels(plan) == ["hidden=4, lr=0.01", "hidden=8, lr=0.01"]
    assert np.array_equal([c["hidden"] for c in views.cells(plan)], [4, 8])


def test_a_click_on_a_cell_names_that_cell_and_its_runs():
    plan = _plan({"hidden": [4, 8], "lr": [0.01, 0.03, 0.1]})
    runs = [_run(plan, i, float(i)) for i in range(12)]
    grid = views.heatmap(plan, runs, "gru", "test_rollout_mse")
    fig = figures.sweep_heatmap_figure(
        grid.rows, grid.columns, grid.mean, grid.std, grid.seeds, "hidden", "lr", "best MSE"
    )
    heat, markers = fig.data
    assert heat.type == "heatmap" and markers.name == "cells" and len(markers.x) == 6
    assert markers.hovertemplate.startswith("hidden=%{y}, lr=%{x}<br>")  # as the Cell box
    cells = views.cells(plan)
    for k in range(6):  # what a click on marker k reports: its x and y as shown
        cell = views.clicked_cell(plan, [{"x": markers.x[k], "y": markers.y[k], "point_index": k}])
        i, j = divmod(k, 3)
        assert cells[cell] == {"hidden": grid.rows[i], "lr": grid.columns[j]}
        assert markers.customdata[k][0] == grid.mean[i, j]  # its hover: the cell's numbers
        assert markers.customdata[k][2] == grid.seeds[i, j]
    assert views.clicked_cell(plan, []) is None  # nothing selected
    assert views.clicked_cell(plan, [{"x": "0.5", "y": "4"}]) is None  # no such cell
    two = [{"x": "0.01", "y": "4"}, {"x": "0.03", "y": "4"}]
    assert views.clicked_cell(plan, two) is None
    assert views.cell_filter(cells[4]) == "hidden=8,lr=0.03,"
    named = [r for r in runs if r.key.startswith(views.cell_filter(cells[4]))]
    assert [r.settings for r in named] == [cells[4], cells[4]]  # both seeds, nothing else


def test_means_over_more_than_a_decade_are_coloured_by_their_log():
    mean = np.array([[0.5, 0.01], [0.02, np.nan]])
    z, ticks = figures.sweep_colours(mean)
    np.testing.assert_allclose(z[0], [np.log10(0.5), -2.0])
    assert z[1][0] == pytest.approx(np.log10(0.02)) and np.isnan(z[1][1])
    assert ticks == ([-2.0, -1.0, 0.0], ["0.01", "0.1", "1"])  # whole decades, -2 to 0
    with_zero = np.array([[0.0, 0.5, 0.001]])  # a mean of 0 (an accuracy) has no log
    assert figures.sweep_colours(with_zero)[1] is None
    within = np.array([[0.5, 0.06]])  # less than a decade apart: the means themselves
    z, ticks = figures.sweep_colours(within)
    assert ticks is None and np.array_equal(z, within)
    fig = figures.sweep_heatmap_figure([4, 8], ["a", "b"], mean, mean, mean, "h", "x", "MSE")
    heat = fig.data[0]
    assert np.allclose(heat.z[0], np.log10([0.5, 0.01]))
    assert heat.colorbar.title.text == "MSE (colour: log scale)"
    assert list(heat.colorbar.ticktext) == ["0.01", "0.1", "1"]
    assert heat.text[0] == ["0.5", "0.01"]  # the cells still read their means


def test_a_click_on_a_one_row_heatmap():
    plan = _plan({"lr": [0.01, 0.03]}, seeds=1)
    assert views.clicked_cell(plan, [{"x": "0.03", "y": ""}]) == 1
