"""The app's path on a GPU, end to end: a ProcessJob on cuda, and one stopped and resumed.

A `ProcessJob` trains in a child process; on a GPU the child starts as a fresh interpreter
(a fork server must not hand on a CUDA driver). This runs the `fast` preset's settings with
hidden 512 and 64 streams on a 10,000-point sine for 6 epochs twice: once straight through,
and once stopped after epoch 2 (the child sends its state back and exits) and resumed in a
new child. It prints whether the two histories and final weights are identical.

    python -m benchmarks.gpu_job [--device cuda] [--hidden 512]
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


def _run(spec, stop_after: int | None = None):
    job = ProcessJob(spec, publish_every=0.0)
    start = time.perf_counter()
    job.start()
    if stop_after is not None:
        while job.snapshot().epoch < stop_after and job.status in ("new", "queued", "running"):
            time.sleep(0.05)
        job.stop()
        job.join(120)
        assert job.pid is None, "a stopped run keeps no process"
        assert job.resume(), job.snapshot().message
    job.join(600)
    return job.snapshot(), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--hidden", type=int, default=512)
    args = parser.parse_args()
    preset = PRESETS["fast"]
    data = DataConfig(points=10_000, periods=50)
    model = dataclasses.replace(preset.model, hidden_size=args.hidden)
    train = dataclasses.replace(preset.train, device=args.device, epochs=6, batch_size=64)
    spec = spec_for(make_sine(data), data.train_fraction, model, train)
    whole, whole_s = _run(spec)
    resumed, resumed_s = _run(spec, stop_after=2)

    def rows(snap):
        return [{k: v for k, v in r.items() if k not in TIMING} for r in snap.history]

    same_weights = all(
        torch.equal(value, resumed.weights[name][key])
        for name, weights in whole.weights.items()
        for key, value in weights.items()
    )
    print(
        json.dumps(
            {
                "device": [whole.device, resumed.device],
                "status": [whole.status, resumed.status],
                "epochs": [whole.epoch, resumed.epoch],
                "seconds": [round(whole_s, 1), round(resumed_s, 1)],
                "same_history": rows(whole) == rows(resumed),
                "same_weights": same_weights,
            }
        )
    )


if __name__ == "__main__":
    main()
