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


class ConfigError(ValueError):
    """A setting is out of its allowed range, or settings cannot work together."""


def _check_range(obj: object, name: str, lo: float, hi: float, integer: bool) -> float:
    """The field's value as a plain int or float, or ConfigError if it is out of range.

    numpy scalars are accepted (a UI or a script may hand them over) and so are
    integral floats for integer fields (`1000.0` from JSON); both are converted so that
    downstream code (np.linspace, nn.GRU) receives plain Python numbers.
    """
    value = getattr(obj, name)
    kind = "an integer" if integer else "a number"
    message = f"{name} must be {kind} in [{lo:g}, {hi:g}], got {value!r}"
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
        raise ConfigError(f"{name} must be one of {', '.join(choices)}; got {value!r}")


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
    `label`, `help`, `widget` (one of `WIDGETS`) and `flag`
    (the command line's option, where it has one). Widgets, validation and the command line
    read it; nothing else repeats it.
    """
    return field(default=default, metadata={**metadata, **ui})


def _ui(key: str, label: str, help: str, **more: object) -> dict:
    """How people set a field: its key, label and help, and `widget`, `flag` or `step`."""
    return {"key": key, "label": label, "help": help, **more}


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
    label: str
    help: str
    widget: str  # number, select, radio, toggle, text, lr, device
    flag: str | None  # the command line's option, or None
    choices: tuple[str, ...] | None
    range: tuple[float, float] | None
    step: float | None  # a number box's step, where the default would not do


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


MAX_POINTS = 200_000  # longest series the app trains on interactively
MAX_SLOW_MOTION = 10.0  # most seconds per epoch slow motion may ask for


@dataclass(frozen=True)
class DataConfig:
    """A generated noisy sine: sin(x) + N(0, noise) for x evenly spaced over the periods."""

    points: int = _int(1000, 50, MAX_POINTS)  # samples in the series
    periods: float = _float(5.0, 0.5, 5000.0)  # sine periods covered; x spans [0, 2*pi*periods]
    noise: float = _float(0.1, 0.0, 2.0)  # standard deviation of the Gaussian noise
    seed: int = _int(42, 0, 2**31 - 1)  # numpy seed for the noise
    train_fraction: float = _float(0.8, 0.1, 0.95)  # leading share of points used for training

    def __post_init__(self) -> None:
        _validate(self)


# Model kinds by name, in the order the Train page lists them. The registry that builds them
# (gru_core.models.KINDS) imports torch; this list does not, so configs validate without it.
# tests/test_models.py checks that the two agree.
MODEL_KINDS = {  # kind -> label on cards, charts and tables (cells.KINDS's labels)
    "gru": "GRU",
    "mlp": "MLP",
    "rnn": "RNN",
    "lstm": "LSTM",
    "gru_d2l": "GRU (d2l)",
    "gru_update_only": "GRU, update gate only",
    "gru_reset_only": "GRU, reset gate only",
}
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
            "Models",
            "The kinds of model trained side by side on the same data, in this order.",
            widget="multiselect",
            options=tuple(MODEL_KINDS),
        ),
    )  # kinds from MODEL_KINDS, trained in this order
    hidden_size: int = _int(
        16,
        1,
        512,
        _ui("hidden", "Hidden size", "Units in each recurrent model's state.", flag="--hidden"),
    )  # units in each recurrent layer
    num_layers: int = _int(
        1,
        1,
        4,
        _ui(
            "layers",
            "Recurrent layers",
            "Stacked layers of every recurrent model (the Gates page shows any one).",
            flag="--layers",
        ),
    )  # stacked recurrent layers
    dropout: float = _float(
        0.0,
        0.0,
        0.9,
        _ui(
            "dropout",
            "Dropout",
            "Dropout between stacked recurrent layers while training (needs 2+ layers).",
            flag="--dropout",
            step=0.05,
        ),
    )  # dropout between stacked recurrent layers
    match_params: bool = _setting(
        False,
        {},
        _ui(
            "match_params",
            "Match parameter counts",
            "Give each recurrent model the hidden size whose parameter count is closest to"
            " the GRU's.",
            widget="toggle",
            flag="--match-params",
        ),
    )  # recurrent models' hidden sizes chosen to match the GRU's parameter count
    mlp_hidden: tuple[int, ...] = _setting(
        (32, 16),
        {},
        _ui(
            "mlp_hidden",
            "MLP hidden layers",
            "Widths of the MLP's hidden layers, e.g. 32, 16.",
            widget="text",
        ),
    )  # MLP hidden layer widths, 1..4 layers of 1..1024
    mlp_window: int = _int(
        1,
        1,
        64,
        _ui(
            "mlp_window",
            "MLP input window",
            "Past values the MLP sees; 1 = only the current value, as in the tutorial.",
        ),
    )  # past values the MLP sees (1 = the current value only)

    def __post_init__(self) -> None:
        object.__setattr__(self, "mlp_hidden", _tuple(self.mlp_hidden))
        object.__setattr__(self, "models", _tuple(self.models))
        _validate(self)
        if not isinstance(self.match_params, bool):
            raise ConfigError(f"match_params must be true or false; got {self.match_params!r}")
        models = self.models
        if (
            not isinstance(models, tuple)
            or not models
            or any(m not in MODEL_KINDS for m in models)
            or len(set(models)) != len(models)
        ):
            raise ConfigError(
                f"models must be distinct kinds from {', '.join(MODEL_KINDS)}; got {models!r}"
            )
        widths = self.mlp_hidden
        if (
            not isinstance(widths, tuple)
            or not 1 <= len(widths) <= 4
            or any(
                isinstance(w, bool) or not isinstance(w, int) or not 1 <= w <= 1024 for w in widths
            )
        ):
            raise ConfigError(
                "mlp_hidden must be 1 to 4 layer widths, each an integer in [1, 1024];"
                f" got {widths!r}"
            )


def _tuple(value: object) -> object:
    """A list or tuple as a tuple; anything else unchanged (rejected by the caller by name)."""
    return tuple(value) if isinstance(value, (list, tuple)) else value


@dataclass(frozen=True)
class TrainConfig:
    """How the models are trained and evaluated."""

    epochs: int = _int(
        150, 1, 10_000, _ui("epochs", "Epochs", "Passes over the training part.", flag="--epochs")
    )  # passes over the training part
    lr: float = _float(
        5e-4,
        1e-6,
        1000.0,
        _ui(
            "lr",
            "Learning rate",
            "The optimizer's step size, on a log scale.",
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
            "Sequence length",
            "Time steps per training sequence (truncated backpropagation through time).",
            flag="--seq-len",
        ),
    )  # time steps per chunk (stateful) or window (windowed)
    mode: str = _choice(
        "stateful",
        "stateful",
        "windowed",
        ui=_ui(
            "mode",
            "Training mode",
            "stateful: contiguous chunks, the hidden state carried from one to the next;"
            " windowed: shuffled windows, each read from a fresh state.",
            widget="radio",
        ),
    )  # carried state vs shuffled windows
    batch_size: int = _int(
        1,
        1,
        1024,
        _ui(
            "batch",
            "Streams / batch",
            "stateful: parallel streams through the training part; windowed: windows per step.",
        ),
    )  # stateful: parallel contiguous streams; windowed: windows
    chunking: str = _choice(
        "overlap",
        "overlap",
        "tutorial",
        ui=_ui(
            "chunking",
            "Chunking",
            "overlap: streams that cover the training part; tutorial: disjoint cuts of"
            " length + 1, exactly as the tutorial does.",
        ),
    )  # tutorial: disjoint seq_len+1 cuts
    eval_state: str = _choice(
        "warm",
        "warm",
        "carried",
        ui=_ui(
            "eval_state",
            "Test state",
            "warm: a fresh state reads the training data before the test forecast;"
            " carried: the state training left.",
        ),
    )  # test forecast state: re-warm or carried
    eval_every: int = _int(
        1,
        1,
        1000,
        _ui("eval_every", "Evaluate every", "Test the models every k epochs (and after the last)."),
    )  # evaluate on the test part every k epochs (and the last)
    lr_schedule: str = _choice(
        "constant",
        "constant",
        "cosine",
        ui=_ui("schedule", "LR schedule", "cosine decays the rate to lr/20."),
    )  # cosine decays to lr/20
    clip_grad: float = _float(
        0.0,
        0.0,
        100.0,
        _ui("clip", "Gradient clipping", "Largest gradient norm; 0 = no clipping.", step=0.5),
    )  # max gradient norm; 0 = no clipping
    standardize: bool = _setting(
        False,
        {},
        _ui(
            "standardize",
            "Standardise",
            "Train on (x - mean) / std of the training part.",
            widget="toggle",
        ),
    )  # train on (x - mean) / std of the training part
    seed: int = _int(
        0, 0, 2**31 - 1, _ui("seed", "Seed", "Seeds the models' initial weights.", flag="--seed")
    )  # numpy and torch seed, set before the models are built
    seeding: str = _choice(
        "run",
        "run",
        "model",
        ui=_ui(
            "seeding",
            "Seeding",
            "run: one seed, then the models built in order (the tutorial's order); model:"
            " each model built under its own seed, from the run's seed and its name, so"
            " changing one model never changes another.",
        ),
    )  # how the seed reaches the models (gru_core.train._SEEDINGS)
    device: str = _choice(
        "auto",
        "auto",
        "cpu",
        "cuda",
        "mps",
        ui=_ui(
            "device",
            "Device",
            "auto picks a GPU only when the run is big enough to profit.",
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
        ui=_ui(
            "kernel",
            "Step kernel",
            "numpy: a whole training step in numpy, faster on the CPU for small one-layer"
            " models; torch everywhere else.",
        ),
    )
    eval_warmup: int = _int(
        1000,
        0,
        MAX_POINTS,
        _ui(
            "eval_warmup",
            "Test warm-up (points)",
            "Training points a fresh state reads before the test forecast ('warm' test state).",
        ),
    )  # training points read before a "warm" test
    slow_motion: float = _float(
        0.0,
        0.0,
        MAX_SLOW_MOTION,
        _ui(
            "slow_motion",
            "setting.slow_motion.label",
            "setting.slow_motion.help",
            flag="--slow-motion",
            step=0.1,
        ),
    )  # least seconds per epoch: training waits, for demos; 0 = off; changes no number

    def __post_init__(self) -> None:
        _validate(self)
        if not isinstance(self.standardize, bool):
            raise ConfigError(f"standardize must be true or false; got {self.standardize!r}")
        if self.chunking == "tutorial" and (self.mode != "stateful" or self.batch_size != 1):
            raise ConfigError("chunking 'tutorial' needs mode 'stateful' and batch_size 1")
        if self.eval_state == "carried" and self.mode != "stateful":
            raise ConfigError("eval_state 'carried' needs mode 'stateful' (windows carry no state)")


@dataclass(frozen=True)
class Preset:
    """A named, complete choice of settings."""

    name: str
    description: str
    data: DataConfig
    model: ModelConfig
    train: TrainConfig
    task: str = "forecast"  # one of TASK_NAMES
    options: dict = field(default_factory=dict)  # the task's own settings (spec.TASK_OPTIONS)


# The window presets train every window at once (batch 240 = the training windows).
_WINDOW_TRAIN = TrainConfig(epochs=100, lr=5e-3, batch_size=240, mode="windowed", seed=42)

PRESETS: dict[str, Preset] = {
    "seed": Preset(
        "seed",
        "The tutorial exactly: one stream, disjoint chunks of 21, Adam 5e-4, 150 epochs.",
        DataConfig(),
        ModelConfig(),
        TrainConfig(chunking="tutorial", eval_state="carried"),
    ),
    "fast": Preset(
        "fast",
        "Reaches the tutorial's GRU test error in a fraction of the time.",
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
        "The window tutorial exactly: 300 windows of 30, target = the window's last point,"
        " GRU(1, 32), Adam 5e-3, 100 full-batch epochs, seed 42.",
        DataConfig(),
        ModelConfig(hidden_size=32),
        _WINDOW_TRAIN,
        "window",
        {"target": "last"},
    ),
    "window": Preset(
        "window",
        "Windows of the tutorial's sines; the target is the value after each window.",
        DataConfig(),
        ModelConfig(hidden_size=32),
        _WINDOW_TRAIN,
        "window",
    ),
    "classify": Preset(
        "classify",
        "Rising or falling at the window's end: a GRU reading the window against an MLP"
        " that sees only its last value; 600 windows of 30, Adam 1e-2, batches of 64.",
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
        "The text tutorial: the Tang poems, d2l's GRU beside nn.GRU, 256 units, SGD at 100,"
        " clipping at 0.01, 160 epochs, samples every 40.",
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
        raise ConfigError(
            f"the test part has {n_test} point(s); it needs at least 2 — lower train_fraction"
        )
    need = train.seq_len + 1
    if n_train < need:
        raise ConfigError(
            f"seq_len {train.seq_len} needs at least {need} training points, but the training part"
            f" has {n_train}; shorten seq_len to at most {n_train - 1} or use more data"
        )
    if train.mode == "stateful" and train.batch_size > (n_train - 1) // train.seq_len:
        most = max(1, (n_train - 1) // train.seq_len)
        raise ConfigError(
            f"batch_size {train.batch_size} streams of seq_len {train.seq_len} need"
            f" {train.batch_size * train.seq_len + 1} training points, the training part has"
            f" {n_train}; use at most {most} streams"
        )
    if n_train <= model.mlp_window:
        raise ConfigError(f"mlp_window {model.mlp_window} must be shorter than the training part")


def split_index(n_points: int, train_fraction: float) -> int:
    """How many leading points of a series of `n_points` form the training part."""
    return round(n_points * train_fraction)
