"""The layout measurements can fail: each catches a deliberately broken layout, and passes the
same content given room (the pages' test relies on both)."""

from __future__ import annotations

import numpy as np
import pytest

from .layout_checks import layout_problems

# A Streamlit-like button and label, in a column of the given width.
COLUMN = """<div style="width: {width}px; font: 17px sans-serif">
  <button style="width: 100%; overflow: hidden"><div><p style="white-space: nowrap">
    Start training</p></div></button>
  <div data-testid="stWidgetLabel" style="overflow-wrap: anywhere"><p>Training mode</p></div>
</div>"""
# A button whose label ends in an ellipsis: the text is an inline span in a clipping box.
ELLIPSIS = """<div style="width: {width}px; font: 17px sans-serif"><button style="width: 100%">
  <div style="overflow: hidden; text-overflow: ellipsis; white-space: nowrap">
  <span>Start training</span></div></button></div>"""
# Two legend entries of a chart, drawn at the given distance apart.
LEGEND = """<div class="js-plotly-plot" style="width: 400px; height: 80px"><svg width="400"
  height="80"><g class="legend"><g class="traces"><text x="10" y="30">GRU train</text></g>
  <g class="traces"><text x="{x}" y="32">MLP train</text></g></g></svg></div>"""
# A table inside a box of the given width.
TABLE = """<div data-testid="stDataFrame"><div class="dvn-scroller" style="width: {width}px;
  overflow: auto"><div style="width: 500px; height: 20px"></div></div></div>"""


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    yield context.new_page()
    context.close()


def _problems(page, html: str) -> list[str]:
    page.set_content(f"<html lang='en'><body>{html}</body></html>")
    return layout_problems(page)


def test_a_narrow_column_truncates_the_button_and_splits_the_label(page):
    problems = _problems(page, COLUMN.format(width=60))
    assert any(p.startswith("text overflows") and "Start training" in p for p in problems)
    assert any('word split across lines: "Training"' in p for p in problems), problems
    assert _problems(page, COLUMN.format(width=400)) == []  # the same, given room


def test_a_label_cut_off_with_an_ellipsis_is_found(page):
    problems = _problems(page, ELLIPSIS.format(width=70))
    assert any(p.startswith("text cut off") and "Start training" in p for p in problems)
    assert _problems(page, ELLIPSIS.format(width=400)) == []  # the same, given room


def test_legend_entries_on_top_of_each_other_are_found(page):
    problems = _problems(page, LEGEND.format(x=14))
    assert problems == ['legend entries overlap: "GRU train" and "MLP train"']
    assert _problems(page, LEGEND.format(x=200)) == []


def test_a_table_that_scrolls_sideways_is_found(page):
    assert _problems(page, TABLE.format(width=120)) == ["table scrolls sideways (500 > 120 px)"]
    assert _problems(page, TABLE.format(width=600)) == []


def _drawn(page, fig, width: int) -> list[str]:
    """The problems of a Plotly figure drawn `width` px wide by plotly.js itself."""
    import plotly.io as pio

    fig.update_layout(width=width)
    page.set_content(pio.to_html(fig, include_plotlyjs=True, full_html=True))
    page.wait_for_selector(".js-plotly-plot g.legend")
    return layout_problems(page)


def _history(epochs: int = 6) -> list[dict]:
    rows = []
    for e in range(1, epochs + 1):
        row = {"epoch": e}
        for model, scale in (("gru", 1.0), ("mlp", 2.0)):
            row[f"{model}_train_loss"] = scale / e
            row[f"{model}_test_one_step_mse"] = scale / (e + 1)
            row[f"{model}_test_rollout_mse"] = scale / (e + 2)
        rows.append(row)
    return rows


def test_legend_names_cut_short_or_over_a_title_are_found_in_real_charts(page):
    from gru_core import figures

    index, context = np.arange(100, 160), np.arange(0, 100)
    models = {m: np.sin(index / 9) for m in ("gru", "mlp", "rnn", "lstm")}

    def rollout():
        return figures.rollout_figure(
            context, np.sin(context / 9), index, np.sin(index / 9), models, title="A long title"
        )

    assert _drawn(page, rollout(), 420) == []
    # The control: legend entries given a tenth of the width each cut the longer names short.
    squeezed = rollout().update_layout(legend=dict(entrywidth=0.1, entrywidthmode="fraction"))
    assert any(p.startswith("legend entry cut short") for p in _drawn(page, squeezed, 420))
    # The control: a legend placed from the plot's top edge grows into the title above it.
    above = rollout().update_layout(legend=dict(yref="paper", y=1.02, yanchor="bottom"))
    assert any("over the chart's title" in p for p in _drawn(page, above, 420))
