"""Lessons: every shipped bundle loads, holds its lesson's run, and training it again gives
the bundle's numbers."""

import dataclasses

import numpy as np
import pytest

from gru_core import lessons, workspace
from gru_core.config import MODEL_KINDS, PRESETS
from gru_core.i18n import TABLES

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
    assert lesson.bundle.stat().st_size < 100 * 1024  # kept small: it is committed
    found, spec = workspace.read_run_bundle(lesson.bundle)
    wanted = lesson.spec()
    assert workspace.spec_dict(spec) == workspace.spec_dict(wanted)
    assert np.array_equal(spec.data.series, wanted.data.series)
    assert [row["epoch"] for row in found.history] == list(range(1, wanted.train.epochs + 1))


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
