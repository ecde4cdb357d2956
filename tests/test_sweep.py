"""Grid expansion, --grid parsing, the per-run table and the per-cell summary."""

import io
import statistics

import pandas as pd
import pytest

from gru_core.config import ConfigError
from gru_core.sweep import (
    MAX_SEEDS,
    SweepError,
    best_value,
    cell_summary,
    eta_seconds,
    expand,
    group_runs,
    parse_grid,
    run_key,
    run_table,
    to_csv,
    validate_grid,
)

ALLOWED = ("hidden", "lr", "kind")
TYPES = {"hidden": int, "lr": float, "kind": str}


def test_expand_gives_every_combination_once_seed_by_seed():
    runs = expand({"hidden": [4, 8], "lr": [1e-3, 1e-2, 3e-2]}, seeds=2, allowed=ALLOWED)
    assert len(runs) == 2 * 3 * 2
    cells = [(r["settings"]["hidden"], r["settings"]["lr"]) for r in runs]
    first = [(4, 1e-3), (4, 1e-2), (4, 3e-2), (8, 1e-3), (8, 1e-2), (8, 3e-2)]
    assert cells == first + first  # the last setting fastest, seeds slowest
    assert [r["seed"] for r in runs] == [0] * 6 + [1] * 6
    assert len({r["key"] for r in runs}) == len(runs)
    assert runs[0]["key"] == "hidden=4,lr=0.001,seed=0"


def test_expand_one_setting_and_a_first_seed():
    runs = expand({"kind": ["gru"]}, seeds=3, first_seed=5)
    assert [r["key"] for r in runs] == ["kind=gru,seed=5", "kind=gru,seed=6", "kind=gru,seed=7"]


def test_run_key_is_stable_and_exact_for_floats():
    assert run_key({"lr": 0.1 + 0.2, "hidden": 16}, 3) == "lr=0.30000000000000004,hidden=16,seed=3"
    assert run_key({"lr": 3e-2}, 0) == run_key({"lr": 0.03}, 0)


@pytest.mark.parametrize(
    ("grid", "seeds", "message"),
    [
        ({}, 1, "at least one setting"),
        ({"hidden": [4]}, 0, "seeds must be an integer in [1, 10]"),
        ({"hidden": [4]}, MAX_SEEDS + 1, "seeds must be an integer"),
        ({"width": [4]}, 1, "unknown setting 'width'; settings that can be swept: hidden"),
        ({"hidden": []}, 1, "setting 'hidden' has no values"),
        ({"hidden": [4, 8, 4]}, 1, "setting 'hidden' lists 4 more than once"),
        ({"hidden": list(range(1, 11)), "lr": [0.1] * 1}, 10, None),
        ({"hidden": list(range(1, 21)), "lr": [0.1, 0.2]}, 6, "20 hidden x 2 lr x 6 seeds is 240"),
    ],
)
def test_validate_grid(grid, seeds, message):
    if message is None:
        assert validate_grid(grid, seeds, ALLOWED) == 100
        return
    with pytest.raises(SweepError) as info:
        validate_grid(grid, seeds, ALLOWED)
    assert message in str(info.value)
    assert "\n" not in str(info.value)
    assert isinstance(info.value, ConfigError)  # the command line's one-line error path


def test_validate_grid_counts_against_the_caller_s_cap():
    assert validate_grid({"hidden": [1, 2, 3]}, 2, max_runs=6) == 6
    with pytest.raises(SweepError, match="at most 5 can run here"):
        validate_grid({"hidden": [1, 2, 3]}, 2, max_runs=5)


def test_parse_grid_types_values():
    grid = parse_grid(["hidden=4, 8,16", "lr=1e-3,3e-2", "kind=gru"], TYPES)
    assert grid == {"hidden": [4, 8, 16], "lr": [0.001, 0.03], "kind": ["gru"]}
    assert type(grid["hidden"][0]) is int and type(grid["lr"][0]) is float
    assert list(grid) == ["hidden", "lr", "kind"]


@pytest.mark.parametrize(
    ("specs", "message"),
    [
        (["hidden"], "--grid takes NAME=V1,V2,...; got 'hidden'"),
        (["=4"], "--grid takes NAME=V1,V2,..."),
        (["depth=2"], "unknown setting 'depth'; settings that can be swept: hidden, lr, kind"),
        (["hidden=4", "hidden=8"], "setting 'hidden' is given twice"),
        (["hidden="], "setting 'hidden' has no values"),
        (["hidden=4,x"], "hidden: 'x' is not a valid int"),
        (["lr=0.1,,0.2"], "lr: '' is not a valid float"),
    ],
)
def test_parse_grid_errors(specs, message):
    with pytest.raises(SweepError) as info:
        parse_grid(specs, TYPES)
    assert message in str(info.value)


def _result(hidden, lr, seed, losses, error=None):
    history = [
        {"epoch": i + 1, "lr": lr, "gru_test_rollout_mse": v, "gru_train_loss": 1.0, "seconds": 0.1}
        for i, v in enumerate(losses)
    ]
    settings = {"hidden": hidden, "lr": lr}
    return {
        "key": run_key(settings, seed),
        "settings": settings,
        "seed": seed,
        "train_seconds": 1.5,
        "history": history,
        "error": error,
    }


def test_best_value_is_the_best_not_the_last():
    history = [{"m": 0.5}, {"m": None}, {"m": 0.2}, {"m": float("nan")}, {"m": 0.3}]
    assert best_value(history, "m") == 0.2
    assert best_value(history, "m", lower_is_better=False) == 0.5
    assert best_value([{"m": None}], "m") is None


def test_run_table_and_summary_against_hand_computed_values():
    results = [
        _result(4, 0.01, 0, [0.9, 0.1, 0.4]),
        _result(4, 0.01, 1, [0.3, 0.6]),
        _result(4, 0.01, 2, [0.5, 0.2]),
        _result(8, 0.01, 0, [0.7]),
        _result(8, 0.01, 1, [], error="training diverged"),
    ]
    table = run_table(results, "gru_test_rollout_mse")
    assert len(table) == 5
    assert list(table.columns[:4]) == ["key", "hidden", "lr", "seed"]
    assert "epoch" not in table.columns and "seconds" not in table.columns
    assert table["best_gru_test_rollout_mse"].tolist()[:4] == [0.1, 0.3, 0.2, 0.7]
    assert table["gru_test_rollout_mse"].tolist()[0] == 0.4  # the last value, kept beside
    assert table["error"].tolist()[4] == "training diverged"

    summary = cell_summary(table, ["hidden", "lr"], "gru_test_rollout_mse")
    assert summary["hidden"].tolist() == [4, 8]
    first = summary.iloc[0]
    assert first["mean"] == pytest.approx(statistics.mean([0.1, 0.3, 0.2]), abs=1e-15)
    assert first["std"] == pytest.approx(statistics.stdev([0.1, 0.3, 0.2]), abs=1e-15)
    assert first["seeds"] == 3
    second = summary.iloc[1]  # one finished seed, one failed
    assert second["mean"] == 0.7 and second["seeds"] == 1 and pd.isna(second["std"])


def test_higher_is_better_summary():
    results = [_result(4, 0.01, s, v) for s, v in enumerate([[0.1, 0.9], [0.5, 0.3]])]
    table = run_table(results, "gru_test_rollout_mse", lower_is_better=False)
    summary = cell_summary(table, ["hidden"], "gru_test_rollout_mse")
    assert summary["mean"].tolist() == [pytest.approx(0.7)]


def test_csv_has_one_row_per_run_and_reads_back():
    results = [_result(4, 0.01, 0, [0.9, 0.1]), _result(8, 0.03, 0, [0.2])]
    text = to_csv(run_table(results, "gru_test_rollout_mse"))
    back = pd.read_csv(io.StringIO(text))
    assert len(back) == 2
    assert back["key"].tolist() == ["hidden=4,lr=0.01,seed=0", "hidden=8,lr=0.03,seed=0"]
    assert back["best_gru_test_rollout_mse"].tolist() == [0.1, 0.2]
    assert text.splitlines()[0].startswith("key,hidden,lr,seed,train_seconds,error")


def test_eta():
    assert eta_seconds([], 10, 2) is None
    assert eta_seconds([2.0, 4.0], 0, 2) == 0.0
    assert eta_seconds([2.0, 4.0], 5, 2) == 3.0 * 3  # three waves of two workers
    assert eta_seconds([2.0, 4.0], 4, 1) == 12.0


def test_group_runs_keeps_order_and_caps_size():
    runs = expand({"hidden": [4, 8], "lr": [0.1, 0.2, 0.3]}, seeds=2)
    groups = group_runs(runs, key=lambda r: r["settings"]["hidden"], size=4)
    keys = [[r["key"] for r in g] for g in groups]
    assert keys == [
        [
            "hidden=4,lr=0.1,seed=0",
            "hidden=4,lr=0.2,seed=0",
            "hidden=4,lr=0.3,seed=0",
            "hidden=4,lr=0.1,seed=1",
        ],
        ["hidden=4,lr=0.2,seed=1", "hidden=4,lr=0.3,seed=1"],
        [
            "hidden=8,lr=0.1,seed=0",
            "hidden=8,lr=0.2,seed=0",
            "hidden=8,lr=0.3,seed=0",
            "hidden=8,lr=0.1,seed=1",
        ],
        ["hidden=8,lr=0.2,seed=1", "hidden=8,lr=0.3,seed=1"],
    ]
    assert sorted(r["key"] for g in groups for r in g) == sorted(r["key"] for r in runs)
    with pytest.raises(SweepError, match="at least one run"):
        group_runs(runs, key=lambda r: 0, size=0)


def test_the_benchmarks_best_split_of_groups_over_two_workers_is_worked_by_hand():
    from benchmarks.sweep import group_bound

    # {4.5, 2.2} against {2.3, 3.0}: 6.7 s; any other split leaves one worker longer.
    best, owner = group_bound([2.3, 2.2, 3.0, 4.5])
    assert best == pytest.approx(6.7) and owner[3] == owner[1] != owner[0] == owner[2]
    assert group_bound([1.0, 1.0, 1.0, 1.0])[0] == 2.0
    assert group_bound([5.0, 1.0, 1.0])[0] == 5.0  # one group longer than all the others
