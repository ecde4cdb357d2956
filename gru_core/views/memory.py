"""The Memory page's computations: how far back each recurrent model of a run reaches.

For each model, at its initial weights and at a snapshot: the gradient influence of the
input k steps back on the last forecast (`memory.gradient_influence`), each unit's time
scale from its keep gate (z, f) and the share of saturated gate values, all over one probe
stretch of the series. `length_experiment` trains the chosen kinds on the same data at
growing sequence lengths (windows each read from a fresh state, so the length bounds what
a model can learn to use) and keeps each one's best test error.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from gru_core import cells, gates, memory
from gru_core.i18n import t
from gru_core.job import Snapshot
from gru_core.models import Forecaster, build_model, recurrent_core
from gru_core.spec import RunSpec

PROBE_STEPS = 60  # the stretch the gradient influence reads: lags 0..59
TRACE_STEPS = 400  # the stretch time scales and saturation are measured over
LENGTHS = (5, 20, 80)  # the experiment's sequence lengths by default
LENGTH_OPTIONS = (2, 5, 10, 20, 40, 80, 160)  # lengths the page offers
EXPERIMENT_EPOCHS = 20  # epochs per cell of the experiment by default
EXPERIMENT_BATCH = 32  # windows per step: 20 epochs of 3 kinds x 3 lengths in about 15 s
EXPERIMENT_LR = 1e-2  # Adam's rate, cosine-decayed, for every cell alike


@torch.no_grad()
def initial_model(spec: RunSpec, name: str, like: Forecaster) -> Forecaster:
    """Model `name` of `spec` with the weights training started from, scaled like `like`.

    The run's seeding is replayed (every model built in order, as the trainer builds
    them) inside a forked generator: the process's own random state is left as it was.
    """
    from gru_core.train import _BUILD_LOCK, _SEEDINGS

    built: dict[str, Forecaster] = {}

    def build(model_spec) -> None:
        built[model_spec.name] = build_model(model_spec)

    state = np.random.get_state()
    try:
        with _BUILD_LOCK, torch.random.fork_rng(devices=[]):
            _SEEDINGS[spec.seeding](spec, build)
    finally:
        np.random.set_state(state)
    model = built[name]
    model.set_scale(float(like.mean), float(like.std))
    return model.eval()


def probe(snapshot: Snapshot, model: Forecaster, steps: int) -> torch.Tensor:
    """The last `steps` points of the training part as the model reads them: (1, steps, 1)."""
    part = snapshot.train_part[-steps:]
    return model.scale_in(torch.as_tensor(part, dtype=torch.float32)).view(1, -1, 1)


def influence(model: Forecaster, core: torch.nn.Module, x: torch.Tensor) -> np.ndarray:
    """|| d y_T / d x_{T-k} || by lag k (T,), through torch's own core (autograd)."""
    return memory.gradient_influence(lambda v: model.linear(core(v)[0]), x)


@dataclass(frozen=True)
class MemoryState:
    """One model's memory measures at one set of weights."""

    influence: np.ndarray  # (lags,) by lag k = 0, 1, ...
    time_scales: np.ndarray | None  # (hidden,) steps; None: the kind has no keep gate
    saturation: pd.DataFrame  # one row per sigmoid gate (none for an RNN)


def measure(snapshot: Snapshot, model: Forecaster, core: torch.nn.Module) -> MemoryState:
    """The memory measures of `model` (whose recurrent core is `core`), first layer."""
    lags = min(PROBE_STEPS, snapshot.n_train)
    x = probe(snapshot, model, lags)
    trace = gates.trace(
        core, probe(snapshot, model, min(TRACE_STEPS, snapshot.n_train))[0], layer=0
    )
    keep = cells.KINDS[trace.kind].keep_gate
    return MemoryState(
        influence=influence(model, core, x),
        time_scales=None if keep is None else memory.time_scales(trace),
        saturation=memory.saturation(trace),
    )


@dataclass(frozen=True)
class ModelMemory:
    name: str
    kind: str
    keep_gate: str | None  # z, f, or None
    initial: MemoryState
    current: MemoryState


def model_memory(snapshot: Snapshot, name: str) -> ModelMemory:
    """Model `name`'s memory at its initial weights and at this snapshot's."""
    model, core = snapshot.model(name), snapshot.core(name)
    if core is None:
        raise ValueError(f"{snapshot.label(name)} has no recurrent core")
    start = initial_model(snapshot.spec, name, model)
    kind = cells.kind_of(core)
    return ModelMemory(
        name=name,
        kind=kind,
        keep_gate=cells.KINDS[kind].keep_gate,
        initial=measure(snapshot, start, recurrent_core(snapshot.spec.model(name), start)),
        current=measure(snapshot, model, core),
    )


def saturation_table(memories: Sequence[ModelMemory], labels: Callable[[str], str]) -> pd.DataFrame:
    """Share of saturated gate values (below 0.05 or above 0.95) per model and gate, at the
    start and now."""
    rows = []
    for m in memories:
        now = m.current.saturation.set_index("gate")["saturated"]
        for gate, start in m.initial.saturation.set_index("gate")["saturated"].items():
            rows.append(
                {"model": labels(m.name), "gate": gate, "at the start": start, "now": now[gate]}
            )
    return pd.DataFrame(rows, columns=["model", "gate", "at the start", "now"])


COLUMNS = {  # the tables' columns, named in English in the code -> their headers' keys
    "model": "memory.col.model",
    "gate": "memory.col.gate",
    "at the start": "chart.at_start",
    "now": "chart.now",
    "length": "memory.col.length",
}


def shown_column(name: str) -> str:
    """A table's column as the page heads it, in the current language (model names as they are)."""
    return t(COLUMNS[name]) if name in COLUMNS else name


def shown_columns(table: pd.DataFrame) -> pd.DataFrame:
    """`table` with its columns headed in the current language, for display only."""
    return table.rename(columns=shown_column)


def experiment_spec(spec: RunSpec, kind: str, length: int, epochs: int) -> RunSpec:
    """The run `spec` with one model of `kind` (matched sizes kept), trained on batches of
    windows of `length` steps each read from a fresh state, for `epochs` epochs."""
    model = next((m for m in spec.models if m.kind == kind), None)
    if model is None:
        model = dataclasses.replace(spec.models[0], name=kind, kind=kind)
    train = dataclasses.replace(
        spec.train,
        seq_len=length,
        epochs=epochs,
        mode="windowed",
        batch_size=EXPERIMENT_BATCH,
        lr=EXPERIMENT_LR,
        lr_schedule="cosine",
        step_kernel="numpy",
        chunking="overlap",
        eval_state="warm",
        eval_every=1,
        device="cpu",
    )
    return dataclasses.replace(spec, models=(model,), train=train).validate()


def length_experiment(
    spec: RunSpec,
    kinds: Sequence[str],
    lengths: Sequence[int] = LENGTHS,
    epochs: int = EXPERIMENT_EPOCHS,
    on_row: Callable[[dict], None] | None = None,
) -> pd.DataFrame:
    """Best test error (free-running MSE) of each kind at each sequence length, same data.

    One row per (kind, length): `memory.length_experiment`'s table. Trains in this thread.
    """
    from gru_core.train import Trainer, train

    def run(kind: str, length: int, seed: int) -> dict:
        trainer = Trainer(experiment_spec(spec, kind, length, epochs))
        train(trainer)
        errors = [r[f"{kind}_test_rollout_mse"] for r in trainer.history]
        finite = [e for e in errors if e is not None and np.isfinite(e)]
        return {memory.BEST: min(finite) if finite else float("nan")}

    return memory.length_experiment(run, list(kinds), list(lengths), (spec.train.seed,), on_row)
