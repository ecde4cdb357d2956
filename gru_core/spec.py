"""Run specs: what one run trains, as a small picklable, JSON-able description.

A `RunSpec` names a task, its data, an ordered tuple of named `ModelSpec`s and the
training settings (seed included). The server validates a spec and counts its
parameters (`gru_core.models.parameter_counts`) without building a trainer; the
training process turns it into one (`gru_core.train.Trainer(spec)`). `to_dict` and
`from_dict` give plain JSON types both ways, for saving runs. No torch here.
"""

from __future__ import annotations

import dataclasses
import importlib
import zlib
from dataclasses import dataclass, field

import numpy as np

from gru_core.config import (
    MODEL_KINDS,
    TASK_NAMES,
    ConfigError,
    DataConfig,
    ModelConfig,
    Preset,
    TrainConfig,
    check_compatible,
    split_index,
)
from gru_core.i18n import t

# How a run's models are seeded. "run": one global seed (numpy and torch), then each model
# and its optimizer built in order: the tutorial's order, which the `seed` preset keeps
# exactly. "model": each model built under its own seed (`model_seed`), so changing one
# model's settings never changes another's weights. gru_core.train._SEEDINGS builds them.
SEEDINGS = ("run", "model")

# Task name -> "module:class" of its own settings (a frozen config built from
# `RunSpec.options`); a task without an entry takes no options. Imported only for those
# tasks, so a forecast spec validates without torch.
TASK_OPTIONS: dict[str, str] = {
    "window": "gru_core.tasks.window:WindowConfig",
    "classify": "gru_core.tasks.classify:ClassifyConfig",
    "text": "gru_core.tasks.text:TextOptions",
}


def task_options(task: str, options: dict):
    """The settings object of `task` built from `options`; ConfigError when they do not fit."""
    if task not in TASK_OPTIONS:
        if options:
            raise ConfigError(
                t("spec.error.task_takes_options", task=task, options=sorted(options))
            )
        return None
    module, _, cls = TASK_OPTIONS[task].partition(":")
    config = getattr(importlib.import_module(module), cls)
    known = {f.name for f in dataclasses.fields(config)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise ConfigError(
            t(
                "spec.error.unknown_option_s",
                task=task,
                names=", ".join(unknown),
                known=", ".join(sorted(known)),
            )
        )
    return config(**options)


@dataclass(frozen=True)
class ModelSpec:
    """One named model of a run: its kind and sizes (fields a kind does not use are ignored)."""

    name: str  # unique in the run: history columns, weights and JSON are keyed by it
    kind: str  # one of config.MODEL_KINDS
    hidden_size: int = 16  # recurrent kinds: units in each layer
    num_layers: int = 1  # recurrent kinds: stacked layers
    dropout: float = 0.0  # recurrent kinds: dropout between stacked layers
    mlp_hidden: tuple[int, ...] = (32, 16)  # mlp: hidden layer widths
    mlp_window: int = 1  # mlp: past values it sees

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise ConfigError(t("spec.error.model_s_name", name=repr(self.name)))
        if self.kind not in MODEL_KINDS:
            raise ConfigError(
                t("spec.error.model_kind_one", names=", ".join(MODEL_KINDS), kind=repr(self.kind))
            )
        if not isinstance(self.dropout, (int, float)) or not 0.0 <= self.dropout < 1.0:
            raise ConfigError(t("spec.error.dropout_number_got", dropout=repr(self.dropout)))
        # The sizes share ModelConfig's bounds: one declaration of each range.
        ModelConfig(
            hidden_size=self.hidden_size,
            num_layers=self.num_layers,
            mlp_hidden=self.mlp_hidden,
            mlp_window=self.mlp_window,
        )
        object.__setattr__(self, "mlp_hidden", tuple(self.mlp_hidden))

    @property
    def label(self) -> str:
        """How pages name the model: the kind's label, or the name when it is not the kind."""
        return MODEL_KINDS[self.kind] if self.name == self.kind else self.name


def model_seed(run_seed: int, name: str) -> int:
    """The seed model `name` is built under in "model" seeding.

    The run's seed itself for the model named "gru" (so its weights are those of the
    tutorial's order, where it is built first); for any other name the run's seed plus
    the CRC-32 of the name, modulo 2**31. Depends on nothing but the two.
    """
    if name == "gru":
        return run_seed
    return (run_seed + zlib.crc32(name.encode())) % 2**31


def model_specs(cfg: ModelConfig) -> tuple[ModelSpec, ...]:
    """The models of `cfg.models`, in order, each named after its kind, with cfg's sizes.

    With `cfg.match_params`, each recurrent model's hidden size is the one whose parameter
    count is closest to a GRU's of `cfg.hidden_size` (`cells.match_hidden`).
    """
    return tuple(
        ModelSpec(
            kind,
            kind,
            matched_hidden(kind, cfg) if cfg.match_params else cfg.hidden_size,
            cfg.num_layers,
            cfg.dropout,
            cfg.mlp_hidden,
            cfg.mlp_window,
        )
        for kind in cfg.models
    )


def matched_hidden(kind: str, cfg: ModelConfig) -> int:
    """The hidden size of `kind` closest in parameters to a GRU of cfg's size and layers."""
    from gru_core import cells  # torch: only where counts are matched

    if kind not in cells.KINDS or kind == "gru":
        return cfg.hidden_size
    target = cells.parameter_count("gru", 1, cfg.hidden_size, cfg.num_layers, head=1)
    return cells.match_hidden(kind, target, 1, cfg.num_layers, head=1)


@dataclass(frozen=True, eq=False)
class Dataset:
    """A series and where its training part ends: a run's data, inline or as a generator config.

    `sine` is set when the series is the noisy sine of that config: `to_dict` then stores
    the config, not the values, and `from_dict` makes the series again (it is deterministic).
    """

    series: np.ndarray  # (points,) float64
    train_fraction: float
    label: str
    source: str = "generated"  # "generated" or "upload"
    sine: DataConfig | None = None
    times: np.ndarray | None = None  # (points,) datetime64[ns]: an upload's date/time column

    def __post_init__(self) -> None:
        if self.times is not None and len(self.times) != len(self.series):
            raise ConfigError(
                t("spec.error.dataset_needs_one", count=len(self.times), values=len(self.series))
            )

    @property
    def n_train(self) -> int:
        return split_index(len(self.series), self.train_fraction)

    def with_fraction(self, train_fraction: float) -> Dataset:
        return dataclasses.replace(self, train_fraction=float(train_fraction))

    def same_as(self, series: np.ndarray, n_train: int) -> bool:
        """Whether a run on `series` split at `n_train` used exactly this data."""
        return n_train == self.n_train and np.array_equal(series, self.series)

    def to_dict(self) -> dict:
        out = {"train_fraction": self.train_fraction, "label": self.label, "source": self.source}
        if self.sine is not None:
            out["sine"] = dataclasses.asdict(self.sine)
        else:
            out["values"] = [float(v) for v in self.series]
        if self.times is not None:
            out["times"] = times_to_text(self.times)
        return out

    @classmethod
    def from_dict(cls, d: dict) -> Dataset:
        sine = DataConfig(**d["sine"]) if d.get("sine") is not None else None
        if sine is not None:
            from gru_core.data import make_sine

            series = make_sine(sine)
        else:
            series = np.asarray(d["values"], dtype=np.float64)
        times = times_from_text(d.get("times"))
        return cls(series, float(d["train_fraction"]), d["label"], d["source"], sine, times)


def times_to_text(times: np.ndarray) -> list[str]:
    """Timestamps as ISO 8601 texts for JSON: to the second, or finer where they need it."""
    values = np.asarray(times, dtype="datetime64[ns]")
    whole_seconds = bool(np.all(values.astype(np.int64) % 1_000_000_000 == 0))
    return list(np.datetime_as_string(values, unit="s" if whole_seconds else "us"))


def times_from_text(texts: list[str] | None) -> np.ndarray | None:
    """The inverse of `times_to_text` (None stays None)."""
    return None if texts is None else np.array(texts, dtype="datetime64[ns]")


@dataclass(frozen=True, eq=False)
class RunSpec:
    """Everything one run needs: the task, its data, the models in order, the settings."""

    data: Dataset
    models: tuple[ModelSpec, ...]
    train: TrainConfig
    task: str = "forecast"  # one of config.TASK_NAMES
    seeding: str = "run"  # one of SEEDINGS
    options: dict = field(default_factory=dict)  # the task's own settings (TASK_OPTIONS)

    @classmethod
    def of(
        cls, data: Dataset, model: ModelConfig, train: TrainConfig, task: str = "forecast"
    ) -> RunSpec:
        """The spec for the Train page's settings: `model`'s kinds with its shared sizes."""
        return cls(data, model_specs(model), train, task, train.seeding)

    @classmethod
    def from_preset(
        cls,
        preset: Preset,
        model: ModelConfig | None = None,
        train: TrainConfig | None = None,
        data: Dataset | None = None,
    ) -> RunSpec:
        """The run of a preset: its task, options and settings, `model`, `train` or `data`
        in place of the preset's where given (data: the preset's sine by default)."""
        if data is None:
            from gru_core.data import make_sine

            sine = preset.data
            data = Dataset(make_sine(sine), sine.train_fraction, "sine", sine=sine)
        spec = cls.of(data, model or preset.model, train or preset.train, preset.task)
        return dataclasses.replace(spec, options=dict(preset.options))

    def validate(self) -> RunSpec:
        """Raise ConfigError when this run cannot train; the spec itself otherwise."""
        if self.task not in TASK_NAMES:
            raise ConfigError(
                t("spec.error.task_one_got", names=", ".join(TASK_NAMES), task=repr(self.task))
            )
        if self.seeding not in SEEDINGS:
            raise ConfigError(
                t(
                    "spec.error.seeding_one_got",
                    names=", ".join(SEEDINGS),
                    seeding=repr(self.seeding),
                )
            )
        task_options(self.task, self.options)
        names = [m.name for m in self.models]
        if not names or len(set(names)) != len(names):
            raise ConfigError(t("spec.error.run_needs_one", names=names))
        series = np.asarray(self.data.series)
        if series.ndim != 1:
            raise ConfigError(t("spec.error.series_one_dimensional", shape=series.shape))
        for m in self.models:
            check_compatible(len(series), self.data.train_fraction, m, self.train)
        return self

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.models)

    def model(self, name: str) -> ModelSpec:
        return next(m for m in self.models if m.name == name)

    def to_dict(self) -> dict:
        """Plain JSON types only (str, int, float, bool, None, lists, dicts)."""
        return {
            "task": self.task,
            "seeding": self.seeding,
            "data": self.data.to_dict(),
            "models": [_plain(dataclasses.asdict(m)) for m in self.models],
            "train": dataclasses.asdict(self.train),
            "options": dict(self.options),
        }

    @classmethod
    def from_dict(cls, d: dict) -> RunSpec:
        """The inverse of `to_dict`; every field is validated again."""
        return cls(
            Dataset.from_dict(d["data"]),
            tuple(ModelSpec(**m) for m in d["models"]),
            TrainConfig(**d["train"]),
            d["task"],
            d["seeding"],
            dict(d.get("options", {})),
        )


def _plain(d: dict) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}


def spec_for(
    series: np.ndarray,
    train_fraction: float = 0.8,
    model: ModelConfig = ModelConfig(),
    train: TrainConfig = TrainConfig(),
    task: str = "forecast",
    label: str = "a series",
) -> RunSpec:
    """The run of `model`'s models with `train`'s settings on `series` (for scripts and tests)."""
    data = Dataset(np.asarray(series, dtype=np.float64), float(train_fraction), label, "upload")
    return RunSpec.of(data, model, train, task)
