"""The Sweep page: start a small sweep, watch the heatmap fill, select a cell, see its band;
a new session on the same workspace finds the sweep again and continues an interrupted one."""

import time

import numpy as np
from streamlit.testing.v1 import AppTest

from gru_app import state, sweeps
from gru_core.strings.en import EN
from tests.apptest_utils import APP, chart, go, texts, traces, use_tiny_data, use_tiny_settings


def _wait_for(at: AppTest, text: str, timeout: float = 120) -> None:
    """Rerun the page (as its polling fragment would) until `text` shows."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        at.run()
        if text in texts(at) or any(text in str(p.proto.text) for p in at.get("progress")):
            return
        time.sleep(0.3)
    raise AssertionError(f"{text!r} did not show in {timeout} s: {texts(at)[-800:]}")


def _small_sweep(at: AppTest) -> None:
    use_tiny_data(at)
    use_tiny_settings(at)
    go(at, "sweep")
    at.text_input(key="sweep_values_hidden").set_value("4, 8")
    at.text_input(key="sweep_values_lr").set_value("0.01, 0.03")
    at.slider(key="sweep_seeds").set_value(2).run()
    assert "8 runs (2 x 2 x 2 seeds)" in texts(at)


def _best(store, ws, run_id: int) -> float:
    """A run's best GRU free-running test MSE, from its own history (not the summary)."""
    return min(r["gru_test_rollout_mse"] for r in store.history(ws, run_id))


def test_a_small_sweep_fills_the_heatmap_and_a_cell_shows_its_band():
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    _small_sweep(at)
    at.button(key="sweep_start").click().run()
    assert not at.exception
    running = sweeps.job(at.session_state["sweep_shown"])
    assert running.executor.nice == sweeps.WORKER_NICE > 0  # the pages keep their CPU
    _wait_for(at, "8 of 8 runs done")
    store, ws = state.store(), at.session_state["workspace"]
    runs = [r for r in store.runs(ws) if r.sweep is not None]
    assert len(runs) == 8 and {r.status for r in runs} == {"finished"}
    assert {r.sweep for r in runs} == {at.session_state["sweep_shown"]}

    heat = traces(chart(at, "sweep_heatmap"))[None]
    assert heat["x"] == ["0.01", "0.03"] and heat["y"] == ["4", "8"]
    log = "tickvals" in heat["colorbar"]  # means over more than a decade: coloured by log10
    shown = np.array(heat["z"], dtype=float)
    means = 10**shown if log else shown  # the cells' means, whichever the colours
    by_cell: dict[tuple, list[float]] = {}
    for r in runs:
        key = (r.spec["models"][0]["hidden_size"], r.spec["train"]["lr"])
        by_cell.setdefault(key, []).append(_best(store, ws, r.id))
    for i, hidden in enumerate((4, 8)):
        for j, lr in enumerate((0.01, 0.03)):
            values = by_cell[(hidden, lr)]
            assert np.isclose(means[i][j], np.mean(values), rtol=1e-12)
            assert np.isclose(heat["customdata"][i][j][0], abs(values[0] - values[1]) / 2**0.5)
            assert heat["customdata"][i][j][1] == 2  # seeds done
    assert len({round(z, 12) for row in heat["z"] for z in row}) == 4  # the cells differ

    at.selectbox(key="sweep_cell").set_value("hidden=8, lr=0.03").run()
    band = traces(chart(at, "sweep_band"))
    cell = [r for r in runs if r.name.startswith("hidden=8,lr=0.03,")]
    losses = np.array([[row["gru_train_loss"] for row in store.history(ws, r.id)] for r in cell])
    mean, std = losses.mean(axis=0), np.abs(losses[0] - losses[1]) / 2**0.5  # by hand, n - 1
    np.testing.assert_allclose(band["GRU mean of 2"]["y"], mean, rtol=1e-12)
    upper = np.array(band["GRU ± 1 std"]["y"][: len(mean)])
    np.testing.assert_allclose(upper, mean + std, rtol=1e-12)
    assert std.max() > 0  # the seeds differ: the band has a width
    # The heatmap's metric, epoch by epoch, instead: the same mean and band, by hand.
    at.button_group(key="sweep_band_curves").set_value("test_rollout_mse").run()
    band = traces(chart(at, "sweep_band"))
    tests = np.array(
        [[row["gru_test_rollout_mse"] for row in store.history(ws, r.id)] for r in cell]
    )
    np.testing.assert_allclose(band["GRU mean of 2"]["y"], tests.mean(axis=0), rtol=1e-12)
    upper = np.array(band["GRU ± 1 std"]["y"][: len(tests[0])])
    spread = np.abs(tests[0] - tests[1]) / 2**0.5
    np.testing.assert_allclose(upper, tests.mean(axis=0) + spread, rtol=1e-12)
    at.button_group(key="sweep_band_curves").set_value("train_loss").run()

    csv = at.get("download_button")[0].proto
    assert csv.label.startswith("Download CSV")
    at.button(key="sweep_open").click().run()  # to the Runs page, the cell's runs chosen
    assert not at.exception
    assert sorted(at.session_state["runs_compare"]) == sorted(r.id for r in cell)
    assert at.title[0].value == "Runs"
    assert at.text_input(key="runs_filter").value == "hidden=8,lr=0.03,"
    assert sorted(at.multiselect(key="runs_compare").value) == sorted(r.id for r in cell)
    assert "The sweep cell's 2 run(s) are compared below" in texts(at)
    assert at.selectbox(key="runs_one").value == cell[0].id  # one of them, not the newest
    # A sweep's run keeps no weights: its download says so, and not to wait for a save.
    assert EN["bundle.error.no_weights"] in [c.value for c in at.caption]
    assert "runs_selection" not in at.session_state  # taken once
    go(at, "runs")  # (AppTest itself stays on the page it ran: go there again)
    at.text_input(key="runs_filter").set_value("").run()  # the user's own choice stands
    assert at.text_input(key="runs_filter").value == "" and "sweep cell" not in texts(at)

    # A reload: a new session on the same workspace finds the finished sweep.
    again = AppTest.from_file(str(APP), default_timeout=60)
    again.query_params["ws"] = ws
    again.run()
    go(again, "sweep")
    assert "8 of 8 runs done" in str(again.get("progress")[0].proto.text)
    assert traces(chart(again, "sweep_heatmap"))[None]["z"] == heat["z"]

    # Two runs interrupted (as a server restart leaves them): shown so, and continued.
    for r in cell:
        store.update_run(ws, r.id, status="interrupted", message="the server stopped")
    again.run()
    warnings = [w.value for w in again.warning]
    assert "This sweep was interrupted: 2 of 8 runs are not done." in warnings
    assert np.isnan(traces(chart(again, "sweep_heatmap"))[None]["z"][1][1])
    again.button(key="sweep_continue").click().run()
    _wait_for(again, "8 of 8 runs done")
    assert traces(chart(again, "sweep_heatmap"))[None]["z"] == heat["z"]  # the same numbers
    assert [store.run(ws, r.id).status for r in cell] == ["finished", "finished"]

    # No run of the session's own: a sweep's runs are picked, never the current run, and
    # one picked says it kept no weights (not that it is starting).
    go(again, "gates")
    assert EN["render.no_run"] in [i.value for i in again.info]
    again.selectbox(key="view_run").set_value(cell[0].id).run()
    assert not again.exception
    assert EN["render.no_weights"] in [i.value for i in again.info]

    # A second sweep, over hidden 8 and 16: a cell is chosen by its label, and going back to
    # the first sweep keeps the cell of the same label, the band its runs'.
    go(again, "sweep")
    first = again.session_state["sweep_shown"]
    again.text_input(key="sweep_values_hidden").set_value("8, 16")
    again.text_input(key="sweep_values_lr").set_value("0.01, 0.03")
    again.slider(key="sweep_seeds").set_value(1).run()
    again.button(key="sweep_start").click().run()
    _wait_for(again, "4 of 4 runs done")
    assert again.session_state["sweep_shown"] != first
    # The cell chosen before (hidden=4, lr=0.01) is not in this sweep: its first cell.
    assert again.selectbox(key="sweep_cell").value == "hidden=8, lr=0.01"
    again.selectbox(key="sweep_cell").set_value("hidden=8, lr=0.03").run()
    again.selectbox(key="sweep_pick").set_value(first).run()
    assert again.selectbox(key="sweep_cell").value == "hidden=8, lr=0.03"
    band = traces(chart(again, "sweep_band"))
    np.testing.assert_allclose(band["GRU mean of 2"]["y"], mean, rtol=1e-12)  # as above


def test_a_sweep_too_large_is_refused_with_the_reason():
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    go(at, "sweep")
    at.text_input(key="sweep_values_hidden").set_value(", ".join(str(h) for h in range(1, 41)))
    at.slider(key="sweep_seeds").set_value(3).run()
    assert "40 hidden x 4 lr x 3 seeds is 480 runs; at most 100 can run here" in texts(at)
    assert at.button(key="sweep_start").disabled
    at.text_input(key="sweep_values_hidden").set_value("4, x").run()
    assert "hidden: 'x' is not a valid int" in texts(at)


def test_the_sweeps_settings_outlive_a_visit_to_another_page():
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    go(at, "sweep")
    at.selectbox(key="sweep_setting_2").set_value("seq-len").run()
    at.text_input(key="sweep_values_hidden").set_value("4, 8")
    at.text_input(key="sweep_values_seq-len").set_value("10, 20")
    at.slider(key="sweep_seeds").set_value(5).run()
    assert "20 runs (2 x 2 x 5 seeds)" in texts(at)
    go(at, "train")
    go(at, "sweep")
    assert at.selectbox(key="sweep_setting_2").value == "seq-len"
    assert at.text_input(key="sweep_values_hidden").value == "4, 8"
    assert at.slider(key="sweep_seeds").value == 5
    assert "20 runs (2 x 2 x 5 seeds)" in texts(at)
