"""What the workspace store costs: opening a full workspace, and saving while training.

1. Opening: a store holding one workspace at the cap (200 runs, 100 history rows each, a
   checkpoint each) is opened as a fresh server would: a new `Store` on the file, the
   id checked, interrupted runs recovered, settings and the Runs table read, and the
   history of the latest run (what the Train page draws). Server time, median of rounds.
2. Saving: the `fast` preset trains its 60 epochs (no target) three ways, interleaved
   round by round: without saving; saving every epoch (the new history row and the whole
   resumable state: weights, Adam moments, carried state; the worst case); and saving
   every 2 s, the app's policy (`store.Recorder`), plus a last save at the end. The saves
   run inline, in the training loop, so their cost shows in full in the wall time; the
   time of the recorder's calls alone is reported too, as a share of the unsaved run
   (steadier than the wall-time ratio on a shared machine), and so is the ratio of the
   process's CPU time. Ratios are taken within a round, then their median; the ratio of
   the fastest rounds is printed too (least disturbed by other work). The `seed`
   preset (150 epochs of ~0.15 s) gives a longer run.

    python -m benchmarks.store [--rounds 5] [--presets fast seed] [--home DIR] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import torch

from benchmarks.common import machine, median, print_machine
from gru_core.config import PRESETS
from gru_core.data import make_sine
from gru_core.spec import spec_for
from gru_core.store import MAX_RUNS, SAVE_EVERY, Recorder, Store
from gru_core.train import Trainer

SPEC = {"task": "forecast", "models": [{"name": "gru"}, {"name": "mlp"}]}
HISTORY_ROWS = 100
EPOCHS = {"fast": 60, "seed": 150}  # each preset's own epoch count


def resumable(trainer: Trainer) -> dict[str, torch.Tensor]:
    """The trainer's whole resumable state as one flat dict of contiguous CPU tensors."""
    return trainer.resumable_state()[0]


def fill(store: Store, ws: str) -> None:
    """A workspace at the cap: MAX_RUNS finished runs with history and a checkpoint each."""
    trainer = Trainer(spec_for(make_sine(), 0.8, PRESETS["fast"].model, PRESETS["fast"].train))
    state = resumable(trainer)
    ds = store.add_dataset(ws, make_sine(), "sine", {"points": 1000})
    store.save_settings(ws, {"data": {"points": 1000}, "train": {"lr": 3e-2, "hidden": 32}})
    rows = [
        {
            "epoch": e,
            "lr": 3e-2,
            "gru_train_loss": 1 / e,
            "gru_test_one_step_mse": 1 / e,
            "gru_test_rollout_mse": 1 / e,
            "gru_test_rollout_mae": 1 / e,
            "mlp_train_loss": 2 / e,
            "mlp_test_one_step_mse": 2 / e,
            "mlp_test_rollout_mse": 2 / e,
            "mlp_test_rollout_mae": 2 / e,
            "seconds": 0.02,
            "elapsed": 0.02 * e,
        }
        for e in range(1, HISTORY_ROWS + 1)
    ]
    for i in range(MAX_RUNS):
        run, _ = store.create_run(ws, {**SPEC, "train": {"lr": 1e-3 * (i + 1)}}, ds)
        store.append_history(ws, run, rows)
        store.save_checkpoint(ws, run, state, {"epoch": HISTORY_ROWS})
        store.update_run(ws, run, status="finished", params={"gru": 3_300, "mlp": 609})


def open_workspace(root: Path, ws: str) -> tuple[float, float, int]:
    """Seconds to open the workspace as a fresh server does, and to list its runs alone."""
    start = time.perf_counter()
    store = Store(root)
    assert store.workspace_exists(ws)
    store.recover_interrupted(ws)
    store.settings(ws)
    runs = store.runs(ws)
    listed = time.perf_counter()
    store.runs(ws)
    list_only = time.perf_counter() - listed
    store.history(ws, runs[-1].id)
    total = time.perf_counter() - start
    store.close()
    return total, list_only, len(runs)


def train(preset: str, epochs: int, store: Store | None, ws: str, every: float) -> dict:
    """Train `epochs` epochs; with a store, record the run as the app does, saving every `every` s.

    Returns the wall time of the loop and the time spent in the recorder's calls.
    """
    p = PRESETS[preset]
    trainer = Trainer(spec_for(make_sine(), p.data.train_fraction, p.model, p.train))
    recorder = None
    if store is not None:
        recorder = Recorder(store, ws, store.create_run(ws, SPEC, status="running")[0], every)

    def state() -> tuple[dict, dict]:
        return resumable(trainer), {"epoch": trainer.epoch, "elapsed": trainer.elapsed}

    saves, save_seconds = 0, 0.0
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(epochs):
        row = trainer.run_epoch()
        if recorder is not None:
            t = time.perf_counter()
            saves += recorder.add(row, state)
            save_seconds += time.perf_counter() - t
    if recorder is not None:  # the end of the run saves what is left
        t = time.perf_counter()
        recorder.flush(state)
        saves, save_seconds = saves + 1, save_seconds + time.perf_counter() - t
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {"wall": wall, "cpu": cpu, "saves": saves, "save_seconds": save_seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--presets", nargs="+", default=list(EPOCHS), choices=list(EPOCHS))
    parser.add_argument("--home", help="data directory to build in (default: a temporary one)")
    parser.add_argument("--json", help="write every measurement to this file")
    args = parser.parse_args()
    torch.set_num_threads(1)
    info = machine()
    print_machine(info)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.home or tmp)
        store = Store(root)
        ws = store.create_workspace()
        t = time.perf_counter()
        fill(store, ws)
        print(f"built {MAX_RUNS} runs x {HISTORY_ROWS} rows in {time.perf_counter() - t:.1f} s")
        size = (root / "store.sqlite3").stat().st_size
        opened = [open_workspace(root, ws) for _ in range(args.rounds + 1)][1:]
        open_s, list_s = median(o[0] for o in opened), median(o[1] for o in opened)
        print(
            f"open a workspace of {opened[0][2]} runs: {open_s * 1000:.1f} ms"
            f" (list alone {list_s * 1000:.1f} ms); store file {size / 2**20:.1f} MiB"
        )
        results: dict = {"machine": info, "open_seconds": open_s, "list_seconds": list_s}
        ws = store.create_workspace()  # the training runs below leave the full one alone
        for preset in args.presets:
            epochs = EPOCHS[preset]
            ways = {"none": None, "every epoch": 0.0, f"every {SAVE_EVERY:g} s": SAVE_EVERY}
            train(preset, 3, store, ws, 0.0)  # warm-up, thrown away
            measured: dict[str, list[dict]] = {way: [] for way in ways}
            for r in range(args.rounds):
                order = list(ways) if r % 2 == 0 else list(reversed(ways))
                for way in order:
                    every = ways[way]
                    measured[way].append(
                        train(preset, epochs, None if every is None else store, ws, every or 0.0)
                    )
            print(f"\n{preset} preset, {epochs} epochs, {args.rounds} rounds (medians):")
            for way, runs in measured.items():
                pairs = list(zip(runs, measured["none"], strict=True))  # same round
                wall = median(m["wall"] / b["wall"] for m, b in pairs)
                cpu = median(m["cpu"] / b["cpu"] for m, b in pairs)
                share = median(m["save_seconds"] / b["wall"] for m, b in pairs)
                per_save = [m["save_seconds"] / m["saves"] for m in runs if m["saves"]]
                per_save_text = f", {median(per_save) * 1000:.1f} ms each" if per_save else ""
                fastest = min(m["wall"] for m in runs) / min(b["wall"] for b in measured["none"])
                print(
                    f"  save {way:>12}: {median(m['wall'] for m in runs):.2f} s;"
                    f" wall x{wall:.3f} (fastest rounds x{fastest:.3f}), CPU x{cpu:.3f} of the"
                    " unsaved run;"
                    f" {median(m['saves'] for m in runs):.0f} saves{per_save_text},"
                    f" {share:.1%} of the unsaved run's time"
                )
            results[preset] = measured
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    sys.exit(main())
