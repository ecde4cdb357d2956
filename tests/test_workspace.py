"""Workspace runs: a job records its run as it trains; a saved run resumes exactly; bundles."""

import dataclasses
import json
import zipfile
from io import BytesIO

import numpy as np
import pytest
import torch

from gru_core import workspace
from gru_core.bundle import BundleError
from gru_core.config import DataConfig, ModelConfig, TrainConfig
from gru_core.data import make_sine
from gru_core.job import TrainingJob
from gru_core.process_job import ProcessJob
from gru_core.spec import Dataset, RunSpec, spec_for
from gru_core.store import Store
from gru_core.train import Trainer, train

SMALL = ModelConfig(hidden_size=6, mlp_hidden=(8,))
STRIP = ("seconds", "elapsed")  # timings differ between runs, nothing else may


def _cfg(**kw) -> TrainConfig:
    base = {"epochs": 6, "lr": 1e-2, "seq_len": 10, "batch_size": 2, "step_kernel": "numpy"}
    return TrainConfig(**{**base, **kw})


def _spec(epochs: int = 6) -> RunSpec:
    cfg = DataConfig(points=300, periods=3)
    data = Dataset(make_sine(cfg), 0.8, "sine", sine=cfg)
    return RunSpec.of(data, SMALL, _cfg(epochs=epochs))


def _rows(history):
    return [{k: v for k, v in r.items() if k not in STRIP} for r in history]


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "home")


@pytest.mark.parametrize("job_type", [TrainingJob, ProcessJob])
def test_a_job_saves_its_history_checkpoint_and_status_in_the_store(store, job_type):
    ws = store.create_workspace()
    spec = _spec()
    record, removed = workspace.record_run(store, ws, spec)
    assert removed == [] and store.run(ws, record.run).status == "queued"
    job = job_type(spec, record=record)
    job.start()
    assert job.join(60)
    snap = job.snapshot()
    run = store.run(ws, record.run)
    assert run.status == "finished" == snap.status and run.epoch == 6
    assert _rows(store.history(ws, record.run)) == _rows(snap.history)
    checkpoint = store.load_checkpoint(ws, record.run)
    assert checkpoint.meta["epoch"] == 6 and checkpoint.meta["history"] == []
    for name in spec.names:  # the saved weights are the trained ones, bit for bit
        for key, value in snap.weights[name].items():
            assert torch.equal(checkpoint.tensors[f"model/{name}/{key}"], value), (name, key)
    # the stored spec gives back the same run (the series from the workspace's dataset)
    again = workspace.run_spec(store, ws, run)
    assert again.to_dict() == spec.to_dict()
    assert np.array_equal(again.data.series, spec.data.series)


def test_a_saved_run_resumes_from_its_checkpoint_to_the_uninterrupted_result(store):
    ws = store.create_workspace()
    spec = _spec(epochs=6)
    whole = TrainingJob(spec)
    whole.start()
    assert whole.join(60)
    # A run that saved at epoch 3 and trained two more epochs before its server died.
    record, _ = workspace.record_run(store, ws, spec)
    trainer = Trainer(spec)
    train(trainer, should_stop=lambda: trainer.epoch >= 3)
    tensors, meta = trainer.resumable_state()
    store.append_history(ws, record.run, trainer.history)
    store.save_checkpoint(ws, record.run, tensors, {**meta, "history": []})
    train(trainer, should_stop=lambda: trainer.epoch >= 5)  # epochs 4-5: lost with the server
    store.append_history(ws, record.run, trainer.history[3:])
    assert store.run(ws, record.run).epoch == 5

    job = workspace.resume_job(record, TrainingJob)
    assert job.status == "stopped" and job.can_resume
    assert [r["epoch"] for r in store.history(ws, record.run)] == [1, 2, 3]  # cut back
    assert job.resume() and job.join(60)
    assert job.status == "finished"
    assert _rows(job.snapshot().history) == _rows(whole.snapshot().history)
    assert _rows(store.history(ws, record.run)) == _rows(whole.snapshot().history)
    for name in spec.names:
        for key, value in whole.snapshot().weights[name].items():
            assert torch.equal(job.snapshot().weights[name][key], value)


def _trained(store, ws: str, spec: RunSpec) -> tuple[workspace.RunRecord, TrainingJob]:
    """A recorded run of `spec`, trained to its end in a thread."""
    record, _ = workspace.record_run(store, ws, spec)
    job = TrainingJob(spec, record=record)
    job.start()
    assert job.join(60)
    return record, job


def test_a_process_job_resumes_a_saved_run_too(store):
    ws = store.create_workspace()
    spec = _spec(epochs=4)
    record, first = _trained(store, ws, spec)
    store.truncate_history(ws, record.run, 2)  # as if the last save had been at epoch 2 ...
    trainer = Trainer(spec)
    train(trainer, should_stop=lambda: trainer.epoch >= 2)
    tensors, meta = trainer.resumable_state()
    store.save_checkpoint(ws, record.run, tensors, {**meta, "history": []})  # ... with its state
    job = workspace.resume_job(record, ProcessJob)
    snap = job.snapshot()
    assert snap.status == "stopped" and snap.epoch == 2 and snap.weights is not None
    assert job.resume() and job.join(60)
    assert _rows(job.snapshot().history) == _rows(first.snapshot().history)
    assert store.run(ws, record.run).status == "finished"


def test_a_stored_snapshot_shows_the_saved_run(store):
    ws = store.create_workspace()
    spec = _spec(epochs=3)
    record, job = _trained(store, ws, spec)
    snap = workspace.stored_snapshot(store, ws, record.run)
    live = job.snapshot()
    assert snap.status == "finished" and snap.epoch == 3
    assert _rows(snap.history) == _rows(live.history)
    x = torch.as_tensor(spec.data.series[:20], dtype=torch.float32).view(1, 20, 1)
    for name in spec.names:  # the rebuilt models compute what the trained ones do
        assert torch.equal(snap.model(name)(x)[0], live.model(name)(x)[0])


def _bundle(store, ws) -> tuple[bytes, RunSpec, int]:
    spec = spec_for(make_sine(DataConfig(points=240, periods=3)), 0.8, SMALL, _cfg(epochs=3))
    record, _ = _trained(store, ws, spec)
    return workspace.bundle_bytes(store, ws, record.run, "hidden 6"), spec, record.run


def test_a_bundle_carries_a_run_into_another_workspace(store):
    ws, other = store.create_workspace(), store.create_workspace()
    data, spec, run = _bundle(store, ws)
    new, removed = workspace.import_bundle(store, other, data)
    assert removed == []
    a, b = store.run(ws, run), store.run(other, new)
    assert b.status == "finished" and b.name == "hidden 6" and b.epoch == a.epoch
    assert b.summary == a.summary
    assert workspace.run_spec(store, other, b).to_dict() == spec.to_dict()
    assert _rows(store.history(other, new)) == _rows(store.history(ws, run))
    shown = workspace.stored_snapshot(store, other, new)
    for name in spec.names:
        for key, value in workspace.stored_snapshot(store, ws, run).weights[name].items():
            assert torch.equal(shown.weights[name][key], value)
    # Its replay frames come along: the run can be replayed in the other workspace too.
    assert store.frame_epochs(other, new) == store.frame_epochs(ws, run) == [0, 1, 2, 3]
    before = workspace.stored_snapshot(store, ws, run).at_epoch(1)
    after = shown.at_epoch(1)
    for name in spec.names:
        for key, value in before.weights[name].items():
            assert torch.equal(after.weights[name][key], value)
        assert any(  # control: epoch 1's weights are not the last epoch's
            not torch.equal(value, shown.weights[name][key])
            for key, value in after.weights[name].items()
        )


def test_a_bundle_of_an_mlp_with_a_window_carries_its_last_inputs_and_loads(store):
    ws, other = store.create_workspace(), store.create_workspace()
    model = dataclasses.replace(SMALL, mlp_window=3)
    spec = spec_for(make_sine(DataConfig(points=240, periods=3)), 0.8, model, _cfg(epochs=2))
    record, _ = _trained(store, ws, spec)
    data = workspace.bundle_bytes(store, ws, record.run)
    config = json.loads(zipfile.ZipFile(BytesIO(data)).read("config.json"))
    assert config["meta"]["state_shapes"]["state/mlp/0"][1:] == [2, 1]  # its last 2 inputs
    new, _ = workspace.import_bundle(store, other, data)
    x = torch.as_tensor(spec.data.series[:20], dtype=torch.float32).view(1, 20, 1)
    a = workspace.stored_snapshot(store, ws, record.run)
    b = workspace.stored_snapshot(store, other, new)
    assert torch.equal(a.model("mlp")(x)[0], b.model("mlp")(x)[0])

    def too_long(config):  # the control: a window the MLP does not have
        config["meta"]["state_shapes"]["state/mlp/0"][1] = 5

    with pytest.raises(BundleError, match="last 2 inputs"):
        workspace.import_bundle(store, other, _tamper(data, "config.json", _config_edit(too_long)))


def _tamper(data: bytes, member: str, edit) -> bytes:
    out = BytesIO()
    with zipfile.ZipFile(BytesIO(data)) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            content = zin.read(info)
            zout.writestr(info.filename, edit(content) if info.filename == member else content)
    return out.getvalue()


def _config_edit(fn):
    def edit(content: bytes) -> bytes:
        config = json.loads(content)
        fn(config)
        return json.dumps(config).encode()

    return edit


def test_a_bundle_whose_weights_do_not_fit_its_spec_is_refused_and_nothing_changes(store):
    ws, other = store.create_workspace(), store.create_workspace()
    data, _, _ = _bundle(store, ws)

    def bigger(config):  # the weights are those of 6 units
        for m in config["spec"]["models"]:
            m["hidden_size"] = 7
        config["meta"]["state_shapes"] = {
            k: [*v[:2], 7] for k, v in config["meta"]["state_shapes"].items()
        }

    def wrong_state(config):
        config["meta"]["state_shapes"] = {"state/gru/0": [1, 2, 9]}

    for edit, said in (
        (_config_edit(bigger), "shape"),
        (_config_edit(wrong_state), "units"),
        (_config_edit(lambda c: c["spec"].update(task="nope")), "run spec"),
    ):
        with pytest.raises(BundleError, match=said) as info:
            workspace.import_bundle(store, other, _tamper(data, "config.json", edit))
        assert "\n" not in str(info.value)
    assert store.runs(other) == []


def test_an_uploads_timestamps_are_kept_with_its_data_and_its_runs(store):
    from gru_core.spec import Dataset

    ws = store.create_workspace()
    series = np.sin(np.arange(120) / 5)
    times = (np.arange(120) * np.timedelta64(1, "h") + np.datetime64("2024-06-01")).astype(
        "datetime64[ns]"
    )
    data = Dataset(series, 0.8, "temps.csv: 120 points", "upload", times=times)
    found = workspace.stored_data(store.dataset(ws, workspace.add_data(store, ws, data)))
    np.testing.assert_array_equal(found.times, times)
    spec = dataclasses.replace(_spec(), data=data)
    record, _ = workspace.record_run(store, ws, spec)
    again = workspace.run_spec(store, ws, store.run(ws, record.run))
    np.testing.assert_array_equal(again.data.times, times)
    np.testing.assert_array_equal(again.data.series, series)


def test_a_text_runs_bundle_carries_its_samples_into_another_workspace(store):
    from gru_core.config import PRESETS

    text = "".join(f"the cat sat on mat {i % 7}.\nthe dog ran to log {i % 5}.\n" for i in range(40))
    preset = dataclasses.replace(
        PRESETS["seed003"], options={"corpus": "upload", "text": text, "prefix": "the "}
    )
    spec = RunSpec.from_preset(
        preset,
        model=ModelConfig(models=("gru",), hidden_size=8),
        train=dataclasses.replace(
            preset.train, device="cpu", epochs=2, lr=1.0, batch_size=4, seq_len=16, eval_every=1
        ),
    )
    ws, other = store.create_workspace(), store.create_workspace()
    record, _ = _trained(store, ws, spec)
    samples = [r["gru_sample"] for r in store.history(ws, record.run)]
    assert all(isinstance(s, str) and s.startswith("the ") for s in samples)
    new, _ = workspace.import_bundle(store, other, workspace.bundle_bytes(store, ws, record.run))
    assert [r["gru_sample"] for r in store.history(other, new)] == samples
