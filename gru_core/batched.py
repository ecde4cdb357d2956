"""Runs of one shape trained together as one batched numpy model, each exactly as alone.

Small models spend their time in per-call overhead, not arithmetic: one GRU time step is
a tiny matrix product and nine ufunc calls on a few dozen numbers. R runs that share
every shape (hidden size, sequence length, streams, data) and differ only in learning
rate and seed can make those calls once for all R: their parameters are stacked along a
leading axis, the elementwise steps work on (R, ...) arrays, and each matrix product is
one stacked `np.matmul` over R matrices.

Each run still gets exactly the numbers it gets alone (tests/test_batched.py compares
every history value and weight with `==`): elementwise float32 operations do not depend
on the array around them, and a stacked `np.matmul` makes, matrix by matrix, the same
BLAS call the single-run kernel makes (same shapes, same strides); where the single-run
code reduces a whole array (`np.dot`, `sum`, `np.tensordot`), the batched code reduces
a contiguous copy of each run's part in the same order.

Scope: the forecast task on the path of `TrainConfig(step_kernel="numpy")` with stateful
streams, i.e. models on `kernels.GRUTrainStep` or `kernels.MLPTrainStep` + `FlatAdam` (any
schedule, clipping, standardising, MLP window, warm or carried evaluation), one lane per
model of the run (`_LANES`). The GRU loops are `kernels._forward` and `kernels._bptt`
themselves, on stacked arrays. `BatchedTrainer` holds one real `Trainer(spec)` per run
(building, seeds, data and batches are the single run's own code) and replaces its training
steps and its evaluation's two forecast loops; after every epoch each
trainer holds its weights, Adam state, carried states and history as if it had trained
alone, and can go on alone.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import time
from collections.abc import Callable, Sequence

import numpy as np
import torch

from gru_core import kernels, metrics
from gru_core.config import ConfigError
from gru_core.models import kind
from gru_core.rollout import evaluating
from gru_core.spec import RunSpec
from gru_core.tasks.forecast import read_begin
from gru_core.train import Diverged, Trainer, divergence, run_device

FREE = ("lr", "seed")  # the settings runs trained together may differ in


def batch_key(spec: RunSpec) -> tuple:
    """What runs must share to train together: everything but the learning rate and seed."""
    train = tuple(
        (f.name, getattr(spec.train, f.name))
        for f in dataclasses.fields(spec.train)
        if f.name not in FREE
    )
    series = np.ascontiguousarray(spec.data.series, dtype=np.float64)
    data = (spec.data.train_fraction, hashlib.sha256(series.tobytes()).hexdigest())
    return (spec.task, spec.seeding, spec.models, train, data)


def model_key(spec: RunSpec, name: str) -> tuple:
    """What training model `name` of run `spec` depends on. Under "model" seeding a model is
    built from its own seed, and trains on its own: its numbers depend on its spec, the
    task, the data and the training settings (seed and learning rate included), not on the
    run's other models (nor on the sizes its kind does not read: `models.KINDS`), so runs
    with equal keys train it alike. Under "run" seeding the
    models are built one after another from one seed, and the whole run counts."""
    task, seeding, models, train, data = batch_key(spec)
    model = spec.model(name)
    sizes = tuple(getattr(model, size) for size in kind(model.kind).reads)
    own = (model.kind, sizes) if seeding == "model" else models
    return (task, seeding, own, name, train, data, spec.train.lr, spec.train.seed)


def batchable(spec: RunSpec) -> bool:
    """Whether runs like `spec` can train as one batch: the forecast task's stateful streams
    with every model on a numpy whole-step kernel (`step_kernel` "numpy", one-layer GRUs,
    MLPs). Where the kernels do not apply `BatchedTrainer` still refuses with the reason."""
    return (
        spec.task == "forecast"
        and spec.train.mode == "stateful"
        and spec.train.step_kernel == "numpy"
        and spec.train.device in ("auto", "cpu")
        and all(m.kind in ("gru", "mlp") and m.num_layers == 1 for m in spec.models)
        and run_device(spec).device.type == "cpu"  # `auto` on a GPU machine: wide runs go there
    )


def _check(trainers: list[Trainer]) -> None:
    """ConfigError unless these runs can train as one batch."""
    first = trainers[0]
    if len({batch_key(t.spec) for t in trainers}) != 1:
        raise ConfigError(f"runs trained together may differ only in {', '.join(FREE)}")
    if first.spec.task != "forecast":
        raise ConfigError("batched training needs the forecast task")
    if first.cfg.mode != "stateful":
        raise ConfigError("batched training needs mode 'stateful' (windows are shuffled per seed)")
    for t in trainers:
        kinds = [type(t._kernels.get(name)) for name in t.names]
        if t.device.type != "cpu" or any(k not in _LANES for k in kinds):
            raise ConfigError(
                "batched training needs the numpy step of every model on the CPU"
                " (step_kernel 'numpy', one-layer GRUs and MLPs, hidden <= 512)"
            )


class _Stack:
    """One model's parameters, gradients and Adam state for R runs: (R, size) buffers.

    `params[i]`/`grads[i]` are (R, *shape) views of the flat buffers, in the order of the
    single-run kernel's `FlatAdam.params`. `adam` is a `kernels.FlatAdam` over the whole
    buffers whose learning rate is an (R, 1) column: its update is elementwise, so each
    row gets exactly the single-run update with its own rate.
    """

    def __init__(self, adams: list[kernels.FlatAdam]) -> None:
        self.sources = adams
        shapes = [p.shape for p in adams[0].params]
        flat = np.stack([np.concatenate([p.ravel() for p in a.params]) for a in adams])
        runs = len(adams)
        adam = object.__new__(kernels.FlatAdam)  # FlatAdam's own step, on stacked buffers
        group = adams[0].group  # betas and eps: Adam's defaults in every Trainer
        adam.group = {"lr": np.zeros((runs, 1)), "betas": group["betas"], "eps": group["eps"]}
        adam.params, adam.grad, adam._tmp = [flat], np.zeros_like(flat), np.zeros_like(flat)
        adam._updates = [adam._tmp]
        adam.exp_avg = np.stack([a.exp_avg for a in adams])
        adam.exp_avg_sq = np.stack([a.exp_avg_sq for a in adams])
        adam.steps = adams[0].steps.copy()
        self.adam = adam
        self.params, self.grads, offset = [], [], 0
        for shape in shapes:
            size = math.prod(shape)
            self.params.append(flat[:, offset : offset + size].reshape(runs, *shape))
            self.grads.append(adam.grad[:, offset : offset + size].reshape(runs, *shape))
            offset += size

    def step(self, clip_grad: float) -> None:
        """Clip each run's gradient as `FlatAdam.clip` does, then one Adam update of all."""
        adam = self.adam
        if clip_grad > 0:
            for g in adam.grad:
                coef = clip_grad / (float(np.sqrt(np.dot(g, g))) + 1e-6)
                if coef < 1:
                    g *= g.dtype.type(coef)
        adam.group["lr"][:, 0] = [a.group["lr"] for a in self.sources]
        adam.step()

    def write_back(self, keep: Sequence[bool]) -> None:
        """Copy each kept run's weights and Adam state into its own trainer's kernel."""
        adam = self.adam
        for r, (source, kept) in enumerate(zip(self.sources, keep, strict=True)):
            if not kept:
                continue
            for mine, theirs in zip(self.params, source.params, strict=True):
                theirs[...] = mine[r]
            source.exp_avg[:] = adam.exp_avg[r]
            source.exp_avg_sq[:] = adam.exp_avg_sq[r]
            source.steps[:] = adam.steps


# -- the GRU -----------------------------------------------------------------------------------


def _stack_v(x: np.ndarray, h0: np.ndarray, dtype) -> np.ndarray:
    """`kernels._Cell.stack` for R runs reading the same x (B, T, I) from h0 (R, B, H):
    v (T+1, R, H+1+I, B)."""
    runs, batch, hidden = h0.shape
    steps, inputs = x.shape[1], x.shape[2]
    v = np.empty((steps + 1, runs, hidden + 1 + inputs, batch), dtype=dtype)
    v[0, :, :hidden] = h0.transpose(0, 2, 1)
    v[:, :, hidden] = 1
    v[:-1, :, hidden + 1 :] = x.transpose(1, 2, 0)[:, None]
    v[-1, :, hidden + 1 :] = 0
    return v


def _gru_loss_and_grads(stack: _Stack, x: np.ndarray, y: np.ndarray, h0: np.ndarray):
    """`GRUTrainStep.loss_and_grads` for R runs: x, y (B, T, 1), h0 (R, B, H) ->
    losses (R,) and the final states (R, B, H); gradients into `stack.grads`."""
    params, grads = stack.params, stack.grads
    w_out, b_out = params[4:]  # (R, 1, H), (R, 1)
    cell = kernels._Cell(*params[:4])  # stacked: (R, 4H, H+1+I)
    hidden = cell.hidden
    v = _stack_v(x, h0, cell.matrix.dtype)
    cache = kernels._forward(v, cell, keep=True)
    out = v[1:, :, :hidden]  # (T, R, H, B)
    err = (w_out @ out)[:, :, 0] + b_out[:, 0, None] - y[..., 0].T[:, None]  # (T, R, B)
    err = np.ascontiguousarray(err.transpose(1, 0, 2))  # (R, T, B): each run's err
    losses = np.array([float(np.dot(e.ravel(), e.ravel())) / e.size for e in err])
    d_pred = err * err.dtype.type(2 / err[0].size)  # (R, T, B)
    for r, d in enumerate(d_pred):  # tensordot(d_pred, out, ([0, 1], [0, 2])) and a sum
        grads[4][r, 0] = np.tensordot(d, out[:, r], axes=([0, 1], [0, 2]))
        grads[5][r, 0] = d.sum()
    d_out = w_out[None, :, 0, :, None] * d_pred.transpose(1, 0, 2)[:, :, None]  # (T, R, H, B)
    d_g, _ = kernels._bptt(v, cache, cell.grad_matrix, d_out, np.zeros_like(v[0, :, :hidden]))
    # np.tensordot(d_g, v[:-1], ([0, 2], [0, 2])) of each run: the same two contiguous
    # operands it builds, (4H, T*B) and (T*B, H+1+I), multiplied as R stacked products.
    steps, runs, rows, batch = d_g.shape
    lhs = d_g.transpose(1, 2, 0, 3).reshape(runs, rows, steps * batch)
    rhs = v[:-1].transpose(1, 0, 3, 2).reshape(runs, steps * batch, v.shape[2])
    for view, grad in zip(grads[:4], cell.unpack(np.matmul(lhs, rhs)), strict=True):
        view[...] = grad
    return losses, v[-1, :, :hidden].transpose(0, 2, 1).copy()


# -- the MLP -----------------------------------------------------------------------------------


def _mlp_loss_and_grads(stack: _Stack, a: np.ndarray, y: np.ndarray) -> np.ndarray:
    """`MLPTrainStep.loss_and_grads` for R runs on the same windows a (B*T, k): losses (R,);
    gradients into `stack.grads`."""
    params, grads = stack.params, stack.grads
    acts = [a]
    for i in range(0, len(params) - 2, 2):
        a = a @ params[i].transpose(0, 2, 1) + params[i + 1][:, None]
        np.maximum(a, 0, out=a)
        acts.append(a)
    err = (a @ params[-2].transpose(0, 2, 1) + params[-1][:, None])[..., 0] - y.reshape(-1)
    losses = np.array([float(np.dot(e, e)) / e.size for e in err])
    d = (err * err.dtype.type(2 / err.shape[1]))[..., None]  # (R, B*T, 1)
    for i in range(len(acts) - 1, -1, -1):
        np.matmul(d.transpose(0, 2, 1), acts[i], out=grads[2 * i])
        np.sum(d, axis=1, out=grads[2 * i + 1])
        if i > 0:
            d = d @ params[2 * i]
            d *= acts[i] > 0
    return losses


# -- evaluation ------------------------------------------------------------------------------


@np.errstate(over="ignore", invalid="ignore")
def _mlp_closed_loop(params: list[np.ndarray], window: np.ndarray, horizon: int) -> np.ndarray:
    """`kernels.mlp_closed_loop` for R runs of one column each: params as `_Stack.params`,
    window (R, k) -> (R, horizon)."""
    runs, k = window.shape
    dtype = window.dtype
    a = np.ones((runs, k + 1, 1), dtype=dtype)
    a[:, :k, 0] = window
    steps, inputs = [], a
    for i in range(0, len(params), 2):
        weight = np.concatenate([params[i], params[i + 1][..., None]], axis=2).astype(dtype)
        out = np.ones((runs, weight.shape[1] + 1, 1), dtype=dtype)
        steps.append((weight, inputs, out[:, :-1]))
        if i + 2 < len(params):  # a ReLU after every layer but the last
            steps.append((None, None, out[:, :-1]))
        inputs = out
    preds = np.empty((horizon, runs), dtype=dtype)
    last = steps[-1][2]  # (R, 1, 1)
    for pred in preds:
        kernels.mlp_pass(steps)
        pred[:] = last[:, 0, 0]
        a[:, : k - 1] = a[:, 1:k]
        a[:, k - 1] = last[:, 0]
    return np.ascontiguousarray(preds.T)


def _test_row(name: str, teacher: np.ndarray, free: np.ndarray, truth: np.ndarray) -> dict:
    """A model's test metrics as the forecast task's `evaluate` records them."""
    return {
        f"{name}_test_one_step_mse": metrics.finite_or_none(metrics.mse(teacher, truth)),
        f"{name}_test_rollout_mse": metrics.finite_or_none(metrics.mse(free, truth)),
        f"{name}_test_rollout_mae": metrics.finite_or_none(metrics.mae(free, truth)),
    }


def _eval_start(t: Trainer, name: str) -> tuple[int, object]:
    """Where model `name` of run `t` starts reading before its test forecast, and from which
    state: as `ForecastTask.evaluate` starts it."""
    task = t.task
    begin = read_begin(task.cfg, task.carried_end, task.n_train)
    carried = task.cfg.eval_state == "carried"
    return begin, t.models[name].last_stream(t._state[name]) if carried else None


def _truth(t: Trainer) -> tuple[torch.Tensor, np.ndarray]:
    """The test forecast's inputs (1, T, 1) and the values it is scored against (T,)."""
    task = t.task
    return task.data[None, task.n_train : -1, None], task.series[task.n_train + 1 :]


# -- one lane per model of the runs --------------------------------------------------------------


class _GRULane:
    """Model `name` of R runs, a GRU: stacked weights and Adam state, and each run's carried
    state (R, B, H)."""

    def __init__(self, name: str, trainers: list[Trainer]) -> None:
        self.name = name
        self.stack = _Stack([t._kernels[name].adam for t in trainers])
        states = [t._state[name] for t in trainers]
        batch, hidden = trainers[0].cfg.batch_size, trainers[0].spec.model(name).hidden_size
        self.h = (
            np.zeros((len(trainers), batch, hidden), np.float32)
            if states[0] is None
            else np.stack([s[0].numpy() for s in states])
        )

    def train_step(self, x: np.ndarray, y: np.ndarray, clip: float) -> np.ndarray:
        losses, self.h = _gru_loss_and_grads(self.stack, x, y, self.h)
        self.stack.step(clip)
        return losses

    def state(self, j: int) -> torch.Tensor:
        return torch.from_numpy(self.h[j].copy())[None]

    def evaluate(self, trainers: list[Trainer], params: list[np.ndarray]) -> list[dict]:
        """The test rows of R runs (their parameters as `_Stack.params`): the reading up to the
        test part and the two forecasts of `GRUForecaster.forecasts`, one loop for all."""
        first, name = trainers[0], self.name
        model, task = first.models[name], first.task
        n_train, data = task.n_train, task.data
        test_x, truth = _truth(first)
        begin = _eval_start(first, name)[0]
        runs, hidden = len(trainers), params[1].shape[-1]
        h = np.zeros((runs, 1, hidden), np.float32)
        for r, t in enumerate(trainers):
            state = _eval_start(t, name)[1]
            if state is not None:
                h[r, 0] = state[0, 0].numpy()
        cell = kernels._Cell(*params[:4])
        if begin < n_train:
            x = model.scale_in(data[None, begin:n_train, None]).numpy()  # (1, L, 1)
            v = _stack_v(x, h, np.float32)
            kernels._forward(v, cell, keep=False)
            h = v[-1, :, :hidden].transpose(0, 2, 1)
        inputs = model.scale_in(test_x)[0, :, 0].numpy()  # (T,)
        v = np.empty((len(inputs) + 1, runs, hidden + 2, 2), dtype=np.float32)  # truth, own
        v[0, :, :hidden], v[:, :, hidden], v[0, :, hidden + 1] = h.transpose(0, 2, 1), 1, inputs[0]
        v[1:-1, :, hidden + 1, 0] = inputs[1:, None]
        head = np.concatenate([params[4], params[5][..., None]], axis=2)  # (R, 1, H+1)
        kernels._forward(v, cell, False, head, 1)
        out = (params[4] @ v[1:, :, :hidden])[:, :, 0] + params[5][None, :, :]  # (T, R, 2)
        rows = []
        for r, t in enumerate(trainers):
            teacher, free = (
                t.models[name].scale_out(torch.from_numpy(out[None, :, r, c].copy()))
                for c in (0, 1)
            )
            rows.append(_test_row(name, teacher[0].numpy(), free[0].numpy(), truth))
        return rows


class _MLPLane:
    """Model `name` of R runs, an MLP: stacked weights and Adam state; its carried state (the
    last inputs) depends on the data only, so the runs share it."""

    def __init__(self, name: str, trainers: list[Trainer]) -> None:
        self.name = name
        self.stack = _Stack([t._kernels[name].adam for t in trainers])
        self.kernel = trainers[0]._kernels[name]
        state = trainers[0]._state[name]
        self.windows_state = None if state is None else state.numpy()

    def train_step(self, x: np.ndarray, y: np.ndarray, clip: float) -> np.ndarray:
        windows, self.windows_state = self.kernel._windows(x, self.windows_state)
        losses = _mlp_loss_and_grads(self.stack, windows, y)
        self.stack.step(clip)
        return losses

    def state(self, j: int) -> torch.Tensor | None:
        state = self.windows_state
        return None if state is None else torch.from_numpy(state.copy())

    def evaluate(self, trainers: list[Trainer], params: list[np.ndarray]) -> list[dict]:
        """The test rows of R runs: each reads and forecasts one step in torch, as alone; the
        feedback loop of `MLPForecaster.closed_loop` runs for all at once."""
        name, task = self.name, trainers[0].task
        test_x, truth = _truth(trainers[0])
        firsts, windows, teachers = [], [], []
        for t in trainers:
            begin, state = _eval_start(t, name)
            mlp = t.models[name]
            with evaluating(mlp):
                if begin < task.n_train:
                    _, state = mlp(task.data[None, begin : task.n_train, None], state)
                teachers.append(mlp(test_x, state)[0][0, :, 0].numpy())
                y, state = mlp.core(mlp.scale_in(test_x[:, :1]), state)
            firsts.append(y[:, -1].numpy())  # (1, 1)
            k = mlp.window
            windows.append(
                firsts[-1] if k == 1 else np.concatenate([state[..., 0].numpy(), firsts[-1]], 1)
            )
        rest = _mlp_closed_loop(params, np.concatenate(windows), test_x.shape[1] - 1)
        rows = []
        for r, t in enumerate(trainers):
            free = np.concatenate([firsts[r], rest[r : r + 1]], axis=1)
            own = t.models[name].scale_out(torch.from_numpy(free))[0].numpy()
            rows.append(_test_row(name, teachers[r], own, truth))
        return rows


# The single run's kernel -> the lane that trains that model for R runs at once.
_LANES: dict[type, type] = {kernels.GRUTrainStep: _GRULane, kernels.MLPTrainStep: _MLPLane}


# -- the trainer -------------------------------------------------------------------------------


class BatchedTrainer:
    """R `Trainer`s of one shape (see `batch_key`) whose epochs run as one batched model.

    `trainers[i]` is run i's own `Trainer(specs[i])`: its history, weights, states and
    `evaluate()` are what that run reports. A run whose loss turns non-finite leaves the
    batch with the single run's `Diverged` message in `errors[i]`, its last finite weights
    kept.

    `names` (default every model) trains only those models of each run: its rows hold their
    columns only, as the run's own rows would (the models of a run train independently). A
    run of such a part leaves the batch when its models diverge, with `divergence(...)`'s
    message for them. Whenever run i diverges, `diverged[i]` says what the message was made
    from ({"epoch", "means", "broken"}), so that a run's parts can be put back together
    (`gru_core.sweep_runs`).
    """

    def __init__(self, specs: Sequence[RunSpec], names: Sequence[str] | None = None) -> None:
        if not specs:
            raise ConfigError("batched training needs at least one run")
        self.trainers = [Trainer(spec) for spec in specs]
        _check(self.trainers)
        every = self.trainers[0].names
        self.names = every if names is None else tuple(n for n in every if n in names)
        if not self.names or len(self.names) != len(set(names or every)):
            raise ConfigError(f"models to train must be some of {', '.join(every)}")
        self.errors: list[str | None] = [None] * len(self.trainers)
        self.diverged: list[dict | None] = [None] * len(self.trainers)
        self._active = list(range(len(self.trainers)))
        self._build()

    def _build(self) -> None:
        """Stack the active runs' current weights, Adam states and carried states."""
        active = [self.trainers[i] for i in self._active]
        first = active[0]
        self._lanes = [_LANES[type(first._kernels[n])](n, active) for n in self.names]

    @property
    def epoch(self) -> int:
        """Epochs done by the runs still training (all of them, when none has diverged)."""
        return max(t.epoch for t in self.trainers)

    @property
    def running(self) -> bool:
        """Whether any run is still training (not all have diverged)."""
        return bool(self._active)

    def run_epoch(self) -> None:
        """One epoch of every active run: train, check, evaluate if due, append each row."""
        start = time.perf_counter()
        active = [self.trainers[i] for i in self._active]
        first = active[0]
        lrs = [t.cfg.lr * t._lr_factor() for t in active]
        for t, lr in zip(active, lrs, strict=True):
            for opt in t.optimizers.values():
                opt.param_groups[0]["lr"] = lr
        clip, lanes = first.cfg.clip_grad, self._lanes
        scale = first.models[self.names[0]].scale_in  # every run reads the same data
        factor = first.task.std**2  # losses reported in the series' own units
        losses: dict[str, list] = {lane.name: [] for lane in lanes}
        for batch in first.task.batches():
            x, y = scale(batch.x).numpy(), scale(batch.y).numpy()
            for lane in lanes:
                losses[lane.name].append(lane.train_step(x, y, clip) * factor)
        seconds = (time.perf_counter() - start) / len(active)
        finite = [np.isfinite(lane.stack.adam.params[0]).all(axis=1) for lane in lanes]
        chunk_losses = {name: np.stack(v, axis=1) for name, v in losses.items()}  # (R, chunks)
        means = [
            {name: float(np.mean(list(chunk_losses[name][j]))) for name in self.names}
            for j in range(len(active))
        ]
        keep = [
            all(math.isfinite(v) for v in means[j].values()) and all(bool(f[j]) for f in finite)
            for j in range(len(active))
        ]
        for lane in lanes:
            lane.stack.write_back(keep)
        kept = [j for j, ok in enumerate(keep) if ok]
        for j in kept:
            for lane in lanes:
                active[j]._state[lane.name] = lane.state(j)
            active[j].epoch += 1
        lead = active[kept[0]] if kept else first  # a run that trained this epoch
        due = lead.epoch % lead.cfg.eval_every == 0 or lead.epoch >= lead.cfg.epochs
        evaluated = time.perf_counter()
        tests: list[dict] = [{} for _ in kept]
        for lane in lanes:
            if kept and due:
                params = [p[kept] for p in lane.stack.params]
                rows = lane.evaluate([active[j] for j in kept], params)
            else:
                keys = [k for k in first.test_keys() if k.startswith(f"{lane.name}_")]
                rows = [dict.fromkeys(keys) for _ in kept]
            for test, row in zip(tests, rows, strict=True):
                test.update(row)
        seconds += (time.perf_counter() - evaluated) / max(1, len(kept))
        for j, test in zip(kept, tests, strict=True):
            self._finish(active[j], lrs[j], means[j], test, seconds)
        for j, ok in enumerate(keep):
            if ok:
                continue
            i, t = self._active[j], active[j]
            broken = [lane.name for lane, f in zip(lanes, finite, strict=True) if not f[j]]
            self.diverged[i] = {"epoch": t.epoch + 1, "means": means[j], "broken": broken}
            if self.names == t.names:  # the run alone, from the same state, says why
                self.errors[i] = self._diverge(t)
            else:  # only some of its models trained here: why they diverged
                self.errors[i] = divergence(t.spec, t.epoch + 1, means[j], broken)
        if not all(keep):
            self._active = [i for i, ok in zip(self._active, keep, strict=True) if ok]
            if self._active:
                self._build()

    @staticmethod
    def _finish(t: Trainer, lr: float, means: dict, test: dict, seconds: float) -> None:
        """The end of a run's epoch, as `Trainer.run_epoch` ends it: its row."""
        t._good = t._weights()
        row: dict = {"epoch": t.epoch, "lr": lr}
        row.update({f"{name}_train_loss": loss for name, loss in means.items()})
        row.update(test)
        row["seconds"] = seconds  # its share of the batch's time
        t.elapsed += seconds
        row["elapsed"] = t.elapsed
        t.history.append(row)

    @staticmethod
    def _diverge(t: Trainer) -> str:
        """Run `t`'s epoch alone from where the batch started it; its Diverged message."""
        try:
            t.run_epoch()
        except Diverged as exc:
            return str(exc)
        raise RuntimeError("a run diverged in its batch but not alone; the batch is not exact")


def train_batched(
    batched: BatchedTrainer,
    epochs: int | None = None,
    on_epoch: Callable[[int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> str:
    """Run epochs until `epochs` in total (default the configs'), a stop, or every run has
    diverged; the outcome: "finished" or "stopped". `on_epoch(epoch)` after each."""
    total = batched.trainers[0].cfg.epochs if epochs is None else epochs
    while batched.running and batched.epoch < total:
        if should_stop is not None and should_stop():
            return "stopped"
        batched.run_epoch()
        if on_epoch is not None:
            on_epoch(batched.epoch)
    return "finished"
