"""Shared pieces of the benchmark scripts: running the CLI, medians, the machine's description.

Every benchmark follows one protocol: a warm-up run that is thrown away, then several
rounds in which the things compared run one after the other (alternating their order
from round to round), and medians. Ratios are taken within one run of a script, never
between numbers measured at different times, because the machines these run on are
often shared and their speed drifts.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_json(args: list[str], timeout: float = 900, cwd: Path = ROOT) -> dict:
    """Run `python -m ...args` in the project root (or `cwd`); the JSON on stdout's last line."""
    proc = subprocess.run(
        [sys.executable, "-m", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def median(values) -> float:
    return float(statistics.median(values))


def load_average() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "n/a"


def machine() -> dict:
    """What the numbers were taken on."""
    import numpy as np
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        import psutil

        memory = f"{psutil.virtual_memory().total / 2**30:.0f} GiB"
    except ImportError:
        memory = "n/a"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": memory,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "load_average_at_start": load_average(),
    }


def print_machine(info: dict) -> None:
    gpu = info["cuda"] or "none"
    print(
        f"machine: {info['cpu']}, {info['cores']} cores, {info['memory']} RAM, GPU {gpu};"
        f" python {info['python']}, torch {info['torch']}, numpy {info['numpy']};"
        f" load average {info['load_average_at_start']} (1, 5, 15 min) at start"
    )
