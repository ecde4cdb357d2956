"""AppTest: the Overview page explains the GRU and starts a first run in one click."""

from apptest_utils import chart, go, job, latex, new_app, release, texts, use_tiny_data


def test_overview_shows_the_equations_and_the_mlp_argument():
    at = new_app()
    assert not at.exception
    assert at.title[0].value == "GRU Lab"
    equations = latex(at)
    assert len(equations) == 4
    assert equations[0].startswith("r_t") and equations[3].startswith("h_t")
    assert r"r_t \odot \left(W_{hn}" in equations[2]  # PyTorch's convention
    spec = chart(at, "overview_ambiguity")
    assert [t["name"] for t in spec["data"] if t.get("mode") == "markers"] == ["rising", "falling"]
    page = texts(at)
    assert "reset gate" in page and "update gate" in page and "MLP" in page
    assert ":gray-badge[no run yet]" in page


def test_train_with_defaults_starts_the_fast_preset_and_opens_train():
    at = new_app()
    use_tiny_data(at)
    go(at, "overview")
    at.button(key="overview_train").click().run()
    try:
        assert not at.exception
        run = job(at)
        assert run is not None and run.status in ("queued", "running", "finished")
        snap = run.snapshot()
        assert snap.train_cfg.epochs == at.session_state["epochs"]
        assert at.session_state["preset"] == "fast"
        assert len(snap.series) == 200  # the current data, not the default
        assert at.title[0].value == "Train"  # switched pages
    finally:
        release(at)


def test_overview_shows_the_state_of_the_current_run():
    from apptest_utils import train_tiny

    at = train_tiny(new_app())
    go(at, "overview")
    page = texts(at)
    assert ":green-badge[finished]" in page
    labels = [m.label for m in at.metric]
    assert labels == ["GRU test", "MLP test"]
    assert all(m.value != "—" for m in at.metric)
