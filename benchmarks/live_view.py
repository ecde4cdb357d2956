"""What watching costs: training throughput with the Train page open and polling, vs headless.

The same run (the `fast` preset, `--epochs` epochs, no target) is trained

- headless: `python -m gru_core train --preset fast --epochs N --json`, epochs over its
  `train_seconds`;
- live: in `streamlit run app.py` (a fresh server on a free port, `scripts.harness.AppServer`,
  as the browser tests start it), started from the Train
  page in Chromium, which stays open and polls (loss chart, metric cards, sidebar status)
  until the run finishes. Throughput is the slope of the page's own progress readout
  ("Epoch n / N") against the clock, fitted by least squares over the middle 80% of the
  run, so the page's polling delay cancels out; the run's own "N epochs in X s" is
  printed beside it.

The two alternate (headless, live, live, headless, ... for `--rounds`), and the ratio of
the medians is the answer: at least 0.8 is the target. Then, with a run going, the page
is switched Data -> Gates -> Rollouts -> Overview -> Train a few times and each switch is
timed until the new page's script has finished: how responsive the dashboard stays.

`--streamlit-option NAME=VALUE` (repeatable) passes a setting to `streamlit run` on top of
.streamlit/config.toml, to measure what it changes. `--points N` trains on a sine of N
points (200 a period, generated on the Data page and, for the headless runs, written to a
CSV with `python -m gru_core data`).

    python -m benchmarks.live_view [--epochs 1500] [--rounds 2] [--points 1000] [--pin]
                                   [--streamlit-option NAME=VALUE] [--chromium PATH] [--json F]

By default server, training and browser share the machine's cores, as on a laptop running
both. `--pin` puts the server (and the headless runs) on the first CPU and the browser on
the rest: the app's own cost, as when the browser runs on the visitor's machine.

Needs Playwright (requirements-dev.txt) and a Chromium; Debian's is used as is.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlparse

from benchmarks.common import ROOT, load_average, machine, median, print_machine, run_json
from scripts.harness import APP_READY_JS, CHROMIUM_ARGS, AppServer, chromium_path

PROGRESS = re.compile(r"Epoch (\d+) / (\d+)")
PERIOD = 200  # points per sine period, as in the tutorial's series
READ_EVERY = 0.25  # seconds between readings of the page's progress text


def headless(epochs: int, data: str | None) -> float:
    """Epochs per second of the CLI run."""
    args = ["gru_core", "train", "--preset", "fast", "--epochs", str(epochs), "--json"]
    r = run_json(args + (["--data", data] if data else []))
    return r["epochs"] / r["train_seconds"]


def wait_for_script(page, timeout: float = 60_000) -> None:
    """Wait until the page is connected, its script has finished and the app is whole."""
    page.locator("[data-testid='stApp'][data-test-connection-state='CONNECTED']").wait_for(
        timeout=timeout
    )
    page.wait_for_function(APP_READY_JS, timeout=timeout)


def _progress(page) -> tuple[int, int] | None:
    """(epoch, epochs) from the progress bars' text (the freshest of the page's and the
    sidebar's), or None before one shows."""
    shown = [
        (int(match.group(1)), int(match.group(2)))
        for text in page.locator("[data-testid='stProgress']").all_inner_texts()
        if (match := PROGRESS.search(text))
    ]
    return max(shown) if shown else None


def _slope(points: list[tuple[float, int]]) -> float:
    """Least-squares epochs per second through (time, epoch) readings."""
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_e = sum(e for _, e in points) / n
    num = sum((t - mean_t) * (e - mean_e) for t, e in points)
    den = sum((t - mean_t) ** 2 for t, _ in points)
    return num / den


def _go(page, title: str) -> float:
    """Switch page through the sidebar; seconds until the new page's script has finished."""
    start = time.monotonic()
    page.locator("[data-testid='stSidebarNav']").get_by_role("link", name=title).click()
    path = "" if title == "Overview" else title.lower()
    page.wait_for_url(lambda url: urlparse(url).path.rstrip("/") == f"/{path}".rstrip("/"))
    wait_for_script(page)
    return time.monotonic() - start


def _set_number(page, key: str, value: float) -> None:
    box = page.locator(f".st-key-{key} input")
    box.fill(str(value))
    box.press("Enter")
    wait_for_script(page)


def _start(browser, url: str, epochs: int, points: int):
    """A fresh session on the Train page with a run of `epochs` started on `points` points."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.goto(url)
    wait_for_script(page)
    if points != 1000:
        _go(page, "Data")
        _set_number(page, "points", points)
        _set_number(page, "periods", points / PERIOD)
    _go(page, "Train")
    page.locator(".st-key-preset").wait_for()
    _set_number(page, "epochs", epochs)
    page.locator(".st-key-train_start button").first.click()
    return context, page


def live(browser, url: str, epochs: int, points: int) -> tuple[float, str]:
    """Epochs per second of a run started and watched on the Train page; and its summary."""
    context, page = _start(browser, url, epochs, points)
    try:
        readings: list[tuple[float, int]] = []
        last = -1
        deadline = time.monotonic() + 3600
        while time.monotonic() < deadline:
            now = time.monotonic()
            shown = _progress(page)
            if shown is not None and shown[0] != last:
                last = shown[0]
                readings.append((now, last))
                if last >= epochs:
                    break
            # The page redraws once a second; reading it much more often would make this
            # script's own browser traffic a cost of the run it measures.
            time.sleep(READ_EVERY)
        else:
            raise RuntimeError("the live run did not finish within an hour")
        middle = [(t, e) for t, e in readings if 0.1 * epochs <= e <= 0.9 * epochs]
        if len(middle) < 5:  # a warm-up run, or one too short to measure
            return float("nan"), f"{len(readings)} readings, too few to fit"
        page.wait_for_timeout(1500)  # the page's last poll: the finished summary
        summary = " | ".join(
            t for t in page.locator("[data-testid='stProgress']").all_inner_texts() if t
        )
        page.locator(".st-key-train_reset button").first.click()
        wait_for_script(page)
        return _slope(middle), summary
    finally:
        context.close()


PAGES = ("Data", "Gates", "Rollouts", "Overview", "Train")


def responsiveness(
    browser, url: str, epochs: int, points: int, rounds: int = 3
) -> dict[str, list[float]]:
    """Seconds per page switch while a run trains, by page."""
    context, page = _start(browser, url, epochs, points)
    try:
        page.wait_for_timeout(2000)
        seconds: dict[str, list[float]] = {title: [] for title in PAGES}
        for _ in range(rounds):
            for title in PAGES:
                seconds[title].append(_go(page, title))
        page.locator(".st-key-train_reset button").first.click()
        wait_for_script(page)
        return seconds
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1500, help="epochs of each run")
    parser.add_argument("--rounds", type=int, default=2, help="pairs of runs (ABBA order)")
    parser.add_argument("--points", type=int, default=1000, help="points of the sine")
    parser.add_argument("--chromium", default=chromium_path(), help="browser executable")
    parser.add_argument(
        "--streamlit-option",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="passed to `streamlit run` as --NAME=VALUE, e.g. runner.postScriptGC=false",
    )
    parser.add_argument(
        "--pin",
        action="store_true",
        help="run the server and the headless runs on the first CPU and the browser on the"
        " others, as when the browser runs on the visitor's own machine",
    )
    parser.add_argument("--json", help="also write the measurements to this file")
    args = parser.parse_args()
    cpus = sorted(os.sched_getaffinity(0))
    if args.pin and len(cpus) < 2:
        parser.error("--pin needs at least two CPUs")
    server_cpus = {cpus[0]} if args.pin else set(cpus)
    browser_cpus = set(cpus[1:]) if args.pin else set(cpus)

    from playwright.sync_api import sync_playwright

    info = machine()
    print_machine(info)
    data = None
    if args.points != 1000:
        data = os.path.join(tempfile.mkdtemp(), f"sine_{args.points}.csv")
        make = ["gru_core", "data", "--out", data, "--points", str(args.points)]
        make += ["--periods", str(args.points / PERIOD)]
        subprocess.run([sys.executable, "-m", *make], cwd=ROOT, check=True)
    print("warm-up (thrown away) ...", flush=True)
    warm = max(5, args.epochs // 20)
    os.sched_setaffinity(0, server_cpus)  # inherited by the server and the headless runs
    headless(warm, data)
    server = AppServer(args=[f"--{option}" for option in args.streamlit_option])
    try:
        os.sched_setaffinity(0, browser_cpus)  # inherited by Playwright's driver and Chromium
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
            os.sched_setaffinity(0, server_cpus)
            live(browser, server.url, warm, args.points)
            rates: dict[str, list[float]] = {"headless": [], "live": []}
            for r in range(args.rounds):
                order = ["headless", "live"] if r % 2 == 0 else ["live", "headless"]
                for kind in order:
                    if kind == "headless":
                        rate = headless(args.epochs, data)
                        print(f"round {r + 1} headless: {rate:.2f} epochs/s", flush=True)
                    else:
                        rate, summary = live(browser, server.url, args.epochs, args.points)
                        print(f"round {r + 1} live: {rate:.2f} epochs/s ({summary})", flush=True)
                    rates[kind].append(rate)
            switches = responsiveness(browser, server.url, args.epochs * 10, args.points)
            browser.close()
    finally:
        server.close()
    ratio = median(rates["live"]) / median(rates["headless"])
    print()
    options = " ".join(args.streamlit_option) or "none"
    placement = (
        f"server on CPU {sorted(server_cpus)}, browser on CPUs {sorted(browser_cpus)}"
        if args.pin
        else "server and browser sharing every CPU"
    )
    print(
        f"{args.rounds} rounds, {args.epochs} epochs each, {args.points:,} points, extra"
        f" Streamlit options: {options}; {placement}; load average {load_average()} at the end"
    )
    print()
    print("| run | epochs / s (median) | runs |")
    print("|---|---|---|")
    for kind in ("headless", "live"):
        runs = ", ".join(f"{v:.2f}" for v in rates[kind])
        print(f"| {kind} | {median(rates[kind]):.2f} | {runs} |")
    verdict = "met" if ratio >= 0.8 else "NOT met"
    print(f"| live / headless | **{ratio:.2f}** | target >= 0.80: {verdict} |")
    print()
    every = [v for values in switches.values() for v in values]
    print(
        f"page switches while training ({len(every)}): median {median(every):.2f} s,"
        f" slowest {max(every):.2f} s"
    )
    for title, values in switches.items():
        print(f"  {title}: " + ", ".join(f"{v:.2f}" for v in values) + " s")
    if args.json:
        with open(args.json, "w") as f:
            result = {"rates": rates, "ratio": ratio, "switches": switches}
            json.dump({"machine": info, "args": vars(args), **result}, f, indent=1)


if __name__ == "__main__":
    main()
