"""Regenerate the README's screenshots: start the app, drive every page in Chromium, save PNGs.

    python scripts/screenshots.py [--out assets/screenshots] [--browser PATH] [--full]

Starts its own Streamlit server on a free port (and stops it), trains with the
one-click defaults, waits for the run to finish, then visits each page. Needs
the Python `playwright` package and a Chromium (the system one by default).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

from playwright.sync_api import Page, sync_playwright

if __package__ in (None, ""):  # run as a file: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.harness import APP_READY_JS, CHROMIUM_ARGS, ROOT, AppServer, chromium_path  # noqa: E402

VIEWPORT = {"width": 1400, "height": 900}
TALL = {"train": 1080}  # the Train page's metric cards sit below its chart


def settle(page: Page, seconds: float = 1.5) -> None:
    """Wait until the app is whole, its script has stopped and its charts have drawn."""
    page.wait_for_function(APP_READY_JS, timeout=60_000)  # a fresh server: the engine too
    time.sleep(seconds)


def open_page(page: Page, name: str, status: str | None = None) -> None:
    """Open a page from the sidebar; check that its sidebar shows the run's `status`."""
    page.locator('[data-testid="stSidebarNav"]').get_by_text(name, exact=True).click()
    settle(page)
    if status is not None:
        sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
        if status not in sidebar:
            raise RuntimeError(f"the {name} page's sidebar does not say {status!r}")


def shoot(page: Page, path: Path, full: bool) -> None:
    """A screenshot of the viewport, or with `full` of the whole (scrolling) page."""
    if not full:
        height = TALL.get(path.stem)
        if height:
            page.set_viewport_size({"width": VIEWPORT["width"], "height": height})
            time.sleep(1.5)
        page.screenshot(path=path)
        page.set_viewport_size(VIEWPORT)
        return
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": VIEWPORT["width"], "height": max(VIEWPORT["height"], height)})
    time.sleep(1.5)  # charts redraw at the new size
    page.screenshot(path=path)
    page.set_viewport_size(VIEWPORT)


def wait_for_run(page: Page, timeout: float) -> None:
    """Wait until the sidebar's status badge no longer says the run is going."""
    sidebar = page.locator('[data-testid="stSidebar"]')
    deadline = time.time() + timeout
    while time.time() < deadline:
        text = sidebar.inner_text()
        if "running" not in text and "queued" not in text:
            return
        time.sleep(1)
    raise RuntimeError(f"the training run did not finish within {timeout:.0f} s")


def memory_shot(page: Page, path: Path, timeout: float) -> None:
    """Train MLP, RNN, LSTM and GRU together (the fast preset), then shoot the Memory page
    at 1280x720, the size of a projector."""
    open_page(page, "Train")
    for label in ("RNN", "LSTM"):
        page.locator(".st-key-models input").first.click()
        page.get_by_role("option", name=label, exact=True).click()
        settle(page, 0.5)
        page.keyboard.press("Escape")
    page.locator(".st-key-train_start button").first.click()
    settle(page, 2)
    wait_for_run(page, timeout)
    open_page(page, "Memory", "finished")
    page.set_viewport_size({"width": 1280, "height": 720})
    time.sleep(2)
    page.screenshot(path=path)
    page.set_viewport_size(VIEWPORT)


def presenter_shot(browser, url: str, path: Path, timeout: float) -> None:
    """The Train page in presenter mode (?present=1) after a run, at 1920x1080."""
    page = browser.new_page(viewport={"width": 1920, "height": 1080}, device_scale_factor=1)
    page.goto(f"{url}/?present=1")
    page.get_by_role("button", name="Train with defaults").click(timeout=120_000)
    page.wait_for_url(lambda u: urlparse(u).path.rstrip("/") == "/train", timeout=60_000)
    main = page.locator('[data-testid="stMain"]')
    deadline = time.time() + timeout
    while "finished" not in main.inner_text():
        if time.time() > deadline:
            raise RuntimeError(f"the training run did not finish within {timeout:.0f} s")
        time.sleep(1)
    settle(page, 2)
    page.mouse.move(0, 0)  # no hover label over the chart
    page.screenshot(path=path)
    page.close()


def set_number(page: Page, key: str, value: float) -> None:
    box = page.locator(f".st-key-{key} input").first
    box.fill(str(value))
    box.press("Enter")
    settle(page, 0.5)


def text_samples_shot(page: Page, path: Path, timeout: float, epochs: int = 8) -> None:
    """Train the text task on the Tang poems (seed003 with 64 units, a sample every 2
    epochs) and shoot the Results page's samples while it trains, `epochs` epochs in."""
    from gru_core.views.tasks import TASK_LABELS

    open_page(page, "Data")
    page.locator(".st-key-task input").first.click()
    page.get_by_role("option", name=TASK_LABELS["text"]).click()
    settle(page)
    open_page(page, "Train")
    page.get_by_text("More settings").click()  # the expander that holds "Evaluate every"
    settle(page, 0.5)
    for key, value in (("hidden", 64), ("epochs", 40), ("eval_every", 2)):
        set_number(page, key, value)
    page.locator(".st-key-train_start button").first.click()
    settle(page, 2)
    open_page(page, "Results")
    deadline = time.time() + timeout
    while page.get_by_text(f"Epoch {epochs}", exact=True).count() == 0:
        if time.time() > deadline:
            raise RuntimeError(f"no samples of epoch {epochs} within {timeout:.0f} s")
        time.sleep(1)
    settle(page, 2)
    page.screenshot(path=path)


def sweep_shot(page: Page, path: Path, timeout: float) -> None:
    """The Sweep page after its default sweep, at 1920x1080: settings and heatmap side by
    side (narrower, the heatmap goes below the settings)."""
    page.set_viewport_size({"width": 1920, "height": 1080})
    open_page(page, "Sweep")
    page.locator(".st-key-sweep_start button").first.click()
    main = page.locator('[data-testid="stMain"]')
    deadline = time.time() + timeout
    while not re.search(r"(\d+) of \1 runs done", main.inner_text()):
        if time.time() > deadline:
            raise RuntimeError(f"the sweep did not finish within {timeout:.0f} s")
        time.sleep(1)
    settle(page, 2)
    page.mouse.move(0, 0)
    page.screenshot(path=path)
    page.set_viewport_size(VIEWPORT)


SINGLE = {  # --only NAME: one screenshot, from a fresh session
    "memory": memory_shot,
    "text": text_samples_shot,
    "sweep": sweep_shot,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "assets" / "screenshots"))
    parser.add_argument("--browser", default=chromium_path(), help="a Chromium executable")
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for training")
    parser.add_argument("--full", action="store_true", help="whole pages, not just the viewport")
    parser.add_argument("--only", choices=[*SINGLE, "presenter"], help="just this one screenshot")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    with AppServer() as server, sync_playwright() as p:
        url = server.url
        browser = p.chromium.launch(executable_path=args.browser, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=VIEWPORT, device_scale_factor=1)
        page.set_default_timeout(90_000)  # a loaded machine can take a while to redraw
        page.goto(url)
        settle(page)
        if args.only == "presenter":
            presenter_shot(browser, url, out / "presenter.png", args.timeout)
        elif args.only:
            name = {"text": "text_samples"}.get(args.only, args.only)
            SINGLE[args.only](page, out / f"{name}.png", args.timeout)
        if args.only:
            browser.close()
            print(f"screenshot in {out}")
            return
        open_page(page, "Data", "no run yet")
        open_page(page, "Overview", "no run yet")
        page.get_by_role("button", name="Train with defaults").click()
        page.wait_for_url(lambda u: urlparse(u).path.rstrip("/") == "/train", timeout=30_000)
        settle(page, 4)
        if args.full:
            shoot(page, out / "train_running.png", False)
        wait_for_run(page, args.timeout)
        settle(page, 2)
        shoot(page, out / "train.png", args.full)

        for name in ("Gates", "Rollouts", "Data", "Overview"):
            open_page(page, name, "finished")
            shoot(page, out / f"{name.lower()}.png", args.full and name != "Data")
        memory_shot(page, out / "memory.png", args.timeout)
        sweep_shot(page, out / "sweep.png", args.timeout)
        page.goto(url)  # a new session: the text run beside the others
        settle(page)
        text_samples_shot(page, out / "text_samples.png", args.timeout)
        presenter_shot(browser, url, out / "presenter.png", args.timeout)
        browser.close()
    print(f"screenshots in {out}")


if __name__ == "__main__":
    main()
