"""The 48-run sweep: 1 worker against 2, and against the same runs one after another.

4 hidden sizes (4, 8, 16, 32) x 4 learning rates (1e-3, 3e-3, 1e-2, 3e-2) x 3 seeds, the
`fast` preset, `--epochs` epochs (60):

- one after another: the 48 runs through `Trainer` + `train()` in this one process, as
  `python -m gru_core train` trains each (one thread);
- sweep, 1 worker and 2 workers: `gru_core.sweep_runs` on local worker processes (started
  from the fork server, included in the time), runs of one hidden size batched, model by
  model; the MLP baseline, alike in every hidden size, trained once (`Sweep.items`).

Rounds are interleaved (the order rotates each round); the ratios are of the medians.
Every round also checks that all three gave every run the same metrics, exactly. Then,
unless `--no-pages`, a sweep is started from the Sweep page of a fresh `streamlit run
app.py` in Chromium and, while it trains, the page is switched Overview -> Data -> Train
-> Gates -> Rollouts -> Sweep a few times, each switch timed until the new page's script
has finished (`benchmarks.live_view`'s machinery).

    python -m benchmarks.sweep [--rounds 2] [--epochs 60] [--no-pages] [--workers-only] [--json F]
    python -m benchmarks.sweep --groups [--rounds 2] [--epochs 60]
    python -m benchmarks.sweep --estimates
    python -m benchmarks.sweep --pages-only [--rounds 3]

Each full call also prints the estimate the Sweep page shows before Start (`Sweep.
estimate_seconds`) against the medians; `--estimates` checks it on other sweeps, batched
and not (`ESTIMATED`), each once on 1 and 2 workers.

One sweep on 2 workers runs first and is not counted (the fork server's start, first calls).
`--groups` instead times each item the 2-worker sweep hands its workers (one model of the
runs of one hidden size, batched), alone in this process on one thread, and prints the best
any split of those items over 2 workers can do: the total over the longer worker's share is
the most 2 workers can gain on 1 with these items, however fast the workers start and talk.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time

from benchmarks.common import load_average, machine, median, print_machine

GRID = {"hidden": [4, 8, 16, 32], "lr": [1e-3, 3e-3, 1e-2, 3e-2]}
SEEDS = 3
PAGES = ("Overview", "Data", "Train", "Gates", "Rollouts", "Sweep")


def _plan(epochs: int):
    from gru_core.config import PRESETS
    from gru_core.data import make_sine
    from gru_core.spec import Dataset
    from gru_core.sweep_runs import Sweep

    fast = PRESETS["fast"]
    data = Dataset(make_sine(fast.data), fast.data.train_fraction, "sine", sine=fast.data)
    return Sweep(data, fast.model, dataclasses.replace(fast.train, epochs=epochs), GRID, SEEDS)


def one_after_another(plan) -> tuple[float, dict]:
    """Seconds for every run through Trainer + train(), and each run's metrics by key."""
    import torch

    from gru_core.train import Trainer, final_metrics, train

    torch.set_num_threads(1)
    start = time.perf_counter()
    metrics = {}
    for run in plan.runs:
        trainer = Trainer(plan.spec(run))
        train(trainer)
        metrics[run["key"]] = final_metrics(trainer)
    return time.perf_counter() - start, metrics


def swept(plan, workers: int) -> tuple[float, dict]:
    """Seconds for the sweep on `workers` local workers, and each run's metrics by key."""
    from gru_core.executors import LocalExecutor
    from gru_core.sweep_runs import run_sweep

    start = time.perf_counter()
    results = list(run_sweep(plan.items(workers), LocalExecutor(workers)))
    seconds = time.perf_counter() - start
    return seconds, {r["key"]: r["metrics"] for r in results}


def group_bound(seconds: list[float], workers: int = 2) -> tuple[float, list[int]]:
    """The shortest wall time over every assignment of groups taking `seconds` to `workers`
    workers (each group whole on one worker), and that assignment (worker of each group)."""
    best, chosen = float("inf"), []
    for code in range(workers ** len(seconds)):
        owner = [code // workers**i % workers for i in range(len(seconds))]
        longest = max(
            sum(s for s, o in zip(seconds, owner, strict=True) if o == w) for w in range(workers)
        )
        if longest < best:
            best, chosen = longest, owner
    return best, chosen


def groups(plan, rounds: int) -> None:
    """Each 2-worker group alone, `rounds` rounds; what the best split of them allows."""
    import torch

    from gru_core.sweep_runs import train_group

    torch.set_num_threads(1)
    items = plan.items(2)
    train_group({"sweep": items[0]["sweep"], "runs": items[0]["runs"][:1]})  # first calls
    times: list[list[float]] = [[] for _ in items]
    for r in range(rounds):
        order = (
            list(range(len(items)))[r % len(items) :] + list(range(len(items)))[: r % len(items)]
        )
        for i in order:
            start = time.perf_counter()
            train_group(items[i])
            times[i].append(time.perf_counter() - start)
    mid = [median(t) for t in times]
    print("\n| group | runs | median s | rounds |\n|---|---|---|---|")
    for item, m, t in zip(items, mid, times, strict=True):
        first = item["runs"][0]["settings"]
        shown = ", ".join(f"{v:.2f}" for v in t)
        what = f"hidden {first['hidden']}, {'+'.join(item.get('models', ['all']))}"
        copies = sum(len(c) for c in item.get("copies", {}).values())
        runs = f"{len(item['runs'])}" + (f" (+{copies} copies)" if copies else "")
        print(f"| {what} | {runs} | {m:.2f} | {shown} |")
    best, owner = group_bound(mid)
    print(f"\ntotal {sum(mid):.2f} s; best split over 2 workers {best:.2f} s (workers {owner}):")
    print(f"2 workers can be at most {sum(mid) / best:.2f}x 1 with these groups")
    print(f"load average {load_average()} at the end")


def page_switches(rounds: int = 3) -> dict[str, list[float]]:
    """Seconds per page switch while the default 48-run sweep trains from the Sweep page."""
    from playwright.sync_api import sync_playwright

    from benchmarks.live_view import _go, wait_for_script
    from scripts.harness import CHROMIUM_ARGS, AppServer, chromium_path

    server = AppServer()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(server.url)
            wait_for_script(page)
            _go(page, "Sweep")
            page.locator(".st-key-sweep_start button").first.click()
            wait_for_script(page)
            page.wait_for_timeout(2000)
            seconds: dict[str, list[float]] = {title: [] for title in PAGES}
            for _ in range(rounds):
                for title in PAGES:
                    seconds[title].append(_go(page, title))
            done = page.get_by_text("48 of 48 runs done").count() > 0
            browser.close()
    finally:
        server.close()
    print(f"the sweep had finished by the last switch: {done}")
    return seconds


def print_switches(switches: dict[str, list[float]]) -> None:
    for title, values in switches.items():
        shown = ", ".join(f"{v:.2f}" for v in values)
        print(f"switch to {title}: max {max(values):.2f} s ({shown})")


# Other sweeps the estimate is checked on: (preset, grid, seeds, epochs); batched and not.
ESTIMATED = [
    ("fast", {"seq-len": [10, 20, 40], "lr": [1e-2, 3e-2]}, 2, 60),
    ("fast", {"layers": [1, 2], "hidden": [8, 16]}, 3, 60),
    ("fast", {"hidden": [64]}, 2, 30),
    ("seed", {"hidden": [8, 16], "layers": [1, 2]}, 2, 20),
    ("seed", {"hidden": [128]}, 2, 30),
    ("window", {"hidden": [16, 32], "batch": [32, 240]}, 2, 20),
]


def estimates() -> None:
    """Each of `ESTIMATED` on 1 and 2 workers: the estimate the Sweep page shows before
    Start, against the time the sweep took."""
    from gru_core.config import PRESETS
    from gru_core.data import make_sine
    from gru_core.spec import Dataset
    from gru_core.sweep_runs import Sweep

    swept(_plan(5), 2)  # not counted: the fork server's first start
    print("\n| preset | grid x seeds | workers | estimate s | took s | ratio |")
    print("|---|---|---|---|---|---|")
    for preset, grid, seeds, epochs in ESTIMATED:
        p = PRESETS[preset]
        data = Dataset(make_sine(p.data), p.data.train_fraction, "sine", sine=p.data)
        plan = Sweep(data, p.model, dataclasses.replace(p.train, epochs=epochs), grid, seeds)
        for workers in (1, 2):
            guess = plan.estimate_seconds(workers)
            took, _ = swept(plan, workers)
            shown = " x ".join(f"{k} {','.join(map(str, v))}" for k, v in grid.items())
            print(
                f"| {preset} | {shown} x {seeds}, {epochs} epochs | {workers} | {guess:.1f}"
                f" | {took:.1f} | {guess / took:.2f} |",
                flush=True,
            )
    print(f"load average {load_average()} at the end")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--no-pages", action="store_true", help="skip the browser part")
    parser.add_argument("--json", help="also write the measurements to this file")
    parser.add_argument(
        "--workers-only", action="store_true", help="leave out one after another: 1 vs 2 workers"
    )
    parser.add_argument(
        "--groups", action="store_true", help="time each worker's group alone: the 2-worker bound"
    )
    parser.add_argument(
        "--estimates", action="store_true", help="the estimate before Start against other sweeps"
    )
    parser.add_argument("--pages-only", action="store_true", help="only the page switches")
    args = parser.parse_args()
    if args.estimates:
        estimates()
        return
    if args.pages_only:
        print_machine(machine())
        print_switches(page_switches(args.rounds))
        print(f"load average {load_average()} at the end")
        return

    info = machine()
    print_machine(info)
    plan = _plan(args.epochs)
    if args.groups:
        groups(plan, args.rounds)
        return
    ways = {
        "one after another": one_after_another,
        "sweep, 1 worker": lambda plan: swept(plan, 1),
        "sweep, 2 workers": lambda plan: swept(plan, 2),
    }
    if args.workers_only:
        del ways["one after another"]
    # Not counted: the fork server's first start (it imports torch) and the first use of
    # every code path, which would otherwise fall on whichever way ran first.
    swept(plan, 2)
    times: dict[str, list[float]] = {name: [] for name in ways}
    same = []
    names = list(ways)
    for r in range(args.rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        metrics = {}
        for name in order:
            seconds, metrics[name] = ways[name](plan)
            times[name].append(seconds)
        same.append(all(m == metrics[names[0]] for m in metrics.values()))
        shown = ", ".join(f"{k} {v[-1]:.1f} s" for k, v in times.items())
        print(f"round {r + 1}: {shown}; same metrics: {same[-1]} (load {load_average()})")
    mid = {name: median(v) for name, v in times.items()}
    print(f"\n| {len(plan.runs)} runs, {args.epochs} epochs | median s | rounds |\n|---|---|---|")
    for name, values in times.items():
        print(f"| {name} | {mid[name]:.1f} | {', '.join(f'{v:.1f}' for v in values)} |")
    two_vs_one = mid["sweep, 1 worker"] / mid["sweep, 2 workers"]
    ones, twos = times["sweep, 1 worker"], times["sweep, 2 workers"]
    per_round = ", ".join(f"{one / two:.2f}" for one, two in zip(ones, twos, strict=True))
    print(f"\n2 workers vs 1: {two_vs_one:.2f}x (per round {per_round})")
    if "one after another" in mid:
        vs_serial = mid["one after another"] / mid["sweep, 2 workers"]
        print(f"2 workers vs one after another: {vs_serial:.2f}x")
    print(f"same metrics in every round: {all(same)}; load average {load_average()} at the end")
    for workers in (1, 2):  # what the Sweep page says before Start, against the medians
        took = mid[f"sweep, {workers} worker{'s' if workers > 1 else ''}"]
        guess = plan.estimate_seconds(workers)
        print(f"estimate before start, {workers} worker(s): {guess:.1f} s ({guess / took:.2f}x)")
    switches = {} if args.no_pages else page_switches()
    print_switches(switches)
    if args.json:
        with open(args.json, "w") as f:
            out = {"machine": info, "seconds": times, "same": same, "switches": switches}
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
