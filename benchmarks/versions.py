"""This checkout against another one: the `seed` and `fast` presets' time and numbers, interleaved.

    git worktree add /tmp/before REV
    python -m benchmarks.versions --other /tmp/before [--rounds 2] [--seeds 5]

Each round runs `python -m gru_core train --json` in both checkouts, alternating which goes
first: `seed` (150 epochs) once, then `fast` with `--target-mse 0.0171` for each seed. It
prints every run's `train_seconds` and epochs, the medians, and whether the two checkouts
gave the same numbers (they must, to the last digit, for a change that only reshapes code).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks.common import ROOT, load_average, median, run_json


def _run(cwd: Path, preset: str, seed: int | None) -> dict:
    args = ["gru_core", "train", "--preset", preset, "--json"]
    if seed is not None:
        args += ["--seed", str(seed), "--target-mse", "0.0171"]
    return run_json(args, cwd=cwd)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--other", type=Path, required=True, help="the checkout to compare with")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    trees = {"this": ROOT, "other": args.other.resolve()}
    seconds: dict[tuple[str, str], list[float]] = {}
    same = True
    print(f"load average before: {load_average()}")
    for r in range(args.rounds):
        runs = [("seed", None)] + [("fast", s) for s in range(args.seeds)]
        for i, (preset, seed) in enumerate(runs):
            order = ["this", "other"] if (r + i) % 2 == 0 else ["other", "this"]
            results = {name: _run(trees[name], preset, seed) for name in order}
            numbers = [
                {k: v for k, v in res.items() if k != "train_seconds"} for res in results.values()
            ]
            same &= numbers[0] == numbers[1]
            what = preset if seed is None else f"fast seed {seed}"
            for name, res in results.items():
                kind = "seed" if seed is None else "fast"
                seconds.setdefault((name, kind), []).append(res["train_seconds"])
                print(
                    f"round {r + 1} {what:12} {name:5} {res['train_seconds']:7.3f} s"
                    f" {res['epochs']:4} epochs"
                )
    for kind in ("seed", "fast"):
        this, other = median(seconds[("this", kind)]), median(seconds[("other", kind)])
        print(f"{kind}: median {this:.3f} s here, {other:.3f} s there ({other / this:.2f}x)")
    print(f"same numbers: {same}; load average after: {load_average()}")


if __name__ == "__main__":
    main()
