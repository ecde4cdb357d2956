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

# Hidden size below which a GPU is not worth its launch overhead (benchmarks/gpu.py on an
# H200: CPU faster at 16, 64 and 256 units with 2 or 64 streams, GPU faster at 512).
GPU_MIN_HIDDEN = 512


@dataclass(frozen=True)
class DeviceChoice:
    device: torch.device
    reason: str


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
            raise ConfigError(
                f"device {name!r} is not available here; available: {', '.join(names)}"
            )
        return DeviceChoice(torch.device(name), f"{name} was asked for")
    accel = names[0]
    if accel == "cpu":
        return DeviceChoice(torch.device("cpu"), "no GPU found, using the CPU")
    if hidden_size < GPU_MIN_HIDDEN:
        return DeviceChoice(
            torch.device("cpu"),
            f"{accel} is available, but {hidden_size} hidden units are too few to pay for GPU"
            f" launch overhead (the GPU wins from {GPU_MIN_HIDDEN}); the CPU is faster here",
        )
    return DeviceChoice(torch.device(accel), f"{accel}: large enough run to benefit from the GPU")
