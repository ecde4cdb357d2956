"""Polling with a deadline, for tests that watch something happen in another thread or process."""

import time


def wait_for(predicate, timeout: float, step: float = 0.01) -> bool:
    """Poll `predicate` until it is true (True) or `timeout` seconds pass (False)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(step)
    return False
