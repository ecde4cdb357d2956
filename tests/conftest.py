import io
import os

import numpy as np
import pytest


@pytest.fixture(scope="session", autouse=True)
def _private_home(tmp_path_factory):
    """Workspaces the tests create live in a temporary GRU_LAB_HOME, never the user's."""
    os.environ["GRU_LAB_HOME"] = str(tmp_path_factory.mktemp("gru_lab_home"))


def _tutorial_csv() -> bytes:
    """The tutorial's own code, verbatim, writing its sindata_1000.csv (to memory)."""
    state = np.random.get_state()  # the tutorial seeds numpy's global generator
    try:
        np.random.seed(42)
        x = np.linspace(0, 10 * np.pi, 1000)
        y = np.sin(x) + np.random.normal(0, 0.1, 1000)
        buffer = io.BytesIO()
        np.savetxt(buffer, y, fmt="%.6f")
    finally:
        np.random.set_state(state)
    return buffer.getvalue()


@pytest.fixture(scope="session")
def tutorial_csv() -> bytes:
    """The bytes of the tutorial's sindata_1000.csv, produced by the tutorial's code."""
    return _tutorial_csv()


@pytest.fixture(scope="session")
def tutorial_series(tutorial_csv: bytes) -> np.ndarray:
    """The 1,000 values the tutorial trains on: its CSV read back with np.loadtxt."""
    return np.loadtxt(io.BytesIO(tutorial_csv))
