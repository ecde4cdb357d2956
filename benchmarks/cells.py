"""Milliseconds per training step of each recurrent kind: the numpy step kernel against torch.

One step = forward over a chunk, MSE of a `Linear(H, 1)` head, backward through time and
one Adam update, with the state carried from chunk to chunk. For the one-layer RNN (tanh),
LSTM, GRU and d2l GRUs (`gru_d2l`, `gru_update_only`, `gru_reset_only`) at hidden 16 and
32, on two chunk shapes: the tutorial's (1 sequence of 20 steps) and the `fast` preset's
(2 streams of 60 steps). torch's side is what the trainer
runs without a kernel: autograd and `torch.optim.Adam(fused=True)`. Then the tutorial's
test forecast, 199 steps fed back from one start (`cell_kernels.closed_loop` against a
torch call a step under no-grad).

    python -m benchmarks.cells [--kinds rnn lstm gru gru_d2l ...] [--hidden 16 32] [--rounds 5]
                               [--steps 200] [--json F]

Protocol of benchmarks/common.py: one warm-up round thrown away, then rounds in which the
two paths alternate their order, medians. One torch thread and one BLAS thread, as the app.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
from torch import nn

from benchmarks.common import load_average, machine, median, print_machine
from gru_core import cell_kernels, cells, kernels

CORES = {
    "rnn": cell_kernels.RNNTrainStep,
    "lstm": cell_kernels.LSTMTrainStep,
    "gru": kernels.GRUTrainStep,
    **dict.fromkeys(("gru_d2l", "gru_update_only", "gru_reset_only"), cell_kernels.D2LGRUTrainStep),
}
SHAPES = {"tutorial 1x20": (1, 20), "fast 2x60": (2, 60)}


def _model(kind: str, hidden: int):
    torch.manual_seed(0)
    core = cells.build(kind, 1, hidden)
    head = nn.Linear(hidden, 1)
    return core, head, torch.optim.Adam([*core.parameters(), *head.parameters()], fused=True)


def _detach(state):
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


def time_numpy(kind: str, hidden: int, chunks, steps: int) -> float:
    """Milliseconds per step of the numpy kernel."""
    step = CORES[kind](*_model(kind, hidden))
    state = None
    start = time.perf_counter()
    for i in range(steps):
        x, y = chunks[i % len(chunks)]
        _, state = step(x, y, state)
    return (time.perf_counter() - start) / steps * 1e3


def time_torch(kind: str, hidden: int, chunks, steps: int) -> float:
    """Milliseconds per step of autograd + torch.optim.Adam."""
    core, head, opt = _model(kind, hidden)
    tensors = [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in chunks]
    state = None
    start = time.perf_counter()
    for i in range(steps):
        x, y = tensors[i % len(tensors)]
        out, state = core(x, state)
        loss = nn.functional.mse_loss(head(out), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        state = _detach(state)
    return (time.perf_counter() - start) / steps * 1e3


def _torch_loop(core, head, y0, state, horizon: int) -> None:
    y = y0[:, None, None]
    with torch.no_grad():
        for _ in range(horizon - 1):
            out, state = core(y, state)
            y = head(out)


def time_loops(kind: str, hidden: int, horizon: int = 199, reps: int = 20) -> dict[str, float]:
    """Milliseconds per closed-loop forecast of `horizon` steps, numpy and torch."""
    core, head, _ = _model(kind, hidden)
    h = torch.zeros(1, 1, hidden)
    state = (h, h) if kind == "lstm" else h
    arrays = tuple(s[0].numpy() for s in state) if kind == "lstm" else h[0].numpy()
    y0 = torch.zeros(1)
    out = {}
    for name, run in (
        ("numpy", lambda: cell_kernels.closed_loop(core, head, y0.numpy(), arrays, horizon)),
        ("torch", lambda: _torch_loop(core, head, y0, state, horizon)),
    ):
        start = time.perf_counter()
        for _ in range(reps):
            run()
        out[name] = (time.perf_counter() - start) / reps * 1e3
    return out


def measure_loops(kinds, hidden_sizes, rounds: int) -> list[dict]:
    rows = []
    for kind in kinds:
        for hidden in hidden_sizes:
            times = [time_loops(kind, hidden) for _ in range(rounds + 1)][1:]
            row = {"shape": "forecast 199", "kind": kind, "hidden": hidden}
            row |= {f"{k}_ms": median([t[k] for t in times]) for k in ("numpy", "torch")}
            row["speedup"] = row["torch_ms"] / row["numpy_ms"]
            rows.append(row)
            _print(row)
    return rows


def _print(row: dict) -> None:
    print(
        f"{row['shape']:14s} {row['kind']:5s} hidden {row['hidden']:3d}:"
        f" numpy {row['numpy_ms']:.3f} ms, torch {row['torch_ms']:.3f} ms,"
        f" {row['speedup']:.1f}x",
        flush=True,
    )


def measure(kinds, hidden_sizes, rounds: int, steps: int) -> list[dict]:
    rng = np.random.default_rng(0)
    rows = []
    for shape, (batch, length) in SHAPES.items():
        series = np.sin(np.linspace(0, 40, batch * (length + 1) * 8)).astype(np.float32)
        series += rng.normal(0, 0.1, series.size).astype(np.float32)
        cut = series.reshape(8, batch, length + 1, 1)
        chunks = [(np.ascontiguousarray(c[:, :-1]), np.ascontiguousarray(c[:, 1:])) for c in cut]
        for kind in kinds:
            for hidden in hidden_sizes:
                times = {"numpy": [], "torch": []}
                for r in range(rounds + 1):
                    pair = [("numpy", time_numpy), ("torch", time_torch)]
                    for name, fn in pair if r % 2 else pair[::-1]:
                        ms = fn(kind, hidden, chunks, steps)
                        if r:  # round 0 warms up
                            times[name].append(ms)
                row = {"shape": shape, "kind": kind, "hidden": hidden}
                row |= {f"{k}_ms": median(v) for k, v in times.items()}
                row["speedup"] = row["torch_ms"] / row["numpy_ms"]
                rows.append(row)
                _print(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", nargs="+", choices=list(CORES), default=list(CORES))
    parser.add_argument("--hidden", type=int, nargs="+", default=[16, 32])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--json", help="write the rows and the machine here")
    args = parser.parse_args()
    torch.set_num_threads(1)
    kernels.limit_blas_threads(1)
    info = machine()
    print_machine(info)
    rows = measure(args.kinds, args.hidden, args.rounds, args.steps)
    rows += measure_loops(args.kinds, args.hidden, args.rounds)
    print(f"load average at the end: {load_average()}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
