"""Frozen, validated configuration for data, models and training.

Every field is checked on construction: a value out of range raises `ConfigError`
naming the field and what it accepts. These classes hold settings only; combining
them with a concrete series (is the sequence longer than the training part?) is
`check_compatible`'s job, because only then is the series known.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass, field

from gru_core.i18n import Texts, t


class ConfigError(ValueError):
    """A setting is out of its allowed range, or settings cannot work together."""


def _check_range(obj: object, name: str, lo: float, hi: float, integer: bool) -> float:
    """The field's value as a plain int or float, or ConfigError if it is out of range.

    numpy scalars are accepted (a UI or a script may hand them over) and so are
    integral floats for integer fields (`1000.0` from JSON); both are converted so that
    downstream code (np.linspace, nn.GRU) receives plain Python numbers.
    """
    value = getattr(obj, name)
    message = t(
        "error.config.integer" if integer else "error.config.number",
        name=name,
        lo=f"{lo:g}",
        hi=f"{hi:g}",
        value=repr(value),
    )
    if isinstance(value, bool) or not isinstance(value, numbers.Real):  # np.bool_ is not Real
        raise ConfigError(message)
    if isinstance(value, numbers.Integral):
        plain = int(value)  # before any float(): a huge int would overflow it
    elif not math.isfinite(value) or (integer and not float(value).is_integer()):
        raise ConfigError(message)
    else:
        plain = float(value)
    if not lo <= plain <= hi:
        raise ConfigError(message)
    return int(plain) if integer else float(plain)


def _check_choice(obj: object, name: str, choices: tuple[str, ...]) -> None:
    value = getattr(obj, name)
    if value not in choices:
        raise ConfigError(
            t("error.config.choice", name=name, choices=", ".join(choices), value=repr(value))
        )


def _validate(obj: object) -> None:
    """Check every field against the bounds declared in its metadata."""
    for f in dataclasses.fields(obj):
        meta = f.metadata
        if "choices" in meta:
            _check_choice(obj, f.name, meta["choices"])
        elif "range" in meta:
            lo, hi = meta["range"]
            value = _check_range(obj, f.name, lo, hi, meta.get("integer", False))
            object.__setattr__(obj, f.name, value)  # frozen: the only way to normalise


WIDGETS = (
    "number",
    "select",
    "radio",
    "toggle",
    "text",
    "lr",
    "device",
    "multiselect",
)  # kinds of setting widget


def _setting(default: object, metadata: dict, ui: dict) -> object:
    """A field with its bounds and, when `ui` names a `key`, how people set it.

    `ui` holds the one declaration of a setting: `key` (the widget's and the URL's name),
    `label` and `help` (keys of the string tables), `widget` (one of `WIDGETS`) and `flag`
    (the command line's option, where it has one). Widgets, validation and the command line
    read it; nothing else repeats it.
    """
    return field(default=default, metadata={**metadata, **ui})


def _ui(key: str, **more: object) -> dict:
    """How people set a field: its key, and `widget`, `flag` or `step`.

    Its label and help are the texts `setting.<key>.label` and `setting.<key>.help` of the
    string tables (gru_core.strings), shown in the language of the moment.
    """
    return {"key": key, "label": f"setting.{key}.label", "help": f"setting.{key}.help", **more}


def _int(default: int, lo: int, hi: int, ui: dict | None = None):
    return _setting(
        default, {"range": (lo, hi), "integer": True}, {"widget": "number", **(ui or {})}
    )


def _float(default: float, lo: float, hi: float, ui: dict | None = None):
    return _setting(default, {"range": (lo, hi)}, {"widget": "number", **(ui or {})})


def _choice(default: str, *choices: str, ui: dict | None = None):
    return _setting(default, {"choices": choices}, {"widget": "select", **(ui or {})})


def bounds(cls: type, name: str) -> tuple[float, float]:
    """The (low, high) range a numeric field accepts, for UI widgets to mirror."""
    return next(f for f in dataclasses.fields(cls) if f.name == name).metadata["range"]


@dataclass(frozen=True)
class Setting:
    """One user-facing setting: where it lives and how it is shown, read from field metadata."""

    key: str  # the widget's name (session state "train_<key>") and the URL's
    section: str  # "model" or "train": which config holds it
    name: str  # the config field
    label_key: str  # the label's key in the string tables
    help_key: str  # the help's key in the string tables
    widget: str  # number, select, radio, toggle, text, lr, device
    flag: str | None  # the command line's option, or None
    choices: tuple[str, ...] | None
    range: tuple[float, float] | None
    step: float | None  # a number box's step, where the default would not do

    @property
    def label(self) -> str:
        """The setting's label in the current language."""
        return t(self.label_key)

    @property
    def help(self) -> str:
        """The setting's help in the current language."""
        return t(self.help_key)


def settings() -> dict[str, Setting]:
    """Every setting the Train page shows, in declaration order, keyed by `Setting.key`."""
    out = {}
    for section, cls in (("model", ModelConfig), ("train", TrainConfig)):
        for f in dataclasses.fields(cls):
            meta = f.metadata
            if "key" in meta:
                out[meta["key"]] = Setting(
                    meta["key"],
                    section,
                    f.name,
                    meta["label"],
                    meta["help"],
                    meta["widget"],
                    meta.get("flag"),
                    meta.get("choices", meta.get("options")),
                    meta.get("range"),
                    meta.get("step"),
                )
    return out


def url_param(flag: str | None, key: str) -> str:
    """A setting's URL name: its command-line flag's ('--seq-len' -> 'seq_len'), else `key`."""
    return key if flag is None else flag.removeprefix("--").replace("-", "_")


def data_params() -> dict[str, str]:
    """The generator's settings in the URL: DataConfig field -> query parameter."""
    return {
        f.name: f.metadata.get("param") or url_param(f.metadata.get("flag"), f.name)
        for f in dataclasses.fields(DataConfig)
    }


MAX_POINTS = 200_000  # longest series the app trains on interactively
MAX_SLOW_MOTION = 10.0  # most seconds per epoch slow motion may ask for


@dataclass(frozen=True)
class DataConfig:
    """A generated noisy sine: sin(x) + N(0, noise) for x evenly spaced over the periods."""

    # `flag`: the `data` command's option; `param`: the URL's name where the flag's would clash
    # with a training setting's (the training seed is `seed`).
    points: int = _int(1000, 50, MAX_POINTS, {"flag": "--points"})  # samples in the series
    periods: float = _float(
        5.0, 0.5, 5000.0, {"flag": "--periods"}
    )  # sine periods covered; x spans [0, 2*pi*periods]
    noise: float = _float(0.1, 0.0, 2.0, {"flag": "--noise"})  # std of the Gaussian noise
    seed: int = _int(
        42, 0, 2**31 - 1, {"flag": "--seed", "param": "data_seed"}
    )  # numpy seed for the noise
    train_fraction: float = _float(
        0.8, 0.1, 0.95, {"param": "train_fraction"}
    )  # leading share of points used for training

    def __post_init__(self) -> None:
        _validate(self)


# Model kinds by name, in the order the Train page lists them. The registry that builds them
# (gru_core.models.KINDS) imports torch; this list does not, so configs validate without it.
# tests/test_models.py checks that the two agree.
MODEL_KINDS = Texts(  # kind -> its label on cards, charts and tables (the text `kind.<kind>`)
    "kind.", ("gru", "mlp", "rnn", "lstm", "gru_d2l", "gru_update_only", "gru_reset_only")
)
TASK_NAMES = (
    "forecast",
    "window",
    "classify",
    "text",
)  # tasks by name; gru_core.tasks.TASKS builds them


@dataclass(frozen=True)
class ModelConfig:
    """The models a run trains, in order, and the sizes they share."""

    models: tuple[str, ...] = _setting(
        ("gru", "mlp"),
        {},
        _ui(
            "models",
            widget="multiselect",
            options=tuple(MODEL_KINDS),
        ),
    )  # kinds from MODEL_KINDS, trained in this order
    hidden_size: int = _int(
        16,
        1,
        512,
        _ui("hidden", flag="--hidden"),
    )  # units in each recurrent layer
    num_layers: int = _int(
        1,
        1,
        4,
        _ui(
            "layers",
            flag="--layers",
        ),
    )  # stacked recurrent layers
    dropout: float = _float(
        0.0,
        0.0,
        0.9,
        _ui(
            "dropout",
            flag="--dropout",
            step=0.05,
        ),
    )  # dropout between stacked recurrent layers
    match_params: bool = _setting(
        False,
        {},
        _ui(
            "match_params",
            widget="toggle",
            flag="--match-params",
        ),
    )  # recurrent models' hidden sizes chosen to match the GRU's parameter count
    mlp_hidden: tuple[int, ...] = _setting(
        (32, 16),
        {},
        _ui(
            "mlp_hidden",
            widget="text",
        ),
    )  # MLP hidden layer widths, 1..4 layers of 1..1024
    mlp_window: int = _int(
        1,
        1,
        64,
        _ui("mlp_window"),
    )  # past values the MLP sees (1 = the current value only)

    def __post_init__(self) -> None:
        object.__setattr__(self, "mlp_hidden", _tuple(self.mlp_hidden))
        object.__setattr__(self, "models", _tuple(self.models))
        _validate(self)
        if not isinstance(self.match_params, bool):
            raise ConfigError(
                t("error.config.bool", name="match_params", value=repr(self.match_params))
            )
        models = self.models
        if (
            not isinstance(models, tuple)
            or not models
            or any(m not in MODEL_KINDS for m in models)
            or len(set(models)) != len(models)
        ):
            raise ConfigError(
                t("error.config.models", kinds=", ".join(MODEL_KINDS), value=repr(models))
            )
        widths = self.mlp_hidden
        if (
            not isinstance(widths, tuple)
            or not 1 <= len(widths) <= 4
            or any(
                isinstance(w, bool) or not isinstance(w, int) or not 1 <= w <= 1024 for w in widths
            )
        ):
            raise ConfigError(t("error.config.mlp_hidden", value=repr(widths)))


def _tuple(value: object) -> object:
    """A list or tuple as a tuple; anything else unchanged (rejected by the caller by name)."""
    return tuple(value) if isinstance(value, (list, tuple)) else value


@dataclass(frozen=True)
class TrainConfig:
    """How the models are trained and evaluated."""

    epochs: int = _int(
        150, 1, 10_000, _ui("epochs", flag="--epochs")
    )  # passes over the training part
    lr: float = _float(
        5e-4,
        1e-6,
        1000.0,
        _ui(
            "lr",
            widget="lr",
            flag="--lr",
        ),
    )  # Adam's learning rate (the text task's SGD takes up to 1000: d2l's 100)
    seq_len: int = _int(
        20,
        2,
        2000,
        _ui(
            "seq_len",
            flag="--seq-len",
        ),
    )  # time steps per chunk (stateful) or window (windowed)
    mode: str = _choice(
        "stateful",
        "stateful",
        "windowed",
        ui=_ui(
            "mode",
            widget="radio",
        ),
    )  # carried state vs shuffled windows
    batch_size: int = _int(
        1,
        1,
        1024,
        _ui("batch"),
    )  # stateful: parallel contiguous streams; windowed: windows
    chunking: str = _choice(
        "overlap",
        "overlap",
        "tutorial",
        ui=_ui("chunking"),
    )  # tutorial: disjoint seq_len+1 cuts
    eval_state: str = _choice(
        "warm",
        "warm",
        "carried",
        ui=_ui("eval_state"),
    )  # test forecast state: re-warm or carried
    eval_every: int = _int(
        1,
        1,
        1000,
        _ui("eval_every"),
    )  # evaluate on the test part every k epochs (and the last)
    lr_schedule: str = _choice(
        "constant",
        "constant",
        "cosine",
        ui=_ui("schedule"),
    )  # cosine decays to lr/20
    clip_grad: float = _float(
        0.0,
        0.0,
        100.0,
        _ui("clip", step=0.5),
    )  # max gradient norm; 0 = no clipping
    standardize: bool = _setting(
        False,
        {},
        _ui(
            "standardize",
            widget="toggle",
        ),
    )  # train on (x - mean) / std of the training part
    seed: int = _int(
        0, 0, 2**31 - 1, _ui("seed", flag="--seed")
    )  # numpy and torch seed, set before the models are built
    seeding: str = _choice(
        "run",
        "run",
        "model",
        ui=_ui("seeding"),
    )  # how the seed reaches the models (gru_core.train._SEEDINGS)
    device: str = _choice(
        "auto",
        "auto",
        "cpu",
        "cuda",
        "mps",
        ui=_ui(
            "device",
            widget="device",
            flag="--device",
        ),
    )  # where training runs
    # numpy: the whole CPU training step (forward, loss, backward, Adam) in gru_core.kernels
    # where it applies (one-layer GRU, hidden <= 128, plain Adam); torch everywhere else
    step_kernel: str = _choice(
        "torch",
        "torch",
        "numpy",
        ui=_ui("kernel"),
    )
    eval_warmup: int = _int(
        1000,
        0,
        MAX_POINTS,
        _ui("eval_warmup"),
    )  # training points read before a "warm" test
    slow_motion: float = _float(
        0.0,
        0.0,
        MAX_SLOW_MOTION,
        _ui(
            "slow_motion",
            flag="--slow-motion",
            step=0.1,
        ),
    )  # least seconds per epoch: training waits, for demos; 0 = off; changes no number

    def __post_init__(self) -> None:
        _validate(self)
        if not isinstance(self.standardize, bool):
            raise ConfigError(
                t("error.config.bool", name="standardize", value=repr(self.standardize))
            )
        if self.chunking == "tutorial" and (self.mode != "stateful" or self.batch_size != 1):
            raise ConfigError(t("error.config.tutorial_chunking"))
        if self.eval_state == "carried" and self.mode != "stateful":
            raise ConfigError(t("error.config.carried_state"))


@dataclass(frozen=True)
class Preset:
    """A named, complete choice of settings."""

    name: str
    description_key: str  # the description's key in the string tables
    data: DataConfig
    model: ModelConfig
    train: TrainConfig
    task: str = "forecast"  # one of TASK_NAMES
    options: dict = field(default_factory=dict)  # the task's own settings (spec.TASK_OPTIONS)

    @property
    def description(self) -> str:
        """What the preset is for, in the current language."""
        return t(self.description_key)


# The window presets train every window at once (batch 240 = the training windows).
_WINDOW_TRAIN = TrainConfig(epochs=100, lr=5e-3, batch_size=240, mode="windowed", seed=42)

PRESETS: dict[str, Preset] = {
    "seed": Preset(
        "seed",
        "preset.seed.description",
        DataConfig(),
        ModelConfig(),
        TrainConfig(chunking="tutorial", eval_state="carried"),
    ),
    "fast": Preset(
        "fast",
        "preset.fast.description",
        DataConfig(),
        ModelConfig(hidden_size=32),
        # Two contiguous streams of 60-step chunks, a 60x higher rate decayed by a cosine,
        # 32 units, the whole step in numpy, the test forecast from the carried state:
        # seeds 0-9 reach GRU test MSE <= 0.0171 in 19-35 epochs, 0.4 s (BENCHMARKS.md).
        TrainConfig(
            seeding="model",
            epochs=60,
            lr=3e-2,
            seq_len=60,
            batch_size=2,
            lr_schedule="cosine",
            eval_state="carried",
            step_kernel="numpy",
        ),
    ),
    "seed004": Preset(
        "seed004",
        "preset.seed004.description",
        DataConfig(),
        ModelConfig(hidden_size=32),
        _WINDOW_TRAIN,
        "window",
        {"target": "last"},
    ),
    "window": Preset(
        "window",
        "preset.window.description",
        DataConfig(),
        ModelConfig(hidden_size=32),
        _WINDOW_TRAIN,
        "window",
    ),
    "classify": Preset(
        "classify",
        "preset.classify.description",
        DataConfig(),
        ModelConfig(hidden_size=32),
        TrainConfig(epochs=30, lr=1e-2, batch_size=64, mode="windowed"),
        "classify",
        {"windows": 600, "train_windows": 480},
    ),
    # d2l's setting (first edition, GRU chapter): 256 units, 35 steps, batch 32, sequential
    # batches with the state carried, SGD at lr 100 on the mean loss, clipping at norm 0.01,
    # 160 epochs, held-out perplexity and 50-character samples every 40; d2l's from-scratch
    # GRU beside nn.GRU where the registry has it.
    "seed003": Preset(
        "seed003",
        "preset.seed003.description",
        DataConfig(),
        ModelConfig(
            models=tuple(k for k in ("gru_d2l", "gru") if k in MODEL_KINDS), hidden_size=256
        ),
        TrainConfig(
            epochs=160,
            lr=100.0,
            seq_len=35,
            batch_size=32,
            clip_grad=0.01,
            eval_every=40,
            mode="windowed",  # the text task batches itself; this only passes the sine's checks
        ),
        "text",
        {"corpus": "tang"},
    ),
}
# A task's preset when none is named.
DEFAULT_PRESETS = {
    "forecast": "fast",
    "window": "window",
    "classify": "classify",
    "text": "seed003",
}


def check_compatible(
    n_points: int, data_fraction: float, model: ModelConfig, train: TrainConfig
) -> None:
    """Raise ConfigError when the settings cannot train on a series of `n_points`."""
    n_train = split_index(n_points, data_fraction)
    n_test = n_points - n_train
    if n_test < 2:
        raise ConfigError(t("error.config.test_part", n=n_test))
    need = train.seq_len + 1
    if n_train < need:
        raise ConfigError(
            t(
                "error.config.seq_len",
                seq_len=train.seq_len,
                need=need,
                n_train=n_train,
                most=n_train - 1,
            )
        )
    if train.mode == "stateful" and train.batch_size > (n_train - 1) // train.seq_len:
        most = max(1, (n_train - 1) // train.seq_len)
        raise ConfigError(
            t(
                "error.config.streams",
                batch=train.batch_size,
                seq_len=train.seq_len,
                need=train.batch_size * train.seq_len + 1,
                n_train=n_train,
                most=most,
            )
        )
    if n_train <= model.mlp_window:
        raise ConfigError(t("error.config.mlp_window", window=model.mlp_window))


def split_index(n_points: int, train_fraction: float) -> int:
    """How many leading points of a series of `n_points` form the training part."""
    return round(n_points * train_fraction)
