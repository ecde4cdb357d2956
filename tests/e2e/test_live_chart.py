"""The Train page while a run trains: the loss chart is updated in place (the same SVG node
across updates), answers hover with a tooltip, and agrees with the cards and the sidebar on
the epoch it shows."""

import re

from .conftest import epochs_drawn, wait_for

CHART = ".st-key-train_losses svg.marks"
PROGRESS = re.compile(r"Epoch (\d+) / \d+")


def _readout(app) -> dict:
    """In one look at the page (one script in the browser): the script's state and the epoch
    that the page's progress, the sidebar's, the cards and the chart's last point show."""
    seen = app.page.evaluate(
        """(chart) => {
            const app = document.querySelector("[data-testid='stApp']");
            const side = document.querySelector("[data-testid='stSidebar']");
            const main = document.querySelector("[data-testid='stMain']");
            const text = el => el ? el.innerText : '';
            const rules = document.querySelectorAll(
                chart + ' .mark-rule[aria-roledescription] > *');
            const epochs = Array.from(rules).map(e => e.getAttribute('aria-label') || '')
                .filter(s => s.includes('GRU train:')).map(s => parseInt(s.split(/[ ;]/)[1]));
            return {
                state: app.getAttribute('data-test-script-state'),
                page: text(main.querySelector("[data-testid='stProgress']")),
                sidebar: text(side.querySelector("[data-testid='stProgress']")),
                cards: Array.from(main.querySelectorAll("[data-testid='stCaptionContainer']"))
                    .map(e => e.innerText).filter(s => s.startsWith('After epoch')).join(''),
                chart: epochs.length ? Math.max(...epochs) : null,
            };
        }""",
        CHART,
    )
    cards = re.match(r"After epoch (\d+)", seen["cards"])
    return {
        "state": seen["state"],
        "page": int(PROGRESS.search(seen["page"]).group(1)) if seen["page"] else None,
        "sidebar": int(PROGRESS.search(seen["sidebar"]).group(1)) if seen["sidebar"] else None,
        "cards": int(cards.group(1)) if cards else None,
        "chart": seen["chart"],
    }


def _tooltip(app, fraction: float) -> str:
    """Move the pointer over the chart at `fraction` of its width; the tooltip's text."""
    chart = app.page.locator(CHART)
    chart.scroll_into_view_if_needed()  # below the settings where the page stacks its columns
    box = chart.bounding_box()
    app.page.mouse.move(box["x"] + box["width"] * fraction, box["y"] + box["height"] * 0.45)
    return app.page.evaluate(
        """() => { const t = document.querySelector('#vg-tooltip-element');
                   return t && t.classList.contains('visible') ? t.innerText : ''; }"""
    )


def test_the_loss_chart_updates_in_place_keeps_hover_and_agrees_with_cards(app):
    app.open()
    app.nav("Train")
    app.set_number("epochs", 5000)
    app.page.get_by_text("More settings").click()
    app.set_number("slow_motion", 1)  # an epoch a second: a redraw with news once a second
    app.click("train_start")
    assert wait_for(lambda: epochs_drawn(app) >= 2, 30), "no loss curve appeared"
    assert app.page.evaluate(f"() => {{ document.querySelector('{CHART}').__kept = 1; return 1; }}")
    for _ in range(2):  # two updates of the chart's data
        drawn = epochs_drawn(app)
        assert wait_for(lambda drawn=drawn: epochs_drawn(app) > drawn, 20), "the chart stopped"
    assert "running" in app.status()
    # The same SVG element, tagged before the updates, still draws the chart: no re-mount.
    assert app.page.evaluate(
        f"() => document.querySelectorAll('{CHART}').length === 1"
        f" && document.querySelector('{CHART}').__kept === 1"
    )

    # Hover while it trains: the tooltip lists the curves at the hovered epoch.
    fractions = iter([0.3, 0.4, 0.5, 0.6, 0.35, 0.45, 0.55] * 6)
    assert wait_for(lambda: "GRU train" in _tooltip(app, next(fractions)), 15, step=0.2)
    assert "running" in app.status()
    app.screenshot("live-chart-hover")

    # Settled views (the same readout for 0.4 s: no redraw half applied; a redraw's parts
    # arrive one after another, and the chart draws a moment after) agree on the epoch.
    agreed = 0
    for _ in range(200):
        reads = []
        for _ in range(5):
            reads.append({k: v for k, v in _readout(app).items() if k != "state"})
            app.page.wait_for_timeout(100)
        first = reads[0]
        settled = all(r == first for r in reads)
        if settled and first["page"] is not None and "running" in app.status():
            assert first["page"] == first["sidebar"] == first["cards"] == first["chart"], first
            agreed += 1
            if agreed == 3:
                break
    assert agreed == 3, "the page never settled while the run trained"

    app.click("train_stop")
    assert wait_for(lambda: "stopped" in app.status(), 5)
    app.click("train_reset")
    app.wait_for_run()
    assert app.exceptions() == [] and app.console_errors == []
