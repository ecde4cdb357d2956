import pytest

from gru_core import device as devices
from gru_core.config import ConfigError


def test_auto_without_an_accelerator_is_the_cpu(monkeypatch):
    monkeypatch.setattr(devices, "available", lambda: ["cpu"])
    choice = devices.choose("auto", 512, 64)
    assert choice.device.type == "cpu" and "no GPU" in choice.reason


@pytest.mark.parametrize(
    ("hidden", "streams", "expected"),
    # The measured crossover (BENCHMARKS.md, section 5): the old hidden x streams rule
    # sent 64 x 64 and 256 x 64 to the GPU, where they were slower, and kept 512 x 2 off it.
    [(16, 2, "cpu"), (64, 64, "cpu"), (256, 64, "cpu"), (511, 1024, "cpu"), (512, 2, "cuda")],
)
def test_auto_sends_only_large_hidden_sizes_to_the_gpu(monkeypatch, hidden, streams, expected):
    monkeypatch.setattr(devices, "available", lambda: ["cuda", "cpu"])
    choice = devices.choose("auto", hidden, streams)
    assert choice.device.type == expected
    if expected == "cpu":
        assert "cuda is available" in choice.reason and str(hidden) in choice.reason


def test_a_named_device_that_is_missing_is_refused_with_the_choices(monkeypatch):
    monkeypatch.setattr(devices, "available", lambda: ["cpu"])
    with pytest.raises(ConfigError, match="available: cpu"):
        devices.choose("cuda")
