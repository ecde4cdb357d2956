"""The fork server that CPU training processes start from; importable before torch is.

Training children on Linux are forks of one clean, single-threaded fork server that has
imported torch and the training code once, so a run starts in hundredths of a second.
That server takes seconds to import torch, in a process of its own: this module lets a
server start it first thing, before it imports torch itself, so both import side by side
and a first run, however soon it is asked for, finds the server ready or nearly so.
Nothing here imports torch; `gru_core.process_job` forks its children from `FORK`.
"""

from __future__ import annotations

import multiprocessing
import sys

# CPU runs on Linux: forks of the fork server, which preloads these modules
# (torch._dynamo is what torch imports when the first optimizer is built, about 2 s, in
# every child otherwise). GPU runs, and other systems (where forking after torch is
# loaded is not safe): a fresh interpreter, a few seconds to start.
USE_FORKSERVER = sys.platform.startswith("linux")
FORK = multiprocessing.get_context("forkserver" if USE_FORKSERVER else "spawn")
FRESH = multiprocessing.get_context("spawn")
PRELOAD = ("gru_core.process_job", "gru_core.tasks.forecast", "torch._dynamo")
if USE_FORKSERVER:
    FORK.set_forkserver_preload(list(PRELOAD))


def warm() -> None:
    """Start the fork server now (it imports torch: seconds) rather than on the first run."""
    if USE_FORKSERVER:
        from multiprocessing import forkserver

        forkserver.ensure_running()
