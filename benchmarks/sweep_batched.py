"""Batched training against the same runs one after another: the `fast` preset's 12 runs.

4 learning rates x 3 seeds at hidden 32, 60 epochs, `fast` preset (numpy step kernels),
all in this process on one thread: trained one after another through `Trainer` +
`train()`, and together through `gru_core.batched`. Each round runs both (alternating
which goes first); the ratio is of the medians. Every round also checks that the batched
runs' histories and weights equal the single runs' exactly.

    python -m benchmarks.sweep_batched [--rounds 3] [--epochs 60] [--json F]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time

from benchmarks.common import load_average, machine, median, print_machine

LRS = (3e-3, 1e-2, 3e-2, 1e-1)
SEEDS = (0, 1, 2)


def _specs(series, epochs: int) -> list:
    from gru_core.config import PRESETS
    from gru_core.spec import spec_for

    fast = PRESETS["fast"]
    return [
        spec_for(
            series,
            fast.data.train_fraction,
            fast.model,
            dataclasses.replace(fast.train, lr=lr, seed=s, epochs=epochs),
        )
        for lr in LRS
        for s in SEEDS
    ]


def one_after_another(series, epochs: int) -> tuple[float, list]:
    """Seconds for the 12 runs through Trainer + train(), and the trainers."""
    from gru_core.train import Trainer, train

    start = time.perf_counter()
    trainers = []
    for spec in _specs(series, epochs):
        trainer = Trainer(spec)
        train(trainer)
        trainers.append(trainer)
    return time.perf_counter() - start, trainers


def batched(series, epochs: int) -> tuple[float, list]:
    """Seconds for the 12 runs as one batch (building included), and the trainers."""
    from gru_core.batched import BatchedTrainer, train_batched

    start = time.perf_counter()
    runs = BatchedTrainer(_specs(series, epochs))
    train_batched(runs)
    return time.perf_counter() - start, runs.trainers


def identical(a: list, b: list) -> bool:
    """Whether two lists of trainers hold the same histories (but timings) and weights."""
    import torch

    def rows(t):
        return [{k: v for k, v in r.items() if k not in ("seconds", "elapsed")} for r in t.history]

    for x, y in zip(a, b, strict=True):
        if rows(x) != rows(y):
            return False
        wx, wy = x.export()["weights"], y.export()["weights"]
        if not all(torch.equal(wx[m][k], wy[m][k]) for m in wx for k in wx[m]):
            return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--json", help="also write the measurements to this file")
    args = parser.parse_args()

    import torch

    from gru_core.config import PRESETS
    from gru_core.data import make_sine

    torch.set_num_threads(1)
    info = machine()
    print_machine(info)
    series = make_sine(PRESETS["fast"].data)
    one_after_another(series, 2)  # warm-up, thrown away
    batched(series, 2)
    times: dict[str, list[float]] = {"one after another": [], "batched": []}
    same = []
    for r in range(args.rounds):
        order = ["one after another", "batched"][:: 1 if r % 2 == 0 else -1]
        trainers = {}
        for name in order:
            fn = one_after_another if name == "one after another" else batched
            seconds, trainers[name] = fn(series, args.epochs)
            times[name].append(seconds)
        same.append(identical(trainers["one after another"], trainers["batched"]))
        shown = ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items())
        print(f"round {r + 1}: {shown}; identical: {same[-1]} (load {load_average()})", flush=True)
    single, together = median(times["one after another"]), median(times["batched"])
    print()
    print(f"| 12 runs, {args.epochs} epochs | median s | rounds |")
    print("|---|---|---|")
    for name, values in times.items():
        print(f"| {name} | {median(values):.2f} | {', '.join(f'{v:.2f}' for v in values)} |")
    print(f"\nbatched is {single / together:.2f}x faster; identical in every round: {all(same)}")
    print(f"load average {load_average()} at the end")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info, "seconds": times, "identical": same}, f, indent=1)


if __name__ == "__main__":
    main()
