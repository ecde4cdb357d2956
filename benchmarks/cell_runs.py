"""Every model kind with the `fast` preset's settings: time to the tutorial's quality, and
what training MLP + RNN + LSTM + GRU in one run costs against today's GRU + MLP run.

1. Per kind, alone: `train --preset fast --models KIND --target-mse 0.0171 --json` (the
   tutorial's GRU test MSE; the run stops at the first epoch whose free-running test MSE is
   at most that, else after the preset's 60 epochs): epochs, seconds, the test MSE then.
2. `train --preset fast --models mlp,rnn,lstm,gru --json` against `--models gru,mlp`, all
   60 epochs, in interleaved rounds: medians and their ratio of three clocks: the run's own
   `train_seconds` (training and evaluation, wall clock), the whole process's wall clock
   (interpreter start and imports too), and the whole process's CPU time (user + system,
   from the child's rusage: what a busy machine's other work does not inflate much).

    python -m benchmarks.cell_runs [--rounds 5] [--kinds gru rnn lstm ...] [--json F]
    python -m benchmarks.cell_runs --pairs-only [--rounds 5]    # part 2 only
    python -m benchmarks.cell_runs --in-process [--rounds 5]    # parts 1 and 2, in this process

Protocol of benchmarks/common.py: a warm-up round thrown away, the order alternating from
round to round, medians; ratios only within one run of this script.
"""

from __future__ import annotations

import argparse
import json
import resource
import time

from benchmarks.common import load_average, machine, median, print_machine, run_json
from gru_core.config import MODEL_KINDS

TARGET = 0.0171  # the tutorial's GRU test MSE
RUNS = {"gru,mlp": "GRU + MLP", "mlp,rnn,lstm,gru": "MLP + RNN + LSTM + GRU"}


def timed_cli(args: list[str]) -> tuple[dict, float, float]:
    """`run_json(args)` with the child process's wall-clock and CPU seconds (user + system)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = run_json(args)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return out, wall, cpu


def alone(kind: str) -> dict:
    out, _, cpu = timed_cli(
        ["gru_core", "train", "--preset", "fast", "--models", kind, "--json"]
        + ["--target-mse", str(TARGET)]
    )
    return {
        "epochs": out["epochs"],
        "seconds": out["train_seconds"],
        "process_cpu": cpu,
        "reached": out["reached_target"],
        "test_rollout_mse": out[kind]["test_rollout_mse"],
    }


def together(models: str) -> dict[str, float]:
    """One CLI run of 60 epochs: its train_seconds, and the process's wall and CPU seconds."""
    out, wall, cpu = timed_cli(
        ["gru_core", "train", "--preset", "fast", "--models", models, "--json"]
    )
    return {"train_seconds": out["train_seconds"], "process_wall": wall, "process_cpu": cpu}


def in_process(models: str, target: float | None = None) -> dict[str, float]:
    """Wall and CPU seconds of the fast preset's 60 epochs with these models (or until the
    first one's test MSE <= target), trained in this process (`train()` only: no start, no
    building), with the epochs and the first model's test MSE at the end."""
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
    trainer = Trainer(RunSpec.of(data, model, fast.train))
    cpu = time.process_time()
    wall = train(trainer, target=target).seconds
    cpu = time.process_time() - cpu
    if target is None:
        return {"train_seconds": wall, "train_cpu": cpu}
    mse = trainer.history[-1][f"{trainer.names[0]}_test_rollout_mse"]
    return {"train_seconds": wall, "train_cpu": cpu, "epochs": trainer.epoch, "mse": mse}


def alone_in_process(kinds: list[str], rounds: int) -> dict:
    """Part 1 in this process: per kind, epochs, test MSE, wall and CPU seconds to the target."""
    rows: dict[str, list[dict]] = {k: [] for k in kinds}
    for kind in kinds:  # warm-up
        in_process(kind, TARGET)
    for r in range(rounds):
        for kind in kinds if r % 2 == 0 else kinds[::-1]:
            rows[kind].append(in_process(kind, TARGET))
    print(f"time to test MSE <= {TARGET} with the fast preset, alone, in this process:")
    out = {}
    for kind, runs in rows.items():
        first = runs[0]  # deterministic: every round trains the same epochs to the same error
        out[kind] = {
            "epochs": first["epochs"],
            "test_rollout_mse": first["mse"],
            "reached": first["mse"] <= TARGET,
            "train_seconds": median(x["train_seconds"] for x in runs),
            "train_cpu": median(x["train_cpu"] for x in runs),
        }
        row = out[kind]
        print(
            f"  {kind:16} {'reached' if row['reached'] else 'not reached':11}"
            f" epochs {row['epochs']:3}  test MSE {row['test_rollout_mse']:.4f}"
            f"  wall {row['train_seconds']:.2f} s  CPU {row['train_cpu']:.2f} s",
            flush=True,
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--kinds", nargs="+", default=[k for k in MODEL_KINDS if k != "mlp"])
    parser.add_argument("--json", help="write the results here too")
    parser.add_argument(
        "--in-process", action="store_true", help="parts 1 and 2, trained in this process"
    )
    parser.add_argument("--pairs-only", action="store_true", help="part 2 only, by the CLI")
    args = parser.parse_args()
    info = machine()
    print_machine(info)

    if args.in_process or args.pairs_only:
        result = {"machine": info}
        if args.in_process:
            result["alone"] = alone_in_process(args.kinds, args.rounds)
        run, how = (in_process, "in this process") if args.in_process else (together, "CLI")
        times, medians, ratio = pairs(run, args.rounds, how)
        result |= {"seconds": times, "median": medians, "ratio": ratio}
        if args.json:
            with open(args.json, "w") as f:
                json.dump(result, f, indent=1)
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
        cpu = median(r["process_cpu"] for r in rows)
        per_kind[kind]["process_cpu"] = cpu
        print(
            f"  {kind:16} {'reached' if first['reached'] else 'not reached':11}"
            f" epochs {first['epochs']:3}  test MSE {first['test_rollout_mse']:.4f}"
            f"  train_seconds {seconds:.2f} s  process CPU {cpu:.2f} s"
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
    """GRU + MLP against MLP + RNN + LSTM + GRU, interleaved rounds after a warm-up; `run`
    returns a dict of clocks, each compared on its own."""
    times: dict[str, list[dict]] = {m: [] for m in RUNS}
    for models in RUNS:  # warm-up
        run(models)
    for r in range(rounds):
        for models in RUNS if r % 2 == 0 else list(RUNS)[::-1]:
            times[models].append(run(models))
            print(f"  round {r + 1} {models}: {times[models][-1]}", flush=True)
    clocks = list(times["gru,mlp"][0])
    medians = {m: {c: median(t[c] for t in v) for c in clocks} for m, v in times.items()}
    ratio = {c: medians["mlp,rnn,lstm,gru"][c] / medians["gru,mlp"][c] for c in clocks}
    print(f"60 epochs of the fast preset, {how} ({rounds} interleaved rounds, medians):")
    for clock in clocks:
        print(f" {clock}:")
        for models, label in RUNS.items():
            values = [t[clock] for t in times[models]]
            spread = f"{min(values):.2f}-{max(values):.2f}"
            print(f"  {label:24} {medians[models][clock]:.2f} s  (range {spread})")
        per_round = [
            a[clock] / b[clock]
            for a, b in zip(times["mlp,rnn,lstm,gru"], times["gru,mlp"], strict=True)
        ]
        print(
            f"  ratio: {ratio[clock]:.2f}x (per round {', '.join(f'{x:.2f}' for x in per_round)})"
        )
    print(f"load average at the end: {load_average()}")
    return times, medians, ratio


if __name__ == "__main__":
    main()
