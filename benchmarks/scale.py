"""How training cost grows with the series' length and the hidden size, and what the charts cost.

For series of 1k, 10k and 100k points (the tutorial's sine, 200 points a period, so longer
series are more periods of the same signal) and GRU hidden sizes 16, 64 and 256, with
the `fast` preset's other settings:

- seconds per training epoch (median over the epochs run), and per evaluation on the
  test part (a teacher-forced and a free-running forecast over all of it), both as CPU
  time of the process (what the work costs; steady when other programs share the
  machine) and as wall-clock time (what a user waits; moves with the machine's load);
- peak memory, two ways: the peak of Python and numpy allocations during an epoch and an
  evaluation (`tracemalloc`; torch's own allocator is not traced), and the rise of the
  process's peak resident set size over its size just before training (each cell is a
  fresh process; this one is coarse, it includes allocator caching and page rounding);
- which step kernel trained the GRU (numpy where it applies, torch elsewhere).

Then the dashboard's side: the time to build the series chart and a test-forecast chart
of each length, and the size of what is sent to the browser (charts are downsampled to at
most `figures.MAX_POINTS` points a line, so it stays bounded).

    python -m benchmarks.scale [--points 1000 10000 100000] [--hidden 16 64 256] [--json F]

Fewer epochs run for the bigger cells (see `epochs_for`); the whole run takes a few
minutes on two cores. One torch thread, as the app uses.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import sys
import time
import tracemalloc

from benchmarks.common import load_average, machine, median, print_machine, run_json

PERIOD = 200  # points per sine period, as in the tutorial's series


def epochs_for(points: int, hidden: int) -> int:
    """Enough epochs for a median, few enough to keep the biggest cells to tens of seconds."""
    work = points * max(hidden, 32)
    return 5 if work <= 10_000 * 64 else 3 if work <= 100_000 * 64 else 2


def _rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def cell(points: int, hidden: int, epochs: int) -> dict:
    """One (points, hidden) measurement, in this process."""
    import torch

    from gru_core.config import PRESETS, DataConfig
    from gru_core.data import make_sine
    from gru_core.spec import spec_for
    from gru_core.train import Trainer

    torch.set_num_threads(1)
    preset = PRESETS["fast"]
    data_cfg = DataConfig(points=points, periods=points / PERIOD)
    model_cfg = dataclasses.replace(preset.model, hidden_size=hidden)
    # Evaluate only when asked below, so epochs and evaluations are timed apart.
    train_cfg = dataclasses.replace(preset.train, epochs=1000, eval_every=1000)
    series = make_sine(data_cfg)
    trainer = Trainer(spec_for(series, data_cfg.train_fraction, model_cfg, train_cfg))
    trainer.run_epoch()  # warm-up, also fills the carried state the evaluation starts from
    before = _rss_mib()
    seconds, cpu = [], []
    for _ in range(epochs):
        start, start_cpu = time.perf_counter(), time.process_time()
        trainer.run_epoch()
        seconds.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    start, start_cpu = time.perf_counter(), time.process_time()
    row = trainer.evaluate()
    evaluation = time.perf_counter() - start
    evaluation_cpu = time.process_time() - start_cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    tracemalloc.start()  # after the timings: tracing slows allocation-heavy code
    trainer.run_epoch()
    trainer.evaluate()
    traced = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return {
        "points": points,
        "hidden": hidden,
        "kernel": "numpy" if "gru" in trainer._kernels else "torch",
        "epochs": epochs,
        "epoch_seconds": median(seconds),
        "epoch_cpu_seconds": median(cpu),
        "eval_seconds": evaluation,
        "eval_cpu_seconds": evaluation_cpu,
        "peak_rise_mib": max(0.0, peak - before),
        "traced_peak_mib": traced,
        "gru_test_rollout_mse": row["gru_test_rollout_mse"],
    }


def charts(points: int) -> dict:
    """Build time and browser payload of the series chart and a test-forecast chart."""
    import numpy as np

    from gru_core import figures
    from gru_core.config import DataConfig
    from gru_core.data import make_sine

    cfg = DataConfig(points=points, periods=points / PERIOD)
    series = make_sine(cfg)
    n_train = round(points * cfg.train_fraction)
    test = series[n_train:]
    index = np.arange(n_train, points)
    start = time.perf_counter()
    a = figures.series_figure(series, n_train).to_json()
    b = figures.rollout_figure(
        index[:0], test[:0], index, test, {"gru": test * 0.9, "mlp": test * 0.5}
    ).to_json()
    return {
        "points": points,
        "seconds": time.perf_counter() - start,
        "payload_kib": (len(a) + len(b)) / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--hidden", type=int, nargs="+", default=[16, 64, 256])
    parser.add_argument("--json", help="also write the measurements to this file")
    parser.add_argument(
        "--cell", type=int, nargs=3, metavar=("POINTS", "HIDDEN", "EPOCHS"), help=argparse.SUPPRESS
    )  # one measurement, run in a fresh process
    args = parser.parse_args()
    if args.cell:
        print(json.dumps(cell(*args.cell)))
        return

    info = machine()
    print_machine(info)
    cells = []
    for points in args.points:
        for hidden in args.hidden:
            epochs = epochs_for(points, hidden)
            result = run_json(
                ["benchmarks.scale", "--cell", str(points), str(hidden), str(epochs)], timeout=900
            )
            cells.append(result)
            print(
                f"  {points:>7} points, hidden {hidden:>3}: {result['epoch_cpu_seconds']:.3f}"
                f" CPU s/epoch"
                f" (load {load_average()})",
                file=sys.stderr,
                flush=True,
            )
    print()
    print(
        "| points | hidden | GRU step | CPU s / epoch | wall s / epoch | CPU s / evaluation"
        " | traced peak | peak RSS rise | CPU ms / epoch per 1k points |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for c in cells:
        print(
            f"| {c['points']:,} | {c['hidden']} | {c['kernel']} | {c['epoch_cpu_seconds']:.3f}"
            f" | {c['epoch_seconds']:.3f} | {c['eval_cpu_seconds']:.3f}"
            f" | {c['traced_peak_mib']:.1f} MiB | {c['peak_rise_mib']:.1f} MiB"
            f" | {c['epoch_cpu_seconds'] / c['points'] * 1e6:.1f} |"
        )
    print()
    print("Growth of the CPU time per epoch for tenfold more points (10 = linear):")
    for hidden in args.hidden:
        by_points = {c["points"]: c["epoch_cpu_seconds"] for c in cells if c["hidden"] == hidden}
        steps = sorted(by_points)
        growth = [by_points[b] / by_points[a] for a, b in zip(steps, steps[1:], strict=False)]
        print(f"  hidden {hidden}: " + ", ".join(f"{g:.1f}x" for g in growth))

    print()
    print("| points | chart build + JSON (s) | sent to the browser |")
    print("|---|---|---|")
    chart_rows = [charts(points) for points in args.points]
    for c in chart_rows:
        print(f"| {c['points']:,} | {c['seconds']:.3f} | {c['payload_kib']:.0f} KiB |")
    print(f"\nload average {load_average()} at the end")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info, "cells": cells, "charts": chart_rows}, f, indent=1)


if __name__ == "__main__":
    main()
