"""Run specs: validated without torch, JSON both ways, the same run when read back."""

import json
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gru_core.config import ConfigError, DataConfig, ModelConfig, TrainConfig
from gru_core.data import make_sine
from gru_core.spec import Dataset, ModelSpec, RunSpec, model_specs, spec_for

ROOT = Path(__file__).resolve().parents[1]


def _plain(obj) -> bool:
    """Whether `obj` is made of JSON's own types only."""
    if isinstance(obj, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in obj.items())
    if isinstance(obj, list):
        return all(_plain(v) for v in obj)
    return obj is None or isinstance(obj, (str, int, float, bool))


@pytest.mark.parametrize("generated", [True, False])
def test_to_dict_is_plain_json_and_from_dict_reads_it_back(generated):
    cfg = DataConfig(points=300, periods=3)
    series = make_sine(cfg)
    data = Dataset(series, 0.8, "s", sine=cfg if generated else None)
    spec = RunSpec.of(data, ModelConfig(hidden_size=5, mlp_hidden=(4, 3)), TrainConfig(lr=0.01))
    d = spec.to_dict()
    assert _plain(d)
    assert ("sine" in d["data"]) == generated and ("values" in d["data"]) != generated
    back = RunSpec.from_dict(json.loads(json.dumps(d)))
    assert back.models == spec.models and back.train == spec.train and back.task == "forecast"
    assert np.array_equal(back.data.series, series) and back.data.train_fraction == 0.8
    assert back.to_dict() == d
    again = pickle.loads(pickle.dumps(spec))  # what travels to a training process
    assert again.models == spec.models and np.array_equal(again.data.series, series)


def test_from_dict_validates_every_field():
    d = spec_for(make_sine(DataConfig(points=300)), 0.8).to_dict()
    d["train"]["lr"] = 5000.0  # above the text task's 1000
    with pytest.raises(ConfigError, match="^lr "):
        RunSpec.from_dict(d)
    d["train"]["lr"] = 0.01
    d["models"][0]["kind"] = "transformer"
    with pytest.raises(ConfigError, match="model kind must be one of gru, mlp"):
        RunSpec.from_dict(d)


def test_model_specs_follow_the_configs_order_and_sizes():
    gru, mlp = model_specs(ModelConfig(hidden_size=7, num_layers=2, mlp_window=3))
    assert (gru.name, gru.kind, gru.hidden_size, gru.num_layers) == ("gru", "gru", 7, 2)
    assert (mlp.name, mlp.kind, mlp.mlp_window) == ("mlp", "mlp", 3)
    assert [m.name for m in model_specs(ModelConfig(models=("mlp", "gru")))] == ["mlp", "gru"]
    assert ModelSpec("slow_gru", "gru").label == "slow_gru" and gru.label == "GRU"


def test_validate_refuses_runs_that_cannot_train():
    series = make_sine(DataConfig(points=100))
    with pytest.raises(ConfigError, match="seq_len 200"):
        spec_for(series, 0.8, train=TrainConfig(seq_len=200)).validate()
    twice = RunSpec(
        Dataset(series, 0.8, "s"), (ModelSpec("a", "gru"), ModelSpec("a", "mlp")), TrainConfig()
    )
    with pytest.raises(ConfigError, match="distinct names"):
        twice.validate()
    with pytest.raises(ConfigError, match="task must be one of forecast"):
        spec_for(series, 0.8, task="poetry").validate()
    with pytest.raises(ConfigError, match="plain identifier"):
        ModelSpec("gru/1", "gru")


def test_specs_are_made_and_checked_without_torch():
    code = (
        "import sys; from gru_core.spec import spec_for; from gru_core.data import make_sine;"
        " from gru_core.config import DataConfig;"
        " spec_for(make_sine(DataConfig()), 0.8).validate(); print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_a_datasets_timestamps_go_through_json_and_must_match_its_length():
    from gru_core.config import ConfigError
    from gru_core.spec import Dataset

    series = np.sin(np.arange(60) / 4)
    hours = np.arange(60) * np.timedelta64(90, "m") + np.datetime64("2024-05-01T06:00")
    data = Dataset(series, 0.8, "temps", "upload", times=hours.astype("datetime64[ns]"))
    d = data.to_dict()
    assert d["times"][:2] == ["2024-05-01T06:00:00", "2024-05-01T07:30:00"]
    back = Dataset.from_dict(json.loads(json.dumps(d)))
    np.testing.assert_array_equal(back.times, data.times)
    fine = data.times + np.timedelta64(250, "ms")  # sub-second times keep their milliseconds
    again = Dataset.from_dict(Dataset(series, 0.8, "t", "upload", times=fine).to_dict())
    np.testing.assert_array_equal(again.times, fine)
    assert Dataset.from_dict(Dataset(series, 0.8, "t", "upload").to_dict()).times is None
    with pytest.raises(ConfigError, match="one timestamp per value; got 59 for 60"):
        Dataset(series, 0.8, "t", "upload", times=data.times[:-1])
