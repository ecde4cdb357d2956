"""What workspaces cost in the app: opening one with 200 runs, and saving while training.

1. Opening: a workspace at the cap (200 finished runs of the `fast` preset, each with its
   150-row history and a real checkpoint) is opened as a visitor with its link does: a new
   session runs app.py (store opened, settings and data restored, the Overview drawn),
   then the Runs page (table of 200, two runs compared: curves, settings, forecasts, the
   latest run's bundle). Server time of each script run (Streamlit's AppTest runs the
   real scripts in this process), per round a new session; median of rounds.
2. Saving: the app's own job (`ProcessJob`, epochs in a child process) trains the `fast`
   preset's data and settings for `--epochs` epochs, with its workspace run recorded
   (history and the whole resumable state every 2 s, in the child) and without,
   interleaved pair by pair. Throughput = epochs / training seconds in the child (the
   trainer's own clock, which the saves are inside of); ratios within a pair, then median.
   On a shared machine that ratio swings more than saving costs, so the cost of one save
   as the child makes it (a history row, then the whole resumable state, fsync'd) is
   timed alone too, and given as a share of the 2 s between saves.

    python -m benchmarks.workspace [--rounds 5] [--epochs 150] [--json FILE]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import tempfile
import time
from pathlib import Path

from benchmarks.common import machine, median, print_machine
from gru_core.store import SAVE_EVERY

ROOT = Path(__file__).resolve().parents[1]
ROWS = 150


def fast_spec(**train):
    """The `fast` preset's run on its own data, with `train`'s settings changed."""
    from gru_core.config import PRESETS
    from gru_core.data import make_sine
    from gru_core.spec import Dataset, RunSpec

    preset = PRESETS["fast"]
    data = Dataset(make_sine(preset.data), preset.data.train_fraction, "sine", sine=preset.data)
    return RunSpec.of(data, preset.model, dataclasses.replace(preset.train, **train))


def fill(ws_home: Path) -> str:
    """A workspace at the cap in `ws_home`; its id."""
    from gru_core import workspace
    from gru_core.store import MAX_RUNS, Store
    from gru_core.train import Trainer, train

    store = Store(ws_home)
    ws = store.create_workspace()
    spec = fast_spec()
    trainer = Trainer(spec)
    train(trainer, should_stop=lambda: trainer.epoch >= 3)
    tensors, meta = trainer.resumable_state()
    rows = [{**trainer.history[-1], "epoch": e, "elapsed": 0.05 * e} for e in range(1, ROWS + 1)]
    for i in range(MAX_RUNS):
        lr = [1e-3, 3e-3, 1e-2, 3e-2][i % 4]
        record, _ = workspace.record_run(store, ws, fast_spec(lr=lr))
        store.append_history(ws, record.run, rows)
        store.save_checkpoint(ws, record.run, tensors, {**meta, "history": [], "epoch": ROWS})
        store.update_run(ws, record.run, status="finished")
    return ws


def open_rounds(ws: str, rounds: int) -> dict:
    """Server seconds of a new session's first script run and of its Runs page, per round."""
    from streamlit.testing.v1 import AppTest

    first, runs_page = [], []
    for _ in range(rounds):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.query_params["ws"] = ws
        start = time.perf_counter()
        at.run()
        first.append(time.perf_counter() - start)
        assert not at.exception, at.exception
        start = time.perf_counter()
        at.switch_page("app_pages/runs.py").run()
        runs_page.append(time.perf_counter() - start)
        assert not at.exception, at.exception
        assert len(at.dataframe[0].value) == 200
    return {"first_run": first, "runs_page": runs_page}


def save_pairs(rounds: int, epochs: int, home: Path) -> dict:
    """Throughput of the app's job with and without recording, interleaved."""
    from gru_core import process_job, workspace
    from gru_core.store import Store

    process_job.prepare_process(threads=1)
    spec = fast_spec(epochs=epochs)
    store = Store(home)
    ws = store.create_workspace()
    out: dict[str, list[float]] = {"without": [], "with": []}
    for r in range(rounds):
        order = ("without", "with") if r % 2 == 0 else ("with", "without")
        for kind in order:
            record = workspace.record_run(store, ws, spec)[0] if kind == "with" else None
            job = process_job.ProcessJob(spec, record=record)
            job.start()
            assert job.join(600)
            snap = job.snapshot()
            assert snap.status == "finished", snap.message
            out[kind].append(epochs / snap.elapsed)
            if record is not None:
                assert store.run(ws, record.run).checkpoint_epoch == epochs
    return out


def save_seconds(home: Path, saves: int = 30) -> list[float]:
    """Seconds of one save as the child makes it (a history row, then the resumable state)."""
    from gru_core import workspace
    from gru_core.recording import RunRecorder
    from gru_core.store import Store
    from gru_core.train import Trainer, train

    spec = fast_spec()
    store = Store(home)
    record, _ = workspace.record_run(store, store.create_workspace(), spec)
    trainer = Trainer(spec)
    train(trainer, should_stop=lambda: trainer.epoch >= 3)
    recorder = RunRecorder(record, trainer.resumable_state)
    out = []
    for i in range(saves):
        recorder._recorder._pending.append({**trainer.history[-1], "epoch": 4 + i})
        start = time.perf_counter()
        recorder.flush()
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=150)
    parser.add_argument("--json", help="write every measurement to this file")
    args = parser.parse_args()
    info = machine()
    print_machine(info)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        os.environ["GRU_LAB_HOME"] = str(home)
        start = time.perf_counter()
        ws = fill(home)
        print(f"filled a workspace with 200 runs in {time.perf_counter() - start:.1f} s")
        opened = open_rounds(ws, args.rounds)
        print(
            "opening (server s): first script run"
            f" {' '.join(f'{t:.3f}' for t in opened['first_run'])};"
            f" Runs page {' '.join(f'{t:.3f}' for t in opened['runs_page'])};"
            f" medians {median(opened['first_run']):.3f} / {median(opened['runs_page']):.3f}"
        )
        saved = save_pairs(args.rounds, args.epochs, home)
        ratios = [w / wo for w, wo in zip(saved["with"], saved["without"], strict=True)]
        print(
            f"epochs/s without saving {' '.join(f'{v:.1f}' for v in saved['without'])};"
            f" with {' '.join(f'{v:.1f}' for v in saved['with'])};"
            f" with/without per pair {' '.join(f'{v:.3f}' for v in ratios)},"
            f" median {median(ratios):.3f}"
        )
        one = save_seconds(home)
        print(
            f"one save: median {median(one) * 1e3:.1f} ms, that is"
            f" {median(one) / SAVE_EVERY:.2%} of training time at one save every {SAVE_EVERY:g} s"
        )
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {"machine": info, "opening": opened, "saving": saved, "one_save": one}, indent=2
            )
        )


if __name__ == "__main__":
    main()
