"""Time to quality of the window and classify tasks, and the text task's characters per second.

In one call, one torch thread, interleaved rounds (medians):

- window: the tutorial's code (benchmarks/window_baseline.py, 100 full-batch epochs) against
  the `seed004` preset (the same algorithm through the engine) and the same run at lr 0.02
  stopped at the first epoch whose GRU test MSE is at most the tutorial's 0.00324;
- classify: the tutorial's algorithm written plainly (benchmarks/classify_baseline.py) on the
  preset's data, its 30 epochs as written and stopped at each of `CLASSIFY_TARGETS` (test
  accuracy), against the `classify` preset (GRU and MLP, and GRU alone) stopped there;
- text: characters per second of one epoch of the text task (seed003's settings, nn.GRU)
  against d2l's plain from-scratch GRU (benchmarks/text_baseline.py) on the Tang poems.

    python -m benchmarks.tasks [--rounds 3] [--only window,classify,text] [--json F]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from functools import partial

import torch

from benchmarks import classify_baseline, window_baseline
from benchmarks import text as text_bench
from benchmarks.common import load_average, median
from gru_core.config import PRESETS, ModelConfig
from gru_core.spec import RunSpec
from gru_core.train import Trainer, train

# GRU test accuracies to reach: the earlier quality bar, and what the tutorial's algorithm
# reaches after its 30 epochs on the preset's data (0.975)
CLASSIFY_TARGETS = (0.95, 0.975)


def _run(preset: str, target: float | None = None, models=None, **settings) -> dict:
    p = PRESETS[preset]
    model = p.model if models is None else dataclasses.replace(p.model, models=models)
    spec = RunSpec.from_preset(p, model, dataclasses.replace(p.train, device="cpu", **settings))
    start = time.perf_counter()
    trainer = Trainer(spec)
    result = train(trainer, target=target)
    last = trainer.history[-1]
    return {
        "seconds": time.perf_counter() - start,
        "epochs": trainer.epoch,
        "reached": result.outcome == "reached_target",
        **{k: v for k, v in last.items() if k.startswith("gru_") and not k.endswith("_sample")},
    }


def _text_task_chars_per_second() -> float:
    trainer = Trainer(
        RunSpec.from_preset(
            PRESETS["seed003"],
            ModelConfig(models=("gru",), hidden_size=256),
            dataclasses.replace(PRESETS["seed003"].train, epochs=1, eval_every=1000, device="cpu"),
        )
    )
    chars = sum(b.y.numel() for b in trainer.task.batches())
    trainer.task._rng.seed(trainer.spec.train.seed)  # the batches the epoch trains on
    start = time.perf_counter()
    for batch in trainer.task.batches():
        trainer._step("gru", batch)
    return chars / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", default="window,classify,text", help="tasks to measure")
    parser.add_argument("--json")
    args = parser.parse_args()
    only = set(args.only.split(","))
    torch.set_num_threads(1)
    rows: dict[str, list] = {}
    jobs = {}
    if "window" in only:
        jobs |= {
            "window baseline": lambda: window_baseline.run(),
            "window seed004": lambda: _run("seed004", models=("gru",)),
            "window lr 0.02 to 0.00324": lambda: _run("seed004", 0.00324, models=("gru",), lr=0.02),
        }
    if "classify" in only:
        jobs["classify baseline"] = lambda: classify_baseline.run()
        for target in CLASSIFY_TARGETS:
            jobs |= {
                f"classify baseline to {target}": partial(classify_baseline.run, target=target),
                f"classify to {target}": partial(_run, "classify", target),
                f"classify GRU to {target}": partial(_run, "classify", target, models=("gru",)),
            }
    for r in range(args.rounds):
        order = list(jobs) if r % 2 == 0 else list(reversed(jobs))
        for name in order:
            rows.setdefault(name, []).append(jobs[name]())
            print(name, rows[name][-1], flush=True)
    text = None
    if "text" in only:
        vocab, ids, _ = text_bench.corpus_ids("tang")
        base = text_bench.baseline(len(vocab), ids, 1)
        ours = _text_task_chars_per_second()
        ratio = ours / base
        print(f"text: baseline {base:.0f} chars/s, text task {ours:.0f} chars/s, {ratio:.2f}x")
        text = {"baseline": base, "task": ours}
    summary = {k: median([v["seconds"] for v in vs]) for k, vs in rows.items()}
    print(json.dumps({"seconds": summary, "load": load_average()}))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "text": text}, f, indent=1)


if __name__ == "__main__":
    main()
