"""Headless command line: generate data, train a run's models, print the result.

    python -m gru_core data  --out FILE.csv [--points N --periods P --noise S --seed K]
    python -m gru_core train [--preset NAME] [--task forecast|window|classify|text]
                             [--data FILE.csv] [--corpus tang|shakespeare|FILE.txt]
                             [--models mlp,rnn,lstm,gru] [--match-params] [--layers N]
                             [--dropout X] [--hidden N] [--seq-len N] [--lr X]
                             [--epochs N] [--seed K] [--device auto|cpu|cuda|mps]
                             [--target-mse X] [--save RUN.zip] [--json]
    python -m gru_core show  RUN.zip [--json]
    python -m gru_core sweep [run options as for train] --grid NAME=V1,V2,... [--grid ...]
                             [--seeds K] [--workers N] [--backend local|ray]
                             [--ray-address ADDR] [--json]

The settings' options (--hidden, --lr, ...) come from their declarations in
gru_core.config (the `flag` of a field's metadata), with its help and range.

Progress goes to stderr; with --json the last line of stdout is one JSON object.
Bad arguments print one line and exit with status 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
import sys
from pathlib import Path

from gru_core.config import (
    DEFAULT_PRESETS,
    MODEL_KINDS,
    PRESETS,
    TASK_NAMES,
    ConfigError,
    DataConfig,
    settings,
)
from gru_core.i18n import shown


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
    _run_options(train)
    train.add_argument(
        "--target-mse", type=float, help="stop once the first model's test error is <= X"
    )
    train.add_argument("--save", metavar="RUN.zip", help="write the run as a bundle (a zip)")
    train.add_argument("--json", action="store_true", help="print the result as JSON last")

    show = sub.add_parser("show", help="evaluate a run bundle's saved weights on its saved data")
    show.add_argument("bundle", metavar="RUN.zip", help="a bundle from train --save or the app")
    show.add_argument("--json", action="store_true", help="print the result as JSON last")

    sweep = sub.add_parser("sweep", help="train a grid of settings x seeds, in parallel")
    _run_options(sweep)
    sweep.add_argument(
        "--grid",
        action="append",
        required=True,
        metavar="NAME=V1,V2,...",
        help="a setting to vary and its values (repeat for more); names: the options above"
        " without dashes, or a setting's key (layers, batch, schedule, ...)",
    )
    sweep.add_argument("--seeds", type=int, default=1, help="seeds per cell, from --seed on")
    sweep.add_argument("--workers", type=int, default=1, help="runs in parallel")
    sweep.add_argument("--backend", choices=("local", "ray"), default="local")
    sweep.add_argument(
        "--ray-address", help="the Ray cluster (default: $GRU_LAB_RAY_ADDRESS, else a local Ray)"
    )
    sweep.add_argument("--json", action="store_true", help="print the result as JSON last")
    return parser


def _run_options(parser: argparse.ArgumentParser) -> None:
    """What a run trains: preset, task, data, models and every setting that has an option."""
    parser.add_argument(
        "--preset", choices=sorted(PRESETS), help="named settings (default: the task's own)"
    )
    parser.add_argument(
        "--task", choices=TASK_NAMES, help="what to learn (default: the preset's, else forecast)"
    )
    parser.add_argument("--data", help="CSV series to train on (default: the preset's sine)")
    parser.add_argument("--column", help="CSV column to use when there are several")
    parser.add_argument(
        "--models",
        type=_kinds,
        help=f"comma-separated model kinds, trained in this order ({', '.join(MODEL_KINDS)});"
        " default: the preset's",
    )
    for s in settings().values():
        if s.flag is not None and s.widget == "toggle":
            parser.add_argument(
                s.flag, dest=s.key, action="store_true", default=None, help=shown(s.help)
            )
        elif s.flag is not None:
            kind = str if s.choices else int if isinstance(s.range[0], int) else float
            parser.add_argument(
                s.flag, dest=s.key, type=kind, choices=s.choices, help=shown(s.help)
            )
    parser.add_argument(
        "--corpus",
        help="text task: tang, shakespeare or a UTF-8 .txt file (default: the preset's)",
    )


def _chosen(args: argparse.Namespace):
    """The run the options describe: (its preset, model settings, training settings, spec)."""
    from gru_core.data import load_series
    from gru_core.spec import Dataset, RunSpec

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
    data = None
    if args.data:
        data = Dataset(load_series(args.data, args.column), preset.data.train_fraction, args.data)
    spec = RunSpec.from_preset(preset, model_cfg, train_cfg, data)
    if args.corpus is not None:
        spec = dataclasses.replace(spec, options={**spec.options, **_corpus(args.corpus)})
    return preset, model_cfg, train_cfg, spec


def _data(args: argparse.Namespace) -> int:
    from gru_core.data import make_sine, save_series

    cfg = DataConfig(points=args.points, periods=args.periods, noise=args.noise, seed=args.seed)
    save_series(make_sine(cfg), args.out)
    print(f"wrote {cfg.points} points to {args.out}", file=sys.stderr)
    return 0


def _corpus(name: str) -> dict:
    """The text task's options for --corpus: a shipped corpus by name, or a file read as text."""
    from gru_core.text import CORPORA, read_upload

    if name in CORPORA:
        return {"corpus": name, "text": ""}
    return {"corpus": "upload", "text": read_upload(Path(name).read_bytes())}


def _train(args: argparse.Namespace, argv: list[str] | None = None) -> int:
    import torch

    from gru_core.tasks import primary
    from gru_core.train import Trainer, final_metrics, train

    if args.target_mse is not None and not args.target_mse > 0:
        raise ConfigError(f"--target-mse must be a positive number, got {args.target_mse}")
    preset, _, _, spec = _chosen(args)
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
    reached = result.outcome == "reached_target" if args.target_mse is not None else None
    metrics = final_metrics(trainer)
    last = trainer.history[-1]
    for name in trainer.names:  # the text task's samples beside its metrics
        metrics[name].update({k: last[f"{name}_{k}"] for k in getattr(trainer.task, "texts", ())})
    report = _report(trainer, preset.name, result.seconds, reached, metrics)
    if args.save:
        from gru_core import bundle, workspace

        tensors, meta = workspace.bundle_state(*trainer.resumable_state())
        command = "python -m gru_core " + shlex.join(sys.argv[1:] if argv is None else argv)
        bundle.write_bundle(
            spec.to_dict(),
            trainer.history,
            tensors,
            spec.data.series,
            command,
            name=Path(args.save).stem,
            meta={**meta, "preset": preset.name, "seconds": result.seconds,
                  "reached_target": reached},
            path=args.save,
        )  # fmt: skip
        print(f"wrote the run to {args.save}", file=sys.stderr)
    return _print(report, args.json)


def _report(trainer, preset: str, seconds: float, reached: bool | None, metrics: dict) -> dict:
    """What `train --json` prints: the run's settings in brief and each model's metrics."""
    return {
        "preset": preset,
        "device": str(trainer.device),
        "epochs": trainer.epoch,
        "train_seconds": seconds,
        "reached_target": reached,
        **metrics,
    }


def _show(args: argparse.Namespace) -> int:
    """Re-evaluate a bundle's saved weights on its saved data; print what `train` printed."""
    import torch

    from gru_core import workspace
    from gru_core.tasks import metric_names

    torch.set_num_threads(1)
    found, spec = workspace.read_run_bundle(args.bundle)
    meta = found.config["meta"]
    trainer = workspace.trainer_of(spec, found.tensors, meta)
    print(f"{found.config['name'] or args.bundle}: {found.command.strip()}", file=sys.stderr)
    last = {
        **(found.history[-1] if found.history else {}),
        **trainer.evaluate(),
    }  # train loss: saved
    keys = (*metric_names(trainer.task), *getattr(trainer.task, "texts", ()))
    report = _report(
        trainer,
        str(meta.get("preset", "")),
        float(meta.get("seconds", meta.get("elapsed", 0.0))),
        meta.get("reached_target"),
        {name: {key: last[f"{name}_{key}"] for key in keys} for name in trainer.names},
    )
    return _print(report, args.json)


def _print(report: dict, as_json: bool) -> int:
    names = [k for k, v in report.items() if isinstance(v, dict)]
    if as_json:
        print(json.dumps(report))
    else:
        for name in names:
            shown = {
                k: "-" if v is None else repr(v) if isinstance(v, str) else f"{v:.4f}"
                for k, v in report[name].items()
            }
            print(f"{name}: " + ", ".join(f"{k} {v}" for k, v in shown.items()))
        print(f"{report['epochs']} epochs in {report['train_seconds']:.2f} s on {report['device']}")
    return 0


def _show_run(result: dict, done: int, total: int, metric: str) -> None:
    """One finished run of a sweep on stderr: its key and each model's `metric`, or its error."""
    shown = result["error"] or ", ".join(
        f"{name} {metric} {values[metric]:.4f}"
        for name, values in result["metrics"].items()
        if values[metric] is not None
    )
    print(f"run {done}/{total} {result['key']}: {shown}", file=sys.stderr)


def _sweep(args: argparse.Namespace) -> int:
    import time

    from gru_core.executors import RAY_MISSING
    from gru_core.sweep_runs import Sweep, make_executor, parse_grid, run_sweep
    from gru_core.tasks import primary, task_class

    if args.workers < 1:
        raise ConfigError(f"--workers must be a positive integer, got {args.workers}")
    _, model_cfg, train_cfg, spec = _chosen(args)
    grid = parse_grid(args.grid)
    plan = Sweep(spec.data, model_cfg, train_cfg, grid, args.seeds, spec.task, spec.options)
    executor = make_executor(args.backend, args.workers, args.ray_address)
    metric = primary(task_class(spec.task)).name
    start = time.perf_counter()
    results = []
    try:
        for result in run_sweep(plan.items(args.workers), executor):
            results.append(result)
            _show_run(result, len(results), len(plan.runs), metric)
    except RuntimeError as exc:
        if str(exc) != RAY_MISSING:
            raise
        print(f"python -m gru_core: error: {exc}", file=sys.stderr)
        return 2
    wall = time.perf_counter() - start
    results.sort(key=lambda r: r["index"])
    runs = [
        {
            "settings": r["settings"],
            "seed": r["seed"],
            "train_seconds": r["train_seconds"],
            **(r["metrics"] or {}),
            "error": r["error"],
        }
        for r in results
    ]
    failed = sum(r["error"] is not None for r in results)
    if args.json:
        print(
            json.dumps(
                {
                    "backend": args.backend,
                    "workers": args.workers,
                    "wall_seconds": wall,
                    "runs": runs,
                }
            )
        )
    else:
        print(
            f"{len(results)} runs ({failed} failed) in {wall:.2f} s on {args.workers}"
            f" {args.backend} worker(s)"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    from gru_core.bundle import BundleError
    from gru_core.data import DataError
    from gru_core.text import TextError
    from gru_core.train import Diverged

    args = _parser().parse_args(argv)
    try:
        if args.command == "train":
            return _train(args, argv)
        return {"data": _data, "show": _show, "sweep": _sweep}[args.command](args)
    except (ConfigError, DataError, BundleError, TextError) as exc:
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
