"""Lessons: every shipped bundle loads, holds its lesson's run, and training it again gives
the bundle's numbers."""

import dataclasses

import numpy as np
import pytest
import torch

from gru_core import lessons, workspace
from gru_core.config import MODEL_KINDS, PRESETS
from gru_core.i18n import TABLES
from gru_core.train import Trainer

NAMES = list(lessons.LESSONS)


def test_three_to_five_lessons_each_with_words_in_both_languages():
    assert 3 <= len(NAMES) <= 5
    for name, lesson in lessons.LESSONS.items():
        assert lesson.preset in PRESETS and lesson.page in lessons.PAGES
        assert set(lesson.spec().names) <= set(MODEL_KINDS)
        for table in TABLES.values():
            assert {f"lesson.{name}.{part}" for part in ("title", "story", "next")} <= set(table)
    with pytest.raises(KeyError, match="the lessons are"):
        lessons.lesson("no_such_lesson")


@pytest.mark.parametrize("name", NAMES)
def test_the_bundle_loads_and_holds_the_lessons_settings(name):
    lesson = lessons.lesson(name)
    found, spec = workspace.read_run_bundle(lesson.bundle)
    # Kept small, as it is committed: its weights and replay frames, and little else.
    weights = sum(v.numel() * v.element_size() for v in found.tensors.values())
    assert lesson.bundle.stat().st_size < (1 + len(found.frames)) * weights + 64 * 1024
    wanted = lesson.spec()
    assert workspace.spec_dict(spec) == workspace.spec_dict(wanted)
    assert np.array_equal(spec.data.series, wanted.data.series)
    assert [row["epoch"] for row in found.history] == list(range(1, wanted.train.epochs + 1))


@pytest.mark.parametrize("name", NAMES)
def test_the_bundle_carries_replay_frames_from_the_untrained_models_to_the_last_epoch(name):
    lesson = lessons.lesson(name)
    found, spec = workspace.read_run_bundle(lesson.bundle)
    epochs = sorted(found.frames)
    last = spec.train.epochs
    assert epochs[0] == 0 and epochs[-1] == last
    assert lessons.SHIPPED_FRAMES // 2 <= len(epochs) <= lessons.SHIPPED_FRAMES
    assert epochs[:10] == list(range(10))  # every epoch at first, where the models change most
    final, _ = found.frames[last]
    for key, value in final.items():  # the last frame is the run's own final weights
        assert torch.equal(value, found.tensors[key]), key
    fresh = Trainer(spec).resumable_state()[0]  # seeded: the models before training
    first, _ = found.frames[0]
    assert all(torch.equal(first[k], fresh[k]) for k in first if k.startswith("model/"))


@pytest.mark.parametrize("name", NAMES)
def test_training_the_lesson_again_gives_the_bundles_numbers(name):
    lesson = lessons.lesson(name)
    found, _ = workspace.read_run_bundle(lesson.bundle)
    again = lessons.train_lesson(lesson).history[-1]
    shipped = found.history[-1]
    keys = [k for k in shipped if k.endswith(("_train_loss", "_mse", "_mae"))]
    assert len(keys) >= 4 * len(lesson.spec().names)
    for key in keys:
        assert again[key] == pytest.approx(shipped[key], rel=1e-9, abs=1e-12), key


def test_another_seed_gives_other_numbers():
    """The control: the comparison above can fail (a different run differs)."""
    lesson = lessons.lesson(NAMES[0])
    found, _ = workspace.read_run_bundle(lesson.bundle)
    other = dataclasses.replace(lesson, settings={**lesson.settings, "seed": 1})
    again = lessons.train_lesson(other).history[-1]
    key = f"{lesson.spec().names[0]}_train_loss"
    assert again[key] != pytest.approx(found.history[-1][key], rel=1e-9, abs=1e-12)


def _stored(name, tmp_path):
    from gru_core import store as stores

    store = stores.Store(tmp_path)
    ws = store.create_workspace()
    run, _ = workspace.import_bundle(store, ws, lessons.lesson(name).bundle.read_bytes())
    return workspace.stored_snapshot(store, ws, run)


def test_the_stories_numbers_are_the_bundled_runs(tmp_path):
    """What the narratives say of their runs, measured on the runs they ship."""
    from gru_core.views import memory as memory_views

    def final(name):
        return workspace.read_run_bundle(lessons.lesson(name).bundle)[0].history[-1]

    last = final("mlp_sine")  # about 0.009 and 0.017 one step; about 0.5 against 0.01 free
    assert last["gru_test_one_step_mse"] == pytest.approx(0.009, abs=0.001)
    assert last["mlp_test_one_step_mse"] == pytest.approx(0.017, abs=0.001)
    assert last["mlp_test_rollout_mse"] == pytest.approx(0.5, abs=0.05)
    assert last["gru_test_rollout_mse"] == pytest.approx(0.01, abs=0.002)
    last = final("rnn_forgets")
    assert last["rnn_test_one_step_mse"] == pytest.approx(0.012, abs=0.001)
    assert last["rnn_test_rollout_mse"] == pytest.approx(0.6, abs=0.05)
    snap = _stored("rnn_forgets", tmp_path / "rnn")
    share = {}
    for name in ("gru", "rnn"):  # 4 steps back: a third (RNN), three quarters (GRU)
        influence = memory_views.model_memory(snap, name).current.influence
        share[name] = influence[4] / influence[0]
    assert share["rnn"] == pytest.approx(1 / 3, abs=0.05)
    assert share["gru"] == pytest.approx(3 / 4, abs=0.05)
    gru = memory_views.model_memory(_stored("update_gate", tmp_path / "gate"), "gru")
    scales = sorted(gru.current.time_scales)  # one unit ~80 steps, the others 2 to 12
    assert scales[-1] == pytest.approx(80, abs=5)
    assert scales[0] >= 2 and scales[-2] <= 12.5
