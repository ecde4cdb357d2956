"""CPU against GPU for small and large runs, and whether `device.choose("auto")` picks the faster.

For hidden sizes 16, 64, 256 and 512 and 2 or 64 parallel streams (`batch_size`), with the
`fast` preset's other settings on a sine of `--points` points, each run trains a warm-up
epoch and then `--epochs` epochs on the CPU (numpy step kernels where they apply, as a
user gets them) and on the GPU; the medians of the epoch times (training and the test
evaluation) are compared. The table says which was faster and what `auto` chose, and
the last line says from which hidden size the GPU won, against `GPU_MIN_HIDDEN`.

    python -m benchmarks.gpu [--points 10000] [--epochs 3] [--json F]

Without a CUDA device it says so and measures nothing.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time

from benchmarks.common import load_average, machine, median, print_machine

HIDDEN = (16, 64, 256, 512)
STREAMS = (2, 64)


def epoch_seconds(points: int, hidden: int, streams: int, device: str, epochs: int) -> float:
    import torch

    from gru_core.config import PRESETS, DataConfig
    from gru_core.data import make_sine
    from gru_core.spec import spec_for
    from gru_core.train import Trainer

    preset = PRESETS["fast"]
    data = DataConfig(points=points, periods=points / 200)
    model = dataclasses.replace(preset.model, hidden_size=hidden)
    train = dataclasses.replace(preset.train, batch_size=streams, device=device, epochs=1000)
    trainer = Trainer(spec_for(make_sine(data), data.train_fraction, model, train))
    trainer.run_epoch()  # warm-up: kernels, allocator, cuDNN plans
    seconds = []
    for _ in range(epochs):
        start = time.perf_counter()
        trainer.run_epoch()  # ends in .item(): synchronised
        if device == "cuda":
            torch.cuda.synchronize()
        seconds.append(time.perf_counter() - start)
    return median(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--json", help="also write the measurements to this file")
    args = parser.parse_args()

    import torch

    from gru_core import device as devices

    torch.set_num_threads(1)
    info = machine()
    print_machine(info)
    if not torch.cuda.is_available():
        print("no CUDA device here: nothing to compare (BENCHMARKS.md leaves the GPU rows open)")
        return
    rows = []
    for hidden in HIDDEN:
        for streams in STREAMS:
            cpu = epoch_seconds(args.points, hidden, streams, "cpu", args.epochs)
            gpu = epoch_seconds(args.points, hidden, streams, "cuda", args.epochs)
            auto = devices.choose("auto", hidden, streams).device.type
            rows.append(
                {"hidden": hidden, "streams": streams, "cpu": cpu, "gpu": gpu, "auto": auto}
            )
            print(f"  hidden {hidden}, {streams} streams: done (load {load_average()})", flush=True)
    print()
    print("| hidden | streams | CPU s / epoch | GPU s / epoch | faster | `auto` picks |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        faster = "cuda" if r["gpu"] < r["cpu"] else "cpu"
        mark = "" if faster == r["auto"] else " (wrong)"
        print(
            f"| {r['hidden']} | {r['streams']} | {r['cpu']:.3f} | {r['gpu']:.3f} | {faster}"
            f" | {r['auto']}{mark} |"
        )
    gpu_wins = [r["hidden"] for r in rows if r["gpu"] < r["cpu"]]
    cpu_wins = [r["hidden"] for r in rows if r["gpu"] >= r["cpu"]]
    print()
    print(
        f"GPU faster at hidden {sorted(set(gpu_wins)) or 'never'};"
        f" CPU faster at hidden {sorted(set(cpu_wins)) or 'never'}."
        f" device.GPU_MIN_HIDDEN is {devices.GPU_MIN_HIDDEN}."
    )
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
