"""How soon the Train page shows a run: Start -> first epoch, end of training -> "finished".

A real server (`streamlit run app.py` on a free port, `scripts.harness.AppServer`, with a
fresh workspace home) and Debian's Chromium through Playwright. Each round, on the Train page
with the default preset's settings:

- a click listener on Start records the click's time in the page, and a check on every
  animation frame records the first moment the page shows the new run (its caption's
  "Run #k" is new), its progress reads "Epoch n / N" with n >= 1 and the loss chart's last
  epoch (its per-epoch rules' descriptions) is n; then the first moment the page's status
  badge reads "finished";
- the run's end is the time the server recorded it finished (the job writes the status to
  the workspace store as it takes the training process's last message): read back from the
  store, it is compared with the page's clock (same machine, same wall clock).

The first round is a warm-up and is not counted. Results: median and range over the rounds.

    python -m benchmarks.live_timing [--rounds 5] [--epochs N] [--chromium PATH] [--json F]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from urllib.parse import parse_qs, urlparse

from benchmarks.common import load_average, machine, median, print_machine
from benchmarks.live_view import wait_for_script
from gru_core.store import Store
from scripts.harness import CHROMIUM_ARGS, AppServer, chromium_path

WATCH = """() => {
    const t = window.__live = {click: null, first: null, finished: null};
    const main = document.querySelector("[data-testid='stMain']");
    const runOf = () => {
        const m = /Run #(\\d+)/.exec(main.textContent);
        return m ? Number(m[1]) : 0;
    };
    const before = runOf();  // the run shown before the click (the new one has a new number)
    const start = document.querySelector('.st-key-train_start button');
    start.addEventListener('click', () => { t.click = Date.now(); }, {capture: true, once: true});
    const check = () => {
        if (t.click !== null) {
            if (t.first === null && runOf() > before) {
                const bar = main.querySelector("[data-testid='stProgress']");
                const m = bar && /Epoch (\\d+) \\//.exec(bar.textContent);
                const rules = main.querySelectorAll(
                    ".st-key-train_losses .mark-rule[aria-roledescription] > [aria-label]");
                const last = rules.length
                    ? Math.max(...Array.from(rules, r => parseInt(r.getAttribute('aria-label')
                        .split(/[ ;]/)[1]))) : 0;
                if (m && Number(m[1]) >= 1 && last === Number(m[1])) t.first = Date.now();
            }
            if (t.first !== null && t.finished === null) {
                const badges = main.querySelectorAll("[data-testid='stMarkdownContainer'] span");
                for (const b of badges) {
                    if (b.textContent.trim() === 'finished') { t.finished = Date.now(); break; }
                }
            }
        }
        if (t.finished === null) requestAnimationFrame(check);
    };
    requestAnimationFrame(check);
}"""


def _wait_for_script(page) -> None:
    wait_for_script(page, 120_000)  # a fresh server's first page: slow on a busy machine


def _round(page, store: Store) -> tuple[float, float]:
    """(seconds from the click to the first epoch drawn, from the recorded end to the badge)."""
    _wait_for_script(page)
    page.locator(".st-key-train_start button:not([disabled])").first.wait_for()
    page.evaluate(WATCH)
    page.locator(".st-key-train_start button").first.click()
    page.wait_for_function("() => window.__live.finished !== null", timeout=300_000)
    seen = page.evaluate("() => window.__live")
    ws = parse_qs(urlparse(page.url).query)["ws"][0]
    run = store.runs(ws)[-1]
    assert run.status == "finished", run.status
    return (seen["first"] - seen["click"]) / 1e3, seen["finished"] / 1e3 - run.updated


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="counted rounds (after a warm-up)")
    parser.add_argument("--epochs", type=int, default=0, help="epochs a run (0: the preset's)")
    parser.add_argument("--chromium", default=chromium_path())
    parser.add_argument("--json", help="write the results here too")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    print_machine(machine())
    starts, ends = [], []
    with (
        tempfile.TemporaryDirectory() as home,
        AppServer(env={"GRU_LAB_HOME": home}) as server,
        sync_playwright() as p,
    ):
        browser = p.chromium.launch(
            executable_path=args.chromium, headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(120_000)
        page.goto(server.url)
        _wait_for_script(page)
        page.locator("[data-testid='stSidebarNav']").get_by_role("link", name="Train").click()
        page.locator(".st-key-train_start").wait_for()
        _wait_for_script(page)
        if args.epochs:
            box = page.locator(".st-key-epochs input")
            box.fill(str(args.epochs))
            box.press("Enter")
            _wait_for_script(page)
        store = Store(home)
        for i in range(args.rounds + 1):
            start, end = _round(page, store)
            _wait_for_script(page)
            print(
                f"round {i}{' (warm-up)' if i == 0 else ''}: Start -> first epoch {start:.3f} s,"
                f" end -> finished {end:.3f} s (load {load_average()})",
                flush=True,
            )
            if i:
                starts.append(start)
                ends.append(end)
            time.sleep(0.5)
        browser.close()
    result = {
        "machine": machine(),
        "rounds": args.rounds,
        "start_to_first_epoch": {"median": median(starts), "min": min(starts), "max": max(starts)},
        "end_to_finished": {"median": median(ends), "min": min(ends), "max": max(ends)},
    }
    for name in ("start_to_first_epoch", "end_to_finished"):
        r = result[name]
        print(f"{name}: median {r['median']:.3f} s, range {r['min']:.3f}-{r['max']:.3f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    return result


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
