"""MLP, RNN, LSTM and GRU trained together in a real browser; Gates and Memory show each."""

from .conftest import loss_curves, wait_for

KINDS = {"RNN": 1, "LSTM": 6, "GRU": 4}  # label -> heatmaps (gates) the Gates page draws


def _choose(app, key: str, option: str) -> None:
    """Pick `option` in the selectbox or multiselect with this key."""
    app.key(key).locator("input").first.click()
    app.page.get_by_role("option", name=option, exact=True).click()
    app.wait_for_run()


def _heatmaps(app) -> list:
    return [t for t in app.chart_data("gates_heatmaps") or [] if t["type"] == "heatmap"]


def test_four_models_train_together_and_each_has_gates_and_memory(app):
    app.open()
    app.nav("Train")
    for label in ("RNN", "LSTM"):
        _choose(app, "models", label)
        app.page.keyboard.press("Escape")
    app.set_number("epochs", 8)
    app.click("train_start")
    assert wait_for(lambda: "finished" in app.status(), 90), app.status()

    def models_drawn() -> set[str]:
        return {name.split(" ")[0] for name in loss_curves(app)}

    # the chart is drawn a moment after the status says finished: wait for its traces
    assert wait_for(lambda: models_drawn() == {"GRU", "MLP", "RNN", "LSTM"}, 30), models_drawn()
    app.screenshot("cells-train")

    app.nav("Gates")
    for label, rows in KINDS.items():
        _choose(app, "gates_model", label)

        def drawn(n=rows) -> bool:  # the heatmaps and the unit's traces redraw one by one
            over = app.chart_data("gates_unit_over_input") or []
            return len(_heatmaps(app)) == n and len(over) == n + 1

        assert wait_for(drawn, 20), (label, len(_heatmaps(app)))
        over = app.chart_data("gates_unit_over_input")
        assert over[0]["name"] == "input x" and len(over) == rows + 1, label
        assert app.page.locator(".katex").count() >= 1  # the equations, in numbers
        assert app.exceptions() == [], label
    app.screenshot("cells-gates")

    app.nav("Memory")
    influence = {t["name"] for t in app.chart_data("memory_influence")}
    assert {f"{label} now" for label in KINDS} <= influence
    assert {t["name"] for t in app.chart_data("memory_time_scales")} == {
        "LSTM at the start",
        "LSTM now",
        "GRU at the start",
        "GRU now",
    }
    app.set_number("memory_epochs", 1)
    app.click("memory_run")
    assert wait_for(lambda: app.chart_data("memory_lengths_chart") is not None, 120)
    lines = {t["name"]: t["n"] for t in app.chart_data("memory_lengths_chart")}
    assert lines == {"RNN": 3, "LSTM": 3, "GRU": 3}
    app.screenshot("cells-memory")
    assert app.exceptions() == [] and app.console_errors == []
