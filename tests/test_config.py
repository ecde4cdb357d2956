import dataclasses
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gru_core import config
from gru_core.config import (
    MAX_POINTS,
    ConfigError,
    DataConfig,
    ModelConfig,
    TrainConfig,
    bounds,
    check_compatible,
    split_index,
)

CLASSES = (DataConfig, ModelConfig, TrainConfig)
ROOT = Path(__file__).resolve().parent.parent


def fields_with(key: str) -> list[tuple[type, str, dict]]:
    return [
        (cls, f.name, dict(f.metadata))
        for cls in CLASSES
        for f in dataclasses.fields(cls)
        if key in f.metadata
    ]


RANGED = fields_with("range")
CHOICES = fields_with("choices")


def ids(params) -> list[str]:
    return [f"{cls.__name__}.{name}" for cls, name, _ in params]


def rejects(cls: type, name: str, value: object) -> None:
    with pytest.raises(ConfigError, match=rf"^{name} "):
        cls(**{name: value})


def test_every_numeric_field_declares_a_range():
    """So the parametrised tests below cover every number a user can set."""
    numeric = {
        (cls, f.name)
        for cls in CLASSES
        for f in dataclasses.fields(cls)
        if f.type in ("int", "float")
    }
    assert numeric == {(cls, name) for cls, name, _ in RANGED}


@pytest.mark.parametrize(("cls", "name", "meta"), RANGED, ids=ids(RANGED))
def test_numeric_field_rejects_out_of_range(cls, name, meta):
    lo, hi = meta["range"]
    step = 1 if meta.get("integer") else max(abs(lo), abs(hi), 1) * 1e-6
    rejects(cls, name, lo - step)
    rejects(cls, name, hi + step)
    rejects(cls, name, -(10**400))
    rejects(cls, name, 10**400)  # too large for a float: still a ConfigError


@pytest.mark.parametrize(("cls", "name", "meta"), RANGED, ids=ids(RANGED))
def test_numeric_field_rejects_wrong_types(cls, name, meta):
    lo, hi = meta["range"]
    for value in (True, False, str(lo), None, [lo], math.nan, math.inf, np.bool_(True)):
        rejects(cls, name, value)
    if meta.get("integer"):
        rejects(cls, name, lo + 0.5)


@pytest.mark.parametrize(("cls", "name", "meta"), RANGED, ids=ids(RANGED))
def test_numeric_field_accepts_its_bounds_as_plain_python_numbers(cls, name, meta):
    kind = int if meta.get("integer") else float
    for value in meta["range"]:
        given = [value, np.float64(value)] + ([np.int64(value)] if kind is int else [])
        for number in given:
            stored = getattr(cls(**{name: number}), name)
            assert stored == value and type(stored) is kind


@pytest.mark.parametrize(("cls", "name", "meta"), CHOICES, ids=ids(CHOICES))
def test_choice_field_rejects_unknown_values(cls, name, meta):
    for value in ("bogus", "", None, 1, meta["choices"][0].upper()):
        rejects(cls, name, value)


def test_choice_error_lists_the_choices():
    with pytest.raises(ConfigError, match="mode must be one of stateful, windowed; got 'x'"):
        TrainConfig(mode="x")


def test_models_must_be_distinct_known_kinds():
    assert ModelConfig(models=["mlp", "gru"]).models == ("mlp", "gru")
    for bad in [(), ("gru", "gru"), ("lstm9",), "gru"]:
        with pytest.raises(ConfigError, match=r"^models must be distinct kinds from gru, mlp"):
            ModelConfig(models=bad)


@pytest.mark.parametrize(
    "widths",
    [(), (0,), (1025,), (True,), (1.5,), ("32",), (8,) * 5, 5, "32", None, (32, -1)],
)
def test_mlp_hidden_rejects_bad_widths(widths):
    rejects(ModelConfig, "mlp_hidden", widths)


def test_mlp_hidden_is_stored_as_a_tuple():
    assert ModelConfig(mlp_hidden=[64]).mlp_hidden == (64,)
    assert ModelConfig(mlp_hidden=(1, 1024, 2, 3)).mlp_hidden == (1, 1024, 2, 3)


@pytest.mark.parametrize("value", ["yes", 1, 0, None, np.bool_(True)])
def test_standardize_must_be_a_bool(value):
    rejects(TrainConfig, "standardize", value)


def test_tutorial_chunking_needs_one_stateful_stream():
    with pytest.raises(ConfigError, match="chunking 'tutorial' needs mode 'stateful'"):
        TrainConfig(chunking="tutorial", batch_size=2)
    with pytest.raises(ConfigError, match="chunking 'tutorial' needs mode 'stateful'"):
        TrainConfig(chunking="tutorial", mode="windowed")


def test_carried_eval_state_needs_stateful_mode():
    with pytest.raises(ConfigError, match="eval_state 'carried' needs mode 'stateful'"):
        TrainConfig(eval_state="carried", mode="windowed")


def test_numbers_are_normalised_to_plain_python_types():
    cfg = DataConfig(points=np.int64(500), periods=3, seed=7.0)
    assert (cfg.points, cfg.periods, cfg.seed) == (500, 3.0, 7)
    assert (type(cfg.points), type(cfg.periods), type(cfg.seed)) == (int, float, int)


def test_defaults_are_valid_and_compatible():
    data, model, train = DataConfig(), ModelConfig(), TrainConfig()
    check_compatible(data.points, data.train_fraction, model, train)


def test_presets_are_valid_and_compatible():
    assert {"seed", "fast"} <= set(config.PRESETS)
    for name, preset in config.PRESETS.items():
        assert preset.name == name and preset.description
        check_compatible(preset.data.points, preset.data.train_fraction, preset.model, preset.train)


def test_seed_preset_is_the_tutorial():
    seed = config.PRESETS["seed"]
    assert dataclasses.astuple(seed.data) == (1000, 5.0, 0.1, 42, 0.8)
    assert (seed.model.models, seed.model.hidden_size, seed.model.num_layers) == (
        ("gru", "mlp"),
        16,
        1,
    )
    assert (seed.model.mlp_hidden, seed.model.mlp_window) == ((32, 16), 1)
    train = seed.train
    assert (train.epochs, train.lr, train.seq_len, train.batch_size) == (150, 5e-4, 20, 1)
    assert (train.mode, train.chunking, train.eval_state) == ("stateful", "tutorial", "carried")
    assert (train.standardize, train.clip_grad, train.seed) == (False, 0.0, 0)


def test_importing_config_loads_no_torch_and_models_first_works():
    """config and models no longer import each other: config is torch-free."""
    code = (
        "import sys, gru_core.config; assert 'torch' not in sys.modules;"
        " import gru_core.models; from gru_core.config import PRESETS; print(sorted(PRESETS))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['classify', 'fast', 'seed', 'seed003', 'seed004', 'window']"


def test_every_setting_is_declared_once_with_its_widget_and_help():
    declared = config.settings()
    assert list(declared)[:7] == [
        "models",
        "hidden",
        "layers",
        "dropout",
        "match_params",
        "mlp_hidden",
        "mlp_window",
    ]
    for key, s in declared.items():
        assert s.label and s.help and s.widget in config.WIDGETS, key
        cls = ModelConfig if s.section == "model" else TrainConfig
        field = next(f for f in dataclasses.fields(cls) if f.name == s.name)
        choices = field.metadata.get("choices", field.metadata.get("options"))
        assert s.range == field.metadata.get("range") and s.choices == choices
    assert declared["lr"].flag == "--lr" and declared["mode"].choices == ("stateful", "windowed")
    assert declared["models"].choices == tuple(config.MODEL_KINDS)
    assert declared["models"].widget == "multiselect"


@pytest.mark.parametrize("cfg", [DataConfig(), ModelConfig(), TrainConfig()], ids=str)
def test_configs_are_frozen(cfg):
    name = dataclasses.fields(cfg)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(cfg, name, getattr(cfg, name))


def test_replace_validates_again():
    with pytest.raises(ConfigError, match="^hidden_size "):
        dataclasses.replace(ModelConfig(), hidden_size=0)


def test_bounds_mirror_the_fields():
    assert bounds(DataConfig, "points") == (50, MAX_POINTS)
    assert bounds(TrainConfig, "lr") == (1e-6, 1000.0)


def test_data_min_points_matches_the_config_bound():
    from gru_core.data import MIN_POINTS

    assert bounds(DataConfig, "points")[0] == MIN_POINTS


# --- check_compatible ------------------------------------------------------------------


def test_seq_len_longer_than_the_training_part():
    # 100 points at 0.8: 80 to train, so seq_len 79 is the longest that fits.
    check_compatible(100, 0.8, ModelConfig(), TrainConfig(seq_len=79))
    with pytest.raises(ConfigError, match="seq_len 80 needs at least 81 training points"):
        check_compatible(100, 0.8, ModelConfig(), TrainConfig(seq_len=80))
    with pytest.raises(ConfigError, match=re.escape("shorten seq_len to at most 79")):
        check_compatible(100, 0.8, ModelConfig(), TrainConfig(seq_len=500))


def test_more_streams_than_the_training_part_holds():
    # 80 training points, seq_len 20: (80 - 1) // 20 = 3 streams at most.
    check_compatible(100, 0.8, ModelConfig(), TrainConfig(batch_size=3))
    with pytest.raises(ConfigError, match="batch_size 4 streams.*use at most 3 streams"):
        check_compatible(100, 0.8, ModelConfig(), TrainConfig(batch_size=4))
    with pytest.raises(ConfigError, match="use at most 1 streams"):
        check_compatible(50, 0.5, ModelConfig(), TrainConfig(batch_size=1000))


def test_windowed_mode_is_not_limited_by_streams():
    check_compatible(100, 0.8, ModelConfig(), TrainConfig(mode="windowed", batch_size=1024))


def test_test_part_too_short():
    with pytest.raises(ConfigError, match="test part has 1 point.*lower train_fraction"):
        check_compatible(20, 0.95, ModelConfig(), TrainConfig(seq_len=2))


def test_mlp_window_longer_than_the_training_part():
    with pytest.raises(ConfigError, match="mlp_window 64 must be shorter"):
        check_compatible(60, 0.8, ModelConfig(mlp_window=64), TrainConfig(seq_len=2))


def test_split_index():
    assert split_index(1000, 0.8) == 800
    assert split_index(101, 0.5) == 50  # rounds half to even
    assert isinstance(split_index(np.int64(10), 0.5), int)
