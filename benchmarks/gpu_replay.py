"""Replay on a GPU: a cuda run in a child process keeps every epoch's weights, exactly.

The `fast` preset's settings with hidden 512, 64 streams, a constant learning rate (a cosine
schedule spans the whole run, so its epoch 3 of 6 is not a 3-epoch run) on a 10,000-point
sine: a 6-epoch run and a 3-epoch run, each a `ProcessJob` on cuda. It prints the epochs kept,
whether the 6-epoch run's frame at epoch 3 equals the 3-epoch run's final weights, and whether
slow motion (1 s per epoch) changes any number.

    python -m benchmarks.gpu_replay [--device cuda]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time

import torch

from gru_core.config import PRESETS, DataConfig
from gru_core.data import make_sine
from gru_core.process_job import ProcessJob
from gru_core.spec import spec_for

TIMING = ("seconds", "elapsed")


def _run(spec):
    job = ProcessJob(spec, publish_every=0.0)
    start = time.perf_counter()
    job.start()
    job.join(300)
    return job.snapshot(), time.perf_counter() - start


def _rows(history: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in TIMING} for r in history]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    args = parser.parse_args()
    fast = PRESETS["fast"]
    data = DataConfig(points=10000, periods=50)
    series = make_sine(data)
    model = dataclasses.replace(fast.model, hidden_size=512)

    def spec(epochs: int, slow: float = 0.0):
        train = dataclasses.replace(
            fast.train,
            device=args.device,
            epochs=epochs,
            batch_size=64,
            slow_motion=slow,
            lr_schedule="constant",
        )
        return spec_for(series, data.train_fraction, model, train)

    full, t6 = _run(spec(6))
    short, t3 = _run(spec(3))
    slow, ts = _run(spec(3, slow=1.0))
    past = full.at_epoch(3)
    tensors = [(m, k) for m in short.weights for k in short.weights[m]]
    diff = max(
        (past.weights[m][k].cpu().double() - short.weights[m][k].cpu().double()).abs().max().item()
        for m, k in tensors
    )
    print(
        json.dumps(
            {
                "device": full.device,
                "status": [full.status, short.status, slow.status],
                "kept_epochs": list(full.replay_epochs()),
                "frame3_equal_3epoch_run": diff == 0,
                "frame3_max_abs_diff": diff,
                "seconds": {"6 epochs": t6, "3 epochs": t3, "3 epochs, slow 1.0 s": ts},
                "slow_same_history": _rows(slow.history) == _rows(short.history),
                "slow_same_weights": all(
                    torch.equal(slow.weights[m][k].cpu(), short.weights[m][k].cpu())
                    for m, k in tensors
                ),
            }
        )
    )


if __name__ == "__main__":
    main()
