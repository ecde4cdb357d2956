"""Where training runs: `auto` prefers cuda, then mps, then the CPU.

`choose` also says why, so the UI can tell the user. On a GPU, recurrent models
of the sizes GRU Lab trains lose to the CPU's numpy kernels: each time step is a
few kernel launches that cost more than the arithmetic. Measured on an H200
(BENCHMARKS.md, section 5), the GPU won only at hidden 512, whatever the number of
streams, so `auto` keeps runs below `GPU_MIN_HIDDEN` units on the CPU.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from gru_core.config import ConfigError
from gru_core.i18n import t

# Hidden size below which a GPU is not worth its launch overhead (benchmarks/gpu.py on an
# H200: CPU faster at 16, 64 and 256 units with 2 or 64 streams, GPU faster at 512).
GPU_MIN_HIDDEN = 512


@dataclass(frozen=True)
class DeviceChoice:
    device: torch.device
    reason_key: str  # why this device, as a key of the string tables
    values: tuple[tuple[str, object], ...] = ()  # the text's placeholders

    @property
    def reason(self) -> str:
        """Why this device, in the language of whoever reads it (a job thread has none)."""
        return t(self.reason_key, **dict(self.values))


def available() -> list[str]:
    """Device names usable in this process, best first."""
    names = []
    if torch.cuda.is_available():
        names.append("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        names.append("mps")
    names.append("cpu")
    return names


def choose(name: str = "auto", hidden_size: int = 16, batch_size: int = 1) -> DeviceChoice:
    """Resolve a device name; `auto` weighs the model's size against GPU overhead.

    `batch_size` is accepted for callers that know it; measured, it did not move the
    crossover (BENCHMARKS.md, section 5).
    """
    names = available()
    if name != "auto":
        if name not in names:
            raise ConfigError(t("device.unavailable", name=repr(name), names=", ".join(names)))
        return DeviceChoice(torch.device(name), "device.asked", (("name", name),))
    accel = names[0]
    if accel == "cpu":
        return DeviceChoice(torch.device("cpu"), "device.no_gpu")
    if hidden_size < GPU_MIN_HIDDEN:
        return DeviceChoice(
            torch.device("cpu"),
            "device.too_small",
            (("accel", accel), ("hidden", hidden_size), ("most", GPU_MIN_HIDDEN)),
        )
    return DeviceChoice(torch.device(accel), "device.large", (("accel", accel),))
