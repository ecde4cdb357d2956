"""A sweep's runs: run specs from a grid of settings, trained in groups on an executor.

`Sweep` is what a sweep trains: a base run (data, model and training settings, task)
and a grid of settings x seeds. Grid names are the settings' command-line names, read
from their one declaration in gru_core.config (`--seq-len` -> `seq-len`; a setting
without an option goes by its key: `layers`, `batch`, `schedule`). `Sweep.items`
groups the runs for an executor: runs of one shape (`batched.batch_key`) train together
as one batched model, model by model, each still with exactly its single-run numbers,
and a model that several runs train alike (the baseline of runs that differ only in the
GRU's size) trains once; `train_group` is the worker's function and `run_sweep` yields
each run's result as soon as all of it has trained.
`SweepJob` runs a sweep in a background thread (for the app), with cancel.

A run's result is a dict: {"status", "index", "key", "settings", "seed",
"train_seconds", "history", "metrics", "error"}: `status` "finished", "diverged" or
"failed", `metrics` as `train --json` reports them per model (None when the run did not
finish), `error` None or one line.
"""

from __future__ import annotations

import dataclasses
import heapq
import math
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gru_core import sweep
from gru_core.config import ConfigError, ModelConfig, Setting, TrainConfig, settings
from gru_core.spec import Dataset, RunSpec

RAY_ADDRESS_ENV = "GRU_LAB_RAY_ADDRESS"  # the Ray cluster the app's sweeps run on, if any
# Seeds are the sweep's own; the rest are not a grid (a sweep's runs share their models:
# its charts and bands are per model, and a grid value cannot hold a list of kinds).
_NOT_SWEPT = ("seed", "device", "mlp_hidden", "models", "slow_motion")
MAX_SECONDS = 30 * 60  # a sweep estimated to take longer is refused
# Rough seconds per epoch per training point of one model trained alone, one thread, on
# the `fast`, `seed` and `window` presets (BENCHMARKS.md section 9b): one layer on the
# numpy whole-step kernels; on torch, a one-layer recurrent model, each layer of a deeper
# one (its fed-back forecasts step through torch), and a feed-forward one.
# Recurrent models past `_WIDE` units pay for their arithmetic, as the square of their width.
_ALONE_SECONDS_PER_POINT = {
    ("numpy", "recurrent"): 1.2e-5,
    ("numpy", "feedforward"): 4e-6,
    ("torch", "recurrent"): 5e-5,
    ("torch", "layer"): 3e-5,
    ("torch", "feedforward"): 2e-5,
}
_WIDE = 96
# Windowed training: per window time step, seconds per batch (a call's overhead) and per
# window (arithmetic), fitted to the `fast` preset's model in windows of 20 and 60 steps, in
# batches of 2 to 240 (BENCHMARKS.md section 9b).
_WINDOWED_SECONDS = (1.5e-5, 1.4e-6)
# A batched group's time per step, in parameters' worth of work: fixed, and per run on top
# of its parameters (`fast` preset groups of 3, 6 and 12 runs, hidden 4 to 32, timed here).
_STEP_COST = 24_000
_RUN_COST = 1_300
# Seconds per unit of `group_cost` in a worker: parts of the 48-run `fast` sweep (12 runs)
# and of 3 and 6 of its runs, timed alone on one thread here (BENCHMARKS.md section 9b):
# 0.70-0.76e-9 for GRUs (1.0e-9 for 12 runs of hidden 32), 0.34e-9 for the MLP baseline,
# whose parameters see each window once, not step by step.
_SECONDS_PER_COST = {"recurrent": 0.75e-9, "feedforward": 0.34e-9}
_WORKER_START_SECONDS = 0.5  # local workers forked and handed their first items


def grid_name(s: Setting) -> str:
    """A setting's name in a grid: its command-line option without dashes, else its key."""
    return s.flag.removeprefix("--") if s.flag else s.key


def sweepable() -> dict[str, Setting]:
    """The settings a sweep can vary, by grid name, in declaration order."""
    return {grid_name(s): s for s in settings().values() if s.key not in _NOT_SWEPT}


def _boolean(text: str) -> bool:
    words = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
    try:
        return words[text.strip().lower()]
    except KeyError:
        raise ValueError(text) from None


_boolean.__name__ = "true/false"


def value_type(s: Setting) -> Callable[[str], object]:
    """How to read one value of setting `s` from text (int, float, a choice, a boolean)."""
    if s.choices:
        return str
    if s.widget == "toggle":
        return _boolean
    return int if isinstance(s.range[0], int) else float


def parse_grid(specs: Iterable[str]) -> dict[str, list]:
    """`NAME=V1,V2,...` strings -> {grid name: values}; SweepError for a bad one."""
    return sweep.parse_grid(specs, {name: value_type(s) for name, s in sweepable().items()})


def _apply(model: ModelConfig, train: TrainConfig, values: Mapping[str, object]):
    """`model` and `train` with the settings of `values` (grid names) changed."""
    chosen: dict[str, dict] = {"model": {}, "train": {}}
    table = sweepable()
    for name, value in values.items():
        s = table[name]
        chosen[s.section][s.name] = value
    return (
        dataclasses.replace(model, **chosen["model"]),
        dataclasses.replace(train, **chosen["train"]),
    )


@dataclass(frozen=True, eq=False)
class Sweep:
    """A grid of settings x seeds around a base run; see the module docstring."""

    data: Dataset
    model: ModelConfig
    train: TrainConfig
    grid: dict[str, list]  # grid name -> values, in the grid's order
    seeds: int  # seeds per cell: train.seed, train.seed + 1, ...
    task: str = "forecast"
    options: dict = field(default_factory=dict)  # the task's own settings (RunSpec.options)
    max_runs: int = sweep.MAX_RUNS
    runs: list[dict] = field(init=False)

    def __post_init__(self) -> None:
        expanded = sweep.expand(
            self.grid, self.seeds, sweepable(), self.max_runs, first_seed=self.train.seed
        )
        for name, values in self.grid.items():  # every value in its setting's range
            for value in values:
                try:
                    _apply(self.model, self.train, {name: value})
                except ConfigError as exc:
                    raise sweep.SweepError(f"{name}={value}: {exc}") from None
        object.__setattr__(self, "runs", [{"index": i, **r} for i, r in enumerate(expanded)])

    def spec(self, run: Mapping, validate: bool = True) -> RunSpec:
        """Run `run`'s spec; ConfigError when its settings cannot train on this data."""
        model, train = _apply(self.model, self.train, run["settings"])
        # A sweep trains as fast as it can: slow motion is for watching one run.
        train = dataclasses.replace(train, seed=run["seed"], slow_motion=0.0)
        spec = RunSpec.of(self.data, model, train, self.task)
        spec = dataclasses.replace(spec, options=dict(self.options))
        return spec.validate() if validate else spec

    def items(self, workers: int = 1, runs: Iterable[Mapping] | None = None) -> list[dict]:
        """`runs` (default all) in items for an executor.

        Runs of one shape are grouped, in groups of at most ceil(runs / workers) so that
        every worker has work, the costliest group first (see `group_cost`): a worker that
        starts on a cheap group then has no long one left to finish alone while the others
        wait. A group is handed out as one part per model ({"runs", "models": [name],
        "copies"}), trained batched: smaller units share the work out more evenly, and a
        model that trains alike in several runs (`batched.model_key`, e.g. the MLP
        baseline of runs that differ only in the GRU's size) trains once, its numbers
        copied to the others (`copies`: run index -> runs); such shared parts go first.
        `run_sweep` puts each run back together. A run that cannot batch is an item of its
        own ({"runs": [run]})."""
        from gru_core.batched import batch_key, batchable, model_key

        runs = list(self.runs if runs is None else runs)

        def key(run: Mapping) -> object:
            try:
                spec = self.spec(run)
            except ConfigError:
                return ("alone", run["index"])  # fails in its worker, with its message
            return batch_key(spec) if batchable(spec) else ("alone", run["index"])

        size = max(1, math.ceil(len(runs) / max(1, workers)))
        groups = sweep.group_runs(runs, key, size)
        groups.sort(key=self.group_cost, reverse=True)  # stable: equal costs keep their order
        base = self.to_dict()
        items: list[dict] = []
        trained: dict[tuple, tuple[dict, str]] = {}  # model key -> (its part, the run it is)
        for group in groups:
            if key(group[0])[0] == "alone":  # a batch key starts with the task's name
                items.append({"sweep": base, "runs": group})
                continue
            specs = [self.spec(run) for run in group]
            for model in specs[0].models:
                part = {"sweep": base, "runs": [], "models": [model.name], "copies": {}}
                for run, spec in zip(group, specs, strict=True):
                    mkey = model_key(spec, model.name)
                    if mkey in trained:  # an earlier part trains this model of this run
                        other, index = trained[mkey]
                        other["copies"].setdefault(index, []).append(run)
                    else:
                        part["runs"].append(run)
                        trained[mkey] = (part, str(run["index"]))
                if part["runs"]:
                    items.append(part)
        # Parts that other groups' runs wait for go before all the rest: every group's runs
        # then finish as soon as their own parts do (a sweep's heatmap fills from the start).
        items.sort(key=lambda item: not item.get("copies"))
        return items

    def group_cost(self, group: Sequence[Mapping], names: Sequence[str] | None = None) -> float:
        """A group's relative cost, trained as one batch (of the models `names`, default all):
        each of its steps pays a fixed cost, a cost per run, and each run's parameters
        (model-points)."""
        from gru_core.models import parameter_counts

        try:
            spec = self.spec(group[0])  # a group's runs share their shape
        except ConfigError:
            return 0.0  # fails at once in its worker
        counts = parameter_counts(spec.models)
        steps = spec.train.epochs * self.data.n_train
        per_run = _RUN_COST + sum(counts[n] for n in (counts if names is None else names))
        return steps * (_STEP_COST + len(group) * per_run)

    def item_seconds(self, item: Mapping) -> float:
        """A rough estimate of one of `items`' seconds in its worker, before it runs: a
        batched part at `_SECONDS_PER_COST` of its `group_cost`, a run alone from its models'
        paces (`_ALONE_SECONDS_PER_POINT`)."""
        if "models" in item:
            from gru_core.models import kind

            try:
                spec = self.spec(item["runs"][0])
            except ConfigError:
                return 0.0  # fails at once in its worker
            cores = [kind(m.kind).core for m in spec.models if m.name in item["models"]]
            rate = _SECONDS_PER_COST["feedforward" if None in cores else "recurrent"]
            return self.group_cost(item["runs"], item["models"]) * rate
        return sum(self._alone_seconds(run) for run in item["runs"])

    def _alone_seconds(self, run: Mapping) -> float:
        """`item_seconds` of one run trained alone: each model's epochs' points at its pace."""
        from gru_core.models import kind

        try:
            spec = self.spec(run)
        except ConfigError:
            return 0.0
        pace = 0.0  # seconds per epoch per point, all models
        train = spec.train
        for m in spec.models:
            if kind(m.kind).core is None:  # feed-forward: no width or depth of its own here
                on = "numpy" if train.step_kernel == "numpy" else "torch"
                pace += _ALONE_SECONDS_PER_POINT[on, "feedforward"]
                continue
            width = max(1.0, m.hidden_size / _WIDE) ** 2
            if train.mode == "windowed":  # every point in about seq_len windows, batch by batch
                step, point = _WINDOWED_SECONDS
                pace += train.seq_len * (step / train.batch_size + point) * m.num_layers * width
            elif train.step_kernel == "numpy" and m.num_layers == 1:  # (LSTMs: torch, as fast)
                pace += _ALONE_SECONDS_PER_POINT["numpy", "recurrent"] * width
            else:
                one = m.num_layers == 1
                layers = _ALONE_SECONDS_PER_POINT["torch", "recurrent" if one else "layer"]
                pace += layers * m.num_layers * width
        return pace * spec.train.epochs * self.data.n_train

    def estimate_seconds(self, workers: int = 1) -> float:
        """A rough estimate of the sweep's wall time on `workers` workers, before it runs:
        its `items`, each taking `item_seconds`, handed in order to the first free worker
        (as the executors do), plus the workers' start."""
        free = [0.0] * max(1, workers)  # when each worker is next free
        for item in self.items(workers):
            heapq.heapreplace(free, free[0] + self.item_seconds(item))
        return _WORKER_START_SECONDS + max(free)

    def check_size(self, workers: int = 1, max_seconds: float = MAX_SECONDS) -> None:
        """SweepError when the sweep would take longer than `max_seconds` here."""
        seconds = self.estimate_seconds(workers)
        if seconds > max_seconds:
            raise sweep.SweepError(
                f"{len(self.runs)} runs would take about {seconds / 60:.0f} min on {workers}"
                f" worker(s); at most {max_seconds / 60:.0f} min can run here: use fewer values,"
                " seeds or epochs"
            )

    def to_dict(self) -> dict:
        """Plain JSON types only."""
        return {
            "data": self.data.to_dict(),
            "model": _plain(dataclasses.asdict(self.model)),
            "train": dataclasses.asdict(self.train),
            "grid": {k: list(v) for k, v in self.grid.items()},
            "seeds": self.seeds,
            "task": self.task,
            "options": dict(self.options),
            "max_runs": self.max_runs,
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> Sweep:
        return cls(
            Dataset.from_dict(d["data"]),
            ModelConfig(**d["model"]),
            TrainConfig(**d["train"]),
            {k: list(v) for k, v in d["grid"].items()},
            d["seeds"],
            d["task"],
            dict(d.get("options", {})),
            d["max_runs"],
        )


def _plain(d: dict) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}


# -- the worker's side -------------------------------------------------------------------------


def _result(
    run: Mapping,
    trainer=None,
    seconds: float = 0.0,
    error: str | None = None,
    status: str = "",
    names: Sequence[str] | None = None,
) -> dict:
    """A run's result (see the module's docstring), from its trainer; `names`: the models
    to report, default every one."""
    from gru_core.train import final_metrics

    finished = trainer is not None and error is None
    return _record(
        run,
        status or ("finished" if error is None else "failed"),
        seconds,
        [] if trainer is None else [dict(r) for r in trainer.history],
        final_metrics(trainer, names) if finished else None,
        error,
    )


def _record(
    run: Mapping,
    status: str,
    seconds: float,
    history: list[dict],
    metrics: dict | None,
    error: str | None,
) -> dict:
    return {
        "status": status,
        "index": run["index"],
        "key": run["key"],
        "settings": dict(run["settings"]),
        "seed": run["seed"],
        "train_seconds": seconds,
        "history": history,
        "metrics": metrics,
        "error": error,
    }


_SUMMED = ("seconds", "elapsed")  # a history row's times, last in it


def _merge(run: Mapping, parts: Sequence[dict], spec: RunSpec) -> dict:
    """Run `run`'s result from its parts' (each for some of its models), as the run would
    have ended alone: it stops at the first epoch in which any model diverged, with the
    message for every model that diverged in that epoch."""
    from gru_core.train import divergence

    failed = [p for p in parts if p["status"] == "failed"]
    if failed:
        return _result(run, error=failed[0]["error"])
    names = [m.name for m in spec.models]
    owner = {name: p for p in parts for name in p["models"]}
    parts = sorted(parts, key=lambda p: names.index(p["models"][0]))  # in the run's order
    rows = min(len(p["history"]) for p in parts)
    error = None
    diverged = [p["diverged"] for p in parts if p["diverged"] is not None]
    if diverged:
        epoch = min(d["epoch"] for d in diverged)
        at = [d for d in diverged if d["epoch"] == epoch]
        means = {n: d["means"][n] for n in names for d in at if n in d["means"]}
        broken = [n for n in names if any(n in d["broken"] for d in at)]
        error = divergence(spec, epoch, means, broken)  # its rows end before that epoch
    history = []
    for i in range(rows):
        own = [p["history"][i] for p in parts]
        row = {"epoch": own[0]["epoch"], "lr": own[0]["lr"]}
        for name in names:
            row[f"{name}_train_loss"] = owner[name]["history"][i][f"{name}_train_loss"]
        for r in own:  # the test columns, model by model
            row.update((k, v) for k, v in r.items() if k not in row and k not in _SUMMED)
        for key in _SUMMED:  # the parts' times add up to the run's
            row[key] = sum(r[key] for r in own)
        history.append(row)
    return _record(
        run,
        "finished" if error is None else "diverged",
        history[-1]["elapsed"] if history else 0.0,
        history,
        None if error else {n: owner[n]["metrics"][n] for n in names},
        error,
    )


def _share(result: dict, runs: int) -> dict:
    """A part's `result` as each of the `runs` it was trained for counts it: its times
    split among them, so that a sweep's times add up to its work, each part once."""
    if runs == 1:
        return result
    history = [{**row, **{k: row[k] / runs for k in _SUMMED}} for row in result["history"]]
    return {**result, "history": history, "train_seconds": result["train_seconds"] / runs}


def train_group(item: Mapping) -> dict:
    """A worker's unit: one group of `Sweep.items`, trained batched where it can be.

    Returns {"runs": [result, ...]} in the group's order. A run that cannot be built or
    diverges gets its one-line error; the others go on.
    """
    import torch

    from gru_core.batched import BatchedTrainer, batch_key, batchable, train_batched
    from gru_core.train import Diverged, Trainer, train

    torch.set_num_threads(1)  # small models: threads cost more than they give
    plan = Sweep.from_dict(item["sweep"])
    results: dict[int, dict] = {}
    ready = []
    for run in item["runs"]:
        try:
            ready.append((run, plan.spec(run)))
        except ConfigError as exc:
            results[run["index"]] = _result(run, error=str(exc))
    specs = [spec for _, spec in ready]
    part = item.get("models")  # one part of each run: some of its models
    together = (  # a whole group of runs that can batch
        len(ready) > 1 and all(map(batchable, specs)) and len(set(map(batch_key, specs))) == 1
    )
    if ready and (part or together):
        batched = BatchedTrainer(specs, part)
        train_batched(batched)
        for (run, _), trainer, error, diverged in zip(
            ready, batched.trainers, batched.errors, batched.diverged, strict=True
        ):
            status = "finished" if error is None else "diverged"
            result = _result(run, trainer, trainer.elapsed, error, status, batched.names)
            if part:  # what `run_sweep` puts the run back together from
                result = {**result, "models": batched.names, "diverged": diverged}
            results[run["index"]] = result
    else:
        for run, spec in ready:
            trainer = Trainer(spec)
            try:
                outcome = train(trainer)
            except Diverged as exc:
                error = str(exc)
                results[run["index"]] = _result(run, trainer, trainer.elapsed, error, "diverged")
            else:
                results[run["index"]] = _result(run, trainer, outcome.seconds)
    return {"runs": [results[run["index"]] for run in item["runs"]]}


# -- executors ---------------------------------------------------------------------------------


def make_executor(backend: str, workers: int, address: str | None = None, nice: int = 0):
    """The executor a sweep runs on: "local" processes (`nice` steps below this process's
    priority), or "ray" (the cluster at `address`, else at $GRU_LAB_RAY_ADDRESS, else a
    local Ray of `workers` CPUs)."""
    from gru_core import executors

    if backend == "local":
        return executors.LocalExecutor(workers, nice)
    if backend != "ray":
        raise ConfigError(f"backend must be local or ray; got {backend!r}")
    address = address or os.environ.get(RAY_ADDRESS_ENV) or None
    package = str(Path(__file__).resolve().parent)
    # A cluster's nodes get this package shipped; a local Ray's workers import it from here.
    env = (
        {"py_modules": [package]}
        if address
        else {"env_vars": {"PYTHONPATH": str(Path(package).parent)}}
    )
    return executors.RayExecutor(address, workers, env)


def run_sweep(items: list[dict], executor) -> Iterator[dict]:
    """Each run's result as soon as the executor has finished all of it (every part of it,
    for `Sweep.items`' parts); an item that fails as a whole (its worker died) reports its
    error for each of its runs."""
    waiting: dict[int, int] = {}  # run index -> parts it is made of
    for item in items:
        if item.get("models"):
            for run in [*item["runs"], *(r for rs in item["copies"].values() for r in rs)]:
                waiting[run["index"]] = waiting.get(run["index"], 0) + 1
    parts: dict[int, list[dict]] = {}
    plan = Sweep.from_dict(items[0]["sweep"]) if waiting else None
    for done in executor.run(train_group, items):
        runs = done.item["runs"]
        if done.error is None:
            results = done.result["runs"]
        else:
            results = [_result(run, error=done.error) for run in runs]
        if not done.item.get("models"):
            yield from results
            continue
        for run, result in zip(runs, results, strict=True):
            targets = [run, *done.item["copies"].get(str(run["index"]), [])]
            share = _share(result, len(targets))
            for target in targets:
                got = parts.setdefault(target["index"], [])
                got.append(share)
                if len(got) == waiting[target["index"]]:
                    yield _merge(target, parts.pop(target["index"]), plan.spec(target, False))


class SweepJob:
    """A sweep's runs in a background thread; results arrive in `results` as they finish.

    `on_result(result)` is called in that thread for each (e.g. to save it), `on_tick()`
    every `tick` seconds while it runs (e.g. to tell a store its queued runs are alive);
    `cancel()` stops the executor: finished results stay, queued runs never start.
    """

    def __init__(
        self,
        plan: Sweep,
        executor,
        runs: Iterable[Mapping] | None = None,
        on_result: Callable[[dict], None] | None = None,
        on_tick: Callable[[], None] | None = None,
        tick: float = 30.0,
    ) -> None:
        self.plan = plan
        self.on_tick, self.tick = on_tick, tick
        self._ended = threading.Event()
        self.executor = executor
        self.todo = list(plan.runs if runs is None else runs)
        self.on_result = on_result
        self.results: list[dict] = []
        self.error: str | None = None
        self.cancelled = False
        self.started = time.time()
        self.finished: float | None = None
        self._thread = threading.Thread(target=self._main, name="sweep", daemon=True)

    def start(self) -> SweepJob:
        self._thread.start()
        if self.on_tick is not None:
            threading.Thread(target=self._ticker, name="sweep-tick", daemon=True).start()
        return self

    def _ticker(self) -> None:
        while not self._ended.wait(self.tick):
            self.on_tick()

    def _main(self) -> None:
        workers = getattr(self.executor, "workers", None) or 1
        try:
            results = run_sweep(self.plan.items(workers, self.todo), self.executor)
            for result in results:
                self.results.append(result)
                if self.on_result is not None:
                    self.on_result(result)
                if self.cancelled:  # even if the executor had not started when told
                    results.close()  # ends the executor's run: its workers are stopped
                    break
        except Exception as exc:  # noqa: BLE001  shown on the page; finished runs stay
            self.error = f"{type(exc).__name__}: {exc}".splitlines()[0]
        finally:
            self.finished = time.time()
            self._ended.set()

    @property
    def running(self) -> bool:
        return self.finished is None

    def cancel(self) -> None:
        self.cancelled = True
        self.executor.cancel()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)
