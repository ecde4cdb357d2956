"""Time to the tutorial's quality, and the tutorial's own algorithm, against a plain baseline.

In one run, interleaved round by round:

- `baseline`: the tutorial's algorithm written plainly (benchmarks/tutorial_baseline.py),
  150 epochs;
- `seed`: the same algorithm through gru_core (`--preset seed`), 150 epochs;
- `fast`: the `fast` preset until its GRU free-running test MSE <= 0.0171, seeds 0..4.

    python -m benchmarks.time_to_quality [--rounds 3] [--seeds 5] [--target 0.0171] [--json F]

Every measurement is a fresh process, timed by its own `train_seconds` (training and
evaluation; not interpreter start, data or model construction), all at one torch thread
(`torch.set_num_threads(1)`, what the app and the command line use). One warm-up run of
each kind is thrown away first; the order of the three kinds alternates from round to
round. Speed-ups are the baseline's median over the other's median; the medians of the
per-round ratios are printed too. Targets: `fast` reaches the MSE for every seed and is
at least 20x faster than `baseline`; `seed` is at least 2x faster and keeps the
tutorial's numbers (within 10%).
"""

from __future__ import annotations

import argparse
import json

from benchmarks.common import load_average, machine, median, print_machine, run_json

TUTORIAL = {"gru_train": 0.0116, "gru_test": 0.0171, "mlp_test": 1.0187}


def baseline(epochs: int = 150) -> dict:
    r = run_json(
        ["benchmarks.tutorial_baseline", "--epochs", str(epochs), "--threads", "1", "--json"]
    )
    return {
        "seconds": r["train_seconds"],
        "epochs": r["epochs"],
        "gru_train": r["gru"]["train_loss"],
        "gru_test": r["gru"]["test_rollout_mse"],
        "mlp_test": r["mlp"]["test_rollout_mse"],
    }


def preset(name: str, seed: int | None = None, target: float | None = None, epochs=None) -> dict:
    args = ["gru_core", "train", "--preset", name, "--json"]
    args += ["--seed", str(seed)] if seed is not None else []
    args += ["--target-mse", str(target)] if target is not None else []
    args += ["--epochs", str(epochs)] if epochs is not None else []
    r = run_json(args)
    return {
        "seconds": r["train_seconds"],
        "epochs": r["epochs"],
        "reached": r["reached_target"],
        "gru_train": r["gru"]["train_loss"],
        "gru_test": r["gru"]["test_rollout_mse"],
        "mlp_test": r["mlp"]["test_rollout_mse"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="measurements of each kind")
    parser.add_argument("--seeds", type=int, default=5, help="fast preset seeds 0..N-1")
    parser.add_argument("--target", type=float, default=0.0171, help="GRU test MSE to reach")
    parser.add_argument("--json", help="also write every measurement to this file")
    args = parser.parse_args()

    info = machine()
    print_machine(info)
    print("warm-up (thrown away) ...", flush=True)
    baseline(epochs=3)
    preset("seed", epochs=3)
    preset("fast", seed=0, target=args.target)

    runs: dict[str, list] = {"baseline": [], "seed": [], "fast": []}
    for r in range(args.rounds):
        kinds = ["baseline", "seed", "fast"]
        for kind in kinds if r % 2 == 0 else kinds[::-1]:
            if kind == "baseline":
                runs["baseline"].append(baseline())
            elif kind == "seed":
                runs["seed"].append(preset("seed"))
            else:
                runs["fast"].append(
                    [preset("fast", seed=s, target=args.target) for s in range(args.seeds)]
                )
            print(f"round {r + 1} {kind}: done (load {load_average()})", flush=True)

    base = median(x["seconds"] for x in runs["baseline"])
    seed = median(x["seconds"] for x in runs["seed"])
    fast_by_seed = [median(rnd[s]["seconds"] for rnd in runs["fast"]) for s in range(args.seeds)]
    fast = median(fast_by_seed)
    per_round = {
        "seed": median(
            b["seconds"] / s["seconds"] for b, s in zip(runs["baseline"], runs["seed"], strict=True)
        ),
        "fast": median(
            b["seconds"] / median(x["seconds"] for x in f)
            for b, f in zip(runs["baseline"], runs["fast"], strict=True)
        ),
    }

    print()
    print(f"{args.rounds} rounds; medians; load average {load_average()} at the end")
    print()
    print("| run | epochs | train_seconds | GRU train | GRU test | MLP test | speed-up |")
    print("|---|---|---|---|---|---|---|")
    b0, s0 = runs["baseline"][0], runs["seed"][0]
    print(
        f"| baseline (tutorial, plain) | {b0['epochs']} | {base:.2f} | {b0['gru_train']:.4f}"
        f" | {b0['gru_test']:.4f} | {b0['mlp_test']:.4f} | 1.0x |"
    )
    print(
        f"| `seed` preset | {s0['epochs']} | {seed:.2f} | {s0['gru_train']:.4f}"
        f" | {s0['gru_test']:.4f} | {s0['mlp_test']:.4f} | {base / seed:.1f}x"
        f" (per round {per_round['seed']:.1f}x) |"
    )
    for s in range(args.seeds):
        x = runs["fast"][0][s]
        print(
            f"| `fast` preset, seed {s}, to MSE <= {args.target} | {x['epochs']}"
            f" | {fast_by_seed[s]:.2f} | {x['gru_train']:.4f} | {x['gru_test']:.4f}"
            f" | {x['mlp_test']:.4f} | {base / fast_by_seed[s]:.1f}x |"
        )
    print(
        f"| `fast` preset, median of {args.seeds} seeds | | {fast:.2f} | | | |"
        f" **{base / fast:.1f}x** (per round {per_round['fast']:.1f}x) |"
    )

    reached = all(x["reached"] for rnd in runs["fast"] for x in rnd)
    close = all(
        abs(s0[k] - v) <= 0.10 * v for k, v in TUTORIAL.items()
    )  # same numbers every round: the runs are deterministic
    print()
    print(
        f"target 1: every seed reached {args.target}: {'yes' if reached else 'NO'};"
        f" speed-up {base / fast:.1f}x (needs >= 20): {'met' if base / fast >= 20 else 'NOT met'}"
    )
    print(
        f"target 2: seed preset speed-up {base / seed:.1f}x (needs >= 2):"
        f" {'met' if base / seed >= 2 else 'NOT met'}; tutorial's numbers within 10%:"
        f" {'yes' if close else 'NO'}"
    )
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info, "runs": runs, "per_round": per_round}, f, indent=1)


if __name__ == "__main__":
    main()
