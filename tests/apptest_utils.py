"""Shared helpers for the AppTest suites (tests/test_app_*.py): a tiny run, polling, charts."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from streamlit.testing.v1 import AppTest

from gru_app import loading

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"

# AppTest runs the app in this process: the engine is loaded first, as in a server that has
# drawn its first page, so every test sees the whole app (test_loading.py: the page before).
loading.start()
loading.wait()

# A run that finishes in well under a second: 200 points, 4 units, 3 epochs.
TINY_POINTS = 200
TINY_SETTINGS = {"hidden": 4, "epochs": 3, "seq_len": 10, "lr": 0.01, "batch": 1}


def new_app() -> AppTest:
    """The app, run once (on the Overview page)."""
    return AppTest.from_file(str(APP), default_timeout=30).run()


def go(at: AppTest, page: str) -> AppTest:
    """Open `page` ("data", "train", ...) and run it."""
    return at.switch_page(f"app_pages/{page}.py").run()


def job(at: AppTest):
    return at.session_state["job_slot"].job if "job_slot" in at.session_state else None


def use_tiny_data(at: AppTest, points: int = TINY_POINTS) -> None:
    """Generate a short series through the Data page's widgets."""
    go(at, "data")
    at.number_input(key="points").set_value(points).run()


def use_tiny_settings(at: AppTest, **overrides) -> None:
    """Set the Train page's widgets (by key) to the tiny run's settings."""
    go(at, "train")
    for name, value in {**TINY_SETTINGS, **overrides}.items():
        key = name
        if name == "lr":
            at.select_slider(key=key).set_value(value)
        else:
            at.number_input(key=key).set_value(value)
    at.run()


def wait_until_done(at: AppTest, timeout: float = 60) -> str:
    """Rerun the page (as the live fragments would) until the job leaves queued/running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = job(at).status
        at.run()
        if status not in ("queued", "running"):  # it had ended before this run drew the page
            return status
        time.sleep(0.2)
    raise AssertionError(f"the job was still {job(at).status} after {timeout} s")


def train_tiny(at: AppTest, points: int | None = TINY_POINTS, **overrides) -> AppTest:
    """Tiny data (None: keep the current data), tiny settings, Start, and wait for the end.

    Leaves the Train page open.
    """
    if points is not None:
        use_tiny_data(at, points)
    use_tiny_settings(at, **overrides)
    at.button(key="train_start").click().run()
    assert not at.exception
    assert wait_until_done(at) == "finished"
    return at


def train_task(task: str, **settings) -> AppTest:
    """A new session that picks `task` on the Data page, sets the Train page's number boxes
    (`hidden=4`, ...), starts, and waits for the end. Leaves the Train page open."""
    at = go(new_app(), "data")
    at.selectbox(key="task").set_value(task).run()
    assert not at.exception
    go(at, "train")
    for name, value in settings.items():
        at.number_input(key=name).set_value(value)
    at.run()
    at.button(key="train_start").click().run()
    assert not at.exception
    assert wait_until_done(at) == "finished"
    return at


def release(at: AppTest) -> None:
    """What the session's end does (stop the job), then wait for its thread to end."""
    if "job_slot" in at.session_state:
        slot = at.session_state["job_slot"]
        running = slot.job
        slot.release()
        if running is not None:
            assert running.join(60), "the stopped job's thread did not end"


def _decode(value):
    """Plotly's JSON packs numeric arrays as {"dtype", "bdata"[, "shape"]}: unpack them to lists."""
    if isinstance(value, dict):
        if "bdata" in value and "dtype" in value:
            array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
            if "shape" in value:
                shape = value["shape"]
                shape = [int(n) for n in shape.split(",")] if isinstance(shape, str) else shape
                array = array.reshape(shape)
            return array.tolist()
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def chart(at: AppTest, key: str) -> dict:
    """The plotly spec (data and layout) of the chart with this key, arrays as lists."""
    for element in at.get("plotly_chart"):
        if element.key == key:
            return _decode(json.loads(element.proto.spec))
    keys = [e.key for e in at.get("plotly_chart")]
    raise AssertionError(f"no chart with key {key!r}; charts: {keys}")


def traces(spec: dict) -> dict[str, dict]:
    """The chart's traces by name."""
    return {t.get("name"): t for t in spec["data"]}


def latex(at: AppTest) -> list[str]:
    """The page's st.latex bodies, without their $$ fences."""
    return [e.value.strip().removeprefix("$$").removesuffix("$$").strip() for e in at.latex]


def texts(at: AppTest) -> str:
    """Every markdown (badges included: ":blue-badge[running]"), caption, info and error."""
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [i.value for i in at.info] + [e.value for e in at.error]
    return "\n".join(str(p) for p in parts)


def _loss_chart(at: AppTest) -> tuple[dict, dict[str, pd.DataFrame]]:
    charts = at.get("vega_lite_chart")
    assert charts, "no Vega-Lite chart on the page"
    proto = charts[-1].proto
    tables = {d.name: pa.ipc.open_stream(d.data.data).read_pandas() for d in proto.datasets}
    return json.loads(proto.spec), tables


def loss_chart(at: AppTest) -> tuple[dict, pd.DataFrame]:
    """The Train page's loss chart: its Vega-Lite spec and its `losses` table."""
    spec, tables = _loss_chart(at)
    return spec, tables["losses"]


def loss_marker(at: AppTest) -> list[int]:
    """The epochs the loss chart's marker rule stands at (none, or the replayed one)."""
    return _loss_chart(at)[1]["marker"]["epoch"].tolist()


def loss_traces(at: AppTest) -> dict[str, dict]:
    """The loss chart's curves by name ("GRU train"): their epochs and values, as drawn."""
    _, losses = loss_chart(at)
    return {
        f"{model} {measure}": {"x": part["epoch"].tolist(), "y": part["value"].tolist()}
        for (model, measure), part in losses.groupby(["model", "measure"], sort=False)
    }
