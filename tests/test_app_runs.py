"""AppTest: runs kept in the workspace; the Runs page tables, compares, edits, bundles them."""

import io
import json
import zipfile

import pytest
from apptest_utils import APP, chart, go, job, new_app, release, texts, traces, train_tiny
from streamlit.testing.v1 import AppTest

from gru_core import bundle, workspace
from gru_core import store as stores
from gru_core.store import Store
from gru_core.views import rollouts


@pytest.fixture
def at():
    app = new_app()
    yield app
    release(app)


def _store_runs(at):
    return Store().runs(at.session_state["workspace"])


def _two_runs(at) -> tuple[int, int]:
    """Two tiny runs, hidden 4 then hidden 5, and the Runs page open; their ids."""
    train_tiny(at)
    train_tiny(at, None, hidden=5)
    go(at, "runs")
    first, second = (r.id for r in _store_runs(at))
    return first, second


def test_a_run_is_saved_in_the_workspace_as_it_trains(at):
    train_tiny(at)
    (run,) = _store_runs(at)
    snap = job(at).snapshot()
    assert run.status == "finished" and run.epoch == snap.epoch == 3
    history = Store().history(at.session_state["workspace"], run.id)
    assert [r["gru_train_loss"] for r in history] == [r["gru_train_loss"] for r in snap.history]
    checkpoint = Store().load_checkpoint(at.session_state["workspace"], run.id)
    assert checkpoint.meta["epoch"] == 3
    assert "Run #" in texts(at) and "hidden 4" in texts(at)  # the Train page names it


def test_the_table_names_runs_by_their_differences_and_a_new_run_keeps_the_old(at):
    first, second = _two_runs(at)
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table.index) == [second, first]  # newest first; the first was not replaced
    assert list(table["name"]) == ["hidden 5", "hidden 4"]
    assert set(table["status"]) == {"finished"} and list(table["epochs"]) == ["3/3", "3/3"]
    runs = {r.id: r for r in _store_runs(at)}
    best = runs[first].summary["gru"]["test_rollout_mse"]["best"]
    assert table.loc[first, "gru best"] == best
    at.text_input(key="runs_filter").set_value("hidden 5").run()
    assert list(at.dataframe[0].value.index) == [second]


def test_compare_overlays_curves_and_shows_only_the_differences(at):
    first, second = _two_runs(at)
    a, b = f"#{first} hidden 4", f"#{second} hidden 5"
    lines = traces(chart(at, "runs_overlay"))
    assert f"{a}: gru train loss" in lines and f"{b}: mlp test rollout mse" in lines
    colours = {name.split(":")[0]: t["line"]["color"] for name, t in lines.items()}
    assert colours[a] != colours[b]  # one colour per run
    dashes = {t["line"]["dash"] for name, t in lines.items() if name.startswith(a)}
    assert len(dashes) == 4  # a style per model and metric
    history = Store().history(at.session_state["workspace"], first)
    assert lines[f"{a}: gru train loss"]["y"] == [r["gru_train_loss"] for r in history]
    settings = at.dataframe[1].value
    assert list(settings.index) == ["hidden"]  # only the differences
    assert list(settings.iloc[0]) == ["5", "4"]
    at.toggle(key="runs_only_differences").set_value(False).run()
    assert {"hidden", "lr", "epochs", "seq_len"} <= set(at.dataframe[1].value.index)
    forecasts = traces(chart(at, "runs_forecasts"))
    assert {"truth", f"{b}: gru", f"{a}: mlp"} <= set(forecasts)


def test_rename_pin_delete_and_undo(at):
    first, second = _two_runs(at)
    at.selectbox(key="runs_one").set_value(first).run()
    at.text_input(key=f"runs_name_{first}").set_value("  my   first run ").run()
    at.toggle(key=f"runs_pin_{first}").set_value(True).run()
    runs = {r.id: r for r in _store_runs(at)}
    assert runs[first].name == "my first run" and runs[first].pinned
    assert "my first run" in list(at.dataframe[0].value["name"])
    at.button(key="runs_delete").click().run()
    assert [r.id for r in _store_runs(at)] == [second]
    assert list(at.dataframe[0].value.index) == [second]
    at.button(key="runs_undo").click().run()
    assert [r.id for r in _store_runs(at)] == [first, second]
    assert not at.exception


def test_train_again_loads_the_settings_and_the_data(at):
    first, _ = _two_runs(at)
    at.selectbox(key="runs_one").set_value(first).run()
    at.button(key="runs_again").click().run()
    go(at, "train")
    assert at.number_input(key="hidden").value == 4
    assert at.session_state["dataset"].label.startswith("noisy sine: 200 points")


def test_download_a_bundle_then_upload_it_into_another_workspace(at):
    _, second = _two_runs(at)
    at.selectbox(key="runs_one").set_value(second).run()
    download = at.get("download_button")[0]
    assert download.proto.label.startswith("Download")
    data = _bundle_bytes(at, second)
    assert bundle.filename("hidden 5") == "hidden-5.zip"
    other = new_app()
    try:
        go(other, "runs")
        other.file_uploader(key="runs_upload").set_value(("hidden-5.zip", data, "application/zip"))
        other.run()
        assert not other.exception and not other.error
        (run,) = _store_runs(other)
        assert run.status == "finished" and run.epoch == 3
        assert run.summary == {r.id: r for r in _store_runs(at)}[second].summary
    finally:
        release(other)


def _bundle_bytes(at, run: int) -> bytes:
    return workspace.bundle_bytes(Store(), at.session_state["workspace"], run)


def _with_member(data: bytes, name: str, content: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info))
        zout.writestr(name, content)
    return out.getvalue()


def test_a_malicious_bundle_is_refused_in_one_line_and_nothing_changes(at):
    train_tiny(at)
    good = _bundle_bytes(at, _store_runs(at)[0].id)
    evil = _with_member(good, "payload.pkl", b"\x80\x04cos\nsystem\n(S'echo owned'\ntR.")
    other = new_app()
    try:
        go(other, "runs")
        other.file_uploader(key="runs_upload").set_value(("evil.zip", evil, "application/zip"))
        other.run()
        (error,) = other.error
        assert "pickle" in error.value and "\n" not in error.value
        assert _store_runs(other) == []
    finally:
        release(other)


def test_settings_and_data_come_back_in_a_new_session_on_the_same_link(at):
    train_tiny(at, hidden=5)
    ws = at.session_state["workspace"]
    again = AppTest.from_file(str(APP), default_timeout=30)
    again.query_params["ws"] = ws
    again.run()
    try:
        go(again, "train")
        assert again.number_input(key="hidden").value == 5
        assert again.session_state["dataset"].label == at.session_state["dataset"].label
        (run,) = _store_runs(at)
        assert f"Run #{run.id}" in texts(again)  # the latest run, from the store
        assert json.dumps(Store().settings(ws))  # saved as plain JSON
    finally:
        release(again)


def test_a_full_workspace_removes_the_oldest_unpinned_run_and_says_so(at, monkeypatch):
    monkeypatch.setattr(stores, "MAX_RUNS", 2)
    first, second = _two_runs(at)
    at.selectbox(key="runs_one").set_value(first).run()
    at.toggle(key=f"runs_pin_{first}").set_value(True).run()
    train_tiny(at, None, hidden=6)
    go(at, "runs")
    kept = _store_runs(at)
    assert [r.id for r in kept][0] == first and kept[0].pinned  # pinned: kept
    assert [r.spec["models"][0]["hidden_size"] for r in kept] == [4, 6]  # hidden 5 went
    (notice,) = [i.value for i in at.info if "at most 2 runs" in i.value]
    assert f"#{second}" in notice and "removed" in notice


def test_rollouts_show_the_run_picked_from_the_workspace(at):
    first, second = _two_runs(at)
    go(at, "rollouts")
    live = chart(at, "rollouts_free")
    at.selectbox(key="view_run").set_value(first).run()
    assert not at.exception
    picked = chart(at, "rollouts_free")
    saved = workspace.stored_snapshot(Store(), at.session_state["workspace"], first)
    expected = rollouts.forecasts_from(saved, 0)
    assert traces(picked)["GRU"]["y"] == pytest.approx(expected.free_run["gru"].tolist())
    assert traces(picked)["GRU"]["y"] != traces(live)["GRU"]["y"]
