"""Headless command line: generate data, train a run's models, print the result.

    python -m gru_core data  --out FILE.csv [--points N --periods P --noise S --seed K]
    python -m gru_core train [--preset NAME] [--task forecast|window|classify|text]
                             [--data FILE.csv] [--corpus tang|shakespeare|FILE.txt]
                             [--models gru,mlp] [--hidden N] [--seq-len N] [--lr X]
                             [--epochs N] [--seed K] [--device auto|cpu|cuda|mps]
                             [--target-mse X] [--json]

The settings' options (--hidden, --lr, ...) come from their declarations in
gru_core.config (the `flag` of a field's metadata), with its help and range.

Progress goes to stderr; with --json the last line of stdout is one JSON object.
Bad arguments print one line and exit with status 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys

from gru_core.config import (
    DEFAULT_PRESETS,
    MODEL_KINDS,
    PRESETS,
    TASK_NAMES,
    ConfigError,
    DataConfig,
    settings,
)


def _kinds(text: str) -> tuple[str, ...]:
    kinds = tuple(k.strip() for k in text.split(",") if k.strip())
    unknown = [k for k in kinds if k not in MODEL_KINDS]
    if unknown or not kinds:
        raise argparse.ArgumentTypeError(
            f"unknown model kind(s) {', '.join(unknown) if unknown else repr(text)}; choose from"
            f" {', '.join(MODEL_KINDS)}"
        )
    return kinds


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2: no usage dump
        self.exit(2, f"{self.prog}: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m gru_core", description="GRU Lab, headless.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    data = sub.add_parser("data", help="write a noisy sine series as CSV (one value a line)")
    data.add_argument("--out", required=True, help="CSV file to write")
    data.add_argument("--points", type=int, default=DataConfig.points)
    data.add_argument("--periods", type=float, default=DataConfig.periods)
    data.add_argument("--noise", type=float, default=DataConfig.noise)
    data.add_argument("--seed", type=int, default=DataConfig.seed)

    train = sub.add_parser("train", help="train a run's models (default: the GRU and the MLP)")
    train.add_argument(
        "--preset", choices=sorted(PRESETS), help="named settings (default: the task's own)"
    )
    train.add_argument(
        "--task", choices=TASK_NAMES, help="what to learn (default: the preset's, else forecast)"
    )
    train.add_argument("--data", help="CSV series to train on (default: the preset's sine)")
    train.add_argument("--column", help="CSV column to use when there are several")
    train.add_argument(
        "--models",
        type=_kinds,
        help=f"comma-separated model kinds, trained in this order ({', '.join(MODEL_KINDS)});"
        " default: the preset's",
    )
    for s in settings().values():
        if s.flag is not None:
            kind = str if s.choices else int if isinstance(s.range[0], int) else float
            train.add_argument(s.flag, dest=s.key, type=kind, choices=s.choices, help=s.help)
    train.add_argument(
        "--corpus",
        help="text task: tang, shakespeare or a UTF-8 .txt file (default: the preset's)",
    )
    train.add_argument(
        "--target-mse", type=float, help="stop once the first model's test error is <= X"
    )
    train.add_argument("--json", action="store_true", help="print the result as JSON last")
    return parser


def _data(args: argparse.Namespace) -> int:
    from gru_core.data import make_sine, save_series

    cfg = DataConfig(points=args.points, periods=args.periods, noise=args.noise, seed=args.seed)
    save_series(make_sine(cfg), args.out)
    print(f"wrote {cfg.points} points to {args.out}", file=sys.stderr)
    return 0


def _corpus(name: str) -> dict:
    """The text task's options for --corpus: a shipped corpus by name, or a file read as text."""
    from pathlib import Path

    from gru_core.text import CORPORA, read_upload

    if name in CORPORA:
        return {"corpus": name, "text": ""}
    return {"corpus": "upload", "text": read_upload(Path(name).read_bytes())}


def _train(args: argparse.Namespace) -> int:
    import torch

    from gru_core.data import load_series
    from gru_core.spec import Dataset, RunSpec
    from gru_core.tasks import metric_names, primary
    from gru_core.train import Trainer, train

    task = args.task or (PRESETS[args.preset].task if args.preset else "forecast")
    preset = PRESETS[args.preset or DEFAULT_PRESETS[task]]
    if preset.task != task:
        raise ConfigError(f"preset {preset.name} is for the {preset.task} task, not {task}")
    chosen = {"model": {}, "train": {}}
    for s in settings().values():
        if s.flag is not None and getattr(args, s.key) is not None:
            chosen[s.section][s.name] = getattr(args, s.key)
    if args.models is not None:
        chosen["model"]["models"] = args.models
    model_cfg = dataclasses.replace(preset.model, **chosen["model"])
    train_cfg = dataclasses.replace(preset.train, **chosen["train"])
    if args.target_mse is not None and not args.target_mse > 0:
        raise ConfigError(f"--target-mse must be a positive number, got {args.target_mse}")
    data = None
    if args.data:
        data = Dataset(load_series(args.data, args.column), preset.data.train_fraction, args.data)
    spec = RunSpec.from_preset(preset, model_cfg, train_cfg, data)
    if args.corpus is not None:
        spec = dataclasses.replace(spec, options={**spec.options, **_corpus(args.corpus)})
    torch.set_num_threads(1)  # these models are small: threads cost more than they give
    trainer = Trainer(spec)
    print(f"device: {trainer.device} ({trainer.device_choice.reason})", file=sys.stderr)
    main = primary(trainer.task).name
    names = trainer.names

    def progress(row: dict) -> None:
        parts = []
        for name in names:
            test = row[f"{name}_{main}"]
            shown = "-" if test is None else f"{test:.4f}"
            parts.append(f"{name} train {row[f'{name}_train_loss']:.4f} test {shown}")
        print(f"epoch {row['epoch']:>4}: " + " | ".join(parts), file=sys.stderr)

    result = train(trainer, on_epoch=progress, target=args.target_mse)
    if trainer.history[-1][f"{names[0]}_{main}"] is None:  # last epoch skipped evaluation
        trainer.history[-1].update(trainer.evaluate())
    last = trainer.history[-1]
    keys = metric_names(trainer.task)
    report = {
        "preset": preset.name,
        "device": str(trainer.device),
        "epochs": trainer.epoch,
        "train_seconds": result.seconds,
        "reached_target": result.outcome == "reached_target"
        if args.target_mse is not None
        else None,
        **{
            name: {
                key: last[f"{name}_{key}"] for key in (*keys, *getattr(trainer.task, "texts", ()))
            }
            for name in names
        },
    }
    if args.json:
        print(json.dumps(report))
    else:
        for name in names:
            shown = {
                k: "-" if v is None else repr(v) if isinstance(v, str) else f"{v:.4f}"
                for k, v in report[name].items()
            }
            print(f"{name}: " + ", ".join(f"{k} {v}" for k, v in shown.items()))
        print(f"{trainer.epoch} epochs in {result.seconds:.2f} s on {trainer.device}")
    return 0


def main(argv: list[str] | None = None) -> int:
    from gru_core.data import DataError
    from gru_core.text import TextError
    from gru_core.train import Diverged

    args = _parser().parse_args(argv)
    try:
        return _data(args) if args.command == "data" else _train(args)
    except (ConfigError, DataError, TextError) as exc:
        print(f"python -m gru_core: error: {exc}", file=sys.stderr)
        return 2
    except Diverged as exc:
        print(f"python -m gru_core: training diverged: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"python -m gru_core: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
