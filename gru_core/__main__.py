"""Headless command line: generate data, train both models, print the result.

    python -m gru_core data  --out FILE.csv [--points N --periods P --noise S --seed K]
    python -m gru_core train [--preset seed|fast] [--data FILE.csv] [--hidden N] [--seq-len N]
                             [--lr X] [--epochs N] [--seed K] [--device auto|cpu|cuda]
                             [--target-mse X] [--json]

Progress goes to stderr; with --json the last line of stdout is one JSON object.
Bad arguments print one line and exit with status 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys

from gru_core.config import PRESETS, ConfigError, DataConfig


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

    train = sub.add_parser("train", help="train the GRU and the MLP baseline")
    train.add_argument("--preset", choices=sorted(PRESETS), default="fast")
    train.add_argument("--data", help="CSV series to train on (default: the preset's sine)")
    train.add_argument("--column", help="CSV column to use when there are several")
    train.add_argument("--hidden", type=int, help="GRU hidden size")
    train.add_argument("--seq-len", type=int, help="sequence length")
    train.add_argument("--lr", type=float, help="learning rate")
    train.add_argument("--epochs", type=int, help="epochs")
    train.add_argument("--seed", type=int, help="seed for model initialisation")
    train.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], help="device")
    train.add_argument("--target-mse", type=float, help="stop once GRU test rollout MSE <= X")
    train.add_argument("--json", action="store_true", help="print the result as JSON last")
    return parser


def _data(args: argparse.Namespace) -> int:
    from gru_core.data import make_sine, save_series

    cfg = DataConfig(points=args.points, periods=args.periods, noise=args.noise, seed=args.seed)
    save_series(make_sine(cfg), args.out)
    print(f"wrote {cfg.points} points to {args.out}", file=sys.stderr)
    return 0


def _train(args: argparse.Namespace) -> int:
    import torch

    from gru_core.data import load_series, make_sine
    from gru_core.train import METRICS, MODELS, Trainer, train

    preset = PRESETS[args.preset]
    model_cfg = dataclasses.replace(
        preset.model, **({"hidden_size": args.hidden} if args.hidden is not None else {})
    )
    overrides = {
        "seq_len": args.seq_len,
        "lr": args.lr,
        "epochs": args.epochs,
        "seed": args.seed,
        "device": args.device,
    }
    train_cfg = dataclasses.replace(
        preset.train, **{k: v for k, v in overrides.items() if v is not None}
    )
    if args.target_mse is not None and not args.target_mse > 0:
        raise ConfigError(f"--target-mse must be a positive number, got {args.target_mse}")
    series = load_series(args.data, args.column) if args.data else make_sine(preset.data)
    torch.set_num_threads(1)  # these models are small: threads cost more than they give
    trainer = Trainer(series, preset.data.train_fraction, model_cfg, train_cfg)
    print(f"device: {trainer.device} ({trainer.device_choice.reason})", file=sys.stderr)

    def progress(row: dict) -> None:
        rollout = row["gru_test_rollout_mse"]
        shown = "-" if rollout is None else f"{rollout:.4f}"
        print(
            f"epoch {row['epoch']:>4}: gru train {row['gru_train_loss']:.4f} test {shown}"
            f" | mlp train {row['mlp_train_loss']:.4f}",
            file=sys.stderr,
        )

    result = train(trainer, on_epoch=progress, target_mse=args.target_mse)
    if trainer.history[-1]["gru_test_rollout_mse"] is None:  # last epoch skipped evaluation
        trainer.history[-1].update(trainer.evaluate())
    last = trainer.history[-1]
    report = {
        "preset": args.preset,
        "device": str(trainer.device),
        "epochs": trainer.epoch,
        "train_seconds": result.seconds,
        "reached_target": result.outcome == "reached_target"
        if args.target_mse is not None
        else None,
        **{name: {key: last[f"{name}_{key}"] for key in METRICS} for name in MODELS},
    }
    if args.json:
        print(json.dumps(report))
    else:
        for name in MODELS:
            shown = {k: "-" if v is None else f"{v:.4f}" for k, v in report[name].items()}
            print(f"{name}: " + ", ".join(f"{k} {v}" for k, v in shown.items()))
        print(f"{trainer.epoch} epochs in {result.seconds:.2f} s on {trainer.device}")
    return 0


def main(argv: list[str] | None = None) -> int:
    from gru_core.data import DataError
    from gru_core.train import Diverged

    args = _parser().parse_args(argv)
    try:
        return _data(args) if args.command == "data" else _train(args)
    except (ConfigError, DataError) as exc:
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
