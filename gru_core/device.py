"""Where training runs: `auto` prefers cuda, then mps, then the CPU.

`choose` also says why, so the UI can tell the user. On a GPU, tiny recurrent
models lose to the CPU: each time step is a kernel launch that costs more than
the arithmetic. `auto` therefore keeps small runs on the CPU (threshold in
`GPU_MIN_WORK`, see BENCHMARKS.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from gru_core.config import ConfigError

# hidden_size * batch_size below which a GPU is not worth its launch overhead.
GPU_MIN_WORK = 64 * 64


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
    """Resolve a device name; `auto` weighs the run's size against GPU overhead."""
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
    work = hidden_size * batch_size
    if work < GPU_MIN_WORK:
        return DeviceChoice(
            torch.device("cpu"),
            f"{accel} is available, but hidden {hidden_size} x batch {batch_size} is too small"
            " to pay for GPU launch overhead; the CPU is faster here",
        )
    return DeviceChoice(torch.device(accel), f"{accel}: large enough run to benefit from the GPU")
