"""Sweeps end to end with the real trainer: `python -m gru_core sweep` gives every run the
metrics `train --json` gives it alone, whatever the backend and the number of workers; one
failing run is reported and the others go on; a background sweep can be cancelled."""

import dataclasses
import json
import math
import time

import numpy as np
import pytest

from gru_core import kernels
from gru_core.__main__ import main
from gru_core.config import PRESETS
from gru_core.data import make_sine
from gru_core.executors import Done, LocalExecutor
from gru_core.models import parameter_counts
from gru_core.spec import Dataset
from gru_core.sweep import SweepError
from gru_core.sweep_runs import (
    RAY_ADDRESS_ENV,
    Sweep,
    SweepJob,
    make_executor,
    parse_grid,
    run_sweep,
    sweepable,
)
from gru_core.train import Diverged, Trainer, final_metrics, train

SMALL = ["--epochs", "3", "--grid", "hidden=4,8", "--grid", "lr=1e-2,3e-2", "--seeds", "2"]


def _sweep_json(capsys, *extra: str) -> dict:
    assert main(["sweep", *SMALL, *extra, "--json"]) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def _metrics(report: dict) -> list[dict]:
    """Each run's settings, seed, error and metrics: everything but its timing."""
    return [{k: v for k, v in run.items() if k != "train_seconds"} for run in report["runs"]]


def test_grid_names_come_from_the_settings_declarations():
    names = sweepable()
    assert {"hidden", "lr", "seq-len", "epochs", "layers", "batch", "schedule"} <= set(names)
    assert "seed" not in names and "device" not in names
    assert parse_grid(["seq-len=10,20", "schedule=constant,cosine", "standardize=true,no"]) == {
        "seq-len": [10, 20],
        "schedule": ["constant", "cosine"],
        "standardize": [True, False],
    }
    with pytest.raises(SweepError, match="unknown setting 'width'"):
        parse_grid(["width=3"])
    with pytest.raises(SweepError, match="hidden: 'x' is not a valid int"):
        parse_grid(["hidden=4,x"])


@pytest.fixture(scope="module")
def alone() -> dict:
    """`train --json` of every run of the small sweep, one process call at a time."""
    import contextlib
    import io

    out = {}
    for hidden in (4, 8):
        for lr in ("1e-2", "3e-2"):
            for seed in (0, 1):
                buffer = io.StringIO()
                with contextlib.redirect_stdout(buffer):
                    args = ["train", "--epochs", "3", "--hidden", str(hidden), "--lr", lr]
                    assert main([*args, "--seed", str(seed), "--json"]) == 0
                report = json.loads(buffer.getvalue().strip().splitlines()[-1])
                out[(hidden, float(lr), seed)] = {k: report[k] for k in ("gru", "mlp")}
    return out


def test_every_run_gets_its_train_json_metrics_on_one_and_two_workers(capsys, alone):
    one = _sweep_json(capsys, "--workers", "1")
    two = _sweep_json(capsys, "--workers", "2")
    assert (one["backend"], one["workers"], two["workers"]) == ("local", 1, 2)
    assert one["wall_seconds"] > 0 and len(one["runs"]) == 8
    assert _metrics(one) == _metrics(two)  # exact
    for run in one["runs"]:
        key = (run["settings"]["hidden"], run["settings"]["lr"], run["seed"])
        assert run["error"] is None and run["train_seconds"] > 0
        assert {k: run[k] for k in ("gru", "mlp")} == alone[key], key
    # The control: the runs differ, so the equalities above could fail.
    assert len({json.dumps(run["gru"]) for run in one["runs"]}) == 8


def test_the_ray_backend_gives_the_same_metrics(capsys, alone):
    ray = pytest.importorskip("ray")
    try:
        report = _sweep_json(capsys, "--workers", "2", "--backend", "ray")
    finally:
        ray.shutdown()
    assert report["backend"] == "ray"
    for run in report["runs"]:
        key = (run["settings"]["hidden"], run["settings"]["lr"], run["seed"])
        assert {k: run[k] for k in ("gru", "mlp")} == alone[key], key


def test_one_failing_run_is_reported_and_the_others_go_on(capsys):
    code = main(["sweep", "--epochs", "2", "--grid", "seq-len=60,1500", "--workers", "2"])
    out, err = capsys.readouterr()
    assert code == 0
    assert out.startswith("2 runs (1 failed) in ")
    assert "seq-len=1500,seed=0: seq_len 1500 needs at least 1501 training points" in err
    assert "run 2/2" in err
    assert "seq-len=60,seed=0: gru test_rollout_mse" in err


def test_failing_run_in_json(capsys):
    assert main(["sweep", "--epochs", "2", "--grid", "seq-len=60,1500", "--json"]) == 0
    runs = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["runs"]
    assert runs[0]["error"] is None and runs[0]["gru"]["test_rollout_mse"] > 0
    assert runs[1]["error"].startswith("seq_len 1500 needs at least 1501 training points")
    assert "gru" not in runs[1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--grid", "width=3"], "unknown setting 'width'; settings that can be swept: hidden"),
        (["--grid", "hidden=4", "--seeds", "11"], "seeds must be an integer in [1, 10]"),
        (["--grid", "hidden=4", "--workers", "0"], "--workers must be a positive integer"),
    ],
)
def test_bad_sweeps_get_one_line_and_status_2(capsys, args, message):
    assert main(["sweep", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_the_ray_address_comes_from_the_option_or_the_environment(monkeypatch):
    monkeypatch.setenv(RAY_ADDRESS_ENV, "ray://cluster:10001")
    assert make_executor("ray", 2).address == "ray://cluster:10001"
    assert make_executor("ray", 2, "ray://other:10001").address == "ray://other:10001"
    monkeypatch.delenv(RAY_ADDRESS_ENV)
    assert make_executor("ray", 2).address is None


def _plan(**grid) -> Sweep:
    fast = PRESETS["fast"]
    data = Dataset(make_sine(fast.data), 0.8, "sine", sine=fast.data)
    train = dataclasses.replace(fast.train, epochs=3)
    return Sweep(data, fast.model, train, grid, seeds=1)


def _shown(items: list[dict]) -> list[tuple]:
    """Each item's models and the (hidden, lr) of its runs."""
    return [
        (item.get("models"), [(r["settings"]["hidden"], r["settings"]["lr"]) for r in item["runs"]])
        for item in items
    ]


def test_runs_of_one_shape_are_grouped_and_handed_out_model_by_model():
    plan = _plan(hidden=[4, 8], lr=[1e-2, 3e-2, 1e-1])
    items = plan.items(workers=1)
    eight = [(8, lr) for lr in (1e-2, 3e-2, 1e-1)]
    four = [(4, lr) for lr in (1e-2, 3e-2, 1e-1)]
    # The MLP does not read the hidden size and is seeded by its own name: it trains alike
    # in both groups, so once, for the costlier group (hidden 8), and first: both groups'
    # runs need it.
    assert _shown(items) == [(["mlp"], eight), (["gru"], eight), (["gru"], four)]
    copies = {int(k): [c["index"] for c in v] for k, v in items[0]["copies"].items()}
    by_index = {r["index"]: r for r in plan.runs}
    assert sorted(copies) == [r["index"] for r in items[0]["runs"]]
    for trained, served in copies.items():
        (other,) = [by_index[i] for i in served]
        assert other["settings"] == {**by_index[trained]["settings"], "hidden": 4}
        assert other["seed"] == by_index[trained]["seed"]
    assert not items[1]["copies"] and not items[2]["copies"]
    # At most ceil(6 runs / 3 workers) = 2 runs a part.
    assert [len(item["runs"]) for item in plan.items(workers=3)] == [2, 1, 2, 2, 1, 1]
    assert Sweep.from_dict(plan.to_dict()).runs == plan.runs


def test_under_run_seeding_every_model_of_every_run_is_trained():
    plan = _plan(hidden=[4, 8], lr=[1e-2])
    run_seeding = dataclasses.replace(plan.train, seeding="run")
    plan = Sweep(plan.data, plan.model, run_seeding, plan.grid, seeds=1)
    items = plan.items(workers=1)
    # Built one after another from one seed, the MLP's weights depend on the GRU before it.
    assert _shown(items) == [
        (["gru"], [(8, 1e-2)]),
        (["mlp"], [(8, 1e-2)]),
        (["gru"], [(4, 1e-2)]),
        (["mlp"], [(4, 1e-2)]),
    ]
    assert not any(item["copies"] for item in items)


def test_the_costliest_groups_are_handed_out_first():
    plan = _plan(hidden=[4, 8, 16], lr=[1e-2, 3e-2, 1e-1])
    gru_parts = [item for item in plan.items(workers=1) if item["models"] == ["gru"]]
    hidden = [item["runs"][0]["settings"]["hidden"] for item in gru_parts]
    costs = [plan.group_cost(item["runs"]) for item in gru_parts]
    # Handed out costliest first: the biggest models, since the groups are the same size.
    assert hidden == [16, 8, 4]
    assert costs[0] > costs[1] > costs[2]
    # One run of a bigger model costs less than a batch of small ones (the per-step cost).
    three_small = plan.group_cost(plan.runs[:3])
    one_big = plan.group_cost([{**plan.runs[0], "settings": {"hidden": 16, "lr": 1e-2}}])
    assert one_big < three_small
    # Whatever order the grid gave.
    later = _plan(hidden=[16, 4, 8], lr=[1e-2, 3e-2, 1e-1])
    first = [g["runs"][0]["settings"]["hidden"] for g in later.items(workers=2)]
    assert first == [16, 16, 8, 4]  # the shared MLP part, then the GRUs


def test_the_estimate_hands_the_items_in_order_to_the_first_free_worker(monkeypatch):
    plan = _plan(hidden=[4, 8], lr=[1e-2, 3e-2])
    items = plan.items(workers=2)
    assert len(items) == 3  # the shared MLP part, then each hidden size's GRUs
    seconds = [3.0, 2.0, 2.0]
    by_item = {id(item): s for item, s in zip(items, seconds, strict=True)}
    monkeypatch.setattr(Sweep, "items", lambda self, workers=1, runs=None: items)
    monkeypatch.setattr(Sweep, "item_seconds", lambda self, item: by_item[id(item)])
    start = plan.estimate_seconds(workers=1) - sum(seconds)  # one worker: all in a row
    assert start > 0
    # Two workers, worked by hand: 3 s on the first, 2 s on the second; the third item (2 s)
    # goes to the second, free first, at 2 s: both end at 4 s (not 3 + 2 = 5).
    assert plan.estimate_seconds(workers=2) == pytest.approx(start + 4.0)
    assert plan.estimate_seconds(workers=3) == pytest.approx(start + 3.0)


def test_an_estimate_counts_what_a_model_trains_on():
    plan = _plan(hidden=[8, 16], lr=[1e-2, 3e-2])
    items = plan.items(workers=2)
    mlp, *grus = items
    # The MLP baseline, alike in all four runs, trains once: its part is one batch of 2
    # runs (the two learning rates), the rest are copies, and costs no more than either GRU
    # part of 2 runs.
    assert mlp["models"] == ["mlp"] and len(mlp["runs"]) == 2
    assert all(plan.item_seconds(mlp) < plan.item_seconds(g) for g in grus)
    # A run that cannot batch (two layers: torch, cell by cell) is estimated alone, and a
    # deeper or wider model of it costs more.
    deep = Sweep(plan.data, plan.model, plan.train, {"layers": [2, 3]}, seeds=1)
    two, three = ({"runs": [run]} for run in deep.runs)
    assert 0 < deep.item_seconds(two) < deep.item_seconds(three)
    wide = Sweep(plan.data, plan.model, plan.train, {"layers": [2], "hidden": [16, 256]}, 1)
    narrow, broad = ({"runs": [run]} for run in wide.runs)
    assert deep.item_seconds(two) == pytest.approx(wide.item_seconds(narrow))
    assert wide.item_seconds(broad) > 4 * wide.item_seconds(narrow)
    # One layer alone (an LSTM: no batched kernel) pays for its width too: a hidden-512
    # LSTM measured 23x a hidden-16 one here.
    lstm = dataclasses.replace(plan.model, models=("lstm",))
    lstms = Sweep(plan.data, lstm, plan.train, {"hidden": [16, 512]}, 1)
    small, large = ({"runs": [run]} for run in lstms.runs)
    assert lstms.item_seconds(large) > 20 * lstms.item_seconds(small)
    # Windows: each point in about seq_len of them, and small batches pay per call (batches
    # of 2 measured 15x batches of 240 here).
    windowed = dataclasses.replace(plan.train, mode="windowed", eval_state="warm")
    batches = Sweep(plan.data, lstm, windowed, {"batch": [2, 240]}, 1)
    few, many = ({"runs": [run]} for run in batches.runs)
    assert batches.item_seconds(few) > 4 * batches.item_seconds(many)
    assert batches.item_seconds(many) > lstms.item_seconds(small)


def test_too_long_a_sweep_is_refused_with_the_reason():
    plan = _plan(hidden=[256, 512], lr=[1e-3, 1e-2])
    slow = dataclasses.replace(plan.train, epochs=5000)
    plan = Sweep(plan.data, plan.model, slow, plan.grid, 10)
    with pytest.raises(SweepError, match=r"40 runs would take about \d+ min on 2 worker"):
        plan.check_size(workers=2)
    _plan(hidden=[4]).check_size(workers=1)  # small ones pass


def test_cancel_keeps_the_finished_runs_and_never_starts_the_queued():
    plan = _plan(hidden=[3, 4, 5, 6, 7, 8], lr=[1e-2])
    seen = []
    job = SweepJob(plan, LocalExecutor(1), on_result=seen.append).start()
    deadline = time.monotonic() + 60
    while not job.results and time.monotonic() < deadline:
        time.sleep(0.05)
    job.cancel()
    job.join(30)
    assert not job.running and job.error is None
    assert 1 <= len(job.results) < 6
    assert seen == job.results  # each finished run was handed on
    assert all(r["metrics"] is not None for r in job.results)


def test_a_sweep_of_another_task_trains_its_preset_with_its_options(capsys):
    # classify's preset reads 600 windows (its options); dropping them would read the
    # default 300 and give other accuracies than train --json.
    base = ["--task", "classify", "--epochs", "1"]
    assert main(["sweep", *base, "--grid", "hidden=4", "--json"]) == 0
    swept = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["runs"][0]
    assert main(["train", *base, "--hidden", "4", "--json"]) == 0
    alone = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert swept["error"] is None
    assert swept["gru"] == alone["gru"] and swept["mlp"] == alone["mlp"]
    assert 0 <= swept["gru"]["test_accuracy"] <= 1


def test_a_sweep_keeps_its_task_options_when_stored():
    plan = dataclasses.replace(_plan(hidden=[4]), task="window", options={"target": "last"})
    again = Sweep.from_dict(json.loads(json.dumps(plan.to_dict())))
    assert (again.task, again.options) == ("window", {"target": "last"})
    assert again.spec(again.runs[0]).options == {"target": "last"}


def test_a_sweep_trains_at_full_speed_whatever_the_slow_motion_setting():
    plan = _plan(hidden=[4])
    slow = Sweep(
        plan.data, plan.model, dataclasses.replace(plan.train, slow_motion=2.0), plan.grid, 1
    )
    assert slow.train.slow_motion == 2.0  # the control: the base run asks for slow motion
    assert {slow.spec(run).train.slow_motion for run in slow.runs} == {0.0}


class _HereExecutor:
    """Items run in this process, one after another (a patched kernel stays patched)."""

    workers = 1

    def run(self, fn, items):
        for index, item in enumerate(items):
            yield Done(index, item, fn(item), None, 0.0)


class _RecordingExecutor(_HereExecutor):
    """As `_HereExecutor`, keeping each item's result (its parts' measured times)."""

    def __init__(self) -> None:
        self.done: list[dict] = []

    def run(self, fn, items):
        for done in super().run(fn, items):
            self.done.append(done.result)
            yield done


def test_a_sweeps_times_count_each_part_once():
    plan = _plan(hidden=[4, 8, 16], lr=[1e-2])
    items = plan.items(workers=1)
    shared = [item for item in items if item["copies"]]
    assert len(shared) == 1 and sum(map(len, shared[0]["copies"].values())) == 2  # one MLP
    executor = _RecordingExecutor()
    results = list(run_sweep(items, executor))
    worked = sum(run["train_seconds"] for part in executor.done for run in part["runs"])
    assert worked > 0
    # Three runs share the one MLP trained: each counts a third of its time, and the
    # sweep's runs add up to the work done, each part once (not the MLP three times).
    assert sum(r["train_seconds"] for r in results) == pytest.approx(worked, rel=1e-9)
    mlp = shared[0]["runs"][0]["index"]
    mlp_seconds = next(r for p in executor.done for r in p["runs"] if r["index"] == mlp)
    gru = {r["index"]: r for p in executor.done[1:] for r in p["runs"]}
    for result in results:
        own = gru[result["index"]]["train_seconds"]
        expected = own + mlp_seconds["train_seconds"] / 3
        assert result["train_seconds"] == pytest.approx(expected, rel=1e-9)
        assert result["history"][-1]["elapsed"] == pytest.approx(expected, rel=1e-9)


def _blow_up(monkeypatch, steps: dict[int, int]) -> None:
    """Runs whose learning rate is still above 0.1 get infinite weights from Adam's step
    `steps[size]` on, in the model of `size` parameters (single runs and batches alike)."""
    step = kernels.FlatAdam.step

    def faulty(self) -> None:
        step(self)
        rows = np.asarray(self.group["lr"]).reshape(-1) > 0.1
        size = sum(p.size for p in self.params) // len(rows)
        if float(self.steps[0]) >= steps.get(size, math.inf):
            for p in self.params:
                p.reshape(len(rows), -1)[rows] = np.inf

    monkeypatch.setattr(kernels.FlatAdam, "step", faulty)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
@pytest.mark.parametrize(
    ("gru_step", "mlp_step", "models", "lrs", "eval_every", "message"),
    [
        (20, 27, ("gru", "mlp"), [3e-2, 0.9], 1, "the GRU training loss became NaN in epoch 3"),
        (27, 20, ("gru", "mlp"), [3e-2, 0.9], 1, "the MLP training loss became NaN in epoch 3"),
        (20, 20, ("gru", "mlp"), [3e-2, 0.9], 1, "the GRU and MLP training loss became NaN"),
        # One model a run: its part is the whole run.
        (20, 20, ("gru",), [3e-2, 0.9], 1, "the GRU training loss became NaN in epoch 3"),
        # The first run of each batch diverges, and the test is every other epoch: the
        # others are evaluated on their own schedule.
        (20, 27, ("gru", "mlp"), [0.9, 3e-2], 2, "the GRU training loss became NaN in epoch 3"),
    ],
)
def test_a_run_put_together_from_its_parts_is_the_run_alone(
    monkeypatch, gru_step, mlp_step, models, lrs, eval_every, message
):
    plan = _plan(hidden=[4, 8], lr=lrs)
    train_cfg = dataclasses.replace(plan.train, epochs=5, eval_every=eval_every)
    model_cfg = dataclasses.replace(plan.model, models=models)
    plan = Sweep(plan.data, model_cfg, train_cfg, plan.grid, 1)
    counts = [parameter_counts(plan.spec(run).models) for run in plan.runs]
    steps = {c["gru"]: gru_step for c in counts} | {c.get("mlp"): mlp_step for c in counts}
    _blow_up(monkeypatch, steps)
    items = plan.items(1)
    # Some runs get their MLP from another's.
    assert any(item["copies"] for item in items) == ("mlp" in models)
    results = {r["index"]: r for r in run_sweep(items, _HereExecutor())}
    assert sorted(results) == [r["index"] for r in plan.runs]
    for run in plan.runs:
        alone, error = Trainer(plan.spec(run)), None
        try:
            train(alone)
        except Diverged as exc:
            error = str(exc)
        got = results[run["index"]]
        assert got["error"] == error
        assert (got["status"] == "diverged") == (run["settings"]["lr"] > 0.5)
        times = ("seconds", "elapsed")
        rows = [{k: v for k, v in row.items() if k not in times} for row in alone.history]
        assert [{k: v for k, v in row.items() if k not in times} for row in got["history"]] == rows
        assert list(got["history"][0]) == list(alone.history[0])  # the columns in their order
        assert got["metrics"] == (None if error else final_metrics(alone))
    wild = next(r for r in plan.runs if r["settings"]["lr"] > 0.5)
    assert message in results[wild["index"]]["error"]
