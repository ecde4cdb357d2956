"""Layout measurements in a real browser: text that does not fit, words split across lines,
legend entries on top of each other, tables and pages that scroll sideways.

`layout_problems(page)` returns one short line per problem found on the page as drawn (an
empty list when the layout holds). It measures the DOM, not pixels: a button's or a label's
text overflows when an element's scrollWidth exceeds its clientWidth, and is cut off when its
text reaches past a box around it that clips (as an ellipsis does); a word is split when a
Range over it gives client rects on more than one line (words found with Intl.Segmenter, so
Chinese text, which may break between any two characters, is measured word by word too).
"""

from __future__ import annotations

# Elements whose text must fit on its own: buttons (and tabs, segmented controls), widget
# labels, metric cards, expander headings, page links and the sidebar's navigation.
TEXT_ELEMENTS = ", ".join(
    [
        "button",
        "[data-testid='stWidgetLabel']",
        "label",
        "[data-testid='stMetricLabel']",
        "[data-testid='stMetricValue']",
        "[data-testid='stExpander'] summary",
        "[data-testid='stPageLink'] a",
        "[data-testid='stSidebarNavLink']",
    ]
)

_MEASURE = """
(selector) => {
  const problems = [];
  const icon = (node) => node.closest &&
      node.closest("[data-testid^='stIcon'], .material-symbols-rounded, svg");
  const shown = (el) => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && r.right > 0 && r.left < innerWidth &&
        getComputedStyle(el).visibility !== 'hidden';
  };
  const name = (el) => (el.innerText || el.textContent || '').trim().replace(/\\s+/g, ' ')
      .slice(0, 60);
  // Boxes that hold text themselves (not visually hidden inputs, not wrappers of icons).
  const ownText = (box) => box.tagName !== 'INPUT' &&
      [...box.childNodes].some(n => n.nodeType === Node.TEXT_NODE && n.data.trim());
  const segmenter = new Intl.Segmenter(document.documentElement.lang || 'en',
                                       {granularity: 'word'});
  const seen = new Set();
  for (const el of document.querySelectorAll(selector)) {
    if (!shown(el) || !name(el)) continue;
    // The element and every text box inside it (icons aside) keep their text inside.
    for (const box of [el, ...el.querySelectorAll('*')]) {
      if (icon(box) || !shown(box) || seen.has(box) || !ownText(box)) continue;
      seen.add(box);
      if (box.scrollWidth > box.clientWidth + 1 && getComputedStyle(box).display !== 'inline') {
        problems.push(`text overflows (${box.scrollWidth} > ${box.clientWidth} px): ` +
                      `"${name(el)}"`);
        break;
      }
      // Text cut off by a box around it that clips (an ellipsis, or overflow hidden): an
      // inline box has no scroll width of its own, so its text is measured against them.
      const range = document.createRange();
      range.selectNodeContents(box);
      const text = range.getBoundingClientRect();
      let clipped = null;
      for (let up = box; up && !clipped; up = up === el ? null : up.parentElement) {
        if (getComputedStyle(up).overflowX === 'visible') continue;
        const r = up.getBoundingClientRect();
        const left = r.left + up.clientLeft, right = left + up.clientWidth;
        if (text.width && (text.right > right + 1 || text.left < left - 1)) clipped = up;
      }
      if (clipped) {
        problems.push(`text cut off (${Math.round(text.width)} px in ` +
                      `${clipped.clientWidth} px): "${name(el)}"`);
        break;
      }
    }
    // No word broken across two lines.
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const parent = node.parentElement;
      if (!parent || icon(parent)) continue;
      for (const seg of segmenter.segment(node.data)) {
        if (!seg.isWordLike) continue;
        const range = document.createRange();
        range.setStart(node, seg.index);
        range.setEnd(node, seg.index + seg.segment.length);
        const tops = new Set([...range.getClientRects()]
            .filter(r => r.width > 0).map(r => Math.round(r.top)));
        if (tops.size > 1) problems.push(`word split across lines: "${seg.segment}" in ` +
                                         `"${name(el)}"`);
      }
    }
  }
  // Legend entries of a chart do not cover each other.
  for (const chart of document.querySelectorAll('.js-plotly-plot')) {
    if (!shown(chart)) continue;
    const entries = [...chart.querySelectorAll('g.legend g.traces')]
        .map(g => ({text: g.textContent.trim(), r: g.getBoundingClientRect()}))
        .filter(e => e.r.width > 0);
    const title = chart.querySelector('.g-gtitle text');
    const heading = title && title.getBoundingClientRect();
    for (const g of chart.querySelectorAll('g.legend g.traces')) {
      const text = g.querySelector('text.legendtext'), hit = g.querySelector('rect.legendtoggle');
      if (!text || !hit) continue;
      const t = text.getBoundingClientRect(), box = hit.getBoundingClientRect();
      if (t.width && box.width && t.right > box.right + 1) problems.push(
          `legend entry cut short: "${text.textContent}"`);
      if (heading && heading.width) {
        const w = Math.min(t.right, heading.right) - Math.max(t.left, heading.left);
        const h = Math.min(t.bottom, heading.bottom) - Math.max(t.top, heading.top);
        if (w > 1 && h > 1) problems.push(
            `legend entry over the chart's title: "${text.textContent}"`);
      }
    }
    for (let i = 0; i < entries.length; i++) {
      for (let j = i + 1; j < entries.length; j++) {
        const a = entries[i].r, b = entries[j].r;
        const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
        const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
        if (w > 1 && h > 1) problems.push(
            `legend entries overlap: "${entries[i].text}" and "${entries[j].text}"`);
      }
    }
  }
  // Tables and the page itself do not scroll sideways.
  for (const grid of document.querySelectorAll("[data-testid='stDataFrame'] .dvn-scroller")) {
    if (shown(grid) && grid.scrollWidth > grid.clientWidth + 1) problems.push(
        `table scrolls sideways (${grid.scrollWidth} > ${grid.clientWidth} px)`);
  }
  const main = document.querySelector("[data-testid='stMain']");
  if (main && main.scrollWidth > main.clientWidth + 1) problems.push(
      `page scrolls sideways (${main.scrollWidth} > ${main.clientWidth} px)`);
  return problems;
}
"""


def layout_problems(page) -> list[str]:
    """What does not hold in the page's layout as drawn now: one line per problem."""
    return page.evaluate(_MEASURE, TEXT_ELEMENTS)
