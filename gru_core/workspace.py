"""Runs of a workspace: record a job's run as it trains, read it back, bundle it.

The glue between the engine (specs, trainers, jobs) and the store (`gru_core.store`),
which knows nothing of either. `record_run` creates a workspace's run for a spec and
gives the `RunRecord` a job carries to save it as it trains (`gru_core.recording`);
`resume_job` turns a stopped or interrupted run back into a job that goes on from its
last saved epoch. `bundle_bytes` / `import_bundle` move a run out of and into a
workspace; `read_run_bundle` is the one way a bundle is read (the app and the command
line): it checks every tensor's name and shape against the spec before loading.
Nothing here imports streamlit.
"""

from __future__ import annotations

import dataclasses
import functools
import shlex
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np
import torch

from gru_core import bundle as bundles
from gru_core import replay
from gru_core import store as stores
from gru_core.config import ConfigError, DataConfig
from gru_core.i18n import t
from gru_core.job import Snapshot, TrainingJob
from gru_core.recording import RunRecord, weights_of
from gru_core.spec import Dataset, RunSpec, times_from_text
from gru_core.tasks import parameter_counts

# -- specs and data in the store ----------------------------------------------------------


def data_meta(data: Dataset) -> dict:
    """A dataset's description without its values (the store keeps those as a blob)."""
    meta = data.to_dict()
    meta.pop("values", None)
    return meta


def stored_data(found: stores.Dataset) -> Dataset:
    """A dataset of the store as the engine's `Dataset`."""
    return _dataset({"label": found.name, **found.meta}, found.series)


def _dataset(meta: dict, series: np.ndarray) -> Dataset:
    """A `Dataset` from its description (`data_meta`) and its values."""
    sine = DataConfig(**meta["sine"]) if meta.get("sine") is not None else None
    return Dataset(
        np.asarray(series, dtype=np.float64),
        float(meta.get("train_fraction", 0.8)),
        str(meta.get("label", "")),
        str(meta.get("source", "upload")),
        sine,
        times_from_text(meta.get("times")),
    )


def _spec_with(d: dict, series: np.ndarray) -> RunSpec:
    """A spec from its dict (data described, values or not) and the series it trained on."""
    inline = {k: v for k, v in d["data"].items() if k != "sine"}
    spec = RunSpec.from_dict({**d, "data": {**inline, "values": series}})
    return dataclasses.replace(spec, data=_dataset(d["data"], series))


def add_data(store: stores.Store, ws: str, data: Dataset) -> int:
    """Keep `data` in the workspace (one copy of each series); its dataset id."""
    return store.add_dataset(ws, data.series, data.label, data_meta(data))


def spec_dict(spec: RunSpec) -> dict:
    """The spec as stored with its run: the data's values live in the run's dataset."""
    out = spec.to_dict()
    out["data"] = data_meta(spec.data)
    return out


def run_spec(store: stores.Store, ws: str, run: stores.Run) -> RunSpec:
    """The run's spec, its data read from its dataset."""
    if run.dataset is None:
        return RunSpec.from_dict(run.spec)
    return _spec_with(run.spec, store.dataset(ws, run.dataset).series)


def record_run(
    store: stores.Store, ws: str, spec: RunSpec, *, name: str = "", sweep: str | None = None
) -> tuple[RunRecord, list[stores.Removed]]:
    """Create the workspace's run for `spec` (queued), its data kept; and the runs removed.

    Give the record to the job that trains it (`TrainingJob(spec, record=...)`): the job
    saves the run's history and resumable state as it trains, and its status.
    """
    dataset = add_data(store, ws, spec.data)
    run, removed = store.create_run(
        ws,
        spec_dict(spec),
        dataset,
        name=name,
        sweep=sweep,
        params=parameter_counts(spec),
    )
    return RunRecord(str(store.root), ws, run), removed


# -- reading a run back ---------------------------------------------------------------------


class StoredFrames(Mapping):
    """A saved run's replay frames (epoch -> frame), each read from the store when asked for.

    Listing the epochs reads no tensors; a few frames read last are kept.
    """

    def __init__(self, store: stores.Store, ws: str, run: int, up_to: int) -> None:
        self._store, self._ws, self._run = store, ws, run
        self._epochs = [e for e in store.frame_epochs(ws, run) if e <= up_to]
        self._read = functools.lru_cache(maxsize=4)(self._load)

    def _load(self, epoch: int) -> dict:
        found = self._store.load_frame(self._ws, self._run, epoch)
        if found is None:
            raise KeyError(epoch)
        return replay.unflatten(*found)

    def __getitem__(self, epoch: int) -> dict:
        if epoch not in self._epochs:
            raise KeyError(epoch)
        return self._read(epoch)

    def __iter__(self) -> Iterator[int]:
        return iter(self._epochs)

    def __len__(self) -> int:
        return len(self._epochs)


def stored_frames(store: stores.Store, ws: str, run: int, up_to: int) -> dict[int, dict]:
    """A saved run's replay frames up to epoch `up_to`, all read now (for a job to hold)."""
    return dict(StoredFrames(store, ws, run, up_to))


def stored_snapshot(store: stores.Store, ws: str, run_id: int) -> Snapshot:
    """A saved run as a job snapshot (weights from its checkpoint; none if it has none)."""
    run = store.run(ws, run_id)
    spec = run_spec(store, ws, run)
    history = store.history(ws, run_id)
    checkpoint = store.load_checkpoint(ws, run_id)
    weights = states = None
    if checkpoint is not None:
        weights, states = weights_of(*checkpoint)
        history = [r for r in history if r["epoch"] <= checkpoint.meta.get("epoch", run.epoch)]
    epoch = history[-1]["epoch"] if history else 0
    return Snapshot(
        status=run.status,
        message=run.message,
        epoch=epoch,
        history=history,
        spec=spec,
        device="cpu",
        device_reason=t("device.saved_run"),
        parameters=dict(run.params) or parameter_counts(spec),
        elapsed=run.seconds,
        can_resume=run.status in ("stopped", "interrupted") and run.epoch < spec.train.epochs,
        run=run_id,
        weights=weights,
        states=states,
        frames=StoredFrames(store, ws, run_id, epoch),
    )


def resume_job(record: RunRecord, job_type: type[TrainingJob]) -> TrainingJob:
    """A stopped job for a saved run that goes on from its last saved state.

    The history is cut back to the checkpoint's epoch (later rows are trained again).
    A run with no checkpoint yet starts again from its first epoch.
    """
    store, ws, run_id = record.store, record.ws, record.run
    spec = run_spec(store, ws, store.run(ws, run_id))
    checkpoint = store.load_checkpoint(ws, run_id)
    job = job_type(spec, record=record)
    epoch = 0 if checkpoint is None else int(checkpoint.meta["epoch"])
    store.truncate_history(ws, run_id, epoch)
    if checkpoint is not None:
        meta = {**checkpoint.meta, "history": store.history(ws, run_id)}
        job.load_state(dict(checkpoint.tensors), meta)
        job.add_frames(stored_frames(store, ws, run_id, epoch))
    return job


# -- bundles --------------------------------------------------------------------------------


def command_line(spec: RunSpec) -> str:
    """A command line that trains `spec` again (its data from the bundle's series.csv)."""
    parts = ["python", "-m", "gru_core", "train", "--task", spec.task]
    parts += ["--models", ",".join(m.kind for m in spec.models)]
    first = spec.models[0]
    parts += ["--hidden", str(first.hidden_size), "--layers", str(first.num_layers)]
    t = spec.train
    parts += ["--seq-len", str(t.seq_len), "--lr", repr(t.lr), "--epochs", str(t.epochs)]
    parts += ["--seed", str(t.seed), "--batch", str(t.batch_size)]
    if spec.data.sine is None:
        parts += ["--data", "series.csv", "--column", "value"]
    return shlex.join(parts)


def bundle_state(tensors: dict[str, torch.Tensor], meta: dict) -> tuple[dict, dict]:
    """What a bundle carries of a resumable state: the weights and the carried states.

    Optimizer moments and the task's state stay out: a bundle is for looking at a run and
    evaluating it (`trainer_of`), and holds float tensors only.
    """
    kept = {k: v for k, v in tensors.items() if k.startswith(("model/", "state/"))}
    shapes = {k: list(v.shape) for k, v in kept.items() if k.startswith("state/")}
    lean = {k: meta[k] for k in ("epoch", "elapsed", "state_parts", "state_tuples") if k in meta}
    return kept, {**lean, "state_shapes": shapes}


def trained_bundle(
    trainer, command: str, *, name: str, meta: dict, path: str | Path | None = None
) -> bytes:
    """A trainer's run as bundle bytes (also written to `path`): weights, history, series."""
    tensors, state_meta = bundle_state(*trainer.resumable_state())
    spec = trainer.spec
    return bundles.write_bundle(
        spec.to_dict(),
        trainer.history,
        tensors,
        spec.data.series,
        command,
        name=name,
        meta={**state_meta, **meta},
        path=path,
        frames={e: replay.flatten(frame) for e, frame in (trainer.frames or {}).items()},
    )


def bundle_bytes(store: stores.Store, ws: str, run_id: int, label: str = "") -> bytes:
    """The saved run as bundle bytes; StoreError if it has no saved weights yet."""
    run = store.run(ws, run_id)
    spec = run_spec(store, ws, run)
    checkpoint = store.load_checkpoint(ws, run_id)
    if checkpoint is None:
        training = run.status in ("queued", "running")
        raise stores.StoreError(
            t("bundle.error.no_weights_yet" if training else "bundle.error.no_weights")
        )
    tensors, meta = bundle_state(dict(checkpoint.tensors), checkpoint.meta)
    epoch = meta.get("epoch", 0)
    history = [r for r in store.history(ws, run_id) if r["epoch"] <= epoch]
    frames = {e: store.load_frame(ws, run_id, e) for e in store.frame_epochs(ws, run_id)}
    return bundles.write_bundle(
        spec.to_dict(),
        history,
        tensors,
        spec.data.series,
        command_line(spec),
        name=run.name or label,
        meta={**meta, "params": run.params, "seconds": run.seconds},
        frames={e: tuple(f) for e, f in frames.items() if f is not None and e <= epoch},
    )


def expected_shapes(config: dict) -> dict[str, tuple[int, ...]]:
    """The tensors a bundle of this config must hold, and their shapes (from its spec).

    Weights are those a fresh trainer of the spec has; carried states are those the
    config lists, each shaped (layers, batch, that model's hidden size).
    """
    from gru_core.train import Trainer

    try:
        spec = _spec_with(config["spec"], np.sin(np.arange(_points(config["spec"]))))
        with torch.device("cpu"):
            fresh, _ = Trainer(spec).resumable_state()
    except (ConfigError, KeyError, TypeError, ValueError) as exc:
        raise bundles.BundleError(f"the run spec cannot be used ({exc})") from None
    shapes = {k: tuple(v.shape) for k, v in fresh.items() if k.startswith("model/")}
    listed = config.get("meta", {}).get("state_shapes", {})
    if not isinstance(listed, dict):
        raise bundles.BundleError("meta.state_shapes is not an object")
    for key, shape in listed.items():
        name = key.split("/")[1] if key.count("/") == 2 else None
        ok = (
            key.startswith("state/")
            and name in spec.names
            and isinstance(shape, list)
            and len(shape) == 3
            and all(isinstance(n, int) and 0 < n <= 4096 for n in shape)
        )
        if not ok:
            raise bundles.BundleError(f"the carried state {key!r} is not one to load")
        _check_state(key, shape, spec.model(name))
        shapes[key] = tuple(shape)
    return shapes


def _check_state(key: str, shape: list[int], model) -> None:
    """A carried state's shape against its model: a recurrent model's (layers, batch, hidden);
    the MLP's (batch, window - 1, 1), the inputs it last read."""
    if model.kind == "mlp":
        if model.mlp_window < 2 or shape[1:] != [model.mlp_window - 1, 1]:
            raise bundles.BundleError(
                f"the carried state {key!r} is not the MLP's last {model.mlp_window - 1} inputs"
            )
        return
    if shape[0] != model.num_layers:
        raise bundles.BundleError(f"the carried state {key!r} is not one to load")
    if shape[2] != model.hidden_size:
        raise bundles.BundleError(
            f"the carried state {key!r} has {shape[2]} units, the model {model.hidden_size}"
        )


def _points(spec: dict) -> int:
    data = spec.get("data", {})
    if data.get("sine") is not None:
        return int(data["sine"]["points"])
    return len(data.get("values", ())) or 1


def read_run_bundle(source: bytes | str | Path) -> tuple[bundles.Bundle, RunSpec]:
    """A bundle, checked against its own spec, and that spec with the bundle's series."""
    found = bundles.read_bundle(source, expected_shapes=expected_shapes)
    try:
        spec = _spec_with(found.spec, found.series).validate()
    except (ConfigError, KeyError, TypeError, ValueError) as exc:
        raise bundles.BundleError(f"config.json: the run spec cannot be used ({exc})") from None
    for epoch, frame in found.frames.items():
        try:  # each frame's meta must put its carried states together, as replay will
            replay.unflatten(*frame)
        except (KeyError, TypeError, ValueError, IndexError, RuntimeError) as exc:
            raise bundles.BundleError(
                f"{bundles.FRAMES}: the frame at epoch {epoch} cannot be read ({exc})"
            ) from None
    return found, spec


def trainer_of(spec: RunSpec, tensors: dict[str, torch.Tensor], meta: dict):
    """A trainer holding a bundle's weights and carried states, ready to evaluate."""
    from gru_core.train import Trainer

    fresh = Trainer(spec)  # what a bundle leaves out: the task's state, as a new run has it
    task = {f"task/{k}": v for k, v in fresh.task.resumable().items()}
    return Trainer.resume(spec, {**task, **tensors}, {"history": [], **meta})


def import_bundle(store: stores.Store, ws: str, data: bytes) -> tuple[int, list[stores.Removed]]:
    """Add a bundle's run to the workspace; BundleError (nothing changed) if it is refused."""
    found, spec = read_run_bundle(data)
    meta = {k: v for k, v in found.config["meta"].items() if k != "state_shapes"}
    return store.import_run(
        ws,
        spec_dict(spec),
        spec.data.series,
        found.history,
        found.tensors,
        {**meta, "history": []},
        name=found.config["name"],
        dataset_name=spec.data.label,
        dataset_meta=data_meta(spec.data),
        frames=found.frames,
    )
