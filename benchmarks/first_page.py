"""First impressions: from `streamlit run app.py` to the first page drawn, and to the first epoch.

Each round starts a fresh server (`streamlit run app.py` on a free port, its own empty
`GRU_LAB_HOME`) while Chromium (Playwright, Debian's /usr/bin/chromium) is already open,
as a visitor's browser would be, and measures from the server process's start:

- *first page*: the Overview's title and its "Train with defaults" button drawn in the
  browser (the page retries until the server accepts connections); on a fresh server that is
  the page drawn while the engine loads (`gru_app.loading`);
- *first Start -> first epoch*: then at once, as an eager visitor would, the one-click
  button is pressed (a fresh session has nothing to confirm), and the clock runs until the
  Train page shows an epoch of the run (its "Epoch n / N" with n >= 1, or the run finished),
  as the page polls; *start -> first epoch* is the same moment from the server's start;
- with `--whole`, the button is pressed only once the app is whole instead (the Overview
  with its chart and the run's status, the engine loaded: the same moment as the first page
  for an app that draws nothing before its engine), and *whole app* is that moment.

With `--baseline DIR` (another checkout of the app, e.g. `git archive <commit> | tar -x -C DIR`)
the two alternate round by round (new, old, old, new, ...) on the same machine, and the
medians of both are printed side by side.

    python -m benchmarks.first_page [--rounds 5] [--baseline DIR] [--whole] [--json F]
    python -m benchmarks.first_page --breakdown [--rounds 5]

`--breakdown` times, in fresh interpreters and without a browser, what stands in front of the
first page in a server process: importing the app's modules (torch among them), then
`prepare_process` as the app called it before (the optimizer warm-up and `gc.freeze` in line)
and as it calls it now (in a thread): the seconds until each call returns.

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
from pathlib import Path

from benchmarks.common import ROOT, load_average, machine, median, print_machine
from scripts.harness import APP_READY_JS, CHROMIUM_ARGS, chromium_path, free_port, streamlit_command

PROGRESS = re.compile(r"Epoch (\d+) / \d+")
LIMIT_SECONDS = 120.0  # a round that takes longer than this has failed


def _server(root: Path, port: int, home: str) -> subprocess.Popen:
    return subprocess.Popen(
        streamlit_command(port),
        cwd=root,
        env={**os.environ, "GRU_LAB_HOME": home},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _first_page(page, url: str, start: float) -> float:
    """Seconds from `start` until the Overview's title and button are drawn."""
    while True:
        try:
            page.goto(url, timeout=5_000)
            break
        except Exception:  # noqa: BLE001  connection refused until the server listens
            if time.perf_counter() - start > LIMIT_SECONDS:
                raise
            time.sleep(0.05)
    page.locator("h1", has_text="GRU Lab").wait_for(timeout=LIMIT_SECONDS * 1000)
    page.locator(".st-key-overview_train button").first.wait_for(timeout=LIMIT_SECONDS * 1000)
    return time.perf_counter() - start


def _whole_app(page, start: float) -> float:
    """Seconds from `start` until the app is whole: no loading page left, its script done."""
    page.wait_for_function(APP_READY_JS, timeout=LIMIT_SECONDS * 1000)
    page.locator(".st-key-overview_ambiguity").first.wait_for(timeout=LIMIT_SECONDS * 1000)
    return time.perf_counter() - start


def _first_epoch(page) -> float:
    """Seconds from pressing the one-click run until the page shows one of its epochs."""
    clicked = time.perf_counter()
    page.locator(".st-key-overview_train button").first.click()
    while time.perf_counter() - clicked < LIMIT_SECONDS:
        text = page.locator("[data-testid='stMain']").inner_text()
        shown = [int(n) for n in PROGRESS.findall(text)]
        if (shown and max(shown) >= 1) or "finished" in text.lower():
            return time.perf_counter() - clicked
        time.sleep(0.02)
    raise RuntimeError("no epoch shown within the limit")


def one_round(browser, root: Path, whole: bool) -> tuple[float, float | None, float, float]:
    """(first page, whole app or None, first Start -> first epoch, server start -> first
    epoch) in seconds, for the app in `root`; `whole`: the Start waits for the whole app."""
    port = free_port()
    with tempfile.TemporaryDirectory() as home:
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        start = time.perf_counter()
        proc = _server(root, port, home)
        try:
            first = _first_page(page, f"http://127.0.0.1:{port}/", start)
            whole_app = _whole_app(page, start) if whole else None
            epoch = _first_epoch(page)
            since_start = time.perf_counter() - start
        finally:
            context.close()
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
    return first, whole_app, epoch, since_start


BREAKDOWN = """
import time
start = time.perf_counter()
from gru_app import render, state
from gru_core import process_job
imported = time.perf_counter()
process_job.prepare_process(threads=1, background={background})
print(imported - start, time.perf_counter() - imported)
"""


def breakdown(rounds: int) -> None:
    """Seconds to import the app's modules, and for prepare_process to return, both ways."""
    got: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
    for r in range(rounds):
        for background in (False, True) if r % 2 == 0 else (True, False):
            out = subprocess.run(
                [sys.executable, "-c", BREAKDOWN.format(background=background)],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
            )
            imports, prepare = map(float, out.stdout.split())
            got[background].append((imports, prepare))
            how = "in a thread" if background else "in line"
            print(f"round {r + 1} {how}: imports {imports:.2f} s, prepare_process {prepare:.2f} s")
    for background, rows in got.items():
        how = "in a thread" if background else "in line"
        print(
            f"{how}: imports median {median(r[0] for r in rows):.2f} s,"
            f" prepare_process median {median(r[1] for r in rows):.2f} s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--baseline", type=Path, help="another checkout to compare with")
    parser.add_argument("--chromium", default=None)
    parser.add_argument("--json", type=Path, help="write the results here too")
    parser.add_argument("--breakdown", action="store_true", help="no browser: what is in front")
    parser.add_argument("--whole", action="store_true", help="Start once the app is whole")
    args = parser.parse_args()
    if args.breakdown:
        print_machine(machine())
        breakdown(args.rounds)
        return
    from playwright.sync_api import sync_playwright

    info = machine()
    print_machine(info)
    apps = {"new": ROOT}
    if args.baseline is not None:
        apps["old"] = args.baseline.resolve()
    kinds = (
        ("page", "whole", "epoch", "start_epoch")
        if args.whole
        else ("page", "epoch", "start_epoch")
    )
    results: dict[str, dict[str, list[float]]] = {n: {k: [] for k in kinds} for n in apps}
    labels = {
        "page": "first page",
        "whole": "whole app",
        "epoch": "first Start -> first epoch",
        "start_epoch": "server start -> first epoch",
    }
    with sync_playwright() as p:
        path = args.chromium or chromium_path()
        browser = p.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        one_round(browser, ROOT, args.whole)  # warm-up, thrown away: disk caches, first tab
        for r in range(args.rounds):
            order = list(apps) if r % 2 == 0 else list(reversed(apps))
            for name in order:
                got = dict(
                    zip(
                        ("page", "whole", "epoch", "start_epoch"),
                        one_round(browser, apps[name], args.whole),
                        strict=True,
                    )
                )
                for what in kinds:
                    results[name][what].append(got[what])
                shown = ", ".join(f"{labels[k]} {got[k]:.2f} s" for k in kinds)
                print(f"round {r + 1} {name}: {shown}")
        browser.close()
    for name, got in results.items():
        shown = ", ".join(
            f"{labels[k]} median {median(got[k]):.2f} s ({min(got[k]):.2f}-{max(got[k]):.2f})"
            for k in kinds
        )
        print(f"{name}: {shown}")
    print(f"load average at the end: {load_average()}")
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "results": results}, indent=1))


if __name__ == "__main__":
    main()
