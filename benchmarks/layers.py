"""Seconds for a run of stacked GRUs: the numpy kernel layer by layer against `nn.GRU`.

A GRU of 2 or more layers trains on torch (the whole-step numpy kernels cover one layer).
Its forward and backward through time run `kernels.gru` layer by layer, torch's own
dropout between layers; before, they ran `nn.GRU`. Each round trains the same run both
ways: the `fast` preset (hidden 16) and the `seed` preset, 1-3 layers, `--epochs` epochs,
the GRU alone; "nn.GRU" is the same run with the stacks kept off the kernel, as before.
Both ways give the same numbers (tests/test_kernels.py checks outputs, gradients and
dropout draws against `nn.GRU` in float64); this measures only the time.

    python -m benchmarks.layers [--rounds 3] [--epochs 20]

Protocol of benchmarks/common.py: one warm-up round thrown away, then rounds in which the
two ways alternate their order, medians. One torch thread and one BLAS thread, as the app.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from unittest import mock

import torch

from benchmarks.common import load_average, machine, median, print_machine
from gru_core import kernels
from gru_core.config import PRESETS
from gru_core.data import make_sine
from gru_core.spec import Dataset, RunSpec
from gru_core.train import Trainer, train

_APPLIES = kernels.applies


def _one_layer_only(gru, x) -> bool:
    """`kernels.applies` as it was: stacks went to `nn.GRU`."""
    return gru.num_layers == 1 and _APPLIES(gru, x)


def _seconds(spec: RunSpec, stacked: bool) -> float:
    trainer = Trainer(spec)
    start = time.perf_counter()
    if stacked:
        train(trainer)
    else:
        with mock.patch.object(kernels, "applies", _one_layer_only):
            train(trainer)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(1)
    kernels.limit_blas_threads(1)
    print_machine(machine())
    print("\n| preset | layers | kernel s | nn.GRU s | speed-up |\n|---|---|---|---|---|")
    for preset in ("fast", "seed"):
        p = PRESETS[preset]
        data = Dataset(make_sine(p.data), p.data.train_fraction, "sine", sine=p.data)
        for layers in (1, 2, 3):
            model = dataclasses.replace(p.model, num_layers=layers, models=("gru",))
            spec = RunSpec.of(data, model, dataclasses.replace(p.train, epochs=args.epochs))
            spec = spec.validate()
            _seconds(spec, True), _seconds(spec, False)  # warm-up, not counted
            times: dict[bool, list[float]] = {True: [], False: []}
            for r in range(args.rounds):
                for stacked in (True, False) if r % 2 == 0 else (False, True):
                    times[stacked].append(_seconds(spec, stacked))
            new, old = median(times[True]), median(times[False])
            print(f"| {preset} | {layers} | {new:.2f} | {old:.2f} | {old / new:.2f}x |", flush=True)
    print(f"load average {load_average()} at the end")


if __name__ == "__main__":
    main()
