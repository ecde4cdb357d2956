"""Every model kind with the `fast` preset's settings: time to the tutorial's quality, and
what training MLP + RNN + LSTM + GRU in one run costs against today's GRU + MLP run.

1. Per kind, alone: `train --preset fast --models KIND --target-mse 0.0171 --json` (the
   tutorial's GRU test MSE; the run stops at the first epoch whose free-running test MSE is
   at most that, else after the preset's 60 epochs): epochs, seconds, the test MSE then.
2. `train --preset fast --models mlp,rnn,lstm,gru --json` against `--models gru,mlp`, all
   60 epochs, in interleaved rounds: median `train_seconds` of each and their ratio.

    python -m benchmarks.cell_runs [--rounds 5] [--kinds gru rnn lstm ...] [--json F]
    python -m benchmarks.cell_runs --in-process [--rounds 5]   # part 2, in this process

Protocol of benchmarks/common.py: a warm-up round thrown away, the order alternating from
round to round, medians; ratios only within one run of this script.
"""

from __future__ import annotations

import argparse
import json

from benchmarks.common import load_average, machine, median, print_machine, run_json
from gru_core.config import MODEL_KINDS

TARGET = 0.0171  # the tutorial's GRU test MSE
RUNS = {"gru,mlp": "GRU + MLP", "mlp,rnn,lstm,gru": "MLP + RNN + LSTM + GRU"}


def alone(kind: str) -> dict:
    out = run_json(
        ["gru_core", "train", "--preset", "fast", "--models", kind, "--json"]
        + ["--target-mse", str(TARGET)]
    )
    return {
        "epochs": out["epochs"],
        "seconds": out["train_seconds"],
        "reached": out["reached_target"],
        "test_rollout_mse": out[kind]["test_rollout_mse"],
    }


def together(models: str) -> float:
    out = run_json(["gru_core", "train", "--preset", "fast", "--models", models, "--json"])
    return out["train_seconds"]


def in_process(models: str) -> float:
    """Seconds of 60 epochs of the fast preset with these models, trained in this process."""
    import dataclasses

    import torch

    from gru_core.config import PRESETS
    from gru_core.data import make_sine
    from gru_core.spec import Dataset, RunSpec
    from gru_core.train import Trainer, train

    torch.set_num_threads(1)
    fast = PRESETS["fast"]
    data = Dataset(make_sine(fast.data), fast.data.train_fraction, "sine", sine=fast.data)
    model = dataclasses.replace(fast.model, models=tuple(models.split(",")))
    return train(Trainer(RunSpec.of(data, model, fast.train))).seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--kinds", nargs="+", default=[k for k in MODEL_KINDS if k != "mlp"])
    parser.add_argument("--json", help="write the results here too")
    parser.add_argument(
        "--in-process", action="store_true", help="part 2 only, trained in this process"
    )
    args = parser.parse_args()
    info = machine()
    print_machine(info)

    if args.in_process:
        pairs(in_process, args.rounds, "in this process")
        return
    kinds = {k: [] for k in args.kinds}
    for kind in args.kinds:  # warm-up
        alone(kind)
    for r in range(args.rounds):
        for kind in args.kinds if r % 2 == 0 else args.kinds[::-1]:
            kinds[kind].append(alone(kind))
    print(f"time to test MSE <= {TARGET} with the fast preset, alone ({args.rounds} rounds):")
    per_kind = {}
    for kind, rows in kinds.items():
        seconds = median(r["seconds"] for r in rows)
        reached = sum(r["reached"] for r in rows)
        # Deterministic: every round trains the same epochs to the same error.
        first = rows[0]
        per_kind[kind] = {**first, "seconds": seconds, "rounds_reached": reached}
        print(
            f"  {kind:16} {'reached' if first['reached'] else 'not reached':11}"
            f" epochs {first['epochs']:3}  test MSE {first['test_rollout_mse']:.4f}"
            f"  {seconds:.2f} s"
        )

    times, medians, ratio = pairs(together, args.rounds, "through the command line")
    if args.json:
        result = {
            "machine": info,
            "alone": per_kind,
            "together": {"seconds": times, "median": medians, "ratio": ratio},
        }
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


def pairs(run, rounds: int, how: str):
    """GRU + MLP against MLP + RNN + LSTM + GRU, interleaved rounds after a warm-up."""
    times = {m: [] for m in RUNS}
    for models in RUNS:  # warm-up
        run(models)
    for r in range(rounds):
        for models in RUNS if r % 2 == 0 else list(RUNS)[::-1]:
            times[models].append(run(models))
    medians = {m: median(v) for m, v in times.items()}
    ratio = medians["mlp,rnn,lstm,gru"] / medians["gru,mlp"]
    print(f"60 epochs of the fast preset, {how} ({rounds} interleaved rounds, medians):")
    for models, label in RUNS.items():
        spread = f"{min(times[models]):.2f}-{max(times[models]):.2f}"
        print(f"  {label:24} {medians[models]:.2f} s  (range {spread})")
    rounds_ratio = [a / b for a, b in zip(times["mlp,rnn,lstm,gru"], times["gru,mlp"], strict=True)]
    print(f"  ratio: {ratio:.2f}x (per round {', '.join(f'{x:.2f}' for x in rounds_ratio)})")
    print(f"load average at the end: {load_average()}")
    return times, medians, ratio


if __name__ == "__main__":
    main()
