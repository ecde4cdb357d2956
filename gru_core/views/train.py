"""The Train page's computations: settings <-> configs and specs, the job, the metric cards."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pandas as pd

from gru_core import cells, process_job
from gru_core import device as devices
from gru_core.config import PRESETS, ConfigError, ModelConfig, TrainConfig, settings
from gru_core.i18n import t
from gru_core.job import Snapshot, TrainingJob, check_spec
from gru_core.recording import RunRecord
from gru_core.spec import Dataset, RunSpec
from gru_core.tasks import parameter_counts, primary, task_class
from gru_core.views.status import format_metric, seconds_per_epoch

DEFAULT_PRESET = "fast"

SETTINGS = settings()  # key -> Setting: every Train-page setting, declared in gru_core.config


def config_settings(model: ModelConfig, train: TrainConfig) -> dict[str, object]:
    """The Train page's settings (keys of `SETTINGS`) that describe these configs."""
    configs = {"model": model, "train": train}
    out = {key: getattr(configs[s.section], s.name) for key, s in SETTINGS.items()}
    out["mlp_hidden"] = format_widths(model.mlp_hidden)  # edited as text: "32, 16"
    out["models"] = list(model.models)  # a multiselect's value is a list
    return out


def preset_settings(name: str, source: str = "generated") -> dict[str, object]:
    """The Train page's settings for a preset, on data from `source` (a `Dataset.source`)."""
    preset = PRESETS[name]
    out = config_settings(preset.model, preset.train)
    out["standardize"] = standardize_default(name, source)
    return out


def standardize_default(preset: str, source: str) -> bool:
    """Whether runs on data from `source` are standardised unless the user turns it off.

    Uploaded series: always. Their scale is anyone's (a temperature in the tens, a price in
    the thousands), and on raw values of that size a GRU trained worse than an MLP. The
    generated sines keep their preset's choice: the tutorial's raw values for `seed`.
    """
    return source == "upload" or PRESETS[preset].train.standardize


def build_configs(
    chosen: dict[str, object], base: str = DEFAULT_PRESET
) -> tuple[ModelConfig, TrainConfig]:
    """Configs from the Train page's settings; ConfigError names the setting that is wrong.

    Fields without a setting keep the value of the `base` preset.
    """
    fields: dict[str, dict[str, object]] = {"model": {}, "train": {}}
    for key, s in SETTINGS.items():
        if key in chosen:
            fields[s.section][s.name] = chosen[key]
    if "mlp_hidden" in fields["model"]:
        fields["model"]["mlp_hidden"] = parse_widths(fields["model"]["mlp_hidden"])
    preset = PRESETS[base]
    return (
        dataclasses.replace(preset.model, **fields["model"]),
        dataclasses.replace(preset.train, **fields["train"]),
    )


def parse_widths(text: object) -> tuple[int, ...]:
    """'32, 16' -> (32, 16). Tuples pass through; anything else raises ConfigError."""
    if isinstance(text, (tuple, list)):
        return tuple(text)
    parts = [p for p in str(text).replace(";", ",").replace(" ", ",").split(",") if p]
    try:
        return tuple(int(p) for p in parts)
    except ValueError:
        raise ConfigError(
            f"MLP layers must be whole numbers separated by commas, like '32, 16'; got {text!r}"
        ) from None


def format_widths(widths: tuple[int, ...]) -> str:
    return ", ".join(str(w) for w in widths)


def lr_options(*extra: float) -> list[float]:
    """Learning rates for a log-scale slider: 1, 2, 3, 5 per decade, 1e-6 to 1, plus extras."""
    ladder = [m * 10.0**e for e in range(-6, 0) for m in (1, 2, 3, 5)] + [1.0]
    values = {float(f"{v:.3g}") for v in ladder + [float(x) for x in extra if x]}
    return sorted(values)


def format_lr(lr: float) -> str:
    mantissa, exponent = f"{lr:.2e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{int(exponent)}"


def device_options() -> list[str]:
    """'auto' and the devices this process can use."""
    return ["auto", *devices.available()]


def run_spec(dataset: Dataset, model: ModelConfig, train: TrainConfig) -> RunSpec:
    """The run these settings describe on `dataset`; ConfigError if it cannot train here."""
    return check_spec(RunSpec.of(dataset, model, train))


# The app's jobs train in a process of their own: the pages the server draws and the
# training never wait for each other's turn at the GIL. (A test that patches the training
# code in this process sets TrainingJob, which trains in a thread here.)
JOB_TYPE: type[TrainingJob] = process_job.ProcessJob


def make_job(spec: RunSpec, record: RunRecord | None = None) -> TrainingJob:
    """A new (not yet started) job for `spec`; ConfigError if it cannot train here.

    With a `record`, the job saves its run in the workspace as it trains.
    """
    return JOB_TYPE(spec, record=record)


def spec_settings(spec: RunSpec) -> dict[str, object]:
    """The Train page's settings that give `spec` (its first model's sizes stand for all)."""
    return config_settings(model_config(spec.to_dict()), spec.train)


def model_config(spec: dict) -> ModelConfig:
    """The shared model settings of a spec dict: its kinds, its first model's sizes.

    (The Train page gives every model the same sizes: `spec.model_specs`.)
    """
    models = spec["models"]
    first = models[0]
    return ModelConfig(
        models=tuple(m["kind"] for m in models),
        hidden_size=first["hidden_size"],
        num_layers=first["num_layers"],
        mlp_hidden=tuple(
            next((m["mlp_hidden"] for m in models if m["kind"] == "mlp"), first["mlp_hidden"])
        ),
        mlp_window=next(
            (m["mlp_window"] for m in models if m["kind"] == "mlp"), first["mlp_window"]
        ),
    )


def setting_changes(running: RunSpec, chosen: RunSpec) -> list[str]:
    """Human-readable differences between a run's settings and the ones chosen now."""
    changes = _changes(running.train, chosen.train)
    old, new = {m.name: m for m in running.models}, {m.name: m for m in chosen.models}
    if list(old) != list(new):
        changes.append(f"models {', '.join(old)} → {', '.join(new)}")
    for name in [n for n in old if n in new]:  # the models share the page's sizes: each once
        changes += [c for c in _changes(old[name], new[name]) if c not in changes]
    if not chosen.data.same_as(running.data.series, running.data.n_train):
        changes.append("the data")
    return changes


def _changes(old: object, new: object) -> list[str]:
    out = []
    for f in dataclasses.fields(old):
        a, b = getattr(old, f.name), getattr(new, f.name)
        if a != b:
            out.append(f"{f.name} {_show(a)} → {_show(b)}")
    return out


def _show(value: object) -> str:
    if isinstance(value, tuple):
        return f"({format_widths(value)})"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def parameter_table(spec: RunSpec) -> pd.DataFrame:
    """One row per model of `spec`: its kind, hidden size, layers and trainable parameters."""
    counts = parameter_counts(spec)
    recurrent = [m for m in spec.models if m.kind in cells.KINDS]
    return pd.DataFrame(
        {
            "model": [m.label for m in spec.models],
            "hidden size": [
                str(m.hidden_size) if m in recurrent else format_widths(m.mlp_hidden)
                for m in spec.models
            ],
            "layers": [
                m.num_layers if m in recurrent else len(m.mlp_hidden) + 1 for m in spec.models
            ],
            "parameters": [counts[m.name] for m in spec.models],
        }
    )


@dataclass(frozen=True)
class MetricCard:
    label: str
    value: str
    help: str


def metric_cards(snapshot: Snapshot) -> list[MetricCard]:
    """The Train page's cards: each model's test and train loss, speed, sizes and device."""
    m = snapshot.latest_metric
    task = task_class(snapshot.spec.task)
    main = primary(task)
    pace = seconds_per_epoch(snapshot.history)
    if pace is None:
        speed = "—"
    elif pace < 10:
        speed = t("format.milliseconds", ms=f"{pace * 1e3:.0f}")
    else:
        speed = t("format.seconds", s=f"{pace:.1f}")
    names = snapshot.names
    label = snapshot.label
    better = t("card.lower_better" if main.lower_is_better else "card.higher_better")
    return [
        *(
            MetricCard(
                t("card.test", model=label(n)),
                format_metric(m(f"{n}_{main.name}")),
                t("card.test.help", metric=main.help, model=label(n), better=better),
            )
            for n in names
        ),
        *(
            MetricCard(
                t("card.train", model=label(n)),
                format_metric(m(f"{n}_train_loss")),
                t("card.train.help", model=label(n), loss=t(task.train_loss_help)),
            )
            for n in names
        ),
        MetricCard(t("card.epoch_time"), speed, t("card.epoch_time.help")),
        *(
            MetricCard(
                t("card.weights", model=label(n)),
                f"{snapshot.parameters[n]:,}",
                t("card.weights.help"),
            )
            for n in names
        ),
        MetricCard(t("card.device"), snapshot.device, snapshot.device_reason),
    ]
