"""Executors: same results from 1 and 2 local workers and from a local Ray, in any order;
a failing item is reported while the others go on; cancel keeps what finished, never
starts what was queued, and kills what was running."""

import os
import random
import threading
import time
from pathlib import Path

import pytest

from gru_core.executors import Done, LocalExecutor, RayExecutor

ROOT = Path(__file__).resolve().parents[1]


def train_briefly(item: dict) -> dict:
    """A real deterministic computation: a few epochs of a small GRU + MLP run."""
    import torch

    from gru_core.config import DataConfig, ModelConfig, TrainConfig
    from gru_core.data import make_sine
    from gru_core.spec import spec_for
    from gru_core.train import Trainer, train

    torch.set_num_threads(1)
    if item.get("fail"):
        raise ValueError(f"item {item['seed']} was told to fail")
    cfg = TrainConfig(epochs=3, lr=item["lr"], seq_len=10, batch_size=2, seed=item["seed"])
    series = make_sine(DataConfig(points=200))
    trainer = Trainer(spec_for(series, 0.8, ModelConfig(hidden_size=5), cfg))
    train(trainer)
    last = trainer.history[-1]
    weights = trainer.export()["weights"]["gru"]
    return {
        "gru_train_loss": last["gru_train_loss"],
        "gru_test_rollout_mse": last["gru_test_rollout_mse"],
        "mlp_train_loss": last["mlp_train_loss"],
        "weight_sum": float(sum(w.double().sum() for w in weights.values())),
    }


def sleep_then_record(item: dict) -> dict:
    """Write this process's id to `started-<i>`, sleep, then write `finished-<i>`."""
    folder = Path(item["folder"])
    (folder / f"started-{item['i']}").write_text(str(os.getpid()))
    time.sleep(item["sleep"])
    (folder / f"finished-{item['i']}").write_text("")
    return {"i": item["i"]}


def priority(item: dict) -> dict:
    """This process's niceness."""
    return {"nice": os.nice(0)}


def die(item: dict) -> dict:
    if item["i"] == 1:
        os._exit(3)
    return {"i": item["i"]}


ITEMS = [{"seed": s, "lr": lr} for s in (0, 1) for lr in (1e-2, 3e-2)]


@pytest.fixture(scope="module")
def ray_local():
    ray = pytest.importorskip("ray")
    # Workers import this module and gru_core by name, as they would an installed package.
    path = os.pathsep.join([str(ROOT), str(ROOT / "tests")])
    ray.init(num_cpus=2, include_dashboard=False, runtime_env={"env_vars": {"PYTHONPATH": path}})
    yield ray
    ray.shutdown()


def _by_index(done: list[Done]) -> dict[int, dict]:
    assert all(d.error is None for d in done), [d.error for d in done]
    return {d.index: d.result for d in done}


@pytest.fixture(scope="module")
def reference() -> list[dict]:
    return [train_briefly(item) for item in ITEMS]


@pytest.mark.parametrize("workers", [1, 2])
def test_local_results_equal_direct_calls(workers, reference):
    done = list(LocalExecutor(workers).run(train_briefly, ITEMS))
    assert sorted(d.index for d in done) == list(range(len(ITEMS)))
    results = _by_index(done)
    assert [results[i] for i in range(len(ITEMS))] == reference  # exact, not close
    assert len({r["weight_sum"] for r in reference}) == len(ITEMS)  # the items differ
    assert all(d.item == ITEMS[d.index] for d in done)


def test_local_workers_run_at_the_priority_asked_for():
    here = os.nice(0)
    (done,) = LocalExecutor(1, nice=5).run(priority, [{}])
    assert done.result == {"nice": min(19, here + 5)}
    (done,) = LocalExecutor(1).run(priority, [{}])
    assert done.result == {"nice": here}  # the control: by default as this process


def test_ray_results_equal_direct_calls(ray_local, reference):
    done = list(RayExecutor().run(train_briefly, ITEMS))
    results = _by_index(done)
    assert [results[i] for i in range(len(ITEMS))] == reference


def test_results_do_not_depend_on_order(reference):
    order = list(range(len(ITEMS)))
    random.Random(1).shuffle(order)
    assert order != sorted(order)
    done = list(LocalExecutor(2).run(train_briefly, [ITEMS[i] for i in order]))
    results = _by_index(done)
    assert {order[i]: r for i, r in results.items()} == dict(enumerate(reference))


@pytest.mark.parametrize("backend", ["local", "ray"])
def test_one_failing_item_is_reported_and_the_others_go_on(backend, request, reference):
    if backend == "ray":
        request.getfixturevalue("ray_local")
    items = [dict(item) for item in ITEMS]
    items[1]["fail"] = True
    executor = LocalExecutor(2) if backend == "local" else RayExecutor()
    done = {d.index: d for d in executor.run(train_briefly, items)}
    assert sorted(done) == [0, 1, 2, 3]
    assert done[1].result is None
    assert done[1].error == "ValueError: item 0 was told to fail"
    assert [done[i].result for i in (0, 2, 3)] == [reference[i] for i in (0, 2, 3)]


def test_a_worker_that_dies_is_reported_and_replaced():
    done = {d.index: d for d in LocalExecutor(1).run(die, [{"i": i} for i in range(4)])}
    assert sorted(done) == [0, 1, 2, 3]
    assert done[1].error == "the worker process died (3)"
    assert [done[i].result for i in (0, 2, 3)] == [{"i": 0}, {"i": 2}, {"i": 3}]


def _gone(pid: int, timeout: float = 20.0) -> bool:
    """Whether process `pid` has ended (waiting up to `timeout` for it to)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("backend", ["local", "ray"])
def test_cancel_keeps_finished_skips_queued_kills_running(backend, request, tmp_path):
    if backend == "ray":
        request.getfixturevalue("ray_local")
    # Item 0 is quick; 1 and 2 sleep on both workers; 3 and 4 wait in the queue.
    items = [{"i": i, "sleep": 0.0 if i == 0 else 60.0, "folder": str(tmp_path)} for i in range(5)]
    executor = LocalExecutor(2) if backend == "local" else RayExecutor()

    def cancel_once_both_sleep() -> None:
        while not all((tmp_path / f"started-{i}").exists() for i in (1, 2)):
            time.sleep(0.02)
        executor.cancel()

    canceller = threading.Thread(target=cancel_once_both_sleep, daemon=True)
    canceller.start()
    done = list(executor.run(sleep_then_record, items))
    canceller.join(30)
    assert [d.result for d in done] == [{"i": 0}]
    started = sorted(p.name for p in tmp_path.glob("started-*"))
    assert started == ["started-0", "started-1", "started-2"]  # 3 and 4 never started
    for i in (1, 2):
        assert _gone(int((tmp_path / f"started-{i}").read_text())), f"item {i} still runs"
    assert not (tmp_path / "finished-1").exists()


def test_ray_missing_gives_a_clear_message(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_ray(name, *args, **kwargs):
        if name == "ray":
            raise ImportError("No module named 'ray'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    with pytest.raises(RuntimeError, match="needs Ray, which is not installed; install it with"):
        list(RayExecutor().run(train_briefly, ITEMS))


def test_workers_must_be_positive():
    with pytest.raises(ValueError, match="workers must be a positive integer, got 0"):
        LocalExecutor(0)
