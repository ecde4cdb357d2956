"""AppTest: pages opened in 简体中文 show no English prose; the same pages in English do.

Every text a page renders is collected from the element tree (markdown, captions, labels,
help, options, placeholders, alerts, metric cards), with the dataframes' column names, the
Plotly charts' titles, axis titles, legend names and annotations, and the Vega-Lite charts'
titles and the words in their data (the loss chart's legends are drawn from those).
English prose is two or more English words of three or more letters in a row; names (GRU,
MLP, Adam, numpy, ...) and inline LaTeX do not count. The control: the same collection in
English finds prose, so the check can fail.
"""

from __future__ import annotations

import json
import re

import pandas as pd
import pyarrow as pa
import pytest
from apptest_utils import go, new_app, release, train_task, train_tiny
from streamlit.testing.v1 import AppTest

from gru_core import i18n

NAMES = re.compile(
    r"\b(GRU|LSTM|RNN|MLP|CSV|Adam|SGD|numpy|torch|PyTorch|Ray|CPU|GPU|MSE|MAE|d2l|nn\.GRU)\b"
)
LATEX = re.compile(r"\$[^$]*\$")
ENGLISH_PROSE = re.compile(r"\b[A-Za-z]{3,}\s+[A-Za-z]{3,}\b")
# Proto fields that hold no words a person reads: ids, keys, icons, data, the chart's spec.
SKIPPED = {"id", "key", "form_id", "icon", "spec", "data", "url", "page", "default", "value"}
CHART_TEXT = {"title", "text", "name"}


def english_prose(text: str) -> list[str]:
    """The runs of English words in `text`, names and LaTeX left out."""
    return ENGLISH_PROSE.findall(NAMES.sub(" ", LATEX.sub(" ", text)))


def _proto_strings(message) -> list[str]:
    out = []
    for field, value in message.ListFields():
        if field.name in SKIPPED:
            continue
        single = isinstance(value, (str, bytes, int, float)) or hasattr(value, "ListFields")
        values = [value] if single else list(value)  # a repeated field
        for v in values:
            if isinstance(v, str):
                out.append(v)
            elif hasattr(v, "ListFields"):
                out += _proto_strings(v)
    return out


def _chart_strings(spec: object, parent: str = "") -> list[str]:
    """Titles, axis titles, legend names and annotations of a plotly spec."""
    out = []
    if isinstance(spec, dict):
        for k, v in spec.items():
            if isinstance(v, str) and (k in CHART_TEXT and parent != "font"):
                out.append(v)
            elif isinstance(v, (dict, list)):
                out += _chart_strings(v, k)
    elif isinstance(spec, list):
        for v in spec:
            out += _chart_strings(v, parent)
    return out


def _vega_strings(proto) -> list[str]:
    """A Vega-Lite chart's titles and tooltip titles, and its data's words (not numbers)."""
    out = [v for v in _titles(json.loads(proto.spec)) if isinstance(v, str)]
    for dataset in proto.datasets:
        table = pa.ipc.open_stream(dataset.data.data).read_pandas()
        for column in table.columns:
            if pd.api.types.is_string_dtype(table[column]):  # object or pandas' str dtype
                out += [str(v) for v in table[column].dropna().unique()]
    return out


def _titles(spec: object) -> list[object]:
    if isinstance(spec, dict):
        found = [v for k, v in spec.items() if k == "title"]
        return found + [t for k, v in spec.items() if k != "datasets" for t in _titles(v)]
    if isinstance(spec, list):
        return [t for v in spec for t in _titles(v)]
    return []


def html_texts(body: str) -> list[str]:
    """What an st.html block shows: its text and tooltips, not its markup, style or script."""
    shown = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    return re.findall(r'title="([^"]*)"', shown) + [re.sub(r"<[^>]*>", " ", shown)]


def rendered_texts(at: AppTest) -> list[str]:
    """Every text the page and the sidebar show, as the user reads them."""
    texts = []

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if getattr(node, "type", None) == "html":
            texts.extend(html_texts(proto.body))
        elif proto is not None and hasattr(proto, "ListFields"):
            texts.extend(_proto_strings(proto))
            if getattr(node, "type", None) == "plotly_chart":
                texts.extend(_chart_strings(json.loads(proto.spec)))
            if getattr(node, "type", None) == "vega_lite_chart":
                texts.extend(_vega_strings(proto))
        children = getattr(node, "children", None)
        if isinstance(children, dict):
            for child in children.values():
                walk(child)

    walk(at._tree)
    for frame in [d.value for d in at.dataframe] + [t.value for t in at.table]:
        texts += [str(c) for c in frame.columns] + [str(frame.index.name or "")]
    return [t for t in texts if t.strip()]


def english_in(at: AppTest) -> dict[str, list[str]]:
    """Each rendered text that holds English prose, with the prose found."""
    return {t: found for t in rendered_texts(at) if (found := english_prose(t))}


def _in(at: AppTest, code: str) -> AppTest:
    at.session_state["lang"] = code
    at.run()
    # From now on the test reads the page in that language too: AppTest formats a picker's
    # chosen value with its format_func in this thread and looks for it among those drawn.
    i18n.set_language(code)
    return at


@pytest.fixture
def at():
    app = new_app()
    yield app
    release(app)
    i18n.set_language("en")


def test_the_prose_check_finds_english_and_lets_names_and_latex_pass():
    assert english_prose("Train with defaults") == ["Train with"]
    assert english_prose("GRU 与 MLP 的测试误差：MSE 0.017") == []
    assert english_prose("隐藏状态 $h_t = (1 - z_t) \\odot n_t$") == []
    assert english_prose("gru best") == ["gru best"]
    shown = html_texts('<b title="Copy the link">复制</b><script>const link = 1;</script>')
    assert [english_prose(s) for s in shown] == [["Copy the"], []]


# the pages whose every text is in the string tables (those that need a run say where to start)
PAGES = ["overview", "runs", "sweep", "train", "data", "lessons"]
PAGES += ["gates", "memory", "rollouts", "results"]


@pytest.mark.parametrize("page", PAGES)
def test_a_page_in_chinese_shows_no_english_prose(at, page):
    _in(at, "zh")
    go(at, page)
    assert not at.exception
    assert english_in(at) == {}


@pytest.mark.parametrize("page", PAGES)
def test_control_the_same_page_in_english_shows_english_prose(at, page):
    _in(at, "en")
    go(at, page)
    assert not at.exception
    assert english_in(at) != {}


def test_with_a_finished_run_the_overview_and_runs_pages_stay_chinese(at):
    train_tiny(at)
    _in(at, "zh")
    for page in ("overview", "runs"):
        go(at, page)
        assert not at.exception
        assert at.metric or at.dataframe  # the run's cards and table are drawn
        assert english_in(at) == {}, page
    table = at.dataframe[0].value
    assert "GRU 最佳" not in table.columns and "gru 最佳" in table.columns  # headed in Chinese
    assert set(table["状态"]) == {"已完成"}


def test_with_a_finished_forecast_run_every_page_stays_chinese(at):
    go(at, "train")
    at.multiselect(key="models").set_value(["mlp", "gru"]).run()
    train_tiny(at)
    _in(at, "zh")
    drawn = {}
    for page in ("train", "gates", "memory", "rollouts", "results", "lessons", "data"):
        go(at, page)
        assert not at.exception, page
        drawn[page] = len(at.get("plotly_chart")) + len(at.get("vega_lite_chart"))
        assert english_in(at) == {}, page
    assert all(drawn[p] > 0 for p in ("gates", "memory", "rollouts", "data"))  # the run is shown
    go(at, "gates")
    assert "单元" in at.dataframe[0].value.columns  # the units' table headed in Chinese
    go(at, "memory")
    assert "训练开始时" in at.dataframe[0].value.columns


@pytest.mark.parametrize("task", ["window", "classify", "text"])
def test_with_a_finished_run_of_another_task_its_pages_stay_chinese(task):
    at = train_task(task, hidden=4, epochs=1)
    try:
        _in(at, "zh")
        for page in ("train", "gates", "results", "runs"):
            go(at, page)
            assert not at.exception, page
            assert english_in(at) == {}, page
        go(at, "train")
        chinese = _vega_strings(at.get("vega_lite_chart")[-1].proto)
        _in(at, "en")  # the control: the same pages in English
        assert english_in(go(at, "results")) != {}
        go(at, "train")
        english = _vega_strings(at.get("vega_lite_chart")[-1].proto)
        # The loss chart's legend words (its data) were read: English ones in English.
        assert any(english_prose(s) for s in english), english
        assert not any(english_prose(s) for s in chinese) and set(chinese) != set(english)
    finally:
        release(at)
        i18n.set_language("en")
