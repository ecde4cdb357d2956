"""What each setting of the `fast` preset gives: time to the tutorial's quality, one at a time.

Starting from the `fast` preset of the first commit (hidden 16, 2 streams of 20-step
chunks, Adam 1e-2 with a cosine, torch step, evaluation re-reading the training part,
every other epoch), the settings of today's preset are switched on one by one; then,
from today's preset, each is switched back alone. Every row trains seeds 0..N-1 to GRU
test MSE <= 0.0171 (at most 60 epochs) and reports how many reached it, their epochs,
the median seconds and milliseconds per epoch.

    python -m benchmarks.ablation [--seeds 5] [--rounds 2] [--json F]

Runs in this process, rows interleaved round by round, one torch thread. The epochs are
deterministic; the seconds are medians over seeds and rounds. Code-level changes (the
numpy kernels' layout, the fused evaluation loop, BLAS threads) are not switchable here;
BENCHMARKS.md gives their microbenchmarks.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time

from benchmarks.common import load_average, machine, median, print_machine

TARGET = 0.0171
OLD = {  # the `fast` preset of the first commit, evaluating every epoch (see BENCHMARKS.md)
    "hidden_size": 16,
    "seq_len": 20,
    "lr": 1e-2,
    "step_kernel": "torch",
    "eval_state": "warm",
    "eval_every": 2,
}
NEW = {
    "hidden_size": 32,
    "seq_len": 60,
    "lr": 3e-2,
    "step_kernel": "numpy",
    "eval_state": "carried",
    "eval_every": 1,
}
STEPS = [  # (label, settings switched on together)
    ("numpy step kernel", ("step_kernel",)),
    ("evaluate every epoch, from the carried state", ("eval_every", "eval_state")),
    ("60-step chunks, lr 3e-2", ("seq_len", "lr")),
    ("hidden 32", ("hidden_size",)),
]


def rows() -> list[tuple[str, dict]]:
    out = [("first commit's `fast` preset", dict(OLD))]
    settings = dict(OLD)
    for label, keys in STEPS:
        settings.update({k: NEW[k] for k in keys})
        out.append((f"+ {label}", dict(settings)))
    for label, keys in STEPS:
        out.append((f"today's preset, without: {label}", {**NEW, **{k: OLD[k] for k in keys}}))
    return out


def run(settings: dict, seed: int) -> dict:
    from gru_core.config import PRESETS
    from gru_core.data import make_sine
    from gru_core.spec import spec_for
    from gru_core.train import Trainer, train

    preset = PRESETS["fast"]
    model = dataclasses.replace(preset.model, hidden_size=settings["hidden_size"])
    train_keys = {k: v for k, v in settings.items() if k != "hidden_size"}
    cfg = dataclasses.replace(preset.train, seed=seed, epochs=60, **train_keys)
    trainer = Trainer(spec_for(make_sine(preset.data), preset.data.train_fraction, model, cfg))
    start = time.perf_counter()
    result = train(trainer, target=TARGET)
    seconds = time.perf_counter() - start
    return {
        "reached": result.outcome == "reached_target",
        "epochs": trainer.epoch,
        "seconds": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", help="also write the measurements to this file")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    info = machine()
    print_machine(info)
    table = rows()
    run(NEW, 0)  # warm-up
    results: list[list[dict]] = [[] for _ in table]
    for r in range(args.rounds):
        order = range(len(table)) if r % 2 == 0 else reversed(range(len(table)))
        for i in order:
            results[i] += [run(table[i][1], seed) for seed in range(args.seeds)]
        print(f"round {r + 1} done (load {load_average()})", flush=True)
    print()
    print("| settings | reached | epochs (seeds 0..) | median s | ms / epoch |")
    print("|---|---|---|---|---|")
    for (label, _), runs in zip(table, results, strict=True):
        first = runs[: args.seeds]
        reached = sum(x["reached"] for x in first)
        epochs = ", ".join(str(x["epochs"]) for x in first)
        seconds = median(x["seconds"] for x in runs)
        per_epoch = median(x["seconds"] / x["epochs"] * 1000 for x in runs)
        print(f"| {label} | {reached}/{args.seeds} | {epochs} | {seconds:.2f} | {per_epoch:.1f} |")
    print(f"\nload average {load_average()} at the end")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info, "rows": table, "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
