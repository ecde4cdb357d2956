"""The first page of a fresh server, drawn while the engine (torch and the training code)
loads in a thread: what app.py imports before it needs no torch, the page it draws without
the engine, the rerun into the full app, and a click on its button while the engine loads."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest
from apptest_utils import APP, ROOT, chart, job, release, texts
from streamlit.testing.v1 import AppTest

from gru_app import loading
from gru_core.strings.en import EN

# Everything app.py imports before it asks whether the engine is in.
BEFORE_THE_ENGINE = (
    "gru_core.fork_server",
    "gru_core.i18n",
    "gru_app.layout",
    "gru_app.loading",
    "gru_app.present",
    "gru_app.overview",
)


def test_what_the_first_page_imports_leaves_torch_numpy_and_pandas_out():
    code = (
        "import sys, streamlit\n"
        "before = set(sys.modules)\n"
        f"for name in {BEFORE_THE_ENGINE!r}: __import__(name)\n"
        "print(sorted(m for m in set(sys.modules) - before if m.split('.')[0] in"
        " ('torch', 'numpy', 'pandas', 'plotly')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]", out.stdout
    # Control: the engine itself does bring torch in, so the check above can see it.
    code = code.replace(repr(BEFORE_THE_ENGINE), repr(("gru_app.state",)))
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert "'torch'" in out.stdout


PAGE_IMPORTS = """
import ast, importlib, sys
from pathlib import Path
from gru_app import loading
for name in loading.ENGINE + loading.PAGES:
    importlib.import_module(name)
before = set(sys.modules)
for page in [*Path("app_pages").glob("*.py"), Path("app.py")]:
    for node in ast.walk(ast.parse(page.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("gru_"):
            importlib.import_module(node.module)
            for alias in node.names:  # `from gru_app import replay`: a module
                try:
                    importlib.import_module(f"{node.module}.{alias.name}")
                except ImportError:  # a name in the module, not a module
                    pass
print(sorted(m for m in set(sys.modules) - before if m.startswith(("gru_app", "gru_core"))))
"""


def test_the_engine_warmed_in_the_background_is_every_page_s_imports():
    """No page's first visit waits on importing the app's own code."""
    out = subprocess.run(
        [sys.executable, "-c", PAGE_IMPORTS], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]", out.stdout
    # Control: without the last of them, the check finds what it brings in.
    fewer = PAGE_IMPORTS.replace("loading.PAGES:", "loading.PAGES[:-1]:")
    out = subprocess.run(
        [sys.executable, "-c", fewer], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert "gru_core.views.windows" in out.stdout


def test_app_py_imports_nothing_else_before_it_asks():
    """The list above is app.py's: every import above its `loading.ready()` is in it."""
    source = APP.read_text().split("if not loading.ready()")[0]
    imported = {
        f"{line.split()[1]}.{name.strip()}"
        for line in source.splitlines()
        if line.startswith("from gru_")
        for name in line.split(" import ")[1].split("#")[0].split(",")
    }
    assert imported == set(BEFORE_THE_ENGINE) - {"gru_app.overview"}, imported


@pytest.fixture
def loading_engine(monkeypatch):
    """The engine still loading: `ready()` is False until the returned event is set."""
    event = threading.Event()
    monkeypatch.setattr(loading, "_loaded", event)
    monkeypatch.setattr(loading, "_thread", threading.current_thread())  # start() does nothing
    monkeypatch.setattr(loading, "LONGEST", 0.0)  # the page stops waiting at once, drawn
    return event


def test_while_the_engine_loads_the_overview_is_drawn_then_the_whole_app(loading_engine):
    at = AppTest.from_file(str(APP), default_timeout=30).run()
    assert not at.exception
    assert at.title[0].value == "GRU Lab"
    assert at.button(key="overview_train").label == EN["overview.train_defaults"]
    assert len(at.get("latex")) == 4
    page = texts(at)
    assert EN["loading.engine"] in page and EN["overview.why.text"][:40] in page
    assert at.get("plotly_chart") == []  # the chart waits for the engine
    assert "job_slot" not in at.session_state  # nothing of the engine's was touched

    loading_engine.set()  # the timer's rerun, once the engine is in
    at.run()
    assert not at.exception
    assert EN["loading.engine"] not in texts(at)
    assert chart(at, "overview_ambiguity")["data"]
    assert ":gray-badge[no run yet]" in texts(at)


def test_another_page_asked_for_while_loading_shows_its_title_until_the_engine_is_in(
    loading_engine,
):
    at = AppTest.from_file(str(APP), default_timeout=30).run()
    at.switch_page("app_pages/train.py").run()
    assert not at.exception
    assert at.title[0].value == EN["page.train"]
    assert EN["loading.engine"] in texts(at)
    assert at.get("number_input") == []
    loading_engine.set()
    at.run()
    assert at.number_input(key="hidden") is not None and EN["loading.engine"] not in texts(at)


def test_a_click_while_loading_is_kept_and_starts_the_run_once_the_engine_is_in(
    loading_engine,
):
    at = AppTest.from_file(str(APP), default_timeout=30).run()
    assert EN["loading.engine"] in texts(at)
    at.button(key="overview_train").click().run()  # still loading: the click is noted
    try:
        assert not at.exception
        assert job(at) is None and EN["loading.engine"] in texts(at)
        loading_engine.set()
        at.run()  # the loading page's own rerun, once the engine is in
        assert not at.exception
        run = job(at)
        assert run is not None and run.status in ("queued", "running", "finished")
        assert at.session_state["preset"] == "fast"
        assert at.title[0].value == EN["page.train"]  # on to the Train page, as from the full page
        at.run()
        assert job(at) is run  # started once
    finally:
        release(at)


def test_the_loading_page_waits_for_the_engine_then_reruns_into_the_whole_app(
    loading_engine, monkeypatch
):
    """With time to wait, the first script run itself waits and then draws the whole app."""
    monkeypatch.setattr(loading, "LONGEST", 30.0)
    timer = threading.Timer(0.5, loading_engine.set)
    timer.start()
    try:
        at = AppTest.from_file(str(APP), default_timeout=30).run()
    finally:
        timer.cancel()
    assert not at.exception
    assert loading_engine.is_set()
    assert EN["loading.engine"] not in texts(at)
    assert chart(at, "overview_ambiguity")["data"]
