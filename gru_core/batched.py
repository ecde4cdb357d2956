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

Scope: the path of `TrainConfig(step_kernel="numpy")` with stateful streams, i.e.
`kernels.GRUTrainStep` + `kernels.MLPTrainStep` + `FlatAdam` (any schedule, clipping,
standardising, MLP window, warm or carried evaluation). `BatchedTrainer` holds one real
`Trainer` per run (building, seeds, data and batches are the single run's own code) and
replaces its training steps and its evaluation's two forecast loops; after every epoch each
trainer holds its weights, Adam state, carried states and history as if it had trained
alone, and can go on alone.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import time
from collections.abc import Callable, Sequence

import numpy as np
import torch

from gru_core import kernels, metrics
from gru_core.config import ConfigError, ModelConfig, TrainConfig
from gru_core.rollout import evaluating
from gru_core.train import MODELS, Diverged, Trainer, _copy_state, _test_keys

FREE = ("lr", "seed")  # the settings runs trained together may differ in


def batch_key(model_cfg: ModelConfig, train_cfg: TrainConfig) -> tuple:
    """What runs must share to train together: everything but the learning rate and seed."""
    shared = {f.name: getattr(train_cfg, f.name) for f in dataclasses.fields(train_cfg)}
    return (model_cfg, *(v for k, v in shared.items() if k not in FREE))


def _check(trainers: list[Trainer]) -> None:
    """ConfigError unless these runs can train as one batch."""
    first = trainers[0]
    if len({batch_key(t.model_cfg, t.cfg) for t in trainers}) != 1:
        raise ConfigError(f"runs trained together may differ only in {', '.join(FREE)}")
    if first.cfg.mode != "stateful":
        raise ConfigError("batched training needs mode 'stateful' (windows are shuffled per seed)")
    for t in trainers:
        if t.device.type != "cpu" or set(t._kernels) != set(MODELS):
            raise ConfigError(
                "batched training needs the numpy step of both models on the CPU"
                " (step_kernel 'numpy', a one-layer GRU, hidden <= 512)"
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


def _cell(params: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """`kernels._Cell`'s matrices for R runs: (R, 4H, H+1+I) gradient and loop matrices."""
    w_ih, w_hh, b_ih, b_hh = params[:4]
    runs, hidden, inputs = w_hh.shape[0], w_hh.shape[2], w_ih.shape[2]
    two, three = 2 * hidden, 3 * hidden
    m = np.zeros((runs, 4 * hidden, hidden + inputs + 1), dtype=w_hh.dtype)
    m[:, :two, :hidden] = w_hh[:, :two]
    m[:, three:, :hidden] = w_hh[:, two:]
    m[:, :two, hidden] = b_ih[:, :two] + b_hh[:, :two]
    m[:, two:three, hidden] = b_ih[:, two:]
    m[:, three:, hidden] = b_hh[:, two:]
    m[:, :three, hidden + 1 :] = w_ih
    loop = m.copy()
    loop[:, :two] *= m.dtype.type(0.5)
    return m, loop


@np.errstate(over="ignore", invalid="ignore")
def _gru_forward(v: np.ndarray, loop: np.ndarray, hidden: int, head: np.ndarray | None = None):
    """`kernels._forward` for R runs: v (T+1, R, H+1+I, B), states into v[1:, :, :H];
    returns the gates (T, R, 4H, B) and n (T, R, H, B).

    With `head` (R, 1, H+1) and one input, it is `kernels._feed_back`'s loop instead:
    columns [1:] read, at each step after the first, the head's output of the step
    before (their own forecast); column 0 reads what v holds (the truth).
    """
    steps, runs, _, batch = v.shape
    steps -= 1
    g = np.empty((steps, runs, 4 * hidden, batch), dtype=v.dtype)
    n = np.empty((steps, runs, hidden, batch), dtype=v.dtype)
    two, three = 2 * hidden, 3 * hidden
    half = v.dtype.type(0.5)
    matmul, multiply, subtract, tanh = np.matmul, np.multiply, np.subtract, np.tanh
    fed = (
        itertools.repeat((None, None), steps)
        if head is None
        else zip(v[1:, :, : hidden + 1, 1:], v[1:, :, hidden + 1 :, 1:], strict=True)
    )
    for v_t, h, h_new, g_t, rz, r, z, n_in, n_h, nt, (h_one, u_next) in zip(
        v[:-1],
        v[:-1, :, :hidden],
        v[1:, :, :hidden],
        g,
        g[:, :, :two],
        g[:, :, :hidden],
        g[:, :, hidden:two],
        g[:, :, two:three],
        g[:, :, three:],
        n,
        fed,
        strict=True,
    ):
        matmul(loop, v_t, out=g_t)  # R products, each the single run's
        tanh(rz, out=rz)
        rz *= half
        rz += half
        multiply(r, n_h, out=nt)
        nt += n_in
        tanh(nt, out=nt)
        subtract(h, nt, out=h_new)
        h_new *= z
        h_new += nt
        if h_one is not None:
            matmul(head, h_one, out=u_next)
    return g, n


@np.errstate(over="ignore", invalid="ignore")
def _gru_backward(v, g, n, m: np.ndarray, d_out: np.ndarray) -> np.ndarray:
    """`kernels._backward` for R runs without dx and dh0: d_out (T, R, H, B) -> the
    gradient of each run's matrix (R, 4H, H+1+I)."""
    hidden = n.shape[2]
    two, three = 2 * hidden, 3 * hidden
    r, z, n_h = g[:, :, :hidden], g[:, :, hidden:two], g[:, :, three:]
    dn_coef = (1 - z) * (1 - n * n)
    dr_coef = n_h * r * (1 - r)
    dz_coef = (v[:-1, :, :hidden] - n) * z * (1 - z)
    d_g = np.empty_like(g)
    dh = np.zeros_like(v[0, :, :hidden])
    back = np.empty_like(dh)
    m_h = np.ascontiguousarray(m[:, :, :hidden].transpose(0, 2, 1))  # (R, H, 4H)
    matmul, multiply = np.matmul, np.multiply
    views = (d_out, dn_coef, dr_coef, dz_coef, r, z, d_g)
    views += (d_g[:, :, :hidden], d_g[:, :, hidden:two], d_g[:, :, two:three], d_g[:, :, three:])
    for d_o, dn_c, dr_c, dz_c, r_t, z_t, d_gt, d_r, d_z, d_nin, d_nh in zip(
        *(w[::-1] for w in views), strict=True
    ):
        dh += d_o
        multiply(dh, dn_c, out=d_nin)
        multiply(d_nin, dr_c, out=d_r)
        multiply(dh, dz_c, out=d_z)
        multiply(d_nin, r_t, out=d_nh)
        dh *= z_t
        dh += matmul(m_h, d_gt, out=back)
    # np.tensordot(d_g, v[:-1], ([0, 2], [0, 2])) of each run: the same two contiguous
    # operands it builds, (4H, T*B) and (T*B, H+1+I), multiplied as R stacked products.
    steps, runs, rows, batch = d_g.shape
    a = d_g.transpose(1, 2, 0, 3).reshape(runs, rows, steps * batch)
    b = v[:-1].transpose(1, 0, 3, 2).reshape(runs, steps * batch, v.shape[2])
    return np.matmul(a, b)


def _unpack(dm: np.ndarray, hidden: int) -> tuple[np.ndarray, ...]:
    """`kernels._Cell.unpack` for R runs: d_w_ih, d_w_hh, d_b_ih, d_b_hh (R, ...)."""
    two, three = 2 * hidden, 3 * hidden
    d_w_hh = np.concatenate([dm[:, :two, :hidden], dm[:, three:, :hidden]], axis=1)
    d_b_hh = np.concatenate([dm[:, :two, hidden], dm[:, three:, hidden]], axis=1)
    return dm[:, :three, hidden + 1 :], d_w_hh, dm[:, :three, hidden], d_b_hh


def _gru_loss_and_grads(stack: _Stack, x: np.ndarray, y: np.ndarray, h0: np.ndarray):
    """`GRUTrainStep.loss_and_grads` for R runs: x, y (B, T, 1), h0 (R, B, H) ->
    losses (R,) and the final states (R, B, H); gradients into `stack.grads`."""
    params, grads = stack.params, stack.grads
    w_out, b_out = params[4:]  # (R, 1, H), (R, 1)
    m, loop = _cell(params)
    runs, batch, hidden = h0.shape
    steps, inputs = x.shape[1], x.shape[2]
    v = np.empty((steps + 1, runs, hidden + 1 + inputs, batch), dtype=m.dtype)
    v[0, :, :hidden] = h0.transpose(0, 2, 1)
    v[:, :, hidden] = 1
    v[:-1, :, hidden + 1 :] = x.transpose(1, 2, 0)[:, None]
    v[-1, :, hidden + 1 :] = 0
    g, n = _gru_forward(v, loop, hidden)
    out = v[1:, :, :hidden]  # (T, R, H, B)
    err = (w_out @ out)[:, :, 0] + b_out[:, 0, None] - y[..., 0].T[:, None]  # (T, R, B)
    err = np.ascontiguousarray(err.transpose(1, 0, 2))  # (R, T, B): each run's err
    losses = np.array([float(np.dot(e.ravel(), e.ravel())) / e.size for e in err])
    d_pred = err * err.dtype.type(2 / err[0].size)  # (R, T, B)
    for r, d in enumerate(d_pred):  # tensordot(d_pred, out, ([0, 1], [0, 2])) and a sum
        grads[4][r, 0] = np.tensordot(d, out[:, r], axes=([0, 1], [0, 2]))
        grads[5][r, 0] = d.sum()
    d_out = w_out[None, :, 0, :, None] * d_pred.transpose(1, 0, 2)[:, :, None]  # (T, R, H, B)
    d_m = _gru_backward(v, g, n, m, d_out)
    for view, grad in zip(grads[:4], _unpack(d_m, hidden), strict=True):
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
    matmul, maximum = np.matmul, np.maximum
    for pred in preds:
        for weight, x, out in steps:
            if weight is None:
                maximum(out, 0, out=out)
            else:
                matmul(weight, x, out=out)
        pred[:] = last[:, 0, 0]
        a[:, : k - 1] = a[:, 1:k]
        a[:, k - 1] = last[:, 0]
    return np.ascontiguousarray(preds.T)


def _test_row(name: str, teacher: np.ndarray, free: np.ndarray, truth: np.ndarray) -> dict:
    """A model's test metrics as `Trainer.evaluate` records them."""
    return {
        f"{name}_test_one_step_mse": metrics.finite_or_none(metrics.mse(teacher, truth)),
        f"{name}_test_rollout_mse": metrics.finite_or_none(metrics.mse(free, truth)),
        f"{name}_test_rollout_mae": metrics.finite_or_none(metrics.mae(free, truth)),
    }


def _evaluate(trainers: list[Trainer], gru: list[np.ndarray], mlp: list[np.ndarray]):
    """`Trainer.evaluate` of each of R runs of a batch, the forecasts' loops batched: one
    test row per run. `gru`, `mlp`: the runs' parameters, as `_Stack.params`."""
    first = trainers[0]
    n_train, data = first.n_train, first.data
    truth = first.series[n_train + 1 :]
    test_x = data[None, n_train:-1, None]  # (1, T, 1)
    rows: list[dict] = [{} for _ in trainers]
    # The GRU: read up to the test part from the start state, then forecast.
    begin = first.eval_start("gru")[0]
    runs, hidden = len(trainers), first.model_cfg.hidden_size
    h = np.zeros((runs, hidden), np.float32)
    for r, t in enumerate(trainers):
        state = t.eval_start("gru")[1]
        if state is not None:
            h[r] = state[0, 0].numpy()
    _, loop = _cell(gru)
    if begin < n_train:
        x = first.rnn.scale_in(data[None, begin:n_train, None]).numpy()  # (1, L, 1)
        v = np.empty((x.shape[1] + 1, runs, hidden + 2, 1), dtype=np.float32)
        v[0, :, :hidden, 0], v[:, :, hidden] = h, 1
        v[:-1, :, hidden + 1 :] = x.transpose(1, 2, 0)[:, None]
        v[-1, :, hidden + 1 :] = 0
        _gru_forward(v, loop, hidden)
        h = v[-1, :, :hidden, 0]
    inputs = first.rnn.scale_in(test_x)[0, :, 0].numpy()  # (T,)
    v = np.empty((len(inputs) + 1, runs, hidden + 2, 2), dtype=np.float32)  # truth, own
    v[0, :, :hidden], v[:, :, hidden], v[0, :, hidden + 1] = h[..., None], 1, inputs[0]
    v[1:-1, :, hidden + 1, 0] = inputs[1:, None]
    head = np.concatenate([gru[4], gru[5][..., None]], axis=2)  # (R, 1, H+1)
    _gru_forward(v, loop, hidden, head)
    out = (gru[4] @ v[1:, :, :hidden])[:, :, 0] + gru[5][None, :, :]  # (T, R, 2)
    # The MLP: its reading and first forecast in torch, as alone; the feedback loop batched.
    firsts, windows, teachers = [], [], []
    for t in trainers:
        begin, state = t.eval_start("mlp")
        with evaluating(t.mlp):
            if begin < n_train:
                _, state = t.mlp(data[None, begin:n_train, None], state)
            teachers.append(t.mlp(test_x, state)[0][0, :, 0].numpy())
            y, state = t.mlp.core(t.mlp.scale_in(test_x[:, :1]), state)
        firsts.append(y[:, -1].numpy())  # (1, 1)
        k = t.mlp.window
        windows.append(
            firsts[-1] if k == 1 else np.concatenate([state[..., 0].numpy(), firsts[-1]], 1)
        )
    rest = _mlp_closed_loop(mlp, np.concatenate(windows), len(inputs) - 1)  # (R, T-1)
    for r, t in enumerate(trainers):
        gru_teacher, gru_free = (
            t.rnn.scale_out(torch.from_numpy(out[None, :, r, c].copy())) for c in (0, 1)
        )
        rows[r].update(_test_row("gru", gru_teacher[0].numpy(), gru_free[0].numpy(), truth))
        free = np.concatenate([firsts[r], rest[r : r + 1]], axis=1)
        mlp_free = t.mlp.scale_out(torch.from_numpy(free))[0].numpy()
        rows[r].update(_test_row("mlp", teachers[r], mlp_free, truth))
    return rows


# -- the trainer -------------------------------------------------------------------------------


class BatchedTrainer:
    """R `Trainer`s of one shape (see `batch_key`) whose epochs run as one batched model.

    `trainers[i]` is run i's own `Trainer`: its history, weights, states and `evaluate()`
    are what that run reports. A run whose loss turns non-finite leaves the batch with the
    single run's `Diverged` message in `errors[i]`, its last finite weights kept.
    """

    def __init__(
        self,
        series: np.ndarray,
        train_fraction: float,
        model_cfg: ModelConfig,
        train_cfgs: Sequence[TrainConfig],
    ) -> None:
        if not train_cfgs:
            raise ConfigError("batched training needs at least one run")
        self.trainers = [Trainer(series, train_fraction, model_cfg, cfg) for cfg in train_cfgs]
        _check(self.trainers)
        self.errors: list[str | None] = [None] * len(self.trainers)
        self._active = list(range(len(self.trainers)))
        self._build()

    def _build(self) -> None:
        """Stack the active runs' current weights, Adam states and carried states."""
        active = [self.trainers[i] for i in self._active]
        self._stacks = {name: _Stack([t._kernels[name].adam for t in active]) for name in MODELS}
        states = [t._state["gru"] for t in active]
        first = active[0]
        batch, hidden = first.cfg.batch_size, first.model_cfg.hidden_size
        self._h = (
            np.zeros((len(active), batch, hidden), np.float32)
            if states[0] is None
            else np.stack([s[0].numpy() for s in states])
        )

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
            for opt in (t.rnn_opt, t.mlp_opt):
                opt.param_groups[0]["lr"] = lr
        mlp_kernel, clip = first._kernels["mlp"], first.cfg.clip_grad
        mlp_state = first._state["mlp"]
        mlp_state = None if mlp_state is None else mlp_state.numpy()
        gru, mlp = self._stacks["gru"], self._stacks["mlp"]
        losses = {"gru": [], "mlp": []}
        for batch in first._stateful_batches:
            x = first.rnn.scale_in(batch.x).numpy()  # every run reads the same data
            y = first.rnn.scale_in(batch.y).numpy()
            loss, self._h = _gru_loss_and_grads(gru, x, y, self._h)
            gru.step(clip)
            losses["gru"].append(loss * first.std**2)
            windows, mlp_state = mlp_kernel._windows(x, mlp_state)
            losses["mlp"].append(_mlp_loss_and_grads(mlp, windows, y) * first.std**2)
            mlp.step(clip)
        seconds = (time.perf_counter() - start) / len(active)
        finite = [np.isfinite(s.adam.params[0]).all(axis=1) for s in self._stacks.values()]
        chunk_losses = {name: np.stack(v, axis=1) for name, v in losses.items()}  # (R, chunks)
        means = [
            {name: float(np.mean(list(chunk_losses[name][j]))) for name in MODELS}
            for j in range(len(active))
        ]
        keep = [
            all(math.isfinite(v) for v in means[j].values()) and all(bool(f[j]) for f in finite)
            for j in range(len(active))
        ]
        for stack in self._stacks.values():
            stack.write_back(keep)
        mlp_state = None if mlp_state is None else torch.from_numpy(mlp_state)
        kept = [j for j, ok in enumerate(keep) if ok]
        for j in kept:
            active[j]._state["gru"] = torch.from_numpy(self._h[j].copy())[None]
            active[j]._state["mlp"] = _copy_state(mlp_state)
            active[j].epoch += 1
        due = first.epoch % first.cfg.eval_every == 0 or first.epoch >= first.cfg.epochs
        evaluated = time.perf_counter()
        if kept and due:
            params = {name: [p[kept] for p in s.params] for name, s in self._stacks.items()}
            tests = _evaluate([active[j] for j in kept], params["gru"], params["mlp"])
        else:
            tests = [dict.fromkeys(_test_keys())] * len(kept)
        seconds += (time.perf_counter() - evaluated) / max(1, len(kept))
        for j, test in zip(kept, tests, strict=True):
            self._finish(active[j], lrs[j], means[j], test, seconds)
        for j, ok in enumerate(keep):
            if not ok:  # the run alone, from the same state, diverges with its own message
                self.errors[self._active[j]] = self._diverge(active[j])
        if not all(keep):
            self._active = [i for i, ok in zip(self._active, keep, strict=True) if ok]
            if self._active:
                self._build()

    @staticmethod
    def _finish(t: Trainer, lr: float, means: dict, test: dict, seconds: float) -> None:
        """The end of a run's epoch, as `Trainer.run_epoch` ends it: its row."""
        t._good = t._weights()
        row: dict = {"epoch": t.epoch, "lr": lr}
        row.update({f"{name}_train_loss": means[name] for name in MODELS})
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
