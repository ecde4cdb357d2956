"""A real app server and browser settings, shared by the browser tests and the scripts.

`AppServer` runs `streamlit run app.py` on a free local port and waits for its
health endpoint; `chromium_path` finds a system Chromium for Playwright to drive
(browser downloads are not needed: Debian's `chromium` package will do).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from gru_app.loading import KEY as LOADING

ROOT = Path(__file__).resolve().parents[1]

# In the page: the script has finished and the app is whole (not the first page a fresh
# server draws while its engine loads).
APP_READY_JS = (
    "() => { const a = document.querySelector(\"[data-testid='stApp']\");"
    " return a && a.getAttribute('data-test-script-state') === 'notRunning'"
    f" && !document.querySelector('.st-key-{LOADING}'); }}"
)
ARTIFACTS = ROOT / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def chromium_path() -> str | None:
    for candidate in (
        os.environ.get("GRU_LAB_CHROMIUM"),
        "/usr/bin/chromium",
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
        shutil.which("google-chrome"),
    ):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def streamlit_command(port: int, args: list[str] | None = None) -> list[str]:
    """`streamlit run app.py` on `port` of this machine only, headless, with `args` added."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "app.py",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        *(args or []),
    ]


class AppServer:
    """`streamlit run app.py` in a child process; stopped on close."""

    def __init__(self, env: dict[str, str] | None = None, args: list[str] | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.log_path = ARTIFACTS / f"server-{self.port}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115  closed in close()
        self.proc = subprocess.Popen(
            streamlit_command(self.port, args),
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._wait_healthy()

    def _wait_healthy(self, timeout: float = 60) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited: {self.log_path.read_text()[-2000:]}")
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r,
            ):
                if r.status == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"streamlit did not become healthy in {timeout} s")

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self._log.close()

    def __enter__(self) -> AppServer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
